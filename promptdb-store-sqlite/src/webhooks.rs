//! Webhooks and their delivery log (migration 0009). A claim is a lease written under the
//! database's write lock, so two processes sharing the file never claim the same hook.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Error, UserId,
    change::ChangeKind,
    store::{DueWebhook, WebhookProgress, WebhookStore, WebhookUpdate},
    webhook::{Delivery, Webhook, WebhookId},
};
use sqlx::{Connection as _, Row, sqlite::SqliteRow};
use tracing::instrument;
use uuid::Uuid;

use crate::{
    SqliteStore, map_err, map_owned_write,
    rows::{self, micros, to_json},
};

const COLUMNS: &str = "id, user_id, url, events, description, secret, enabled, disabled_reason, \
                       created_at, delivered_seq, failures, next_attempt_at";

fn webhook(row: &SqliteRow) -> Result<Webhook, Error> {
    let events: String = row.try_get("events").map_err(Error::backend)?;
    Ok(Webhook {
        id: WebhookId::from_uuid(row.try_get::<Uuid, _>("id").map_err(Error::backend)?),
        url: row.try_get("url").map_err(Error::backend)?,
        events: serde_json::from_str::<Vec<ChangeKind>>(&events).map_err(Error::backend)?,
        description: row.try_get("description").map_err(Error::backend)?,
        enabled: row.try_get("enabled").map_err(Error::backend)?,
        disabled_reason: row.try_get("disabled_reason").map_err(Error::backend)?,
        created_at: rows::time(row.try_get("created_at").map_err(Error::backend)?)?,
        delivered_seq: row.try_get("delivered_seq").map_err(Error::backend)?,
        failures: row.try_get("failures").map_err(Error::backend)?,
        next_attempt_at: rows::time(row.try_get("next_attempt_at").map_err(Error::backend)?)?,
    })
}

fn delivery(row: &SqliteRow) -> Result<Delivery, Error> {
    let status: Option<i64> = row.try_get("status").map_err(Error::backend)?;
    Ok(Delivery {
        message_id: row.try_get("message_id").map_err(Error::backend)?,
        event: row.try_get("event").map_err(Error::backend)?,
        seq: row.try_get("seq").map_err(Error::backend)?,
        attempt: row.try_get("attempt").map_err(Error::backend)?,
        at: rows::time(row.try_get("at").map_err(Error::backend)?)?,
        status: status.and_then(|s| u16::try_from(s).ok()),
        error: row.try_get("error").map_err(Error::backend)?,
        duration_ms: row.try_get("duration_ms").map_err(Error::backend)?,
    })
}

#[async_trait]
impl WebhookStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn insert_webhook(
        &self,
        user: UserId,
        hook: &Webhook,
        secret: &str,
        max_per_user: usize,
    ) -> Result<Option<Webhook>, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let (count, head): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM webhooks WHERE user_id = ?1), \
                    coalesce((SELECT seq FROM change_heads WHERE user_id = ?1), 0)",
        )
        .bind(user.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= max_per_user {
            return Ok(None);
        }
        let hook = Webhook {
            delivered_seq: head,
            ..hook.clone()
        };
        sqlx::query(
            "INSERT INTO webhooks (id, user_id, url, events, description, secret, enabled, \
             disabled_reason, created_at, delivered_seq, failures, next_attempt_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(hook.id.as_uuid())
        .bind(user.as_uuid())
        .bind(&hook.url)
        .bind(to_json(&hook.events)?)
        .bind(&hook.description)
        .bind(secret)
        .bind(hook.enabled)
        .bind(&hook.disabled_reason)
        .bind(micros(hook.created_at))
        .bind(hook.delivered_seq)
        .bind(hook.failures)
        .bind(micros(hook.next_attempt_at))
        .execute(&mut *tx)
        .await
        .map_err(map_owned_write(user))?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(hook))
    }

    #[instrument(level = "debug", skip_all)]
    async fn webhooks(&self, user: UserId) -> Result<Vec<Webhook>, Error> {
        let sql =
            format!("SELECT {COLUMNS} FROM webhooks WHERE user_id = ? ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.as_uuid())
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(map_err)?;
        rows.iter().map(webhook).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn update_webhook(
        &self,
        user: UserId,
        id: WebhookId,
        update: &WebhookUpdate,
    ) -> Result<Option<Webhook>, Error> {
        let events = update.events.as_ref().map(to_json).transpose()?;
        let sql = format!(
            "UPDATE webhooks SET url = coalesce(?1, url), events = coalesce(?2, events), \
                 description = coalesce(?3, description), enabled = coalesce(?4, enabled), \
                 disabled_reason = CASE WHEN ?4 IS NULL THEN disabled_reason ELSE NULL END, \
                 failures = CASE WHEN ?4 = 1 THEN 0 ELSE failures END, \
                 next_attempt_at = CASE WHEN ?4 = 1 THEN ?5 ELSE next_attempt_at END \
             WHERE id = ?6 AND user_id = ?7 RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&update.url)
            .bind(events)
            .bind(&update.description)
            .bind(update.enabled)
            .bind(micros(update.now))
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .fetch_optional(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        row.as_ref().map(webhook).transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_webhook(&self, user: UserId, id: WebhookId) -> Result<bool, Error> {
        let done = sqlx::query("DELETE FROM webhooks WHERE id = ? AND user_id = ?")
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn webhook_deliveries(
        &self,
        user: UserId,
        id: WebhookId,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>, Error> {
        let mut conn = self.read().await?;
        let mut tx = conn.begin().await.map_err(map_err)?;
        let owned: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM webhooks WHERE id = ? AND user_id = ?")
                .bind(id.as_uuid())
                .bind(user.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        if owned.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT message_id, event, seq, attempt, at, status, error, duration_ms \
             FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(id.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter()
            .map(delivery)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    #[instrument(level = "debug", skip_all)]
    async fn claim_webhooks(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueWebhook>, Error> {
        // Cheap when nothing is due (the worker asks every second): the partial index finds due
        // hooks, and the write lock is taken only when there is one.
        let sql = format!(
            "UPDATE webhooks SET lease_until = ?2 WHERE id IN ( \
                 SELECT w.id FROM webhooks w \
                 WHERE w.enabled = 1 AND w.next_attempt_at <= ?1 \
                   AND (w.lease_until IS NULL OR w.lease_until < ?1) \
                   AND w.delivered_seq < coalesce( \
                       (SELECT h.seq FROM change_heads h WHERE h.user_id = w.user_id), 0) \
                 ORDER BY w.next_attempt_at LIMIT ?3) \
             RETURNING {COLUMNS}, secret"
        );
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM webhooks w WHERE w.enabled = 1 AND w.next_attempt_at <= ? \
               AND w.delivered_seq < coalesce( \
                   (SELECT h.seq FROM change_heads h WHERE h.user_id = w.user_id), 0) LIMIT 1",
        )
        .bind(micros(now))
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(micros(now))
            .bind(micros(lease_until))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(DueWebhook {
                    user: UserId::from_uuid(
                        row.try_get::<Uuid, _>("user_id").map_err(Error::backend)?,
                    ),
                    webhook: webhook(row)?,
                    secret: row.try_get("secret").map_err(Error::backend)?,
                    lease_until,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn finish_webhook(
        &self,
        claim: &DueWebhook,
        progress: &WebhookProgress,
        attempts: &[Delivery],
    ) -> Result<bool, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let held = sqlx::query(
            "UPDATE webhooks SET delivered_seq = max(delivered_seq, ?1), failures = ?2, \
                 next_attempt_at = ?3, lease_until = NULL, \
                 enabled = CASE WHEN ?4 IS NULL THEN enabled ELSE 0 END, \
                 disabled_reason = coalesce(?4, disabled_reason) \
             WHERE id = ?5 AND lease_until = ?6",
        )
        .bind(progress.delivered_seq)
        .bind(progress.failures)
        .bind(micros(progress.next_attempt_at))
        .bind(&progress.disable)
        .bind(claim.webhook.id.as_uuid())
        .bind(micros(claim.lease_until))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected()
            > 0;
        if !held {
            return Ok(false);
        }
        for a in attempts {
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, message_id, event, seq, attempt, at, \
                 status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(claim.webhook.id.as_uuid())
            .bind(&a.message_id)
            .bind(&a.event)
            .bind(a.seq)
            .bind(a.attempt)
            .bind(micros(a.at))
            .bind(a.status)
            .bind(&a.error)
            .bind(a.duration_ms)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_deliveries(&self, before: DateTime<Utc>) -> Result<u64, Error> {
        let done = sqlx::query("DELETE FROM webhook_deliveries WHERE at < ?")
            .bind(micros(before))
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }
}
