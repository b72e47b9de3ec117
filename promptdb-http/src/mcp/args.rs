//! Tool inputs and outputs. Doc comments here become the descriptions a model reads.

use std::collections::BTreeMap;

use promptdb_core::{
    DraftSummary, NewPrompt, Preferences, Prompt, PromptSummary, PromptUsage, Scope, TagCount,
    UserId, Variable,
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
    pub prompts: Vec<NewPrompt>,
}

/// Arguments of `get_prompt`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetPromptArgs {
    /// The prompt's slug, such as `code-review`.
    pub slug: String,
    /// Values for the prompt's `{{variables}}`. When given, the result also holds the rendered
    /// text, ready to use.
    #[serde(default)]
    pub variables: Option<BTreeMap<String, String>>,
}

/// Arguments of `list_prompts`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPromptsArgs {
    /// Only prompts carrying every one of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Only pinned (true) or only unpinned (false) prompts.
    #[serde(default)]
    pub pinned: Option<bool>,
    /// Only favourites (true) or only non-favourites (false).
    #[serde(default)]
    pub favorite: Option<bool>,
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
    #[serde(default)]
    pub tags: Vec<String>,
    /// Only pinned (true) or only unpinned (false) prompts.
    #[serde(default)]
    pub pinned: Option<bool>,
    /// Only favourites (true) or only non-favourites (false).
    #[serde(default)]
    pub favorite: Option<bool>,
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
    /// New template text; `{{name}}` placeholders become variables.
    #[serde(default)]
    pub content: Option<String>,
    /// New tags, replacing the old ones.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// New variable declarations, replacing the old ones.
    #[serde(default)]
    pub variables: Option<Vec<Variable>>,
    /// Pin (true) or unpin (false).
    #[serde(default)]
    pub pinned: Option<bool>,
    /// Mark (true) or unmark (false) as favourite.
    #[serde(default)]
    pub favorite: Option<bool>,
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
    /// The prompt.
    pub prompt: Prompt,
    /// The content with the given variables filled in (only when variables were given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<String>,
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
