//! End to end: the real `promptdb` binary in `oidc` mode against a real OpenID Connect provider
//! (the certified `oidc-provider` npm package, `tests/e2e/oidc`), started on free loopback ports.
//!
//! - the browser-style login (authorization code + PKCE + state + nonce) with cookies, CSRF on
//!   cookie-authenticated writes, refresh before expiry, logout;
//! - MCP with the provider's access tokens through the Python `mcp` SDK, cross-user isolation for
//!   every tool, read-only tokens;
//! - the bad-credential matrix, over REST and MCP, each rejected with the right status and no data.
//!
//! Run through `scripts/test`, which installs the provider and the clients (feature `e2e`).

mod support;

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use promptdb_http::testing::ServerProcess;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use support::{assert_success, node22, output, promptdb_bin, python, root};

const CLIENT_ID: &str = "promptdb-test";
const CLIENT_SECRET: &str = "s3cret";

fn oidc_dir() -> PathBuf {
    let dir = root().join("tests/e2e/oidc");
    assert!(
        dir.join("node_modules/oidc-provider/package.json").exists(),
        "the OpenID provider is not installed: run scripts/test (it runs `npm ci` in tests/e2e/oidc)"
    );
    dir
}

/// The provider, killed on drop.
struct Provider {
    issuer: String,
    key_file: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    fn start(resource: &str, access_ttl: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key.json");
        let mut child = Command::new(node22())
            .arg(oidc_dir().join("provider.mjs"))
            .args(["--port", "0", "--resource", resource])
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .arg("--redirect-uri")
            .arg(format!("{resource}/auth/callback"))
            .args(["--access-ttl", &access_ttl.to_string()])
            .arg("--key-file")
            .arg(&key_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the OpenID provider");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let issuer = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .to_owned();
        Self {
            issuer,
            key_file,
            child,
            _dir: dir,
        }
    }
}

/// A provider and a `promptdb serve` that trusts it.
struct Setup {
    url: String,
    provider: Provider,
    server: ServerProcess,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Setup {
    fn start(access_ttl: u32) -> Self {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let provider = Provider::start(&url, access_ttl);
        let data = tempfile::tempdir().unwrap();
        let server = ServerProcess::start_with(
            &promptdb_bin(),
            data.path(),
            &format!("127.0.0.1:{port}"),
            &[],
            &[
                ("PROMPTDB_AUTH_MODE", "oidc"),
                ("PROMPTDB_PUBLIC_URL", &url),
                ("PROMPTDB_OIDC_ISSUER", &provider.issuer),
                ("PROMPTDB_OIDC_CLIENT_ID", CLIENT_ID),
                ("PROMPTDB_OIDC_CLIENT_SECRET", CLIENT_SECRET),
                ("RUST_LOG", "info,promptdb_http=debug"),
            ],
        );
        assert_eq!(server.url, url);
        promptdb_http::install_tls_provider();
        Self {
            url,
            provider,
            server,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            _data: data,
        }
    }

    /// An access token from the provider for `user`, through the real authorization code flow.
    fn token(&self, user: &str, scope: &str, resource: Option<&str>) -> String {
        let mut cmd = Command::new("python3");
        cmd.arg(oidc_dir().join("flow.py"))
            .args(["--issuer", &self.provider.issuer])
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .arg("--stop-at-redirect-uri")
            .arg(format!("{}/auth/callback", self.url))
            .args(["--user", user, "--scope", &format!("openid {scope}")])
            .arg("--exchange");
        if let Some(r) = resource {
            cmd.args(["--resource", r]);
        }
        let out = output(&mut cmd);
        assert_success("flow.py --exchange", &out);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["token_response"]["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {v}"))
            .to_owned()
    }

    /// A hand-made JWT (`tests/e2e/oidc/mint.mjs`).
    fn mint(&self, key: &str, args: &[&str]) -> String {
        let out = output(
            Command::new(node22())
                .arg(oidc_dir().join("mint.mjs"))
                .args(["--key", key, "--key-file"])
                .arg(&self.provider.key_file)
                .args(args),
        );
        assert_success("mint.mjs", &out);
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// The browser login for `user`, through `/auth/login`; returns the cookies PromptDB set.
    fn login(&self, user: &str) -> Value {
        let out = output(
            Command::new("python3")
                .arg(oidc_dir().join("flow.py"))
                .arg("--authorize-url")
                .arg(format!("{}/auth/login", self.url))
                .args(["--user", user]),
        );
        assert_success("browser login", &out);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], 200, "the login ends on our home page: {v}");
        v["rp_cookies"].clone()
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url))
    }

    fn mcp_python(&self, args: &[&str]) {
        let out = output(
            Command::new(python())
                .arg(root().join("tests/e2e/python/mcp_auth.py"))
                .arg(args[0])
                .arg(format!("{}/mcp", self.url))
                .args(&args[1..]),
        );
        assert_success(&format!("mcp_auth.py {}", args[0]), &out);
    }
}

async fn json_of(r: reqwest::Response) -> (StatusCode, header::HeaderMap, Value) {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

fn cookie_value(cookies: &Value, name: &str) -> String {
    cookies[name]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies}"))
        .to_owned()
}

fn attributes(cookies: &Value, name: &str) -> String {
    cookies[name]["attributes"].to_string().to_ascii_lowercase()
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_login_gives_a_session_guarded_against_csrf_until_logout() {
    let s = Setup::start(300);
    use reqwest::Method;

    // Discovery for MCP clients: the challenge points at the RFC 9728 metadata.
    let (status, headers, _) = json_of(s.request(Method::POST, "/mcp").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenge = headers[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            s.url
        )),
        "{challenge}"
    );
    let (status, _, meta) = json_of(
        s.request(Method::GET, "/.well-known/oauth-protected-resource/mcp")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta["resource"], format!("{}/mcp", s.url));
    assert_eq!(meta["authorization_servers"], json!([s.provider.issuer]));
    assert_eq!(
        meta["scopes_supported"],
        json!(["promptdb:read", "promptdb:write"])
    );

    // The login sets an HttpOnly, SameSite=Lax session cookie (not Secure: plain-http loopback).
    let cookies = s.login("alice");
    let session = cookie_value(&cookies, "pdb_session");
    let csrf = cookie_value(&cookies, "pdb_csrf");
    let a = attributes(&cookies, "pdb_session");
    assert!(
        a.contains("httponly") && a.contains("samesite=lax") && !a.contains("secure"),
        "{a}"
    );
    assert!(
        !attributes(&cookies, "pdb_csrf").contains("httponly"),
        "scripts read the CSRF token"
    );
    let jar = format!("pdb_session={session}; pdb_csrf={csrf}");

    let (status, _, me) = json_of(
        s.request(Method::GET, "/auth/session")
            .header(header::COOKIE, &jar)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["display_name"], "alice");
    assert_eq!(me["csrf_token"], csrf);
    // The session may do what the provider granted (read and write), not release.
    let (status, _, me) = json_of(
        s.request(Method::GET, "/api/v1/me")
            .header(header::COOKIE, &jar)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["scopes"], json!(["read", "write"]), "{me}");

    // A cookie-authenticated write needs the CSRF token and a same-origin request.
    let prompt =
        json!({"prompts": [{"slug": "from-browser", "name": "From the browser", "content": "hi"}]});
    let write = |extra: &[(&str, &str)]| {
        let mut r = s
            .request(Method::POST, "/api/v1/prompts")
            .header(header::COOKIE, &jar)
            .json(&prompt);
        for (k, v) in extra {
            r = r.header(*k, *v);
        }
        r
    };
    for (case, extra) in [
        ("no token", vec![]),
        ("wrong token", vec![("x-csrf-token", "nope")]),
        (
            "foreign origin",
            vec![
                ("x-csrf-token", csrf.as_str()),
                ("origin", "http://evil.example"),
            ],
        ),
        (
            "cross-site fetch",
            vec![
                ("x-csrf-token", csrf.as_str()),
                ("sec-fetch-site", "cross-site"),
            ],
        ),
    ] {
        let (status, _, body) = json_of(write(&extra).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}: {body}");
        assert_eq!(body["error"]["code"], "forbidden", "{case}");
    }
    let (status, _, listed) = json_of(
        s.request(Method::GET, "/api/v1/prompts")
            .header(header::COOKIE, &jar)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"], json!([]), "refused writes saved nothing");
    let origin = s.url.clone();
    let (status, _, body) = json_of(
        write(&[("x-csrf-token", &csrf), ("origin", &origin)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The cookie is for the REST API only; MCP wants a bearer token.
    let (status, _, _) = json_of(
        s.request(Method::POST, "/mcp")
            .header(header::COOKIE, &jar)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A forged cookie is nobody.
    let (status, _, _) = json_of(
        s.request(Method::GET, "/api/v1/prompts")
            .header(
                header::COOKIE,
                "pdb_session=pds_forgedforgedforgedforgedforgedforged",
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Logout needs the CSRF token too, then ends the session for good.
    let (status, _, _) = json_of(
        s.request(Method::POST, "/auth/logout")
            .header(header::COOKIE, &jar)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = s
        .request(Method::POST, "/auth/logout")
        .header(header::COOKIE, &jar)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("csrf_token={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cleared: Vec<_> = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("pdb_session=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    for path in ["/api/v1/prompts", "/auth/session"] {
        let (status, _, _) = json_of(
            s.request(Method::GET, path)
                .header(header::COOKIE, &jar)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} after logout");
    }
    // Signing in again finds the same user and her prompt.
    let cookies = s.login("alice");
    let (_, _, listed) = json_of(
        s.request(Method::GET, "/api/v1/prompts")
            .header(
                header::COOKIE,
                format!("pdb_session={}", cookie_value(&cookies, "pdb_session")),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["items"][0]["slug"], "from-browser");
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_refreshed_with_the_provider_before_they_expire() {
    // Tokens live 62 s and are refreshed 60 s before expiry: due two seconds after login.
    let s = Setup::start(62);
    let cookies = s.login("carol");
    let jar = format!("pdb_session={}", cookie_value(&cookies, "pdb_session"));
    assert!(!s.server.log().contains("session refreshed"));
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    // Concurrent requests of one session refresh it once.
    let requests = (0..4).map(|_| {
        s.request(reqwest::Method::GET, "/api/v1/prompts")
            .header(header::COOKIE, &jar)
            .send()
    });
    for r in futures_join(requests).await {
        assert_eq!(r.unwrap().status(), StatusCode::OK);
    }
    let log = s.server.log();
    assert_eq!(
        log.matches("session refreshed with the identity provider")
            .count(),
        1,
        "{log}"
    );
    // The refreshed session is good for another minute: no second refresh right away.
    let r = s
        .request(reqwest::Method::GET, "/auth/session")
        .header(header::COOKIE, &jar)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.server
            .log()
            .matches("session refreshed with the identity provider")
            .count(),
        1
    );
}

async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn mcp_clients_use_provider_tokens_and_users_stay_apart() {
    let s = Setup::start(300);
    let rw = "promptdb:read promptdb:write";
    let alice = s.token("alice", rw, None);
    let bob = s.token("bob", rw, None);
    // The whole client exercise, with a provider token instead of an API key.
    let out = output(
        Command::new(python())
            .arg(root().join("tests/e2e/python/mcp_client.py"))
            .args(["http", &format!("{}/mcp", s.url), &alice]),
    );
    assert_success("python http client with an access token", &out);
    s.mcp_python(&["isolation", &alice, &bob]);
    let read_only = s.token("alice", "promptdb:read", None);
    s.mcp_python(&["readonly", &read_only, "token"]);
    // The same token on REST: reads yes, writes 403 with a scope challenge.
    let (status, _, me) = json_of(
        s.request(reqwest::Method::GET, "/api/v1/me")
            .bearer_auth(&read_only)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let (_, _, me_too) = json_of(
        s.request(reqwest::Method::GET, "/api/v1/me")
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        me["id"], me_too["id"],
        "one subject, one user, whatever the scopes"
    );
    assert!(me["id"].is_string(), "{me}");
    let (status, headers, _) = json_of(
        s.request(reqwest::Method::DELETE, "/api/v1/prompts/alice-secret")
            .bearer_auth(&read_only)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("error=\"insufficient_scope\""),
        "{headers:?}"
    );
    // Bob's REST view of Alice's prompt: none.
    let (status, _, body) = json_of(
        s.request(reqwest::Method::GET, "/api/v1/prompts")
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.to_string().contains("zebra"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_are_rejected_with_the_right_status_and_leak_nothing() {
    let s = Setup::start(300);
    let alice = s.token("alice", "promptdb:read promptdb:write", None);
    let secret = json!({"prompts": [{"slug": "alice-secret", "name": "Plan", "content": "zebra-launch-codes"}]});
    let r = s
        .request(reqwest::Method::POST, "/api/v1/prompts")
        .bearer_auth(&alice)
        .json(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let iss = s.provider.issuer.clone();
    let aud = s.url.clone();
    let minted = |key: &str, extra: &[&str]| {
        let mut args = vec!["--iss", &iss, "--aud", &aud];
        args.extend_from_slice(extra);
        s.mint(key, &args)
    };
    // Control: a token minted with the provider's key, right claims, is accepted. This keeps
    // the rejections below honest: they fail for the one thing each changes.
    let good = minted("provider", &[]);
    let wrong_audience = s.token(
        "alice",
        "promptdb:read",
        Some("http://127.0.0.1:1/elsewhere"),
    );
    let revoked = {
        let (status, _, key) = json_of(
            s.request(reqwest::Method::POST, "/api/v1/keys")
                .bearer_auth(&alice)
                .json(&json!({"name": "soon revoked"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{key}");
        let secret = key["secret"].as_str().unwrap().to_owned();
        let r = s
            .request(reqwest::Method::GET, "/api/v1/prompts")
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "the key works before revocation"
        );
        let r = s
            .request(
                reqwest::Method::DELETE,
                &format!("/api/v1/keys/{}", key["id"].as_str().unwrap()),
            )
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        secret
    };
    let unauthorized = StatusCode::UNAUTHORIZED;
    let cases: Vec<(&str, String, StatusCode)> = vec![
        ("control", good.clone(), StatusCode::OK),
        (
            "expired",
            minted(
                "provider",
                &[
                    "--claims",
                    r#"{"iat":"now-400","nbf":"now-400","exp":"now-120"}"#,
                ],
            ),
            unauthorized,
        ),
        (
            "not yet valid",
            minted(
                "provider",
                &["--claims", r#"{"nbf":"now+300","exp":"now+600"}"#],
            ),
            unauthorized,
        ),
        (
            "wrong issuer",
            s.mint("provider", &["--iss", "http://127.0.0.1:1", "--aud", &aud]),
            unauthorized,
        ),
        (
            "wrong audience (minted)",
            s.mint(
                "provider",
                &["--iss", &iss, "--aud", "https://other.example"],
            ),
            unauthorized,
        ),
        (
            "wrong audience (from the provider)",
            wrong_audience,
            unauthorized,
        ),
        (
            "no audience",
            s.mint("provider", &["--iss", &iss]),
            unauthorized,
        ),
        (
            "no subject",
            minted("provider", &["--claims", r#"{"sub":null}"#]),
            unauthorized,
        ),
        (
            "no expiry",
            minted("provider", &["--claims", r#"{"exp":null}"#]),
            unauthorized,
        ),
        ("other key", minted("other", &[]), unauthorized),
        (
            "other key, provider's kid",
            minted("other", &["--kid-from-provider"]),
            unauthorized,
        ),
        ("alg none", minted("none", &[]), unauthorized),
        (
            "alg none, provider's kid",
            minted("none", &["--kid-from-provider"]),
            unauthorized,
        ),
        (
            "HS256 keyed with the public key",
            minted("hmac-public", &[]),
            unauthorized,
        ),
        (
            "header alg differs from signature",
            minted("provider", &["--alg", "RS256", "--sign-alg", "PS256"]),
            unauthorized,
        ),
        ("tampered payload", tamper(&good), unauthorized),
        ("malformed", "not.a.jwt".into(), unauthorized),
        ("garbage", "%%%".into(), unauthorized),
        ("revoked API key", revoked, unauthorized),
        (
            "unknown API key",
            "pdb_0000000000000000000000000000000000000000".into(),
            unauthorized,
        ),
        (
            "no PromptDB scope",
            minted("provider", &["--claims", r#"{"scope":"profile email"}"#]),
            StatusCode::FORBIDDEN,
        ),
    ];
    let mut messages = std::collections::BTreeSet::new();
    for (case, token, expected) in &cases {
        let (status, headers, body) = json_of(
            s.request(reqwest::Method::GET, "/api/v1/prompts")
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, *expected, "REST, {case}: {body}");
        if *expected == StatusCode::OK {
            assert!(
                body.to_string().contains("alice-secret"),
                "control sees the data: {body}"
            );
            continue;
        }
        let text = body.to_string();
        assert!(
            !text.contains("zebra") && !text.contains("alice-secret"),
            "REST, {case} leaked: {body}"
        );
        let challenge = headers[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(
            challenge.contains("resource_metadata="),
            "{case}: {challenge}"
        );
        if *expected == unauthorized {
            assert_eq!(body["error"]["code"], "unauthorized", "{case}");
            assert!(
                challenge.contains("error=\"invalid_token\""),
                "{case}: {challenge}"
            );
            messages.insert(body["error"]["message"].to_string());
        } else {
            assert!(
                challenge.contains("error=\"insufficient_scope\""),
                "{case}: {challenge}"
            );
        }
        s.mcp_python(&["rejected", token, &expected.as_u16().to_string()]);
    }
    // Nothing says why a credential failed (that stays in the server log): one message for all.
    assert_eq!(messages.len(), 1, "{messages:?}");
    // A read-only API key cannot write, over REST or MCP, and nothing changes.
    let (_, _, ro) = json_of(
        s.request(reqwest::Method::POST, "/api/v1/keys")
            .bearer_auth(&alice)
            .json(&json!({"name": "reader", "scopes": ["read"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ro = ro["secret"].as_str().unwrap();
    let r = s
        .request(reqwest::Method::DELETE, "/api/v1/prompts/alice-secret")
        .bearer_auth(ro)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    s.mcp_python(&["readonly", ro, "key"]);
    let (status, _, p) = json_of(
        s.request(reqwest::Method::GET, "/api/v1/prompts/alice-secret")
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p["content"], "zebra-launch-codes");
}

/// `good` with one payload character changed: same header and signature.
fn tamper(good: &str) -> String {
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut payload: Vec<char> = parts[1].chars().collect();
    let middle = payload.len() / 2;
    payload[middle] = if payload[middle] == 'A' { 'B' } else { 'A' };
    parts[1] = payload.into_iter().collect();
    parts.join(".")
}
