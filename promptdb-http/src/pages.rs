//! Small server-rendered pages: the home page, and the login pages' messages.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// Escapes text for HTML.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page with a title and a body (already HTML).
pub(crate) fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} · PromptDB</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}}\
         code{{background:#f3f3f3;padding:0 .25rem}}</style></head><body><h1>{title}</h1>{body_html}</body></html>",
        title = html_escape(title)
    );
    let mut r = (status, Html(html)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(not(feature = "web"))]
pub(crate) use home::home;

#[cfg(not(feature = "web"))]
mod home {
    use axum::{extract::State, http::HeaderMap};

    use super::*;
    use crate::{
        auth::{SESSION_COOKIE, cookie},
        state::AppState,
    };

    /// `GET /` without the web app: where the server is and how to sign in.
    pub(crate) async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
        let auth = &state.auth;
        #[cfg(feature = "oidc")]
        let login = auth.provider().is_some_and(|p| p.client.is_some());
        #[cfg(not(feature = "oidc"))]
        let login = false;
        let mut body = String::from(
            "<p>PromptDB is running. MCP clients connect to <code>/mcp</code>; the REST API lives under \
             <code>/api/v1</code> (<a href=\"/openapi.json\">OpenAPI</a>).</p>",
        );
        if login {
            let signed_in = match cookie(&headers, SESSION_COOKIE) {
                Some(secret) => auth.session(&state.db, secret).await.ok(),
                None => None,
            };
            match signed_in {
                Some(s) => {
                    let name = state
                        .db
                        .me(&promptdb_core::Principal::full(s.user_id))
                        .await
                        .map(|u| u.display_name)
                        .unwrap_or_default();
                    body.push_str(&format!(
                        "<p>Signed in as <strong>{}</strong>.</p><form method=\"post\" action=\"/auth/logout\">\
                         <input type=\"hidden\" name=\"csrf_token\" value=\"{}\"><button>Sign out</button></form>",
                        html_escape(if name.is_empty() { "you" } else { &name }),
                        html_escape(&s.csrf_token)
                    ));
                }
                None => body.push_str("<p><a href=\"/auth/login\">Sign in</a></p>"),
            }
        }
        page(StatusCode::OK, "PromptDB", &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html_escape("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}
