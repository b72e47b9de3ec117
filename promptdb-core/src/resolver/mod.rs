//! The embeddable resolver: an application's cache of released prompts (feature `resolver`).
//!
//! A [`Resolver`] answers "the prompt `slug` at label `production` for subject `u-42`" from
//! memory, and asks its [`PromptSource`] (an in-process [`PromptDb`] through [`Local`], or a
//! PromptDB server through `promptdb_http::client::RemoteSource`) only when it must:
//!
//! - **Fresh** for [`ResolverConfig::fresh`] (60 s): served from memory.
//! - **Stale** for [`ResolverConfig::stale`] more (1 h): still served at once, while one
//!   background refresh per prompt runs (at most [`ResolverConfig::max_refreshes`] at a time).
//! - **Older, or missing**: fetched before answering; concurrent misses of one prompt share one
//!   fetch. When the source fails, an old entry is served anyway, then the application's
//!   fallback for the slug ([`Resolver::set_fallback`]), and only then the error.
//! - A **circuit breaker** stops calling a failing source ([`BreakerConfig`]): calls fail fast
//!   (and stale entries are served) until a probe succeeds.
//! - A **snapshot** ([`Resolver::load_snapshot`], [`read_snapshot`]) fills the cache at start, so
//!   an application serves its prompts with the server unreachable.
//!
//! A/B splits are assigned here by [`crate::release::assign`], the function the server uses, so
//! a subject gets the same version from the cache as from the server. Rendering is the server's
//! strict rendering ([`Resolved::render`]). A split on a prompt that this one *includes* is
//! picked when the release is fetched, not per subject.
//!
//! ```no_run
//! # async fn demo(db: promptdb_core::PromptDb, me: promptdb_core::Principal) -> promptdb_core::Result<()> {
//! use promptdb_core::resolver::{At, Local, Resolver};
//!
//! let resolver = Resolver::new(Local::new(db, me));
//! let prompt = resolver.get("support/triage", At::Label("production"), Some("user-42")).await?;
//! println!("version {}: {}", prompt.version, prompt.content);
//! # Ok(()) }
//! ```

mod breaker;

pub use breaker::{BreakerConfig, BreakerState};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{OnceCell, Semaphore};

use crate::change::{Change, MAX_CHANGE_PAGE};
use crate::release::{LATEST, PRODUCTION, Release, Snapshot, assign};
use crate::{Error, LabelTarget, Principal, PromptDb, Rendered, Resolved, Result};

use breaker::Breaker;

/// Which release of a prompt: at a label (`latest` included) or at a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum At<'a> {
    /// The version (or split) a label names.
    Label(&'a str),
    /// One version.
    Version(u32),
}

impl At<'static> {
    /// The `production` label: what applications serve by default.
    pub const PRODUCTION: Self = At::Label(PRODUCTION);
    /// The newest version.
    pub const LATEST: Self = At::Label(LATEST);
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum OwnedAt {
    Label(Box<str>),
    Version(u32),
}

impl OwnedAt {
    fn of(at: At<'_>) -> Self {
        match at {
            At::Label(l) => Self::Label(l.into()),
            At::Version(v) => Self::Version(v),
        }
    }

    fn borrow(&self) -> At<'_> {
        match self {
            Self::Label(l) => At::Label(l),
            Self::Version(v) => At::Version(*v),
        }
    }
}

/// Where a [`Resolver`] gets releases.
#[async_trait]
pub trait PromptSource: Send + Sync + 'static {
    /// The prompt's release at `at`: the target and every version it names.
    async fn release(&self, slug: &str, at: At<'_>) -> Result<Release>;
    /// Every prompt at `label`, as one snapshot.
    async fn snapshot(&self, label: &str) -> Result<Snapshot>;
    /// The source's change feed after `after` (`None`: from now on), if it has one.
    async fn follow(&self, after: Option<i64>) -> Result<Option<Box<dyn ChangeFeed>>> {
        let _ = after;
        Ok(None)
    }
}

/// One event of a source's change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// Following from now on; the feed's head.
    Ready(i64),
    /// A change.
    Change(Change),
    /// The position asked for is no longer held: everything may have changed; the feed goes
    /// on from this head.
    Reset(i64),
}

/// A source's change feed, as [`Resolver::follow`] reads it.
#[async_trait]
pub trait ChangeFeed: Send {
    /// The next event; `Ok(None)` when the feed ended (the resolver reconnects).
    async fn next(&mut self) -> Result<Option<FeedEvent>>;
}

/// A source in the same process: a [`PromptDb`] and the principal to read as.
#[derive(Debug, Clone)]
pub struct Local {
    db: PromptDb,
    principal: Principal,
}

impl Local {
    /// Reads `db` as `principal`.
    pub fn new(db: PromptDb, principal: Principal) -> Self {
        Self { db, principal }
    }
}

#[async_trait]
impl PromptSource for Local {
    async fn release(&self, slug: &str, at: At<'_>) -> Result<Release> {
        match at {
            At::Label(l) => self.db.release(&self.principal, slug, Some(l), None).await,
            At::Version(v) => self.db.release(&self.principal, slug, None, Some(v)).await,
        }
    }

    async fn snapshot(&self, label: &str) -> Result<Snapshot> {
        self.db.snapshot(&self.principal, label, None).await
    }

    async fn follow(&self, after: Option<i64>) -> Result<Option<Box<dyn ChangeFeed>>> {
        // Listen first: a change committed between the first read and the wait wakes it.
        let listener = self.db.listen_changes().await?;
        let first = self
            .db
            .changes(&self.principal, after.unwrap_or(0), MAX_CHANGE_PAGE)
            .await?;
        let mut pending = std::collections::VecDeque::new();
        let cursor = match after {
            None => {
                pending.push_back(FeedEvent::Ready(first.head));
                first.head
            }
            Some(a) if first.is_gap(a) => {
                pending.push_back(FeedEvent::Reset(first.head));
                first.head
            }
            Some(a) => {
                let last = first.changes.last().map_or(a, |c| c.seq);
                pending.extend(first.changes.into_iter().map(FeedEvent::Change));
                last
            }
        };
        Ok(Some(Box::new(LocalFeed {
            source: self.clone(),
            listener,
            cursor,
            pending,
        })))
    }
}

/// [`Local`]'s feed: the store's listener wakes it; it reads the feed from the store.
struct LocalFeed {
    source: Local,
    listener: Box<dyn crate::change::ChangeListener>,
    cursor: i64,
    pending: std::collections::VecDeque<FeedEvent>,
}

#[async_trait]
impl ChangeFeed for LocalFeed {
    async fn next(&mut self) -> Result<Option<FeedEvent>> {
        let me = self.source.principal.user_id();
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Ok(Some(e));
            }
            let page = self
                .source
                .db
                .changes(&self.source.principal, self.cursor, MAX_CHANGE_PAGE)
                .await?;
            if page.is_gap(self.cursor) {
                self.cursor = page.head;
                return Ok(Some(FeedEvent::Reset(page.head)));
            }
            if let Some(last) = page.changes.last() {
                self.cursor = last.seq;
                self.pending
                    .extend(page.changes.into_iter().map(FeedEvent::Change));
                continue;
            }
            // Until a change of this user (or a gap in listening), or a few seconds.
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                loop {
                    match self.listener.next().await {
                        Ok(Some(c)) if c.user != me => {}
                        Ok(_) => return Ok(()),
                        Err(e) => return Err(e),
                    }
                }
            })
            .await
            .unwrap_or(Ok(()))?;
        }
    }
}

/// How long entries stay fresh and stale, how many refreshes run at once, how many prompts
/// are kept, and when the breaker opens.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolverConfig {
    /// Served without asking the source (default 60 s).
    pub fresh: Duration,
    /// After `fresh`, served at once while a background refresh runs (default 1 h).
    pub stale: Duration,
    /// Background refreshes running at once, at most (default 4); a stale hit beyond this
    /// serves the entry and leaves the refresh to a later hit.
    pub max_refreshes: usize,
    /// Releases kept, at most (default 10,000); the least used go first.
    pub capacity: u64,
    /// The circuit breaker.
    pub breaker: BreakerConfig,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        Self {
            fresh: Duration::from_secs(60),
            stale: Duration::from_secs(3600),
            max_refreshes: 4,
            capacity: 10_000,
            breaker: BreakerConfig::default(),
        }
    }
}

/// What a resolver has done since it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Answered from a fresh entry.
    pub hits: u64,
    /// Answered from a stale entry (while refreshing, or because the source failed).
    pub stale_hits: u64,
    /// Had to fetch before answering.
    pub misses: u64,
    /// Answered with the application's fallback.
    pub fallbacks: u64,
    /// Background refreshes started.
    pub refreshes: u64,
    /// Background refreshes that failed (the entry was kept).
    pub refresh_failures: u64,
    /// Calls to the source that failed for want of the source (refused by the breaker, or the
    /// source unreachable or failing), not because the prompt does not exist.
    pub source_failures: u64,
    /// Where the breaker stands.
    pub breaker: BreakerState,
    /// How many times the breaker has opened.
    pub breaker_opened: u64,
    /// Change-feed events applied ([`Resolver::follow`]).
    pub feed_events: u64,
    /// Times the change feed was connected (the first time and every reconnect).
    pub feed_connects: u64,
}

/// The background task of [`Resolver::follow`]; dropping it stops following.
#[derive(Debug)]
pub struct Following {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Following {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A prompt rendered by [`Resolver::render`]: the version served and its rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    /// The version served.
    pub prompt: Arc<Resolved>,
    /// It, rendered with the values given.
    pub rendered: Rendered,
}

#[derive(Debug)]
struct Entry {
    slug: Box<str>,
    at: OwnedAt,
    label: Option<String>,
    target: LabelTarget,
    versions: Vec<Arc<Resolved>>,
    /// `None`: from a snapshot, stale from the start.
    fetched: Option<Instant>,
}

impl Entry {
    fn new(slug: &str, at: At<'_>, release: Release, fetched: Option<Instant>) -> Self {
        Self {
            slug: slug.into(),
            at: OwnedAt::of(at),
            label: release.label,
            target: release.target,
            versions: release.versions.into_iter().map(Arc::new).collect(),
            fetched,
        }
    }

    /// The same entry, counted as stale from now on.
    fn marked_stale(&self) -> Self {
        Self {
            slug: self.slug.clone(),
            at: self.at.clone(),
            label: self.label.clone(),
            target: self.target.clone(),
            versions: self.versions.clone(),
            fetched: None,
        }
    }

    fn is(&self, slug: &str, at: At<'_>) -> bool {
        &*self.slug == slug && self.at.borrow() == at
    }

    fn pick(&self, subject: Option<&str>) -> Result<Arc<Resolved>> {
        let version = match &self.target {
            LabelTarget::Version { version } => *version,
            target => assign(
                &self.slug,
                self.label.as_deref().unwrap_or(LATEST),
                target,
                subject,
            ),
        };
        self.versions
            .iter()
            .find(|v| v.version == version)
            .cloned()
            .ok_or_else(|| Error::not_found("version", format!("{}@{version}", self.slug)))
    }
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    stale_hits: AtomicU64,
    misses: AtomicU64,
    fallbacks: AtomicU64,
    refreshes: AtomicU64,
    refresh_failures: AtomicU64,
    source_failures: AtomicU64,
    feed_events: AtomicU64,
    feed_connects: AtomicU64,
}

type Shared = std::result::Result<Arc<Entry>, Arc<Error>>;

/// A cached release of a prompt: its key and what it is of.
type Cached = (u64, OwnedAt);

/// The cache's keys are already hashes (of slug and label, with a per-resolver seed): the
/// cache uses them as they are instead of hashing them again.
#[derive(Debug, Clone, Copy, Default)]
struct KeyHash;

impl BuildHasher for KeyHash {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

#[derive(Debug)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

struct Inner {
    source: Box<dyn PromptSource>,
    config: ResolverConfig,
    hasher: foldhash::fast::RandomState,
    cache: moka::sync::Cache<u64, Arc<Entry>, KeyHash>,
    inflight: Mutex<HashMap<u64, Arc<OnceCell<Shared>>>>,
    refreshing: Mutex<HashSet<u64>>,
    refresh_slots: Arc<Semaphore>,
    fallbacks: RwLock<HashMap<String, Arc<Entry>>>,
    breaker: Breaker,
    counters: Counters,
    /// The cached releases of each prompt, so that a change to it refreshes every one.
    by_slug: Mutex<HashMap<Box<str>, Vec<Cached>>>,
}

/// An application's cache of released prompts over a [`PromptSource`]. Cheap to clone; clones
/// share the cache.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether an error says the source is failing (rather than answering "no such prompt").
fn is_outage(e: &Error) -> bool {
    matches!(
        e,
        Error::Unavailable(_) | Error::Backend(_) | Error::StorageFull(_)
    )
}

/// The same error again, for every caller that shared one fetch.
fn copy_error(e: &Error) -> Error {
    match e {
        Error::NotFound { what, key } => Error::not_found(what, key),
        Error::Conflict { field, reason } => Error::conflict(field.clone(), reason),
        Error::Invalid { field, reason } => Error::invalid(field.clone(), reason),
        Error::QuotaExceeded { limit, reason } => Error::quota(limit.clone(), reason),
        Error::Unauthorized => Error::Unauthorized,
        Error::Forbidden { reason } => Error::forbidden(reason),
        Error::Unavailable(inner) => Error::Unavailable(inner.to_string().into()),
        Error::StorageFull(inner) => Error::StorageFull(inner.to_string().into()),
        other => Error::backend(other.to_string()),
    }
}

impl Resolver {
    /// A resolver over `source` with the default [`ResolverConfig`].
    pub fn new(source: impl PromptSource) -> Self {
        Self::with_config(source, ResolverConfig::default())
    }

    /// A resolver over `source` with `config`.
    pub fn with_config(source: impl PromptSource, config: ResolverConfig) -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(config.capacity)
            .build_with_hasher(KeyHash);
        Self {
            inner: Arc::new(Inner {
                source: Box::new(source),
                hasher: foldhash::fast::RandomState::default(),
                cache,
                inflight: Mutex::default(),
                refreshing: Mutex::default(),
                refresh_slots: Arc::new(Semaphore::new(config.max_refreshes.max(1))),
                fallbacks: RwLock::default(),
                breaker: Breaker::new(config.breaker),
                counters: Counters::default(),
                by_slug: Mutex::default(),
                config,
            }),
        }
    }

    /// The version of `slug` at `at` that `subject` gets (a split assigns each subject one
    /// variant, as the server does; without a subject, a random one by weight), includes
    /// expanded, not rendered.
    pub async fn get(
        &self,
        slug: &str,
        at: At<'_>,
        subject: Option<&str>,
    ) -> Result<Arc<Resolved>> {
        Inner::entry(&self.inner, slug, at).await?.pick(subject)
    }

    /// [`Resolver::get`], rendered strictly with `values` (every required variable, no
    /// undeclared ones), as the server renders.
    pub async fn render(
        &self,
        slug: &str,
        at: At<'_>,
        subject: Option<&str>,
        values: &BTreeMap<String, String>,
    ) -> Result<Served> {
        let prompt = self.get(slug, at, subject).await?;
        let rendered = prompt.render(values)?;
        Ok(Served { prompt, rendered })
    }

    /// Serves `release` for its slug (at any label or version) when the source cannot give
    /// one and nothing is cached.
    pub fn set_fallback(&self, release: Release) -> Result<()> {
        release.check()?;
        let slug = release.slug.as_str().to_owned();
        let at = OwnedAt::Label(release.label.as_deref().unwrap_or(PRODUCTION).into());
        let entry = Arc::new(Entry::new(&slug, at.borrow(), release, None));
        self.inner
            .fallbacks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(slug, entry);
        Ok(())
    }

    /// Fills the cache from a snapshot (verified first); entries already cached are kept.
    /// Snapshot entries count as stale: served at once, refreshed in the background when the
    /// source answers. Returns how many releases were added.
    pub fn load_snapshot(&self, snapshot: &Snapshot) -> Result<usize> {
        snapshot.verify()?;
        let mut added = 0;
        for release in &snapshot.releases {
            let slug = release.slug.as_str();
            let at = At::Label(&snapshot.label);
            let key = self.inner.key(slug, at);
            if self.inner.cache.contains_key(&key) {
                continue;
            }
            let entry = Entry::new(slug, at, release.clone(), None);
            self.inner.cache.insert(key, Arc::new(entry));
            self.inner.index(key, slug, at);
            added += 1;
        }
        Ok(added)
    }

    /// Asks the source for a snapshot of every prompt at `label`.
    pub async fn fetch_snapshot(&self, label: &str) -> Result<Snapshot> {
        let snapshot = self.inner.source.snapshot(label).await?;
        snapshot.verify()?;
        Ok(snapshot)
    }

    /// Follows the source's change feed in the background: every change to a prompt fetches
    /// its cached releases again at once (a label moved on the server reaches this cache within
    /// milliseconds, instead of after the fresh window); a gap in the feed fetches everything.
    /// Reconnects with backoff (100 ms doubling to 5 s) and resumes where it left off. Stops
    /// when the returned handle is dropped. Needs a Tokio runtime.
    pub fn follow(&self) -> Following {
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            let mut last: Option<i64> = None;
            let mut backoff = Duration::from_millis(100);
            loop {
                match inner.source.follow(last).await {
                    Ok(Some(mut feed)) => {
                        inner.counters.feed_connects.fetch_add(1, Relaxed);
                        // Reconnected after a gap: what changed meanwhile is told by the feed
                        // (it resumes from `last`, or says reset).
                        while let Ok(Some(event)) = feed.next().await {
                            backoff = Duration::from_millis(100);
                            inner.counters.feed_events.fetch_add(1, Relaxed);
                            match event {
                                FeedEvent::Ready(head) => last = Some(head),
                                FeedEvent::Reset(head) => {
                                    last = Some(head);
                                    inner.refresh_now(None).await;
                                }
                                FeedEvent::Change(change) => {
                                    last = Some(change.seq);
                                    inner.refresh_now(Some(&change.slug)).await;
                                }
                            }
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot follow the change feed; retrying")
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
        Following { task }
    }

    /// Forgets the release of `slug` at `at`; the next request fetches it.
    pub fn invalidate(&self, slug: &str, at: At<'_>) {
        let key = self.inner.key(slug, at);
        if self.inner.cache.get(&key).is_some_and(|e| e.is(slug, at)) {
            self.inner.cache.invalidate(&key);
        }
    }

    /// Forgets every cached release (fallbacks stay).
    pub fn clear(&self) {
        self.inner.cache.invalidate_all();
    }

    /// What the resolver has done so far.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            hits: c.hits.load(Relaxed),
            stale_hits: c.stale_hits.load(Relaxed),
            misses: c.misses.load(Relaxed),
            fallbacks: c.fallbacks.load(Relaxed),
            refreshes: c.refreshes.load(Relaxed),
            refresh_failures: c.refresh_failures.load(Relaxed),
            source_failures: c.source_failures.load(Relaxed),
            breaker: self.inner.breaker.state(),
            breaker_opened: self.inner.breaker.times_opened(),
            feed_events: c.feed_events.load(Relaxed),
            feed_connects: c.feed_connects.load(Relaxed),
        }
    }
}

impl Inner {
    fn key(&self, slug: &str, at: At<'_>) -> u64 {
        self.hasher.hash_one((slug, at))
    }

    fn index(&self, key: u64, slug: &str, at: At<'_>) {
        let mut by_slug = lock(&self.by_slug);
        let keys = by_slug.entry(slug.into()).or_default();
        if !keys.iter().any(|(k, _)| *k == key) {
            keys.push((key, OwnedAt::of(at)));
        }
    }

    /// Fetches every cached release of `slug` again (all prompts when `None`), now; a release
    /// that no longer exists is dropped, one that cannot be fetched is kept.
    async fn refresh_now(&self, slug: Option<&str>) {
        let targets: Vec<(Box<str>, u64, OwnedAt)> = {
            let by_slug = lock(&self.by_slug);
            let of = |s: &str, keys: &Vec<Cached>| {
                keys.iter()
                    .map(|(k, at)| (Box::from(s), *k, at.clone()))
                    .collect::<Vec<_>>()
            };
            match slug {
                Some(s) => by_slug
                    .get_key_value(s)
                    .map(|(s, k)| of(s, k))
                    .unwrap_or_default(),
                None => by_slug.iter().flat_map(|(s, k)| of(s, k)).collect(),
            }
        };
        for (slug, key, at) in targets {
            let at = at.borrow();
            if !self.cache.get(&key).is_some_and(|e| e.is(&slug, at)) {
                // Evicted: forget it.
                let mut by_slug = lock(&self.by_slug);
                if let Some(keys) = by_slug.get_mut(&slug) {
                    keys.retain(|(k, _)| *k != key);
                    if keys.is_empty() {
                        by_slug.remove(&slug);
                    }
                }
                continue;
            }
            match self.fetch(key, &slug, at).await {
                Ok(_) => {}
                Err(Error::NotFound { .. }) => self.cache.invalidate(&key),
                Err(_) => {
                    self.counters.refresh_failures.fetch_add(1, Relaxed);
                    // Known to be out of date: served as stale, so that the next request
                    // tries again in the background.
                    if let Some(old) = self.cache.get(&key).filter(|e| e.is(&slug, at)) {
                        self.cache.insert(key, Arc::new(old.marked_stale()));
                    }
                }
            }
        }
    }

    /// The entry for `slug` at `at`. A hit is answered without leaving this function; the rest
    /// lives in a boxed future, so the future every call builds stays small.
    async fn entry(this: &Arc<Self>, slug: &str, at: At<'_>) -> Result<Arc<Entry>> {
        let key = this.key(slug, at);
        let cached = this.cache.get(&key).filter(|e| e.is(slug, at));
        if let Some(entry) = &cached {
            let fresh = this.config.fresh;
            match entry.fetched.map(|t| t.elapsed()) {
                Some(age) if age < fresh => {
                    this.counters.hits.fetch_add(1, Relaxed);
                    return Ok(entry.clone());
                }
                Some(age) if age >= fresh + this.config.stale => {}
                _ => {
                    this.counters.stale_hits.fetch_add(1, Relaxed);
                    Self::refresh_in_background(this, key, slug, at);
                    return Ok(entry.clone());
                }
            }
        }
        Box::pin(Self::miss(this, key, slug, at, cached)).await
    }

    /// Fetches before answering; serves an old entry, then the fallback, if the source fails.
    async fn miss(
        this: &Arc<Self>,
        key: u64,
        slug: &str,
        at: At<'_>,
        cached: Option<Arc<Entry>>,
    ) -> Result<Arc<Entry>> {
        this.counters.misses.fetch_add(1, Relaxed);
        match this.load(key, slug, at).await {
            Ok(entry) => Ok(entry),
            Err(e) => {
                if is_outage(&e)
                    && let Some(old) = cached
                {
                    this.counters.stale_hits.fetch_add(1, Relaxed);
                    return Ok(old);
                }
                let fallback = this
                    .fallbacks
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(slug)
                    .cloned();
                if let Some(f) = fallback
                    && !matches!(e, Error::Invalid { .. })
                {
                    this.counters.fallbacks.fetch_add(1, Relaxed);
                    return Ok(f);
                }
                Err(e)
            }
        }
    }

    /// One fetch per key at a time: concurrent misses wait for the same answer.
    async fn load(&self, key: u64, slug: &str, at: At<'_>) -> Result<Arc<Entry>> {
        let cell = lock(&self.inflight).entry(key).or_default().clone();
        let shared = cell
            .get_or_init(|| async { self.fetch(key, slug, at).await.map_err(Arc::new) })
            .await
            .clone();
        {
            let mut inflight = lock(&self.inflight);
            if inflight.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                inflight.remove(&key);
            }
        }
        match shared {
            Ok(entry) if entry.is(slug, at) => Ok(entry),
            // Two prompts whose keys collide: fetch this one on its own.
            Ok(_) => self.fetch(key, slug, at).await,
            Err(e) => Err(copy_error(&e)),
        }
    }

    /// Asks the source (if the breaker lets it) and caches the answer.
    async fn fetch(&self, key: u64, slug: &str, at: At<'_>) -> Result<Arc<Entry>> {
        if let Err(wait) = self.breaker.admit() {
            self.counters.source_failures.fetch_add(1, Relaxed);
            return Err(Error::Unavailable(
                format!(
                    "the prompt source is failing; the resolver's circuit breaker lets the next call through in {} ms",
                    wait.as_millis()
                )
                .into(),
            ));
        }
        let release = match self.source.release(slug, at).await {
            Ok(r) => {
                self.breaker.record(true);
                r
            }
            Err(e) => {
                let outage = is_outage(&e);
                self.breaker.record(!outage);
                if outage {
                    self.counters.source_failures.fetch_add(1, Relaxed);
                }
                return Err(e);
            }
        };
        release.check()?;
        let entry = Arc::new(Entry::new(slug, at, release, Some(Instant::now())));
        self.cache.insert(key, entry.clone());
        self.index(key, slug, at);
        Ok(entry)
    }

    fn refresh_in_background(this: &Arc<Self>, key: u64, slug: &str, at: At<'_>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !lock(&this.refreshing).insert(key) {
            return;
        }
        let Ok(permit) = this.refresh_slots.clone().try_acquire_owned() else {
            lock(&this.refreshing).remove(&key);
            return;
        };
        this.counters.refreshes.fetch_add(1, Relaxed);
        let inner = this.clone();
        let slug = slug.to_owned();
        let at = OwnedAt::of(at);
        runtime.spawn(async move {
            let _permit = permit;
            let at = at.borrow();
            match inner.fetch(key, &slug, at).await {
                Ok(_) => {}
                // The prompt or its label is gone: stop serving it.
                Err(Error::NotFound { .. }) => {
                    if inner.cache.get(&key).is_some_and(|e| e.is(&slug, at)) {
                        inner.cache.invalidate(&key);
                    }
                }
                Err(_) => {
                    inner.counters.refresh_failures.fetch_add(1, Relaxed);
                }
            }
            lock(&inner.refreshing).remove(&key);
        });
    }
}

/// Reads and verifies a snapshot file (as written by [`write_snapshot`] or saved from
/// `GET /api/v1/snapshot`).
pub fn read_snapshot(path: impl AsRef<Path>) -> Result<Snapshot> {
    let path = path.as_ref();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::invalid("snapshot", format!("{}: {e}", path.display())))?;
    let snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(|e| {
        Error::invalid(
            "snapshot",
            format!("{}: not a PromptDB snapshot: {e}", path.display()),
        )
    })?;
    snapshot.verify()?;
    Ok(snapshot)
}

/// Writes a snapshot file atomically (a temporary file beside it, then a rename), so a reader
/// never sees half of one.
pub fn write_snapshot(snapshot: &Snapshot, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let io = |e: std::io::Error| Error::invalid("snapshot", format!("{}: {e}", path.display()));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let json = serde_json::to_vec(snapshot).map_err(Error::backend)?;
    std::fs::write(&tmp, json).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
