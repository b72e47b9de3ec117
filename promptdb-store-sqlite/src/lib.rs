//! PromptDB's embedded SQLite backend.
//!
//! - One file (or memory), WAL journal, foreign keys on, migrations embedded and run by
//!   [`SqliteStore::migrate`].
//! - Writes go through a single writer connection and start with `BEGIN IMMEDIATE`, so they
//!   never fail on lock upgrades and serialise cleanly, also against other processes (the CLI on
//!   the same file). Reads use a small pool of reader connections that WAL lets run alongside.
//! - Full-text search with FTS5, kept in step with the prompts inside the same transaction.
//! - Durability: `synchronous = FULL` by default, so a write that returned is on disk — it
//!   survives the process being killed and the machine losing power. `NORMAL` (see
//!   [`SqliteOptions::synchronous`]) still survives a killed process but may lose the last
//!   transactions on power loss, for less fsync traffic.

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use promptdb_core::{Error, UserId};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use crate::conn::{Connections, ReadConn, WriteConn};

mod backup;
mod candidates;
mod changes;
mod conn;
mod drafts;
mod keys;
mod labels;
mod prompts;
mod rows;
mod sessions;
mod users;
mod webhooks;

pub use backup::{Restored, file_of, restore};

/// Embedded migrations, shared with `sqlx migrate` tooling.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection settings.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Reader connections at most (ignored in memory, where one connection serves everything).
    pub readers: u32,
    /// How long a statement waits for a lock held by another process.
    pub busy_timeout: Duration,
    /// Durability of commits; `Full` by default (see the crate documentation).
    pub synchronous: SqliteSynchronous,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            synchronous: SqliteSynchronous::Full,
        }
    }
}

/// A [`promptdb_core::Store`] on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conns: Arc<Connections>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates it.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let store = Self::connect_with(options, SqliteOptions::default()).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// A private in-memory database, migrated. It lives as long as the store.
    pub async fn open_in_memory() -> Result<Self, Error> {
        let store = Self::connect("sqlite::memory:").await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to a `sqlite://path` or `sqlite::memory:` URL (creating the file if needed).
    /// Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::invalid("database_url", e))?
            .create_if_missing(true);
        Self::connect_with(options, SqliteOptions::default()).await
    }

    /// Connects with explicit options. Does not migrate.
    pub async fn connect_with(
        options: SqliteConnectOptions,
        settings: SqliteOptions,
    ) -> Result<Self, Error> {
        // sqlx turns `sqlite::memory:` into a named shared-cache database
        // (`file:sqlx-in-memory-N`); more connections to it would share one cache with
        // table-level locks ("database table is locked"), so memory gets one connection.
        let filename = options.get_filename().to_string_lossy();
        let in_memory = filename == ":memory:"
            || filename.starts_with("file:sqlx-in-memory-")
            || filename.contains("mode=memory");
        let options = options
            .foreign_keys(true)
            .busy_timeout(settings.busy_timeout)
            .synchronous(settings.synchronous)
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory")
            // Keep planner statistics fresh without ever running a long ANALYZE.
            .optimize_on_close(true, 400u32);
        let conns = if in_memory {
            // Every connection to `:memory:` is its own database: one connection serves all.
            Connections::open(options, None).await?
        } else {
            let options = options.journal_mode(SqliteJournalMode::Wal);
            Connections::open(options, Some(settings.readers.max(1) as usize)).await?
        };
        Ok(Self {
            conns: Arc::new(conns),
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), Error> {
        let mut conn = self.conns.write().await?;
        MIGRATOR.run(&mut *conn).await.map_err(Error::backend)
    }

    /// Closes every connection, checkpointing the WAL. Later calls fail as unavailable.
    pub async fn close(&self) {
        self.conns.close().await;
    }

    pub(crate) async fn read(&self) -> Result<ReadConn<'_>, Error> {
        self.conns.read().await
    }

    pub(crate) async fn write(&self) -> Result<WriteConn<'_>, Error> {
        self.conns.write().await
    }

    /// Woken each time this process hands the writer back.
    pub(crate) fn written(&self) -> &tokio::sync::Notify {
        self.conns.written()
    }
}

fn unavailable(e: sqlx::Error) -> Error {
    Error::Unavailable(Box::new(e))
}

/// Maps a sqlx error by kind, never by message text.
pub(crate) fn map_err(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => unavailable(e),
        // SQLITE_BUSY after the busy timeout: another process holds the write lock.
        sqlx::Error::Database(db) if db.code().as_deref() == Some("5") => unavailable(e),
        // SQLITE_FULL: the disk (or the file size limit) is full; the transaction rolled back.
        sqlx::Error::Database(db) if db.code().as_deref() == Some("13") => {
            Error::StorageFull(Box::new(e))
        }
        _ => Error::backend(e),
    }
}

/// Maps a write's error: a foreign-key violation means the owning user does not exist.
pub(crate) fn map_owned_write(user: UserId) -> impl Fn(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            Error::not_found("user", user)
        }
        _ => map_err(e),
    }
}

#[async_trait::async_trait]
impl promptdb_core::store::MetaStore for SqliteStore {
    async fn meta(&self, key: &str) -> Result<Option<String>, Error> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut *self.read().await?)
            .await
            .map_err(map_err)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), Error> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *self.write().await?)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl promptdb_core::Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.read().await?)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
