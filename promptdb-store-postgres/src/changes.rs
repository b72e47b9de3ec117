//! The change feed: rows written by the triggers of migration 0008, read per user under
//! row-level security; a listener on the `promptdb_changes` channel, which every commit that
//! records a change notifies.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Error, UserId,
    change::{Change, ChangeKind, ChangeListener, ChangePage, Changed},
    store::ChangeStore,
};
use sqlx::postgres::PgListener;
use tracing::instrument;
use uuid::Uuid;

use crate::{AS_USER, PostgresStore, map_err, unavailable};

/// The channel the triggers notify.
pub(crate) const CHANGES_CHANNEL: &str = "promptdb_changes";

#[async_trait]
impl ChangeStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn changes(&self, user: UserId, after: i64, limit: u32) -> Result<ChangePage, Error> {
        // One statement: the page, with the head and the oldest kept change on every row (and
        // one row of nulls when the page is empty).
        let sql = format!(
            "SELECT q.seq, q.kind, q.slug, q.label, q.version, q.at, \
                    coalesce((SELECT h.seq FROM change_heads h WHERE h.user_id = s.uid), 0), \
                    (SELECT min(c.seq) FROM changes c WHERE c.user_id = s.uid) \
             FROM {AS_USER} LEFT JOIN LATERAL ( \
                 SELECT seq, kind, slug, label, version, at FROM changes \
                 WHERE user_id = s.uid AND seq > $2 ORDER BY seq LIMIT $3 OFFSET 0) q ON true"
        );
        let rows: Vec<(
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i32>,
            Option<DateTime<Utc>>,
            i64,
            Option<i64>,
        )> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.as_uuid())
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        let mut page = ChangePage::default();
        for row in rows {
            page.head = row.6;
            page.oldest = row.7;
            let (Some(seq), Some(kind), Some(slug), label, version, Some(at)) =
                (row.0, row.1, row.2, row.3, row.4, row.5)
            else {
                continue;
            };
            page.changes.push(Change {
                seq,
                kind: ChangeKind::parse(&kind)
                    .ok_or_else(|| Error::backend(format!("unknown change kind {kind}")))?,
                slug,
                label,
                version: version.and_then(|v| u32::try_from(v).ok()),
                at,
            });
        }
        Ok(page)
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_changes(&self, before: DateTime<Utc>) -> Result<u64, Error> {
        let mut tx = self.system_tx().await?;
        let done = sqlx::query("DELETE FROM changes WHERE at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn listen_changes(&self) -> Result<Box<dyn ChangeListener>, Error> {
        let mut listener = PgListener::connect_with(self.pool())
            .await
            .map_err(unavailable)?;
        listener
            .listen(CHANGES_CHANNEL)
            .await
            .map_err(unavailable)?;
        Ok(Box::new(Listener(listener)))
    }
}

/// `LISTEN promptdb_changes` on a connection of its own.
#[derive(Debug)]
struct Listener(PgListener);

#[async_trait]
impl ChangeListener for Listener {
    async fn next(&mut self) -> Result<Option<Changed>, Error> {
        loop {
            match self.0.try_recv().await.map_err(unavailable)? {
                // `user:slug`, as the trigger sends it.
                Some(n) => match n.payload().split_once(':') {
                    Some((user, slug)) if let Ok(user) = user.parse::<Uuid>() => {
                        return Ok(Some(Changed {
                            user: UserId::from_uuid(user),
                            slug: slug.to_owned(),
                        }));
                    }
                    // Not ours (someone else notifying the channel): ignore it.
                    _ => continue,
                },
                // The connection was lost (the next call reconnects): notifications may have
                // been missed, so every feed must be read again.
                None => return Ok(None),
            }
        }
    }
}
