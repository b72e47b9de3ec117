//! Storage: small capability traits joined by one [`Store`] supertrait.
//!
//! Backends implement these over their database. They own transactions, indexes and
//! isolation; they never own a business rule. Where a write depends on what is stored (an
//! update, a use, a preferences merge), the backend reads the row under a lock inside its
//! transaction and calls the closure the service hands it, so the rule runs in core and the
//! write stays atomic.
//!
//! Every method takes the owner's [`UserId`] and must touch only that user's rows. A write for a
//! user that does not exist fails with [`crate::Error::NotFound`] (`what: "user"`) and writes
//! nothing.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{
    ApiKey, ApiKeyId, Draft, DraftId, DraftSummary, Preferences, Prompt, PromptId, PromptSummary,
    PromptVersion, Result, SecretHash, Session, TagCount, User, UserId,
    ranking::{RankFeatures, SearchCandidate},
    search::{ListSpec, SearchSpec},
};

/// A prompt to insert, with its ranking score.
#[derive(Debug, Clone)]
pub struct PromptRecord {
    /// The full prompt (version 1 for new prompts).
    pub prompt: Prompt,
    /// Its ranking score.
    pub score: f64,
}

/// What a [`PromptMutator`] decided.
#[derive(Debug, Clone)]
pub struct PromptChange {
    /// The prompt as it must be stored.
    pub prompt: Prompt,
    /// Its ranking score.
    pub score: f64,
    /// Whether `prompt.version` is new and a version row must be written.
    pub new_version: bool,
}

/// Computes a prompt's new state from its current one; `Ok(None)` leaves it untouched.
pub type PromptMutator<'a> = dyn Fn(Prompt) -> Result<Option<PromptChange>> + Send + Sync + 'a;

/// Computes a ranking score.
pub type Scorer<'a> = dyn Fn(&RankFeatures) -> f64 + Send + Sync + 'a;

/// Computes new preferences from the current ones.
pub type PreferencesMutator<'a> = dyn Fn(Preferences) -> Result<Preferences> + Send + Sync + 'a;

/// A list row with the score the cursor needs.
#[derive(Debug, Clone)]
pub struct Ranked<T> {
    /// The row.
    pub item: T,
    /// Its ranking score.
    pub score: f64,
}

/// The outcome of a batch insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Every prompt was written.
    All,
    /// Nothing was written: the prompt at this index has a slug the user already uses.
    SlugTaken {
        /// Index into the batch.
        index: usize,
    },
}

/// The outcome of saving a draft.
#[derive(Debug, Clone)]
pub enum DraftSaved {
    /// Created or updated.
    Saved(Box<Draft>),
    /// Not written: the user already has the maximum number of live drafts.
    TooMany,
    /// Not written: the id belongs to somebody else's draft.
    NotOwned,
}

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user.
    async fn insert_user(&self, user: &User) -> Result<()>;
    /// A user by id.
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    /// Deletes a user and everything the user owns. `false` if there was no such user.
    async fn delete_user(&self, id: UserId) -> Result<bool>;
}

/// Prompts, their versions and tags.
#[async_trait]
pub trait PromptStore: Send + Sync {
    /// Inserts all prompts with their first versions, or none of them.
    async fn insert_prompts(&self, user: UserId, prompts: &[PromptRecord]) -> Result<Inserted>;
    /// A prompt by slug.
    async fn prompt(&self, user: UserId, slug: &str) -> Result<Option<Prompt>>;
    /// Reads the prompt under a lock, applies `change`, writes the result (and a version row
    /// when asked) atomically. `Ok(None)` if there is no such prompt.
    async fn modify_prompt(
        &self,
        user: UserId,
        slug: &str,
        change: &PromptMutator<'_>,
    ) -> Result<Option<Prompt>>;
    /// Deletes a prompt with its versions and tags. `false` if there was no such prompt.
    async fn delete_prompt(&self, user: UserId, slug: &str) -> Result<bool>;
    /// Prompts in list order (pinned first, score descending, slug ascending) after
    /// `spec.after`, at most `spec.limit` of them.
    async fn list_prompts(
        &self,
        user: UserId,
        spec: &ListSpec,
    ) -> Result<Vec<Ranked<PromptSummary>>>;
    /// The `spec.candidates` most relevant matches among the `spec.scan_limit` most recently
    /// created prompts that match, most relevant first (ties by slug). With no terms: the
    /// filtered prompts by score descending, then slug.
    async fn search_prompts(&self, user: UserId, spec: &SearchSpec)
    -> Result<Vec<SearchCandidate>>;
    /// Summaries of the given prompts, in any order; unknown ids are skipped.
    async fn prompt_summaries(&self, user: UserId, ids: &[PromptId]) -> Result<Vec<PromptSummary>>;
    /// Every tag of the user with its prompt count, most used first, then by name.
    async fn tags(&self, user: UserId) -> Result<Vec<TagCount>>;
    /// Versions newest first, older than `before` when given. `Ok(None)` if there is no such prompt.
    async fn versions(
        &self,
        user: UserId,
        slug: &str,
        before: Option<u32>,
        limit: u32,
    ) -> Result<Option<Vec<PromptVersion>>>;
    /// One version of a prompt.
    async fn version(
        &self,
        user: UserId,
        slug: &str,
        version: u32,
    ) -> Result<Option<PromptVersion>>;
    /// Every prompt of the user with all its versions (oldest version first), by slug.
    async fn export_prompts(&self, user: UserId) -> Result<Vec<(Prompt, Vec<PromptVersion>)>>;
    /// Recomputes every stored score (after the ranking weights changed). Returns the row count.
    async fn rescore_all(&self, scorer: &Scorer<'_>) -> Result<u64>;
}

/// Drafts.
#[async_trait]
pub trait DraftStore: Send + Sync {
    /// Creates the draft, or updates it (keeping `created_at`) if the user already has one with
    /// this id. Creating checks that the user has fewer than `max_live` live drafts at `now`.
    async fn save_draft(
        &self,
        user: UserId,
        draft: &Draft,
        max_live: usize,
        now: DateTime<Utc>,
    ) -> Result<DraftSaved>;
    /// A draft that has not expired at `now`.
    async fn draft(&self, user: UserId, id: DraftId, now: DateTime<Utc>) -> Result<Option<Draft>>;
    /// Unexpired drafts, most recently saved first.
    async fn drafts(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Draft>>;
    /// Count and times of unexpired drafts.
    async fn draft_summary(&self, user: UserId, now: DateTime<Utc>) -> Result<DraftSummary>;
    /// Deletes a draft. `false` if there was no such draft.
    async fn delete_draft(&self, user: UserId, id: DraftId) -> Result<bool>;
    /// Deletes every user's drafts that expired at or before `now`; returns how many.
    async fn purge_expired_drafts(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// Preferences.
#[async_trait]
pub trait PreferenceStore: Send + Sync {
    /// The user's preferences (empty if never set).
    async fn preferences(&self, user: UserId) -> Result<Preferences>;
    /// Reads the preferences under a lock, applies `change`, writes the result.
    async fn update_preferences(
        &self,
        user: UserId,
        change: &PreferencesMutator<'_>,
        now: DateTime<Utc>,
    ) -> Result<Preferences>;
}

/// A stored API key with its owner and secret hash.
#[derive(Debug, Clone)]
pub struct StoredApiKey {
    /// The owner.
    pub user_id: UserId,
    /// The key.
    pub key: ApiKey,
    /// SHA-256 of the secret.
    pub hash: SecretHash,
}

/// API keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a key unless the user already has `max_per_user` keys; `false` when not stored.
    async fn insert_api_key(
        &self,
        user: UserId,
        key: &ApiKey,
        hash: &SecretHash,
        max_per_user: usize,
    ) -> Result<bool>;
    /// The key whose secret hashes to `hash`.
    async fn api_key_by_hash(&self, hash: &SecretHash) -> Result<Option<StoredApiKey>>;
    /// The user's keys, newest first.
    async fn api_keys(&self, user: UserId) -> Result<Vec<ApiKey>>;
    /// Deletes a key. `false` if the user has no such key.
    async fn delete_api_key(&self, user: UserId, id: ApiKeyId) -> Result<bool>;
    /// Records a use of the key.
    async fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<()>;
}

/// External identities: an identity provider's (issuer, subject) pair mapped to a user.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// The user the identity belongs to.
    async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<UserId>>;
    /// Creates `user` and links the identity to it, atomically. When the identity is already
    /// linked (another request won the race), creates nothing and returns the linked user.
    async fn insert_user_with_identity(
        &self,
        user: &User,
        issuer: &str,
        subject: &str,
    ) -> Result<UserId>;
}

/// Browser sessions, by the hash of their secret.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    async fn insert_session(&self, hash: &SecretHash, session: &Session) -> Result<()>;
    /// The session, expired or not.
    async fn session_by_hash(&self, hash: &SecretHash) -> Result<Option<Session>>;
    /// Records a refresh: the new refresh token (when the provider rotated it) and due time.
    /// `false` if there is no such session.
    async fn refresh_session(
        &self,
        hash: &SecretHash,
        refresh_token: Option<&str>,
        refresh_due_at: Option<DateTime<Utc>>,
    ) -> Result<bool>;
    /// Ends a session. `false` if there was none.
    async fn delete_session(&self, hash: &SecretHash) -> Result<bool>;
    /// Deletes every session that ended at or before `now`; returns how many.
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// Small key/value settings of the deployment (the ranking weights the scores were computed with).
#[async_trait]
pub trait MetaStore: Send + Sync {
    /// A setting.
    async fn meta(&self, key: &str) -> Result<Option<String>>;
    /// Sets a setting.
    async fn set_meta(&self, key: &str, value: &str) -> Result<()>;
}

/// A complete storage backend.
#[async_trait]
pub trait Store:
    UserStore
    + PromptStore
    + DraftStore
    + PreferenceStore
    + ApiKeyStore
    + IdentityStore
    + SessionStore
    + MetaStore
    + fmt::Debug
{
    /// A short name for logs: `sqlite`, `postgres`.
    fn backend(&self) -> &'static str;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<()>;
}
