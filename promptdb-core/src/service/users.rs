//! Users: creation, the caller's record, and single-user local mode.

use super::*;
use crate::Scope;

impl PromptDb {
    /// Creates a user (a system operation: sign-up, first login, local mode).
    #[instrument(level = "debug", skip_all)]
    pub async fn create_user(&self, display_name: &str) -> Result<User> {
        let display_name = display_name.trim();
        validate::single_line(display_name, MAX_DISPLAY_NAME_CHARS, true)
            .map_err(|r| Error::invalid("display_name", r))?;
        let user = User {
            id: UserId::new(),
            display_name: display_name.to_owned(),
            created_at: self.now(),
        };
        self.store().insert_user(&user).await?;
        Ok(user)
    }

    /// The caller's user record.
    pub async fn me(&self, principal: &Principal) -> Result<User> {
        require_read(principal)?;
        let id = principal.user_id();
        self.store()
            .user(id)
            .await?
            .ok_or_else(|| Error::not_found("user", id))
    }

    /// The user of single-user local mode, created on first call together with an API key for
    /// it. The key's secret is returned only that first time: show it once.
    #[instrument(level = "debug", skip_all)]
    pub async fn local_user(&self) -> Result<(User, Option<CreatedApiKey>)> {
        if let Some(id) = self.store().meta(LOCAL_USER_META_KEY).await? {
            let id = UserId::parse("local_user_id", &id)?;
            if let Some(user) = self.store().user(id).await? {
                return Ok((user, None));
            }
        }
        let user = self.create_user("local").await?;
        // The owner's own key: every scope, releasing included.
        let key = self
            .issue_api_key(
                user.id,
                NewApiKey {
                    name: "created on first start".into(),
                    scopes: vec![Scope::Read, Scope::Write, Scope::Release],
                },
            )
            .await?;
        self.store()
            .set_meta(LOCAL_USER_META_KEY, &user.id.to_string())
            .await?;
        Ok((user, Some(key)))
    }
}
