//! `promptdb serve`, `promptdb stdio`, `promptdb migrate`, `promptdb backup`, `promptdb restore`.

use std::{process::ExitCode, sync::Arc, time::Duration};

use super::ServeArgs;
use crate::{AppState, LogFormat, Settings, redact_url};

fn init_tracing(format: LogFormat) {
    // Logs go to stderr: stdout belongs to the MCP protocol under `stdio`.
    // Colours only for a person at a terminal: not in files, pipes or a service's journal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    crate::telemetry::init_tracing(format, ansi);
}

/// A future that completes on Ctrl-C or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled, so a signal that arrives right after start-up
/// still shuts down gracefully.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(term) => {},
                () = wait(int) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg_attr(not(feature = "conformance"), allow(unused_variables))]
pub(super) async fn serve(settings: Settings, args: ServeArgs) -> ExitCode {
    init_tracing(settings.log_format);
    #[cfg(feature = "conformance")]
    let conformance_test_mode = args.conformance_test_mode;
    #[cfg(not(feature = "conformance"))]
    let conformance_test_mode = false;
    match serve_inner(settings, conformance_test_mode).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Connections the kernel may hold for us before we accept them. Tokio's default (1,024) is
/// shorter than a burst of 2,000 clients connecting at once: the connections past it lose their
/// SYN and retry after a second, which was the whole 1.4 s tail at 2,000 connections. The kernel
/// caps this at `net.core.somaxconn` (4,096 on current kernels).
const LISTEN_BACKLOG: u32 = 8192;

/// Binds `addr` with [`LISTEN_BACKLOG`] (and `SO_REUSEADDR`, as the standard library does on Unix).
fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

#[cfg_attr(not(feature = "conformance"), allow(unused_variables))]
async fn serve_inner(settings: Settings, conformance_test_mode: bool) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let local = settings.auth.mode == crate::AuthMode::Local;
    if conformance_test_mode && !(local && settings.bind.ip().is_loopback()) {
        anyhow::bail!(
            "--conformance-test-mode lets anyone act as the local user: it runs only in local mode (auth.mode = \"local\") on a loopback address"
        );
    }
    let db = crate::open_db(&settings).await?;
    let (user, new_key) = if local {
        let (user, key) = db.local_user().await?;
        (Some(user), key)
    } else {
        (None, None)
    };
    #[cfg_attr(not(feature = "conformance"), allow(unused_mut))]
    let mut state = AppState::connect(db, settings.clone()).await?;
    let listener = listen(settings.bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
    let addr = listener.local_addr()?;
    if let Some(key) = new_key {
        eprintln!(
            "\nPromptDB created your API key. It is shown only this once; keep it somewhere safe:\n\n    {}\n\nUse it as `Authorization: Bearer <key>`. Lost it? `promptdb keys create <name>` makes another.\n",
            key.secret
        );
    }
    if !addr.ip().is_loopback() && local {
        tracing::warn!(%addr, "listening beyond loopback: anyone who can reach this address and holds a key can use it");
    }
    #[cfg(feature = "conformance")]
    if conformance_test_mode && let Some(user) = &user {
        tracing::warn!("conformance test mode: unauthenticated requests act as the local user");
        state.anonymous = Some(promptdb_core::Principal::full(user.id));
    }
    tracing::info!(
        url = %format!("http://{addr}"),
        mcp = %format!("http://{addr}/mcp"),
        database = %redact_url(&settings.database_url()),
        "PromptDB listening"
    );
    if let Some(user) = &user {
        let base = browser_base(addr);
        match state.db.sign_in_token(user.id).await {
            Ok(token) => eprintln!(
                "Open PromptDB in your browser (this link signs you in once, within ten minutes):\n\n    {base}/auth/link?token={token}\n"
            ),
            Err(e) => tracing::warn!(error = %e, "could not make a sign-in link"),
        }
    }
    // Lets tests and scripts learn the port when binding port 0.
    println!("listening on http://{addr}");
    crate::serve(state, listener, shutdown).await?;
    Ok(())
}

#[cfg(feature = "stdio")]
pub(super) async fn stdio(settings: Settings) -> ExitCode {
    use rmcp::ServiceExt;
    init_tracing(settings.log_format);
    let run = async {
        let db = crate::open_db(&settings).await?;
        let (user, _) = db.local_user().await?;
        let factory = crate::mcp::McpFactory::new(
            db,
            Some(promptdb_core::Principal::full(user.id).with_actor("stdio")),
        );
        let running = factory
            .server()
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| anyhow::anyhow!("MCP handshake failed: {e}"))?;
        running.waiting().await?;
        anyhow::Ok(())
    };
    match run.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The URL a browser on this machine reaches a server listening on `addr` at.
pub(super) fn browser_base(addr: std::net::SocketAddr) -> String {
    let ip = addr.ip();
    let host = if ip.is_unspecified() {
        "127.0.0.1".to_owned()
    } else if ip.is_ipv6() {
        format!("[{ip}]")
    } else {
        ip.to_string()
    };
    format!("http://{host}:{}", addr.port())
}

/// `promptdb open`: a fresh sign-in link for the local user, opened in the browser.
pub(super) async fn open(settings: Settings, url: Option<String>, print_only: bool) -> ExitCode {
    let run = async {
        let store = crate::open_store(&settings.database_url(), &settings, Duration::ZERO).await?;
        let db = promptdb_core::PromptDb::with_config(store, settings.core.clone())?;
        let (user, _) = db.local_user().await?;
        let token = db.sign_in_token(user.id).await?;
        let base = url
            .map(|u| u.trim_end_matches('/').to_owned())
            .or_else(|| settings.auth.public_url().map(str::to_owned))
            .unwrap_or_else(|| browser_base(settings.bind));
        anyhow::Ok(format!("{base}/auth/link?token={token}"))
    };
    let link = match run.await {
        Ok(link) => link,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(7);
        }
    };
    println!("{link}");
    if !print_only {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else if cfg!(windows) {
            "explorer"
        } else {
            "xdg-open"
        };
        match std::process::Command::new(opener)
            .arg(&link)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            Ok(_) => {
                eprintln!("Opened your browser; the link signs you in once, within ten minutes.")
            }
            Err(_) => eprintln!(
                "Open the link above in your browser (it works once, within ten minutes)."
            ),
        }
    }
    ExitCode::SUCCESS
}

pub(super) async fn migrate(settings: Settings) -> ExitCode {
    init_tracing(settings.log_format);
    let url = settings.database_url();
    match crate::open_store(&url, &settings, Duration::ZERO).await {
        Ok(store) => {
            let _: Arc<dyn promptdb_core::Store> = store;
            eprintln!("Database {} is up to date.", redact_url(&url));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot migrate {}: {e}", redact_url(&url));
            ExitCode::from(7)
        }
    }
}

/// The SQLite file of the configured database, or a message for the user.
#[cfg(feature = "sqlite")]
fn sqlite_file(settings: &Settings, what: &str) -> Result<std::path::PathBuf, String> {
    let url = settings.database_url();
    if !url.starts_with("sqlite:") {
        return Err(format!(
            "{what} works on the SQLite database; for PostgreSQL use pg_dump and pg_restore (see the README)"
        ));
    }
    match promptdb_store_sqlite::file_of(&url) {
        Ok(Some(path)) => Ok(path),
        Ok(None) => Err(format!("an in-memory database has nothing to {what}")),
        Err(e) => Err(e.to_string()),
    }
}

/// `promptdb backup FILE`.
#[cfg(feature = "sqlite")]
pub(super) async fn backup(settings: Settings, file: &std::path::Path) -> ExitCode {
    let db = match sqlite_file(&settings, "backup") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !db.is_file() {
        eprintln!("error: there is no database at {}", db.display());
        return ExitCode::from(7);
    }
    let result = async {
        let store = promptdb_store_sqlite::SqliteStore::connect(&settings.database_url()).await?;
        let done = store.backup_to(file).await;
        store.close().await;
        done
    }
    .await;
    match result {
        Ok(()) => {
            let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            eprintln!(
                "Backed up {} to {} ({} KiB).",
                db.display(),
                file.display(),
                size.div_ceil(1024)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot back up {}: {e}", db.display());
            ExitCode::from(7)
        }
    }
}

/// `promptdb restore FILE`.
#[cfg(feature = "sqlite")]
pub(super) async fn restore(settings: Settings, file: &std::path::Path) -> ExitCode {
    let db = match sqlite_file(&settings, "restore") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // A server still running on the database would go on writing to the file moved aside.
    let mut probe = settings.bind;
    if probe.ip().is_unspecified() {
        probe.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    if std::net::TcpStream::connect_timeout(&probe, Duration::from_millis(500)).is_ok() {
        eprintln!("error: something answers on {probe}: stop the PromptDB server before restoring");
        return ExitCode::from(2);
    }
    match promptdb_store_sqlite::restore(file, &db).await {
        Ok(r) => {
            eprintln!(
                "Restored {} ({} prompts) from {}.",
                db.display(),
                r.prompts,
                file.display()
            );
            if let Some(previous) = r.previous {
                eprintln!(
                    "The database it replaced is kept as {}.",
                    previous.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot restore: {e}");
            ExitCode::from(7)
        }
    }
}
