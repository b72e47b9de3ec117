//! The caller's account: who am I, preferences, API keys, export, deletion.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
};
use chrono::{DateTime, Utc};
use promptdb_core::{
    ApiKey, ApiKeyId, CreatedApiKey, Export, NewApiKey, Preferences, PreferencesInput, PromptDb,
    Scope, UserId,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiResult,
    extract::{ApiJson, Caller},
};

/// Response of `GET /me`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct Me {
    /// The user's id.
    pub id: UserId,
    /// Display name.
    pub display_name: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// What the credential used for this request may do.
    pub scopes: Vec<Scope>,
}

/// `GET /me`.
pub(super) async fn me(State(db): State<PromptDb>, Caller(me): Caller) -> ApiResult<Json<Me>> {
    let user = db.me(&me).await?;
    let mut scopes = vec![Scope::Read];
    if me.can_write() {
        scopes.push(Scope::Write);
    }
    Ok(Json(Me {
        id: user.id,
        display_name: user.display_name,
        created_at: user.created_at,
        scopes,
    }))
}

/// `DELETE /me`: deletes the account and everything in it.
pub(super) async fn delete_account(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<StatusCode> {
    db.delete_user(&me).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /export`: everything the caller owns, as a download.
pub(super) async fn export(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<(HeaderMap, Json<Export>)> {
    let export = db.export_user(&me).await?;
    let mut headers = HeaderMap::new();
    let name = format!(
        "attachment; filename=\"promptdb-export-{}.json\"",
        export.exported_at.format("%Y%m%d-%H%M%S")
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok((headers, Json(export)))
}

/// `GET /preferences`.
pub(super) async fn preferences(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<Json<Preferences>> {
    Ok(Json(db.preferences(&me).await?))
}

/// `PUT /preferences`: replaces all preferences.
pub(super) async fn replace_preferences(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    ApiJson(PreferencesInput(body)): ApiJson<PreferencesInput>,
) -> ApiResult<Json<Preferences>> {
    Ok(Json(db.replace_preferences(&me, body).await?))
}

/// `PATCH /preferences`: merges keys; `null` removes one.
pub(super) async fn merge_preferences(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    ApiJson(PreferencesInput(body)): ApiJson<PreferencesInput>,
) -> ApiResult<Json<Preferences>> {
    Ok(Json(db.set_preferences(&me, body).await?))
}

/// Response of `GET /keys`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct KeyList {
    /// The caller's API keys, newest first, without secrets.
    pub keys: Vec<ApiKey>,
}

/// `GET /keys`.
pub(super) async fn keys(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<Json<KeyList>> {
    Ok(Json(KeyList {
        keys: db.list_api_keys(&me).await?,
    }))
}

/// `POST /keys`: the secret is in this response only.
pub(super) async fn create_key(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    ApiJson(body): ApiJson<NewApiKey>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    Ok((
        StatusCode::CREATED,
        Json(db.create_api_key(&me, body).await?),
    ))
}

/// `DELETE /keys/{id}`.
pub(super) async fn revoke_key(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    db.revoke_api_key(&me, ApiKeyId::parse("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
