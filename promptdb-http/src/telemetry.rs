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

/// The trace context of one request. Ids are numbers; they are written as lower-case hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    /// The trace (never zero).
    pub trace_id: u128,
    /// This request's span (never zero).
    pub span_id: u64,
    /// The caller's span, if it sent one.
    pub parent_id: Option<u64>,
    /// Trace flags (`01` = sampled).
    pub flags: u8,
}

impl TraceContext {
    /// Continues the trace of a `traceparent` header, or starts a new one.
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        let span_id = random_u64();
        if let Some((trace, parent, flags)) = value
            .and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent)
            && let (Ok(trace_id), Ok(parent_id), Ok(flags)) = (
                u128::from_str_radix(trace, 16),
                u64::from_str_radix(parent, 16),
                u8::from_str_radix(flags, 16),
            )
        {
            return Self {
                trace_id,
                span_id,
                parent_id: Some(parent_id),
                flags,
            };
        }
        Self {
            trace_id: (u128::from(random_u64()) << 64) | u128::from(random_u64()),
            span_id,
            parent_id: None,
            flags: 1,
        }
    }

    /// The trace id as 32 hex digits.
    pub fn trace_id_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    /// The `traceparent` value naming this request's span.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id, self.span_id, self.flags
        )
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Splits a version-00 `traceparent` into trace id, parent id and flags; `None` if invalid.
/// Logs to stderr, filtered by `RUST_LOG` (default `info`, quieter for sqlx and rmcp), as text
/// (with colours when `ansi`) or as one JSON object per line with the request span. Does nothing
/// when a subscriber is already installed.
pub fn init_tracing(format: crate::LogFormat, ansi: bool) {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,rmcp=warn"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match format {
        crate::LogFormat::Text => builder.try_init(),
        crate::LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

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

/// A non-zero random number from a per-thread SplitMix64 generator seeded by the operating
/// system once per thread: trace ids need uniqueness, not secrecy, and a system call per request
/// showed up in profiles.
fn random_u64() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut seed = [0u8; 8];
            let _ = getrandom::fill(&mut seed);
            u64::from_le_bytes(seed) ^ std::process::id() as u64
        });
    }
    STATE.with(|state| {
        loop {
            let next = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            state.set(next);
            let mut z = next;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            if z != 0 {
                return z;
            }
        }
    })
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
            .copied()
            .unwrap_or_else(|| TraceContext::from_header(None));
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            route = %route,
            trace_id = %format_args!("{:032x}", ctx.trace_id),
            span_id = %format_args!("{:016x}", ctx.span_id),
            parent_span_id = Empty,
            status = Empty,
            latency_ms = Empty,
        );
        if let Some(parent) = ctx.parent_id {
            span.record("parent_span_id", format_args!("{parent:016x}"));
        }
        span
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
        assert_eq!(ctx.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.parent_id, Some(0x00f0_67aa_0ba9_02b7));
        assert!(
            ctx.traceparent()
                .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
        );
        assert!(parse_traceparent(&ctx.traceparent()).is_some());
        let fresh = TraceContext::from_header(None);
        assert!(parse_traceparent(&fresh.traceparent()).is_some());
        assert_ne!(fresh.trace_id, TraceContext::from_header(None).trace_id);
    }
}
