//! Drafts and preferences.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Draft, DraftId, DraftSummary, Error, Preferences, UserId,
    store::{DraftSaved, DraftStore, PreferenceStore, PreferencesMutator},
};
use sqlx::{PgConnection, types::Json};
use tracing::instrument;
use uuid::Uuid;

use crate::{PostgresStore, map_err, map_owned_write, rows};

/// Locks the user's row, serialising per-user limit checks; `false` if there is no such user.
pub(crate) async fn lock_user(conn: &mut PgConnection, user: UserId) -> Result<bool, Error> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user.as_uuid())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(found.is_some())
}

#[async_trait]
impl DraftStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn save_draft(
        &self,
        user: UserId,
        draft: &Draft,
        max_live: usize,
        now: DateTime<Utc>,
    ) -> Result<DraftSaved, Error> {
        // A system transaction: whether the id belongs to somebody else must be visible.
        let mut tx = self.system_tx().await?;
        if !lock_user(&mut tx, user).await? {
            return Err(Error::not_found("user", user));
        }
        let existing: Option<(Uuid, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT user_id, created_at, expires_at FROM drafts WHERE id = $1 FOR UPDATE",
        )
        .bind(draft.id.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let live = match existing {
            Some((owner, _, _)) if owner != *user.as_uuid() => return Ok(DraftSaved::NotOwned),
            Some((_, _, expires)) => expires > now,
            None => false,
        };
        if !live {
            let count: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM drafts WHERE user_id = $1 AND expires_at > $2",
            )
            .bind(user.as_uuid())
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= max_live {
                return Ok(DraftSaved::TooMany);
            }
        }
        let created_at = existing.map_or(draft.created_at, |(_, c, _)| c);
        sqlx::query(
            "INSERT INTO drafts (id, user_id, prompt_slug, fields, created_at, updated_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET prompt_slug = excluded.prompt_slug, \
             fields = excluded.fields, updated_at = excluded.updated_at, expires_at = excluded.expires_at",
        )
        .bind(draft.id.as_uuid())
        .bind(user.as_uuid())
        .bind(draft.prompt_slug.as_ref().map(|s| s.as_str()))
        .bind(Json(&draft.fields))
        .bind(created_at)
        .bind(draft.updated_at)
        .bind(draft.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(map_owned_write(user))?;
        tx.commit().await.map_err(map_err)?;
        Ok(DraftSaved::Saved(Box::new(Draft {
            created_at,
            ..draft.clone()
        })))
    }

    #[instrument(level = "debug", skip_all)]
    async fn draft(
        &self,
        user: UserId,
        id: DraftId,
        now: DateTime<Utc>,
    ) -> Result<Option<Draft>, Error> {
        let mut tx = self.user_tx(user).await?;
        let row = sqlx::query(
            "SELECT id, prompt_slug, fields, created_at, updated_at, expires_at FROM drafts \
             WHERE id = $1 AND user_id = $2 AND expires_at > $3",
        )
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        row.as_ref().map(rows::draft).transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn drafts(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Draft>, Error> {
        let mut tx = self.user_tx(user).await?;
        let rows = sqlx::query(
            "SELECT id, prompt_slug, fields, created_at, updated_at, expires_at FROM drafts \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY updated_at DESC, id DESC",
        )
        .bind(user.as_uuid())
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter().map(rows::draft).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn draft_summary(&self, user: UserId, now: DateTime<Utc>) -> Result<DraftSummary, Error> {
        let mut tx = self.user_tx(user).await?;
        let (count, latest, next): (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(updated_at), MIN(expires_at) FROM drafts WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user.as_uuid())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(DraftSummary {
            count: u64::try_from(count).unwrap_or_default(),
            latest_update: latest,
            next_expiry: next,
        })
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_draft(&self, user: UserId, id: DraftId) -> Result<bool, Error> {
        let mut tx = self.user_tx(user).await?;
        let done = sqlx::query("DELETE FROM drafts WHERE id = $1 AND user_id = $2")
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_expired_drafts(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let mut tx = self.system_tx().await?;
        let done = sqlx::query("DELETE FROM drafts WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl PreferenceStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn preferences(&self, user: UserId) -> Result<Preferences, Error> {
        let mut tx = self.user_tx(user).await?;
        let data: Option<Json<Preferences>> =
            sqlx::query_scalar("SELECT data FROM preferences WHERE user_id = $1")
                .bind(user.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(data.map(|d| d.0).unwrap_or_default())
    }

    #[instrument(level = "debug", skip_all)]
    async fn update_preferences(
        &self,
        user: UserId,
        change: &PreferencesMutator<'_>,
        now: DateTime<Utc>,
    ) -> Result<Preferences, Error> {
        let mut tx = self.user_tx(user).await?;
        // Make sure a row exists to lock, so concurrent first writes do not lose a key.
        sqlx::query("INSERT INTO preferences (user_id, data, updated_at) VALUES ($1, '{}', $2) ON CONFLICT (user_id) DO NOTHING")
            .bind(user.as_uuid())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_owned_write(user))?;
        let Json(current): Json<Preferences> =
            sqlx::query_scalar("SELECT data FROM preferences WHERE user_id = $1 FOR UPDATE")
                .bind(user.as_uuid())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        let next = change(current)?;
        sqlx::query("UPDATE preferences SET data = $2, updated_at = $3 WHERE user_id = $1")
            .bind(user.as_uuid())
            .bind(Json(&next))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(next)
    }
}
