//! Harvest candidates: the review queue.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Error, UserId,
    harvest::{Candidate, CandidateId, CandidateStatus, Harvested},
    store::{CandidateStore, CandidatesQueued},
};
use sqlx::{Connection as _, Row, sqlite::SqliteRow};
use tracing::instrument;

use crate::{
    SqliteStore, map_err, map_owned_write,
    rows::{micros, to_json},
};

fn candidate(row: &SqliteRow) -> Result<Candidate, Error> {
    let data: &str = row.try_get("data").map_err(Error::backend)?;
    let mut c: Candidate = serde_json::from_str(data).map_err(Error::backend)?;
    let status: &str = row.try_get("status").map_err(Error::backend)?;
    c.status = CandidateStatus::from_name(status)
        .ok_or_else(|| Error::backend(format!("unknown candidate status {status}")))?;
    c.content_hash = row.try_get("content_hash").map_err(Error::backend)?;
    Ok(c)
}

#[async_trait]
impl CandidateStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn queue_candidates(
        &self,
        user: UserId,
        candidates: &[Candidate],
        max_pending: usize,
        now: DateTime<Utc>,
    ) -> Result<CandidatesQueued, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM harvest_candidates WHERE user_id = ? AND status = 'pending' AND expires_at > ?",
        )
        .bind(user.as_uuid())
        .bind(micros(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut pending = usize::try_from(pending).unwrap_or(usize::MAX);
        let mut done = Harvested::default();
        for c in candidates {
            let existing = sqlx::query(
                "SELECT status, content_hash, data, expires_at FROM harvest_candidates WHERE user_id = ? AND content_hash = ?"
            )
            .bind(user.as_uuid())
            .bind(&c.content_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            let live = match &existing {
                Some(row) => {
                    row.try_get::<i64, _>("expires_at")
                        .map_err(Error::backend)?
                        > micros(now)
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
                    sqlx::query("UPDATE harvest_candidates SET score = ?, data = ? WHERE id = ?")
                        .bind(old.score)
                        .bind(to_json(&old)?)
                        .bind(old.id.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    done.merged.push(old);
                }
                stale => {
                    if stale.is_some() {
                        sqlx::query(
                            "DELETE FROM harvest_candidates WHERE user_id = ? AND content_hash = ?",
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
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(c.id.as_uuid())
                    .bind(user.as_uuid())
                    .bind(&c.content_hash)
                    .bind(c.status.name())
                    .bind(c.score)
                    .bind(to_json(c)?)
                    .bind(micros(c.created_at))
                    .bind(micros(c.expires_at))
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
        let rows = sqlx::query(
            "SELECT status, content_hash, data FROM harvest_candidates WHERE user_id = ? AND status = 'pending' AND expires_at > ? \
             ORDER BY COALESCE(score, 1.0) DESC, created_at DESC, id DESC LIMIT ? OFFSET ?"
        )
        .bind(user.as_uuid())
        .bind(micros(now))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        rows.iter().map(candidate).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn pending_candidates(&self, user: UserId, now: DateTime<Utc>) -> Result<u64, Error> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM harvest_candidates WHERE user_id = ? AND status = 'pending' AND expires_at > ?",
        )
        .bind(user.as_uuid())
        .bind(micros(now))
        .fetch_one(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    #[instrument(level = "debug", skip_all)]
    async fn candidate(
        &self,
        user: UserId,
        id: CandidateId,
        now: DateTime<Utc>,
    ) -> Result<Option<Candidate>, Error> {
        let row = sqlx::query(
            "SELECT status, content_hash, data FROM harvest_candidates WHERE id = ? AND user_id = ? AND expires_at > ?"
        )
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .bind(micros(now))
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
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
        let done = sqlx::query(
            "UPDATE harvest_candidates SET status = ? WHERE id = ? AND user_id = ? AND status = ? AND expires_at > ?",
        )
        .bind(to.name())
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .bind(from.name())
        .bind(micros(now))
        .execute(&mut *self.write().await?)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_expired_candidates(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let done = sqlx::query("DELETE FROM harvest_candidates WHERE expires_at <= ?")
            .bind(micros(now))
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }
}
