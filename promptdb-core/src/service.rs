//! [`PromptDb`]: the one entry point every frontend calls.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::instrument;

use crate::{
    ApiKey, ApiKeyId, Clock, CreatedApiKey, CreatedSession, Draft, DraftId, DraftSummary, Error,
    Export, MAX_API_KEYS_PER_USER, NewApiKey, NewPrompt, NewSession, Page, Preferences, Principal,
    Prompt, PromptPatch, PromptSummary, PromptUsage, PromptVersion, Result, SaveDraft, SecretHash,
    Session, Slug, SystemClock, TagCount, User, UserId, api_key,
    export::{EXPORT_FORMAT, EXPORT_VERSION, ExportedPrompt},
    hash_secret, looks_like_api_key, looks_like_session_secret,
    page::{self, Cursor},
    prompt::{PromptBody, Variable},
    ranking::{self, RankingWeights},
    search::{self, ListQuery, ListSpec, SearchQuery},
    session,
    store::{DraftSaved, Inserted, PromptChange, PromptRecord, Store},
    template,
    validate::{self, MAX_BATCH, MAX_DISPLAY_NAME_CHARS, MAX_DRAFTS_PER_USER},
};

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
    /// How long a verified API key is trusted without asking the store again, in seconds. A key
    /// revoked through another server stays usable on this one for at most this long. Browser
    /// sessions and identity mappings are cached as long.
    pub auth_cache_ttl_secs: u64,
    /// How long a browser session lasts after login, in seconds, however often it is refreshed.
    pub session_ttl_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ranking: RankingWeights::default(),
            search_candidates: 200,
            search_scan_limit: 5_000,
            draft_ttl_secs: 24 * 60 * 60,
            max_drafts_per_user: MAX_DRAFTS_PER_USER,
            auth_cache_ttl_secs: 30,
            session_ttl_secs: 7 * 24 * 60 * 60,
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
        if !(1..=10_000).contains(&self.max_drafts_per_user) {
            return Err(Error::invalid(
                "max_drafts_per_user",
                "must be between 1 and 10000",
            ));
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

    // ---- users ----------------------------------------------------------------------------

    /// Creates a user (a system operation: sign-up, first login, local mode).
    #[instrument(level = "debug", skip_all)]
    pub async fn create_user(&self, display_name: &str) -> Result<User> {
        let display_name = display_name.trim();
        validate::single_line(display_name, MAX_DISPLAY_NAME_CHARS, true)
            .map_err(|r| Error::invalid("display_name", r))?;
        let user = User {
            id: UserId::new(),
            display_name: display_name.to_owned(),
            created_at: self.now(),
        };
        self.store().insert_user(&user).await?;
        Ok(user)
    }

    /// The caller's user record.
    pub async fn me(&self, principal: &Principal) -> Result<User> {
        require_read(principal)?;
        let id = principal.user_id();
        self.store()
            .user(id)
            .await?
            .ok_or_else(|| Error::not_found("user", id))
    }

    /// The user of single-user local mode, created on first call together with an API key for
    /// it. The key's secret is returned only that first time: show it once.
    #[instrument(level = "debug", skip_all)]
    pub async fn local_user(&self) -> Result<(User, Option<CreatedApiKey>)> {
        if let Some(id) = self.store().meta(LOCAL_USER_META_KEY).await? {
            let id = UserId::parse("local_user_id", &id)?;
            if let Some(user) = self.store().user(id).await? {
                return Ok((user, None));
            }
        }
        let user = self.create_user("local").await?;
        let key = self
            .issue_api_key(user.id, NewApiKey::new("created on first start"))
            .await?;
        self.store()
            .set_meta(LOCAL_USER_META_KEY, &user.id.to_string())
            .await?;
        Ok((user, Some(key)))
    }

    // ---- identities and sessions ----------------------------------------------------------

    /// The user behind an identity provider's `subject` at `issuer`, created on first sight with
    /// `display_name` (trimmed to one line and the display-name limit). A system operation:
    /// call it only with a verified token's claims.
    #[instrument(level = "debug", skip_all)]
    pub async fn user_for_identity(
        &self,
        issuer: &str,
        subject: &str,
        display_name: &str,
    ) -> Result<UserId> {
        session::validate_identity(issuer, subject)?;
        let key = identity_key(issuer, subject);
        if let Some(id) = self.inner.identity_cache.get(&key) {
            return Ok(id);
        }
        let id = match self.store().user_by_identity(issuer, subject).await? {
            Some(id) => id,
            None => {
                let user = User {
                    id: UserId::new(),
                    display_name: clean_display_name(display_name),
                    created_at: self.now(),
                };
                let id = self
                    .store()
                    .insert_user_with_identity(&user, issuer, subject)
                    .await?;
                if id == user.id {
                    tracing::info!(user = %id, "user created on first sign-in");
                }
                id
            }
        };
        self.inner.identity_cache.insert(key, id);
        Ok(id)
    }

    /// Starts a browser session for `user` (a system operation: the end of a login). The
    /// secret, for the cookie, is in the result and nowhere else.
    #[instrument(level = "debug", skip_all)]
    pub async fn create_session(&self, user: UserId, input: NewSession) -> Result<CreatedSession> {
        session::validate_refresh_token(input.refresh_token.as_deref())?;
        let secret = session::generate_session_secret()?;
        let now = self.now();
        let session = Session {
            user_id: user,
            csrf_token: session::generate_csrf_token()?,
            created_at: now,
            expires_at: now + secs(self.inner.config.session_ttl_secs),
            refresh_token: input.refresh_token,
            refresh_due_at: input.refresh_due_at,
        };
        let hash = session::session_hash(&secret);
        self.store().insert_session(&hash, &session).await?;
        self.inner.session_cache.insert(hash, session.clone());
        Ok(CreatedSession { secret, session })
    }

    /// The live session behind a cookie secret. Fails with [`Error::Unauthorized`] for anything
    /// else, expired sessions included.
    #[instrument(level = "debug", skip_all)]
    pub async fn session(&self, secret: &str) -> Result<Session> {
        if !looks_like_session_secret(secret) {
            return Err(Error::Unauthorized);
        }
        let hash = session::session_hash(secret);
        let session = match self.inner.session_cache.get(&hash) {
            Some(s) => s,
            None => {
                let s = self
                    .store()
                    .session_by_hash(&hash)
                    .await?
                    .ok_or(Error::Unauthorized)?;
                self.inner.session_cache.insert(hash, s.clone());
                s
            }
        };
        if session.expires_at <= self.now() {
            self.inner.session_cache.invalidate(&hash);
            return Err(Error::Unauthorized);
        }
        Ok(session)
    }

    /// Records that the identity provider confirmed the login again: a new refresh token when it
    /// rotated the old one, and the new due time. Returns the updated session.
    #[instrument(level = "debug", skip_all)]
    pub async fn refresh_session(
        &self,
        secret: &str,
        refresh_token: Option<String>,
        refresh_due_at: Option<DateTime<Utc>>,
    ) -> Result<Session> {
        session::validate_refresh_token(refresh_token.as_deref())?;
        let mut current = self.session(secret).await?;
        let hash = session::session_hash(secret);
        if !self
            .store()
            .refresh_session(&hash, refresh_token.as_deref(), refresh_due_at)
            .await?
        {
            self.inner.session_cache.invalidate(&hash);
            return Err(Error::Unauthorized);
        }
        if refresh_token.is_some() {
            current.refresh_token = refresh_token;
        }
        current.refresh_due_at = refresh_due_at;
        self.inner.session_cache.insert(hash, current.clone());
        Ok(current)
    }

    /// Ends a session (logout, or the provider refused to refresh it). Ending an unknown or
    /// already ended session is not an error.
    #[instrument(level = "debug", skip_all)]
    pub async fn end_session(&self, secret: &str) -> Result<()> {
        if !looks_like_session_secret(secret) {
            return Ok(());
        }
        let hash = session::session_hash(secret);
        self.inner.session_cache.invalidate(&hash);
        self.store().delete_session(&hash).await?;
        Ok(())
    }

    /// Deletes every session that has ended; returns how many (the background sweeper).
    #[instrument(level = "debug", skip_all)]
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        self.store().purge_expired_sessions(self.now()).await
    }

    // ---- API keys -------------------------------------------------------------------------

    /// Creates an API key for the caller. Its secret is in the result and nowhere else.
    #[instrument(level = "debug", skip_all)]
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        input: NewApiKey,
    ) -> Result<CreatedApiKey> {
        require_write(principal)?;
        self.issue_api_key(principal.user_id(), input).await
    }

    /// Creates an API key for `user` (a system operation: local mode, administration).
    #[instrument(level = "debug", skip_all)]
    pub async fn issue_api_key(&self, user: UserId, input: NewApiKey) -> Result<CreatedApiKey> {
        let (name, scopes) = api_key::validate_new(&input)?;
        let secret = api_key::generate_secret()?;
        let key = ApiKey {
            id: ApiKeyId::new(),
            name,
            prefix: api_key::shown_prefix(&secret),
            scopes,
            created_at: self.now(),
            last_used_at: None,
        };
        let hash = hash_secret(&secret);
        if !self
            .store()
            .insert_api_key(user, &key, &hash, MAX_API_KEYS_PER_USER)
            .await?
        {
            return Err(Error::invalid(
                "api_keys",
                format!("you have {MAX_API_KEYS_PER_USER} API keys already; revoke some first"),
            ));
        }
        Ok(CreatedApiKey { key, secret })
    }

    /// The caller's API keys, newest first (without secrets).
    #[instrument(level = "debug", skip_all)]
    pub async fn list_api_keys(&self, principal: &Principal) -> Result<Vec<ApiKey>> {
        require_read(principal)?;
        self.store().api_keys(principal.user_id()).await
    }

    /// Revokes one of the caller's API keys; it stops working at once on this server.
    #[instrument(level = "debug", skip_all)]
    pub async fn revoke_api_key(&self, principal: &Principal, id: ApiKeyId) -> Result<()> {
        require_write(principal)?;
        if !self.store().delete_api_key(principal.user_id(), id).await? {
            return Err(Error::not_found("api key", id));
        }
        // Revocation is rare; forgetting every cached key is simpler than indexing by id.
        self.inner.auth_cache.invalidate_all();
        Ok(())
    }

    /// The principal an API key secret stands for. Fails with [`Error::Unauthorized`] for
    /// anything but a live key; the stored hash is compared in constant time.
    #[instrument(level = "debug", skip_all)]
    pub async fn authenticate_api_key(&self, secret: &str) -> Result<Principal> {
        if !looks_like_api_key(secret) {
            return Err(Error::Unauthorized);
        }
        let hash = hash_secret(secret);
        if let Some(principal) = self.inner.auth_cache.get(&hash) {
            return Ok(principal);
        }
        let Some(stored) = self.store().api_key_by_hash(&hash).await? else {
            return Err(Error::Unauthorized);
        };
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&stored.hash[..], &hash[..])) {
            return Err(Error::Unauthorized);
        }
        let now = self.now();
        let stale = stored
            .key
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() >= KEY_TOUCH_INTERVAL_SECS);
        if stale && let Err(e) = self.store().touch_api_key(stored.key.id, now).await {
            // Bookkeeping only: a failed touch must not fail the request.
            tracing::warn!(error = %e, "could not record API key use");
        }
        let principal = Principal::new(stored.user_id, &stored.key.scopes);
        self.inner.auth_cache.insert(hash, principal.clone());
        Ok(principal)
    }

    // ---- prompts --------------------------------------------------------------------------

    /// Saves new prompts: all of them, or — if any is invalid or its slug is taken — none.
    #[instrument(level = "debug", skip_all, fields(count = prompts.len()))]
    pub async fn save_prompts(
        &self,
        principal: &Principal,
        prompts: Vec<NewPrompt>,
    ) -> Result<Vec<Prompt>> {
        require_write(principal)?;
        if prompts.is_empty() {
            return Err(Error::invalid("prompts", "give at least one prompt"));
        }
        if prompts.len() > MAX_BATCH {
            return Err(Error::invalid(
                "prompts",
                format!(
                    "at most {MAX_BATCH} prompts per batch (got {})",
                    prompts.len()
                ),
            ));
        }
        let now = self.now();
        let mut records: Vec<PromptRecord> = Vec::with_capacity(prompts.len());
        for (i, p) in prompts.into_iter().enumerate() {
            let at = format!("prompts[{i}]");
            let body = PromptBody::build(&p.name, &p.description, p.content, &p.tags, p.variables)
                .map_err(|e| e.within(&at))?;
            let slug = match p.slug.as_deref() {
                Some(s) => Slug::parse("slug", s),
                None => Slug::derive_from(&p.name).ok_or_else(|| {
                    Error::invalid(
                        "slug",
                        "cannot derive a slug from this name (it has no ASCII letters or digits); give one",
                    )
                }),
            }
            .map_err(|e| e.within(&at))?;
            if let Some(j) = records.iter().position(|r| r.prompt.slug == slug) {
                return Err(Error::conflict(
                    format!("{at}.slug"),
                    format!("`{slug}` is used twice in this batch (also prompts[{j}])"),
                ));
            }
            let prompt = Prompt {
                id: crate::PromptId::new(),
                slug,
                name: body.name,
                description: body.description,
                content: body.content,
                tags: body.tags,
                variables: body.variables,
                pinned: p.pinned,
                favorite: p.favorite,
                usage_count: 0,
                last_used_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            let score = self.weights().score_prompt(&prompt);
            records.push(PromptRecord { prompt, score });
        }
        match self
            .store()
            .insert_prompts(principal.user_id(), &records)
            .await?
        {
            Inserted::All => Ok(records.into_iter().map(|r| r.prompt).collect()),
            Inserted::SlugTaken { index } => Err(Error::conflict(
                format!("prompts[{index}].slug"),
                format!(
                    "you already have a prompt with slug `{}`; update it instead, or pick another slug",
                    records[index].prompt.slug
                ),
            )),
        }
    }

    /// A prompt by slug.
    #[instrument(level = "debug", skip_all)]
    pub async fn get_prompt(&self, principal: &Principal, slug: &str) -> Result<Prompt> {
        require_read(principal)?;
        parse_slug(slug)?;
        self.store()
            .prompt(principal.user_id(), slug)
            .await?
            .ok_or_else(|| prompt_not_found(slug))
    }

    /// Prompts in ranked order: pinned first, then by score. Paginated with a stable cursor.
    #[instrument(level = "debug", skip_all)]
    pub async fn list_prompts(
        &self,
        principal: &Principal,
        query: ListQuery,
    ) -> Result<Page<PromptSummary>> {
        require_read(principal)?;
        let limit = page::limit(query.limit)?;
        let filters = query.filters.normalized()?;
        let after = query
            .cursor
            .as_deref()
            .map(|c| Cursor::decode(c).and_then(Cursor::into_list))
            .transpose()?;
        let spec = ListSpec {
            filters,
            after,
            limit: limit + 1,
        };
        let mut rows = self
            .store()
            .list_prompts(principal.user_id(), &spec)
            .await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|last| {
                Cursor::List(search::ListPosition {
                    pinned: last.item.pinned,
                    score: last.score,
                    slug: last.item.slug.as_str().to_owned(),
                })
                .encode()
            })
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|r| r.item).collect(),
            next_cursor,
        })
    }

    /// Searches by words and tags; relevance blended with the ranking score.
    #[instrument(level = "debug", skip_all)]
    pub async fn search_prompts(
        &self,
        principal: &Principal,
        query: SearchQuery,
    ) -> Result<Page<PromptSummary>> {
        require_read(principal)?;
        let limit = page::limit(query.limit)? as usize;
        let config = &self.inner.config;
        let (spec, offset) =
            search::parse(query, config.search_candidates, config.search_scan_limit)?;
        let cap = config.search_candidates;
        if offset > cap {
            return Err(Error::invalid("cursor", "past the end of the results"));
        }
        let user = principal.user_id();
        let mut candidates = self.store().search_prompts(user, &spec).await?;
        ranking::blend(self.weights(), &mut candidates);
        let end = (offset + limit).min(candidates.len());
        let page = candidates.get(offset..end).unwrap_or_default();
        let ids: Vec<_> = page.iter().map(|c| c.id).collect();
        let mut summaries = self.store().prompt_summaries(user, &ids).await?;
        // Restore the blended order; a row deleted in between simply drops out.
        summaries.sort_by_key(|s| ids.iter().position(|id| *id == s.id));
        let next_cursor = (end < candidates.len()).then(|| Cursor::Search { offset: end }.encode());
        Ok(Page {
            items: summaries,
            next_cursor,
        })
    }

    /// Changes some fields of a prompt. A change to the name, description, content, tags or
    /// variables writes a new immutable version; pinning and favouriting do not. A patch that
    /// changes nothing writes nothing.
    ///
    /// When the content changes and `variables` is not in the patch, declared variables that the
    /// new content no longer uses are dropped unless they carry a description, a default, or
    /// are optional.
    #[instrument(level = "debug", skip_all)]
    pub async fn update_prompt(
        &self,
        principal: &Principal,
        slug: &str,
        patch: PromptPatch,
    ) -> Result<Prompt> {
        require_write(principal)?;
        parse_slug(slug)?;
        if patch.is_empty() {
            return Err(Error::invalid("patch", "give at least one field to change"));
        }
        let now = self.now();
        let weights = *self.weights();
        let apply = move |current: Prompt| -> Result<Option<PromptChange>> {
            let content_changed = patch
                .content
                .as_ref()
                .is_some_and(|c| *c != current.content);
            let variables = match &patch.variables {
                Some(v) => v.clone(),
                None if content_changed => {
                    let new_content = patch.content.as_deref().unwrap_or_default();
                    let used = template::placeholders(new_content);
                    current
                        .variables
                        .iter()
                        .filter(|v| {
                            used.contains(&v.name.as_str())
                                || !v.description.is_empty()
                                || v.default.is_some()
                                || !v.required
                        })
                        .cloned()
                        .collect::<Vec<Variable>>()
                }
                None => current.variables.clone(),
            };
            let body = PromptBody::build(
                patch.name.as_deref().unwrap_or(&current.name),
                patch.description.as_deref().unwrap_or(&current.description),
                patch
                    .content
                    .clone()
                    .unwrap_or_else(|| current.content.clone()),
                patch.tags.as_deref().unwrap_or(&current.tags),
                variables,
            )?;
            let pinned = patch.pinned.unwrap_or(current.pinned);
            let favorite = patch.favorite.unwrap_or(current.favorite);
            let new_version = body.name != current.name
                || body.description != current.description
                || body.content != current.content
                || body.tags != current.tags
                || body.variables != current.variables;
            if !new_version && pinned == current.pinned && favorite == current.favorite {
                return Ok(None);
            }
            let prompt = Prompt {
                name: body.name,
                description: body.description,
                content: body.content,
                tags: body.tags,
                variables: body.variables,
                pinned,
                favorite,
                updated_at: now,
                version: current.version + u32::from(new_version),
                ..current
            };
            let score = weights.score_prompt(&prompt);
            Ok(Some(PromptChange {
                prompt,
                score,
                new_version,
            }))
        };
        self.store()
            .modify_prompt(principal.user_id(), slug, &apply)
            .await?
            .ok_or_else(|| prompt_not_found(slug))
    }

    /// Deletes a prompt and its history.
    #[instrument(level = "debug", skip_all)]
    pub async fn delete_prompt(&self, principal: &Principal, slug: &str) -> Result<()> {
        require_write(principal)?;
        parse_slug(slug)?;
        if self
            .store()
            .delete_prompt(principal.user_id(), slug)
            .await?
        {
            Ok(())
        } else {
            Err(prompt_not_found(slug))
        }
    }

    /// The caller's tags with counts, most used first.
    #[instrument(level = "debug", skip_all)]
    pub async fn list_tags(&self, principal: &Principal) -> Result<Vec<TagCount>> {
        require_read(principal)?;
        self.store().tags(principal.user_id()).await
    }

    /// Records that a prompt was used: raises its use count and recency.
    #[instrument(level = "debug", skip_all)]
    pub async fn track_prompt_use(&self, principal: &Principal, slug: &str) -> Result<PromptUsage> {
        require_write(principal)?;
        parse_slug(slug)?;
        let now = self.now();
        let weights = *self.weights();
        let apply = move |current: Prompt| -> Result<Option<PromptChange>> {
            let prompt = Prompt {
                usage_count: current.usage_count + 1,
                last_used_at: Some(now),
                ..current
            };
            let score = weights.score_prompt(&prompt);
            Ok(Some(PromptChange {
                prompt,
                score,
                new_version: false,
            }))
        };
        let prompt = self
            .store()
            .modify_prompt(principal.user_id(), slug, &apply)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?;
        Ok(PromptUsage {
            slug: prompt.slug,
            usage_count: prompt.usage_count,
            last_used_at: now,
        })
    }

    /// A prompt's versions, newest first.
    #[instrument(level = "debug", skip_all)]
    pub async fn prompt_versions(
        &self,
        principal: &Principal,
        slug: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<PromptVersion>> {
        require_read(principal)?;
        parse_slug(slug)?;
        let limit = page::limit(limit)?;
        let before = cursor
            .map(|c| Cursor::decode(c).and_then(Cursor::into_versions))
            .transpose()?;
        let mut versions = self
            .store()
            .versions(principal.user_id(), slug, before, limit + 1)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?;
        let next_cursor = if versions.len() > limit as usize {
            versions.truncate(limit as usize);
            versions
                .last()
                .map(|v| Cursor::Versions { before: v.version }.encode())
        } else {
            None
        };
        Ok(Page {
            items: versions,
            next_cursor,
        })
    }

    /// One version of a prompt.
    #[instrument(level = "debug", skip_all)]
    pub async fn prompt_version(
        &self,
        principal: &Principal,
        slug: &str,
        version: u32,
    ) -> Result<PromptVersion> {
        require_read(principal)?;
        parse_slug(slug)?;
        if version == 0 {
            return Err(Error::invalid("version", "versions start at 1"));
        }
        self.store()
            .version(principal.user_id(), slug, version)
            .await?
            .ok_or_else(|| Error::not_found("version", format!("{slug}@{version}")))
    }

    /// Renders a prompt's current version with `values` for its variables (strictly: see
    /// [`template`]).
    #[instrument(level = "debug", skip_all)]
    pub async fn render_prompt(
        &self,
        principal: &Principal,
        slug: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<RenderedPrompt> {
        let prompt = self.get_prompt(principal, slug).await?;
        let text = template::render(&prompt.content, &prompt.variables, values)?;
        Ok(RenderedPrompt {
            slug: prompt.slug,
            version: prompt.version,
            text,
        })
    }

    // ---- drafts ---------------------------------------------------------------------------

    /// Creates or updates a draft; either way it expires 24 hours (the configured TTL) from now.
    #[instrument(level = "debug", skip_all)]
    pub async fn save_draft(&self, principal: &Principal, input: SaveDraft) -> Result<Draft> {
        require_write(principal)?;
        let prompt_slug = input
            .prompt_slug
            .as_deref()
            .map(|s| Slug::parse("prompt_slug", s))
            .transpose()?;
        let fields = input.fields.validated()?;
        let now = self.now();
        let draft = Draft {
            id: input.id.unwrap_or_default(),
            prompt_slug,
            fields,
            created_at: now,
            updated_at: now,
            expires_at: now + self.draft_ttl(),
        };
        let max = self.inner.config.max_drafts_per_user;
        match self
            .store()
            .save_draft(principal.user_id(), &draft, max, now)
            .await?
        {
            DraftSaved::Saved(d) => Ok(*d),
            DraftSaved::TooMany => Err(Error::invalid(
                "drafts",
                format!("you have {max} drafts already; save or discard some first"),
            )),
            DraftSaved::NotOwned => Err(Error::not_found("draft", draft.id)),
        }
    }

    fn draft_ttl(&self) -> Duration {
        Duration::seconds(i64::try_from(self.inner.config.draft_ttl_secs).unwrap_or(i64::MAX))
    }

    /// A live draft.
    #[instrument(level = "debug", skip_all)]
    pub async fn get_draft(&self, principal: &Principal, id: DraftId) -> Result<Draft> {
        require_read(principal)?;
        self.store()
            .draft(principal.user_id(), id, self.now())
            .await?
            .ok_or_else(|| Error::not_found("draft", id))
    }

    /// Live drafts, most recently saved first.
    #[instrument(level = "debug", skip_all)]
    pub async fn list_drafts(&self, principal: &Principal) -> Result<Vec<Draft>> {
        require_read(principal)?;
        self.store().drafts(principal.user_id(), self.now()).await
    }

    /// How many live drafts there are and when the next expires.
    #[instrument(level = "debug", skip_all)]
    pub async fn draft_summary(&self, principal: &Principal) -> Result<DraftSummary> {
        require_read(principal)?;
        self.store()
            .draft_summary(principal.user_id(), self.now())
            .await
    }

    /// Discards a draft.
    #[instrument(level = "debug", skip_all)]
    pub async fn delete_draft(&self, principal: &Principal, id: DraftId) -> Result<()> {
        require_write(principal)?;
        if self.store().delete_draft(principal.user_id(), id).await? {
            Ok(())
        } else {
            Err(Error::not_found("draft", id))
        }
    }

    /// Deletes expired drafts of every user (the background sweeper calls this).
    #[instrument(level = "debug", skip_all)]
    pub async fn purge_expired_drafts(&self) -> Result<u64> {
        self.store().purge_expired_drafts(self.now()).await
    }

    // ---- preferences ----------------------------------------------------------------------

    /// The caller's preferences.
    #[instrument(level = "debug", skip_all)]
    pub async fn preferences(&self, principal: &Principal) -> Result<Preferences> {
        require_read(principal)?;
        self.store().preferences(principal.user_id()).await
    }

    /// Merges `patch` into the caller's preferences; a `null` value removes a key.
    #[instrument(level = "debug", skip_all)]
    pub async fn set_preferences(
        &self,
        principal: &Principal,
        patch: Map<String, Value>,
    ) -> Result<Preferences> {
        require_write(principal)?;
        let now = self.now();
        let apply = move |current: Preferences| current.merged(patch.clone());
        self.store()
            .update_preferences(principal.user_id(), &apply, now)
            .await
    }

    /// Replaces the caller's preferences with `prefs` entirely.
    #[instrument(level = "debug", skip_all)]
    pub async fn replace_preferences(
        &self,
        principal: &Principal,
        prefs: Map<String, Value>,
    ) -> Result<Preferences> {
        require_write(principal)?;
        let now = self.now();
        let apply = move |_: Preferences| Preferences::default().merged(prefs.clone());
        self.store()
            .update_preferences(principal.user_id(), &apply, now)
            .await
    }

    // ---- privacy --------------------------------------------------------------------------

    /// Everything the caller owns, as one document.
    #[instrument(level = "debug", skip_all)]
    pub async fn export_user(&self, principal: &Principal) -> Result<Export> {
        let user = self.me(principal).await?;
        let id = principal.user_id();
        let now = self.now();
        let prompts = self
            .store()
            .export_prompts(id)
            .await?
            .into_iter()
            .map(|(prompt, versions)| ExportedPrompt { prompt, versions })
            .collect();
        Ok(Export {
            format: EXPORT_FORMAT.to_owned(),
            version: EXPORT_VERSION,
            exported_at: now,
            user,
            prompts,
            drafts: self.store().drafts(id, now).await?,
            preferences: self.store().preferences(id).await?,
        })
    }

    /// Deletes the caller and everything the caller owns.
    #[instrument(level = "debug", skip_all)]
    pub async fn delete_user(&self, principal: &Principal) -> Result<()> {
        require_write(principal)?;
        let id = principal.user_id();
        if self.store().delete_user(id).await? {
            self.inner.auth_cache.invalidate_all();
            self.inner.session_cache.invalidate_all();
            self.inner.identity_cache.invalidate_all();
            Ok(())
        } else {
            Err(Error::not_found("user", id))
        }
    }
}
