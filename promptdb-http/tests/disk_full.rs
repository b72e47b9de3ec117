//! SQLite on a full disk: the server is started on a small tmpfs, the disk is filled, and then a
//! write answers 507 `storage_full` (never a 500, never a half-written prompt), reads go on, and
//! writes work again as soon as space is freed; after a restart every acknowledged prompt is
//! there and the database passes `integrity_check`.
//!
//! Mounting the tmpfs needs root (as the test command runs in CI).

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

use promptdb_http::testing::ServerProcess;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_promptdb");

/// A tmpfs of `kib` KiB, unmounted on drop.
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(kib: u32) -> Self {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("disk");
        std::fs::create_dir(&dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "cannot mount a tmpfs for the full-disk test (it needs root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            dir,
            _parent: parent,
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Fills the file system `dir` is on, with a file in it; returns the file.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 4096];
    loop {
        match f.write(&chunk) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let _ = f.sync_all();
    path
}

async fn save(http: &reqwest::Client, s: &ServerProcess, slug: &str) -> (u16, Value) {
    let r = http
        .post(format!("{}/api/v1/prompts", s.url))
        .bearer_auth(&s.api_key)
        .json(&json!({ "prompts": [{ "slug": slug, "name": slug, "content": format!("{slug} {}", "x".repeat(32 * 1024)) }] }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_full_disk_refuses_writes_clearly_keeps_reads_and_recovers() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let disk = Tmpfs::mount(4 * 1024);
    let env = [("PROMPTDB_RATE_LIMIT", "off")];
    let server = ServerProcess::start_with(Path::new(BIN), &disk.dir, "127.0.0.1:0", &[], &env);
    let key = server.api_key.clone();
    let http = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    assert_eq!(save(&http, &server, "keep").await.0, 201);
    acknowledged.push("keep".to_owned());

    let filler = fill(&disk.dir);
    let mut refused = None;
    for i in 0..200 {
        let slug = format!("full-{i}");
        match save(&http, &server, &slug).await {
            (201, _) => acknowledged.push(slug),
            (507, body) => {
                refused = Some((slug, body));
                break;
            }
            (status, body) => panic!("{slug}: {status} {body}"),
        }
    }
    let (slug, body) = refused.expect("the disk never filled up");
    assert_eq!(body["error"]["code"], "storage_full", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disk is full"),
        "{body}"
    );
    // Nothing of the refused prompt was written, and reading goes on.
    let get = |slug: String| {
        let (http, url, key) = (http.clone(), server.url.clone(), key.clone());
        async move {
            http.get(format!("{url}/api/v1/prompts/{slug}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        get(slug.clone()).await,
        404,
        "a refused write left a prompt"
    );
    assert_eq!(get("keep".into()).await, 200, "reads stop on a full disk");
    let list = http
        .get(format!("{}/api/v1/prompts?limit=100", server.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);

    // Space returns: writes work again, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let (status, body) = save(&http, &server, &slug).await;
    assert_eq!(
        status,
        201,
        "writes did not recover: {body}\n{}",
        server.log()
    );
    acknowledged.push(slug);
    assert!(server.stop().success());

    let restarted = ServerProcess::start_with(Path::new(BIN), &disk.dir, "127.0.0.1:0", &[], &env);
    for slug in &acknowledged {
        let r = http
            .get(format!("{}/api/v1/prompts/{slug}", restarted.url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged {slug} was lost");
        let p: Value = r.json().await.unwrap();
        assert!(p["content"].as_str().unwrap().starts_with(slug.as_str()));
    }
    assert!(restarted.stop().success());
    let check = tempfile::tempdir().unwrap();
    promptdb_store_sqlite::restore(
        &disk.dir.join("promptdb.sqlite3"),
        &check.path().join("check.sqlite3"),
    )
    .await
    .expect("the database passes integrity_check");
    eprintln!(
        "full disk: {} prompts acknowledged, 0 lost; the first refusal answered 507 storage_full",
        acknowledged.len()
    );
}
