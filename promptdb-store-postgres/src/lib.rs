//! PromptDB's PostgreSQL backend, for when one machine is not enough: many PromptDB servers (or
//! Lambdas) share one database.
//!
//! - Migrations embedded and applied by [`PostgresStore::migrate`]; their version numbers match
//!   the SQLite backend's.
//! - Search with a weighted `tsvector` and a GIN index, over text folded by promptdb-core, with
//!   the same semantics as SQLite's (the conformance suite checks both).
//! - Row-level security on every user-owned table, keyed on the transaction-local setting
//!   `promptdb.user_id` that this backend sets at the start of each transaction, or inside the
//!   statement itself for one-statement reads (see `AS_USER` in this file and
//!   `migrations/0001_init.sql`). Connect as a role that is neither a superuser nor has
//!   `BYPASSRLS`, or PostgreSQL does not apply the policies; [`PostgresStore::connect_with`]
//!   logs a warning when it does.
//! - Writes that depend on what is stored lock the row (`SELECT … FOR UPDATE`), so concurrent
//!   edits and uses lose nothing.
//! - Pool size, acquire timeout and statement timeout come from [`PostgresOptions`]. When the
//!   database goes away, operations fail fast with [`promptdb_core::Error::Unavailable`]; the
//!   pool reconnects by itself when it comes back.

use std::{str::FromStr, time::Duration};

use promptdb_core::{Error, UserId};
use sqlx::{
    AssertSqlSafe, PgPool, Postgres, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
};

mod candidates;
mod changes;
mod drafts;
mod keys;
mod labels;
mod prompts;
mod rows;
mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
mod users;
mod webhooks;

/// Embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection settings.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Most connections in the pool.
    pub max_connections: u32,
    /// How long an operation waits for a free connection before failing as unavailable.
    pub acquire_timeout: Duration,
    /// Longest a single statement may run (`statement_timeout`).
    pub statement_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
        }
    }
}

/// A [`promptdb_core::Store`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// A store over an existing pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Connects to a `postgres://` URL with default [`PostgresOptions`]. Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, &PostgresOptions::default()).await
    }

    /// Connects with explicit options. Does not migrate.
    pub async fn connect_with(url: &str, options: &PostgresOptions) -> Result<Self, Error> {
        let (connect, pool) = pool_options(url, options)?;
        let pool = pool.connect_with(connect).await.map_err(unavailable)?;
        let store = Self::new(pool);
        store.warn_if_rls_is_bypassed().await;
        Ok(store)
    }

    /// A store whose pool connects on first use: nothing touches the network here. For cold
    /// starts (AWS Lambda), where the first request pays for the connection anyway and setup
    /// should not. Pair it with [`Self::check_schema`] before serving.
    pub fn connect_lazy_with(url: &str, options: &PostgresOptions) -> Result<Self, Error> {
        let (connect, pool) = pool_options(url, options)?;
        Ok(Self::new(pool.connect_lazy_with(connect)))
    }

    /// Checks, without changing anything, that every migration this build embeds has been
    /// applied (`promptdb migrate` applies them), and warns when row-level security is bypassed.
    /// A schema that is behind is [`Error::Unavailable`] with a message that says which
    /// migrations are missing and what to run; an unreachable database is `Unavailable` too.
    pub async fn check_schema(&self) -> Result<(), Error> {
        let applied: Vec<i64> = match sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await
        {
            Ok(applied) => applied,
            // 42P01: undefined_table, a database never migrated.
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(map_err(e)),
        };
        let missing: Vec<String> = MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
            .map(|m| format!("{} ({})", m.version, m.description))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Unavailable(
                format!(
                    "the database schema is behind this build: migrations {} are not applied; \
                     run `promptdb --database-url <url> migrate` (a deploy step: this process does not migrate)",
                    missing.join(", ")
                )
                .into(),
            ));
        }
        self.warn_if_rls_is_bypassed().await;
        Ok(())
    }

    async fn warn_if_rls_is_bypassed(&self) {
        let bypass: Result<bool, _> = sqlx::query_scalar(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&self.pool)
        .await;
        if let Ok(true) = bypass {
            tracing::warn!(
                "connected as a PostgreSQL superuser or a role with BYPASSRLS: row-level security does not apply; \
                 connect as an ordinary role to keep it as a second line of defence"
            );
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), Error> {
        MIGRATOR.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => map_err(e),
            other => Error::backend(other),
        })
    }

    /// The pool (for tests and tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction in which row-level security shows only `user`'s rows.
    pub(crate) async fn user_tx(
        &self,
        user: UserId,
    ) -> Result<Transaction<'static, Postgres>, Error> {
        self.begin_as(user, "BEGIN").await
    }

    /// Like [`Self::user_tx`], reading one consistent snapshot (`REPEATABLE READ`).
    pub(crate) async fn user_snapshot_tx(
        &self,
        user: UserId,
    ) -> Result<Transaction<'static, Postgres>, Error> {
        self.begin_as(user, "BEGIN ISOLATION LEVEL REPEATABLE READ")
            .await
    }

    /// Like [`Self::user_tx`], planning each statement for its actual parameters. For full-text
    /// search: a generic plan cannot tell a rare word from a common one, and picks a walk of the
    /// whole primary key (86 ms for a 10-match search over 100k prompts) where the word index
    /// takes 3 ms.
    pub(crate) async fn user_tx_custom_plans(
        &self,
        user: UserId,
    ) -> Result<Transaction<'static, Postgres>, Error> {
        self.begin_as(
            user,
            "BEGIN; SELECT set_config('plan_cache_mode', 'force_custom_plan', true)",
        )
        .await
    }

    async fn begin_as(
        &self,
        user: UserId,
        begin: &str,
    ) -> Result<Transaction<'static, Postgres>, Error> {
        // One round trip: the transaction starts with the setting in place. The id is a UUID we
        // format ourselves, so it is safe to inline.
        let begin = format!(
            "{begin}; SELECT set_config('promptdb.user_id', '{}', true)",
            user.as_uuid().hyphenated()
        );
        self.pool
            .begin_with(AssertSqlSafe(begin))
            .await
            .map_err(map_err)
    }

    /// A transaction for the operations that span users (sweeping, re-scoring, key lookup).
    pub(crate) async fn system_tx(&self) -> Result<Transaction<'static, Postgres>, Error> {
        self.pool
            .begin_with("BEGIN; SELECT set_config('promptdb.system', 'on', true)")
            .await
            .map_err(map_err)
    }
}

/// The head of a read that sees only user `$1`'s rows in one statement, so one round trip
/// instead of three (`BEGIN` with the setting, the query, `COMMIT`): the setting is made in the
/// statement's own implicit transaction and ends with it.
///
/// Use it as `… FROM {AS_USER} CROSS JOIN LATERAL (SELECT … WHERE user_id = s.uid … OFFSET 0) q`.
/// The inner query must name `s.uid`: the lateral reference makes `s` the outer side of a nested
/// loop, so PostgreSQL produces it (and runs `set_config`, once) before it starts the inner scan,
/// and `OFFSET 0` keeps either side from being merged into the other, where the planner could
/// reorder them. Row-level security reads the setting through an init plan, which runs when the
/// inner side first needs it, after `s` (`EXPLAIN VERBOSE` shows the plan).
pub(crate) const AS_USER: &str =
    "(SELECT set_config('promptdb.user_id', $1::uuid::text, true)::uuid AS uid OFFSET 0) s";

/// The connection and pool settings for `url` and `options`.
fn pool_options(
    url: &str,
    options: &PostgresOptions,
) -> Result<(PgConnectOptions, PgPoolOptions), Error> {
    let connect = PgConnectOptions::from_str(url)
        .map_err(|e| Error::invalid("database_url", e))?
        .application_name("promptdb")
        .options([(
            "statement_timeout",
            options.statement_timeout.as_millis().to_string(),
        )]);
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.acquire_timeout)
        // sqlx already checks a connection when it returns to the pool; checking again on
        // every acquire would add a round trip per operation.
        .test_before_acquire(false);
    Ok((connect, pool))
}

fn unavailable(e: sqlx::Error) -> Error {
    Error::Unavailable(Box::new(e))
}

/// Maps a sqlx error by kind and SQLSTATE, never by message text.
pub(crate) fn map_err(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => unavailable(e),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // 08: connection exceptions; 57P01–03: shutting down / cannot connect now;
            // 53300: too many connections; 57014: statement timeout or cancellation.
            Some(code)
                if code.starts_with("08")
                    || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "57014") =>
            {
                unavailable(e)
            }
            // 53100: disk_full; 53200: out_of_memory is not this.
            Some("53100") => Error::StorageFull(Box::new(e)),
            // 40P01: deadlock_detected, 40001: serialization_failure. PostgreSQL aborted this
            // transaction so that a concurrent one could finish (two batches of one user creating
            // the same new slugs in opposite orders, each holding the user's change feed
            // number): nothing was written, and the same request succeeds when retried.
            Some("40P01" | "40001") => unavailable(e),
            _ => Error::backend(e),
        },
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
impl promptdb_core::store::MetaStore for PostgresStore {
    async fn meta(&self, key: &str) -> Result<Option<String>, Error> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), Error> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl promptdb_core::Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
