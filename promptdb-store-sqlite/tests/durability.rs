//! An acknowledged write survives the process being killed (SIGKILL, no chance to clean up).
//!
//! The test re-runs its own binary as a child that writes prompts and prints each slug once the
//! write has returned; the parent kills the child mid-stream, reopens the file and checks that
//! every acknowledged prompt is there.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::Arc,
};

use promptdb_core::{NewPrompt, Principal, PromptDb, UserId};
use promptdb_store_sqlite::SqliteStore;

const CHILD_ENV: &str = "PROMPTDB_DURABILITY_CHILD_DB";

#[tokio::test]
#[ignore = "the writer process that acknowledged_writes_survive_kill starts and kills"]
async fn child_writer() {
    let path = std::env::var(CHILD_ENV).expect("started by acknowledged_writes_survive_kill");
    let user: UserId = std::env::var("PROMPTDB_DURABILITY_USER")
        .unwrap()
        .parse()
        .unwrap();
    let db = PromptDb::new(Arc::new(SqliteStore::open(&path).await.unwrap()));
    let me = Principal::full(user);
    for i in 0.. {
        let slug = format!("p{i}");
        db.save_prompts(
            &me,
            vec![NewPrompt::new(&slug, "Durable", "x".repeat(4096))],
        )
        .await
        .unwrap();
        println!("ack {slug}");
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_kill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("durable.sqlite3");
    let user = {
        let db = PromptDb::new(Arc::new(SqliteStore::open(&path).await.unwrap()));
        db.create_user("durable").await.unwrap().id
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_writer",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .env("PROMPTDB_DURABILITY_USER", user.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(slug) = line.strip_prefix("ack ") {
            acked.push(slug.to_owned());
            if acked.len() == 50 {
                child.kill().unwrap(); // SIGKILL on Unix
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(
        acked.len(),
        50,
        "the child must have acknowledged writes before being killed"
    );

    let db = PromptDb::new(Arc::new(SqliteStore::open(&path).await.unwrap()));
    let me = Principal::full(user);
    for slug in &acked {
        let p = db
            .get_prompt(&me, slug)
            .await
            .unwrap_or_else(|e| panic!("acknowledged {slug} lost: {e}"));
        assert_eq!(p.content.len(), 4096);
    }
}
