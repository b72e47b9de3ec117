//! Upgrades never lose data. `fixtures/upgrade/v1.sqlite3` is a database made with the schema
//! of the first release that has this test (migrations 0001–0005), holding two users with one of
//! everything: text and chat prompts with several versions, tags, folders, includes, config,
//! uses, labels with a split, a rollback and a protected label, drafts, preferences, API keys, a
//! sign-in identity and a session. `v1.export.json` is what its users' exports said then. Every
//! later schema change must migrate that file forward and export the same.
//!
//! To make the fixture again (only when its schema is the current one): set
//! `PROMPTDB_WRITE_UPGRADE_FIXTURE=1` and run this test.

use std::{path::Path, sync::Arc};

use chrono::Duration;
use promptdb_core::{
    NewApiKey, NewPrompt, NewSession, Principal, PromptDb, PromptPatch, SaveDraft, Scope,
    testing::ManualClock,
};
use promptdb_store_sqlite::{MIGRATOR, SqliteStore};
use serde_json::{Value, json};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade");
/// The fixture's API key of its first user (a test secret, in the fixture only).
const KEY_FILE: &str = "v1.key";

fn db_on(store: SqliteStore, clock: Arc<ManualClock>) -> PromptDb {
    PromptDb::new(Arc::new(store)).with_clock(clock)
}

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// Every user's export, without the moment it was taken.
async fn exports(db: &PromptDb, users: &[Principal]) -> Value {
    let mut out = Vec::new();
    for u in users {
        let mut e = serde_json::to_value(db.export_user(u).await.unwrap()).unwrap();
        e.as_object_mut().unwrap().remove("exported_at");
        out.push(e);
    }
    Value::Array(out)
}

async fn write_fixture(dir: &Path) {
    let clock = Arc::new(ManualClock::new());
    let path = dir.join("build.sqlite3");
    let db = db_on(SqliteStore::open(&path).await.unwrap(), clock.clone());
    let step = || clock.advance(Duration::minutes(7));

    let alice = db.create_user("Alice Example").await.unwrap();
    let alice = Principal::full(alice.id);
    let bob = db
        .user_for_identity("https://id.example.test", "bob-subject", "Bob")
        .await
        .unwrap();
    let bob = Principal::full(bob);
    let key = db
        .create_api_key(
            &alice,
            from::<NewApiKey>(json!({"name": "laptop", "scopes": ["read", "write"]})),
        )
        .await
        .unwrap();
    db.create_api_key(&bob, from(json!({"name": "ci", "scopes": ["read"]})))
        .await
        .unwrap();
    step();
    let prompts: Vec<NewPrompt> = from(json!([
        {"slug": "support/triage", "name": "Support triage",
         "content": "Sort this ticket: {{ticket}}\n\n{{> shared/tone}}",
         "description": "First look at a ticket", "tags": ["support", "ops"],
         "variables": [{"name": "ticket", "description": "The ticket text", "required": true}],
         "config": {"model": "gpt-5", "temperature": 0.2}},
        {"slug": "shared/tone", "name": "Tone", "content": "Be kind, be brief.", "tags": ["style"]},
        {"slug": "summarise", "name": "Summarise ✍️", "content": "Summarise in {{n}} bullets:\n{{text}}",
         "tags": ["writing"], "pinned": true, "favorite": true},
        {"slug": "chat-helper", "name": "Chat helper", "kind": "chat",
         "messages": [{"role": "system", "content": "You help with {{topic}}."},
                      {"role": "user", "content": "{{question}}"}]}
    ]));
    db.save_prompts(&alice, prompts).await.unwrap();
    db.save_prompts(
        &bob,
        from(json!([{"slug": "notes", "name": "Bob's notes", "content": "Mine: {{x}}"}])),
    )
    .await
    .unwrap();
    step();
    for (i, text) in [
        "Sort this ticket by urgency: {{ticket}}\n\n{{> shared/tone}}",
        "Sort this ticket by urgency and team: {{ticket}}\n\n{{> shared/tone}}",
    ]
    .iter()
    .enumerate()
    {
        db.update_prompt(
            &alice,
            "support/triage",
            from::<PromptPatch>(json!({"content": text, "commit_message": format!("edit {i}")})),
        )
        .await
        .unwrap();
        step();
    }
    db.update_prompt(
        &alice,
        "summarise",
        from(json!({"tags": ["writing", "daily"]})),
    )
    .await
    .unwrap();
    for _ in 0..3 {
        db.track_prompt_use(&alice, "summarise", None)
            .await
            .unwrap();
    }
    db.track_prompt_use(&alice, "support/triage", Some(2))
        .await
        .unwrap();
    step();
    for (label, target) in [
        ("production", json!({"version": 2})),
        ("staging", json!({"version": 3})),
        ("production", json!({"version": 3})),
        (
            "experiment",
            json!({"split": [{"version": 2, "weight": 70}, {"version": 3, "weight": 30}]}),
        ),
    ] {
        db.set_label(&alice, "support/triage", label, from(target))
            .await
            .unwrap();
        step();
    }
    db.rollback_label(&alice, "support/triage", "production")
        .await
        .unwrap();
    step();
    db.save_draft(
        &alice,
        from::<SaveDraft>(json!({"prompt_slug": "summarise",
                                 "fields": {"content": "Summarise in {{n}} short bullets:\n{{text}}", "base_version": 2}})),
    )
    .await
    .unwrap();
    db.set_preferences(
        &alice,
        from(json!({"theme": "dark", "default_limit": 25, "editor": {"wrap": true}})),
    )
    .await
    .unwrap();
    db.create_session(bob.user_id(), NewSession::with_scopes(&[Scope::Read]))
        .await
        .unwrap();
    step();

    let expected = exports(&db, &[alice.clone(), bob.clone()]).await;
    let store = SqliteStore::open(&path).await.unwrap();
    store.backup_to(&dir.join("v1.sqlite3")).await.unwrap();
    store.close().await;
    std::fs::write(
        dir.join("v1.export.json"),
        serde_json::to_string_pretty(&json!({
            "users": [alice.user_id().to_string(), bob.user_id().to_string()],
            "clock": promptdb_core::Clock::now(&*clock),
            "exports": expected,
        }))
        .unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join(KEY_FILE), &key.secret).unwrap();
}

#[tokio::test]
async fn a_database_of_the_first_schema_migrates_forward_without_losing_anything() {
    let fixtures = Path::new(DIR);
    if std::env::var_os("PROMPTDB_WRITE_UPGRADE_FIXTURE").is_some() {
        let build = tempfile::tempdir().unwrap();
        for f in ["v1.sqlite3", "v1.export.json", KEY_FILE] {
            let _ = std::fs::remove_file(fixtures.join(f));
        }
        write_fixture(build.path()).await;
        for f in ["v1.sqlite3", "v1.export.json", KEY_FILE] {
            std::fs::copy(build.path().join(f), fixtures.join(f)).unwrap();
        }
    }
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("v1.export.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("promptdb.sqlite3");
    std::fs::copy(fixtures.join("v1.sqlite3"), &path).unwrap();

    let store = SqliteStore::open(&path).await.unwrap();
    let clock = Arc::new(ManualClock::new());
    clock.set(from(expected["clock"].clone()));
    let db = db_on(store.clone(), clock);
    let users: Vec<Principal> = expected["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| Principal::full(from(u.clone())))
        .collect();
    let now = exports(&db, &users).await;
    assert_eq!(
        now, expected["exports"],
        "an export changed across the upgrade"
    );
    assert!(
        now[0]["prompts"].as_array().unwrap().len() >= 4,
        "the fixture holds the prompts it should"
    );

    // What is not in an export survives too: the key signs in, with its scopes.
    let secret = std::fs::read_to_string(fixtures.join(KEY_FILE)).unwrap();
    let p = db.authenticate_api_key(secret.trim()).await.unwrap();
    assert_eq!(p.user_id(), users[0].user_id());
    assert!(p.can_write() && !p.can_release());
    // Every migration of this build has run on it.
    store.close().await;
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(applied as usize, MIGRATOR.iter().count());
}
