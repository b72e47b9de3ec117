//! PromptDB's frontends over HTTP: the REST API under `/api/v1`, the MCP server at `/mcp`
//! (streamable HTTP; stdio lives in the binary), health checks, and the OpenAPI document. The
//! `promptdb` binary in this crate serves them and carries the CLI.
//!
//! Tests and embedders drive a real server with [`serve`] on any listener:
//!
//! ```no_run
//! # async fn demo(db: promptdb_core::PromptDb) -> std::io::Result<()> {
//! let state = promptdb_http::AppState::new(db, promptdb_http::Settings::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! promptdb_http::serve(state, listener, std::future::pending()).await
//! # }
//! ```

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    middleware,
    response::IntoResponse,
    routing::get,
    serve::ListenerExt,
};
use promptdb_core::{PromptDb, Store, cache::CachedStore};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{timeout::TimeoutLayer, trace::TraceLayer};

pub mod auth;
pub mod cli;
pub mod error;
pub mod extract;
pub mod mcp;
pub mod openapi;
pub mod rest;
mod settings;
pub mod state;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use settings::{
    ASYMMETRIC_ALGORITHMS, AuthMode, AuthSettings, LogFormat, OidcSettings, PostgresSettings,
    RateLimitSettings, Settings, default_data_dir, parse_service_url, redact_url,
};
pub use state::AppState;

/// Installs ring as the process's TLS crypto provider, once. reqwest is built without a bundled
/// backend choice, so every HTTP client this crate (or a program using it) builds needs this
/// first; later calls do nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Largest request body, in bytes: a full batch of 100 prompts at the content limit fits.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The whole HTTP application: health, OpenAPI, sign-in, REST and MCP. `shutdown` closes MCP
/// streams.
pub fn app(state: AppState, shutdown: CancellationToken) -> Router {
    build_app(state, false, shutdown)
}

/// [`app`] with the MCP endpoint in stateless JSON mode: no sessions, one JSON response per
/// request. For deployments where consecutive requests may reach different processes (AWS
/// Lambda).
pub fn stateless_app(state: AppState) -> Router {
    build_app(state, true, CancellationToken::new())
}

fn build_app(state: AppState, stateless_mcp: bool, shutdown: CancellationToken) -> Router {
    let rest_auth = middleware::from_fn_with_state(state.clone(), auth::require_principal);
    let mcp_auth = middleware::from_fn_with_state(state.clone(), auth::require_mcp_principal);
    let api = rest::routes()
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.settings.request_timeout_secs),
        ))
        .route_layer(rest_auth);
    let factory = mcp::McpFactory::new(state.db.clone(), None, state.anonymous.is_some());
    let options = mcp::McpHttpOptions {
        allowed_hosts: state.settings.mcp_allowed_hosts.clone(),
        stateless: stateless_mcp,
        max_body_bytes: MAX_BODY_BYTES,
    };
    let mcp = Router::new()
        .nest_service("/mcp", mcp::service(factory, &options, shutdown))
        .layer(mcp_auth);
    Router::new()
        .route("/health", get(health))
        .route("/health/ready", get(ready))
        .route("/openapi.json", get(openapi_document))
        .merge(auth::login::routes())
        .nest("/api/v1", api)
        .merge(mcp)
        .fallback(|| async { error::ApiError::NoRoute })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::limit_clients,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::RouteSpan)
                .on_response(telemetry::LogResponse),
        )
        .layer(middleware::from_fn(telemetry::trace_context))
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` completes, then drains requests and closes MCP
/// streams. Also runs the background sweeper of expired drafts and sessions.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = CancellationToken::new();
    let sweeper = tokio::spawn(sweep_expired(
        state.db.clone(),
        Duration::from_secs(state.settings.draft_sweep_interval_secs),
        token.clone(),
    ));
    let router = app(state, token.child_token());
    let stop = token.clone();
    // Without TCP_NODELAY, responses written in several pieces (event streams) wait out the
    // peer's delayed ACK: 40 ms per response.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down");
        stop.cancel();
    })
    .await;
    token.cancel();
    let _ = sweeper.await;
    result
}

/// Deletes expired drafts and sessions every `interval` until cancelled.
pub async fn sweep_expired(db: PromptDb, interval: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match db.purge_expired_drafts().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "expired drafts deleted"),
            Err(e) => tracing::warn!(error = %e, "draft sweep failed"),
        }
        match db.purge_expired_sessions().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "expired sessions deleted"),
            Err(e) => tracing::warn!(error = %e, "session sweep failed"),
        }
    }
}

/// Opens the database `settings` name (applying migrations), puts the prompt cache in front,
/// and brings stored ranking scores in line with the configured weights.
pub async fn open_db(settings: &Settings) -> anyhow::Result<PromptDb> {
    let url = settings.database_url();
    let store = open_store(
        &url,
        &settings.postgres.options(),
        Duration::from_secs(settings.prompt_cache_ttl_secs),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", redact_url(&url)))?;
    let db = PromptDb::with_config(store, settings.core.clone())?;
    db.sync_ranking().await?;
    Ok(db)
}

/// Opens the store for `url` (`sqlite:` or `postgres://`), applies migrations, and puts the
/// prompt cache in front (unless `cache_ttl` is zero).
pub async fn open_store(
    url: &str,
    postgres: &promptdb_store_postgres::PostgresOptions,
    cache_ttl: Duration,
) -> Result<Arc<dyn Store>, promptdb_core::Error> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        if let Some(path) = url.strip_prefix("sqlite://")
            && let Some(dir) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                promptdb_core::Error::invalid(
                    "database_url",
                    format!("cannot create {}: {e}", dir.display()),
                )
            })?;
        }
        let store = promptdb_store_sqlite::SqliteStore::connect(url).await?;
        store.migrate().await?;
        Arc::new(store)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = promptdb_store_postgres::PostgresStore::connect_with(url, postgres).await?;
        store.migrate().await?;
        Arc::new(store)
    } else {
        return Err(promptdb_core::Error::invalid(
            "database_url",
            format!(
                "unsupported database URL {}; use sqlite://path or postgres://…",
                redact_url(url)
            ),
        ));
    };
    Ok(if cache_ttl.is_zero() {
        store
    } else {
        Arc::new(CachedStore::new(store, cache_ttl, 10_000))
    })
}

/// Body of the health endpoints.
#[derive(Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    pub status: String,
    /// Server version.
    pub version: String,
    /// Storage backend (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

/// `GET /health`: the process is up.
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        store: None,
    })
}

/// `GET /health/ready`: the store answers.
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let (code, status) = match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    };
    let body = Health {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        store: Some(state.db.backend().into()),
    };
    (code, Json(body))
}

/// `GET /openapi.json`.
async fn openapi_document() -> impl IntoResponse {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(openapi::document).clone())
}
