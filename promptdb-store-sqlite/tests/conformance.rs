//! The backend conformance suite on SQLite: once on a temporary file, once in memory.

use std::sync::Arc;

use promptdb_core::testing::TestStore;
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
        TestStore::from(Arc::new(store) as Arc<dyn promptdb_core::Store>)
    }

    promptdb_core::conformance_suite!(fresh_store);
}
