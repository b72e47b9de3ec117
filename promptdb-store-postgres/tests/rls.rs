//! Row-level security as the second line of defence: hand-written SQL, connected as the
//! application's role, sees no rows without the per-transaction user setting, and with user A's
//! setting can neither read nor change user B's rows.

use std::sync::Arc;

use promptdb_core::{NewApiKey, NewPrompt, Principal, PromptDb, SaveDraft};
use promptdb_store_postgres::testing::TestDatabase;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

const USER_TABLES: [&str; 17] = [
    "users",
    "prompts",
    "prompt_versions",
    "prompt_labels",
    "label_moves",
    "prompt_includes",
    "prompt_tags",
    "drafts",
    "preferences",
    "api_keys",
    "identities",
    "sessions",
    "harvest_candidates",
    "changes",
    "change_heads",
    "webhooks",
    "webhook_deliveries",
];

/// A receiver that is always down: a delivery round records one failed attempt.
struct Down;

#[async_trait::async_trait]
impl promptdb_core::WebhookSender for Down {
    async fn send(
        &self,
        _url: &str,
        _message: &promptdb_core::webhook::Message,
    ) -> Result<u16, String> {
        Ok(503)
    }
}

/// Two users with a prompt (two versions, tags), a draft, a harvest candidate, preferences, a
/// key and a webhook with a failed delivery each.
async fn two_users(db: &TestDatabase) -> (Uuid, Uuid) {
    let service = PromptDb::new(Arc::new(db.store().await));
    let mut ids = Vec::new();
    for name in ["alice", "bob"] {
        let user = service
            .user_for_identity("https://id.example.test", name, name)
            .await
            .unwrap();
        service
            .create_session(
                user,
                promptdb_core::NewSession::with_scopes(&[promptdb_core::Scope::Read]),
            )
            .await
            .unwrap();
        let me = Principal::full(user);
        service
            .create_webhook(
                &me,
                promptdb_core::webhook::NewWebhook::new(format!(
                    "https://{name}.example.test/hook"
                )),
            )
            .await
            .unwrap();
        service
            .save_prompts(
                &me,
                vec![NewPrompt {
                    tags: vec![format!("{name}-tag")],
                    ..NewPrompt::new(format!("{name}-prompt"), name, format!("secret of {name}"))
                }],
            )
            .await
            .unwrap();
        service
            .update_prompt(
                &me,
                &format!("{name}-prompt"),
                promptdb_core::PromptPatch {
                    content: Some(format!("second secret of {name}")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        service
            .set_label(
                &me,
                &format!("{name}-prompt"),
                "production",
                promptdb_core::LabelTarget::version(2),
            )
            .await
            .unwrap();
        service
            .save_prompts(
                &me,
                vec![NewPrompt::new(
                    format!("{name}-wrapper"),
                    "wrapper",
                    format!("{{{{> {name}-prompt}}}}"),
                )],
            )
            .await
            .unwrap();
        service.save_draft(&me, SaveDraft::default()).await.unwrap();
        service
            .submit_candidates(
                &me,
                promptdb_core::harvest::Submission {
                    candidates: vec![promptdb_core::harvest::NewCandidate {
                        name: format!("{name} candidate"),
                        content: format!("candidate secret of {name}"),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let serde_json::Value::Object(prefs) = json!({ "theme": "dark" }) else {
            unreachable!()
        };
        service.set_preferences(&me, prefs).await.unwrap();
        service
            .create_api_key(&me, NewApiKey::new("k"))
            .await
            .unwrap();
        ids.push(*user.as_uuid());
    }
    for claim in service.claim_webhooks(10).await.unwrap() {
        service
            .deliver_webhook(&claim, &Down, &Default::default())
            .await
            .unwrap();
    }
    (ids[0], ids[1])
}

async fn count(conn: &mut PgConnection, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(conn)
        .await
        .unwrap()
}

async fn begin_as(conn: &mut PgConnection, user: Uuid) -> sqlx::Transaction<'_, sqlx::Postgres> {
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('promptdb.user_id', $1, true)")
        .bind(user.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

#[tokio::test]
async fn without_the_setting_the_application_role_sees_nothing() {
    let db = TestDatabase::create().await;
    two_users(&db).await;
    let mut admin = db.admin_connection().await;
    let mut app = db.app_connection().await;
    for table in USER_TABLES {
        assert!(
            count(&mut admin, table).await >= 2,
            "{table} has rows (seen by the superuser)"
        );
        assert_eq!(
            count(&mut app, table).await,
            0,
            "{table} leaks rows without a user setting"
        );
    }
    // Nor can it write a row for anyone.
    let insert =
        sqlx::query("INSERT INTO users (id, display_name, created_at) VALUES ($1, 'x', now())")
            .bind(Uuid::now_v7())
            .execute(&mut app)
            .await;
    let err = insert.expect_err("an insert without a user setting must fail");
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501"),
        "{err}"
    );
}

#[tokio::test]
async fn with_user_a_setting_user_b_rows_are_invisible_and_untouchable() {
    let db = TestDatabase::create().await;
    let (alice, bob) = two_users(&db).await;
    let mut app = db.app_connection().await;
    let mut tx = begin_as(&mut app, alice).await;

    // Reads: only Alice's rows, in every table.
    for table in USER_TABLES {
        let n = count(&mut tx, table).await;
        assert!(n >= 1, "{table}: Alice sees her own rows");
    }
    let contents: Vec<String> = sqlx::query_scalar("SELECT content FROM prompts")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert!(contents.iter().all(|c| c.contains("alice")), "{contents:?}");
    let versions: Vec<String> = sqlx::query_scalar("SELECT content FROM prompt_versions")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(versions.len(), 3);
    assert!(versions.iter().all(|c| c.contains("alice")), "{versions:?}");
    let bob_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM prompts WHERE user_id = $1")
        .bind(bob)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(bob_rows, 0, "asking for Bob's rows by id finds nothing");

    // Writes aimed at Bob's rows change nothing.
    for (sql, what) in [
        (
            "UPDATE prompts SET content = 'defaced' WHERE user_id = $1",
            "update prompts",
        ),
        ("DELETE FROM prompts WHERE user_id = $1", "delete prompts"),
        ("DELETE FROM drafts WHERE user_id = $1", "delete drafts"),
        (
            "UPDATE preferences SET data = '{}' WHERE user_id = $1",
            "update preferences",
        ),
        ("DELETE FROM api_keys WHERE user_id = $1", "delete keys"),
        (
            "UPDATE prompt_labels SET target = '{\"version\": 1}' WHERE prompt_pk IN (SELECT pk FROM prompts WHERE user_id = $1)",
            "move Bob's labels",
        ),
        (
            "DELETE FROM label_moves WHERE prompt_pk IN (SELECT pk FROM prompts WHERE user_id = $1)",
            "erase Bob's label history",
        ),
        (
            "DELETE FROM prompt_includes WHERE user_id = $1",
            "delete Bob's includes",
        ),
        ("DELETE FROM users WHERE id = $1", "delete the user"),
    ] {
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(bob)
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 0, "{what} reached Bob's rows");
    }
    // Rows claiming to be Bob's cannot be written either.
    let forged = sqlx::query(
        "INSERT INTO drafts (id, user_id, prompt_slug, fields, created_at, updated_at, expires_at) \
         VALUES ($1, $2, NULL, '{}', now(), now(), now() + interval '1 day')",
    )
    .bind(Uuid::now_v7())
    .bind(bob)
    .execute(&mut *tx)
    .await;
    let err = forged.expect_err("a row for another user must be refused");
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501"),
        "{err}"
    );
    drop(tx);

    // Bob's data is intact (seen as Bob).
    let mut tx = begin_as(&mut app, bob).await;
    let content: String =
        sqlx::query_scalar("SELECT content FROM prompts WHERE slug = 'bob-prompt'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(content, "second secret of bob");
    assert_eq!(count(&mut tx, "drafts").await, 1);
    assert_eq!(count(&mut tx, "api_keys").await, 1);
    assert_eq!(count(&mut tx, "label_moves").await, 1);
    assert_eq!(count(&mut tx, "prompt_includes").await, 1);
    let target: serde_json::Value = sqlx::query_scalar("SELECT target FROM prompt_labels")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(target, json!({ "version": 2 }), "Bob's label did not move");
}

/// Tables without a policy, and why.
const UNPOLICED_TABLES: [&str; 3] = [
    "_sqlx_migrations", // schema bookkeeping
    "meta",             // server-wide settings, no user data
    "prompt_search",    // search vectors; read only joined to `prompts` (see migration 0001)
];

#[tokio::test]
async fn every_table_has_a_policy_or_a_stated_reason() {
    let db = TestDatabase::create().await;
    db.store().await;
    let mut admin = db.admin_connection().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    for table in &tables {
        assert!(
            USER_TABLES.contains(&table.as_str()) || UNPOLICED_TABLES.contains(&table.as_str()),
            "table {table} is new: give it a policy (and add it to USER_TABLES) or a reason"
        );
    }
    assert_eq!(tables.len(), USER_TABLES.len() + UNPOLICED_TABLES.len());
}

#[tokio::test]
async fn search_vectors_of_others_never_surface_through_the_join() {
    let db = TestDatabase::create().await;
    let (alice, _bob) = two_users(&db).await;
    let mut app = db.app_connection().await;
    let mut tx = begin_as(&mut app, alice).await;
    // The search table has no policy, so Alice's transaction sees every vector; a query that
    // forgot the user filter would still only return what the prompts policy lets through.
    assert!(count(&mut tx, "prompt_search").await >= 2);
    let slugs: Vec<String> = sqlx::query_scalar(
        "SELECT p.slug FROM prompt_search s JOIN prompts p ON p.pk = s.prompt_pk \
         WHERE s.search @@ to_tsquery('simple', 'secret')",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert_eq!(
        slugs,
        vec!["alice-prompt".to_owned()],
        "both match; only Alice's comes out"
    );
}

#[tokio::test]
async fn the_policies_are_forced_on_every_user_table() {
    let db = TestDatabase::create().await;
    db.store().await;
    let mut admin = db.admin_connection().await;
    for table in USER_TABLES {
        let (enabled, forced): (bool, bool) = sqlx::query_as(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1",
        )
        .bind(table)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        assert!(
            enabled && forced,
            "{table}: row-level security enabled and forced"
        );
    }
    let app_bypasses: bool =
        sqlx::query_scalar("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = $1")
            .bind(promptdb_store_postgres::testing::APP_ROLE)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert!(!app_bypasses, "the tests run as a role the policies bind");
}

/// Point reads and resolves run as one statement each, with the user setting made inside it
/// (`AS_USER`): they see their own user's rows (through row-level security, as the application
/// role), never another's, and leave no setting behind on the pooled connection for the next
/// statement to inherit.
#[tokio::test]
async fn one_statement_reads_see_their_user_and_leave_no_setting_behind() {
    use promptdb_core::store::{LabelStore, PromptStore, Resolution, Selector};
    use promptdb_store_postgres::{PostgresOptions, PostgresStore};

    let db = TestDatabase::create().await;
    let (alice, bob) = two_users(&db).await;
    let one = PostgresOptions {
        max_connections: 1,
        ..PostgresOptions::default()
    };
    let store = PostgresStore::connect_with(&db.url, &one).await.unwrap();
    let (alice, bob) = (
        promptdb_core::UserId::from_uuid(alice),
        promptdb_core::UserId::from_uuid(bob),
    );
    let pick = |_: &promptdb_core::LabelTarget| 2;
    for _ in 0..8 {
        // Past five executions PostgreSQL may switch to a generic plan: the order must hold there too.
        let mine = store.prompt(alice, "alice-prompt").await.unwrap().unwrap();
        assert_eq!(mine.content, "second secret of alice");
        assert!(store.prompt(alice, "bob-prompt").await.unwrap().is_none());
        assert!(store.prompt(bob, "alice-prompt").await.unwrap().is_none());
        match store
            .resolve(bob, "bob-prompt", Selector::Label("production"), &pick)
            .await
            .unwrap()
        {
            Resolution::Found(found) => {
                assert_eq!(found.version.content, "second secret of bob");
                assert_eq!(found.labels.len(), 1);
            }
            other => panic!("bob resolves his own prompt: {other:?}"),
        }
        assert!(matches!(
            store
                .resolve(alice, "bob-prompt", Selector::Latest, &pick)
                .await
                .unwrap(),
            Resolution::NoPrompt
        ));
        let left: Option<String> =
            sqlx::query_scalar("SELECT nullif(current_setting('promptdb.user_id', true), '')")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(left, None, "the user setting ends with the statement");
        let visible: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM prompts")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(
            visible, 0,
            "the next statement on the connection sees no rows"
        );
    }
}
