//! A write the server acknowledged survives the server being killed (SIGKILL: no shutdown, no
//! flush, no WAL checkpoint), alone and under concurrent writers with a ledger of every
//! acknowledged write, on SQLite (`synchronous = FULL`) and on PostgreSQL; and a backup taken
//! under write load restores to a consistent database.

use std::path::Path;

use promptdb_http::testing::ServerProcess;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_promptdb");

#[tokio::test]
async fn acknowledged_writes_survive_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_in(Path::new(BIN), dir.path(), &[]);
    let key = server.api_key.clone();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    for i in 0..50 {
        let slug = format!("durable-{i}");
        let response = http
            .post(format!("{}/api/v1/prompts", server.url))
            .bearer_auth(&key)
            .json(&json!({ "prompts": [{ "slug": slug, "name": "Durable", "content": "x".repeat(4096) }] }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        acknowledged.push(slug);
    }
    // Also a use and an edit, acknowledged.
    let r = http
        .post(format!("{}/api/v1/prompts/durable-0/uses", server.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server.kill();

    let restarted = ServerProcess::start_in(Path::new(BIN), dir.path(), &[]);
    for slug in &acknowledged {
        let r = http
            .get(format!("{}/api/v1/prompts/{slug}", restarted.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged {slug} was lost");
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["content"].as_str().map(str::len), Some(4096));
        if slug == "durable-0" {
            assert_eq!(p["usage_count"], 1, "the acknowledged use was kept too");
        }
    }
}

/// The server without rate limits: the writers go as fast as it answers.
fn start(dir: &Path, args: &[&str]) -> ServerProcess {
    ServerProcess::start_with(
        Path::new(BIN),
        dir,
        "127.0.0.1:0",
        args,
        &[("PROMPTDB_RATE_LIMIT", "off")],
    )
}

/// What the writers were told was done: every acknowledged version of every prompt.
#[derive(Default)]
struct Ledger {
    /// (slug, version, content) for every acknowledged create and edit.
    acknowledged: Vec<(String, u64, String)>,
    /// Requests that got no answer (the server was killed under them): may or may not be kept.
    unanswered: usize,
}

/// `writers` clients each create prompts and edit the one they created before, as fast as
/// the server answers, until `stop` is set; every acknowledged write goes into the ledger.
async fn write_until(
    url: String,
    key: String,
    writers: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Ledger {
    use std::sync::atomic::Ordering;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let tasks = (0..writers).map(|w| {
        let (http, url, key, stop) = (http.clone(), url.clone(), key.clone(), stop.clone());
        tokio::spawn(async move {
            let mut ledger = Ledger::default();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let slug = format!("w{w}-{i}");
                let content = format!("writer {w}, prompt {i}: {}", "x".repeat(512));
                let created = http
                    .post(format!("{url}/api/v1/prompts"))
                    .bearer_auth(&key)
                    .json(
                        &json!({ "prompts": [{ "slug": slug, "name": slug, "content": content }] }),
                    )
                    .send()
                    .await;
                match created {
                    Ok(r) if r.status() == 201 => {
                        ledger.acknowledged.push((slug.clone(), 1, content))
                    }
                    Ok(r) => panic!("create {slug}: {}", r.status()),
                    Err(_) => {
                        ledger.unanswered += 1;
                        break;
                    }
                }
                if i > 0 {
                    let prev = format!("w{w}-{}", i - 1);
                    let content = format!("writer {w}, prompt {}, edited", i - 1);
                    let edited = http
                        .patch(format!("{url}/api/v1/prompts/{prev}"))
                        .bearer_auth(&key)
                        .json(&json!({ "content": content }))
                        .send()
                        .await;
                    match edited {
                        Ok(r) if r.status() == 200 => {
                            let v: serde_json::Value = r.json().await.unwrap_or_default();
                            let version = v["version"].as_u64().expect("version");
                            ledger.acknowledged.push((prev, version, content));
                        }
                        Ok(r) => panic!("edit {prev}: {}", r.status()),
                        Err(_) => {
                            ledger.unanswered += 1;
                            break;
                        }
                    }
                }
                i += 1;
            }
            ledger
        })
    });
    let mut all = Ledger::default();
    for t in tasks.collect::<Vec<_>>() {
        let l = t.await.unwrap();
        all.acknowledged.extend(l.acknowledged);
        all.unanswered += l.unanswered;
    }
    all
}

/// Every acknowledged version is there, with its content; returns how many were checked.
async fn check_ledger(url: &str, key: &str, ledger: &Ledger) -> usize {
    let http = reqwest::Client::new();
    let mut lost = Vec::new();
    for (slug, version, content) in &ledger.acknowledged {
        let r = http
            .get(format!("{url}/api/v1/prompts/{slug}/versions/{version}"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            lost.push(format!("{slug} v{version}: {}", r.status()));
            continue;
        }
        let v: serde_json::Value = r.json().await.unwrap();
        if v["content"].as_str() != Some(content.as_str()) {
            lost.push(format!("{slug} v{version}: content differs"));
        }
    }
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost or corrupted, the first: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    ledger.acknowledged.len()
}

/// Kills `server` with SIGKILL while `writers` clients write; returns the ledger.
async fn kill_under_load(server: ServerProcess, writers: usize) -> Ledger {
    use std::sync::{Arc, atomic::AtomicBool};
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(write_until(
        server.url.clone(),
        server.api_key.clone(),
        writers,
        stop.clone(),
    ));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    server.kill();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    load.await.unwrap()
}

#[tokio::test]
async fn sqlite_loses_no_acknowledged_write_when_killed_under_concurrent_writes() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let key = server.api_key.clone();
    let ledger = kill_under_load(server, 8).await;
    assert!(
        ledger.acknowledged.len() > 20,
        "too little load: {}",
        ledger.acknowledged.len()
    );
    let restarted = start(dir.path(), &[]);
    let checked = check_ledger(&restarted.url, &key, &ledger).await;
    eprintln!(
        "SQLite: {checked} acknowledged writes, 0 lost, 0 corrupted; {} requests unanswered at the kill",
        ledger.unanswered
    );
    restarted.kill();
    // The file itself is intact.
    let store = promptdb_store_sqlite::SqliteStore::open(dir.path().join("promptdb.sqlite3"))
        .await
        .unwrap();
    store
        .backup_to(&dir.path().join("check.sqlite3"))
        .await
        .unwrap();
    store.close().await;
    promptdb_store_sqlite::restore(
        &dir.path().join("check.sqlite3"),
        &dir.path().join("restored.sqlite3"),
    )
    .await
    .expect("the database passes integrity_check");
}

#[tokio::test]
async fn postgres_loses_no_acknowledged_write_when_the_server_is_killed_under_concurrent_writes() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = promptdb_store_postgres::testing::TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let args = ["--database-url", db.url.as_str()];
    let server = start(dir.path(), &args);
    let key = server.api_key.clone();
    let ledger = kill_under_load(server, 8).await;
    assert!(
        ledger.acknowledged.len() > 20,
        "too little load: {}",
        ledger.acknowledged.len()
    );
    let restarted = start(dir.path(), &args);
    let checked = check_ledger(&restarted.url, &key, &ledger).await;
    eprintln!(
        "PostgreSQL: {checked} acknowledged writes, 0 lost, 0 corrupted; {} requests unanswered at the kill",
        ledger.unanswered
    );
}

fn promptdb(dir: &Path, args: &[&str]) -> std::process::Output {
    // A port nothing listens on: `restore` refuses while a server answers on its bind address.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = free.local_addr().unwrap().to_string();
    drop(free);
    std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("PROMPTDB_BIND", bind)
        .env_remove("PROMPTDB_DATABASE_URL")
        .output()
        .unwrap()
}

async fn export(url: &str, key: &str) -> serde_json::Value {
    let mut e: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/api/v1/export"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // When it was taken is the one thing that differs.
    e.as_object_mut().unwrap().remove("exported_at");
    e
}

#[tokio::test]
async fn a_backup_taken_under_write_load_restores_to_a_consistent_database() {
    use std::sync::{Arc, atomic::AtomicBool};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let key = server.api_key.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(write_until(
        server.url.clone(),
        key.clone(),
        4,
        stop.clone(),
    ));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let under_load = backups.path().join("under-load.sqlite3");
    let out = promptdb(dir.path(), &["backup", under_load.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = promptdb(dir.path(), &["backup", under_load.to_str().unwrap()]);
    assert!(!again.status.success(), "a backup overwrote a file");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let ledger = load.await.unwrap();
    assert_eq!(ledger.unanswered, 0);
    let live = export(&server.url, &key).await;
    let quiet = backups.path().join("quiet.sqlite3");
    let out = promptdb(dir.path(), &["backup", quiet.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Restore refuses while the server runs on the database.
    let running = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["restore", quiet.to_str().unwrap()])
        .env("PROMPTDB_BIND", server.url.trim_start_matches("http://"))
        .output()
        .unwrap();
    assert!(!running.status.success());
    assert!(
        String::from_utf8_lossy(&running.stderr).contains("stop the PromptDB server"),
        "{}",
        String::from_utf8_lossy(&running.stderr)
    );
    assert!(server.stop().success());

    // The backup taken while idle restores to exactly the live export.
    let restored_dir = tempfile::tempdir().unwrap();
    let out = promptdb(restored_dir.path(), &["restore", quiet.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = ServerProcess::start_in(Path::new(BIN), restored_dir.path(), &[]);
    assert_eq!(
        export(&restored.url, &key).await,
        live,
        "restored export differs"
    );
    restored.kill();

    // The backup taken under load restores to a consistent prefix: every prompt in it is as the
    // ledger says at one of its acknowledged versions, and nothing is in it that was never
    // written. Restoring over an existing database keeps the replaced one.
    let out = promptdb(
        restored_dir.path(),
        &["restore", under_load.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("before-restore-"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = ServerProcess::start_in(Path::new(BIN), restored_dir.path(), &[]);
    let snapshot = export(&restored.url, &key).await;
    let prompts = snapshot["prompts"].as_array().unwrap();
    assert!(!prompts.is_empty(), "the backup under load is empty");
    assert!(prompts.len() < live["prompts"].as_array().unwrap().len());
    for p in prompts {
        let slug = p["slug"].as_str().unwrap();
        let version = p["version"].as_u64().unwrap();
        let content = p["content"].as_str().unwrap();
        assert!(
            ledger
                .acknowledged
                .iter()
                .any(|(s, v, c)| s == slug && *v == version && c == content),
            "{slug} v{version} in the backup was never acknowledged"
        );
    }

    // Not a backup: refused before anything changes.
    let junk = backups.path().join("junk.sqlite3");
    std::fs::write(&junk, b"not a database").unwrap();
    restored.kill();
    let out = promptdb(restored_dir.path(), &["restore", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a SQLite database"));
    let restored = ServerProcess::start_in(Path::new(BIN), restored_dir.path(), &[]);
    assert_eq!(
        export(&restored.url, &key).await,
        snapshot,
        "a refused restore changed the database"
    );
}
