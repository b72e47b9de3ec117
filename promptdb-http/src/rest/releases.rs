//! Releases over REST: labels and their history, resolve (one and many), diffs, restoring a
//! version, dependents, folders.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use promptdb_core::validate::MAX_RESOLVE_BATCH;
use promptdb_core::{
    Error, Label, LabelMove, LabelTarget, Page, Prompt, PromptDb, PromptSummary, Release,
    ResolveRequest, Resolved, Snapshot, diff::VersionDiff, folder::Folder,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ApiResult, ErrorDetail},
    extract::{ApiJson, Caller, QueryPairs},
};

/// A version number from a path segment.
pub(super) fn version_number(field: &str, raw: &str) -> Result<u32, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::Core(Error::invalid(field, "must be a whole number from 1")))
}

/// Response of `GET /prompts/{slug}/labels`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct LabelList {
    /// The prompt's labels by name (`latest` is not listed: it always names the newest version).
    pub labels: Vec<Label>,
}

/// `GET /prompts/{slug}/labels`.
pub(super) async fn labels(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<LabelList>> {
    Ok(Json(LabelList {
        labels: db.labels(&me, &slug).await?,
    }))
}

/// `PUT /prompts/{slug}/labels/{label}`: point the label at a version or a split.
pub(super) async fn set_label(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path((slug, label)): Path<(String, String)>,
    ApiJson(target): ApiJson<LabelTarget>,
) -> ApiResult<Json<LabelMove>> {
    Ok(Json(db.set_label(&me, &slug, &label, target).await?))
}

/// `DELETE /prompts/{slug}/labels/{label}`.
pub(super) async fn remove_label(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path((slug, label)): Path<(String, String)>,
) -> ApiResult<Json<LabelMove>> {
    Ok(Json(db.remove_label(&me, &slug, &label).await?))
}

/// `POST /prompts/{slug}/labels/{label}/rollback`.
pub(super) async fn rollback_label(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path((slug, label)): Path<(String, String)>,
) -> ApiResult<Json<LabelMove>> {
    Ok(Json(db.rollback_label(&me, &slug, &label).await?))
}

/// `GET /prompts/{slug}/label-moves?label=&limit=&cursor=`.
pub(super) async fn label_moves(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
    query: QueryPairs,
) -> ApiResult<Json<Page<LabelMove>>> {
    query.only(&["label", "limit", "cursor"])?;
    Ok(Json(
        db.label_history(
            &me,
            &slug,
            query.get("label"),
            query.u32("limit")?,
            query.get("cursor"),
        )
        .await?,
    ))
}

/// Body of `POST /prompts/{slug}/versions/{version}/restore`.
#[derive(Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// The new version's commit message (default `Restore version N`).
    #[serde(default)]
    #[schemars(pattern(promptdb_core::validate::MULTI_LINE_PATTERN), length(max = promptdb_core::validate::MAX_COMMIT_MESSAGE_CHARS))]
    pub commit_message: Option<String>,
}

/// `POST /prompts/{slug}/versions/{version}/restore`: the old version's content as a new one.
pub(super) async fn restore(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path((slug, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<RestoreRequest>,
) -> ApiResult<Json<Prompt>> {
    let version = version_number("version", &version)?;
    Ok(Json(
        db.restore_version(&me, &slug, version, body.commit_message.as_deref())
            .await?,
    ))
}

/// `GET /prompts/{slug}/diff?from=&to=`.
pub(super) async fn diff(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
    query: QueryPairs,
) -> ApiResult<Json<VersionDiff>> {
    query.only(&["from", "to"])?;
    let need = |key: &str| -> Result<u32, ApiError> {
        query
            .u32(key)?
            .ok_or_else(|| ApiError::Core(Error::invalid(key, "required: a version number")))
    };
    let (from, to) = (need("from")?, need("to")?);
    Ok(Json(db.diff_versions(&me, &slug, from, to).await?))
}

/// Response of `GET /prompts/{slug}/dependents`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct Dependents {
    /// The prompts whose newest version includes this one (`{{> slug}}`).
    pub prompts: Vec<PromptSummary>,
}

/// `GET /prompts/{slug}/dependents`.
pub(super) async fn dependents(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Dependents>> {
    Ok(Json(Dependents {
        prompts: db.dependents(&me, &slug).await?,
    }))
}

/// Response of `GET /folders`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct FolderList {
    /// Top-level folders with their subfolders and prompt counts.
    pub folders: Vec<Folder>,
}

/// `GET /folders`.
pub(super) async fn folders(
    State(db): State<PromptDb>,
    Caller(me): Caller,
) -> ApiResult<Json<FolderList>> {
    Ok(Json(FolderList {
        folders: db.folders(&me).await?,
    }))
}

/// `GET /resolve/{slug}?label=|version=&subject=`: the prompt as an application gets it.
pub(super) async fn resolve(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
    query: QueryPairs,
) -> ApiResult<Json<Resolved>> {
    query.only(&["label", "version", "subject"])?;
    let request = ResolveRequest {
        slug,
        label: query.get("label").map(str::to_owned),
        version: query.u32("version")?,
        subject: query.get("subject").map(str::to_owned),
        variables: None,
    };
    Ok(Json(db.resolve(&me, request).await?))
}

/// `GET /releases/{slug}?label=|version=`: the prompt's release, what a client-side resolver
/// caches (the label's target and every version it names).
pub(super) async fn release(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    Path(slug): Path<String>,
    query: QueryPairs,
) -> ApiResult<Json<Release>> {
    query.only(&["label", "version"])?;
    let version = query.u32("version")?;
    Ok(Json(
        db.release(&me, &slug, query.get("label"), version).await?,
    ))
}

/// `GET /snapshot?label=&folder=`: every prompt at a label as one bundle with a content hash.
pub(super) async fn snapshot(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    query: QueryPairs,
) -> ApiResult<Json<Snapshot>> {
    query.only(&["label", "folder"])?;
    let label = query
        .get("label")
        .unwrap_or(promptdb_core::release::PRODUCTION);
    let folder = query.get("folder").map(str::to_owned);
    Ok(Json(db.snapshot(&me, label, folder).await?))
}

/// Body of `POST /resolve`.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveMany {
    /// Up to 50 prompts, each at a label (`production` by default) or a version, optionally
    /// rendered with variables.
    #[serde(deserialize_with = "promptdb_core::bounded::objects::<_, _, MAX_RESOLVE_BATCH>")]
    #[schemars(length(min = 1, max = MAX_RESOLVE_BATCH))]
    pub prompts: Vec<ResolveRequest>,
}

/// One answer of `POST /resolve`: the prompt, or why not.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ResolveResult {
    /// Resolved.
    Ok(Box<Resolved>),
    /// Not resolved.
    Err {
        /// The slug asked for.
        slug: String,
        /// Why not.
        error: ErrorDetail,
    },
}

/// Response of `POST /resolve`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Resolutions {
    /// One answer per prompt asked for, in the same order.
    pub results: Vec<ResolveResult>,
}

/// `POST /resolve`: many prompts in one call; each succeeds or fails on its own.
pub(super) async fn resolve_many(
    State(db): State<PromptDb>,
    Caller(me): Caller,
    ApiJson(body): ApiJson<ResolveMany>,
) -> ApiResult<(StatusCode, Json<Resolutions>)> {
    let slugs: Vec<String> = body.prompts.iter().map(|r| r.slug.clone()).collect();
    let mut results = db.resolve_many(&me, body.prompts).await?;
    // A failure of the server fails the call; only the caller's mistakes are per prompt.
    if let Some(i) = results
        .iter()
        .position(|r| r.as_ref().is_err_and(|e| !e.is_client_error()))
        && let Err(e) = results.swap_remove(i)
    {
        return Err(e.into());
    }
    let results = results
        .into_iter()
        .zip(slugs)
        .map(|(r, slug)| match r {
            Ok(resolved) => ResolveResult::Ok(Box::new(resolved)),
            Err(e) => ResolveResult::Err {
                slug,
                error: ApiError::Core(e).detail(),
            },
        })
        .collect();
    Ok((StatusCode::OK, Json(Resolutions { results })))
}
