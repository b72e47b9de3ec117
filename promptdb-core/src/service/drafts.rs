//! Drafts: autosaved edits that expire.

use super::*;

impl PromptDb {
    /// Creates or updates a draft; either way it expires 24 hours (the configured TTL) from now.
    #[instrument(level = "debug", skip_all)]
    pub async fn save_draft(&self, principal: &Principal, input: SaveDraft) -> Result<Draft> {
        require_write(principal)?;
        let prompt_slug = input
            .prompt_slug
            .as_deref()
            .map(|s| Slug::parse("prompt_slug", s))
            .transpose()?;
        let fields = input.fields.validated()?;
        let now = self.now();
        let draft = Draft {
            id: input.id.unwrap_or_default(),
            prompt_slug,
            fields,
            created_at: now,
            updated_at: now,
            expires_at: now + self.draft_ttl(),
        };
        let max = self.inner.config.max_drafts_per_user;
        match self
            .store()
            .save_draft(principal.user_id(), &draft, max, now)
            .await?
        {
            DraftSaved::Saved(d) => Ok(*d),
            DraftSaved::TooMany => Err(Error::quota(
                "drafts",
                format!("you have {max} drafts already; save or discard some first"),
            )),
            DraftSaved::NotOwned => Err(Error::not_found("draft", draft.id)),
        }
    }

    fn draft_ttl(&self) -> Duration {
        Duration::seconds(i64::try_from(self.inner.config.draft_ttl_secs).unwrap_or(i64::MAX))
    }

    /// A live draft.
    #[instrument(level = "debug", skip_all)]
    pub async fn get_draft(&self, principal: &Principal, id: DraftId) -> Result<Draft> {
        require_read(principal)?;
        self.store()
            .draft(principal.user_id(), id, self.now())
            .await?
            .ok_or_else(|| Error::not_found("draft", id))
    }

    /// Live drafts, most recently saved first.
    #[instrument(level = "debug", skip_all)]
    pub async fn list_drafts(&self, principal: &Principal) -> Result<Vec<Draft>> {
        require_read(principal)?;
        self.store().drafts(principal.user_id(), self.now()).await
    }

    /// How many live drafts there are and when the next expires.
    #[instrument(level = "debug", skip_all)]
    pub async fn draft_summary(&self, principal: &Principal) -> Result<DraftSummary> {
        require_read(principal)?;
        self.store()
            .draft_summary(principal.user_id(), self.now())
            .await
    }

    /// Discards a draft.
    #[instrument(level = "debug", skip_all)]
    pub async fn delete_draft(&self, principal: &Principal, id: DraftId) -> Result<()> {
        require_write(principal)?;
        if self.store().delete_draft(principal.user_id(), id).await? {
            Ok(())
        } else {
            Err(Error::not_found("draft", id))
        }
    }

    /// Deletes expired drafts of every user (the background sweeper calls this).
    #[instrument(level = "debug", skip_all)]
    pub async fn purge_expired_drafts(&self) -> Result<u64> {
        self.store().purge_expired_drafts(self.now()).await
    }
}
