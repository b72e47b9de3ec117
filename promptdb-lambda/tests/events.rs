//! API Gateway REST and HTTP API events and Function URL events, read by lambda_http and routed
//! through the handler in-process, over an in-memory SQLite store.

mod common;

use axum::http::{StatusCode, header};
use common::{Event, Source, TestApp};
use serde_json::{Value, json};

fn new_prompt() -> Value {
    json!({ "prompts": [{ "name": "Code Review", "content": "Review {{code}} carefully.", "tags": ["dev"] }] })
}

fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": { "name": "promptdb-lambda-tests", "version": "1.0.0" }
        }
    })
}

#[tokio::test]
async fn a_rest_api_event_is_routed_without_its_stage() {
    let t = TestApp::new().await;
    // The fixture: POST /api/v1/prompts on stage `prod`, which lambda_http puts in the path.
    let saved = t
        .send(Event::new(Source::RestApi).bearer(&t.key))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(saved["prompts"][0]["slug"], "code-review");
    let got = t
        .send(Event::request(Source::RestApi, "GET", "/api/v1/prompts/code-review").bearer(&t.key))
        .await
        .expect(StatusCode::OK);
    assert_eq!(got["name"], "Code Review");
}

#[tokio::test]
async fn an_http_api_event_keeps_its_query_string() {
    let t = TestApp::new().await;
    t.send(Event::new(Source::RestApi).bearer(&t.key))
        .await
        .expect(StatusCode::CREATED);
    // The fixture: GET /api/v1/prompts?tag=dev.
    let page = t
        .send(Event::new(Source::HttpApi).bearer(&t.key))
        .await
        .expect(StatusCode::OK);
    assert_eq!(page["items"][0]["slug"], "code-review", "{page}");
    let none = t
        .send(
            Event::new(Source::HttpApi)
                .path("/api/v1/prompts?tag=nothing-has-this")
                .bearer(&t.key),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(none["items"], json!([]));
    // An unknown parameter reaches the handler too, which refuses it by name.
    let r = t
        .send(
            Event::new(Source::HttpApi)
                .path("/api/v1/prompts?colour=red")
                .bearer(&t.key),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["field"], "colour");
}

#[tokio::test]
async fn an_http_api_named_stage_is_not_part_of_the_route() {
    let t = TestApp::new().await;
    let r = t
        .send(Event::new(Source::HttpApi).stage("staging").bearer(&t.key))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let health = t
        .send(Event::request(Source::HttpApi, "GET", "/health").stage("staging"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn a_function_url_event_reads_a_prompt() {
    let t = TestApp::new().await;
    // The fixture: GET /api/v1/prompts/code-review.
    let missing = t.send(Event::new(Source::FunctionUrl).bearer(&t.key)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(missing.code(), "not_found");
    t.send(
        Event::new(Source::FunctionUrl)
            .method("POST")
            .path("/api/v1/prompts")
            .bearer(&t.key)
            .json(&new_prompt()),
    )
    .await
    .expect(StatusCode::CREATED);
    let got = t
        .send(Event::new(Source::FunctionUrl).bearer(&t.key))
        .await
        .expect(StatusCode::OK);
    assert_eq!(got["content"], "Review {{code}} carefully.");
}

#[tokio::test]
async fn a_base64_body_is_decoded() {
    let t = TestApp::new().await;
    // {"prompts":[{"name":"Encoded","content":"Sent as base64."}]}
    let body = "eyJwcm9tcHRzIjpbeyJuYW1lIjoiRW5jb2RlZCIsImNvbnRlbnQiOiJTZW50IGFzIGJhc2U2NC4ifV19";
    let saved = t
        .send(
            Event::new(Source::HttpApi)
                .method("POST")
                .path("/api/v1/prompts")
                .header("content-type", "application/json")
                .body(Some(body), true)
                .bearer(&t.key),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(saved["prompts"][0]["slug"], "encoded");
}

#[tokio::test]
async fn every_source_gets_401_without_a_key() {
    let t = TestApp::new().await;
    for source in Source::ALL {
        let r = t
            .send(Event::request(source, "GET", "/api/v1/prompts"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{source:?}: {}", r.body);
        assert_eq!(r.code(), "unauthorized", "{source:?}");
        assert!(
            r.headers.contains_key(header::WWW_AUTHENTICATE),
            "{source:?}"
        );
        let r = t
            .send(Event::request(source, "GET", "/api/v1/prompts").bearer("pdb_not-a-real-key"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{source:?}: {}", r.body);
    }
}

#[tokio::test]
async fn unknown_routes_are_404() {
    let t = TestApp::new().await;
    for source in Source::ALL {
        let r = t
            .send(Event::request(source, "GET", "/api/v2/nothing-here").bearer(&t.key))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{source:?}: {}", r.body);
        assert_eq!(r.code(), "no_route", "{source:?}");
    }
}

#[tokio::test]
async fn bad_json_is_400() {
    let t = TestApp::new().await;
    for source in Source::ALL {
        let r = t
            .send(
                Event::request(source, "POST", "/api/v1/prompts")
                    .bearer(&t.key)
                    .header("Content-Type", "application/json")
                    .body(Some("{\"prompts\": [{\"name\": "), false),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{source:?}: {}", r.body);
        assert_eq!(r.code(), "malformed", "{source:?}");
    }
}

#[tokio::test]
async fn mcp_is_stateless_json_over_every_source() {
    let t = TestApp::new().await;
    for source in Source::ALL {
        let init = t.send(Event::mcp(source, &t.key, &initialize())).await;
        assert_eq!(init.status, StatusCode::OK, "{source:?}: {}", init.body);
        assert!(
            init.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{source:?}: a JSON response, not an event stream"
        );
        assert!(
            !init.headers.contains_key("mcp-session-id"),
            "{source:?}: no session"
        );
        assert_eq!(init.body["result"]["serverInfo"]["name"], "promptdb");

        // No session id: the next request stands alone.
        let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
        let tools = t
            .send(Event::mcp(source, &t.key, &list).header("MCP-Protocol-Version", "2025-06-18"))
            .await
            .expect(StatusCode::OK);
        let names: Vec<&str> = tools["result"]["tools"]
            .as_array()
            .expect("a tool list")
            .iter()
            .filter_map(|tool| tool["name"].as_str())
            .collect();
        assert!(names.contains(&"search_prompts"), "{source:?}: {names:?}");
        assert!(names.contains(&"save_prompts"), "{source:?}: {names:?}");
    }
}

#[tokio::test]
async fn mcp_checks_the_key_and_the_host() {
    let t = TestApp::new().await;
    let r = t
        .send(
            Event::mcp(Source::FunctionUrl, &t.key, &initialize()).without_header("Authorization"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);

    let t =
        TestApp::with_settings(|s| s.mcp_allowed_hosts = vec!["prompts.example.com".into()]).await;
    let r = t
        .send(Event::mcp(Source::FunctionUrl, &t.key, &initialize()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}

#[tokio::test]
async fn rate_limits_count_the_address_in_the_event() {
    let t = TestApp::with_settings(|s| {
        s.auth.rate_limit.ip_burst = 2;
        s.auth.rate_limit.ip_per_second = 0.001;
    })
    .await;
    let from = |ip: &str| {
        Event::request(Source::HttpApi, "GET", "/api/v1/prompts")
            .bearer(&t.key)
            .source_ip(ip)
    };
    for _ in 0..2 {
        t.send(from("198.51.100.23")).await.expect(StatusCode::OK);
    }
    let limited = t.send(from("198.51.100.23")).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    // Another caller behind the same API is not limited.
    t.send(from("192.0.2.99")).await.expect(StatusCode::OK);
}

#[test]
fn events_from_other_services_are_refused() {
    for payload in [r#"{"foo": 1}"#, "not JSON", r#"{"Records": []}"#] {
        assert!(
            lambda_http::request::from_str(payload).is_err(),
            "{payload} is not an HTTP event"
        );
    }
}
