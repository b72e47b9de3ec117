//! How fast a change reaches a webhook receiver: label moves through the real `promptdb` binary
//! (on SQLite, then on PostgreSQL with the change made through server A and delivered by
//! whichever server claims the hook), a receiver in this process timing each arrival, and the
//! signature of every delivery checked.
//!
//! ```sh
//! . scripts/test-postgres-env          # or PROMPTDB_TEST_DATABASE_URL=postgres://…
//! cargo bench -p promptdb-http --bench webhooks                # 300 moves per backend
//! WEBHOOK_MOVES=50 cargo bench -p promptdb-http --bench webhooks
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
use promptdb_http::testing::ServerProcess;
use reqwest::Method;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_promptdb");

type Arrivals = Arc<Mutex<HashMap<i64, Instant>>>;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A receiver on a free port: records when each change (`data.seq`) arrived, after checking
/// its signature against `secret`.
async fn receiver(arrivals: Arrivals, secret: Arc<Mutex<String>>) -> String {
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let (arrivals, secret) = (arrivals.clone(), secret.clone());
            async move {
                let at = Instant::now();
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
                let body = std::str::from_utf8(&body).unwrap();
                let expected = promptdb_core::webhook::sign(
                    &secret.lock().unwrap(),
                    h("webhook-id"),
                    h("webhook-timestamp").parse().unwrap(),
                    body,
                )
                .unwrap();
                assert_eq!(h("webhook-signature"), expected, "signature");
                let payload: Value = serde_json::from_str(body).unwrap();
                let seq = payload["data"]["seq"].as_i64().unwrap();
                arrivals.lock().unwrap().entry(seq).or_insert(at);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Registers a hook on `server`, makes `moves` label moves one after another, and prints how
/// long each took from its request to the receiver.
async fn run(name: &str, server: &ServerProcess, moves: usize) {
    let arrivals: Arrivals = Arc::default();
    let secret = Arc::new(Mutex::new(String::new()));
    let url = receiver(arrivals.clone(), secret.clone()).await;
    let http = reqwest::Client::new();
    let send = |method: Method, path: &str, body: Value| {
        let req = http
            .request(method, format!("{}{path}", server.url))
            .bearer_auth(&server.api_key)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            r.json::<Value>().await.unwrap_or(Value::Null)
        }
    };
    send(
        Method::POST,
        "/api/v1/prompts",
        json!({ "prompts": [{ "slug": "p", "name": "P", "content": "v1" }] }),
    )
    .await;
    send(
        Method::PATCH,
        "/api/v1/prompts/p",
        json!({ "content": "v2" }),
    )
    .await;
    let hook = send(
        Method::POST,
        "/api/v1/webhooks",
        json!({ "url": url, "events": ["label_moved"] }),
    )
    .await;
    *secret.lock().unwrap() = hook["secret"].as_str().unwrap().to_owned();
    let first = hook["delivered_seq"].as_i64().unwrap() + 1;

    let mut sent = Vec::with_capacity(moves);
    for i in 0..moves {
        let start = Instant::now();
        send(
            Method::PUT,
            "/api/v1/prompts/p/labels/production",
            json!({ "version": 1 + i % 2 }),
        )
        .await;
        sent.push(start);
        // One move at a time, each delivered before the next: latency, not throughput.
        let seq = first + i64::try_from(i).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !arrivals.lock().unwrap().contains_key(&seq) {
            assert!(Instant::now() < deadline, "change {seq} never arrived");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    let arrivals = arrivals.lock().unwrap();
    let mut took: Vec<Duration> = sent
        .iter()
        .enumerate()
        .map(|(i, start)| arrivals[&(first + i64::try_from(i).unwrap())] - *start)
        .collect();
    took.sort();
    println!(
        "{name}: {moves} label moves, request → delivered: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&took, 0.5)),
        ms(percentile(&took, 0.9)),
        ms(percentile(&took, 0.99)),
        ms(*took.last().unwrap()),
    );
}

#[tokio::main]
async fn main() {
    let moves: usize = std::env::var("WEBHOOK_MOVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    promptdb_http::install_tls_provider();
    let env = [("PROMPTDB_RATE_LIMIT", "off")];

    let dir = tempfile::tempdir().unwrap();
    let sqlite = ServerProcess::start_with(Path::new(BIN), dir.path(), "127.0.0.1:0", &[], &env);
    run("SQLite", &sqlite, moves).await;
    drop(sqlite);

    let db = promptdb_store_postgres::testing::TestDatabase::create().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = ["--database-url", db.url.as_str()];
    let a = ServerProcess::start_with(Path::new(BIN), dir_a.path(), "127.0.0.1:0", &args, &env);
    // A second server competes for the hook's claims.
    let _b = ServerProcess::start_with(Path::new(BIN), dir_b.path(), "127.0.0.1:0", &args, &env);
    run("PostgreSQL, two servers", &a, moves).await;
}
