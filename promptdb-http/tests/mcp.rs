//! MCP in process: an rmcp client over an in-memory transport drives every tool, prompts and
//! resources, through their successes and their failures. Needs only `cargo test` (feature
//! `mcp`); the end-to-end tests with independent clients (Python, TypeScript, Inspector,
//! conformance suite) live in the top-level `tests/`.

use std::sync::Arc;

use promptdb_core::{Principal, PromptDb, Scope};
use promptdb_http::mcp::McpFactory;
use promptdb_store_sqlite::SqliteStore;
use rmcp::{
    RoleClient, ServiceExt,
    model::{
        CallToolRequestParams, CallToolResult, GetPromptRequestParams, ReadResourceRequestParams,
    },
    service::{RunningService, ServiceError},
};
use serde_json::{Value, json};

type Client = RunningService<RoleClient, ()>;

/// A server over a fresh in-memory store, for a principal with `scopes`, and a client on it.
async fn connect_as(db: &PromptDb, principal: Principal) -> Client {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = McpFactory::new(db.clone(), Some(principal)).server();
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_io).await.expect("MCP handshake")
}

struct Fixture {
    db: PromptDb,
    me: Principal,
    client: Client,
}

async fn fixture() -> Fixture {
    let store = SqliteStore::open_in_memory().await.expect("store");
    let db = PromptDb::new(Arc::new(store));
    let me = Principal::full(db.create_user("Ada").await.expect("user").id);
    let client = connect_as(&db, me.clone()).await;
    Fixture { db, me, client }
}

async fn call(
    client: &Client,
    tool: &'static str,
    args: Value,
) -> Result<CallToolResult, ServiceError> {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args))
        .await
}

/// A successful call's structured content.
#[track_caller]
fn ok(result: Result<CallToolResult, ServiceError>) -> Value {
    let result = result.expect("no protocol error");
    assert_ne!(
        result.is_error,
        Some(true),
        "tool error: {:?}",
        result.content
    );
    assert!(
        !text_of(&result).is_empty(),
        "a readable text comes with it"
    );
    result.structured_content.expect("structured content")
}

/// A tool error's text.
#[track_caller]
fn tool_error(result: Result<CallToolResult, ServiceError>) -> String {
    let result = result.expect("a tool error, not a protocol error");
    assert_eq!(
        result.is_error,
        Some(true),
        "expected a tool error: {result:?}"
    );
    assert!(result.structured_content.is_none());
    text_of(&result)
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn save(client: &Client, slug: &str, content: &str, tags: &[&str]) -> Value {
    ok(call(
        client,
        "save_prompts",
        json!({"prompts": [{"slug": slug, "name": slug.replace('-', " "), "content": content, "tags": tags}]}),
    )
    .await)
}

#[tokio::test]
async fn tools_are_listed_with_schemas_and_annotations() {
    let f = fixture().await;
    let tools = f.client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for expected in [
        "health_check",
        "test_auth",
        "save_prompts",
        "get_prompt",
        "list_prompts",
        "search_prompts",
        "update_prompt",
        "delete_prompt",
        "list_tags",
        "track_prompt_use",
        "set_preferences",
        "get_preferences",
        "open_prompt_library",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("test_") && *n != "test_auth"),
        "no conformance fixtures outside the test mode: {names:?}"
    );
    for tool in &tools {
        assert!(
            tool.output_schema.is_some(),
            "{} has an output schema",
            tool.name
        );
        let a = tool.annotations.as_ref().expect("annotations");
        assert!(a.read_only_hint.is_some(), "{}", tool.name);
    }
}

#[tokio::test]
async fn health_and_identity() {
    let f = fixture().await;
    let health = ok(call(&f.client, "health_check", json!({})).await);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["store"], "sqlite");
    let me = ok(call(&f.client, "test_auth", json!({})).await);
    assert_eq!(me["user_id"], f.me.user_id().to_string());
    assert_eq!(me["display_name"], "Ada");
    assert_eq!(me["scopes"], json!(["read", "write", "release"]));
}

#[tokio::test]
async fn save_get_render_update_track_and_delete() {
    let f = fixture().await;
    let saved = save(
        &f.client,
        "haiku",
        "Write a haiku about {{topic}}.",
        &["Poetry"],
    )
    .await;
    assert_eq!(saved["saved"][0]["slug"], "haiku");
    assert_eq!(saved["saved"][0]["tags"], json!(["poetry"]));

    let got = ok(call(&f.client, "get_prompt", json!({"slug": "haiku"})).await);
    assert_eq!(got["prompt"]["variables"][0]["name"], "topic");
    assert!(got.get("rendered").is_none_or(Value::is_null));
    let rendered = ok(call(
        &f.client,
        "get_prompt",
        json!({"slug": "haiku", "variables": {"topic": "rust"}}),
    )
    .await);
    assert_eq!(rendered["rendered"], "Write a haiku about rust.");

    let updated = ok(call(
        &f.client,
        "update_prompt",
        json!({"slug": "haiku", "content": "Write a haiku about {{topic}} in {{season}}."}),
    )
    .await);
    assert_eq!(updated["prompt"]["version"], 2);
    assert_eq!(updated["prompt"]["variables"].as_array().unwrap().len(), 2);

    let used = ok(call(&f.client, "track_prompt_use", json!({"slug": "haiku"})).await);
    assert_eq!(used["usage_count"], 1);
    assert_eq!(
        f.db.get_prompt(&f.me, "haiku").await.unwrap().usage_count,
        1,
        "the use reached the store"
    );

    let deleted = ok(call(&f.client, "delete_prompt", json!({"slug": "haiku"})).await);
    assert_eq!(deleted["deleted"], "haiku");
    assert!(f.db.get_prompt(&f.me, "haiku").await.is_err());
}

#[tokio::test]
async fn failures_are_tool_errors_that_say_what_to_fix() {
    let f = fixture().await;
    save(&f.client, "taken", "Some text", &[]).await;

    let e = tool_error(call(&f.client, "get_prompt", json!({"slug": "missing"})).await);
    assert!(e.contains("No prompt with slug `missing`"), "{e}");
    let e = tool_error(call(&f.client, "get_prompt", json!({"slug": "Not A Slug"})).await);
    assert!(e.contains("slug"), "{e}");
    let e = tool_error(
        call(
            &f.client,
            "save_prompts",
            json!({"prompts": [{"slug": "taken", "name": "Again", "content": "x"}]}),
        )
        .await,
    );
    assert!(
        e.contains("prompts[0].slug") && e.contains("Conflict"),
        "{e}"
    );
    let e = tool_error(
        call(
            &f.client,
            "save_prompts",
            json!({"prompts": [{"name": "", "content": "x"}]}),
        )
        .await,
    );
    assert!(e.contains("prompts[0].name"), "{e}");
    let e = tool_error(call(&f.client, "save_prompts", json!({"prompts": []})).await);
    assert!(e.contains("at least one"), "{e}");
    save(&f.client, "templ", "Hello {{name}}", &[]).await;
    let e = tool_error(
        call(
            &f.client,
            "get_prompt",
            json!({"slug": "templ", "variables": {"other": "x"}}),
        )
        .await,
    );
    assert!(e.contains("variables.other"), "{e}");
    let e = tool_error(
        call(
            &f.client,
            "get_prompt",
            json!({"slug": "templ", "variables": {}}),
        )
        .await,
    );
    assert!(e.contains("variables.name"), "{e}");
    let e = tool_error(call(&f.client, "update_prompt", json!({"slug": "templ"})).await);
    assert!(e.contains("at least one field"), "{e}");
    let e = tool_error(
        call(
            &f.client,
            "update_prompt",
            json!({"slug": "missing", "name": "x"}),
        )
        .await,
    );
    assert!(e.contains("missing"), "{e}");
    let e = tool_error(call(&f.client, "delete_prompt", json!({"slug": "missing"})).await);
    assert!(e.contains("missing"), "{e}");
    let e = tool_error(call(&f.client, "track_prompt_use", json!({"slug": "missing"})).await);
    assert!(e.contains("missing"), "{e}");
    let e = tool_error(call(&f.client, "list_prompts", json!({"cursor": "not-a-cursor"})).await);
    assert!(e.contains("cursor"), "{e}");
    let e = tool_error(call(&f.client, "list_prompts", json!({"limit": 0})).await);
    assert!(e.contains("limit"), "{e}");
    let e = tool_error(
        call(
            &f.client,
            "set_preferences",
            json!({"preferences": {"theme": "x".repeat(20_000)}}),
        )
        .await,
    );
    assert!(e.contains("preferences"), "{e}");
}

#[tokio::test]
async fn arguments_of_the_wrong_shape_are_tool_errors_naming_the_problem() {
    let f = fixture().await;
    for (tool, args, says) in [
        ("get_prompt", json!({}), "missing field `slug`"),
        ("get_prompt", json!({"slug": 5}), "invalid type"),
        ("save_prompts", json!({"prompts": "x"}), "invalid type"),
        ("list_prompts", json!({"limit": "ten"}), "invalid type"),
        (
            "get_prompt",
            json!({"slug": "a", "surprise": true}),
            "unknown field `surprise`",
        ),
    ] {
        let e = tool_error(call(&f.client, tool, args.clone()).await);
        assert!(e.contains(says), "{tool} {args}: {e}");
    }
    let err = call(&f.client, "no_such_tool", json!({}))
        .await
        .expect_err("an unknown tool is a protocol error");
    assert!(err.to_string().contains("tool not found"), "{err}");
}

#[tokio::test]
async fn lists_search_tags_and_the_library() {
    let f = fixture().await;
    save(
        &f.client,
        "rust-review",
        "Review this Rust code: {{code}}",
        &["rust", "review"],
    )
    .await;
    save(
        &f.client,
        "go-review",
        "Review this Go code",
        &["go", "review"],
    )
    .await;
    ok(call(
        &f.client,
        "update_prompt",
        json!({"slug": "go-review", "pinned": true}),
    )
    .await);

    let list = ok(call(&f.client, "list_prompts", json!({})).await);
    let slugs: Vec<&str> = list["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["go-review", "rust-review"], "pinned first");
    let page = ok(call(&f.client, "list_prompts", json!({"limit": 1})).await);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let page2 = ok(call(
        &f.client,
        "list_prompts",
        json!({"limit": 1, "cursor": cursor}),
    )
    .await);
    assert_eq!(page2["prompts"][0]["slug"], "rust-review");
    let tagged = ok(call(&f.client, "list_prompts", json!({"tags": ["rust"]})).await);
    assert_eq!(tagged["prompts"].as_array().unwrap().len(), 1);

    let found = ok(call(
        &f.client,
        "search_prompts",
        json!({"query": "rust #review"}),
    )
    .await);
    assert_eq!(found["prompts"][0]["slug"], "rust-review");
    let none = ok(call(&f.client, "search_prompts", json!({"query": "haskell"})).await);
    assert_eq!(none["prompts"], json!([]));

    let tags = ok(call(&f.client, "list_tags", json!({})).await);
    assert_eq!(tags["tags"][0], json!({"tag": "review", "count": 2}));

    let library = f
        .client
        .call_tool(CallToolRequestParams::new("open_prompt_library"))
        .await
        .unwrap();
    assert_eq!(
        library.structured_content.unwrap()["prompts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let filtered = ok(call(&f.client, "open_prompt_library", json!({"query": "#go"})).await);
    assert_eq!(filtered["prompts"][0]["slug"], "go-review");
}

#[tokio::test]
async fn preferences_merge_and_remove() {
    let f = fixture().await;
    let empty = ok(call(&f.client, "get_preferences", json!({})).await);
    assert_eq!(empty["preferences"], json!({}));
    ok(call(
        &f.client,
        "set_preferences",
        json!({"preferences": {"theme": "dark", "density": "compact"}}),
    )
    .await);
    let merged = ok(call(
        &f.client,
        "set_preferences",
        json!({"preferences": {"density": null}}),
    )
    .await);
    assert_eq!(merged["preferences"], json!({"theme": "dark"}));
}

#[tokio::test]
async fn prompts_and_resources_follow_the_library() {
    let f = fixture().await;
    save(
        &f.client,
        "greet",
        "Hello {{name}}, welcome to {{place}}.",
        &[],
    )
    .await;
    let prompts = f.client.list_all_prompts().await.unwrap();
    let greet = prompts.iter().find(|p| p.name == "greet").expect("listed");
    let args: Vec<&str> = greet
        .arguments
        .iter()
        .flatten()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(args, ["name", "place"]);

    let mut params = GetPromptRequestParams::new("greet");
    params.arguments = Some(
        json!({"name": "Ada", "place": "PromptDB"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let got = f.client.get_prompt(params).await.unwrap();
    let text = serde_json::to_value(&got.messages[0]).unwrap();
    assert!(
        text.to_string().contains("Hello Ada, welcome to PromptDB."),
        "{text}"
    );
    let err = f
        .client
        .get_prompt(GetPromptRequestParams::new("greet"))
        .await
        .expect_err("missing arguments");
    assert!(err.to_string().contains("variables"), "{err}");
    let err = f
        .client
        .get_prompt(GetPromptRequestParams::new("nope"))
        .await
        .expect_err("unknown prompt");
    assert!(err.to_string().contains("nope"), "{err}");

    let resources = f.client.list_all_resources().await.unwrap();
    assert!(
        resources.iter().any(|r| r.uri == "prompt://greet"),
        "{resources:?}"
    );
    let read = f
        .client
        .read_resource(ReadResourceRequestParams::new("prompt://greet"))
        .await
        .unwrap();
    assert!(
        serde_json::to_string(&read)
            .unwrap()
            .contains("Hello {{name}}")
    );
    let err = f
        .client
        .read_resource(ReadResourceRequestParams::new("prompt://nope"))
        .await
        .expect_err("unknown resource");
    assert!(!err.to_string().is_empty());
    assert_eq!(
        f.db.get_prompt(&f.me, "greet").await.unwrap().usage_count,
        1,
        "prompts/get records a use"
    );
}

#[tokio::test]
async fn read_only_principals_cannot_write_and_users_are_isolated() {
    let f = fixture().await;
    save(&f.client, "mine", "Alice's text", &[]).await;

    let reader = connect_as(&f.db, Principal::new(f.me.user_id(), &[Scope::Read])).await;
    ok(call(&reader, "get_prompt", json!({"slug": "mine"})).await);
    for (tool, args) in [
        (
            "save_prompts",
            json!({"prompts": [{"name": "x", "content": "y"}]}),
        ),
        ("update_prompt", json!({"slug": "mine", "name": "x"})),
        ("delete_prompt", json!({"slug": "mine"})),
        ("track_prompt_use", json!({"slug": "mine"})),
        ("set_preferences", json!({"preferences": {"a": 1}})),
    ] {
        let e = tool_error(call(&reader, tool, args).await);
        assert!(e.contains("read-only"), "{tool}: {e}");
    }
    assert_eq!(f.db.get_prompt(&f.me, "mine").await.unwrap().version, 1);

    let bob = Principal::full(f.db.create_user("Bob").await.unwrap().id);
    let bob = connect_as(&f.db, bob).await;
    tool_error(call(&bob, "get_prompt", json!({"slug": "mine"})).await);
    tool_error(call(&bob, "delete_prompt", json!({"slug": "mine"})).await);
    let list = ok(call(&bob, "list_prompts", json!({})).await);
    assert_eq!(list["prompts"], json!([]));
    // Nothing of Alice's: at most the built-in `harvest` prompt.
    let listed = bob.list_all_prompts().await.unwrap();
    assert!(listed.iter().all(|p| p.name == "harvest"), "{listed:?}");
    assert!(
        bob.read_resource(ReadResourceRequestParams::new("prompt://mine"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn versions_labels_and_diffs() {
    let f = fixture().await;
    save(&f.client, "support/triage", "Triage {{ticket}}", &[]).await;
    ok(call(
        &f.client,
        "update_prompt",
        json!({"slug": "support/triage", "content": "Triage carefully {{ticket}}", "commit_message": "be careful"}),
    )
    .await);
    let versions = ok(call(
        &f.client,
        "list_versions",
        json!({"slug": "support/triage"}),
    )
    .await);
    assert_eq!(versions["versions"][0]["version"], 2);
    assert_eq!(versions["versions"][0]["commit_message"], "be careful");
    assert_eq!(versions["versions"][0]["labels"], json!(["latest"]));

    let diff = ok(call(
        &f.client,
        "diff_versions",
        json!({"slug": "support/triage", "from": 1, "to": 2}),
    )
    .await);
    assert_eq!(diff["changed"], json!(["content"]));
    let e = tool_error(
        call(
            &f.client,
            "diff_versions",
            json!({"slug": "support/triage", "from": 1, "to": 5}),
        )
        .await,
    );
    assert!(e.contains("support/triage@5"), "{e}");

    let moved = ok(call(
        &f.client,
        "set_label",
        json!({"slug": "support/triage", "label": "production", "version": 1}),
    )
    .await);
    assert_eq!(moved["move"]["to"], json!({"version": 1}));
    assert!(
        moved["move"].get("actor").is_none(),
        "the in-process principal has no actor"
    );
    let got = ok(call(
        &f.client,
        "get_prompt",
        json!({"slug": "support/triage", "label": "production", "variables": {"ticket": "T-9"}}),
    )
    .await);
    assert_eq!(
        got["prompt"]["version"], 2,
        "the prompt itself is the newest"
    );
    assert_eq!(got["resolved"]["version"], 1);
    assert_eq!(got["rendered"], "Triage T-9");
    let split = ok(call(
        &f.client,
        "set_label",
        json!({"slug": "support/triage", "label": "production", "split": [{"version": 1, "weight": 50}, {"version": 2, "weight": 50}]}),
    )
    .await);
    assert_eq!(split["move"]["from"], json!({"version": 1}));
    let back = ok(call(
        &f.client,
        "set_label",
        json!({"slug": "support/triage", "label": "production", "rollback": true}),
    )
    .await);
    assert_eq!(back["move"]["to"], json!({"version": 1}));
    let e = tool_error(
        call(
            &f.client,
            "set_label",
            json!({"slug": "support/triage", "label": "production"}),
        )
        .await,
    );
    assert!(e.contains("exactly one"), "{e}");
    let e = tool_error(
        call(
            &f.client,
            "set_label",
            json!({"slug": "support/triage", "label": "production", "version": 9}),
        )
        .await,
    );
    assert!(e.contains("support/triage@9"), "{e}");

    // A writer without the release scope moves other labels, not production.
    let writer = connect_as(
        &f.db,
        Principal::new(f.me.user_id(), &[Scope::Read, Scope::Write]),
    )
    .await;
    ok(call(
        &writer,
        "set_label",
        json!({"slug": "support/triage", "label": "staging", "version": 2}),
    )
    .await);
    let e = tool_error(
        call(
            &writer,
            "set_label",
            json!({"slug": "support/triage", "label": "production", "version": 2}),
        )
        .await,
    );
    assert!(e.contains("release scope"), "{e}");
    // A release-only principal may move production but not edit.
    let releaser = connect_as(
        &f.db,
        Principal::new(f.me.user_id(), &[Scope::Read, Scope::Release]),
    )
    .await;
    ok(call(
        &releaser,
        "set_label",
        json!({"slug": "support/triage", "label": "production", "version": 2}),
    )
    .await);
    tool_error(
        call(
            &releaser,
            "update_prompt",
            json!({"slug": "support/triage", "name": "x"}),
        )
        .await,
    );
    let uses = ok(call(
        &f.client,
        "track_prompt_use",
        json!({"slug": "support/triage", "version": 1}),
    )
    .await);
    assert_eq!(uses["version"], 1);
}

#[tokio::test]
async fn chat_prompts_are_role_tagged_messages() {
    let f = fixture().await;
    ok(call(
        &f.client,
        "save_prompts",
        json!({"prompts": [{"slug": "pirate", "name": "Pirate", "kind": "chat", "messages": [
            {"role": "system", "content": "Talk like a pirate about {{topic}}."},
            {"role": "assistant", "content": "Arr."},
            {"role": "user", "content": "Tell me about {{topic}}."}
        ]}]}),
    )
    .await);
    let mut params = GetPromptRequestParams::new("pirate");
    params.arguments = Some(json!({"topic": "rust"}).as_object().unwrap().clone());
    let got = f.client.get_prompt(params).await.unwrap();
    let messages: Vec<(String, String)> = got
        .messages
        .iter()
        .map(|m| {
            let v = serde_json::to_value(m).unwrap();
            (
                v["role"].as_str().unwrap().to_owned(),
                v["content"]["text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        messages,
        vec![
            (
                "user".to_owned(),
                "Talk like a pirate about rust.".to_owned()
            ),
            ("assistant".to_owned(), "Arr.".to_owned()),
            ("user".to_owned(), "Tell me about rust.".to_owned()),
        ]
    );
    let got = ok(call(
        &f.client,
        "get_prompt",
        json!({"slug": "pirate", "variables": {"topic": "x"}}),
    )
    .await);
    assert_eq!(
        got["resolved"]["rendered"][2]["content"],
        "Tell me about x."
    );
}

#[cfg(feature = "harvest")]
#[tokio::test]
async fn harvest_prompt_and_review_tools() {
    let f = fixture().await;
    // The built-in prompt is listed and asks the model to call harvest_session.
    let prompts = f.client.list_all_prompts().await.unwrap();
    let harvest = prompts
        .iter()
        .find(|p| p.name == "harvest")
        .expect("listed");
    assert_eq!(harvest.arguments.as_ref().unwrap()[0].name, "focus");
    let mut params = GetPromptRequestParams::new("harvest");
    params.arguments = Some(json!({"focus": "SQL prompts"}).as_object().unwrap().clone());
    let got = f.client.get_prompt(params).await.unwrap();
    let text = serde_json::to_value(&got.messages[0]).unwrap()["content"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains("harvest_session") && text.contains("Focus on: SQL prompts"),
        "{text}"
    );

    save(
        &f.client,
        "sql-review",
        "Review this SQL query for performance problems:\n{{query}}",
        &[],
    )
    .await;
    let done = ok(call(
        &f.client,
        "harvest_session",
        json!({"source": "a chat", "prompts": [
            {"name": "SQL review", "content": "Review this SQL query for performance problems and suggest indexes:\n{{query}}",
             "reason": "asked twice", "excerpt": "Review this SQL query ...", "tags": ["sql"]},
            {"name": "Standup", "content": "Turn these notes into a standup update: {{notes}}"}
        ]}),
    )
    .await);
    let added = done["added"].as_array().unwrap();
    assert_eq!(added.len(), 2);
    assert_eq!(added[0]["origin"], "model");
    assert_eq!(added[0]["similar"][0]["slug"], "sql-review");

    let list = ok(call(&f.client, "list_candidates", json!({})).await);
    assert_eq!(list["pending"], 2);
    let sql = added[0]["id"].as_str().unwrap();
    let standup = added[1]["id"].as_str().unwrap();
    let accepted = ok(call(
        &f.client,
        "accept_candidate",
        json!({"id": sql, "into": "sql-review"}),
    )
    .await);
    assert_eq!(accepted["created"], false);
    assert_eq!(accepted["prompt"]["version"], 2);
    let accepted = ok(call(
        &f.client,
        "accept_candidate",
        json!({"id": standup, "slug": "standup"}),
    )
    .await);
    assert_eq!(accepted["prompt"]["slug"], "standup");
    let e = tool_error(call(&f.client, "dismiss_candidate", json!({"id": standup})).await);
    assert!(e.contains("accepted already"), "{e}");
    let e = tool_error(call(&f.client, "accept_candidate", json!({"id": "nope"})).await);
    assert!(e.contains("id"), "{e}");
    let e = tool_error(call(&f.client, "harvest_session", json!({"prompts": []})).await);
    assert!(e.contains("candidates"), "{e}");
    assert_eq!(
        ok(call(&f.client, "list_candidates", json!({})).await)["pending"],
        0
    );

    // A user's own `harvest` prompt takes the built-in one's place.
    save(&f.client, "harvest", "My own harvest notes", &[]).await;
    let prompts = f.client.list_all_prompts().await.unwrap();
    assert_eq!(prompts.iter().filter(|p| p.name == "harvest").count(), 1);
    let got = f
        .client
        .get_prompt(GetPromptRequestParams::new("harvest"))
        .await
        .unwrap();
    let text = serde_json::to_value(&got.messages[0]).unwrap()["content"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(text, "My own harvest notes");
}

/// `manage_webhooks` registers (the secret shown once), lists, pauses, shows the delivery log and
/// deletes; mistakes are tool errors naming the field.
#[cfg(feature = "webhooks")]
#[tokio::test]
async fn webhooks_are_managed_through_one_tool() {
    let f = fixture().await;
    let created = ok(call(
        &f.client,
        "manage_webhooks",
        json!({"action": "create", "url": "https://example.com/hook", "events": ["label_moved"], "description": "deploys"}),
    )
    .await);
    assert!(
        created["secret"].as_str().unwrap().starts_with("whsec_"),
        "{created}"
    );
    let id = created["webhooks"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["webhooks"][0]["events"], json!(["label_moved"]));

    let listed = ok(call(&f.client, "manage_webhooks", json!({"action": "list"})).await);
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert!(
        listed.get("secret").is_none(),
        "the secret is shown once: {listed}"
    );
    let text = text_of(
        &call(&f.client, "manage_webhooks", json!({"action": "list"}))
            .await
            .unwrap(),
    );
    assert!(
        text.contains("https://example.com/hook") && text.contains("active"),
        "{text}"
    );

    let paused = ok(call(
        &f.client,
        "manage_webhooks",
        json!({"action": "update", "id": id, "enabled": false}),
    )
    .await);
    assert_eq!(paused["webhooks"][0]["enabled"], json!(false));
    let log = ok(call(
        &f.client,
        "manage_webhooks",
        json!({"action": "deliveries", "id": id}),
    )
    .await);
    assert_eq!(log["deliveries"], json!([]));

    for (args, field) in [
        (json!({"action": "create"}), "url"),
        (
            json!({"action": "create", "url": "ftp://example.com"}),
            "url",
        ),
        (json!({"action": "update", "enabled": true}), "id"),
        (json!({"action": "delete", "id": "not-a-uuid"}), "id"),
        (
            json!({"action": "deliveries", "id": id, "limit": 0}),
            "limit",
        ),
    ] {
        let e = tool_error(call(&f.client, "manage_webhooks", args.clone()).await);
        assert!(e.contains(field), "{args}: {e}");
    }

    ok(call(
        &f.client,
        "manage_webhooks",
        json!({"action": "delete", "id": id}),
    )
    .await);
    let listed = ok(call(&f.client, "manage_webhooks", json!({"action": "list"})).await);
    assert_eq!(listed["webhooks"], json!([]));
    let e = tool_error(
        call(
            &f.client,
            "manage_webhooks",
            json!({"action": "delete", "id": id}),
        )
        .await,
    );
    assert!(e.contains("not found") || e.contains("No webhook"), "{e}");
}

/// The MCP Apps metadata of a tool (`_meta.ui`) goes only to a client that advertises the
/// extension; ChatGPT's `openai/…` keys go to every client.
#[tokio::test]
async fn ui_metadata_goes_only_to_clients_of_the_apps_extension() {
    let f = fixture().await;
    let library = |tools: Vec<rmcp::model::Tool>| {
        tools
            .into_iter()
            .find(|t| t.name == "open_prompt_library")
            .and_then(|t| t.meta)
            .expect("the library tool has metadata")
            .0
    };
    let plain = library(f.client.list_all_tools().await.unwrap());
    assert!(plain.get("ui").is_none(), "{plain:?}");
    assert_eq!(
        plain["openai/outputTemplate"],
        "ui://widget/prompt-library-skybridge.html"
    );
    assert_eq!(plain["openai/widgetAccessible"], true);

    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = McpFactory::new(f.db.clone(), Some(f.me.clone())).server();
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let mut config = rmcp::model::ClientConfig::default();
    let mut extensions = rmcp::model::ExtensionCapabilities::new();
    extensions.insert(
        "io.modelcontextprotocol/ui".into(),
        serde_json::from_value(json!({ "mimeTypes": ["text/html;profile=mcp-app"] })).unwrap(),
    );
    config.capabilities.extensions = Some(extensions);
    let apps = config.serve(client_io).await.expect("MCP handshake");
    let with_ui = library(apps.list_all_tools().await.unwrap());
    assert_eq!(
        with_ui["ui"]["resourceUri"],
        "ui://widget/prompt-library.html"
    );
    assert_eq!(
        with_ui["openai/outputTemplate"],
        "ui://widget/prompt-library-skybridge.html"
    );
}
