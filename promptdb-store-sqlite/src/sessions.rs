//! External identities and browser sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Error, Scope, SecretHash, Session, User, UserId,
    store::{IdentityStore, SessionStore},
};
use sqlx::{Connection as _, Row};
use tracing::instrument;
use uuid::Uuid;

use crate::{
    SqliteStore, map_err, map_owned_write,
    rows::{micros, time},
};

#[async_trait]
impl IdentityStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<UserId>, Error> {
        // `fetch_all`, not `fetch_optional`: a statement left after its first row keeps a read
        // lock on the table, and in memory (one shared-cache connection) the next sign-in's
        // INSERT would fail with "database table is locked".
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT user_id FROM identities WHERE issuer = ? AND subject = ?")
                .bind(issuer)
                .bind(subject)
                .fetch_all(&mut *self.read().await?)
                .await
                .map_err(map_err)?;
        Ok(ids.first().copied().map(UserId::from_uuid))
    }

    #[instrument(level = "debug", skip_all)]
    async fn insert_user_with_identity(
        &self,
        user: &User,
        issuer: &str,
        subject: &str,
    ) -> Result<UserId, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        // The write lock serialises first sign-ins: whoever checks second sees the first.
        let existing: Vec<Uuid> =
            sqlx::query_scalar("SELECT user_id FROM identities WHERE issuer = ? AND subject = ?")
                .bind(issuer)
                .bind(subject)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
        if let Some(&id) = existing.first() {
            // Ended here, not on drop: the connection is free of the write lock on return.
            tx.rollback().await.map_err(map_err)?;
            return Ok(UserId::from_uuid(id));
        }
        sqlx::query("INSERT INTO users (id, display_name, created_at) VALUES (?, ?, ?)")
            .bind(user.id.as_uuid())
            .bind(&user.display_name)
            .bind(micros(user.created_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user.id.as_uuid())
        .bind(micros(user.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(user.id)
    }
}

fn session(row: &sqlx::sqlite::SqliteRow) -> Result<Session, Error> {
    let due: Option<i64> = row.try_get("refresh_due_at").map_err(Error::backend)?;
    let scopes: Option<String> = row.try_get("scopes").map_err(Error::backend)?;
    Ok(Session {
        user_id: UserId::from_uuid(row.try_get::<Uuid, _>("user_id").map_err(Error::backend)?),
        // Sessions from before migration 0005 had every scope.
        scopes: match scopes {
            Some(s) => serde_json::from_str(&s).map_err(Error::backend)?,
            None => vec![Scope::Read, Scope::Write, Scope::Release],
        },
        csrf_token: row.try_get("csrf_token").map_err(Error::backend)?,
        created_at: time(row.try_get("created_at").map_err(Error::backend)?)?,
        expires_at: time(row.try_get("expires_at").map_err(Error::backend)?)?,
        refresh_token: row.try_get("refresh_token").map_err(Error::backend)?,
        refresh_due_at: due.map(time).transpose()?,
    })
}

#[async_trait]
impl SessionStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn insert_session(&self, hash: &SecretHash, s: &Session) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO sessions (secret_hash, user_id, csrf_token, created_at, expires_at, refresh_token, \
             refresh_due_at, scopes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&hash[..])
        .bind(s.user_id.as_uuid())
        .bind(&s.csrf_token)
        .bind(micros(s.created_at))
        .bind(micros(s.expires_at))
        .bind(s.refresh_token.as_deref())
        .bind(s.refresh_due_at.map(micros))
        .bind(serde_json::to_string(&s.scopes).map_err(Error::backend)?)
        .execute(&mut *self.write().await?)
        .await
        .map_err(map_owned_write(s.user_id))?;
        Ok(())
    }

    #[instrument(level = "debug", skip_all)]
    async fn session_by_hash(&self, hash: &SecretHash) -> Result<Option<Session>, Error> {
        let row = sqlx::query(
            "SELECT user_id, csrf_token, created_at, expires_at, refresh_token, refresh_due_at, scopes FROM sessions \
             WHERE secret_hash = ?",
        )
        .bind(&hash[..])
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        row.as_ref().map(session).transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn refresh_session(
        &self,
        hash: &SecretHash,
        refresh_token: Option<&str>,
        refresh_due_at: Option<DateTime<Utc>>,
    ) -> Result<bool, Error> {
        let updated = sqlx::query(
            "UPDATE sessions SET refresh_token = coalesce(?, refresh_token), refresh_due_at = ? \
             WHERE secret_hash = ?",
        )
        .bind(refresh_token)
        .bind(refresh_due_at.map(micros))
        .bind(&hash[..])
        .execute(&mut *self.write().await?)
        .await
        .map_err(map_err)?
        .rows_affected();
        Ok(updated > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_session(&self, hash: &SecretHash) -> Result<bool, Error> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE secret_hash = ?")
            .bind(&hash[..])
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?
            .rows_affected();
        Ok(deleted > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(micros(now))
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?
            .rows_affected())
    }
}
