//! `GET /changes`: the caller's change feed (see [`promptdb_core::change`]).
//!
//! - With `Accept: text/event-stream`: server-sent events, one per change (`id` is the change's
//!   `seq`, `event` its kind, `data` the change as JSON), kept open; resumable with
//!   `Last-Event-ID` (or `after`). A position the feed no longer holds (purged, or never
//!   reached) gets a `reset` event: the client reloads everything and continues from its `id`.
//!   Without a position the stream starts at the head with a `ready` event.
//! - Otherwise: one JSON page (`changes`, `head`, `reset`), for clients that poll.
//!
//! Every server wakes its streams when a change commits, on any server sharing the database
//! (PostgreSQL `LISTEN/NOTIFY`; SQLite polls its file), and re-reads the feed from the database,
//! so what a stream delivers is exactly what was committed, in order. The same signal makes
//! each server's prompt cache forget a prompt another server changed.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{
    Extension, Json,
    extract::State,
    http::{HeaderMap, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use promptdb_core::{
    Error, Principal, PromptDb, UserId,
    change::{Change, ChangePage},
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::{
    error::{ApiError, ApiResult},
    extract::{Caller, QueryPairs},
};

/// Changes one read returns by default.
pub const DEFAULT_CHANGE_PAGE: u32 = 100;
/// Streams one user may hold open on one server.
pub const MAX_STREAMS_PER_USER: usize = 32;
/// A stream re-reads its feed at least this often, whatever it has heard.
const REREAD: Duration = Duration::from_secs(5);

/// Response of `GET /changes` without `Accept: text/event-stream`.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeFeed {
    /// Changes after the position asked for, oldest first.
    pub changes: Vec<Change>,
    /// The caller's newest `seq` (0: none yet); pass it as `after` next time.
    pub head: i64,
    /// The position asked for is no longer in the feed (or never was): reload everything, then
    /// continue from `head`.
    pub reset: bool,
}

/// Wakes the streams of this server when changes commit.
#[derive(Debug, Clone)]
pub struct ChangeHub {
    inner: Arc<HubInner>,
}

#[derive(Debug)]
struct HubInner {
    db: PromptDb,
    tx: broadcast::Sender<Option<UserId>>,
    started: std::sync::Once,
    open: Mutex<HashMap<UserId, usize>>,
    /// Stops the listener when the last clone of the hub is dropped.
    _stop: tokio_util::sync::DropGuard,
    token: tokio_util::sync::CancellationToken,
    /// Whether event streams are served (not on AWS Lambda, which buffers responses).
    streams: bool,
}

impl ChangeHub {
    /// A hub over `db`. It listens from [`ChangeHub::start`] or the first stream on.
    pub fn new(db: PromptDb) -> Self {
        Self::with_streams(db, true)
    }

    /// A hub that serves JSON pages only: for deployments that cannot hold a response open
    /// (AWS Lambda). A request for a stream is refused with a sentence saying so.
    pub fn polling_only(db: PromptDb) -> Self {
        Self::with_streams(db, false)
    }

    fn with_streams(db: PromptDb, streams: bool) -> Self {
        let token = tokio_util::sync::CancellationToken::new();
        Self {
            inner: Arc::new(HubInner {
                db,
                tx: broadcast::channel(1024).0,
                started: std::sync::Once::new(),
                open: Mutex::default(),
                _stop: token.clone().drop_guard(),
                token,
                streams,
            }),
        }
    }

    /// Starts listening for changes committed by any server sharing the database: streams
    /// wake, and this process's prompt cache forgets what another process changed. Does
    /// nothing outside a Tokio runtime or when already started.
    pub fn start(&self) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.inner.started.call_once(|| {
            let (db, tx) = (self.inner.db.clone(), self.inner.tx.clone());
            let token = self.inner.token.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = token.cancelled() => {}
                    () = listen(db, tx) => {}
                }
            });
        });
    }

    fn subscribe(&self) -> broadcast::Receiver<Option<UserId>> {
        self.start();
        self.inner.tx.subscribe()
    }

    fn open(&self, user: UserId) -> Result<StreamSlot, Error> {
        let mut open = self.inner.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(user).or_default();
        if *n >= MAX_STREAMS_PER_USER {
            return Err(Error::quota(
                "streams",
                format!(
                    "at most {MAX_STREAMS_PER_USER} change streams per user on one server; close one first"
                ),
            ));
        }
        *n += 1;
        Ok(StreamSlot {
            hub: self.clone(),
            user,
        })
    }
}

/// One open stream, counted until it is dropped.
struct StreamSlot {
    hub: ChangeHub,
    user: UserId,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .hub
            .inner
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// Relays the store's listener to the streams and the prompt cache; reconnects with backoff
/// when it fails.
async fn listen(db: PromptDb, tx: broadcast::Sender<Option<UserId>>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match db.listen_changes().await {
            Ok(mut listener) => {
                backoff = Duration::from_millis(100);
                // Anything committed while no listener ran: every stream reads again, and the
                // cache forgets everything.
                db.evict_cached(None);
                let _ = tx.send(None);
                loop {
                    match listener.next().await {
                        Ok(changed) => {
                            db.evict_cached(changed.as_ref());
                            let _ = tx.send(changed.map(|c| c.user));
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "the change listener failed; reconnecting");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for changes; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// The position a client asks for: `Last-Event-ID` (what an `EventSource` sends on reconnect),
/// else `after`.
fn position(headers: &HeaderMap, query: &QueryPairs) -> Result<Option<i64>, ApiError> {
    let parse = |field: &str, s: &str| {
        if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<i64>().ok()
        } else {
            None
        }
        .ok_or_else(|| {
            ApiError::Core(Error::invalid(
                field,
                "must be a change's seq: a whole number from 0",
            ))
        })
    };
    // Both are checked, whichever is used.
    let after = query.get("after").map(|s| parse("after", s)).transpose()?;
    let header = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(parse("Last-Event-ID", v.to_str().unwrap_or(""))?),
    };
    Ok(header.or(after))
}

/// `GET /changes?after=&limit=`.
pub(super) async fn changes(
    State(db): State<PromptDb>,
    Extension(hub): Extension<ChangeHub>,
    Caller(me): Caller,
    headers: HeaderMap,
    query: QueryPairs,
) -> ApiResult<Response> {
    query.only(&["after", "limit"])?;
    let after = position(&headers, &query)?;
    let limit = query.u32("limit")?.unwrap_or(DEFAULT_CHANGE_PAGE);
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !wants_stream {
        let page = db.changes(&me, after.unwrap_or(0), limit).await?;
        let reset = after.is_some_and(|a| page.is_gap(a));
        return Ok(Json(ChangeFeed {
            changes: if reset { Vec::new() } else { page.changes },
            head: page.head,
            reset,
        })
        .into_response());
    }
    if !hub.inner.streams {
        return Err(ApiError::Core(Error::invalid(
            "Accept",
            "this deployment (AWS Lambda) cannot hold a stream open: ask for JSON and poll with `after`",
        )));
    }
    let slot = hub.open(me.user_id())?;
    // Subscribe before the first read: a change committed in between wakes the stream.
    let wake = hub.subscribe();
    let first = db.changes(&me, after.unwrap_or(0), limit).await?;
    let mut pending = VecDeque::new();
    let cursor = match after {
        None => {
            pending.push_back(marker("ready", first.head));
            first.head
        }
        Some(a) if first.is_gap(a) => {
            pending.push_back(marker("reset", first.head));
            first.head
        }
        Some(a) => {
            let last = queue(&mut pending, first);
            last.unwrap_or(a)
        }
    };
    let state = Feed {
        db,
        me,
        wake,
        pending,
        cursor,
        limit,
        _slot: slot,
    };
    let stream = futures::stream::unfold(state, |mut feed| async move {
        let event = feed.next().await;
        Some((Ok::<_, Infallible>(event), feed))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn marker(name: &'static str, head: i64) -> Event {
    Event::default()
        .event(name)
        .id(head.to_string())
        .data(format!("{{\"head\":{head}}}"))
}

/// Queues a page's changes as events; returns the last `seq` queued.
fn queue(pending: &mut VecDeque<Event>, page: ChangePage) -> Option<i64> {
    let mut last = None;
    for c in page.changes {
        last = Some(c.seq);
        let data = serde_json::to_string(&c).unwrap_or_default();
        pending.push_back(
            Event::default()
                .event(c.kind.as_str())
                .id(c.seq.to_string())
                .data(data),
        );
    }
    last
}

/// One open stream.
struct Feed {
    db: PromptDb,
    me: Principal,
    wake: broadcast::Receiver<Option<UserId>>,
    pending: VecDeque<Event>,
    cursor: i64,
    limit: u32,
    _slot: StreamSlot,
}

impl Feed {
    async fn next(&mut self) -> Event {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return e;
            }
            match self.db.changes(&self.me, self.cursor, self.limit).await {
                Ok(page) if page.is_gap(self.cursor) => {
                    self.cursor = page.head;
                    return marker("reset", page.head);
                }
                Ok(page) if !page.changes.is_empty() => {
                    if let Some(last) = queue(&mut self.pending, page) {
                        self.cursor = last;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading the change feed failed"),
            }
            self.wait().await;
        }
    }

    /// Until a change of this user (or of anyone, after a listener gap) commits, or `REREAD`.
    async fn wait(&mut self) {
        let me = self.me.user_id();
        let _ = tokio::time::timeout(REREAD, async {
            loop {
                match self.wake.recv().await {
                    Ok(Some(user)) if user != me => {}
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await;
                    }
                }
            }
        })
        .await;
    }
}
