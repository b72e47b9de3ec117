//! Tool inputs and outputs. Doc comments here become the descriptions a model reads.

use promptdb_core::validate::{
    MAX_BATCH, MAX_CONFIG_ENTRIES, MAX_MESSAGES, MAX_PREFERENCE_KEYS, MAX_RENDER_VALUES,
    MAX_TAG_FILTERS, MAX_TAGS, MAX_VARIABLES, MAX_VARIANTS,
};
use std::collections::BTreeMap;

use promptdb_core::{
    ChatMessage, DraftSummary, LabelMove, NewPrompt, Page, Preferences, Prompt, PromptConfig,
    PromptKind, PromptSummary, PromptUsage, PromptVersion, Resolved, Scope, TagCount, UserId,
    Variable, Variant, diff::VersionDiff,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// No arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Arguments of `save_prompts`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SavePromptsArgs {
    /// One or more prompts to save (at most 100). Either all are saved or, if any is invalid or
    /// uses a slug the user already has, none is.
    #[serde(deserialize_with = "promptdb_core::bounded::objects::<_, _, MAX_BATCH>")]
    #[schemars(length(max = MAX_BATCH))]
    pub prompts: Vec<NewPrompt>,
}

/// Arguments of `get_prompt`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetPromptArgs {
    /// The prompt's slug, such as `code-review` or `support/triage`.
    pub slug: String,
    /// A label (`production`, `staging`, `latest`): the result also holds the version that label
    /// serves (`resolved`). Not together with `version`.
    #[serde(default)]
    pub label: Option<String>,
    /// A version number: the result also holds that version (`resolved`). Not together with
    /// `label`.
    #[serde(default)]
    pub version: Option<u32>,
    /// Values for the prompt's `{{variables}}`. When given, the result also holds the rendered
    /// text, ready to use.
    #[serde(
        deserialize_with = "promptdb_core::bounded::opt_map::<_, _, MAX_RENDER_VALUES>",
        default
    )]
    #[schemars(extend("maxProperties" = MAX_RENDER_VALUES))]
    pub variables: Option<BTreeMap<String, String>>,
}

/// Arguments of `list_prompts`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPromptsArgs {
    /// Only prompts carrying every one of these tags.
    #[serde(
        deserialize_with = "promptdb_core::bounded::vec::<_, _, MAX_TAG_FILTERS>",
        default
    )]
    #[schemars(length(max = MAX_TAG_FILTERS))]
    pub tags: Vec<String>,
    /// Only pinned (true) or only unpinned (false) prompts.
    #[serde(default)]
    pub pinned: Option<bool>,
    /// Only favourites (true) or only non-favourites (false).
    #[serde(default)]
    pub favorite: Option<bool>,
    /// Only prompts in this folder or below it (`support` finds `support/triage`).
    #[serde(default)]
    pub folder: Option<String>,
    /// How many prompts to return, 1 to 100 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` from a previous call, to get the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Arguments of `search_prompts`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchPromptsArgs {
    /// Words to look for in names, descriptions, tags and content (every word must match; word
    /// beginnings match too), plus optional `#tag` filters. Example: `review rust #work`.
    pub query: String,
    /// Only prompts carrying every one of these tags.
    #[serde(
        deserialize_with = "promptdb_core::bounded::vec::<_, _, MAX_TAG_FILTERS>",
        default
    )]
    #[schemars(length(max = MAX_TAG_FILTERS))]
    pub tags: Vec<String>,
    /// Only pinned (true) or only unpinned (false) prompts.
    #[serde(default)]
    pub pinned: Option<bool>,
    /// Only favourites (true) or only non-favourites (false).
    #[serde(default)]
    pub favorite: Option<bool>,
    /// Only prompts in this folder or below it.
    #[serde(default)]
    pub folder: Option<String>,
    /// How many results to return, 1 to 100 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` from a previous call, to get the next page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Arguments of `update_prompt`: the slug plus only the fields to change.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePromptArgs {
    /// The slug of the prompt to change.
    pub slug: String,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// `text` or `chat`; switching drops the other kind's body.
    #[serde(default)]
    pub kind: Option<PromptKind>,
    /// New template text (text prompts); `{{name}}` placeholders become variables.
    #[serde(default)]
    pub content: Option<String>,
    /// New messages (chat prompts), replacing the old ones.
    #[serde(
        deserialize_with = "promptdb_core::bounded::opt_objects::<_, _, MAX_MESSAGES>",
        default
    )]
    #[schemars(length(max = MAX_MESSAGES))]
    pub messages: Option<Vec<ChatMessage>>,
    /// New config (model parameters and the like), replacing the old one.
    #[serde(
        deserialize_with = "promptdb_core::bounded::opt_json_map::<_, MAX_CONFIG_ENTRIES>",
        default
    )]
    #[schemars(extend("maxProperties" = MAX_CONFIG_ENTRIES))]
    pub config: Option<PromptConfig>,
    /// Why: kept with the new version.
    #[serde(default)]
    pub commit_message: Option<String>,
    /// New tags, replacing the old ones.
    #[serde(
        deserialize_with = "promptdb_core::bounded::opt_vec::<_, _, MAX_TAGS>",
        default
    )]
    #[schemars(length(max = MAX_TAGS))]
    pub tags: Option<Vec<String>>,
    /// New variable declarations, replacing the old ones.
    #[serde(
        deserialize_with = "promptdb_core::bounded::opt_objects::<_, _, MAX_VARIABLES>",
        default
    )]
    #[schemars(length(max = MAX_VARIABLES))]
    pub variables: Option<Vec<Variable>>,
    /// Pin (true) or unpin (false).
    #[serde(default)]
    pub pinned: Option<bool>,
    /// Mark (true) or unmark (false) as favourite.
    #[serde(default)]
    pub favorite: Option<bool>,
}

/// Arguments of `track_prompt_use`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UseArgs {
    /// The prompt's slug, such as `code-review`.
    pub slug: String,
    /// The version used (as `get_prompt` with a label reported it), so that A/B variants can be
    /// compared; the newest when omitted.
    #[serde(default)]
    pub version: Option<u32>,
}

/// Arguments of `list_versions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionsArgs {
    /// The prompt's slug.
    pub slug: String,
    /// How many versions to return, 1 to 100 (default 20), newest first.
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` from a previous call, to get older versions.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Arguments of `diff_versions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiffArgs {
    /// The prompt's slug.
    pub slug: String,
    /// The older version.
    pub from: u32,
    /// The newer version.
    pub to: u32,
}

/// Arguments of `set_label`: give `version`, or `split`, or `remove`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLabelArgs {
    /// The prompt's slug.
    pub slug: String,
    /// The label: `production` (protected: needs the release scope), `staging`, or any name of
    /// lower-case letters, digits, `_`, `.` and `-`.
    pub label: String,
    /// Point the label at this version.
    #[serde(default)]
    pub version: Option<u32>,
    /// Or split it between versions for an A/B test: two to ten `{version, weight}` whose
    /// weights sum to 100.
    #[serde(
        deserialize_with = "promptdb_core::bounded::opt_objects::<_, _, MAX_VARIANTS>",
        default
    )]
    #[schemars(length(max = MAX_VARIANTS))]
    pub split: Option<Vec<Variant>>,
    /// Or remove the label.
    #[serde(default)]
    pub remove: Option<bool>,
    /// Or move it back to where it was before its last move.
    #[serde(default)]
    pub rollback: Option<bool>,
}

/// Arguments of tools that take only a slug.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlugArgs {
    /// The prompt's slug, such as `code-review`.
    pub slug: String,
}

/// Arguments of `set_preferences`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPreferencesArgs {
    /// Settings to change, merged into the current ones; a null value removes a setting. Known
    /// settings: `theme` (`system`, `light` or `dark`) and `default_limit` (1 to 100).
    #[serde(deserialize_with = "promptdb_core::bounded::json_map::<_, MAX_PREFERENCE_KEYS>")]
    #[schemars(extend("maxProperties" = MAX_PREFERENCE_KEYS))]
    pub preferences: Map<String, Value>,
}

/// Arguments of `open_prompt_library`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenLibraryArgs {
    /// Optional words or `#tags` to show matching prompts only.
    #[serde(default)]
    pub query: Option<String>,
}

/// Result of `health_check`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HealthOut {
    /// `ok` when the server and its database answer.
    pub status: String,
    /// Server version.
    pub version: String,
    /// Storage backend.
    pub store: String,
    /// How callers sign in.
    pub identity: super::Identity,
}

/// Result of `test_auth`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuthOut {
    /// The authenticated user.
    pub user_id: UserId,
    /// The user's display name.
    pub display_name: String,
    /// What this connection may do.
    pub scopes: Vec<Scope>,
    /// Live drafts of the user.
    pub drafts: DraftSummary,
}

/// Result of `save_prompts`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SavedOut {
    /// The saved prompts, in the order given.
    pub saved: Vec<PromptSummary>,
}

/// Result of `get_prompt` and `update_prompt`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PromptOut {
    /// The prompt (its newest version).
    pub prompt: Prompt,
    /// The content with the given variables filled in (only when variables were given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<String>,
    /// The version a label or version number asked for, includes expanded (only when `label`,
    /// `version` or `variables` were given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Resolved>,
}

/// Result of `list_versions`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionsOut {
    /// Versions, newest first, with the labels that name each.
    pub versions: Vec<PromptVersion>,
    /// Pass as `cursor` for older versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl From<Page<PromptVersion>> for VersionsOut {
    fn from(page: Page<PromptVersion>) -> Self {
        Self {
            versions: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

/// Result of `diff_versions`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiffOut {
    /// The difference.
    #[serde(flatten)]
    pub diff: VersionDiff,
}

/// Result of `set_label`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LabelOut {
    /// The move (a move from a target to the same target changed nothing).
    #[serde(rename = "move")]
    pub moved: LabelMove,
}

/// Result of `list_prompts`, `search_prompts` and `open_prompt_library`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PromptsOut {
    /// Prompts without their content; use `get_prompt` for the text.
    pub prompts: Vec<PromptSummary>,
    /// Pass as `cursor` to get more; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Result of `delete_prompt`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeletedOut {
    /// The slug of the deleted prompt.
    pub deleted: String,
}

/// Result of `list_tags`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TagsOut {
    /// Tags with how many prompts carry each, most used first.
    pub tags: Vec<TagCount>,
}

/// Result of `track_prompt_use`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageOut {
    /// The recorded use.
    #[serde(flatten)]
    pub usage: PromptUsage,
}

/// Result of `get_preferences` and `set_preferences`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreferencesOut {
    /// All current preferences.
    pub preferences: Preferences,
}
