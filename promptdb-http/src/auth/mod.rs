//! Authentication, authorization and abuse limits.
//!
//! A request proves who it is with one of:
//! - `Authorization: Bearer pdb_…`, an API key (CLI, scripts, MCP clients in local mode);
//! - `Authorization: Bearer <JWT>`, an access token from the configured OpenID Connect provider
//!   (`oidc` mode), checked against its published keys, issuer, audience and times; its scopes
//!   decide read and write;
//! - the `pdb_session` cookie of a browser login (`oidc` mode, REST only), with the session's
//!   CSRF token in `X-CSRF-Token` on every unsafe request.
//!
//! Failures get 401 with a `WWW-Authenticate` challenge that points MCP clients at the protected
//! resource metadata (RFC 9728); a token without the needed scope gets 403 `insufficient_scope`.
//! Token buckets limit requests per user and per client address, and authentication attempts per
//! address more strictly; an empty bucket answers 429 with `Retry-After`.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
#[cfg(feature = "oidc")]
use chrono::Utc;
use promptdb_core::{Error, Principal, PromptDb, Session};
#[cfg(feature = "oidc")]
use promptdb_core::{SecretHash, hash_secret};

use crate::{AuthMode, AuthSettings, RateLimitSettings, error::ApiError, state::AppState};

#[cfg(feature = "oidc")]
pub mod jwt;
mod layer;
#[cfg(feature = "oidc")]
pub mod login;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod rate_limit;
pub mod sessions;

pub use layer::{AuthLayer, AuthService};
#[cfg(feature = "oidc")]
use oidc::{Provider, ProviderError};
use rate_limit::{RateLimiter, retry_after_secs};

/// The browser session cookie (HttpOnly).
pub const SESSION_COOKIE: &str = "pdb_session";
/// The session's CSRF token, readable by the page's scripts.
pub const CSRF_COOKIE: &str = "pdb_csrf";
/// The pending login (state, PKCE verifier, nonce, return path), for the callback.
pub const LOGIN_COOKIE: &str = "pdb_login";
/// The header unsafe cookie-authenticated requests carry the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A `pdb_` API key.
    ApiKey,
    /// An access token from the identity provider.
    AccessToken,
    /// A browser session cookie.
    Session {
        /// The session's CSRF token.
        csrf_token: String,
    },
    /// None: the conformance test mode's anonymous principal.
    #[cfg(feature = "conformance")]
    Anonymous,
}

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The principal the request runs as.
    pub principal: Principal,
    /// How it was established.
    pub credential: Credential,
}

/// Why authentication failed.
#[derive(Debug)]
pub enum AuthFailure {
    /// No credentials at all.
    Missing,
    /// Credentials that do not check out.
    Invalid,
    /// A valid token that grants neither scope.
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    NoScope,
    /// A dependency (database, identity provider) is down.
    Unavailable(Error),
}

impl From<Error> for AuthFailure {
    fn from(e: Error) -> Self {
        match e {
            Error::Unauthorized => Self::Invalid,
            other => Self::Unavailable(other),
        }
    }
}

/// Which frontend a request is for: the challenge differs, and only REST accepts cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `/api/v1` and `/auth`.
    Rest,
    /// `/api/public`, the Langfuse-compatible API: HTTP Basic with a key pair as well.
    Langfuse,
    /// `/mcp`.
    Mcp,
}

/// The server's authentication set-up. Built once; shared by every request.
pub struct Auth {
    settings: AuthSettings,
    #[cfg(feature = "oidc")]
    provider: Option<Provider>,
    limiter: Option<RateLimiter>,
    /// Checked access tokens by hash, with their expiry (seconds since the epoch).
    #[cfg(feature = "oidc")]
    verified: moka::sync::Cache<SecretHash, (Principal, i64)>,
    /// Refreshes in flight, so that concurrent requests of one session refresh it once.
    #[cfg(feature = "oidc")]
    refreshing: moka::future::Cache<SecretHash, Session>,
    secure_cookies: bool,
    rest_challenge: String,
    mcp_challenge: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Auth");
        d.field("mode", &self.settings.mode);
        #[cfg(feature = "oidc")]
        d.field("provider", &self.provider.as_ref().map(|p| &p.issuer));
        d.field("rate_limits", &self.limiter.is_some())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Authentication without an identity provider (local mode, and tests).
    pub fn local(settings: &AuthSettings) -> Self {
        Self::build(
            settings,
            #[cfg(feature = "oidc")]
            None,
        )
    }

    /// Authentication per `settings`; in `oidc` mode this discovers the provider and fetches
    /// its keys, and fails with a message for the operator when it cannot.
    pub async fn from_settings(settings: &AuthSettings) -> anyhow::Result<Self> {
        settings.validate()?;
        match settings.mode {
            AuthMode::Local => Ok(Self::local(settings)),
            #[cfg(feature = "oidc")]
            AuthMode::Oidc => Ok(Self::build(
                settings,
                Some(Provider::discover(settings).await?),
            )),
            #[cfg(not(feature = "oidc"))]
            AuthMode::Oidc => anyhow::bail!(
                "invalid setting auth.mode: this build of PromptDB has no OpenID Connect support (cargo feature `oidc`)"
            ),
        }
    }

    fn build(settings: &AuthSettings, #[cfg(feature = "oidc")] provider: Option<Provider>) -> Self {
        let public = settings.public_url().unwrap_or_default();
        #[cfg(feature = "oidc")]
        let with_provider = provider.is_some();
        #[cfg(not(feature = "oidc"))]
        let with_provider = false;
        let (rest_challenge, mcp_challenge) = match with_provider {
            true => {
                let scope = format!("{} {}", settings.oidc.read_scope, settings.oidc.write_scope);
                (
                    format!(
                        "Bearer resource_metadata=\"{public}/.well-known/oauth-protected-resource\", scope=\"{scope}\""
                    ),
                    format!(
                        "Bearer resource_metadata=\"{public}/.well-known/oauth-protected-resource/mcp\", scope=\"{scope}\""
                    ),
                )
            }
            false => (
                "Bearer realm=\"promptdb\"".to_owned(),
                "Bearer realm=\"promptdb\"".to_owned(),
            ),
        };
        Self {
            // Without a public URL the server is reached on loopback over plain http.
            secure_cookies: !public.is_empty() && !public.starts_with("http://"),
            settings: settings.clone(),
            #[cfg(feature = "oidc")]
            provider,
            limiter: RateLimiter::new(&settings.rate_limit),
            #[cfg(feature = "oidc")]
            verified: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            #[cfg(feature = "oidc")]
            refreshing: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(5))
                .build(),
            rest_challenge,
            mcp_challenge,
        }
    }

    /// The identity provider, in `oidc` mode.
    #[cfg(feature = "oidc")]
    pub fn provider(&self) -> Option<&Provider> {
        self.provider.as_ref()
    }

    /// Whether browser session cookies are accepted: always (local mode signs in with links
    /// and keys, `oidc` mode through the provider too).
    pub fn sessions(&self) -> bool {
        true
    }

    /// The rate limits, unless disabled.
    pub fn limiter(&self) -> Option<&RateLimiter> {
        self.limiter.as_ref()
    }

    /// The settings.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Whether cookies get the `Secure` attribute (not on a plain-http loopback URL).
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    fn challenge(&self, surface: Surface) -> &str {
        match surface {
            Surface::Rest => &self.rest_challenge,
            Surface::Langfuse => "Basic realm=\"promptdb\"",
            Surface::Mcp => &self.mcp_challenge,
        }
    }

    /// Establishes who is calling. Cookies count only when `cookies` is set (REST).
    pub async fn authenticate(
        &self,
        db: &PromptDb,
        #[cfg(feature = "conformance")] anonymous: Option<&Principal>,
        headers: &HeaderMap,
        surface: Surface,
    ) -> Result<Authenticated, AuthFailure> {
        let cookies = surface == Surface::Rest;
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let (scheme, token) = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .map(|(scheme, token)| (scheme, token.trim()))
                .filter(|(_, t)| !t.is_empty())
                .ok_or(AuthFailure::Invalid)?;
            #[cfg(feature = "langfuse")]
            if surface == Surface::Langfuse && scheme.eq_ignore_ascii_case("basic") {
                return basic_key_pair(db, token).await;
            }
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(AuthFailure::Invalid);
            }
            if token.starts_with(promptdb_core::API_KEY_PREFIX) {
                let principal = db.authenticate_api_key(token).await?;
                return Ok(Authenticated {
                    principal,
                    credential: Credential::ApiKey,
                });
            }
            let principal = self.access_token(db, token).await?;
            return Ok(Authenticated {
                principal,
                credential: Credential::AccessToken,
            });
        }
        if cookies
            && self.sessions()
            && let Some(secret) = cookie(headers, SESSION_COOKIE)
        {
            let session = self.session(db, secret).await?;
            return Ok(Authenticated {
                principal: Principal::new(session.user_id, &session.scopes)
                    .with_actor("browser session"),
                credential: Credential::Session {
                    csrf_token: session.csrf_token,
                },
            });
        }
        #[cfg(feature = "conformance")]
        if let Some(p) = anonymous {
            return Ok(Authenticated {
                principal: p.clone(),
                credential: Credential::Anonymous,
            });
        }
        Err(AuthFailure::Missing)
    }

    /// The principal of a provider access token: none without an identity provider.
    #[cfg(not(feature = "oidc"))]
    async fn access_token(&self, _: &PromptDb, _: &str) -> Result<Principal, AuthFailure> {
        Err(AuthFailure::Invalid)
    }

    /// The principal of a provider access token.
    #[cfg(feature = "oidc")]
    async fn access_token(&self, db: &PromptDb, token: &str) -> Result<Principal, AuthFailure> {
        let Some(provider) = &self.provider else {
            return Err(AuthFailure::Invalid);
        };
        let key = hash_secret(token);
        let now = Utc::now().timestamp();
        if let Some((principal, exp)) = self.verified.get(&key) {
            if exp > now {
                return Ok(principal);
            }
            self.verified.invalidate(&key);
        }
        let data = provider
            .jwks
            .verify::<jwt::AccessClaims>(token, &provider.access)
            .await
            .map_err(Error::from)?;
        let claims = data.claims;
        let o = &self.settings.oidc;
        let scopes = claims.grants(&o.read_scope, &o.write_scope, &o.release_scope);
        if scopes.is_empty() {
            tracing::info!(sub = %claims.sub, "access token grants no PromptDB scope");
            return Err(AuthFailure::NoScope);
        }
        let user = db
            .user_for_identity(&provider.issuer, &claims.sub, claims.display_name())
            .await
            .map_err(|e| match e {
                Error::Invalid { .. } => AuthFailure::Invalid,
                other => other.into(),
            })?;
        let principal =
            Principal::new(user, &scopes).with_actor(format!("token of {}", claims.sub));
        self.verified.insert(key, (principal.clone(), claims.exp));
        Ok(principal)
    }

    /// The live session behind a cookie, refreshed with the provider when it is due.
    pub async fn session(&self, db: &PromptDb, secret: &str) -> Result<Session, AuthFailure> {
        let session = db.session(secret).await?;
        #[cfg(feature = "oidc")]
        return self.refreshed(db, secret, session).await;
        #[cfg(not(feature = "oidc"))]
        Ok(session)
    }

    /// `session`, refreshed with the provider first when it is due.
    #[cfg(feature = "oidc")]
    async fn refreshed(
        &self,
        db: &PromptDb,
        secret: &str,
        session: Session,
    ) -> Result<Session, AuthFailure> {
        let (Some(due), Some(provider)) = (session.refresh_due_at, &self.provider) else {
            return Ok(session);
        };
        let now = Utc::now();
        let margin = chrono::Duration::seconds(
            i64::try_from(self.settings.oidc.refresh_margin_secs).unwrap_or(i64::MAX / 1_000),
        );
        if due - margin > now {
            return Ok(session);
        }
        self.refreshing
            .try_get_with(
                hash_secret(secret),
                refresh(provider, db, secret, session, now),
            )
            .await
            .map_err(|e| match &*e {
                Error::Unauthorized => AuthFailure::Invalid,
                other => AuthFailure::Unavailable(Error::Unavailable(other.to_string().into())),
            })
    }

    /// The 401 for a failed authentication.
    fn unauthorized(&self, surface: Surface, presented: bool) -> Response {
        let mut challenge = self.challenge(surface).to_owned();
        if presented {
            challenge.push_str(", error=\"invalid_token\"");
        }
        with_challenge(
            ApiError::Core(Error::Unauthorized).into_response(),
            &challenge,
        )
    }

    /// The 403 for a token that lacks `scope`.
    fn insufficient_scope(&self, surface: Surface, write: bool) -> Response {
        let o = &self.settings.oidc;
        let scope = if write {
            format!("{} {}", o.read_scope, o.write_scope)
        } else {
            o.read_scope.clone()
        };
        let challenge = format!(
            "{}, error=\"insufficient_scope\", scope=\"{scope}\"",
            self.challenge(surface)
                .split(", scope=")
                .next()
                .unwrap_or_default()
        );
        let body = ApiError::Core(Error::forbidden(format!(
            "this token lacks the `{scope}` scope"
        )));
        with_challenge(body.into_response(), &challenge)
    }
}

#[cfg(feature = "langfuse")]
/// The principal of a Langfuse-style key pair, `base64(public:secret)`: the secret is a PromptDB
/// API key and the public part names that key (`pk-pdb-<key id>`).
async fn basic_key_pair(db: &PromptDb, credentials: &str) -> Result<Authenticated, AuthFailure> {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(AuthFailure::Invalid)?;
    let (public, secret) = decoded.split_once(':').ok_or(AuthFailure::Invalid)?;
    let principal = db.authenticate_api_key(secret).await?;
    let named = public
        .strip_prefix(LANGFUSE_PUBLIC_PREFIX)
        .and_then(|id| id.parse::<promptdb_core::ApiKeyId>().ok());
    if named.is_none() || named != principal.key_id() {
        return Err(AuthFailure::Invalid);
    }
    Ok(Authenticated {
        principal,
        credential: Credential::ApiKey,
    })
}

/// How the public part of a Langfuse-style key pair starts; the key's id follows.
pub const LANGFUSE_PUBLIC_PREFIX: &str = "pk-pdb-";

/// Confirms a session with the provider: a refused refresh ends it; an unreachable provider
/// leaves it alone until its tokens have actually expired.
#[cfg(feature = "oidc")]
async fn refresh(
    provider: &Provider,
    db: &PromptDb,
    secret: &str,
    session: Session,
    now: chrono::DateTime<Utc>,
) -> Result<Session, Error> {
    let due = session.refresh_due_at.unwrap_or(now);
    let Some(refresh_token) = session.refresh_token.as_deref() else {
        return if due > now {
            Ok(session)
        } else {
            db.end_session(secret).await?;
            Err(Error::Unauthorized)
        };
    };
    match provider.refresh(refresh_token).await {
        Ok(tokens) => {
            let lifetime = tokens.expires_in.unwrap_or(300).clamp(30, 86_400);
            let next = now + chrono::Duration::seconds(i64::try_from(lifetime).unwrap_or(300));
            tracing::debug!(user = %session.user_id, "session refreshed with the identity provider");
            db.refresh_session(secret, tokens.refresh_token, Some(next))
                .await
        }
        Err(ProviderError::Refused(reason)) => {
            tracing::info!(user = %session.user_id, %reason, "the identity provider ended a session");
            db.end_session(secret).await?;
            Err(Error::Unauthorized)
        }
        Err(ProviderError::Unreachable(reason)) if due > now => {
            tracing::warn!(%reason, "cannot refresh a session yet; trying again later");
            Ok(session)
        }
        Err(ProviderError::Unreachable(reason)) => Err(Error::Unavailable(
            format!("the identity provider is unreachable: {reason}").into(),
        )),
    }
}

fn with_challenge(mut response: Response, challenge: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// A 429 with `Retry-After`.
pub fn too_many_requests(wait: Duration) -> Response {
    ApiError::RateLimited(retry_after_secs(wait)).into_response()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The client's address: the connection's peer, or the last `X-Forwarded-For` entry when the
/// settings trust a proxy to set it.
pub fn client_ip(req: &Request, limits: &RateLimitSettings) -> Option<IpAddr> {
    if limits.trust_forwarded_for
        && let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Per-address request limit, for every route but the health checks.
pub async fn limit_clients(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(limiter) = state.auth.limiter()
        && !req.uri().path().starts_with("/health")
        && let Err(wait) = limiter.request_from(client_ip(&req, &state.settings.auth.rate_limit))
    {
        return too_many_requests(wait);
    }
    next.run(req).await
}

/// What [`admit`] lets through: the request with the caller's [`Principal`] in its extensions.
pub(crate) struct Admitted {
    pub(crate) request: Request,
    /// The caller used a provider access token (a 403 from the route becomes a scope challenge).
    pub(crate) token: bool,
}

/// Authenticates a request for `surface` and applies the per-user limit, the CSRF check for
/// cookie writes and, on MCP, the read-only check for write tools. `Err` is the response to
/// send instead.
pub(crate) async fn admit(
    state: &AppState,
    mut req: Request,
    surface: Surface,
) -> Result<Admitted, Response> {
    let auth = &state.auth;
    let ip = client_ip(&req, &state.settings.auth.rate_limit);
    if let Some(wait) = auth.limiter().and_then(|l| l.auth_blocked(ip)) {
        return Err(too_many_requests(wait));
    }
    // Only bearer credentials count as attempts: a stale session cookie is not an attack.
    let bearer = req.headers().contains_key(header::AUTHORIZATION);
    let who = match auth
        .authenticate(
            &state.db,
            #[cfg(feature = "conformance")]
            state.anonymous.as_ref(),
            req.headers(),
            surface,
        )
        .await
    {
        Ok(who) => who,
        Err(AuthFailure::Unavailable(e)) => return Err(ApiError::from(e).into_response()),
        Err(AuthFailure::NoScope) => return Err(auth.insufficient_scope(surface, false)),
        Err(AuthFailure::Missing) => return Err(auth.unauthorized(surface, false)),
        Err(AuthFailure::Invalid) => {
            if bearer && let Some(Err(wait)) = auth.limiter().map(|l| l.auth_attempt(ip)) {
                return Err(too_many_requests(wait));
            }
            return Err(auth.unauthorized(surface, bearer));
        }
    };
    if let Some(Err(wait)) = auth
        .limiter()
        .map(|l| l.request_by(who.principal.user_id()))
    {
        return Err(too_many_requests(wait));
    }
    if let Credential::Session { csrf_token } = &who.credential
        && !is_safe(req.method())
        && let Err(reason) = check_csrf(auth.settings(), req.headers(), csrf_token)
    {
        tracing::info!(%reason, "cross-site request refused");
        return Err(ApiError::Core(Error::forbidden(reason)).into_response());
    }
    if surface == Surface::Mcp
        && !who.principal.can_write()
        && req.method() == Method::POST
        && !state.write_tools.is_empty()
    {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(_) => return Err(ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES).into_response()),
        };
        if calls_write_tool(&bytes, &state.write_tools) {
            return Err(match who.credential {
                Credential::AccessToken => auth.insufficient_scope(surface, true),
                _ => {
                    ApiError::Core(Error::forbidden("this credential is read-only")).into_response()
                }
            });
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    let token = who.credential == Credential::AccessToken;
    req.extensions_mut().insert(who.principal);
    Ok(Admitted {
        request: req,
        token,
    })
}

/// The response to an admitted request, after the route answered.
pub(crate) fn finish(
    state: &AppState,
    surface: Surface,
    token: bool,
    response: Response,
) -> Response {
    if token && surface == Surface::Rest && response.status() == StatusCode::FORBIDDEN {
        // The only 403 a token's holder can fix is a missing write scope.
        return state.auth.insufficient_scope(surface, true);
    }
    response
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A cookie-authenticated unsafe request must come from our own pages: the CSRF token in its
/// header, and no cross-site origin.
pub fn check_csrf(
    settings: &AuthSettings,
    headers: &HeaderMap,
    expected: &str,
) -> Result<(), &'static str> {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return Err("cross-site requests cannot use the session cookie");
    }
    if let (Some(origin), Some(public)) = (headers.get(header::ORIGIN), settings.public_url())
        && origin.as_bytes() != origin_of(public).as_bytes()
    {
        return Err("the request's Origin is not this server");
    }
    let given = headers
        .get(CSRF_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if given.is_empty() || !bool::from(subtle::ConstantTimeEq::ct_eq(given, expected.as_bytes())) {
        return Err("missing or wrong X-CSRF-Token header; read the token from GET /auth/session");
    }
    Ok(())
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// Whether a JSON-RPC body (one message or a batch) calls a tool in `write_tools`.
fn calls_write_tool(body: &[u8], write_tools: &[String]) -> bool {
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(default)]
        name: String,
    }
    #[derive(serde::Deserialize)]
    struct Message {
        #[serde(default)]
        method: String,
        #[serde(default)]
        params: Option<Params>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Messages {
        One(Message),
        Batch(Vec<Message>),
    }
    let messages = match serde_json::from_slice::<Messages>(body) {
        Ok(Messages::One(m)) => vec![m],
        Ok(Messages::Batch(b)) => b,
        Err(_) => return false,
    };
    messages.iter().any(|m| {
        m.method == "tools/call"
            && m.params
                .as_ref()
                .is_some_and(|p| write_tools.contains(&p.name))
    })
}

/// Shared handle.
pub type SharedAuth = Arc<Auth>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; pdb_session=xyz"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "pdb"), None);
    }

    #[test]
    fn csrf_needs_the_token_and_a_same_origin() {
        let s = AuthSettings {
            public_url: Some("https://p.example/".into()),
            ..AuthSettings::default()
        };
        let mut h = HeaderMap::new();
        assert!(check_csrf(&s, &h, "tok").is_err());
        h.insert(CSRF_HEADER, HeaderValue::from_static("tok"));
        assert!(check_csrf(&s, &h, "tok").is_ok());
        assert!(check_csrf(&s, &h, "other").is_err());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(check_csrf(&s, &h, "tok").is_err());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://p.example"),
        );
        assert!(check_csrf(&s, &h, "tok").is_ok());
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(check_csrf(&s, &h, "tok").is_err());
    }

    #[test]
    fn origins_drop_the_path() {
        assert_eq!(origin_of("https://a.example/x/y"), "https://a.example");
        assert_eq!(origin_of("http://127.0.0.1:5001"), "http://127.0.0.1:5001");
    }

    #[test]
    fn write_tool_calls_are_spotted_in_messages_and_batches() {
        let writes = vec!["save_prompts".to_owned()];
        let call =
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"save_prompts"}}"#;
        assert!(calls_write_tool(call, &writes));
        let read =
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_prompt"}}"#;
        assert!(!calls_write_tool(read, &writes));
        let batch = br#"[{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"save_prompts"}}]"#;
        assert!(calls_write_tool(batch, &writes));
        assert!(!calls_write_tool(b"not json", &writes));
    }
}
