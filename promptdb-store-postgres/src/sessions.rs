//! External identities and browser sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Error, Scope, SecretHash, Session, User, UserId,
    store::{IdentityStore, SessionStore},
};
use sqlx::{postgres::PgRow, types::Json};
use tracing::instrument;
use uuid::Uuid;

use crate::{PostgresStore, map_err, map_owned_write, rows};

#[async_trait]
impl IdentityStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<UserId>, Error> {
        let mut tx = self.system_tx().await?;
        let id: Option<Uuid> =
            sqlx::query_scalar("SELECT user_id FROM identities WHERE issuer = $1 AND subject = $2")
                .bind(issuer)
                .bind(subject)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(id.map(UserId::from_uuid))
    }

    #[instrument(level = "debug", skip_all)]
    async fn insert_user_with_identity(
        &self,
        user: &User,
        issuer: &str,
        subject: &str,
    ) -> Result<UserId, Error> {
        let mut tx = self.system_tx().await?;
        sqlx::query("INSERT INTO users (id, display_name, created_at) VALUES ($1, $2, $3)")
            .bind(user.id.as_uuid())
            .bind(&user.display_name)
            .bind(user.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        // A concurrent first sign-in waits here for the other to commit, then inserts nothing.
        let linked: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (issuer, subject) DO NOTHING RETURNING user_id",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user.id.as_uuid())
        .bind(user.created_at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        if linked.is_some() {
            tx.commit().await.map_err(map_err)?;
            return Ok(user.id);
        }
        tx.rollback().await.map_err(map_err)?;
        self.user_by_identity(issuer, subject)
            .await?
            .ok_or_else(|| {
                Error::conflict(
                    "sub",
                    "this identity was unlinked while signing in; try again",
                )
            })
    }
}

fn session(row: &PgRow) -> Result<Session, Error> {
    Ok(Session {
        user_id: UserId::from_uuid(rows::get::<Uuid>(row, "user_id")?),
        csrf_token: rows::get(row, "csrf_token")?,
        created_at: rows::get(row, "created_at")?,
        expires_at: rows::get(row, "expires_at")?,
        refresh_token: rows::get(row, "refresh_token")?,
        refresh_due_at: rows::get(row, "refresh_due_at")?,
        // Sessions from before migration 0005 had every scope.
        scopes: match rows::get::<Option<Json<Vec<Scope>>>>(row, "scopes")? {
            Some(Json(s)) => s,
            None => vec![Scope::Read, Scope::Write, Scope::Release],
        },
    })
}

#[async_trait]
impl SessionStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn insert_session(&self, hash: &SecretHash, s: &Session) -> Result<(), Error> {
        let mut tx = self.user_tx(s.user_id).await?;
        sqlx::query(
            "INSERT INTO sessions (secret_hash, user_id, csrf_token, created_at, expires_at, refresh_token, \
             refresh_due_at, scopes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&hash[..])
        .bind(s.user_id.as_uuid())
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(s.refresh_token.as_deref())
        .bind(s.refresh_due_at)
        .bind(Json(&s.scopes))
        .execute(&mut *tx)
        .await
        .map_err(map_owned_write(s.user_id))?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    #[instrument(level = "debug", skip_all)]
    async fn session_by_hash(&self, hash: &SecretHash) -> Result<Option<Session>, Error> {
        let mut tx = self.system_tx().await?;
        let row = sqlx::query(
            "SELECT user_id, csrf_token, created_at, expires_at, refresh_token, refresh_due_at, scopes FROM sessions \
             WHERE secret_hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        row.as_ref().map(session).transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn refresh_session(
        &self,
        hash: &SecretHash,
        refresh_token: Option<&str>,
        refresh_due_at: Option<DateTime<Utc>>,
    ) -> Result<bool, Error> {
        let mut tx = self.system_tx().await?;
        let updated = sqlx::query(
            "UPDATE sessions SET refresh_token = coalesce($1, refresh_token), refresh_due_at = $2 \
             WHERE secret_hash = $3",
        )
        .bind(refresh_token)
        .bind(refresh_due_at)
        .bind(&hash[..])
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        tx.commit().await.map_err(map_err)?;
        Ok(updated > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_session(&self, hash: &SecretHash) -> Result<bool, Error> {
        let mut tx = self.system_tx().await?;
        let deleted = sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
            .bind(&hash[..])
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        tx.commit().await.map_err(map_err)?;
        Ok(deleted > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, Error> {
        let mut tx = self.system_tx().await?;
        let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }
}
