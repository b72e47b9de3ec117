//! The Langfuse-compatible prompt API under `/api/public` (feature `langfuse`): existing code
//! using the Langfuse SDKs (`get_prompt`, `create_prompt`, `update_prompt`, `compile()`, their
//! cache and fallbacks) works against PromptDB by changing the host and the keys.
//!
//! - `GET /v2/prompts/{name}?version=|label=` (neither: `production`), `GET /v2/prompts` (list),
//!   `POST /v2/prompts` (a new version; labels move to it), `PATCH
//!   /v2/prompts/{name}/versions/{version}` (`newLabels`), `DELETE /v2/prompts/{name}?version=|label=`,
//!   and `GET /projects` (the SDKs' auth check).
//! - Names map to slugs by the rule in [`names`]; versions are PromptDB's versions; labels are
//!   PromptDB's labels (`latest` is the newest version; `production` is protected).
//! - `@@@langfusePrompt:name=X|label=L@@@` (or `version=N`) is PromptDB's `{{> x@L}}`.
//! - Errors are `{"message", "error"}`. Refusals that Langfuse answers with 409 answer 400 here:
//!   the SDKs retry 409.
//! - Authentication: HTTP Basic `public:secret`, where the secret is a PromptDB API key and the
//!   public part names it (`pk-pdb-<key id>`; `promptdb keys create --langfuse` prints both).

use std::collections::HashMap;

use axum::{
    Json, Router,
    body::Body,
    extract::{Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{get, patch},
};
use chrono::{DateTime, SecondsFormat, Utc};
use promptdb_core::{
    ChatMessage, ChatRole, Error, Filters, NewPrompt, NewVersion, Principal, PromptConfig,
    PromptDb, PromptKind, ResolveRequest, VersionsToDelete,
    release::LATEST,
    search::SlugPageSpec,
    template,
    validate::{MAX_CONFIG_ENTRIES, MAX_MESSAGES, MAX_TAGS},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json, value::RawValue};

use crate::{
    error::ApiError,
    extract::{Caller, QueryPairs, parse_json},
};

pub mod names;

/// The routes, to nest at `/api/public` behind [`crate::auth::AuthLayer`] with
/// [`crate::auth::Surface::Langfuse`].
pub fn router(db: PromptDb) -> Router {
    Router::new()
        .route("/projects", get(projects))
        .route("/v2/prompts", get(list).post(create))
        .route("/v2/prompts/{name}", get(get_prompt).delete(delete))
        .route(
            "/v2/prompts/{name}/versions/{version}",
            patch(update_labels),
        )
        .with_state(db)
        .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
}

/// Middleware that rewrites PromptDB's error bodies (`{"error": {"code", "message"}}`, from the
/// routes and the authentication layer in front of them) into Langfuse's `{"message", "error"}`:
/// `router.route_layer(auth).layer(axum::middleware::from_fn(langfuse::reshape))`.
pub async fn reshape(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (parts.status, Json(lf_error_body(parts.status, "error"))).into_response();
    };
    let message = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
        v.get("error")
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    match message {
        Some(message) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            let body =
                serde_json::to_vec(&lf_error_body(parts.status, &message)).unwrap_or_default();
            Response::from_parts(parts, Body::from(body))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// Langfuse's error name for a status.
fn error_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 413 | 422 => "InvalidRequestError",
        401 => "UnauthorizedError",
        403 => "AccessDeniedError",
        404 => "LangfuseNotFoundError",
        405 => "MethodNotAllowedError",
        429 => "TooManyRequestsError",
        503 => "ServiceUnavailableError",
        _ => "InternalServerError",
    }
}

fn lf_error_body(status: StatusCode, message: &str) -> Value {
    json!({ "message": message, "error": error_name(status) })
}

/// An error in Langfuse's shape. Invalid input is 400 (not 422), and a conflict is 400 too:
/// the SDKs retry 409.
#[derive(Debug)]
struct LfError(ApiError);

impl From<Error> for LfError {
    fn from(e: Error) -> Self {
        Self(ApiError::Core(e))
    }
}

impl From<ApiError> for LfError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for LfError {
    fn into_response(self) -> Response {
        let status = match self.0.status() {
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => StatusCode::BAD_REQUEST,
            other => other,
        };
        let detail = self.0.detail();
        let mut r = (status, Json(lf_error_body(status, &detail.message))).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        r
    }
}

type LfResult<T> = Result<T, LfError>;

fn bad_request(message: impl Into<String>) -> LfError {
    LfError(ApiError::bad_request(None, message.into()))
}

/// A prompt version as the SDKs read it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LfPrompt {
    id: String,
    created_at: String,
    updated_at: String,
    project_id: String,
    created_by: &'static str,
    name: String,
    version: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    prompt: Value,
    config: Value,
    labels: Vec<String>,
    tags: Vec<String>,
    commit_message: Option<String>,
    resolution_graph: Option<Value>,
    is_active: Option<bool>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn messages_json(messages: &[ChatMessage]) -> Value {
    Value::Array(
        messages
            .iter()
            .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
            .collect(),
    )
}

/// One version in the SDKs' shape.
#[allow(clippy::too_many_arguments)]
fn lf_prompt(
    me: &Principal,
    name: String,
    version: u32,
    kind: PromptKind,
    body: Value,
    config: &PromptConfig,
    labels: Vec<String>,
    tags: Vec<String>,
    commit_message: &str,
    at: DateTime<Utc>,
) -> LfPrompt {
    LfPrompt {
        id: format!("{name}:{version}"),
        created_at: time(at),
        updated_at: time(at),
        project_id: me.user_id().to_string(),
        created_by: "API",
        name,
        version,
        kind: kind.as_str(),
        prompt: body,
        config: Value::Object(config.clone()),
        labels,
        tags,
        commit_message: (!commit_message.is_empty()).then(|| commit_message.to_owned()),
        resolution_graph: None,
        is_active: Some(true),
    }
}

/// `{{> slug@sel}}` written back as Langfuse composition tags.
fn to_langfuse_tags(text: &str) -> String {
    let tags: HashMap<(String, Option<String>), String> = template::includes(text)
        .into_iter()
        .map(|i| {
            let selector = match i.selector {
                Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => format!("version={s}"),
                Some(s) => format!("label={s}"),
                None => format!("label={LATEST}"),
            };
            (
                (i.slug.to_owned(), i.selector.map(str::to_owned)),
                format!("@@@langfusePrompt:name={}|{selector}@@@", i.slug),
            )
        })
        .collect();
    template::expand(text, |i| {
        tags.get(&(i.slug.to_owned(), i.selector.map(str::to_owned)))
            .map(String::as_str)
    })
}

/// Langfuse composition tags (`@@@langfusePrompt:name=X|label=L@@@`, `…|version=N@@@`) as
/// PromptDB includes; malformed tags stay as they are, as in Langfuse.
fn from_langfuse_tags(text: &str) -> String {
    const OPEN: &str = "@@@langfusePrompt:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find("@@@") else { break };
        let inner = &after[..end];
        let include = inner.split_once('|').and_then(|(name, selector)| {
            let name = name.strip_prefix("name=")?;
            let slug = names::slug_for(name).ok()?;
            let selector = match selector.split_once('=')? {
                ("label", l) if !l.is_empty() => l.to_owned(),
                ("version", v) if v.parse::<u32>().is_ok() => v.to_owned(),
                _ => return None,
            };
            Some(format!("{{{{> {slug}@{selector}}}}}"))
        });
        out.push_str(&rest[..start]);
        match include {
            Some(inc) => out.push_str(&inc),
            None => out.push_str(&rest[start..start + OPEN.len() + end + 3]),
        }
        rest = &after[end + 3..];
    }
    out.push_str(rest);
    out
}

/// The slug of `name`, refusing names that are not valid Langfuse names.
fn slug_of(name: &str) -> LfResult<String> {
    Ok(names::slug_for(name)?.to_string())
}

fn not_found(name: &str, what: &str) -> LfError {
    LfError(ApiError::Core(Error::not_found(
        "prompt",
        format!("{name} {what}"),
    )))
}

/// `GET /v2/prompts/{name}?version=|label=|resolve=`.
async fn get_prompt(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(name): Path<String>,
    query: QueryPairs,
) -> LfResult<Json<LfPrompt>> {
    query.only(&["version", "label", "resolve"])?;
    let slug = slug_of(&name)?;
    let (label, version) = (query.get("label").map(str::to_owned), query.u32("version")?);
    if label.is_some() && version.is_some() {
        return Err(bad_request("Cannot specify both version and label"));
    }
    let raw = match query.get("resolve") {
        None | Some("true") => false,
        Some("false") => true,
        Some(_) => return Err(bad_request("resolve must be `true` or `false`")),
    };
    let what = match (&label, version) {
        (Some(l), _) => format!("with label '{l}'"),
        (None, Some(v)) => format!("with version {v}"),
        (None, None) => "with label 'production'".to_owned(),
    };
    let resolved = db
        .resolve(
            &me,
            ResolveRequest {
                slug: slug.clone(),
                label,
                version,
                ..ResolveRequest::default()
            },
        )
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => not_found(&name, &what),
            other => other.into(),
        })?;
    if !names::is_named(&name, &slug, &resolved.name) {
        return Err(not_found(&name, &what));
    }
    let body = if raw {
        // The stored text, includes written back as composition tags.
        let stored = db.prompt_version(&me, &slug, resolved.version).await?;
        match stored.kind {
            PromptKind::Text => Value::String(to_langfuse_tags(&stored.content)),
            PromptKind::Chat => messages_json(
                &stored
                    .messages
                    .iter()
                    .map(|m| ChatMessage::new(m.role, to_langfuse_tags(&m.content)))
                    .collect::<Vec<_>>(),
            ),
        }
    } else {
        match resolved.kind {
            PromptKind::Text => Value::String(resolved.content.clone()),
            PromptKind::Chat => messages_json(&resolved.messages),
        }
    };
    Ok(Json(lf_prompt(
        &me,
        name,
        resolved.version,
        resolved.kind,
        body,
        &resolved.config,
        resolved.labels,
        resolved.tags,
        &resolved.commit_message,
        resolved.created_at,
    )))
}

/// Body of `POST /v2/prompts`, as both SDKs send it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    name: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    /// A string (text) or a list of messages (chat): kept as text until the type is known, so
    /// that nothing is built from an oversized or wrongly typed value.
    prompt: Box<RawValue>,
    #[serde(
        default,
        deserialize_with = "promptdb_core::bounded::opt_json_map::<_, MAX_CONFIG_ENTRIES>"
    )]
    config: Option<PromptConfig>,
    #[serde(
        default,
        deserialize_with = "promptdb_core::bounded::opt_vec::<_, _, MAX_TAGS>"
    )]
    labels: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "promptdb_core::bounded::opt_vec::<_, _, MAX_TAGS>"
    )]
    tags: Option<Vec<String>>,
    #[serde(default)]
    commit_message: Option<String>,
}

/// A chat message as the SDKs send it (JS adds `type: "chatmessage"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InMessage {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// A chat prompt's messages: at most 50, refused at the first one past the limit.
#[derive(Deserialize)]
#[serde(transparent)]
struct InMessages(
    #[serde(deserialize_with = "promptdb_core::bounded::objects::<_, _, MAX_MESSAGES>")]
    Vec<InMessage>,
);

fn chat_messages(raw: &RawValue) -> LfResult<Vec<ChatMessage>> {
    let de = &mut serde_json::Deserializer::from_str(raw.get());
    let InMessages(items) = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { String::new() } else { path };
        bad_request(format!("prompt{at}: {}", e.into_inner()))
    })?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            if m.kind.as_deref() == Some("placeholder") || m.name.is_some() {
                return Err(bad_request(format!(
                    "prompt[{i}]: message placeholders are not supported by PromptDB; send the messages themselves"
                )));
            }
            if !matches!(m.kind.as_deref(), None | Some("chatmessage")) {
                return Err(bad_request(format!(
                    "prompt[{i}].type: must be `chatmessage`"
                )));
            }
            let role = match m.role.as_deref() {
                Some("system") => ChatRole::System,
                Some("user") => ChatRole::User,
                Some("assistant") => ChatRole::Assistant,
                other => {
                    return Err(bad_request(format!(
                        "prompt[{i}].role: `{}` is not one of system, user, assistant",
                        other.unwrap_or_default()
                    )));
                }
            };
            let content = m
                .content
                .ok_or_else(|| bad_request(format!("prompt[{i}].content: required")))?;
            Ok(ChatMessage::new(role, from_langfuse_tags(&content)))
        })
        .collect()
}

/// `POST /v2/prompts`: a new version of `name` (the first creates the prompt); `latest` and the
/// labels given move to it.
async fn create(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    body: axum::body::Bytes,
) -> LfResult<(StatusCode, Json<LfPrompt>)> {
    let body: CreateBody = parse_json(&body)?;
    let slug = slug_of(&body.name)?;
    let kind = match body.kind.as_deref() {
        None | Some("text") => PromptKind::Text,
        Some("chat") => PromptKind::Chat,
        Some(other) => return Err(bad_request(format!("type: `{other}` is not text or chat"))),
    };
    let raw = body.prompt.get();
    let (content, messages) = match (kind, raw.as_bytes().first()) {
        (PromptKind::Text, Some(b'"')) => {
            let text: String =
                serde_json::from_str(raw).map_err(|e| bad_request(format!("prompt: {e}")))?;
            (from_langfuse_tags(&text), Vec::new())
        }
        (PromptKind::Chat, Some(b'[')) => (String::new(), chat_messages(&body.prompt)?),
        (PromptKind::Text, _) => return Err(bad_request("prompt: a text prompt is a string")),
        (PromptKind::Chat, _) => {
            return Err(bad_request("prompt: a chat prompt is a list of messages"));
        }
    };
    let config = body.config.unwrap_or_default();
    let labels: Vec<String> = body
        .labels
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l != LATEST)
        .collect();
    let commit_message = body.commit_message.unwrap_or_default();
    let existing = db.get_prompt(&me, &slug).await;
    let saved = match existing {
        Ok(current) => {
            if !names::is_named(&body.name, &slug, &current.name) {
                return Err(bad_request(format!(
                    "name: `{}` maps to the same PromptDB prompt as `{}` ({slug}); pick another name",
                    body.name, current.name
                )));
            }
            db.create_version(
                &me,
                &slug,
                NewVersion {
                    kind,
                    content,
                    messages,
                    config,
                    tags: body.tags,
                    commit_message,
                    labels,
                },
            )
            .await
            .map_err(|e| match e {
                Error::Invalid { field, reason } if field == "type" => bad_request(format!(
                    "Previous versions have different prompt type: {reason}"
                )),
                other => other.into(),
            })?
        }
        Err(Error::NotFound { .. }) => db
            .save_prompts(
                &me,
                vec![NewPrompt {
                    slug: Some(slug.clone()),
                    name: body.name.clone(),
                    kind,
                    content,
                    messages,
                    config,
                    tags: body.tags.unwrap_or_default(),
                    commit_message,
                    labels,
                    ..NewPrompt::default()
                }],
            )
            .await
            .map_err(unbatch)?
            .remove(0),
        Err(other) => return Err(other.into()),
    };
    let version = db.prompt_version(&me, &slug, saved.version).await?;
    let body = match saved.kind {
        PromptKind::Text => Value::String(to_langfuse_tags(&saved.content)),
        PromptKind::Chat => messages_json(&saved.messages),
    };
    Ok((
        StatusCode::CREATED,
        Json(lf_prompt(
            &me,
            names::name_of(&slug, &saved.name),
            saved.version,
            saved.kind,
            body,
            &saved.config,
            version.labels,
            saved.tags,
            &saved.commit_message,
            saved.updated_at,
        )),
    ))
}

/// An error of a one-prompt batch, without the batch's `prompts[0].` in the field.
fn unbatch(e: Error) -> LfError {
    match e {
        Error::Invalid { field, reason } => {
            let field = field
                .strip_prefix("prompts[0].")
                .unwrap_or(&field)
                .replace("content", "prompt")
                .replace("messages", "prompt");
            Error::invalid(field, reason).into()
        }
        Error::Conflict { reason, .. } => bad_request(format!("name: {reason}")),
        Error::QuotaExceeded { limit, reason } => bad_request(format!("{limit}: {reason}")),
        other => other.into(),
    }
}

/// Body of `PATCH /v2/prompts/{name}/versions/{version}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewLabels {
    new_labels: Vec<String>,
}

/// `PATCH /v2/prompts/{name}/versions/{version}`: moves the labels to that version.
async fn update_labels(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path((name, version)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> LfResult<Json<LfPrompt>> {
    let body: NewLabels = parse_json(&body)?;
    let slug = slug_of(&name)?;
    let version: u32 = version
        .parse()
        .map_err(|_| bad_request("version: must be a whole number from 1"))?;
    if body.new_labels.iter().any(|l| l == LATEST) {
        return Err(bad_request(
            "Label 'latest' is always assigned to the latest prompt version",
        ));
    }
    if body.new_labels.len() > promptdb_core::validate::MAX_TAGS {
        return Err(bad_request("newLabels: at most 20 labels at once"));
    }
    let current = db.get_prompt(&me, &slug).await.map_err(|e| match e {
        Error::NotFound { .. } => not_found(&name, &format!("version {version}")),
        other => other.into(),
    })?;
    if !names::is_named(&name, &slug, &current.name) {
        return Err(not_found(&name, &format!("version {version}")));
    }
    let v = db
        .prompt_version(&me, &slug, version)
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => not_found(&name, &format!("version {version}")),
            other => other.into(),
        })?;
    for label in &body.new_labels {
        db.set_label(
            &me,
            &slug,
            label,
            promptdb_core::LabelTarget::version(version),
        )
        .await?;
    }
    let labels = db.prompt_version(&me, &slug, version).await?.labels;
    let body = match v.kind {
        PromptKind::Text => Value::String(to_langfuse_tags(&v.content)),
        PromptKind::Chat => messages_json(&v.messages),
    };
    Ok(Json(lf_prompt(
        &me,
        names::name_of(&slug, &current.name),
        version,
        v.kind,
        body,
        &v.config,
        labels,
        v.tags,
        &v.commit_message,
        v.created_at,
    )))
}

/// `DELETE /v2/prompts/{name}?version=|label=`.
async fn delete(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(name): Path<String>,
    query: QueryPairs,
) -> LfResult<StatusCode> {
    query.only(&["version", "label"])?;
    let slug = slug_of(&name)?;
    let which = match (query.get("label"), query.u32("version")?) {
        (Some(_), Some(_)) => return Err(bad_request("Cannot specify both version and label")),
        (Some(l), None) => VersionsToDelete::Label(l.to_owned()),
        (None, Some(v)) => VersionsToDelete::Version(v),
        (None, None) => VersionsToDelete::All,
    };
    let current = db.get_prompt(&me, &slug).await.map_err(|e| match e {
        Error::NotFound { .. } => not_found(&name, ""),
        other => other.into(),
    })?;
    if !names::is_named(&name, &slug, &current.name) {
        return Err(not_found(&name, ""));
    }
    db.delete_versions(&me, &slug, which).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One prompt in the list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LfPromptMeta {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    versions: Vec<u32>,
    labels: Vec<String>,
    tags: Vec<String>,
    last_updated_at: String,
    last_config: Value,
}

/// Page numbers of the list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LfMeta {
    page: u64,
    limit: u32,
    total_items: u64,
    total_pages: u64,
}

/// `GET /v2/prompts?name=&label=&tag=&page=&limit=&fromUpdatedAt=&toUpdatedAt=`.
async fn list(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    query: QueryPairs,
) -> LfResult<Json<Value>> {
    query.only(&[
        "name",
        "label",
        "tag",
        "page",
        "limit",
        "fromUpdatedAt",
        "toUpdatedAt",
        "version",
    ])?;
    let page = u64::from(query.u32("page")?.unwrap_or(1));
    if page == 0 {
        return Err(bad_request("page: pages start at 1"));
    }
    let limit = query.u32("limit")?.unwrap_or(10);
    let parse_time = |key: &str| -> LfResult<Option<DateTime<Utc>>> {
        query
            .get(key)
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| bad_request(format!("{key}: not an ISO 8601 date-time")))
            })
            .transpose()
    };
    let label = query.get("label").map(str::to_owned);
    let spec = SlugPageSpec {
        filters: Filters {
            tags: query.all("tag"),
            ..Filters::default()
        },
        label: label.clone(),
        updated_from: parse_time("fromUpdatedAt")?,
        updated_to: parse_time("toUpdatedAt")?,
        offset: (page - 1).saturating_mul(u64::from(limit)),
        limit,
    };
    let (summaries, total) = match query.get("name") {
        // One name is one prompt at most: look it up and apply the filters to it.
        Some(name) => {
            let found = match slug_of(name) {
                Ok(slug) => match db.get_prompt(&me, &slug).await {
                    Ok(p) if names::is_named(name, &slug, &p.name) => Some(p),
                    Ok(_) | Err(Error::NotFound { .. }) => None,
                    Err(e) => return Err(e.into()),
                },
                Err(_) => None,
            };
            let mut items = Vec::new();
            if let Some(p) = found {
                let tags = spec.filters.clone().tags;
                let labelled = match &label {
                    Some(l) => db
                        .version_labels(&me, p.slug.as_str())
                        .await?
                        .iter()
                        .any(|(_, names)| names.contains(l)),
                    None => true,
                };
                let passes = labelled
                    && tags.iter().all(|t| p.tags.contains(&t.to_lowercase()))
                    && spec.updated_from.is_none_or(|f| p.updated_at >= f)
                    && spec.updated_to.is_none_or(|t| p.updated_at < t);
                if passes {
                    items.push(promptdb_core::PromptSummary::from(&p));
                }
            }
            let n = items.len() as u64;
            (if page == 1 { items } else { Vec::new() }, n)
        }
        None => db.prompts_by_slug(&me, spec).await?,
    };
    let mut data = Vec::with_capacity(summaries.len());
    for s in summaries {
        let prompt = db.get_prompt(&me, s.slug.as_str()).await?;
        let numbered = db.version_labels(&me, s.slug.as_str()).await?;
        let chosen: Vec<&(u32, Vec<String>)> = numbered
            .iter()
            .filter(|(_, labels)| label.as_ref().is_none_or(|l| labels.contains(l)))
            .collect();
        let mut labels: Vec<String> = chosen.iter().flat_map(|(_, l)| l.clone()).collect();
        labels.sort();
        labels.dedup();
        data.push(LfPromptMeta {
            name: names::name_of(s.slug.as_str(), &prompt.name),
            kind: prompt.kind.as_str(),
            versions: chosen.iter().map(|(v, _)| *v).collect(),
            labels,
            tags: prompt.tags,
            last_updated_at: time(prompt.updated_at),
            last_config: Value::Object(prompt.config),
        });
    }
    let meta = LfMeta {
        page,
        limit,
        total_items: total,
        total_pages: total.div_ceil(u64::from(limit.max(1))),
    };
    Ok(Json(
        json!({ "data": data, "meta": meta, "pagination": meta }),
    ))
}

/// `GET /projects`: the one "project" a key sees, the caller's library.
async fn projects(Caller(me): Caller) -> Json<Value> {
    let id = me.user_id().to_string();
    Json(json!({
        "data": [{
            "id": id,
            "name": "PromptDB",
            "organization": { "id": id, "name": "PromptDB" },
            "metadata": {},
        }]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composition_tags_map_both_ways() {
        let lf = "A @@@langfusePrompt:name=tone|label=production@@@ B @@@langfusePrompt:name=Base Rules|version=2@@@ C @@@langfusePrompt:bad@@@";
        let pdb = from_langfuse_tags(lf);
        let base = names::slug_for("Base Rules").unwrap();
        assert_eq!(
            pdb,
            format!("A {{{{> tone@production}}}} B {{{{> {base}@2}}}} C @@@langfusePrompt:bad@@@")
        );
        assert_eq!(
            to_langfuse_tags("x {{> tone@production}} y {{> a/b}} z {{> c@3}}"),
            "x @@@langfusePrompt:name=tone|label=production@@@ y @@@langfusePrompt:name=a/b|label=latest@@@ z @@@langfusePrompt:name=c|version=3@@@"
        );
    }
}
