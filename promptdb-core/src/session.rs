//! External identities (an identity provider's issuer and subject, mapped to a PromptDB user)
//! and browser sessions.
//!
//! A session is a server-side record behind a random cookie secret; only the secret's SHA-256
//! is stored, as for API keys. It keeps the identity provider's refresh token so the server can
//! confirm, before the provider's tokens expire, that the login still stands; when the provider
//! refuses, the session ends.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::{Error, Result, Scope, SecretHash, UserId, api_key::generate_token, validate};

/// Prefix of session secrets (cookie values).
pub const SESSION_PREFIX: &str = "pds_";
/// Longest accepted issuer URL, in characters.
pub const MAX_ISSUER_CHARS: usize = 1_000;
/// Longest accepted subject, in characters (OpenID Connect Core §2 allows 255 ASCII).
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Longest stored refresh token, in bytes.
pub const MAX_REFRESH_TOKEN_BYTES: usize = 8_192;
/// Length of a CSRF token, in characters.
pub const CSRF_TOKEN_CHARS: usize = 40;

/// A browser session as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose session it is.
    pub user_id: UserId,
    /// What the session may do: what the sign-in granted (the identity provider's granted
    /// scopes, the API key's scopes), never more. Sessions stored before scopes were recorded
    /// read as every scope, as they were granted then.
    pub scopes: Vec<Scope>,
    /// The value unsafe cookie-authenticated requests must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// When the login happened.
    pub created_at: DateTime<Utc>,
    /// When the session ends, whatever happens.
    pub expires_at: DateTime<Utc>,
    /// The identity provider's refresh token, when it gave one.
    pub refresh_token: Option<String>,
    /// When the provider's tokens run out: the session must be refreshed before then (and ends
    /// then if it cannot be). `None` when there is nothing to refresh.
    pub refresh_due_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("scopes", &self.scopes)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("refresh_due_at", &self.refresh_due_at)
            .finish_non_exhaustive()
    }
}

/// What a login leaves behind to start a session.
#[derive(Clone)]
pub struct NewSession {
    /// The provider's refresh token.
    pub refresh_token: Option<String>,
    /// When the provider's tokens expire.
    pub refresh_due_at: Option<DateTime<Utc>>,
    /// What the session may do (at least one scope).
    pub scopes: Vec<Scope>,
}

impl NewSession {
    /// A session with `scopes` and nothing to refresh.
    pub fn with_scopes(scopes: &[Scope]) -> Self {
        Self {
            refresh_token: None,
            refresh_due_at: None,
            scopes: scopes.to_vec(),
        }
    }
}

/// Checks a new session's scopes: at least one.
pub(crate) fn validate_scopes(scopes: &[Scope]) -> Result<()> {
    match scopes.is_empty() {
        true => Err(Error::invalid(
            "scopes",
            "a session needs at least one scope",
        )),
        false => Ok(()),
    }
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("refresh_due_at", &self.refresh_due_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A session just created: the secret for the cookie, shown once, and the record.
#[derive(Clone)]
pub struct CreatedSession {
    /// The cookie value.
    pub secret: String,
    /// The session.
    pub session: Session,
}

impl fmt::Debug for CreatedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedSession")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// Whether `s` has the shape of a session secret (cheap pre-check before any lookup).
pub fn looks_like_session_secret(s: &str) -> bool {
    s.len() == SESSION_PREFIX.len() + crate::api_key::SECRET_CHARS
        && s.starts_with(SESSION_PREFIX)
        && s[SESSION_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// A fresh session secret.
pub(crate) fn generate_session_secret() -> Result<String> {
    generate_token(SESSION_PREFIX, crate::api_key::SECRET_CHARS)
}

/// A fresh CSRF token.
pub(crate) fn generate_csrf_token() -> Result<String> {
    generate_token("", CSRF_TOKEN_CHARS)
}

/// Checks an identity provider's issuer and subject.
pub(crate) fn validate_identity(issuer: &str, subject: &str) -> Result<()> {
    if issuer.is_empty() || issuer.chars().count() > MAX_ISSUER_CHARS {
        return Err(Error::invalid(
            "iss",
            format!("must be 1 to {MAX_ISSUER_CHARS} characters"),
        ));
    }
    validate::single_line(subject, MAX_SUBJECT_CHARS, false)
        .map_err(|r| Error::invalid("sub", r))?;
    Ok(())
}

/// Checks a refresh token before it is stored.
pub(crate) fn validate_refresh_token(token: Option<&str>) -> Result<()> {
    match token {
        Some(t) if t.is_empty() || t.len() > MAX_REFRESH_TOKEN_BYTES => Err(Error::invalid(
            "refresh_token",
            format!("must be 1 to {MAX_REFRESH_TOKEN_BYTES} bytes"),
        )),
        _ => Ok(()),
    }
}

/// The hash a session secret is stored under.
pub(crate) fn session_hash(secret: &str) -> SecretHash {
    crate::hash_secret(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_csrf_tokens_have_their_shape() {
        let a = generate_session_secret().unwrap();
        let b = generate_session_secret().unwrap();
        assert!(looks_like_session_secret(&a), "{a}");
        assert_ne!(a, b);
        assert!(!looks_like_session_secret(&a[1..]));
        assert!(!crate::looks_like_api_key(&a), "sessions are not API keys");
        let csrf = generate_csrf_token().unwrap();
        assert_eq!(csrf.len(), CSRF_TOKEN_CHARS);
        assert!(csrf.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn identities_are_bounded() {
        assert!(validate_identity("https://id.example", "alice").is_ok());
        assert_eq!(
            validate_identity("", "alice").unwrap_err().field(),
            Some("iss")
        );
        assert_eq!(
            validate_identity("https://id.example", "")
                .unwrap_err()
                .field(),
            Some("sub")
        );
        let long = "x".repeat(MAX_SUBJECT_CHARS + 1);
        assert_eq!(
            validate_identity("https://id.example", &long)
                .unwrap_err()
                .field(),
            Some("sub")
        );
        assert!(validate_refresh_token(Some("")).is_err());
        assert!(validate_refresh_token(None).is_ok());
    }

    #[test]
    fn debug_output_hides_tokens() {
        let s = NewSession {
            refresh_token: Some("rt-secret".into()),
            ..NewSession::with_scopes(&[Scope::Read])
        };
        assert!(!format!("{s:?}").contains("rt-secret"));
    }
}
