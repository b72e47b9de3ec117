//! Test support (feature `testing`). PostgreSQL for the tests: `PROMPTDB_TEST_DATABASE_URL` (an admin connection) when set, else a
//! throwaway cluster started by this process (`initdb` + `postgres` on a temp dir and a free
//! port). Each test gets its own database, owned by an ordinary role — not a superuser, no
//! BYPASSRLS — so row-level security applies to what the store does. When no PostgreSQL can be
//! had the tests fail; they never skip.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    str::FromStr,
    sync::OnceLock,
    time::{Duration, Instant},
};

use crate::PostgresStore;
use sqlx::{ConnectOptions, Connection, postgres::PgConnectOptions};

/// The ordinary role the stores under test connect as.
pub const APP_ROLE: &str = "promptdb_test_app";

/// Where the PostgreSQL binaries are: the newest `/usr/lib/postgresql/*/bin`, else `PATH`.
fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions
        .into_iter()
        .rev()
        .map(|dir| dir.join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `cmd args…`, as the `postgres` user when we are root (PostgreSQL refuses to run as root).
fn as_pg_user(program: PathBuf) -> Command {
    if is_root() {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--clear-groups",
            "--",
        ])
        .arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A throwaway cluster owned by this process.
#[derive(Debug)]
pub struct Cluster {
    dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
    watchdog: Option<Child>,
}

impl Cluster {
    /// `initdb` a new cluster and start it.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("promptdb-pg-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        if is_root() {
            let status = Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(dir.path())
                .status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "cannot hand the temp dir to the postgres user"
            );
        }
        let out = as_pg_user(pg_bin("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ])
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run initdb ({e}); install PostgreSQL or set PROMPTDB_TEST_DATABASE_URL"
                )
            });
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut cluster = Self {
            dir,
            port: free_port(),
            watchdog: None,
        };
        cluster.start_server();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts `postgres` under a watchdog shell that stops it when this process goes away.
    fn start_server(&mut self) {
        let postgres = pg_bin("postgres");
        let mut launch = as_pg_user(postgres);
        launch.arg("-D").arg(self.data()).args([
            "-p",
            &self.port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            &format!("unix_socket_directories={}", self.dir.path().display()),
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ]);
        let program = format!("{:?}", launch.get_program());
        let args: Vec<String> = launch
            .get_args()
            .map(|a| format!("'{}'", a.to_string_lossy()))
            .collect();
        let script = format!(
            "{} {} >{}/log 2>&1 & pg=$!; while kill -0 {} 2>/dev/null && kill -0 $pg 2>/dev/null; do sleep 0.2; done; kill -INT $pg 2>/dev/null; wait $pg",
            program.trim_matches('"'),
            args.join(" "),
            self.dir.path().display(),
            std::process::id()
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .spawn()
            .expect("start postgres");
        self.watchdog = Some(child);
        self.wait_until_ready();
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(pg_bin("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", "1"])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the throwaway PostgreSQL did not start: {}",
                std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The superuser URL.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn postmaster_pid(&self) -> Option<String> {
        std::fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned))
    }

    /// Stops the server (fast shutdown) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(pid) = self.postmaster_pid() {
            let _ = Command::new("kill").args(["-INT", &pid]).status();
        }
        if let Some(mut child) = self.watchdog.take() {
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data.
    pub fn restart(&mut self) {
        self.start_server();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The admin URL every test of this process uses.
pub fn admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("PROMPTDB_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => CLUSTER.get_or_init(Cluster::start).admin_url(),
    })
}

/// The same URL for another database and user.
pub fn url_for(admin: &str, database: &str, user: &str) -> String {
    let options = PgConnectOptions::from_str(admin).expect("admin URL");
    options
        .database(database)
        .username(user)
        .to_url_lossy()
        .to_string()
}

/// A fresh database owned by [`APP_ROLE`]; dropped when the guard goes.
#[derive(Debug)]
pub struct TestDatabase {
    /// Its name.
    pub name: String,
    /// A URL connecting as [`APP_ROLE`].
    pub url: String,
    admin: String,
}

impl TestDatabase {
    /// Creates a database on [`admin_url`]'s server.
    pub async fn create() -> Self {
        Self::create_on(admin_url()).await
    }

    /// Creates a database on the server of `admin` (a superuser URL).
    pub async fn create_on(admin: &str) -> Self {
        let admin = admin.to_owned();
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {admin}: {e}"));
        // Concurrent test processes may race to create the role: take a lock first.
        sqlx::query("SELECT pg_advisory_lock(4242)")
            .execute(&mut conn)
            .await
            .unwrap();
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                .bind(APP_ROLE)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        if !exists {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
        }
        sqlx::query("SELECT pg_advisory_unlock(4242)")
            .execute(&mut conn)
            .await
            .unwrap();
        let name = format!("promptdb_test_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} OWNER {APP_ROLE} TEMPLATE template0 ENCODING 'UTF8'"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        let url = url_for(&admin, &name, APP_ROLE);
        Self { name, url, admin }
    }

    /// A migrated store connected as the ordinary role.
    pub async fn store(&self) -> PostgresStore {
        let store = PostgresStore::connect(&self.url)
            .await
            .expect("connect as the app role");
        store.migrate().await.expect("migrate");
        store
    }

    /// A connection to this database as the admin (superuser) role.
    pub async fn admin_connection(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&url_for(&self.admin, &self.name, &admin_user(&self.admin)))
            .await
            .expect("admin connection")
    }

    /// A connection to this database as the ordinary role.
    pub async fn app_connection(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url)
            .await
            .expect("app connection")
    }
}

fn admin_user(admin: &str) -> String {
    PgConnectOptions::from_str(admin)
        .map(|o| o.get_username().to_owned())
        .unwrap_or_else(|_| "postgres".into())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop is synchronous; the database is dropped from a short-lived runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}
