//! PromptDB's core: the domain, its rules, and the storage traits.
//!
//! Every frontend (REST, MCP, CLI, Lambda) calls [`PromptDb`]; [`PromptDb`] validates, ranks,
//! versions and scopes to the caller's [`Principal`], and talks to a [`Store`]. Backends live in
//! their own crates (`promptdb-store-sqlite`, `promptdb-store-postgres`) and prove themselves
//! against the conformance suite in [`testing`] (feature `testing`).
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn promptdb_core::Store>) -> promptdb_core::Result<()> {
//! use promptdb_core::{NewPrompt, Principal, PromptDb};
//!
//! let db = PromptDb::new(store);
//! let me = Principal::full(db.create_user("Ada").await?.id);
//! db.save_prompts(&me, vec![NewPrompt::new("haiku", "Haiku", "Write a haiku about {{topic}}.")]).await?;
//! let prompt = db.get_prompt(&me, "haiku").await?;
//! assert_eq!(prompt.variables[0].name, "topic");
//! # Ok(()) }
//! ```

mod api_key;
pub mod bounded;
pub mod cache;
pub mod change;
mod clock;
pub mod diff;
mod draft;
mod error;
pub mod export;
pub mod folder;
pub mod harvest;
mod ids;
pub mod page;
mod preferences;
mod prompt;
pub mod ranking;
pub mod release;
#[cfg(feature = "resolver")]
pub mod resolver;
pub mod search;
mod service;
mod session;
pub mod store;
pub mod template;
mod user;
pub mod validate;
pub mod webhook;

#[cfg(feature = "testing")]
pub mod testing;

pub use api_key::{
    API_KEY_PREFIX, ApiKey, ApiKeyId, CreatedApiKey, MAX_API_KEY_NAME_CHARS, MAX_API_KEYS_PER_USER,
    MAX_SCOPES, NewApiKey, SecretHash, generate_token, hash_secret, looks_like_api_key,
};
pub use clock::{Clock, SystemClock, truncate_micros};
pub use draft::{Draft, DraftFields, DraftSummary, SaveDraft};
pub use error::{BoxError, Error, Result};
pub use export::{EXPORT_FORMAT, EXPORT_VERSION, Export, ExportedPrompt};
pub use ids::{DraftId, PromptId, Slug, UserId};
pub use page::Page;
pub use preferences::{Preferences, PreferencesInput};
pub use prompt::{
    ChatMessage, ChatRole, NewPrompt, Prompt, PromptConfig, PromptKind, PromptPatch, PromptSummary,
    PromptUsage, PromptVersion, TagCount, Variable,
};
pub use ranking::RankingWeights;
pub use release::{
    Label, LabelMove, LabelTarget, Release, Rendered, ResolveRequest, Resolved, Snapshot, Variant,
};
pub use search::{Filters, ListQuery, SearchQuery};
pub use service::{
    Config, DeliveryReport, EXPORT_PAGE, MAX_CANDIDATE_OFFSET, MAX_CANDIDATE_PAGE,
    MAX_PROPOSALS_PER_HARVEST, NewVersion, PromptDb, RenderedPrompt, SIGN_IN_LINK_SECS, Swept,
    VersionsToDelete, WebhookSender,
};
pub use session::{
    CSRF_TOKEN_CHARS, CreatedSession, MAX_ISSUER_CHARS, MAX_REFRESH_TOKEN_BYTES, MAX_SUBJECT_CHARS,
    NewSession, SESSION_PREFIX, Session, looks_like_session_secret,
};
pub use store::Store;
pub use user::{Principal, Scope, User};
