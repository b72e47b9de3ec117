//! MCP resources: every prompt as `prompt://{slug}`, and the library widget.

use promptdb_core::{ListQuery, Principal, PromptDb};
use rmcp::{
    ErrorData as McpError,
    model::{ListResourcesResult, MetaObject, Resource, ResourceContents, ResourceTemplate},
};

use super::tools::failure_message;

/// The widget for MCP Apps hosts.
pub const WIDGET_URI: &str = "ui://widget/prompt-library.html";
/// The same widget for ChatGPT's Apps SDK.
pub const SKYBRIDGE_URI: &str = "ui://widget/prompt-library-skybridge.html";
/// The health widget (`health_check`).
pub const HEALTH_URI: &str = "ui://widget/health";
/// The health widget for ChatGPT's Apps SDK.
pub const HEALTH_SKYBRIDGE_URI: &str = "ui://widget/health-skybridge.html";
/// The MCP Apps extension's identifier, as clients advertise it in their capabilities.
pub const UI_EXTENSION: &str = "io.modelcontextprotocol/ui";
/// MIME type of MCP Apps HTML.
pub const MCP_APP_MIME: &str = "text/html;profile=mcp-app";
/// MIME type ChatGPT expects for widget templates.
pub const SKYBRIDGE_MIME: &str = "text/html+skybridge";
/// The resource template of prompts.
pub const PROMPT_URI_TEMPLATE: &str = "prompt://{slug}";
const PROMPT_SCHEME: &str = "prompt://";
const PROMPT_MIME: &str = "text/markdown";

/// One self-contained document for a view: put together at build time from the web app's
/// stylesheet (its design tokens and components) and DOM helpers, the host bridge and the
/// view's own script (`app/`). Nothing is loaded from elsewhere, so the host's default CSP
/// (`connect-src 'none'`, no remote scripts) holds.
macro_rules! view_document {
    ($script:literal) => {
        concat!(
            include_str!("app/head.html"),
            include_str!("../../web/app.css"),
            include_str!("app/app.css"),
            include_str!("app/body.html"),
            include_str!("../../web/dom.js"),
            include_str!("app/bridge.js"),
            include_str!($script),
            include_str!("app/tail.html"),
        )
    };
}

/// The library app.
const WIDGET_HTML: &str = view_document!("app/library.js");
/// The health widget.
const HEALTH_HTML: &str = view_document!("app/health.js");

fn widget_meta() -> MetaObject {
    let mut meta = MetaObject::new();
    meta.insert(
        "openai/widgetDescription".into(),
        serde_json::json!("The user's saved prompts, filterable, each with a button to use it."),
    );
    meta.insert("openai/widgetPrefersBorder".into(), serde_json::json!(true));
    meta
}

/// MCP Apps metadata of the app: nothing remote to load or call (the host's strictest CSP
/// holds), and the clipboard for "Copy".
fn app_meta() -> MetaObject {
    let mut meta = MetaObject::new();
    meta.insert(
        "ui".into(),
        serde_json::json!({
            "csp": { "connectDomains": [], "resourceDomains": [] },
            "permissions": { "clipboardWrite": {} },
            "prefersBorder": true,
        }),
    );
    meta
}

/// The widget resources.
pub fn widgets() -> Vec<Resource> {
    vec![
        Resource::new(WIDGET_URI, "prompt-library")
            .with_title("Prompt library")
            .with_description("Interactive view of your prompts (MCP Apps)")
            .with_mime_type(MCP_APP_MIME)
            .with_meta(app_meta()),
        Resource::new(SKYBRIDGE_URI, "prompt-library-chatgpt")
            .with_title("Prompt library (ChatGPT)")
            .with_description("Interactive view of your prompts (ChatGPT Apps SDK)")
            .with_mime_type(SKYBRIDGE_MIME)
            .with_meta(widget_meta()),
        Resource::new(HEALTH_URI, "health")
            .with_title("PromptDB health")
            .with_description("The server, its database and sign-in (MCP Apps)")
            .with_mime_type(MCP_APP_MIME)
            .with_meta(app_meta()),
        Resource::new(HEALTH_SKYBRIDGE_URI, "health-chatgpt")
            .with_title("PromptDB health (ChatGPT)")
            .with_description("The server, its database and sign-in (ChatGPT Apps SDK)")
            .with_mime_type(SKYBRIDGE_MIME),
    ]
}

/// The `prompt://{slug}` template.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(PROMPT_URI_TEMPLATE, "prompt")
            .with_title("A saved prompt")
            .with_description("The template text of one of your prompts, by slug")
            .with_mime_type(PROMPT_MIME),
    ]
}

/// A page of the user's prompts as resources, widgets first.
pub async fn list(
    db: &PromptDb,
    me: &Principal,
    cursor: Option<String>,
) -> Result<ListResourcesResult, McpError> {
    let first_page = cursor.is_none();
    let page = db
        .list_prompts(
            me,
            ListQuery {
                limit: Some(100),
                cursor,
                ..ListQuery::default()
            },
        )
        .await
        .map_err(|e| McpError::invalid_params(failure_message(&e), None))?;
    let mut resources = if first_page { widgets() } else { Vec::new() };
    resources.extend(page.items.into_iter().map(|p| {
        let mut r = Resource::new(format!("{PROMPT_SCHEME}{}", p.slug), p.slug.to_string())
            .with_title(p.name)
            .with_mime_type(PROMPT_MIME);
        if !p.description.is_empty() {
            r = r.with_description(p.description);
        }
        r
    }));
    let mut result = ListResourcesResult::with_all_items(resources);
    result.next_cursor = page.next_cursor;
    Ok(result)
}

/// Reads a widget or a prompt. `None` if the URI is not ours.
pub async fn read(
    db: &PromptDb,
    me: Option<&Principal>,
    uri: &str,
) -> Result<Option<ResourceContents>, McpError> {
    match uri {
        WIDGET_URI => {
            return Ok(Some(
                ResourceContents::text(WIDGET_HTML, uri)
                    .with_mime_type(MCP_APP_MIME)
                    .with_meta(app_meta()),
            ));
        }
        SKYBRIDGE_URI => {
            return Ok(Some(
                ResourceContents::text(WIDGET_HTML, uri)
                    .with_mime_type(SKYBRIDGE_MIME)
                    .with_meta(widget_meta()),
            ));
        }
        HEALTH_URI => {
            return Ok(Some(
                ResourceContents::text(HEALTH_HTML, uri)
                    .with_mime_type(MCP_APP_MIME)
                    .with_meta(app_meta()),
            ));
        }
        HEALTH_SKYBRIDGE_URI => {
            return Ok(Some(
                ResourceContents::text(HEALTH_HTML, uri).with_mime_type(SKYBRIDGE_MIME),
            ));
        }
        _ => {}
    }
    let Some(slug) = uri.strip_prefix(PROMPT_SCHEME) else {
        return Ok(None);
    };
    let me = me.ok_or_else(|| McpError::invalid_request("not authenticated", None))?;
    match db.get_prompt(me, slug).await {
        Ok(p) => Ok(Some(
            ResourceContents::text(p.content, uri).with_mime_type(PROMPT_MIME),
        )),
        Err(promptdb_core::Error::NotFound { .. } | promptdb_core::Error::Invalid { .. }) => {
            Err(McpError::resource_not_found(
                format!("no prompt at {uri}"),
                Some(serde_json::json!({ "uri": uri })),
            ))
        }
        Err(e) => Err(McpError::internal_error(failure_message(&e), None)),
    }
}
