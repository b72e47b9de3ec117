//! MCP sessions over HTTP belong to the user who opened them, and a request id names one request
//! in flight: the real router, driven in process.

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use common::{Api, Reply};
use serde_json::{Value, json};

async fn mcp(api: &Api, key: &str, session: Option<&str>, body: Value) -> Reply {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream");
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-11-25");
    }
    api.raw(req.body(Body::from(body.to_string())).unwrap())
        .await
}

async fn open_session(api: &Api, key: &str) -> String {
    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": { "name": "test", "version": "1" },
        },
    });
    let r = mcp(api, key, None, init).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let session = r.headers["mcp-session-id"].to_str().unwrap().to_owned();
    let done = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let r = mcp(api, key, Some(&session), done).await;
    assert!(r.status.is_success(), "{}", r.body);
    session
}

#[tokio::test]
async fn a_session_answers_only_the_user_who_opened_it() {
    let api = Api::new().await;
    api.seed(json!([{ "slug": "secret", "name": "Secret", "content": "alice only" }]))
        .await;
    let session = open_session(&api, &api.alice).await;
    let call = json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "list_prompts", "arguments": {} },
    });
    let own = mcp(&api, &api.alice, Some(&session), call.clone()).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.to_string().contains("secret"), "{}", own.body);
    // Bob presents Alice's session: as if it did not exist, with nothing of hers in the answer.
    let other = mcp(&api, &api.bob, Some(&session), call.clone()).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);
    assert!(!other.body.to_string().contains("secret"));
    let stream = Request::builder()
        .method(Method::GET)
        .uri("/mcp")
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("Bearer {}", api.bob))
        .header(header::ACCEPT, "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .header("last-event-id", "0")
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.raw(stream).await.status, StatusCode::NOT_FOUND);
    let delete = Request::builder()
        .method(Method::DELETE)
        .uri("/mcp")
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, format!("Bearer {}", api.bob))
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.raw(delete).await.status, StatusCode::NOT_FOUND);
    // Alice's session still works.
    let again = mcp(&api, &api.alice, Some(&session), call).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.to_string().contains("secret"));
}
