//! Export and account deletion.

use super::*;
use crate::release::LATEST;

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
    /// Everything the caller owns, as one document.
    #[instrument(level = "debug", skip_all)]
    pub async fn export_user(&self, principal: &Principal) -> Result<Export> {
        let user = self.me(principal).await?;
        let id = principal.user_id();
        let now = self.now();
        let mut prompts = self.store().export_prompts(id).await?;
        for p in &mut prompts {
            for l in &mut p.labels {
                l.protected = self.is_protected(&l.name);
            }
            let newest = p.prompt.version;
            for v in &mut p.versions {
                v.labels = releases_labels_of(v.version, newest, &p.labels);
            }
        }
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
