//! Differences between two versions of a prompt: a line diff of the body (through the `similar`
//! crate, Myers' algorithm with a deadline, so that no input can hold the server) and the other
//! fields that changed.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::PromptVersion;

/// How long a line diff may search for the smallest difference before it settles for a larger
/// one (still correct).
const DIFF_DEADLINE: Duration = Duration::from_millis(20);

/// Two versions compared.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionDiff {
    /// The prompt.
    pub slug: String,
    /// The older side.
    pub from: u32,
    /// The newer side.
    pub to: u32,
    /// Names of the fields that differ (`content`, `tags`, …).
    pub changed: Vec<String>,
    /// Every changed field other than the body, with both values.
    pub fields: Vec<FieldChange>,
    /// The body's difference as a unified diff (three lines of context); empty when equal.
    pub diff: String,
    /// The same difference line by line, changed lines with three lines of context around them.
    pub lines: Vec<DiffLine>,
}

/// A field's two values.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// Its value in `from`.
    #[cfg_attr(feature = "schema", schemars(schema_with = "field_value"))]
    pub from: Value,
    /// Its value in `to`.
    #[cfg_attr(feature = "schema", schemars(schema_with = "field_value"))]
    pub to: Value,
}

/// A field's value: a string (name, description, kind), a list (tags, variables) or an object
/// (config).
#[cfg(feature = "schema")]
fn field_value(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [
            { "type": "string" },
            { "type": "array" },
            { "type": "object", "additionalProperties": true }
        ]
    })
}

/// What happened to a line.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffOp {
    /// In both.
    Equal,
    /// Only in `from`.
    Delete,
    /// Only in `to`.
    Insert,
}

/// One line of a diff.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    /// Kept, removed or added.
    pub op: DiffOp,
    /// Its number in `from` (1-based), unless added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<u32>,
    /// Its number in `to` (1-based), unless removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<u32>,
    /// The line, without its line break.
    pub text: String,
}

/// Compares two versions of `slug`.
pub fn versions(slug: &str, a: &PromptVersion, b: &PromptVersion) -> VersionDiff {
    let mut changed = Vec::new();
    let mut fields = Vec::new();
    let mut field = |name: &str, from: Value, to: Value| {
        if from != to {
            changed.push(name.to_owned());
            fields.push(FieldChange {
                field: name.to_owned(),
                from,
                to,
            });
        }
    };
    let json = |v: &dyn erased::ToJson| v.to_json();
    field("name", json(&a.name), json(&b.name));
    field("description", json(&a.description), json(&b.description));
    field("kind", json(&a.kind.as_str()), json(&b.kind.as_str()));
    field("tags", json(&a.tags), json(&b.tags));
    field("variables", json(&a.variables), json(&b.variables));
    field(
        "config",
        Value::Object(a.config.clone()),
        Value::Object(b.config.clone()),
    );
    let (old, new) = (a.body_text(), b.body_text());
    let (diff, lines) = if old == new {
        (String::new(), Vec::new())
    } else {
        changed.push(
            if a.kind == crate::PromptKind::Chat || b.kind == crate::PromptKind::Chat {
                "messages".to_owned()
            } else {
                "content".to_owned()
            },
        );
        lines_of(&old, &new, a.version, b.version)
    };
    VersionDiff {
        slug: slug.to_owned(),
        from: a.version,
        to: b.version,
        changed,
        fields,
        diff,
        lines,
    }
}

fn lines_of(old: &str, new: &str, from: u32, to: u32) -> (String, Vec<DiffLine>) {
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("version {from}"), &format!("version {to}"))
        .to_string();
    let mut lines = Vec::new();
    for group in diff.grouped_ops(3) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let number = |i: Option<usize>| i.and_then(|i| u32::try_from(i + 1).ok());
                lines.push(DiffLine {
                    op: match change.tag() {
                        ChangeTag::Equal => DiffOp::Equal,
                        ChangeTag::Delete => DiffOp::Delete,
                        ChangeTag::Insert => DiffOp::Insert,
                    },
                    old: number(change.old_index()),
                    new: number(change.new_index()),
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                });
            }
        }
    }
    (unified, lines)
}

mod erased {
    /// Anything serialisable, as JSON, behind one reference type.
    pub(super) trait ToJson {
        fn to_json(&self) -> serde_json::Value;
    }

    impl<T: serde::Serialize + ?Sized> ToJson for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PromptId, PromptKind};

    fn version(n: u32, content: &str, tags: &[&str]) -> PromptVersion {
        PromptVersion {
            prompt_id: PromptId::new(),
            version: n,
            name: "n".into(),
            description: String::new(),
            kind: PromptKind::Text,
            content: content.into(),
            messages: Vec::new(),
            config: Default::default(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            variables: Vec::new(),
            commit_message: String::new(),
            usage_count: 0,
            labels: Vec::new(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn lines_and_fields() {
        let a = version(1, "one\ntwo\nthree\n", &["a"]);
        let b = version(2, "one\n2\nthree\nfour\n", &["a", "b"]);
        let d = versions("p", &a, &b);
        assert_eq!(d.changed, vec!["tags", "content"]);
        assert_eq!(d.fields[0].field, "tags");
        assert!(d.diff.contains("-two\n+2\n"), "{}", d.diff);
        let ops: Vec<(DiffOp, &str)> = d.lines.iter().map(|l| (l.op, l.text.as_str())).collect();
        assert_eq!(
            ops,
            vec![
                (DiffOp::Equal, "one"),
                (DiffOp::Delete, "two"),
                (DiffOp::Insert, "2"),
                (DiffOp::Equal, "three"),
                (DiffOp::Insert, "four"),
            ]
        );
        assert_eq!(d.lines[2].new, Some(2));
        assert_eq!(d.lines[1].old, Some(2));
        let same = versions("p", &a, &a);
        assert!(same.changed.is_empty() && same.diff.is_empty());
    }

    #[test]
    fn large_inputs_finish_quickly() {
        let a: String = (0..20_000).map(|i| format!("{}\n", i * 7 % 13)).collect();
        let b: String = (0..20_000).map(|i| format!("{}\n", i * 11 % 17)).collect();
        let d = versions("p", &version(1, &a, &[]), &version(2, &b, &[]));
        assert!(!d.lines.is_empty());
    }
}
