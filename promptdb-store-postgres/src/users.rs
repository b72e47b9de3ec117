//! Users.

use async_trait::async_trait;
use promptdb_core::{Error, User, UserId, store::UserStore};
use tracing::instrument;
use uuid::Uuid;

use crate::{PostgresStore, map_err, rows};

#[async_trait]
impl UserStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn insert_user(&self, user: &User) -> Result<(), Error> {
        // The new user's own transaction: the policy accepts exactly this row.
        let mut tx = self.user_tx(user.id).await?;
        sqlx::query("INSERT INTO users (id, display_name, created_at) VALUES ($1, $2, $3)")
            .bind(user.id.as_uuid())
            .bind(&user.display_name)
            .bind(user.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    Error::conflict("id", "a user with this id exists")
                }
                _ => map_err(e),
            })?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    #[instrument(level = "debug", skip_all)]
    async fn user(&self, id: UserId) -> Result<Option<User>, Error> {
        let mut tx = self.user_tx(id).await?;
        let row = sqlx::query("SELECT id, display_name, created_at FROM users WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        row.map(|r| {
            Ok(User {
                id: UserId::from_uuid(rows::get::<Uuid>(&r, "id")?),
                display_name: rows::get(&r, "display_name")?,
                created_at: rows::get(&r, "created_at")?,
            })
        })
        .transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_user(&self, id: UserId) -> Result<bool, Error> {
        let mut tx = self.user_tx(id).await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        // The change feed has no foreign keys (the triggers write to it while a user's prompts
        // are deleted): it goes last.
        for sql in [
            "DELETE FROM changes WHERE user_id = $1",
            "DELETE FROM change_heads WHERE user_id = $1",
        ] {
            sqlx::query(sql)
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }
}
