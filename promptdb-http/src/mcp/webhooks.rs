//! Webhooks over MCP: one tool that lists, registers, changes and removes the user's webhooks
//! and shows a hook's delivery log (one tool with an `action`, so the model's tool list stays
//! short for a task users do rarely).

use promptdb_core::{
    change::ChangeKind,
    webhook::{
        Delivery, MAX_WEBHOOK_DESCRIPTION_CHARS, MAX_WEBHOOK_URL_LEN, NewWebhook, Webhook,
        WebhookId, WebhookPatch,
    },
};
use rmcp::{
    ErrorData as McpError, RoleServer, handler::server::wrapper::Parameters, model::CallToolResult,
    service::RequestContext, tool, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    PromptDbMcp,
    schema::{input, output},
    tools::{failure, success},
};

/// What `manage_webhooks` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum WebhookAction {
    /// List the webhooks.
    List,
    /// Register `url` (for `events`, every kind when absent).
    Create,
    /// Change `url`, `events`, `description` or `enabled` of webhook `id`.
    Update,
    /// Delete webhook `id`.
    Delete,
    /// Show the delivery attempts of webhook `id`, newest first.
    Deliveries,
}

/// Arguments of `manage_webhooks`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ManageWebhooksArgs {
    /// What to do.
    pub action: WebhookAction,
    /// The webhook's id (update, delete, deliveries).
    #[serde(default)]
    pub id: Option<String>,
    /// Where to post deliveries: an http or https URL (create, update).
    #[serde(default)]
    #[schemars(length(max = MAX_WEBHOOK_URL_LEN))]
    pub url: Option<String>,
    /// The kinds of change to deliver (create, update).
    #[serde(
        default,
        deserialize_with = "promptdb_core::bounded::opt_vec::<_, _, 3>"
    )]
    #[schemars(length(max = 3))]
    pub events: Option<Vec<ChangeKind>>,
    /// What the hook is for (create, update).
    #[serde(default)]
    #[schemars(length(max = MAX_WEBHOOK_DESCRIPTION_CHARS))]
    pub description: Option<String>,
    /// `true` resumes deliveries where they stopped; `false` pauses them (update).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// How many delivery attempts to show, 1 to 100 (deliveries; default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Result of `manage_webhooks`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct WebhooksOut {
    /// The webhooks listed, registered or changed.
    pub webhooks: Vec<Webhook>,
    /// The signing secret of a webhook just registered: shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Delivery attempts (action `deliveries`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveries: Option<Vec<Delivery>>,
}

fn hook_line(h: &Webhook) -> String {
    let events: Vec<&str> = h.events.iter().map(|k| k.as_str()).collect();
    let state = match (&h.disabled_reason, h.enabled, h.failures) {
        (Some(reason), _, _) => format!("disabled: {reason}"),
        (None, false, _) => "paused".to_owned(),
        (None, true, 0) => "active".to_owned(),
        (None, true, n) => format!("failing, {n} attempts so far"),
    };
    format!("- {} → {} [{}] ({state})", h.id, h.url, events.join(", "))
}

#[tool_router(router = webhook_tools, vis = "pub(super)")]
impl PromptDbMcp {
    /// Manages the user's webhooks: URLs PromptDB calls (signed, Standard Webhooks) when their
    /// prompts change — a new version, a label moved, a prompt deleted. `list`; `create` with a
    /// `url` (returns the signing secret once); `update` an `id` (`enabled: true` resumes a hook
    /// disabled after failures); `delete` an `id`; `deliveries` of an `id` (the delivery log).
    #[tool(
        name = "manage_webhooks",
        input_schema = input::<ManageWebhooksArgs>(),
        output_schema = output::<WebhooksOut>(),
        annotations(title = "Manage webhooks", read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = true)
    )]
    async fn manage_webhooks(
        &self,
        Parameters(args): Parameters<ManageWebhooksArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let id = || match args.id.as_deref() {
            Some(id) => WebhookId::parse("id", id),
            None => Err(promptdb_core::Error::invalid(
                "id",
                "give the webhook's id (from action `list`)",
            )),
        };
        let mut out = WebhooksOut {
            webhooks: Vec::new(),
            secret: None,
            deliveries: None,
        };
        let text = match args.action {
            WebhookAction::List => match self.db.list_webhooks(&me).await {
                Ok(hooks) => {
                    out.webhooks = hooks;
                    if out.webhooks.is_empty() {
                        "No webhooks.".to_owned()
                    } else {
                        out.webhooks
                            .iter()
                            .map(hook_line)
                            .collect::<Vec<_>>()
                            .join("\n")
                    }
                }
                Err(e) => return failure(e),
            },
            WebhookAction::Create => {
                let Some(url) = args.url.clone() else {
                    return failure(promptdb_core::Error::invalid(
                        "url",
                        "give the URL to post deliveries to",
                    ));
                };
                let input = NewWebhook {
                    events: args
                        .events
                        .clone()
                        .unwrap_or_else(promptdb_core::webhook::all_events),
                    description: args.description.clone().unwrap_or_default(),
                    url,
                };
                match self.db.create_webhook(&me, input).await {
                    Ok(created) => {
                        let text = format!(
                            "Registered:\n{}\nSigning secret (shown once; give it to the receiver's Standard Webhooks verifier): {}",
                            hook_line(&created.webhook),
                            created.secret
                        );
                        out.webhooks = vec![created.webhook];
                        out.secret = Some(created.secret);
                        text
                    }
                    Err(e) => return failure(e),
                }
            }
            WebhookAction::Update => {
                let patch = WebhookPatch {
                    url: args.url.clone(),
                    events: args.events.clone(),
                    description: args.description.clone(),
                    enabled: args.enabled,
                };
                let result = match id() {
                    Ok(id) => self.db.update_webhook(&me, id, patch).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(hook) => {
                        let text = format!("Changed:\n{}", hook_line(&hook));
                        out.webhooks = vec![hook];
                        text
                    }
                    Err(e) => return failure(e),
                }
            }
            WebhookAction::Delete => {
                let result = match id() {
                    Ok(id) => self.db.delete_webhook(&me, id).await.map(|()| id),
                    Err(e) => Err(e),
                };
                match result {
                    Ok(id) => format!("Deleted webhook {id}."),
                    Err(e) => return failure(e),
                }
            }
            WebhookAction::Deliveries => {
                let result = match id() {
                    Ok(id) => self.db.webhook_deliveries(&me, id, args.limit).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(attempts) => {
                        let text = if attempts.is_empty() {
                            "No delivery attempts in the last seven days.".to_owned()
                        } else {
                            attempts
                                .iter()
                                .map(|a| {
                                    format!(
                                        "- {} {} (change {}) attempt {}: {}",
                                        a.at.format("%Y-%m-%d %H:%M:%S"),
                                        a.event,
                                        a.seq,
                                        a.attempt,
                                        match (a.succeeded(), &a.error) {
                                            (true, _) => "delivered".to_owned(),
                                            (false, Some(e)) => format!("failed — {e}"),
                                            (false, None) => "failed".to_owned(),
                                        }
                                    )
                                })
                                .collect::<Vec<_>>()
                                .join("\n")
                        };
                        out.deliveries = Some(attempts);
                        text
                    }
                    Err(e) => return failure(e),
                }
            }
        };
        success(&out, text)
    }
}
