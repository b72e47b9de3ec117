//! Request spans named by route, carrying the W3C trace context.
//!
//! An incoming `traceparent` header (`00-<trace-id>-<parent-id>-<flags>`) is continued: its
//! trace id is recorded on the request span, so every log line of the request carries it.
//! Without one, a new trace id is started. Each response carries a `traceparent` naming the
//! request's own span, so clients can correlate.

use std::time::Duration;

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderValue, Response},
};
use tower_http::trace::{MakeSpan, OnResponse};
use tracing::{Span, field::Empty};

/// The trace context of one request.
#[derive(Debug, Clone)]
pub struct TraceContext {
    /// 32 lower-case hex digits.
    pub trace_id: String,
    /// This request's span id, 16 lower-case hex digits.
    pub span_id: String,
    /// The caller's span id, if it sent one.
    pub parent_id: Option<String>,
    /// Trace flags (`01` = sampled).
    pub flags: String,
}

impl TraceContext {
    /// Continues the trace of a `traceparent` header, or starts a new one.
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        let span_id = random_hex(8);
        if let Some((trace_id, parent_id, flags)) = value
            .and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent)
        {
            return Self {
                trace_id: trace_id.to_owned(),
                span_id,
                parent_id: Some(parent_id.to_owned()),
                flags: flags.to_owned(),
            };
        }
        Self {
            trace_id: random_hex(16),
            span_id,
            parent_id: None,
            flags: "01".to_owned(),
        }
    }

    /// The `traceparent` value naming this request's span.
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Splits a version-00 `traceparent` into trace id, parent id and flags; `None` if invalid.
pub fn parse_traceparent(v: &str) -> Option<(&str, &str, &str)> {
    let mut parts = v.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let valid = version == "00"
        && parts.next().is_none()
        && is_hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && is_hex(parent, 16)
        && parent.bytes().any(|b| b != b'0')
        && is_hex(flags, 2);
    valid.then_some((trace, parent, flags))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = [0u8; 16];
    let buf = &mut buf[..bytes.min(16)];
    if getrandom::fill(buf).is_err() || buf.iter().all(|b| *b == 0) {
        // All-zero ids are invalid in W3C trace context; fall back to the clock.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos())
            .max(1);
        buf.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (nanos >> ((i % 16) * 8)) as u8 | 1);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Names the request span by its route template and records the trace context.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouteSpan;

impl<B> MakeSpan<B> for RouteSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
        let ctx = req
            .extensions()
            .get::<TraceContext>()
            .cloned()
            .unwrap_or_else(|| TraceContext::from_header(None));
        tracing::info_span!(
            "request",
            method = %req.method(),
            route = %route,
            trace_id = %ctx.trace_id,
            span_id = %ctx.span_id,
            parent_span_id = ctx.parent_id.as_deref().unwrap_or(""),
            status = Empty,
            latency_ms = Empty,
        )
    }
}

/// Logs one line per response with its status and latency.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogResponse;

impl<B> OnResponse<B> for LogResponse {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        let status = response.status().as_u16();
        span.record("status", status);
        span.record("latency_ms", latency.as_secs_f64() * 1e3);
        if response.status().is_server_error() {
            tracing::error!(status, "response");
        } else {
            tracing::debug!(status, "response");
        }
    }
}

/// Middleware: reads `traceparent`, stores the context for the span, echoes it in the response.
pub async fn trace_context(
    mut req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let ctx = TraceContext::from_header(req.headers().get("traceparent"));
    let header = HeaderValue::from_str(&ctx.traceparent()).ok();
    req.extensions_mut().insert(ctx);
    let mut response = next.run(req).await;
    if let Some(h) = header {
        response.headers_mut().insert("traceparent", h);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_parsed_strictly() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(ok),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01"))
        );
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
    }

    #[test]
    fn contexts_continue_or_start_traces() {
        let incoming =
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        let ctx = TraceContext::from_header(Some(&incoming));
        assert_eq!(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.parent_id.as_deref(), Some("00f067aa0ba902b7"));
        assert!(parse_traceparent(&ctx.traceparent()).is_some());
        let fresh = TraceContext::from_header(None);
        assert!(parse_traceparent(&fresh.traceparent()).is_some());
        assert_ne!(fresh.trace_id, TraceContext::from_header(None).trace_id);
    }
}
