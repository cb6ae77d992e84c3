//! `fast-flights-bench cache`: two overlapping searches, the second a subset of the first,
//! against the simulated provider at 100 ms a call behind a 50 calls/s limit. Prints the
//! second search's wall time and provider calls with the answer cache off, in memory, and
//! on Redis (the second search run by another worker with its own cache layer, as another
//! process would). Asserts nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use providers::cache::AnswerStore;
use providers::{
    Cached, CallPolicy, FlightProvider, MemoryStore, ProviderRegistry, RedisStore, SimulatedConfig,
    SimulatedProvider,
};
use store::{InMemoryEventBus, Store};
use worker::{Runner, WorkerConfig};

use super::{Backend, drop_db, fresh_db, median, spec};

const ROUNDS: usize = 3;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Off,
    Memory,
    Redis,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Off => "cache off",
            Mode::Memory => "in process (memory)",
            Mode::Redis => "Redis, second search on another worker",
        }
    }
}

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// The simulated provider at 100 ms behind a 50/s limit, behind `cache` when given.
fn registry(cache: Option<Arc<dyn AnswerStore>>) -> anyhow::Result<Arc<ProviderRegistry>> {
    let policy = CallPolicy {
        rate_per_second: Some(50.0),
        ..CallPolicy::default()
    };
    let simulated = Arc::new(SimulatedProvider::new(SimulatedConfig {
        latency: Duration::from_millis(100),
        ..SimulatedConfig::default()
    }));
    let mut provider = providers::layered(simulated, &policy);
    if let Some(store) = cache {
        provider = Arc::new(Cached::new(
            provider,
            store,
            Duration::from_secs(600),
            policy.timeout,
        )) as Arc<dyn FlightProvider>;
    }
    let mut registry = ProviderRegistry::new();
    registry.register(provider, true)?;
    Ok(Arc::new(registry))
}

fn runner(store: &Store, registry: Arc<ProviderRegistry>, id: &str) -> Runner {
    Runner::with_kinds(
        store.clone(),
        registry,
        Arc::new(InMemoryEventBus::default()),
        WorkerConfig {
            worker_id: id.into(),
            ..WorkerConfig::default()
        },
        &[store::LeaseKind::Search],
    )
}

struct Second {
    seconds: f64,
    provider_calls: u64,
    cache_hits: u64,
    tasks: u64,
}

async fn once(mode: Mode) -> anyhow::Result<Second> {
    let db = fresh_db(Backend::Sqlite).await?;
    let store = Store::connect(&db.url, 8).await?;
    store.migrate().await?;
    let prefix = format!("ff-bench-{}:", uuid::Uuid::new_v4().simple());
    let cache = |mode: Mode| -> anyhow::Result<Option<Arc<dyn AnswerStore>>> {
        Ok(match mode {
            Mode::Off => None,
            Mode::Memory => Some(Arc::new(MemoryStore::new(64 << 20))),
            Mode::Redis => Some(Arc::new(
                RedisStore::connect(&redis_url(), &prefix, Duration::from_millis(50))
                    .map_err(|e| anyhow::anyhow!("Redis at {}: {e}", redis_url()))?,
            )),
        })
    };
    let first_store = cache(mode)?;
    // In memory both searches share the process's cache; on Redis the second worker has
    // its own connection and layer, sharing only Redis.
    let second_store = match mode {
        Mode::Redis => cache(mode)?,
        _ => first_store.clone(),
    };
    let first = spec(&["LHR"], &["BKK", "SIN"], 20, (7, 11))?; // 200 tasks
    let second = spec(&["LHR"], &["BKK"], 20, (7, 11))?; // 100 of them
    let total = |s| domain::TaskPlan::new(s).len();
    let job = store.create_job(&first, total(&first), None).await?;
    runner(&store, registry(first_store)?, "first")
        .run_until_idle()
        .await?;
    let done = store.job(job.id).await?.context("first search")?;
    anyhow::ensure!(done.completed_tasks == done.total_tasks, "{done:?}");

    let job = store.create_job(&second, total(&second), None).await?;
    let started = Instant::now();
    runner(&store, registry(second_store)?, "second")
        .run_until_idle()
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    let done = store.job(job.id).await?.context("second search")?;
    anyhow::ensure!(done.completed_tasks == done.total_tasks, "{done:?}");
    store.close().await?;
    drop_db(db).await?;
    if mode == Mode::Redis {
        let client = redis::Client::open(redis_url())?;
        let mut c = client.get_multiplexed_async_connection().await?;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut c)
            .await?;
        if !keys.is_empty() {
            redis::cmd("DEL").arg(&keys).exec_async(&mut c).await?;
        }
    }
    Ok(Second {
        seconds,
        provider_calls: done.provider_calls,
        cache_hits: done.cache_hits,
        tasks: done.total_tasks,
    })
}

pub async fn run() -> anyhow::Result<()> {
    println!(
        "two overlapping searches (200 tasks, then 100 of them), simulated provider at 100 ms \
         behind 50 calls/s, SQLite; median of {ROUNDS} rounds\n"
    );
    println!(
        "{:<42} {:>10} {:>15} {:>11}",
        "second search", "wall s", "provider calls", "cache hits"
    );
    let mut off = None;
    for mode in [Mode::Off, Mode::Memory, Mode::Redis] {
        let mut seconds = Vec::new();
        let mut last = None;
        for _ in 0..ROUNDS {
            let r = once(mode).await?;
            seconds.push(r.seconds);
            last = Some(r);
        }
        let last = last.context("no round")?;
        let wall = median(seconds);
        let ratio = off.map_or(String::new(), |o: f64| {
            format!("  ({:.0}× faster)", o / wall)
        });
        if mode == Mode::Off {
            off = Some(wall);
        }
        println!(
            "{:<42} {:>10.3} {:>9} of {:<4} {:>11}{ratio}",
            mode.label(),
            wall,
            last.provider_calls,
            last.tasks,
            last.cache_hits
        );
    }
    Ok(())
}
