//! The one error shape of the HTTP API: `{"error": {"code", "message", "field"}}`.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use promptdb_core::Error;
use serde::Serialize;

/// An error on its way to an HTTP client.
#[derive(Debug)]
pub enum ApiError {
    /// A domain error from PromptDB.
    Core(Error),
    /// The request itself is malformed (bad JSON, wrong content type, unknown parameter).
    BadRequest {
        /// The field or parameter at fault, if known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The body is larger than the route allows.
    PayloadTooLarge(usize),
    /// No route matches.
    NoRoute,
    /// The route exists but not for this method.
    MethodNotAllowed,
    /// Too many requests; retry after this many seconds.
    RateLimited(u64),
}

/// The JSON body of every error.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `invalid`, `malformed`, `not_found`, `conflict`,
    /// `unauthorized`, `forbidden`, `payload_too_large`, `rate_limited`, `unavailable`,
    /// `internal`, …
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// The input field at fault, as a path (`prompts[2].slug`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self::Core(e)
    }
}

impl ApiError {
    /// A malformed-request error about `field`.
    pub fn bad_request(field: impl Into<Option<String>>, message: impl Into<String>) -> Self {
        Self::BadRequest {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Core(e) => match e {
                Error::NotFound { .. } => StatusCode::NOT_FOUND,
                Error::Conflict { .. } | Error::QuotaExceeded { .. } => StatusCode::CONFLICT,
                Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                Error::Unauthorized => StatusCode::UNAUTHORIZED,
                Error::Forbidden { .. } => StatusCode::FORBIDDEN,
                Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                Error::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NoRoute => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The body: server-side failures are logged in full and reported without details.
    pub fn detail(&self) -> ErrorDetail {
        match self {
            Self::Core(e @ (Error::Unavailable(_) | Error::StorageFull(_) | Error::Backend(_))) => {
                tracing::error!(error = %e, source = ?std::error::Error::source(e), "request failed");
                let message = match e {
                    Error::Unavailable(_) => "the database is unavailable; try again shortly",
                    Error::StorageFull(_) => {
                        "the database's disk is full: nothing was written; reading still works, and writing will again once space is freed"
                    }
                    _ => "internal error",
                };
                ErrorDetail {
                    code: e.code(),
                    message: message.into(),
                    field: None,
                }
            }
            Self::Core(e) => ErrorDetail {
                code: e.code(),
                message: e.to_string(),
                field: e.field().map(str::to_owned),
            },
            Self::BadRequest { field, message } => ErrorDetail {
                code: "malformed",
                message: message.clone(),
                field: field.clone(),
            },
            Self::PayloadTooLarge(limit) => ErrorDetail {
                code: "payload_too_large",
                message: format!("the request body must be at most {limit} bytes"),
                field: None,
            },
            Self::NoRoute => ErrorDetail {
                code: "no_route",
                message: "no such endpoint; see /openapi.json".into(),
                field: None,
            },
            Self::MethodNotAllowed => ErrorDetail {
                code: "method_not_allowed",
                message: "this endpoint does not support this method; see /openapi.json".into(),
                field: None,
            },
            Self::RateLimited(secs) => ErrorDetail {
                code: "rate_limited",
                message: format!("too many requests; try again in {secs} s"),
                field: None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match self {
            Self::RateLimited(secs) => Some(secs),
            _ => None,
        };
        let body = ErrorBody {
            error: self.detail(),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
