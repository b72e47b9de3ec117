//! [`PromptDb`]: the one entry point every frontend calls.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::instrument;

use crate::{
    ApiKey, ApiKeyId, Clock, CreatedApiKey, CreatedSession, Draft, DraftId, DraftSummary, Error,
    Export, MAX_API_KEYS_PER_USER, NewApiKey, NewPrompt, NewSession, Page, Preferences, Principal,
    Prompt, PromptPatch, PromptSummary, PromptUsage, PromptVersion, Result, SaveDraft, SecretHash,
    Session, Slug, SystemClock, TagCount, User, UserId, api_key,
    export::{EXPORT_FORMAT, EXPORT_VERSION},
    hash_secret, looks_like_api_key, looks_like_session_secret,
    page::{self, Cursor},
    prompt::{self, BodyInput, ChatMessage, PromptKind},
    prompt::{PromptBody, Variable},
    ranking::{self, RankingWeights},
    release::ResolveRequest,
    search::{self, ListQuery, ListSpec, SearchQuery},
    session,
    store::{DraftSaved, Inserted, PromptChange, PromptRecord, Store},
    template,
    validate::{self, MAX_BATCH, MAX_DISPLAY_NAME_CHARS, MAX_DRAFTS_PER_USER},
};

mod drafts;
mod harvest;
mod keys;
mod links;
mod preferences;
mod privacy;
mod prompts;
mod releases;
mod versions;
mod webhooks;

pub use harvest::{MAX_CANDIDATE_OFFSET, MAX_CANDIDATE_PAGE, MAX_PROPOSALS_PER_HARVEST};
pub use links::SIGN_IN_LINK_SECS;
pub use privacy::EXPORT_PAGE;

pub use versions::{NewVersion, VersionsToDelete};
pub use webhooks::{DeliveryReport, WebhookSender};
mod sessions;
mod users;

const RANKING_META_KEY: &str = "ranking_weights";

/// Service settings. `Default` is what the product ships with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Ranking weights.
    pub ranking: RankingWeights,
    /// How many of the most relevant matches a search returns across all its pages.
    pub search_candidates: usize,
    /// How many matches a search ranks at most (the most recently created ones); bounds the cost
    /// of broad queries.
    pub search_scan_limit: usize,
    /// How long a draft lives after its last save, in seconds.
    pub draft_ttl_secs: u64,
    /// Most live drafts per user.
    pub max_drafts_per_user: usize,
    /// Most prompts per user.
    pub max_prompts_per_user: u64,
    /// Most versions a prompt keeps (delete old ones to make room).
    pub max_versions_per_prompt: u64,
    /// Most bytes of text a user stores across every version of every prompt.
    pub max_stored_bytes_per_user: u64,
    /// Most harvest candidates waiting for a user's review.
    pub max_pending_candidates: usize,
    /// How long a verified API key is trusted without asking the store again, in seconds. A key
    /// revoked through another server stays usable on this one for at most this long. Browser
    /// sessions and identity mappings are cached as long.
    pub auth_cache_ttl_secs: u64,
    /// How long a browser session lasts after login, in seconds, however often it is refreshed.
    pub session_ttl_secs: u64,
    /// Labels whose moves need the release scope.
    pub protected_labels: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ranking: RankingWeights::default(),
            search_candidates: 200,
            search_scan_limit: 5_000,
            draft_ttl_secs: 24 * 60 * 60,
            max_drafts_per_user: MAX_DRAFTS_PER_USER,
            max_prompts_per_user: 100_000,
            max_versions_per_prompt: 5_000,
            max_stored_bytes_per_user: 1 << 30,
            max_pending_candidates: crate::harvest::MAX_PENDING_CANDIDATES,
            auth_cache_ttl_secs: 30,
            session_ttl_secs: 7 * 24 * 60 * 60,
            protected_labels: vec![crate::release::PRODUCTION.to_owned()],
        }
    }
}

impl Config {
    /// Checks every setting, naming the field at fault.
    pub fn validate(&self) -> Result<()> {
        self.ranking.validate()?;
        if !(1..=10_000).contains(&self.search_candidates) {
            return Err(Error::invalid(
                "search_candidates",
                "must be between 1 and 10000",
            ));
        }
        if !(self.search_candidates..=1_000_000).contains(&self.search_scan_limit) {
            return Err(Error::invalid(
                "search_scan_limit",
                "must be at least search_candidates and at most 1000000",
            ));
        }
        if !(60..=365 * 24 * 3600).contains(&self.draft_ttl_secs) {
            return Err(Error::invalid(
                "draft_ttl_secs",
                "must be between 60 seconds and a year",
            ));
        }
        if !(1..=100_000).contains(&self.max_pending_candidates) {
            return Err(Error::invalid(
                "max_pending_candidates",
                "must be between 1 and 100000",
            ));
        }
        if !(1..=10_000).contains(&self.max_drafts_per_user) {
            return Err(Error::invalid(
                "max_drafts_per_user",
                "must be between 1 and 10000",
            ));
        }
        for (name, value) in [
            ("max_prompts_per_user", self.max_prompts_per_user),
            ("max_versions_per_prompt", self.max_versions_per_prompt),
            ("max_stored_bytes_per_user", self.max_stored_bytes_per_user),
        ] {
            if value == 0 {
                return Err(Error::invalid(name, "must be at least 1"));
            }
        }
        for (i, label) in self.protected_labels.iter().enumerate() {
            validate::label(label)
                .map_err(|r| Error::invalid(format!("protected_labels[{i}]"), r))?;
        }
        if !(60..=366 * 24 * 60 * 60).contains(&self.session_ttl_secs) {
            return Err(Error::invalid(
                "session_ttl_secs",
                "must be between 60 seconds and a year",
            ));
        }
        Ok(())
    }
}

/// A rendered prompt.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedPrompt {
    /// The prompt rendered.
    pub slug: Slug,
    /// The version that was rendered.
    pub version: u32,
    /// The text with every placeholder filled.
    pub text: String,
}

/// What one [`PromptDb::sweep_expired`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Expired drafts deleted.
    pub drafts: u64,
    /// Ended browser sessions deleted.
    pub sessions: u64,
    /// Expired harvest candidates deleted.
    pub candidates: u64,
    /// Changes older than the feed keeps deleted.
    pub changes: u64,
    /// Webhook delivery attempts older than the log keeps deleted.
    pub deliveries: u64,
}

/// PromptDB as a library: validation, ranking, versioning and user scoping over a [`Store`].
///
/// Cheap to clone; clones share the store.
#[derive(Clone, Debug)]
pub struct PromptDb {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: Config,
    clock: Arc<dyn Clock>,
    /// Verified API keys by secret hash.
    auth_cache: moka::sync::Cache<SecretHash, Principal>,
    /// Live browser sessions by secret hash.
    session_cache: moka::sync::Cache<SecretHash, Session>,
    /// Users by the hash of their identity provider's issuer and subject.
    identity_cache: moka::sync::Cache<SecretHash, UserId>,
    /// Sign-in links already used (until they would have expired anyway).
    used_links: moka::sync::Cache<SecretHash, ()>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("store", &self.store)
            .field("config", &self.config)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn new(store: Arc<dyn Store>, config: Config, clock: Arc<dyn Clock>) -> Self {
        let ttl = std::time::Duration::from_secs(config.auth_cache_ttl_secs);
        Self {
            auth_cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
            session_cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
            identity_cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
            used_links: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(
                    links::SIGN_IN_LINK_SECS.unsigned_abs(),
                ))
                .build(),
            store,
            config,
            clock,
        }
    }
}

/// How often at most a key's `last_used_at` is written.
const KEY_TOUCH_INTERVAL_SECS: i64 = 60;
const LOCAL_USER_META_KEY: &str = "local_user_id";

fn require_read(p: &Principal) -> Result<()> {
    if p.can_read() {
        Ok(())
    } else {
        Err(Error::forbidden("this credential may not read"))
    }
}

fn require_write(p: &Principal) -> Result<()> {
    if p.can_write() {
        Ok(())
    } else {
        Err(Error::forbidden("this credential is read-only"))
    }
}

fn secs(n: u64) -> Duration {
    Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 1_000))
}

/// The cache key of an identity: a hash of issuer and subject, so that lookups allocate nothing.
fn identity_key(issuer: &str, subject: &str) -> SecretHash {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(issuer.as_bytes());
    h.update([0]);
    h.update(subject.as_bytes());
    h.finalize().into()
}

/// A display name from an identity provider's claims: one line, within the limit.
fn clean_display_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DISPLAY_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn parse_slug(slug: &str) -> Result<Slug> {
    Slug::parse("slug", slug)
}

fn prompt_not_found(slug: &str) -> Error {
    Error::not_found("prompt", slug)
}

impl PromptDb {
    /// A service over `store` with the default [`Config`] and the system clock.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            inner: Arc::new(Inner::new(store, Config::default(), Arc::new(SystemClock))),
        }
    }

    /// A service with the given settings. Call [`PromptDb::sync_ranking`] once after start-up
    /// when the ranking weights may have changed.
    pub fn with_config(store: Arc<dyn Store>, config: Config) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            inner: Arc::new(Inner::new(store, config, Arc::new(SystemClock))),
        })
    }

    /// The same service reading time from `clock` (tests use a manual clock).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner::new(
                self.inner.store.clone(),
                self.inner.config.clone(),
                clock,
            )),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The storage backend's name (`sqlite`, `postgres`).
    pub fn backend(&self) -> &'static str {
        self.inner.store.backend()
    }

    fn store(&self) -> &dyn Store {
        &*self.inner.store
    }

    fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    fn weights(&self) -> &RankingWeights {
        &self.inner.config.ranking
    }

    /// Checks that the store answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        self.store().ping().await
    }

    /// Deletes every user's expired drafts and ended sessions, once. Servers call it on a timer;
    /// the Lambda after a request when one is due. A failure is logged and counted as nothing
    /// removed: the next sweep tries again.
    #[instrument(level = "debug", skip_all)]
    pub async fn sweep_expired(&self) -> Swept {
        let now = self.now();
        let drafts = match self.store().purge_expired_drafts(now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "draft sweep failed");
                0
            }
        };
        let sessions = match self.store().purge_expired_sessions(now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "session sweep failed");
                0
            }
        };
        let candidates = match self.store().purge_expired_candidates(now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "candidate sweep failed");
                0
            }
        };
        let kept_from = now - chrono::Duration::days(crate::change::CHANGE_RETENTION_DAYS);
        let changes = match self.store().purge_changes(kept_from).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "change feed sweep failed");
                0
            }
        };
        let kept_from = now - chrono::Duration::days(crate::webhook::DELIVERY_RETENTION_DAYS);
        let deliveries = match self.store().purge_deliveries(kept_from).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "webhook delivery log sweep failed");
                0
            }
        };
        if drafts + sessions + candidates + changes + deliveries > 0 {
            tracing::info!(
                drafts,
                sessions,
                candidates,
                changes,
                deliveries,
                "expired drafts, sessions, candidates, changes and delivery attempts deleted"
            );
        }
        Swept {
            drafts,
            sessions,
            candidates,
            changes,
            deliveries,
        }
    }

    /// Recomputes stored ranking scores if they were computed with other weights than the
    /// configured ones. Returns whether it did. Every server sharing a database must use the same
    /// weights.
    #[instrument(level = "debug", skip_all)]
    pub async fn sync_ranking(&self) -> Result<bool> {
        let wanted = serde_json::to_string(self.weights()).map_err(Error::backend)?;
        if self.store().meta(RANKING_META_KEY).await?.as_deref() == Some(wanted.as_str()) {
            return Ok(false);
        }
        let weights = *self.weights();
        let rows = self.store().rescore_all(&move |f| weights.score(f)).await?;
        self.store().set_meta(RANKING_META_KEY, &wanted).await?;
        tracing::info!(rows, "ranking scores recomputed for new weights");
        Ok(true)
    }
}
