//! The OpenID Connect provider: discovery, the token endpoint (authorization code with PKCE,
//! refresh), and the checks on what it returns.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::jwt::{self, Jwks};
use crate::AuthSettings;

/// Largest provider response read, in bytes.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// What discovery says about the provider (OpenID Connect Discovery 1.0).
#[derive(Debug, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    end_session_endpoint: Option<String>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
}

/// The client this server is at the provider, for the browser login.
#[derive(Clone)]
pub struct ClientCredentials {
    /// Client id.
    pub id: String,
    /// Client secret (public client when absent).
    pub secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A token endpoint answer.
#[derive(Deserialize)]
pub struct TokenResponse {
    /// The access token (unused beyond proving the grant).
    #[serde(default)]
    pub access_token: Option<String>,
    /// Lifetime of the access token, in seconds.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// A refresh token, when the provider issues them.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The ID token (authorization code grant).
    #[serde(default)]
    pub id_token: Option<String>,
    /// The scopes granted, space-separated, when they differ from those asked for (RFC 6749
    /// §5.1: absent means as asked).
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("id_token", &self.id_token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// Why the token endpoint did not give tokens.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// It answered with an OAuth error (`invalid_grant`: the grant is gone).
    #[error("the identity provider refused: {0}")]
    Refused(String),
    /// It could not be reached or answered nonsense.
    #[error("the identity provider is unreachable: {0}")]
    Unreachable(String),
}

/// The claims of an ID token that matter here.
#[derive(Debug, Deserialize)]
pub struct IdClaims {
    /// The user at the provider.
    pub sub: String,
    /// The nonce the login sent.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Authorized party, when there are several audiences.
    #[serde(default)]
    pub azp: Option<String>,
    /// Name claims, for a new user's display name.
    #[serde(flatten)]
    pub names: NameClaims,
}

/// Optional profile claims.
#[derive(Debug, Default, Deserialize)]
pub struct NameClaims {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// User name.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
}

impl NameClaims {
    /// The first of name, user name and email that is present.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .or(self.preferred_username.as_deref())
            .or(self.email.as_deref())
            .unwrap_or_default()
    }
}

/// A discovered provider.
#[derive(Debug)]
pub struct Provider {
    /// Issuer URL, as tokens name it.
    pub issuer: String,
    /// Where the browser goes to sign in.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// RP-initiated logout, when the provider offers it.
    pub end_session_endpoint: Option<String>,
    /// Signing keys.
    pub jwks: Jwks,
    /// How access tokens are checked.
    pub access: Validation,
    /// How ID tokens are checked (audience: the client id).
    pub id: Option<Validation>,
    /// This server as the provider's client, when the browser login is configured.
    pub client: Option<ClientCredentials>,
    http: reqwest::Client,
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    crate::install_tls_provider();
    reqwest::Client::builder()
        .user_agent(concat!("promptdb/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, String> {
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > MAX_RESPONSE_BYTES {
        return Err("the response is too large".into());
    }
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("unexpected response: {e}"))
}

impl Provider {
    /// Discovers the provider named in `settings` and fetches its keys. Fails with a message
    /// for the operator: this runs at start-up.
    pub async fn discover(settings: &AuthSettings) -> anyhow::Result<Self> {
        let o = &settings.oidc;
        let issuer = o
            .issuer
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("auth.oidc.issuer is not set"))?
            .trim_end_matches('/')
            .to_owned();
        let http = http_client(Duration::from_millis(o.http_timeout_ms))
            .map_err(|e| anyhow::anyhow!("cannot build an HTTP client: {e}"))?;
        let url = format!("{issuer}/.well-known/openid-configuration");
        let response = http.get(&url).send().await.map_err(|e| {
            anyhow::anyhow!("cannot reach the OpenID Connect provider at {url}: {e}")
        })?;
        let meta: Metadata = read_json(response)
            .await
            .map_err(|e| anyhow::anyhow!("bad OpenID Connect discovery document at {url}: {e}"))?;
        // OpenID Connect Discovery §4.3: the issuer must match exactly.
        if meta.issuer.trim_end_matches('/') != issuer {
            anyhow::bail!(
                "the provider at {url} calls itself `{}`, not `{issuer}`; set auth.oidc.issuer to the exact issuer",
                meta.issuer
            );
        }
        if let Some(methods) = &meta.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            anyhow::bail!("the provider at {issuer} does not support PKCE with S256");
        }
        for (name, endpoint) in [
            ("authorization_endpoint", &meta.authorization_endpoint),
            ("token_endpoint", &meta.token_endpoint),
            ("jwks_uri", &meta.jwks_uri),
        ] {
            crate::parse_service_url(name, endpoint).map_err(|e| {
                anyhow::anyhow!("the provider's discovery document has a bad {name}: {e}")
            })?;
        }
        let algorithms = jwt::algorithms(&o.algorithms).map_err(|e| anyhow::anyhow!(e))?;
        let audiences = settings.audiences();
        let access = jwt::validation(&algorithms, &meta.issuer, &audiences, o.clock_skew_secs);
        let client = o.client_id.clone().map(|id| ClientCredentials {
            id,
            secret: o.client_secret.clone(),
        });
        let id = client.as_ref().map(|c| {
            jwt::validation(
                &algorithms,
                &meta.issuer,
                std::slice::from_ref(&c.id),
                o.clock_skew_secs,
            )
        });
        let jwks = Jwks::new(
            meta.jwks_uri.clone(),
            http.clone(),
            Duration::from_secs(o.jwks_ttl_secs),
            Duration::from_secs(o.jwks_refresh_min_interval_secs),
        );
        let keys = jwks
            .prime()
            .await
            .map_err(|e| anyhow::anyhow!("cannot load the provider's signing keys: {e}"))?;
        tracing::info!(%issuer, keys, login = client.is_some(), "OpenID Connect provider ready");
        Ok(Self {
            issuer: meta.issuer,
            authorization_endpoint: meta.authorization_endpoint,
            token_endpoint: meta.token_endpoint,
            end_session_endpoint: meta.end_session_endpoint,
            jwks,
            access,
            id,
            client,
            http,
        })
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenResponse, ProviderError> {
        let client = self
            .client
            .as_ref()
            .ok_or_else(|| ProviderError::Refused("no client is configured".into()))?;
        let mut request = self.http.post(&self.token_endpoint);
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        match &client.secret {
            // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
            Some(secret) => {
                let enc = |s: &str| form_urlencoded(s);
                request = request.basic_auth(enc(&client.id), Some(enc(secret)));
            }
            None => fields.push(("client_id", &client.id)),
        }
        let response = request
            .form(&fields)
            .send()
            .await
            .map_err(|e| ProviderError::Unreachable(e.to_string()))?;
        let status = response.status();
        if status.is_client_error() {
            #[derive(Deserialize)]
            struct OAuthError {
                error: String,
            }
            let body = response.bytes().await.unwrap_or_default();
            let code = serde_json::from_slice::<OAuthError>(&body)
                .map(|e| e.error)
                .unwrap_or_else(|_| format!("HTTP {status}"));
            return Err(ProviderError::Refused(code));
        }
        read_json(response)
            .await
            .map_err(ProviderError::Unreachable)
    }

    /// Exchanges an authorization code (with its PKCE verifier).
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<TokenResponse, ProviderError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// Uses a refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, ProviderError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// Checks an ID token from the token endpoint: signature, issuer, audience (this client),
    /// expiry, authorized party and nonce.
    pub async fn verify_id_token(
        &self,
        token: &str,
        nonce: &str,
    ) -> Result<IdClaims, jwt::TokenError> {
        let (Some(validation), Some(client)) = (&self.id, &self.client) else {
            return Err(jwt::TokenError::Rejected("no client is configured".into()));
        };
        let data = self.jwks.verify::<IdClaims>(token, validation).await?;
        let claims = data.claims;
        if claims.azp.as_deref().is_some_and(|azp| azp != client.id) {
            return Err(jwt::TokenError::Rejected("issued to another client".into()));
        }
        let matches = claims.nonce.as_deref().is_some_and(|n| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                n.as_bytes(),
                nonce.as_bytes(),
            ))
        });
        if !matches {
            return Err(jwt::TokenError::Rejected("nonce mismatch".into()));
        }
        Ok(claims)
    }

    /// The accepted algorithms (for tests and diagnostics).
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.access.algorithms
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_urlencoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
