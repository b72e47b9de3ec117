//! End to end: `examples/embed_mcp.rs` (an axum service mounting PromptDB's MCP router behind
//! its own users) started as a real process and driven by the Python MCP SDK.

mod support;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use support::{assert_success, output, python, root};

/// The example binary cargo built next to this test.
fn example_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(std::path::Path::parent)
        .map(|dir| dir.join("examples/embed_mcp"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --example embed_mcp` (scripts/test does)",
        bin.display()
    );
    bin
}

#[test]
fn an_embedding_service_serves_promptdb_mcp_to_its_own_users() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.sqlite3");
    let mut child = Command::new(example_bin())
        .arg(&db)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the example");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .find_map(|l| {
            l.ok()
                .and_then(|l| l.strip_prefix("listening on ").map(str::to_owned))
        })
        .expect("the example announces its address");
    let out = output(
        Command::new(python())
            .arg(root().join("tests/e2e/python/embed_client.py"))
            .arg(&url),
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_success("python client against the embedding example", &out);
    assert!(db.exists(), "the example used its own database");
}
