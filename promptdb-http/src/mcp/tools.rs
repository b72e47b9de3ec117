//! The MCP tools. Each is a thin call into [`promptdb_core::PromptDb`]; results carry structured
//! content (with an output schema) and a readable text rendering; a user's mistake is a tool
//! error that says what to fix.

use promptdb_core::{
    Filters, LabelTarget, ListQuery, Page, PromptPatch, PromptSummary, Rendered, ResolveRequest,
    SearchQuery,
};
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
    // Not `CallToolResult::structured`: it writes the value out as text, which `text` replaces.
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
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
        Error::QuotaExceeded { limit, reason } => format!("Quota exceeded — {limit}: {reason}"),
        Error::Forbidden { reason } => format!("Not allowed: {reason}."),
        Error::Unavailable(_) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(e), "MCP request failed");
            "the database is unavailable; try again shortly".to_owned()
        }
        Error::StorageFull(_) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(e), "MCP request failed");
            "the database's disk is full: nothing was written; reading still works".to_owned()
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

/// `_meta` pointing MCP Apps hosts and ChatGPT at the health widget.
fn health_meta() -> MetaObject {
    let mut meta = MetaObject::new();
    meta.insert(
        "ui".into(),
        serde_json::json!({ "resourceUri": super::resources::HEALTH_URI }),
    );
    meta.insert(
        "openai/outputTemplate".into(),
        serde_json::json!(super::resources::HEALTH_SKYBRIDGE_URI),
    );
    meta.insert("openai/widgetAccessible".into(), serde_json::json!(true));
    meta
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
    // ChatGPT lets the app call tools itself (search, open, save) only when this is set.
    meta.insert("openai/widgetAccessible".into(), serde_json::json!(true));
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
        meta = health_meta(),
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
            identity: (*self.identity).clone(),
        };
        let sign_in = match &out.identity.issuer {
            Some(issuer) => format!("{} ({issuer})", out.identity.mode),
            None => out.identity.mode.clone(),
        };
        let text = format!(
            "PromptDB {} is up; {} database: {store}; sign-in: {sign_in}, {}.",
            out.version, out.store, out.identity.status
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
        let scopes = me.scopes();
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
        let resolved = if args.label.is_some() || args.version.is_some() || args.variables.is_some()
        {
            let label = match (&args.label, args.version) {
                (None, None) => Some(promptdb_core::release::LATEST.to_owned()),
                (label, _) => label.clone(),
            };
            Some(try_tool!(
                self.db
                    .resolve(
                        &me,
                        ResolveRequest {
                            slug: args.slug.clone(),
                            label,
                            version: args.version,
                            subject: None,
                            variables: args.variables,
                        },
                    )
                    .await
            ))
        } else {
            None
        };
        let rendered = resolved.as_ref().and_then(|r| match &r.rendered {
            Some(Rendered::Text(t)) => Some(t.clone()),
            Some(Rendered::Chat(messages)) => Some(text::messages(messages)),
            None => None,
        });
        let text = match &resolved {
            Some(r) => text::resolved(r, rendered.as_deref()),
            None => text::prompt(&prompt, None),
        };
        success(
            &PromptOut {
                prompt,
                rendered,
                resolved,
            },
            text,
        )
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
                folder: args.folder,
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
                folder: args.folder,
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
            kind: args.kind,
            content: args.content,
            messages: args.messages,
            config: args.config,
            commit_message: args.commit_message,
            tags: args.tags,
            variables: args.variables,
            pinned: args.pinned,
            favorite: args.favorite,
        };
        if patch.is_empty() {
            // REST answers an empty patch with the prompt; a model that sent one most likely
            // forgot what it meant to change.
            return failure(promptdb_core::Error::invalid(
                "update_prompt",
                "give at least one field to change besides `slug`",
            ));
        }
        let prompt = try_tool!(self.db.update_prompt(&me, &args.slug, patch).await);
        let text = format!("Updated.\n{}", text::prompt(&prompt, None));
        success(
            &PromptOut {
                prompt,
                rendered: None,
                resolved: None,
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
        input_schema = input::<UseArgs>(),
        output_schema = output::<UsageOut>(),
        annotations(title = "Record a use", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn track_prompt_use(
        &self,
        Parameters(args): Parameters<UseArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let usage = try_tool!(
            self.db
                .track_prompt_use(&me, &args.slug, args.version)
                .await
        );
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

    /// Lists a prompt's versions, newest first, with their commit messages, use counts and the
    /// labels that point at each (`latest`, `production`, A/B splits).
    #[tool(
        name = "list_versions",
        input_schema = input::<VersionsArgs>(),
        output_schema = output::<VersionsOut>(),
        annotations(title = "List versions", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_versions(
        &self,
        Parameters(args): Parameters<VersionsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let page = try_tool!(
            self.db
                .prompt_versions(&me, &args.slug, args.limit, args.cursor.as_deref())
                .await
        );
        let out = VersionsOut::from(page);
        let text = text::versions(&args.slug, &out.versions, out.next_cursor.as_deref());
        success(&out, text)
    }

    /// Shows what changed between two versions of a prompt: a line diff of the text and the
    /// other fields that differ.
    #[tool(
        name = "diff_versions",
        input_schema = input::<DiffArgs>(),
        output_schema = output::<DiffOut>(),
        annotations(title = "Diff two versions", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn diff_versions(
        &self,
        Parameters(args): Parameters<DiffArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let diff = try_tool!(
            self.db
                .diff_versions(&me, &args.slug, args.from, args.to)
                .await
        );
        let text = text::diff(&diff);
        success(&DiffOut { diff }, text)
    }

    /// Moves a label of a prompt: point it at a `version`, split it between versions for an A/B
    /// test (`split`), `remove` it, or `rollback` its last move. Applications resolve the
    /// `production` label by default; moving it needs the release scope.
    #[tool(
        name = "set_label",
        input_schema = input::<SetLabelArgs>(),
        output_schema = output::<LabelOut>(),
        annotations(title = "Move a label", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn set_label(
        &self,
        Parameters(args): Parameters<SetLabelArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let remove = args.remove.unwrap_or(false);
        let rollback = args.rollback.unwrap_or(false);
        let (slug, label) = (&args.slug, &args.label);
        let moved = match (args.version, args.split, remove, rollback) {
            (Some(version), None, false, false) => {
                self.db
                    .set_label(&me, slug, label, LabelTarget::version(version))
                    .await
            }
            (None, Some(split), false, false) => {
                self.db
                    .set_label(&me, slug, label, LabelTarget::Split { split })
                    .await
            }
            (None, None, true, false) => self.db.remove_label(&me, slug, label).await,
            (None, None, false, true) => self.db.rollback_label(&me, slug, label).await,
            _ => Err(promptdb_core::Error::invalid(
                "version",
                "give exactly one of `version`, `split`, `remove: true` or `rollback: true`",
            )),
        };
        let moved = try_tool!(moved);
        let text = text::label_move(slug, &moved);
        success(&LabelOut { moved }, text)
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
