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
use sqlx::{AssertSqlSafe, PgConnection, Postgres, QueryBuilder, Row, types::Json};
use tracing::instrument;
use uuid::Uuid;

use crate::{
    AS_USER, PostgresStore,
    labels::write_label,
    map_err, map_owned_write,
    rows::{self, PROMPT_COLUMNS, VERSION_COLUMNS},
};

/// The weighted search vector from five folded texts bound at `$first`…`$first+4`.
fn search_vector(first: usize) -> String {
    let w = ["A", "A", "B", "C", "D"];
    (0..5)
        .map(|i| {
            format!(
                "setweight(to_tsvector('simple', ${}), '{}')",
                first + i,
                w[i]
            )
        })
        .collect::<Vec<_>>()
        .join(" || ")
}

/// Folded texts for the search vector: slug, name, tags, description, content.
fn search_texts(p: &Prompt) -> [String; 5] {
    [
        search::index_text(p.slug.as_str()),
        search::index_text(&p.name),
        search::index_text(&p.tags.join(" ")),
        search::index_text(&p.description),
        search::index_text(&p.body_text()),
    ]
}

/// Rows re-scored per statement.
const RESCORE_BATCH: usize = 5_000;

/// Relevance weights for `ts_rank`, in the order D, C, B, A.
const RANK_WEIGHTS: &str = "'{0.1, 0.3, 0.6, 1.0}'";

const SUMMARY_COLUMNS: &str = "p.id, p.slug, p.name, p.description, p.tags, p.pinned, p.favorite, p.usage_count, \
     p.last_used_at, p.created_at, p.updated_at, p.version";

async fn insert_version(conn: &mut PgConnection, pk: i64, p: &Prompt) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO prompt_versions (prompt_pk, version, name, description, content, tags, variables, created_at, \
         kind, messages, config, commit_message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(pk)
    .bind(i32::try_from(p.version).map_err(Error::backend)?)
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.content)
    .bind(Json(&p.tags))
    .bind(Json(&p.variables))
    .bind(p.updated_at)
    .bind(p.kind.as_str())
    .bind(Json(&p.messages))
    .bind(Json(&p.config))
    .bind(&p.commit_message)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Records which slugs the prompt's text includes (replacing what was recorded).
async fn write_includes(
    conn: &mut PgConnection,
    pk: i64,
    user: UserId,
    p: &Prompt,
) -> Result<(), Error> {
    sqlx::query("DELETE FROM prompt_includes WHERE prompt_pk = $1")
        .bind(pk)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let targets = p.include_targets();
    if targets.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO prompt_includes (prompt_pk, user_id, target_slug) SELECT $1, $2, unnest($3::text[])",
    )
    .bind(pk)
    .bind(user.as_uuid())
    .bind(&targets)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn insert_tags(
    conn: &mut PgConnection,
    pk: i64,
    user: UserId,
    tags: &[String],
) -> Result<(), Error> {
    if tags.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO prompt_tags (user_id, tag, prompt_pk) SELECT $1, unnest($2::text[]), $3",
    )
    .bind(user.as_uuid())
    .bind(tags)
    .bind(pk)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

fn push_filters(qb: &mut QueryBuilder<Postgres>, filters: &Filters, skip_tags: usize) {
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

/// ` FROM … WHERE …` selecting the user's prompts that pass `filters`; the first tag, when there
/// is one, drives the query.
fn push_from(qb: &mut QueryBuilder<Postgres>, user: UserId, filters: &Filters) {
    match filters.tags.first() {
        Some(tag) => {
            qb.push(
                " FROM prompt_tags t0 JOIN prompts p ON p.pk = t0.prompt_pk WHERE t0.user_id = ",
            )
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

/// `'t1':* & 't2'` for `to_tsquery('simple', …)`. Core folds terms to letters and digits, so
/// quoting them keeps tsquery syntax out.
fn tsquery(terms: &[SearchTerm]) -> String {
    terms
        .iter()
        .map(|t| {
            let word = t.word.replace(['\'', '\\'], "");
            if t.prefix {
                format!("'{word}':*")
            } else {
                format!("'{word}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

#[async_trait]
impl PromptStore for PostgresStore {
    #[instrument(level = "debug", skip_all, fields(count = prompts.len()))]
    async fn insert_prompts(
        &self,
        user: UserId,
        prompts: &[PromptRecord],
    ) -> Result<Inserted, Error> {
        let mut tx = self.user_tx(user).await?;
        let slugs: Vec<&str> = prompts.iter().map(|r| r.prompt.slug.as_str()).collect();
        let taken: Vec<String> =
            sqlx::query_scalar("SELECT slug FROM prompts WHERE user_id = $1 AND slug = ANY($2)")
                .bind(user.as_uuid())
                .bind(&slugs)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
        if let Some(index) = prompts
            .iter()
            .position(|r| taken.iter().any(|t| t == r.prompt.slug.as_str()))
        {
            return Ok(Inserted::SlugTaken { index });
        }
        // One statement per prompt: the row, then its search vector.
        let insert = format!(
            "WITH p AS (INSERT INTO prompts (id, user_id, slug, pinned, favorite, score, usage_count, last_used_at, \
             created_at, updated_at, version, name, description, tags, variables, content, kind, messages, config, \
             commit_message) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
             RETURNING pk, user_id), \
             s AS (INSERT INTO prompt_search (prompt_pk, user_id, search) SELECT pk, user_id, {} FROM p) \
             SELECT pk FROM p",
            search_vector(21)
        );
        for PromptRecord {
            prompt: p,
            score,
            labels,
            actor,
        } in prompts
        {
            let texts = search_texts(p);
            let pk: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(insert.clone()))
                .bind(p.id.as_uuid())
                .bind(user.as_uuid())
                .bind(p.slug.as_str())
                .bind(p.pinned)
                .bind(p.favorite)
                .bind(score)
                .bind(i64::try_from(p.usage_count).map_err(Error::backend)?)
                .bind(p.last_used_at)
                .bind(p.created_at)
                .bind(p.updated_at)
                .bind(i32::try_from(p.version).map_err(Error::backend)?)
                .bind(&p.name)
                .bind(&p.description)
                .bind(Json(&p.tags))
                .bind(Json(&p.variables))
                .bind(&p.content)
                .bind(p.kind.as_str())
                .bind(Json(&p.messages))
                .bind(Json(&p.config))
                .bind(&p.commit_message)
                .bind(&texts[0])
                .bind(&texts[1])
                .bind(&texts[2])
                .bind(&texts[3])
                .bind(&texts[4])
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
            "SELECT q.* FROM {AS_USER} CROSS JOIN LATERAL \
             (SELECT {PROMPT_COLUMNS} FROM prompts WHERE user_id = s.uid AND slug = $2 OFFSET 0) q"
        )))
        .bind(user.as_uuid())
        .bind(slug)
        .fetch_optional(&self.pool)
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
        let mut tx = self.user_tx(user).await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT pk, {PROMPT_COLUMNS} FROM prompts WHERE user_id = $1 AND slug = $2 FOR UPDATE"
        )))
        .bind(user.as_uuid())
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let pk: i64 = rows::get(&row, "pk")?;
        let current = rows::prompt(&row)?;
        let Some(next) = change(current.clone())? else {
            return Ok(Some(current));
        };
        let p = &next.prompt;
        let text_changed = p.name != current.name
            || p.description != current.description
            || p.content != current.content
            || p.messages != current.messages
            || p.tags != current.tags;
        const SET: &str = "name = $1, description = $2, content = $3, tags = $4, variables = $5, pinned = $6, \
             favorite = $7, usage_count = $8, last_used_at = $9, updated_at = $10, version = $11, score = $12, \
             kind = $14, messages = $15, config = $16, commit_message = $17";
        let update = if text_changed {
            format!(
                "WITH p AS (UPDATE prompts SET {SET} WHERE pk = $13 RETURNING pk) \
                 UPDATE prompt_search SET search = {} WHERE prompt_pk = (SELECT pk FROM p)",
                search_vector(18)
            )
        } else {
            format!("UPDATE prompts SET {SET} WHERE pk = $13")
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(update))
            .bind(&p.name)
            .bind(&p.description)
            .bind(&p.content)
            .bind(Json(&p.tags))
            .bind(Json(&p.variables))
            .bind(p.pinned)
            .bind(p.favorite)
            .bind(i64::try_from(p.usage_count).map_err(Error::backend)?)
            .bind(p.last_used_at)
            .bind(p.updated_at)
            .bind(i32::try_from(p.version).map_err(Error::backend)?)
            .bind(next.score)
            .bind(pk)
            .bind(p.kind.as_str())
            .bind(Json(&p.messages))
            .bind(Json(&p.config))
            .bind(&p.commit_message);
        if text_changed {
            for text in search_texts(p) {
                query = query.bind(text);
            }
        }
        query.execute(&mut *tx).await.map_err(map_err)?;
        if next.new_version {
            insert_version(&mut tx, pk, p).await?;
        }
        if let Some(used) = next.used_version {
            let counted = sqlx::query(
                "UPDATE prompt_versions SET usage_count = usage_count + 1 WHERE prompt_pk = $1 AND version = $2",
            )
            .bind(pk)
            .bind(i32::try_from(used).map_err(Error::backend)?)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
            if counted == 0 {
                return Err(Error::not_found("version", format!("{slug}@{used}")));
            }
        }
        if p.content != current.content || p.messages != current.messages {
            write_includes(&mut tx, pk, user, p).await?;
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
            sqlx::query("DELETE FROM prompt_tags WHERE prompt_pk = $1")
                .bind(pk)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            insert_tags(&mut tx, pk, user, &p.tags).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Some(next.prompt))
    }

    #[instrument(level = "debug", skip_all)]
    async fn delete_prompt(&self, user: UserId, slug: &str) -> Result<bool, Error> {
        let mut tx = self.user_tx(user).await?;
        let done = sqlx::query("DELETE FROM prompts WHERE user_id = $1 AND slug = $2")
            .bind(user.as_uuid())
            .bind(slug)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    #[instrument(level = "debug", skip_all)]
    async fn list_prompts(
        &self,
        user: UserId,
        spec: &ListSpec,
    ) -> Result<Vec<Ranked<PromptSummary>>, Error> {
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {SUMMARY_COLUMNS}, p.score"));
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
            .push_bind(i64::from(spec.limit));
        let mut tx = self.user_tx(user).await?;
        let rows = qb.build().fetch_all(&mut *tx).await.map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(Ranked {
                    item: rows::summary(row)?,
                    score: rows::get(row, "score")?,
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
            qb = QueryBuilder::<Postgres>::new(
                "SELECT p.id, p.slug, p.score, 1.0::float8 AS relevance",
            );
            push_from(&mut qb, user, &spec.filters);
            qb.push(" ORDER BY p.score DESC, p.slug ASC LIMIT ")
                .push_bind(candidates);
        } else if spec.filters.is_empty() {
            // The newest `scan_limit` matches are ranked from the search table alone; only the
            // best `candidates` (and any tied with the last of them) are joined to their
            // prompts for the slug and score. Joining every match first cost half the time of
            // a search matching thousands of prompts.
            qb = QueryBuilder::<Postgres>::new(format!(
                "SELECT p.id, p.slug, p.score, m.relevance FROM (SELECT prompt_pk, relevance FROM \
                 (SELECT s.prompt_pk, ts_rank({RANK_WEIGHTS}, s.search, q)::float8 AS relevance \
                 FROM prompt_search s, to_tsquery('simple', "
            ));
            qb.push_bind(tsquery(&spec.terms))
                .push(") q WHERE s.user_id = ")
                .push_bind(*user.as_uuid())
                .push(" AND s.search @@ q ORDER BY s.prompt_pk DESC LIMIT ")
                .push_bind(i64::try_from(spec.scan_limit).unwrap_or(i64::MAX))
                .push(") r ORDER BY relevance DESC FETCH FIRST ")
                .push_bind(candidates)
                .push(" ROWS WITH TIES) m JOIN prompts p ON p.pk = m.prompt_pk WHERE p.user_id = ")
                .push_bind(*user.as_uuid())
                .push(" ORDER BY m.relevance DESC, p.slug ASC LIMIT ")
                .push_bind(candidates);
        } else {
            // The inner query takes the newest `scan_limit` matches; only those are ranked.
            qb = QueryBuilder::<Postgres>::new(format!(
                "SELECT id, slug, score, relevance FROM (SELECT p.id, p.slug, p.score, \
                 ts_rank({RANK_WEIGHTS}, s.search, q)::float8 AS relevance \
                 FROM prompt_search s JOIN prompts p ON p.pk = s.prompt_pk, to_tsquery('simple', "
            ));
            qb.push_bind(tsquery(&spec.terms))
                .push(") q WHERE s.user_id = ")
                .push_bind(*user.as_uuid())
                .push(" AND s.search @@ q AND p.user_id = ")
                .push_bind(*user.as_uuid());
            push_filters(&mut qb, &spec.filters, 0);
            qb.push(" ORDER BY s.prompt_pk DESC LIMIT ")
                .push_bind(i64::try_from(spec.scan_limit).unwrap_or(i64::MAX))
                .push(") m ORDER BY relevance DESC, slug ASC LIMIT ")
                .push_bind(candidates);
        }
        let mut tx = if spec.terms.is_empty() {
            self.user_tx(user).await?
        } else {
            self.user_tx_custom_plans(user).await?
        };
        let rows = qb.build().fetch_all(&mut *tx).await.map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(SearchCandidate {
                    id: PromptId::from_uuid(rows::get::<Uuid>(row, "id")?),
                    slug: rows::get(row, "slug")?,
                    relevance: rows::get(row, "relevance")?,
                    score: rows::get(row, "score")?,
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
        let ids: Vec<Uuid> = ids.iter().map(|id| *id.as_uuid()).collect();
        let mut tx = self.user_tx(user).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM prompts p WHERE p.user_id = $1 AND p.id = ANY($2)"
        )))
        .bind(user.as_uuid())
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter().map(rows::summary).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn tags(&self, user: UserId) -> Result<Vec<TagCount>, Error> {
        let mut tx = self.user_tx(user).await?;
        let rows = sqlx::query(
            "SELECT tag, COUNT(*) AS n FROM prompt_tags WHERE user_id = $1 GROUP BY tag ORDER BY n DESC, tag ASC",
        )
        .bind(user.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter()
            .map(|row| {
                Ok(TagCount {
                    tag: rows::get(row, "tag")?,
                    count: u64::try_from(rows::get::<i64>(row, "n")?).map_err(Error::backend)?,
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
        let mut tx = self.user_tx(user).await?;
        let prompt: Option<(i64, Uuid)> =
            sqlx::query_as("SELECT pk, id FROM prompts WHERE user_id = $1 AND slug = $2")
                .bind(user.as_uuid())
                .bind(slug)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let Some((pk, id)) = prompt else {
            return Ok(None);
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM prompt_versions \
             WHERE prompt_pk = $1 AND version < $2 ORDER BY version DESC LIMIT $3"
        )))
        .bind(pk)
        .bind(before.map_or(i64::MAX, i64::from))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
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
        let mut tx = self.user_tx(user).await?;
        let row = sqlx::query(
            "SELECT p.id, v.version, v.name, v.description, v.content, v.tags, v.variables, v.created_at, \
             v.kind, v.messages, v.config, v.commit_message, v.usage_count \
             FROM prompts p JOIN prompt_versions v ON v.prompt_pk = p.pk \
             WHERE p.user_id = $1 AND p.slug = $2 AND v.version = $3",
        )
        .bind(user.as_uuid())
        .bind(slug)
        .bind(i64::from(version))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        row.map(|r| rows::version(&r, PromptId::from_uuid(rows::get::<Uuid>(&r, "id")?)))
            .transpose()
    }

    #[instrument(level = "debug", skip_all)]
    async fn export_prompts(
        &self,
        user: UserId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ExportedPrompt>, Error> {
        // One transaction at REPEATABLE READ: a consistent snapshot of the page.
        let mut tx = self.user_snapshot_tx(user).await?;
        let after = after.unwrap_or("");
        let mut prompt_rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT pk, {PROMPT_COLUMNS} FROM prompts WHERE user_id = $1 AND slug > $2 \
             ORDER BY slug LIMIT $3"
        )))
        .bind(user.as_uuid())
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(last) = prompt_rows.last() else {
            tx.commit().await.map_err(map_err)?;
            return Ok(Vec::new());
        };
        let last: String = rows::get(last, "slug")?;
        // The other lists come in prompt_pk order, and are walked side by side with these.
        prompt_rows.sort_by_key(|r| r.try_get::<i64, _>("pk").unwrap_or_default());
        let version_rows = sqlx::query(
            "SELECT v.prompt_pk, v.version, v.name, v.description, v.content, v.tags, v.variables, v.created_at, \
             v.kind, v.messages, v.config, v.commit_message, v.usage_count \
             FROM prompt_versions v JOIN prompts p ON p.pk = v.prompt_pk \
             WHERE p.user_id = $1 AND p.slug > $2 AND p.slug <= $3 ORDER BY v.prompt_pk, v.version",
        )
        .bind(user.as_uuid())
        .bind(after)
        .bind(&last)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let label_rows = sqlx::query(
            "SELECT l.prompt_pk, l.name, l.target, l.updated_at FROM prompt_labels l \
             JOIN prompts p ON p.pk = l.prompt_pk WHERE p.user_id = $1 AND p.slug > $2 AND p.slug <= $3 \
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
             WHERE p.user_id = $1 AND p.slug > $2 AND p.slug <= $3 ORDER BY m.prompt_pk, m.id",
        )
        .bind(user.as_uuid())
        .bind(after)
        .bind(&last)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        let of = |row: &sqlx::postgres::PgRow| row.try_get::<i64, _>("prompt_pk").ok();
        let (mut vi, mut li, mut mi) = (0, 0, 0);
        let mut out = Vec::with_capacity(prompt_rows.len());
        // Every list is in prompt_pk order: walk them side by side.
        for row in &prompt_rows {
            let pk: i64 = rows::get(row, "pk")?;
            let prompt = rows::prompt(row)?;
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
            out.push(item);
        }
        out.sort_by(|a, b| a.prompt.slug.cmp(&b.prompt.slug));
        Ok(out)
    }

    #[instrument(level = "debug", skip_all)]
    async fn dependents(&self, user: UserId, slug: &str) -> Result<Vec<PromptSummary>, Error> {
        let mut tx = self.user_tx(user).await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM prompt_includes i JOIN prompts p ON p.pk = i.prompt_pk \
             WHERE i.user_id = $1 AND i.target_slug = $2 AND p.user_id = $1 ORDER BY p.slug"
        )))
        .bind(user.as_uuid())
        .bind(slug)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows.iter().map(rows::summary).collect()
    }

    #[instrument(level = "debug", skip_all)]
    async fn page_by_slug(
        &self,
        user: UserId,
        spec: &SlugPageSpec,
    ) -> Result<(Vec<PromptSummary>, u64), Error> {
        let filtered = |select: &str| {
            let mut qb = QueryBuilder::<Postgres>::new(select);
            push_from(&mut qb, user, &spec.filters);
            if let Some(label) = &spec.label {
                qb.push(" AND EXISTS (SELECT 1 FROM prompt_labels l WHERE l.prompt_pk = p.pk AND l.name = ")
                    .push_bind(label.clone())
                    .push(")");
            }
            if let Some(from) = spec.updated_from {
                qb.push(" AND p.updated_at >= ").push_bind(from);
            }
            if let Some(to) = spec.updated_to {
                qb.push(" AND p.updated_at < ").push_bind(to);
            }
            qb
        };
        let mut page = filtered(&format!("SELECT {SUMMARY_COLUMNS}"));
        page.push(" ORDER BY p.slug LIMIT ")
            .push_bind(i64::from(spec.limit))
            .push(" OFFSET ")
            .push_bind(i64::try_from(spec.offset).unwrap_or(i64::MAX));
        let mut tx = self.user_tx(user).await?;
        let rows = page.build().fetch_all(&mut *tx).await.map_err(map_err)?;
        let total: i64 = filtered("SELECT COUNT(*)")
            .build_query_scalar()
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
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
        let mut tx = self.user_tx(user).await?;
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
        if i64::from(newest) != i64::from(plan.expected_newest) {
            return Err(Error::conflict(
                "version",
                format!("`{slug}` got a new version meanwhile; try again"),
            ));
        }
        let versions: Vec<i32> = plan
            .versions
            .iter()
            .map(|v| i32::try_from(*v).map_err(Error::backend))
            .collect::<Result<_, _>>()?;
        sqlx::query("DELETE FROM prompt_versions WHERE prompt_pk = $1 AND version = ANY($2)")
            .bind(pk)
            .bind(&versions)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        for label in &plan.remove_labels {
            write_label(&mut tx, pk, label, None, &plan.actor, plan.now).await?;
        }
        if let Some((p, score)) = &plan.new_head {
            let texts = search_texts(p);
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "WITH p AS (UPDATE prompts SET name = $1, description = $2, content = $3, tags = $4, variables = $5, \
                 updated_at = $6, version = $7, score = $8, kind = $9, messages = $10, config = $11, \
                 commit_message = $12 WHERE pk = $13 RETURNING pk) \
                 UPDATE prompt_search SET search = {} WHERE prompt_pk = (SELECT pk FROM p)",
                search_vector(14)
            )))
            .bind(&p.name)
            .bind(&p.description)
            .bind(&p.content)
            .bind(Json(&p.tags))
            .bind(Json(&p.variables))
            .bind(p.updated_at)
            .bind(i32::try_from(p.version).map_err(Error::backend)?)
            .bind(score)
            .bind(p.kind.as_str())
            .bind(Json(&p.messages))
            .bind(Json(&p.config))
            .bind(&p.commit_message)
            .bind(pk)
            .bind(&texts[0])
            .bind(&texts[1])
            .bind(&texts[2])
            .bind(&texts[3])
            .bind(&texts[4])
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query("DELETE FROM prompt_tags WHERE prompt_pk = $1")
                .bind(pk)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            insert_tags(&mut tx, pk, user, &p.tags).await?;
            write_includes(&mut tx, pk, user, p).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Some(()))
    }

    #[instrument(level = "debug", skip_all)]
    async fn folders(&self, user: UserId) -> Result<Vec<FolderCount>, Error> {
        let mut tx = self.user_tx(user).await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT regexp_replace(slug, '/[^/]*$', '') AS folder, COUNT(*) FROM prompts \
             WHERE user_id = $1 AND strpos(slug, '/') > 0 GROUP BY 1 ORDER BY 1",
        )
        .bind(user.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
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
        let mut tx = self.user_tx(user).await?;
        let (prompts, bytes): (i64, i64) = sqlx::query_as(
            "SELECT count(*), coalesce(sum(stored_bytes), 0)::bigint FROM prompts WHERE user_id = $1",
        )
        .bind(user.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let versions: i64 = match slug {
            Some(slug) => sqlx::query_scalar(
                "SELECT count(*) FROM prompt_versions WHERE prompt_pk = \
                 (SELECT pk FROM prompts WHERE user_id = $1 AND slug = $2)",
            )
            .bind(user.as_uuid())
            .bind(slug)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?,
            None => 0,
        };
        tx.commit().await.map_err(map_err)?;
        let n = |v: i64| u64::try_from(v).map_err(Error::backend);
        Ok(Usage {
            prompts: n(prompts)?,
            stored_bytes: n(bytes)?,
            versions: n(versions)?,
        })
    }

    #[instrument(level = "debug", skip_all)]
    async fn rescore_all(&self, scorer: &Scorer<'_>) -> Result<u64, Error> {
        let mut tx = self.system_tx().await?;
        let rows = sqlx::query(
            "SELECT pk, usage_count, favorite, last_used_at, created_at, updated_at FROM prompts",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut pks = Vec::with_capacity(rows.len());
        let mut scores = Vec::with_capacity(rows.len());
        for row in &rows {
            let features = RankFeatures::new(
                u64::try_from(rows::get::<i64>(row, "usage_count")?).unwrap_or_default(),
                rows::get(row, "favorite")?,
                rows::get(row, "created_at")?,
                rows::get(row, "updated_at")?,
                rows::get(row, "last_used_at")?,
            );
            pks.push(rows::get::<i64>(row, "pk")?);
            scores.push(scorer(&features));
        }
        // In slices, so that no statement runs into the statement timeout on a large library;
        // one transaction, so that readers see the old scores or the new ones.
        for (pks, scores) in pks.chunks(RESCORE_BATCH).zip(scores.chunks(RESCORE_BATCH)) {
            sqlx::query(
                "UPDATE prompts p SET score = v.score FROM unnest($1::bigint[], $2::float8[]) AS v(pk, score) \
                 WHERE p.pk = v.pk",
            )
            .bind(pks)
            .bind(scores)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(rows.len() as u64)
    }
}
