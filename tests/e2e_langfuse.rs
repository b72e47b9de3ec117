//! End to end: existing Langfuse code against PromptDB. The official Python SDK (`langfuse` 5.x)
//! and TypeScript client (`@langfuse/client`), unmodified, configured only through the three
//! environment variables `promptdb keys create --langfuse` prints, drive the real binary; the
//! data they write is then read through PromptDB's own CLI and REST API.

mod support;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
};

use promptdb_http::testing::ServerProcess;
use serde_json::Value;
use support::{assert_success, node_dir, node22, output, promptdb_bin, python, root};

/// `promptdb keys create NAME --langfuse --json` on the server's database.
fn key_pair(server: &ServerProcess, name: &str) -> Value {
    let out = output(
        Command::new(promptdb_bin())
            .arg("--data-dir")
            .arg(&server.data_dir)
            .args(["--url", &server.url, "--api-key", &server.api_key])
            .args(["--json", "keys", "create", name, "--langfuse"]),
    );
    assert_success("promptdb keys create --langfuse", &out);
    serde_json::from_slice(&out.stdout).expect("JSON key pair")
}

/// A loopback URL where nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn cli(server: &ServerProcess, args: &[&str]) -> String {
    let out = output(
        Command::new(promptdb_bin())
            .args(["--url", &server.url, "--api-key", &server.api_key])
            .args(args),
    );
    assert_success(&format!("promptdb {args:?}"), &out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn langfuse_sdks_work_unchanged() {
    let server = ServerProcess::start(&promptdb_bin(), &[]);
    let first = key_pair(&server, "langfuse-python");
    let second = key_pair(&server, "langfuse-other");
    assert_eq!(first["LANGFUSE_BASE_URL"], server.url.as_str());
    assert!(
        first["LANGFUSE_PUBLIC_KEY"]
            .as_str()
            .unwrap()
            .starts_with("pk-pdb-")
    );
    let dead = dead_url();
    let env = |cmd: &mut Command| {
        for k in [
            "LANGFUSE_PUBLIC_KEY",
            "LANGFUSE_SECRET_KEY",
            "LANGFUSE_BASE_URL",
        ] {
            cmd.env(k, first[k].as_str().unwrap());
        }
        cmd.env(
            "LANGFUSE_PUBLIC_KEY_2",
            second["LANGFUSE_PUBLIC_KEY"].as_str().unwrap(),
        )
        .env(
            "LANGFUSE_SECRET_KEY_2",
            second["LANGFUSE_SECRET_KEY"].as_str().unwrap(),
        )
        .env("LANGFUSE_PUBLIC_KEY_3", "pk-pdb-offline")
        .env("DEAD_BASE_URL", &dead)
        .env("LANGFUSE_TRACING_ENABLED", "false")
        .env_remove("LANGFUSE_HOST");
    };

    // TypeScript first, while the server is up for good.
    let mut node = Command::new(node22());
    node.arg(node_dir().join("langfuse_client.mjs"))
        .current_dir(node_dir());
    env(&mut node);
    assert_success("@langfuse/client", &output(&mut node));

    // Python, which asks for the server to go away near its end.
    let mut py = Command::new(python());
    py.arg(root().join("tests/e2e/python/langfuse_client.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    env(&mut py);
    let mut child = py.spawn().expect("python");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut seen = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the Python SDK script ended early:\n{seen}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        seen.push_str(&line);
        if line.trim() == "KILL" {
            break;
        }
    }

    // What the SDKs wrote is PromptDB data: the CLI and the REST API see it.
    let listed: Value = serde_json::from_str(&cli(
        &server,
        &["--json", "ls", "--folder", "support", "--all"],
    ))
    .unwrap();
    let triage = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "support/Triage Bot")
        .unwrap_or_else(|| panic!("the Python-made prompt is listed: {listed}"));
    let slug = triage["slug"].as_str().unwrap();
    assert!(slug.starts_with("support/triage-bot-"), "{slug}");
    let versions = cli(&server, &["versions", slug]);
    assert!(
        versions.contains("v2") && versions.contains("production"),
        "{versions}"
    );
    let history = cli(&server, &["label", slug, "production", "--history"]);
    assert!(
        history.contains("api key \"langfuse-"),
        "moves name the key: {history}"
    );
    let ts: Value =
        serde_json::from_str(&cli(&server, &["--json", "ls", "--folder", "ts"])).unwrap();
    assert_eq!(ts[0]["name"], "ts/Release Notes", "{ts}");
    let ts_slug = ts[0]["slug"].as_str().unwrap();
    let resolved = cli(&server, &["resolve", ts_slug, "--var", "version=3"]);
    assert_eq!(
        resolved.trim(),
        "Release notes for 3",
        "the TypeScript-made prompt"
    );

    server.kill();
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"killed\n")
        .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Python SDK script failed after the server went away:\n{seen}{rest}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(rest.contains("all checks passed"), "{rest}");
}
