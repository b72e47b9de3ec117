//! When PostgreSQL goes away, operations fail fast with `Unavailable`; when it comes back, the
//! store recovers by itself. Runs on a private throwaway cluster, stopped and started here.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use promptdb_core::{Error, NewPrompt, Principal, PromptDb};
use promptdb_store_postgres::{
    PostgresOptions, PostgresStore,
    testing::{Cluster, TestDatabase},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_fast_while_down_and_recovers_when_back() {
    let mut cluster = Cluster::start();
    let db = TestDatabase::create_on(&cluster.admin_url()).await;
    let options = PostgresOptions {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(2),
        statement_timeout: Duration::from_secs(2),
    };
    let store = PostgresStore::connect_with(&db.url, &options)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let service = PromptDb::new(Arc::new(store));
    let me = Principal::full(service.create_user("u").await.unwrap().id);
    service
        .save_prompts(&me, vec![NewPrompt::new("kept", "Kept", "x")])
        .await
        .unwrap();

    cluster.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let result = service.get_prompt(&me, "kept").await;
        assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "failed in {:?}, not fast",
            started.elapsed()
        );
    }
    assert!(matches!(service.ping().await, Err(Error::Unavailable(_))));

    cluster.restart();
    // The pool replaces its dead connections on its own; no reconnect call exists or is needed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let prompt = loop {
        match service.get_prompt(&me, "kept").await {
            Ok(p) => break p,
            Err(Error::Unavailable(_)) if Instant::now() < deadline => {
                tokio::task::yield_now().await
            }
            Err(e) => panic!("did not recover: {e}"),
        }
    };
    assert_eq!(prompt.content, "x");
    service.ping().await.unwrap();
    service
        .save_prompts(&me, vec![NewPrompt::new("after", "After", "y")])
        .await
        .unwrap();
    drop(db);
}
