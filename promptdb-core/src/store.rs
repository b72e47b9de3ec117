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

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{
    ApiKey, ApiKeyId, Draft, DraftId, DraftSummary, Preferences, Prompt, PromptId, PromptSummary,
    PromptVersion, Result, SecretHash, Session, Slug, TagCount, User, UserId,
    change::{ChangeListener, ChangePage},
    export::ExportedPrompt,
    harvest::{Candidate, CandidateId, CandidateStatus, Harvested},
    ranking::{RankFeatures, SearchCandidate},
    release::{Label, LabelMove, LabelTarget},
    search::{ListSpec, SearchSpec, SlugPageSpec},
    webhook::{Delivery, Webhook, WebhookId},
};

/// A prompt to insert, with its ranking score.
#[derive(Debug, Clone)]
pub struct PromptRecord {
    /// The full prompt (version 1 for new prompts).
    pub prompt: Prompt,
    /// Its ranking score.
    pub score: f64,
    /// Labels to point at its first version, each recorded as a [`LabelMove`] by `actor`.
    pub labels: Vec<String>,
    /// Who saves it, for the label moves.
    pub actor: String,
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
    /// A use to count against this version too (the version's `usage_count`). A version that
    /// does not exist fails the change with [`crate::Error::NotFound`] (`what: "version"`).
    pub used_version: Option<u32>,
    /// Labels to point at `prompt.version` (moved if they exist), each recorded as a
    /// [`LabelMove`] by `actor`.
    pub labels: Vec<String>,
    /// Who makes the change, for the label moves.
    pub actor: String,
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

/// The outcome of queuing harvest candidates.
#[derive(Debug, Clone)]
pub enum CandidatesQueued {
    /// Queued (or counted again, or skipped as already reviewed).
    Done(Harvested),
    /// Nothing written: the new candidates would take the user past the pending maximum.
    TooMany,
}

/// Harvest candidates: the review queue.
#[async_trait]
pub trait CandidateStore: Send + Sync {
    /// Queues `candidates` (distinct `content_hash`es), all or nothing. One the user already has
    /// waiting with the same hash is counted again instead (occurrences and sessions added, the
    /// higher score, the fresh `similar` and `duplicate_of` kept); one the user accepted or
    /// dismissed, and that has not expired, is skipped; an expired one is replaced. Refused with
    /// [`CandidatesQueued::TooMany`] when the new ones would take the user's unexpired pending
    /// candidates past `max_pending`.
    async fn queue_candidates(
        &self,
        user: UserId,
        candidates: &[Candidate],
        max_pending: usize,
        now: DateTime<Utc>,
    ) -> Result<CandidatesQueued>;
    /// Unexpired pending candidates, highest score first (a model's, which have none, count as
    /// 1), then newest first; `limit` of them after skipping `offset`.
    async fn candidates(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Candidate>>;
    /// How many unexpired candidates are pending.
    async fn pending_candidates(&self, user: UserId, now: DateTime<Utc>) -> Result<u64>;
    /// An unexpired candidate, in any status.
    async fn candidate(
        &self,
        user: UserId,
        id: CandidateId,
        now: DateTime<Utc>,
    ) -> Result<Option<Candidate>>;
    /// Moves an unexpired candidate from `from` to `to`; `false` when it is not in `from` (or
    /// does not exist).
    async fn set_candidate_status(
        &self,
        user: UserId,
        id: CandidateId,
        from: CandidateStatus,
        to: CandidateStatus,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Deletes every user's expired candidates.
    async fn purge_expired_candidates(&self, now: DateTime<Utc>) -> Result<u64>;
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
    /// [`PromptStore::prompt`] as its JSON serialization (what `serde_json` writes for
    /// [`Prompt`]). A cache may keep it serialized; the default serializes on every call.
    async fn prompt_json(&self, user: UserId, slug: &str) -> Result<Option<Arc<str>>> {
        self.prompt(user, slug)
            .await?
            .map(|p| crate::cache::serialize(&p))
            .transpose()
    }
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
    /// A page of the user's prompts in slug order, after `after` (from the start without it),
    /// at most `limit`, each with all its versions (oldest first), labels and label moves
    /// (oldest first), the page read as one consistent snapshot.
    async fn export_prompts(
        &self,
        user: UserId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ExportedPrompt>>;
    /// The prompts whose current text includes `slug` (`{{> slug…}}`), by slug.
    async fn dependents(&self, user: UserId, slug: &str) -> Result<Vec<PromptSummary>>;
    /// A page of the prompts that pass `spec`, in slug order, and how many pass in all.
    async fn page_by_slug(
        &self,
        user: UserId,
        spec: &SlugPageSpec,
    ) -> Result<(Vec<PromptSummary>, u64)>;
    /// Deletes versions of a prompt as `plan` says, atomically, under the prompt's lock.
    /// Fails with [`crate::Error::Conflict`] when the prompt's newest version is no longer
    /// `plan.expected_newest`. `Ok(None)` if there is no such prompt.
    async fn delete_versions(
        &self,
        user: UserId,
        slug: &str,
        plan: &VersionDeletion,
    ) -> Result<Option<()>>;
    /// Every folder that directly holds prompts, with how many (`support` → 2 for
    /// `support/a` and `support/b`; `support/billing/x` counts for `support/billing`).
    /// Prompts outside folders are not counted.
    async fn folders(&self, user: UserId) -> Result<Vec<FolderCount>>;
    /// Recomputes every stored score (after the ranking weights changed). Returns the row count.
    async fn rescore_all(&self, scorer: &Scorer<'_>) -> Result<u64>;
    /// What `user` stores, and how many versions the prompt `slug` keeps when given. Cheap: an
    /// index of the user's prompts and one of the prompt's versions.
    async fn usage(&self, user: UserId, slug: Option<&str>) -> Result<Usage>;
}

/// Versions to delete, and what the prompt becomes (decided by the service).
#[derive(Debug, Clone)]
pub struct VersionDeletion {
    /// The prompt's newest version when the plan was made.
    pub expected_newest: u32,
    /// The versions to delete (some remain: deleting them all deletes the prompt).
    pub versions: Vec<u32>,
    /// When the newest version goes: the prompt as of the newest remaining version, with its
    /// score, to write over the prompt's row.
    pub new_head: Option<(Prompt, f64)>,
    /// Labels that named a deleted version: removed, each recorded as a move by `actor`.
    pub remove_labels: Vec<String>,
    /// Who deletes.
    pub actor: String,
    /// When.
    pub now: DateTime<Utc>,
}

/// What a user stores, for quotas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompts.
    pub prompts: u64,
    /// Bytes of text in every version of every prompt (names, descriptions, content, messages,
    /// config, tags, variables, commit messages).
    pub stored_bytes: u64,
    /// Versions kept of the prompt asked about (0 without one, or when there is no such prompt).
    pub versions: u64,
}

/// A folder and the number of prompts directly in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderCount {
    /// `support`, `support/billing`.
    pub folder: String,
    /// Prompts whose slug is `folder/<name>`.
    pub prompts: u64,
}

/// What a label's move sees: the prompt's newest version and where the label points now.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelState {
    /// The prompt's newest version.
    pub newest: u32,
    /// The label's target, if it exists.
    pub current: Option<LabelTarget>,
}

/// What a [`LabelMutator`] decided.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelDecision {
    /// Point the label at this (every version it names must exist).
    Set(LabelTarget),
    /// Remove the label.
    Remove,
    /// Leave it as it is; nothing is recorded.
    Keep,
}

/// Decides a label's move from its state, under the prompt's lock.
pub type LabelMutator<'a> = dyn Fn(LabelState) -> Result<LabelDecision> + Send + Sync + 'a;

/// Picks the version a subject gets from a label's target.
pub type VariantPicker<'a> = dyn Fn(&LabelTarget) -> u32 + Send + Sync + 'a;

/// Which version of a prompt to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector<'a> {
    /// The version a label names (not `latest`).
    Label(&'a str),
    /// A version by number.
    Version(u32),
    /// The newest version.
    Latest,
}

/// A version found by [`LabelStore::resolve`].
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedVersion {
    /// The prompt's slug.
    pub slug: Slug,
    /// The prompt's newest version number.
    pub newest: u32,
    /// The version picked.
    pub version: PromptVersion,
    /// Every label of the prompt (the service works out which name this version).
    pub labels: Vec<Label>,
}

/// What [`LabelStore::resolve`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The version.
    Found(Box<ResolvedVersion>),
    /// The user has no prompt with this slug.
    NoPrompt,
    /// The prompt has no such label.
    NoLabel,
    /// The prompt has no such version (the label's pick, or the number asked for).
    NoVersion(u32),
}

/// Labels, their history, and resolving a prompt at a label or version.
#[async_trait]
pub trait LabelStore: Send + Sync {
    /// The prompt's labels by name (`protected` left false: the service decides it). `Ok(None)`
    /// if there is no such prompt.
    async fn labels(&self, user: UserId, slug: &str) -> Result<Option<Vec<Label>>>;
    /// Locks the prompt, reads the label, calls `change`, and writes the label with a
    /// [`LabelMove`] by `actor` at `now`, atomically. `Ok(None)`: no such prompt;
    /// `Ok(Some(None))`: `change` kept the label as it was.
    async fn move_label(
        &self,
        user: UserId,
        slug: &str,
        label: &str,
        actor: &str,
        now: DateTime<Utc>,
        change: &LabelMutator<'_>,
    ) -> Result<Option<Option<LabelMove>>>;
    /// The moves of the prompt's labels (of `label` only, when given), newest first, with ids
    /// below `before`. `Ok(None)` if there is no such prompt.
    async fn label_moves(
        &self,
        user: UserId,
        slug: &str,
        label: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Option<Vec<LabelMove>>>;
    /// The version `selector` names; for a label, `pick` chooses among a split's variants.
    async fn resolve(
        &self,
        user: UserId,
        slug: &str,
        selector: Selector<'_>,
        pick: &VariantPicker<'_>,
    ) -> Result<Resolution>;
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

/// The change feed (see [`crate::change`]).
#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// The user's changes with `seq` above `after`, oldest first, at most `limit`, with the
    /// feed's head and oldest kept position.
    async fn changes(&self, user: UserId, after: i64, limit: u32) -> Result<ChangePage>;
    /// Deletes every user's changes recorded before `before`; returns how many. Numbers are
    /// never reused: a user's head stays where it was.
    async fn purge_changes(&self, before: DateTime<Utc>) -> Result<u64>;
    /// A listener that wakes when changes are committed, by this process or another one
    /// sharing the database.
    async fn listen_changes(&self) -> Result<Box<dyn ChangeListener>>;
    /// Forgets anything cached about the prompt (another process changed it). Backends cache
    /// nothing; [`crate::cache::CachedStore`] does.
    fn evict(&self, user: UserId, slug: &str) {
        let _ = (user, slug);
    }
    /// Forgets everything cached.
    fn evict_all(&self) {}
}

/// A change to a stored webhook, validated by the service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookUpdate {
    /// New URL.
    pub url: Option<String>,
    /// New event kinds.
    pub events: Option<Vec<crate::change::ChangeKind>>,
    /// New description.
    pub description: Option<String>,
    /// `Some(true)`: enable, clearing the failure count and reason, next attempt at `now`;
    /// `Some(false)`: disable (no reason: the owner did it).
    pub enabled: Option<bool>,
    /// The time of the change.
    pub now: DateTime<Utc>,
}

/// A webhook a delivery worker has claimed, until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueWebhook {
    /// The owner.
    pub user: UserId,
    /// The hook.
    pub webhook: Webhook,
    /// Its signing secret.
    pub secret: String,
    /// The claim, which [`WebhookStore::finish_webhook`] names.
    pub lease_until: DateTime<Utc>,
}

/// Where a delivery round left a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookProgress {
    /// The last change handled (never moves back).
    pub delivered_seq: i64,
    /// Failed attempts at the next change.
    pub failures: u32,
    /// When the hook is due next.
    pub next_attempt_at: DateTime<Utc>,
    /// Disables the hook with this reason.
    pub disable: Option<String>,
}

/// Webhooks, their delivery positions and their delivery log (see [`crate::webhook`]).
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new hook unless the user has `max_per_user` already (then `false`). Its
    /// `delivered_seq` is set to the user's change feed head at that moment: deliveries start
    /// with the next change.
    async fn insert_webhook(
        &self,
        user: UserId,
        hook: &Webhook,
        secret: &str,
        max_per_user: usize,
    ) -> Result<Option<Webhook>>;
    /// The user's hooks, oldest first.
    async fn webhooks(&self, user: UserId) -> Result<Vec<Webhook>>;
    /// Applies `update` to one hook; `None` when the user has no such hook.
    async fn update_webhook(
        &self,
        user: UserId,
        id: WebhookId,
        update: &WebhookUpdate,
    ) -> Result<Option<Webhook>>;
    /// Deletes a hook and its delivery log; `false` when the user has no such hook.
    async fn delete_webhook(&self, user: UserId, id: WebhookId) -> Result<bool>;
    /// The hook's newest delivery attempts first, at most `limit`; `None` when the user has
    /// no such hook.
    async fn webhook_deliveries(
        &self,
        user: UserId,
        id: WebhookId,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>>;
    /// Claims up to `limit` hooks of any user that are enabled, due at `now`, not claimed by
    /// another worker, and behind their owner's change feed, until `lease_until`. Concurrent
    /// callers (on any server) never claim the same hook.
    async fn claim_webhooks(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueWebhook>>;
    /// Records a claimed hook's progress and attempts, and releases the claim. Nothing is
    /// written when the claim is no longer held (it expired and another worker took the hook,
    /// or the hook was deleted); `delivered_seq` never moves back.
    async fn finish_webhook(
        &self,
        claim: &DueWebhook,
        progress: &WebhookProgress,
        attempts: &[Delivery],
    ) -> Result<bool>;
    /// Deletes every hook's delivery attempts made before `before`; returns how many.
    async fn purge_deliveries(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// A complete storage backend.
#[async_trait]
pub trait Store:
    UserStore
    + PromptStore
    + LabelStore
    + DraftStore
    + CandidateStore
    + PreferenceStore
    + ApiKeyStore
    + IdentityStore
    + SessionStore
    + MetaStore
    + ChangeStore
    + WebhookStore
    + fmt::Debug
{
    /// A short name for logs: `sqlite`, `postgres`.
    fn backend(&self) -> &'static str;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<()>;
}
