//! Webhooks and their delivery log (migration 0009), under row-level security. Delivery workers
//! on every server claim due hooks with `FOR UPDATE SKIP LOCKED` and a lease, in a system
//! transaction (the one place that sees every user's hooks).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Error, UserId,
    change::ChangeKind,
    store::{DueWebhook, WebhookProgress, WebhookStore, WebhookUpdate},
    webhook::{Delivery, Webhook, WebhookId},
};
use sqlx::{postgres::PgRow, types::Json};
use tracing::instrument;
use uuid::Uuid;

use crate::{PostgresStore, drafts::lock_user, map_err, map_owned_write, rows};

const COLUMNS: &str = "id, user_id, url, events, description, secret, enabled, disabled_reason, \
                       created_at, delivered_seq, failures, next_attempt_at";

fn webhook(row: &PgRow) -> Result<Webhook, Error> {
    Ok(Webhook {
        id: WebhookId::from_uuid(rows::get::<Uuid>(row, "id")?),
        url: rows::get(row, "url")?,
        events: rows::get::<Json<Vec<ChangeKind>>>(row, "events")?.0,
        description: rows::get(row, "description")?,
        enabled: rows::get(row, "enabled")?,
        disabled_reason: rows::get(row, "disabled_reason")?,
        created_at: rows::get(row, "created_at")?,
        delivered_seq: rows::get(row, "delivered_seq")?,
        failures: u32::try_from(rows::get::<i32>(row, "failures")?).unwrap_or(0),
        next_attempt_at: rows::get(row, "next_attempt_at")?,
    })
}

fn delivery(row: &PgRow) -> Result<Delivery, Error> {
    Ok(Delivery {
        message_id: rows::get(row, "message_id")?,
        event: rows::get(row, "event")?,
        seq: rows::get(row, "seq")?,
        attempt: u32::try_from(rows::get::<i32>(row, "attempt")?).unwrap_or(0),
        at: rows::get(row, "at")?,
        status: rows::get::<Option<i32>>(row, "status")?.and_then(|s| u16::try_from(s).ok()),
        error: rows::get(row, "error")?,
        duration_ms: u32::try_from(rows::get::<i32>(row, "duration_ms")?).unwrap_or(0),
    })
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[async_trait]
impl WebhookStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn insert_webhook(
        &self,
        user: UserId,
        hook: &Webhook,
        secret: &str,
        max_per_user: usize,
    ) -> Result<Option<Webhook>, Error> {
        let mut tx = self.user_tx(user).await?;
        if !lock_user(&mut tx, user).await? {
            return Err(Error::not_found("user", user));
        }
        let (count, head): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM webhooks WHERE user_id = $1), \
                    coalesce((SELECT seq FROM change_heads WHERE user_id = $1), 0)",
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(hook.id.as_uuid())
        .bind(user.as_uuid())
        .bind(&hook.url)
        .bind(Json(&hook.events))
        .bind(&hook.description)
        .bind(secret)
        .bind(hook.enabled)
        .bind(&hook.disabled_reason)
        .bind(hook.created_at)
        .bind(hook.delivered_seq)
        .bind(int(hook.failures))
        .bind(hook.next_attempt_at)
        .execute(&mut *tx)
        .await
        .map_err(map_owned_write(user))?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(hook))
    }

    #[instrument(level = "debug", skip_all)]
    async fn webhooks(&self, user: UserId) -> Result<Vec<Webhook>, Error> {
        let mut tx = self.user_tx(user).await?;
        let sql =
            format!("SELECT {COLUMNS} FROM webhooks WHERE user_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user.as_uuid())
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter().map(webhook).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn update_webhook(
        &self,
        user: UserId,
        id: WebhookId,
        update: &WebhookUpdate,
    ) -> Result<Option<Webhook>, Error> {
        let mut tx = self.user_tx(user).await?;
        let sql = format!(
            "UPDATE webhooks SET url = coalesce($1, url), events = coalesce($2, events), \
                 description = coalesce($3, description), enabled = coalesce($4, enabled), \
                 disabled_reason = CASE WHEN $4 IS NULL THEN disabled_reason ELSE NULL END, \
                 failures = CASE WHEN $4 THEN 0 ELSE failures END, \
                 next_attempt_at = CASE WHEN $4 THEN $5 ELSE next_attempt_at END \
             WHERE id = $6 AND user_id = $7 RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&update.url)
            .bind(update.events.as_ref().map(Json))
            .bind(&update.description)
            .bind(update.enabled)
            .bind(update.now)
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        row.as_ref().map(webhook).transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_webhook(&self, user: UserId, id: WebhookId) -> Result<bool, Error> {
        let mut tx = self.user_tx(user).await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND user_id = $2")
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn webhook_deliveries(
        &self,
        user: UserId,
        id: WebhookId,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>, Error> {
        let mut tx = self.user_tx(user).await?;
        let owned: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM webhooks WHERE id = $1 AND user_id = $2")
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
             FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
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
        let mut tx = self.system_tx().await?;
        let sql = format!(
            "UPDATE webhooks w SET lease_until = $2 FROM ( \
                 SELECT x.id FROM webhooks x \
                 WHERE x.enabled AND x.next_attempt_at <= $1 \
                   AND (x.lease_until IS NULL OR x.lease_until < $1) \
                   AND x.delivered_seq < coalesce( \
                       (SELECT h.seq FROM change_heads h WHERE h.user_id = x.user_id), 0) \
                 ORDER BY x.next_attempt_at LIMIT $3 \
                 FOR UPDATE SKIP LOCKED) d \
             WHERE w.id = d.id RETURNING {}, w.secret",
            COLUMNS
                .split(", ")
                .map(|c| format!("w.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(lease_until)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(DueWebhook {
                    user: UserId::from_uuid(rows::get::<Uuid>(row, "user_id")?),
                    webhook: webhook(row)?,
                    secret: rows::get(row, "secret")?,
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
        let mut tx = self.user_tx(claim.user).await?;
        let held = sqlx::query(
            "UPDATE webhooks SET delivered_seq = greatest(delivered_seq, $1), failures = $2, \
                 next_attempt_at = $3, lease_until = NULL, \
                 enabled = CASE WHEN $4::text IS NULL THEN enabled ELSE false END, \
                 disabled_reason = coalesce($4, disabled_reason) \
             WHERE id = $5 AND lease_until = $6",
        )
        .bind(progress.delivered_seq)
        .bind(int(progress.failures))
        .bind(progress.next_attempt_at)
        .bind(&progress.disable)
        .bind(claim.webhook.id.as_uuid())
        .bind(claim.lease_until)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected()
            > 0;
        if !held {
            return Ok(false);
        }
        if !attempts.is_empty() {
            // One statement for the batch.
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO webhook_deliveries (webhook_id, user_id, message_id, event, seq, \
                 attempt, at, status, error, duration_ms) ",
            );
            qb.push_values(attempts, |mut b, a| {
                b.push_bind(claim.webhook.id.as_uuid())
                    .push_bind(claim.user.as_uuid())
                    .push_bind(&a.message_id)
                    .push_bind(&a.event)
                    .push_bind(a.seq)
                    .push_bind(int(a.attempt))
                    .push_bind(a.at)
                    .push_bind(a.status.map(i32::from))
                    .push_bind(&a.error)
                    .push_bind(int(a.duration_ms));
            });
            qb.build().execute(&mut *tx).await.map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_deliveries(&self, before: DateTime<Utc>) -> Result<u64, Error> {
        let mut tx = self.system_tx().await?;
        let done = sqlx::query("DELETE FROM webhook_deliveries WHERE at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }
}
