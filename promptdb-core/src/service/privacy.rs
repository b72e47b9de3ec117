//! Export and account deletion.

use super::*;

impl PromptDb {
    /// Everything the caller owns, as one document.
    #[instrument(level = "debug", skip_all)]
    pub async fn export_user(&self, principal: &Principal) -> Result<Export> {
        let user = self.me(principal).await?;
        let id = principal.user_id();
        let now = self.now();
        let prompts = self
            .store()
            .export_prompts(id)
            .await?
            .into_iter()
            .map(|(prompt, versions)| ExportedPrompt { prompt, versions })
            .collect();
        Ok(Export {
            format: EXPORT_FORMAT.to_owned(),
            version: EXPORT_VERSION,
            exported_at: now,
            user,
            prompts,
            drafts: self.store().drafts(id, now).await?,
            preferences: self.store().preferences(id).await?,
        })
    }

    /// Deletes the caller and everything the caller owns.
    #[instrument(level = "debug", skip_all)]
    pub async fn delete_user(&self, principal: &Principal) -> Result<()> {
        require_write(principal)?;
        let id = principal.user_id();
        if self.store().delete_user(id).await? {
            self.inner.auth_cache.invalidate_all();
            self.inner.session_cache.invalidate_all();
            self.inner.identity_cache.invalidate_all();
            Ok(())
        } else {
            Err(Error::not_found("user", id))
        }
    }
}
