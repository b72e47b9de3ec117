//! Releases over REST through the real router: labels, splits, resolve, includes, folders,
//! diffs, restore, per-version uses, and their errors.

mod common;

use axum::http::{Method, StatusCode};
use common::Api;
use promptdb_core::Scope;
use serde_json::{Value, json};

/// `support/triage` with three versions, and `tone`, which it includes.
async fn seeded() -> Api {
    let api = Api::new().await;
    api.seed(json!([
        { "slug": "tone", "name": "Tone", "content": "Be {{mood}}." },
        { "slug": "support/triage", "name": "Triage", "content": "{{> tone}} Triage v1: {{ticket}}",
          "commit_message": "first", "config": { "model": "gpt-5" } }
    ]))
    .await;
    for v in 2..=3 {
        api.patch(
            "/api/v1/prompts/support%2Ftriage",
            json!({ "content": format!("{{{{> tone}}}} Triage v{v}: {{{{ticket}}}}"), "commit_message": format!("v{v}") }),
        )
        .await
        .expect(StatusCode::OK);
    }
    api
}

#[tokio::test]
async fn labels_resolve_and_roll_back() {
    let api = seeded().await;
    let release = api.alice_key(&[Scope::Read, Scope::Release]).await;
    let put = |label: &str, body: Value| {
        let key = release.clone();
        let path = format!("/api/v1/prompts/support%2Ftriage/labels/{label}");
        let api = &api;
        async move { api.send(Method::PUT, &path, Some(&key), Some(body)).await }
    };

    // No production yet: resolve says so.
    let r = api.get("/api/v1/resolve/support/triage").await;
    r.expect_error(StatusCode::NOT_FOUND, "not_found", None);

    // A write-only key may not release; a release key may.
    api.put(
        "/api/v1/prompts/support%2Ftriage/labels/production",
        json!({ "version": 2 }),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden", None);
    let moved = put("production", json!({ "version": 2 }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(moved["to"], json!({ "version": 2 }));
    assert!(moved.get("from").is_none());
    assert!(
        moved["actor"].as_str().unwrap().starts_with("api key"),
        "{moved}"
    );

    // Resolve: folders written with `/` or `%2F`; includes expanded; config and labels.
    for path in [
        "/api/v1/resolve/support/triage",
        "/api/v1/resolve/support%2Ftriage",
    ] {
        let r = api.get(path).await.expect(StatusCode::OK);
        assert_eq!(r["version"], 2);
        assert_eq!(r["label"], "production");
        assert_eq!(r["labels"], json!(["production"]));
        assert_eq!(r["content"], "Be {{mood}}. Triage v2: {{ticket}}");
        assert_eq!(r["config"], json!({ "model": "gpt-5" }));
        assert_eq!(r["commit_message"], "v2");
    }
    let r = api
        .get("/api/v1/resolve/support/triage?label=latest")
        .await
        .expect(StatusCode::OK);
    assert_eq!(r["version"], 3);
    let r = api
        .get("/api/v1/resolve/support/triage?version=1")
        .await
        .expect(StatusCode::OK);
    assert_eq!((r["version"].as_u64(), r.get("label")), (Some(1), None));
    api.get("/api/v1/resolve/support/triage?version=1&label=production")
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("version"));
    api.get("/api/v1/resolve/support/triage?label=canary")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    api.get("/api/v1/resolve/support/triage?colour=red")
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("colour"));

    // A 90/10 split; the same subject always gets the same version; uses count per version.
    put(
        "production",
        json!({ "split": [{ "version": 2, "weight": 90 }, { "version": 3, "weight": 10 }] }),
    )
    .await
    .expect(StatusCode::OK);
    let first = api
        .get("/api/v1/resolve/support/triage?subject=user-1")
        .await
        .expect(StatusCode::OK)["version"]
        .clone();
    for _ in 0..5 {
        let again = api
            .get("/api/v1/resolve/support/triage?subject=user-1")
            .await
            .expect(StatusCode::OK);
        assert_eq!(again["version"], first);
    }
    let used = api
        .post(
            "/api/v1/prompts/support%2Ftriage/uses",
            json!({ "version": first }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(used["version"], first);
    api.post(
        "/api/v1/prompts/support%2Ftriage/uses",
        json!({ "version": 9 }),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    let versions = api
        .get("/api/v1/prompts/support%2Ftriage/versions")
        .await
        .expect(StatusCode::OK);
    let used_version = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == first)
        .unwrap();
    assert_eq!(used_version["usage_count"], 1);
    assert!(
        used_version["labels"]
            .as_array()
            .unwrap()
            .contains(&json!("production"))
    );

    // Bad targets name the field.
    for (body, field) in [
        (
            json!({ "split": [{ "version": 2, "weight": 60 }, { "version": 3, "weight": 50 }] }),
            "target.split",
        ),
        (json!({ "version": 0 }), "target.version"),
        (json!({ "version": 2, "split": [] }), "body"),
        (json!({}), "body"),
    ] {
        put("staging", body).await.expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some(field),
        );
    }
    put("staging", json!({ "version": 7 })).await.expect_error(
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    put("latest", json!({ "version": 1 })).await.expect_error(
        StatusCode::CONFLICT,
        "conflict",
        Some("label"),
    );

    // History, newest first, and a one-step rollback.
    let history = api
        .get("/api/v1/prompts/support%2Ftriage/label-moves?label=production")
        .await
        .expect(StatusCode::OK);
    assert_eq!(history["items"].as_array().unwrap().len(), 2);
    let back = api
        .send(
            Method::POST,
            "/api/v1/prompts/support%2Ftriage/labels/production/rollback",
            Some(&release),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(back["to"], json!({ "version": 2 }));
    let labels = api
        .get("/api/v1/prompts/support%2Ftriage/labels")
        .await
        .expect(StatusCode::OK);
    assert_eq!(labels["labels"][0]["name"], "production");
    assert_eq!(labels["labels"][0]["version"], 2);
    assert_eq!(labels["labels"][0]["protected"], true);

    // Removing a label.
    let write = api.alice.clone();
    api.send(
        Method::PUT,
        "/api/v1/prompts/support%2Ftriage/labels/staging",
        Some(&write),
        Some(json!({ "version": 3 })),
    )
    .await
    .expect(StatusCode::OK);
    let gone = api
        .delete("/api/v1/prompts/support%2Ftriage/labels/staging")
        .await
        .expect(StatusCode::OK);
    assert_eq!(gone["from"], json!({ "version": 3 }));
    api.delete("/api/v1/prompts/support%2Ftriage/labels/staging")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);

    // Bob sees none of it.
    api.send(
        Method::GET,
        "/api/v1/resolve/support/triage?label=latest",
        Some(&api.bob),
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    api.send(
        Method::GET,
        "/api/v1/prompts/support%2Ftriage/labels",
        Some(&api.bob),
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
}

#[tokio::test]
async fn batches_render_and_answer_each_prompt() {
    let api = seeded().await;
    let out = api
        .post(
            "/api/v1/resolve",
            json!({ "prompts": [
                { "slug": "support/triage", "label": "latest", "variables": { "mood": "kind", "ticket": "T-1" } },
                { "slug": "nope", "label": "latest" },
                { "slug": "support/triage", "version": 1, "variables": { "ticket": "T-2" } },
            ]}),
        )
        .await
        .expect(StatusCode::OK);
    let results = out["results"].as_array().unwrap();
    assert_eq!(results[0]["rendered"], "Be kind. Triage v3: T-1");
    assert_eq!(results[1]["slug"], "nope");
    assert_eq!(results[1]["error"]["code"], "not_found");
    assert_eq!(results[2]["error"]["code"], "invalid");
    assert_eq!(results[2]["error"]["field"], "prompts[2].variables.mood");
    let too_many: Vec<Value> = (0..51).map(|_| json!({ "slug": "tone" })).collect();
    api.post("/api/v1/resolve", json!({ "prompts": too_many }))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("prompts"));
    api.post(
        "/api/v1/resolve",
        json!({ "prompts": [{ "slug": "tone", "colour": 1 }] }),
    )
    .await
    .expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("prompts[0].colour"),
    );
}

#[tokio::test]
async fn diffs_restores_dependents_and_folders() {
    let api = seeded().await;
    let diff = api
        .get("/api/v1/prompts/support%2Ftriage/diff?from=1&to=3")
        .await
        .expect(StatusCode::OK);
    assert_eq!(diff["changed"], json!(["content"]));
    assert!(
        diff["diff"]
            .as_str()
            .unwrap()
            .contains("+{{> tone}} Triage v3"),
        "{diff}"
    );
    assert_eq!(diff["lines"][0]["op"], "delete");
    api.get("/api/v1/prompts/support%2Ftriage/diff?from=1")
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("to"));
    api.get("/api/v1/prompts/support%2Ftriage/diff?from=1&to=8")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);

    let restored = api
        .post(
            "/api/v1/prompts/support%2Ftriage/versions/1/restore",
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(restored["version"], 4);
    assert_eq!(restored["commit_message"], "Restore version 1");
    assert!(restored["content"].as_str().unwrap().contains("Triage v1"));

    let deps = api
        .get("/api/v1/prompts/tone/dependents")
        .await
        .expect(StatusCode::OK);
    assert_eq!(deps["prompts"][0]["slug"], "support/triage");
    api.delete("/api/v1/prompts/tone").await.expect_error(
        StatusCode::CONFLICT,
        "conflict",
        Some("slug"),
    );
}

#[tokio::test]
async fn includes_of_missing_prompts_are_refused() {
    let api = seeded().await;
    api.post(
        "/api/v1/prompts",
        json!({ "prompts": [{ "slug": "bad", "name": "B", "content": "{{> missing}}" }] }),
    )
    .await
    .expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("prompts[0].content"),
    );
    api.patch(
        "/api/v1/prompts/tone",
        json!({ "content": "{{> support/triage}}" }),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("content"));
    let folders = api.get("/api/v1/folders").await.expect(StatusCode::OK);
    assert_eq!(folders["folders"][0]["path"], "support");
    assert_eq!(folders["folders"][0]["prompts"], 1);
    let list = api
        .get("/api/v1/prompts?folder=support")
        .await
        .expect(StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    api.get("/api/v1/prompts?folder=Not%20A%20Folder")
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("folder"));
}

#[tokio::test]
async fn chat_prompts_over_rest() {
    let api = Api::new().await;
    let saved = api
        .seed(json!([{
            "slug": "chat", "name": "Chat", "kind": "chat",
            "messages": [{ "role": "system", "content": "You are {{persona}}." }, { "role": "user", "content": "Hi" }]
        }]))
        .await;
    assert_eq!(saved["prompts"][0]["kind"], "chat");
    let r = api
        .post("/api/v1/resolve", json!({ "prompts": [{ "slug": "chat", "label": "latest", "variables": { "persona": "a pirate" } }] }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        r["results"][0]["rendered"],
        json!([{ "role": "system", "content": "You are a pirate." }, { "role": "user", "content": "Hi" }])
    );
    api.post("/api/v1/prompts", json!({ "prompts": [{ "name": "x", "kind": "chat", "messages": [{ "role": "robot", "content": "x" }] }] }))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("prompts[0].messages[0].role"));
    api.post(
        "/api/v1/prompts",
        json!({ "prompts": [{ "name": "x", "kind": "chat" }] }),
    )
    .await
    .expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("prompts[0].messages"),
    );
}
