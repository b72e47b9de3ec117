//! The caller's account: who am I, preferences, API keys, export, deletion.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
};
use chrono::{DateTime, Utc};
use promptdb_core::{
    ApiKey, ApiKeyId, CreatedApiKey, NewApiKey, Preferences, PreferencesInput, PromptDb, Scope,
    UserId,
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

/// `GET /export`: everything the caller owns, as a download. Streamed: the document's head
/// (user, drafts, preferences), then the prompts a page at a time ([`PromptDb::export_page`]),
/// so that the server's memory grows with a page, not with the library. A failure before the
/// first byte is an ordinary error response; one after it cuts the body short, which no JSON
/// parser accepts.
pub(super) async fn export(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse as _;
    let header_doc = db.export_header(&me).await?;
    let first = db.export_page(&me, None).await?;
    let mut head = serde_json::to_value(&header_doc).map_err(promptdb_core::Error::backend)?;
    if let Some(fields) = head.as_object_mut() {
        fields.remove("prompts");
    }
    let mut head = serde_json::to_string(&head).map_err(promptdb_core::Error::backend)?;
    head.pop(); // the closing brace: the prompts follow
    head.push_str(",\"prompts\":[");
    let name = format!(
        "attachment; filename=\"promptdb-export-{}.json\"",
        header_doc.exported_at.format("%Y%m%d-%H%M%S")
    );

    enum Next {
        Head(String, Vec<promptdb_core::export::ExportedPrompt>),
        Page(String),
        Tail,
        Done,
    }
    let pages = futures::stream::unfold(Next::Head(head, first), move |next| {
        let (db, me) = (db.clone(), me.clone());
        async move {
            let (mut out, page, first) = match next {
                Next::Done => return None,
                Next::Tail => {
                    return Some((
                        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"]}")),
                        Next::Done,
                    ));
                }
                Next::Head(head, page) => (head.into_bytes(), page, true),
                Next::Page(after) => match db.export_page(&me, Some(&after)).await {
                    Ok(page) if page.is_empty() => {
                        return Some((Ok(axum::body::Bytes::from_static(b"]}")), Next::Done));
                    }
                    Ok(page) => (Vec::new(), page, false),
                    Err(e) => {
                        tracing::warn!(error = %e, "export cut short");
                        return Some((Err(std::io::Error::other(e.to_string())), Next::Done));
                    }
                },
            };
            for (i, p) in page.iter().enumerate() {
                if i > 0 || !first {
                    out.push(b',');
                }
                if let Err(e) = serde_json::to_writer(&mut out, p) {
                    return Some((Err(std::io::Error::other(e)), Next::Done));
                }
            }
            let next = match (page.len() < promptdb_core::EXPORT_PAGE, page.last()) {
                (false, Some(last)) => Next::Page(last.prompt.slug.to_string()),
                _ => Next::Tail,
            };
            Some((Ok(axum::body::Bytes::from(out)), next))
        }
    });
    let mut response = axum::body::Body::from_stream(pages).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
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
