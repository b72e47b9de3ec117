//! Drafts.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use promptdb_core::{Draft, DraftId, DraftSummary, PromptDb, SaveDraft};
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiResult,
    extract::{ApiJson, Caller},
};

/// Response of `GET /drafts`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct DraftList {
    /// Live drafts, most recently saved first.
    pub drafts: Vec<Draft>,
}

fn draft_id(id: &str) -> ApiResult<DraftId> {
    Ok(DraftId::parse("id", id)?)
}

/// `GET /drafts`.
pub(super) async fn list(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<Json<DraftList>> {
    Ok(Json(DraftList {
        drafts: db.list_drafts(&me).await?,
    }))
}

/// `POST /drafts`: create, or update (and extend) the draft with the given id.
pub(super) async fn save(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    ApiJson(body): ApiJson<SaveDraft>,
) -> ApiResult<Json<Draft>> {
    Ok(Json(db.save_draft(&me, body).await?))
}

/// `GET /drafts/summary`.
pub(super) async fn summary(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<Json<DraftSummary>> {
    Ok(Json(db.draft_summary(&me).await?))
}

/// `GET /drafts/{id}`.
pub(super) async fn get(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Draft>> {
    Ok(Json(db.get_draft(&me, draft_id(&id)?).await?))
}

/// `DELETE /drafts/{id}`.
pub(super) async fn delete(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    db.delete_draft(&me, draft_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
