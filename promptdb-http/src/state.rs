//! What every handler shares.

use std::sync::Arc;

#[cfg(feature = "conformance")]
use promptdb_core::Principal;
use promptdb_core::PromptDb;

use crate::{
    Settings,
    auth::{Auth, AuthLayer, Surface},
};

/// Shared state of the HTTP frontends. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The service.
    pub db: PromptDb,
    /// Server settings.
    pub settings: Arc<Settings>,
    /// Authentication and rate limits.
    pub auth: Arc<Auth>,
    /// The principal unauthenticated requests act as. Only set in the conformance test mode,
    /// whose client cannot send credentials.
    #[cfg(feature = "conformance")]
    pub anonymous: Option<Principal>,
    /// Names of the MCP tools that write (a read-only token may not call them).
    pub write_tools: Arc<[String]>,
    /// When the last readiness ping started, and its answer: concurrent `GET /health/ready`
    /// checks share one ping.
    pub(crate) readiness: Arc<tokio::sync::Mutex<Option<(std::time::Instant, bool)>>>,
}

impl AppState {
    /// State for `db` with `settings`, without an identity provider: API keys only. Use
    /// [`AppState::connect`] for `oidc` mode.
    pub fn new(db: PromptDb, settings: Settings) -> Self {
        let auth = Auth::local(&settings.auth);
        Self::with_auth(db, settings, auth)
    }

    /// State for `db` with `settings`, discovering the identity provider in `oidc` mode.
    pub async fn connect(db: PromptDb, settings: Settings) -> anyhow::Result<Self> {
        let auth = Auth::from_settings(&settings.auth).await?;
        Ok(Self::with_auth(db, settings, auth))
    }

    fn with_auth(db: PromptDb, settings: Settings, auth: Auth) -> Self {
        #[cfg(feature = "mcp")]
        let write_tools = crate::mcp::McpFactory::write_tools().into();
        #[cfg(not(feature = "mcp"))]
        let write_tools = Arc::from([]);
        Self {
            write_tools,
            db,
            settings: Arc::new(settings),
            auth: Arc::new(auth),
            readiness: Arc::default(),
            #[cfg(feature = "conformance")]
            anonymous: None,
        }
    }

    /// PromptDB's authentication for `surface`, as a layer to wrap routes in.
    pub fn auth_layer(&self, surface: Surface) -> AuthLayer {
        AuthLayer::new(self.clone(), surface)
    }
}
