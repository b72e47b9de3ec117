//! PromptDB: a prompt library for every chat surface.
//!
//! This facade re-exports [`promptdb_core`] and, with the default `sqlite` feature, the embedded
//! SQLite store, so an application embeds PromptDB with one dependency:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use promptdb::{PromptDb, sqlite::SqliteStore};
//!
//! let store = SqliteStore::open("prompts.db").await?;
//! let db = PromptDb::new(Arc::new(store));
//! # Ok(()) }
//! ```

pub use promptdb_core::*;

/// The embedded SQLite backend.
#[cfg(feature = "sqlite")]
pub use promptdb_store_sqlite as sqlite;
