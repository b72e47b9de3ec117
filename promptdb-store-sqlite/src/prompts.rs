//! Prompts, versions, tags and search.

use async_trait::async_trait;
use promptdb_core::{
    Error, LabelTarget, Prompt, PromptId, PromptSummary, PromptVersion, TagCount, UserId,
    export::ExportedPrompt,
    ranking::{RankFeatures, SearchCandidate},
    search::{self, Filters, ListSpec, SearchSpec, SearchTerm, SlugPageSpec},
    store::{
        FolderCount, Inserted, PromptMutator, PromptRecord, PromptStore, Ranked, Scorer, Usage,
        VersionDeletion,
    },
};
use sqlx::Connection as _;
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqliteConnection};
use tracing::instrument;
use uuid::Uuid;

use crate::{
    SqliteStore,
    labels::write_label,
    map_err, map_owned_write,
    rows::{self, PROMPT_COLUMNS, VERSION_COLUMNS, micros, to_json},
};

// Row limits are written into the SQL as integer literals, never bound: SQLite (3.53) reads a
// bound `LIMIT ?` while planning and marks the statement to be planned again whenever that
// parameter is bound, so every execution of a cached statement with `LIMIT ?` re-parsed it
// (a tenth of a search's CPU). A literal costs one cached statement per distinct limit, and
// limits come from settings and small page sizes.

/// bm25 column weights: slug, name, tags, description, content.
const BM25: &str = "bm25(prompts_fts, 10.0, 10.0, 6.0, 3.0, 1.0)";

async fn index_prompt(conn: &mut SqliteConnection, pk: i64, p: &Prompt) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO prompts_fts (rowid, slug, name, tags, description, content) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(pk)
    .bind(search::index_text(p.slug.as_str()))
    .bind(search::index_text(&p.name))
    .bind(search::index_text(&p.tags.join(" ")))
    .bind(search::index_text(&p.description))
    .bind(search::index_text(&p.body_text()))
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn insert_tags(
    conn: &mut SqliteConnection,
    pk: i64,
    user: UserId,
    tags: &[String],
) -> Result<(), Error> {
    for tag in tags {
        sqlx::query("INSERT INTO prompt_tags (user_id, tag, prompt_pk) VALUES (?, ?, ?)")
            .bind(user.as_uuid())
            .bind(tag)
            .bind(pk)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

async fn insert_version(conn: &mut SqliteConnection, pk: i64, p: &Prompt) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO prompt_versions (prompt_pk, version, name, description, content, tags, variables, created_at, \
         kind, messages, config, commit_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(pk)
    .bind(i64::from(p.version))
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.content)
    .bind(to_json(&p.tags)?)
    .bind(to_json(&p.variables)?)
    .bind(micros(p.updated_at))
    .bind(p.kind.as_str())
    .bind(to_json(&p.messages)?)
    .bind(to_json(&p.config)?)
    .bind(&p.commit_message)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Records which slugs the prompt's text includes (replacing what was recorded).
async fn write_includes(
    conn: &mut SqliteConnection,
    pk: i64,
    user: UserId,
    p: &Prompt,
) -> Result<(), Error> {
    sqlx::query("DELETE FROM prompt_includes WHERE prompt_pk = ?")
        .bind(pk)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    for target in p.include_targets() {
        sqlx::query(
            "INSERT INTO prompt_includes (prompt_pk, user_id, target_slug) VALUES (?, ?, ?)",
        )
        .bind(pk)
        .bind(user.as_uuid())
        .bind(target)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

fn push_filters(qb: &mut QueryBuilder<Sqlite>, filters: &Filters, skip_tags: usize) {
    if let Some((from, to)) = filters.folder_range() {
        qb.push(" AND p.slug >= ")
            .push_bind(from)
            .push(" AND p.slug < ")
            .push_bind(to);
    }
    if let Some(pinned) = filters.pinned {
        qb.push(" AND p.pinned = ").push_bind(pinned);
    }
    if let Some(favorite) = filters.favorite {
        qb.push(" AND p.favorite = ").push_bind(favorite);
    }
    for tag in filters.tags.iter().skip(skip_tags) {
        qb.push(
            " AND EXISTS (SELECT 1 FROM prompt_tags t WHERE t.user_id = p.user_id AND t.tag = ",
        )
        .push_bind(tag.clone())
        .push(" AND t.prompt_pk = p.pk)");
    }
}

/// ` FROM … WHERE …` selecting the user's prompts that pass `filters`. With a tag filter the
/// first tag's rows drive the query (CROSS JOIN fixes that order), so the cost follows the
/// tag's size rather than the library's.
fn push_from(qb: &mut QueryBuilder<Sqlite>, user: UserId, filters: &Filters) {
    match filters.tags.first() {
        Some(tag) => {
            qb.push(" FROM prompt_tags t0 CROSS JOIN prompts p ON p.pk = t0.prompt_pk WHERE t0.user_id = ")
                .push_bind(*user.as_uuid())
                .push(" AND t0.tag = ")
                .push_bind(tag.clone())
                .push(" AND p.user_id = ")
                .push_bind(*user.as_uuid());
            push_filters(qb, filters, 1);
        }
        None => {
            qb.push(" FROM prompts p WHERE p.user_id = ")
                .push_bind(*user.as_uuid());
            push_filters(qb, filters, 0);
        }
    }
}

/// `"t1"* AND "t2"` for the terms. Core folds terms to letters and digits, so quoting them keeps
/// FTS5 syntax out.
fn match_expression(terms: &[SearchTerm]) -> String {
    let mut q = String::with_capacity(terms.iter().map(|t| t.word.len() + 8).sum());
    for (i, term) in terms.iter().enumerate() {
        if i > 0 {
            q.push_str(" AND ");
        }
        q.push('"');
        q.push_str(&term.word.replace('"', ""));
        q.push('"');
        if term.prefix {
            q.push('*');
        }
    }
    q
}

#[async_trait]
impl PromptStore for SqliteStore {
    #[instrument(level = "debug", skip_all, fields(count = prompts.len()))]
    async fn insert_prompts(
        &self,
        user: UserId,
        prompts: &[PromptRecord],
    ) -> Result<Inserted, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let mut taken = QueryBuilder::<Sqlite>::new("SELECT slug FROM prompts WHERE user_id = ");
        taken.push_bind(user.as_uuid()).push(" AND slug IN (");
        let mut list = taken.separated(", ");
        for r in prompts {
            list.push_bind(r.prompt.slug.as_str().to_owned());
        }
        taken.push(")");
        let taken: Vec<String> = taken
            .build_query_scalar()
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        if let Some(index) = prompts
            .iter()
            .position(|r| taken.iter().any(|t| t == r.prompt.slug.as_str()))
        {
            return Ok(Inserted::SlugTaken { index });
        }
        for PromptRecord {
            prompt: p,
            score,
            labels,
            actor,
        } in prompts
        {
            let pk: i64 = sqlx::query_scalar(
                "INSERT INTO prompts (id, user_id, slug, name, description, content, tags, variables, pinned, favorite, \
                 usage_count, last_used_at, created_at, updated_at, version, score, kind, messages, config, commit_message) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk",
            )
            .bind(p.id.as_uuid())
            .bind(user.as_uuid())
            .bind(p.slug.as_str())
            .bind(&p.name)
            .bind(&p.description)
            .bind(&p.content)
            .bind(to_json(&p.tags)?)
            .bind(to_json(&p.variables)?)
            .bind(p.pinned)
            .bind(p.favorite)
            .bind(i64::try_from(p.usage_count).map_err(Error::backend)?)
            .bind(p.last_used_at.map(micros))
            .bind(micros(p.created_at))
            .bind(micros(p.updated_at))
            .bind(i64::from(p.version))
            .bind(score)
            .bind(p.kind.as_str())
            .bind(to_json(&p.messages)?)
            .bind(to_json(&p.config)?)
            .bind(&p.commit_message)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => Error::conflict(
                    "slug",
                    format!("a prompt with slug `{}` was saved at the same time", p.slug),
                ),
                _ => map_owned_write(user)(e),
            })?;
            insert_version(&mut tx, pk, p).await?;
            insert_tags(&mut tx, pk, user, &p.tags).await?;
            index_prompt(&mut tx, pk, p).await?;
            write_includes(&mut tx, pk, user, p).await?;
            for label in labels {
                write_label(
                    &mut tx,
                    pk,
                    label,
                    Some(&LabelTarget::version(p.version)),
                    actor,
                    p.updated_at,
                )
                .await?;
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Inserted::All)
    }

    #[instrument(level = "debug", skip_all)]
    async fn prompt(&self, user: UserId, slug: &str) -> Result<Option<Prompt>, Error> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PROMPT_COLUMNS} FROM prompts WHERE user_id = ? AND slug = ?"
        )))
        .bind(user.as_uuid())
        .bind(slug)
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        row.as_ref().map(rows::prompt).transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn modify_prompt(
        &self,
        user: UserId,
        slug: &str,
        change: &PromptMutator<'_>,
    ) -> Result<Option<Prompt>, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT pk, {PROMPT_COLUMNS} FROM prompts WHERE user_id = ? AND slug = ?"
        )))
        .bind(user.as_uuid())
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let pk: i64 = row.try_get("pk").map_err(Error::backend)?;
        let current = rows::prompt(&row)?;
        let Some(next) = change(current.clone())? else {
            return Ok(Some(current));
        };
        let p = &next.prompt;
        sqlx::query(
            "UPDATE prompts SET name = ?, description = ?, content = ?, tags = ?, variables = ?, pinned = ?, \
             favorite = ?, usage_count = ?, last_used_at = ?, updated_at = ?, version = ?, score = ?, \
             kind = ?, messages = ?, config = ?, commit_message = ? WHERE pk = ?",
        )
        .bind(&p.name)
        .bind(&p.description)
        .bind(&p.content)
        .bind(to_json(&p.tags)?)
        .bind(to_json(&p.variables)?)
        .bind(p.pinned)
        .bind(p.favorite)
        .bind(i64::try_from(p.usage_count).map_err(Error::backend)?)
        .bind(p.last_used_at.map(micros))
        .bind(micros(p.updated_at))
        .bind(i64::from(p.version))
        .bind(next.score)
        .bind(p.kind.as_str())
        .bind(to_json(&p.messages)?)
        .bind(to_json(&p.config)?)
        .bind(&p.commit_message)
        .bind(pk)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if next.new_version {
            insert_version(&mut tx, pk, p).await?;
        }
        if let Some(used) = next.used_version {
            let counted =
                sqlx::query("UPDATE prompt_versions SET usage_count = usage_count + 1 WHERE prompt_pk = ? AND version = ?")
                    .bind(pk)
                    .bind(i64::from(used))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?
                    .rows_affected();
            if counted == 0 {
                return Err(Error::not_found("version", format!("{slug}@{used}")));
            }
        }
        for label in &next.labels {
            write_label(
                &mut tx,
                pk,
                label,
                Some(&LabelTarget::version(p.version)),
                &next.actor,
                p.updated_at,
            )
            .await?;
        }
        if p.tags != current.tags {
            sqlx::query("DELETE FROM prompt_tags WHERE prompt_pk = ?")
                .bind(pk)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            insert_tags(&mut tx, pk, user, &p.tags).await?;
        }
        if p.content != current.content || p.messages != current.messages {
            write_includes(&mut tx, pk, user, p).await?;
        }
        let text_changed = p.name != current.name
            || p.description != current.description
            || p.content != current.content
            || p.messages != current.messages
            || p.tags != current.tags;
        if text_changed {
            sqlx::query("DELETE FROM prompts_fts WHERE rowid = ?")
                .bind(pk)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            index_prompt(&mut tx, pk, p).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Some(next.prompt))
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_prompt(&self, user: UserId, slug: &str) -> Result<bool, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let pk: Option<i64> =
            sqlx::query_scalar("SELECT pk FROM prompts WHERE user_id = ? AND slug = ?")
                .bind(user.as_uuid())
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let Some(pk) = pk else { return Ok(false) };
        sqlx::query("DELETE FROM prompts_fts WHERE rowid = ?")
            .bind(pk)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("DELETE FROM prompts WHERE pk = ?")
            .bind(pk)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    #[instrument(level = "debug", skip_all)]
    async fn list_prompts(
        &self,
        user: UserId,
        spec: &ListSpec,
    ) -> Result<Vec<Ranked<PromptSummary>>, Error> {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT p.id, p.slug, p.name, p.description, p.tags, p.pinned, p.favorite, p.usage_count, \
             p.last_used_at, p.created_at, p.updated_at, p.version, p.score",
        );
        push_from(&mut qb, user, &spec.filters);
        if let Some(after) = &spec.after {
            qb.push(" AND (p.pinned < ")
                .push_bind(after.pinned)
                .push(" OR (p.pinned = ")
                .push_bind(after.pinned)
                .push(" AND (p.score < ")
                .push_bind(after.score)
                .push(" OR (p.score = ")
                .push_bind(after.score)
                .push(" AND p.slug > ")
                .push_bind(after.slug.clone())
                .push(")))) ");
        }
        qb.push(" ORDER BY p.pinned DESC, p.score DESC, p.slug ASC LIMIT ")
            .push(spec.limit);
        let rows = qb
            .build()
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(Ranked {
                    item: rows::summary(row)?,
                    score: row.try_get("score").map_err(Error::backend)?,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(terms = spec.terms.len()))]
    async fn search_prompts(
        &self,
        user: UserId,
        spec: &SearchSpec,
    ) -> Result<Vec<SearchCandidate>, Error> {
        let candidates = i64::try_from(spec.candidates).unwrap_or(i64::MAX);
        let mut qb;
        if spec.terms.is_empty() {
            qb = QueryBuilder::<Sqlite>::new("SELECT p.id, p.slug, p.score, 1.0 AS relevance");
            push_from(&mut qb, user, &spec.filters);
            qb.push(" ORDER BY p.score DESC, p.slug ASC LIMIT ")
                .push(candidates);
        } else {
            // The inner query walks matches newest first (FTS5 yields rowid order natively) and
            // stops after `scan_limit` of the user's; only those get ranked. CROSS JOIN keeps the
            // full-text match as the outer loop, where a plain JOIN could let the planner run the
            // match once per prompt.
            qb = QueryBuilder::<Sqlite>::new(format!(
                "SELECT id, slug, score, relevance FROM (SELECT p.id, p.slug, p.score, -{BM25} AS relevance \
                 FROM prompts_fts CROSS JOIN prompts p ON p.pk = prompts_fts.rowid WHERE prompts_fts MATCH "
            ));
            qb.push_bind(match_expression(&spec.terms))
                .push(" AND p.user_id = ")
                .push_bind(*user.as_uuid());
            push_filters(&mut qb, &spec.filters, 0);
            qb.push(" ORDER BY prompts_fts.rowid DESC LIMIT ")
                .push(i64::try_from(spec.scan_limit).unwrap_or(i64::MAX))
                .push(") ORDER BY relevance DESC, slug ASC LIMIT ")
                .push(candidates);
        }
        let rows = qb
            .build()
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(SearchCandidate {
                    id: PromptId::from_uuid(row.try_get::<Uuid, _>("id").map_err(Error::backend)?),
                    slug: row.try_get("slug").map_err(Error::backend)?,
                    relevance: row.try_get("relevance").map_err(Error::backend)?,
                    score: row.try_get("score").map_err(Error::backend)?,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(count = ids.len()))]
    async fn prompt_summaries(
        &self,
        user: UserId,
        ids: &[PromptId],
    ) -> Result<Vec<PromptSummary>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // `+user_id` keeps the planner on the `id` index: the user's range of `prompts_ranked`
        // looks selective to it but may hold the whole library.
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT id, slug, name, description, tags, pinned, favorite, usage_count, last_used_at, created_at, \
             updated_at, version FROM prompts WHERE +user_id = ",
        );
        qb.push_bind(user.as_uuid()).push(" AND id IN (");
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(*id.as_uuid());
        }
        qb.push(")");
        let rows = qb
            .build()
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(map_err)?;
        rows.iter().map(rows::summary).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn tags(&self, user: UserId) -> Result<Vec<TagCount>, Error> {
        let rows = sqlx::query(
            "SELECT tag, COUNT(*) AS n FROM prompt_tags WHERE user_id = ? GROUP BY tag ORDER BY n DESC, tag ASC",
        )
        .bind(user.as_uuid())
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(TagCount {
                    tag: row.try_get("tag").map_err(Error::backend)?,
                    count: u64::try_from(row.try_get::<i64, _>("n").map_err(Error::backend)?)
                        .map_err(Error::backend)?,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn versions(
        &self,
        user: UserId,
        slug: &str,
        before: Option<u32>,
        limit: u32,
    ) -> Result<Option<Vec<PromptVersion>>, Error> {
        let mut conn = self.read().await?;
        let prompt: Option<(i64, Uuid)> =
            sqlx::query_as("SELECT pk, id FROM prompts WHERE user_id = ? AND slug = ?")
                .bind(user.as_uuid())
                .bind(slug)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map_err)?;
        let Some((pk, id)) = prompt else {
            return Ok(None);
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM prompt_versions \
             WHERE prompt_pk = ? AND version < ? ORDER BY version DESC LIMIT {limit}"
        )))
        .bind(pk)
        .bind(before.map_or(i64::MAX, i64::from))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let id = PromptId::from_uuid(id);
        rows.iter()
            .map(|r| rows::version(r, id))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    #[instrument(level = "debug", skip_all)]
    async fn version(
        &self,
        user: UserId,
        slug: &str,
        version: u32,
    ) -> Result<Option<PromptVersion>, Error> {
        let row = sqlx::query(
            "SELECT p.id, v.version, v.name, v.description, v.content, v.tags, v.variables, v.created_at, \
             v.kind, v.messages, v.config, v.commit_message, v.usage_count \
             FROM prompts p JOIN prompt_versions v ON v.prompt_pk = p.pk \
             WHERE p.user_id = ? AND p.slug = ? AND v.version = ?",
        )
        .bind(user.as_uuid())
        .bind(slug)
        .bind(i64::from(version))
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        row.map(|r| {
            let id = PromptId::from_uuid(r.try_get::<Uuid, _>("id").map_err(Error::backend)?);
            rows::version(&r, id)
        })
        .transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn export_prompts(
        &self,
        user: UserId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ExportedPrompt>, Error> {
        // One read transaction: a consistent snapshot of the page's prompts, versions and labels.
        let mut conn = self.read().await?;
        let mut tx = conn.begin().await.map_err(map_err)?;
        let after = after.unwrap_or("");
        let prompt_rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT pk, {PROMPT_COLUMNS} FROM prompts WHERE user_id = ? AND slug > ? ORDER BY slug LIMIT {limit}"
        )))
        .bind(user.as_uuid())
        .bind(after)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(last) = prompt_rows.last() else {
            return Ok(Vec::new());
        };
        let last: String = last.try_get("slug").map_err(Error::backend)?;
        let version_rows = sqlx::query(
            "SELECT v.prompt_pk, v.version, v.name, v.description, v.content, v.tags, v.variables, v.created_at, \
             v.kind, v.messages, v.config, v.commit_message, v.usage_count \
             FROM prompt_versions v JOIN prompts p ON p.pk = v.prompt_pk \
             WHERE p.user_id = ? AND p.slug > ? AND p.slug <= ? ORDER BY v.prompt_pk, v.version",
        )
        .bind(user.as_uuid())
        .bind(after)
        .bind(&last)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let label_rows = sqlx::query(
            "SELECT l.prompt_pk, l.name, l.target, l.updated_at FROM prompt_labels l \
             JOIN prompts p ON p.pk = l.prompt_pk WHERE p.user_id = ? AND p.slug > ? AND p.slug <= ? \
             ORDER BY l.prompt_pk, l.name",
        )
        .bind(user.as_uuid())
        .bind(after)
        .bind(&last)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let move_rows = sqlx::query(
            "SELECT m.prompt_pk, m.id, m.label, m.from_target, m.to_target, m.actor, m.moved_at \
             FROM label_moves m JOIN prompts p ON p.pk = m.prompt_pk \
             WHERE p.user_id = ? AND p.slug > ? AND p.slug <= ? ORDER BY m.prompt_pk, m.id",
        )
        .bind(user.as_uuid())
        .bind(after)
        .bind(&last)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        let of = |row: &sqlx::sqlite::SqliteRow| row.try_get::<i64, _>("prompt_pk").ok();
        let mut out = Vec::with_capacity(prompt_rows.len());
        // Every list is ordered by prompt_pk: walk them side by side, in pk order.
        let mut order: Vec<(i64, usize)> = prompt_rows
            .iter()
            .enumerate()
            .map(|(i, r)| Ok((r.try_get::<i64, _>("pk").map_err(Error::backend)?, i)))
            .collect::<Result<_, Error>>()?;
        order.sort_unstable();
        let mut by_pk: Vec<Option<ExportedPrompt>> = vec![None; prompt_rows.len()];
        let (mut vi, mut li, mut mi) = (0, 0, 0);
        for (pk, i) in order {
            let prompt = rows::prompt(&prompt_rows[i])?;
            let id = prompt.id;
            let mut item = ExportedPrompt {
                prompt,
                versions: Vec::new(),
                labels: Vec::new(),
                label_moves: Vec::new(),
            };
            while vi < version_rows.len() && of(&version_rows[vi]) == Some(pk) {
                item.versions.push(rows::version(&version_rows[vi], id)?);
                vi += 1;
            }
            while li < label_rows.len() && of(&label_rows[li]) == Some(pk) {
                item.labels.push(rows::label(&label_rows[li])?);
                li += 1;
            }
            while mi < move_rows.len() && of(&move_rows[mi]) == Some(pk) {
                item.label_moves.push(rows::label_move(&move_rows[mi])?);
                mi += 1;
            }
            by_pk[i] = Some(item);
        }
        out.extend(by_pk.into_iter().flatten());
        Ok(out)
    }

    #[instrument(level = "debug", skip_all)]
    async fn dependents(&self, user: UserId, slug: &str) -> Result<Vec<PromptSummary>, Error> {
        let rows = sqlx::query(
            "SELECT p.id, p.slug, p.name, p.description, p.tags, p.pinned, p.favorite, p.usage_count, \
             p.last_used_at, p.created_at, p.updated_at, p.version \
             FROM prompt_includes i JOIN prompts p ON p.pk = i.prompt_pk \
             WHERE i.user_id = ? AND i.target_slug = ? AND p.user_id = ? ORDER BY p.slug",
        )
        .bind(user.as_uuid())
        .bind(slug)
        .bind(user.as_uuid())
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        rows.iter().map(rows::summary).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn page_by_slug(
        &self,
        user: UserId,
        spec: &SlugPageSpec,
    ) -> Result<(Vec<PromptSummary>, u64), Error> {
        let filtered = |select: &str| {
            let mut qb = QueryBuilder::<Sqlite>::new(select);
            push_from(&mut qb, user, &spec.filters);
            if let Some(label) = &spec.label {
                qb.push(" AND EXISTS (SELECT 1 FROM prompt_labels l WHERE l.prompt_pk = p.pk AND l.name = ")
                    .push_bind(label.clone())
                    .push(")");
            }
            if let Some(from) = spec.updated_from {
                qb.push(" AND p.updated_at >= ").push_bind(micros(from));
            }
            if let Some(to) = spec.updated_to {
                qb.push(" AND p.updated_at < ").push_bind(micros(to));
            }
            qb
        };
        let mut conn = self.read().await?;
        let mut page = filtered(
            "SELECT p.id, p.slug, p.name, p.description, p.tags, p.pinned, p.favorite, p.usage_count, \
             p.last_used_at, p.created_at, p.updated_at, p.version",
        );
        page.push(" ORDER BY p.slug LIMIT ")
            .push(spec.limit)
            .push(" OFFSET ")
            .push_bind(i64::try_from(spec.offset).unwrap_or(i64::MAX));
        let rows = page.build().fetch_all(&mut *conn).await.map_err(map_err)?;
        let total: i64 = filtered("SELECT COUNT(*)")
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
        let items = rows.iter().map(rows::summary).collect::<Result<_, _>>()?;
        Ok((items, u64::try_from(total).map_err(Error::backend)?))
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_versions(
        &self,
        user: UserId,
        slug: &str,
        plan: &VersionDeletion,
    ) -> Result<Option<()>, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT pk, version FROM prompts WHERE user_id = ? AND slug = ?")
                .bind(user.as_uuid())
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let Some((pk, newest)) = row else {
            return Ok(None);
        };
        if newest != i64::from(plan.expected_newest) {
            return Err(Error::conflict(
                "version",
                format!("`{slug}` got a new version meanwhile; try again"),
            ));
        }
        for v in &plan.versions {
            sqlx::query("DELETE FROM prompt_versions WHERE prompt_pk = ? AND version = ?")
                .bind(pk)
                .bind(i64::from(*v))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        for label in &plan.remove_labels {
            write_label(&mut tx, pk, label, None, &plan.actor, plan.now).await?;
        }
        if let Some((p, score)) = &plan.new_head {
            sqlx::query(
                "UPDATE prompts SET name = ?, description = ?, content = ?, tags = ?, variables = ?, \
                 updated_at = ?, version = ?, score = ?, kind = ?, messages = ?, config = ?, commit_message = ? \
                 WHERE pk = ?",
            )
            .bind(&p.name)
            .bind(&p.description)
            .bind(&p.content)
            .bind(to_json(&p.tags)?)
            .bind(to_json(&p.variables)?)
            .bind(micros(p.updated_at))
            .bind(i64::from(p.version))
            .bind(score)
            .bind(p.kind.as_str())
            .bind(to_json(&p.messages)?)
            .bind(to_json(&p.config)?)
            .bind(&p.commit_message)
            .bind(pk)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query("DELETE FROM prompt_tags WHERE prompt_pk = ?")
                .bind(pk)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            insert_tags(&mut tx, pk, user, &p.tags).await?;
            sqlx::query("DELETE FROM prompts_fts WHERE rowid = ?")
                .bind(pk)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            index_prompt(&mut tx, pk, p).await?;
            write_includes(&mut tx, pk, user, p).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Some(()))
    }

    #[instrument(level = "debug", skip_all)]
    async fn folders(&self, user: UserId) -> Result<Vec<FolderCount>, Error> {
        // rtrim(slug, <slug without slashes>) keeps everything up to the last `/`.
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT substr(f, 1, length(f) - 1) AS folder, COUNT(*) FROM \
             (SELECT rtrim(slug, replace(slug, '/', '')) AS f FROM prompts WHERE user_id = ? AND slug LIKE '%/%') \
             GROUP BY folder ORDER BY folder",
        )
        .bind(user.as_uuid())
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(map_err)?;
        rows.into_iter()
            .map(|(folder, n)| {
                Ok(FolderCount {
                    folder,
                    prompts: u64::try_from(n).map_err(Error::backend)?,
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn usage(&self, user: UserId, slug: Option<&str>) -> Result<Usage, Error> {
        let mut conn = self.read().await?;
        let (prompts, bytes): (i64, i64) = sqlx::query_as(
            "SELECT count(*), coalesce(sum(stored_bytes), 0) FROM prompts INDEXED BY prompts_user_bytes \
             WHERE user_id = ?",
        )
        .bind(user.as_uuid())
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
        let versions: i64 = match slug {
            Some(slug) => sqlx::query_scalar(
                "SELECT count(*) FROM prompt_versions WHERE prompt_pk = \
                 (SELECT pk FROM prompts WHERE user_id = ? AND slug = ?)",
            )
            .bind(user.as_uuid())
            .bind(slug)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?,
            None => 0,
        };
        let n = |v: i64| u64::try_from(v).map_err(Error::backend);
        Ok(Usage {
            prompts: n(prompts)?,
            stored_bytes: n(bytes)?,
            versions: n(versions)?,
        })
    }

    #[instrument(level = "debug", skip_all)]
    async fn rescore_all(&self, scorer: &Scorer<'_>) -> Result<u64, Error> {
        let mut conn = self.write().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
        let rows = sqlx::query(
            "SELECT pk, usage_count, favorite, last_used_at, created_at, updated_at FROM prompts",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        for row in &rows {
            let get_i64 = |c: &str| row.try_get::<i64, _>(c).map_err(Error::backend);
            let last_used: Option<i64> = row.try_get("last_used_at").map_err(Error::backend)?;
            let features = RankFeatures::new(
                u64::try_from(get_i64("usage_count")?).unwrap_or_default(),
                row.try_get("favorite").map_err(Error::backend)?,
                rows::time(get_i64("created_at")?)?,
                rows::time(get_i64("updated_at")?)?,
                last_used.map(rows::time).transpose()?,
            );
            sqlx::query("UPDATE prompts SET score = ? WHERE pk = ?")
                .bind(scorer(&features))
                .bind(get_i64("pk")?)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(rows.len() as u64)
    }
}
