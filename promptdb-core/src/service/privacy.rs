//! Export and account deletion.

use super::*;
use crate::{export::ExportedPrompt, release::LATEST};

/// Prompts per page of an export ([`PromptDb::export_page`]).
pub const EXPORT_PAGE: usize = 100;

fn releases_labels_of(version: u32, newest: u32, labels: &[crate::release::Label]) -> Vec<String> {
    let mut out = Vec::new();
    if version == newest {
        out.push(LATEST.to_owned());
    }
    out.extend(
        labels
            .iter()
            .filter(|l| l.target.names(version))
            .map(|l| l.name.clone()),
    );
    out
}

impl PromptDb {
    /// Everything the caller owns, as one document (built from [`Self::export_header`] and
    /// every [`Self::export_page`]; a server streams those instead).
    #[instrument(level = "debug", skip_all)]
    pub async fn export_user(&self, principal: &Principal) -> Result<Export> {
        let mut export = self.export_header(principal).await?;
        let mut after: Option<String> = None;
        loop {
            let page = self.export_page(principal, after.as_deref()).await?;
            let last = page.len() < EXPORT_PAGE;
            after = page.last().map(|p| p.prompt.slug.to_string());
            export.prompts.extend(page);
            if last {
                return Ok(export);
            }
        }
    }

    /// The export without its prompts: format, time, user, drafts and preferences.
    #[instrument(level = "debug", skip_all)]
    pub async fn export_header(&self, principal: &Principal) -> Result<Export> {
        let user = self.me(principal).await?;
        let id = principal.user_id();
        let now = self.now();
        Ok(Export {
            format: EXPORT_FORMAT.to_owned(),
            version: EXPORT_VERSION,
            exported_at: now,
            user,
            prompts: Vec::new(),
            drafts: self.store().drafts(id, now).await?,
            preferences: self.store().preferences(id).await?,
        })
    }

    /// The exported prompts after the slug `after`, in slug order, [`EXPORT_PAGE`] at most; a
    /// shorter page is the last. Each page is one consistent snapshot, and holds every version
    /// of its prompts: memory grows with the page, not the library.
    #[instrument(level = "debug", skip_all)]
    pub async fn export_page(
        &self,
        principal: &Principal,
        after: Option<&str>,
    ) -> Result<Vec<ExportedPrompt>> {
        require_read(principal)?;
        let id = principal.user_id();
        let mut prompts = self.store().export_prompts(id, after, EXPORT_PAGE).await?;
        for p in &mut prompts {
            for l in &mut p.labels {
                l.protected = self.is_protected(&l.name);
            }
            let newest = p.prompt.version;
            for v in &mut p.versions {
                v.labels = releases_labels_of(v.version, newest, &p.labels);
            }
        }
        Ok(prompts)
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
