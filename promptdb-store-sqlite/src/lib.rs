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

use std::{path::Path, str::FromStr, time::Duration};

use promptdb_core::{Error, UserId};
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

mod drafts;
mod prompts;
mod rows;
mod users;

/// Embedded migrations, shared with `sqlx migrate` tooling.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection settings.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Reader connections (ignored in memory, where one connection serves everything).
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
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// A store over existing pools. `writer` should hold a single connection; `reader` may be the
    /// same pool.
    pub fn new(writer: SqlitePool, reader: SqlitePool) -> Self {
        Self { writer, reader }
    }

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
        let in_memory = options.get_filename() == Path::new(":memory:");
        let options = options
            .foreign_keys(true)
            .busy_timeout(settings.busy_timeout)
            .synchronous(settings.synchronous)
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        if in_memory {
            // Every connection to `:memory:` is its own database, so one connection serves all,
            // and it must never be recycled.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(unavailable)?;
            return Ok(Self::new(pool.clone(), pool));
        }
        let options = options.journal_mode(SqliteJournalMode::Wal);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(settings.readers.max(1))
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Ok(Self::new(writer, reader))
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), Error> {
        MIGRATOR.run(&self.writer).await.map_err(Error::backend)
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
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
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), Error> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.writer)
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
            .execute(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
