//! Harvest: the review queue, and transcripts uploaded for the extractor.

use std::sync::LazyLock;

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
};
use promptdb_core::{
    Error, PromptDb,
    harvest::{
        AcceptCandidate, Accepted, Candidate, CandidateId, Harvested, Submission,
        extract::ExtractStats,
        transcript::{Format, ReadStats},
    },
};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Caller, QueryPairs},
};

/// The largest transcript `POST /harvest` takes. Bigger archives: `promptdb harvest`, which
/// reads files of any size on the user's machine.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// The most time one upload spends comparing messages word by word; past it, only identical
/// instructions are grouped.
const GROUPING_BUDGET: std::time::Duration = std::time::Duration::from_secs(1);

/// The most groups one upload keeps (each holds an instruction of up to 4,000 characters).
const MAX_UPLOAD_GROUPS: usize = 2_000;

/// Transcripts read at once; more wait their turn (each takes a blocking thread for a fraction
/// of a second per megabyte).
static READERS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

/// Response of `GET /candidates`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct CandidateList {
    /// Candidates waiting for review, best first.
    pub candidates: Vec<Candidate>,
    /// How many wait in all.
    pub pending: u64,
}

/// Response of `POST /harvest`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct HarvestReport {
    /// The format read.
    pub format: Format,
    /// What reading found (records, user messages, malformed and oversized records skipped).
    pub read: ReadStats,
    /// What grouping found.
    pub extract: ExtractStats,
    /// What reached the review queue.
    pub harvested: Harvested,
}

fn candidate_id(id: &str) -> ApiResult<CandidateId> {
    Ok(CandidateId::parse("id", id)?)
}

/// `GET /candidates`.
pub(super) async fn list(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    query: QueryPairs,
) -> ApiResult<Json<CandidateList>> {
    query.only(&["limit", "offset"])?;
    let candidates = db
        .list_candidates(&me, query.u32("offset")?, query.u32("limit")?)
        .await?;
    let pending = db.pending_candidates(&me).await?;
    Ok(Json(CandidateList {
        candidates,
        pending,
    }))
}

/// `POST /candidates`: queue what a harvest found.
pub(super) async fn submit(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    ApiJson(body): ApiJson<Submission>,
) -> ApiResult<(StatusCode, Json<Harvested>)> {
    Ok((
        StatusCode::CREATED,
        Json(db.submit_candidates(&me, body).await?),
    ))
}

/// `GET /candidates/{id}`.
pub(super) async fn get(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Candidate>> {
    Ok(Json(db.get_candidate(&me, candidate_id(&id)?).await?))
}

/// `POST /candidates/{id}/accept`.
pub(super) async fn accept(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AcceptCandidate>,
) -> ApiResult<Json<Accepted>> {
    let id = candidate_id(&id)?;
    Ok(Json(db.accept_candidate(&me, id, body).await?))
}

/// `POST /candidates/{id}/dismiss`.
pub(super) async fn dismiss(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    db.dismiss_candidate(&me, candidate_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The format a `Content-Type` names: `application/x-ndjson` (or `application/jsonl`) for Claude
/// Code session logs, `application/json` for a ChatGPT `conversations.json`, `text/markdown` and
/// `text/plain` for chat logs.
pub(super) fn format_of(content_type: Option<&str>) -> Option<Format> {
    let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => {
            Some(Format::ClaudeCode)
        }
        "application/json" => Some(Format::Chatgpt),
        "text/markdown" => Some(Format::Markdown),
        "text/plain" => Some(Format::Text),
        _ => None,
    }
}

/// `POST /harvest`: one transcript file as the body, its format named by the `Content-Type`.
/// The extractor runs on a blocking thread and what it proposes is queued, all or nothing.
pub(super) async fn upload(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    query: QueryPairs,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<HarvestReport>)> {
    query.only(&["name"])?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = format_of(content_type).ok_or_else(|| ApiError::BadRequest {
        field: Some("content-type".into()),
        message: "send the transcript as application/x-ndjson (a Claude Code .jsonl session log), application/json (a ChatGPT conversations.json), text/markdown or text/plain (a chat log)".into(),
    })?;
    me.can_write()
        .then_some(())
        .ok_or_else(|| Error::forbidden("this credential is read-only"))?;
    let name = query.get("name").unwrap_or("upload").to_owned();
    if name.chars().count() > promptdb_core::harvest::MAX_SOURCE_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(Error::invalid("name", "must be one line of at most 200 characters").into());
    }
    let body: Bytes = axum::body::to_bytes(body, MAX_UPLOAD_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_UPLOAD_BYTES))?;
    let _permit = READERS
        .acquire()
        .await
        .map_err(|_| Error::Unavailable("the server is shutting down".into()))?;
    let source = name.clone();
    let found = tokio::task::spawn_blocking(move || {
        promptdb_core::harvest::extract_within(
            [(format, &body[..], source)],
            Some((GROUPING_BUDGET, MAX_UPLOAD_GROUPS)),
        )
    })
    .await
    .map_err(Error::backend)?
    .map_err(|e| ApiError::BadRequest {
        field: Some("body".into()),
        message: format!("`{name}`: {e}"),
    })?;
    let harvested = db
        .queue_proposals(&me, format.into(), &name, found.proposals)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(HarvestReport {
            format,
            read: found.read,
            extract: found.extract,
            harvested,
        }),
    ))
}
