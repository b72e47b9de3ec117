//! Decoding rows into domain types.

use promptdb_core::{
    ChatMessage, Draft, DraftFields, DraftId, Error, Label, LabelMove, LabelTarget, Prompt,
    PromptConfig, PromptId, PromptKind, PromptSummary, PromptVersion, Slug, Variable,
};
use sqlx::{Row, postgres::PgRow, types::Json};
use uuid::Uuid;

pub(crate) fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    column: &str,
) -> Result<T, Error> {
    row.try_get(column).map_err(Error::backend)
}

fn count(row: &PgRow, column: &str) -> Result<u64, Error> {
    u64::try_from(get::<i64>(row, column)?).map_err(Error::backend)
}

fn version_number(row: &PgRow) -> Result<u32, Error> {
    u32::try_from(get::<i32>(row, "version")?).map_err(Error::backend)
}

/// The columns [`prompt`] reads.
pub(crate) const PROMPT_COLUMNS: &str = "id, slug, name, description, content, tags, variables, pinned, favorite, usage_count, \
     last_used_at, created_at, updated_at, version, kind, messages, config, commit_message";

/// The columns [`version`] reads (from `prompt_versions`).
pub(crate) const VERSION_COLUMNS: &str = "version, name, description, content, tags, variables, created_at, kind, messages, \
     config, commit_message, usage_count";

fn kind(row: &PgRow) -> Result<PromptKind, Error> {
    PromptKind::parse("kind", get(row, "kind")?)
}

pub(crate) fn prompt(row: &PgRow) -> Result<Prompt, Error> {
    Ok(Prompt {
        id: PromptId::from_uuid(get::<Uuid>(row, "id")?),
        slug: Slug::from_trusted(get(row, "slug")?),
        name: get(row, "name")?,
        description: get(row, "description")?,
        kind: kind(row)?,
        content: get(row, "content")?,
        messages: get::<Json<Vec<ChatMessage>>>(row, "messages")?.0,
        config: get::<Json<PromptConfig>>(row, "config")?.0,
        tags: get::<Json<Vec<String>>>(row, "tags")?.0,
        variables: get::<Json<Vec<Variable>>>(row, "variables")?.0,
        commit_message: get(row, "commit_message")?,
        pinned: get(row, "pinned")?,
        favorite: get(row, "favorite")?,
        usage_count: count(row, "usage_count")?,
        last_used_at: get(row, "last_used_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        version: version_number(row)?,
    })
}

pub(crate) fn summary(row: &PgRow) -> Result<PromptSummary, Error> {
    Ok(PromptSummary {
        id: PromptId::from_uuid(get::<Uuid>(row, "id")?),
        slug: Slug::from_trusted(get(row, "slug")?),
        name: get(row, "name")?,
        description: get(row, "description")?,
        tags: get::<Json<Vec<String>>>(row, "tags")?.0,
        pinned: get(row, "pinned")?,
        favorite: get(row, "favorite")?,
        usage_count: count(row, "usage_count")?,
        last_used_at: get(row, "last_used_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        version: version_number(row)?,
    })
}

pub(crate) fn version(row: &PgRow, prompt_id: PromptId) -> Result<PromptVersion, Error> {
    Ok(PromptVersion {
        prompt_id,
        version: version_number(row)?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        kind: kind(row)?,
        content: get(row, "content")?,
        messages: get::<Json<Vec<ChatMessage>>>(row, "messages")?.0,
        config: get::<Json<PromptConfig>>(row, "config")?.0,
        tags: get::<Json<Vec<String>>>(row, "tags")?.0,
        variables: get::<Json<Vec<Variable>>>(row, "variables")?.0,
        commit_message: get(row, "commit_message")?,
        usage_count: count(row, "usage_count")?,
        labels: Vec::new(),
        created_at: get(row, "created_at")?,
    })
}

/// A `prompt_labels` row (`name, target, updated_at`).
pub(crate) fn label(row: &PgRow) -> Result<Label, Error> {
    Ok(Label {
        name: get(row, "name")?,
        target: get::<Json<LabelTarget>>(row, "target")?.0,
        protected: false,
        updated_at: get(row, "updated_at")?,
    })
}

/// A `label_moves` row.
pub(crate) fn label_move(row: &PgRow) -> Result<LabelMove, Error> {
    Ok(LabelMove {
        id: get(row, "id")?,
        label: get(row, "label")?,
        from: get::<Option<Json<LabelTarget>>>(row, "from_target")?.map(|j| j.0),
        to: get::<Option<Json<LabelTarget>>>(row, "to_target")?.map(|j| j.0),
        actor: get(row, "actor")?,
        moved_at: get(row, "moved_at")?,
    })
}

pub(crate) fn draft(row: &PgRow) -> Result<Draft, Error> {
    Ok(Draft {
        id: DraftId::from_uuid(get::<Uuid>(row, "id")?),
        prompt_slug: get::<Option<String>>(row, "prompt_slug")?.map(Slug::from_trusted),
        fields: get::<Json<DraftFields>>(row, "fields")?.0,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        expires_at: get(row, "expires_at")?,
    })
}
