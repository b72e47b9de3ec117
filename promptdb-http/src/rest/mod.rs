//! The REST API under `/api/v1`. Handlers only translate HTTP to [`promptdb_core::PromptDb`]
//! calls and back; every rule lives in core.

use axum::{
    Router,
    routing::{get, post},
};

use crate::state::AppState;

mod account;
mod drafts;
mod prompts;

pub use account::KeyList;
pub use account::Me;
pub use drafts::DraftList;
pub use prompts::{CreatePrompts, CreatedPrompts, RenderRequest, TagList};

/// The `/api/v1` routes (authentication is applied by the caller).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/prompts", get(prompts::list).post(prompts::create))
        .route(
            "/prompts/{slug}",
            get(prompts::get)
                .patch(prompts::update)
                .delete(prompts::delete),
        )
        .route("/prompts/{slug}/uses", post(prompts::track_use))
        .route("/prompts/{slug}/render", post(prompts::render))
        .route("/prompts/{slug}/versions", get(prompts::versions))
        .route("/prompts/{slug}/versions/{version}", get(prompts::version))
        .route("/tags", get(prompts::tags))
        .route("/drafts", get(drafts::list).post(drafts::save))
        .route("/drafts/summary", get(drafts::summary))
        .route("/drafts/{id}", get(drafts::get).delete(drafts::delete))
        .route(
            "/preferences",
            get(account::preferences)
                .put(account::replace_preferences)
                .patch(account::merge_preferences),
        )
        .route("/me", get(account::me).delete(account::delete_account))
        .route("/export", get(account::export))
        .route("/keys", get(account::keys).post(account::create_key))
        .route("/keys/{id}", axum::routing::delete(account::revoke_key))
}
