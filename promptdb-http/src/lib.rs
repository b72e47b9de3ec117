//! PromptDB's frontends over HTTP: the REST API under `/api/v1`, the MCP server at `/mcp`
//! (streamable HTTP; stdio lives in the binary), health checks, and the OpenAPI document. The
//! `promptdb` binary in this crate serves them and carries the CLI.
//!
//! Each frontend is a cargo feature, so an embedder or the Lambda takes only what it needs:
//! `rest`, `mcp`, `stdio`, `oidc`, `cli`, `sqlite`, `postgres` (all on by default). The pieces
//! compose: [`rest::router`] and [`mcp::router`] are plain axum routers over a
//! [`promptdb_core::PromptDb`], [`auth::AuthLayer`] wraps any of them in PromptDB's
//! authentication, and [`app`] merely merges them with health checks and sign-in.
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

use std::{future::Future, time::Duration};

use axum::{
    Json, Router, extract::State, http::StatusCode, middleware, response::IntoResponse,
    routing::get, serve::ListenerExt,
};
use promptdb_core::PromptDb;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

pub mod auth;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "client")]
pub mod client;
pub mod error;
pub mod extract;
#[cfg(feature = "langfuse")]
pub mod langfuse;
#[cfg(feature = "mcp")]
pub mod mcp;
#[cfg(feature = "rest")]
pub mod openapi;
mod pages;
#[cfg(feature = "rest")]
pub mod rest;
mod settings;
pub mod state;
mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "web")]
pub mod web;
#[cfg(feature = "webhooks")]
pub mod webhooks;

pub use settings::{
    ASYMMETRIC_ALGORITHMS, AuthMode, AuthSettings, LogFormat, OidcSettings, PostgresSettings,
    RateLimitSettings, Settings, default_data_dir, parse_service_url, redact_url,
};
pub use state::AppState;
pub use store::{open_db, open_store, with_prompt_cache};

/// Installs ring as the process's TLS crypto provider, once. reqwest is built without a bundled
/// backend choice, so every HTTP client this crate (or a program using it) builds needs this
/// first; later calls do nothing.
#[cfg(any(feature = "oidc", feature = "client", feature = "webhooks"))]
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Largest request body, in bytes (REST, MCP and the Langfuse API). One prompt at every limit
/// fits several times over; a batch of prompts must fit too (100 prompts of 40 KiB each), so
/// larger imports go in several calls (`promptdb import` splits them). Parsing a body this size,
/// whatever its content, takes a few milliseconds (`benches/worst_case.rs`).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The whole HTTP application: health, OpenAPI, sign-in, REST and MCP (as far as the build's
/// features include them). `shutdown` closes MCP streams.
pub fn app(state: AppState, shutdown: CancellationToken) -> Router {
    build_app(state, false, shutdown)
}

/// [`app`] with the MCP endpoint in stateless JSON mode: no sessions, one JSON response per
/// request. For deployments where consecutive requests may reach different processes (AWS
/// Lambda).
pub fn stateless_app(state: AppState) -> Router {
    build_app(state, true, CancellationToken::new())
}

#[cfg_attr(not(feature = "mcp"), allow(unused_variables))]
fn build_app(state: AppState, stateless_mcp: bool, shutdown: CancellationToken) -> Router {
    #[cfg_attr(not(any(feature = "rest", feature = "mcp")), allow(unused_mut))]
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/health/ready", get(ready))
        .merge(auth::sessions::routes())
        .with_state(state.clone());
    #[cfg(feature = "oidc")]
    {
        router = router.merge(auth::login::routes().with_state(state.clone()));
    }
    #[cfg(feature = "web")]
    {
        router = router.merge(web::router());
    }
    #[cfg(not(feature = "web"))]
    {
        router = router.route("/", get(pages::home).with_state(state.clone()));
    }
    #[cfg(feature = "rest")]
    {
        let timeout = tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.settings.request_timeout_secs),
        );
        let hub = if stateless_mcp {
            // On Lambda nothing listens: the cache's TTL bounds staleness, clients poll.
            rest::changes::ChangeHub::polling_only(state.db.clone())
        } else {
            // A long-running server listens from the start, so that its prompt cache forgets
            // what other servers change.
            let hub = rest::changes::ChangeHub::new(state.db.clone());
            hub.start();
            hub
        };
        let api = rest::router(state.db.clone(), hub)
            .layer(timeout)
            .route_layer(state.auth_layer(auth::Surface::Rest));
        router = router
            .route("/openapi.json", get(openapi_document))
            .nest("/api/v1", api);
    }
    #[cfg(feature = "langfuse")]
    {
        let timeout = tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.settings.request_timeout_secs),
        );
        let public = langfuse::router(state.db.clone())
            .layer(timeout)
            .route_layer(state.auth_layer(auth::Surface::Langfuse))
            .layer(middleware::from_fn(langfuse::reshape));
        router = router.nest("/api/public", public);
    }
    #[cfg(feature = "mcp")]
    {
        let options = mcp::McpOptions {
            allowed_hosts: state.settings.mcp_hosts(),
            stateless: stateless_mcp,
            max_body_bytes: MAX_BODY_BYTES,
            shutdown,
            identity: match state.settings.auth.mode {
                settings::AuthMode::Local => mcp::Identity::default(),
                settings::AuthMode::Oidc => mcp::Identity {
                    mode: "oidc".into(),
                    issuer: state.settings.auth.oidc.issuer.clone(),
                    status: "ok".into(),
                },
            },
            #[cfg(feature = "conformance")]
            fixtures: state.anonymous.is_some(),
        };
        let mcp = mcp::router(state.db.clone(), options)
            .route_layer(state.auth_layer(auth::Surface::Mcp));
        router = router.nest("/mcp", mcp);
    }
    router
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
}

/// Serves [`app`] on `listener` until `shutdown` completes, then drains requests and closes MCP
/// streams. Also runs the background sweeper of expired drafts and sessions, and (feature
/// `webhooks`) the webhook delivery worker.
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
    #[cfg(feature = "webhooks")]
    let deliveries = {
        let (db, settings, stop) = (state.db.clone(), state.settings.clone(), token.clone());
        tokio::spawn(async move { webhooks::run(db, &settings, stop).await })
    };
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
    #[cfg(feature = "webhooks")]
    let _ = deliveries.await;
    result
}

/// Runs [`PromptDb::sweep_expired`] every `interval` until cancelled.
pub async fn sweep_expired(db: PromptDb, interval: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        db.sweep_expired().await;
    }
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

/// `GET /health/ready`: the store answers. Unauthenticated, so a flood of checks must not become
/// a flood of database pings: one ping runs at a time, and every check that arrived before a
/// ping started takes its answer (a check never takes an answer older than itself).
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let arrived = std::time::Instant::now();
    let ok = {
        let mut last = state.readiness.lock().await;
        match *last {
            Some((started, ok)) if started >= arrived => ok,
            _ => {
                let started = std::time::Instant::now();
                let ok = match state.db.ping().await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::warn!(error = %e, "readiness check failed");
                        false
                    }
                };
                *last = Some((started, ok));
                ok
            }
        }
    };
    let (code, status) = match ok {
        true => (StatusCode::OK, "ready"),
        false => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    let body = Health {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        store: Some(state.db.backend().into()),
    };
    (code, Json(body))
}

/// `GET /openapi.json`.
#[cfg(feature = "rest")]
async fn openapi_document() -> impl IntoResponse {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(openapi::document).clone())
}
