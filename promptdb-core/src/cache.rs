//! [`CachedStore`]: a read-through cache in front of any [`Store`], itself a [`Store`].
//!
//! It caches what the hot path reads most, a prompt by slug, and forgets an entry whenever a
//! write through it may have changed it. Writes that bypass it (another server on the same
//! database, the CLI on the same SQLite file) become visible when the entry expires, after the
//! configured time to live at most.
//!
//! A cached prompt also keeps its JSON serialization, made the first time it is asked for
//! ([`PromptStore::prompt_json`]), so serving it again copies no prompt and writes no JSON.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{
    ApiKey, ApiKeyId, Draft, DraftId, DraftSummary, Preferences, Prompt, PromptId, PromptSummary,
    PromptVersion, Result, SecretHash, Session, Store, TagCount, User, UserId,
    change::{ChangeListener, ChangePage},
    export::ExportedPrompt,
    harvest::{Candidate, CandidateId, CandidateStatus},
    ranking::SearchCandidate,
    release::{Label, LabelMove},
    search::{ListSpec, SearchSpec, SlugPageSpec},
    store::{
        ApiKeyStore, CandidateStore, CandidatesQueued, ChangeStore, DraftSaved, DraftStore,
        FolderCount, IdentityStore, Inserted, LabelMutator, LabelStore, MetaStore, PreferenceStore,
        PreferencesMutator, PromptMutator, PromptRecord, PromptStore, Ranked, Resolution, Scorer,
        Selector, SessionStore, StoredApiKey, UserStore, VariantPicker, VersionDeletion,
    },
    store::{DueWebhook, WebhookProgress, WebhookStore, WebhookUpdate},
    webhook::{Delivery, Webhook, WebhookId},
};

/// A [`Store`] that caches prompts read by slug.
pub struct CachedStore {
    inner: Arc<dyn Store>,
    prompts: moka::sync::Cache<String, Arc<Entry>>,
}

/// A cached prompt and, once asked for, its JSON.
struct Entry {
    prompt: Prompt,
    json: OnceLock<Arc<str>>,
}

impl Entry {
    fn new(prompt: Prompt) -> Arc<Self> {
        Arc::new(Self {
            prompt,
            json: OnceLock::new(),
        })
    }

    fn json(&self) -> Result<Arc<str>> {
        if let Some(json) = self.json.get() {
            return Ok(json.clone());
        }
        let json = serialize(&self.prompt)?;
        // Two first readers may both serialize; either result is the same text.
        Ok(self.json.get_or_init(|| json).clone())
    }
}

/// `prompt` as JSON, the way every frontend writes it.
pub(crate) fn serialize(prompt: &Prompt) -> Result<Arc<str>> {
    serde_json::to_string(prompt)
        .map(Arc::from)
        .map_err(crate::Error::backend)
}

impl std::fmt::Debug for CachedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStore")
            .field("inner", &self.inner)
            .field("entries", &self.prompts.entry_count())
            .finish()
    }
}

impl CachedStore {
    /// Caches up to `capacity` prompts of `inner` for `ttl` each.
    pub fn new(inner: Arc<dyn Store>, ttl: Duration, capacity: u64) -> Self {
        Self {
            inner,
            prompts: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
        }
    }

    fn key(user: UserId, slug: &str) -> String {
        let mut key = String::with_capacity(37 + slug.len());
        key.push_str(&user.to_string());
        key.push('/');
        key.push_str(slug);
        key
    }
}

#[async_trait]
impl UserStore for CachedStore {
    async fn insert_user(&self, user: &User) -> Result<()> {
        self.inner.insert_user(user).await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.inner.user(id).await
    }

    async fn delete_user(&self, id: UserId) -> Result<bool> {
        let deleted = self.inner.delete_user(id).await;
        self.prompts.invalidate_all();
        deleted
    }
}

#[async_trait]
impl PromptStore for CachedStore {
    async fn insert_prompts(&self, user: UserId, prompts: &[PromptRecord]) -> Result<Inserted> {
        self.inner.insert_prompts(user, prompts).await
    }

    async fn prompt(&self, user: UserId, slug: &str) -> Result<Option<Prompt>> {
        let key = Self::key(user, slug);
        if let Some(hit) = self.prompts.get(&key) {
            return Ok(Some(hit.prompt.clone()));
        }
        let found = self.inner.prompt(user, slug).await?;
        if let Some(p) = &found {
            self.prompts.insert(key, Entry::new(p.clone()));
        }
        Ok(found)
    }

    async fn prompt_json(&self, user: UserId, slug: &str) -> Result<Option<Arc<str>>> {
        let key = Self::key(user, slug);
        if let Some(hit) = self.prompts.get(&key) {
            return hit.json().map(Some);
        }
        let Some(found) = self.inner.prompt(user, slug).await? else {
            return Ok(None);
        };
        let entry = Entry::new(found);
        let json = entry.json()?;
        self.prompts.insert(key, entry);
        Ok(Some(json))
    }

    async fn modify_prompt(
        &self,
        user: UserId,
        slug: &str,
        change: &PromptMutator<'_>,
    ) -> Result<Option<Prompt>> {
        let result = self.inner.modify_prompt(user, slug, change).await;
        self.prompts.invalidate(&Self::key(user, slug));
        result
    }

    async fn delete_prompt(&self, user: UserId, slug: &str) -> Result<bool> {
        let result = self.inner.delete_prompt(user, slug).await;
        self.prompts.invalidate(&Self::key(user, slug));
        result
    }

    async fn list_prompts(
        &self,
        user: UserId,
        spec: &ListSpec,
    ) -> Result<Vec<Ranked<PromptSummary>>> {
        self.inner.list_prompts(user, spec).await
    }

    async fn search_prompts(
        &self,
        user: UserId,
        spec: &SearchSpec,
    ) -> Result<Vec<SearchCandidate>> {
        self.inner.search_prompts(user, spec).await
    }

    async fn prompt_summaries(&self, user: UserId, ids: &[PromptId]) -> Result<Vec<PromptSummary>> {
        self.inner.prompt_summaries(user, ids).await
    }

    async fn tags(&self, user: UserId) -> Result<Vec<TagCount>> {
        self.inner.tags(user).await
    }

    async fn versions(
        &self,
        user: UserId,
        slug: &str,
        before: Option<u32>,
        limit: u32,
    ) -> Result<Option<Vec<PromptVersion>>> {
        self.inner.versions(user, slug, before, limit).await
    }

    async fn version(
        &self,
        user: UserId,
        slug: &str,
        version: u32,
    ) -> Result<Option<PromptVersion>> {
        self.inner.version(user, slug, version).await
    }

    async fn export_prompts(
        &self,
        user: UserId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ExportedPrompt>> {
        self.inner.export_prompts(user, after, limit).await
    }

    async fn dependents(&self, user: UserId, slug: &str) -> Result<Vec<PromptSummary>> {
        self.inner.dependents(user, slug).await
    }

    async fn folders(&self, user: UserId) -> Result<Vec<FolderCount>> {
        self.inner.folders(user).await
    }

    async fn usage(&self, user: UserId, slug: Option<&str>) -> Result<crate::store::Usage> {
        self.inner.usage(user, slug).await
    }

    async fn page_by_slug(
        &self,
        user: UserId,
        spec: &SlugPageSpec,
    ) -> Result<(Vec<PromptSummary>, u64)> {
        self.inner.page_by_slug(user, spec).await
    }

    async fn delete_versions(
        &self,
        user: UserId,
        slug: &str,
        plan: &VersionDeletion,
    ) -> Result<Option<()>> {
        let done = self.inner.delete_versions(user, slug, plan).await;
        self.prompts.invalidate(&Self::key(user, slug));
        done
    }

    async fn rescore_all(&self, scorer: &Scorer<'_>) -> Result<u64> {
        // Scores are not part of a cached `Prompt`.
        self.inner.rescore_all(scorer).await
    }
}

// Labels are not part of a cached `Prompt`: their moves need no invalidation.
#[async_trait]
impl LabelStore for CachedStore {
    async fn labels(&self, user: UserId, slug: &str) -> Result<Option<Vec<Label>>> {
        self.inner.labels(user, slug).await
    }

    async fn move_label(
        &self,
        user: UserId,
        slug: &str,
        label: &str,
        actor: &str,
        now: DateTime<Utc>,
        change: &LabelMutator<'_>,
    ) -> Result<Option<Option<LabelMove>>> {
        self.inner
            .move_label(user, slug, label, actor, now, change)
            .await
    }

    async fn label_moves(
        &self,
        user: UserId,
        slug: &str,
        label: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Option<Vec<LabelMove>>> {
        self.inner
            .label_moves(user, slug, label, before, limit)
            .await
    }

    async fn resolve(
        &self,
        user: UserId,
        slug: &str,
        selector: Selector<'_>,
        pick: &VariantPicker<'_>,
    ) -> Result<Resolution> {
        self.inner.resolve(user, slug, selector, pick).await
    }
}

#[async_trait]
impl DraftStore for CachedStore {
    async fn save_draft(
        &self,
        user: UserId,
        draft: &Draft,
        max_live: usize,
        now: DateTime<Utc>,
    ) -> Result<DraftSaved> {
        self.inner.save_draft(user, draft, max_live, now).await
    }

    async fn draft(&self, user: UserId, id: DraftId, now: DateTime<Utc>) -> Result<Option<Draft>> {
        self.inner.draft(user, id, now).await
    }

    async fn drafts(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Draft>> {
        self.inner.drafts(user, now).await
    }

    async fn draft_summary(&self, user: UserId, now: DateTime<Utc>) -> Result<DraftSummary> {
        self.inner.draft_summary(user, now).await
    }

    async fn delete_draft(&self, user: UserId, id: DraftId) -> Result<bool> {
        self.inner.delete_draft(user, id).await
    }

    async fn purge_expired_drafts(&self, now: DateTime<Utc>) -> Result<u64> {
        self.inner.purge_expired_drafts(now).await
    }
}

#[async_trait]
impl ChangeStore for CachedStore {
    async fn changes(&self, user: UserId, after: i64, limit: u32) -> Result<ChangePage> {
        self.inner.changes(user, after, limit).await
    }

    async fn purge_changes(&self, before: DateTime<Utc>) -> Result<u64> {
        self.inner.purge_changes(before).await
    }

    async fn listen_changes(&self) -> Result<Box<dyn ChangeListener>> {
        self.inner.listen_changes().await
    }

    fn evict(&self, user: UserId, slug: &str) {
        self.prompts.invalidate(&Self::key(user, slug));
    }

    fn evict_all(&self) {
        self.prompts.invalidate_all();
    }
}

#[async_trait]
impl WebhookStore for CachedStore {
    async fn insert_webhook(
        &self,
        user: UserId,
        hook: &Webhook,
        secret: &str,
        max_per_user: usize,
    ) -> Result<Option<Webhook>> {
        self.inner
            .insert_webhook(user, hook, secret, max_per_user)
            .await
    }

    async fn webhooks(&self, user: UserId) -> Result<Vec<Webhook>> {
        self.inner.webhooks(user).await
    }

    async fn update_webhook(
        &self,
        user: UserId,
        id: WebhookId,
        update: &WebhookUpdate,
    ) -> Result<Option<Webhook>> {
        self.inner.update_webhook(user, id, update).await
    }

    async fn delete_webhook(&self, user: UserId, id: WebhookId) -> Result<bool> {
        self.inner.delete_webhook(user, id).await
    }

    async fn webhook_deliveries(
        &self,
        user: UserId,
        id: WebhookId,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>> {
        self.inner.webhook_deliveries(user, id, limit).await
    }

    async fn claim_webhooks(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueWebhook>> {
        self.inner.claim_webhooks(now, lease_until, limit).await
    }

    async fn finish_webhook(
        &self,
        claim: &DueWebhook,
        progress: &WebhookProgress,
        attempts: &[Delivery],
    ) -> Result<bool> {
        self.inner.finish_webhook(claim, progress, attempts).await
    }

    async fn purge_deliveries(&self, before: DateTime<Utc>) -> Result<u64> {
        self.inner.purge_deliveries(before).await
    }
}

#[async_trait]
impl CandidateStore for CachedStore {
    async fn queue_candidates(
        &self,
        user: UserId,
        candidates: &[Candidate],
        max_pending: usize,
        now: DateTime<Utc>,
    ) -> Result<CandidatesQueued> {
        self.inner
            .queue_candidates(user, candidates, max_pending, now)
            .await
    }

    async fn candidates(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Candidate>> {
        self.inner.candidates(user, now, offset, limit).await
    }

    async fn pending_candidates(&self, user: UserId, now: DateTime<Utc>) -> Result<u64> {
        self.inner.pending_candidates(user, now).await
    }

    async fn candidate(
        &self,
        user: UserId,
        id: CandidateId,
        now: DateTime<Utc>,
    ) -> Result<Option<Candidate>> {
        self.inner.candidate(user, id, now).await
    }

    async fn set_candidate_status(
        &self,
        user: UserId,
        id: CandidateId,
        from: CandidateStatus,
        to: CandidateStatus,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.inner
            .set_candidate_status(user, id, from, to, now)
            .await
    }

    async fn purge_expired_candidates(&self, now: DateTime<Utc>) -> Result<u64> {
        self.inner.purge_expired_candidates(now).await
    }
}

#[async_trait]
impl PreferenceStore for CachedStore {
    async fn preferences(&self, user: UserId) -> Result<Preferences> {
        self.inner.preferences(user).await
    }

    async fn update_preferences(
        &self,
        user: UserId,
        change: &PreferencesMutator<'_>,
        now: DateTime<Utc>,
    ) -> Result<Preferences> {
        self.inner.update_preferences(user, change, now).await
    }
}

#[async_trait]
impl ApiKeyStore for CachedStore {
    async fn insert_api_key(
        &self,
        user: UserId,
        key: &ApiKey,
        hash: &SecretHash,
        max_per_user: usize,
    ) -> Result<bool> {
        self.inner
            .insert_api_key(user, key, hash, max_per_user)
            .await
    }

    async fn api_key_by_hash(&self, hash: &SecretHash) -> Result<Option<StoredApiKey>> {
        self.inner.api_key_by_hash(hash).await
    }

    async fn api_keys(&self, user: UserId) -> Result<Vec<ApiKey>> {
        self.inner.api_keys(user).await
    }

    async fn delete_api_key(&self, user: UserId, id: ApiKeyId) -> Result<bool> {
        self.inner.delete_api_key(user, id).await
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<()> {
        self.inner.touch_api_key(id, at).await
    }
}

#[async_trait]
impl IdentityStore for CachedStore {
    async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<UserId>> {
        self.inner.user_by_identity(issuer, subject).await
    }

    async fn insert_user_with_identity(
        &self,
        user: &User,
        issuer: &str,
        subject: &str,
    ) -> Result<UserId> {
        self.inner
            .insert_user_with_identity(user, issuer, subject)
            .await
    }
}

#[async_trait]
impl SessionStore for CachedStore {
    async fn insert_session(&self, hash: &SecretHash, session: &Session) -> Result<()> {
        self.inner.insert_session(hash, session).await
    }

    async fn session_by_hash(&self, hash: &SecretHash) -> Result<Option<Session>> {
        self.inner.session_by_hash(hash).await
    }

    async fn refresh_session(
        &self,
        hash: &SecretHash,
        refresh_token: Option<&str>,
        refresh_due_at: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        self.inner
            .refresh_session(hash, refresh_token, refresh_due_at)
            .await
    }

    async fn delete_session(&self, hash: &SecretHash) -> Result<bool> {
        self.inner.delete_session(hash).await
    }

    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        self.inner.purge_expired_sessions(now).await
    }
}

#[async_trait]
impl MetaStore for CachedStore {
    async fn meta(&self, key: &str) -> Result<Option<String>> {
        self.inner.meta(key).await
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.inner.set_meta(key, value).await
    }
}

#[async_trait]
impl Store for CachedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }
}
