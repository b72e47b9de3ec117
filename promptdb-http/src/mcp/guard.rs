//! What the MCP transport does not check, in front of it:
//!
//! - A session (2025-11-25 `Mcp-Session-Id`) belongs to the user who opened it: anyone else who
//!   presents its id gets 404, as for a session that does not exist, so that no stream, replayed
//!   event or result of one user ever reaches another.
//! - Within a session, a request id names one request in flight: a second request with the same
//!   id while the first is unanswered gets 409 with a JSON-RPC error, instead of taking over the
//!   first one's answer and leaving one of the two waiting forever.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use promptdb_core::{Principal, UserId};

const SESSION_HEADER: &str = "mcp-session-id";
/// Owners of sessions unused for this long are forgotten (the transport has closed them).
const IDLE: Duration = Duration::from_secs(2 * 60 * 60);

/// Sessions' owners and the requests in flight, shared by every request to one endpoint.
#[derive(Debug, Clone, Default)]
pub(super) struct Guard {
    inner: Arc<Mutex<Inner>>,
    max_body_bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    owners: HashMap<String, (UserId, Instant)>,
    in_flight: HashSet<(String, String)>,
    inserts: usize,
}

impl Guard {
    pub(super) fn new(max_body_bytes: usize) -> Self {
        Self {
            inner: Arc::default(),
            max_body_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes a request from the in-flight set when its response is done (or dropped).
struct InFlight {
    guard: Guard,
    key: (String, String),
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.guard.lock().in_flight.remove(&self.key);
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response()
}

/// The middleware.
pub(super) async fn guard(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let Some(user) = req.extensions().get::<Principal>().map(Principal::user_id) else {
        return next.run(req).await;
    };
    let session = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(session) = session else {
        // No session yet: an `initialize` may open one, owned by this user.
        let response = next.run(req).await;
        if let Some(id) = response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            let mut inner = guard.lock();
            let now = Instant::now();
            inner.owners.insert(id.to_owned(), (user, now));
            inner.inserts += 1;
            if inner.inserts % 256 == 0 {
                inner
                    .owners
                    .retain(|_, (_, seen)| now.duration_since(*seen) < IDLE);
            }
        }
        return response;
    };
    {
        let mut inner = guard.lock();
        match inner.owners.get_mut(&session) {
            Some((owner, seen)) if *owner == user => *seen = Instant::now(),
            Some(_) => return not_found(),
            // Unknown here: the transport answers (404 for a session it does not know).
            None => {}
        }
    }
    let method = req.method().clone();
    if method == Method::DELETE {
        let response = next.run(req).await;
        if response.status().is_success() {
            guard.lock().owners.remove(&session);
        }
        return response;
    }
    if method != Method::POST {
        return next.run(req).await;
    }
    // A request (not a notification or a response) in this session: note its id.
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, guard.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return crate::error::ApiError::PayloadTooLarge(guard.max_body_bytes).into_response();
        }
    };
    let id = request_id(&bytes);
    let req = Request::from_parts(parts, Body::from(bytes));
    let Some(id) = id else {
        return next.run(req).await;
    };
    let key = (session, id.clone());
    if !guard.lock().in_flight.insert(key.clone()) {
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": serde_json::from_str::<serde_json::Value>(&id).unwrap_or_default(),
            "error": {
                "code": -32600,
                "message": "a request with this id is already in progress in this session; use a new id",
            },
        });
        let mut response = (StatusCode::CONFLICT, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return response;
    }
    let in_flight = InFlight { guard, key };
    let response = next.run(req).await;
    let (parts, body) = response.into_parts();
    let stream = body.into_data_stream().map(move |chunk| {
        let _ = &in_flight;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// The id of a JSON-RPC request (`{"method": …, "id": …}`), as JSON text; `None` for
/// notifications, responses, batches and anything that does not parse.
fn request_id(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Message<'a> {
        #[serde(default, borrow)]
        id: Option<&'a serde_json::value::RawValue>,
        #[serde(default)]
        method: Option<serde::de::IgnoredAny>,
    }
    // A derived struct would also take a JSON array (`[id, method]`): only objects are requests.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    let message: Message<'_> = serde_json::from_slice(bytes).ok()?;
    message.method?;
    message.id.map(|id| id.get().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_read_from_requests_only() {
        assert_eq!(
            request_id(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).as_deref(),
            Some("7")
        );
        assert_eq!(
            request_id(br#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#).as_deref(),
            Some("\"a\"")
        );
        assert_eq!(
            request_id(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            None
        );
        assert_eq!(request_id(br#"{"jsonrpc":"2.0","id":7,"result":{}}"#), None);
        assert_eq!(request_id(b"[1,2]"), None);
        assert_eq!(request_id(b"not json"), None);
    }
}
