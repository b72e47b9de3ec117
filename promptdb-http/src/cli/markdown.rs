//! Prompts as Markdown files with front matter: the format of `promptdb edit` and of prompt
//! folders such as Claude Code's `.claude/commands/`.
//!
//! ```markdown
//! ---
//! name: Code review
//! description: Reviews a diff
//! tags: [dev, review]
//! ---
//! Review this code: {{code}}
//! ```
//!
//! Front matter is the flat subset of YAML these files use: `key: value` lines, quoted or not,
//! and lists written `[a, b]` or as `- item` lines.

use std::collections::BTreeMap;

use promptdb_core::Prompt;

/// A front-matter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrontValue {
    /// A scalar.
    Text(String),
    /// A list.
    List(Vec<String>),
}

impl FrontValue {
    /// The value as text (a list joined by commas).
    pub fn text(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::List(items) => items.join(", "),
        }
    }

    /// The value as a list (a scalar split on commas).
    pub fn list(&self) -> Vec<String> {
        match self {
            Self::Text(s) => s
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            Self::List(items) => items.clone(),
        }
    }

    /// The value as a boolean.
    pub fn flag(&self) -> Option<bool> {
        match self.text().trim() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        }
    }
}

/// A parsed Markdown file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Front-matter keys (lower-cased).
    pub front: BTreeMap<String, FrontValue>,
    /// Everything after the front matter.
    pub body: String,
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')))
    {
        let inner = &s[1..s.len() - 1];
        if s.starts_with('"') {
            return inner
                .replace("\\\"", "\"")
                .replace("\\n", "\n")
                .replace("\\\\", "\\");
        }
        return inner.replace("''", "'");
    }
    s.to_owned()
}

/// Splits front matter from the body. Errors name the line.
pub fn parse(text: &str) -> Result<Document, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    let first = lines.clone().next().unwrap_or_default();
    if first.trim_end() != "---" {
        return Ok(Document {
            front: BTreeMap::new(),
            body: text.to_owned(),
        });
    }
    lines.next();
    let mut front = BTreeMap::new();
    let mut current_list: Option<String> = None;
    let mut consumed = first.len() + 1;
    let mut closed = false;
    for (n, line) in lines.by_ref().enumerate() {
        consumed += line.len() + 1;
        let lineno = n + 2;
        if line.trim_end() == "---" {
            closed = true;
            break;
        }
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if let Some(item) = line.trim_start().strip_prefix("- ") {
            let Some(key) = &current_list else {
                return Err(format!(
                    "front matter line {lineno}: a list item without a key"
                ));
            };
            if let Some(FrontValue::List(items)) = front.get_mut(key) {
                items.push(unquote(item));
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("front matter line {lineno}: expected `key: value`"));
        };
        let key = key.trim().to_lowercase();
        let value = value.trim();
        current_list = None;
        if value.is_empty() {
            front.insert(key.clone(), FrontValue::List(Vec::new()));
            current_list = Some(key);
        } else if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            let items = inner
                .split(',')
                .map(unquote)
                .filter(|s| !s.is_empty())
                .collect();
            front.insert(key, FrontValue::List(items));
        } else {
            front.insert(key, FrontValue::Text(unquote(value)));
        }
    }
    if !closed {
        return Err("front matter: the closing `---` line is missing".into());
    }
    let body = text.get(consumed.min(text.len())..).unwrap_or_default();
    Ok(Document {
        front,
        body: body.strip_prefix('\n').unwrap_or(body).to_owned(),
    })
}

fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with([
            ' ', '"', '\'', '[', '-', '#', '{', '&', '*', '!', '|', '>', '%', '@', '`',
        ])
        && !s.ends_with(' ')
        && !s.contains(": ")
        && !s.contains('\n');
    if plain {
        s.to_owned()
    } else {
        format!(
            "\"{}\"",
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        )
    }
}

/// A prompt as an editable Markdown document.
pub fn render(p: &Prompt) -> String {
    let mut out = String::from("---\n");
    out.push_str(&format!("name: {}\n", quote(&p.name)));
    out.push_str(&format!("description: {}\n", quote(&p.description)));
    let tags: Vec<String> = p.tags.iter().map(|t| quote(t)).collect();
    out.push_str(&format!("tags: [{}]\n", tags.join(", ")));
    out.push_str(&format!("pinned: {}\nfavorite: {}\n", p.pinned, p.favorite));
    if p.kind == promptdb_core::PromptKind::Chat {
        out.push_str("kind: chat\n");
    }
    out.push_str(&format!("version: {}\n", p.version));
    out.push_str("---\n");
    let body = p.body_text();
    out.push_str(&body);
    if !body.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_front_matter_forms() {
        let doc = parse("---\nname: \"Review: code\"\ndescription: Reviews\ntags: [a, 'b c']\nallowed-tools:\n  - Bash\n  - Read\npinned: true\n---\nBody {{x}}\nmore\n").unwrap();
        assert_eq!(doc.front["name"].text(), "Review: code");
        assert_eq!(doc.front["tags"].list(), vec!["a", "b c"]);
        assert_eq!(doc.front["allowed-tools"].list(), vec!["Bash", "Read"]);
        assert_eq!(doc.front["pinned"].flag(), Some(true));
        assert_eq!(doc.body, "Body {{x}}\nmore\n");
        let plain = parse("no front matter\n").unwrap();
        assert!(plain.front.is_empty());
        assert_eq!(plain.body, "no front matter\n");
        assert!(parse("---\nname: x\n").unwrap_err().contains("closing"));
        assert!(
            parse("---\njust text\n---\n")
                .unwrap_err()
                .contains("line 2")
        );
    }

    #[test]
    fn render_round_trips() {
        let p = Prompt {
            id: promptdb_core::PromptId::new(),
            slug: promptdb_core::Slug::parse("s", "x").unwrap(),
            name: "Name: with colon".into(),
            description: "Two\nlines \"quoted\"".into(),
            content: "Body\n".into(),
            tags: vec!["a".into(), "b-c".into()],
            variables: vec![],
            kind: promptdb_core::PromptKind::Text,
            messages: vec![],
            config: Default::default(),
            commit_message: String::new(),
            pinned: true,
            favorite: false,
            usage_count: 0,
            last_used_at: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            version: 1,
        };
        let doc = parse(&render(&p)).unwrap();
        assert_eq!(doc.front["name"].text(), p.name);
        assert_eq!(doc.front["description"].text(), p.description);
        assert_eq!(doc.front["tags"].list(), p.tags);
        assert_eq!(doc.front["pinned"].flag(), Some(true));
        assert_eq!(doc.body, p.content);
    }
}
