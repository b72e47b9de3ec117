//! Lambda events built from the fixtures in `tests/fixtures`, the handler over a throwaway
//! PostgreSQL database, and (in `runtime_api`) a local Lambda Runtime API for the real binary.

#![allow(dead_code, unreachable_pub)]

pub mod runtime_api;

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use promptdb_core::{NewApiKey, PromptDb};
use promptdb_http::{AppState, Settings};
use promptdb_lambda::LambdaApp;
use promptdb_store_postgres::testing::TestDatabase;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

/// `Host` of the REST API fixture.
pub const REST_API_HOST: &str = "r3pmxmplak.execute-api.eu-west-1.amazonaws.com";
/// `Host` of the HTTP API fixture.
pub const HTTP_API_HOST: &str = "abcdef1234.execute-api.eu-west-1.amazonaws.com";
/// `Host` of the Function URL fixture.
pub const FUNCTION_URL_HOST: &str = "a1b2c3d4e5f6g7h8i9j0klmnop.lambda-url.eu-west-1.on.aws";

/// Where an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An API Gateway REST API (payload 1.0), stage `prod`: `POST /api/v1/prompts` saving
    /// "Code Review".
    RestApi,
    /// An API Gateway HTTP API (payload 2.0), stage `$default`: `GET /api/v1/prompts?tag=dev`.
    HttpApi,
    /// A Lambda Function URL (payload 2.0): `GET /api/v1/prompts/code-review`.
    FunctionUrl,
}

impl Source {
    /// Every source.
    pub const ALL: [Self; 3] = [Self::RestApi, Self::HttpApi, Self::FunctionUrl];

    fn fixture(self) -> &'static str {
        match self {
            Self::RestApi => include_str!("../fixtures/apigw-v1-rest.json"),
            Self::HttpApi => include_str!("../fixtures/apigw-v2-http.json"),
            Self::FunctionUrl => include_str!("../fixtures/function-url.json"),
        }
    }

    /// The `Host` header of its fixture.
    pub fn host(self) -> &'static str {
        match self {
            Self::RestApi => REST_API_HOST,
            Self::HttpApi => HTTP_API_HOST,
            Self::FunctionUrl => FUNCTION_URL_HOST,
        }
    }
}

/// A Lambda event: a fixture, with whatever the test changes.
#[derive(Debug, Clone)]
pub struct Event {
    /// Where it comes from.
    pub source: Source,
    json: Value,
    method: Option<String>,
    path: Option<String>,
    query: Option<String>,
    stage: Option<String>,
    source_ip: Option<String>,
    headers: Vec<(String, Option<String>)>,
    body: Option<(Option<String>, bool)>,
}

impl Event {
    /// The fixture of `source` as it is.
    pub fn new(source: Source) -> Self {
        Self {
            source,
            json: serde_json::from_str(source.fixture()).expect("the fixture is JSON"),
            method: None,
            path: None,
            query: None,
            stage: None,
            source_ip: None,
            headers: Vec::new(),
            body: None,
        }
    }

    /// `method path?query`, with no body (set one with [`Event::json`] or [`Event::body`]).
    pub fn request(source: Source, method: &str, path_and_query: &str) -> Self {
        Self::new(source)
            .method(method)
            .path(path_and_query)
            .body(None, false)
            .without_header("content-type")
    }

    /// The HTTP method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// The path the caller asked for (without any stage) and its query string.
    pub fn path(mut self, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        self.path = Some(path.to_owned());
        self.query = Some(query.to_owned());
        self
    }

    /// The API Gateway stage (`$default` for none).
    pub fn stage(mut self, stage: &str) -> Self {
        self.stage = Some(stage.to_owned());
        self
    }

    /// The caller's address, in the request context and `X-Forwarded-For`.
    pub fn source_ip(mut self, ip: &str) -> Self {
        self.source_ip = Some(ip.to_owned());
        self
    }

    /// Sets a header (replacing one of the same name in any case).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), Some(value.to_owned())));
        self
    }

    /// Removes a header.
    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.push((name.to_owned(), None));
        self
    }

    /// `Authorization: Bearer {key}`.
    pub fn bearer(self, key: &str) -> Self {
        self.header("Authorization", &format!("Bearer {key}"))
    }

    /// The raw body, base64-encoded or not (and no stale `Content-Length`).
    pub fn body(mut self, body: Option<&str>, base64: bool) -> Self {
        self.body = Some((body.map(str::to_owned), base64));
        self.without_header("content-length")
    }

    /// A JSON body with its content type.
    pub fn json(self, body: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .body(Some(&body.to_string()), false)
    }

    /// A JSON-RPC request to `/mcp` as MCP clients send it (no session).
    pub fn mcp(source: Source, key: &str, message: &Value) -> Self {
        Self::new(source)
            .method("POST")
            .path("/mcp")
            .bearer(key)
            .header("Accept", "application/json, text/event-stream")
            .json(message)
    }

    /// The event as the Lambda service would send it.
    pub fn to_json(&self) -> Value {
        let mut event = self.json.clone();
        let v1 = self.source == Source::RestApi;
        if let Some(stage) = &self.stage {
            event["requestContext"]["stage"] = json!(stage);
        }
        let stage = event["requestContext"]["stage"]
            .as_str()
            .unwrap_or("$default")
            .to_owned();
        if let Some(method) = &self.method {
            if v1 {
                event["httpMethod"] = json!(method);
                event["requestContext"]["httpMethod"] = json!(method);
            } else {
                event["requestContext"]["http"]["method"] = json!(method);
            }
        }
        let path = match &self.path {
            Some(path) => path.clone(),
            None if v1 => event["path"].as_str().unwrap_or("/").to_owned(),
            None => {
                let raw = event["rawPath"].as_str().unwrap_or("/");
                raw.strip_prefix(&format!("/{stage}"))
                    .filter(|_| stage != "$default")
                    .unwrap_or(raw)
                    .to_owned()
            }
        };
        if v1 {
            event["path"] = json!(path);
            event["pathParameters"] = json!({ "proxy": path.trim_start_matches('/') });
            event["requestContext"]["path"] = json!(format!("/{stage}{path}"));
        } else {
            let raw = if stage == "$default" {
                path
            } else {
                format!("/{stage}{path}")
            };
            event["rawPath"] = json!(raw);
            event["requestContext"]["http"]["path"] = json!(raw);
        }
        if let Some(query) = &self.query {
            let mut single = Map::new();
            let mut multi = Map::new();
            for (k, v) in query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split_once('=').unwrap_or((p, "")))
            {
                single.insert(k.to_owned(), json!(v));
                let values = multi.entry(k.to_owned()).or_insert_with(|| json!([]));
                if let Some(list) = values.as_array_mut() {
                    list.push(json!(v));
                }
            }
            let object = |m: Map<String, Value>| {
                if m.is_empty() {
                    Value::Null
                } else {
                    Value::Object(m)
                }
            };
            if v1 {
                event["queryStringParameters"] = object(single);
                event["multiValueQueryStringParameters"] = object(multi);
            } else {
                event["rawQueryString"] = json!(query);
                // HTTP APIs leave the field out when there is no query.
                let params = object(single);
                if !params.is_null() {
                    event["queryStringParameters"] = params;
                } else if let Some(fields) = event.as_object_mut() {
                    fields.remove("queryStringParameters");
                }
            }
        }
        let mut headers = self.headers.clone();
        if let Some(ip) = &self.source_ip {
            if v1 {
                event["requestContext"]["identity"]["sourceIp"] = json!(ip);
            } else {
                event["requestContext"]["http"]["sourceIp"] = json!(ip);
            }
            headers.push(("X-Forwarded-For".to_owned(), Some(ip.clone())));
        }
        for (name, value) in &headers {
            for field in ["headers", "multiValueHeaders"] {
                if let Some(map) = event.get_mut(field).and_then(Value::as_object_mut) {
                    map.retain(|k, _| !k.eq_ignore_ascii_case(name));
                }
            }
            let Some(value) = value else { continue };
            if v1 {
                event["headers"][name.as_str()] = json!(value);
                event["multiValueHeaders"][name.as_str()] = json!([value]);
            } else {
                event["headers"][name.to_ascii_lowercase()] = json!(value);
            }
        }
        if let Some((body, base64)) = &self.body {
            event["body"] = body.as_ref().map_or(Value::Null, |b| json!(b));
            event["isBase64Encoded"] = json!(base64);
        }
        event
    }

    /// The event as JSON text.
    pub fn encode(&self) -> String {
        self.to_json().to_string()
    }

    /// The event as lambda_http turns it into a request.
    pub fn into_request(self) -> lambda_http::Request {
        lambda_http::request::from_str(&self.encode()).expect("lambda_http reads the event")
    }
}

/// A response: status, headers, JSON body (`Null` when empty, a string when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        self.body
    }

    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

/// The handler over a throwaway PostgreSQL database, with one user and a key.
#[derive(Debug)]
pub struct TestApp {
    pub app: LambdaApp,
    pub db: PromptDb,
    pub key: String,
    _database: TestDatabase,
}

impl TestApp {
    /// With the default settings, accepting the fixtures' hosts on `/mcp`.
    pub async fn new() -> Self {
        Self::with_settings(|_| {}).await
    }

    /// With the default settings changed by `configure`.
    pub async fn with_settings(configure: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase::create().await;
        let db = PromptDb::new(Arc::new(database.store().await));
        let user = db.create_user("Lambda").await.expect("user");
        let key = db
            .issue_api_key(user.id, NewApiKey::new("test"))
            .await
            .expect("key")
            .secret;
        let mut settings = Settings::default();
        settings
            .mcp_allowed_hosts
            .extend(Source::ALL.map(|s| s.host().to_owned()));
        configure(&mut settings);
        Self {
            app: LambdaApp::new(AppState::new(db.clone(), settings)),
            db,
            key,
            _database: database,
        }
    }

    /// Routes `event` through the handler in-process.
    pub async fn send(&self, event: Event) -> Reply {
        let Ok(response) = self.app.clone().oneshot(event.into_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body");
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
}
