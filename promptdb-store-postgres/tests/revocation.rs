//! The bound on a revoked API key when many servers share one database: it stops at once on the
//! server that revoked it, and on every other server within `Config::auth_cache_ttl_secs`, the
//! time a verified key is trusted from memory.

use std::{sync::Arc, time::Duration};

use promptdb_core::{Config, Error, NewApiKey, Principal, PromptDb};
use promptdb_store_postgres::testing::TestDatabase;

#[tokio::test]
async fn a_revoked_key_stops_everywhere_within_the_auth_cache_ttl() {
    let database = TestDatabase::create().await;
    let config = Config {
        auth_cache_ttl_secs: 1,
        ..Config::default()
    };
    // Two servers: each its own pool and its own caches, one database.
    let a = PromptDb::with_config(Arc::new(database.store().await), config.clone()).unwrap();
    let b = PromptDb::with_config(Arc::new(database.store().await), config).unwrap();
    let user = a.create_user("Ada").await.unwrap();
    let key = a
        .issue_api_key(user.id, NewApiKey::new("deploy"))
        .await
        .unwrap();
    // Both have verified the key, so both hold it in memory.
    a.authenticate_api_key(&key.secret).await.unwrap();
    b.authenticate_api_key(&key.secret).await.unwrap();

    a.revoke_api_key(&Principal::full(user.id), key.key.id)
        .await
        .unwrap();
    assert!(
        matches!(
            a.authenticate_api_key(&key.secret).await,
            Err(Error::Unauthorized)
        ),
        "the server that revoked the key refuses it at once"
    );
    // B may still trust its memory for up to the TTL, never longer.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(
        matches!(
            b.authenticate_api_key(&key.secret).await,
            Err(Error::Unauthorized)
        ),
        "another server refuses it once the TTL has passed"
    );
    // And a new server never accepts it.
    let c = PromptDb::new(Arc::new(database.store().await));
    assert!(matches!(
        c.authenticate_api_key(&key.secret).await,
        Err(Error::Unauthorized)
    ));
}
