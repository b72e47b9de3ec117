//! Webhooks: the caller's URLs that are told when their prompts change (see
//! [`promptdb_core::webhook`]). `promptdb serve` delivers.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use promptdb_core::{
    PromptDb,
    webhook::{CreatedWebhook, Delivery, NewWebhook, Webhook, WebhookId, WebhookPatch},
};
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiResult,
    extract::{ApiJson, Caller, QueryPairs},
};

/// Response of `GET /webhooks`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct WebhookList {
    /// The caller's webhooks, oldest first, without secrets.
    pub webhooks: Vec<Webhook>,
}

/// Response of `GET /webhooks/{id}/deliveries`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct DeliveryList {
    /// Delivery attempts, newest first (kept for seven days).
    pub deliveries: Vec<Delivery>,
}

/// `GET /webhooks`.
pub(super) async fn list(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<Json<WebhookList>> {
    Ok(Json(WebhookList {
        webhooks: db.list_webhooks(&me).await?,
    }))
}

/// `POST /webhooks`: the signing secret is in this response only.
pub(super) async fn create(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    ApiJson(body): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    Ok((
        StatusCode::CREATED,
        Json(db.create_webhook(&me, body).await?),
    ))
}

/// `GET /webhooks/{id}`.
pub(super) async fn get(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Webhook>> {
    Ok(Json(
        db.get_webhook(&me, WebhookId::parse("id", &id)?).await?,
    ))
}

/// `PATCH /webhooks/{id}`.
pub(super) async fn update(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WebhookPatch>,
) -> ApiResult<Json<Webhook>> {
    let id = WebhookId::parse("id", &id)?;
    Ok(Json(db.update_webhook(&me, id, body).await?))
}

/// `DELETE /webhooks/{id}`.
pub(super) async fn delete(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    db.delete_webhook(&me, WebhookId::parse("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /webhooks/{id}/deliveries?limit=`.
pub(super) async fn deliveries(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
    query: QueryPairs,
) -> ApiResult<Json<DeliveryList>> {
    query.only(&["limit"])?;
    let id = WebhookId::parse("id", &id)?;
    let limit = query.u32("limit")?;
    Ok(Json(DeliveryList {
        deliveries: db.webhook_deliveries(&me, id, limit).await?,
    }))
}
