//! The MCP tools. Each is a thin call into [`promptdb_core::PromptDb`]; results carry structured
//! content (with an output schema) and a readable text rendering; a user's mistake is a tool
//! error that says what to fix.

use promptdb_core::{Filters, ListQuery, Page, PromptPatch, PromptSummary, Scope, SearchQuery};
use rmcp::{
    ErrorData as McpError, RoleServer,
    handler::server::wrapper::Parameters,
    model::{CallToolResult, ContentBlock, MetaObject},
    service::RequestContext,
    tool, tool_router,
};
use serde::Serialize;

use super::{
    PromptDbMcp,
    args::*,
    schema::{input, output},
    text,
};

/// A successful result: structured content plus a text rendering.
pub(super) fn success<T: Serialize>(value: &T, text: String) -> Result<CallToolResult, McpError> {
    let value =
        serde_json::to_value(value).map_err(|e| McpError::internal_error(e.to_string(), None))?;
    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    Ok(result)
}

/// What to tell a client about `e`: the caller's mistakes in full, server failures without
/// details (those are logged).
pub(super) fn failure_message(e: &promptdb_core::Error) -> String {
    use promptdb_core::Error;
    match e {
        Error::NotFound {
            what: "prompt",
            key,
        } => format!(
            "No prompt with slug `{key}`. Use search_prompts or list_prompts to find the right slug."
        ),
        Error::Invalid { field, reason } => format!("Invalid input — {field}: {reason}"),
        Error::Conflict { field, reason } => format!("Conflict — {field}: {reason}"),
        Error::Forbidden { reason } => format!("Not allowed: {reason}."),
        Error::Unavailable(_) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(e), "MCP request failed");
            "the database is unavailable; try again shortly".to_owned()
        }
        Error::Backend(_) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(e), "MCP request failed");
            "internal error".to_owned()
        }
        other => other.to_string(),
    }
}

/// A failed call: the caller's mistakes become tool errors; server failures protocol errors.
pub(super) fn failure(e: promptdb_core::Error) -> Result<CallToolResult, McpError> {
    let message = failure_message(&e);
    if !e.is_client_error() {
        return Err(McpError::internal_error(message, None));
    }
    // No structured content: it would have to match the tool's output schema, which describes
    // successes (some clients validate error results against it too).
    Ok(CallToolResult::error(vec![ContentBlock::text(message)]))
}

fn page_out(page: Page<PromptSummary>) -> PromptsOut {
    PromptsOut {
        prompts: page.items,
        next_cursor: page.next_cursor,
    }
}

/// `_meta` pointing MCP Apps hosts and ChatGPT at the library widget.
fn widget_meta() -> MetaObject {
    let mut meta = MetaObject::new();
    meta.insert(
        "ui".into(),
        serde_json::json!({ "resourceUri": super::resources::WIDGET_URI }),
    );
    meta.insert(
        "openai/outputTemplate".into(),
        serde_json::json!(super::resources::SKYBRIDGE_URI),
    );
    meta.insert(
        "openai/toolInvocation/invoking".into(),
        serde_json::json!("Opening your prompt library…"),
    );
    meta.insert(
        "openai/toolInvocation/invoked".into(),
        serde_json::json!("Prompt library ready"),
    );
    meta
}

macro_rules! try_tool {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return failure(e),
        }
    };
}

#[tool_router(router = product_tools, vis = "pub(super)")]
impl PromptDbMcp {
    /// Checks that PromptDB and its database answer.
    #[tool(
        name = "health_check",
        input_schema = input::<NoArgs>(),
        output_schema = output::<HealthOut>(),
        annotations(title = "Health check", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn health_check(&self) -> Result<CallToolResult, McpError> {
        let store = match self.db.ping().await {
            Ok(()) => "ok",
            Err(_) => "unavailable",
        };
        let out = HealthOut {
            status: store.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            store: self.db.backend().into(),
        };
        let text = format!(
            "PromptDB {} is up; {} database: {store}.",
            out.version, out.store
        );
        success(&out, text)
    }

    /// Shows who this connection is signed in as and what it may do.
    #[tool(
        name = "test_auth",
        input_schema = input::<NoArgs>(),
        output_schema = output::<AuthOut>(),
        annotations(title = "Who am I", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn test_auth(&self, ctx: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let user = try_tool!(self.db.me(&me).await);
        let drafts = try_tool!(self.db.draft_summary(&me).await);
        let mut scopes = vec![Scope::Read];
        if me.can_write() {
            scopes.push(Scope::Write);
        }
        let text = format!(
            "Signed in as {} ({}), scopes: {}.",
            if user.display_name.is_empty() {
                "a user without a name"
            } else {
                &user.display_name
            },
            user.id,
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        success(
            &AuthOut {
                user_id: user.id,
                display_name: user.display_name,
                scopes,
                drafts,
            },
            text,
        )
    }

    /// Saves one or more prompts to the user's library. Give each a name and content; a slug
    /// (like `code-review`) is derived from the name when omitted. Write `{{variable}}` in the
    /// content for parts that change between uses. All prompts are saved, or none.
    #[tool(
        name = "save_prompts",
        input_schema = input::<SavePromptsArgs>(),
        output_schema = output::<SavedOut>(),
        annotations(title = "Save prompts", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn save_prompts(
        &self,
        Parameters(args): Parameters<SavePromptsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let saved = try_tool!(self.db.save_prompts(&me, args.prompts).await);
        let saved: Vec<PromptSummary> = saved.iter().map(PromptSummary::from).collect();
        let text = format!(
            "Saved {} prompt{}:\n{}",
            saved.len(),
            if saved.len() == 1 { "" } else { "s" },
            text::summaries(&saved, None, "")
        );
        success(&SavedOut { saved }, text)
    }

    /// Gets one prompt by its slug, with its full text. Pass `variables` to also get the text
    /// with its `{{placeholders}}` filled in.
    #[tool(
        name = "get_prompt",
        input_schema = input::<GetPromptArgs>(),
        output_schema = output::<PromptOut>(),
        annotations(title = "Get a prompt", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_prompt(
        &self,
        Parameters(args): Parameters<GetPromptArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let prompt = try_tool!(self.db.get_prompt(&me, &args.slug).await);
        let rendered = match &args.variables {
            Some(values) => Some(try_tool!(promptdb_core::template::render(
                &prompt.content,
                &prompt.variables,
                values
            ))),
            None => None,
        };
        let text = text::prompt(&prompt, rendered.as_deref());
        success(&PromptOut { prompt, rendered }, text)
    }

    /// Lists the user's prompts, best first: pinned ones, then by use, recency and favourite.
    /// Returns names and descriptions; use get_prompt for a prompt's text.
    #[tool(
        name = "list_prompts",
        input_schema = input::<ListPromptsArgs>(),
        output_schema = output::<PromptsOut>(),
        annotations(title = "List prompts", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_prompts(
        &self,
        Parameters(args): Parameters<ListPromptsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let query = ListQuery {
            filters: Filters {
                tags: args.tags,
                pinned: args.pinned,
                favorite: args.favorite,
            },
            limit: args.limit,
            cursor: args.cursor,
        };
        let out = page_out(try_tool!(self.db.list_prompts(&me, query).await));
        let text = text::summaries(
            &out.prompts,
            out.next_cursor.as_deref(),
            "No prompts match.",
        );
        success(&out, text)
    }

    /// Searches the user's prompts by words (in names, descriptions, tags and text) and
    /// `#tags`. Results come most relevant first.
    #[tool(
        name = "search_prompts",
        input_schema = input::<SearchPromptsArgs>(),
        output_schema = output::<PromptsOut>(),
        annotations(title = "Search prompts", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn search_prompts(
        &self,
        Parameters(args): Parameters<SearchPromptsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let query = SearchQuery {
            q: args.query,
            filters: Filters {
                tags: args.tags,
                pinned: args.pinned,
                favorite: args.favorite,
            },
            limit: args.limit,
            cursor: args.cursor,
        };
        let out = page_out(try_tool!(self.db.search_prompts(&me, query).await));
        let text = text::summaries(
            &out.prompts,
            out.next_cursor.as_deref(),
            "No prompts match that search.",
        );
        success(&out, text)
    }

    /// Changes a prompt: give its slug and only the fields to change. Changing the text, name,
    /// description, tags or variables keeps the old version in the prompt's history.
    #[tool(
        name = "update_prompt",
        input_schema = input::<UpdatePromptArgs>(),
        output_schema = output::<PromptOut>(),
        annotations(title = "Update a prompt", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn update_prompt(
        &self,
        Parameters(args): Parameters<UpdatePromptArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let patch = PromptPatch {
            name: args.name,
            description: args.description,
            content: args.content,
            tags: args.tags,
            variables: args.variables,
            pinned: args.pinned,
            favorite: args.favorite,
        };
        let prompt = try_tool!(self.db.update_prompt(&me, &args.slug, patch).await);
        let text = format!("Updated.\n{}", text::prompt(&prompt, None));
        success(
            &PromptOut {
                prompt,
                rendered: None,
            },
            text,
        )
    }

    /// Deletes a prompt and its history for good.
    #[tool(
        name = "delete_prompt",
        input_schema = input::<SlugArgs>(),
        output_schema = output::<DeletedOut>(),
        annotations(title = "Delete a prompt", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn delete_prompt(
        &self,
        Parameters(args): Parameters<SlugArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        try_tool!(self.db.delete_prompt(&me, &args.slug).await);
        let text = format!("Deleted `{}`.", args.slug);
        success(&DeletedOut { deleted: args.slug }, text)
    }

    /// Lists the user's tags with how many prompts carry each.
    #[tool(
        name = "list_tags",
        input_schema = input::<NoArgs>(),
        output_schema = output::<TagsOut>(),
        annotations(title = "List tags", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_tags(&self, ctx: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let tags = try_tool!(self.db.list_tags(&me).await);
        let text = text::tags(&tags);
        success(&TagsOut { tags }, text)
    }

    /// Records that a prompt was just used, so it ranks higher. Call it after using a prompt.
    #[tool(
        name = "track_prompt_use",
        input_schema = input::<SlugArgs>(),
        output_schema = output::<UsageOut>(),
        annotations(title = "Record a use", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn track_prompt_use(
        &self,
        Parameters(args): Parameters<SlugArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let usage = try_tool!(self.db.track_prompt_use(&me, &args.slug).await);
        let text = format!(
            "Recorded a use of `{}` ({} in total).",
            usage.slug, usage.usage_count
        );
        success(&UsageOut { usage }, text)
    }

    /// Changes the user's preferences (merged into the current ones; null removes a setting).
    #[tool(
        name = "set_preferences",
        input_schema = input::<SetPreferencesArgs>(),
        output_schema = output::<PreferencesOut>(),
        annotations(title = "Set preferences", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn set_preferences(
        &self,
        Parameters(args): Parameters<SetPreferencesArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let preferences = try_tool!(self.db.set_preferences(&me, args.preferences).await);
        let text = format!(
            "Preferences saved: {}",
            serde_json::to_string(&preferences).unwrap_or_default()
        );
        success(&PreferencesOut { preferences }, text)
    }

    /// Gets the user's preferences.
    #[tool(
        name = "get_preferences",
        input_schema = input::<NoArgs>(),
        output_schema = output::<PreferencesOut>(),
        annotations(title = "Get preferences", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_preferences(
        &self,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let preferences = try_tool!(self.db.preferences(&me).await);
        let text = if preferences.0.is_empty() {
            "No preferences set.".to_owned()
        } else {
            serde_json::to_string_pretty(&preferences).unwrap_or_default()
        };
        success(&PreferencesOut { preferences }, text)
    }

    /// Opens the user's prompt library as an interactive widget (in hosts that show MCP Apps,
    /// such as ChatGPT). Optionally filtered by words or `#tags`.
    #[tool(
        name = "open_prompt_library",
        input_schema = input::<OpenLibraryArgs>(),
        output_schema = output::<PromptsOut>(),
        meta = widget_meta(),
        annotations(title = "Open the prompt library", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn open_prompt_library(
        &self,
        Parameters(args): Parameters<OpenLibraryArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let page = match args.query.filter(|q| !q.trim().is_empty()) {
            Some(q) => {
                let query = SearchQuery {
                    limit: Some(100),
                    ..SearchQuery::new(q)
                };
                try_tool!(self.db.search_prompts(&me, query).await)
            }
            None => {
                let query = ListQuery {
                    limit: Some(100),
                    ..ListQuery::default()
                };
                try_tool!(self.db.list_prompts(&me, query).await)
            }
        };
        let out = page_out(page);
        let text = text::summaries(
            &out.prompts,
            out.next_cursor.as_deref(),
            "The library is empty.",
        );
        success(&out, text)
    }
}
