//! Per-user preferences.

use super::*;

impl PromptDb {
    /// The caller's preferences.
    #[instrument(level = "debug", skip_all)]
    pub async fn preferences(&self, principal: &Principal) -> Result<Preferences> {
        require_read(principal)?;
        self.store().preferences(principal.user_id()).await
    }

    /// Merges `patch` into the caller's preferences; a `null` value removes a key.
    #[instrument(level = "debug", skip_all)]
    pub async fn set_preferences(
        &self,
        principal: &Principal,
        patch: Map<String, Value>,
    ) -> Result<Preferences> {
        require_write(principal)?;
        let now = self.now();
        let apply = move |current: Preferences| current.merged(patch.clone());
        self.store()
            .update_preferences(principal.user_id(), &apply, now)
            .await
    }

    /// Replaces the caller's preferences with `prefs` entirely.
    #[instrument(level = "debug", skip_all)]
    pub async fn replace_preferences(
        &self,
        principal: &Principal,
        prefs: Map<String, Value>,
    ) -> Result<Preferences> {
        require_write(principal)?;
        let now = self.now();
        let apply = move |_: Preferences| Preferences::default().merged(prefs.clone());
        self.store()
            .update_preferences(principal.user_id(), &apply, now)
            .await
    }
}
