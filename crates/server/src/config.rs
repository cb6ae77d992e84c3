//! One typed configuration from flags and environment, with defaults that work on a bare
//! machine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "fast-flights",
    version,
    about = "Flight searches that run for hours or days: GraphQL API and durable workers."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API, with a worker unless --no-worker (the default command).
    Serve,
    /// Run searches only, without the API.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) and exit.
    Schema,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Import a CSV of flights into the catalogue (docs/inventory-csv.md), in this
    /// process, printing progress. A file whose content was imported before is skipped.
    Import {
        file: std::path::PathBuf,
        /// Import it even if the same content was imported before.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from FAST_FLIGHTS_PASSWORD or from stdin
    /// (asked for twice on a terminal), never from a flag.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, default_value_t = RoleArg::User)]
        role: RoleArg,
    },
    /// Change an account's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    User,
    Admin,
}

impl From<RoleArg> for domain::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::User => domain::Role::User,
            RoleArg::Admin => domain::Role::Admin,
        }
    }
}

/// How strict start-up is about secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunMode {
    /// Missing secrets are made up (with a warning): fine on a laptop.
    Development,
    /// Missing secrets stop start-up.
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlgorithm {
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "EdDSA")]
    EdDsa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to serve on; port 0 picks a free port (the bound address is printed).
    #[arg(
        long = "listen",
        env = "LISTEN_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// postgres://user@host/db, or sqlite://path?mode=rwc. Default: an SQLite file under ./data.
    #[arg(long, env = "DATABASE_URL", default_value = store::DEFAULT_SQLITE_URL, global = true, hide_env_values = true)]
    pub database_url: String,

    /// Database connections in the pool.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_max_connections: u32,

    /// PostgreSQL read replicas (streaming standbys), comma-separated: the API sends the
    /// reads that may be a moment old there (lists, offers, calendars, the events API).
    #[arg(
        long,
        env = "DATABASE_READ_URL",
        value_delimiter = ',',
        global = true,
        hide_env_values = true
    )]
    pub database_read_url: Vec<String>,

    /// A replica further behind than this gets no reads until it catches up.
    #[arg(long, env = "MAX_REPLICA_LAG_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_replica_lag_ms: u64,

    /// An account's reads go to the primary for this long after it sent a mutation.
    #[arg(
        long,
        env = "REPLICA_READ_YOUR_WRITES_MS",
        default_value_t = 5000,
        global = true
    )]
    pub replica_read_your_writes_ms: u64,

    /// Serve the API without running searches in this process.
    #[arg(long, env = "NO_WORKER", global = true)]
    pub no_worker: bool,

    /// Name of this worker in leases and logs. Default: host name and process id.
    #[arg(long, env = "WORKER_ID", global = true)]
    pub worker_id: Option<String>,

    /// The kinds of lease-held work this process runs, comma-separated (search, import,
    /// booking), so
    /// each workload scales on its own: e.g. `fast-flights worker --kinds import`.
    #[arg(long = "kinds", env = "WORKER_KINDS", value_delimiter = ',', value_parser = parse_kind, default_values_t = store::LeaseKind::ALL, global = true)]
    pub worker_kinds: Vec<store::LeaseKind>,

    /// Bookings' provider calls one worker process has in flight at once.
    #[arg(long, env = "MAX_CONCURRENT_BOOKINGS", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub max_concurrent_bookings: u16,

    /// Searches one worker process runs at once.
    #[arg(long, env = "MAX_CONCURRENT_SEARCHES", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub max_concurrent_searches: u16,

    /// Provider queries in flight at once within one search.
    #[arg(long, env = "TASK_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub task_concurrency: u16,

    /// Checkpoint a search after this many finished provider queries…
    #[arg(long, env = "CHECKPOINT_EVERY_TASKS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub checkpoint_every_tasks: u64,

    /// …or after this many milliseconds, whichever comes first.
    #[arg(long, env = "CHECKPOINT_EVERY_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=3_600_000), global = true)]
    pub checkpoint_every_ms: u64,

    /// A search whose worker stops renewing its lease for this long is taken over.
    #[arg(long, env = "LEASE_TTL_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(300..=86_400_000), global = true)]
    pub lease_ttl_ms: u64,

    /// How often an idle worker looks for work without being woken.
    #[arg(long, env = "POLL_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=3_600_000), global = true)]
    pub poll_interval_ms: u64,

    /// One provider call that takes longer fails with a timeout (and may be retried).
    #[arg(long, env = "PROVIDER_TIMEOUT_MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000), global = true)]
    pub provider_timeout_ms: u64,

    /// A task (one query with all its retries and waits) that takes longer fails.
    #[arg(long, env = "TASK_TIMEOUT_MS", default_value_t = 300_000, value_parser = clap::value_parser!(u64).range(1..=86_400_000), global = true)]
    pub task_timeout_ms: u64,

    /// Retries of a provider call that failed with a retryable error (timeout, 5xx);
    /// waiting out a 429 does not count.
    #[arg(long, env = "PROVIDER_RETRIES", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=20), global = true)]
    pub provider_retries: u32,

    /// Consecutive failures that open a provider's circuit for PROVIDER_BREAKER_COOLDOWN_MS.
    #[arg(long, env = "PROVIDER_BREAKER_THRESHOLD", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub provider_breaker_threshold: u32,

    #[arg(long, env = "PROVIDER_BREAKER_COOLDOWN_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000), global = true)]
    pub provider_breaker_cooldown_ms: u64,

    /// Provider calls in flight at once in this process, across all searches.
    #[arg(long, env = "PROVIDER_MAX_CONCURRENCY", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=100_000), global = true)]
    pub provider_max_concurrency: u64,

    /// Provider calls per second from this process; unset for no limit.
    #[arg(long, env = "PROVIDER_RATE_LIMIT", global = true)]
    pub provider_rate_limit: Option<f64>,

    /// A search fails once more than this share (0.0 to 1.0) of its provider queries failed.
    #[arg(long, env = "MAX_FAILED_SHARE", default_value_t = 0.5, value_parser = parse_rate, global = true)]
    pub max_failed_share: f64,

    /// A search claimed this many times in a row without progress (its worker keeps
    /// dying) is failed instead of being tried again.
    #[arg(long, env = "MAX_CLAIMS_WITHOUT_PROGRESS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_claims_without_progress: u32,

    #[command(flatten)]
    pub quotas: QuotaConfig,

    #[command(flatten)]
    pub login: LoginConfig,

    /// redis://host:port/db. When set, the log-in limits are kept there instead of in the
    /// database (every API process must use the same Redis).
    #[arg(long, env = "REDIS_URL", hide_env_values = true, global = true)]
    pub redis_url: Option<String>,

    /// Prefix of every key this deployment writes to Redis, so several share one Redis.
    #[arg(
        long,
        env = "REDIS_KEY_PREFIX",
        default_value = "fast-flights:",
        global = true
    )]
    pub redis_key_prefix: String,

    #[command(flatten)]
    pub sockets: SocketConfig,

    #[command(flatten)]
    pub webhooks: WebhookConfig,

    #[command(flatten)]
    pub provider_cache: ProviderCacheConfig,

    #[command(flatten)]
    pub nats: NatsConfig,

    /// Origins whose web pages may call the API from a browser, comma-separated
    /// (`https://app.example.com`), or `*` for any. None by default.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Proxies whose `X-Forwarded-For` names the client, comma-separated addresses or CIDR
    /// ranges. Per-IP limits count that client. The default trusts the web app's server
    /// on this machine.
    #[arg(
        long,
        env = "TRUSTED_PROXIES",
        value_delimiter = ',',
        default_value = "127.0.0.1,::1",
        global = true
    )]
    pub trusted_proxies: Vec<String>,

    /// Most provider queries one search may expand to.
    #[arg(long, env = "MAX_TASKS_PER_SEARCH", default_value_t = 5_000_000, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_tasks_per_search: u64,

    /// A websocket that sends no connection_init within this time is closed (4408).
    #[arg(
        long,
        env = "WS_INIT_TIMEOUT_MS",
        default_value_t = 3000,
        global = true
    )]
    pub ws_init_timeout_ms: u64,

    /// A TOML file declaring the providers (see docs/providers.md). Without one, the
    /// `simulated` provider runs alone. `PROVIDERS__<NAME>__<FIELD>` variables override it.
    #[arg(long, env = "PROVIDERS_FILE", global = true)]
    pub providers_file: Option<std::path::PathBuf>,

    /// Mean delay of a simulated provider call, in milliseconds.
    #[arg(
        long,
        env = "SIMULATED_LATENCY_MS",
        default_value_t = 25,
        global = true
    )]
    pub simulated_latency_ms: u64,

    /// Share of simulated provider calls that fail, 0.0 to 1.0.
    #[arg(long, env = "SIMULATED_ERROR_RATE", default_value_t = 0.0, value_parser = parse_rate, global = true)]
    pub simulated_error_rate: f64,

    /// Share of bookings through a simulated provider that it refuses, 0.0 to 1.0.
    #[arg(long, env = "SIMULATED_BOOKING_FAILURE_RATE", default_value_t = 0.0, value_parser = parse_rate, global = true)]
    pub simulated_booking_failure_rate: f64,

    /// Share of a simulated provider's offers whose price has moved (by +7%) when they are
    /// booked, 0.0 to 1.0: their bookings fail with PRICE_CHANGED until the new price is
    /// accepted.
    #[arg(long, env = "SIMULATED_PRICE_CHANGE_RATE", default_value_t = 0.0, value_parser = parse_rate, global = true)]
    pub simulated_price_change_rate: f64,

    /// Seed of the simulated provider's fares and schedules.
    #[arg(long, env = "SIMULATED_SEED", default_value_t = 42, global = true)]
    pub simulated_seed: u64,

    /// `serve` and `worker`: import every new `*.csv` dropped in this folder, once, moving
    /// it to `processed/` or `failed/` with a report.
    #[arg(long, env = "WATCH_DIR", global = true)]
    pub watch_dir: Option<std::path::PathBuf>,

    /// How often the watched folder is looked at.
    #[arg(long, env = "WATCH_INTERVAL_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(50..=3_600_000), global = true)]
    pub watch_interval_ms: u64,

    /// Also serve `/metrics` and `/healthz` on this address (of its own, for the scraper;
    /// in production the API's port serves `/metrics` only with METRICS_TOKEN).
    #[arg(long, env = "METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,

    /// In production, `/metrics` on the API's port answers only `Authorization: Bearer
    /// <METRICS_TOKEN>`; without it only METRICS_LISTEN serves metrics.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,

    /// The GraphiQL page on /graphiql: `on` or `off`. Default: on in development, off in
    /// production.
    #[arg(long, env = "GRAPHIQL", value_parser = parse_switch, global = true)]
    pub graphiql: Option<bool>,

    /// `development` or `production`. Production refuses to start without JWT_SECRET (or
    /// key files for RS256/EdDSA).
    #[arg(long = "env", env = "FAST_FLIGHTS_ENV", value_enum, default_value_t = RunMode::Development, global = true)]
    pub run_mode: RunMode,

    /// Signing algorithm of access tokens; tokens signed otherwise are refused.
    #[arg(long, env = "JWT_ALGORITHM", value_enum, default_value_t = JwtAlgorithm::Hs256, global = true)]
    pub jwt_algorithm: JwtAlgorithm,

    /// HS256 secret, at least 32 bytes; set it in the environment rather than as a flag.
    /// Unset in development: a random secret per process (tokens die with it).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub jwt_secret: Option<secrecy::SecretString>,

    /// RS256/EdDSA: PEM file of the private key that signs tokens.
    #[arg(long, env = "JWT_PRIVATE_KEY_FILE", global = true)]
    pub jwt_private_key_file: Option<std::path::PathBuf>,

    /// RS256/EdDSA: PEM file of the public key that verifies tokens.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE", global = true)]
    pub jwt_public_key_file: Option<std::path::PathBuf>,

    /// `iss` of issued tokens, required of presented ones.
    #[arg(
        long,
        env = "JWT_ISSUER",
        default_value = "fast-flights",
        global = true
    )]
    pub jwt_issuer: String,

    /// `aud` of issued tokens, required of presented ones.
    #[arg(
        long,
        env = "JWT_AUDIENCE",
        default_value = "fast-flights",
        global = true
    )]
    pub jwt_audience: String,

    /// Lifetime of an access token, in seconds (refresh it with `refreshSession`).
    /// Expired tokens are still taken for a fifth of this, at most 30 s (clock skew).
    #[arg(long, env = "JWT_TTL_SECS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(10..=86_400), global = true)]
    pub jwt_ttl_secs: u64,

    /// Lifetime of a session (its refresh token) from sign-in, in seconds.
    #[arg(long, env = "REFRESH_TTL_SECS", default_value_t = 2_592_000, value_parser = clap::value_parser!(u64).range(60..=31_536_000), global = true)]
    pub refresh_ttl_secs: u64,

    /// For how long a refresh token just rotated still gives the same new pair (two
    /// requests refreshing at once), in seconds; 0: any reuse ends the session.
    #[arg(long, env = "REFRESH_REUSE_GRACE_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=300), global = true)]
    pub refresh_reuse_grace_secs: u64,

    /// Largest file `importFlights` accepts, in bytes.
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = 1 << 30, value_parser = clap::value_parser!(u64).range(1024..), global = true)]
    pub max_upload_bytes: u64,

    /// Log as human-readable text or as JSON lines (to stderr). Filter with RUST_LOG.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

fn parse_secret(raw: &str) -> Result<secrecy::SecretString, String> {
    Ok(secrecy::SecretString::from(raw.to_string()))
}

fn parse_switch(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        other => Err(format!("`{other}` is neither on nor off")),
    }
}

fn parse_rate(raw: &str) -> Result<f64, String> {
    let rate: f64 = raw
        .parse()
        .map_err(|_| format!("`{raw}` is not a number"))?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!("{rate} is outside 0.0 to 1.0"))
    }
}

/// What one account may have queued (each over the limit is a QUOTA_EXCEEDED error).
#[derive(Debug, Clone, clap::Args)]
pub struct QuotaConfig {
    /// Searches one account may have queued, running or paused at once.
    #[arg(
        long,
        env = "MAX_ACTIVE_SEARCHES_PER_USER",
        default_value_t = 5,
        global = true
    )]
    pub max_active_searches_per_user: u64,
    /// Provider queries still to run across one account's searches.
    #[arg(
        long,
        env = "MAX_QUEUED_TASKS_PER_USER",
        default_value_t = 20_000_000,
        global = true
    )]
    pub max_queued_tasks_per_user: u64,
    /// `startSearch` calls one account may make in a minute.
    #[arg(
        long,
        env = "MAX_SEARCHES_PER_MINUTE_PER_USER",
        default_value_t = 10,
        global = true
    )]
    pub max_searches_per_minute_per_user: u64,
    /// The same three for admins.
    #[arg(
        long,
        env = "MAX_ACTIVE_SEARCHES_PER_ADMIN",
        default_value_t = 50,
        global = true
    )]
    pub max_active_searches_per_admin: u64,
    #[arg(
        long,
        env = "MAX_QUEUED_TASKS_PER_ADMIN",
        default_value_t = 200_000_000,
        global = true
    )]
    pub max_queued_tasks_per_admin: u64,
    #[arg(
        long,
        env = "MAX_SEARCHES_PER_MINUTE_PER_ADMIN",
        default_value_t = 100,
        global = true
    )]
    pub max_searches_per_minute_per_admin: u64,
}

/// How `signUp` and `logIn` resist guessing (docs/security.md).
#[derive(Debug, Clone, clap::Args)]
pub struct LoginConfig {
    /// `signUp` and `logIn` attempts one client address may make per minute, together.
    #[arg(long, env = "LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub login_attempts_per_ip_per_minute: u64,
    /// Failed log-ins in a row of one account from one address before that address
    /// backs off.
    #[arg(long, env = "LOGIN_BACKOFF_AFTER_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub login_backoff_after_failures: u64,
    /// The first back-off, in milliseconds; each further failure doubles it…
    #[arg(long, env = "LOGIN_BACKOFF_BASE_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=3_600_000), global = true)]
    pub login_backoff_base_ms: u64,
    /// …up to this many seconds.
    #[arg(long, env = "LOGIN_BACKOFF_MAX_SECS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86_400), global = true)]
    pub login_backoff_max_secs: u64,
    /// `logIn` attempts on one account from all addresses per hour; past it every failure
    /// costs its address the full back-off at once.
    #[arg(long, env = "LOGIN_ATTEMPTS_PER_ACCOUNT_PER_HOUR", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub login_attempts_per_account_per_hour: u64,
}

impl LoginConfig {
    pub fn policy(&self) -> api::login_limits::LoginPolicy {
        api::login_limits::LoginPolicy {
            attempts_per_ip_per_minute: self.login_attempts_per_ip_per_minute,
            free_failures: self.login_backoff_after_failures,
            backoff_base: Duration::from_millis(self.login_backoff_base_ms),
            backoff_max: Duration::from_secs(self.login_backoff_max_secs),
            attempts_per_account_per_hour: self.login_attempts_per_account_per_hour,
        }
    }
}

/// What websockets may hold open, and how they are kept alive (docs/websockets.md). The
/// counts are per API process.
#[derive(Debug, Clone, clap::Args)]
pub struct SocketConfig {
    /// Websockets one account may have open at once (more: closed 4431 at connection_init).
    #[arg(long, env = "MAX_SOCKETS_PER_USER", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_sockets_per_user: u64,
    /// Websockets one client address may have open at once (more: the upgrade is refused
    /// with 429).
    #[arg(long, env = "MAX_SOCKETS_PER_IP", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_sockets_per_ip: u64,
    /// How often the server pings a websocket.
    #[arg(long, env = "WS_PING_INTERVAL_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(100..), global = true)]
    pub ws_ping_interval_ms: u64,
    /// A websocket that does not answer a ping with a pong within this time is closed (4499).
    #[arg(long, env = "WS_PONG_TIMEOUT_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(100..), global = true)]
    pub ws_pong_timeout_ms: u64,
}

impl SocketConfig {
    fn limits(&self) -> api::SocketLimits {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        api::SocketLimits {
            max_per_user: count(self.max_sockets_per_user),
            max_per_ip: count(self.max_sockets_per_ip),
            ping_interval: Duration::from_millis(self.ws_ping_interval_ms),
            pong_timeout: Duration::from_millis(self.ws_pong_timeout_ms),
            ..api::SocketLimits::default()
        }
    }
}

/// Where provider answers are cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderCacheBackend {
    /// Redis when REDIS_URL is set, else this process's memory.
    Auto,
    Memory,
    Redis,
    /// No cache: every query calls its provider.
    Off,
}

/// The answer cache in front of the providers (docs/providers.md, "The answer cache").
/// How long each provider's answers are kept is its `cache_ttl` in the providers file.
#[derive(Debug, Clone, clap::Args)]
pub struct ProviderCacheConfig {
    #[arg(
        long,
        env = "PROVIDER_CACHE",
        value_enum,
        default_value = "auto",
        global = true
    )]
    pub provider_cache: ProviderCacheBackend,
    /// The memory cache's bound, in MiB of entries (least recently used dropped first).
    #[arg(long, env = "PROVIDER_CACHE_MAX_MB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65_536), global = true)]
    pub provider_cache_max_mb: u64,
    /// A Redis command slower than this is given up and the provider is called without the
    /// cache (which is left alone for a second).
    #[arg(long, env = "PROVIDER_CACHE_TIMEOUT_MS", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000), global = true)]
    pub provider_cache_timeout_ms: u64,
}

/// How webhooks are sent (docs/webhooks.md).
#[derive(Debug, Clone, clap::Args)]
pub struct WebhookConfig {
    /// 32 random bytes in base64 (`openssl rand -base64 32`) that seal the endpoints'
    /// signing secrets in the database; the same on every API and worker process. Unset in
    /// development: a random key per process (secrets sealed with it cannot be opened after
    /// a restart); unset in production: webhooks are off.
    #[arg(long, env = "WEBHOOK_SECRETS_KEY", hide_env_values = true, value_parser = parse_secret, global = true)]
    pub webhook_secrets_key: Option<secrecy::SecretString>,
    /// Hosts, addresses and CIDR ranges that production deliveries may reach although they
    /// are loopback, private or link-local, comma-separated.
    #[arg(
        long,
        env = "WEBHOOK_ALLOW_HOSTS",
        value_delimiter = ',',
        global = true
    )]
    pub webhook_allow_hosts: Vec<String>,
    /// One delivery request (connection included) that takes longer fails and is retried.
    #[arg(long, env = "WEBHOOK_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=120_000), global = true)]
    pub webhook_timeout_ms: u64,
    /// The pause after a delivery's first failure; it doubles (with jitter) for each further one…
    #[arg(long, env = "WEBHOOK_RETRY_BASE_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000), global = true)]
    pub webhook_retry_base_ms: u64,
    /// …up to this many seconds.
    #[arg(long, env = "WEBHOOK_RETRY_MAX_DELAY_SECS", default_value_t = 3_600, value_parser = clap::value_parser!(u64).range(1..=86_400), global = true)]
    pub webhook_retry_max_delay_secs: u64,
    /// A delivery still failing this many seconds after its first attempt is FAILED.
    #[arg(long, env = "WEBHOOK_RETRY_FOR_SECS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..=2_592_000), global = true)]
    pub webhook_retry_for_secs: u64,
    /// An endpoint whose every delivery failed for this many seconds is disabled (admins
    /// are told).
    #[arg(long, env = "WEBHOOK_DISABLE_AFTER_SECS", default_value_t = 259_200, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub webhook_disable_after_secs: u64,
    /// Deliveries one worker process sends at once.
    #[arg(long, env = "WEBHOOK_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub webhook_concurrency: u16,
}

/// The JetStream relay of the outbox (docs/events.md).
#[derive(Debug, Clone, clap::Args)]
pub struct NatsConfig {
    /// nats://host:port. When set, the `nats-relay` consumer publishes every event to
    /// JetStream.
    #[arg(long, env = "EVENTS_NATS_URL", hide_env_values = true, global = true)]
    pub events_nats_url: Option<String>,
    /// The stream, created if missing.
    #[arg(
        long,
        env = "EVENTS_NATS_STREAM",
        default_value = "FAST_FLIGHTS_EVENTS",
        global = true
    )]
    pub events_nats_stream: String,
    /// Events go to subject `<prefix>.<type>`.
    #[arg(
        long,
        env = "EVENTS_NATS_SUBJECT_PREFIX",
        default_value = "fast-flights.events",
        global = true
    )]
    pub events_nats_subject_prefix: String,
    /// Limits of a stream created here: the oldest message kept, in seconds (0: no limit)…
    #[arg(
        long,
        env = "EVENTS_NATS_MAX_AGE_SECS",
        default_value_t = 604_800,
        global = true
    )]
    pub events_nats_max_age_secs: u64,
    /// …its size in bytes (0: no limit)…
    #[arg(
        long,
        env = "EVENTS_NATS_MAX_BYTES",
        default_value_t = 0,
        global = true
    )]
    pub events_nats_max_bytes: i64,
    /// …and its messages (0: no limit).
    #[arg(
        long,
        env = "EVENTS_NATS_MAX_MESSAGES",
        default_value_t = 0,
        global = true
    )]
    pub events_nats_max_messages: i64,
    /// How long JetStream remembers event ids to drop a second copy, in seconds.
    #[arg(long, env = "EVENTS_NATS_DUPLICATE_WINDOW_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub events_nats_duplicate_window_secs: u64,
}

impl NatsConfig {
    fn settings(&self) -> Option<worker::NatsSettings> {
        let url = self
            .events_nats_url
            .as_ref()
            .filter(|u| !u.trim().is_empty())?;
        Some(worker::NatsSettings {
            url: url.trim().to_string(),
            stream: self.events_nats_stream.clone(),
            subject_prefix: self
                .events_nats_subject_prefix
                .trim_end_matches('.')
                .to_string(),
            max_age: Duration::from_secs(self.events_nats_max_age_secs),
            max_bytes: self.events_nats_max_bytes,
            max_messages: self.events_nats_max_messages,
            duplicate_window: Duration::from_secs(self.events_nats_duplicate_window_secs),
            ..worker::NatsSettings::default()
        })
    }
}

/// This process's random key, when development runs without WEBHOOK_SECRETS_KEY: one for
/// the API and the worker alike.
static DEV_WEBHOOK_KEY: std::sync::OnceLock<Arc<store::SecretKey>> = std::sync::OnceLock::new();

/// Wakes this process's webhook executor (shared by its consumer and its API).
static WEBHOOK_WAKE: std::sync::OnceLock<Arc<tokio::sync::Notify>> = std::sync::OnceLock::new();

fn parse_kind(raw: &str) -> Result<store::LeaseKind, String> {
    store::LeaseKind::parse(raw).ok_or_else(|| {
        let known: Vec<&str> = store::LeaseKind::ALL.iter().map(|k| k.as_str()).collect();
        format!(
            "`{}` is not a kind of work; the kinds are {}",
            raw.trim(),
            known.join(", ")
        )
    })
}

impl Config {
    /// The key that seals webhook secrets: WEBHOOK_SECRETS_KEY, a random one in
    /// development, none in production.
    pub fn webhook_key(&self) -> anyhow::Result<Option<Arc<store::SecretKey>>> {
        use secrecy::ExposeSecret;
        match self
            .webhooks
            .webhook_secrets_key
            .as_ref()
            .filter(|k| !k.expose_secret().trim().is_empty())
        {
            Some(raw) => Ok(Some(Arc::new(
                store::SecretKey::from_base64(raw.expose_secret()).map_err(anyhow::Error::msg)?,
            ))),
            None if self.run_mode == RunMode::Production => Ok(None),
            None => {
                if let Some(key) = DEV_WEBHOOK_KEY.get() {
                    return Ok(Some(Arc::clone(key)));
                }
                let key = Arc::new(store::SecretKey::random().map_err(anyhow::Error::msg)?);
                Ok(Some(Arc::clone(DEV_WEBHOOK_KEY.get_or_init(|| key))))
            }
        }
    }

    pub fn webhook_policy(&self) -> anyhow::Result<domain::webhook::UrlPolicy> {
        let allow = self
            .webhooks
            .webhook_allow_hosts
            .iter()
            .filter(|h| !h.trim().is_empty())
            .map(|h| domain::webhook::AllowEntry::parse(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(anyhow::Error::msg)?;
        Ok(domain::webhook::UrlPolicy {
            production: self.run_mode == RunMode::Production,
            allow,
        })
    }

    fn webhook_settings(&self) -> anyhow::Result<worker::WebhookSettings> {
        let w = &self.webhooks;
        Ok(worker::WebhookSettings {
            policy: self.webhook_policy()?,
            key: self.webhook_key()?,
            timeout: Duration::from_millis(w.webhook_timeout_ms),
            retry: domain::webhook::RetryPolicy {
                base: Duration::from_millis(w.webhook_retry_base_ms),
                max_delay: Duration::from_secs(w.webhook_retry_max_delay_secs),
                give_up_after: Duration::from_secs(w.webhook_retry_for_secs),
            },
            disable_after: Duration::from_secs(w.webhook_disable_after_secs),
            concurrency: usize::from(w.webhook_concurrency),
            wake: Arc::clone(WEBHOOK_WAKE.get_or_init(|| Arc::new(tokio::sync::Notify::new()))),
        })
    }

    pub fn worker_config(&self) -> anyhow::Result<worker::WorkerConfig> {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_string());
        Ok(worker::WorkerConfig {
            worker_id: self
                .worker_id
                .clone()
                .unwrap_or_else(|| format!("{host}-{}", std::process::id())),
            max_concurrent_searches: usize::from(self.max_concurrent_searches),
            task_concurrency: usize::from(self.task_concurrency),
            checkpoint_every_tasks: self.checkpoint_every_tasks,
            checkpoint_every: Duration::from_millis(self.checkpoint_every_ms),
            lease_ttl: Duration::from_millis(self.lease_ttl_ms),
            poll_interval: Duration::from_millis(self.poll_interval_ms),
            provider_timeout: Duration::from_millis(self.task_timeout_ms),
            max_failed_share: self.max_failed_share,
            max_claims_without_progress: self.max_claims_without_progress,
            booking_concurrency: usize::from(self.max_concurrent_bookings),
            webhooks: self.webhook_settings()?,
            nats: self.nats.settings(),
        })
    }

    pub fn api_limits(&self) -> anyhow::Result<api::ApiLimits> {
        Ok(api::ApiLimits {
            max_tasks_per_search: self.max_tasks_per_search,
            task_concurrency: usize::from(self.task_concurrency),
            ws_init_timeout: Duration::from_millis(self.ws_init_timeout_ms),
            max_upload_bytes: usize::try_from(self.max_upload_bytes).unwrap_or(usize::MAX),
            user_searches: store::SearchLimits {
                max_active: self.quotas.max_active_searches_per_user,
                max_queued_tasks: self.quotas.max_queued_tasks_per_user,
                max_per_minute: self.quotas.max_searches_per_minute_per_user,
            },
            admin_searches: store::SearchLimits {
                max_active: self.quotas.max_active_searches_per_admin,
                max_queued_tasks: self.quotas.max_queued_tasks_per_admin,
                max_per_minute: self.quotas.max_searches_per_minute_per_admin,
            },
            trusted_proxies: api::client_ip::TrustedProxies::parse(&self.trusted_proxies)
                .map_err(anyhow::Error::msg)?,
            exposure: match self.run_mode {
                RunMode::Development => api::Exposure {
                    graphiql: self.graphiql.unwrap_or(true),
                    ..api::Exposure::default()
                },
                RunMode::Production => api::Exposure::production(
                    self.graphiql.unwrap_or(false),
                    self.metrics_token.clone().filter(|t| !t.is_empty()),
                ),
            },
            sockets: self.sockets.limits(),
            webhooks: api::WebhookApi {
                policy: self.webhook_policy()?,
                key: self.webhook_key()?,
                rotation_grace: Duration::from_secs(86_400),
            },
            ..api::ApiLimits::default()
        })
    }

    /// The token issuer and checker this configuration asks for. In production a missing
    /// secret or key is an error; in development HS256 falls back to a random secret.
    pub fn tokens(&self) -> anyhow::Result<api::Tokens> {
        Ok(self.signing()?.with_sessions(api::SessionPolicy {
            refresh_ttl: Duration::from_secs(self.refresh_ttl_secs),
            reuse_grace: Duration::from_secs(self.refresh_reuse_grace_secs),
        }))
    }

    fn signing(&self) -> anyhow::Result<api::Tokens> {
        use anyhow::Context;
        use secrecy::ExposeSecret;
        let ttl = Duration::from_secs(self.jwt_ttl_secs);
        let (iss, aud) = (self.jwt_issuer.as_str(), self.jwt_audience.as_str());
        match self.jwt_algorithm {
            JwtAlgorithm::Hs256 => match self
                .jwt_secret
                .as_ref()
                .filter(|s| !s.expose_secret().is_empty())
            {
                Some(secret) => {
                    let bytes = secret.expose_secret().as_bytes();
                    if bytes.len() < 32 {
                        anyhow::bail!(
                            "JWT_SECRET is too short: HS256 needs at least 32 bytes, it has {}",
                            bytes.len()
                        );
                    }
                    Ok(api::Tokens::hs256(bytes, iss, aud, ttl))
                }
                None if self.run_mode == RunMode::Production => anyhow::bail!(
                    "JWT_SECRET is not set, and production mode (FAST_FLIGHTS_ENV=production) needs it: \
                     set JWT_SECRET to at least 32 random bytes (e.g. `openssl rand -base64 48`), \
                     or use JWT_ALGORITHM=RS256 or EdDSA with JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE"
                ),
                None => {
                    tracing::warn!(
                        "JWT_SECRET is not set: signing tokens with a random secret (development \
                         mode). Tokens stop working when this process stops and are not valid on \
                         other processes; set JWT_SECRET to keep them."
                    );
                    Ok(api::Tokens::hs256(
                        &api::Tokens::random_secret(),
                        iss,
                        aud,
                        ttl,
                    ))
                }
            },
            JwtAlgorithm::Rs256 | JwtAlgorithm::EdDsa => {
                let algorithm = if self.jwt_algorithm == JwtAlgorithm::Rs256 {
                    api::auth::Algorithm::RS256
                } else {
                    api::auth::Algorithm::EdDSA
                };
                let read =
                    |path: &Option<std::path::PathBuf>, var: &str| -> anyhow::Result<Vec<u8>> {
                        let path = path.as_ref().with_context(|| {
                            format!("JWT_ALGORITHM={:?} needs {var}", self.jwt_algorithm)
                        })?;
                        std::fs::read(path)
                            .with_context(|| format!("reading {var} ({})", path.display()))
                    };
                let private = read(&self.jwt_private_key_file, "JWT_PRIVATE_KEY_FILE")?;
                let public = read(&self.jwt_public_key_file, "JWT_PUBLIC_KEY_FILE")?;
                Ok(api::Tokens::asymmetric(
                    algorithm, &private, &public, iss, aud, ttl,
                )?)
            }
        }
    }

    /// The log-in limits over Redis when `REDIS_URL` is set, else over the database.
    pub fn login_limits(
        &self,
        store: &store::Store,
    ) -> anyhow::Result<api::login_limits::LoginLimits> {
        let counters: std::sync::Arc<dyn store::LoginCounters> =
            match self.redis_url.as_deref().filter(|u| !u.is_empty()) {
                Some(url) => std::sync::Arc::new(
                    store::RedisLoginCounters::connect(url, &self.redis_key_prefix)
                        .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?,
                ),
                None => std::sync::Arc::new(store.clone()),
            };
        Ok(api::login_limits::LoginLimits::new(
            counters,
            self.login.policy(),
        ))
    }

    pub fn call_policy(&self) -> providers::CallPolicy {
        providers::CallPolicy {
            timeout: Duration::from_millis(self.provider_timeout_ms),
            max_retries: self.provider_retries,
            breaker_threshold: self.provider_breaker_threshold,
            breaker_cooldown: Duration::from_millis(self.provider_breaker_cooldown_ms),
            max_concurrency: usize::try_from(self.provider_max_concurrency).unwrap_or(usize::MAX),
            rate_per_second: self.provider_rate_limit.filter(|r| *r > 0.0),
            ..providers::CallPolicy::default()
        }
    }

    pub fn simulated(&self) -> providers::SimulatedConfig {
        providers::SimulatedConfig {
            seed: self.simulated_seed,
            latency: Duration::from_millis(self.simulated_latency_ms),
            error_rate: self.simulated_error_rate,
            booking_failure_rate: self.simulated_booking_failure_rate,
            price_change_rate: self.simulated_price_change_rate,
            ..providers::SimulatedConfig::default()
        }
    }
}
