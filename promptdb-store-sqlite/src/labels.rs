//! Labels, their moves, and resolving a prompt at a label or version.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use promptdb_core::{
    Error, Label, LabelMove, LabelTarget, PromptId, Slug, UserId,
    store::{
        LabelDecision, LabelMutator, LabelState, LabelStore, Resolution, ResolvedVersion, Selector,
        VariantPicker,
    },
};
use sqlx::{AssertSqlSafe, Connection as _, SqliteConnection};
use tracing::instrument;
use uuid::Uuid;

use crate::{
    SqliteStore, map_err,
    rows::{self, VERSION_COLUMNS, micros, to_json},
};

/// Points label `name` of prompt `pk` at `to` (removes it when `None`) and records the move,
/// inside the caller's transaction. Returns the move, or `None` when nothing changed.
pub(crate) async fn write_label(
    conn: &mut SqliteConnection,
    pk: i64,
    name: &str,
    to: Option<&LabelTarget>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<LabelMove>, Error> {
    let from: Option<String> =
        sqlx::query_scalar("SELECT target FROM prompt_labels WHERE prompt_pk = ? AND name = ?")
            .bind(pk)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
    let from: Option<LabelTarget> = from
        .map(|t| serde_json::from_str(&t).map_err(Error::backend))
        .transpose()?;
    if from.as_ref() == to {
        return Ok(None);
    }
    let to_json_text = to.map(to_json).transpose()?;
    match &to_json_text {
        Some(target) => {
            sqlx::query(
                "INSERT INTO prompt_labels (prompt_pk, name, target, updated_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (prompt_pk, name) DO UPDATE SET target = excluded.target, updated_at = excluded.updated_at",
            )
            .bind(pk)
            .bind(name)
            .bind(target)
            .bind(micros(now))
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        }
        None => {
            sqlx::query("DELETE FROM prompt_labels WHERE prompt_pk = ? AND name = ?")
                .bind(pk)
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
        }
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO label_moves (prompt_pk, label, from_target, to_target, actor, moved_at) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(pk)
    .bind(name)
    .bind(from.as_ref().map(to_json).transpose()?)
    .bind(to_json_text)
    .bind(actor)
    .bind(micros(now))
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(Some(LabelMove {
        id,
        label: name.to_owned(),
        from,
        to: to.cloned(),
        actor: actor.to_owned(),
        moved_at: rows::time(micros(now))?,
    }))
}

/// The prompt's key and newest version.
async fn prompt_key(
    conn: &mut SqliteConnection,
    user: UserId,
    slug: &str,
) -> Result<Option<(i64, i64)>, Error> {
    sqlx::query_as("SELECT pk, version FROM prompts WHERE user_id = ? AND slug = ?")
        .bind(user.as_uuid())
        .bind(slug)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)
}

async fn labels_of(conn: &mut SqliteConnection, pk: i64) -> Result<Vec<Label>, Error> {
    let rows = sqlx::query(
        "SELECT name, target, updated_at FROM prompt_labels WHERE prompt_pk = ? ORDER BY name",
    )
    .bind(pk)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    rows.iter().map(rows::label).collect()
}

#[async_trait]
impl LabelStore for SqliteStore {
    #[instrument(level = "debug", skip_all)]
    async fn labels(&self, user: UserId, slug: &str) -> Result<Option<Vec<Label>>, Error> {
        let mut conn = self.read().await?;
        let Some((pk, _)) = prompt_key(&mut conn, user, slug).await? else {
            return Ok(None);
        };
        labels_of(&mut conn, pk).await.map(Some)
    }

    #[instrument(level = "debug", skip_all)]
    async fn move_label(
        &self,
        user: UserId,
        slug: &str,
        label: &str,
        actor: &str,
        now: DateTime<Utc>,
        change: &LabelMutator<'_>,
    ) -> Result<Option<Option<LabelMove>>, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let Some((pk, newest)) = prompt_key(&mut tx, user, slug).await? else {
            return Ok(None);
        };
        let current: Option<String> =
            sqlx::query_scalar("SELECT target FROM prompt_labels WHERE prompt_pk = ? AND name = ?")
                .bind(pk)
                .bind(label)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let current = current
            .map(|t| serde_json::from_str(&t).map_err(Error::backend))
            .transpose()?;
        let state = LabelState {
            newest: u32::try_from(newest).map_err(Error::backend)?,
            current,
        };
        let to = match change(state)? {
            LabelDecision::Keep => return Ok(Some(None)),
            LabelDecision::Remove => None,
            LabelDecision::Set(target) => {
                for v in target.versions() {
                    let exists: Option<i64> = sqlx::query_scalar(
                        "SELECT 1 FROM prompt_versions WHERE prompt_pk = ? AND version = ?",
                    )
                    .bind(pk)
                    .bind(i64::from(v))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                    if exists.is_none() {
                        return Err(Error::not_found("version", format!("{slug}@{v}")));
                    }
                }
                Some(target)
            }
        };
        let moved = write_label(&mut tx, pk, label, to.as_ref(), actor, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(moved))
    }

    #[instrument(level = "debug", skip_all)]
    async fn label_moves(
        &self,
        user: UserId,
        slug: &str,
        label: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Option<Vec<LabelMove>>, Error> {
        let mut conn = self.read().await?;
        let Some((pk, _)) = prompt_key(&mut conn, user, slug).await? else {
            return Ok(None);
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, label, from_target, to_target, actor, moved_at FROM label_moves \
             WHERE prompt_pk = ? AND (? IS NULL OR label = ?) AND id < ? ORDER BY id DESC LIMIT {limit}",
        )))
        .bind(pk)
        .bind(label)
        .bind(label)
        .bind(before.unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(rows::label_move)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    #[instrument(level = "debug", skip_all)]
    async fn resolve(
        &self,
        user: UserId,
        slug: &str,
        selector: Selector<'_>,
        pick: &VariantPicker<'_>,
    ) -> Result<Resolution, Error> {
        let mut conn = self.read().await?;
        let prompt: Option<(i64, Uuid, i64)> =
            sqlx::query_as("SELECT pk, id, version FROM prompts WHERE user_id = ? AND slug = ?")
                .bind(user.as_uuid())
                .bind(slug)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map_err)?;
        let Some((pk, id, newest)) = prompt else {
            return Ok(Resolution::NoPrompt);
        };
        let newest = u32::try_from(newest).map_err(Error::backend)?;
        let labels = labels_of(&mut conn, pk).await?;
        let version = match selector {
            Selector::Latest => newest,
            Selector::Version(v) => v,
            Selector::Label(name) => match labels.iter().find(|l| l.name == name) {
                Some(l) => pick(&l.target),
                None => return Ok(Resolution::NoLabel),
            },
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM prompt_versions WHERE prompt_pk = ? AND version = ?"
        )))
        .bind(pk)
        .bind(i64::from(version))
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
        let Some(row) = row else {
            return Ok(Resolution::NoVersion(version));
        };
        Ok(Resolution::Found(Box::new(ResolvedVersion {
            slug: Slug::from_trusted(slug.to_owned()),
            newest,
            version: rows::version(&row, PromptId::from_uuid(id))?,
            labels,
        })))
    }
}
