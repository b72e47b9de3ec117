//! Where CLI commands go: a PromptDB server over HTTP, or the local database directly.

use std::collections::BTreeMap;

#[cfg(feature = "webhooks")]
use promptdb_core::webhook::{
    CreatedWebhook, Delivery, NewWebhook, Webhook, WebhookId, WebhookPatch,
};
use promptdb_core::{
    ApiKey, ApiKeyId, CreatedApiKey, Error, Export, Label, LabelMove, LabelTarget, ListQuery,
    NewApiKey, NewPrompt, Page, Principal, Prompt, PromptDb, PromptPatch, PromptSummary,
    PromptVersion, RenderedPrompt, ResolveRequest, Resolved, SearchQuery, TagCount,
    diff::VersionDiff,
};
use reqwest::{Method, StatusCode};

pub use crate::client::Remote;
use crate::client::{api_error, encode};
use crate::rest::{CreatePrompts, CreatedPrompts, KeyList, LabelList, RenderRequest, TagList};

/// `POST /resolve`'s answer, as the CLI reads it.
#[derive(serde::Deserialize)]
struct ResolvedBatch {
    results: Vec<BatchItem>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum BatchItem {
    Ok(Box<Resolved>),
    Err { error: serde_json::Value },
}

/// A CLI session's backend.
#[derive(Debug)]
pub enum Client {
    /// The database on this machine, as the local user.
    Local {
        /// The service.
        db: PromptDb,
        /// The local user.
        me: Principal,
    },
    /// A server.
    Remote(Remote),
}

fn query_string(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    format!(
        "?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

const NONE: Option<&()> = None;

impl Client {
    /// Saves a batch.
    pub async fn save_prompts(&self, prompts: Vec<NewPrompt>) -> Result<Vec<Prompt>, Error> {
        match self {
            Self::Local { db, me } => db.save_prompts(me, prompts).await,
            Self::Remote(r) => {
                let out: CreatedPrompts = r
                    .call(
                        Method::POST,
                        "/api/v1/prompts",
                        Some(&CreatePrompts { prompts }),
                    )
                    .await?;
                Ok(out.prompts)
            }
        }
    }

    /// One prompt.
    pub async fn get_prompt(&self, slug: &str) -> Result<Prompt, Error> {
        match self {
            Self::Local { db, me } => db.get_prompt(me, slug).await,
            Self::Remote(r) => {
                r.call(
                    Method::GET,
                    &format!("/api/v1/prompts/{}", encode(slug)),
                    NONE,
                )
                .await
            }
        }
    }

    /// Renders a prompt.
    pub async fn render_prompt(
        &self,
        slug: &str,
        variables: BTreeMap<String, String>,
    ) -> Result<RenderedPrompt, Error> {
        match self {
            Self::Local { db, me } => db.render_prompt(me, slug, &variables).await,
            Self::Remote(r) => {
                let body = RenderRequest { variables };
                r.call(
                    Method::POST,
                    &format!("/api/v1/prompts/{}/render", encode(slug)),
                    Some(&body),
                )
                .await
            }
        }
    }

    /// A page of the ranked list.
    pub async fn list_prompts(&self, query: ListQuery) -> Result<Page<PromptSummary>, Error> {
        match self {
            Self::Local { db, me } => db.list_prompts(me, query).await,
            Self::Remote(r) => {
                let mut pairs: Vec<(&str, String)> = query
                    .filters
                    .tags
                    .iter()
                    .map(|t| ("tag", t.clone()))
                    .collect();
                if let Some(p) = query.filters.pinned {
                    pairs.push(("pinned", p.to_string()));
                }
                if let Some(f) = query.filters.favorite {
                    pairs.push(("favorite", f.to_string()));
                }
                if let Some(f) = query.filters.folder {
                    pairs.push(("folder", f));
                }
                if let Some(l) = query.limit {
                    pairs.push(("limit", l.to_string()));
                }
                if let Some(c) = query.cursor {
                    pairs.push(("cursor", c));
                }
                r.call(
                    Method::GET,
                    &format!("/api/v1/prompts{}", query_string(&pairs)),
                    NONE,
                )
                .await
            }
        }
    }

    /// A page of search results.
    pub async fn search_prompts(&self, query: SearchQuery) -> Result<Page<PromptSummary>, Error> {
        match self {
            Self::Local { db, me } => db.search_prompts(me, query).await,
            Self::Remote(r) => {
                let mut pairs: Vec<(&str, String)> = vec![("q", query.q)];
                pairs.extend(query.filters.tags.iter().map(|t| ("tag", t.clone())));
                if let Some(f) = query.filters.folder {
                    pairs.push(("folder", f));
                }
                if let Some(l) = query.limit {
                    pairs.push(("limit", l.to_string()));
                }
                if let Some(c) = query.cursor {
                    pairs.push(("cursor", c));
                }
                r.call(
                    Method::GET,
                    &format!("/api/v1/prompts{}", query_string(&pairs)),
                    NONE,
                )
                .await
            }
        }
    }

    /// Changes a prompt.
    pub async fn update_prompt(&self, slug: &str, patch: PromptPatch) -> Result<Prompt, Error> {
        match self {
            Self::Local { db, me } => db.update_prompt(me, slug, patch).await,
            Self::Remote(r) => {
                r.call(
                    Method::PATCH,
                    &format!("/api/v1/prompts/{}", encode(slug)),
                    Some(&patch),
                )
                .await
            }
        }
    }

    /// Deletes a prompt.
    pub async fn delete_prompt(&self, slug: &str) -> Result<(), Error> {
        match self {
            Self::Local { db, me } => db.delete_prompt(me, slug).await,
            Self::Remote(r) => r
                .raw(
                    Method::DELETE,
                    &format!("/api/v1/prompts/{}", encode(slug)),
                    NONE,
                )
                .await
                .map(drop),
        }
    }

    /// A page of a prompt's versions, newest first.
    pub async fn versions(
        &self,
        slug: &str,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<Page<PromptVersion>, Error> {
        match self {
            Self::Local { db, me } => db.prompt_versions(me, slug, limit, cursor.as_deref()).await,
            Self::Remote(r) => {
                let mut pairs: Vec<(&str, String)> = Vec::new();
                if let Some(l) = limit {
                    pairs.push(("limit", l.to_string()));
                }
                if let Some(c) = cursor {
                    pairs.push(("cursor", c));
                }
                r.call(
                    Method::GET,
                    &format!(
                        "/api/v1/prompts/{}/versions{}",
                        encode(slug),
                        query_string(&pairs)
                    ),
                    NONE,
                )
                .await
            }
        }
    }

    /// Two versions compared.
    pub async fn diff(&self, slug: &str, from: u32, to: u32) -> Result<VersionDiff, Error> {
        match self {
            Self::Local { db, me } => db.diff_versions(me, slug, from, to).await,
            Self::Remote(r) => {
                r.call(
                    Method::GET,
                    &format!("/api/v1/prompts/{}/diff?from={from}&to={to}", encode(slug)),
                    NONE,
                )
                .await
            }
        }
    }

    /// A prompt's labels.
    pub async fn labels(&self, slug: &str) -> Result<Vec<Label>, Error> {
        match self {
            Self::Local { db, me } => db.labels(me, slug).await,
            Self::Remote(r) => r
                .call::<(), LabelList>(
                    Method::GET,
                    &format!("/api/v1/prompts/{}/labels", encode(slug)),
                    None,
                )
                .await
                .map(|l| l.labels),
        }
    }

    /// Moves a label: to `target`, or removes it (`None`).
    pub async fn move_label(
        &self,
        slug: &str,
        label: &str,
        target: Option<LabelTarget>,
    ) -> Result<LabelMove, Error> {
        match (self, target) {
            (Self::Local { db, me }, Some(t)) => db.set_label(me, slug, label, t).await,
            (Self::Local { db, me }, None) => db.remove_label(me, slug, label).await,
            (Self::Remote(r), target) => {
                let path = format!("/api/v1/prompts/{}/labels/{}", encode(slug), encode(label));
                match target {
                    Some(t) => r.call(Method::PUT, &path, Some(&t)).await,
                    None => r.call(Method::DELETE, &path, NONE).await,
                }
            }
        }
    }

    /// Moves a label back to where it was before its last move.
    pub async fn rollback_label(&self, slug: &str, label: &str) -> Result<LabelMove, Error> {
        match self {
            Self::Local { db, me } => db.rollback_label(me, slug, label).await,
            Self::Remote(r) => {
                r.call(
                    Method::POST,
                    &format!(
                        "/api/v1/prompts/{}/labels/{}/rollback",
                        encode(slug),
                        encode(label)
                    ),
                    NONE,
                )
                .await
            }
        }
    }

    /// The recorded moves of a prompt's labels, newest first (one page).
    pub async fn label_moves(
        &self,
        slug: &str,
        label: Option<&str>,
    ) -> Result<Page<LabelMove>, Error> {
        match self {
            Self::Local { db, me } => db.label_history(me, slug, label, Some(100), None).await,
            Self::Remote(r) => {
                let mut pairs: Vec<(&str, String)> = vec![("limit", "100".into())];
                if let Some(l) = label {
                    pairs.push(("label", l.to_owned()));
                }
                r.call(
                    Method::GET,
                    &format!(
                        "/api/v1/prompts/{}/label-moves{}",
                        encode(slug),
                        query_string(&pairs)
                    ),
                    NONE,
                )
                .await
            }
        }
    }

    /// A prompt as an application gets it.
    pub async fn resolve(&self, request: ResolveRequest) -> Result<Resolved, Error> {
        match self {
            Self::Local { db, me } => db.resolve(me, request).await,
            Self::Remote(r) => {
                let mut out: ResolvedBatch = r
                    .call(
                        Method::POST,
                        "/api/v1/resolve",
                        Some(&serde_json::json!({ "prompts": [request] })),
                    )
                    .await?;
                match out.results.pop() {
                    Some(BatchItem::Ok(resolved)) => Ok(*resolved),
                    Some(BatchItem::Err { error }) => Err(api_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &serde_json::to_vec(&serde_json::json!({ "error": error }))
                            .unwrap_or_default(),
                    )),
                    None => Err(Error::backend("the server answered no result")),
                }
            }
        }
    }

    /// Tags with counts.
    pub async fn tags(&self) -> Result<Vec<TagCount>, Error> {
        match self {
            Self::Local { db, me } => db.list_tags(me).await,
            Self::Remote(r) => r
                .call::<(), TagList>(Method::GET, "/api/v1/tags", None)
                .await
                .map(|t| t.tags),
        }
    }

    /// Everything the user owns.
    pub async fn export(&self) -> Result<Export, Error> {
        match self {
            Self::Local { db, me } => db.export_user(me).await,
            Self::Remote(r) => r.call(Method::GET, "/api/v1/export", NONE).await,
        }
    }

    /// API keys.
    pub async fn keys(&self) -> Result<Vec<ApiKey>, Error> {
        match self {
            Self::Local { db, me } => db.list_api_keys(me).await,
            Self::Remote(r) => r
                .call::<(), KeyList>(Method::GET, "/api/v1/keys", None)
                .await
                .map(|k| k.keys),
        }
    }

    /// Creates an API key.
    pub async fn create_key(&self, input: NewApiKey) -> Result<CreatedApiKey, Error> {
        match self {
            Self::Local { db, me } => db.create_api_key(me, input).await,
            Self::Remote(r) => r.call(Method::POST, "/api/v1/keys", Some(&input)).await,
        }
    }

    /// Revokes an API key.
    pub async fn revoke_key(&self, id: ApiKeyId) -> Result<(), Error> {
        match self {
            Self::Local { db, me } => db.revoke_api_key(me, id).await,
            Self::Remote(r) => r
                .raw(Method::DELETE, &format!("/api/v1/keys/{id}"), NONE)
                .await
                .map(drop),
        }
    }
    /// The caller's webhooks.
    #[cfg(feature = "webhooks")]
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, Error> {
        match self {
            Self::Local { db, me } => db.list_webhooks(me).await,
            Self::Remote(r) => r
                .call::<(), crate::rest::WebhookList>(Method::GET, "/api/v1/webhooks", None)
                .await
                .map(|l| l.webhooks),
        }
    }

    /// Registers a webhook.
    #[cfg(feature = "webhooks")]
    pub async fn create_webhook(&self, input: NewWebhook) -> Result<CreatedWebhook, Error> {
        match self {
            Self::Local { db, me } => db.create_webhook(me, input).await,
            Self::Remote(r) => r.call(Method::POST, "/api/v1/webhooks", Some(&input)).await,
        }
    }

    /// Changes a webhook.
    #[cfg(feature = "webhooks")]
    pub async fn update_webhook(
        &self,
        id: WebhookId,
        patch: WebhookPatch,
    ) -> Result<Webhook, Error> {
        match self {
            Self::Local { db, me } => db.update_webhook(me, id, patch).await,
            Self::Remote(r) => {
                r.call(
                    Method::PATCH,
                    &format!("/api/v1/webhooks/{id}"),
                    Some(&patch),
                )
                .await
            }
        }
    }

    /// Deletes a webhook.
    #[cfg(feature = "webhooks")]
    pub async fn delete_webhook(&self, id: WebhookId) -> Result<(), Error> {
        match self {
            Self::Local { db, me } => db.delete_webhook(me, id).await,
            Self::Remote(r) => r
                .raw(Method::DELETE, &format!("/api/v1/webhooks/{id}"), NONE)
                .await
                .map(drop),
        }
    }

    /// A webhook's delivery attempts, newest first.
    #[cfg(feature = "webhooks")]
    pub async fn webhook_deliveries(
        &self,
        id: WebhookId,
        limit: u32,
    ) -> Result<Vec<Delivery>, Error> {
        match self {
            Self::Local { db, me } => db.webhook_deliveries(me, id, Some(limit)).await,
            Self::Remote(r) => r
                .call::<(), crate::rest::DeliveryList>(
                    Method::GET,
                    &format!("/api/v1/webhooks/{id}/deliveries?limit={limit}"),
                    None,
                )
                .await
                .map(|l| l.deliveries),
        }
    }

    /// Queues what the extractor proposed: locally in one write; on a server, 50 at a time.
    #[cfg(feature = "harvest")]
    pub async fn queue_proposals(
        &self,
        origin: promptdb_core::harvest::Origin,
        source: &str,
        proposals: Vec<promptdb_core::harvest::extract::Proposal>,
    ) -> Result<promptdb_core::harvest::Harvested, Error> {
        use promptdb_core::harvest::{
            Harvested, MAX_CANDIDATES_PER_SUBMISSION, NewCandidate, Submission,
        };
        match self {
            Self::Local { db, me } => db.queue_proposals(me, origin, source, proposals).await,
            Self::Remote(r) => {
                let mut all = Harvested::default();
                let mut rest: Vec<NewCandidate> = proposals
                    .into_iter()
                    .take(promptdb_core::MAX_PROPOSALS_PER_HARVEST)
                    .map(NewCandidate::from)
                    .collect();
                while !rest.is_empty() {
                    let tail = rest.split_off(rest.len().min(MAX_CANDIDATES_PER_SUBMISSION));
                    let submission = Submission {
                        origin,
                        source: source
                            .chars()
                            .take(promptdb_core::harvest::MAX_SOURCE_CHARS)
                            .collect(),
                        candidates: std::mem::replace(&mut rest, tail),
                    };
                    let done: Harvested = r
                        .call(Method::POST, "/api/v1/candidates", Some(&submission))
                        .await?;
                    all.added.extend(done.added);
                    all.merged.extend(done.merged);
                    all.skipped += done.skipped;
                }
                Ok(all)
            }
        }
    }

    /// Every candidate waiting for review, best first.
    #[cfg(feature = "harvest")]
    pub async fn pending_candidates(
        &self,
    ) -> Result<Vec<promptdb_core::harvest::Candidate>, Error> {
        let mut all = Vec::new();
        let page = promptdb_core::MAX_CANDIDATE_PAGE as u32;
        loop {
            let offset = u32::try_from(all.len()).unwrap_or(u32::MAX);
            let batch = match self {
                Self::Local { db, me } => db.list_candidates(me, Some(offset), Some(page)).await?,
                Self::Remote(r) => {
                    r.call::<(), crate::rest::CandidateList>(
                        Method::GET,
                        &format!("/api/v1/candidates?offset={offset}&limit={page}"),
                        None,
                    )
                    .await?
                    .candidates
                }
            };
            let done = batch.len() < page as usize;
            all.extend(batch);
            if done || all.len() >= promptdb_core::harvest::MAX_PENDING_CANDIDATES * 20 {
                return Ok(all);
            }
        }
    }

    /// Saves a candidate.
    #[cfg(feature = "harvest")]
    pub async fn accept_candidate(
        &self,
        id: promptdb_core::harvest::CandidateId,
        edits: promptdb_core::harvest::AcceptCandidate,
    ) -> Result<promptdb_core::harvest::Accepted, Error> {
        match self {
            Self::Local { db, me } => db.accept_candidate(me, id, edits).await,
            Self::Remote(r) => {
                r.call(
                    Method::POST,
                    &format!("/api/v1/candidates/{id}/accept"),
                    Some(&edits),
                )
                .await
            }
        }
    }

    /// Turns a candidate down.
    #[cfg(feature = "harvest")]
    pub async fn dismiss_candidate(
        &self,
        id: promptdb_core::harvest::CandidateId,
    ) -> Result<(), Error> {
        match self {
            Self::Local { db, me } => db.dismiss_candidate(me, id).await,
            Self::Remote(r) => r
                .raw(
                    Method::POST,
                    &format!("/api/v1/candidates/{id}/dismiss"),
                    NONE,
                )
                .await
                .map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_map_back_to_domain_errors() {
        let body = |code: &str, field: Option<&str>| {
            serde_json::to_vec(&serde_json::json!({"error": {"code": code, "message": "prompts[0].slug: bad", "field": field}})).unwrap()
        };
        let e = api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &body("invalid", Some("prompts[0].slug")),
        );
        assert_eq!(e.field(), Some("prompts[0].slug"));
        assert_eq!(e.to_string(), "prompts[0].slug: bad");
        assert!(matches!(
            api_error(StatusCode::NOT_FOUND, &body("not_found", None)),
            Error::NotFound { .. }
        ));
        assert!(matches!(
            api_error(StatusCode::UNAUTHORIZED, &body("unauthorized", None)),
            Error::Unauthorized
        ));
        assert!(matches!(
            api_error(StatusCode::BAD_GATEWAY, b"<html>"),
            Error::Backend(_)
        ));
    }
}
