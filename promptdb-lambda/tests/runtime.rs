//! End to end: the real `promptdb-lambda` binary against a local Lambda Runtime API, on
//! PostgreSQL (`PROMPTDB_TEST_DATABASE_URL`, else a throwaway cluster; see
//! `promptdb_store_postgres::testing`).

mod common;

use std::{sync::Arc, time::Duration};

use common::{
    Event, FUNCTION_URL_HOST, HTTP_API_HOST, REST_API_HOST, Source,
    runtime_api::{Function, Posted, RuntimeApi},
};
use promptdb_core::{NewApiKey, PromptDb};
use promptdb_store_postgres::testing::TestDatabase;
use serde_json::{Value, json};

/// The first answer waits for the cold start and the first request's connection and schema check.
const COLD: Duration = Duration::from_secs(120);
const WARM: Duration = Duration::from_secs(30);

/// A migrated database with a user, and that user's key.
async fn database_with_key() -> (TestDatabase, String) {
    let database = TestDatabase::create().await;
    let key = migrate_with_key(&database).await;
    (database, key)
}

/// Migrates `database` (as `promptdb migrate` would), adds a user, and returns that user's key.
async fn migrate_with_key(database: &TestDatabase) -> String {
    let db = PromptDb::new(Arc::new(database.store().await));
    let user = db.create_user("Lambda").await.expect("user");
    db.issue_api_key(user.id, NewApiKey::new("e2e"))
        .await
        .expect("key")
        .secret
}

/// Invokes the function with `event` and returns the Lambda response it posted.
async fn invoke(
    api: &mut RuntimeApi,
    function: &mut Function,
    event: &Event,
    timeout: Duration,
) -> Value {
    let id = api.invoke(event.encode());
    match api.posted(timeout).await {
        Some((_, Posted::Response { request_id, body })) => {
            assert_eq!(request_id, id);
            body
        }
        Some((_, other)) => panic!(
            "expected a response to {id}, got {other:?}\n{}",
            function.log()
        ),
        None => panic!(
            "no answer to {id} within {timeout:?} (running: {})\n{}",
            function.is_running(),
            function.log()
        ),
    }
}

/// The body of a Lambda response, parsed as JSON.
fn body(response: &Value) -> Value {
    let text = response["body"].as_str().unwrap_or_default();
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_rest_and_mcp_and_survives_bad_events() {
    let (database, key) = database_with_key().await;
    let mut api = RuntimeApi::start().await;
    let hosts = [REST_API_HOST, HTTP_API_HOST, FUNCTION_URL_HOST].join(",");
    let mut function = Function::spawn(
        &api.endpoint(),
        &[
            ("PROMPTDB_DATABASE_URL", database.url.as_str()),
            ("PROMPTDB_MCP_ALLOWED_HOSTS", hosts.as_str()),
        ],
    );

    // REST API (payload 1.0, stage `prod`): save a prompt. The first event waits for the init.
    let id = api.invoke(Event::new(Source::RestApi).bearer(&key).encode());
    let (answered, created) = match api.posted(COLD).await {
        Some((at, Posted::Response { request_id, body })) if request_id == id => (at, body),
        other => panic!(
            "expected a response to {id}, got {other:?}\n{}",
            function.log()
        ),
    };
    let init = api.first_poll().map(|at| at - function.spawned);
    eprintln!(
        "promptdb-lambda cold start: init (spawn to first /next) {init:?}, first response {:?} after spawn",
        answered - function.spawned
    );
    assert_eq!(created["statusCode"], 201, "{created}");
    assert_eq!(body(&created)["prompts"][0]["slug"], "code-review");
    // Payload 1.0 responses carry their headers as lists.
    assert!(
        created["multiValueHeaders"]["content-type"][0]
            .as_str()
            .is_some_and(|t| t.starts_with("application/json")),
        "{created}"
    );
    assert_eq!(created["isBase64Encoded"], false);

    // HTTP API (payload 2.0): list with a query string.
    let listed = invoke(
        &mut api,
        &mut function,
        &Event::new(Source::HttpApi).bearer(&key),
        WARM,
    )
    .await;
    assert_eq!(listed["statusCode"], 200, "{listed}");
    assert_eq!(body(&listed)["items"][0]["slug"], "code-review");
    assert!(
        listed["headers"]["content-type"]
            .as_str()
            .is_some_and(|t| t.starts_with("application/json")),
        "{listed}"
    );

    // Function URL (payload 2.0): read it.
    let got = invoke(
        &mut api,
        &mut function,
        &Event::new(Source::FunctionUrl).bearer(&key),
        WARM,
    )
    .await;
    assert_eq!(got["statusCode"], 200, "{got}");
    assert_eq!(body(&got)["name"], "Code Review");

    // Failures are HTTP responses, not failed invocations.
    let unauthorized = invoke(
        &mut api,
        &mut function,
        &Event::request(Source::HttpApi, "GET", "/api/v1/prompts"),
        WARM,
    )
    .await;
    assert_eq!(unauthorized["statusCode"], 401, "{unauthorized}");
    assert_eq!(body(&unauthorized)["error"]["code"], "unauthorized");
    assert!(
        unauthorized["headers"]["www-authenticate"].is_string(),
        "{unauthorized}"
    );
    let missing = invoke(
        &mut api,
        &mut function,
        &Event::request(Source::RestApi, "GET", "/api/v1/prompts/no-such-prompt").bearer(&key),
        WARM,
    )
    .await;
    assert_eq!(missing["statusCode"], 404, "{missing}");
    assert_eq!(body(&missing)["error"]["code"], "not_found");
    let no_route = invoke(
        &mut api,
        &mut function,
        &Event::request(Source::FunctionUrl, "GET", "/nowhere").bearer(&key),
        WARM,
    )
    .await;
    assert_eq!(no_route["statusCode"], 404, "{no_route}");
    let bad_json = invoke(
        &mut api,
        &mut function,
        &Event::request(Source::FunctionUrl, "POST", "/api/v1/prompts")
            .bearer(&key)
            .header("content-type", "application/json")
            .body(Some("{\"prompts\": ["), false),
        WARM,
    )
    .await;
    assert_eq!(bad_json["statusCode"], 400, "{bad_json}");
    assert_eq!(body(&bad_json)["error"]["code"], "malformed");

    // Events that are not HTTP events fail their invocation cleanly; the function goes on.
    for bad in [r#"{"foo": 1}"#, "this is not JSON"] {
        let id = api.invoke(bad.to_owned());
        match api.posted(WARM).await {
            Some((
                _,
                Posted::Error {
                    request_id, body, ..
                },
            )) => {
                assert_eq!(request_id, id);
                assert!(
                    body["errorMessage"].as_str().is_some_and(|m| !m.is_empty()),
                    "{body}"
                );
            }
            other => panic!(
                "expected an error for {bad:?}, got {other:?}\n{}",
                function.log()
            ),
        }
        assert!(function.is_running(), "{}", function.log());
    }
    let health = invoke(
        &mut api,
        &mut function,
        &Event::request(Source::HttpApi, "GET", "/health"),
        WARM,
    )
    .await;
    assert_eq!(health["statusCode"], 200, "{health}");
    assert_eq!(body(&health)["status"], "ok");

    // MCP in stateless JSON mode: initialize, then requests without a session.
    let initialize = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": { "name": "promptdb-lambda-e2e", "version": "1.0.0" }
        }
    });
    let init = invoke(
        &mut api,
        &mut function,
        &Event::mcp(Source::FunctionUrl, &key, &initialize),
        WARM,
    )
    .await;
    assert_eq!(init["statusCode"], 200, "{init}");
    assert!(init["headers"].get("mcp-session-id").is_none(), "{init}");
    assert!(
        init["headers"]["content-type"]
            .as_str()
            .is_some_and(|t| t.starts_with("application/json")),
        "{init}"
    );
    let init = body(&init);
    assert_eq!(init["result"]["serverInfo"]["name"], "promptdb", "{init}");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");

    let tools = invoke(
        &mut api,
        &mut function,
        &Event::mcp(
            Source::HttpApi,
            &key,
            &json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }),
        )
        .header("MCP-Protocol-Version", "2025-06-18"),
        WARM,
    )
    .await;
    assert_eq!(tools["statusCode"], 200, "{tools}");
    let tools = body(&tools);
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .map(|list| list.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(names.contains(&"search_prompts"), "{tools}");
    assert!(names.contains(&"save_prompts"), "{tools}");

    let call = json!({
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": { "name": "list_prompts", "arguments": {} }
    });
    let listed = invoke(
        &mut api,
        &mut function,
        &Event::mcp(Source::RestApi, &key, &call).header("MCP-Protocol-Version", "2025-06-18"),
        WARM,
    )
    .await;
    assert_eq!(listed["statusCode"], 200, "{listed}");
    let listed = body(&listed);
    assert_eq!(
        listed["result"]["structuredContent"]["prompts"][0]["slug"], "code-review",
        "{listed}"
    );

    assert!(function.is_running(), "{}", function.log());
}

#[tokio::test]
async fn init_errors_are_reported_and_end_the_process() {
    let mut api = RuntimeApi::start().await;
    let mut function = Function::spawn(&api.endpoint(), &[]);
    match api.posted(WARM).await {
        Some((_, Posted::InitError { error_type, body })) => {
            assert_eq!(error_type.as_deref(), Some("Runtime.InitError"));
            assert!(
                body["errorMessage"]
                    .as_str()
                    .is_some_and(|m| m.contains("PROMPTDB_DATABASE_URL")),
                "{body}"
            );
        }
        other => panic!("expected an init error, got {other:?}\n{}", function.log()),
    }
    let status = function.exit(WARM).await;
    assert!(
        status.is_some_and(|s| !s.success()),
        "{status:?}\n{}",
        function.log()
    );
    assert!(api.first_poll().is_none(), "it never asked for an event");
}

#[tokio::test]
async fn an_unreachable_database_answers_503_without_the_password() {
    // Nothing listens on port 1. The pool connects on the first request, not at init.
    let url = "postgres://promptdb:hunter2@127.0.0.1:1/promptdb";
    let mut api = RuntimeApi::start().await;
    let mut function = Function::spawn(&api.endpoint(), &[("DATABASE_URL", url)]);
    let answer = invoke(
        &mut api,
        &mut function,
        &Event::request(Source::FunctionUrl, "GET", "/api/v1/prompts").bearer("pdb_x"),
        COLD,
    )
    .await;
    assert_eq!(answer["statusCode"], 503, "{answer}");
    assert_eq!(body(&answer)["error"]["code"], "unavailable", "{answer}");
    assert!(!answer.to_string().contains("hunter2"), "{answer}");
    assert!(!function.log().contains("hunter2"), "{}", function.log());
    assert!(
        function.is_running(),
        "the environment stays up for the next request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_behind_the_build_answers_503_and_says_what_to_run_until_migrated() {
    // A database nobody has migrated: the Lambda never migrates, it checks.
    let database = TestDatabase::create().await;
    let mut api = RuntimeApi::start().await;
    let mut function = Function::spawn(
        &api.endpoint(),
        &[("PROMPTDB_DATABASE_URL", database.url.as_str())],
    );
    let health = Event::request(Source::FunctionUrl, "GET", "/health");
    let answer = invoke(&mut api, &mut function, &health, COLD).await;
    assert_eq!(answer["statusCode"], 503, "{answer}");
    let log = function
        .log_with(
            "the database schema is behind this build",
            Duration::from_secs(5),
        )
        .await;
    assert!(
        log.contains("the database schema is behind this build")
            && log.contains("1 (init)")
            && log.contains("migrate"),
        "the log names the missing migrations and what to run:\n{log}"
    );
    // The deploy step, from elsewhere: the same environment then serves without a restart.
    let key = migrate_with_key(&database).await;
    let answer = invoke(&mut api, &mut function, &health, WARM).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let list = Event::request(Source::FunctionUrl, "GET", "/api/v1/prompts").bearer(&key);
    let answer = invoke(&mut api, &mut function, &list, WARM).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
}
