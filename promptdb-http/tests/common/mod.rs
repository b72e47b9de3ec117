//! A real router over an in-memory SQLite store, driven with `Router::oneshot`.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use promptdb_core::{NewApiKey, Principal, PromptDb, Scope};
use promptdb_http::{AppState, Settings};
use promptdb_store_sqlite::SqliteStore;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// A response: status, headers, JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// The `error.field` of an error body.
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or_default()
    }

    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        self.body
    }

    /// Asserts an error with this status, code and (optionally) field.
    #[track_caller]
    pub fn expect_error(&self, status: StatusCode, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.code(), code, "body: {}", self.body);
        if let Some(f) = field {
            assert_eq!(self.field(), f, "body: {}", self.body);
        }
        assert!(
            !self.body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }
}

/// The app plus two users with full keys.
#[derive(Debug)]
pub struct Api {
    pub app: Router,
    pub db: PromptDb,
    pub store: Arc<SqliteStore>,
    pub alice: String,
    pub bob: String,
    pub alice_id: promptdb_core::UserId,
}

impl Api {
    pub async fn new() -> Self {
        Self::with_settings(Settings::default()).await
    }

    pub async fn with_settings(settings: Settings) -> Self {
        let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
        let db = PromptDb::with_config(store.clone(), settings.core.clone()).unwrap();
        let alice = db.create_user("Alice").await.unwrap();
        let bob = db.create_user("Bob").await.unwrap();
        let alice_key = db
            .issue_api_key(alice.id, NewApiKey::new("test"))
            .await
            .unwrap()
            .secret;
        let bob_key = db
            .issue_api_key(bob.id, NewApiKey::new("test"))
            .await
            .unwrap()
            .secret;
        let state = AppState::new(db.clone(), settings);
        Self {
            app: promptdb_http::app(state, CancellationToken::new()),
            db,
            store,
            alice: alice_key,
            bob: bob_key,
            alice_id: alice.id,
        }
    }

    /// A key for Alice with these scopes.
    pub async fn alice_key(&self, scopes: &[Scope]) -> String {
        let me = Principal::full(self.alice_id);
        self.db
            .create_api_key(
                &me,
                NewApiKey {
                    name: "scoped".into(),
                    scopes: scopes.to_vec(),
                },
            )
            .await
            .unwrap()
            .secret
    }

    /// A read-only key for Alice.
    pub async fn alice_read_only(&self) -> String {
        let me = Principal::full(self.alice_id);
        self.db
            .create_api_key(
                &me,
                NewApiKey {
                    name: "ro".into(),
                    scopes: vec![Scope::Read],
                },
            )
            .await
            .unwrap()
            .secret
    }

    /// Sends a request with `key` (if any) and a JSON body (if any).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(k) = key {
            req = req.header(header::AUTHORIZATION, format!("Bearer {k}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        self.raw(req.body(body).unwrap()).await
    }

    /// Sends a prepared request.
    pub async fn raw(&self, req: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, Some(&self.alice), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(&self.alice), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(&self.alice), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(&self.alice), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, Some(&self.alice), None)
            .await
    }

    /// Saves prompts for Alice.
    pub async fn seed(&self, prompts: Value) -> Value {
        self.post("/api/v1/prompts", serde_json::json!({ "prompts": prompts }))
            .await
            .expect(StatusCode::CREATED)
    }
}
