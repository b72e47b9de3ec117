//! The REST API (served under `/api/v1`). Handlers only translate HTTP to
//! [`promptdb_core::PromptDb`] calls and back; every rule lives in core.
//!
//! [`router`] needs the caller's [`promptdb_core::Principal`] in the request extensions: wrap
//! it in [`crate::auth::AuthLayer`], or in an embedding application's own authentication.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use promptdb_core::PromptDb;

mod account;
mod drafts;
mod prompts;

pub use account::KeyList;
pub use account::Me;
pub use drafts::DraftList;
pub use prompts::{CreatePrompts, CreatedPrompts, RenderRequest, TagList};

/// The REST routes over `db`, to nest at `/api/v1` (authentication is the caller's: see the
/// module docs). Bodies are limited to [`crate::MAX_BODY_BYTES`].
pub fn router(db: PromptDb) -> Router {
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
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .with_state(db)
}
