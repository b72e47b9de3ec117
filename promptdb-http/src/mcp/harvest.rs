//! Harvest over MCP: the `harvest` prompt (a slash command that asks the model to review the
//! conversation) and the tools that fill and work the review queue.

use promptdb_core::harvest::{
    AcceptCandidate, Accepted, Candidate, CandidateId, Harvested, MAX_CANDIDATES_PER_SUBMISSION,
    MAX_EXCERPT_CHARS, MAX_REASON_CHARS, NewCandidate, Origin, Submission,
};
use promptdb_core::validate::{MAX_TAG_CHARS, MAX_TAGS, TAG_PATTERN};
use rmcp::{
    ErrorData as McpError, RoleServer,
    handler::server::wrapper::Parameters,
    model::{CallToolResult, GetPromptResult, Prompt, PromptArgument, PromptMessage, Role},
    service::RequestContext,
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    PromptDbMcp,
    schema::{input, output},
    tools::{failure, success},
};

/// The built-in prompt's name. A user's own prompt with this slug takes its place.
pub(super) const PROMPT_NAME: &str = "harvest";

/// What makes a prompt worth keeping, for the prompt and the tool alike.
const GUIDANCE: &str = "Look for the user's own messages that they would want to send again \
in another conversation: instructions they repeat, task set-ups, role prompts, checklists, \
review or writing requests. Skip replies and follow-ups that only make sense here (\"yes\", \
\"try again\", \"now the other file\"), questions about this conversation's specifics, and \
anything secret (keys, passwords, personal data). For each one, write a reusable version: put \
`{{variable}}` placeholders (letters, digits and underscores, such as `{{code}}` or \
`{{audience}}`) where the specifics change from use to use, keep the user's wording otherwise, \
give it a short name and a one-line description, a few lowercase tags, say in one sentence why \
it is worth keeping, and quote the passage it came from as the excerpt. Prefer a few good \
prompts to many weak ones.";

fn prompt_text(focus: Option<&str>) -> String {
    let mut text = format!(
        "Review this conversation so far and find the prompts worth keeping in my PromptDB \
         library. {GUIDANCE}\n\nThen call the `harvest_session` tool once with all of them \
         (at most {MAX_CANDIDATES_PER_SUBMISSION}). They go to my review queue, where I accept \
         or dismiss each; PromptDB flags the ones that resemble prompts I already have. If you \
         find nothing worth keeping, say so and do not call the tool."
    );
    if let Some(focus) = focus.map(str::trim).filter(|f| !f.is_empty()) {
        text.push_str("\n\nFocus on: ");
        text.push_str(focus);
    }
    text
}

/// The `harvest` prompt as listed.
pub(super) fn listed_prompt() -> Prompt {
    Prompt::new(
        PROMPT_NAME,
        Some("Review this conversation and save the prompts worth keeping to your PromptDB review queue"),
        Some(vec![
            PromptArgument::new("focus")
                .with_description("Optional: what to look for (\"code review prompts\")")
                .with_required(false),
        ]),
    )
    .with_title("Harvest prompts from this conversation")
}

/// The `harvest` prompt's messages.
pub(super) fn get_prompt(focus: Option<&str>) -> GetPromptResult {
    GetPromptResult::new(vec![PromptMessage::new_text(
        Role::User,
        prompt_text(focus),
    )])
    .with_description("Review this conversation and save the prompts worth keeping")
}

/// A prompt the model found.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FoundPrompt {
    /// A short name, such as `Review Rust code for lifetime bugs`.
    pub(super) name: String,
    /// The reusable prompt, with `{{variable}}` placeholders where the specifics change.
    pub(super) content: String,
    /// One line: what it is for.
    #[serde(default)]
    pub(super) description: String,
    /// A few lowercase tags.
    #[serde(
        default,
        deserialize_with = "promptdb_core::bounded::vec::<_, _, MAX_TAGS>"
    )]
    #[schemars(length(max = MAX_TAGS), inner(pattern(TAG_PATTERN), length(max = MAX_TAG_CHARS)))]
    pub(super) tags: Vec<String>,
    /// One sentence: why it is worth keeping.
    #[serde(default)]
    #[schemars(length(max = MAX_REASON_CHARS))]
    pub(super) reason: String,
    /// The passage of the conversation it came from, quoted.
    #[serde(default)]
    #[schemars(length(max = MAX_EXCERPT_CHARS))]
    pub(super) excerpt: String,
}

/// Arguments of `harvest_session`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct HarvestArgs {
    /// The prompts found, 1 to 50.
    #[serde(
        deserialize_with = "promptdb_core::bounded::objects::<_, _, MAX_CANDIDATES_PER_SUBMISSION>"
    )]
    #[schemars(length(min = 1, max = MAX_CANDIDATES_PER_SUBMISSION))]
    pub(super) prompts: Vec<FoundPrompt>,
    /// A few words on the conversation they came from (`Debugging the checkout service`).
    #[serde(default)]
    #[schemars(length(max = promptdb_core::harvest::MAX_SOURCE_CHARS))]
    pub(super) source: String,
}

/// Arguments of `list_candidates`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListCandidatesArgs {
    /// How many, 1 to 100 (default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub(super) limit: Option<u32>,
    /// How many to skip (for the next page).
    #[serde(default)]
    pub(super) offset: Option<u32>,
}

/// Arguments of `accept_candidate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AcceptArgs {
    /// The candidate's id.
    pub(super) id: String,
    /// Add it as a new version of this saved prompt (see the candidate's `similar` and
    /// `duplicate_of`) instead of saving a new prompt.
    #[serde(default)]
    pub(super) into: Option<String>,
    /// The new prompt's slug (default: the candidate's).
    #[serde(default)]
    pub(super) slug: Option<String>,
    /// Name (default: the candidate's).
    #[serde(default)]
    pub(super) name: Option<String>,
    /// Text (default: the candidate's).
    #[serde(default)]
    pub(super) content: Option<String>,
    /// Description (default: the candidate's).
    #[serde(default)]
    pub(super) description: Option<String>,
    /// Tags (default: the candidate's).
    #[serde(
        default,
        deserialize_with = "promptdb_core::bounded::opt_vec::<_, _, MAX_TAGS>"
    )]
    #[schemars(length(max = MAX_TAGS))]
    pub(super) tags: Option<Vec<String>>,
}

/// Arguments of `dismiss_candidate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CandidateIdArgs {
    /// The candidate's id.
    pub(super) id: String,
}

/// Result of `list_candidates`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct CandidatesOut {
    /// Candidates waiting for review, best first.
    pub(super) candidates: Vec<Candidate>,
    /// How many wait in all.
    pub(super) pending: u64,
}

/// Result of `dismiss_candidate`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct DismissedOut {
    /// The candidate turned down.
    pub(super) dismissed: CandidateId,
}

fn candidate_line(c: &Candidate) -> String {
    let mut line = format!("- {} — `{}` (id {})", c.name, c.slug, c.id);
    if let Some(dup) = &c.duplicate_of {
        line.push_str(&format!("; resembles your `{dup}`"));
    }
    if !c.reason.is_empty() {
        line.push_str(&format!(": {}", c.reason));
    }
    line
}

#[tool_router(router = harvest_tools, vis = "pub(super)")]
impl PromptDbMcp {
    /// Saves the reusable prompts found in this conversation to the user's review queue (the
    /// user accepts or dismisses each later; nothing enters the library without them). Use it
    /// when the user asks to harvest, collect or keep the prompts of a conversation. Look for
    /// the user's own messages that they would want to send again in another conversation:
    /// instructions they repeat, task set-ups, role prompts, checklists, review or writing
    /// requests. Skip replies and follow-ups that only make sense here ("yes", "try again"),
    /// questions about this conversation's specifics, and anything secret. Write each as a
    /// reusable prompt with `{{variable}}` placeholders where the specifics change, a short name,
    /// a one-line description, lowercase tags, one sentence on why it is worth keeping, and the
    /// passage it came from as the excerpt.
    #[tool(
        name = "harvest_session",
        input_schema = input::<HarvestArgs>(),
        output_schema = output::<Harvested>(),
        annotations(title = "Harvest prompts", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn harvest_session(
        &self,
        Parameters(args): Parameters<HarvestArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let submission = Submission {
            origin: Origin::Model,
            source: args.source,
            candidates: args
                .prompts
                .into_iter()
                .map(|p| NewCandidate {
                    name: p.name,
                    content: p.content,
                    description: p.description,
                    tags: p.tags,
                    reason: p.reason,
                    excerpt: p.excerpt,
                    ..NewCandidate::default()
                })
                .collect(),
        };
        let done = match self.db.submit_candidates(&me, submission).await {
            Ok(d) => d,
            Err(e) => return failure(e),
        };
        let mut text = format!(
            "Queued {} new candidate{} for review",
            done.added.len(),
            if done.added.len() == 1 { "" } else { "s" }
        );
        if !done.merged.is_empty() {
            text.push_str(&format!("; {} already waiting", done.merged.len()));
        }
        if done.skipped > 0 {
            text.push_str(&format!("; {} reviewed before, skipped", done.skipped));
        }
        text.push_str(". The user reviews them in PromptDB (list_candidates, accept_candidate, dismiss_candidate).\n");
        for c in done.added.iter().chain(&done.merged) {
            text.push_str(&candidate_line(c));
            text.push('\n');
        }
        success(&done, text)
    }

    /// Lists the prompts waiting in the user's harvest review queue, best first, each with the
    /// user's most similar saved prompts.
    #[tool(
        name = "list_candidates",
        input_schema = input::<ListCandidatesArgs>(),
        output_schema = output::<CandidatesOut>(),
        annotations(title = "List harvest candidates", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_candidates(
        &self,
        Parameters(args): Parameters<ListCandidatesArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let candidates = match self.db.list_candidates(&me, args.offset, args.limit).await {
            Ok(c) => c,
            Err(e) => return failure(e),
        };
        let pending = match self.db.pending_candidates(&me).await {
            Ok(n) => n,
            Err(e) => return failure(e),
        };
        let mut text = if candidates.is_empty() {
            "No candidates wait for review.".to_owned()
        } else {
            format!(
                "{pending} candidate{} wait for review:\n",
                if pending == 1 { "" } else { "s" }
            )
        };
        for c in &candidates {
            text.push_str(&candidate_line(c));
            text.push('\n');
        }
        success(
            &CandidatesOut {
                candidates,
                pending,
            },
            text,
        )
    }

    /// Accepts a harvest candidate: saves it as a new prompt, or with `into` as a new version of
    /// a saved prompt it duplicates. Optional fields override the candidate's.
    #[tool(
        name = "accept_candidate",
        input_schema = input::<AcceptArgs>(),
        output_schema = output::<Accepted>(),
        annotations(title = "Accept a harvest candidate", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn accept_candidate(
        &self,
        Parameters(args): Parameters<AcceptArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let id = match CandidateId::parse("id", &args.id) {
            Ok(id) => id,
            Err(e) => return failure(e),
        };
        let edits = AcceptCandidate {
            into: args.into,
            slug: args.slug,
            name: args.name,
            content: args.content,
            description: args.description,
            tags: args.tags,
        };
        let accepted = match self.db.accept_candidate(&me, id, edits).await {
            Ok(a) => a,
            Err(e) => return failure(e),
        };
        let text = if accepted.created {
            format!(
                "Saved `{}` ({}) to the library.",
                accepted.prompt.slug, accepted.prompt.name
            )
        } else {
            format!(
                "Saved as version {} of `{}`.",
                accepted.prompt.version, accepted.prompt.slug
            )
        };
        success(&accepted, text)
    }

    /// Dismisses a harvest candidate: it leaves the queue and is not proposed again.
    #[tool(
        name = "dismiss_candidate",
        input_schema = input::<CandidateIdArgs>(),
        output_schema = output::<DismissedOut>(),
        annotations(title = "Dismiss a harvest candidate", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn dismiss_candidate(
        &self,
        Parameters(args): Parameters<CandidateIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let me = self.principal(&ctx)?;
        let id = match CandidateId::parse("id", &args.id) {
            Ok(id) => id,
            Err(e) => return failure(e),
        };
        if let Err(e) = self.db.dismiss_candidate(&me, id).await {
            return failure(e);
        }
        success(
            &DismissedOut { dismissed: id },
            format!("Dismissed candidate {id}."),
        )
    }
}
