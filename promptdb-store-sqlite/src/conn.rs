//! Connections: one writer behind a mutex and a small pool of readers.
//!
//! sqlx's own pool pings a connection every time it is returned and spawns a task to do it;
//! on SQLite that costs more than the point query it wraps (measured: 54 µs for `SELECT 1`
//! through the pool, 16 µs on a held connection). These two structures hand out connections
//! directly. Dropped transactions are rolled back by sqlx on the connection's next use.

use std::{
    ops::{Deref, DerefMut},
    sync::{
        Mutex as SyncMutex,
        atomic::{AtomicBool, Ordering},
    },
};

use promptdb_core::Error;
use sqlx::{ConnectOptions, Connection as _, SqliteConnection, sqlite::SqliteConnectOptions};
use tokio::sync::{Mutex, MutexGuard, Semaphore, SemaphorePermit};

fn closed() -> Error {
    Error::Unavailable("the SQLite store is closed".into())
}

fn connect_error(e: sqlx::Error) -> Error {
    Error::Unavailable(Box::new(e))
}

#[derive(Debug)]
pub(crate) struct Connections {
    /// `None` when closed, or while a broken writer waits to be replaced.
    writer: Mutex<Option<SqliteConnection>>,
    /// How to open a new writer (`None` in memory, where the connection is the database).
    writer_options: Option<SqliteConnectOptions>,
    closed: AtomicBool,
    /// `None` in memory, where the writer's connection is the only one that sees the data.
    readers: Option<ReadPool>,
    /// Woken when the writer is handed back (after a write, or an attempt at one): listeners in
    /// this process look for new changes at once instead of at their next poll.
    written: tokio::sync::Notify,
}

#[derive(Debug)]
struct ReadPool {
    idle: SyncMutex<Vec<SqliteConnection>>,
    permits: Semaphore,
    options: SqliteConnectOptions,
}

impl Connections {
    pub(crate) async fn open(
        options: SqliteConnectOptions,
        readers: Option<usize>,
    ) -> Result<Self, Error> {
        let writer = options.connect().await.map_err(connect_error)?;
        let readers = match readers {
            Some(n) => {
                // Open one reader now so a bad path or permission fails at start-up.
                let first = options.connect().await.map_err(connect_error)?;
                Some(ReadPool {
                    idle: SyncMutex::new(vec![first]),
                    permits: Semaphore::new(n.max(1)),
                    options,
                })
            }
            None => None,
        };
        Ok(Self {
            writer: Mutex::new(Some(writer)),
            writer_options: readers.as_ref().map(|r| r.options.clone()),
            closed: AtomicBool::new(false),
            readers,
            written: tokio::sync::Notify::new(),
        })
    }

    /// The writer connection, exclusively.
    ///
    /// A write starts outside any transaction. When SQLite has already rolled a transaction back
    /// by itself (a full disk: `SQLITE_FULL`), sqlx's own rollback of it fails and sqlx goes on
    /// counting the transaction as open, refusing every later `BEGIN`: such a writer is closed
    /// (which rolls back whatever is left) and replaced, so that writes work again as soon as
    /// the disk has room.
    pub(crate) async fn write(&self) -> Result<WriteConn<'_>, Error> {
        let mut guard = self.writer.lock().await;
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        if let Some(conn) = guard.as_mut()
            && conn.is_in_transaction()
        {
            // A dropped transaction's rollback may still be queued: let it run, then look again.
            let _ = conn.ping().await;
            if conn.is_in_transaction() && self.writer_options.is_some() {
                tracing::warn!("the SQLite writer was left inside a transaction; reconnecting");
                if let Some(old) = guard.take() {
                    let _ = old.close().await;
                }
            }
        }
        if guard.is_none() {
            let options = self.writer_options.as_ref().ok_or_else(closed)?;
            *guard = Some(options.connect().await.map_err(connect_error)?);
        }
        Ok(WriteConn(guard, &self.written))
    }

    /// Woken each time the writer is handed back.
    pub(crate) fn written(&self) -> &tokio::sync::Notify {
        &self.written
    }

    /// A connection for reading.
    pub(crate) async fn read(&self) -> Result<ReadConn<'_>, Error> {
        let Some(pool) = &self.readers else {
            return self.write().await.map(ReadConn::Writer);
        };
        let permit = pool.permits.acquire().await.map_err(|_| closed())?;
        let idle = pool
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => pool.options.connect().await.map_err(connect_error)?,
        };
        Ok(ReadConn::Pooled(PooledConn {
            conn: Some(conn),
            pool,
            _permit: permit,
        }))
    }

    /// Closes every connection; later calls fail as unavailable.
    pub(crate) async fn close(&self) {
        if let Some(pool) = &self.readers {
            pool.permits.close();
            let idle = std::mem::take(
                &mut *pool
                    .idle
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            for conn in idle {
                let _ = sqlx::Connection::close(conn).await;
            }
        }
        let mut writer = self.writer.lock().await;
        self.closed.store(true, Ordering::Release);
        if let Some(conn) = writer.take() {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// The writer connection. Handing it back wakes this process's change listeners.
pub(crate) struct WriteConn<'a>(
    MutexGuard<'a, Option<SqliteConnection>>,
    &'a tokio::sync::Notify,
);

impl Drop for WriteConn<'_> {
    fn drop(&mut self) {
        self.1.notify_waiters();
    }
}

impl Deref for WriteConn<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.0.as_ref().expect("checked in Connections::write")
    }
}

impl DerefMut for WriteConn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.0.as_mut().expect("checked in Connections::write")
    }
}

/// A reader connection, returned to the pool on drop.
pub(crate) struct PooledConn<'a> {
    conn: Option<SqliteConnection>,
    pool: &'a ReadPool,
    _permit: SemaphorePermit<'a>,
}

impl Drop for PooledConn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(conn);
        }
    }
}

/// A connection to read on: a pooled reader, or the writer in memory.
pub(crate) enum ReadConn<'a> {
    Pooled(PooledConn<'a>),
    Writer(WriteConn<'a>),
}

impl Deref for ReadConn<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        match self {
            Self::Pooled(p) => p.conn.as_ref().expect("present until drop"),
            Self::Writer(w) => w,
        }
    }
}

impl DerefMut for ReadConn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Self::Pooled(p) => p.conn.as_mut().expect("present until drop"),
            Self::Writer(w) => w,
        }
    }
}
