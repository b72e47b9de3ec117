//! Test support (feature `testing`): the real `promptdb` binary serving on a free loopback port
//! with a throwaway data directory. Readiness is the binary's own `listening on …` line, never a
//! sleep.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

/// A running `promptdb serve`. Killed on drop.
#[derive(Debug)]
pub struct ServerProcess {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The API key the server printed on first start.
    pub api_key: String,
    /// The data directory (SQLite database).
    pub data_dir: PathBuf,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    _dir: Option<tempfile::TempDir>,
}

impl ServerProcess {
    /// Starts `bin serve` on a fresh data directory, with `extra` arguments after `serve`.
    pub fn start(bin: &Path, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().to_owned();
        let mut me = Self::start_in(bin, &data_dir, extra);
        me._dir = Some(dir);
        me
    }

    /// Starts `bin serve` on `data_dir` (kept after the process ends).
    pub fn start_in(bin: &Path, data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with(bin, data_dir, "127.0.0.1:0", extra, &[])
    }

    /// Starts `bin serve` on `data_dir`, listening on `bind`, with `extra` arguments and extra
    /// environment variables. In `oidc` mode (`PROMPTDB_AUTH_MODE=oidc`) no key is printed and
    /// `api_key` stays empty.
    pub fn start_with(
        bin: &Path,
        data_dir: &Path,
        bind: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let local = !env
            .iter()
            .any(|(k, v)| *k == "PROMPTDB_AUTH_MODE" && *v == "oidc");
        let mut child = Command::new(bin)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--bind", bind])
            .args(extra)
            .env("RUST_LOG", "info")
            .env_remove("PROMPTDB_URL")
            .env_remove("PROMPTDB_API_KEY")
            .env_remove("PROMPTDB_DATABASE_URL")
            .env_remove("PROMPTDB_AUTH_MODE")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (key_tx, key_rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.trim_start().starts_with("pdb_")
                    && let Some(i) = line.find("pdb_")
                {
                    let key: String = line[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    let _ = key_tx.send(Some(key));
                } else if line.contains("PromptDB listening") {
                    // Logged after the key, which is printed only on first start: no key by now
                    // means none is coming.
                    let _ = key_tx.send(None);
                }
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let url = loop {
            line.clear();
            let n = stdout.read_line(&mut line).expect("read stdout");
            if n == 0 {
                let _ = child.wait();
                panic!(
                    "promptdb serve exited before listening:\n{}",
                    log.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .join("\n")
                );
            }
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                break url.to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in stdout.lines() {});
        let api_key = if local {
            key_rx
                .recv_timeout(Duration::from_secs(10))
                .ok()
                .flatten()
                .unwrap_or_default()
        } else {
            String::new()
        };
        Self {
            url,
            api_key,
            data_dir: data_dir.to_owned(),
            child,
            log,
            _dir: None,
        }
    }

    /// The MCP endpoint.
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.url)
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .join("\n")
    }

    /// Kills the server without warning (SIGKILL on Unix) and waits for it to be gone.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server with SIGTERM-like shutdown (kill on non-Unix) and waits for it.
    pub fn stop(mut self) -> std::process::ExitStatus {
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
        }
        #[cfg(not(unix))]
        {
            let _ = self.child.kill();
        }
        self.child.wait().expect("wait for server")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
