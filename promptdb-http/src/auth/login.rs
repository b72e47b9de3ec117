//! Browser login (authorization code flow with PKCE, state and nonce) and the protected
//! resource metadata (RFC 9728).
//!
//! `GET /auth/login` sends the browser to the provider; `GET /auth/callback` takes the code,
//! checks the ID token and starts a server-side session behind an HttpOnly cookie (see
//! [`super::sessions`] for the rest of its life).

use axum::{
    Json, Router,
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use promptdb_core::{Error, NewSession, generate_token};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    LOGIN_COOKIE, client_ip, cookie,
    sessions::{clear_cookie, set_cookie},
    too_many_requests,
};
use crate::{
    error::ApiError,
    pages::{html_escape, page},
    state::AppState,
};

/// The scopes a browser login asks for: the OpenID ones, then PromptDB's read and write.
/// (Release is not asked for: a provider that does not know it may refuse the whole login;
/// a provider that grants it anyway is believed.)
fn login_scope(o: &crate::settings::OidcSettings) -> String {
    format!(
        "openid profile email offline_access {} {}",
        o.read_scope, o.write_scope
    )
}

/// How long a started login may take, in seconds.
const LOGIN_TTL_SECS: u64 = 600;
/// Longest return path kept across the login.
const MAX_RETURN_TO: usize = 1_000;

/// The login routes and the protected resource metadata.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route(
            "/.well-known/oauth-protected-resource",
            get(resource_metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(mcp_resource_metadata),
        )
}

/// A path on this server to return to, or `/`: never another origin.
fn safe_return_to(path: Option<&str>) -> String {
    match path {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && p.len() <= MAX_RETURN_TO
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Text from the query or the provider, as it may go into a log line or a page: at most 300
/// characters, control characters (line breaks, terminal escapes) escaped, so that it cannot
/// forge log lines or repaint a terminal.
fn for_log(text: &str) -> String {
    const MAX: usize = 300;
    let mut out = String::with_capacity(text.len().min(MAX * 4));
    for (i, c) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        match c.is_control() {
            true => out.extend(c.escape_default()),
            false => out.push(c),
        }
    }
    out
}

fn login_failed(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Sign-in failed",
        &format!(
            "<p>{}</p><p><a href=\"/auth/login\">Try again</a></p>",
            html_escape(message)
        ),
    )
}

fn not_configured() -> Response {
    ApiError::Core(Error::not_found(
        "login",
        "browser sign-in (set auth.mode = \"oidc\" and auth.oidc.client_id)",
    ))
    .into_response()
}

fn random(chars: usize) -> Result<String, ApiError> {
    generate_token("", chars).map_err(ApiError::from)
}

/// The login in progress, kept in a short-lived HttpOnly cookie scoped to `/auth`.
struct Pending {
    state: String,
    verifier: String,
    nonce: String,
    return_to: String,
}

impl Pending {
    fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.state,
            self.verifier,
            self.nonce,
            URL_SAFE_NO_PAD.encode(self.return_to.as_bytes())
        )
    }

    fn decode(s: &str) -> Option<Self> {
        let mut parts = s.split('.');
        let (state, verifier, nonce, ret) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let return_to = String::from_utf8(URL_SAFE_NO_PAD.decode(ret).ok()?).ok()?;
        Some(Self {
            state: state.to_owned(),
            verifier: verifier.to_owned(),
            nonce: nonce.to_owned(),
            return_to: safe_return_to(Some(&return_to)),
        })
    }
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

/// `GET /auth/login`: to the provider's sign-in page.
async fn login(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
    req: Request,
) -> Response {
    let auth = &state.auth;
    let Some(provider) = auth.provider().filter(|p| p.client.is_some()) else {
        return not_configured();
    };
    let client = provider
        .client
        .as_ref()
        .map(|c| c.id.as_str())
        .unwrap_or_default();
    let ip = client_ip(&req, &auth.settings().rate_limit);
    if let Some(Err(wait)) = auth.limiter().map(|l| l.auth_attempt(ip)) {
        return too_many_requests(wait);
    }
    let (state_token, verifier, nonce) = match (random(32), random(64), random(32)) {
        (Ok(s), Ok(v), Ok(n)) => (s, v, n),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e.into_response(),
    };
    let pending = Pending {
        state: state_token,
        verifier,
        nonce,
        return_to: safe_return_to(q.return_to.as_deref()),
    };
    let public = auth.settings().public_url().unwrap_or_default();
    let o = &auth.settings().oidc;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
    let scope = login_scope(o);
    let redirect_uri = format!("{public}/auth/callback");
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", &scope)
        .append_pair("state", &pending.state)
        .append_pair("nonce", &pending.nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", public)
        .finish();
    let sep = if provider.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!("{}{sep}{query}", provider.authorization_endpoint);
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, v);
    }
    h.insert(
        header::SET_COOKIE,
        set_cookie(
            LOGIN_COOKIE,
            &pending.encode(),
            "/auth",
            LOGIN_TTL_SECS,
            true,
            "Lax",
            auth.secure_cookies(),
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/callback`: the provider sends the browser back with a code.
async fn callback(
    State(state): State<AppState>,
    Query(q): Query<CallbackQuery>,
    req: Request,
) -> Response {
    let auth = &state.auth;
    let Some(provider) = auth.provider().filter(|p| p.client.is_some()) else {
        return not_configured();
    };
    let ip = client_ip(&req, &auth.settings().rate_limit);
    if let Some(Err(wait)) = auth.limiter().map(|l| l.auth_attempt(ip)) {
        return too_many_requests(wait);
    }
    let secure = auth.secure_cookies();
    let mut r = finish_login(&state, provider, q, req.headers()).await;
    r.headers_mut().append(
        header::SET_COOKIE,
        clear_cookie(LOGIN_COOKIE, "/auth", secure),
    );
    r
}

async fn finish_login(
    state: &AppState,
    provider: &super::oidc::Provider,
    q: CallbackQuery,
    headers: &HeaderMap,
) -> Response {
    let auth = &state.auth;
    let Some(pending) = cookie(headers, LOGIN_COOKIE).and_then(Pending::decode) else {
        return login_failed(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired or was started in another browser.",
        );
    };
    let state_ok = q.state.as_deref().is_some_and(|s| {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            s.as_bytes(),
            pending.state.as_bytes(),
        ))
    });
    if !state_ok {
        tracing::info!("login callback with a wrong state");
        return login_failed(
            StatusCode::BAD_REQUEST,
            "This sign-in response does not belong to the sign-in this browser started.",
        );
    }
    // RFC 9207: a response from another issuer is a mix-up attack.
    if let Some(iss) = &q.iss
        && iss != &provider.issuer
    {
        tracing::warn!(iss = %for_log(iss), "login callback from an unexpected issuer");
        return login_failed(
            StatusCode::BAD_REQUEST,
            "The response came from another issuer.",
        );
    }
    if let Some(error) = &q.error {
        let (error, detail) = (
            for_log(error),
            for_log(q.error_description.as_deref().unwrap_or_default()),
        );
        tracing::info!(%error, %detail, "the identity provider refused a sign-in");
        return login_failed(
            StatusCode::BAD_REQUEST,
            &format!("The identity provider refused the sign-in: {error}. {detail}"),
        );
    }
    let Some(code) = q
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 4_096)
    else {
        return login_failed(StatusCode::BAD_REQUEST, "The response has no code.");
    };
    let public = auth.settings().public_url().unwrap_or_default();
    let redirect_uri = format!("{public}/auth/callback");
    let tokens = match provider
        .exchange_code(code, &pending.verifier, &redirect_uri)
        .await
    {
        Ok(t) => t,
        Err(super::oidc::ProviderError::Refused(reason)) => {
            tracing::info!(reason = %for_log(&reason), "code exchange refused");
            return login_failed(
                StatusCode::BAD_REQUEST,
                "The identity provider did not accept the sign-in code.",
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "code exchange failed");
            return login_failed(
                StatusCode::SERVICE_UNAVAILABLE,
                "The identity provider cannot be reached; try again shortly.",
            );
        }
    };
    let Some(id_token) = tokens.id_token.as_deref() else {
        return login_failed(
            StatusCode::BAD_GATEWAY,
            "The identity provider sent no ID token.",
        );
    };
    let claims = match provider.verify_id_token(id_token, &pending.nonce).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(reason = %e, "ID token refused");
            return login_failed(
                StatusCode::BAD_REQUEST,
                "The identity provider's answer did not pass the checks.",
            );
        }
    };
    // The session may do what the provider granted: RFC 6749 §5.1, the `scope` of the token
    // response, or what was asked for when it says nothing.
    let o = &state.auth.settings().oidc;
    let asked = login_scope(o);
    let granted: Vec<&str> = tokens
        .scope
        .as_deref()
        .unwrap_or(&asked)
        .split_ascii_whitespace()
        .collect();
    let scopes = super::jwt::grants(&granted, &o.read_scope, &o.write_scope, &o.release_scope);
    if scopes.is_empty() {
        tracing::info!(sub = %for_log(&claims.sub), "the provider granted no PromptDB scope");
        return login_failed(
            StatusCode::FORBIDDEN,
            "The identity provider granted no access to PromptDB.",
        );
    }
    let user = match state
        .db
        .user_for_identity(&provider.issuer, &claims.sub, claims.names.display_name())
        .await
    {
        Ok(u) => u,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let now = Utc::now();
    let due = tokens.refresh_token.as_ref().map(|_| {
        let lifetime = tokens.expires_in.unwrap_or(300).clamp(30, 86_400);
        now + chrono::Duration::seconds(i64::try_from(lifetime).unwrap_or(300))
    });
    let created = match state
        .db
        .create_session(
            user,
            NewSession {
                refresh_token: tokens.refresh_token,
                refresh_due_at: due,
                scopes,
            },
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    tracing::info!(%user, "signed in");
    super::sessions::signed_in(state, &created, &pending.return_to)
}

/// RFC 9728 protected resource metadata.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResourceMetadata {
    /// This resource's identifier: tokens must name it as their audience.
    pub resource: String,
    /// Issuers whose tokens are accepted.
    pub authorization_servers: Vec<String>,
    /// Scopes this resource understands.
    pub scopes_supported: Vec<String>,
    /// How tokens are sent.
    pub bearer_methods_supported: Vec<String>,
    /// A name for people.
    pub resource_name: String,
}

fn metadata(state: &AppState, suffix: &str) -> Response {
    let auth = &state.auth;
    let (Some(provider), Some(public)) = (auth.provider(), auth.settings().public_url()) else {
        return ApiError::NoRoute.into_response();
    };
    let o = &auth.settings().oidc;
    let mut r = Json(ResourceMetadata {
        resource: format!("{public}{suffix}"),
        authorization_servers: vec![provider.issuer.clone()],
        scopes_supported: vec![o.read_scope.clone(), o.write_scope.clone()],
        bearer_methods_supported: vec!["header".into()],
        resource_name: "PromptDB".into(),
    })
    .into_response();
    // Browser-based MCP clients read this cross-origin.
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

async fn resource_metadata(State(state): State<AppState>) -> Response {
    metadata(&state, "")
}

async fn mcp_resource_metadata(State(state): State<AppState>) -> Response {
    metadata(&state, "/mcp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_cannot_forge_log_lines() {
        assert_eq!(
            for_log("denied\n2026-01-01 INFO signed in user=admin\x1b[2J"),
            "denied\\n2026-01-01 INFO signed in user=admin\\u{1b}[2J"
        );
        let long = "é".repeat(1_000);
        assert_eq!(for_log(&long).chars().count(), 301);
        assert_eq!(for_log("access_denied"), "access_denied");
    }

    #[test]
    fn return_paths_stay_on_this_server() {
        assert_eq!(safe_return_to(Some("/app?x=1")), "/app?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "evil",
            "/a\nb",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_return_to(None), "/");
    }

    #[test]
    fn pending_logins_round_trip_and_reject_tampering() {
        let p = Pending {
            state: "s".into(),
            verifier: "v".into(),
            nonce: "n".into(),
            return_to: "/x?y=1".into(),
        };
        let back = Pending::decode(&p.encode()).unwrap();
        assert_eq!(
            (back.state, back.verifier, back.nonce, back.return_to),
            ("s".into(), "v".into(), "n".into(), "/x?y=1".into())
        );
        assert!(Pending::decode("a.b.c").is_none());
        assert!(Pending::decode("a.b.c.d.e").is_none());
        let evil = format!("s.v.n.{}", URL_SAFE_NO_PAD.encode("//evil.example"));
        assert_eq!(Pending::decode(&evil).unwrap().return_to, "/");
    }
}
