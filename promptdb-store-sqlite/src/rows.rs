//! Decoding rows into domain types, and the column lists that go with them.

use chrono::{DateTime, Utc};
use promptdb_core::{
    Draft, DraftFields, Error, Prompt, PromptId, PromptSummary, PromptVersion, Slug, Variable,
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

pub(crate) const PROMPT_COLUMNS: &str = "id, slug, name, description, content, tags, variables, pinned, favorite, usage_count, last_used_at, created_at, updated_at, version";

pub(crate) fn prompt(row: &SqliteRow) -> Result<Prompt, Error> {
    Ok(Prompt {
        id: PromptId::from_uuid(get::<Uuid>(row, "id")?),
        slug: Slug::from_trusted(get(row, "slug")?),
        name: get(row, "name")?,
        description: get(row, "description")?,
        content: get(row, "content")?,
        tags: json(row, "tags")?,
        variables: json::<Vec<Variable>>(row, "variables")?,
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
        content: get(row, "content")?,
        tags: json(row, "tags")?,
        variables: json(row, "variables")?,
        created_at: time(get(row, "created_at")?)?,
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
