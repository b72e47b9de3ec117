//! Prompt templates: `{{name}}` placeholders filled from declared variables.
//!
//! - A placeholder is `{{`, optional spaces, a variable name (`[A-Za-z_][A-Za-z0-9_]*`), optional
//!   spaces, `}}`. Anything else between braces (`{{#each}}`, `{{ a b }}`) is plain text, so
//!   prompts that quote other template languages survive unchanged.
//! - `{{> other-slug}}` includes another prompt's text (`{{> support/tone@production}}` at a
//!   label, `{{> tone@3}}` at a version, the newest version otherwise); [`crate::PromptDb`]
//!   expands includes, at most [`MAX_INCLUDE_DEPTH`] deep, before variables are filled.
//! - A backslash right before `{{` writes a literal `{{`: `\{{name}}` renders as `{{name}}`.
//! - Rendering is strict: a value for a variable the prompt does not declare is an error, and so
//!   is a missing required variable without a default. An optional variable without a value or
//!   default renders as the empty string.

use std::collections::BTreeMap;

use crate::{
    Error, Result,
    prompt::Variable,
    validate::{self, MAX_RENDERED_BYTES, MAX_VARIABLE_VALUE_CHARS},
};

/// How deep includes may nest: a prompt that includes one that includes … five levels.
pub const MAX_INCLUDE_DEPTH: usize = 5;
/// Most includes one prompt's text may hold.
pub const MAX_INCLUDES: usize = 20;

/// A `{{> slug@selector}}` in a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Include<'a> {
    /// The included prompt.
    pub slug: &'a str,
    /// A label or a version number; `None` for the newest version.
    pub selector: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Text(&'a str),
    Var(&'a str),
    Include(Include<'a>),
}

/// Splits `content` into text and placeholders without allocating per segment.
fn segments(content: &str) -> impl Iterator<Item = Segment<'_>> {
    let mut rest = content;
    let mut pending: Option<Segment<'_>> = None;
    std::iter::from_fn(move || {
        if let Some(seg) = pending.take() {
            return Some(seg);
        }
        if rest.is_empty() {
            return None;
        }
        let Some(open) = rest.find("{{") else {
            let text = rest;
            rest = "";
            return Some(Segment::Text(text));
        };
        // `\{{` escapes: emit the text before the backslash, then a literal `{{`.
        if open > 0 && rest.as_bytes()[open - 1] == b'\\' {
            let before = &rest[..open - 1];
            let literal = &rest[open..open + 2];
            rest = &rest[open + 2..];
            return Some(if before.is_empty() {
                Segment::Text(literal)
            } else {
                pending = Some(Segment::Text(literal));
                Segment::Text(before)
            });
        }
        let after = &rest[open + 2..];
        let (consumed, seg) = match parse_include(after)
            .map(|(inc, len)| (Segment::Include(inc), len))
            .or_else(|| parse_placeholder(after).map(|(name, len)| (Segment::Var(name), len)))
        {
            Some((seg, len)) => (open + 2 + len, seg),
            None => (open + 2, Segment::Text(&rest[open..open + 2])),
        };
        let before = &rest[..open];
        rest = &rest[consumed..];
        Some(if before.is_empty() {
            seg
        } else {
            pending = Some(seg);
            Segment::Text(before)
        })
    })
}

/// Parses `  name  }}` at the start of `s`; returns the name and the bytes consumed.
fn parse_placeholder(s: &str) -> Option<(&str, usize)> {
    let trimmed = s.trim_start_matches(' ');
    let lead = s.len() - trimmed.len();
    let name_len = trimmed
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let name = &trimmed[..name_len];
    if !validate::is_variable_name(name) {
        return None;
    }
    let tail = &trimmed[name_len..];
    let tail_trimmed = tail.trim_start_matches(' ');
    let spaces = tail.len() - tail_trimmed.len();
    tail_trimmed
        .starts_with("}}")
        .then_some((name, lead + name_len + spaces + 2))
}

/// Parses `> slug@selector }}` at the start of `s`; returns the include and the bytes consumed.
fn parse_include(s: &str) -> Option<(Include<'_>, usize)> {
    let body = s.strip_prefix('>')?;
    let trimmed = body.trim_start_matches(' ');
    let lead = 1 + body.len() - trimmed.len();
    let slug_len = trimmed
        .bytes()
        .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'/')
        .count();
    let slug = &trimmed[..slug_len];
    if validate::slug(slug).is_err() {
        return None;
    }
    let mut tail = &trimmed[slug_len..];
    let mut consumed = lead + slug_len;
    let selector = match tail.strip_prefix('@') {
        Some(after) => {
            let len = after
                .bytes()
                .take_while(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
                })
                .count();
            if len == 0 {
                return None;
            }
            tail = &after[len..];
            consumed += 1 + len;
            Some(&after[..len])
        }
        None => None,
    };
    let tail_trimmed = tail.trim_start_matches(' ');
    consumed += tail.len() - tail_trimmed.len();
    tail_trimmed
        .starts_with("}}")
        .then_some((Include { slug, selector }, consumed + 2))
}

/// The distinct variable names used in `content`, in order of first appearance. Linear in the
/// content's length.
pub fn placeholders(content: &str) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    segments(content)
        .filter_map(|seg| match seg {
            Segment::Var(name) if seen.insert(name) => Some(name),
            _ => None,
        })
        .collect()
}

/// The includes in `content`, in order, each once.
pub fn includes(content: &str) -> Vec<Include<'_>> {
    let mut seen = std::collections::HashSet::new();
    segments(content)
        .filter_map(|seg| match seg {
            Segment::Include(inc) if seen.insert(inc) => Some(inc),
            _ => None,
        })
        .collect()
}

/// `content` with every include replaced by `text_of` it (the included prompt's text, its own
/// includes already expanded); an include `text_of` knows nothing of stays as written. Escapes
/// and placeholders stay as they are, for [`render`].
pub fn expand<'m>(content: &str, text_of: impl Fn(Include<'_>) -> Option<&'m str>) -> String {
    let mut out = String::with_capacity(content.len());
    let mut copied = 0;
    while let Some((start, end, include)) = find_include(content, copied) {
        out.push_str(&content[copied..start]);
        out.push_str(text_of(include).unwrap_or(&content[start..end]));
        copied = end;
    }
    out.push_str(&content[copied..]);
    out
}

/// The first include in `s` at or after `from`: its byte range and what it names. Scans the way
/// [`segments`] does, escapes included.
fn find_include(s: &str, mut from: usize) -> Option<(usize, usize, Include<'_>)> {
    while let Some(rel) = s[from..].find("{{") {
        let open = from + rel;
        let escaped = open > 0 && s.as_bytes()[open - 1] == b'\\';
        if !escaped && let Some((include, len)) = parse_include(&s[open + 2..]) {
            return Some((open, open + 2 + len, include));
        }
        from = open + 2;
    }
    None
}

/// Escapes every `{{` in `text` so that it renders literally.
pub fn escape(text: &str) -> String {
    text.replace("{{", "\\{{")
}

/// Renders `content` with `values`, checked against the `declared` variables.
///
/// Errors name the variable: `variables.topic: required by this prompt and not given`.
pub fn render(
    content: &str,
    declared: &[Variable],
    values: &BTreeMap<String, String>,
) -> Result<String> {
    // Bounded by the declarations: the loop stops at the first undeclared name, which comes at
    // the latest after `declared.len()` values.
    for (name, value) in values {
        if !declared.iter().any(|v| v.name == *name) {
            let known: Vec<&str> = declared.iter().map(|v| v.name.as_str()).collect();
            let reason = if known.is_empty() {
                "this prompt declares no variables".to_owned()
            } else {
                format!(
                    "not declared by this prompt (it declares: {})",
                    known.join(", ")
                )
            };
            return Err(Error::invalid(format!("variables.{name}"), reason));
        }
        if value.len() > MAX_VARIABLE_VALUE_CHARS
            && value.chars().count() > MAX_VARIABLE_VALUE_CHARS
        {
            return Err(Error::invalid(
                format!("variables.{name}"),
                format!("must be at most {MAX_VARIABLE_VALUE_CHARS} characters"),
            ));
        }
    }
    let missing: Vec<&str> = declared
        .iter()
        .filter(|v| v.required && v.default.is_none() && !values.contains_key(&v.name))
        .map(|v| v.name.as_str())
        .collect();
    match missing.as_slice() {
        [] => {}
        [one] => {
            return Err(Error::invalid(
                format!("variables.{one}"),
                "required by this prompt and not given",
            ));
        }
        many => {
            return Err(Error::invalid(
                "variables",
                format!("required by this prompt and not given: {}", many.join(", ")),
            ));
        }
    }

    let mut out = String::with_capacity(content.len());
    for seg in segments(content) {
        match seg {
            Segment::Text(text) => out.push_str(text),
            // Expanded before rendering; one left here names a prompt that was not expanded.
            Segment::Include(_) => {}
            Segment::Var(name) => {
                let value = values
                    .get(name)
                    .map(String::as_str)
                    .or_else(|| {
                        declared
                            .iter()
                            .find(|v| v.name == name)
                            .and_then(|v| v.default.as_deref())
                    })
                    .unwrap_or("");
                out.push_str(value);
            }
        }
        if out.len() > MAX_RENDERED_BYTES {
            return Err(Error::invalid(
                "variables",
                format!("the rendered prompt would exceed {MAX_RENDERED_BYTES} bytes"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, required: bool, default: Option<&str>) -> Variable {
        Variable {
            name: name.into(),
            description: String::new(),
            required,
            default: default.map(Into::into),
        }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn finds_placeholders_in_order() {
        let c = "Hi {{name}}, {{ topic }} and {{name}} {{#each}} {{ a b }} {{2x}} \\{{lit}}";
        assert_eq!(placeholders(c), vec!["name", "topic"]);
    }

    #[test]
    fn renders_values_defaults_and_escapes() {
        let declared = [
            var("name", true, None),
            var("tone", false, Some("kind")),
            var("x", false, None),
        ];
        let out = render(
            "Dear {{ name }}, be {{tone}}.{{x}} Literal: \\{{name}} and {{#if}}",
            &declared,
            &values(&[("name", "Ada")]),
        )
        .unwrap();
        assert_eq!(out, "Dear Ada, be kind. Literal: {{name}} and {{#if}}");
    }

    #[test]
    fn strict_about_missing_and_undeclared() {
        let declared = [var("a", true, None), var("b", true, None)];
        let err = render("{{a}}{{b}}", &declared, &values(&[("a", "1")])).unwrap_err();
        assert_eq!(err.field(), Some("variables.b"));
        let err = render("{{a}}{{b}}", &declared, &values(&[])).unwrap_err();
        assert_eq!(err.field(), Some("variables"));
        assert!(err.to_string().contains("a, b"));
        let err = render(
            "{{a}}",
            &declared[..1],
            &values(&[("a", "1"), ("zzz", "2")]),
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("variables.zzz"));
    }

    #[test]
    fn text_without_placeholders_is_untouched() {
        for s in [
            "",
            "plain",
            "{{",
            "}}",
            "{{{",
            "a {{ b",
            "\\",
            "\\{",
            "emoji 🦀 {{x}",
        ] {
            assert_eq!(
                render(s, &[], &values(&[])).unwrap(),
                s.replace("\\{{", "{{")
            );
        }
    }

    #[test]
    fn includes_are_found_and_expanded() {
        let c = "A {{> tone}} B {{> support/greeting@production}} C {{>tone@3 }} \\{{> lit}} {{> Bad}} {{> tone}}";
        let found: Vec<(&str, Option<&str>)> =
            includes(c).iter().map(|i| (i.slug, i.selector)).collect();
        assert_eq!(
            found,
            vec![
                ("tone", None),
                ("support/greeting", Some("production")),
                ("tone", Some("3"))
            ]
        );
        assert!(placeholders(c).is_empty(), "includes are not variables");
        let out = expand(c, |i| match (i.slug, i.selector) {
            ("tone", None) => Some("kind {{mood}}"),
            ("tone", Some("3")) => Some("v3"),
            _ => None,
        });
        assert_eq!(
            out,
            "A kind {{mood}} B {{> support/greeting@production}} C v3 \\{{> lit}} {{> Bad}} kind {{mood}}"
        );
        let declared = [var("mood", true, None)];
        let rendered = render(
            &out.replace("{{> support/greeting@production}}", "hi"),
            &declared,
            &values(&[("mood", "calm")]),
        )
        .unwrap();
        assert_eq!(
            rendered,
            "A kind calm B hi C v3 {{> lit}} {{> Bad}} kind calm"
        );
    }

    #[test]
    fn many_values_stop_at_the_first_undeclared_one() {
        let many: BTreeMap<String, String> = (0..1000)
            .map(|i| (format!("v{i:04}"), String::new()))
            .collect();
        let err = render("x", &[var("v0000", true, None)], &many).unwrap_err();
        assert_eq!(err.field(), Some("variables.v0001"));
    }

    #[test]
    fn escape_round_trips() {
        let text = "Use {{name}} in Handlebars";
        assert_eq!(render(&escape(text), &[], &values(&[])).unwrap(), text);
        assert!(placeholders(&escape(text)).is_empty());
    }
}
