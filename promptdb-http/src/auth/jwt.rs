//! JSON Web Token checks against the identity provider's published keys (JWKS).
//!
//! Keys are fetched at start, kept for `jwks_ttl_secs`, and fetched again when a token names a
//! key the set does not have (at most once per `jwks_refresh_min_interval_secs`, so that made-up
//! key ids cannot turn the server into a JWKS fetching loop). Only asymmetric algorithms from
//! the configured allow-list are accepted; a key is used only for its own family and, when the
//! key says so, its own algorithm.

use std::{
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey, TokenData, Validation,
    errors::ErrorKind,
    jwk::{AlgorithmParameters, Jwk, PublicKeyUse},
};
use promptdb_core::{Error, Scope};
use serde::{Deserialize, de::DeserializeOwned};

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Largest JWKS document read, in bytes.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// Why a token was refused. Callers only ever see `invalid_token`; this is for the logs.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or a header we do not accept.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Signed with a key the provider does not publish.
    #[error("no published key matches the token (kid {0:?})")]
    UnknownKey(Option<String>),
    /// The signature or a claim check failed.
    #[error("token rejected: {0}")]
    Rejected(String),
    /// The provider's keys cannot be fetched.
    #[error("the identity provider's keys are unavailable: {0}")]
    KeysUnavailable(String),
}

impl From<TokenError> for Error {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::KeysUnavailable(m) => Error::Unavailable(m.into()),
            other => {
                tracing::info!(reason = %other, "bearer token refused");
                Error::Unauthorized
            }
        }
    }
}

#[derive(Debug)]
struct Key {
    kid: Option<String>,
    alg: Option<Algorithm>,
    key: DecodingKey,
}

#[derive(Debug)]
struct KeySet {
    keys: Vec<Key>,
    fetched: Instant,
}

impl KeySet {
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<&Key> {
        let mut candidates = self.keys.iter().filter(|k| {
            k.key.family() == alg.family()
                && k.alg.is_none_or(|a| a == alg)
                && match kid {
                    Some(kid) => k.kid.as_deref() == Some(kid),
                    None => true,
                }
        });
        let first = candidates.next()?;
        // Without a kid, only an unambiguous key will do.
        (kid.is_some() || candidates.next().is_none()).then_some(first)
    }
}

/// The provider's signing keys.
#[derive(Debug)]
pub struct Jwks {
    uri: String,
    http: reqwest::Client,
    cache: moka::future::Cache<(), Arc<KeySet>>,
    min_refresh: Duration,
}

impl Jwks {
    /// Keys from `uri`, kept for `ttl`, fetched again for unknown keys at most every
    /// `min_refresh`.
    pub fn new(uri: String, http: reqwest::Client, ttl: Duration, min_refresh: Duration) -> Self {
        Self {
            uri,
            http,
            cache: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(ttl)
                .build(),
            min_refresh,
        }
    }

    async fn fetch(&self) -> Result<Arc<KeySet>, TokenError> {
        let unavailable = |e: String| TokenError::KeysUnavailable(format!("{}: {e}", self.uri));
        let response = self
            .http
            .get(&self.uri)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("HTTP {}", response.status())));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(unavailable("the key set is too large".into()));
        }
        #[derive(Deserialize)]
        struct Set {
            keys: Vec<serde_json::Value>,
        }
        let set: Set = serde_json::from_slice(&body)
            .map_err(|e| unavailable(format!("not a JWK set: {e}")))?;
        let mut keys = Vec::with_capacity(set.keys.len());
        for value in set.keys {
            match parse_key(value) {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => {}
                Err(reason) => tracing::warn!(%reason, uri = %self.uri, "skipping a published key"),
            }
        }
        if keys.is_empty() {
            return Err(unavailable("no usable signing key".into()));
        }
        tracing::debug!(keys = keys.len(), "identity provider keys fetched");
        Ok(Arc::new(KeySet {
            keys,
            fetched: Instant::now(),
        }))
    }

    async fn current(&self) -> Result<Arc<KeySet>, TokenError> {
        self.cache
            .try_get_with((), self.fetch())
            .await
            .map_err(|e| TokenError::KeysUnavailable(e.to_string()))
    }

    /// Fetches the keys now (at start-up).
    pub async fn prime(&self) -> Result<usize, TokenError> {
        Ok(self.current().await?.keys.len())
    }

    /// The key for a token's `kid` and `alg`, fetching the set again once when it is unknown.
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, TokenError> {
        let set = self.current().await?;
        if let Some(k) = set.find(kid, alg) {
            return Ok(k.key.clone());
        }
        if set.fetched.elapsed() < self.min_refresh {
            return Err(TokenError::UnknownKey(kid.map(str::to_owned)));
        }
        self.cache.invalidate(&()).await;
        let set = self.current().await?;
        set.find(kid, alg)
            .map(|k| k.key.clone())
            .ok_or_else(|| TokenError::UnknownKey(kid.map(str::to_owned)))
    }

    /// Checks `token`'s signature and claims under `validation`, and decodes its claims.
    pub async fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<TokenData<T>, TokenError> {
        if token.len() > MAX_TOKEN_BYTES || token.bytes().filter(|b| *b == b'.').count() != 2 {
            return Err(TokenError::Malformed("not a signed JWT".into()));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if !validation.algorithms.contains(&header.alg) {
            return Err(TokenError::Malformed(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let key = self.key(header.kid.as_deref(), header.alg).await?;
        // jsonwebtoken refuses a validation whose algorithms span key families (RSA and EC,
        // say), so each token is checked against exactly the one allowed algorithm it names.
        let mut validation = validation.clone();
        validation.algorithms = vec![header.alg];
        jsonwebtoken::decode::<T>(token, &key, &validation).map_err(|e| {
            TokenError::Rejected(match e.kind() {
                ErrorKind::ExpiredSignature => "expired".into(),
                ErrorKind::ImmatureSignature => "not yet valid".into(),
                ErrorKind::InvalidIssuer => "wrong issuer".into(),
                ErrorKind::InvalidAudience => "wrong audience".into(),
                ErrorKind::InvalidSignature => "bad signature".into(),
                ErrorKind::MissingRequiredClaim(c) => format!("missing claim {c}"),
                other => format!("{other:?}"),
            })
        })
    }
}

/// A published key, or `None` for keys that are not for signatures we accept.
fn parse_key(value: serde_json::Value) -> Result<Option<Key>, String> {
    let jwk: Jwk = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
        // A symmetric key has no business in a public key set.
        return Ok(None);
    }
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return Ok(None);
    }
    let alg = match &jwk.common.key_algorithm {
        Some(a) => match Algorithm::try_from(*a) {
            Ok(a) => Some(a),
            Err(_) => return Ok(None),
        },
        None => None,
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
    Ok(Some(Key {
        kid: jwk.common.key_id,
        alg,
        key,
    }))
}

/// Parses the configured algorithm names (already checked by the settings).
pub fn algorithms(names: &[String]) -> Result<Vec<Algorithm>, String> {
    names
        .iter()
        .map(|n| Algorithm::from_str(n).map_err(|_| format!("unknown algorithm {n}")))
        .collect()
}

/// A validation requiring `exp`, `iss`, `aud` and `sub`, checking `nbf` when present.
pub fn validation(
    algorithms: &[Algorithm],
    issuer: &str,
    audiences: &[String],
    leeway_secs: u64,
) -> Validation {
    let mut v = Validation::new(algorithms.first().copied().unwrap_or(Algorithm::RS256));
    v.algorithms = algorithms.to_vec();
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.validate_nbf = true;
    v.leeway = leeway_secs;
    v.set_issuer(&[issuer]);
    v.set_audience(audiences);
    v
}

/// The claims of an access token that matter here.
#[derive(Debug, Deserialize)]
pub struct AccessClaims {
    /// The user at the provider.
    pub sub: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Space-separated scopes (RFC 9068, RFC 8693).
    #[serde(default)]
    pub scope: Option<String>,
    /// Scopes as some providers spell them.
    #[serde(default)]
    pub scp: Option<ScopeList>,
    /// A name to show.
    #[serde(default)]
    pub name: Option<String>,
    /// A user name.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// An email address.
    #[serde(default)]
    pub email: Option<String>,
}

/// `scp` as a list or a space-separated string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ScopeList {
    /// `["a", "b"]`.
    List(Vec<String>),
    /// `"a b"`.
    Text(String),
}

/// What a list of granted OAuth scopes allows, given PromptDB's read, write and release scope
/// names (write and release imply read).
pub fn grants(scopes: &[&str], read: &str, write: &str, release: &str) -> Vec<Scope> {
    let mut out = Vec::with_capacity(3);
    if scopes.contains(&read) || scopes.contains(&write) || scopes.contains(&release) {
        out.push(Scope::Read);
    }
    if scopes.contains(&write) {
        out.push(Scope::Write);
    }
    if scopes.contains(&release) {
        out.push(Scope::Release);
    }
    out
}

impl AccessClaims {
    /// Every scope the token carries.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        let scp: Box<dyn Iterator<Item = &str>> = match &self.scp {
            Some(ScopeList::List(l)) => Box::new(l.iter().map(String::as_str)),
            Some(ScopeList::Text(t)) => Box::new(t.split_ascii_whitespace()),
            None => Box::new(std::iter::empty()),
        };
        self.scope
            .as_deref()
            .unwrap_or_default()
            .split_ascii_whitespace()
            .chain(scp)
    }

    /// What the token allows, given the read and write scope names.
    pub fn grants(&self, read: &str, write: &str, release: &str) -> Vec<Scope> {
        let scopes: Vec<&str> = self.scopes().collect();
        grants(&scopes, read, write, release)
    }

    /// The name to give a new user: name, user name or email, whichever is there.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .or(self.preferred_username.as_deref())
            .or(self.email.as_deref())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> AccessClaims {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn scopes_come_from_scope_or_scp() {
        let c = claims(r#"{"sub":"a","exp":1,"scope":"openid promptdb:read"}"#);
        assert_eq!(
            c.grants("promptdb:read", "promptdb:write", "promptdb:release"),
            vec![Scope::Read]
        );
        let c = claims(r#"{"sub":"a","exp":1,"scp":["promptdb:write"]}"#);
        assert_eq!(
            c.grants("promptdb:read", "promptdb:write", "promptdb:release"),
            vec![Scope::Read, Scope::Write]
        );
        let c = claims(r#"{"sub":"a","exp":1,"scp":"x promptdb:read"}"#);
        assert_eq!(
            c.grants("promptdb:read", "promptdb:write", "promptdb:release"),
            vec![Scope::Read]
        );
        let c = claims(r#"{"sub":"a","exp":1,"scope":"promptdb:readwrite"}"#);
        assert!(
            c.grants("promptdb:read", "promptdb:write", "promptdb:release")
                .is_empty()
        );
    }

    #[test]
    fn display_names_fall_back_in_order() {
        assert_eq!(
            claims(r#"{"sub":"a","exp":1,"preferred_username":"ada","email":"a@x"}"#)
                .display_name(),
            "ada"
        );
        assert_eq!(claims(r#"{"sub":"a","exp":1}"#).display_name(), "");
    }

    #[test]
    fn symmetric_and_encryption_keys_are_skipped() {
        let oct = serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "kid": "h"});
        assert!(parse_key(oct).unwrap().is_none());
        let enc = serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "enc", "kid": "e",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        });
        assert!(parse_key(enc).unwrap().is_none());
        let sig = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "s", "alg": "ES256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        });
        let key = parse_key(sig).unwrap().unwrap();
        assert_eq!(key.alg, Some(Algorithm::ES256));
        let set = KeySet {
            keys: vec![key],
            fetched: Instant::now(),
        };
        assert!(set.find(Some("s"), Algorithm::ES256).is_some());
        assert!(set.find(None, Algorithm::ES256).is_some(), "the only key");
        assert!(
            set.find(Some("s"), Algorithm::ES384).is_none(),
            "pinned alg"
        );
        assert!(
            set.find(Some("s"), Algorithm::RS256).is_none(),
            "wrong family"
        );
        assert!(set.find(Some("other"), Algorithm::ES256).is_none());
    }

    #[test]
    fn configured_algorithms_parse() {
        let names: Vec<String> = crate::ASYMMETRIC_ALGORITHMS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(algorithms(&names).unwrap().len(), names.len());
        assert!(algorithms(&["none".into()]).is_err());
    }
}
