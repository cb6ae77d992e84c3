//! The `fast-flights` binary as a library: configuration, wiring and the run loop, so
//! that tests, benchmarks and third parties can start the same application.

pub mod config;
pub mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::time::Duration;

use providers::config::{ProviderKind, ProvidersFile};
use providers::simulated::NAME as SIMULATED;
use providers::{
    CallPolicy, Capabilities, FlightProvider, HttpProvider, LocalQuota, ProviderInfo,
    ProviderRegistry, Quota, SimulatedProvider,
};
use secrecy::SecretString;
use store::SharedQuota;
use store::{EventBus, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use worker::Runner;

pub use config::{Cli, Command, Config, LogFormat, RunMode, UserCommand};

pub mod accounts;
pub mod imports;
pub mod sample;
pub mod watch;

/// Installs the process-wide metrics recorder; `/metrics` renders it.
pub fn install_metrics(shutdown: &CancellationToken) -> anyhow::Result<PrometheusHandle> {
    const SECONDS: &[f64] = &[
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ];
    let handle = PrometheusBuilder::new()
        .set_buckets(SECONDS)
        .context("metrics buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    let upkeep = handle.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => upkeep.run_upkeep(),
            }
        }
    });
    Ok(handle)
}

/// The providers of the providers file (without one: `simulated` and `inventory`), each
/// behind the call middleware (timeout, retry, circuit breaker, concurrency cap, rate
/// limit). A rate limit holds across the fleet on PostgreSQL, in this process on SQLite.
pub fn default_registry(config: &Config, store: &Store) -> anyhow::Result<ProviderRegistry> {
    let mut defaults = toml::Table::new();
    let mut providers = toml::Table::new();
    for (name, kind) in [(SIMULATED, "simulated"), ("inventory", "inventory")] {
        let mut entry = toml::Table::new();
        entry.insert("kind".into(), toml::Value::String(kind.into()));
        providers.insert(name.into(), toml::Value::Table(entry));
    }
    defaults.insert("providers".into(), toml::Value::Table(providers));
    let file = ProvidersFile::load(config.providers_file.as_deref(), defaults, std::env::vars())?;
    if file.providers.is_empty() {
        anyhow::bail!(
            "no provider is declared; add one to the providers file (see docs/providers.md)"
        );
    }
    let base = config.call_policy();
    let answer_store = answer_store(config)?;
    let mut registry = ProviderRegistry::new();
    for (name, entry) in &file.providers {
        let policy = CallPolicy {
            timeout: entry.timeout_ms.map_or(base.timeout, Duration::from_millis),
            max_retries: entry.retries.unwrap_or(base.max_retries),
            breaker_threshold: entry.breaker_threshold.unwrap_or(base.breaker_threshold),
            breaker_cooldown: entry
                .breaker_cooldown_ms
                .map_or(base.breaker_cooldown, Duration::from_millis),
            max_concurrency: entry.max_concurrency.unwrap_or(base.max_concurrency),
            rate_per_second: entry
                .rate_limit
                .or(config.provider_rate_limit.filter(|r| *r > 0.0)),
            ..base.clone()
        };
        let (provider, has_api_key) = build_provider(config, store, name, entry)?;
        let info = ProviderInfo {
            kind: entry.kind.as_str().to_string(),
            base_url: entry.base_url.clone(),
            has_api_key,
            ..ProviderInfo::default()
        };
        let cache = answer_store
            .as_ref()
            .zip(entry.cache_ttl())
            .map(|(s, ttl)| (Arc::clone(s), ttl));
        register_layered(
            &mut registry,
            store,
            provider,
            &policy,
            entry.enabled,
            info,
            cache,
        )?;
    }
    Ok(registry)
}

/// Where provider answers are cached, by `PROVIDER_CACHE`; `None`: nowhere.
fn answer_store(config: &Config) -> anyhow::Result<Option<Arc<dyn providers::cache::AnswerStore>>> {
    use config::ProviderCacheBackend as Backend;
    let cache = &config.provider_cache;
    let redis_url = config.redis_url.as_deref().filter(|u| !u.is_empty());
    let backend = match (cache.provider_cache, redis_url) {
        (Backend::Off, _) => {
            tracing::info!("provider answers are not cached (PROVIDER_CACHE=off)");
            return Ok(None);
        }
        (Backend::Auto, Some(_)) | (Backend::Redis, _) => Backend::Redis,
        (Backend::Auto | Backend::Memory, _) => Backend::Memory,
    };
    Ok(Some(if backend == Backend::Redis {
        let Some(url) = redis_url else {
            anyhow::bail!("PROVIDER_CACHE=redis needs REDIS_URL (redis://host:port/db)");
        };
        let store = providers::RedisStore::connect(
            url,
            &config.redis_key_prefix,
            Duration::from_millis(cache.provider_cache_timeout_ms),
        )
        .map_err(|e| anyhow::anyhow!("REDIS_URL is not a Redis URL (redis://host:port/db): {e}"))?;
        tracing::info!(
            prefix = %config.redis_key_prefix,
            "provider answers are cached in Redis, shared by every process on it"
        );
        Arc::new(store)
    } else {
        tracing::info!(
            max_mb = cache.provider_cache_max_mb,
            "provider answers are cached in this process's memory"
        );
        Arc::new(providers::MemoryStore::new(
            cache.provider_cache_max_mb.saturating_mul(1 << 20),
        ))
    }))
}

/// One configured provider, by kind, before the middleware; and whether it has an API key.
fn build_provider(
    config: &Config,
    store: &Store,
    name: &str,
    entry: &providers::config::ProviderConfig,
) -> anyhow::Result<(Arc<dyn FlightProvider>, bool)> {
    let defaults = match entry.kind {
        ProviderKind::Inventory => store::InventoryProvider::default_capabilities(),
        _ => Capabilities::default(),
    };
    let latency = Duration::from_millis(entry.latency_ms.unwrap_or(config.simulated_latency_ms));
    let typical_latency_ms = match entry.kind {
        ProviderKind::Simulated => u32::try_from(latency.as_millis()).unwrap_or(u32::MAX),
        ProviderKind::Http => 1_000,
        ProviderKind::Inventory => defaults.typical_latency_ms,
    };
    let capabilities = Capabilities {
        date_window_days: entry.date_window_days.unwrap_or(defaults.date_window_days),
        nights_range: entry.nights_range.unwrap_or(defaults.nights_range),
        max_destinations: entry.max_destinations.unwrap_or(defaults.max_destinations),
        max_results: entry.max_results.or(defaults.max_results),
        typical_latency_ms: entry.typical_latency_ms.unwrap_or(typical_latency_ms),
        booking: entry
            .booking
            .unwrap_or(defaults.booking || entry.kind == ProviderKind::Simulated),
        // The http contract and the simulated provider book once per idempotency key.
        idempotent_booking: matches!(entry.kind, ProviderKind::Http | ProviderKind::Simulated),
    };
    Ok(match entry.kind {
        ProviderKind::Simulated => (
            Arc::new(SimulatedProvider::named(
                name.to_string(),
                providers::SimulatedConfig {
                    seed: entry.seed.unwrap_or(config.simulated_seed),
                    latency,
                    error_rate: entry.error_rate.unwrap_or(config.simulated_error_rate),
                    booking_failure_rate: entry
                        .booking_failure_rate
                        .unwrap_or(config.simulated_booking_failure_rate),
                    price_change_rate: entry
                        .price_change_rate
                        .unwrap_or(config.simulated_price_change_rate),
                    date_window_days: capabilities.date_window_days,
                    nights_range: capabilities.nights_range,
                    max_destinations: capabilities.max_destinations,
                },
            )),
            false,
        ),
        ProviderKind::Http => {
            let api_key = match &entry.api_key_env {
                None => None,
                Some(var) => match std::env::var(var) {
                    Ok(key) if !key.trim().is_empty() => {
                        Some(SecretString::from(key.trim().to_string()))
                    }
                    _ => anyhow::bail!(
                        "provider `{name}`: api_key_env names {var}, which is not set"
                    ),
                },
            };
            let has_key = api_key.is_some();
            let base_url = entry.base_url.as_deref().unwrap_or_default();
            (
                Arc::new(
                    HttpProvider::new(name.to_string(), base_url, api_key, capabilities)
                        .map_err(|e| anyhow::anyhow!("provider `{name}`: {e}"))?,
                ),
                has_key,
            )
        }
        ProviderKind::Inventory => (
            Arc::new(store::InventoryProvider::new(
                name.to_string(),
                store.clone(),
                capabilities,
            )),
            false,
        ),
    })
}

/// Puts `provider` behind the call middleware of `policy` and registers it. Its rate limit
/// (`policy.rate_per_second`) is shared by every process on PostgreSQL, kept in this
/// process on SQLite.
fn register_layered(
    registry: &mut ProviderRegistry,
    store: &Store,
    provider: Arc<dyn FlightProvider>,
    policy: &CallPolicy,
    enabled: bool,
    mut info: ProviderInfo,
    cache: Option<(Arc<dyn providers::cache::AnswerStore>, Duration)>,
) -> anyhow::Result<()> {
    let name = provider.name().to_string();
    let quota: Option<Arc<dyn Quota>> = policy.rate_per_second.map(|rate| -> Arc<dyn Quota> {
        if store.is_sqlite() {
            Arc::new(LocalQuota::new(rate))
        } else {
            Arc::new(SharedQuota::new(store.clone(), name.clone(), rate))
        }
    });
    info.rate_limit = quota.as_ref().map(|q| (q.rate(), q.scope()));
    info.timeout = Some(policy.timeout);
    info.retries = Some(policy.max_retries);
    info.max_concurrency = Some(policy.max_concurrency);
    let mut layered = providers::layered_with_quota(provider, policy, quota);
    if let Some((answers, ttl)) = cache {
        layered = Arc::new(providers::Cached::new(
            layered,
            answers,
            ttl,
            policy.timeout,
        ));
    }
    registry.register_with_info(layered, enabled, info)?;
    Ok(())
}

/// Registers a provider written in Rust (kind `in-process`) the way configured ones are:
/// behind the middleware of `policy`, with its rate limit shared by the fleet on
/// PostgreSQL, and its settings listed by the `providers` query.
pub fn register_in_process(
    registry: &mut ProviderRegistry,
    store: &Store,
    provider: Arc<dyn FlightProvider>,
    policy: &CallPolicy,
    enabled: bool,
) -> anyhow::Result<()> {
    let info = ProviderInfo {
        kind: "in-process".into(),
        ..ProviderInfo::default()
    };
    register_layered(registry, store, provider, policy, enabled, info, None)
}

/// Connects to the database and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url, config.db_max_connections)
        .await
        .context("opening the database (set DATABASE_URL or --database-url)")?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// The API's store: `store`, with the read replicas of `DATABASE_READ_URL` checked now
/// and every second until `shutdown`.
async fn read_replicas(
    config: &Config,
    store: &Store,
    shutdown: &CancellationToken,
) -> anyhow::Result<Store> {
    let urls: Vec<String> = config
        .database_read_url
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return Ok(store.clone());
    }
    if config.max_replica_lag_ms > config.replica_read_your_writes_ms {
        tracing::warn!(
            max_replica_lag_ms = config.max_replica_lag_ms,
            replica_read_your_writes_ms = config.replica_read_your_writes_ms,
            "MAX_REPLICA_LAG_MS is above REPLICA_READ_YOUR_WRITES_MS: a caller may not see what it wrote once the window ends, on a standby that far behind"
        );
    }
    let reads = store
        .clone()
        .with_read_replicas(
            &urls,
            Duration::from_millis(config.max_replica_lag_ms),
            config.db_max_connections,
        )
        .await
        .context("DATABASE_READ_URL")?;
    reads.check_replicas().await;
    let checker = reads.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => checker.check_replicas().await,
            }
        }
    });
    Ok(reads)
}

pub struct Application {
    watcher: Option<watch::Watcher>,
    listener: Option<TcpListener>,
    metrics_listener: Option<(TcpListener, PrometheusHandle)>,
    store: Store,
    worker: Option<Runner>,
    router: Option<axum::Router>,
}

impl Application {
    /// Builds the API (unless `api` is false) and the worker (unless `--no-worker`).
    pub async fn build(
        config: &Config,
        store: Store,
        registry: ProviderRegistry,
        api: bool,
        shutdown: &CancellationToken,
        metrics: Option<PrometheusHandle>,
    ) -> anyhow::Result<Self> {
        let events: Arc<dyn EventBus> = store.event_bus(shutdown.clone());
        let registry = Arc::new(registry);
        let watcher = match &config.watch_dir {
            Some(dir) => Some(watch::Watcher::new(
                dir,
                Duration::from_millis(config.watch_interval_ms),
                store.clone(),
                Arc::clone(&events),
            )?),
            None => None,
        };
        let worker = match !config.no_worker || !api {
            true => {
                let runner = Runner::with_kinds(
                    store.clone(),
                    Arc::clone(&registry),
                    Arc::clone(&events),
                    config.worker_config()?,
                    &config.worker_kinds,
                );
                // Before serving: a second process on the same SQLite file, or a worker id
                // already live on PostgreSQL, is an error at start, not double work.
                runner
                    .take_ownership()
                    .await
                    .context("taking up the database for this worker")?;
                Some(runner)
            }
            false => None,
        };
        let (listener, router) = if api {
            let listener = TcpListener::bind(config.listen).await.with_context(|| {
                format!("binding {} (set LISTEN_ADDR or --listen)", config.listen)
            })?;
            let cors = api::cors_layer(&config.cors_origins).map_err(anyhow::Error::msg)?;
            let mut limits = config.api_limits()?;
            // On SQLite events stay in their process: work done by another one is seen by
            // reading what subscriptions follow again, once for all their subscribers.
            let works_here = worker.is_some()
                && store::LeaseKind::ALL
                    .iter()
                    .all(|k| config.worker_kinds.contains(k));
            if !store.events_in_transaction() && !works_here {
                limits.refresh_followed = Some(Duration::from_secs(1));
            }
            let reads = read_replicas(config, &store, shutdown).await?;
            let router = api::router(api::ApiContext {
                store: reads,
                events,
                providers: registry,
                limits,
                metrics: metrics.clone(),
                tokens: Arc::new(config.tokens()?),
                login_limits: Arc::new(config.login_limits(&store)?),
                recent_writes: Arc::new(api::RecentWrites::new(Duration::from_millis(
                    config.replica_read_your_writes_ms,
                ))),
            });
            let router = match cors {
                Some(cors) => router.layer(cors),
                None => router,
            };
            (Some(listener), Some(router))
        } else {
            (None, None)
        };
        let metrics_listener = match (config.metrics_listen, metrics) {
            (Some(addr), Some(handle)) => Some((
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding {addr} (METRICS_LISTEN)"))?,
                handle,
            )),
            _ => None,
        };
        Ok(Self {
            watcher,
            listener,
            metrics_listener,
            store,
            worker,
            router,
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|(l, _)| l.local_addr().ok())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs until `shutdown` fires; then the API drains and every running search commits
    /// a last checkpoint and gives up its lease.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let worker = self.worker.map(|w| {
            let token = shutdown.clone();
            tokio::spawn(async move {
                let result = w.run(token.clone()).await;
                if let Err(e) = &result {
                    // A process that cannot run searches should not look healthy.
                    tracing::error!(error = %e, "the worker failed; shutting down");
                    token.cancel();
                }
                result
            })
        });
        if let Some(watcher) = self.watcher {
            tokio::spawn(watcher.run(shutdown.clone()));
        }
        if let Some((listener, handle)) = self.metrics_listener {
            let router = axum::Router::new()
                .route(
                    "/metrics",
                    axum::routing::get(move || {
                        let handle = handle.clone();
                        async move { handle.render() }
                    }),
                )
                .route("/healthz", axum::routing::get(|| async { "ok" }));
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "metrics endpoint failed");
                }
            });
        }
        if let (Some(listener), Some(router)) = (self.listener, self.router) {
            let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.clone().cancelled_owned())
                .await
                .context("serving HTTP")?;
        } else {
            shutdown.cancelled().await;
        }
        if let Some(worker) = worker {
            worker.await.context("worker task")??;
        }
        self.store.close().await?;
        Ok(())
    }
}

/// Cancels the token on SIGINT or SIGTERM.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        trigger.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        trigger.cancel();
    });
    token
}
