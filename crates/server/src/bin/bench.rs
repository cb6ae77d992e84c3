//! `just bench`: worker throughput, checkpoint overhead and memory of a million-task
//! search, on PostgreSQL and on SQLite. Prints figures; asserts nothing.
//!
//! Runs the real worker in process against a fresh database per run, with the simulated
//! provider at zero latency, so what is measured is the engine: task decoding, offer
//! generation, checkpoints and the database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use domain::{SearchRequest, SearchSpec, TaskPlan, ValidationContext};
use providers::{ProviderRegistry, SimulatedConfig, SimulatedProvider};
use sea_orm::{ConnectionTrait, Database};
use store::{InMemoryEventBus, Store};
use worker::{Worker, WorkerConfig};

const RUNS: usize = 3;

#[derive(Clone, Copy, Debug)]
enum Backend {
    Postgres,
    Sqlite,
}

struct BenchDb {
    url: String,
    pg_name: Option<String>,
    _dir: tempfile_dir::Dir,
}

mod tempfile_dir {
    /// A directory under the system temp folder, removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

async fn fresh_db(backend: Backend) -> anyhow::Result<BenchDb> {
    let dir = std::env::temp_dir().join(format!("ff-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    match backend {
        Backend::Sqlite => Ok(BenchDb {
            url: format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite").display()),
            pg_name: None,
            _dir: tempfile_dir::Dir(dir),
        }),
        Backend::Postgres => {
            let admin = admin_url();
            let conn = Database::connect(&admin)
                .await
                .with_context(|| format!("PostgreSQL at {admin}"))?;
            let name = format!("ff_bench_{}", uuid::Uuid::new_v4().simple());
            conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            conn.close().await?;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            Ok(BenchDb {
                url: format!("{base}/{name}"),
                pg_name: Some(name),
                _dir: tempfile_dir::Dir(dir),
            })
        }
    }
}

async fn drop_db(db: BenchDb) -> anyhow::Result<()> {
    if let Some(name) = &db.pg_name {
        let conn = Database::connect(&admin_url()).await?;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        conn.close().await?;
    }
    Ok(())
}

/// A search of `origins × destinations × days × nights` tasks.
fn spec(
    origins: &[&str],
    destinations: &[&str],
    days: i64,
    nights: (i64, i64),
) -> anyhow::Result<SearchSpec> {
    let today = Utc::now().date_naive();
    let providers = vec!["simulated".to_string()];
    let from = today + chrono::Duration::days(1);
    Ok(SearchSpec::parse(
        SearchRequest {
            origins: origins.iter().map(|s| s.to_string()).collect(),
            destinations: destinations.iter().map(|s| s.to_string()).collect(),
            departure_from: from,
            departure_to: from + chrono::Duration::days(days - 1),
            nights: Some(nights),
            ..Default::default()
        },
        &ValidationContext {
            today,
            max_tasks: 5_000_000,
            known_providers: &providers,
            enabled_providers: &providers,
        },
    )?)
}

const ORIGINS: &[&str] = &["LHR", "LGW", "STN", "LTN", "LCY"];
const DESTINATIONS: &[&str] = &[
    "BKK", "SIN", "HND", "NRT", "ICN", "HKG", "KUL", "MNL", "CGK", "DEL",
];

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

struct RunResult {
    tasks: u64,
    seconds: f64,
    offers: u64,
    rss_at_10pct_kib: u64,
    rss_at_50pct_kib: u64,
    rss_at_end_kib: u64,
}

async fn run(
    backend: Backend,
    spec: &SearchSpec,
    checkpoint_every_tasks: u64,
) -> anyhow::Result<RunResult> {
    let db = fresh_db(backend).await?;
    let store = Store::connect(&db.url, 8).await?;
    store.migrate().await?;
    let total = TaskPlan::new(spec).len();
    let job = store.create_job(spec, total, None).await?;
    let mut registry = ProviderRegistry::new();
    registry.register(
        Arc::new(SimulatedProvider::new(SimulatedConfig {
            seed: 42,
            latency: Duration::ZERO,
            error_rate: 0.0,
        })),
        true,
    )?;
    let worker = Worker::new(
        store.clone(),
        Arc::new(registry),
        Arc::new(InMemoryEventBus::default()),
        WorkerConfig {
            worker_id: "bench".into(),
            checkpoint_every_tasks,
            ..WorkerConfig::default()
        },
    );
    // Sample memory when the job passes 10% and 50%.
    let monitor_store = store.clone();
    let monitor = tokio::spawn(async move {
        let mut samples = Vec::new();
        for tenths in [1, 5] {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Ok(Some(j)) = monitor_store.job(job.id).await
                    && j.completed_tasks * 10 >= j.total_tasks * tenths
                {
                    samples.push(rss_kib("VmRSS:"));
                    break;
                }
            }
        }
        samples
    });
    let started = Instant::now();
    worker.run_until_idle().await?;
    let seconds = started.elapsed().as_secs_f64();
    let rss_at_end_kib = rss_kib("VmRSS:");
    let samples = monitor.await.unwrap_or_default();
    let done = store.job(job.id).await?.context("job vanished")?;
    anyhow::ensure!(
        done.completed_tasks == total,
        "the job did not finish: {done:?}"
    );
    store.close().await?;
    drop_db(db).await?;
    Ok(RunResult {
        tasks: total,
        seconds,
        offers: done.found_flights,
        rss_at_10pct_kib: samples.first().copied().unwrap_or(0),
        rss_at_50pct_kib: samples.get(1).copied().unwrap_or(0),
        rss_at_end_kib,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("fast-flights bench — {cores} cores, {cpu}");
    println!(
        "simulated provider at 0 ms latency; one worker; task concurrency 16; median of {RUNS} runs\n"
    );

    let throughput_spec = spec(ORIGINS, DESTINATIONS, 50, (7, 14))?; // 20,000 tasks
    let every_task_spec = spec(ORIGINS, DESTINATIONS, 5, (7, 14))?; // 2,000 tasks
    let million_spec = spec(ORIGINS, DESTINATIONS, 200, (1, 100))?; // 1,000,000 tasks

    // `fast-flights-bench [all|throughput|rss] [postgres|sqlite]`
    let part = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let only = std::env::args().nth(2);
    anyhow::ensure!(
        ["all", "throughput", "rss"].contains(&part.as_str()),
        "usage: fast-flights-bench [all|throughput|rss] [postgres|sqlite]"
    );
    for backend in [Backend::Postgres, Backend::Sqlite] {
        if only
            .as_deref()
            .is_some_and(|o| !format!("{backend:?}").eq_ignore_ascii_case(o))
        {
            continue;
        }
        println!("== {backend:?}");
        if part != "rss" {
            throughput(backend, &throughput_spec, &every_task_spec).await?;
        }
        if part != "throughput" {
            memory(backend, &million_spec).await?;
        }
    }
    Ok(())
}

async fn throughput(
    backend: Backend,
    throughput_spec: &SearchSpec,
    every_task_spec: &SearchSpec,
) -> anyhow::Result<()> {
    let mut default_rates = Vec::new();
    for _ in 0..RUNS {
        let r = run(
            backend,
            throughput_spec,
            WorkerConfig::default().checkpoint_every_tasks,
        )
        .await?;
        default_rates.push(r.tasks as f64 / r.seconds);
        println!(
            "  default checkpoints (500 tasks / 1 s): {} tasks, {} offers in {:.2} s = {:.0} tasks/s",
            r.tasks,
            r.offers,
            r.seconds,
            r.tasks as f64 / r.seconds
        );
    }
    let mut every_rates = Vec::new();
    for _ in 0..RUNS {
        let r = run(backend, every_task_spec, 1).await?;
        every_rates.push(r.tasks as f64 / r.seconds);
        println!(
            "  a checkpoint every task:              {} tasks in {:.2} s = {:.0} tasks/s",
            r.tasks,
            r.seconds,
            r.tasks as f64 / r.seconds
        );
    }
    let (d, e) = (median(default_rates), median(every_rates));
    println!(
        "  median: default {d:.0} tasks/s, every task {e:.0} tasks/s; checkpoint overhead ratio default/every-task = {:.1}x",
        d / e
    );
    Ok(())
}

async fn memory(backend: Backend, million_spec: &SearchSpec) -> anyhow::Result<()> {
    let r = run(
        backend,
        million_spec,
        WorkerConfig::default().checkpoint_every_tasks,
    )
    .await?;
    println!(
        "  1,000,000-task search: {} tasks, {} offers in {:.1} s ({:.0} tasks/s); RSS at 10% {:.1} MiB, at 50% {:.1} MiB, at 100% {:.1} MiB; peak RSS of the process so far {:.1} MiB\n",
        r.tasks,
        r.offers,
        r.seconds,
        r.tasks as f64 / r.seconds,
        r.rss_at_10pct_kib as f64 / 1024.0,
        r.rss_at_50pct_kib as f64 / 1024.0,
        r.rss_at_end_kib as f64 / 1024.0,
        rss_kib("VmHWM:") as f64 / 1024.0
    );
    Ok(())
}
