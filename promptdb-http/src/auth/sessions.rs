//! Browser sessions behind the HttpOnly `pdb_session` cookie. They start at the end of a browser
//! login through the identity provider ([`super::login`], feature `oidc`), with a one-time
//! sign-in link (`GET /auth/link?token=…`, local mode: the server prints one at start and
//! `promptdb open` makes more), or with an API key (`POST /auth/key`). `POST /auth/logout` ends
//! one; `GET /auth/session` tells the page who is signed in and the CSRF token to send with
//! writes; `GET /auth/methods` tells the sign-in page which of these this server offers.

use axum::extract::Query;
use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use promptdb_core::{CreatedSession, Error, NewSession, Scope, UserId};
use serde::{Deserialize, Serialize};

use super::{
    AuthFailure, CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, check_csrf, client_ip, cookie,
    too_many_requests,
};
use crate::{error::ApiError, state::AppState};

/// `/auth/logout`, `/auth/session`, `/auth/link` and `/auth/key`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/logout", post(logout))
        .route("/auth/session", get(session_info))
        .route("/auth/link", get(link))
        .route("/auth/key", post(key))
        .route("/auth/methods", get(methods))
}

/// Body of `GET /auth/methods`.
#[derive(Debug, Serialize)]
struct Methods {
    /// One-time sign-in links (`promptdb open`): local mode only.
    link: bool,
    /// API keys (`POST /auth/key`): always.
    api_key: bool,
    /// Single sign-on through the identity provider, at `login_url`.
    oidc: bool,
    login_url: Option<&'static str>,
}

/// `GET /auth/methods`: how one signs in to this server. No side effects, no rate limit hit.
async fn methods(State(state): State<AppState>) -> Response {
    #[cfg(feature = "oidc")]
    let oidc = state.auth.provider().is_some_and(|p| p.client.is_some());
    #[cfg(not(feature = "oidc"))]
    let oidc = false;
    let methods = Methods {
        link: is_local(&state),
        api_key: true,
        oidc,
        login_url: oidc.then_some("/auth/login"),
    };
    let mut r = Json(methods).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn is_local(state: &AppState) -> bool {
    matches!(state.auth.settings().mode, crate::AuthMode::Local)
}

/// The response that ends a sign-in: the session and CSRF cookies, and a redirect to `to` (a
/// path on this server).
pub(crate) fn signed_in(state: &AppState, created: &CreatedSession, to: &str) -> Response {
    let max_age = state.db.config().session_ttl_secs;
    let secure = state.auth.secure_cookies();
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(to) {
        h.insert(header::LOCATION, v);
    }
    h.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &created.secret,
            "/",
            max_age,
            true,
            "Lax",
            secure,
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(
            CSRF_COOKIE,
            &created.session.csrf_token,
            "/",
            max_age,
            false,
            "Strict",
            secure,
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Query of `GET /auth/link`.
#[derive(Debug, Deserialize)]
struct LinkQuery {
    token: String,
}

/// `GET /auth/link?token=…`: a one-time sign-in link, to a session.
async fn link(
    State(state): State<AppState>,
    Query(q): Query<LinkQuery>,
    req: axum::extract::Request,
) -> Response {
    // Sign-in links sign in as the local user: a server with an identity provider has none.
    if !is_local(&state) {
        return ApiError::Core(Error::not_found(
            "sign-in link",
            "sign-in links (this server signs in through its identity provider)",
        ))
        .into_response();
    }
    let ip = client_ip(&req, &state.settings.auth.rate_limit);
    if let Some(Err(wait)) = state.auth.limiter().map(|l| l.auth_attempt(ip)) {
        return too_many_requests(wait);
    }
    let user = match state.db.redeem_sign_in_token(&q.token).await {
        Ok(user) => user,
        Err(Error::Unauthorized) => {
            return crate::pages::page(
                StatusCode::UNAUTHORIZED,
                "This sign-in link has expired",
                "<p>Sign-in links work once, for ten minutes. Run <code>promptdb open</code> for a new one, or sign in with an API key.</p><p><a href=\"/#/sign-in\">Sign in</a></p>",
            );
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    // The local user's own sign-in link: everything the local user may do.
    let scopes = [Scope::Read, Scope::Write, Scope::Release];
    match state
        .db
        .create_session(user, NewSession::with_scopes(&scopes))
        .await
    {
        Ok(created) => {
            tracing::info!(%user, "signed in with a sign-in link");
            signed_in(&state, &created, "/")
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Body of `POST /auth/key` (a form or JSON).
#[derive(Debug, Deserialize)]
struct KeyForm {
    api_key: String,
}

/// `POST /auth/key`: an API key, to a session. Only from this server's own pages.
async fn key(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let ip = client_ip(&req, &state.settings.auth.rate_limit);
    if let Some(wait) = state.auth.limiter().and_then(|l| l.auth_blocked(ip)) {
        return too_many_requests(wait);
    }
    if let Err(reason) = same_origin(&state, req.headers()) {
        return ApiError::Core(Error::forbidden(reason)).into_response();
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Ok(body) = axum::body::to_bytes(req.into_body(), 64 * 1024).await else {
        return ApiError::PayloadTooLarge(64 * 1024).into_response();
    };
    let form: Option<KeyForm> = if is_json {
        serde_json::from_slice(&body).ok()
    } else {
        serde_urlencoded::from_bytes(&body).ok()
    };
    let Some(form) = form else {
        return ApiError::bad_request(Some("api_key".into()), "send the API key as `api_key`")
            .into_response();
    };
    let principal = match state.db.authenticate_api_key(form.api_key.trim()).await {
        Ok(p) => p,
        Err(Error::Unauthorized) => {
            if let Some(Err(wait)) = state.auth.limiter().map(|l| l.auth_attempt(ip)) {
                return too_many_requests(wait);
            }
            return ApiError::Core(Error::Unauthorized).into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    match state
        .db
        // The session may do what the key may do, no more.
        .create_session(
            principal.user_id(),
            NewSession::with_scopes(&principal.scopes()),
        )
        .await
    {
        Ok(created) => {
            tracing::info!(user = %principal.user_id(), "signed in with an API key");
            if is_json {
                let mut r = signed_in(&state, &created, "/");
                *r.status_mut() = StatusCode::NO_CONTENT;
                r.headers_mut().remove(header::LOCATION);
                r
            } else {
                signed_in(&state, &created, "/")
            }
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// A sign-in form must come from this server's pages: no cross-site fetch, and an `Origin` (when
/// sent) that is this server.
fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), &'static str> {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return Err("sign-in requests must come from this server's pages");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let ours = match state.auth.settings().public_url() {
        Some(public) => super::origin_of(public).to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let scheme = origin.split("://").next().unwrap_or("http");
            format!("{scheme}://{host}")
        }
    };
    if origin == ours {
        Ok(())
    } else {
        Err("the request's Origin is not this server")
    }
}

/// A `Set-Cookie` value.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
    http_only: bool,
    same_site: &str,
    secure: bool,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; Max-Age={max_age}; SameSite={same_site}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that deletes the cookie.
pub(crate) fn clear_cookie(name: &str, path: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", path, 0, true, "Lax", secure)
}

/// `POST /auth/logout`: ends the session. The CSRF token comes in `X-CSRF-Token` or as the
/// form field `csrf_token`.
async fn logout(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = &state.auth;
    let secure = auth.secure_cookies();
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && let Ok(session) = state.db.session(secret).await
    {
        let mut checked = headers.clone();
        if !checked.contains_key(CSRF_HEADER)
            && let Some(token) = url::form_urlencoded::parse(&body)
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.into_owned())
            && let Ok(v) = HeaderValue::from_str(&token)
        {
            checked.insert(CSRF_HEADER, v);
        }
        if let Err(reason) = check_csrf(auth.settings(), &checked, &session.csrf_token) {
            return ApiError::Core(Error::forbidden(reason)).into_response();
        }
        if let Err(e) = state.db.end_session(secret).await {
            return ApiError::from(e).into_response();
        }
        tracing::info!(user = %session.user_id, "signed out");
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/"));
    h.append(
        header::SET_COOKIE,
        clear_cookie(SESSION_COOKIE, "/", secure),
    );
    h.append(header::SET_COOKIE, clear_cookie(CSRF_COOKIE, "/", secure));
    r
}

/// Who is signed in, for the web page.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SessionInfo {
    /// The user.
    pub user_id: UserId,
    /// Their display name.
    pub display_name: String,
    /// Send this in `X-CSRF-Token` with every POST, PUT, PATCH and DELETE.
    pub csrf_token: String,
    /// When the session ends at the latest.
    pub expires_at: DateTime<Utc>,
}

/// `GET /auth/session`.
async fn session_info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(secret) = cookie(&headers, SESSION_COOKIE) else {
        return ApiError::Core(Error::Unauthorized).into_response();
    };
    let session = match state.auth.session(&state.db, secret).await {
        Ok(s) => s,
        Err(AuthFailure::Unavailable(e)) => return ApiError::from(e).into_response(),
        Err(_) => return ApiError::Core(Error::Unauthorized).into_response(),
    };
    let me = match state
        .db
        .me(&promptdb_core::Principal::full(session.user_id))
        .await
    {
        Ok(me) => me,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut r = Json(SessionInfo {
        user_id: session.user_id,
        display_name: me.display_name,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    })
    .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_carry_their_attributes() {
        let c = set_cookie("a", "b", "/", 60, true, "Lax", true);
        assert_eq!(
            c.to_str().unwrap(),
            "a=b; Path=/; Max-Age=60; SameSite=Lax; HttpOnly; Secure"
        );
        let c = set_cookie("a", "b", "/auth", 0, false, "Strict", false);
        assert_eq!(
            c.to_str().unwrap(),
            "a=b; Path=/auth; Max-Age=0; SameSite=Strict"
        );
    }
}
