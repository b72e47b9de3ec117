//! Decoding rows into domain types, and the column lists that go with them.

use chrono::{DateTime, Utc};
use promptdb_core::{
    Draft, DraftFields, Error, Label, LabelMove, LabelTarget, Prompt, PromptId, PromptKind,
    PromptSummary, PromptVersion, Slug, Variable,
};
use sqlx::{Row, sqlite::SqliteRow};
use uuid::Uuid;

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn time(micros: i64) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| Error::backend(format!("timestamp out of range: {micros}")))
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
    row: &'r SqliteRow,
    column: &str,
) -> Result<T, Error> {
    row.try_get(column).map_err(Error::backend)
}

fn json<T: serde::de::DeserializeOwned>(row: &SqliteRow, column: &str) -> Result<T, Error> {
    let text: &str = get(row, column)?;
    serde_json::from_str(text).map_err(Error::backend)
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(Error::backend)
}

fn opt_time(row: &SqliteRow, column: &str) -> Result<Option<DateTime<Utc>>, Error> {
    get::<Option<i64>>(row, column)?.map(time).transpose()
}

pub(crate) const PROMPT_COLUMNS: &str = "id, slug, name, description, content, tags, variables, pinned, favorite, usage_count, last_used_at, created_at, updated_at, version, kind, messages, config, commit_message";

/// The columns [`version`] reads (from `prompt_versions`).
pub(crate) const VERSION_COLUMNS: &str = "version, name, description, content, tags, variables, created_at, kind, messages, config, commit_message, usage_count";

fn kind(row: &SqliteRow) -> Result<PromptKind, Error> {
    PromptKind::parse("kind", get(row, "kind")?)
}

pub(crate) fn prompt(row: &SqliteRow) -> Result<Prompt, Error> {
    Ok(Prompt {
        id: PromptId::from_uuid(get::<Uuid>(row, "id")?),
        slug: Slug::from_trusted(get(row, "slug")?),
        name: get(row, "name")?,
        description: get(row, "description")?,
        kind: kind(row)?,
        content: get(row, "content")?,
        messages: json(row, "messages")?,
        config: json(row, "config")?,
        tags: json(row, "tags")?,
        variables: json::<Vec<Variable>>(row, "variables")?,
        commit_message: get(row, "commit_message")?,
        pinned: get(row, "pinned")?,
        favorite: get(row, "favorite")?,
        usage_count: u64::try_from(get::<i64>(row, "usage_count")?).map_err(Error::backend)?,
        last_used_at: opt_time(row, "last_used_at")?,
        created_at: time(get(row, "created_at")?)?,
        updated_at: time(get(row, "updated_at")?)?,
        version: u32::try_from(get::<i64>(row, "version")?).map_err(Error::backend)?,
    })
}

pub(crate) fn summary(row: &SqliteRow) -> Result<PromptSummary, Error> {
    Ok(PromptSummary {
        id: PromptId::from_uuid(get::<Uuid>(row, "id")?),
        slug: Slug::from_trusted(get(row, "slug")?),
        name: get(row, "name")?,
        description: get(row, "description")?,
        tags: json(row, "tags")?,
        pinned: get(row, "pinned")?,
        favorite: get(row, "favorite")?,
        usage_count: u64::try_from(get::<i64>(row, "usage_count")?).map_err(Error::backend)?,
        last_used_at: opt_time(row, "last_used_at")?,
        created_at: time(get(row, "created_at")?)?,
        updated_at: time(get(row, "updated_at")?)?,
        version: u32::try_from(get::<i64>(row, "version")?).map_err(Error::backend)?,
    })
}

pub(crate) fn version(row: &SqliteRow, prompt_id: PromptId) -> Result<PromptVersion, Error> {
    Ok(PromptVersion {
        prompt_id,
        version: u32::try_from(get::<i64>(row, "version")?).map_err(Error::backend)?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        kind: kind(row)?,
        content: get(row, "content")?,
        messages: json(row, "messages")?,
        config: json(row, "config")?,
        tags: json(row, "tags")?,
        variables: json(row, "variables")?,
        commit_message: get(row, "commit_message")?,
        usage_count: u64::try_from(get::<i64>(row, "usage_count")?).map_err(Error::backend)?,
        labels: Vec::new(),
        created_at: time(get(row, "created_at")?)?,
    })
}

/// A `prompt_labels` row (`name, target, updated_at`).
pub(crate) fn label(row: &SqliteRow) -> Result<Label, Error> {
    Ok(Label {
        name: get(row, "name")?,
        target: json(row, "target")?,
        protected: false,
        updated_at: time(get(row, "updated_at")?)?,
    })
}

fn opt_target(row: &SqliteRow, column: &str) -> Result<Option<LabelTarget>, Error> {
    get::<Option<&str>>(row, column)?
        .map(|t| serde_json::from_str(t).map_err(Error::backend))
        .transpose()
}

/// A `label_moves` row.
pub(crate) fn label_move(row: &SqliteRow) -> Result<LabelMove, Error> {
    Ok(LabelMove {
        id: get(row, "id")?,
        label: get(row, "label")?,
        from: opt_target(row, "from_target")?,
        to: opt_target(row, "to_target")?,
        actor: get(row, "actor")?,
        moved_at: time(get(row, "moved_at")?)?,
    })
}

pub(crate) fn draft(row: &SqliteRow) -> Result<Draft, Error> {
    Ok(Draft {
        id: promptdb_core::DraftId::from_uuid(get::<Uuid>(row, "id")?),
        prompt_slug: get::<Option<String>>(row, "prompt_slug")?.map(Slug::from_trusted),
        fields: json::<DraftFields>(row, "fields")?,
        created_at: time(get(row, "created_at")?)?,
        updated_at: time(get(row, "updated_at")?)?,
        expires_at: time(get(row, "expires_at")?)?,
    })
}
