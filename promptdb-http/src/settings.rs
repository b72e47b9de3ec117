//! Server settings: a serde struct with defaults. Binaries read it from an optional TOML file and
//! the environment; loading has no side effects.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, with the request span's fields (trace id, route).
    Json,
}

/// Everything `promptdb serve` can be told.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on. Loopback by default: exposing PromptDB is a deliberate choice.
    pub bind: SocketAddr,
    /// `sqlite://path` or `postgres://…`; the SQLite file in `data_dir` when absent.
    pub database_url: Option<String>,
    /// Where the default SQLite database lives; the platform data directory when absent
    /// (`~/.local/share/promptdb` on Linux).
    pub data_dir: Option<PathBuf>,
    /// `Host` header values the MCP endpoint accepts (DNS-rebinding protection). Loopback names
    /// by default; add the public host name when running behind a proxy; `["*"]` accepts any.
    pub mcp_allowed_hosts: Vec<String>,
    /// REST requests taking longer than this are cut off, in seconds.
    pub request_timeout_secs: u64,
    /// How often expired drafts are swept, in seconds.
    pub draft_sweep_interval_secs: u64,
    /// How long a prompt read by slug is served from memory, in seconds (0 disables the cache).
    /// Writes through this server are seen at once; writes by other processes after this long.
    pub prompt_cache_ttl_secs: u64,
    /// Log format.
    pub log_format: LogFormat,
    /// Service settings: ranking weights, search bounds, draft lifetime.
    pub core: promptdb_core::Config,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5001),
            database_url: None,
            data_dir: None,
            mcp_allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            request_timeout_secs: 30,
            draft_sweep_interval_secs: 600,
            prompt_cache_ttl_secs: 5,
            log_format: LogFormat::Text,
            core: promptdb_core::Config::default(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("data_dir", &self.data_dir)
            .field("mcp_allowed_hosts", &self.mcp_allowed_hosts)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("draft_sweep_interval_secs", &self.draft_sweep_interval_secs)
            .field("prompt_cache_ttl_secs", &self.prompt_cache_ttl_secs)
            .field("log_format", &self.log_format)
            .field("core", &self.core)
            .finish()
    }
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl Settings {
    /// Settings from a TOML file (missing keys keep their defaults).
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read settings file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("settings file {}: {e}", path.display()))
    }

    /// The data directory in effect.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir().join("promptdb.sqlite3").display()
            )
        })
    }

    /// Checks the settings, naming the one at fault.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.core
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid setting core.{e}"))?;
        if self.request_timeout_secs == 0 {
            anyhow::bail!("invalid setting request_timeout_secs: must be at least 1");
        }
        if self.draft_sweep_interval_secs == 0 {
            anyhow::bail!("invalid setting draft_sweep_interval_secs: must be at least 1");
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            anyhow::bail!(
                "invalid setting database_url: expected sqlite://path or postgres://…, got {}",
                redact_url(url)
            );
        }
        Ok(())
    }
}

/// The platform data directory for PromptDB.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("promptdb")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bind_loopback_and_redact_secrets() {
        let s = Settings::default();
        assert!(s.bind.ip().is_loopback());
        assert_eq!(s.bind.port(), 5001);
        assert!(s.database_url().starts_with("sqlite://"));
        let s = Settings {
            database_url: Some("postgres://app:hunter2@db/promptdb".into()),
            ..Settings::default()
        };
        let debug = format!("{s:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("postgres://app:***@db/promptdb"));
    }

    #[test]
    fn files_override_defaults_and_reject_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("promptdb.toml");
        std::fs::write(
            &path,
            "bind = \"0.0.0.0:8080\"\n[core.ranking]\nusage = 2.0\n",
        )
        .unwrap();
        let s = Settings::from_file(&path).unwrap();
        assert_eq!(s.bind.port(), 8080);
        assert_eq!(s.core.ranking.usage, 2.0);
        assert_eq!(s.core.ranking.favorite, 2.0, "unset keys keep defaults");
        std::fs::write(&path, "bnd = \"x\"\n").unwrap();
        let err = Settings::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("bnd"), "{err}");
        let bad = Settings {
            database_url: Some("mysql://x".into()),
            ..Settings::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("database_url")
        );
    }
}
