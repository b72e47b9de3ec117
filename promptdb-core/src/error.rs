//! The one error type of PromptDB's core, shared by the service and every storage backend.

use std::fmt;

/// A boxed error from a storage backend or another lower layer.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used throughout PromptDB.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in PromptDB, in the product's words.
///
/// Frontends map each variant to their own vocabulary (HTTP status, MCP tool error, exit code);
/// [`Error::code`] gives a stable machine-readable name for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing does not exist for this caller. Another user's rows are reported the same way,
    /// so existence never leaks across users.
    #[error("{what} `{key}` not found")]
    NotFound {
        /// What was looked for: `prompt`, `version`, `draft`, `user`, `api key`.
        what: &'static str,
        /// The handle that was asked for.
        key: String,
    },
    /// The write collides with existing state (a slug that is already taken, say).
    #[error("{field}: {reason}")]
    Conflict {
        /// The input field that caused the collision, as a path (`prompts[2].slug`).
        field: String,
        /// Why, in a sentence a user can act on.
        reason: String,
    },
    /// The input breaks a rule or a limit. Nothing was written.
    #[error("{field}: {reason}")]
    Invalid {
        /// The input field at fault, as a path (`prompts[0].tags[3]`).
        field: String,
        /// Why, in a sentence a user can act on.
        reason: String,
    },
    /// A per-user quota would be exceeded (prompts, versions, stored bytes, API keys, drafts).
    /// Nothing was written.
    #[error("{limit}: {reason}")]
    QuotaExceeded {
        /// Which quota (`prompts`, `versions`, `stored_bytes`, `api_keys`, `drafts`).
        limit: String,
        /// The limit and what to do, in a sentence.
        reason: String,
    },
    /// No valid credentials were presented.
    #[error("authentication required")]
    Unauthorized,
    /// The caller is known but may not do this (a read-only key writing, say).
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why, in a sentence.
        reason: String,
    },
    /// The storage backend cannot be reached right now; retrying later may succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The database's disk is full: reads go on, writes fail until space is freed.
    #[error("storage full: {0}")]
    StorageFull(#[source] BoxError),
    /// The storage backend failed in an unexpected way.
    #[error("storage error: {0}")]
    Backend(#[source] BoxError),
}

impl Error {
    /// An [`Error::Invalid`] for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    /// An [`Error::Conflict`] for `field`.
    pub fn conflict(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self::Conflict {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    /// An [`Error::QuotaExceeded`] for the quota `limit`.
    pub fn quota(limit: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self::QuotaExceeded {
            limit: limit.into(),
            reason: reason.to_string(),
        }
    }

    /// An [`Error::NotFound`].
    pub fn not_found(what: &'static str, key: impl fmt::Display) -> Self {
        Self::NotFound {
            what,
            key: key.to_string(),
        }
    }

    /// An [`Error::Forbidden`].
    pub fn forbidden(reason: impl fmt::Display) -> Self {
        Self::Forbidden {
            reason: reason.to_string(),
        }
    }

    /// An [`Error::Backend`] wrapping `err`.
    pub fn backend(err: impl Into<BoxError>) -> Self {
        Self::Backend(err.into())
    }

    /// A stable, machine-readable name for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::QuotaExceeded { .. } => "quota_exceeded",
            Self::Invalid { .. } => "invalid",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::Unavailable(_) => "unavailable",
            Self::StorageFull(_) => "storage_full",
            Self::Backend(_) => "internal",
        }
    }

    /// The input field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Conflict { field, .. } | Self::Invalid { field, .. } => Some(field),
            Self::QuotaExceeded { limit, .. } => Some(limit),
            _ => None,
        }
    }

    /// Prefixes the field path, so an error about `slug` inside a batch becomes `prompts[2].slug`.
    pub(crate) fn within(mut self, prefix: &str) -> Self {
        if let Self::Conflict { field, .. } | Self::Invalid { field, .. } = &mut self {
            *field = if field.is_empty() {
                prefix.to_owned()
            } else if field.starts_with('[') {
                format!("{prefix}{field}")
            } else {
                format!("{prefix}.{field}")
            };
        }
        self
    }

    /// Whether the error is the caller's to fix (as opposed to a server-side failure).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            Self::Unavailable(_) | Self::StorageFull(_) | Self::Backend(_)
        )
    }
}
