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
    /// Create, change and delete them, and move labels that are not protected.
    Write,
    /// Move any label, protected ones (`production`) included: release a version to the
    /// applications that resolve it.
    Release,
}

impl Scope {
    /// The scope's name as it appears in tokens and keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Release => "release",
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
    can_release: bool,
    actor: Option<std::sync::Arc<str>>,
    key: Option<crate::ApiKeyId>,
}

impl Principal {
    /// A principal with the given scopes (write and release imply read).
    pub fn new(user_id: UserId, scopes: &[Scope]) -> Self {
        Self {
            user_id,
            can_read: !scopes.is_empty(),
            can_write: scopes.contains(&Scope::Write),
            can_release: scopes.contains(&Scope::Release),
            actor: None,
            key: None,
        }
    }

    /// A principal with every scope: the owner at their own machine (local mode, stdio).
    pub fn full(user_id: UserId) -> Self {
        Self::new(user_id, &[Scope::Read, Scope::Write, Scope::Release])
    }

    /// The same principal, described as `actor` in the records it leaves (label moves):
    /// `api key "ci" (pdb_AbCd1234)`, `browser session`.
    pub fn with_actor(mut self, actor: impl Into<std::sync::Arc<str>>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// The same principal, signed in with the API key `id`.
    pub fn with_key(mut self, id: crate::ApiKeyId) -> Self {
        self.key = Some(id);
        self
    }

    /// The API key the caller signed in with, if it did.
    pub fn key_id(&self) -> Option<crate::ApiKeyId> {
        self.key
    }

    /// How the caller signed in, when the frontend said.
    pub fn actor(&self) -> Option<&str> {
        self.actor.as_deref()
    }

    /// The scopes it holds.
    pub fn scopes(&self) -> Vec<Scope> {
        let mut out = Vec::with_capacity(3);
        if self.can_read {
            out.push(Scope::Read);
        }
        if self.can_write {
            out.push(Scope::Write);
        }
        if self.can_release {
            out.push(Scope::Release);
        }
        out
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

    /// Whether it may move protected labels.
    pub fn can_release(&self) -> bool {
        self.can_release
    }
}
