//! The real router over a SQLite store in a temporary directory, with one user and a full key,
//! driven in process, rate limits off.

#![allow(dead_code, unreachable_pub, missing_debug_implementations)]

use axum::{
    Router,
    body::{Body, Bytes},
    http::{Request, StatusCode, header},
};
use promptdb::{NewApiKey, PromptDb, sqlite::SqliteStore};
use promptdb_http::{AppState, Settings};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// A router, its user's key and the directory holding the database.
pub struct App {
    pub router: Router,
    pub key: String,
    pub dir: tempfile::TempDir,
}

impl App {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("promptdb.db"))
            .await
            .unwrap();
        let db = PromptDb::new(std::sync::Arc::new(store));
        let user = db.create_user("worst").await.unwrap();
        let key = db
            .issue_api_key(user.id, NewApiKey::new("k"))
            .await
            .unwrap()
            .secret;
        // Rate limits off: the benchmark sends the same request many times.
        let mut settings = Settings::default();
        settings.auth.rate_limit.enabled = false;
        let router = promptdb_http::app(AppState::new(db, settings), CancellationToken::new());
        Self { router, key, dir }
    }

    /// Sends a request; returns the status and the body's bytes.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Bytes>,
    ) -> (StatusCode, Vec<u8>) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key));
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let body = body.map_or_else(Body::empty, Body::from);
        let response = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }
}
