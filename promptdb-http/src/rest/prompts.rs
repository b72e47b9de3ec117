//! Prompts, versions, tags.

use promptdb_core::validate::{MAX_BATCH, MAX_RENDER_VALUES};
use std::collections::BTreeMap;

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use promptdb_core::{
    Filters, ListQuery, NewPrompt, Page, Prompt, PromptDb, PromptPatch, PromptSummary, PromptUsage,
    PromptVersion, RenderedPrompt, SearchQuery, TagCount,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, Caller, QueryPairs},
};

/// `GET /prompts`: the ranked list, or a search when `q` is given.
pub(super) async fn list(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    query: QueryPairs,
) -> ApiResult<Json<Page<PromptSummary>>> {
    query.only(&[
        "q", "tag", "pinned", "favorite", "folder", "limit", "cursor",
    ])?;
    let filters = Filters {
        tags: query.at_most("tag", promptdb_core::validate::MAX_TAG_FILTERS)?,
        pinned: query.bool("pinned")?,
        favorite: query.bool("favorite")?,
        folder: query.get("folder").map(str::to_owned),
    };
    let limit = query.u32("limit")?;
    let cursor = query.get("cursor").map(str::to_owned);
    let page = match query.get("q") {
        Some(q) => {
            let search = SearchQuery {
                q: q.to_owned(),
                filters,
                limit,
                cursor,
            };
            db.search_prompts(&me, search).await?
        }
        None => {
            let list = ListQuery {
                filters,
                limit,
                cursor,
            };
            db.list_prompts(&me, list).await?
        }
    };
    Ok(Json(page))
}

/// Body of `POST /prompts`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePrompts {
    /// The prompts to save: all of them, or none if any is invalid or its slug is taken.
    #[serde(deserialize_with = "promptdb_core::bounded::objects::<_, _, MAX_BATCH>")]
    #[schemars(length(min = 1, max = MAX_BATCH))]
    pub prompts: Vec<NewPrompt>,
}

/// Response of `POST /prompts`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct CreatedPrompts {
    /// The saved prompts, in the order given.
    pub prompts: Vec<Prompt>,
}

/// `POST /prompts`: saves a batch, all or nothing.
pub(super) async fn create(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    ApiJson(body): ApiJson<CreatePrompts>,
) -> ApiResult<(StatusCode, Json<CreatedPrompts>)> {
    let prompts = db.save_prompts(&me, body.prompts).await?;
    Ok((StatusCode::CREATED, Json(CreatedPrompts { prompts })))
}

/// `GET /prompts/{slug}`: the prompt's JSON as the cache keeps it (the same text `Json<Prompt>`
/// would write), so a cached prompt is neither copied nor serialized again.
pub(super) async fn get(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    let json = db.get_prompt_json(&me, &slug).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Body::from(Bytes::from_owner(ArcStr(json))),
    )
        .into_response())
}

/// An `Arc<str>` a response body can borrow without copying.
struct ArcStr(std::sync::Arc<str>);

impl AsRef<[u8]> for ArcStr {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// `PATCH /prompts/{slug}`.
pub(super) async fn update(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
    ApiJson(patch): ApiJson<PromptPatch>,
) -> ApiResult<Json<Prompt>> {
    Ok(Json(db.update_prompt(&me, &slug, patch).await?))
}

/// `DELETE /prompts/{slug}`.
pub(super) async fn delete(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    db.delete_prompt(&me, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /prompts/{slug}/uses` (optional).
#[derive(Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UseRequest {
    /// The version used (the one a resolve served), so that A/B variants can be compared; the
    /// newest when absent.
    #[serde(
        deserialize_with = "promptdb_core::bounded::opt_whole",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1, max = u32::MAX))]
    pub version: Option<u32>,
}

/// `POST /prompts/{slug}/uses`, with or without a body.
pub(super) async fn track_use(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<PromptUsage>> {
    // The body is optional: none counts the use for the newest version.
    let body: UseRequest = if body.iter().all(u8::is_ascii_whitespace) {
        UseRequest::default()
    } else {
        crate::extract::parse_json(&body)?
    };
    Ok(Json(db.track_prompt_use(&me, &slug, body.version).await?))
}

/// Body of `POST /prompts/{slug}/render`.
#[derive(Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// Values for the prompt's declared variables.
    #[serde(
        deserialize_with = "promptdb_core::bounded::map::<_, _, MAX_RENDER_VALUES>",
        default
    )]
    #[schemars(extend("maxProperties" = MAX_RENDER_VALUES), inner(length(max = promptdb_core::validate::MAX_VARIABLE_VALUE_CHARS)))]
    pub variables: BTreeMap<String, String>,
}

/// `POST /prompts/{slug}/render`.
pub(super) async fn render(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<RenderRequest>,
) -> ApiResult<Json<RenderedPrompt>> {
    Ok(Json(db.render_prompt(&me, &slug, &body.variables).await?))
}

/// `GET /prompts/{slug}/versions`.
pub(super) async fn versions(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
    query: QueryPairs,
) -> ApiResult<Json<Page<PromptVersion>>> {
    query.only(&["limit", "cursor"])?;
    let page = db
        .prompt_versions(&me, &slug, query.u32("limit")?, query.get("cursor"))
        .await?;
    Ok(Json(page))
}

/// `GET /prompts/{slug}/versions/{version}`.
pub(super) async fn version(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path((slug, version)): Path<(String, String)>,
) -> ApiResult<Json<PromptVersion>> {
    let version: u32 = version.parse().map_err(|_| {
        ApiError::Core(promptdb_core::Error::invalid(
            "version",
            "must be a whole number from 1",
        ))
    })?;
    Ok(Json(db.prompt_version(&me, &slug, version).await?))
}

/// Response of `GET /tags`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct TagList {
    /// Tags with the number of prompts carrying each, most used first.
    pub tags: Vec<TagCount>,
}

/// `GET /tags`.
pub(super) async fn tags(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<Json<TagList>> {
    Ok(Json(TagList {
        tags: db.list_tags(&me).await?,
    }))
}
