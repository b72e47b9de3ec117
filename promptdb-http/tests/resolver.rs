//! The embeddable resolver (`promptdb_core::resolver`) against real sources: a `PromptDb` on a
//! SQLite file in this process, and the real `promptdb` binary over HTTP (`RemoteSource`),
//! killed and restarted. Where a test needs the source to fail on cue, it wraps the real source
//! in a switch; the answers still come from the real database.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use promptdb_core::change::ChangeKind;
use promptdb_core::resolver::{
    At, BreakerConfig, BreakerState, FeedEvent, Local, PromptSource, Resolver, ResolverConfig,
    read_snapshot, write_snapshot,
};
use promptdb_core::{
    Error, LabelTarget, NewPrompt, Principal, PromptDb, PromptPatch, Release, ResolveRequest,
    Result, Snapshot, Variant,
};
use promptdb_http::client::RemoteSource;
use promptdb_http::testing::ServerProcess;
use promptdb_store_sqlite::SqliteStore;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_promptdb");

/// A database on a SQLite file with `greet` (versions 1 and 2, production at 1) and `farewell`
/// (version 1, production at 1).
async fn library(dir: &Path) -> (PromptDb, Principal) {
    let store = Arc::new(SqliteStore::open(dir.join("db.sqlite")).await.unwrap());
    let db = PromptDb::new(store);
    let me = Principal::full(db.create_user("Ada").await.unwrap().id);
    db.save_prompts(
        &me,
        vec![
            NewPrompt::new("greet", "Greet", "Hello v1, {{name}}."),
            NewPrompt::new("farewell", "Farewell", "Goodbye, {{name}}."),
        ],
    )
    .await
    .unwrap();
    db.update_prompt(
        &me,
        "greet",
        PromptPatch {
            content: Some("Hello v2, {{name}}.".into()),
            ..PromptPatch::default()
        },
    )
    .await
    .unwrap();
    for slug in ["greet", "farewell"] {
        db.set_label(&me, slug, "production", LabelTarget::version(1))
            .await
            .unwrap();
    }
    (db, me)
}

/// The real source, which can be switched off (it then fails as an unreachable server does)
/// and counts the calls that reach it.
struct Switch {
    real: Local,
    down: Arc<AtomicBool>,
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl PromptSource for Switch {
    async fn release(&self, slug: &str, at: At<'_>) -> Result<Release> {
        self.calls.fetch_add(1, SeqCst);
        // Long enough for concurrent callers to pile up behind one fetch.
        tokio::time::sleep(Duration::from_millis(20)).await;
        if self.down.load(SeqCst) {
            return Err(Error::Unavailable("switched off".into()));
        }
        self.real.release(slug, at).await
    }

    async fn snapshot(&self, label: &str) -> Result<Snapshot> {
        if self.down.load(SeqCst) {
            return Err(Error::Unavailable("switched off".into()));
        }
        self.real.snapshot(label).await
    }
}

fn switch(db: &PromptDb, me: &Principal) -> (Switch, Arc<AtomicBool>, Arc<AtomicUsize>) {
    let down = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let s = Switch {
        real: Local::new(db.clone(), me.clone()),
        down: down.clone(),
        calls: calls.clone(),
    };
    (s, down, calls)
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Polls `check` until it holds, for at most `within`.
async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn the_cache_assigns_and_renders_as_the_server_does() {
    let dir = tempfile::tempdir().unwrap();
    let (db, me) = library(dir.path()).await;
    let split = LabelTarget::Split {
        split: vec![
            Variant {
                version: 1,
                weight: 50,
            },
            Variant {
                version: 2,
                weight: 50,
            },
        ],
    };
    db.set_label(&me, "greet", "production", split)
        .await
        .unwrap();
    let resolver = Resolver::new(Local::new(db.clone(), me.clone()));

    let mut seen = std::collections::HashSet::new();
    for i in 0..40 {
        let subject = format!("user-{i}");
        let cached = resolver
            .get("greet", At::PRODUCTION, Some(&subject))
            .await
            .unwrap();
        let server = db
            .resolve(
                &me,
                ResolveRequest {
                    slug: "greet".into(),
                    subject: Some(subject.clone()),
                    variables: Some(vars(&[("name", "Ada")])),
                    ..ResolveRequest::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(cached.version, server.version, "{subject}");
        seen.insert(cached.version);
        let served = resolver
            .render(
                "greet",
                At::PRODUCTION,
                Some(&subject),
                &vars(&[("name", "Ada")]),
            )
            .await
            .unwrap();
        assert_eq!(Some(served.rendered), server.rendered, "{subject}");
    }
    assert_eq!(seen.len(), 2, "forty subjects land in both halves");
    let stats = resolver.stats();
    assert_eq!(stats.misses, 1, "one fetch: {stats:?}");
    assert_eq!(stats.hits, 79);

    // Strict rendering and clear errors, as on the server.
    let e = resolver
        .render("greet", At::PRODUCTION, Some("u"), &vars(&[("nope", "x")]))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("variables.nope"), "{e}");
    let e = resolver
        .render("greet", At::PRODUCTION, Some("u"), &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("name"), "{e}");
    let e = resolver
        .get("missing", At::PRODUCTION, None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = resolver
        .get("greet", At::Label("staging"), None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("staging"), "{e}");

    // A version and `latest` are releases of their own.
    assert_eq!(
        resolver
            .get("greet", At::Version(2), None)
            .await
            .unwrap()
            .version,
        2
    );
    let latest = resolver.get("greet", At::LATEST, None).await.unwrap();
    assert_eq!(
        (latest.version, latest.label.as_deref()),
        (2, Some("latest"))
    );
}

#[tokio::test]
async fn concurrent_misses_share_one_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let (db, me) = library(dir.path()).await;
    let (source, _, calls) = switch(&db, &me);
    let resolver = Resolver::new(source);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let r = resolver.clone();
        tasks.spawn(async move {
            r.get("greet", At::PRODUCTION, None)
                .await
                .map(|p| p.version)
        });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.unwrap().unwrap(), 1);
    }
    assert_eq!(
        calls.load(SeqCst),
        1,
        "32 concurrent misses, one call to the source"
    );
}

#[tokio::test]
async fn a_stale_entry_is_served_while_one_refresh_brings_the_move() {
    let dir = tempfile::tempdir().unwrap();
    let (db, me) = library(dir.path()).await;
    let (source, _, calls) = switch(&db, &me);
    let resolver = Resolver::with_config(
        source,
        ResolverConfig {
            fresh: Duration::from_millis(100),
            ..ResolverConfig::default()
        },
    );
    assert_eq!(
        resolver
            .get("greet", At::PRODUCTION, None)
            .await
            .unwrap()
            .version,
        1
    );
    db.set_label(&me, "greet", "production", LabelTarget::version(2))
        .await
        .unwrap();
    // Fresh: the cache answers, unaware of the move.
    assert_eq!(
        resolver
            .get("greet", At::PRODUCTION, None)
            .await
            .unwrap()
            .version,
        1
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    // Stale: served at once, many times, with one refresh behind them.
    for _ in 0..20 {
        assert_eq!(
            resolver
                .get("greet", At::PRODUCTION, None)
                .await
                .unwrap()
                .version,
            1
        );
    }
    assert!(
        eventually(Duration::from_secs(3), async || {
            resolver
                .get("greet", At::PRODUCTION, None)
                .await
                .unwrap()
                .version
                == 2
        })
        .await,
        "the refresh never landed"
    );
    let stats = resolver.stats();
    assert!(stats.stale_hits >= 20, "{stats:?}");
    assert_eq!(
        stats.refreshes, 1,
        "one refresh for twenty stale hits: {stats:?}"
    );
    assert_eq!(calls.load(SeqCst), 2);

    // A label removed: the refresh learns it is gone and the resolver stops serving it.
    db.remove_label(&me, "greet", "production").await.unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(
        resolver
            .get("greet", At::PRODUCTION, None)
            .await
            .unwrap()
            .version,
        2
    );
    assert!(
        eventually(Duration::from_secs(3), async || {
            resolver.get("greet", At::PRODUCTION, None).await.is_err()
        })
        .await,
        "a removed label kept being served"
    );
}

#[tokio::test]
async fn a_failing_source_gets_stale_answers_a_fallback_and_a_breaker_that_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let (db, me) = library(dir.path()).await;
    let (source, down, calls) = switch(&db, &me);
    let resolver = Resolver::with_config(
        source,
        ResolverConfig {
            fresh: Duration::from_millis(10),
            stale: Duration::from_millis(10),
            breaker: BreakerConfig {
                window: Duration::from_secs(60),
                min_calls: 3,
                failure_rate: 0.5,
                open_for: Duration::from_millis(300),
            },
            ..ResolverConfig::default()
        },
    );
    assert_eq!(
        resolver
            .get("greet", At::PRODUCTION, None)
            .await
            .unwrap()
            .version,
        1
    );
    down.store(true, SeqCst);
    tokio::time::sleep(Duration::from_millis(30)).await;

    // Past the stale window with the source down: the old entry still answers, every time.
    for _ in 0..3 {
        let p = resolver.get("greet", At::PRODUCTION, None).await.unwrap();
        assert_eq!(p.version, 1);
    }
    // One success and three failures: the breaker opens, and the source is no longer called.
    assert_eq!(resolver.stats().breaker, BreakerState::Open);
    let before = calls.load(SeqCst);
    for _ in 0..10 {
        assert_eq!(
            resolver
                .get("greet", At::PRODUCTION, None)
                .await
                .unwrap()
                .version,
            1
        );
    }
    assert_eq!(calls.load(SeqCst), before, "an open breaker fails fast");

    // Nothing cached and no fallback: the error says the source is failing.
    let e = resolver
        .get("farewell", At::PRODUCTION, None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unavailable(_)), "{e}");
    assert!(e.to_string().contains("circuit breaker"), "{e}");
    // With the application's fallback: that.
    let fallback = Release {
        slug: promptdb_core::Slug::parse("slug", "farewell").unwrap(),
        label: Some("production".into()),
        target: LabelTarget::version(1),
        versions: vec![{
            let mut r = db
                .resolve(
                    &me,
                    ResolveRequest {
                        slug: "farewell".into(),
                        version: Some(1),
                        ..ResolveRequest::default()
                    },
                )
                .await
                .unwrap();
            r.content = "Bye (fallback).".into();
            r
        }],
    };
    resolver.set_fallback(fallback).unwrap();
    let p = resolver
        .get("farewell", At::PRODUCTION, None)
        .await
        .unwrap();
    assert_eq!(p.content, "Bye (fallback).");
    assert_eq!(resolver.stats().fallbacks, 1);

    // The source comes back: after the pause one probe goes through and closes the breaker.
    down.store(false, SeqCst);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(resolver.stats().breaker, BreakerState::HalfOpen);
    let p = resolver
        .get("farewell", At::PRODUCTION, None)
        .await
        .unwrap();
    assert_eq!(
        p.content, "Goodbye, {{name}}.",
        "the real prompt replaces the fallback"
    );
    let stats = resolver.stats();
    assert_eq!(stats.breaker, BreakerState::Closed, "{stats:?}");
    assert_eq!(stats.breaker_opened, 1);
    assert!(stats.source_failures >= 13, "{stats:?}");
}

#[tokio::test]
async fn a_snapshot_starts_a_resolver_whose_source_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let (db, me) = library(dir.path()).await;
    let online = Resolver::new(Local::new(db.clone(), me.clone()));
    let snapshot = online.fetch_snapshot("production").await.unwrap();
    assert_eq!(snapshot.releases.len(), 2);
    let file = dir.path().join("prompts.snapshot.json");
    write_snapshot(&snapshot, &file).unwrap();

    let (source, down, calls) = switch(&db, &me);
    down.store(true, SeqCst);
    let offline = Resolver::new(source);
    assert_eq!(
        offline
            .load_snapshot(&read_snapshot(&file).unwrap())
            .unwrap(),
        2
    );
    for _ in 0..50 {
        for slug in ["greet", "farewell"] {
            let p = offline.get(slug, At::PRODUCTION, Some("u")).await.unwrap();
            assert_eq!(p.version, 1);
        }
    }
    // Snapshot entries are stale from the start: the resolver tried to refresh them.
    assert!(
        eventually(Duration::from_secs(2), async || calls.load(SeqCst) >= 1).await,
        "no refresh was tried"
    );

    // A changed file is refused, naming the hash.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("Hello v1", "Hello v9")).unwrap();
    let e = read_snapshot(&file).unwrap_err();
    assert_eq!(e.field(), Some("hash"), "{e}");
    let e = read_snapshot(dir.path().join("absent.json")).unwrap_err();
    assert_eq!(e.field(), Some("snapshot"), "{e}");
}

/// Sends a REST request to the real server.
async fn call(
    http: &reqwest::Client,
    server_url: &str,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let r = http
        .request(method, format!("{server_url}{path}"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    let body = r.bytes().await.unwrap();
    if body.is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn a_remote_resolver_rides_out_a_killed_server_and_recovers_without_restarting() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_in(Path::new(BIN), dir.path(), &[]);
    let (url, key) = (server.url.clone(), server.api_key.clone());
    promptdb_http::install_tls_provider();
    let http = reqwest::Client::new();
    use reqwest::Method;
    call(
        &http,
        &url,
        &key,
        Method::POST,
        "/api/v1/prompts",
        json!({ "prompts": [
            { "slug": "support/triage", "name": "Triage", "content": "Triage v1: {{ticket}}" }
        ]}),
    )
    .await;
    call(
        &http,
        &url,
        &key,
        Method::PATCH,
        "/api/v1/prompts/support%2Ftriage",
        json!({ "content": "Triage v2: {{ticket}}" }),
    )
    .await;
    call(
        &http,
        &url,
        &key,
        Method::PUT,
        "/api/v1/prompts/support%2Ftriage/labels/production",
        json!({ "version": 1 }),
    )
    .await;

    let source =
        RemoteSource::with_timeout(&url, Some(key.clone()), Duration::from_secs(1)).unwrap();
    let resolver = Resolver::with_config(
        source,
        ResolverConfig {
            fresh: Duration::from_millis(100),
            breaker: BreakerConfig {
                min_calls: 2,
                open_for: Duration::from_millis(300),
                ..BreakerConfig::default()
            },
            ..ResolverConfig::default()
        },
    );
    let served = resolver
        .render(
            "support/triage",
            At::PRODUCTION,
            None,
            &vars(&[("ticket", "#7")]),
        )
        .await
        .unwrap();
    assert_eq!(served.rendered.to_text(), "Triage v1: #7");
    let file = dir.path().join("snapshot.json");
    write_snapshot(&resolver.fetch_snapshot("production").await.unwrap(), &file).unwrap();

    // The server goes away: every resolve still answers, from the cache.
    server.kill();
    let start = Instant::now();
    let mut answered = 0;
    while start.elapsed() < Duration::from_millis(800) {
        let p = resolver
            .get("support/triage", At::PRODUCTION, None)
            .await
            .unwrap();
        assert_eq!(p.version, 1);
        answered += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = resolver.stats();
    assert!(answered > 20 && stats.refresh_failures >= 1, "{stats:?}");
    assert!(
        stats.breaker_opened >= 1,
        "the breaker never opened: {stats:?}"
    );

    // A new process with the server still down starts from the snapshot file.
    let cold = Resolver::new(
        RemoteSource::with_timeout(&url, Some(key.clone()), Duration::from_millis(300)).unwrap(),
    );
    cold.load_snapshot(&read_snapshot(&file).unwrap()).unwrap();
    for i in 0..100 {
        let p = cold
            .get("support/triage", At::PRODUCTION, Some(&format!("u{i}")))
            .await
            .unwrap();
        assert_eq!(p.version, 1);
    }

    // The server comes back on the same address and production moves: the same resolver
    // picks the move up by itself.
    let bind = url.trim_start_matches("http://");
    let back = ServerProcess::start_with(Path::new(BIN), dir.path(), bind, &[], &[]);
    call(
        &http,
        &back.url,
        &key,
        Method::PUT,
        "/api/v1/prompts/support%2Ftriage/labels/production",
        json!({ "version": 2 }),
    )
    .await;
    assert!(
        eventually(Duration::from_secs(5), async || {
            resolver
                .get("support/triage", At::PRODUCTION, None)
                .await
                .unwrap()
                .version
                == 2
        })
        .await,
        "the resolver never recovered: {:?}",
        resolver.stats()
    );
    assert_eq!(resolver.stats().breaker, BreakerState::Closed);

    // The REST routes the source reads, with their errors.
    let r = http
        .get(format!(
            "{}/api/v1/releases/support/triage?label=production&version=1",
            back.url
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = http
        .get(format!(
            "{}/api/v1/snapshot?label=Not%20A%20Label",
            back.url
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "label", "{body}");
}

/// The next `n` events of a feed, each within 10 s.
async fn take(feed: &mut Box<dyn promptdb_core::resolver::ChangeFeed>, n: usize) -> Vec<FeedEvent> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let e = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("no event within 10 s")
            .unwrap()
            .expect("the feed ended");
        out.push(e);
    }
    out
}

fn seqs(events: &[FeedEvent]) -> Vec<i64> {
    events
        .iter()
        .map(|e| match e {
            FeedEvent::Change(c) => c.seq,
            other => panic!("expected a change, got {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn the_change_feed_streams_pages_resumes_and_resets() {
    promptdb_http::install_tls_provider();
    let server = ServerProcess::start(Path::new(BIN), &[]);
    let (url, key) = (server.url.clone(), server.api_key.clone());
    let http = reqwest::Client::new();
    use reqwest::Method;
    call(
        &http,
        &url,
        &key,
        Method::POST,
        "/api/v1/prompts",
        json!({ "prompts": [{ "slug": "a", "name": "A", "content": "one" }] }),
    )
    .await;

    // One JSON page, for clients that poll.
    let page = call(
        &http,
        &url,
        &key,
        Method::GET,
        "/api/v1/changes?after=0",
        json!(null),
    )
    .await;
    assert_eq!(page["head"], 1);
    assert_eq!(page["reset"], false);
    assert_eq!(page["changes"][0]["kind"], "version_created");
    assert_eq!(page["changes"][0]["slug"], "a");
    assert_eq!(page["changes"][0]["version"], 1);
    let page = call(
        &http,
        &url,
        &key,
        Method::GET,
        "/api/v1/changes?after=7",
        json!(null),
    )
    .await;
    assert_eq!(
        (page["reset"].clone(), page["head"].clone()),
        (json!(true), json!(1))
    );
    for (path, header, field) in [
        ("/api/v1/changes?limit=0", None, "limit"),
        ("/api/v1/changes?after=-1", None, "after"),
        ("/api/v1/changes", Some("x1"), "Last-Event-ID"),
    ] {
        let mut req = http.get(format!("{url}{path}")).bearer_auth(&key);
        if let Some(h) = header {
            req = req.header("Last-Event-ID", h);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 422, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let r = http
        .get(format!("{url}/api/v1/changes"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the feed needs credentials");

    // A stream from now on: `ready` with the head, then each change as it commits.
    let source = RemoteSource::new(&url, Some(key.clone())).unwrap();
    let mut feed = source.follow(None).await.unwrap().unwrap();
    assert_eq!(take(&mut feed, 1).await, vec![FeedEvent::Ready(1)]);
    call(
        &http,
        &url,
        &key,
        Method::PUT,
        "/api/v1/prompts/a/labels/production",
        json!({ "version": 1 }),
    )
    .await;
    let events = take(&mut feed, 1).await;
    let FeedEvent::Change(moved) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        (
            moved.seq,
            moved.kind,
            moved.slug.as_str(),
            moved.label.as_deref(),
            moved.version
        ),
        (2, ChangeKind::LabelMoved, "a", Some("production"), Some(1))
    );
    drop(feed);

    // Changes while disconnected arrive, in order, on resuming from the last one seen.
    call(
        &http,
        &url,
        &key,
        Method::PATCH,
        "/api/v1/prompts/a",
        json!({ "content": "two" }),
    )
    .await;
    call(
        &http,
        &url,
        &key,
        Method::PATCH,
        "/api/v1/prompts/a",
        json!({ "content": "three" }),
    )
    .await;
    call(
        &http,
        &url,
        &key,
        Method::DELETE,
        "/api/v1/prompts/a",
        json!(null),
    )
    .await;
    let mut feed = source.follow(Some(2)).await.unwrap().unwrap();
    let events = take(&mut feed, 3).await;
    assert_eq!(seqs(&events), vec![3, 4, 5]);
    let FeedEvent::Change(last) = &events[2] else {
        unreachable!()
    };
    assert_eq!(last.kind, ChangeKind::PromptDeleted);

    // A position the feed never reached: reset, then on from the head.
    let mut feed = source.follow(Some(40)).await.unwrap().unwrap();
    assert_eq!(take(&mut feed, 1).await, vec![FeedEvent::Reset(5)]);
}

#[tokio::test]
async fn a_following_resolver_hears_a_label_move_at_once() {
    promptdb_http::install_tls_provider();
    let server = ServerProcess::start(Path::new(BIN), &[]);
    let (url, key) = (server.url.clone(), server.api_key.clone());
    let http = reqwest::Client::new();
    use reqwest::Method;
    call(
        &http,
        &url,
        &key,
        Method::POST,
        "/api/v1/prompts",
        json!({ "prompts": [{ "slug": "p", "name": "P", "content": "v1" }] }),
    )
    .await;
    call(
        &http,
        &url,
        &key,
        Method::PATCH,
        "/api/v1/prompts/p",
        json!({ "content": "v2" }),
    )
    .await;
    call(
        &http,
        &url,
        &key,
        Method::PUT,
        "/api/v1/prompts/p/labels/production",
        json!({ "version": 1 }),
    )
    .await;
    // Fresh for an hour: only the feed can tell it about the move.
    let resolver = Resolver::with_config(
        RemoteSource::new(&url, Some(key.clone())).unwrap(),
        ResolverConfig {
            fresh: Duration::from_secs(3600),
            ..ResolverConfig::default()
        },
    );
    let following = resolver.follow();
    assert_eq!(
        resolver
            .get("p", At::PRODUCTION, None)
            .await
            .unwrap()
            .version,
        1
    );
    assert!(
        eventually(Duration::from_secs(5), async || resolver
            .stats()
            .feed_connects
            == 1)
        .await
    );
    call(
        &http,
        &url,
        &key,
        Method::PUT,
        "/api/v1/prompts/p/labels/production",
        json!({ "version": 2 }),
    )
    .await;
    assert!(
        eventually(Duration::from_secs(5), async || {
            resolver
                .get("p", At::PRODUCTION, None)
                .await
                .unwrap()
                .version
                == 2
        })
        .await,
        "the move never reached the resolver: {:?}",
        resolver.stats()
    );
    let stats = resolver.stats();
    assert_eq!(
        stats.misses, 1,
        "updated by the feed, not by a miss: {stats:?}"
    );
    assert!(stats.feed_events >= 2, "{stats:?}");

    // The prompt deleted: the resolver stops serving it.
    call(
        &http,
        &url,
        &key,
        Method::DELETE,
        "/api/v1/prompts/p",
        json!(null),
    )
    .await;
    assert!(
        eventually(Duration::from_secs(5), async || {
            resolver.get("p", At::PRODUCTION, None).await.is_err()
        })
        .await
    );
    drop(following);
}

#[tokio::test]
async fn two_servers_on_one_postgres_lose_no_event() {
    promptdb_http::install_tls_provider();
    let db = promptdb_store_postgres::testing::TestDatabase::create().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = ["--database-url", db.url.as_str()];
    let a = ServerProcess::start_in(Path::new(BIN), dir_a.path(), &args);
    // B keeps prompts in memory for ten minutes: only A's change signal can make it forget.
    let config = dir_b.path().join("promptdb.toml");
    std::fs::write(&config, "prompt_cache_ttl_secs = 600\n").unwrap();
    let b = ServerProcess::start_with(
        Path::new(BIN),
        dir_b.path(),
        "127.0.0.1:0",
        &args,
        &[("PROMPTDB_CONFIG", config.to_str().unwrap())],
    );
    let key = a.api_key.clone();
    let http = reqwest::Client::new();
    use reqwest::Method;
    call(
        &http,
        &a.url,
        &key,
        Method::POST,
        "/api/v1/prompts",
        json!({ "prompts": [{ "slug": "p", "name": "P", "content": "v1" }] }),
    )
    .await;
    call(
        &http,
        &a.url,
        &key,
        Method::PATCH,
        "/api/v1/prompts/p",
        json!({ "content": "v2" }),
    )
    .await;

    // B's prompt cache forgets what A changes.
    let get = |url: String| {
        let (http, key) = (http.clone(), key.clone());
        async move {
            call(
                &http,
                &url,
                &key,
                Method::GET,
                "/api/v1/prompts/p",
                json!(null),
            )
            .await["content"]
                .clone()
        }
    };
    assert_eq!(get(b.url.clone()).await, "v2");
    call(
        &http,
        &a.url,
        &key,
        Method::PATCH,
        "/api/v1/prompts/p",
        json!({ "content": "v3" }),
    )
    .await;
    assert!(
        eventually(Duration::from_secs(3), async || get(b.url.clone()).await
            == "v3")
        .await,
        "B kept serving its cached copy"
    );

    // A stream on B; writers on A and B at once, each moving its own label back and forth.
    let source = RemoteSource::new(&b.url, Some(key.clone())).unwrap();
    let mut feed = source.follow(None).await.unwrap().unwrap();
    let [FeedEvent::Ready(head)] = take(&mut feed, 1).await[..] else {
        panic!()
    };
    const WRITERS: usize = 4;
    const MOVES: usize = 40;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let url = if w % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let (key, http) = (key.clone(), http.clone());
        writers.spawn(async move {
            for i in 0..MOVES {
                let path = format!("/api/v1/prompts/p/labels/w{w}");
                call(
                    &http,
                    &url,
                    &key,
                    Method::PUT,
                    &path,
                    json!({ "version": 1 + i % 2 }),
                )
                .await;
            }
        });
    }
    let events = take(&mut feed, WRITERS * MOVES).await;
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let expected: Vec<i64> = (head + 1..=head + (WRITERS * MOVES) as i64).collect();
    assert_eq!(
        seqs(&events),
        expected,
        "every committed move, once, in order"
    );
    let mut per_writer = std::collections::HashMap::new();
    for e in &events {
        let FeedEvent::Change(c) = e else {
            unreachable!()
        };
        *per_writer.entry(c.label.clone().unwrap()).or_insert(0) += 1;
    }
    assert!(per_writer.values().all(|&n| n == MOVES), "{per_writer:?}");
}

/// A source whose feed can be cut and which can refuse to reconnect.
struct Cuttable {
    real: Local,
    down: Arc<AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

struct CutFeed {
    inner: Box<dyn promptdb_core::resolver::ChangeFeed>,
    cut: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl promptdb_core::resolver::ChangeFeed for CutFeed {
    async fn next(&mut self) -> Result<Option<FeedEvent>> {
        tokio::select! {
            () = self.cut.notified() => Ok(None),
            e = self.inner.next() => e,
        }
    }
}

#[async_trait]
impl PromptSource for Cuttable {
    async fn release(&self, slug: &str, at: At<'_>) -> Result<Release> {
        self.real.release(slug, at).await
    }

    async fn snapshot(&self, label: &str) -> Result<Snapshot> {
        self.real.snapshot(label).await
    }

    async fn follow(
        &self,
        after: Option<i64>,
    ) -> Result<Option<Box<dyn promptdb_core::resolver::ChangeFeed>>> {
        if self.down.load(SeqCst) {
            return Err(Error::Unavailable("switched off".into()));
        }
        let inner = self.real.follow(after).await?.unwrap();
        Ok(Some(Box::new(CutFeed {
            inner,
            cut: self.cut.clone(),
        })))
    }
}

#[tokio::test]
async fn a_gap_in_the_feed_refetches_everything() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(promptdb_core::testing::ManualClock::new());
    clock.set(chrono::Utc::now());
    let store = Arc::new(
        SqliteStore::open(dir.path().join("db.sqlite"))
            .await
            .unwrap(),
    );
    let db = PromptDb::new(store).with_clock(clock.clone());
    let me = Principal::full(db.create_user("Ada").await.unwrap().id);
    db.save_prompts(&me, vec![NewPrompt::new("greet", "Greet", "v1")])
        .await
        .unwrap();
    db.update_prompt(
        &me,
        "greet",
        PromptPatch {
            content: Some("v2".into()),
            ..PromptPatch::default()
        },
    )
    .await
    .unwrap();
    db.set_label(&me, "greet", "production", LabelTarget::version(1))
        .await
        .unwrap();
    let (down, cut) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(tokio::sync::Notify::new()),
    );
    let resolver = Resolver::with_config(
        Cuttable {
            real: Local::new(db.clone(), me.clone()),
            down: down.clone(),
            cut: cut.clone(),
        },
        ResolverConfig {
            fresh: Duration::from_secs(3600),
            ..ResolverConfig::default()
        },
    );
    let _following = resolver.follow();
    assert_eq!(
        resolver
            .get("greet", At::PRODUCTION, None)
            .await
            .unwrap()
            .version,
        1
    );
    assert!(
        eventually(Duration::from_secs(5), async || resolver
            .stats()
            .feed_connects
            == 1)
        .await
    );

    // Cut off; meanwhile production moves and the feed forgets it (purged after a week).
    down.store(true, SeqCst);
    cut.notify_waiters();
    db.set_label(&me, "greet", "production", LabelTarget::version(2))
        .await
        .unwrap();
    clock.advance(chrono::Duration::days(30));
    assert!(db.sweep_expired().await.changes >= 4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        resolver
            .get("greet", At::PRODUCTION, None)
            .await
            .unwrap()
            .version,
        1,
        "nothing told the cache yet"
    );

    // Back: the feed says reset, and the resolver fetches everything it holds.
    down.store(false, SeqCst);
    assert!(
        eventually(Duration::from_secs(5), async || {
            resolver
                .get("greet", At::PRODUCTION, None)
                .await
                .unwrap()
                .version
                == 2
        })
        .await,
        "the gap was not noticed: {:?}",
        resolver.stats()
    );
    let stats = resolver.stats();
    assert_eq!(stats.misses, 1, "{stats:?}");
    assert!(stats.feed_connects >= 2, "{stats:?}");
}
