//! Backups of a live database and restores of them.
//!
//! [`SqliteStore::backup_to`] writes `VACUUM INTO` a new file from a reader connection: one read
//! transaction's snapshot, so the copy is consistent while writers go on (WAL lets them), and
//! compact. [`restore`] checks a backup, then swaps it in for a stopped server's database in one
//! rename, keeping the database it replaces next to it.

use std::path::{Path, PathBuf};

use promptdb_core::Error;
use sqlx::{
    Connection as _, Row,
    sqlite::{SqliteConnectOptions, SqliteConnection},
};

use crate::SqliteStore;

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Prompts in the restored database.
    pub prompts: i64,
    /// Where the database it replaced was kept, if there was one.
    pub previous: Option<PathBuf>,
}

impl SqliteStore {
    /// Writes a consistent, compact copy of the database to `path`, which must not exist, while
    /// the store goes on serving. An in-memory store cannot be backed up this way.
    pub async fn backup_to(&self, path: &Path) -> Result<(), Error> {
        if path.exists() {
            return Err(Error::invalid(
                "path",
                format!(
                    "{} exists; a backup never overwrites a file",
                    path.display()
                ),
            ));
        }
        let target = utf8(path)?;
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&mut *self.read().await?)
            .await
            .map_err(|e| Error::invalid("path", format!("cannot write {}: {e}", path.display())))?;
        Ok(())
    }
}

fn utf8(path: &Path) -> Result<&str, Error> {
    path.to_str()
        .ok_or_else(|| Error::invalid("path", "the path must be valid UTF-8"))
}

/// Opens `path` read-only and checks that it is an intact PromptDB database: SQLite's
/// `integrity_check`, the migrations table and the prompts table. Returns the prompt count.
async fn check_backup(path: &Path) -> Result<(SqliteConnection, i64), Error> {
    let bad = |why: String| Error::invalid("backup", format!("{}: {why}", path.display()));
    if !path.is_file() {
        return Err(bad("no such file".into()));
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| bad(format!("not a SQLite database ({e})")))?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| bad(format!("not a SQLite database ({e})")))?;
    if check != "ok" {
        return Err(bad(format!("the file is damaged: {check}")));
    }
    let tables: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('_sqlx_migrations', 'prompts')",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| bad(e.to_string()))?
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    if tables.len() != 2 {
        return Err(bad("not a PromptDB database".into()));
    }
    let prompts: i64 = sqlx::query_scalar("SELECT count(*) FROM prompts")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| bad(e.to_string()))?;
    Ok((conn, prompts))
}

/// Replaces the database at `target` with the backup at `backup`. The server on `target` must
/// be stopped. The backup is checked first ([`check_backup`]); it is copied next to `target`,
/// the current database (if any) is checkpointed and moved to `<target>.before-restore-<time>`,
/// and the copy is renamed into place, so that `target` is at every moment either the old
/// database or the whole backup. The restored database is then migrated to this version's
/// schema.
pub async fn restore(backup: &Path, target: &Path) -> Result<Restored, Error> {
    let (mut source, prompts) = check_backup(backup).await?;
    let name = |suffix: &str| {
        let mut name = target.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let staged = name(".restoring");
    let io = |what: &str, e: std::io::Error| Error::invalid("target", format!("{what}: {e}"));
    if staged.exists() {
        std::fs::remove_file(&staged).map_err(|e| io("cannot remove a stale copy", e))?;
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io("cannot create the directory", e))?;
    }
    sqlx::query("VACUUM INTO ?")
        .bind(utf8(&staged)?)
        .execute(&mut source)
        .await
        .map_err(|e| Error::invalid("target", format!("cannot copy the backup: {e}")))?;
    source.close().await.map_err(Error::backend)?;

    let mut previous = None;
    if target.exists() {
        // Fold the write-ahead log into the file, so that the kept database is whole and no
        // log is left to be replayed onto the restored one.
        let options = SqliteConnectOptions::new()
            .filename(target)
            .create_if_missing(false);
        let mut conn = SqliteConnection::connect_with(&options)
            .await
            .map_err(Error::backend)?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await
            .map_err(Error::backend)?;
        conn.close().await.map_err(Error::backend)?;
        let kept = name(&format!(
            ".before-restore-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ));
        std::fs::rename(target, &kept).map_err(|e| io("cannot move the current database", e))?;
        previous = Some(kept);
    }
    for suffix in ["-wal", "-shm"] {
        let side = name(suffix);
        if side.exists() {
            std::fs::remove_file(&side).map_err(|e| io("cannot remove the old log", e))?;
        }
    }
    std::fs::rename(&staged, target).map_err(|e| io("cannot move the backup into place", e))?;
    let store = SqliteStore::open(target).await?;
    store.close().await;
    Ok(Restored { prompts, previous })
}

/// The file a `sqlite://` URL names; `None` for an in-memory database.
pub fn file_of(url: &str) -> Result<Option<PathBuf>, Error> {
    use std::str::FromStr as _;
    let options =
        SqliteConnectOptions::from_str(url).map_err(|e| Error::invalid("database_url", e))?;
    let name = options.get_filename();
    let s = name.to_string_lossy();
    if s == ":memory:" || s.starts_with("file:sqlx-in-memory-") || s.contains("mode=memory") {
        return Ok(None);
    }
    Ok(Some(name.to_path_buf()))
}
