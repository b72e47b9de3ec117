//! Every REST endpoint, success and failure, through the real router.

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use common::Api;
use serde_json::{Value, json};

fn slugs(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn health_and_readiness() {
    let api = Api::new().await;
    let r = api.send(Method::GET, "/health", None, None).await;
    assert_eq!(r.expect(StatusCode::OK)["status"], "ok");
    let r = api.send(Method::GET, "/health/ready", None, None).await;
    let body = r.expect(StatusCode::OK);
    assert_eq!(
        (body["status"].as_str(), body["store"].as_str()),
        (Some("ready"), Some("sqlite"))
    );
    // When the database goes away, readiness says so and requests fail with 503, not 500.
    api.store.close().await;
    let r = api.send(Method::GET, "/health/ready", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["status"], "unavailable");
    let r = api.get("/api/v1/prompts/x").await;
    r.expect_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", None);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(
        api.send(Method::GET, "/health", None, None).await.status,
        StatusCode::OK,
        "liveness stays up"
    );
}

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let api = Api::new().await;
    for key in [
        None,
        Some("not-a-key"),
        Some("pdb_0000000000000000000000000000000000000000"),
    ] {
        let r = api.send(Method::GET, "/api/v1/prompts", key, None).await;
        r.expect_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
        let expected = match key {
            None => "Bearer realm=\"promptdb\"",
            Some(_) => "Bearer realm=\"promptdb\", error=\"invalid_token\"",
        };
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], expected);
    }
    let wrong_scheme = Request::get("/api/v1/prompts")
        .header(header::AUTHORIZATION, format!("Basic {}", api.alice))
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.raw(wrong_scheme).await.status, StatusCode::UNAUTHORIZED);
    let lower_case = Request::get("/api/v1/prompts")
        .header(header::AUTHORIZATION, format!("bearer {}", api.alice))
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.raw(lower_case).await.status, StatusCode::OK);
    // MCP is behind the same check.
    let r = api
        .send(
            Method::POST,
            "/mcp",
            None,
            Some(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Health and the API description are public.
    assert_eq!(
        api.send(Method::GET, "/openapi.json", None, None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn create_get_update_delete_a_prompt() {
    let api = Api::new().await;
    let saved = api
        .seed(json!([{ "name": "Code Review", "content": "Review {{code}}", "tags": ["Dev"], "description": "d" }]))
        .await;
    let p = &saved["prompts"][0];
    assert_eq!(p["slug"], "code-review");
    assert_eq!(p["tags"], json!(["dev"]));
    assert_eq!(p["variables"][0]["name"], "code");
    assert_eq!(p["version"], 1);

    let got = api
        .get("/api/v1/prompts/code-review")
        .await
        .expect(StatusCode::OK);
    assert_eq!(&got, p);

    let updated = api
        .patch(
            "/api/v1/prompts/code-review",
            json!({ "content": "Review {{code}} carefully", "pinned": true }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["pinned"], true);
    assert_eq!(updated["description"], "d");

    api.delete("/api/v1/prompts/code-review")
        .await
        .expect(StatusCode::NO_CONTENT);
    api.get("/api/v1/prompts/code-review").await.expect_error(
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    api.delete("/api/v1/prompts/code-review")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
}

#[tokio::test]
async fn create_rejects_bad_input_by_field_and_saves_nothing() {
    let api = Api::new().await;
    api.seed(json!([{ "slug": "taken", "name": "T", "content": "x" }]))
        .await;
    let cases = [
        (
            json!({ "prompts": [{ "name": "ok", "content": "x" }, { "name": "", "content": "x" }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "prompts[1].name",
        ),
        (
            json!({ "prompts": [{ "slug": "Bad Slug", "name": "n", "content": "x" }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "prompts[0].slug",
        ),
        (
            json!({ "prompts": [{ "name": "n", "content": "x", "tags": "notalist" }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "prompts[0].tags",
        ),
        (
            json!({ "prompts": [{ "name": "n", "content": "x", "colour": "red" }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "prompts[0].colour",
        ),
        (
            json!({ "prompts": [{ "name": "n" }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "prompts[0].content",
        ),
        (
            json!({ "prompts": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "prompts",
        ),
        (
            json!({ "prompts": [{ "slug": "fresh", "name": "n", "content": "x" }, { "slug": "taken", "name": "n", "content": "x" }] }),
            StatusCode::CONFLICT,
            "conflict",
            "prompts[1].slug",
        ),
        (
            json!("just a string"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "body",
        ),
    ];
    for (body, status, code, field) in cases {
        api.post("/api/v1/prompts", body.clone())
            .await
            .expect_error(status, code, Some(field));
    }
    let list = api.get("/api/v1/prompts").await.expect(StatusCode::OK);
    assert_eq!(
        slugs(&list),
        ["taken"],
        "no failed request left anything behind"
    );

    // Not JSON at all, or not declared as JSON.
    let not_json = Request::post("/api/v1/prompts")
        .header(header::AUTHORIZATION, format!("Bearer {}", api.alice))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{oops"))
        .unwrap();
    api.raw(not_json)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "malformed", None);
    let text = Request::post("/api/v1/prompts")
        .header(header::AUTHORIZATION, format!("Bearer {}", api.alice))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    api.raw(text)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "malformed", None);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let api = Api::new().await;
    let huge = "x".repeat(promptdb_http::MAX_BODY_BYTES + 1);
    let r = api
        .post(
            "/api/v1/prompts",
            json!({ "prompts": [{ "name": "n", "content": huge }] }),
        )
        .await;
    r.expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None);
    // Big but within the limit: a full batch of prompts at the content limit.
    let content = "y".repeat(promptdb_core::validate::MAX_CONTENT_CHARS);
    let batch: Vec<Value> = (0..20)
        .map(|i| json!({ "slug": format!("p{i}"), "name": "n", "content": content }))
        .collect();
    api.post("/api/v1/prompts", json!({ "prompts": batch }))
        .await
        .expect(StatusCode::CREATED);
}

#[tokio::test]
async fn get_and_update_failures() {
    let api = Api::new().await;
    api.seed(json!([{ "slug": "p", "name": "P", "content": "x" }]))
        .await;
    api.get("/api/v1/prompts/NOPE!").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("slug"),
    );
    api.patch("/api/v1/prompts/missing", json!({ "name": "x" }))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    // An empty patch (or one of nulls) changes nothing and answers with the prompt.
    let same = api.get("/api/v1/prompts/p").await.expect(StatusCode::OK);
    for empty in [json!({}), json!({ "pinned": null, "tags": null })] {
        let r = api
            .patch("/api/v1/prompts/p", empty)
            .await
            .expect(StatusCode::OK);
        assert_eq!(r, same);
    }
    // A body must be an object, not a list of the fields in order.
    api.patch("/api/v1/prompts/p", json!(["x"]))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("body"));
    api.post("/api/v1/drafts", json!({ "fields": [] }))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("fields"));
    api.patch("/api/v1/prompts/p", json!({ "content": "" }))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("content"));
    api.patch("/api/v1/prompts/p", json!({ "slug": "renamed" }))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("slug"));
    assert_eq!(
        api.get("/api/v1/prompts/p").await.expect(StatusCode::OK)["version"],
        1
    );
}

#[tokio::test]
async fn list_search_filters_and_pages() {
    let api = Api::new().await;
    api.seed(json!([
        { "slug": "rust-review", "name": "Rust review", "content": "Review Rust code", "tags": ["rust", "review"], "pinned": true },
        { "slug": "go-review", "name": "Go review", "content": "Review Go code", "tags": ["go", "review"] },
        { "slug": "haiku", "name": "Haiku", "content": "Write a haiku", "tags": ["poetry"], "favorite": true },
    ]))
    .await;
    let all = api.get("/api/v1/prompts").await.expect(StatusCode::OK);
    assert_eq!(slugs(&all)[0], "rust-review", "pinned first");
    assert!(
        all["items"][0].get("content").is_none(),
        "lists carry summaries"
    );
    assert_eq!(
        slugs(
            &api.get("/api/v1/prompts?tag=review&tag=go")
                .await
                .expect(StatusCode::OK)
        ),
        ["go-review"]
    );
    assert_eq!(
        slugs(
            &api.get("/api/v1/prompts?favorite=true")
                .await
                .expect(StatusCode::OK)
        ),
        ["haiku"]
    );
    assert_eq!(
        slugs(
            &api.get("/api/v1/prompts?pinned=false&tag=review")
                .await
                .expect(StatusCode::OK)
        ),
        ["go-review"]
    );
    let found = api
        .get("/api/v1/prompts?q=review%20rust")
        .await
        .expect(StatusCode::OK);
    assert_eq!(slugs(&found), ["rust-review"]);
    assert_eq!(
        slugs(
            &api.get("/api/v1/prompts?q=%23poetry")
                .await
                .expect(StatusCode::OK)
        ),
        ["haiku"]
    );

    let first = api
        .get("/api/v1/prompts?limit=2")
        .await
        .expect(StatusCode::OK);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = api
        .get(&format!("/api/v1/prompts?limit=2&cursor={cursor}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second.get("next_cursor").is_none());

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("pinned=maybe", "pinned"),
        ("cursor=zzz", "cursor"),
        ("q=x&cursor=l.0.3ff0000000000000.a", "cursor"),
        ("tag=bad%20tag", "tags[0]"),
        ("sort=name", "sort"),
    ] {
        api.get(&format!("/api/v1/prompts?{query}"))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(field));
    }
    // An empty search, or one with nothing to search for, finds nothing.
    for query in ["q=", "q=%21%21%21"] {
        let r = api.get(&format!("/api/v1/prompts?{query}")).await;
        assert_eq!(r.expect(StatusCode::OK)["items"], json!([]), "{query}");
    }
}

#[tokio::test]
async fn uses_render_versions_and_tags() {
    let api = Api::new().await;
    api.seed(
        json!([{ "slug": "greet", "name": "Greet", "content": "Hello {{name}}", "tags": ["a", "b"],
        "variables": [{ "name": "name", "required": true }] }]),
    )
    .await;
    let used = api
        .send(
            Method::POST,
            "/api/v1/prompts/greet/uses",
            Some(&api.alice),
            None,
        )
        .await;
    // The body is optional; when there is one it is an object.
    assert_eq!(used.expect(StatusCode::OK)["usage_count"], 1);
    api.post("/api/v1/prompts/greet/uses", json!(null))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("body"));
    api.send(
        Method::POST,
        "/api/v1/prompts/nope/uses",
        Some(&api.alice),
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);

    let r = api
        .post(
            "/api/v1/prompts/greet/render",
            json!({ "variables": { "name": "Ada" } }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (r["text"].as_str(), r["version"].as_u64()),
        (Some("Hello Ada"), Some(1))
    );
    api.post("/api/v1/prompts/greet/render", json!({ "variables": {} }))
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("variables.name"),
        );
    api.post(
        "/api/v1/prompts/greet/render",
        json!({ "variables": { "name": "x", "extra": "y" } }),
    )
    .await
    .expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("variables.extra"),
    );

    api.patch("/api/v1/prompts/greet", json!({ "content": "Hi {{name}}" }))
        .await
        .expect(StatusCode::OK);
    let versions = api
        .get("/api/v1/prompts/greet/versions?limit=1")
        .await
        .expect(StatusCode::OK);
    assert_eq!(versions["items"][0]["version"], 2);
    let cursor = versions["next_cursor"].as_str().unwrap();
    let older = api
        .get(&format!("/api/v1/prompts/greet/versions?cursor={cursor}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(older["items"][0]["content"], "Hello {{name}}");
    assert_eq!(
        api.get("/api/v1/prompts/greet/versions/1")
            .await
            .expect(StatusCode::OK)["content"],
        "Hello {{name}}"
    );
    api.get("/api/v1/prompts/greet/versions/9")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    api.get("/api/v1/prompts/greet/versions/one")
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("version"));
    api.get("/api/v1/prompts/greet/versions/0")
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("version"));
    api.get("/api/v1/prompts/nope/versions").await.expect_error(
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    api.get("/api/v1/prompts/greet/versions?limit=500")
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("limit"));

    let tags = api.get("/api/v1/tags").await.expect(StatusCode::OK);
    assert_eq!(
        tags,
        json!({ "tags": [{ "tag": "a", "count": 1 }, { "tag": "b", "count": 1 }] })
    );
}

#[tokio::test]
async fn drafts_lifecycle() {
    let api = Api::new().await;
    let d = api
        .post(
            "/api/v1/drafts",
            json!({ "fields": { "name": "Draft", "content": "wip" } }),
        )
        .await
        .expect(StatusCode::OK);
    let id = d["id"].as_str().unwrap().to_owned();
    let again = api
        .post(
            "/api/v1/drafts",
            json!({ "id": id, "fields": { "content": "more" } }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(again["id"], d["id"]);
    assert_eq!(again["fields"], json!({ "content": "more" }));
    assert_eq!(
        api.get(&format!("/api/v1/drafts/{id}"))
            .await
            .expect(StatusCode::OK)["fields"]["content"],
        "more"
    );
    assert_eq!(
        api.get("/api/v1/drafts").await.expect(StatusCode::OK)["drafts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get("/api/v1/drafts/summary")
            .await
            .expect(StatusCode::OK)["count"],
        1
    );
    api.get("/api/v1/drafts/not-a-uuid").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("id"),
    );
    api.post(
        "/api/v1/drafts",
        json!({ "fields": { "tags": ["bad tag"] } }),
    )
    .await
    .expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("fields.tags[0]"),
    );
    // Bob cannot see or take over Alice's draft.
    api.send(
        Method::GET,
        &format!("/api/v1/drafts/{id}"),
        Some(&api.bob),
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    api.send(
        Method::POST,
        "/api/v1/drafts",
        Some(&api.bob),
        Some(json!({ "id": id, "fields": {} })),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    api.delete(&format!("/api/v1/drafts/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    api.delete(&format!("/api/v1/drafts/{id}"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
}

#[tokio::test]
async fn preferences_get_put_patch() {
    let api = Api::new().await;
    assert_eq!(
        api.get("/api/v1/preferences").await.expect(StatusCode::OK),
        json!({})
    );
    api.put("/api/v1/preferences", json!({ "theme": "dark", "x": 1 }))
        .await
        .expect(StatusCode::OK);
    let merged = api
        .patch("/api/v1/preferences", json!({ "x": null, "y": true }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(merged, json!({ "theme": "dark", "y": true }));
    let replaced = api
        .put("/api/v1/preferences", json!({ "theme": "light" }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(replaced, json!({ "theme": "light" }));
    api.patch("/api/v1/preferences", json!({ "theme": "neon" }))
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("preferences.theme"),
        );
    api.put("/api/v1/preferences", json!(["not", "an", "object"]))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("body"));
    assert_eq!(
        api.get("/api/v1/preferences").await.expect(StatusCode::OK),
        json!({ "theme": "light" })
    );
}

/// The export is streamed a page of prompts at a time and reads as the service's whole export.
#[tokio::test]
async fn export_streams_every_page_as_one_document() {
    let api = Api::new().await;
    let total = promptdb_core::EXPORT_PAGE * 2 + 3;
    for start in (0..total).step_by(100) {
        let batch: Vec<_> = (start..(start + 100).min(total))
            .map(|i| json!({ "slug": format!("p-{i:04}"), "name": "P", "content": format!("{i}") }))
            .collect();
        api.post("/api/v1/prompts", json!({ "prompts": batch }))
            .await
            .expect(StatusCode::CREATED);
    }
    api.put("/api/v1/preferences", json!({ "theme": "dark" }))
        .await
        .expect(StatusCode::OK);
    let r = api.get("/api/v1/export").await;
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    let mut streamed = r.expect(StatusCode::OK);
    let mut whole = serde_json::to_value(
        api.db
            .export_user(&promptdb_core::Principal::full(api.alice_id))
            .await
            .unwrap(),
    )
    .unwrap();
    for doc in [&mut streamed, &mut whole] {
        doc.as_object_mut().unwrap().remove("exported_at");
    }
    assert_eq!(streamed["prompts"].as_array().unwrap().len(), total);
    assert_eq!(streamed["preferences"]["theme"], "dark");
    assert_eq!(streamed, whole);
}

#[tokio::test]
async fn me_export_and_account_deletion() {
    let api = Api::new().await;
    api.seed(json!([{ "slug": "mine", "name": "Mine", "content": "x" }]))
        .await;
    let me = api.get("/api/v1/me").await.expect(StatusCode::OK);
    assert_eq!(me["display_name"], "Alice");
    assert_eq!(me["scopes"], json!(["read", "write"]));
    let export = api.get("/api/v1/export").await;
    assert!(
        export.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"promptdb-export-")
    );
    let export = export.expect(StatusCode::OK);
    assert_eq!(export["format"], "promptdb-export");
    assert_eq!(export["prompts"][0]["slug"], "mine");
    assert_eq!(
        export["prompts"][0]["versions"].as_array().unwrap().len(),
        1
    );

    api.delete("/api/v1/me")
        .await
        .expect(StatusCode::NO_CONTENT);
    // The key died with the account.
    api.get("/api/v1/me")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
    // Bob is untouched.
    api.send(Method::GET, "/api/v1/me", Some(&api.bob), None)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn api_keys_create_list_revoke_and_scopes() {
    let api = Api::new().await;
    let created = api
        .post("/api/v1/keys", json!({ "name": "cli", "scopes": ["read"] }))
        .await
        .expect(StatusCode::CREATED);
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let keys = api.get("/api/v1/keys").await.expect(StatusCode::OK);
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
    assert!(
        !keys.to_string().contains(&secret),
        "secrets are never listed"
    );

    // The read-only key reads but cannot write.
    api.send(Method::GET, "/api/v1/prompts", Some(&secret), None)
        .await
        .expect(StatusCode::OK);
    api.send(
        Method::POST,
        "/api/v1/prompts",
        Some(&secret),
        Some(json!({ "prompts": [{ "name": "n", "content": "x" }] })),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden", None);
    api.send(
        Method::POST,
        "/api/v1/keys",
        Some(&secret),
        Some(json!({ "name": "escalate" })),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden", None);

    api.delete(&format!("/api/v1/keys/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    api.send(Method::GET, "/api/v1/prompts", Some(&secret), None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
    api.delete(&format!("/api/v1/keys/{id}"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    api.delete("/api/v1/keys/xyz").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("id"),
    );
    api.post("/api/v1/keys", json!({ "name": "" }))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("name"));
    api.post("/api/v1/keys", json!({ "name": "x", "scopes": ["admin"] }))
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("scopes[0]"),
        );
}

#[tokio::test]
async fn users_never_see_each_other() {
    let api = Api::new().await;
    api.seed(json!([{ "slug": "secret-plan", "name": "Secret plan", "content": "zebra", "tags": ["private"] }])).await;
    let bob = Some(api.bob.as_str());
    let as_bob = |m: Method, p: &'static str, b: Option<Value>| api.send(m, p, bob, b);
    as_bob(Method::GET, "/api/v1/prompts/secret-plan", None)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(
        as_bob(Method::GET, "/api/v1/prompts", None)
            .await
            .expect(StatusCode::OK)["items"],
        json!([])
    );
    assert_eq!(
        as_bob(Method::GET, "/api/v1/prompts?q=zebra", None)
            .await
            .expect(StatusCode::OK)["items"],
        json!([])
    );
    assert_eq!(
        as_bob(Method::GET, "/api/v1/tags", None)
            .await
            .expect(StatusCode::OK)["tags"],
        json!([])
    );
    as_bob(
        Method::PATCH,
        "/api/v1/prompts/secret-plan",
        Some(json!({ "name": "pwned" })),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    as_bob(Method::DELETE, "/api/v1/prompts/secret-plan", None)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    as_bob(Method::POST, "/api/v1/prompts/secret-plan/uses", None)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    as_bob(Method::GET, "/api/v1/prompts/secret-plan/versions", None)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    as_bob(Method::GET, "/api/v1/prompts/secret-plan/versions/1", None)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    as_bob(
        Method::POST,
        "/api/v1/prompts/secret-plan/render",
        Some(json!({})),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    let export = as_bob(Method::GET, "/api/v1/export", None)
        .await
        .expect(StatusCode::OK);
    assert!(!export.to_string().contains("zebra"));
    let alice = api
        .get("/api/v1/prompts/secret-plan")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (alice["name"].as_str(), alice["usage_count"].as_u64()),
        (Some("Secret plan"), Some(0))
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_use_the_error_shape() {
    let api = Api::new().await;
    api.get("/api/v1/nothing")
        .await
        .expect_error(StatusCode::NOT_FOUND, "no_route", None);
    api.send(
        Method::PUT,
        "/api/v1/tags",
        Some(&api.alice),
        Some(json!({})),
    )
    .await
    .expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", None);
}

#[tokio::test]
async fn trace_context_is_continued() {
    let api = Api::new().await;
    let req = Request::get("/health")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(Body::empty())
        .unwrap();
    let r = api.raw(req).await;
    let tp = r.headers["traceparent"].to_str().unwrap();
    assert!(
        tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{tp}"
    );
    assert!(
        !tp.contains("00f067aa0ba902b7"),
        "the response names the server's own span"
    );
    let fresh = api.send(Method::GET, "/health", None, None).await;
    assert!(
        promptdb_http::telemetry::parse_traceparent(fresh.headers["traceparent"].to_str().unwrap())
            .is_some()
    );
}

#[tokio::test]
async fn the_change_feed_pages_everywhere_and_streams_only_where_a_response_can_stay_open() {
    let api = Api::new().await;
    api.seed(json!([{ "slug": "a", "name": "A", "content": "one" }]))
        .await;
    let page = api
        .get("/api/v1/changes?after=0")
        .await
        .expect(StatusCode::OK);
    assert_eq!(page["head"], 1);
    assert_eq!(page["changes"][0]["kind"], "version_created");

    // The Lambda's router: pages yes, streams no, with the reason.
    let state = promptdb_http::state::AppState::new(api.db.clone(), Default::default());
    let lambda = promptdb_http::stateless_app(state);
    for (accept, status) in [("application/json", 200), ("text/event-stream", 422)] {
        let req = Request::builder()
            .uri("/api/v1/changes")
            .header(header::AUTHORIZATION, format!("Bearer {}", api.alice))
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap();
        let r = tower::ServiceExt::oneshot(lambda.clone(), req)
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{accept}");
        if status == 422 {
            let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"]["field"], "Accept", "{body}");
        }
    }
}

#[tokio::test]
async fn change_streams_are_limited_per_user_and_free_their_place_when_closed() {
    let api = Api::new().await;
    let open = |key: String| {
        let app = api.app.clone();
        async move {
            let req = Request::builder()
                .uri("/api/v1/changes")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .header(header::ACCEPT, "text/event-stream")
                .body(Body::empty())
                .unwrap();
            tower::ServiceExt::oneshot(app, req).await.unwrap()
        }
    };
    let mut streams = Vec::new();
    for _ in 0..promptdb_http::rest::changes::MAX_STREAMS_PER_USER {
        let r = open(api.alice.clone()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/event-stream");
        streams.push(r);
    }
    let r = open(api.alice.clone()).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded", "{body}");
    assert_eq!(body["error"]["field"], "streams", "{body}");
    // Another user has places of their own; a closed stream frees one.
    assert_eq!(open(api.bob.clone()).await.status(), StatusCode::OK);
    streams.pop();
    assert_eq!(open(api.alice.clone()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_snapshot_too_large_is_refused_before_any_prompt_is_read() {
    let api = Api::new().await;
    let limit = promptdb_core::release::MAX_SNAPSHOT_PROMPTS;
    for batch in 0..=limit / 100 {
        let prompts: Vec<Value> = (0..100)
            .map(|i| json!({ "slug": format!("p{batch}-{i}"), "name": "P", "content": "x" }))
            .collect();
        api.seed(Value::Array(prompts)).await;
    }
    // Every prompt is at `latest`: one more than a snapshot holds.
    let r = api.get("/api/v1/snapshot?label=latest").await;
    r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("label"));
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("folder"),
        "{}",
        r.body
    );
    // A label nothing has is an empty snapshot, with its hash.
    let snap = api
        .get("/api/v1/snapshot?label=production")
        .await
        .expect(StatusCode::OK);
    assert_eq!(snap["releases"], json!([]));
    assert!(snap["hash"].as_str().unwrap().starts_with("sha256:"));
}

/// Webhooks over REST: the secret in the creation answer only, every rejection names its field,
/// another user's hook is not found, the eleventh is over the quota.
#[cfg(feature = "webhooks")]
#[tokio::test]
async fn webhooks_are_managed_and_checked() {
    let api = Api::new().await;
    let created = api
        .post(
            "/api/v1/webhooks",
            json!({ "url": "https://example.com/hook", "events": ["prompt_deleted"] }),
        )
        .await
        .expect(StatusCode::CREATED);
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let listed = api.get("/api/v1/webhooks").await.expect(StatusCode::OK);
    assert_eq!(listed["webhooks"][0]["id"], id.as_str());
    assert!(
        !listed.to_string().contains(&secret),
        "secrets are never listed"
    );
    let hook = api
        .get(&format!("/api/v1/webhooks/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(hook["events"], json!(["prompt_deleted"]));
    let paused = api
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({ "enabled": false, "description": "paused for now" }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (paused["enabled"].clone(), paused["description"].clone()),
        (json!(false), json!("paused for now"))
    );
    let log = api
        .get(&format!("/api/v1/webhooks/{id}/deliveries?limit=5"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(log["deliveries"], json!([]));

    for (body, field) in [
        (json!({ "url": "ftp://example.com" }), "url"),
        (json!({ "url": "http:example.com" }), "url"),
        (json!({ "url": "https://u:p@example.com" }), "url"),
        (
            json!({ "url": "https://example.com", "events": [] }),
            "events",
        ),
        (
            json!({ "url": "https://example.com", "events": ["label_moved", "label_moved", "label_moved", "label_moved"] }),
            "events",
        ),
        (
            json!({ "url": "https://example.com", "events": ["moved"] }),
            "events[0]",
        ),
        (
            json!({ "url": "https://example.com", "secret": "x" }),
            "secret",
        ),
    ] {
        let reply = api.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.field(), field, "{body}");
    }
    api.get(&format!("/api/v1/webhooks/{id}/deliveries?limit=0"))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("limit"));
    api.get(&format!("/api/v1/webhooks/{id}/deliveries?page=2"))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("page"));
    api.get("/api/v1/webhooks/xyz").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("id"),
    );

    // Bob's view: none of Alice's.
    let reply = api
        .send(
            Method::GET,
            &format!("/api/v1/webhooks/{id}"),
            Some(&api.bob),
            None,
        )
        .await;
    reply.expect_error(StatusCode::NOT_FOUND, "not_found", None);

    for i in 1..10 {
        api.post(
            "/api/v1/webhooks",
            json!({ "url": format!("https://example.com/{i}") }),
        )
        .await
        .expect(StatusCode::CREATED);
    }
    api.post(
        "/api/v1/webhooks",
        json!({ "url": "https://example.com/11" }),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "quota_exceeded", Some("webhooks"));
    api.delete(&format!("/api/v1/webhooks/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    api.delete(&format!("/api/v1/webhooks/{id}"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
}
