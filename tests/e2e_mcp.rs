//! End to end: the real `promptdb` binary on a free loopback port, driven by independent MCP
//! clients — the Python SDK (HTTP in both protocol eras, and stdio), the TypeScript SDK, the MCP
//! Inspector CLI in strict mode, the official conformance suite — and a property-based fuzzer
//! (Hypothesis) that builds its cases from the server's own tool schemas.
//!
//! Run through `scripts/test`, which installs the clients (feature `e2e`).

mod support;

use std::process::Command;

use promptdb_http::testing::ServerProcess;
use serde_json::Value;
use support::{assert_success, node_dir, node_tool, node22, output, promptdb_bin, python, root};

fn python_client(args: &[&str]) -> std::process::Output {
    output(
        Command::new(python())
            .arg(root().join("tests/e2e/python/mcp_client.py"))
            .args(args),
    )
}

#[test]
fn python_sdk_over_streamable_http() {
    let server = ServerProcess::start(&promptdb_bin(), &[]);
    let out = python_client(&["http", &server.mcp_url(), &server.api_key]);
    assert_success("python http client", &out);
}

#[test]
fn python_sdk_over_the_stateless_2026_protocol() {
    let server = ServerProcess::start(&promptdb_bin(), &[]);
    let out = python_client(&["modern", &server.mcp_url(), &server.api_key]);
    assert_success("python 2026-07-28 client", &out);
}

/// Harvest over MCP, the Python SDK acting as the host's model: the `harvest` prompt, then
/// `harvest_session` and the review tools, in both protocol eras.
#[test]
fn python_sdk_harvests_a_conversation() {
    for era in ["http", "modern"] {
        // A server each: the second era would find the first one's harvest already reviewed.
        let server = ServerProcess::start(&promptdb_bin(), &[]);
        let out = output(
            Command::new(python())
                .arg(root().join("tests/e2e/python/harvest_client.py"))
                .args([era, &server.mcp_url(), &server.api_key]),
        );
        assert_success(&format!("python harvest client ({era})"), &out);
    }
}

/// About 1000 generated cases (schema-shaped and mutated tool arguments, malformed JSON-RPC,
/// oversized bodies, wrong headers and sessions, concurrent requests sharing an id) against the
/// real binary: every answer in time, below 500, well formed, and the server still healthy.
#[test]
fn mcp_fuzzer_finds_no_failure() {
    let bin = promptdb_bin();
    let out = output(
        Command::new(python())
            .arg(root().join("tests/e2e/python/mcp_fuzz.py"))
            .arg(&bin)
            .args(["--examples", "1000"]),
    );
    assert_success("MCP fuzzer", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .find(|l| l.contains(" cases, "))
        .unwrap_or_default();
    eprintln!("{summary}");
    assert!(
        summary.contains(" cases, 0 failures"),
        "fuzzer summary: {summary}"
    );
}

#[test]
fn python_sdk_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let out = python_client(&[
        "stdio",
        promptdb_bin().to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    assert_success("python stdio client", &out);
    assert!(
        dir.path().join("promptdb.sqlite3").exists(),
        "stdio used the local database"
    );
}

#[test]
fn typescript_sdk_over_http_and_stdio() {
    let server = ServerProcess::start(&promptdb_bin(), &[]);
    let script = node_dir().join("ts_client.mjs");
    let out = output(Command::new(node22()).arg(&script).args([
        "http",
        &server.mcp_url(),
        &server.api_key,
    ]));
    assert_success("typescript http client", &out);
    let dir = tempfile::tempdir().unwrap();
    let out = output(Command::new(node22()).arg(&script).args([
        "stdio",
        promptdb_bin().to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]));
    assert_success("typescript stdio client", &out);
}

fn inspector(server: &ServerProcess, args: &[&str]) -> std::process::Output {
    let auth = format!("Authorization: Bearer {}", server.api_key);
    output(
        node_tool("inspector")
            .arg("--cli")
            .arg(server.mcp_url())
            .args(["--header", &auth, "--format", "json", "-q"])
            .args(args),
    )
}

fn last_json_line(bytes: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON in: {text}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn inspector_cli_strict_schemas_calls_prompts_and_resources() {
    let server = ServerProcess::start(&promptdb_bin(), &[]);
    for era in ["legacy", "modern"] {
        let out = inspector(
            &server,
            &["--method", "tools/list", "--strict", "--protocol-era", era],
        );
        assert_success(&format!("inspector tools/list --strict ({era})"), &out);
        let listed = last_json_line(&out.stdout);
        assert!(
            listed.get("schemaFindings").is_none(),
            "tool schemas have portability findings: {listed}"
        );
        assert!(listed["result"]["tools"].as_array().unwrap().len() >= 13);
    }

    let save = r#"{"prompts":[{"slug":"inspected","name":"Inspected","content":"Explain {{topic}} simply","tags":["e2e"]}]}"#;
    let out = inspector(
        &server,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "save_prompts",
            "--tool-args-json",
            save,
        ],
    );
    assert_success("inspector save_prompts", &out);
    assert_eq!(
        last_json_line(&out.stdout)["result"]["structuredContent"]["saved"][0]["slug"],
        "inspected"
    );

    let out = inspector(
        &server,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "get_prompt",
            "--tool-args-json",
            r#"{"slug":"missing"}"#,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(5),
        "a user's mistake is a tool error (exit 5)"
    );
    assert_eq!(last_json_line(&out.stdout)["result"]["isError"], true);

    let out = inspector(
        &server,
        &[
            "--method",
            "prompts/get",
            "--prompt-name",
            "inspected",
            "--prompt-args",
            "topic=entropy",
        ],
    );
    assert_success("inspector prompts/get", &out);
    assert_eq!(
        last_json_line(&out.stdout)["result"]["messages"][0]["content"]["text"],
        "Explain entropy simply"
    );

    let out = inspector(
        &server,
        &["--method", "resources/read", "--uri", "prompt://inspected"],
    );
    assert_success("inspector resources/read", &out);
    assert_eq!(
        last_json_line(&out.stdout)["result"]["contents"][0]["text"],
        "Explain {{topic}} simply"
    );

    // The app's metadata goes to clients that advertise the MCP Apps extension, and only to them.
    let out = inspector(
        &server,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "open_prompt_library",
            "--app-info",
            "--advertise-apps",
        ],
    );
    assert_success("inspector --app-info --advertise-apps", &out);
    let app = &last_json_line(&out.stdout)["appInfo"];
    assert_eq!(
        (app["hasApp"].as_bool(), app["resourceMimeType"].as_str()),
        (Some(true), Some("text/html;profile=mcp-app"))
    );
    assert_eq!(
        app["permissions"]["clipboardWrite"],
        serde_json::json!({}),
        "{app}"
    );
    let out = inspector(
        &server,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "open_prompt_library",
            "--app-info",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "no app for a client without the extension"
    );
    assert_eq!(
        last_json_line(&out.stdout)["appInfo"]["hasApp"].as_bool(),
        Some(false)
    );

    // Without credentials the Inspector reports an authentication failure (exit 3).
    let out = output(node_tool("inspector").args([
        "--cli",
        &server.mcp_url(),
        "--method",
        "tools/list",
        "--format",
        "json",
        "-q",
        "--stored-auth-only",
    ]));
    assert_eq!(
        out.status.code(),
        Some(3),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn inspector_cli_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let bin = promptdb_bin();
    let out = output(
        node_tool("inspector")
            .args([
                "--cli",
                bin.to_str().unwrap(),
                "--data-dir",
                dir.path().to_str().unwrap(),
                "stdio",
                "--",
            ])
            .args([
                "--method",
                "tools/list",
                "--format",
                "json",
                "-q",
                "--strict",
            ]),
    );
    assert_success("inspector over stdio", &out);
    assert!(
        last_json_line(&out.stdout)["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "search_prompts")
    );
}

/// Runs the official conformance suite's required scenarios of one protocol revision against a
/// server in conformance test mode; known failures are listed (and explained) in the baseline.
fn conformance(revision: &str) {
    let server = ServerProcess::start(&promptdb_bin(), &["--conformance-test-mode"]);
    let results = tempfile::tempdir().unwrap();
    let baseline = root().join(format!(
        "tests/e2e/conformance/expected-failures-{revision}.yml"
    ));
    let out = output(node_tool("conformance").args([
        "server",
        "--url",
        &server.mcp_url(),
        "--requirements",
        revision,
        "--expected-failures",
        baseline.to_str().unwrap(),
        "-o",
        results.path().to_str().unwrap(),
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    let total = text
        .lines()
        .find(|l| l.contains("Total:"))
        .unwrap_or("no total line")
        .to_owned();
    eprintln!("conformance {revision}: {}", total.trim());
    assert_success(&format!("conformance suite {revision}"), &out);
}

/// Both revisions in one test, one after the other: the suite is timing-sensitive (progress
/// and streaming checks), and two runs at once on a small machine add noise for nothing.
#[test]
fn official_conformance_suite() {
    conformance("2025-11-25");
    conformance("2026-07-28");
}
