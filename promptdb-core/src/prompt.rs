//! Prompts, their versions, and the inputs that create and change them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    Error, PromptId, Result, Slug, template,
    validate::{self, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_TAGS, MAX_VARIABLES},
};

/// A template variable the prompt declares: it becomes an MCP prompt argument.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Name used in `{{name}}` placeholders.
    pub name: String,
    /// What the value should be, for people and models filling it in.
    #[serde(default)]
    pub description: String,
    /// Whether rendering fails when no value (and no default) is given.
    #[serde(default = "default_true")]
    pub required: bool,
    /// Value used when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

fn default_true() -> bool {
    true
}

/// A saved prompt, as its owner sees it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// Permanent identifier.
    pub id: PromptId,
    /// Handle, unique per user.
    pub slug: Slug,
    /// Human title.
    pub name: String,
    /// What the prompt is for.
    pub description: String,
    /// The template text.
    pub content: String,
    /// Normalised (lower-case), de-duplicated tags.
    pub tags: Vec<String>,
    /// Declared template variables, including ones declared implicitly by placeholders.
    pub variables: Vec<Variable>,
    /// Pinned prompts list before all others.
    pub pinned: bool,
    /// Favourites rank higher.
    pub favorite: bool,
    /// How many times the prompt was used.
    pub usage_count: u64,
    /// When it was last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its content or flags last changed.
    pub updated_at: DateTime<Utc>,
    /// Number of the newest version; the first save is version 1.
    pub version: u32,
}

/// A prompt without its content and variables: what lists and searches return.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptSummary {
    /// Permanent identifier.
    pub id: PromptId,
    /// Handle, unique per user.
    pub slug: Slug,
    /// Human title.
    pub name: String,
    /// What the prompt is for.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Pinned prompts list first.
    pub pinned: bool,
    /// Favourite.
    pub favorite: bool,
    /// How many times the prompt was used.
    pub usage_count: u64,
    /// When it was last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Newest version number.
    pub version: u32,
}

impl From<&Prompt> for PromptSummary {
    fn from(p: &Prompt) -> Self {
        Self {
            id: p.id,
            slug: p.slug.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            tags: p.tags.clone(),
            pinned: p.pinned,
            favorite: p.favorite,
            usage_count: p.usage_count,
            last_used_at: p.last_used_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

/// An immutable snapshot of a prompt's content, written on every change to it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptVersion {
    /// The prompt this is a version of.
    pub prompt_id: PromptId,
    /// 1 for the first save, then 2, 3, …
    pub version: u32,
    /// Name at this version.
    pub name: String,
    /// Description at this version.
    pub description: String,
    /// Content at this version.
    pub content: String,
    /// Tags at this version.
    pub tags: Vec<String>,
    /// Variables at this version.
    pub variables: Vec<Variable>,
    /// When this version was written.
    pub created_at: DateTime<Utc>,
}

impl PromptVersion {
    /// The version snapshot of `prompt` as it is now.
    pub fn of(prompt: &Prompt) -> Self {
        Self {
            prompt_id: prompt.id,
            version: prompt.version,
            name: prompt.name.clone(),
            description: prompt.description.clone(),
            content: prompt.content.clone(),
            tags: prompt.tags.clone(),
            variables: prompt.variables.clone(),
            created_at: prompt.updated_at,
        }
    }
}

/// Input for saving a new prompt.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPrompt {
    /// Handle; derived from the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// Human title.
    pub name: String,
    /// What the prompt is for.
    #[serde(default)]
    pub description: String,
    /// The template text.
    pub content: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Declared variables; placeholders that are not declared here are declared as required.
    #[serde(default)]
    pub variables: Vec<Variable>,
    /// Pin it.
    #[serde(default)]
    pub pinned: bool,
    /// Mark it favourite.
    #[serde(default)]
    pub favorite: bool,
}

impl NewPrompt {
    /// A new prompt with a slug, name and content; the rest defaulted.
    pub fn new(
        slug: impl Into<String>,
        name: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Self {
            slug: Some(slug.into()),
            name: name.into(),
            content: content.into(),
            ..Self::default()
        }
    }
}

/// A partial update: absent fields stay as they are.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptPatch {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// New tags (replace the old ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// New declared variables (replace the old ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<Variable>>,
    /// Pin or unpin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// Mark or unmark as favourite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favorite: Option<bool>,
}

impl PromptPatch {
    /// Whether the patch changes nothing at all.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A prompt's tag with the number of the user's prompts that carry it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    /// The tag.
    pub tag: String,
    /// How many prompts carry it.
    pub count: u64,
}

/// The outcome of recording a use.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptUsage {
    /// The prompt used.
    pub slug: Slug,
    /// Uses so far, this one included.
    pub usage_count: u64,
    /// When this use was recorded.
    pub last_used_at: DateTime<Utc>,
}

/// The versioned part of a prompt, validated and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PromptBody {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) content: String,
    pub(crate) tags: Vec<String>,
    pub(crate) variables: Vec<Variable>,
}

impl PromptBody {
    /// Validates and normalises the parts; field names are relative (`name`, `tags[2]`).
    pub(crate) fn build(
        name: &str,
        description: &str,
        content: String,
        tags: &[String],
        variables: Vec<Variable>,
    ) -> Result<Self> {
        let name = name.trim();
        validate::single_line(name, MAX_NAME_CHARS, false)
            .map_err(|r| Error::invalid("name", r))?;
        let description = description.trim();
        validate::multi_line(description, MAX_DESCRIPTION_CHARS)
            .map_err(|r| Error::invalid("description", r))?;
        validate::content(&content).map_err(|r| Error::invalid("content", r))?;
        let tags = normalize_tags(tags)?;
        let variables = declare_variables(&content, variables)?;
        Ok(Self {
            name: name.to_owned(),
            description: description.to_owned(),
            content,
            tags,
            variables,
        })
    }
}

/// Trims, lower-cases and de-duplicates tags (first occurrence wins), enforcing the limits.
pub(crate) fn normalize_tags(raw: &[String]) -> Result<Vec<String>> {
    if raw.len() > MAX_TAGS {
        return Err(Error::invalid(
            "tags",
            format!("at most {MAX_TAGS} tags are allowed (got {})", raw.len()),
        ));
    }
    let mut tags: Vec<String> = Vec::with_capacity(raw.len());
    for (i, t) in raw.iter().enumerate() {
        let t = validate::tag(t).map_err(|r| Error::invalid(format!("tags[{i}]"), r))?;
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    Ok(tags)
}

/// Checks declared variables and declares, as required, every placeholder that is not declared.
fn declare_variables(content: &str, mut declared: Vec<Variable>) -> Result<Vec<Variable>> {
    for (i, v) in declared.iter_mut().enumerate() {
        let field = |f: &str| format!("variables[{i}].{f}");
        validate::variable_name(&v.name).map_err(|r| Error::invalid(field("name"), r))?;
        let trimmed = v.description.trim();
        if trimmed.len() != v.description.len() {
            v.description = trimmed.to_owned();
        }
        validate::single_line(
            &v.description,
            validate::MAX_VARIABLE_DESCRIPTION_CHARS,
            true,
        )
        .map_err(|r| Error::invalid(field("description"), r))?;
        if let Some(default) = &v.default {
            validate::multi_line(default, validate::MAX_VARIABLE_DEFAULT_CHARS)
                .map_err(|r| Error::invalid(field("default"), r))?;
        }
    }
    for (i, v) in declared.iter().enumerate() {
        if declared[..i].iter().any(|w| w.name == v.name) {
            return Err(Error::invalid(
                format!("variables[{i}].name"),
                format!("`{}` is declared twice", v.name),
            ));
        }
    }
    for name in template::placeholders(content) {
        if !declared.iter().any(|v| v.name == name) {
            declared.push(Variable {
                name: name.to_owned(),
                description: String::new(),
                required: true,
                default: None,
            });
        }
    }
    if declared.len() > MAX_VARIABLES {
        return Err(Error::invalid(
            "variables",
            format!(
                "at most {MAX_VARIABLES} variables are allowed (got {}, counting placeholders in the content)",
                declared.len()
            ),
        ));
    }
    Ok(declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_normalises_and_declares() {
        let body = PromptBody::build(
            "  Review  ",
            " d ",
            "Review {{code}} in {{ language }}".into(),
            &["Rust".into(), "rust".into(), " CLI ".into()],
            vec![Variable {
                name: "language".into(),
                description: " which ".into(),
                required: false,
                default: Some("Rust".into()),
            }],
        )
        .unwrap();
        assert_eq!(body.name, "Review");
        assert_eq!(body.description, "d");
        assert_eq!(body.tags, vec!["rust", "cli"]);
        let names: Vec<_> = body
            .variables
            .iter()
            .map(|v| (v.name.as_str(), v.required))
            .collect();
        assert_eq!(names, vec![("language", false), ("code", true)]);
        assert_eq!(body.variables[0].description, "which");
    }

    #[test]
    fn body_errors_name_fields() {
        let err = |name: &str, tags: &[&str], vars: Vec<Variable>| {
            let tags: Vec<String> = tags.iter().map(|s| s.to_string()).collect();
            PromptBody::build(name, "", "x".into(), &tags, vars)
                .unwrap_err()
                .field()
                .map(str::to_owned)
        };
        assert_eq!(err("", &[], vec![]).as_deref(), Some("name"));
        assert_eq!(
            err("ok", &["fine", "not ok"], vec![]).as_deref(),
            Some("tags[1]")
        );
        let v = |n: &str| Variable {
            name: n.into(),
            description: String::new(),
            required: true,
            default: None,
        };
        assert_eq!(
            err("ok", &[], vec![v("a"), v("b-c")]).as_deref(),
            Some("variables[1].name")
        );
        assert_eq!(
            err("ok", &[], vec![v("a"), v("a")]).as_deref(),
            Some("variables[1].name")
        );
    }
}
