//! The Langfuse-compatible API through the real router: Basic auth with a key pair, get by label
//! and version, create (text and chat), label moves, list, delete, names, errors in Langfuse's
//! shape. The real Langfuse SDKs drive the real binary in the top-level `tests/e2e_langfuse.rs`.

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use base64::Engine as _;
use common::{Api, Reply};
use promptdb_core::{NewApiKey, Principal, Scope};
use serde_json::{Value, json};

struct Lf {
    api: Api,
    basic: String,
}

impl Lf {
    async fn new() -> Self {
        let api = Api::new().await;
        let created = api
            .db
            .create_api_key(
                &Principal::full(api.alice_id),
                NewApiKey {
                    name: "langfuse".into(),
                    scopes: vec![Scope::Read, Scope::Write, Scope::Release],
                },
            )
            .await
            .unwrap();
        let pair = format!("pk-pdb-{}:{}", created.key.id, created.secret);
        let basic = base64::engine::general_purpose::STANDARD.encode(pair);
        Self { api, basic }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(&format!("Basic {}", self.basic), method, path, body)
            .await
    }

    async fn call_as(&self, auth: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/api/public{path}"))
            .header(header::AUTHORIZATION, auth);
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        self.api.raw(req.body(body).unwrap()).await
    }
}

#[track_caller]
fn lf_error(r: &Reply, status: StatusCode, error: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["error"], error, "{}", r.body);
    assert!(
        r.body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn create_get_label_list_delete() {
    let lf = Lf::new().await;
    // Created as the Python SDK sends it: no type, null tags and commit message.
    let created = lf
        .call(
            Method::POST,
            "/v2/prompts",
            Some(json!({"name": "team/Support Bot", "prompt": "Hello {{name}}", "config": {"temperature": 0.1}, "labels": [], "tags": null, "commitMessage": null})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    for field in [
        "name", "version", "type", "prompt", "config", "labels", "tags",
    ] {
        assert!(
            created.body.get(field).is_some(),
            "{field} in {}",
            created.body
        );
    }
    assert_eq!(created.body["name"], "team/Support Bot");
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["type"], "text");
    assert_eq!(created.body["labels"], json!(["latest"]));
    assert_eq!(created.body["commitMessage"], Value::Null);

    // A second version, labelled production; the name comes back exactly, folders encoded.
    let v2 = lf
        .call(
            Method::POST,
            "/v2/prompts",
            Some(json!({"name": "team/Support Bot", "type": "text", "prompt": "Hi {{name}}!", "labels": ["production"], "commitMessage": "friendlier"})),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["labels"], json!(["latest", "production"]));
    let path = "/v2/prompts/team%2FSupport%20Bot";
    let got = lf
        .call(Method::GET, path, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (got["version"].as_u64(), got["prompt"].as_str()),
        (Some(2), Some("Hi {{name}}!"))
    );
    assert_eq!(got["name"], "team/Support Bot");
    assert_eq!(got["commitMessage"], "friendlier");
    let v1 = lf
        .call(Method::GET, &format!("{path}?version=1"), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(v1["prompt"], "Hello {{name}}");
    assert_eq!(v1["config"], json!({"temperature": 0.1}));
    lf_error(
        &lf.call(
            Method::GET,
            &format!("{path}?version=1&label=production"),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "InvalidRequestError",
    );
    lf_error(
        &lf.call(Method::GET, &format!("{path}?label=staging"), None)
            .await,
        StatusCode::NOT_FOUND,
        "LangfuseNotFoundError",
    );
    // Another name that maps elsewhere is another prompt.
    lf_error(
        &lf.call(Method::GET, "/v2/prompts/team%2Fsupport%20bot", None)
            .await,
        StatusCode::NOT_FOUND,
        "LangfuseNotFoundError",
    );

    // Labels move with PATCH; latest may not.
    let patched = lf
        .call(
            Method::PATCH,
            &format!("{path}/versions/1"),
            Some(json!({"newLabels": ["production", "staging"]})),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(patched["labels"], json!(["production", "staging"]));
    assert_eq!(
        lf.call(Method::GET, path, None)
            .await
            .expect(StatusCode::OK)["version"],
        1
    );
    lf_error(
        &lf.call(
            Method::PATCH,
            &format!("{path}/versions/1"),
            Some(json!({"newLabels": ["latest"]})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "InvalidRequestError",
    );
    lf_error(
        &lf.call(
            Method::PATCH,
            &format!("{path}/versions/9"),
            Some(json!({"newLabels": ["x"]})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "LangfuseNotFoundError",
    );

    // The same prompt through PromptDB's own API, under its slug.
    let list = lf
        .api
        .get("/api/v1/prompts?folder=team")
        .await
        .expect(StatusCode::OK);
    let slug = list["items"][0]["slug"].as_str().unwrap().to_owned();
    assert!(slug.starts_with("team/support-bot-"), "{slug}");
    let history = lf
        .api
        .get(&format!(
            "/api/v1/prompts/{}/label-moves",
            slug.replace('/', "%2F")
        ))
        .await
        .expect(StatusCode::OK);
    assert!(history["items"].as_array().unwrap().len() >= 3);

    // The list: pages, filters, the SDKs' required fields.
    lf.call(
        Method::POST,
        "/v2/prompts",
        Some(json!({"name": "other", "prompt": "x", "tags": ["t"]})),
    )
    .await
    .expect(StatusCode::CREATED);
    let all = lf
        .call(Method::GET, "/v2/prompts?limit=1&page=1", None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        all["meta"],
        json!({"page": 1, "limit": 1, "totalItems": 2, "totalPages": 2})
    );
    let item = &all["data"][0];
    for field in [
        "name",
        "type",
        "versions",
        "labels",
        "tags",
        "lastUpdatedAt",
        "lastConfig",
    ] {
        assert!(item.get(field).is_some(), "{field} in {item}");
    }
    let labelled = lf
        .call(Method::GET, "/v2/prompts?label=staging", None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(labelled["data"][0]["name"], "team/Support Bot");
    assert_eq!(labelled["data"][0]["versions"], json!([1]));
    let by_name = lf
        .call(Method::GET, "/v2/prompts?name=team%2FSupport%20Bot", None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(by_name["data"][0]["versions"], json!([1, 2]));
    let tagged = lf
        .call(Method::GET, "/v2/prompts?tag=t", None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(tagged["data"][0]["name"], "other");
    lf_error(
        &lf.call(Method::GET, "/v2/prompts?limit=500", None).await,
        StatusCode::BAD_REQUEST,
        "InvalidRequestError",
    );

    // Delete a version, then the prompt.
    assert_eq!(
        lf.call(Method::DELETE, &format!("{path}?version=2"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let now = lf
        .call(Method::GET, &format!("{path}?label=latest"), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(now["version"], 1);
    assert_eq!(
        lf.call(Method::DELETE, path, None).await.status,
        StatusCode::NO_CONTENT
    );
    lf_error(
        &lf.call(Method::GET, path, None).await,
        StatusCode::NOT_FOUND,
        "LangfuseNotFoundError",
    );
    lf_error(
        &lf.call(Method::DELETE, path, None).await,
        StatusCode::NOT_FOUND,
        "LangfuseNotFoundError",
    );
}

#[tokio::test]
async fn chat_prompts_and_composition() {
    let lf = Lf::new().await;
    lf.call(
        Method::POST,
        "/v2/prompts",
        Some(json!({"name": "Tone", "prompt": "be {{mood}}", "labels": ["production"]})),
    )
    .await
    .expect(StatusCode::CREATED);
    let created = lf
        .call(
            Method::POST,
            "/v2/prompts",
            Some(json!({"name": "chat-bot", "type": "chat", "prompt": [
                {"role": "system", "content": "You @@@langfusePrompt:name=Tone|label=production@@@.", "type": "chatmessage"},
                {"role": "user", "content": "{{question}}"}
            ], "labels": ["production"]})),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created["type"], "chat");
    let got = lf
        .call(Method::GET, "/v2/prompts/chat-bot", None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        got["prompt"],
        json!([
            {"role": "system", "content": "You be {{mood}}."},
            {"role": "user", "content": "{{question}}"}
        ])
    );
    assert!(
        got["prompt"][0].get("type").is_none(),
        "never type: message"
    );
    let raw = lf
        .call(Method::GET, "/v2/prompts/chat-bot?resolve=false", None)
        .await
        .expect(StatusCode::OK);
    let tone_slug = raw["prompt"][0]["content"].as_str().unwrap().to_owned();
    assert!(
        tone_slug.contains("@@@langfusePrompt:name=tone-"),
        "{tone_slug}"
    );
    // Placeholders and type changes are refused with 400, never 409.
    let r = lf
        .call(Method::POST, "/v2/prompts", Some(json!({"name": "chat-bot", "type": "chat", "prompt": [{"type": "placeholder", "name": "history"}]})))
        .await;
    lf_error(&r, StatusCode::BAD_REQUEST, "InvalidRequestError");
    let r = lf
        .call(
            Method::POST,
            "/v2/prompts",
            Some(json!({"name": "chat-bot", "prompt": "now text"})),
        )
        .await;
    lf_error(&r, StatusCode::BAD_REQUEST, "InvalidRequestError");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("different prompt type"),
        "{}",
        r.body
    );
    let r = lf
        .call(Method::POST, "/v2/prompts", Some(json!({"name": "broken", "prompt": "@@@langfusePrompt:name=missing|label=production@@@"})))
        .await;
    lf_error(&r, StatusCode::BAD_REQUEST, "InvalidRequestError");
}

#[tokio::test]
async fn keys_are_checked_like_bearer_keys() {
    let lf = Lf::new().await;
    let projects = lf
        .call(Method::GET, "/projects", None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(projects["data"][0]["id"], lf.api.alice_id.to_string());
    assert!(projects["data"][0]["organization"]["name"].is_string());
    assert!(projects["data"][0]["metadata"].is_object());

    let r = lf.call_as("", Method::GET, "/projects", None).await;
    lf_error(&r, StatusCode::UNAUTHORIZED, "UnauthorizedError");
    let bad = base64::engine::general_purpose::STANDARD.encode("pk-pdb-x:pdb_nope");
    lf_error(
        &lf.call_as(&format!("Basic {bad}"), Method::GET, "/projects", None)
            .await,
        StatusCode::UNAUTHORIZED,
        "UnauthorizedError",
    );
    // The right secret with another key's public part is refused.
    let decoded = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&lf.basic)
            .unwrap(),
    )
    .unwrap();
    let secret = decoded.split_once(':').unwrap().1;
    let wrong = base64::engine::general_purpose::STANDARD.encode(format!(
        "pk-pdb-01a20000-0000-7000-8000-000000000000:{secret}"
    ));
    lf_error(
        &lf.call_as(&format!("Basic {wrong}"), Method::GET, "/projects", None)
            .await,
        StatusCode::UNAUTHORIZED,
        "UnauthorizedError",
    );
    // Bearer keys work too; a read-only key cannot create.
    let ro = lf.api.alice_read_only().await;
    let r = lf
        .call_as(
            &format!("Bearer {ro}"),
            Method::POST,
            "/v2/prompts",
            Some(json!({"name": "x", "prompt": "y"})),
        )
        .await;
    lf_error(&r, StatusCode::FORBIDDEN, "AccessDeniedError");
    // A write key without release cannot label production.
    let writer = lf.api.alice.clone();
    let r = lf
        .call_as(
            &format!("Bearer {writer}"),
            Method::POST,
            "/v2/prompts",
            Some(json!({"name": "x", "prompt": "y", "labels": ["production"]})),
        )
        .await;
    lf_error(&r, StatusCode::FORBIDDEN, "AccessDeniedError");
    // Bob sees none of Alice's prompts.
    lf.call(
        Method::POST,
        "/v2/prompts",
        Some(json!({"name": "mine", "prompt": "y", "labels": ["production"]})),
    )
    .await
    .expect(StatusCode::CREATED);
    let r = lf
        .call_as(
            &format!("Bearer {}", lf.api.bob),
            Method::GET,
            "/v2/prompts/mine",
            None,
        )
        .await;
    lf_error(&r, StatusCode::NOT_FOUND, "LangfuseNotFoundError");
    let bad_body = lf
        .call(
            Method::POST,
            "/v2/prompts",
            Some(json!({"prompt": "no name"})),
        )
        .await;
    lf_error(&bad_body, StatusCode::BAD_REQUEST, "InvalidRequestError");
}
