//! API keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    ApiKey, ApiKeyId, Error, Scope, SecretHash, UserId,
    store::{ApiKeyStore, StoredApiKey},
};
use sqlx::{postgres::PgRow, types::Json};
use tracing::instrument;
use uuid::Uuid;

use crate::{PostgresStore, drafts::lock_user, map_err, map_owned_write, rows};

fn api_key(row: &PgRow) -> Result<ApiKey, Error> {
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(rows::get::<Uuid>(row, "id")?),
        name: rows::get(row, "name")?,
        prefix: rows::get(row, "prefix")?,
        scopes: rows::get::<Json<Vec<Scope>>>(row, "scopes")?.0,
        created_at: rows::get(row, "created_at")?,
        last_used_at: rows::get(row, "last_used_at")?,
    })
}

#[async_trait]
impl ApiKeyStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn insert_api_key(
        &self,
        user: UserId,
        key: &ApiKey,
        hash: &SecretHash,
        max_per_user: usize,
    ) -> Result<bool, Error> {
        let mut tx = self.user_tx(user).await?;
        if !lock_user(&mut tx, user).await? {
            return Err(Error::not_found("user", user));
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE user_id = $1")
            .bind(user.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= max_per_user {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, scopes, secret_hash, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key.id.as_uuid())
        .bind(user.as_uuid())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(Json(&key.scopes))
        .bind(&hash[..])
        .bind(key.created_at)
        .bind(key.last_used_at)
        .execute(&mut *tx)
        .await
        .map_err(map_owned_write(user))?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    #[instrument(level = "debug", skip_all)]
    async fn api_key_by_hash(&self, hash: &SecretHash) -> Result<Option<StoredApiKey>, Error> {
        // The user is not known yet: this is the one read that must see every user's keys.
        let mut tx = self.system_tx().await?;
        let row = sqlx::query(
            "SELECT id, user_id, name, prefix, scopes, secret_hash, created_at, last_used_at FROM api_keys \
             WHERE secret_hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let stored: Vec<u8> = rows::get(&row, "secret_hash")?;
        Ok(Some(StoredApiKey {
            user_id: UserId::from_uuid(rows::get::<Uuid>(&row, "user_id")?),
            key: api_key(&row)?,
            hash: stored
                .try_into()
                .map_err(|_| Error::backend("stored API key hash has the wrong length"))?,
        }))
    }

    #[instrument(level = "debug", skip_all)]
    async fn api_keys(&self, user: UserId) -> Result<Vec<ApiKey>, Error> {
        let mut tx = self.user_tx(user).await?;
        let rows = sqlx::query(
            "SELECT id, name, prefix, scopes, created_at, last_used_at FROM api_keys \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(user.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter().map(api_key).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_api_key(&self, user: UserId, id: ApiKeyId) -> Result<bool, Error> {
        let mut tx = self.user_tx(user).await?;
        let done = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND user_id = $2")
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), Error> {
        let mut tx = self.system_tx().await?;
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }
}
