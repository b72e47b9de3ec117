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
use sqlx::{AssertSqlSafe, PgConnection, types::Json};
use tracing::instrument;
use uuid::Uuid;

use crate::{
    AS_USER, PostgresStore, map_err,
    rows::{self, VERSION_COLUMNS},
};

/// Points label `name` of prompt `pk` at `to` (removes it when `None`) and records the move,
/// inside the caller's transaction (which holds the prompt's row lock). Returns the move, or
/// `None` when nothing changed.
pub(crate) async fn write_label(
    conn: &mut PgConnection,
    pk: i64,
    name: &str,
    to: Option<&LabelTarget>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<LabelMove>, Error> {
    let from: Option<Json<LabelTarget>> =
        sqlx::query_scalar("SELECT target FROM prompt_labels WHERE prompt_pk = $1 AND name = $2")
            .bind(pk)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
    let from = from.map(|j| j.0);
    if from.as_ref() == to {
        return Ok(None);
    }
    match to {
        Some(target) => {
            sqlx::query(
                "INSERT INTO prompt_labels (prompt_pk, name, target, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (prompt_pk, name) DO UPDATE SET target = excluded.target, updated_at = excluded.updated_at",
            )
            .bind(pk)
            .bind(name)
            .bind(Json(target))
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        }
        None => {
            sqlx::query("DELETE FROM prompt_labels WHERE prompt_pk = $1 AND name = $2")
                .bind(pk)
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
        }
    }
    let (id, moved_at): (i64, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO label_moves (prompt_pk, label, from_target, to_target, actor, moved_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, moved_at",
    )
    .bind(pk)
    .bind(name)
    .bind(from.as_ref().map(Json))
    .bind(to.map(Json))
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(Some(LabelMove {
        id,
        label: name.to_owned(),
        from,
        to: to.cloned(),
        actor: actor.to_owned(),
        moved_at,
    }))
}

async fn labels_of(conn: &mut PgConnection, pk: i64) -> Result<Vec<Label>, Error> {
    let rows = sqlx::query(
        "SELECT name, target, updated_at FROM prompt_labels WHERE prompt_pk = $1 ORDER BY name",
    )
    .bind(pk)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    rows.iter().map(rows::label).collect()
}

async fn prompt_pk(
    conn: &mut PgConnection,
    user: UserId,
    slug: &str,
) -> Result<Option<i64>, Error> {
    sqlx::query_scalar("SELECT pk FROM prompts WHERE user_id = $1 AND slug = $2")
        .bind(user.as_uuid())
        .bind(slug)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)
}

#[async_trait]
impl LabelStore for PostgresStore {
    #[instrument(level = "debug", skip_all)]
    async fn labels(&self, user: UserId, slug: &str) -> Result<Option<Vec<Label>>, Error> {
        let mut tx = self.user_tx(user).await?;
        let Some(pk) = prompt_pk(&mut tx, user, slug).await? else {
            return Ok(None);
        };
        let labels = labels_of(&mut tx, pk).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(labels))
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
        let mut tx = self.user_tx(user).await?;
        // The prompt's row lock serialises every move of its labels (and its new versions).
        let row: Option<(i64, i32)> = sqlx::query_as(
            "SELECT pk, version FROM prompts WHERE user_id = $1 AND slug = $2 FOR UPDATE",
        )
        .bind(user.as_uuid())
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some((pk, newest)) = row else {
            return Ok(None);
        };
        let current: Option<Json<LabelTarget>> = sqlx::query_scalar(
            "SELECT target FROM prompt_labels WHERE prompt_pk = $1 AND name = $2",
        )
        .bind(pk)
        .bind(label)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let state = LabelState {
            newest: u32::try_from(newest).map_err(Error::backend)?,
            current: current.map(|j| j.0),
        };
        let to = match change(state)? {
            LabelDecision::Keep => return Ok(Some(None)),
            LabelDecision::Remove => None,
            LabelDecision::Set(target) => {
                let wanted: Vec<i32> = target
                    .versions()
                    .into_iter()
                    .map(|v| i32::try_from(v).map_err(Error::backend))
                    .collect::<Result<_, _>>()?;
                let found: Vec<i32> = sqlx::query_scalar(
                    "SELECT version FROM prompt_versions WHERE prompt_pk = $1 AND version = ANY($2)",
                )
                .bind(pk)
                .bind(&wanted)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
                if let Some(missing) = wanted.iter().find(|v| !found.contains(v)) {
                    return Err(Error::not_found("version", format!("{slug}@{missing}")));
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
        let mut tx = self.user_tx(user).await?;
        let Some(pk) = prompt_pk(&mut tx, user, slug).await? else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT id, label, from_target, to_target, actor, moved_at FROM label_moves \
             WHERE prompt_pk = $1 AND ($2::text IS NULL OR label = $2) AND id < $3 ORDER BY id DESC LIMIT $4",
        )
        .bind(pk)
        .bind(label)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
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
        // Two statements, each in its own implicit transaction (one round trip each): the prompt
        // with its labels, then the chosen version. Versions never change once written, so the
        // second read cannot disagree with the first; a version deleted in between is reported
        // as missing, as it would be a moment later.
        let rows: Vec<(i64, Uuid, i32, Option<String>, Option<Json<LabelTarget>>, Option<DateTime<Utc>>)> =
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT q.* FROM {AS_USER} CROSS JOIN LATERAL \
                 (SELECT p.pk, p.id, p.version, l.name, l.target, l.updated_at FROM prompts p \
                 LEFT JOIN prompt_labels l ON l.prompt_pk = p.pk WHERE p.user_id = s.uid AND p.slug = $2 \
                 OFFSET 0) q ORDER BY q.name",
            )))
            .bind(user.as_uuid())
            .bind(slug)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let Some(&(pk, id, newest, ..)) = rows.first() else {
            return Ok(Resolution::NoPrompt);
        };
        let newest = u32::try_from(newest).map_err(Error::backend)?;
        let labels: Vec<Label> = rows
            .into_iter()
            .filter_map(|(_, _, _, name, target, updated_at)| {
                Some(Label {
                    name: name?,
                    target: target?.0,
                    protected: false,
                    updated_at: updated_at?,
                })
            })
            .collect();
        let version = match selector {
            Selector::Latest => newest,
            Selector::Version(v) => v,
            Selector::Label(name) => match labels.iter().find(|l| l.name == name) {
                Some(l) => pick(&l.target),
                None => return Ok(Resolution::NoLabel),
            },
        };
        let Ok(number) = i32::try_from(version) else {
            return Ok(Resolution::NoVersion(version));
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT q.* FROM {AS_USER} CROSS JOIN LATERAL \
             (SELECT {VERSION_COLUMNS} FROM prompt_versions \
             WHERE prompt_pk = $2 AND version = $3 AND s.uid IS NOT NULL OFFSET 0) q"
        )))
        .bind(user.as_uuid())
        .bind(pk)
        .bind(number)
        .fetch_optional(&self.pool)
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
