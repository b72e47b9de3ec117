//! The web app (feature `web`): the library in a browser. Plain HTML, CSS and JavaScript
//! modules from `web/`, embedded at build time under one content hash (`/assets/<hash>/…`,
//! cached for a year) and gzip-compressed; `/` serves `index.html` (never cached). Every page
//! carries a strict Content-Security-Policy: scripts and styles from this origin only, no inline
//! code, Trusted Types for the DOM sinks, no framing.
//!
//! The app talks to the REST API with the session cookie and sends the CSRF token from
//! `GET /auth/session` on writes; it signs in through `/auth/login` (OIDC), a one-time link
//! (`/auth/link`, local mode), or an API key (`POST /auth/key`).

use axum::{
    Router,
    extract::{Path, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// An embedded file.
#[derive(Debug)]
pub(crate) struct Asset {
    pub(crate) path: &'static str,
    pub(crate) mime: &'static str,
    pub(crate) body: &'static [u8],
    pub(crate) gzip: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The Content-Security-Policy of every page.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types promptdb";

/// The URL prefix of the embedded files.
pub fn assets_base() -> String {
    format!("/assets/{BUILD_HASH}")
}

/// `/` and `/assets/<hash>/…`.
pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{hash}/{*path}", get(asset))
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip"))
}

/// Security headers of the app's responses.
pub(crate) fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

fn serve(asset: &'static Asset, headers: &HeaderMap, cache: &'static str) -> Response {
    let mut r = if accepts_gzip(headers) {
        let mut r = asset.gzip.into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        asset.body.into_response()
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    secure(r)
}

/// A file from `PROMPTDB_WEB_DIR`, for working on the pages without rebuilding (debug builds).
#[cfg(debug_assertions)]
fn from_dev_dir(path: &str) -> Option<Response> {
    let dir = std::env::var_os("PROMPTDB_WEB_DIR")?;
    if path.split('/').any(|s| s == ".." || s.is_empty()) {
        return None;
    }
    let bytes = std::fs::read(std::path::Path::new(&dir).join(path)).ok()?;
    let bytes = if path == "index.html" {
        String::from_utf8_lossy(&bytes)
            .replace("%ASSETS%", &assets_base())
            .into_bytes()
    } else {
        bytes
    };
    let mime = find(path).map_or_else(
        || match path.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("html") => "text/html; charset=utf-8",
            Some("svg") => "image/svg+xml",
            _ => "application/octet-stream",
        },
        |a| a.mime,
    );
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(secure(r))
}

#[cfg(not(debug_assertions))]
fn from_dev_dir(_: &str) -> Option<Response> {
    None
}

async fn index(req: Request) -> Response {
    if let Some(r) = from_dev_dir("index.html") {
        return r;
    }
    match find("index.html") {
        Some(a) => serve(a, req.headers(), "no-cache"),
        None => (StatusCode::NOT_FOUND, "this build has no web app").into_response(),
    }
}

async fn asset(Path((hash, path)): Path<(String, String)>, req: Request) -> Response {
    if let Some(r) = from_dev_dir(&path) {
        return r;
    }
    match find(&path) {
        // Another build's hash: serve this build's file, but do not let it be cached for good.
        Some(a) if hash == BUILD_HASH => {
            serve(a, req.headers(), "public, max-age=31536000, immutable")
        }
        Some(a) => serve(a, req.headers(), "no-cache"),
        None => crate::error::ApiError::NoRoute.into_response(),
    }
}
