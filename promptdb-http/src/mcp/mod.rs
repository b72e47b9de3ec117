//! The MCP server: PromptDB's tools, every saved prompt as an MCP prompt (slash command) and as
//! a `prompt://{slug}` resource, and the library widget. Served over streamable HTTP
//! ([`router`]) and stdio ([`McpFactory::server`] on any rmcp transport).
//!
//! [`router`] is a plain axum router: mount it at any path, behind PromptDB's
//! [`crate::auth::AuthLayer`] or behind the embedding application's own authentication, which
//! puts a [`Principal`] into the request extensions (see `examples/embed_mcp.rs`).

use std::{collections::BTreeMap, sync::Arc};

use axum::Router;
use promptdb_core::{ListQuery, Principal, PromptDb};
use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    handler::server::router::tool::ToolRouter,
    model::{
        GetPromptRequestParams, GetPromptResponse, GetPromptResult, Implementation,
        ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
        PaginatedRequestParams, Prompt, PromptArgument, PromptMessage, ReadResourceRequestParams,
        ReadResourceResponse, ReadResourceResult, Role, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool_handler,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use tokio_util::sync::CancellationToken;

pub mod args;
#[cfg(feature = "conformance")]
pub mod fixtures;
mod guard;
#[cfg(feature = "harvest")]
mod harvest;
#[cfg(feature = "conformance")]
mod mrtr_fixtures;
pub mod resources;
mod schema;
mod text;
mod tools;
#[cfg(feature = "webhooks")]
mod webhooks;

const INSTRUCTIONS: &str = "PromptDB is the user's personal prompt library. Use search_prompts \
(words and #tags) or list_prompts to find prompts, get_prompt for a prompt's text (pass \
`variables` to fill in its {{placeholders}}), save_prompts when the user wants to keep a prompt, \
update_prompt to change one, and track_prompt_use after using one. Every saved prompt is also an \
MCP prompt named by its slug. When the user asks to harvest a conversation, find the prompts in it \
worth keeping and submit them with harvest_session: they wait in a review queue (list_candidates, \
accept_candidate, dismiss_candidate).";

/// The MCP server for one connection (HTTP session or request, or a stdio process).
#[derive(Clone)]
pub struct PromptDbMcp {
    db: PromptDb,
    tools: Arc<ToolRouter<Self>>,
    /// How callers sign in, for `health_check`.
    identity: Arc<Identity>,
    /// The principal when the transport has no HTTP request (stdio runs as the local user).
    local: Option<Principal>,
    #[cfg(feature = "conformance")]
    fixtures: bool,
}

impl std::fmt::Debug for PromptDbMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptDbMcp")
            .field("db", &self.db)
            .field("local", &self.local)
            .field("fixtures", &self.fixtures())
            .finish_non_exhaustive()
    }
}

/// Builds [`PromptDbMcp`] instances cheaply: the tool router is built once and shared.
#[derive(Clone, Debug)]
pub struct McpFactory {
    template: PromptDbMcp,
}

impl McpFactory {
    /// A factory for servers over `db`. `local` is the principal for transports without HTTP
    /// requests (stdio, in-process); over HTTP the caller comes from the request.
    pub fn new(db: PromptDb, local: Option<Principal>) -> Self {
        Self {
            template: PromptDbMcp {
                db,
                tools: Arc::new(PromptDbMcp::all_tools()),
                identity: Arc::new(Identity::default()),
                local,
                #[cfg(feature = "conformance")]
                fixtures: false,
            },
        }
    }

    /// The same factory, reporting `identity` in `health_check`.
    pub fn with_identity(mut self, identity: Identity) -> Self {
        self.template.identity = Arc::new(identity);
        self
    }

    /// The same factory adding the conformance suite's fixture tools, prompts and resources
    /// (test mode only).
    #[cfg(feature = "conformance")]
    pub fn with_fixtures(mut self) -> Self {
        let mut tools = PromptDbMcp::all_tools();
        tools += PromptDbMcp::fixture_tools();
        tools += PromptDbMcp::fixture_client_tools();
        tools += PromptDbMcp::fixture_stateless_tools();
        tools += PromptDbMcp::fixture_mrtr_tools();
        self.template.tools = Arc::new(tools);
        self.template.fixtures = true;
        self
    }

    /// Names of the product tools that need the write scope (not annotated read-only).
    /// `set_label` is not among them: the release scope alone may move labels, and core checks
    /// which scope each label needs.
    pub fn write_tools() -> Vec<String> {
        PromptDbMcp::all_tools()
            .list_all()
            .into_iter()
            .filter(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) != Some(true))
            .map(|t| t.name.into_owned())
            .filter(|name| name != "set_label")
            .collect()
    }

    /// A server instance.
    pub fn server(&self) -> PromptDbMcp {
        self.template.clone()
    }
}

/// How callers of a server sign in, as `health_check` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Identity {
    /// `local` (API keys of the local user) or `oidc` (an OpenID Connect provider).
    pub mode: String,
    /// The provider (`oidc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// `ok` for API keys; for a provider, `ok` when its keys were fetched at start (the server
    /// does not start without them).
    pub status: String,
}

impl Default for Identity {
    fn default() -> Self {
        Self {
            mode: "local".into(),
            issuer: None,
            status: "ok".into(),
        }
    }
}

/// Settings of the MCP endpoint over HTTP.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// `Host` values accepted (DNS-rebinding protection); empty or `*` accepts any. Loopback
    /// names by default: add the public host name behind a proxy.
    pub allowed_hosts: Vec<String>,
    /// Stateless JSON-response mode without sessions (serverless deployments).
    pub stateless: bool,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Cancel to close open event streams (at shutdown).
    pub shutdown: CancellationToken,
    /// How callers sign in (for `health_check`).
    pub identity: Identity,
    /// Serve the conformance suite's fixtures (test mode only).
    #[cfg(feature = "conformance")]
    pub fixtures: bool,
}

impl Default for McpOptions {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            stateless: false,
            max_body_bytes: crate::MAX_BODY_BYTES,
            shutdown: CancellationToken::new(),
            identity: Identity::default(),
            #[cfg(feature = "conformance")]
            fixtures: false,
        }
    }
}

/// The MCP endpoint over `db` as an axum router answering at its root: nest it at any path
/// (`Router::new().nest("/mcp", promptdb_http::mcp::router(db, McpOptions::default()))`).
/// Something in front must put the caller's [`Principal`] into the request extensions; tools
/// read it from there.
pub fn router(db: PromptDb, options: McpOptions) -> Router {
    #[cfg_attr(not(feature = "conformance"), allow(unused_mut))]
    let mut factory = McpFactory::new(db, None).with_identity(options.identity.clone());
    #[cfg(feature = "conformance")]
    if options.fixtures {
        factory = factory.with_fixtures();
    }
    let guard = guard::Guard::new(options.max_body_bytes);
    Router::new()
        .route_service("/", service(factory, &options))
        .layer(axum::middleware::from_fn_with_state(guard, guard::guard))
}

/// The MCP endpoint as a tower service.
fn service(
    factory: McpFactory,
    options: &McpOptions,
) -> StreamableHttpService<PromptDbMcp, LocalSessionManager> {
    let shutdown = options.shutdown.clone();
    // Stateless (2026-07-28) requests get plain JSON responses: one response per request needs
    // no event stream, and an SSE response costs a stream set-up and teardown per call.
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(shutdown)
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_json_response(true);
    config = if options.allowed_hosts.is_empty() || options.allowed_hosts.iter().any(|h| h == "*") {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(options.allowed_hosts.clone())
    };
    if options.stateless {
        config = config
            .with_legacy_session_mode(false)
            .with_json_response(true);
    }
    StreamableHttpService::new(
        move || Ok(factory.server()),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}

impl PromptDbMcp {
    /// The product's tools: the library's, and harvest's and webhooks' when built with them.
    fn all_tools() -> rmcp::handler::server::router::tool::ToolRouter<Self> {
        #[cfg_attr(not(any(feature = "harvest", feature = "webhooks")), allow(unused_mut))]
        let mut tools = Self::product_tools();
        #[cfg(feature = "harvest")]
        {
            tools += Self::harvest_tools();
        }
        #[cfg(feature = "webhooks")]
        {
            tools += Self::webhook_tools();
        }
        tools
    }

    /// Whether the built-in `harvest` prompt is this user's: not when they saved a prompt with
    /// that slug themselves.
    #[cfg(feature = "harvest")]
    async fn builtin_harvest(&self, me: &Principal) -> bool {
        matches!(
            self.db.get_prompt(me, harvest::PROMPT_NAME).await,
            Err(promptdb_core::Error::NotFound { .. })
        )
    }

    /// The caller: from the HTTP request an auth layer authenticated, else the local user.
    fn principal(&self, ctx: &RequestContext<RoleServer>) -> Result<Principal, McpError> {
        if let Some(parts) = ctx.extensions.get::<http::request::Parts>() {
            return parts
                .extensions
                .get::<Principal>()
                .cloned()
                .ok_or_else(|| McpError::invalid_request("not authenticated", None));
        }
        self.local
            .clone()
            .ok_or_else(|| McpError::invalid_request("not authenticated", None))
    }

    fn optional_principal(&self, ctx: &RequestContext<RoleServer>) -> Option<Principal> {
        self.principal(ctx).ok()
    }

    /// Whether the conformance fixtures are served.
    fn fixtures(&self) -> bool {
        #[cfg(feature = "conformance")]
        return self.fixtures;
        #[cfg(not(feature = "conformance"))]
        false
    }
}

/// Prompt arguments arrive as JSON; MCP says strings, but be lenient with numbers and booleans.
fn argument_values(
    arguments: Option<serde_json::Map<String, serde_json::Value>>,
) -> BTreeMap<String, String> {
    arguments
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

#[tool_handler(router = self.tools)]
impl ServerHandler for PromptDbMcp {
    fn get_info(&self) -> ServerConfig {
        #[cfg(feature = "conformance")]
        if self.fixtures {
            return fixtures::server_config(INSTRUCTIONS);
        }
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .enable_resources()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new("promptdb", env!("CARGO_PKG_VERSION")).with_title("PromptDB"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    /// The tools. The MCP Apps metadata (`_meta.ui`) goes only to clients that advertise the
    /// extension (`io.modelcontextprotocol/ui`, in `initialize` or, under 2026-07-28, on the
    /// request); ChatGPT's own keys (`openai/…`) stay for it, and every tool's text result is
    /// useful without any UI.
    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListToolsResult, McpError> {
        let supports_cache_hints = ctx
            .protocol_version()
            .is_some_and(|version| version >= rmcp::model::ProtocolVersion::V_2026_07_28);
        let apps = ctx
            .client_capabilities()
            .and_then(|c| c.extensions)
            .is_some_and(|e| e.contains_key(resources::UI_EXTENSION));
        let mut tools = self.tools.list_all();
        if !apps {
            for tool in &mut tools {
                if let Some(meta) = tool.meta.as_mut() {
                    meta.0.remove("ui");
                }
            }
        }
        let mut result = rmcp::model::ListToolsResult::with_all_items(tools);
        if supports_cache_hints {
            // The list depends on the request's own capabilities, never on who asks.
            result.ttl_ms = Some(0);
            result.cache_scope = Some(rmcp::model::CacheScope::Public);
        }
        Ok(result)
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let me = self.principal(&ctx)?;
        let cursor = request.and_then(|r| r.cursor);
        let mut prompts = Vec::new();
        #[cfg(feature = "conformance")]
        if self.fixtures && cursor.is_none() {
            prompts.extend(fixtures::prompts());
        }
        #[cfg(feature = "harvest")]
        if cursor.is_none() && self.builtin_harvest(&me).await {
            prompts.push(harvest::listed_prompt());
        }
        let page = self
            .db
            .list_prompts(
                &me,
                ListQuery {
                    limit: Some(100),
                    cursor,
                    ..ListQuery::default()
                },
            )
            .await
            .map_err(|e| McpError::invalid_params(tools::failure_message(&e), None))?;
        for summary in page.items {
            // Variables live on the full prompt; the summary list does not carry them.
            let full = self
                .db
                .get_prompt(&me, summary.slug.as_str())
                .await
                .map_err(|e| McpError::internal_error(tools::failure_message(&e), None))?;
            let arguments: Vec<PromptArgument> = full
                .variables
                .iter()
                .map(|v| {
                    let mut a = PromptArgument::new(&v.name)
                        .with_required(v.required && v.default.is_none());
                    if !v.description.is_empty() {
                        a = a.with_description(&v.description);
                    }
                    a
                })
                .collect();
            let description = if full.description.is_empty() {
                full.name.clone()
            } else {
                full.description.clone()
            };
            prompts.push(
                Prompt::new(full.slug.as_str(), Some(description), Some(arguments))
                    .with_title(full.name),
            );
        }
        let mut result = ListPromptsResult::with_all_items(prompts);
        result.next_cursor = page.next_cursor;
        Ok(result)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        #[cfg(feature = "conformance")]
        if self.fixtures {
            if let Some(result) = fixtures::get_prompt(&request.name, request.arguments.as_ref()) {
                return result.map(Into::into);
            }
            if let Some(result) =
                mrtr_fixtures::get_prompt(&request.name, request.input_responses.as_ref())
            {
                return result;
            }
        }
        let me = self.principal(&ctx)?;
        #[cfg(feature = "harvest")]
        if request.name == harvest::PROMPT_NAME && self.builtin_harvest(&me).await {
            let focus = request
                .arguments
                .as_ref()
                .and_then(|a| a.get("focus"))
                .and_then(|v| v.as_str());
            return Ok(harvest::get_prompt(focus).into());
        }
        let values = argument_values(request.arguments);
        let prompt = self
            .db
            .get_prompt(&me, &request.name)
            .await
            .map_err(|e| match e {
                promptdb_core::Error::NotFound { .. } | promptdb_core::Error::Invalid { .. } => {
                    McpError::invalid_params(format!("no prompt named `{}`", request.name), None)
                }
                e => McpError::internal_error(tools::failure_message(&e), None),
            })?;
        let resolved = self
            .db
            .resolve(
                &me,
                promptdb_core::ResolveRequest {
                    slug: request.name.clone(),
                    label: Some(promptdb_core::release::LATEST.to_owned()),
                    variables: Some(values),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| McpError::invalid_params(e.to_string(), None))?;
        // MCP messages are the user's or the assistant's: a chat prompt's system messages go
        // first, as the user's.
        let messages = match resolved.rendered {
            Some(promptdb_core::Rendered::Chat(messages)) => messages
                .into_iter()
                .map(|m| {
                    let role = match m.role {
                        promptdb_core::ChatRole::Assistant => Role::Assistant,
                        _ => Role::User,
                    };
                    PromptMessage::new_text(role, m.content)
                })
                .collect(),
            Some(promptdb_core::Rendered::Text(text)) => {
                vec![PromptMessage::new_text(Role::User, text)]
            }
            None => Vec::new(),
        };
        if me.can_write()
            && let Err(e) = self
                .db
                .track_prompt_use(&me, &request.name, Some(resolved.version))
                .await
        {
            tracing::warn!(error = %e, "could not record the use of an MCP prompt");
        }
        let description = if prompt.description.is_empty() {
            prompt.name
        } else {
            prompt.description
        };
        Ok(GetPromptResult::new(messages)
            .with_description(description)
            .into())
    }

    // Logging levels and resource subscriptions exist only for the conformance fixtures:
    // PromptDB sends no log notifications and its resources change only when the user edits them.
    #[allow(deprecated)]
    async fn set_level(
        &self,
        _request: rmcp::model::SetLevelRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if self.fixtures() {
            Ok(())
        } else {
            Err(McpError::method_not_found::<
                rmcp::model::SetLevelRequestMethod,
            >())
        }
    }

    #[allow(deprecated)]
    async fn subscribe(
        &self,
        _request: rmcp::model::SubscribeRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if self.fixtures() {
            Ok(())
        } else {
            Err(McpError::method_not_found::<
                rmcp::model::SubscribeRequestMethod,
            >())
        }
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        _request: rmcp::model::UnsubscribeRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if self.fixtures() {
            Ok(())
        } else {
            Err(McpError::method_not_found::<
                rmcp::model::UnsubscribeRequestMethod,
            >())
        }
    }

    fn accepted_subscription_filter(
        &self,
        requested: &rmcp::model::SubscriptionFilter,
    ) -> Option<rmcp::model::SubscriptionFilter> {
        self.fixtures().then(|| requested.clone())
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let me = self.principal(&ctx)?;
        let cursor = request.and_then(|r| r.cursor);
        #[cfg(feature = "conformance")]
        let first_page = cursor.is_none();
        #[cfg_attr(not(feature = "conformance"), allow(unused_mut))]
        let mut result = resources::list(&self.db, &me, cursor).await?;
        #[cfg(feature = "conformance")]
        if self.fixtures && first_page {
            result.resources.extend(fixtures::resources());
        }
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        #[cfg_attr(not(feature = "conformance"), allow(unused_mut))]
        let mut templates = resources::templates();
        #[cfg(feature = "conformance")]
        if self.fixtures {
            templates.extend(fixtures::resource_templates());
        }
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        #[cfg(feature = "conformance")]
        if self.fixtures
            && let Some(contents) = fixtures::read_resource(&request.uri)
        {
            return Ok(ReadResourceResult::new(vec![contents]).into());
        }
        let me = self.optional_principal(&ctx);
        match resources::read(&self.db, me.as_ref(), &request.uri).await? {
            Some(contents) => Ok(ReadResourceResult::new(vec![contents]).into()),
            None => Err(McpError::resource_not_found(
                format!("no resource at {}", request.uri),
                Some(serde_json::json!({ "uri": request.uri })),
            )),
        }
    }
}
