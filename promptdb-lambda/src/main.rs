//! `promptdb-lambda`: PromptDB on AWS Lambda. Settings, the (lazily connecting) database pool
//! and the router are set up once per execution environment, before the first event; the first
//! event checks the schema; then the Lambda runtime feeds the handler one event at a time.

use std::{process::ExitCode, time::Instant};

use promptdb_http::{LogFormat, redact_url};

// As in `promptdb serve`: the server allocates per request (JSON, MCP envelopes).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What the Lambda runtime reads from the environment (it panics without them).
const RUNTIME_VARIABLES: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

#[tokio::main]
async fn main() -> ExitCode {
    let started = Instant::now();
    let missing: Vec<&str> = RUNTIME_VARIABLES
        .into_iter()
        .filter(|name| std::env::var_os(name).is_none())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "error: promptdb-lambda runs inside AWS Lambda (or `cargo lambda watch`); {} not set. To run PromptDB on a machine, use `promptdb serve`.",
            missing.join(", ")
        );
        return ExitCode::from(2);
    }
    let env = |name: &str| std::env::var(name).ok();
    let settings = promptdb_lambda::settings_from_env(env);
    init_tracing(
        settings
            .as_ref()
            .map_or(LogFormat::Text, |settings| settings.log_format),
    );
    if let Ok(settings) = &settings
        && settings
            .mcp_hosts()
            .iter()
            .all(|host| matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1"))
    {
        tracing::warn!(
            "/mcp accepts only loopback Host values, so it refuses requests through a Function URL or API Gateway: set PROMPTDB_MCP_ALLOWED_HOSTS to their domain"
        );
    }
    let init = async {
        let settings = settings?;
        let database = redact_url(&settings.database_url());
        let app = promptdb_lambda::connect(settings).await?;
        anyhow::Ok((app, database))
    };
    let (app, database) = match init.await {
        Ok(ready) => ready,
        Err(e) => return fail_init(&e).await,
    };
    tracing::info!(
        init_ms = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0,
        %database,
        "PromptDB ready"
    );
    match lambda_http::run(app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the Lambda runtime stopped");
            ExitCode::from(1)
        }
    }
}

fn init_tracing(format: LogFormat) {
    // CloudWatch shows colour codes as they are.
    promptdb_http::telemetry::init_tracing(format, false);
}

/// Logs why initialisation failed, tells the Runtime API, and exits: Lambda starts a new
/// environment for the next event.
async fn fail_init(error: &anyhow::Error) -> ExitCode {
    tracing::error!("{error:#}");
    if let Err(e) = report_init_error(error).await {
        tracing::warn!(error = %e, "could not report the init error to the Lambda Runtime API");
    }
    ExitCode::from(1)
}

/// `POST /runtime/init/error`: the invocation that started this environment fails with this
/// message instead of a bare "Runtime exited".
async fn report_init_error(
    error: &anyhow::Error,
) -> Result<(), lambda_runtime_api_client::BoxError> {
    let endpoint = std::env::var("AWS_LAMBDA_RUNTIME_API")?;
    let base: http::Uri = format!("http://{endpoint}").parse()?;
    let client = lambda_runtime_api_client::PooledClient::builder()
        .with_endpoint(base)
        .build();
    let body = serde_json::to_vec(&serde_json::json!({
        "errorType": "Runtime.InitError",
        "errorMessage": format!("{error:#}"),
    }))?;
    let request = lambda_runtime_api_client::build_request()
        .method(http::Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(lambda_runtime_api_client::body::Body::from(body))?;
    let response = client.call(request).await?;
    if !response.status().is_success() {
        return Err(format!("the Runtime API answered {}", response.status()).into());
    }
    Ok(())
}
