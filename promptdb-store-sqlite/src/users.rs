//! Users.

use async_trait::async_trait;
use promptdb_core::{Error, User, UserId, store::UserStore};
use sqlx::Connection as _;
use sqlx::Row;
use tracing::instrument;
use uuid::Uuid;

use crate::{SqliteStore, map_err, rows};

#[async_trait]
impl UserStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn insert_user(&self, user: &User) -> Result<(), Error> {
        sqlx::query("INSERT INTO users (id, display_name, created_at) VALUES (?, ?, ?)")
            .bind(user.id.as_uuid())
            .bind(&user.display_name)
            .bind(rows::micros(user.created_at))
            .execute(&mut *self.write().await?)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    Error::conflict("id", "a user with this id exists")
                }
                _ => map_err(e),
            })?;
        Ok(())
    }

    #[instrument(level = "debug", skip_all)]
    async fn user(&self, id: UserId) -> Result<Option<User>, Error> {
        let row = sqlx::query("SELECT id, display_name, created_at FROM users WHERE id = ?")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.read().await?)
            .await
            .map_err(map_err)?;
        row.map(|r| {
            Ok(User {
                id: UserId::from_uuid(r.try_get::<Uuid, _>("id").map_err(Error::backend)?),
                display_name: r.try_get("display_name").map_err(Error::backend)?,
                created_at: rows::time(r.try_get("created_at").map_err(Error::backend)?)?,
            })
        })
        .transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_user(&self, id: UserId) -> Result<bool, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        // The full-text index is not covered by foreign keys.
        sqlx::query(
            "DELETE FROM prompts_fts WHERE rowid IN (SELECT pk FROM prompts WHERE user_id = ?)",
        )
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let deleted = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        // The change feed has no foreign keys (the triggers write to it while a user's prompts
        // are deleted): it goes last.
        for sql in [
            "DELETE FROM changes WHERE user_id = ?",
            "DELETE FROM change_heads WHERE user_id = ?",
        ] {
            sqlx::query(sql)
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(deleted > 0)
    }
}
