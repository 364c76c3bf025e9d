//! Runtime configuration: command-line flags over `PORTCULLIS_*` environment variables, parsed
//! once at startup into typed values. Server secrets are not configuration: they are generated
//! on first run and kept in the database (see `storage::secrets`).

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use clap::{Args, Parser, ValueEnum};
use url::Url;

mod commands;
mod mail;
mod redis_url;

pub use commands::*;
pub use mail::{MailFrom, SmtpUrl};
pub use redis_url::RedisUrl;

/// `portcullis` command line.
#[derive(Debug, Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Self-hosted OAuth 2.0 authorization server and API-credential platform",
    long_about = "Self-hosted OAuth 2.0 authorization server and API-credential platform.\n\n\
                  With no subcommand, `portcullis` serves HTTP on the embedded SQLite database, \
                  applying migrations first. Every option can also be set through the \
                  PORTCULLIS_* environment variable named in its help."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "PORTCULLIS_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// Public base URL of this server, used as the OAuth issuer and in links
    /// [default: http://<bind address>].
    #[arg(long, env = "PORTCULLIS_ISSUER", global = true)]
    pub issuer: Option<Url>,

    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "PORTCULLIS_DATABASE_URL",
        default_value = "sqlite://portcullis.db?mode=rwc",
        global = true
    )]
    pub database_url: DatabaseUrl,

    /// Most database connections this server opens: its share of the database's connection
    /// budget [default: 4 on SQLite, 16 on PostgreSQL].
    #[arg(long, env = "PORTCULLIS_DATABASE_MAX_CONNECTIONS", value_parser = parse_connections, global = true)]
    pub database_max_connections: Option<u32>,

    /// Milliseconds a request waits for a database connection (opening one included) before
    /// it is answered 503 with Retry-After.
    #[arg(
        long,
        env = "PORTCULLIS_DATABASE_ACQUIRE_TIMEOUT_MS",
        default_value_t = 2000,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub database_acquire_timeout_ms: u64,

    /// Redis URL (`redis://host:6379/`): keep rate-limit buckets there instead of in the
    /// PostgreSQL database that several servers share.
    #[arg(long, env = "PORTCULLIS_REDIS_URL", global = true)]
    pub redis_url: Option<RedisUrl>,

    /// Allow anyone to create an account on the sign-up page. The first account is always
    /// allowed and becomes an administrator.
    #[arg(long, env = "PORTCULLIS_SIGNUP", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub signup: bool,

    /// Minutes of inactivity after which a browser session ends.
    #[arg(
        long,
        env = "PORTCULLIS_SESSION_IDLE_MINUTES",
        default_value_t = 120,
        global = true
    )]
    pub session_idle_minutes: u32,

    /// Hours after sign-in after which a browser session ends, active or not.
    #[arg(
        long,
        env = "PORTCULLIS_SESSION_MAX_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub session_max_hours: u32,

    /// Lifetime of access tokens, in seconds.
    #[arg(
        long,
        env = "PORTCULLIS_ACCESS_TOKEN_TTL",
        default_value_t = 3600,
        global = true
    )]
    pub access_token_ttl: u32,

    /// Lifetime of refresh tokens, in days.
    #[arg(
        long,
        env = "PORTCULLIS_REFRESH_TOKEN_TTL_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub refresh_token_ttl_days: u32,

    /// Requests per minute allowed for each credential or access token on the API.
    #[arg(
        long,
        env = "PORTCULLIS_RATE_LIMIT_PER_MINUTE",
        default_value_t = 1200,
        global = true
    )]
    pub rate_limit_per_minute: u32,

    /// Failed sign-ins (per source address and account) or token requests (per address and
    /// client) allowed in the failure window before further attempts get 429.
    #[arg(
        long,
        env = "PORTCULLIS_FAILURE_LIMIT",
        default_value_t = 10,
        global = true
    )]
    pub failure_limit: u32,

    /// The failure window, in seconds.
    #[arg(
        long,
        env = "PORTCULLIS_FAILURE_WINDOW_SECS",
        default_value_t = 300,
        global = true
    )]
    pub failure_window_secs: u32,

    /// Failed sign-ins allowed from one source address, whatever the account, in the failure
    /// window before further sign-ins from it get 429 [default: 3 × --failure-limit].
    #[arg(long, env = "PORTCULLIS_ADDRESS_FAILURE_LIMIT", global = true)]
    pub address_failure_limit: Option<u32>,

    /// Password hashes computed at once, server-wide; each holds 19 MiB while it runs
    /// [default: one per core].
    #[arg(long, env = "PORTCULLIS_PASSWORD_HASH_CONCURRENCY", value_parser = parse_positive, global = true)]
    pub password_hash_concurrency: Option<usize>,

    /// Sign-ins and sign-ups allowed to wait for a password hash when all are busy; beyond
    /// them, requests get 503 with Retry-After at once
    /// [default: 4 per concurrent hash].
    #[arg(long, env = "PORTCULLIS_PASSWORD_HASH_QUEUE", global = true)]
    pub password_hash_queue: Option<usize>,

    /// Reverse proxies whose X-Forwarded-For is trusted (comma-separated addresses or CIDR
    /// ranges). Without it, the client address is the socket's.
    #[arg(long, env = "PORTCULLIS_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// How long clients, credentials, users and revocation verdicts read from the database are
    /// reused, in milliseconds; 0 reads every time. Changes made through this server apply at
    /// once; changes made through another server sharing the database, within this time.
    #[arg(
        long,
        env = "PORTCULLIS_CACHE_TTL_MS",
        default_value_t = 1000,
        global = true
    )]
    pub cache_ttl_ms: u64,

    /// Days audit events are kept.
    #[arg(
        long,
        env = "PORTCULLIS_AUDIT_RETENTION_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub audit_retention_days: u32,

    /// HTTP worker threads [default: one per core].
    #[arg(long, env = "PORTCULLIS_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Serve `GET /metrics` (Prometheus text format) to requests bearing this token as
    /// `Authorization: Bearer`; without it there is no /metrics. At least 16 characters.
    #[arg(long, env = "PORTCULLIS_METRICS_TOKEN", value_parser = parse_metrics_token, hide_env_values = true, global = true)]
    pub metrics_token: Option<MetricsToken>,

    /// SMTP server the server's mail goes through: `smtp://host:port` (plain, e.g. a relay on
    /// loopback), `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS), with
    /// `user:password@` for authentication. Without it nothing is mailed: no address
    /// verification links, and "forgot password" sends people to an administrator.
    #[arg(
        long,
        env = "PORTCULLIS_SMTP_URL",
        hide_env_values = true,
        requires = "mail_from",
        global = true
    )]
    pub smtp_url: Option<SmtpUrl>,

    /// Sender of the server's mail (`Name <address>` or `address`); required with --smtp-url.
    #[arg(long, env = "PORTCULLIS_MAIL_FROM", global = true)]
    pub mail_from: Option<MailFrom>,

    /// Log filter, in `tracing` env-filter syntax (e.g. `info`, `portcullis=debug`).
    #[arg(long, env = "PORTCULLIS_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log line format.
    #[arg(long, env = "PORTCULLIS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// An address or CIDR range.
fn parse_network(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{raw:?} is not an IP address or CIDR range"))
}

/// A count of at least one.
fn parse_positive(raw: &str) -> Result<usize, String> {
    match raw.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{raw:?} is not a whole number of at least 1")),
    }
}

/// A connection count between 1 and 10,000.
fn parse_connections(raw: &str) -> Result<u32, String> {
    match raw.trim().parse::<u32>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err(format!("{raw:?} is not a whole number from 1 to 10000")),
    }
}

/// A metrics token long enough not to be guessed.
fn parse_metrics_token(raw: &str) -> Result<MetricsToken, String> {
    if raw.chars().count() < 16 {
        return Err("the metrics token must be at least 16 characters".into());
    }
    Ok(MetricsToken(secrecy::SecretString::from(raw.to_owned())))
}

/// The bearer token that may read `/metrics`; `Debug` never shows it.
#[derive(Clone)]
pub struct MetricsToken(secrecy::SecretString);

impl MetricsToken {
    /// Whether `presented` is this token (constant time).
    pub fn matches(&self, presented: &str) -> bool {
        use secrecy::ExposeSecret;
        crate::secret::ct_eq(self.0.expose_secret(), presented)
    }
}

impl FromStr for MetricsToken {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_metrics_token(s)
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(REDACTED)")
    }
}

/// The database pool's size and patience (see `storage::connect`).
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long a request waits for a connection.
    pub acquire_timeout: std::time::Duration,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Settings {
    /// Settings with every default, for tests and embedding.
    pub fn defaults() -> Self {
        Cli::parse_from(["portcullis"]).settings
    }

    /// The issuer URL without a trailing slash, as it appears in `iss` claims.
    pub fn issuer(&self) -> String {
        match &self.issuer {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind),
        }
    }

    /// Failed sign-ins allowed per source address across all accounts in the failure window.
    pub fn address_failures(&self) -> u32 {
        self.address_failure_limit
            .unwrap_or_else(|| self.failure_limit.saturating_mul(3))
    }

    /// Password hashes computed at once, and how many more may wait: the configured values,
    /// or one per core and `DEFAULT_QUEUE_PER_PERMIT` waiting per computation.
    pub fn password_hash_bounds(&self) -> (usize, usize) {
        use crate::runtime::hash_gate::{DEFAULT_QUEUE_PER_PERMIT, default_concurrency};
        let concurrency = self
            .password_hash_concurrency
            .unwrap_or_else(default_concurrency);
        let queue = self
            .password_hash_queue
            .unwrap_or(concurrency.saturating_mul(DEFAULT_QUEUE_PER_PERMIT));
        (concurrency, queue)
    }

    /// The database pool's settings: the configured connection budget, or 4 connections on
    /// SQLite (one writer at a time, whatever the pool) and 16 on PostgreSQL.
    pub fn pool(&self) -> PoolSettings {
        let default = if self.database_url.is_sqlite() { 4 } else { 16 };
        PoolSettings {
            max_connections: self.database_max_connections.unwrap_or(default),
            acquire_timeout: std::time::Duration::from_millis(self.database_acquire_timeout_ms),
        }
    }

    /// Whether cookies must carry `Secure` (the public URL is https).
    pub fn https(&self) -> bool {
        self.issuer.as_ref().is_some_and(|u| u.scheme() == "https")
    }
}

/// A database URL whose `Debug` output hides any password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The full URL, password included: only for opening the connection.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this URL names a SQLite database.
    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    /// The URL with the password replaced by `***`, safe to log.
    pub fn redacted(&self) -> String {
        match Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            Ok(url) => url.to_string(),
            Err(_) => "<unparseable database url>".to_owned(),
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let scheme = s.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" | "postgres" | "postgresql" => Ok(Self(s.to_owned())),
            _ => Err("expected a sqlite:// or postgres:// URL".to_owned()),
        }
    }
}

impl From<String> for DatabaseUrl {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_debug_hides_the_password() {
        let url: DatabaseUrl = "postgres://app:hunter2secret@db.example/portcullis"
            .parse()
            .unwrap();
        let settings = Settings {
            database_url: url,
            ..Settings::defaults()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2secret"), "{shown}");
        assert!(shown.contains("db.example"));
    }

    #[test]
    fn issuer_defaults_to_the_bind_address() {
        let settings = Settings::defaults();
        assert_eq!(settings.issuer(), "http://127.0.0.1:8080");
        assert!(!settings.https());
    }

    #[test]
    fn password_hashing_and_address_budgets_default_from_other_settings() {
        let mut settings = Settings::defaults();
        settings.failure_limit = 4;
        settings.password_hash_concurrency = Some(3);
        assert_eq!(settings.address_failures(), 12);
        assert_eq!(settings.password_hash_bounds(), (3, 12));
        let set = Cli::parse_from([
            "portcullis",
            "--address-failure-limit",
            "7",
            "--password-hash-concurrency",
            "2",
            "--password-hash-queue",
            "0",
        ])
        .settings;
        assert_eq!(set.address_failures(), 7);
        assert_eq!(set.password_hash_bounds(), (2, 0));
        assert!(Cli::try_parse_from(["portcullis", "--password-hash-concurrency", "0"]).is_err());
    }

    #[test]
    fn the_pool_defaults_by_database_and_takes_the_configured_budget() {
        let sqlite = Settings::defaults().pool();
        assert_eq!(sqlite.max_connections, 4);
        assert_eq!(sqlite.acquire_timeout, std::time::Duration::from_secs(2));
        let pg = Cli::parse_from([
            "portcullis",
            "--database-url",
            "postgres://db.example/p",
            "--database-acquire-timeout-ms",
            "500",
        ])
        .settings
        .pool();
        assert_eq!(pg.max_connections, 16);
        assert_eq!(pg.acquire_timeout, std::time::Duration::from_millis(500));
        let set = Cli::parse_from(["portcullis", "--database-max-connections", "3"]).settings;
        assert_eq!(set.pool().max_connections, 3);
        for bad in [
            ["--database-max-connections", "0"],
            ["--database-acquire-timeout-ms", "0"],
        ] {
            assert!(Cli::try_parse_from(["portcullis", bad[0], bad[1]]).is_err());
        }
    }

    #[test]
    fn a_metrics_token_is_long_and_never_shown() {
        assert!(Cli::try_parse_from(["portcullis", "--metrics-token", "short"]).is_err());
        let set = Cli::parse_from(["portcullis", "--metrics-token", "scrape-me-0123456789"]);
        let token = set.settings.metrics_token.clone().unwrap();
        assert!(token.matches("scrape-me-0123456789"));
        assert!(!token.matches("scrape-me-012345678"));
        assert!(!format!("{:?}", set.settings).contains("scrape-me"));
    }

    #[test]
    fn database_url_rejects_unknown_schemes() {
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
    }
}
