//! The export document: everything a user owns, in one JSON value.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    Draft, Preferences, Prompt, PromptVersion, User,
    release::{Label, LabelMove},
};

/// The value of [`Export::format`].
pub const EXPORT_FORMAT: &str = "promptdb-export";
/// The current value of [`Export::version`]. Version 2 added labels, label moves, chat prompts
/// and config; version 1 documents read the same (the new fields default to empty).
pub const EXPORT_VERSION: u32 = 2;

/// Everything a user owns.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// Format version, [`EXPORT_VERSION`].
    pub version: u32,
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// The user.
    pub user: User,
    /// Every prompt with its full version history, by slug.
    pub prompts: Vec<ExportedPrompt>,
    /// Live drafts.
    pub drafts: Vec<Draft>,
    /// Preferences.
    pub preferences: Preferences,
}

/// A prompt with its history.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedPrompt {
    /// The prompt as it is now.
    #[serde(flatten)]
    pub prompt: Prompt,
    /// Every version, oldest first.
    pub versions: Vec<PromptVersion>,
    /// Its labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    /// Every recorded move of its labels, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label_moves: Vec<LabelMove>,
}
