//! PromptDB on AWS Lambda: the promptdb-http application ([`promptdb_http::stateless_app`], MCP
//! in stateless JSON mode) served through [`lambda_http`] to API Gateway REST APIs (payload 1.0),
//! HTTP APIs and Function URLs (payload 2.0), on PostgreSQL.
//!
//! The `promptdb-lambda` binary sets up once per execution environment, before the first event,
//! without touching the database: [`settings_from_env`], then [`connect`] (a lazily connecting
//! pool of one connection, as an environment serves one request at a time, and a first-request
//! check of the schema). Tests and embedders build the handler over any state:
//!
//! ```no_run
//! # async fn demo(db: promptdb_core::PromptDb) -> Result<(), lambda_http::Error> {
//! let state = promptdb_http::AppState::new(db, promptdb_http::Settings::default());
//! lambda_http::run(promptdb_lambda::LambdaApp::new(state)).await
//! # }
//! ```

use std::{
    convert::Infallible,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::ConnectInfo,
    response::{IntoResponse, Response},
};
use lambda_http::{Request, RequestExt, request::RequestContext};
use promptdb_core::PromptDb;
use promptdb_http::{AppState, LogFormat, Settings, redact_url};
use promptdb_store_postgres::PostgresStore;
use tower::{Service, ServiceExt};

/// The Lambda handler: PromptDB's HTTP application, with the adaptation Lambda events need.
/// Cheap to clone. Pass it to [`lambda_http::run`].
///
/// - Routing uses the path the caller asked for. lambda_http puts the API Gateway stage in front
///   of REST API paths (`/prod/api/v1/prompts`) and HTTP APIs send named stages in `rawPath`;
///   neither reaches the router.
/// - The caller's address from the event (not from a header the caller could forge) is the
///   connection address the per-address rate limits count.
/// - Expired drafts and sessions are swept after a request, at most once per
///   `draft_sweep_interval_secs`: a background timer would be frozen with the environment between
///   invocations and fire in the middle of a later request, waiting for its one connection.
#[derive(Debug, Clone)]
pub struct LambdaApp {
    router: Router,
    sweeper: Arc<Sweeper>,
    first_request: Option<Arc<FirstRequest>>,
}

impl LambdaApp {
    /// The handler over `state`.
    pub fn new(state: AppState) -> Self {
        let sweeper = Sweeper::new(
            state.db.clone(),
            Duration::from_secs(state.settings.draft_sweep_interval_secs),
        );
        Self {
            router: promptdb_http::stateless_app(state),
            sweeper: Arc::new(sweeper),
            first_request: None,
        }
    }

    /// Runs `check` before the environment's first request is routed, and again before each
    /// later one until it succeeds once. While it fails, requests answer as the server does when
    /// the database is unavailable (503), and the reason is logged.
    #[must_use]
    pub fn with_first_request_check<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), promptdb_core::Error>> + Send + 'static,
    {
        self.first_request = Some(Arc::new(FirstRequest {
            done: tokio::sync::OnceCell::new(),
            check: Box::new(move || Box::pin(check())),
        }));
        self
    }
}

type Check = Box<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), promptdb_core::Error>> + Send>>
        + Send
        + Sync,
>;

/// A check that must pass once before requests are served.
struct FirstRequest {
    done: tokio::sync::OnceCell<()>,
    check: Check,
}

impl std::fmt::Debug for FirstRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstRequest")
            .field("done", &self.done.initialized())
            .finish_non_exhaustive()
    }
}

impl FirstRequest {
    async fn ensure(&self) -> Result<(), promptdb_core::Error> {
        self.done.get_or_try_init(|| (self.check)()).await?;
        Ok(())
    }
}

impl Service<Request> for LambdaApp {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let req = adapt(req);
        let router = self.router.clone();
        let sweeper = self.sweeper.clone();
        let first_request = self.first_request.clone();
        Box::pin(async move {
            if let Some(first) = first_request
                && let Err(e) = first.ensure().await
            {
                // Logged (with the reason) where the error becomes a response.
                return Ok(promptdb_http::error::ApiError::from(e).into_response());
            }
            let response = router.oneshot(req).await;
            sweeper.run_if_due().await;
            response
        })
    }
}

/// Routes `req` on the caller's path and gives it the caller's address.
fn adapt(mut req: Request) -> Request {
    if let Some(path) = route_path(&req)
        && path != req.uri().path()
        && let Some(uri) = with_path(req.uri(), &path)
    {
        *req.uri_mut() = uri;
    }
    if let Some(ip) = source_ip(&req) {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, 0)));
    }
    req
}

/// The path to route on: the event's own path, without the stage an HTTP API puts in front of
/// it, percent-encoded as lambda_http encodes paths. `None` for a request that did not come from
/// an event.
fn route_path(req: &Request) -> Option<String> {
    let raw = req.raw_http_path();
    if raw.is_empty() {
        return None;
    }
    let path = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => strip_stage(raw, ctx.stage.as_deref()),
        // REST APIs (payload 1.0) send the path without the stage.
        _ => raw,
    };
    let slash = if path.starts_with('/') { "" } else { "/" };
    url::Url::parse(&format!("http://localhost{slash}{path}"))
        .ok()
        .map(|url| url.path().to_owned())
}

/// `path` without a leading `/{stage}` segment. Payload 2.0 events from an HTTP API stage other
/// than `$default` carry the stage in `rawPath`; Function URLs and `$default` stages do not.
fn strip_stage<'a>(path: &'a str, stage: Option<&str>) -> &'a str {
    let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") else {
        return path;
    };
    match path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// `uri` with its path replaced, keeping its query.
fn with_path(uri: &http::Uri, path: &str) -> Option<http::Uri> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    http::Uri::from_parts(parts).ok()
}

/// The caller's address as API Gateway or the Function URL saw it.
fn source_ip(req: &Request) -> Option<IpAddr> {
    let ip = match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.as_deref(),
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref(),
        _ => None,
    };
    ip?.parse().ok()
}

/// Sweeps expired drafts and sessions when asked, at most once per interval.
#[derive(Debug)]
struct Sweeper {
    db: PromptDb,
    interval: Duration,
    /// When the next sweep is due; `None`: never (the interval does not fit in an `Instant`).
    next: Mutex<Option<Instant>>,
}

impl Sweeper {
    /// The first sweep is due one interval from now, so cold starts do not pay for it.
    fn new(db: PromptDb, interval: Duration) -> Self {
        Self {
            next: Mutex::new(Instant::now().checked_add(interval)),
            db,
            interval,
        }
    }

    async fn run_if_due(&self) {
        let now = Instant::now();
        {
            let Ok(mut next) = self.next.lock() else {
                return;
            };
            if !next.is_some_and(|due| now >= due) {
                return;
            }
            *next = now.checked_add(self.interval);
        }
        self.db.sweep_expired().await;
    }
}

/// Settings for Lambda from the environment; `get` reads one variable.
///
/// Everything [`Settings::load`] reads (the TOML file `PROMPTDB_CONFIG` names, shipped in the
/// function's package, then every `PROMPTDB_*` variable), and on Lambda also:
/// - `DATABASE_URL` when `PROMPTDB_DATABASE_URL` is not set. One of them is required, and must
///   be `postgres://…`: a SQLite file would not outlive the execution environment.
/// - `AWS_LAMBDA_LOG_FORMAT`: JSON logs by default when the function's log format is JSON
///   (`PROMPTDB_LOG_FORMAT` wins).
///
/// `/mcp` accepts the host of `PROMPTDB_PUBLIC_URL` besides `PROMPTDB_MCP_ALLOWED_HOSTS`. The
/// pool holds one connection whatever the file says.
pub fn settings_from_env(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
    let var = |name: &str| {
        get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut settings = Settings::load(None, &get)?;
    if settings.database_url.is_none() {
        settings.database_url = var("DATABASE_URL");
    }
    let Some(database_url) = settings.database_url.as_deref() else {
        anyhow::bail!(
            "invalid setting PROMPTDB_DATABASE_URL: required on Lambda (postgres://user:password@host:5432/promptdb; DATABASE_URL is read too)"
        );
    };
    if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
        anyhow::bail!(
            "invalid setting PROMPTDB_DATABASE_URL: PromptDB on Lambda needs PostgreSQL (postgres://…), got {}",
            redact_url(database_url)
        );
    }
    if var("PROMPTDB_LOG_FORMAT").is_none()
        && var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"))
    {
        settings.log_format = LogFormat::Json;
    }
    settings.postgres.max_connections = 1;
    settings.validate()?;
    Ok(settings)
}

/// The handler for `settings`, without touching the database: the pool connects on the first
/// request, which first checks that the schema is current (migrations are a deploy step,
/// `promptdb migrate`; a schema that is behind is logged with what to run, and requests answer
/// 503 until it is current) and that the stored ranking matches the configured weights. In
/// `oidc` mode this discovers the identity provider.
pub async fn connect(settings: Settings) -> anyhow::Result<LambdaApp> {
    let url = settings.database_url();
    let store = PostgresStore::connect_lazy_with(&url, &settings.postgres.options())
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", redact_url(&url)))?;
    let cached = promptdb_http::with_prompt_cache(
        Arc::new(store.clone()),
        Duration::from_secs(settings.prompt_cache_ttl_secs),
    );
    let db = PromptDb::with_config(cached, settings.core.clone())?;
    let state = AppState::connect(db.clone(), settings).await?;
    Ok(LambdaApp::new(state).with_first_request_check(move || {
        let (store, db) = (store.clone(), db.clone());
        async move {
            store.check_schema().await?;
            db.sync_ranking().await?;
            Ok(())
        }
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    const URL: &str = "postgres://promptdb:hunter2@db.internal:5432/promptdb";

    #[test]
    fn the_database_url_is_required_and_must_be_postgres() {
        let err = settings_from_env(env(&[])).unwrap_err().to_string();
        assert!(err.contains("PROMPTDB_DATABASE_URL"), "{err}");
        let err = settings_from_env(env(&[("PROMPTDB_DATABASE_URL", "sqlite:///tmp/x.db")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PostgreSQL"), "{err}");
        let err = settings_from_env(env(&[("DATABASE_URL", "mysql://root:hunter2@db/promptdb")]))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "the password is redacted: {err}");

        let s = settings_from_env(env(&[("DATABASE_URL", URL)])).unwrap();
        assert_eq!(s.database_url.as_deref(), Some(URL));
        let s = settings_from_env(env(&[
            ("DATABASE_URL", "postgres://other/db"),
            ("PROMPTDB_DATABASE_URL", URL),
        ]))
        .unwrap();
        assert_eq!(
            s.database_url.as_deref(),
            Some(URL),
            "PROMPTDB_DATABASE_URL wins"
        );
    }

    #[test]
    fn the_pool_holds_one_connection() {
        let s = settings_from_env(env(&[("PROMPTDB_DATABASE_URL", URL)])).unwrap();
        assert_eq!(s.postgres.max_connections, 1);
        assert_eq!(s.log_format, LogFormat::Text);
    }

    #[test]
    fn mcp_hosts_come_from_the_environment_and_the_public_url() {
        let s = settings_from_env(env(&[
            ("PROMPTDB_DATABASE_URL", URL),
            (
                "PROMPTDB_MCP_ALLOWED_HOSTS",
                " abc.execute-api.eu-west-1.amazonaws.com, ,xyz.lambda-url.eu-west-1.on.aws",
            ),
            ("PROMPTDB_PUBLIC_URL", "https://prompts.example.com/"),
        ]))
        .unwrap();
        for host in [
            "localhost",
            "abc.execute-api.eu-west-1.amazonaws.com",
            "xyz.lambda-url.eu-west-1.on.aws",
            "prompts.example.com",
        ] {
            assert!(
                s.mcp_hosts().iter().any(|h| h == host),
                "{host} in {:?}",
                s.mcp_hosts()
            );
        }
        assert!(!s.mcp_hosts().iter().any(String::is_empty));
    }

    #[test]
    fn log_format_follows_the_function_unless_told() {
        let s = settings_from_env(env(&[
            ("PROMPTDB_DATABASE_URL", URL),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ]))
        .unwrap();
        assert_eq!(s.log_format, LogFormat::Json);
        let s = settings_from_env(env(&[
            ("PROMPTDB_DATABASE_URL", URL),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("PROMPTDB_LOG_FORMAT", "text"),
        ]))
        .unwrap();
        assert_eq!(s.log_format, LogFormat::Text);
        let err = settings_from_env(env(&[
            ("PROMPTDB_DATABASE_URL", URL),
            ("PROMPTDB_LOG_FORMAT", "xml"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("PROMPTDB_LOG_FORMAT"), "{err}");
    }

    #[test]
    fn apply_env_settings_are_read_and_checked() {
        let err = settings_from_env(env(&[
            ("PROMPTDB_DATABASE_URL", URL),
            ("PROMPTDB_AUTH_MODE", "oidc"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("public_url"), "{err}");
        let s = settings_from_env(env(&[
            ("PROMPTDB_DATABASE_URL", URL),
            ("PROMPTDB_RATE_LIMIT", "off"),
        ]))
        .unwrap();
        assert!(!s.auth.rate_limit.enabled);
    }

    #[test]
    fn named_stages_are_stripped_once() {
        assert_eq!(
            strip_stage("/prod/api/v1/prompts", Some("prod")),
            "/api/v1/prompts"
        );
        assert_eq!(strip_stage("/prod", Some("prod")), "/");
        assert_eq!(strip_stage("/prod/", Some("prod")), "/");
        assert_eq!(strip_stage("/production/x", Some("prod")), "/production/x");
        assert_eq!(
            strip_stage("/api/v1/prompts", Some("$default")),
            "/api/v1/prompts"
        );
        assert_eq!(strip_stage("/api/v1/prompts", None), "/api/v1/prompts");
        assert_eq!(strip_stage("/health", Some("prod")), "/health");
    }

    #[test]
    fn paths_are_replaced_and_queries_kept() {
        let uri: http::Uri = "https://h.example/prod/api/v1/prompts?tag=dev"
            .parse()
            .unwrap();
        assert_eq!(
            with_path(&uri, "/api/v1/prompts").unwrap().to_string(),
            "https://h.example/api/v1/prompts?tag=dev"
        );
        let uri: http::Uri = "/prod/health".parse().unwrap();
        assert_eq!(with_path(&uri, "/health").unwrap().to_string(), "/health");
    }
}
