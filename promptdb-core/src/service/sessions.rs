//! External identities and browser sessions.

use super::*;

impl PromptDb {
    /// The user behind an identity provider's `subject` at `issuer`, created on first sight with
    /// `display_name` (trimmed to one line and the display-name limit). A system operation:
    /// call it only with a verified token's claims.
    #[instrument(level = "debug", skip_all)]
    pub async fn user_for_identity(
        &self,
        issuer: &str,
        subject: &str,
        display_name: &str,
    ) -> Result<UserId> {
        session::validate_identity(issuer, subject)?;
        let key = identity_key(issuer, subject);
        if let Some(id) = self.inner.identity_cache.get(&key) {
            return Ok(id);
        }
        let id = match self.store().user_by_identity(issuer, subject).await? {
            Some(id) => id,
            None => {
                let user = User {
                    id: UserId::new(),
                    display_name: clean_display_name(display_name),
                    created_at: self.now(),
                };
                let id = self
                    .store()
                    .insert_user_with_identity(&user, issuer, subject)
                    .await?;
                if id == user.id {
                    tracing::info!(user = %id, "user created on first sign-in");
                }
                id
            }
        };
        self.inner.identity_cache.insert(key, id);
        Ok(id)
    }

    /// Starts a browser session for `user` (a system operation: the end of a login). The
    /// secret, for the cookie, is in the result and nowhere else.
    #[instrument(level = "debug", skip_all)]
    pub async fn create_session(&self, user: UserId, input: NewSession) -> Result<CreatedSession> {
        session::validate_refresh_token(input.refresh_token.as_deref())?;
        session::validate_scopes(&input.scopes)?;
        let mut scopes = input.scopes;
        scopes.sort_unstable_by_key(|s| *s as u8);
        scopes.dedup();
        let secret = session::generate_session_secret()?;
        let now = self.now();
        let session = Session {
            user_id: user,
            scopes,
            csrf_token: session::generate_csrf_token()?,
            created_at: now,
            expires_at: now + secs(self.inner.config.session_ttl_secs),
            refresh_token: input.refresh_token,
            refresh_due_at: input.refresh_due_at,
        };
        let hash = session::session_hash(&secret);
        self.store().insert_session(&hash, &session).await?;
        self.inner.session_cache.insert(hash, session.clone());
        Ok(CreatedSession { secret, session })
    }

    /// The live session behind a cookie secret. Fails with [`Error::Unauthorized`] for anything
    /// else, expired sessions included.
    #[instrument(level = "debug", skip_all)]
    pub async fn session(&self, secret: &str) -> Result<Session> {
        if !looks_like_session_secret(secret) {
            return Err(Error::Unauthorized);
        }
        let hash = session::session_hash(secret);
        let session = match self.inner.session_cache.get(&hash) {
            Some(s) => s,
            None => {
                let s = self
                    .store()
                    .session_by_hash(&hash)
                    .await?
                    .ok_or(Error::Unauthorized)?;
                self.inner.session_cache.insert(hash, s.clone());
                s
            }
        };
        if session.expires_at <= self.now() {
            self.inner.session_cache.invalidate(&hash);
            return Err(Error::Unauthorized);
        }
        Ok(session)
    }

    /// Records that the identity provider confirmed the login again: a new refresh token when it
    /// rotated the old one, and the new due time. Returns the updated session.
    #[instrument(level = "debug", skip_all)]
    pub async fn refresh_session(
        &self,
        secret: &str,
        refresh_token: Option<String>,
        refresh_due_at: Option<DateTime<Utc>>,
    ) -> Result<Session> {
        session::validate_refresh_token(refresh_token.as_deref())?;
        let mut current = self.session(secret).await?;
        let hash = session::session_hash(secret);
        if !self
            .store()
            .refresh_session(&hash, refresh_token.as_deref(), refresh_due_at)
            .await?
        {
            self.inner.session_cache.invalidate(&hash);
            return Err(Error::Unauthorized);
        }
        if refresh_token.is_some() {
            current.refresh_token = refresh_token;
        }
        current.refresh_due_at = refresh_due_at;
        self.inner.session_cache.insert(hash, current.clone());
        Ok(current)
    }

    /// Ends a session (logout, or the provider refused to refresh it). Ending an unknown or
    /// already ended session is not an error.
    #[instrument(level = "debug", skip_all)]
    pub async fn end_session(&self, secret: &str) -> Result<()> {
        if !looks_like_session_secret(secret) {
            return Ok(());
        }
        let hash = session::session_hash(secret);
        self.inner.session_cache.invalidate(&hash);
        self.store().delete_session(&hash).await?;
        Ok(())
    }

    /// Deletes every session that has ended; returns how many (the background sweeper).
    #[instrument(level = "debug", skip_all)]
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        self.store().purge_expired_sessions(self.now()).await
    }
}
