//! The REST API (served under `/api/v1`). Handlers only translate HTTP to
//! [`promptdb_core::PromptDb`] calls and back; every rule lives in core.
//!
//! [`router`] needs the caller's [`promptdb_core::Principal`] in the request extensions: wrap
//! it in [`crate::auth::AuthLayer`], or in an embedding application's own authentication.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{MethodRouter, delete, get, post, put},
};
use promptdb_core::PromptDb;

mod account;
pub mod changes;
mod drafts;
#[cfg(feature = "harvest")]
mod harvest;
mod prompts;
mod releases;
#[cfg(feature = "webhooks")]
mod webhooks;

pub use account::KeyList;
pub use account::Me;
pub use drafts::DraftList;
#[cfg(feature = "harvest")]
pub use harvest::{CandidateList, HarvestReport, MAX_UPLOAD_BYTES};
pub use prompts::{CreatePrompts, CreatedPrompts, RenderRequest, TagList, UseRequest};
pub use releases::{
    Dependents, FolderList, LabelList, Resolutions, ResolveMany, ResolveResult, RestoreRequest,
};
#[cfg(feature = "webhooks")]
pub use webhooks::{DeliveryList, WebhookList};

/// Every REST route: its path under `/api/v1` and its handlers. [`router`] and [`paths`] both
/// read this table, so a test can hold the OpenAPI document against every route there is.
fn table(hub: Option<changes::ChangeHub>) -> Vec<(&'static str, MethodRouter<PromptDb>)> {
    #[cfg_attr(not(any(feature = "harvest", feature = "webhooks")), allow(unused_mut))]
    let mut routes = vec![
        ("/prompts", get(prompts::list).post(prompts::create)),
        (
            "/prompts/{slug}",
            get(prompts::get)
                .patch(prompts::update)
                .delete(prompts::delete),
        ),
        ("/prompts/{slug}/uses", post(prompts::track_use)),
        ("/prompts/{slug}/render", post(prompts::render)),
        ("/prompts/{slug}/versions", get(prompts::versions)),
        ("/prompts/{slug}/versions/{version}", get(prompts::version)),
        (
            "/prompts/{slug}/versions/{version}/restore",
            post(releases::restore),
        ),
        ("/prompts/{slug}/labels", get(releases::labels)),
        (
            "/prompts/{slug}/labels/{label}",
            put(releases::set_label).delete(releases::remove_label),
        ),
        (
            "/prompts/{slug}/labels/{label}/rollback",
            post(releases::rollback_label),
        ),
        ("/prompts/{slug}/label-moves", get(releases::label_moves)),
        ("/prompts/{slug}/diff", get(releases::diff)),
        ("/prompts/{slug}/dependents", get(releases::dependents)),
        ("/folders", get(releases::folders)),
        ("/resolve", post(releases::resolve_many)),
        ("/resolve/{*slug}", get(releases::resolve)),
        ("/releases/{*slug}", get(releases::release)),
        ("/snapshot", get(releases::snapshot)),
        (
            "/changes",
            // Only this route needs the hub: the others stay free of the extension.
            match hub {
                Some(hub) => get(changes::changes).layer(axum::Extension(hub)),
                None => get(changes::changes),
            },
        ),
        ("/tags", get(prompts::tags)),
        ("/drafts", get(drafts::list).post(drafts::save)),
        ("/drafts/summary", get(drafts::summary)),
        ("/drafts/{id}", get(drafts::get).delete(drafts::delete)),
        (
            "/preferences",
            get(account::preferences)
                .put(account::replace_preferences)
                .patch(account::merge_preferences),
        ),
        ("/me", get(account::me).delete(account::delete_account)),
        ("/export", get(account::export)),
        ("/keys", get(account::keys).post(account::create_key)),
        ("/keys/{id}", delete(account::revoke_key)),
    ];
    #[cfg(feature = "harvest")]
    routes.extend([
        ("/candidates", get(harvest::list).post(harvest::submit)),
        ("/candidates/{id}", get(harvest::get)),
        ("/candidates/{id}/accept", post(harvest::accept)),
        ("/candidates/{id}/dismiss", post(harvest::dismiss)),
        (
            "/harvest",
            post(harvest::upload).layer(DefaultBodyLimit::max(harvest::MAX_UPLOAD_BYTES)),
        ),
    ]);
    #[cfg(feature = "webhooks")]
    routes.extend([
        ("/webhooks", get(webhooks::list).post(webhooks::create)),
        (
            "/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        ),
        ("/webhooks/{id}/deliveries", get(webhooks::deliveries)),
    ]);
    routes
}

/// The path of every REST route, under `/api/v1` (`{*slug}` written `{slug}`, as OpenAPI does).
pub fn paths() -> Vec<String> {
    table(None)
        .into_iter()
        .map(|(path, _)| format!("/api/v1{}", path.replace("{*", "{")))
        .collect()
}

/// The REST routes over `db`, to nest at `/api/v1` (authentication is the caller's: see the
/// module docs). Bodies are limited to [`crate::MAX_BODY_BYTES`].
pub fn router(db: PromptDb, hub: changes::ChangeHub) -> Router {
    table(Some(hub))
        .into_iter()
        .fold(Router::new(), |r, (path, handlers)| r.route(path, handlers))
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .with_state(db)
}
