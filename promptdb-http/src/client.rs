//! A client of a PromptDB server over HTTP (feature `client`): the [`Remote`] the command-line
//! client talks through, and [`RemoteSource`], which feeds a
//! [`promptdb_core::resolver::Resolver`] from a server.
//!
//! ```no_run
//! # async fn demo() -> promptdb_core::Result<()> {
//! use promptdb_core::resolver::{At, Resolver};
//! use promptdb_http::client::RemoteSource;
//!
//! let source = RemoteSource::new("http://127.0.0.1:5001", Some("pdb_…".into()))?;
//! let resolver = Resolver::new(source);
//! let prompt = resolver.get("support/triage", At::PRODUCTION, Some("user-42")).await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use async_trait::async_trait;
use promptdb_core::{
    Error, Release, Snapshot,
    change::{Change, ChangeKind},
    resolver::{At, ChangeFeed, FeedEvent, PromptSource},
};
use reqwest::{Method, StatusCode};
use serde::{Serialize, de::DeserializeOwned};

/// A PromptDB server reached over HTTP.
#[derive(Debug)]
pub struct Remote {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
}

#[derive(serde::Deserialize)]
struct ErrorEnvelope {
    error: ErrorPayload,
}

#[derive(serde::Deserialize)]
struct ErrorPayload {
    code: String,
    message: String,
    field: Option<String>,
}

/// Turns an API error body back into the domain error it came from.
pub(crate) fn api_error(status: StatusCode, body: &[u8]) -> Error {
    let Ok(ErrorEnvelope { error: e }) = serde_json::from_slice::<ErrorEnvelope>(body) else {
        return Error::backend(format!("the server answered {status}"));
    };
    let field = e.field.unwrap_or_else(|| "request".into());
    match e.code.as_str() {
        "not_found" => Error::NotFound {
            what: "resource",
            key: e.message,
        },
        "invalid" => Error::Invalid {
            reason: e
                .message
                .strip_prefix(&format!("{field}: "))
                .unwrap_or(&e.message)
                .to_owned(),
            field,
        },
        "malformed" => Error::invalid(field, e.message),
        "conflict" => Error::Conflict {
            reason: e
                .message
                .strip_prefix(&format!("{field}: "))
                .unwrap_or(&e.message)
                .to_owned(),
            field,
        },
        "quota_exceeded" => Error::QuotaExceeded {
            reason: e
                .message
                .strip_prefix(&format!("{field}: "))
                .unwrap_or(&e.message)
                .to_owned(),
            limit: field,
        },
        "unauthorized" => Error::Unauthorized,
        "forbidden" => Error::forbidden(e.message),
        "unavailable" => Error::Unavailable(e.message.into()),
        _ => Error::backend(format!("{} ({})", e.message, e.code)),
    }
}

impl Remote {
    /// A client for the server at `base` (`http://127.0.0.1:5001`).
    pub fn new(base: &str, key: Option<String>) -> Result<Self, Error> {
        Self::with_timeout(base, key, Duration::from_secs(120))
    }

    /// [`Remote::new`] whose calls give up after `timeout`.
    pub fn with_timeout(base: &str, key: Option<String>, timeout: Duration) -> Result<Self, Error> {
        crate::install_tls_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("promptdb/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .build()
            .map_err(Error::backend)?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
        })
    }

    pub(crate) async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let bytes = self.raw(method, path, body).await?;
        let bytes = if bytes.is_empty() {
            b"null".to_vec()
        } else {
            bytes
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::backend(format!("unexpected response from the server: {e}")))
    }

    pub(crate) async fn raw<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Vec<u8>, Error> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let response = req
            .send()
            .await
            .map_err(|e| Error::Unavailable(format!("cannot reach {}: {e}", self.base).into()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Error::Unavailable(Box::new(e)))?
            .to_vec();
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(api_error(status, &bytes))
        }
    }
}

pub(crate) fn encode(segment: &str) -> String {
    // Slugs and ids are URL-safe; anything else is rejected by the server with a clear error.
    segment
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A [`PromptSource`] over a PromptDB server's REST API: `GET /api/v1/releases/{slug}` and
/// `GET /api/v1/snapshot`. Each call has a timeout (5 s by default), so a server that hangs
/// counts as down.
#[derive(Debug)]
pub struct RemoteSource {
    remote: Remote,
    /// For the change feed: no overall timeout, but a read timeout longer than the server's
    /// keep-alive interval (15 s), so a dead connection is noticed.
    streams: reqwest::Client,
}

impl RemoteSource {
    /// A source reading the server at `base` (`http://127.0.0.1:5001`) with the API key `key`.
    pub fn new(base: &str, key: Option<String>) -> Result<Self, Error> {
        Self::with_timeout(base, key, Duration::from_secs(5))
    }

    /// [`RemoteSource::new`] with another per-call timeout.
    pub fn with_timeout(base: &str, key: Option<String>, timeout: Duration) -> Result<Self, Error> {
        let streams = reqwest::Client::builder()
            .user_agent(concat!("promptdb/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .read_timeout(Duration::from_secs(45))
            .build()
            .map_err(Error::backend)?;
        Ok(Self {
            remote: Remote::with_timeout(base, key, timeout)?,
            streams,
        })
    }
}

#[async_trait]
impl PromptSource for RemoteSource {
    async fn release(&self, slug: &str, at: At<'_>) -> Result<Release, Error> {
        let query = match at {
            At::Label(l) => format!("label={}", encode(l)),
            At::Version(v) => format!("version={v}"),
        };
        let path = format!("/api/v1/releases/{}?{query}", encode_slug(slug));
        self.remote.call(Method::GET, &path, NONE).await
    }

    async fn snapshot(&self, label: &str) -> Result<Snapshot, Error> {
        let path = format!("/api/v1/snapshot?label={}", encode(label));
        self.remote.call(Method::GET, &path, NONE).await
    }

    async fn follow(&self, after: Option<i64>) -> Result<Option<Box<dyn ChangeFeed>>, Error> {
        let url = format!("{}/api/v1/changes", self.remote.base);
        let mut req = self
            .streams
            .get(&url)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(key) = &self.remote.key {
            req = req.bearer_auth(key);
        }
        if let Some(after) = after {
            req = req.header("Last-Event-ID", after.to_string());
        }
        let response = req.send().await.map_err(|e| {
            Error::Unavailable(format!("cannot reach {}: {e}", self.remote.base).into())
        })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            return Err(api_error(status, &body));
        }
        let events = sse_stream::SseStream::from_bytes_stream(response.bytes_stream());
        Ok(Some(Box::new(RemoteFeed(Box::pin(events)))))
    }
}

type EventStream = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<sse_stream::Sse, sse_stream::Error>> + Send>,
>;

/// The server's change feed as server-sent events.
struct RemoteFeed(EventStream);

#[async_trait]
impl ChangeFeed for RemoteFeed {
    async fn next(&mut self) -> Result<Option<FeedEvent>, Error> {
        use futures::StreamExt as _;
        loop {
            let Some(sse) = self.0.next().await else {
                return Ok(None);
            };
            let sse = sse.map_err(|e| Error::Unavailable(e.to_string().into()))?;
            let head = || {
                sse.id
                    .as_deref()
                    .and_then(|id| id.parse().ok())
                    .unwrap_or(0)
            };
            match sse.event.as_deref() {
                Some("ready") => return Ok(Some(FeedEvent::Ready(head()))),
                Some("reset") => return Ok(Some(FeedEvent::Reset(head()))),
                Some(kind) if ChangeKind::parse(kind).is_some() => {
                    let change: Change = serde_json::from_str(sse.data.as_deref().unwrap_or(""))
                        .map_err(|e| Error::backend(format!("a change the server sent: {e}")))?;
                    return Ok(Some(FeedEvent::Change(change)));
                }
                // Keep-alive comments, and events this client does not know.
                _ => continue,
            }
        }
    }
}

const NONE: Option<&()> = None;

/// A slug in a path: its folders stay `/`-separated, each segment encoded.
fn encode_slug(slug: &str) -> String {
    slug.split('/').map(encode).collect::<Vec<_>>().join("/")
}
