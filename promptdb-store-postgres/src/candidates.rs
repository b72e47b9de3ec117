//! Harvest candidates: the review queue.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Error, UserId,
    harvest::{Candidate, CandidateId, CandidateStatus, Harvested},
    store::{CandidateStore, CandidatesQueued},
};
use sqlx::{Row, postgres::PgRow, types::Json};
use tracing::instrument;

use crate::{PostgresStore, drafts::lock_user, map_err, map_owned_write};

fn candidate(row: &PgRow) -> Result<Candidate, Error> {
    let Json(mut c): Json<Candidate> = row.try_get("data").map_err(Error::backend)?;
    let status: &str = row.try_get("status").map_err(Error::backend)?;
    c.status = CandidateStatus::from_name(status)
        .ok_or_else(|| Error::backend(format!("unknown candidate status {status}")))?;
    c.content_hash = row.try_get("content_hash").map_err(Error::backend)?;
    Ok(c)
}

#[async_trait]
impl CandidateStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn queue_candidates(
        &self,
        user: UserId,
        candidates: &[Candidate],
        max_pending: usize,
        now: DateTime<Utc>,
    ) -> Result<CandidatesQueued, Error> {
        // The user's row lock serialises the pending count with other harvests.
        let mut tx = self.system_tx().await?;
        if !lock_user(&mut tx, user).await? {
            return Err(Error::not_found("user", user));
        }
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM harvest_candidates WHERE user_id = $1 AND status = 'pending' AND expires_at > $2",
        )
        .bind(user.as_uuid())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut pending = usize::try_from(pending).unwrap_or(usize::MAX);
        let mut done = Harvested::default();
        for c in candidates {
            let existing = sqlx::query(
                "SELECT status, content_hash, data, expires_at FROM harvest_candidates WHERE user_id = $1 AND content_hash = $2 FOR UPDATE"
            )
            .bind(user.as_uuid())
            .bind(&c.content_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            let live = match &existing {
                Some(row) => {
                    row.try_get::<DateTime<Utc>, _>("expires_at")
                        .map_err(Error::backend)?
                        > now
                }
                None => false,
            };
            match existing {
                Some(row) if live => {
                    let mut old = candidate(&row)?;
                    if old.status != CandidateStatus::Pending {
                        done.skipped += 1;
                        continue;
                    }
                    old.occurrences = old.occurrences.saturating_add(c.occurrences);
                    old.sessions = old.sessions.saturating_add(c.sessions);
                    old.score = match (old.score, c.score) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    old.similar = c.similar.clone();
                    old.duplicate_of = c.duplicate_of.clone();
                    sqlx::query(
                        "UPDATE harvest_candidates SET score = $1, data = $2 WHERE id = $3",
                    )
                    .bind(old.score)
                    .bind(Json(&old))
                    .bind(old.id.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                    done.merged.push(old);
                }
                stale => {
                    if stale.is_some() {
                        sqlx::query(
                            "DELETE FROM harvest_candidates WHERE user_id = $1 AND content_hash = $2",
                        )
                        .bind(user.as_uuid())
                        .bind(&c.content_hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    }
                    if pending >= max_pending {
                        return Ok(CandidatesQueued::TooMany);
                    }
                    pending += 1;
                    sqlx::query(
                        "INSERT INTO harvest_candidates (id, user_id, content_hash, status, score, data, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(c.id.as_uuid())
                    .bind(user.as_uuid())
                    .bind(&c.content_hash)
                    .bind(c.status.name())
                    .bind(c.score)
                    .bind(Json(c))
                    .bind(c.created_at)
                    .bind(c.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_owned_write(user))?;
                    done.added.push(c.clone());
                }
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(CandidatesQueued::Done(done))
    }

    #[instrument(level = "debug", skip_all)]
    async fn candidates(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Candidate>, Error> {
        let mut tx = self.user_tx(user).await?;
        let rows = sqlx::query(
            "SELECT status, content_hash, data FROM harvest_candidates WHERE user_id = $1 AND status = 'pending' AND expires_at > $2 \
             ORDER BY COALESCE(score, 1.0) DESC, created_at DESC, id DESC LIMIT $3 OFFSET $4"
        )
        .bind(user.as_uuid())
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter().map(candidate).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn pending_candidates(&self, user: UserId, now: DateTime<Utc>) -> Result<u64, Error> {
        let mut tx = self.user_tx(user).await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM harvest_candidates WHERE user_id = $1 AND status = 'pending' AND expires_at > $2",
        )
        .bind(user.as_uuid())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    #[instrument(level = "debug", skip_all)]
    async fn candidate(
        &self,
        user: UserId,
        id: CandidateId,
        now: DateTime<Utc>,
    ) -> Result<Option<Candidate>, Error> {
        let mut tx = self.user_tx(user).await?;
        let row = sqlx::query(
            "SELECT status, content_hash, data FROM harvest_candidates WHERE id = $1 AND user_id = $2 AND expires_at > $3"
        )
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        row.as_ref().map(candidate).transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn set_candidate_status(
        &self,
        user: UserId,
        id: CandidateId,
        from: CandidateStatus,
        to: CandidateStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let mut tx = self.user_tx(user).await?;
        let done = sqlx::query(
            "UPDATE harvest_candidates SET status = $1 WHERE id = $2 AND user_id = $3 AND status = $4 AND expires_at > $5",
        )
        .bind(to.name())
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .bind(from.name())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_expired_candidates(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let mut tx = self.system_tx().await?;
        let done = sqlx::query("DELETE FROM harvest_candidates WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }
}
