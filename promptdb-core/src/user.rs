//! Users and the principal every operation runs as.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::UserId;

/// A PromptDB user.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// Name to show; may be empty.
    pub display_name: String,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

/// What a principal may do.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read the user's prompts, drafts and preferences.
    Read,
    /// Create, change and delete them.
    Write,
}

impl Scope {
    /// The scope's name as it appears in tokens and keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

/// The authenticated caller: which user, and with what scopes. Every [`crate::PromptDb`]
/// operation takes one, and touches only that user's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    user_id: UserId,
    can_read: bool,
    can_write: bool,
}

impl Principal {
    /// A principal with the given scopes.
    pub fn new(user_id: UserId, scopes: &[Scope]) -> Self {
        Self {
            user_id,
            can_read: scopes.contains(&Scope::Read) || scopes.contains(&Scope::Write),
            can_write: scopes.contains(&Scope::Write),
        }
    }

    /// A principal that may read and write.
    pub fn full(user_id: UserId) -> Self {
        Self::new(user_id, &[Scope::Read, Scope::Write])
    }

    /// A principal that may only read.
    pub fn read_only(user_id: UserId) -> Self {
        Self::new(user_id, &[Scope::Read])
    }

    /// The user this principal acts for.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// Whether it may read (write implies read).
    pub fn can_read(&self) -> bool {
        self.can_read
    }

    /// Whether it may write.
    pub fn can_write(&self) -> bool {
        self.can_write
    }
}
