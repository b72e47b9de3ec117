//! Harvest over REST through the real router: the review queue, and transcripts uploaded for the
//! extractor, with their errors.

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use common::Api;
use serde_json::json;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../promptdb-core/tests/fixtures/harvest"
);

fn upload(key: &str, query: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/harvest{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn the_review_queue_over_rest() {
    let api = Api::new().await;
    api.seed(json!([{ "slug": "lifetimes", "name": "Lifetimes",
        "content": "Review this Rust code for lifetime bugs and explain each one:\n{{code}}" }]))
        .await;
    let done = api
        .post(
            "/api/v1/candidates",
            json!({
                "origin": "model",
                "source": "a chat about Rust",
                "candidates": [
                    { "name": "Lifetime review", "content": "Review this Rust code for lifetime bugs:\n{{code}}",
                      "reason": "asked three times", "excerpt": "Review this Rust code for lifetime bugs: fn a() {}" },
                    { "name": "Haiku", "content": "Write a haiku about {{topic}}", "tags": ["Poetry"] }
                ]
            }),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(done["added"].as_array().unwrap().len(), 2);
    assert_eq!(done["added"][0]["duplicate_of"], "lifetimes");
    assert_eq!(done["added"][1]["tags"], json!(["poetry"]));
    assert!(done["added"][0].get("content_hash").is_none(), "internal");

    let list = api
        .get("/api/v1/candidates?limit=1")
        .await
        .expect(StatusCode::OK);
    assert_eq!(list["pending"], 2);
    assert_eq!(list["candidates"].as_array().unwrap().len(), 1);
    let haiku = done["added"][1]["id"].as_str().unwrap().to_owned();
    let review = done["added"][0]["id"].as_str().unwrap().to_owned();

    // Bob sees none of it.
    let bobs = api
        .send(Method::GET, "/api/v1/candidates", Some(&api.bob), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(bobs["pending"], 0);
    api.send(
        Method::GET,
        &format!("/api/v1/candidates/{haiku}"),
        Some(&api.bob),
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);

    // Into the duplicate: a new version of `lifetimes`.
    let accepted = api
        .post(
            &format!("/api/v1/candidates/{review}/accept"),
            json!({ "into": "lifetimes" }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(accepted["created"], false);
    assert_eq!(accepted["prompt"]["version"], 2);
    api.post(&format!("/api/v1/candidates/{review}/accept"), json!({}))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict", Some("id"));
    api.post(
        &format!("/api/v1/candidates/{haiku}/accept"),
        json!({ "into": "lifetimes", "slug": "x" }),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("slug"));
    api.post(&format!("/api/v1/candidates/{haiku}/dismiss"), json!({}))
        .await
        .expect(StatusCode::NO_CONTENT);
    let got = api
        .get(&format!("/api/v1/candidates/{haiku}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(got["status"], "dismissed");

    // Bad input names the field and writes nothing.
    api.post("/api/v1/candidates", json!({ "candidates": [] }))
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("candidates"),
        );
    api.post(
        "/api/v1/candidates",
        json!({ "candidates": [{ "name": "ok", "content": "fine" }, { "name": "x", "content": "y", "score": 2 }] }),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("candidates[1].score"));
    api.post(
        "/api/v1/candidates",
        json!({ "candidates": [{ "name": "ok", "content": "fine", "extra": 1 }] }),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", None);
    let too_many: Vec<_> = (0..51)
        .map(|i| json!({ "name": format!("n{i}"), "content": "c" }))
        .collect();
    api.post("/api/v1/candidates", json!({ "candidates": too_many }))
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("candidates"),
        );
    api.get("/api/v1/candidates?limit=0").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("limit"),
    );
    api.get("/api/v1/candidates/not-a-uuid").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("id"),
    );
    let pending = api.get("/api/v1/candidates").await.expect(StatusCode::OK);
    assert_eq!(pending["pending"], 0);

    // A read-only key reads the queue and may not change it.
    let ro = api.alice_read_only().await;
    api.send(Method::GET, "/api/v1/candidates", Some(&ro), None)
        .await
        .expect(StatusCode::OK);
    api.send(
        Method::POST,
        "/api/v1/candidates",
        Some(&ro),
        Some(json!({ "candidates": [{ "name": "ok", "content": "fine" }] })),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden", None);
}

#[tokio::test]
async fn uploaded_transcripts_fill_the_queue() {
    let api = Api::new().await;
    let export = std::fs::read(format!("{FIXTURES}/chatgpt/conversations.json")).unwrap();
    let r = api
        .raw(upload(
            &api.alice,
            "?name=conversations.json",
            "application/json",
            export.clone(),
        ))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r["format"], "chatgpt");
    assert!(r["read"]["messages"].as_u64().unwrap() > 20, "{r}");
    let added = r["harvested"]["added"].as_array().unwrap();
    assert!(added.len() >= 2, "{r}");
    assert!(
        added
            .iter()
            .all(|c| c["origin"] == "chatgpt" && c["source"] == "conversations.json")
    );
    assert!(
        added
            .iter()
            .any(|c| c["content"].as_str().unwrap().contains("{{")),
        "pasted material became variables: {r}"
    );
    // The same file again: nothing new, each counted again.
    let again = api
        .raw(upload(
            &api.alice,
            "",
            "application/json; charset=utf-8",
            export,
        ))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(again["harvested"]["added"], json!([]));
    assert_eq!(
        again["harvested"]["merged"].as_array().unwrap().len(),
        added.len()
    );

    // A Markdown log and Claude Code session logs.
    let md = std::fs::read(format!(
        "{FIXTURES}/markdown/lifetime-review-tags-helper.md"
    ))
    .unwrap();
    let r = api
        .raw(upload(&api.alice, "?name=chat.md", "text/markdown", md))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r["format"], "markdown");
    let mut malformed = 0;
    for entry in std::fs::read_dir(format!("{FIXTURES}/claude-code/-home-ada-src-shop")).unwrap() {
        let log = std::fs::read(entry.unwrap().path()).unwrap();
        let r = api
            .raw(upload(
                &api.alice,
                "?name=session.jsonl",
                "application/x-ndjson",
                log,
            ))
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(r["format"], "claude-code");
        malformed += r["read"]["malformed"].as_u64().unwrap();
    }
    assert_eq!(malformed, 1, "the truncated line is skipped and counted");

    // What it cannot read, it says.
    api.raw(upload(
        &api.alice,
        "?name=notes.pdf",
        "application/pdf",
        b"%PDF".to_vec(),
    ))
    .await
    .expect_error(StatusCode::BAD_REQUEST, "malformed", Some("content-type"));
    api.raw(upload(
        &api.alice,
        "",
        "application/json",
        br#"{"not": "an array"}"#.to_vec(),
    ))
    .await
    .expect_error(StatusCode::BAD_REQUEST, "malformed", Some("body"));
    // An array of things that are not conversations: read, each skipped and counted.
    let r = api
        .raw(upload(
            &api.alice,
            "",
            "application/json",
            br#"[1, {"mapping": 5}]"#.to_vec(),
        ))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r["read"]["malformed"], 2);
    api.raw(upload(
        &api.alice,
        "?nope=1",
        "text/plain",
        b"User: hi".to_vec(),
    ))
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("nope"));
    api.raw(upload(
        &api.alice,
        "?name=a%0Ab",
        "text/plain",
        b"User: hi".to_vec(),
    ))
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("name"));
    // Too large: refused without being held.
    let big = vec![b'a'; promptdb_http::rest::MAX_UPLOAD_BYTES + 1];
    api.raw(upload(&api.alice, "", "text/plain", big))
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None);
    // A reader may not upload.
    let ro = api.alice_read_only().await;
    api.raw(upload(
        &ro,
        "",
        "text/plain",
        b"User: hi there friend\n".to_vec(),
    ))
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden", None);
}
