//! API keys: issue, list, revoke, authenticate.

use super::*;

impl PromptDb {
    /// Creates an API key for the caller. Its secret is in the result and nowhere else.
    #[instrument(level = "debug", skip_all)]
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        input: NewApiKey,
    ) -> Result<CreatedApiKey> {
        require_write(principal)?;
        self.issue_api_key(principal.user_id(), input).await
    }

    /// Creates an API key for `user` (a system operation: local mode, administration).
    #[instrument(level = "debug", skip_all)]
    pub async fn issue_api_key(&self, user: UserId, input: NewApiKey) -> Result<CreatedApiKey> {
        let (name, scopes) = api_key::validate_new(&input)?;
        let secret = api_key::generate_secret()?;
        let key = ApiKey {
            id: ApiKeyId::new(),
            name,
            prefix: api_key::shown_prefix(&secret),
            scopes,
            created_at: self.now(),
            last_used_at: None,
        };
        let hash = hash_secret(&secret);
        if !self
            .store()
            .insert_api_key(user, &key, &hash, MAX_API_KEYS_PER_USER)
            .await?
        {
            return Err(Error::quota(
                "api_keys",
                format!("you have {MAX_API_KEYS_PER_USER} API keys already; revoke some first"),
            ));
        }
        Ok(CreatedApiKey { key, secret })
    }

    /// The caller's API keys, newest first (without secrets).
    #[instrument(level = "debug", skip_all)]
    pub async fn list_api_keys(&self, principal: &Principal) -> Result<Vec<ApiKey>> {
        require_read(principal)?;
        self.store().api_keys(principal.user_id()).await
    }

    /// Revokes one of the caller's API keys; it stops working at once on this server.
    #[instrument(level = "debug", skip_all)]
    pub async fn revoke_api_key(&self, principal: &Principal, id: ApiKeyId) -> Result<()> {
        require_write(principal)?;
        if !self.store().delete_api_key(principal.user_id(), id).await? {
            return Err(Error::not_found("api key", id));
        }
        // Revocation is rare; forgetting every cached key is simpler than indexing by id.
        self.inner.auth_cache.invalidate_all();
        Ok(())
    }

    /// The principal an API key secret stands for. Fails with [`Error::Unauthorized`] for
    /// anything but a live key; the stored hash is compared in constant time.
    #[instrument(level = "debug", skip_all)]
    pub async fn authenticate_api_key(&self, secret: &str) -> Result<Principal> {
        if !looks_like_api_key(secret) {
            return Err(Error::Unauthorized);
        }
        let hash = hash_secret(secret);
        if let Some(principal) = self.inner.auth_cache.get(&hash) {
            return Ok(principal);
        }
        let Some(stored) = self.store().api_key_by_hash(&hash).await? else {
            return Err(Error::Unauthorized);
        };
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&stored.hash[..], &hash[..])) {
            return Err(Error::Unauthorized);
        }
        let now = self.now();
        let stale = stored
            .key
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() >= KEY_TOUCH_INTERVAL_SECS);
        if stale && let Err(e) = self.store().touch_api_key(stored.key.id, now).await {
            // Bookkeeping only: a failed touch must not fail the request.
            tracing::warn!(error = %e, "could not record API key use");
        }
        let principal = Principal::new(stored.user_id, &stored.key.scopes)
            .with_actor(format!(
                "api key \"{}\" ({})",
                stored.key.name, stored.key.prefix
            ))
            .with_key(stored.key.id);
        self.inner.auth_cache.insert(hash, principal.clone());
        Ok(principal)
    }
}
