//! API keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    ApiKey, ApiKeyId, Error, SecretHash, UserId,
    store::{ApiKeyStore, StoredApiKey},
};
use sqlx::{Connection as _, Row, sqlite::SqliteRow};
use tracing::instrument;
use uuid::Uuid;

use crate::{
    SqliteStore, map_err, map_owned_write,
    rows::{self, micros, to_json},
};

fn api_key(row: &SqliteRow) -> Result<ApiKey, Error> {
    let last_used: Option<i64> = row.try_get("last_used_at").map_err(Error::backend)?;
    let scopes: String = row.try_get("scopes").map_err(Error::backend)?;
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(row.try_get::<Uuid, _>("id").map_err(Error::backend)?),
        name: row.try_get("name").map_err(Error::backend)?,
        prefix: row.try_get("prefix").map_err(Error::backend)?,
        scopes: serde_json::from_str(&scopes).map_err(Error::backend)?,
        created_at: rows::time(row.try_get("created_at").map_err(Error::backend)?)?,
        last_used_at: last_used.map(rows::time).transpose()?,
    })
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn insert_api_key(
        &self,
        user: UserId,
        key: &ApiKey,
        hash: &SecretHash,
        max_per_user: usize,
    ) -> Result<bool, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE user_id = ?")
            .bind(user.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= max_per_user {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, scopes, secret_hash, created_at, last_used_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key.id.as_uuid())
        .bind(user.as_uuid())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(to_json(&key.scopes)?)
        .bind(&hash[..])
        .bind(micros(key.created_at))
        .bind(key.last_used_at.map(micros))
        .execute(&mut *tx)
        .await
        .map_err(map_owned_write(user))?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    #[instrument(level = "debug", skip_all)]
    async fn api_key_by_hash(&self, hash: &SecretHash) -> Result<Option<StoredApiKey>, Error> {
        let row = sqlx::query(
            "SELECT id, user_id, name, prefix, scopes, secret_hash, created_at, last_used_at FROM api_keys \
             WHERE secret_hash = ?",
        )
        .bind(&hash[..])
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let stored: Vec<u8> = row.try_get("secret_hash").map_err(Error::backend)?;
        Ok(Some(StoredApiKey {
            user_id: UserId::from_uuid(row.try_get::<Uuid, _>("user_id").map_err(Error::backend)?),
            key: api_key(&row)?,
            hash: stored
                .try_into()
                .map_err(|_| Error::backend("stored API key hash has the wrong length"))?,
        }))
    }

    #[instrument(level = "debug", skip_all)]
    async fn api_keys(&self, user: UserId) -> Result<Vec<ApiKey>, Error> {
        let rows = sqlx::query(
            "SELECT id, name, prefix, scopes, created_at, last_used_at FROM api_keys \
             WHERE user_id = ? ORDER BY created_at DESC, id DESC",
        )
        .bind(user.as_uuid())
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        rows.iter().map(api_key).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_api_key(&self, user: UserId, id: ApiKeyId) -> Result<bool, Error> {
        let done = sqlx::query("DELETE FROM api_keys WHERE id = ? AND user_id = ?")
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), Error> {
        sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
            .bind(micros(at))
            .bind(id.as_uuid())
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
