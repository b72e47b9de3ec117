//! Authentication and abuse limits through the real router, in local mode (API keys). The
//! OpenID Connect side runs against a real provider in the end-to-end tests (`tests/e2e_auth.rs`).

mod common;

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Method, Request, StatusCode, header},
};
use common::{Api, Reply};
use promptdb_core::Scope;
use promptdb_http::Settings;
use serde_json::json;

fn limited(f: impl FnOnce(&mut promptdb_http::RateLimitSettings)) -> Settings {
    let mut s = Settings::default();
    s.auth.rate_limit.enabled = true;
    f(&mut s.auth.rate_limit);
    s
}

fn from(addr: &str, key: Option<&str>, path: &str) -> Request<Body> {
    let mut req = Request::get(path).extension(ConnectInfo(addr.parse::<SocketAddr>().unwrap()));
    if let Some(k) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    req.body(Body::empty()).unwrap()
}

#[track_caller]
fn assert_limited(r: &Reply) {
    r.expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
    let retry: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry >= 1,
        "Retry-After is whole seconds, at least 1: {retry}"
    );
}

#[tokio::test]
async fn each_user_has_a_bucket_of_their_own() {
    let api = Api::with_settings(limited(|r| {
        r.user_per_second = 0.01;
        r.user_burst = 3;
    }))
    .await;
    for _ in 0..3 {
        assert_eq!(api.get("/api/v1/prompts").await.status, StatusCode::OK);
    }
    let r = api.get("/api/v1/prompts").await;
    assert_limited(&r);
    // A write is refused whole, not half done.
    let r = api
        .post(
            "/api/v1/prompts",
            json!({"prompts": [{"slug": "a", "name": "A", "content": "x"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Bob is not slowed down by Alice, and MCP shares the user's bucket.
    let bob = api.bob.clone();
    let r = api
        .send(Method::GET, "/api/v1/prompts", Some(&bob), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api
        .send(Method::GET, "/api/v1/prompts/a", Some(&bob), None)
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "Alice's write never happened"
    );
    // Health checks are never limited.
    assert_eq!(
        api.send(Method::GET, "/health", None, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_address_has_a_bucket_and_loopback_is_exempt() {
    let api = Api::with_settings(limited(|r| {
        r.ip_per_second = 0.01;
        r.ip_burst = 2;
    }))
    .await;
    let alice = api.alice.clone();
    let bob = api.bob.clone();
    for _ in 0..2 {
        let r = api
            .raw(from("203.0.113.7:4000", Some(&alice), "/api/v1/prompts"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // The address is out of requests whoever is calling from it.
    let r = api
        .raw(from("203.0.113.7:4001", Some(&bob), "/api/v1/prompts"))
        .await;
    assert_limited(&r);
    let r = api
        .raw(from("203.0.113.8:4000", Some(&bob), "/api/v1/prompts"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "another address is unaffected");
    for _ in 0..5 {
        let r = api
            .raw(from("127.0.0.1:4000", Some(&alice), "/api/v1/prompts"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "loopback clients are exempt");
    }
}

#[tokio::test]
async fn forwarded_addresses_count_only_when_trusted() {
    let forwarded = |key: &str| {
        Request::get("/api/v1/prompts")
            .extension(ConnectInfo("10.0.0.2:5000".parse::<SocketAddr>().unwrap()))
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header("x-forwarded-for", "198.51.100.1, 198.51.100.9")
            .body(Body::empty())
            .unwrap()
    };
    // Trusted: the proxy's last entry is the client, so two clients behind one proxy differ.
    let api = Api::with_settings(limited(|r| {
        r.ip_per_second = 0.01;
        r.ip_burst = 1;
        r.trust_forwarded_for = true;
    }))
    .await;
    let alice = api.alice.clone();
    assert_eq!(api.raw(forwarded(&alice)).await.status, StatusCode::OK);
    assert_limited(&api.raw(forwarded(&alice)).await);
    assert_eq!(
        api.raw(from("10.0.0.2:5000", Some(&alice), "/api/v1/prompts"))
            .await
            .status,
        StatusCode::OK,
        "the proxy's own address has its own bucket"
    );
    // Untrusted: a client cannot pick a fresh address per request.
    let api = Api::with_settings(limited(|r| {
        r.ip_per_second = 0.01;
        r.ip_burst = 1;
    }))
    .await;
    let alice = api.alice.clone();
    assert_eq!(api.raw(forwarded(&alice)).await.status, StatusCode::OK);
    let mut spoofed = forwarded(&alice);
    spoofed
        .headers_mut()
        .insert("x-forwarded-for", "192.0.2.55".parse().unwrap());
    assert_limited(&api.raw(spoofed).await);
}

#[tokio::test]
async fn failed_authentications_are_limited_strictly_per_address() {
    let api = Api::with_settings(limited(|r| {
        r.auth_per_minute = 0.5;
        r.auth_burst = 3;
    }))
    .await;
    let guess = "pdb_0000000000000000000000000000000000000000";
    for _ in 0..3 {
        let r = api
            .raw(from("198.51.100.20:1", Some(guess), "/api/v1/prompts"))
            .await;
        r.expect_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
    }
    let r = api
        .raw(from("198.51.100.20:1", Some(guess), "/api/v1/prompts"))
        .await;
    assert_limited(&r);
    // Once blocked, even a right key from that address waits: guessing cannot go on in between.
    let alice = api.alice.clone();
    let r = api.raw(from("198.51.100.20:2", Some(&alice), "/mcp")).await;
    assert_limited(&r);
    // Successful requests and missing credentials do not use the budget of other addresses.
    let r = api
        .raw(from("198.51.100.21:1", Some(&alice), "/api/v1/prompts"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for _ in 0..5 {
        let r = api
            .raw(from("198.51.100.21:1", None, "/api/v1/prompts"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let api = Api::with_settings(limited(|r| {
        r.enabled = false;
        r.user_per_second = 0.01;
        r.user_burst = 1;
    }))
    .await;
    for _ in 0..5 {
        assert_eq!(api.get("/api/v1/prompts").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn local_mode_offers_no_login_and_no_resource_metadata() {
    let api = Api::new().await;
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
        "/auth/login",
    ] {
        let r = api.send(Method::GET, path, None, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {:?}", r.body);
    }
    let r = api.send(Method::GET, "/auth/session", None, None).await;
    r.expect_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
    // A session cookie means nothing without a provider: local mode is API keys only.
    let req = Request::get("/api/v1/prompts")
        .header(header::COOKIE, "pdb_session=pds_whatever")
        .body(Body::empty())
        .unwrap();
    let r = api.raw(req).await;
    r.expect_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
    assert_eq!(
        r.headers[header::WWW_AUTHENTICATE],
        "Bearer realm=\"promptdb\""
    );
}

#[tokio::test]
async fn a_read_only_key_reads_but_cannot_write_over_rest_or_mcp() {
    let api = Api::new().await;
    api.seed(json!([{"slug": "kept", "name": "Kept", "content": "x"}]))
        .await;
    let ro = api.alice_read_only().await;
    let r = api
        .send(Method::GET, "/api/v1/prompts/kept", Some(&ro), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = api
        .send(Method::DELETE, "/api/v1/prompts/kept", Some(&ro), None)
        .await;
    r.expect_error(StatusCode::FORBIDDEN, "forbidden", None);
    let call = |name: &str, args: serde_json::Value| {
        Request::post("/mcp")
            .header(header::AUTHORIZATION, format!("Bearer {ro}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .body(Body::from(
                json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": name, "arguments": args}})
                .to_string(),
            ))
            .unwrap()
    };
    let r = api
        .raw(call("delete_prompt", json!({"slug": "kept"})))
        .await;
    r.expect_error(StatusCode::FORBIDDEN, "forbidden", None);
    let r = api.get("/api/v1/prompts/kept").await;
    assert_eq!(r.status, StatusCode::OK, "nothing was deleted");
}

/// Signs in with `key` through `POST /auth/key`; the session and CSRF cookies.
async fn session_from_key(api: &Api, key: &str) -> (String, String) {
    let r = api
        .raw(
            Request::post("/auth/key")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({ "api_key": key }).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let cookie = |name: &str| {
        r.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.split(';').next())
            .unwrap_or_else(|| panic!("no {name} cookie"))
            .to_owned()
    };
    (cookie("pdb_session"), cookie("pdb_csrf"))
}

fn with_session(method: Method, path: &str, (session, csrf): &(String, String)) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, format!("pdb_session={session}"))
        .header("x-csrf-token", csrf)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_browser_session_may_do_what_its_sign_in_granted_and_no_more() {
    let api = Api::new().await;
    api.seed(json!([{"slug": "kept", "name": "Kept", "content": "x"}]))
        .await;
    let ro = api.alice_read_only().await;
    let read_only = session_from_key(&api, &ro).await;
    let r = api
        .raw(with_session(
            Method::GET,
            "/api/v1/prompts/kept",
            &read_only,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = api
        .raw(with_session(Method::GET, "/api/v1/me", &read_only))
        .await;
    assert_eq!(r.body["scopes"], json!(["read"]), "{:?}", r.body);
    let r = api
        .raw(with_session(
            Method::DELETE,
            "/api/v1/prompts/kept",
            &read_only,
        ))
        .await;
    r.expect_error(StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(api.get("/api/v1/prompts/kept").await.status, StatusCode::OK);

    // A read-write key's session writes, but does not release (no release scope on the key).
    let rw = api.alice_key(&[Scope::Read, Scope::Write]).await;
    let read_write = session_from_key(&api, &rw).await;
    let r = api
        .raw(with_session(Method::GET, "/api/v1/me", &read_write))
        .await;
    assert_eq!(r.body["scopes"], json!(["read", "write"]), "{:?}", r.body);
    let r = api
        .raw(with_session(
            Method::DELETE,
            "/api/v1/prompts/kept",
            &read_write,
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
}
