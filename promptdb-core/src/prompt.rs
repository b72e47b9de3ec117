//! Prompts, their versions, and the inputs that create and change them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Error, PromptId, Result, Slug, template,
    validate::{
        self, MAX_COMMIT_MESSAGE_CHARS, MAX_CONFIG_ENTRIES, MAX_CONTENT_CHARS,
        MAX_DESCRIPTION_CHARS, MAX_MESSAGES, MAX_NAME_CHARS, MAX_TAGS, MAX_VARIABLES,
    },
};

/// Model parameters and anything else an application keeps with a version (`{"model":
/// "gpt-5", "temperature": 0.2}`): a JSON object of at most 16 KiB.
pub type PromptConfig = Map<String, Value>;

/// What a prompt's body is.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptKind {
    /// One text, in `content`.
    #[default]
    Text,
    /// A conversation to send to a chat model, in `messages`.
    Chat,
}

impl PromptKind {
    /// `text` or `chat`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Chat => "chat",
        }
    }

    /// The kind named `s`.
    pub fn parse(field: &str, s: &str) -> Result<Self> {
        match s {
            "text" => Ok(Self::Text),
            "chat" => Ok(Self::Chat),
            _ => Err(Error::invalid(field, "must be `text` or `chat`")),
        }
    }
}

/// Who speaks a chat message.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// Instructions for the model.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
}

impl ChatRole {
    /// `system`, `user` or `assistant`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One message of a chat prompt; its content may hold `{{variables}}` and `{{> includes}}`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: ChatRole,
    /// What is said.
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::CONTENT_PATTERN), length(max = crate::validate::MAX_CONTENT_CHARS)))]
    pub content: String,
}

impl ChatMessage {
    /// A message.
    pub fn new(role: ChatRole, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

fn is_text(kind: &PromptKind) -> bool {
    *kind == PromptKind::Text
}

/// A template variable the prompt declares: it becomes an MCP prompt argument.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Name used in `{{name}}` placeholders.
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::VARIABLE_NAME_PATTERN), length(max = crate::validate::MAX_VARIABLE_NAME_LEN)))]
    pub name: String,
    /// What the value should be, for people and models filling it in.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SINGLE_LINE_PATTERN), length(max = crate::validate::MAX_VARIABLE_DESCRIPTION_CHARS)))]
    pub description: String,
    /// Whether rendering fails when no value (and no default) is given.
    #[serde(default = "default_true")]
    pub required: bool,
    /// Value used when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_VARIABLE_DEFAULT_CHARS)))]
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
    /// `text` (the body is `content`) or `chat` (the body is `messages`).
    #[serde(default, skip_serializing_if = "is_text")]
    pub kind: PromptKind,
    /// The template text (text prompts; empty for chat prompts).
    pub content: String,
    /// The messages (chat prompts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<ChatMessage>,
    /// Model parameters and the like, kept with each version.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub config: PromptConfig,
    /// Normalised (lower-case), de-duplicated tags.
    pub tags: Vec<String>,
    /// Declared template variables, including ones declared implicitly by placeholders.
    pub variables: Vec<Variable>,
    /// Why the current version was written.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit_message: String,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptVersion {
    /// The prompt this is a version of.
    pub prompt_id: PromptId,
    /// 1 for the first save, then 2, 3, …
    pub version: u32,
    /// Name at this version.
    pub name: String,
    /// Description at this version.
    pub description: String,
    /// `text` or `chat`.
    #[serde(default, skip_serializing_if = "is_text")]
    pub kind: PromptKind,
    /// Content at this version (text prompts).
    pub content: String,
    /// Messages at this version (chat prompts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<ChatMessage>,
    /// Config at this version.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub config: PromptConfig,
    /// Tags at this version.
    pub tags: Vec<String>,
    /// Variables at this version.
    pub variables: Vec<Variable>,
    /// Why this version was written.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit_message: String,
    /// Uses recorded against this version.
    #[serde(default)]
    pub usage_count: u64,
    /// The labels that point at this version now (`latest` for the newest; a split label at
    /// each of its variants). Filled in when versions are read through [`crate::PromptDb`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// When this version was written.
    pub created_at: DateTime<Utc>,
}

impl PromptVersion {
    /// The version snapshot of `prompt` as it is now (no uses yet, no labels).
    pub fn of(prompt: &Prompt) -> Self {
        Self {
            prompt_id: prompt.id,
            version: prompt.version,
            name: prompt.name.clone(),
            description: prompt.description.clone(),
            kind: prompt.kind,
            content: prompt.content.clone(),
            messages: prompt.messages.clone(),
            config: prompt.config.clone(),
            tags: prompt.tags.clone(),
            variables: prompt.variables.clone(),
            commit_message: prompt.commit_message.clone(),
            usage_count: 0,
            labels: Vec::new(),
            created_at: prompt.updated_at,
        }
    }

    /// The text search and diffs see: `content`, or the messages one after another.
    pub fn body_text(&self) -> String {
        body_text(self.kind, &self.content, &self.messages)
    }
}

impl Prompt {
    /// An empty prompt to build others from with `..`; not valid on its own.
    pub(crate) fn placeholder() -> Self {
        Self {
            id: PromptId::from_uuid(uuid::Uuid::nil()),
            slug: Slug::from_trusted(String::new()),
            name: String::new(),
            description: String::new(),
            kind: PromptKind::Text,
            content: String::new(),
            messages: Vec::new(),
            config: PromptConfig::new(),
            tags: Vec::new(),
            variables: Vec::new(),
            commit_message: String::new(),
            pinned: false,
            favorite: false,
            usage_count: 0,
            last_used_at: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            version: 0,
        }
    }

    /// The text search and diffs see: `content`, or the messages one after another.
    pub fn body_text(&self) -> String {
        body_text(self.kind, &self.content, &self.messages)
    }

    /// The template texts: `content`, or each message's content.
    pub fn texts(&self) -> Vec<&str> {
        match self.kind {
            PromptKind::Text => vec![self.content.as_str()],
            PromptKind::Chat => self.messages.iter().map(|m| m.content.as_str()).collect(),
        }
    }

    /// The distinct slugs the prompt's text includes (`{{> slug}}`), in order.
    pub fn include_targets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for text in self.texts() {
            for include in template::includes(text) {
                if !out.iter().any(|s| s == include.slug) {
                    out.push(include.slug.to_owned());
                }
            }
        }
        out
    }
}

/// `content` for text prompts; for chat prompts each message as `[role]` and its content.
pub(crate) fn body_text(kind: PromptKind, content: &str, messages: &[ChatMessage]) -> String {
    match kind {
        PromptKind::Text => content.to_owned(),
        PromptKind::Chat => {
            let mut out =
                String::with_capacity(messages.iter().map(|m| m.content.len() + 12).sum());
            for (i, m) in messages.iter().enumerate() {
                if i > 0 {
                    out.push_str("\n\n");
                }
                out.push('[');
                out.push_str(m.role.as_str());
                out.push_str("]\n");
                out.push_str(&m.content);
            }
            out
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
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SLUG_PATTERN), length(max = crate::validate::MAX_SLUG_LEN)))]
    pub slug: Option<String>,
    /// Human title.
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::NAME_PATTERN), length(max = crate::validate::MAX_NAME_CHARS)))]
    pub name: String,
    /// What the prompt is for.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_DESCRIPTION_CHARS)))]
    pub description: String,
    /// `text` (default; give `content`) or `chat` (give `messages`).
    #[serde(default, skip_serializing_if = "is_text")]
    pub kind: PromptKind,
    /// The template text, with `{{variables}}` (text prompts).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_CONTENT_CHARS)))]
    pub content: String,
    /// The messages (chat prompts), each with `{{variables}}`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::bounded::objects::<_, _, MAX_MESSAGES>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_MESSAGES)))]
    pub messages: Vec<ChatMessage>,
    /// Model parameters and the like (a JSON object, at most 16 KiB).
    #[serde(
        default,
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "crate::bounded::json_map::<_, MAX_CONFIG_ENTRIES>"
    )]
    #[cfg_attr(feature = "schema", schemars(extend("maxProperties" = MAX_CONFIG_ENTRIES)))]
    pub config: PromptConfig,
    /// Tags.
    #[serde(default, deserialize_with = "crate::bounded::vec::<_, _, MAX_TAGS>")]
    #[cfg_attr(feature = "schema", schemars(length(max = crate::validate::MAX_TAGS), inner(pattern(crate::validate::TAG_PATTERN), length(max = crate::validate::MAX_TAG_CHARS))))]
    pub tags: Vec<String>,
    /// Declared variables, each name once; placeholders that are not declared here are declared
    /// as required. At most 32 in all, counting those placeholders.
    #[serde(
        default,
        deserialize_with = "crate::bounded::objects::<_, _, MAX_VARIABLES>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_VARIABLES)))]
    pub variables: Vec<Variable>,
    /// Why this first version was written.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_COMMIT_MESSAGE_CHARS)))]
    pub commit_message: String,
    /// Labels to point at this first version (`production`, `staging`); protected ones need the
    /// release scope.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::bounded::vec::<_, _, MAX_TAGS>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = crate::validate::MAX_TAGS), inner(pattern(crate::validate::LABEL_PATTERN))))]
    pub labels: Vec<String>,
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
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::NAME_PATTERN), length(max = crate::validate::MAX_NAME_CHARS)))]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_DESCRIPTION_CHARS)))]
    pub description: Option<String>,
    /// New kind; switching drops the other kind's body (`content` or `messages`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PromptKind>,
    /// New content (text prompts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_CONTENT_CHARS)))]
    pub content: Option<String>,
    /// New messages (chat prompts).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::bounded::opt_objects::<_, _, MAX_MESSAGES>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_MESSAGES)))]
    pub messages: Option<Vec<ChatMessage>>,
    /// New config (replaces the old one).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::bounded::opt_json_map::<_, MAX_CONFIG_ENTRIES>"
    )]
    #[cfg_attr(feature = "schema", schemars(extend("maxProperties" = MAX_CONFIG_ENTRIES)))]
    pub config: Option<PromptConfig>,
    /// Why: kept with the new version, if the patch makes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_COMMIT_MESSAGE_CHARS)))]
    pub commit_message: Option<String>,
    /// New tags (replace the old ones).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::bounded::opt_vec::<_, _, MAX_TAGS>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = crate::validate::MAX_TAGS), inner(pattern(crate::validate::TAG_PATTERN), length(max = crate::validate::MAX_TAG_CHARS))))]
    pub tags: Option<Vec<String>>,
    /// New declared variables (replace the old ones).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::bounded::opt_objects::<_, _, MAX_VARIABLES>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_VARIABLES)))]
    pub variables: Option<Vec<Variable>>,
    /// Pin or unpin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// Mark or unmark as favourite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favorite: Option<bool>,
}

impl PromptPatch {
    /// Whether the patch changes nothing at all (a commit message alone changes nothing).
    pub fn is_empty(&self) -> bool {
        Self {
            commit_message: None,
            ..self.clone()
        } == Self::default()
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
    /// The version the use was counted for.
    pub version: u32,
    /// When this use was recorded.
    pub last_used_at: DateTime<Utc>,
}

/// The versioned part of a prompt, before validation.
#[derive(Debug, Clone)]
pub(crate) struct BodyInput<'a> {
    pub(crate) name: &'a str,
    pub(crate) description: &'a str,
    pub(crate) kind: PromptKind,
    pub(crate) content: String,
    pub(crate) messages: Vec<ChatMessage>,
    pub(crate) config: PromptConfig,
    pub(crate) tags: &'a [String],
    pub(crate) variables: Vec<Variable>,
}

/// The versioned part of a prompt, validated and normalised.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PromptBody {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) kind: PromptKind,
    pub(crate) content: String,
    pub(crate) messages: Vec<ChatMessage>,
    pub(crate) config: PromptConfig,
    pub(crate) tags: Vec<String>,
    pub(crate) variables: Vec<Variable>,
}

impl PromptBody {
    /// Validates and normalises the parts; field names are relative (`name`, `tags[2]`).
    /// Every count is checked before the elements are looked at.
    pub(crate) fn build(input: BodyInput<'_>) -> Result<Self> {
        validate::single_line(input.name, MAX_NAME_CHARS, false)
            .map_err(|r| Error::invalid("name", r))?;
        let name = validate::trim(input.name);
        validate::multi_line(input.description, MAX_DESCRIPTION_CHARS)
            .map_err(|r| Error::invalid("description", r))?;
        let description = validate::trim(input.description);
        match input.kind {
            PromptKind::Text => {
                validate::content(&input.content).map_err(|r| Error::invalid("content", r))?;
                if !input.messages.is_empty() {
                    return Err(Error::invalid(
                        "messages",
                        "a text prompt has no messages; use `content`, or set `kind` to `chat`",
                    ));
                }
            }
            PromptKind::Chat => {
                if !input.content.is_empty() {
                    return Err(Error::invalid(
                        "content",
                        "a chat prompt keeps its text in `messages`; leave `content` empty",
                    ));
                }
                check_messages(&input.messages)?;
            }
        }
        validate::config(&input.config).map_err(|r| Error::invalid("config", r))?;
        let tags = normalize_tags(input.tags)?;
        let variables = match input.kind {
            PromptKind::Text => declare_variables(&[input.content.as_str()], input.variables)?,
            PromptKind::Chat => {
                let texts: Vec<&str> = input.messages.iter().map(|m| m.content.as_str()).collect();
                declare_variables(&texts, input.variables)?
            }
        };
        Ok(Self {
            name: name.to_owned(),
            description: description.to_owned(),
            kind: input.kind,
            content: input.content,
            messages: input.messages,
            config: input.config,
            tags,
            variables,
        })
    }
}

/// Checks a chat prompt's messages: how many, then each, then their total size.
fn check_messages(messages: &[ChatMessage]) -> Result<()> {
    if messages.is_empty() {
        return Err(Error::invalid(
            "messages",
            "a chat prompt needs at least one message",
        ));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(Error::invalid(
            "messages",
            format!(
                "at most {MAX_MESSAGES} messages are allowed (got {})",
                messages.len()
            ),
        ));
    }
    let mut total = 0usize;
    for (i, m) in messages.iter().enumerate() {
        validate::content(&m.content)
            .map_err(|r| Error::invalid(format!("messages[{i}].content"), r))?;
        total += m.content.chars().count();
    }
    if total > MAX_CONTENT_CHARS {
        return Err(Error::invalid(
            "messages",
            format!(
                "must be at most {MAX_CONTENT_CHARS} characters in all (got {total} characters)"
            ),
        ));
    }
    Ok(())
}

/// Checks a commit message (multi-line, bounded) and trims it.
pub(crate) fn commit_message(field: &str, raw: &str) -> Result<String> {
    validate::multi_line(raw, MAX_COMMIT_MESSAGE_CHARS).map_err(|r| Error::invalid(field, r))?;
    Ok(validate::trim(raw).to_owned())
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

/// Checks declared variables and declares, as required, every placeholder of `texts` that is not
/// declared. Linear in the input: the count is checked before any variable is looked at, and
/// duplicates are found with a set.
fn declare_variables(texts: &[&str], mut declared: Vec<Variable>) -> Result<Vec<Variable>> {
    if declared.len() > MAX_VARIABLES {
        return Err(Error::invalid(
            "variables",
            format!(
                "at most {MAX_VARIABLES} variables are allowed (got {})",
                declared.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(declared.len());
    for (i, v) in declared.iter_mut().enumerate() {
        let field = |f: &str| format!("variables[{i}].{f}");
        validate::variable_name(&v.name).map_err(|r| Error::invalid(field("name"), r))?;
        if !seen.insert(v.name.clone()) {
            return Err(Error::invalid(
                field("name"),
                format!("`{}` is declared twice", v.name),
            ));
        }
        validate::single_line(
            &v.description,
            validate::MAX_VARIABLE_DESCRIPTION_CHARS,
            true,
        )
        .map_err(|r| Error::invalid(field("description"), r))?;
        let trimmed = validate::trim(&v.description);
        if trimmed.len() != v.description.len() {
            v.description = trimmed.to_owned();
        }
        if let Some(default) = &v.default {
            validate::multi_line(default, validate::MAX_VARIABLE_DEFAULT_CHARS)
                .map_err(|r| Error::invalid(field("default"), r))?;
        }
    }
    for text in texts {
        for name in template::placeholders(text) {
            if seen.insert(name.to_owned()) {
                if declared.len() == MAX_VARIABLES {
                    return Err(Error::invalid(
                        "variables",
                        format!(
                            "at most {MAX_VARIABLES} variables are allowed, counting placeholders in the content"
                        ),
                    ));
                }
                declared.push(Variable {
                    name: name.to_owned(),
                    description: String::new(),
                    required: true,
                    default: None,
                });
            }
        }
    }
    Ok(declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(
        name: &'static str,
        content: &str,
        tags: &'static [String],
        variables: Vec<Variable>,
    ) -> BodyInput<'static> {
        BodyInput {
            name,
            description: "",
            kind: PromptKind::Text,
            content: content.into(),
            messages: Vec::new(),
            config: PromptConfig::new(),
            tags,
            variables,
        }
    }

    #[test]
    fn body_normalises_and_declares() {
        let tags: &'static [String] =
            Box::leak(vec!["Rust".into(), "rust".into(), " CLI ".into()].into_boxed_slice());
        let body = PromptBody::build(BodyInput {
            description: " d ",
            ..text(
                "  Review  ",
                "Review {{code}} in {{ language }}",
                tags,
                vec![Variable {
                    name: "language".into(),
                    description: " which ".into(),
                    required: false,
                    default: Some("Rust".into()),
                }],
            )
        })
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
        let err = |name: &'static str, tags: &[&str], vars: Vec<Variable>| {
            let tags: &'static [String] = Box::leak(
                tags.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            );
            PromptBody::build(text(name, "x", tags, vars))
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

    #[test]
    fn chat_bodies_and_their_limits() {
        let chat = |messages: Vec<ChatMessage>, content: &str| {
            PromptBody::build(BodyInput {
                kind: PromptKind::Chat,
                messages,
                ..text("Chat", content, &[], Vec::new())
            })
        };
        let ok = chat(
            vec![
                ChatMessage::new(ChatRole::System, "You are {{persona}}."),
                ChatMessage::new(ChatRole::User, "Hi {{name}}, {{persona}} here"),
            ],
            "",
        )
        .unwrap();
        let names: Vec<&str> = ok.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["persona", "name"]);
        let field = |r: Result<PromptBody>| r.unwrap_err().field().map(str::to_owned);
        assert_eq!(field(chat(vec![], "")).as_deref(), Some("messages"));
        assert_eq!(
            field(chat(
                vec![ChatMessage::new(ChatRole::User, "x")],
                "also text"
            ))
            .as_deref(),
            Some("content")
        );
        assert_eq!(
            field(chat(vec![ChatMessage::new(ChatRole::User, " ")], "")).as_deref(),
            Some("messages[0].content")
        );
        let many = vec![ChatMessage::new(ChatRole::User, "x"); MAX_MESSAGES + 1];
        assert_eq!(field(chat(many, "")).as_deref(), Some("messages"));
        let mut config = PromptConfig::new();
        config.insert("blob".into(), serde_json::json!("x".repeat(20_000)));
        let r = PromptBody::build(BodyInput {
            config,
            ..text("n", "x", &[], Vec::new())
        });
        assert_eq!(field(r).as_deref(), Some("config"));
    }

    #[test]
    fn many_variables_are_refused_before_they_are_looked_at() {
        let many: Vec<Variable> = (0..80_000)
            .map(|i| Variable {
                name: format!("v{i}"),
                description: String::new(),
                required: true,
                default: None,
            })
            .collect();
        let err = PromptBody::build(text("n", "x", &[], many)).unwrap_err();
        assert_eq!(err.field(), Some("variables"));
        assert!(err.to_string().contains("got 80000"), "{err}");
    }
}
