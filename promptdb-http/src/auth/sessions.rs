//! Browser sessions behind the HttpOnly `pdb_session` cookie: `POST /auth/logout` ends one;
//! `GET /auth/session` tells the page who is signed in and the CSRF token to send with writes.
//! Sessions start at the end of a browser login ([`super::login`], feature `oidc`).

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use promptdb_core::{Error, UserId};
use serde::{Deserialize, Serialize};

use super::{AuthFailure, CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, check_csrf, cookie};
use crate::{error::ApiError, state::AppState};

/// `/auth/logout` and `/auth/session`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/logout", post(logout))
        .route("/auth/session", get(session_info))
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
