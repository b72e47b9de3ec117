//! A local Lambda Runtime API (the four endpoints a function calls) and the real
//! `promptdb-lambda` binary pointed at it. The test queues events; the function long-polls
//! `/next` for them and posts its answers, which the test reads in order.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex as StdMutex, OnceLock},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};

/// What the function posted back.
#[derive(Debug, Clone)]
pub enum Posted {
    /// `POST /2018-06-01/runtime/invocation/{id}/response`: the Lambda response JSON.
    Response { request_id: String, body: Value },
    /// `POST /2018-06-01/runtime/invocation/{id}/error`.
    Error {
        request_id: String,
        error_type: Option<String>,
        body: Value,
    },
    /// `POST /2018-06-01/runtime/init/error`.
    InitError {
        error_type: Option<String>,
        body: Value,
    },
}

#[derive(Debug)]
struct Shared {
    events: Mutex<mpsc::UnboundedReceiver<(String, String)>>,
    posted: mpsc::UnboundedSender<(Instant, Posted)>,
    first_poll: OnceLock<Instant>,
}

/// The Runtime API on a free loopback port. Stops when dropped.
#[derive(Debug)]
pub struct RuntimeApi {
    /// Where it listens.
    pub addr: SocketAddr,
    events: mpsc::UnboundedSender<(String, String)>,
    posted: mpsc::UnboundedReceiver<(Instant, Posted)>,
    shared: Arc<Shared>,
    invocations: u32,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Starts it.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let (events, events_rx) = mpsc::unbounded_channel();
        let (posted_tx, posted) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            posted: posted_tx,
            first_poll: OnceLock::new(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            events,
            posted,
            shared,
            invocations: 0,
            server,
        }
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an invocation with `event` as its payload; returns its request id.
    pub fn invoke(&mut self, event: String) -> String {
        self.invocations += 1;
        let id = format!("8476a536-e9f4-11e8-9739-{:012x}", self.invocations);
        self.events
            .send((id.clone(), event))
            .expect("the Runtime API is running");
        id
    }

    /// The next thing the function posts, and when it arrived; `None` after `timeout`.
    pub async fn posted(&mut self, timeout: Duration) -> Option<(Instant, Posted)> {
        tokio::time::timeout(timeout, self.posted.recv())
            .await
            .ok()
            .flatten()
    }

    /// When the function first asked for an event: the end of its initialisation.
    pub fn first_poll(&self) -> Option<Instant> {
        self.shared.first_poll.get().copied()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `GET /next`: waits for the test to queue an event.
async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let _ = shared.first_poll.set(Instant::now());
    let queued = shared.events.lock().await.recv().await;
    let Some((request_id, event)) = queued else {
        // The test is over; the function waits until it is killed, as on Lambda.
        return std::future::pending().await;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let deadline = now + Duration::from_secs(60);
    (
        [
            ("content-type", "application/json".to_owned()),
            ("lambda-runtime-aws-request-id", request_id),
            (
                "lambda-runtime-deadline-ms",
                deadline.as_millis().to_string(),
            ),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:eu-west-1:123456789012:function:promptdb".to_owned(),
            ),
            (
                "lambda-runtime-trace-id",
                format!(
                    "Root=1-{:08x}-0a1b2c3d4e5f60718293a4b5;Parent=53995c3f42cd8ad8;Sampled=1",
                    now.as_secs()
                ),
            ),
        ],
        event,
    )
        .into_response()
}

/// The body as JSON, or as a string when it is not.
fn parse(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn error_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let body = parse(&body);
    let _ = shared
        .posted
        .send((Instant::now(), Posted::Response { request_id, body }));
    StatusCode::ACCEPTED
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let posted = Posted::Error {
        request_id,
        error_type: error_type(&headers),
        body: parse(&body),
    };
    let _ = shared.posted.send((Instant::now(), posted));
    StatusCode::ACCEPTED
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let posted = Posted::InitError {
        error_type: error_type(&headers),
        body: parse(&body),
    };
    let _ = shared.posted.send((Instant::now(), posted));
    StatusCode::ACCEPTED
}

/// The `promptdb-lambda` binary as Lambda runs it. Killed on drop; its log (stderr) is kept for
/// failure messages.
#[derive(Debug)]
pub struct Function {
    /// When it was started.
    pub spawned: Instant,
    child: Child,
    log: Arc<StdMutex<Vec<String>>>,
}

impl Function {
    /// Starts the binary against the Runtime API at `endpoint`, with the variables Lambda sets
    /// and `env`. Nothing else from the test's environment reaches it.
    pub fn spawn(endpoint: &str, env: &[(&str, &str)]) -> Self {
        let spawned = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_promptdb-lambda"))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", endpoint)
            .env("AWS_LAMBDA_FUNCTION_NAME", "promptdb")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/03/13/[$LATEST]0123456789abcdef0123456789abcdef",
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/promptdb")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start promptdb-lambda");
        let log = Arc::new(StdMutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(mut log) = sink.lock() {
                        log.push(line);
                    }
                }
            });
        }
        Self {
            spawned,
            child,
            log,
        }
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Its log once it holds `needle`, waiting up to `timeout` for the line to be read off its
    /// standard error (a thread reads it, so a line written just before an answer can arrive
    /// just after it); the log as it is when the time is up.
    pub async fn log_with(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.contains(needle) || Instant::now() >= deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Its exit status, if it exits within `timeout`.
    pub async fn exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
