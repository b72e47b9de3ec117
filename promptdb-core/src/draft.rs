//! Drafts: in-progress edits that survive a refresh and expire 24 hours after the last touch.

use crate::validate::{MAX_CONFIG_ENTRIES, MAX_MESSAGES, MAX_TAGS};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    DraftId, Error, Result, Slug,
    prompt::{Variable, normalize_tags},
    validate::{self, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_VARIABLES},
};

/// The fields of a prompt being edited. Everything is optional: a draft may be half-written,
/// but each field that is present obeys the same limits as a saved prompt's.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftFields {
    /// Slug being typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SLUG_PATTERN), length(max = crate::validate::MAX_SLUG_LEN)))]
    pub slug: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SINGLE_LINE_PATTERN), length(max = crate::validate::MAX_NAME_CHARS)))]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_DESCRIPTION_CHARS)))]
    pub description: Option<String>,
    /// Content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_CONTENT_CHARS)))]
    pub content: Option<String>,
    /// Tags.
    #[serde(
        deserialize_with = "crate::bounded::opt_vec::<_, _, MAX_TAGS>",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = crate::validate::MAX_TAGS), inner(pattern(crate::validate::TAG_PATTERN), length(max = crate::validate::MAX_TAG_CHARS))))]
    pub tags: Option<Vec<String>>,
    /// Variables.
    #[serde(
        deserialize_with = "crate::bounded::opt_objects::<_, _, MAX_VARIABLES>",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_VARIABLES)))]
    pub variables: Option<Vec<Variable>>,
    /// `text` or `chat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::PromptKind>,
    /// Messages (chat prompts).
    #[serde(
        deserialize_with = "crate::bounded::opt_objects::<_, _, MAX_MESSAGES>",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<Vec<DraftMessage>>", length(max = MAX_MESSAGES))
    )]
    pub messages: Option<Vec<crate::ChatMessage>>,
    /// Config.
    #[serde(
        deserialize_with = "crate::bounded::opt_json_map::<_, MAX_CONFIG_ENTRIES>",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "schema", schemars(extend("maxProperties" = MAX_CONFIG_ENTRIES)))]
    pub config: Option<crate::PromptConfig>,
    /// Commit message for the version the draft will become.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_COMMIT_MESSAGE_CHARS)))]
    pub commit_message: Option<String>,
    /// The version of the prompt the edit started from: an editor warns when the prompt has
    /// moved on since.
    #[serde(
        deserialize_with = "crate::bounded::opt_whole",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = u32::MAX)))]
    pub base_version: Option<u32>,
}

impl DraftFields {
    /// Checks each present field against the prompt limits. The slug is checked only for length
    /// (it may be half-typed); tags are normalised.
    pub(crate) fn validated(mut self) -> Result<Self> {
        let within = |e: Error| e.within("fields");
        if let Some(slug) = &self.slug
            && slug.len() > validate::MAX_SLUG_LEN
        {
            return Err(within(Error::invalid(
                "slug",
                format!("must be at most {} characters", validate::MAX_SLUG_LEN),
            )));
        }
        if let Some(name) = &self.name {
            validate::single_line(name, MAX_NAME_CHARS, true)
                .map_err(|r| within(Error::invalid("name", r)))?;
        }
        if let Some(d) = &self.description {
            validate::multi_line(d, MAX_DESCRIPTION_CHARS)
                .map_err(|r| within(Error::invalid("description", r)))?;
        }
        if let Some(c) = &self.content {
            validate::multi_line(c, validate::MAX_CONTENT_CHARS)
                .map_err(|r| within(Error::invalid("content", r)))?;
        }
        if let Some(tags) = &self.tags {
            self.tags = Some(normalize_tags(tags).map_err(within)?);
        }
        if let Some(vars) = &self.variables {
            if vars.len() > MAX_VARIABLES {
                return Err(within(Error::invalid(
                    "variables",
                    format!("at most {MAX_VARIABLES} variables are allowed"),
                )));
            }
            for (i, v) in vars.iter().enumerate() {
                let field = |f: &str| format!("variables[{i}].{f}");
                validate::variable_name(&v.name)
                    .map_err(|r| within(Error::invalid(field("name"), r)))?;
                validate::single_line(
                    &v.description,
                    validate::MAX_VARIABLE_DESCRIPTION_CHARS,
                    true,
                )
                .map_err(|r| within(Error::invalid(field("description"), r)))?;
                if let Some(d) = &v.default {
                    validate::multi_line(d, validate::MAX_VARIABLE_DEFAULT_CHARS)
                        .map_err(|r| within(Error::invalid(field("default"), r)))?;
                }
            }
        }
        if let Some(messages) = &self.messages {
            if messages.len() > validate::MAX_MESSAGES {
                return Err(within(Error::invalid(
                    "messages",
                    format!("at most {} messages are allowed", validate::MAX_MESSAGES),
                )));
            }
            let mut total = 0usize;
            for (i, m) in messages.iter().enumerate() {
                total += m.content.chars().count();
                validate::multi_line(&m.content, usize::MAX)
                    .map_err(|r| within(Error::invalid(format!("messages[{i}].content"), r)))?;
            }
            if total > validate::MAX_CONTENT_CHARS {
                return Err(within(Error::invalid(
                    "messages",
                    format!(
                        "must be at most {} characters in all",
                        validate::MAX_CONTENT_CHARS
                    ),
                )));
            }
        }
        if let Some(config) = &self.config {
            validate::config(config).map_err(|r| within(Error::invalid("config", r)))?;
        }
        if let Some(m) = &self.commit_message {
            validate::multi_line(m, validate::MAX_COMMIT_MESSAGE_CHARS)
                .map_err(|r| within(Error::invalid("commit_message", r)))?;
        }
        Ok(self)
    }
}

/// A draft's chat message (its schema): like a prompt's, but its content may still be empty.
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct DraftMessage {
    /// Who speaks.
    role: crate::ChatRole,
    /// What is said so far.
    #[schemars(
        pattern(crate::validate::MULTI_LINE_PATTERN),
        length(max = crate::validate::MAX_CONTENT_CHARS)
    )]
    content: String,
}

/// Input for creating or updating a draft.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveDraft {
    /// The draft to update; a new one is created when absent (or when this id is new).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<DraftId>,
    /// The saved prompt this draft edits, if it edits one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SLUG_PATTERN), length(max = crate::validate::MAX_SLUG_LEN)))]
    pub prompt_slug: Option<String>,
    /// The fields being edited.
    #[serde(default, deserialize_with = "crate::bounded::object")]
    pub fields: DraftFields,
}

/// A stored draft.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Identifier.
    pub id: DraftId,
    /// The saved prompt this draft edits, if any.
    pub prompt_slug: Option<Slug>,
    /// The fields being edited.
    pub fields: DraftFields,
    /// When the draft was first saved.
    pub created_at: DateTime<Utc>,
    /// When it was last saved.
    pub updated_at: DateTime<Utc>,
    /// When it disappears unless saved again.
    pub expires_at: DateTime<Utc>,
}

/// How many live drafts a user has, and when the next one expires.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftSummary {
    /// Live (unexpired) drafts.
    pub count: u64,
    /// Most recent save among them.
    pub latest_update: Option<DateTime<Utc>>,
    /// Soonest expiry among them.
    pub next_expiry: Option<DateTime<Utc>>,
}
