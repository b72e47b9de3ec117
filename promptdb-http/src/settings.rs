//! Server settings: a serde struct with defaults. Binaries read it from an optional TOML file and
//! the environment; loading has no side effects.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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
    /// PostgreSQL connection pool (used with a `postgres://` database URL).
    pub postgres: PostgresSettings,
    /// Who may call, and how often.
    pub auth: AuthSettings,
    /// How webhooks are delivered.
    pub webhooks: WebhookSettings,
}

/// Webhook delivery (`promptdb serve` delivers; see the README).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Waits before each retry of a failed delivery, in seconds; when every retry has failed the
    /// hook is disabled. 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default.
    pub retry_secs: Vec<u64>,
    /// How long a receiver has to answer, in seconds.
    pub timeout_secs: u64,
    /// Whether deliveries may go to loopback, private and link-local addresses. Allowed in
    /// `local` auth mode (one user on their own machine), refused in `oidc` mode unless set:
    /// users of a shared server must not reach the server's own network through it.
    pub allow_private_addresses: Option<bool>,
    /// Hooks delivered to at once by one server.
    pub concurrency: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            retry_secs: promptdb_core::webhook::WebhookPolicy::default()
                .retry_after
                .iter()
                .map(std::time::Duration::as_secs)
                .collect(),
            timeout_secs: 10,
            allow_private_addresses: None,
            concurrency: 8,
        }
    }
}

impl WebhookSettings {
    /// The retry policy.
    pub fn policy(&self) -> promptdb_core::webhook::WebhookPolicy {
        promptdb_core::webhook::WebhookPolicy {
            retry_after: self
                .retry_secs
                .iter()
                .map(|s| std::time::Duration::from_secs(*s))
                .collect(),
        }
    }

    /// Checks the settings, naming the one at fault.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.retry_secs.len() > 20 || self.retry_secs.iter().any(|s| *s > 7 * 24 * 3600) {
            anyhow::bail!(
                "invalid setting webhooks.retry_secs: at most 20 waits, each at most a week"
            );
        }
        if !(1..=60).contains(&self.timeout_secs) {
            anyhow::bail!("invalid setting webhooks.timeout_secs: between 1 and 60 seconds");
        }
        if !(1..=64).contains(&self.concurrency) {
            anyhow::bail!("invalid setting webhooks.concurrency: between 1 and 64");
        }
        Ok(())
    }
}

/// PostgreSQL pool settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresSettings {
    /// Most connections per server process.
    pub max_connections: u32,
    /// How long a request waits for a connection before failing with 503, in milliseconds.
    pub acquire_timeout_ms: u64,
    /// Longest a statement may run, in milliseconds.
    pub statement_timeout_ms: u64,
}

impl Default for PostgresSettings {
    /// The same as `promptdb_store_postgres::PostgresOptions::default()` (a test checks).
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout_ms: 3_000,
            statement_timeout_ms: 5_000,
        }
    }
}

#[cfg(feature = "postgres")]
impl PostgresSettings {
    /// As store options.
    pub fn options(&self) -> promptdb_store_postgres::PostgresOptions {
        promptdb_store_postgres::PostgresOptions {
            max_connections: self.max_connections,
            acquire_timeout: std::time::Duration::from_millis(self.acquire_timeout_ms),
            statement_timeout: std::time::Duration::from_millis(self.statement_timeout_ms),
        }
    }
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
            postgres: PostgresSettings::default(),
            auth: AuthSettings::default(),
            webhooks: WebhookSettings::default(),
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
            .field("postgres", &self.postgres)
            .field("auth", &self.auth)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}

/// `scheme://user:secret@host/db?password=x` → `scheme://user:***@host/db?password=***`: the
/// password in the user info (which ends at the authority's last `@`, as URL parsers read it, so
/// a password holding `@` is hidden whole) and query parameters named like secrets (libpq's
/// `password`, `sslpassword`, tokens).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let mut out = format!("{scheme}://");
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => out.push_str(&format!("{user}:***@{host}")),
            None => out.push_str(authority),
        },
        None => out.push_str(authority),
    }
    let (before_fragment, fragment) = match tail.split_once('#') {
        Some((t, f)) => (t, Some(f)),
        None => (tail, None),
    };
    match before_fragment.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((key, _)) if is_secret_key(key) => {
                        out.push_str(key);
                        out.push_str("=***");
                    }
                    _ => out.push_str(pair),
                }
            }
        }
        None => out.push_str(before_fragment),
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "key"]
        .iter()
        .any(|w| key.contains(w))
        && key != "sslkey"
}

impl Settings {
    /// Settings from a TOML file (missing keys keep their defaults).
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read settings file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("settings file {}: {e}", path.display()))
    }

    /// Settings as a binary starts with them: the TOML file `file` names (else the one
    /// `PROMPTDB_CONFIG` names, if any), then every `PROMPTDB_*` environment variable over it
    /// (see the README's settings table). `get` reads one variable; empty values count as unset.
    /// Command-line flags, where a binary has them, go on top. The one place both binaries
    /// (`promptdb`, `promptdb-lambda`) read their settings.
    pub fn load(file: Option<&Path>, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let from_env = var("PROMPTDB_CONFIG").map(PathBuf::from);
        let mut settings = match file.or(from_env.as_deref()) {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        settings.apply_env(var)?;
        Ok(settings)
    }

    /// Applies the `PROMPTDB_*` environment variables; `var` reads one (trimmed, `None` when
    /// unset or empty).
    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        if let Some(v) = var("PROMPTDB_BIND") {
            self.bind = v.parse().map_err(|e| {
                anyhow::anyhow!("invalid setting PROMPTDB_BIND: `{v}` is not an address ({e})")
            })?;
        }
        if let Some(v) = var("PROMPTDB_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = var("PROMPTDB_DATA_DIR") {
            self.data_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = var("PROMPTDB_MCP_ALLOWED_HOSTS") {
            self.mcp_allowed_hosts.extend(list(v));
        }
        if let Some(v) = var("PROMPTDB_LOG_FORMAT") {
            self.log_format = match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => anyhow::bail!(
                    "invalid setting PROMPTDB_LOG_FORMAT: `{other}`; expected `text` or `json`"
                ),
            };
        }
        if let Some(v) = var("PROMPTDB_AUTH_MODE") {
            self.auth.mode = match v.as_str() {
                "local" => AuthMode::Local,
                "oidc" => AuthMode::Oidc,
                other => anyhow::bail!(
                    "invalid setting PROMPTDB_AUTH_MODE: `{other}`; expected `local` or `oidc`"
                ),
            };
        }
        if let Some(v) = var("PROMPTDB_PUBLIC_URL") {
            self.auth.public_url = Some(v);
        }
        if let Some(v) = var("PROMPTDB_OIDC_ISSUER") {
            self.auth.oidc.issuer = Some(v);
        }
        if let Some(v) = var("PROMPTDB_OIDC_AUDIENCES") {
            self.auth.oidc.audiences = list(v);
        }
        if let Some(v) = var("PROMPTDB_OIDC_CLIENT_ID") {
            self.auth.oidc.client_id = Some(v);
        }
        if let Some(v) = var("PROMPTDB_OIDC_CLIENT_SECRET") {
            self.auth.oidc.client_secret = Some(v);
        }
        if let Some(v) = var("PROMPTDB_RATE_LIMIT") {
            self.auth.rate_limit.enabled = match v.as_str() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                other => anyhow::bail!(
                    "invalid setting PROMPTDB_RATE_LIMIT: `{other}`; expected `on` or `off`"
                ),
            };
        }
        if let Some(v) = var("PROMPTDB_WEBHOOK_RETRY_SECS") {
            self.webhooks.retry_secs = list(v)
                .iter()
                .map(|s| s.parse::<u64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    anyhow::anyhow!(
                        "invalid setting PROMPTDB_WEBHOOK_RETRY_SECS: expected seconds separated by commas (`5,300,1800`)"
                    )
                })?;
        }
        if let Some(v) = var("PROMPTDB_WEBHOOK_TIMEOUT_SECS") {
            self.webhooks.timeout_secs = v.parse().map_err(|_| {
                anyhow::anyhow!("invalid setting PROMPTDB_WEBHOOK_TIMEOUT_SECS: `{v}` is not a number of seconds")
            })?;
        }
        if let Some(v) = var("PROMPTDB_WEBHOOK_ALLOW_PRIVATE") {
            self.webhooks.allow_private_addresses = Some(match v.as_str() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                other => anyhow::bail!(
                    "invalid setting PROMPTDB_WEBHOOK_ALLOW_PRIVATE: `{other}`; expected `on` or `off`"
                ),
            });
        }
        if let Some(v) = var("PROMPTDB_TRUST_FORWARDED_FOR") {
            self.auth.rate_limit.trust_forwarded_for = matches!(v.as_str(), "on" | "true" | "1");
        }
        Ok(())
    }

    /// Whether webhook deliveries may go to loopback and private addresses (see
    /// [`WebhookSettings::allow_private_addresses`]).
    pub fn webhooks_allow_private(&self) -> bool {
        self.webhooks
            .allow_private_addresses
            .unwrap_or(self.auth.mode == AuthMode::Local)
    }

    /// The `Host` values `/mcp` accepts: the configured ones and the public URL's host.
    pub fn mcp_hosts(&self) -> Vec<String> {
        let mut hosts = self.mcp_allowed_hosts.clone();
        if let Some(host) = self
            .auth
            .public_url()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_owned))
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
        hosts
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
        if self.postgres.max_connections == 0
            || self.postgres.acquire_timeout_ms == 0
            || self.postgres.statement_timeout_ms == 0
        {
            anyhow::bail!(
                "invalid setting postgres: max_connections, acquire_timeout_ms and statement_timeout_ms must be at least 1"
            );
        }
        if self.draft_sweep_interval_secs == 0 {
            anyhow::bail!("invalid setting draft_sweep_interval_secs: must be at least 1");
        }
        self.auth.validate()?;
        self.webhooks.validate()?;
        match self
            .database_url
            .as_deref()
            .map(|u| (u, crate::store::Backend::of(u)))
        {
            Some((url, None)) => anyhow::bail!(
                "invalid setting database_url: expected sqlite://path or postgres://…, got {}",
                redact_url(url)
            ),
            Some((_, Some(backend))) if !backend.available() => anyhow::bail!(
                "invalid setting database_url: this build of PromptDB has no {} support (cargo feature `{}`)",
                backend.name(),
                backend.feature()
            ),
            None if !cfg!(feature = "sqlite") => anyhow::bail!(
                "invalid setting database_url: required (this build has no embedded SQLite default)"
            ),
            _ => {}
        }
        if self.auth.mode == AuthMode::Oidc && !cfg!(feature = "oidc") {
            anyhow::bail!(
                "invalid setting auth.mode: this build of PromptDB has no OpenID Connect support (cargo feature `oidc`)"
            );
        }
        Ok(())
    }
}

/// How callers sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// One user, API keys only; the first start creates a key and prints it once.
    #[default]
    Local,
    /// Users sign in through an OpenID Connect provider (browser) or present its access tokens
    /// (MCP clients); API keys keep working for the CLI and scripts.
    Oidc,
}

/// Authentication and abuse limits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// `local` (default) or `oidc`.
    pub mode: AuthMode,
    /// The URL clients reach this server at (`https://prompts.example.com`). Required in `oidc`
    /// mode: it identifies this server as an OAuth protected resource and gives the login its
    /// callback address (`<public_url>/auth/callback`).
    pub public_url: Option<String>,
    /// The OpenID Connect provider (`oidc` mode).
    pub oidc: OidcSettings,
    /// Request rate limits.
    pub rate_limit: RateLimitSettings,
}

/// The OpenID Connect provider and how its tokens are checked.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcSettings {
    /// The provider's issuer URL, exactly as its tokens name it.
    pub issuer: Option<String>,
    /// Audiences an access token may name; one must match (RFC 8707). Defaults to the public
    /// URL and the public URL of the MCP endpoint.
    pub audiences: Vec<String>,
    /// Client id for the browser login. Without it only bearer tokens are accepted.
    pub client_id: Option<String>,
    /// Client secret for the browser login (a public client with PKCE when absent).
    pub client_secret: Option<String>,
    /// Signature algorithms accepted. Only asymmetric ones may be listed.
    pub algorithms: Vec<String>,
    /// The scope that grants reading.
    pub read_scope: String,
    /// The scope that grants writing (and reading).
    pub write_scope: String,
    /// The scope that grants moving protected labels (releasing to `production`).
    pub release_scope: String,
    /// Tolerated clock difference with the provider, in seconds.
    pub clock_skew_secs: u64,
    /// How long the provider's signing keys are kept before they are fetched again, in seconds.
    pub jwks_ttl_secs: u64,
    /// A token signed with an unknown key makes the server fetch the keys again, but not more
    /// often than this, in seconds.
    pub jwks_refresh_min_interval_secs: u64,
    /// How long before the provider's tokens expire a browser session is refreshed, in seconds.
    pub refresh_margin_secs: u64,
    /// Timeout of every request to the provider, in milliseconds.
    pub http_timeout_ms: u64,
}

/// Algorithms a signature may use; HMAC and `none` never.
pub const ASYMMETRIC_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            issuer: None,
            audiences: Vec::new(),
            client_id: None,
            client_secret: None,
            algorithms: vec![
                "RS256".into(),
                "PS256".into(),
                "ES256".into(),
                "EdDSA".into(),
            ],
            read_scope: "promptdb:read".into(),
            write_scope: "promptdb:write".into(),
            release_scope: "promptdb:release".into(),
            clock_skew_secs: 30,
            jwks_ttl_secs: 3_600,
            jwks_refresh_min_interval_secs: 10,
            refresh_margin_secs: 60,
            http_timeout_ms: 5_000,
        }
    }
}

impl fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("algorithms", &self.algorithms)
            .field("read_scope", &self.read_scope)
            .field("write_scope", &self.write_scope)
            .field("release_scope", &self.release_scope)
            .field("clock_skew_secs", &self.clock_skew_secs)
            .field("jwks_ttl_secs", &self.jwks_ttl_secs)
            .field(
                "jwks_refresh_min_interval_secs",
                &self.jwks_refresh_min_interval_secs,
            )
            .field("refresh_margin_secs", &self.refresh_margin_secs)
            .field("http_timeout_ms", &self.http_timeout_ms)
            .finish()
    }
}

/// Token-bucket request limits. A bucket holds `burst` requests and refills at `per_second`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Whether limits apply at all.
    pub enabled: bool,
    /// Sustained requests per second per user.
    pub user_per_second: f64,
    /// Burst size per user.
    pub user_burst: u32,
    /// Sustained requests per second per client address.
    pub ip_per_second: f64,
    /// Burst size per client address.
    pub ip_burst: u32,
    /// Sustained login attempts and failed authentications per minute per client address.
    pub auth_per_minute: f64,
    /// Burst size of login attempts and failed authentications per client address.
    pub auth_burst: u32,
    /// Exempt loopback clients from the per-address limits (the CLI, local tools). Per-user
    /// limits still apply.
    pub exempt_loopback: bool,
    /// Take the client address from the last `X-Forwarded-For` entry. Only behind a proxy that
    /// sets it; otherwise clients could pick their own address.
    pub trust_forwarded_for: bool,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            user_per_second: 50.0,
            user_burst: 500,
            ip_per_second: 100.0,
            ip_burst: 1_000,
            auth_per_minute: 30.0,
            auth_burst: 20,
            exempt_loopback: true,
            trust_forwarded_for: false,
        }
    }
}

/// Parses a URL setting: absolute http(s), no query or fragment; plain http only for loopback.
/// Returns it without a trailing slash.
pub fn parse_service_url(setting: &str, value: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(value)
        .map_err(|e| anyhow::anyhow!("invalid setting {setting}: `{value}` is not a URL ({e})"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => anyhow::bail!(
            "invalid setting {setting}: `{value}` must use https (plain http is allowed only for localhost)"
        ),
        other => {
            anyhow::bail!("invalid setting {setting}: `{value}` has scheme {other}; use https")
        }
    }
    if url.host().is_none() {
        anyhow::bail!("invalid setting {setting}: `{value}` has no host");
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        anyhow::bail!(
            "invalid setting {setting}: `{value}` must not have a query, fragment or user name"
        );
    }
    Ok(value.trim_end_matches('/').to_owned())
}

impl AuthSettings {
    /// Checks the settings, naming the one at fault.
    pub fn validate(&self) -> anyhow::Result<()> {
        let o = &self.oidc;
        if self.mode == AuthMode::Oidc {
            let Some(public_url) = &self.public_url else {
                anyhow::bail!(
                    "invalid setting auth.public_url: required with auth.mode = \"oidc\" (the URL clients reach this server at)"
                );
            };
            parse_service_url("auth.public_url", public_url)?;
            let Some(issuer) = &o.issuer else {
                anyhow::bail!(
                    "invalid setting auth.oidc.issuer: required with auth.mode = \"oidc\" (the provider's issuer URL)"
                );
            };
            parse_service_url("auth.oidc.issuer", issuer)?;
            for aud in &o.audiences {
                if aud.trim().is_empty() {
                    anyhow::bail!("invalid setting auth.oidc.audiences: an audience is empty");
                }
            }
            if o.client_secret.is_some() && o.client_id.is_none() {
                anyhow::bail!(
                    "invalid setting auth.oidc.client_secret: given without auth.oidc.client_id"
                );
            }
        } else if let Some(public_url) = &self.public_url {
            parse_service_url("auth.public_url", public_url)?;
        }
        if o.algorithms.is_empty() {
            anyhow::bail!("invalid setting auth.oidc.algorithms: list at least one algorithm");
        }
        for alg in &o.algorithms {
            if !ASYMMETRIC_ALGORITHMS.contains(&alg.as_str()) {
                anyhow::bail!(
                    "invalid setting auth.oidc.algorithms: `{alg}` is not allowed; use asymmetric algorithms ({})",
                    ASYMMETRIC_ALGORITHMS.join(", ")
                );
            }
        }
        for (name, scope) in [
            ("auth.oidc.read_scope", &o.read_scope),
            ("auth.oidc.write_scope", &o.write_scope),
            ("auth.oidc.release_scope", &o.release_scope),
        ] {
            if scope.is_empty() || scope.contains(char::is_whitespace) {
                anyhow::bail!("invalid setting {name}: must be one word");
            }
        }
        if o.read_scope == o.write_scope {
            anyhow::bail!("invalid setting auth.oidc.write_scope: must differ from read_scope");
        }
        if o.release_scope == o.read_scope || o.release_scope == o.write_scope {
            anyhow::bail!(
                "invalid setting auth.oidc.release_scope: must differ from read_scope and write_scope"
            );
        }
        if o.jwks_ttl_secs == 0 || o.http_timeout_ms == 0 {
            anyhow::bail!(
                "invalid setting auth.oidc: jwks_ttl_secs and http_timeout_ms must be at least 1"
            );
        }
        let r = &self.rate_limit;
        if r.enabled {
            for (name, rate) in [
                ("user_per_second", r.user_per_second),
                ("ip_per_second", r.ip_per_second),
                ("auth_per_minute", r.auth_per_minute),
            ] {
                if !(rate.is_finite() && rate > 0.0) {
                    anyhow::bail!("invalid setting auth.rate_limit.{name}: must be above 0");
                }
            }
            for (name, burst) in [
                ("user_burst", r.user_burst),
                ("ip_burst", r.ip_burst),
                ("auth_burst", r.auth_burst),
            ] {
                if burst == 0 {
                    anyhow::bail!("invalid setting auth.rate_limit.{name}: must be at least 1");
                }
            }
        }
        Ok(())
    }

    /// The public URL without a trailing slash, if set.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref().map(|u| u.trim_end_matches('/'))
    }

    /// Audiences a token may name: the configured ones, or the public URL and its MCP endpoint.
    pub fn audiences(&self) -> Vec<String> {
        if !self.oidc.audiences.is_empty() {
            return self.oidc.audiences.clone();
        }
        self.public_url()
            .map(|u| vec![u.to_owned(), format!("{u}/mcp")])
            .unwrap_or_default()
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
    fn redaction_hides_passwords_with_at_signs_and_in_the_query() {
        for (url, want) in [
            (
                "postgres://app:p@ss@db:5432/x",
                "postgres://app:***@db:5432/x",
            ),
            (
                "postgres://app:a@b@c@db/x?sslmode=require",
                "postgres://app:***@db/x?sslmode=require",
            ),
            (
                "postgres://db/x?user=app&password=hunter2&sslpassword=s&sslkey=/k",
                "postgres://db/x?user=app&password=***&sslpassword=***&sslkey=/k",
            ),
            ("postgres://app@db/x", "postgres://app@db/x"),
            ("sqlite:///tmp/a@b.sqlite3", "sqlite:///tmp/a@b.sqlite3"),
            ("sqlite::memory:", "sqlite::memory:"),
            (
                "postgres://db/x?password=a#frag",
                "postgres://db/x?password=***#frag",
            ),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
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

    #[cfg(feature = "sqlite")]
    fn oidc() -> Settings {
        Settings::load(None, |name| {
            match name {
                "PROMPTDB_AUTH_MODE" => Some("oidc"),
                "PROMPTDB_PUBLIC_URL" => Some("https://prompts.example.com/"),
                "PROMPTDB_OIDC_ISSUER" => Some("https://id.example.com"),
                "PROMPTDB_OIDC_CLIENT_ID" => Some("promptdb"),
                "PROMPTDB_OIDC_CLIENT_SECRET" => Some("s3cret-value"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .unwrap()
    }

    #[cfg(feature = "sqlite")]
    fn rejection(s: &Settings) -> String {
        s.validate().unwrap_err().to_string()
    }

    // Settings validate only with a store: the embedded SQLite default.
    #[cfg(feature = "sqlite")]
    #[test]
    fn oidc_settings_come_from_the_environment_and_keep_the_secret_out_of_logs() {
        let s = oidc();
        s.validate().unwrap();
        assert_eq!(s.auth.mode, AuthMode::Oidc);
        assert_eq!(s.auth.public_url(), Some("https://prompts.example.com"));
        assert_eq!(
            s.auth.audiences(),
            [
                "https://prompts.example.com",
                "https://prompts.example.com/mcp"
            ]
        );
        assert!(!format!("{s:?}").contains("s3cret-value"));
        let err = Settings::load(None, |n| {
            (n == "PROMPTDB_AUTH_MODE").then(|| "ldap".to_owned())
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("PROMPTDB_AUTH_MODE") && err.contains("ldap"),
            "{err}"
        );
    }

    // Settings validate only with a store: the embedded SQLite default.
    #[cfg(feature = "sqlite")]
    #[test]
    fn oidc_configuration_errors_name_the_setting() {
        type Change = Box<dyn Fn(&mut Settings)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "auth.public_url: required",
                Box::new(|s| s.auth.public_url = None),
            ),
            (
                "auth.oidc.issuer: required",
                Box::new(|s| s.auth.oidc.issuer = None),
            ),
            (
                "auth.oidc.issuer: `not a url` is not a URL",
                Box::new(|s| s.auth.oidc.issuer = Some("not a url".into())),
            ),
            (
                "auth.oidc.issuer: `http://id.example.com` must use https",
                Box::new(|s| s.auth.oidc.issuer = Some("http://id.example.com".into())),
            ),
            (
                "auth.public_url: `ftp://x.example` has scheme ftp",
                Box::new(|s| s.auth.public_url = Some("ftp://x.example".into())),
            ),
            (
                "auth.oidc.audiences: an audience is empty",
                Box::new(|s| s.auth.oidc.audiences = vec![" ".into()]),
            ),
            (
                "auth.oidc.client_secret: given without auth.oidc.client_id",
                Box::new(|s| s.auth.oidc.client_id = None),
            ),
            (
                "auth.oidc.algorithms: `HS256` is not allowed",
                Box::new(|s| s.auth.oidc.algorithms = vec!["HS256".into()]),
            ),
            (
                "auth.oidc.algorithms: `none` is not allowed",
                Box::new(|s| s.auth.oidc.algorithms = vec!["none".into()]),
            ),
            (
                "auth.oidc.write_scope: must differ",
                Box::new(|s| s.auth.oidc.write_scope = s.auth.oidc.read_scope.clone()),
            ),
            (
                "auth.rate_limit.user_per_second: must be above 0",
                Box::new(|s| s.auth.rate_limit.user_per_second = 0.0),
            ),
        ];
        for (expected, change) in cases {
            let mut s = oidc();
            change(&mut s);
            let err = rejection(&s);
            assert!(err.contains(expected), "expected `{expected}` in `{err}`");
        }
        // Plain http is fine on loopback, for development and tests.
        let mut s = oidc();
        s.auth.oidc.issuer = Some("http://127.0.0.1:9000".into());
        s.auth.public_url = Some("http://localhost:5001".into());
        s.validate().unwrap();
    }
}
