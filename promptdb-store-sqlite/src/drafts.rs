//! Drafts and preferences.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Draft, DraftId, DraftSummary, Error, Preferences, UserId,
    store::{DraftSaved, DraftStore, PreferenceStore, PreferencesMutator},
};
use sqlx::Connection as _;
use sqlx::Row;
use tracing::instrument;
use uuid::Uuid;

use crate::{
    SqliteStore, map_err, map_owned_write,
    rows::{self, micros, to_json},
};

#[async_trait]
impl DraftStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn save_draft(
        &self,
        user: UserId,
        draft: &Draft,
        max_live: usize,
        now: DateTime<Utc>,
    ) -> Result<DraftSaved, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let existing: Option<(Uuid, i64, i64)> =
            sqlx::query_as("SELECT user_id, created_at, expires_at FROM drafts WHERE id = ?")
                .bind(draft.id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let live_elsewhere = match existing {
            Some((owner, _, _)) if owner != *user.as_uuid() => return Ok(DraftSaved::NotOwned),
            Some((_, _, expires)) => expires > micros(now),
            None => false,
        };
        if !live_elsewhere {
            // Creating (or reviving) a draft: check the allowance.
            let live: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM drafts WHERE user_id = ? AND expires_at > ?",
            )
            .bind(user.as_uuid())
            .bind(micros(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            if usize::try_from(live).unwrap_or(usize::MAX) >= max_live {
                return Ok(DraftSaved::TooMany);
            }
        }
        let created_at = existing.map_or(Ok(draft.created_at), |(_, c, _)| rows::time(c))?;
        sqlx::query(
            "INSERT INTO drafts (id, user_id, prompt_slug, fields, created_at, updated_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET prompt_slug = excluded.prompt_slug, \
             fields = excluded.fields, updated_at = excluded.updated_at, expires_at = excluded.expires_at",
        )
        .bind(draft.id.as_uuid())
        .bind(user.as_uuid())
        .bind(draft.prompt_slug.as_ref().map(|s| s.as_str()))
        .bind(to_json(&draft.fields)?)
        .bind(micros(created_at))
        .bind(micros(draft.updated_at))
        .bind(micros(draft.expires_at))
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
        let row = sqlx::query(
            "SELECT id, prompt_slug, fields, created_at, updated_at, expires_at FROM drafts \
             WHERE id = ? AND user_id = ? AND expires_at > ?",
        )
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .bind(micros(now))
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        row.as_ref().map(rows::draft).transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn drafts(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Draft>, Error> {
        let rows = sqlx::query(
            "SELECT id, prompt_slug, fields, created_at, updated_at, expires_at FROM drafts \
             WHERE user_id = ? AND expires_at > ? ORDER BY updated_at DESC, id DESC",
        )
        .bind(user.as_uuid())
        .bind(micros(now))
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        rows.iter().map(rows::draft).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn draft_summary(&self, user: UserId, now: DateTime<Utc>) -> Result<DraftSummary, Error> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(updated_at) AS latest, MIN(expires_at) AS next FROM drafts \
             WHERE user_id = ? AND expires_at > ?",
        )
        .bind(user.as_uuid())
        .bind(micros(now))
        .fetch_one(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        let opt = |c: &str| -> Result<Option<DateTime<Utc>>, Error> {
            row.try_get::<Option<i64>, _>(c)
                .map_err(Error::backend)?
                .map(rows::time)
                .transpose()
        };
        Ok(DraftSummary {
            count: u64::try_from(row.try_get::<i64, _>("n").map_err(Error::backend)?)
                .unwrap_or_default(),
            latest_update: opt("latest")?,
            next_expiry: opt("next")?,
        })
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_draft(&self, user: UserId, id: DraftId) -> Result<bool, Error> {
        let done = sqlx::query("DELETE FROM drafts WHERE id = ? AND user_id = ?")
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_expired_drafts(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let done = sqlx::query("DELETE FROM drafts WHERE expires_at <= ?")
            .bind(micros(now))
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl PreferenceStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn preferences(&self, user: UserId) -> Result<Preferences, Error> {
        let data: Option<String> =
            sqlx::query_scalar("SELECT data FROM preferences WHERE user_id = ?")
                .bind(user.as_uuid())
                .fetch_optional(&mut *self.read().await?)
                .await
                .map_err(map_err)?;
        data.map_or(Ok(Preferences::default()), |d| {
            serde_json::from_str(&d).map_err(Error::backend)
        })
    }

    #[instrument(level = "debug", skip_all)]
    async fn update_preferences(
        &self,
        user: UserId,
        change: &PreferencesMutator<'_>,
        now: DateTime<Utc>,
    ) -> Result<Preferences, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let data: Option<String> =
            sqlx::query_scalar("SELECT data FROM preferences WHERE user_id = ?")
                .bind(user.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let current = data.map_or(Ok(Preferences::default()), |d| {
            serde_json::from_str(&d).map_err(Error::backend)
        })?;
        let next = change(current)?;
        sqlx::query(
            "INSERT INTO preferences (user_id, data, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
        )
        .bind(user.as_uuid())
        .bind(to_json(&next)?)
        .bind(micros(now))
        .execute(&mut *tx)
        .await
        .map_err(map_owned_write(user))?;
        tx.commit().await.map_err(map_err)?;
        Ok(next)
    }
}
