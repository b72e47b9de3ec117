//! The change feed: what changed in a user's library, in the order it was committed.
//!
//! Backends record changes with triggers in the transaction of the change itself (a
//! transactional outbox): a committed change is never missing from the feed, and a rolled-back
//! one never appears. Each user's changes are numbered 1, 2, 3, … in commit order (`seq`), so a
//! client that has seen `seq` n resumes from n without gaps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::UserId;

/// Changes kept in the feed; older ones are purged (a client further behind refreshes
/// everything).
pub const CHANGE_RETENTION_DAYS: i64 = 7;
/// Changes one read returns at most.
pub const MAX_CHANGE_PAGE: u32 = 500;

/// What happened.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new version of a prompt (a new prompt is version 1); `latest` moved with it.
    VersionCreated,
    /// A label was set, moved, split differently, or removed.
    LabelMoved,
    /// A prompt was deleted.
    PromptDeleted,
}

impl ChangeKind {
    /// The name on the wire (`version_created`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VersionCreated => "version_created",
            Self::LabelMoved => "label_moved",
            Self::PromptDeleted => "prompt_deleted",
        }
    }

    /// The kind of a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "version_created" => Self::VersionCreated,
            "label_moved" => Self::LabelMoved,
            "prompt_deleted" => Self::PromptDeleted,
            _ => return None,
        })
    }
}

/// One change.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The change's number among the user's changes: 1, 2, 3, … in commit order.
    pub seq: i64,
    /// What happened.
    pub kind: ChangeKind,
    /// The prompt.
    pub slug: String,
    /// The label that moved (`label_moved`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The version created, or the one version a label now names (absent for a split or a
    /// removed label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A read of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangePage {
    /// Changes after the position asked for, oldest first.
    pub changes: Vec<Change>,
    /// The user's newest `seq` (0: none yet).
    pub head: i64,
    /// The oldest `seq` still kept (`None`: none kept).
    pub oldest: Option<i64>,
}

impl ChangePage {
    /// Whether a client that has seen everything up to `after` has missed changes that are no
    /// longer kept, or names a position the feed never reached: it must refresh everything.
    pub fn is_gap(&self, after: i64) -> bool {
        after > self.head
            || after < 0
            || self.oldest.is_some_and(|o| after + 1 < o)
            || (self.oldest.is_none() && after < self.head)
    }
}

/// What a [`ChangeListener`] hears: a prompt of a user changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Whose feed grew.
    pub user: UserId,
    /// The prompt.
    pub slug: String,
}

/// Wakes when changes are committed, by any process sharing the database.
#[async_trait::async_trait]
pub trait ChangeListener: Send {
    /// Waits for the next commit: the user and prompt that changed, or `None` when the
    /// listener may have missed some (after a reconnect) and everything should be read again.
    async fn next(&mut self) -> crate::Result<Option<Changed>>;
}
