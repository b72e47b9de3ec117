//! Webhooks end to end: the real `promptdb` binary delivers to a real HTTP receiver, a Python
//! process that verifies every signature with the official Standard Webhooks library
//! (`tests/e2e/python/webhook_receiver.py`), and fails on cue. Hooks are managed through the
//! CLI and the REST API; on PostgreSQL, two servers share one database and its hooks.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use promptdb_http::testing::ServerProcess;
use reqwest::Method;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_promptdb");

/// The receiver process and every request it printed.
struct Receiver {
    url: String,
    dir: PathBuf,
    seen: Arc<Mutex<Vec<Value>>>,
    child: Child,
}

impl Receiver {
    /// Starts the receiver; secrets are read from `dir`; the first `fail` verified requests
    /// get 500.
    fn start(dir: &Path, fail: u32) -> Self {
        let python = std::env::var("PROMPTDB_E2E_PYTHON").expect(
            "PROMPTDB_E2E_PYTHON is not set: run the tests through scripts/test, which installs the Python receiver's library",
        );
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/python/webhook_receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(dir)
            .args(["--fail", &fail.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the webhook receiver");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("receiver output").unwrap();
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("receiver said: {first}"))
            .to_owned();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str::<Value>(&line).unwrap());
            }
        });
        Self {
            url,
            dir: dir.to_owned(),
            seen,
            child,
        }
    }

    /// Makes `secret` the one requests to `/name` are verified with.
    fn set_secret(&self, name: &str, secret: &str) {
        std::fs::write(self.dir.join(format!("{name}.secret")), secret).unwrap();
    }

    /// The requests to `/name` so far.
    fn requests(&self, name: &str) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["path"] == name)
            .cloned()
            .collect()
    }

    /// Waits until `/name` has had `n` requests answered 200 (panics after 30 s).
    fn wait_for_delivered(&self, name: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.requests(name);
            if got.iter().filter(|r| r["status"] == 200).count() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "/{name} got only {got:#?} (waiting for {n} deliveries)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(
    http: &reqwest::Client,
    server: &ServerProcess,
    method: Method,
    path: &str,
    body: Value,
) -> Value {
    let mut request = http
        .request(method, format!("{}{path}", server.url))
        .bearer_auth(&server.api_key);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// `promptdb --json webhooks …` against `server`.
fn cli(server: &ServerProcess, args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["--url", &server.url, "--api-key", &server.api_key, "--json"])
        .arg("webhooks")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promptdb webhooks {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn types(requests: &[Value]) -> Vec<(String, i64)> {
    requests
        .iter()
        .filter(|r| r["status"] == 200)
        .map(|r| {
            (
                r["payload"]["type"].as_str().unwrap().to_owned(),
                r["payload"]["data"]["seq"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn deliveries_are_signed_ordered_retried_and_given_up_on() {
    promptdb_http::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path(), 2);
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_with(
        Path::new(BIN),
        data.path(),
        "127.0.0.1:0",
        &[],
        &[("PROMPTDB_WEBHOOK_RETRY_SECS", "1,1,1")],
    );
    let http = reqwest::Client::new();

    // One hook for everything (through the CLI), one for label moves only (through REST),
    // whose receiver holds the wrong secret at first.
    let good = cli(
        &server,
        &[
            "add",
            &format!("{}/good", receiver.url),
            "--description",
            "e2e",
        ],
    );
    receiver.set_secret("good", good["secret"].as_str().unwrap());
    let wrong = call(
        &http,
        &server,
        Method::POST,
        "/api/v1/webhooks",
        json!({ "url": format!("{}/wrong", receiver.url), "events": ["label_moved"] }),
    )
    .await;
    receiver.set_secret("wrong", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

    call(
        &http,
        &server,
        Method::POST,
        "/api/v1/prompts",
        json!({ "prompts": [{ "slug": "greet", "name": "Greet", "content": "Hi {{name}}" }] }),
    )
    .await;
    call(
        &http,
        &server,
        Method::PUT,
        "/api/v1/prompts/greet/labels/production",
        json!({ "version": 1 }),
    )
    .await;
    call(
        &http,
        &server,
        Method::DELETE,
        "/api/v1/prompts/greet",
        json!(null),
    )
    .await;

    // The receiver failed the first two attempts: the same message came three times, a
    // second apart, and the later changes waited for it.
    let got = receiver.wait_for_delivered("good", 3);
    assert!(got.iter().all(|r| r["verified"] == true), "{got:#?}");
    assert!(got.iter().all(|r| r["content_type"] == "application/json"));
    let statuses: Vec<i64> = got.iter().map(|r| r["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [500, 500, 200, 200, 200], "{got:#?}");
    assert_eq!(got[0]["id"], got[1]["id"]);
    assert_eq!(got[1]["id"], got[2]["id"]);
    assert_ne!(got[2]["id"], got[3]["id"]);
    assert!(got[2]["timestamp"].as_i64() >= got[0]["timestamp"].as_i64());
    assert_eq!(
        types(&got),
        [
            ("prompt.version_created".to_owned(), 1),
            ("prompt.label_moved".to_owned(), 2),
            ("prompt.prompt_deleted".to_owned(), 3),
        ]
    );
    assert_eq!(got[3]["payload"]["data"]["label"], "production");
    assert_eq!(got[3]["payload"]["data"]["version"], 1);

    // The delivery log says the same, newest first.
    let id = good["id"].as_str().unwrap();
    let log = cli(&server, &["deliveries", id]);
    let summary: Vec<(i64, i64, i64)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["seq"].as_i64().unwrap(),
                d["attempt"].as_i64().unwrap(),
                d["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (3, 1, 200),
            (2, 1, 200),
            (1, 3, 200),
            (1, 2, 500),
            (1, 1, 500)
        ]
    );

    // The hook whose receiver cannot verify: four attempts (the first and three retries), all
    // refused by the receiver's verifier, then PromptDB disables it and says why.
    let wrong_id = wrong["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let disabled = loop {
        let hooks = cli(&server, &["ls"]);
        let hook = hooks
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == wrong_id)
            .unwrap()
            .clone();
        if hook["enabled"] == false {
            break hook;
        }
        assert!(Instant::now() < deadline, "never disabled: {hook}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let reason = disabled["disabled_reason"].as_str().unwrap();
    assert!(
        reason.contains("4 attempts") && reason.contains("401"),
        "{reason}"
    );
    let refused = receiver.requests("wrong");
    assert_eq!(refused.len(), 4, "{refused:#?}");
    assert!(
        refused
            .iter()
            .all(|r| r["verified"] == false && r["id"] == refused[0]["id"])
    );

    // With the right secret in place, enabling the hook resumes with the move that failed.
    receiver.set_secret("wrong", wrong["secret"].as_str().unwrap());
    let enabled = cli(&server, &["enable", wrong_id]);
    assert_eq!(enabled["enabled"], true);
    let got = receiver.wait_for_delivered("wrong", 1);
    assert_eq!(types(&got), [("prompt.label_moved".to_owned(), 2)]);
    assert_eq!(
        got.last().unwrap()["id"],
        refused[0]["id"],
        "the same message"
    );

    cli(&server, &["rm", wrong_id]);
    assert_eq!(cli(&server, &["ls"]).as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn two_servers_on_one_postgres_deliver_each_change_once_in_order() {
    promptdb_http::install_tls_provider();
    let db = promptdb_store_postgres::testing::TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path(), 0);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = ["--database-url", db.url.as_str()];
    let a = ServerProcess::start_in(Path::new(BIN), dir_a.path(), &args);
    let b = ServerProcess::start_in(Path::new(BIN), dir_b.path(), &args);
    let http = reqwest::Client::new();
    let hook = call(
        &http,
        &a,
        Method::POST,
        "/api/v1/webhooks",
        json!({ "url": format!("{}/hook", receiver.url) }),
    )
    .await;
    receiver.set_secret("hook", hook["secret"].as_str().unwrap());

    // Writers on both servers at once: 2 prompts created, then 10 versions each.
    const VERSIONS: usize = 10;
    let mut writers = tokio::task::JoinSet::new();
    for (server, slug) in [(&a, "on-a"), (&b, "on-b")] {
        // One user: A's key works on B (same database).
        let (http, url, key) = (http.clone(), server.url.clone(), a.api_key.clone());
        let slug = slug.to_owned();
        writers.spawn(async move {
            let send = |method: Method, path: String, body: Value| {
                http.request(method, format!("{url}{path}"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
            };
            let r = send(
                Method::POST,
                "/api/v1/prompts".into(),
                json!({ "prompts": [{ "slug": slug, "name": slug, "content": "v1" }] }),
            )
            .await
            .unwrap();
            assert!(r.status().is_success());
            for v in 2..=VERSIONS + 1 {
                let r = send(
                    Method::PATCH,
                    format!("/api/v1/prompts/{slug}"),
                    json!({ "content": format!("v{v}") }),
                )
                .await
                .unwrap();
                assert!(r.status().is_success(), "{}", r.text().await.unwrap());
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let total = 2 * (VERSIONS + 1);
    receiver.wait_for_delivered("hook", total);
    // Time for a duplicate to show up, if a second worker were to send one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = receiver.requests("hook");
    assert!(
        got.iter()
            .all(|r| r["verified"] == true && r["status"] == 200)
    );
    let seqs: Vec<i64> = types(&got).iter().map(|(_, s)| *s).collect();
    let expected: Vec<i64> = (1..=i64::try_from(total).unwrap()).collect();
    assert_eq!(seqs, expected, "each change once, in the feed's order");
}
