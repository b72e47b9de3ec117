//! The backend conformance suite on SQLite: on a temporary file, in memory, and in memory behind
//! core's caching decorator.

use std::{sync::Arc, time::Duration};

use promptdb_core::{Store, cache::CachedStore, testing::TestStore};
use promptdb_store_sqlite::SqliteStore;

mod file {
    use super::*;

    async fn fresh_store() -> TestStore {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("promptdb.sqlite3"))
            .await
            .expect("open sqlite file");
        TestStore::with_guard(Arc::new(store), dir)
    }

    promptdb_core::conformance_suite!(fresh_store);
}

mod memory {
    use super::*;

    async fn fresh_store() -> TestStore {
        let store = SqliteStore::open_in_memory()
            .await
            .expect("open sqlite memory");
        TestStore::from(Arc::new(store) as Arc<dyn Store>)
    }

    promptdb_core::conformance_suite!(fresh_store);
}

mod cached {
    use super::*;

    async fn fresh_store() -> TestStore {
        let store = SqliteStore::open_in_memory()
            .await
            .expect("open sqlite memory");
        let cached = CachedStore::new(Arc::new(store), Duration::from_secs(60), 1_000);
        TestStore::from(Arc::new(cached) as Arc<dyn Store>)
    }

    promptdb_core::conformance_suite!(fresh_store);
}
