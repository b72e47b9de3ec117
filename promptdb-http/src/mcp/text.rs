//! Readable renderings of tool results, next to the structured content.

use std::fmt::Write as _;

use promptdb_core::{Prompt, PromptSummary, TagCount};

/// A prompt in full: header, metadata, then the template text.
pub(super) fn prompt(p: &Prompt, rendered: Option<&str>) -> String {
    let mut out = format!("# {} (`{}`, version {})\n", p.name, p.slug, p.version);
    if !p.description.is_empty() {
        let _ = writeln!(out, "{}", p.description);
    }
    if !p.tags.is_empty() {
        let _ = writeln!(out, "Tags: {}", p.tags.join(", "));
    }
    if !p.variables.is_empty() {
        let vars: Vec<String> = p
            .variables
            .iter()
            .map(|v| {
                let mut s = v.name.clone();
                if !v.required || v.default.is_some() {
                    s.push_str(" (optional)");
                }
                if !v.description.is_empty() {
                    let _ = write!(s, ": {}", v.description);
                }
                s
            })
            .collect();
        let _ = writeln!(out, "Variables: {}", vars.join("; "));
    }
    let mut flags = Vec::new();
    if p.pinned {
        flags.push("pinned");
    }
    if p.favorite {
        flags.push("favourite");
    }
    if !flags.is_empty() {
        let _ = writeln!(out, "Marked: {}", flags.join(", "));
    }
    let _ = writeln!(out, "Used {} times.", p.usage_count);
    match rendered {
        Some(text) => {
            let _ = write!(out, "\n--- rendered ---\n{text}");
        }
        None => {
            let _ = write!(out, "\n--- content ---\n{}", p.content);
        }
    }
    out
}

/// One line per prompt.
pub(super) fn summaries(items: &[PromptSummary], next_cursor: Option<&str>, empty: &str) -> String {
    if items.is_empty() {
        return empty.to_owned();
    }
    let mut out = String::new();
    for p in items {
        let mark = match (p.pinned, p.favorite) {
            (true, true) => "📌★ ",
            (true, false) => "📌 ",
            (false, true) => "★ ",
            (false, false) => "",
        };
        let _ = write!(out, "- {mark}`{}` {}", p.slug, p.name);
        if !p.description.is_empty() {
            let _ = write!(out, ": {}", first_line(&p.description));
        }
        if !p.tags.is_empty() {
            let _ = write!(out, " [{}]", p.tags.join(", "));
        }
        out.push('\n');
    }
    if let Some(c) = next_cursor {
        let _ = write!(out, "More results: call again with cursor `{c}`.");
    }
    out.trim_end().to_owned()
}

/// Tags with counts.
pub(super) fn tags(tags: &[TagCount]) -> String {
    if tags.is_empty() {
        return "No tags yet.".into();
    }
    tags.iter()
        .map(|t| format!("{} ({})", t.tag, t.count))
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}
