//! How fast a label move reaches a resolver on another server, and whether resolves keep
//! answering with the servers gone. Two real `promptdb` servers share one PostgreSQL database; a
//! `Resolver` follows server B's change feed; label moves go through server A.
//!
//! ```sh
//! . scripts/test-postgres-env          # or PROMPTDB_TEST_DATABASE_URL=postgres://…
//! cargo bench -p promptdb-http --bench propagation            # 1,000 moves
//! PROPAGATION_MOVES=100 cargo bench -p promptdb-http --bench propagation
//! ```
//!
//! Goal: p99 ≤ 50 ms from the move's request to the resolver answering the new version; zero
//! errors from the cache and from a snapshot once both servers are killed.

use std::path::Path;
use std::time::{Duration, Instant};

use promptdb_core::resolver::{At, Resolver, ResolverConfig};
use promptdb_http::client::RemoteSource;
use promptdb_http::testing::ServerProcess;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_promptdb");

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let moves: usize = std::env::var("PROPAGATION_MOVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    promptdb_http::install_tls_provider();
    let db = promptdb_store_postgres::testing::TestDatabase::create().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = ["--database-url", db.url.as_str()];
    // One user makes thousands of requests a second here: no rate limits.
    let env = [("PROMPTDB_RATE_LIMIT", "off")];
    let a = ServerProcess::start_with(Path::new(BIN), dir_a.path(), "127.0.0.1:0", &args, &env);
    let b = ServerProcess::start_with(Path::new(BIN), dir_b.path(), "127.0.0.1:0", &args, &env);
    let key = a.api_key.clone();
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, body: serde_json::Value| {
        let req = http
            .request(method, format!("{}{path}", a.url))
            .bearer_auth(&key)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
        }
    };
    use reqwest::Method;
    send(
        Method::POST,
        "/api/v1/prompts",
        json!({ "prompts": [{ "slug": "p", "name": "P", "content": "v1 {{x}}" }] }),
    )
    .await;
    send(
        Method::PATCH,
        "/api/v1/prompts/p",
        json!({ "content": "v2 {{x}}" }),
    )
    .await;
    send(
        Method::PUT,
        "/api/v1/prompts/p/labels/production",
        json!({ "version": 1 }),
    )
    .await;

    let resolver = Resolver::with_config(
        RemoteSource::new(&b.url, Some(key.clone())).unwrap(),
        ResolverConfig {
            fresh: Duration::from_secs(3600),
            ..ResolverConfig::default()
        },
    );
    let _following = resolver.follow();
    assert_eq!(
        resolver
            .get("p", At::PRODUCTION, None)
            .await
            .unwrap()
            .version,
        1
    );
    while resolver.stats().feed_connects == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let mut from_request = Vec::with_capacity(moves);
    let mut from_commit = Vec::with_capacity(moves);
    for i in 0..moves {
        let version = 2 - (i as u32 % 2);
        let start = Instant::now();
        send(
            Method::PUT,
            "/api/v1/prompts/p/labels/production",
            json!({ "version": version }),
        )
        .await;
        let committed = Instant::now();
        loop {
            if resolver
                .get("p", At::PRODUCTION, None)
                .await
                .unwrap()
                .version
                == version
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "move {i} never arrived"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        from_request.push(start.elapsed());
        from_commit.push(committed.elapsed());
    }
    from_request.sort();
    from_commit.sort();
    println!("propagation over {moves} label moves, server A → PostgreSQL → server B → resolver:");
    for (name, d) in [
        ("from the move's request", &from_request),
        ("from its answer", &from_commit),
    ] {
        println!(
            "  {name:<24} p50 {:6.2} ms   p90 {:6.2} ms   p99 {:6.2} ms   max {:6.2} ms",
            ms(percentile(d, 0.50)),
            ms(percentile(d, 0.90)),
            ms(percentile(d, 0.99)),
            ms(percentile(d, 1.0)),
        );
    }

    // Both servers gone: the cache answers, and so does a new resolver from a snapshot.
    let snapshot = resolver.fetch_snapshot("production").await.unwrap();
    let gone = b.url.clone();
    a.kill();
    b.kill();
    let mut errors = 0;
    let cold = Resolver::new(
        RemoteSource::with_timeout(&gone, Some(key.clone()), Duration::from_millis(300)).unwrap(),
    );
    cold.load_snapshot(&snapshot).unwrap();
    let start = Instant::now();
    for i in 0..10_000 {
        let subject = format!("user-{i}");
        for r in [&resolver, &cold] {
            if r.get("p", At::PRODUCTION, Some(&subject)).await.is_err() {
                errors += 1;
            }
        }
    }
    println!(
        "servers killed: 20,000 resolves (cache and snapshot) in {:.0} ms, {errors} errors",
        ms(start.elapsed())
    );
    assert_eq!(errors, 0);
}
