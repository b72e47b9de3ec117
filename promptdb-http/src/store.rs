//! Opening the store a database URL names: `sqlite:` or `postgres://`, as far as the build's
//! features (`sqlite`, `postgres`) include the backend. The one place every binary opens its
//! database.

use std::{sync::Arc, time::Duration};

use promptdb_core::{Error, PromptDb, Store, cache::CachedStore};

use crate::{Settings, redact_url};

/// Opens the database `settings` name (applying migrations), puts the prompt cache in front,
/// and brings stored ranking scores in line with the configured weights.
pub async fn open_db(settings: &Settings) -> anyhow::Result<PromptDb> {
    let url = settings.database_url();
    let store = open_store(
        &url,
        settings,
        Duration::from_secs(settings.prompt_cache_ttl_secs),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", redact_url(&url)))?;
    let db = PromptDb::with_config(store, settings.core.clone())?;
    db.sync_ranking().await?;
    Ok(db)
}

/// Opens the store for `url` (`sqlite:` or `postgres://`, with the pool settings of
/// `settings`), applies migrations, and puts the prompt cache in front (unless `cache_ttl` is
/// zero).
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unreachable_code)
)]
pub async fn open_store(
    url: &str,
    settings: &Settings,
    cache_ttl: Duration,
) -> Result<Arc<dyn Store>, Error> {
    let store: Arc<dyn Store> = match Backend::of(url) {
        #[cfg(feature = "sqlite")]
        Some(Backend::Sqlite) => {
            create_parent_dir(url)?;
            let store = promptdb_store_sqlite::SqliteStore::connect(url).await?;
            store.migrate().await?;
            Arc::new(store)
        }
        #[cfg(feature = "postgres")]
        Some(Backend::Postgres) => {
            let store = promptdb_store_postgres::PostgresStore::connect_with(
                url,
                &settings.postgres.options(),
            )
            .await?;
            store.migrate().await?;
            Arc::new(store)
        }
        #[allow(unreachable_patterns)]
        Some(backend) => {
            return Err(Error::invalid(
                "database_url",
                format!(
                    "this build of PromptDB has no {} support (cargo feature `{}`)",
                    backend.name(),
                    backend.feature()
                ),
            ));
        }
        None => {
            return Err(Error::invalid(
                "database_url",
                format!(
                    "unsupported database URL {}; use sqlite://path or postgres://…",
                    redact_url(url)
                ),
            ));
        }
    };
    Ok(with_prompt_cache(store, cache_ttl))
}

/// `store` behind the prompt cache the server uses (`cache_ttl` long; none when it is zero).
pub fn with_prompt_cache(store: Arc<dyn Store>, cache_ttl: Duration) -> Arc<dyn Store> {
    if cache_ttl.is_zero() {
        store
    } else {
        Arc::new(CachedStore::new(store, cache_ttl, 10_000))
    }
}

/// The backends a URL can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend `url` names, if any.
    pub(crate) fn of(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }

    /// For people.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }

    /// The cargo feature that brings it.
    pub(crate) fn feature(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// Whether this build can open it.
    pub(crate) fn available(self) -> bool {
        match self {
            Self::Sqlite => cfg!(feature = "sqlite"),
            Self::Postgres => cfg!(feature = "postgres"),
        }
    }
}

/// Creates the directory a `sqlite://path` URL's file lives in.
#[cfg(feature = "sqlite")]
fn create_parent_dir(url: &str) -> Result<(), Error> {
    if let Some(path) = url.strip_prefix("sqlite://")
        && let Some(dir) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::invalid(
                "database_url",
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
    }
    Ok(())
}
