//! API keys: `pdb_` followed by 40 random base-62 characters. Only a SHA-256 hash is stored;
//! the secret is shown once, when the key is created. A fast hash is right here: the secret
//! carries 238 bits of entropy, so there is nothing to brute-force.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result, Scope, validate};

crate::ids::uuid_id!(
    /// An API key's identifier (not secret).
    ApiKeyId,
    "api key"
);

/// The prefix every secret starts with, so scanners and people can recognise one.
pub const API_KEY_PREFIX: &str = "pdb_";
pub(crate) const SECRET_CHARS: usize = 40;
/// How many leading characters of a secret are kept to help people tell keys apart.
const SHOWN_PREFIX_CHARS: usize = 12;
/// Most keys one user may have.
pub const MAX_API_KEYS_PER_USER: usize = 50;
/// Most scopes named when creating a key (each scope at most once).
pub const MAX_SCOPES: usize = 3;
/// Longest key name, in characters.
pub const MAX_API_KEY_NAME_CHARS: usize = 100;

/// A stored API key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApiKey {
    /// Identifier, used to revoke the key.
    pub id: ApiKeyId,
    /// What the key is for (`laptop CLI`, `Cursor`).
    pub name: String,
    /// The first characters of the secret (`pdb_AbCd1234`), to recognise it.
    pub prefix: String,
    /// What the key may do.
    pub scopes: Vec<Scope>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Input for creating an API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for.
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::NAME_PATTERN), length(max = crate::api_key::MAX_API_KEY_NAME_CHARS)))]
    pub name: String,
    /// What the key may do; read and write when absent.
    #[serde(
        deserialize_with = "crate::bounded::vec::<_, _, MAX_SCOPES>",
        default = "all_scopes"
    )]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::api_key::MAX_SCOPES)))]
    pub scopes: Vec<Scope>,
}

fn all_scopes() -> Vec<Scope> {
    vec![Scope::Read, Scope::Write]
}

impl NewApiKey {
    /// A key with read and write scopes.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            scopes: all_scopes(),
        }
    }
}

/// A newly created key with its secret. The secret is not stored and cannot be shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CreatedApiKey {
    /// The key.
    #[serde(flatten)]
    pub key: ApiKey,
    /// The secret to send as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// A key's secret hash, as stored.
pub type SecretHash = [u8; 32];

/// SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> SecretHash {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether `s` has the shape of a PromptDB API key (cheap pre-check before any lookup).
pub fn looks_like_api_key(s: &str) -> bool {
    s.len() == API_KEY_PREFIX.len() + SECRET_CHARS
        && s.starts_with(API_KEY_PREFIX)
        && s[API_KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// A fresh API key secret.
pub(crate) fn generate_secret() -> Result<String> {
    generate_token(API_KEY_PREFIX, SECRET_CHARS)
}

/// `prefix` followed by `chars` random base-62 characters from the operating system's source:
/// for secrets, nonces and PKCE verifiers.
pub fn generate_token(prefix: &str, chars: usize) -> Result<String> {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let len = prefix.len() + chars;
    let mut out = String::with_capacity(len);
    out.push_str(prefix);
    while out.len() < len {
        let mut buf = [0u8; 64];
        getrandom::fill(&mut buf).map_err(|e| Error::backend(format!("no randomness: {e}")))?;
        // Rejection sampling keeps every character equally likely.
        for b in buf {
            if b < 248 && out.len() < len {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

/// The displayable prefix of a secret.
pub(crate) fn shown_prefix(secret: &str) -> String {
    secret[..SHOWN_PREFIX_CHARS.min(secret.len())].to_owned()
}

/// Validates a new key's name and scopes.
pub(crate) fn validate_new(input: &NewApiKey) -> Result<(String, Vec<Scope>)> {
    validate::single_line(&input.name, MAX_API_KEY_NAME_CHARS, false)
        .map_err(|r| Error::invalid("name", r))?;
    let name = validate::trim(&input.name);
    if input.scopes.is_empty() {
        return Err(Error::invalid(
            "scopes",
            "give at least one scope (`read`, `write`, `release`)",
        ));
    }
    if input.scopes.len() > 3 {
        return Err(Error::invalid(
            "scopes",
            "at most three scopes: `read`, `write` and `release`",
        ));
    }
    let mut scopes = Vec::with_capacity(3);
    for s in [Scope::Read, Scope::Write, Scope::Release] {
        if input.scopes.contains(&s) {
            scopes.push(s);
        }
    }
    Ok((name.to_owned(), scopes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_documented_shape_and_differ() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert!(looks_like_api_key(&a), "{a}");
        assert_ne!(a, b);
        assert_ne!(hash_secret(&a), hash_secret(&b));
        assert!(!looks_like_api_key("pdb_short"));
        assert!(!looks_like_api_key(&a.replace("pdb_", "xyz_")));
        assert!(!looks_like_api_key(&format!("{}!", &a[..a.len() - 1])));
        assert_eq!(shown_prefix(&a).len(), 12);
    }
}
