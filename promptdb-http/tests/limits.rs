//! Every list and object in a request has a limit that is checked while the body is read: one
//! item too many is refused with 422 naming the field, before any item past the limit is built,
//! and nothing is written.

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use common::{Api, Reply};
use promptdb_core::validate::{
    MAX_BATCH, MAX_CONFIG_ENTRIES, MAX_MESSAGES, MAX_PREFERENCE_KEYS, MAX_RENDER_VALUES,
    MAX_RESOLVE_BATCH, MAX_TAG_FILTERS, MAX_TAGS, MAX_VARIABLES, MAX_VARIANTS,
};
use serde_json::{Map, Value, json};

/// Sends a body as raw bytes (so that it can be cut off or malformed past a point).
async fn raw(api: &Api, method: Method, path: &str, body: String) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", api.alice))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    api.raw(req).await
}

fn items(n: usize, f: impl Fn(usize) -> Value) -> Value {
    Value::Array((0..n).map(f).collect())
}

fn entries(n: usize, f: impl Fn(usize) -> Value) -> Value {
    Value::Object(
        (0..n)
            .map(|i| (format!("k{i}"), f(i)))
            .collect::<Map<_, _>>(),
    )
}

#[track_caller]
fn refused(r: &Reply, field: &str, limit: usize) {
    r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(field));
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("at most {limit}")),
        "{field}: {message}"
    );
}

/// The same body with one item more than `limit` and then garbage: the garbage is never read.
fn cut_after_limit(body: &Value) -> String {
    let text = body.to_string();
    // Drop the closing brackets of the list and its object, and append an unparseable tail.
    assert!(text.ends_with("]}"));
    format!("{}, this is not JSON", &text[..text.len() - 2])
}

#[tokio::test]
async fn batches_of_prompts_are_bounded() {
    let api = Api::new().await;
    let prompt = |i: usize| json!({ "slug": format!("p{i}"), "name": "n", "content": "c" });
    let over = json!({ "prompts": items(MAX_BATCH + 1, prompt) });
    refused(
        &api.post("/api/v1/prompts", over).await,
        "prompts",
        MAX_BATCH,
    );
    // Past the limit the body is not even read: a syntax error there is never reached.
    let over = json!({ "prompts": items(MAX_BATCH + 1, prompt) });
    let r = raw(
        &api,
        Method::POST,
        "/api/v1/prompts",
        cut_after_limit(&over),
    )
    .await;
    refused(&r, "prompts", MAX_BATCH);
    // Nothing was written; exactly the limit is fine.
    assert_eq!(
        api.get("/api/v1/prompts").await.expect(StatusCode::OK)["items"],
        json!([])
    );
    let ok = json!({ "prompts": items(MAX_BATCH, prompt) });
    api.post("/api/v1/prompts", ok)
        .await
        .expect(StatusCode::CREATED);
}

#[tokio::test]
async fn fields_of_a_prompt_are_bounded() {
    let api = Api::new().await;
    let cases = [
        (
            "tags",
            items(MAX_TAGS + 1, |i| json!(format!("t{i}"))),
            MAX_TAGS,
        ),
        (
            "variables",
            items(MAX_VARIABLES + 1, |i| json!({ "name": format!("v{i}") })),
            MAX_VARIABLES,
        ),
        (
            "labels",
            items(MAX_TAGS + 1, |i| json!(format!("l{i}"))),
            MAX_TAGS,
        ),
        (
            "messages",
            items(
                MAX_MESSAGES + 1,
                |_| json!({ "role": "user", "content": "hi" }),
            ),
            MAX_MESSAGES,
        ),
        (
            "config",
            entries(MAX_CONFIG_ENTRIES + 1, |i| json!(i)),
            MAX_CONFIG_ENTRIES,
        ),
    ];
    for (field, value, limit) in cases {
        let mut prompt = json!({ "slug": "p", "name": "n", "content": "c" });
        prompt[field] = value;
        let r = api
            .post("/api/v1/prompts", json!({ "prompts": [prompt] }))
            .await;
        refused(&r, &format!("prompts[0].{field}"), limit);
    }
    api.seed(json!([{ "slug": "p", "name": "n", "content": "c" }]))
        .await;
    let cases = [
        (
            "tags",
            items(MAX_TAGS + 1, |i| json!(format!("t{i}"))),
            MAX_TAGS,
        ),
        (
            "variables",
            items(MAX_VARIABLES + 1, |i| json!({ "name": format!("v{i}") })),
            MAX_VARIABLES,
        ),
        (
            "messages",
            items(
                MAX_MESSAGES + 1,
                |_| json!({ "role": "user", "content": "hi" }),
            ),
            MAX_MESSAGES,
        ),
        (
            "config",
            entries(MAX_CONFIG_ENTRIES + 1, |i| json!(i)),
            MAX_CONFIG_ENTRIES,
        ),
    ];
    for (field, value, limit) in cases {
        let r = api
            .patch("/api/v1/prompts/p", json!({ field: value.clone() }))
            .await;
        refused(&r, field, limit);
        let r = api
            .post("/api/v1/drafts", json!({ "fields": { field: value } }))
            .await;
        refused(&r, &format!("fields.{field}"), limit);
    }
    // The prompt is unchanged: still version 1.
    assert_eq!(
        api.get("/api/v1/prompts/p").await.expect(StatusCode::OK)["version"],
        1
    );
}

#[tokio::test]
async fn values_batches_splits_preferences_and_scopes_are_bounded() {
    let api = Api::new().await;
    api.seed(json!([{ "slug": "p", "name": "n", "content": "c" }]))
        .await;
    let values = entries(MAX_RENDER_VALUES + 1, |_| json!("v"));
    let r = api
        .post(
            "/api/v1/prompts/p/render",
            json!({ "variables": values.clone() }),
        )
        .await;
    refused(&r, "variables", MAX_RENDER_VALUES);
    let r = api
        .post(
            "/api/v1/resolve",
            json!({ "prompts": [{ "slug": "p", "variables": values }] }),
        )
        .await;
    refused(&r, "prompts[0].variables", MAX_RENDER_VALUES);
    let batch = items(MAX_RESOLVE_BATCH + 1, |_| json!({ "slug": "p" }));
    let r = api
        .post("/api/v1/resolve", json!({ "prompts": batch }))
        .await;
    refused(&r, "prompts", MAX_RESOLVE_BATCH);

    let split = items(
        MAX_VARIANTS + 1,
        |i| json!({ "version": i + 1, "weight": 1 }),
    );
    let r = api
        .put(
            "/api/v1/prompts/p/labels/staging",
            json!({ "split": split }),
        )
        .await;
    refused(&r, "split", MAX_VARIANTS);

    let prefs = entries(MAX_PREFERENCE_KEYS + 1, |_| json!(1));
    refused(
        &api.put("/api/v1/preferences", prefs.clone()).await,
        "body",
        MAX_PREFERENCE_KEYS,
    );
    refused(
        &api.patch("/api/v1/preferences", prefs).await,
        "body",
        MAX_PREFERENCE_KEYS,
    );
    assert_eq!(
        api.get("/api/v1/preferences").await.expect(StatusCode::OK),
        json!({})
    );

    let scopes = json!(["read", "write", "release", "read"]);
    let r = api
        .post("/api/v1/keys", json!({ "name": "k", "scopes": scopes }))
        .await;
    refused(&r, "scopes", promptdb_core::MAX_SCOPES);
}

#[tokio::test]
async fn tag_filters_are_bounded_in_the_query_string() {
    let api = Api::new().await;
    let query: Vec<String> = (0..=MAX_TAG_FILTERS).map(|i| format!("tag=t{i}")).collect();
    let r = api
        .get(&format!("/api/v1/prompts?{}", query.join("&")))
        .await;
    r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("tag"));
}

#[tokio::test]
async fn quotas_answer_409_quota_exceeded_naming_the_quota() {
    let mut settings = promptdb_http::Settings::default();
    settings.core.max_prompts_per_user = 2;
    settings.core.max_versions_per_prompt = 2;
    let api = Api::with_settings(settings).await;
    let save =
        |slug: &'static str| json!({ "prompts": [{ "slug": slug, "name": slug, "content": "x" }] });
    api.post("/api/v1/prompts", save("a"))
        .await
        .expect(StatusCode::CREATED);
    api.post("/api/v1/prompts", save("b"))
        .await
        .expect(StatusCode::CREATED);
    api.post("/api/v1/prompts", save("c")).await.expect_error(
        StatusCode::CONFLICT,
        "quota_exceeded",
        Some("prompts"),
    );
    api.patch("/api/v1/prompts/a", json!({ "content": "x2" }))
        .await
        .expect(StatusCode::OK);
    api.patch("/api/v1/prompts/a", json!({ "content": "x3" }))
        .await
        .expect_error(StatusCode::CONFLICT, "quota_exceeded", Some("versions"));
    api.post("/api/v1/prompts/a/versions/1/restore", json!({}))
        .await
        .expect_error(StatusCode::CONFLICT, "quota_exceeded", Some("versions"));
    assert_eq!(
        api.get("/api/v1/prompts/a").await.expect(StatusCode::OK)["content"],
        "x2",
        "a refused edit changes nothing"
    );
}
