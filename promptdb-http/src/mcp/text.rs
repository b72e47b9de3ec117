//! Readable renderings of tool results, next to the structured content.

use std::fmt::Write as _;

use promptdb_core::{
    ChatMessage, LabelMove, Prompt, PromptKind, PromptSummary, PromptVersion, Resolved, TagCount,
    diff::VersionDiff,
};

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
    match (rendered, p.kind) {
        (Some(text), _) => {
            let _ = write!(out, "\n--- rendered ---\n{text}");
        }
        (None, PromptKind::Text) => {
            let _ = write!(out, "\n--- content ---\n{}", p.content);
        }
        (None, PromptKind::Chat) => {
            let _ = write!(out, "\n--- messages ---\n{}", messages(&p.messages));
        }
    }
    out
}

/// Chat messages, each under its role.
pub(super) fn messages(messages: &[ChatMessage]) -> String {
    messages
        .iter()
        .map(|m| format!("[{}]\n{}", m.role.as_str(), m.content))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A resolved version: which one was served, then its text (rendered when variables were given).
pub(super) fn resolved(r: &Resolved, rendered: Option<&str>) -> String {
    let mut out = format!("# {} (`{}`, version {}", r.name, r.slug, r.version);
    if !r.labels.is_empty() {
        let _ = write!(out, "; labels: {}", r.labels.join(", "));
    }
    out.push_str(")\n");
    if !r.commit_message.is_empty() {
        let _ = writeln!(out, "Commit: {}", first_line(&r.commit_message));
    }
    if !r.config.is_empty() {
        let _ = writeln!(
            out,
            "Config: {}",
            serde_json::to_string(&r.config).unwrap_or_default()
        );
    }
    match (rendered, r.kind) {
        (Some(text), _) => {
            let _ = write!(out, "\n--- rendered ---\n{text}");
        }
        (None, PromptKind::Text) => {
            let _ = write!(out, "\n--- content ---\n{}", r.content);
        }
        (None, PromptKind::Chat) => {
            let _ = write!(out, "\n--- messages ---\n{}", messages(&r.messages));
        }
    }
    out
}

/// One line per version.
pub(super) fn versions(
    slug: &str,
    versions: &[PromptVersion],
    next_cursor: Option<&str>,
) -> String {
    let mut out = format!("Versions of `{slug}`, newest first:\n");
    for v in versions {
        let _ = write!(
            out,
            "- v{} {} ({} uses)",
            v.version,
            v.created_at.format("%Y-%m-%d %H:%M"),
            v.usage_count
        );
        if !v.labels.is_empty() {
            let _ = write!(out, " [{}]", v.labels.join(", "));
        }
        if !v.commit_message.is_empty() {
            let _ = write!(out, ": {}", first_line(&v.commit_message));
        }
        out.push('\n');
    }
    if let Some(c) = next_cursor {
        let _ = write!(out, "Older versions: call again with cursor `{c}`.");
    }
    out.trim_end().to_owned()
}

/// A diff: what changed, then the unified diff of the text.
pub(super) fn diff(d: &VersionDiff) -> String {
    if d.changed.is_empty() {
        return format!(
            "Versions {} and {} of `{}` are the same.",
            d.from, d.to, d.slug
        );
    }
    let mut out = format!(
        "`{}` version {} → {}: changed {}.\n",
        d.slug,
        d.from,
        d.to,
        d.changed.join(", ")
    );
    for f in &d.fields {
        let _ = writeln!(out, "{}: {} → {}", f.field, f.from, f.to);
    }
    if !d.diff.is_empty() {
        let _ = write!(out, "\n{}", d.diff);
    }
    out.trim_end().to_owned()
}

/// A label move in one sentence.
pub(super) fn label_move(slug: &str, m: &LabelMove) -> String {
    match (&m.from, &m.to) {
        (from, to) if from == to => format!(
            "`{}` of `{slug}` already points at {}; nothing changed.",
            m.label,
            to.as_ref()
                .map_or("nothing".to_owned(), ToString::to_string)
        ),
        (None, Some(to)) => format!("Label `{}` of `{slug}` now points at {to}.", m.label),
        (Some(from), Some(to)) => {
            format!("Label `{}` of `{slug}` moved from {from} to {to}.", m.label)
        }
        (Some(from), None) => format!("Label `{}` of `{slug}` removed (was {from}).", m.label),
        (None, None) => format!("Label `{}` of `{slug}` does not exist.", m.label),
    }
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
