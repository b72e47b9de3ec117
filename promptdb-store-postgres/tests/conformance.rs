//! The backend conformance suite on PostgreSQL, each test in its own database, connected as an
//! ordinary role so that row-level security is in force throughout; and again behind core's
//! prompt cache.

use std::{sync::Arc, time::Duration};

use promptdb_core::{Store, cache::CachedStore, testing::TestStore};
use promptdb_store_postgres::testing::TestDatabase;

mod postgres {
    use super::*;

    async fn fresh_store() -> TestStore {
        let db = TestDatabase::create().await;
        let store = db.store().await;
        TestStore::with_guard(Arc::new(store) as Arc<dyn Store>, db)
    }

    promptdb_core::conformance_suite!(fresh_store);
}

mod cached {
    use super::*;

    async fn fresh_store() -> TestStore {
        let db = TestDatabase::create().await;
        let store = db.store().await;
        let cached = CachedStore::new(Arc::new(store), Duration::from_secs(60), 1_000);
        TestStore::with_guard(Arc::new(cached) as Arc<dyn Store>, db)
    }

    promptdb_core::conformance_suite!(fresh_store);
}
