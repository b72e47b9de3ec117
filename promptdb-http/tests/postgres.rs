//! `promptdb serve --database-url postgres://…`: the real binary on PostgreSQL, answering 503
//! while the database is down and recovering by itself when it is back.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use promptdb_http::testing::ServerProcess;
use promptdb_store_postgres::testing::{Cluster, TestDatabase};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_promptdb");

#[tokio::test]
async fn serves_from_postgres_and_answers_503_while_it_is_down() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut cluster = Cluster::start();
    let db = TestDatabase::create_on(&cluster.admin_url()).await;
    let server = ServerProcess::start(Path::new(BIN), &["--database-url", &db.url]);
    let http = reqwest::Client::new();
    let key = server.api_key.clone();
    let api = |path: &str| format!("{}{path}", server.url);

    let created = http
        .post(api("/api/v1/prompts"))
        .bearer_auth(&key)
        .json(&json!({ "prompts": [{ "name": "On Postgres", "content": "Hello {{who}}", "tags": ["pg"] }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let ready: Value = http
        .get(api("/health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["store"], "postgres");
    let found: Value = http
        .get(api("/api/v1/prompts?q=postgres"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["slug"], "on-postgres");

    cluster.stop();
    let started = Instant::now();
    let down = http
        .get(api("/api/v1/prompts"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 503);
    assert!(down.headers().contains_key("retry-after"));
    let body: Value = down.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "503 took {:?}",
        started.elapsed()
    );
    assert_eq!(
        http.get(api("/health/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    assert_eq!(
        http.get(api("/health")).send().await.unwrap().status(),
        200,
        "liveness does not depend on the database"
    );

    cluster.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = http
            .get(api("/api/v1/prompts"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            let page: Value = r.json().await.unwrap();
            assert_eq!(page["items"][0]["slug"], "on-postgres");
            break;
        }
        assert_eq!(r.status(), 503);
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::task::yield_now().await;
    }
    assert_eq!(
        http.get(api("/health/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    drop(server);
}
