//! One typed configuration from flags and environment, with defaults that work on a bare
//! machine.

use std::net::SocketAddr;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API, with a worker unless --no-worker (the default command).
    Serve,
    /// Run searches only, without the API.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) and exit.
    Schema,
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

    /// Serve the API without running searches in this process.
    #[arg(long, env = "NO_WORKER", global = true)]
    pub no_worker: bool,

    /// Name of this worker in leases and logs. Default: host name and process id.
    #[arg(long, env = "WORKER_ID", global = true)]
    pub worker_id: Option<String>,

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

    /// Seed of the simulated provider's fares and schedules.
    #[arg(long, env = "SIMULATED_SEED", default_value_t = 42, global = true)]
    pub simulated_seed: u64,

    /// For `worker`: also serve `/metrics` and `/healthz` on this address.
    #[arg(long, env = "METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,

    /// Log as human-readable text or as JSON lines (to stderr). Filter with RUST_LOG.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
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

impl Config {
    pub fn worker_config(&self) -> worker::WorkerConfig {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_string());
        worker::WorkerConfig {
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
        }
    }

    pub fn api_limits(&self) -> api::ApiLimits {
        api::ApiLimits {
            max_tasks_per_search: self.max_tasks_per_search,
            ws_init_timeout: Duration::from_millis(self.ws_init_timeout_ms),
            ..api::ApiLimits::default()
        }
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
            ..providers::SimulatedConfig::default()
        }
    }
}
