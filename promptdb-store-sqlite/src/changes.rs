//! The change feed: rows written by the triggers of migration 0008, read per user; a listener
//! that looks for new rows when this process writes, and polls for other processes' writes
//! (SQLite has no notifications between processes).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Error, UserId,
    change::{Change, ChangeKind, ChangeListener, ChangePage, Changed},
    store::ChangeStore,
};
use sqlx::{AssertSqlSafe, Connection as _};
use tracing::instrument;
use uuid::Uuid;

use crate::{
    SqliteStore, map_err,
    rows::{micros, time},
};

/// How often the listener looks for new changes.
const POLL: Duration = Duration::from_millis(20);

type ChangeRow = (i64, String, String, Option<String>, Option<i64>, i64);

#[async_trait]
impl ChangeStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn changes(&self, user: UserId, after: i64, limit: u32) -> Result<ChangePage, Error> {
        let mut conn = self.read().await?;
        let mut tx = conn.begin().await.map_err(map_err)?;
        let rows: Vec<ChangeRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT seq, kind, slug, label, version, at FROM changes \
             WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT {limit}",
        )))
        .bind(user.as_uuid())
        .bind(after)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let (head, oldest): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT seq FROM change_heads WHERE user_id = ?1), \
                    (SELECT min(seq) FROM changes WHERE user_id = ?1)",
        )
        .bind(user.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        let changes = rows
            .into_iter()
            .map(|(seq, kind, slug, label, version, at)| {
                Ok(Change {
                    seq,
                    kind: ChangeKind::parse(&kind)
                        .ok_or_else(|| Error::backend(format!("unknown change kind {kind}")))?,
                    slug,
                    label,
                    version: version.and_then(|v| u32::try_from(v).ok()),
                    at: time(at)?,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(ChangePage {
            changes,
            head: head.unwrap_or(0),
            oldest,
        })
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_changes(&self, before: DateTime<Utc>) -> Result<u64, Error> {
        let mut conn = self.write().await?;
        let done = sqlx::query("DELETE FROM changes WHERE at < ?")
            .bind(micros(before))
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn listen_changes(&self) -> Result<Box<dyn ChangeListener>, Error> {
        let mut conn = self.read().await?;
        let last: i64 = sqlx::query_scalar(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
        Ok(Box::new(Poller {
            store: self.clone(),
            last,
            pending: Vec::new(),
        }))
    }
}

/// Polls `changes` by id.
#[derive(Debug)]
struct Poller {
    store: SqliteStore,
    last: i64,
    pending: Vec<Changed>,
}

#[async_trait]
impl ChangeListener for Poller {
    async fn next(&mut self) -> Result<Option<Changed>, Error> {
        loop {
            if let Some(c) = self.pending.pop() {
                return Ok(Some(c));
            }
            // Registered before the read, so that a write committed after it still wakes us.
            let written = self.store.written();
            let woken = written.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let rows: Vec<(i64, Uuid, String)> = {
                let mut conn = self.store.read().await?;
                sqlx::query_as(
                    "SELECT id, user_id, slug FROM changes WHERE id > ? ORDER BY id DESC LIMIT 1000",
                )
                .bind(self.last)
                .fetch_all(&mut *conn)
                .await
                .map_err(map_err)?
            };
            if let Some((id, _, _)) = rows.first() {
                self.last = *id;
                // More than a page behind: everything is read again.
                if rows.len() == 1000 {
                    return Ok(None);
                }
                // Newest first, so that `pop` hands them out oldest first.
                self.pending = rows
                    .into_iter()
                    .map(|(_, user, slug)| Changed {
                        user: UserId::from_uuid(user),
                        slug,
                    })
                    .collect();
                continue;
            }
            // A write through this process wakes us at once; other processes' writes are seen
            // at the next poll.
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}
