//! What every handler shares.

use std::sync::Arc;

use promptdb_core::{Principal, PromptDb};

use crate::Settings;

/// Shared state of the HTTP frontends. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The service.
    pub db: PromptDb,
    /// Server settings.
    pub settings: Arc<Settings>,
    /// The principal unauthenticated requests act as. Only set in the conformance test mode,
    /// whose client cannot send credentials.
    pub anonymous: Option<Principal>,
}

impl AppState {
    /// State for `db` with `settings`.
    pub fn new(db: PromptDb, settings: Settings) -> Self {
        Self {
            db,
            settings: Arc::new(settings),
            anonymous: None,
        }
    }
}
