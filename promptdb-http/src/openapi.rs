//! The OpenAPI 3.1 document of the REST API, generated from the Rust types of every request and
//! response (their JSON Schemas, through schemars) and the route table below, which lists the
//! same routes as [`crate::rest::router`]; a test checks the two agree.

use promptdb_core::{
    ApiKey, CreatedApiKey, Draft, DraftSummary, Export, LabelMove, LabelTarget, NewApiKey, Page,
    Preferences, PreferencesInput, Prompt, PromptPatch, PromptSummary, PromptUsage, PromptVersion,
    Release, RenderedPrompt, Resolved, SaveDraft, Snapshot,
    diff::VersionDiff,
    page::{
        LIST_CURSOR_PATTERN, MOVES_CURSOR_PATTERN, SEARCH_CURSOR_PATTERN, VERSIONS_CURSOR_PATTERN,
    },
    validate,
};
use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};

use crate::{
    Health,
    error::ErrorBody,
    rest::changes::ChangeFeed,
    rest::{
        CreatePrompts, CreatedPrompts, Dependents, DraftList, FolderList, KeyList, LabelList, Me,
        RenderRequest, Resolutions, ResolveMany, RestoreRequest, TagList, UseRequest,
    },
};

/// One documented operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path template (`/api/v1/prompts/{slug}`).
    pub path: &'static str,
    /// Unique operation id.
    pub id: &'static str,
}

struct Builder {
    generator: SchemaGenerator,
    paths: Map<String, Value>,
    operations: Vec<Operation>,
}

fn path_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema })
}

fn slug_schema() -> Value {
    json!({ "type": "string", "pattern": validate::SLUG_PATTERN, "maxLength": validate::MAX_SLUG_LEN })
}

fn label_schema() -> Value {
    json!({ "type": "string", "pattern": validate::LABEL_PATTERN })
}

fn version_schema() -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": u32::MAX })
}

fn uuid_schema() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

fn cursor_param(pattern: &str) -> Value {
    query_param(
        "cursor",
        "`next_cursor` of the previous page of the same listing (with `q`, a search cursor `s.…`; without, a list cursor `l.…`)",
        json!({ "type": "string", "pattern": pattern, "maxLength": validate::MAX_CURSOR_LEN }),
    )
}

/// Joins cursor patterns (`^a$`, `^b$`) into one that takes either.
fn either(a: &str, b: &str) -> String {
    format!("^(?:{}|{})$", &a[1..a.len() - 1], &b[1..b.len() - 1])
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

impl Builder {
    /// Adds an OpenAPI link from a response of an operation already added to another operation.
    fn link(&mut self, method: &str, path: &str, status: u16, name: &str, to: &str, params: Value) {
        if let Some(response) = self
            .paths
            .get_mut(path)
            .and_then(|p| p.get_mut(method))
            .and_then(|op| op["responses"].get_mut(status.to_string()))
        {
            response["links"][name] = json!({ "operationId": to, "parameters": params });
        }
    }

    /// Marks the request body of an operation already added as optional.
    fn optional_body(&mut self, method: &str, path: &str) {
        if let Some(op) = self.paths.get_mut(path).and_then(|p| p.get_mut(method)) {
            op["requestBody"]["required"] = json!(false);
        }
    }

    fn schema<T: JsonSchema>(&mut self) -> Value {
        serde_json::to_value(self.generator.subschema_for::<T>()).unwrap_or_default()
    }

    #[allow(clippy::too_many_arguments)]
    fn op(
        &mut self,
        method: &'static str,
        path: &'static str,
        id: &'static str,
        tag: &str,
        summary: &str,
        params: Vec<Value>,
        body: Option<Value>,
        ok: (u16, &str, Option<Value>),
        errors: &[u16],
        public: bool,
    ) {
        let error = self.schema::<ErrorBody>();
        let mut responses = Map::new();
        let (status, description, schema) = ok;
        responses.insert(
            status.to_string(),
            match schema {
                Some(s) => json!({ "description": description, "content": { "application/json": { "schema": s } } }),
                None => json!({ "description": description }),
            },
        );
        let mut codes: Vec<u16> = errors.to_vec();
        if !public {
            codes.extend([401, 403]);
        }
        codes.extend([500, 503]);
        if method != "get" {
            codes.push(507);
        }
        if body.is_some() {
            codes.extend([400, 413, 422]);
        }
        codes.sort_unstable();
        codes.dedup();
        for code in codes {
            let text = match code {
                400 => "Malformed request (not JSON, wrong content type, bad query string)",
                401 => "Missing or invalid credentials",
                403 => "The credential may not do this (read-only key)",
                404 => "Not found (or not yours)",
                408 => "The request took too long",
                409 => {
                    "Conflicts with existing data (slug taken, nothing to roll back, `latest` moved), or a quota is reached (`quota_exceeded`, `error.field` names it)"
                }
                413 => "Body too large",
                422 => "Invalid input; `error.field` names the field",
                500 => "Internal error",
                503 => "Database unavailable; retry later",
                507 => {
                    "The database's disk is full: nothing was written (`storage_full`); reads still work"
                }
                _ => "Error",
            };
            responses.insert(
                code.to_string(),
                json!({ "description": text, "content": { "application/json": { "schema": error } } }),
            );
        }
        let mut operation = json!({
            "operationId": id,
            "tags": [tag],
            "summary": summary,
            "parameters": params,
            "responses": responses,
        });
        if let Some(schema) = body {
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema } } });
        }
        if public {
            operation["security"] = json!([]);
        }
        let entry = self
            .paths
            .entry(path.to_owned())
            .or_insert_with(|| json!({}));
        entry[method] = operation;
        self.operations.push(Operation { method, path, id });
    }
}

fn build() -> (Value, Vec<Operation>) {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "#/components/schemas/".into();
        s.meta_schema = None;
    });
    let mut b = Builder {
        generator: settings.into_generator(),
        paths: Map::new(),
        operations: Vec::new(),
    };
    let slug = || path_param("slug", "The prompt's slug", slug_schema());
    let limit = || {
        query_param(
            "limit",
            "Page size, 1–100 (default 20)",
            json!({ "type": "integer", "minimum": 1, "maximum": 100 }),
        )
    };

    let health = b.schema::<Health>();
    b.op(
        "get",
        "/health",
        "health",
        "health",
        "Liveness: the process is up",
        vec![],
        None,
        (200, "Up", Some(health.clone())),
        &[],
        true,
    );
    b.op(
        "get",
        "/health/ready",
        "ready",
        "health",
        "Readiness: the database answers",
        vec![],
        None,
        (200, "Ready", Some(health)),
        &[],
        true,
    );
    b.op(
        "get",
        "/openapi.json",
        "openapi",
        "health",
        "This document",
        vec![],
        None,
        (
            200,
            "The OpenAPI document",
            Some(json!({ "type": "object" })),
        ),
        &[],
        true,
    );

    let page = b.schema::<Page<PromptSummary>>();
    b.op(
        "get",
        "/api/v1/prompts",
        "listPrompts",
        "prompts",
        "List prompts ranked (pinned first), or search them with `q`",
        vec![
            query_param(
                "q",
                "Search words and `#tags`; without it the ranked list is returned. Free text: the first 16 words and 8 tags are used, a `#tag` that is not a valid tag is searched as words, and a query with nothing to search for finds nothing",
                json!({ "type": "string", "maxLength": validate::MAX_QUERY_CHARS }),
            ),
            json!({
                "name": "tag", "in": "query", "required": false, "style": "form", "explode": true,
                "description": "Only prompts with this tag (repeat for several, at most 8; all must match)",
                "schema": {
                    "type": "array", "maxItems": validate::MAX_TAG_FILTERS,
                    "items": { "type": "string", "pattern": validate::TAG_PATTERN, "maxLength": validate::MAX_TAG_CHARS },
                },
            }),
            query_param(
                "folder",
                "Only prompts in this folder or below it (`support` finds `support/triage`)",
                json!({ "type": "string", "pattern": validate::FOLDER_PATTERN, "maxLength": validate::MAX_SLUG_LEN }),
            ),
            query_param(
                "pinned",
                "Only pinned (`true`) or unpinned (`false`) prompts",
                json!({ "type": "boolean" }),
            ),
            query_param(
                "favorite",
                "Only favourites (`true`) or non-favourites (`false`)",
                json!({ "type": "boolean" }),
            ),
            limit(),
            cursor_param(&either(LIST_CURSOR_PATTERN, SEARCH_CURSOR_PATTERN)),
        ],
        None,
        (200, "A page of prompt summaries", Some(page)),
        &[422],
        false,
    );
    let create = b.schema::<CreatePrompts>();
    let created = b.schema::<CreatedPrompts>();
    b.op(
        "post",
        "/api/v1/prompts",
        "createPrompts",
        "prompts",
        "Save a batch of prompts, all or nothing",
        vec![],
        Some(create),
        (201, "Saved", Some(created)),
        &[409],
        false,
    );
    let prompt = b.schema::<Prompt>();
    b.op(
        "get",
        "/api/v1/prompts/{slug}",
        "getPrompt",
        "prompts",
        "Get a prompt",
        vec![slug()],
        None,
        (200, "The prompt", Some(prompt.clone())),
        &[404, 422],
        false,
    );
    let patch = b.schema::<PromptPatch>();
    b.op(
        "patch",
        "/api/v1/prompts/{slug}",
        "updatePrompt",
        "prompts",
        "Change some fields; content changes write a new version. A text prompt takes `content`, a chat prompt `messages` (or `kind` to switch); an empty patch changes nothing",
        vec![slug()],
        Some(patch),
        (200, "The updated prompt", Some(prompt)),
        &[404, 409],
        false,
    );
    b.op(
        "delete",
        "/api/v1/prompts/{slug}",
        "deletePrompt",
        "prompts",
        "Delete a prompt and its history",
        vec![slug()],
        None,
        (204, "Deleted", None),
        &[404, 422],
        false,
    );
    let usage = b.schema::<PromptUsage>();
    let use_request = b.schema::<UseRequest>();
    b.op(
        "post",
        "/api/v1/prompts/{slug}/uses",
        "trackPromptUse",
        "prompts",
        "Record a use (of the version a resolve served, when the body names it)",
        vec![slug()],
        Some(use_request),
        (200, "Recorded", Some(usage)),
        &[404, 422],
        false,
    );
    b.optional_body("post", "/api/v1/prompts/{slug}/uses");
    let render = b.schema::<RenderRequest>();
    let rendered = b.schema::<RenderedPrompt>();
    b.op(
        "post",
        "/api/v1/prompts/{slug}/render",
        "renderPrompt",
        "prompts",
        "Render the prompt with values for the variables it declares (strict: every required one, no others)",
        vec![slug()],
        Some(render),
        (200, "Rendered", Some(rendered)),
        &[404],
        false,
    );
    let versions = b.schema::<Page<PromptVersion>>();
    b.op(
        "get",
        "/api/v1/prompts/{slug}/versions",
        "listVersions",
        "prompts",
        "A prompt's versions, newest first",
        vec![slug(), limit(), cursor_param(VERSIONS_CURSOR_PATTERN)],
        None,
        (200, "A page of versions", Some(versions)),
        &[404, 422],
        false,
    );
    let version = b.schema::<PromptVersion>();
    b.op(
        "get",
        "/api/v1/prompts/{slug}/versions/{version}",
        "getVersion",
        "prompts",
        "One version of a prompt",
        vec![
            slug(),
            path_param("version", "Version number, from 1", version_schema()),
        ],
        None,
        (200, "The version", Some(version)),
        &[404, 422],
        false,
    );
    let tags = b.schema::<TagList>();
    b.op(
        "get",
        "/api/v1/tags",
        "listTags",
        "prompts",
        "Tags with counts",
        vec![],
        None,
        (200, "Tags", Some(tags)),
        &[],
        false,
    );

    let drafts = b.schema::<DraftList>();
    b.op(
        "get",
        "/api/v1/drafts",
        "listDrafts",
        "drafts",
        "Live drafts, most recent first",
        vec![],
        None,
        (200, "Drafts", Some(drafts)),
        &[],
        false,
    );
    let save = b.schema::<SaveDraft>();
    let draft = b.schema::<Draft>();
    b.op(
        "post",
        "/api/v1/drafts",
        "saveDraft",
        "drafts",
        "Create or update a draft; it expires 24 h after its last save",
        vec![],
        Some(save),
        (200, "The draft", Some(draft.clone())),
        &[404, 409],
        false,
    );
    let summary = b.schema::<DraftSummary>();
    b.op(
        "get",
        "/api/v1/drafts/summary",
        "draftSummary",
        "drafts",
        "Count of live drafts and next expiry",
        vec![],
        None,
        (200, "Summary", Some(summary)),
        &[],
        false,
    );
    let id = || path_param("id", "The draft's id (UUID)", uuid_schema());
    b.op(
        "get",
        "/api/v1/drafts/{id}",
        "getDraft",
        "drafts",
        "Get a draft",
        vec![id()],
        None,
        (200, "The draft", Some(draft)),
        &[404, 422],
        false,
    );
    b.op(
        "delete",
        "/api/v1/drafts/{id}",
        "deleteDraft",
        "drafts",
        "Discard a draft",
        vec![id()],
        None,
        (204, "Deleted", None),
        &[404, 422],
        false,
    );

    let prefs = b.schema::<Preferences>();
    let prefs_input = b.schema::<PreferencesInput>();
    b.op(
        "get",
        "/api/v1/preferences",
        "getPreferences",
        "account",
        "Preferences",
        vec![],
        None,
        (200, "Preferences", Some(prefs.clone())),
        &[],
        false,
    );
    b.op(
        "put",
        "/api/v1/preferences",
        "replacePreferences",
        "account",
        "Replace all preferences",
        vec![],
        Some(prefs_input.clone()),
        (200, "Preferences", Some(prefs.clone())),
        &[],
        false,
    );
    b.op(
        "patch",
        "/api/v1/preferences",
        "mergePreferences",
        "account",
        "Merge preferences; `null` removes a key. Merged, at most 64 keys and 16 KiB of JSON",
        vec![],
        Some(prefs_input),
        (200, "Preferences", Some(prefs)),
        &[],
        false,
    );
    let me = b.schema::<Me>();
    b.op(
        "get",
        "/api/v1/me",
        "me",
        "account",
        "The caller",
        vec![],
        None,
        (200, "The caller", Some(me)),
        &[404],
        false,
    );
    b.op(
        "delete",
        "/api/v1/me",
        "deleteAccount",
        "account",
        "Delete the account and everything in it",
        vec![],
        None,
        (204, "Deleted", None),
        &[404],
        false,
    );
    let export = b.schema::<Export>();
    b.op(
        "get",
        "/api/v1/export",
        "export",
        "account",
        "Everything the caller owns, as one document",
        vec![],
        None,
        (200, "The export", Some(export)),
        &[404],
        false,
    );
    let keys = b.schema::<KeyList>();
    b.op(
        "get",
        "/api/v1/keys",
        "listKeys",
        "account",
        "API keys (without secrets)",
        vec![],
        None,
        (200, "Keys", Some(keys)),
        &[],
        false,
    );
    let new_key = b.schema::<NewApiKey>();
    let created_key = b.schema::<CreatedApiKey>();
    b.op(
        "post",
        "/api/v1/keys",
        "createKey",
        "account",
        "Create an API key; the secret is in this response only",
        vec![],
        Some(new_key),
        (201, "Created", Some(created_key)),
        &[409],
        false,
    );
    b.op(
        "delete",
        "/api/v1/keys/{id}",
        "revokeKey",
        "account",
        "Revoke an API key",
        vec![path_param("id", "The key's id (UUID)", uuid_schema())],
        None,
        (204, "Revoked", None),
        &[404, 422],
        false,
    );
    let _ = b.schema::<ApiKey>();

    // Releases.
    let label = || {
        path_param(
            "label",
            "The label (`production`, `staging`, …); `latest` always names the newest version and cannot be moved (409)",
            label_schema(),
        )
    };
    let version_path = || path_param("version", "The version number", version_schema());
    let moved = b.schema::<LabelMove>();
    let labels = b.schema::<LabelList>();
    b.op(
        "get",
        "/api/v1/prompts/{slug}/labels",
        "listLabels",
        "releases",
        "The prompt's labels (`latest` always names the newest version and is not listed)",
        vec![slug()],
        None,
        (200, "Labels", Some(labels)),
        &[404, 422],
        false,
    );
    let target = b.schema::<LabelTarget>();
    b.op(
        "put",
        "/api/v1/prompts/{slug}/labels/{label}",
        "setLabel",
        "releases",
        "Point a label at a version or split it between versions (A/B); protected labels need the release scope",
        vec![slug(), label()],
        Some(target),
        (200, "The move (recorded)", Some(moved.clone())),
        &[404, 409],
        false,
    );
    b.op(
        "delete",
        "/api/v1/prompts/{slug}/labels/{label}",
        "removeLabel",
        "releases",
        "Remove a label (recorded)",
        vec![slug(), label()],
        None,
        (200, "The move", Some(moved.clone())),
        &[404, 409, 422],
        false,
    );
    b.op(
        "post",
        "/api/v1/prompts/{slug}/labels/{label}/rollback",
        "rollbackLabel",
        "releases",
        "Move a label back to where it pointed before its last move",
        vec![slug(), label()],
        None,
        (200, "The move", Some(moved)),
        &[404, 409, 422],
        false,
    );
    let moves = b.schema::<Page<LabelMove>>();
    b.op(
        "get",
        "/api/v1/prompts/{slug}/label-moves",
        "labelMoves",
        "releases",
        "Every recorded move of the prompt's labels, newest first",
        vec![
            slug(),
            query_param("label", "Only this label's moves", label_schema()),
            limit(),
            cursor_param(MOVES_CURSOR_PATTERN),
        ],
        None,
        (200, "A page of moves", Some(moves)),
        &[404, 422],
        false,
    );
    let restore = b.schema::<RestoreRequest>();
    let restored = b.schema::<Prompt>();
    b.op(
        "post",
        "/api/v1/prompts/{slug}/versions/{version}/restore",
        "restoreVersion",
        "releases",
        "Write an old version's content as a new version",
        vec![slug(), version_path()],
        Some(restore),
        (200, "The prompt with its new version", Some(restored)),
        &[404, 409],
        false,
    );
    let diff = b.schema::<VersionDiff>();
    let version_query = |name: &str, what: &str| json!({ "name": name, "in": "query", "required": true, "description": what, "schema": version_schema() });
    b.op(
        "get",
        "/api/v1/prompts/{slug}/diff",
        "diffVersions",
        "releases",
        "A line diff of two versions and the other fields that changed",
        vec![
            slug(),
            version_query("from", "The older version"),
            version_query("to", "The newer version"),
        ],
        None,
        (200, "The difference", Some(diff)),
        &[404, 422],
        false,
    );
    let dependents = b.schema::<Dependents>();
    b.op(
        "get",
        "/api/v1/prompts/{slug}/dependents",
        "dependents",
        "releases",
        "The prompts that include this one",
        vec![slug()],
        None,
        (200, "Dependents", Some(dependents)),
        &[404, 422],
        false,
    );
    let folders = b.schema::<FolderList>();
    b.op(
        "get",
        "/api/v1/folders",
        "listFolders",
        "prompts",
        "Folders as a tree with prompt counts",
        vec![],
        None,
        (200, "Folders", Some(folders)),
        &[],
        false,
    );
    let resolved = b.schema::<Resolved>();
    b.op(
        "get",
        "/api/v1/resolve/{slug}",
        "resolvePrompt",
        "releases",
        "A prompt as an application gets it: at a label (`production` by default) or a version; a split picks by `subject`",
        vec![
            path_param("slug", "The prompt's slug; folders may be written with `/` or `%2F`", slug_schema()),
            query_param("label", "A label; not with `version`", label_schema()),
            query_param("version", "A version; not with `label`", version_schema()),
            query_param("subject", "A user or session id: the same subject gets the same variant of a split", json!({ "type": "string", "minLength": 1, "maxLength": validate::MAX_SUBJECT_LEN })),
        ],
        None,
        (200, "The version served", Some(resolved)),
        &[404, 422],
        false,
    );
    let release = b.schema::<Release>();
    b.op(
        "get",
        "/api/v1/releases/{slug}",
        "getRelease",
        "releases",
        "What a client-side resolver caches: the label's target (a version or a split) and every version it names, resolved",
        vec![
            path_param("slug", "The prompt's slug; folders may be written with `/` or `%2F`", slug_schema()),
            query_param("label", "A label (`production` by default; `latest` is the newest version); not with `version`", label_schema()),
            query_param("version", "A version; not with `label`", version_schema()),
        ],
        None,
        (200, "The release", Some(release)),
        &[404, 422],
        false,
    );
    let snapshot = b.schema::<Snapshot>();
    b.op(
        "get",
        "/api/v1/snapshot",
        "getSnapshot",
        "releases",
        "Every prompt at a label as one bundle with a content hash (at most 2,000 prompts and 32 MiB of text; narrow with `folder`)",
        vec![
            query_param("label", "The label (`production` by default; `latest`: every prompt)", label_schema()),
            query_param(
                "folder",
                "Only prompts in this folder or below it",
                json!({ "type": "string", "pattern": validate::FOLDER_PATTERN, "maxLength": validate::MAX_SLUG_LEN }),
            ),
        ],
        None,
        (200, "The snapshot", Some(snapshot)),
        &[422],
        false,
    );
    let feed = b.schema::<ChangeFeed>();
    b.op(
        "get",
        "/api/v1/changes",
        "listChanges",
        "releases",
        "The caller's change feed: versions created, labels moved, prompts deleted, in commit order. With `Accept: text/event-stream`, server-sent events kept open (`id` is the change's `seq`, `event` its kind: `version_created`, `label_moved`, `prompt_deleted`; `ready` at the start without a position; `reset` when the position is no longer held: reload everything and continue from its `id`); otherwise one JSON page",
        vec![
            query_param("after", "Changes after this `seq` (0: from the first kept)", json!({ "type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999_i64 })),
            query_param("limit", "Changes per page, 1 to 500 (default 100)", json!({ "type": "integer", "minimum": 1, "maximum": promptdb_core::change::MAX_CHANGE_PAGE })),
            json!({
                "name": "Last-Event-ID", "in": "header", "required": false,
                "description": "Resume after this `seq` (what an EventSource sends when it reconnects); wins over `after`",
                "schema": { "type": "string", "pattern": "^[0-9]{1,18}$" },
            }),
        ],
        None,
        (200, "Changes: one JSON page, or an event stream", Some(feed)),
        &[409, 422],
        false,
    );
    if let Some(ok) = b
        .paths
        .get_mut("/api/v1/changes")
        .and_then(|p| p.get_mut("get"))
        .and_then(|op| op["responses"].get_mut("200"))
    {
        ok["content"]["text/event-stream"] = json!({
            "schema": { "type": "string", "description": "Server-sent events: `id: <seq>`, `event: <kind>`, `data: <the change as JSON>`" }
        });
    }
    let many = b.schema::<ResolveMany>();
    let results = b.schema::<Resolutions>();
    b.op(
        "post",
        "/api/v1/resolve",
        "resolvePrompts",
        "releases",
        "Resolve up to 50 prompts in one call, each optionally rendered; each answers on its own",
        vec![],
        Some(many),
        (200, "One result per prompt, in order", Some(results)),
        &[],
        false,
    );

    // What a client does next with what it got back.
    #[cfg(feature = "harvest")]
    harvest_ops(&mut b, limit);
    #[cfg(feature = "webhooks")]
    webhook_ops(&mut b);
    let first_slug = json!({ "slug": "$response.body#/prompts/0/slug" });
    for (name, to) in [
        ("GetPrompt", "getPrompt"),
        ("UpdatePrompt", "updatePrompt"),
        ("ListVersions", "listVersions"),
        ("ListLabels", "listLabels"),
        ("RenderPrompt", "renderPrompt"),
        ("ResolvePrompt", "resolvePrompt"),
        ("DeletePrompt", "deletePrompt"),
        ("SetLabel", "setLabel"),
        ("RemoveLabel", "removeLabel"),
        ("RollbackLabel", "rollbackLabel"),
        ("LabelMoves", "labelMoves"),
        ("DiffVersions", "diffVersions"),
        ("Dependents", "dependents"),
    ] {
        b.link("post", "/api/v1/prompts", 201, name, to, first_slug.clone());
    }
    b.link(
        "post",
        "/api/v1/drafts",
        200,
        "GetDraft",
        "getDraft",
        json!({ "id": "$response.body#/id" }),
    );
    b.link(
        "post",
        "/api/v1/drafts",
        200,
        "DeleteDraft",
        "deleteDraft",
        json!({ "id": "$response.body#/id" }),
    );
    let mut schemas = b.generator.take_definitions(true);
    refine(&mut schemas);
    let doc = json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "PromptDB",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A prompt library for every chat surface. Errors share one shape: `{\"error\": {\"code\", \"message\", \"field\"}}`. The MCP endpoint is `/mcp` (streamable HTTP).",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearerAuth": [] }],
        "tags": [
            { "name": "prompts" }, { "name": "releases" }, { "name": "drafts" }, { "name": "harvest" }, { "name": "webhooks" }, { "name": "account" }, { "name": "health" }
        ],
        "paths": b.paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": { "type": "http", "scheme": "bearer", "description": "An API key (`pdb_…`)" }
            },
            "schemas": schemas,
        },
    });
    (doc, b.operations)
}

/// Webhooks: registration and the delivery log.
#[cfg(feature = "webhooks")]
fn webhook_ops(b: &mut Builder) {
    use promptdb_core::webhook::{
        CreatedWebhook, Delivery, MAX_DELIVERY_PAGE, NewWebhook, Webhook, WebhookPatch,
        WebhookPayload,
    };

    use crate::rest::{DeliveryList, WebhookList};

    let id = || path_param("id", "The webhook's id (UUID)", uuid_schema());
    let list = b.schema::<WebhookList>();
    b.op(
        "get",
        "/api/v1/webhooks",
        "listWebhooks",
        "webhooks",
        "The caller's webhooks (without secrets)",
        vec![],
        None,
        (200, "Webhooks", Some(list)),
        &[],
        false,
    );
    let new = b.schema::<NewWebhook>();
    let created = b.schema::<CreatedWebhook>();
    b.op(
        "post",
        "/api/v1/webhooks",
        "createWebhook",
        "webhooks",
        "Register a URL to be told of changes (`version_created`, `label_moved`, `prompt_deleted`), from the next change on. Deliveries are POSTs signed as Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the secret in this response only; failures are retried (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default), later changes wait, and the hook is disabled when the last retry fails. At most 10 per user",
        vec![],
        Some(new),
        (201, "Registered", Some(created)),
        &[409],
        false,
    );
    b.link(
        "post",
        "/api/v1/webhooks",
        201,
        "GetWebhook",
        "getWebhook",
        json!({ "id": "$response.body#/id" }),
    );
    let hook = b.schema::<Webhook>();
    b.op(
        "get",
        "/api/v1/webhooks/{id}",
        "getWebhook",
        "webhooks",
        "One webhook: its position in the change feed, failures and next attempt",
        vec![id()],
        None,
        (200, "The webhook", Some(hook.clone())),
        &[404, 422],
        false,
    );
    let patch = b.schema::<WebhookPatch>();
    b.op(
        "patch",
        "/api/v1/webhooks/{id}",
        "updateWebhook",
        "webhooks",
        "Change a webhook; `enabled: true` resumes deliveries where they stopped, `false` pauses them",
        vec![id()],
        Some(patch),
        (200, "The webhook", Some(hook)),
        &[404],
        false,
    );
    b.op(
        "delete",
        "/api/v1/webhooks/{id}",
        "deleteWebhook",
        "webhooks",
        "Delete a webhook and its delivery log",
        vec![id()],
        None,
        (204, "Deleted", None),
        &[404, 422],
        false,
    );
    let deliveries = b.schema::<DeliveryList>();
    b.op(
        "get",
        "/api/v1/webhooks/{id}/deliveries",
        "listWebhookDeliveries",
        "webhooks",
        "The webhook's delivery attempts, newest first, kept for seven days",
        vec![
            id(),
            query_param(
                "limit",
                "Attempts to return, 1 to 100 (default 20)",
                json!({ "type": "integer", "minimum": 1, "maximum": MAX_DELIVERY_PAGE }),
            ),
        ],
        None,
        (200, "Attempts", Some(deliveries)),
        &[404, 422],
        false,
    );
    let _ = b.schema::<Delivery>();
    let _ = b.schema::<WebhookPayload>();
}

/// The harvest review queue and transcript upload.
#[cfg(feature = "harvest")]
fn harvest_ops(b: &mut Builder, limit: impl Fn() -> Value) {
    use promptdb_core::harvest::{
        AcceptCandidate, Accepted, Candidate, Harvested, MAX_SOURCE_CHARS, Submission,
    };

    use crate::rest::{CandidateList, HarvestReport, MAX_UPLOAD_BYTES};

    let list = b.schema::<CandidateList>();
    b.op(
        "get",
        "/api/v1/candidates",
        "listCandidates",
        "harvest",
        "Harvest candidates waiting for review, best first",
        vec![
            limit(),
            query_param(
                "offset",
                "How many to skip, at most 100000",
                json!({ "type": "integer", "minimum": 0, "maximum": promptdb_core::MAX_CANDIDATE_OFFSET }),
            ),
        ],
        None,
        (200, "A page of the queue", Some(list)),
        &[422],
        false,
    );
    let submission = b.schema::<Submission>();
    let harvested = b.schema::<Harvested>();
    b.op(
        "post",
        "/api/v1/candidates",
        "submitCandidates",
        "harvest",
        "Queue prompts found in a conversation, all or nothing; ones already waiting are counted again, ones already reviewed are skipped",
        vec![],
        Some(submission),
        (201, "What reached the queue", Some(harvested.clone())),
        &[409],
        false,
    );
    let id = || path_param("id", "The candidate's id (UUID)", uuid_schema());
    let candidate = b.schema::<Candidate>();
    b.op(
        "get",
        "/api/v1/candidates/{id}",
        "getCandidate",
        "harvest",
        "A candidate, in any status, until it expires (30 days)",
        vec![id()],
        None,
        (200, "The candidate", Some(candidate)),
        &[404, 422],
        false,
    );
    let accept = b.schema::<AcceptCandidate>();
    let accepted = b.schema::<Accepted>();
    b.op(
        "post",
        "/api/v1/candidates/{id}/accept",
        "acceptCandidate",
        "harvest",
        "Save a candidate as a new prompt, or with `into` as a new version of a saved one; absent fields keep the candidate's",
        vec![id()],
        Some(accept),
        (200, "What was saved", Some(accepted)),
        &[404, 409],
        false,
    );
    b.op(
        "post",
        "/api/v1/candidates/{id}/dismiss",
        "dismissCandidate",
        "harvest",
        "Turn a candidate down; later harvests do not propose it again",
        vec![id()],
        None,
        (204, "Dismissed", None),
        &[404, 409, 422],
        false,
    );
    let report = b.schema::<HarvestReport>();
    b.op(
        "post",
        "/api/v1/harvest",
        "harvestTranscript",
        "harvest",
        "Upload one transcript, its format named by the Content-Type: a Claude Code .jsonl session log (`application/x-ndjson`), a ChatGPT `conversations.json` (`application/json`), a Markdown or text chat log (`text/markdown`, `text/plain`); at most 16 MiB. Its reusable prompts are found without a model and queued for review; lines or conversations that cannot be read are skipped and counted",
        vec![query_param(
            "name",
            "The file's name, recorded as the candidates' source",
            json!({ "type": "string", "pattern": validate::SINGLE_LINE_PATTERN, "maxLength": MAX_SOURCE_CHARS }),
        )],
        None,
        (201, "What was read and what reached the queue", Some(report)),
        &[400, 409, 413, 422],
        false,
    );
    if let Some(op) = b
        .paths
        .get_mut("/api/v1/harvest")
        .and_then(|p| p.get_mut("post"))
    {
        // Files as they are: any bytes (text that is not UTF-8 is read leniently).
        let file = json!({ "type": "string", "format": "binary", "maxLength": MAX_UPLOAD_BYTES });
        op["requestBody"] = json!({
            "required": true,
            "content": {
                "application/x-ndjson": { "schema": file.clone() },
                "application/json": { "schema": { "type": "array", "description": "A ChatGPT data export's conversations" } },
                "text/markdown": { "schema": file.clone() },
                "text/plain": { "schema": file },
            },
        });
    }
    b.link(
        "post",
        "/api/v1/candidates",
        201,
        "GetCandidate",
        "getCandidate",
        json!({ "id": "$response.body#/added/0/id" }),
    );
}

/// Rules that span fields, which the types alone do not state.
fn refine(schemas: &mut Map<String, Value>) {
    // A text prompt has content and no messages; a chat prompt has messages and no content.
    if let Some(new) = schemas.get_mut("NewPrompt") {
        new["oneOf"] = json!([
            {
                "title": "A text prompt",
                "properties": {
                    "kind": { "const": "text" },
                    "content": { "pattern": validate::CONTENT_PATTERN },
                    "messages": { "maxItems": 0 },
                },
                "required": ["content"],
            },
            {
                "title": "A chat prompt",
                "properties": {
                    "kind": { "const": "chat" },
                    "content": { "maxLength": 0 },
                    "messages": { "minItems": 1 },
                },
                "required": ["kind", "messages"],
            },
        ]);
    }
    // Preference keys, and the two known ones.
    if let Some(prefs) = schemas.get_mut("PreferencesInput") {
        prefs["propertyNames"] = json!({ "pattern": "^[a-z][a-z0-9_.-]{0,63}$" });
        prefs["properties"] = json!({
            "theme": { "enum": ["system", "light", "dark", null] },
            "default_limit": {
                "type": ["integer", "null"], "minimum": 1, "maximum": validate::MAX_PAGE_LIMIT,
            },
        });
    }
    // A new prompt's slug or an existing prompt to add a version to, not both.
    if let Some(accept) = schemas.get_mut("AcceptCandidate") {
        accept["not"] = json!({ "required": ["into", "slug"] });
    }
    // A version or a label, not both.
    if let Some(resolve) = schemas.get_mut("ResolveRequest") {
        resolve["not"] = json!({ "required": ["label", "version"] });
    }
}

/// The OpenAPI document.
pub fn document() -> Value {
    build().0
}

/// Every documented operation.
pub fn operations() -> Vec<Operation> {
    build().1
}
