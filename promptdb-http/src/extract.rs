//! Request extractors whose rejections use the API's error shape.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, header, request::Parts},
};
use promptdb_core::{Error, Principal};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body, deserialised with the path of any bad field (`prompts[2].tags`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::bad_request(
                None,
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES)
            } else {
                ApiError::bad_request(None, rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserialises JSON, reporting syntax errors as malformed and shape errors as invalid fields.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    // Bodies are objects: derived structs would also take a list of their fields.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        return Err(ApiError::Core(Error::invalid(
            "body",
            "must be a JSON object",
        )));
    }
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::Core(Error::invalid(field, strip_position(&inner.to_string())))
            }
            _ => ApiError::bad_request(None, format!("the body is not valid JSON: {inner}")),
        }
    })
}

/// serde_json appends " at line 1 column 42" to data errors; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The authenticated caller, put in the request by the auth middleware.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or(ApiError::Core(Error::Unauthorized))
    }
}

/// Query-string pairs in order, repeated keys kept (`?tag=a&tag=b`).
#[derive(Debug, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map(QueryPairs)
            .map_err(|e| ApiError::bad_request(None, format!("the query string is malformed: {e}")))
    }
}

impl QueryPairs {
    /// Rejects any parameter not in `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((k, _)) => Err(ApiError::Core(Error::invalid(
                k.clone(),
                format!(
                    "unknown query parameter; known ones are: {}",
                    known.join(", ")
                ),
            ))),
            None => Ok(()),
        }
    }

    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every value of `key`, refused when there are more than `max`.
    pub fn at_most(&self, key: &str, max: usize) -> Result<Vec<String>, ApiError> {
        let values = self.all(key);
        if values.len() > max {
            return Err(ApiError::Core(Error::invalid(
                key,
                format!("at most {max} are allowed (got {})", values.len()),
            )));
        }
        Ok(values)
    }

    /// `key` parsed as a number.
    pub fn u32(&self, key: &str) -> Result<Option<u32>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::Core(Error::invalid(key, "must be a whole number")))
            })
            .transpose()
    }

    /// `key` parsed as `true` / `false`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        self.get(key)
            .map(|v| match v {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(ApiError::Core(Error::invalid(
                    key,
                    "must be `true` or `false`",
                ))),
            })
            .transpose()
    }
}
