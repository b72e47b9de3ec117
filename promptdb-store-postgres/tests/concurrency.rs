//! Fifty concurrent writers on the same prompts lose neither a use nor a version.

use std::sync::Arc;

use futures::future::join_all;
use promptdb_core::{NewPrompt, Principal, PromptDb, PromptPatch};
use promptdb_store_postgres::{PostgresOptions, PostgresStore, testing::TestDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_writers_lose_nothing() {
    let db = TestDatabase::create().await;
    let options = PostgresOptions {
        max_connections: 20,
        ..PostgresOptions::default()
    };
    let store = PostgresStore::connect_with(&db.url, &options)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let service = PromptDb::new(Arc::new(store));
    let me = Principal::full(service.create_user("busy").await.unwrap().id);
    let slugs: Vec<String> = (0..5).map(|i| format!("hot-{i}")).collect();
    service
        .save_prompts(
            &me,
            slugs
                .iter()
                .map(|s| NewPrompt::new(s.as_str(), "Hot", "v0"))
                .collect(),
        )
        .await
        .unwrap();

    const WRITERS: usize = 50;
    let tasks = (0..WRITERS).map(|w| {
        let (service, me, slug) = (service.clone(), me.clone(), slugs[w % slugs.len()].clone());
        tokio::spawn(async move {
            for round in 0..4 {
                service.track_prompt_use(&me, &slug, None).await.unwrap();
                let patch = PromptPatch {
                    content: Some(format!("writer {w} round {round}")),
                    ..PromptPatch::default()
                };
                service.update_prompt(&me, &slug, patch).await.unwrap();
            }
        })
    });
    for r in join_all(tasks).await {
        r.expect("writer panicked");
    }
    let per_prompt = (WRITERS / slugs.len()) * 4;
    for slug in &slugs {
        let p = service.get_prompt(&me, slug).await.unwrap();
        assert_eq!(p.usage_count as usize, per_prompt, "{slug}: uses");
        assert_eq!(p.version as usize, per_prompt + 1, "{slug}: versions");
        let history = service
            .prompt_versions(&me, slug, Some(100), None)
            .await
            .unwrap();
        let numbers: Vec<u32> = history.items.iter().map(|v| v.version).collect();
        assert_eq!(
            numbers,
            (1..=per_prompt as u32 + 1).rev().collect::<Vec<_>>(),
            "{slug}: history"
        );
    }
}
