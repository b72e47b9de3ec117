//! A write the server acknowledged survives the server being killed (SIGKILL: no shutdown, no
//! flush, no WAL checkpoint). The server runs on its default store, SQLite with
//! `synchronous = FULL`.

use std::path::Path;

use promptdb_http::testing::ServerProcess;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_promptdb");

#[tokio::test]
async fn acknowledged_writes_survive_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_in(Path::new(BIN), dir.path(), &[]);
    let key = server.api_key.clone();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    for i in 0..50 {
        let slug = format!("durable-{i}");
        let response = http
            .post(format!("{}/api/v1/prompts", server.url))
            .bearer_auth(&key)
            .json(&json!({ "prompts": [{ "slug": slug, "name": "Durable", "content": "x".repeat(4096) }] }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        acknowledged.push(slug);
    }
    // Also a use and an edit, acknowledged.
    let r = http
        .post(format!("{}/api/v1/prompts/durable-0/uses", server.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server.kill();

    let restarted = ServerProcess::start_in(Path::new(BIN), dir.path(), &[]);
    for slug in &acknowledged {
        let r = http
            .get(format!("{}/api/v1/prompts/{slug}", restarted.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged {slug} was lost");
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["content"].as_str().map(str::len), Some(4096));
        if slug == "durable-0" {
            assert_eq!(p["usage_count"], 1, "the acknowledged use was kept too");
        }
    }
}
