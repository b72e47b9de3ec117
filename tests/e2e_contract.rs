//! End to end: the OpenAPI document is the contract. Schemathesis (pinned in
//! `tests/e2e/contract/requirements.txt`, configured in `tests/e2e/contract/schemathesis.toml`)
//! generates requests from the document the real binary serves, valid and invalid, follows the
//! document's links between operations, and runs every check against the answers: no 5xx, valid
//! requests accepted, invalid ones refused, every status and body as documented, no operation
//! that works without credentials. The run must find nothing.

mod support;

use std::process::Command;

use promptdb_http::testing::ServerProcess;
use serde_json::Value;
use support::{output, promptdb_bin, root};

#[test]
fn schemathesis_finds_no_disagreement_with_the_document() {
    let st = root().join(".e2e/st/bin/st");
    assert!(
        st.exists(),
        "Schemathesis is not installed: run scripts/setup-e2e (it installs .e2e/st)"
    );
    let data = tempfile::tempdir().unwrap();
    // Rate limits off: thousands of requests in a few minutes are the point here.
    let server = ServerProcess::start_with(
        &promptdb_bin(),
        data.path(),
        "127.0.0.1:0",
        &[],
        &[("PROMPTDB_RATE_LIMIT", "off")],
    );
    let dir = root().join("tests/e2e/contract");
    let report = data.path().join("schemathesis.json");
    let max_time = std::env::var("PROMPTDB_FUZZ_SECONDS").unwrap_or_else(|_| "150".into());
    let out = output(
        Command::new(&st)
            .current_dir(&dir)
            .arg("--config-file")
            .arg(dir.join("schemathesis.toml"))
            .arg("run")
            .arg(format!("{}/openapi.json", server.url))
            .args(["-H", &format!("Authorization: Bearer {}", server.api_key)])
            .args(["--max-examples", "50", "--max-time", &max_time])
            .args(["--report", "json", "--report-json-path"])
            .arg(&report),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Value = std::fs::read(&report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| {
            panic!(
                "no report from Schemathesis:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let cases = &summary["test_cases"];
    eprintln!(
        "schemathesis: {} cases generated, {} with failures, {} errored; seed {}",
        cases["generated"], cases["with_failures"], cases["errored"], summary["seed"]
    );
    assert!(
        out.status.success()
            && summary["failures"].as_array().is_some_and(Vec::is_empty)
            && summary["errors"].as_array().is_some_and(Vec::is_empty),
        "Schemathesis found disagreements between the server and its OpenAPI document:\n{stdout}"
    );
    assert!(
        cases["generated"].as_u64().unwrap_or(0) >= 1_000,
        "too few cases to mean anything: {cases}"
    );
    assert!(
        !server.log().contains("panicked"),
        "the server panicked:\n{}",
        server.log()
    );
}
