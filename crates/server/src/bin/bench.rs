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
use worker::{Runner, WorkerConfig};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 3;

#[path = "bench/bookings.rs"]
mod bookings;
#[path = "bench/cache.rs"]
mod cache;
#[path = "bench/fanout.rs"]
mod fanout;
#[path = "bench/integrations.rs"]
mod integrations;

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
            call_shapes: &[],
        },
    )?)
}

const ORIGINS: &[&str] = &["LHR", "LGW", "STN", "LTN", "LCY"];
const DESTINATIONS: &[&str] = &[
    "BKK", "SIN", "HND", "NRT", "ICN", "HKG", "KUL", "MNL", "CGK", "DEL",
];

/// A `/proc/<pid>/status` figure (`VmRSS:`, `VmHWM:`) of a process, in KiB; 0 if gone.
fn status_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// This process's `field` (see [`status_kib`]).
fn rss_kib(field: &str) -> u64 {
    status_kib("self", field)
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
    let mut simulated: Arc<dyn providers::FlightProvider> =
        Arc::new(SimulatedProvider::new(SimulatedConfig {
            seed: 42,
            latency: Duration::ZERO,
            ..SimulatedConfig::default()
        }));
    // BENCH_PROVIDER_CACHE=memory: behind the memory answer cache, as `just up` runs the
    // simulated provider (every task is a miss: a search asks each question once).
    if std::env::var("BENCH_PROVIDER_CACHE").as_deref() == Ok("memory") {
        simulated = Arc::new(providers::Cached::new(
            simulated,
            Arc::new(providers::MemoryStore::new(64 << 20)),
            Duration::from_secs(600),
            Duration::from_secs(20),
        ));
    }
    registry.register(simulated, true)?;
    let worker = Runner::with_kinds(
        store.clone(),
        Arc::new(registry),
        Arc::new(InMemoryEventBus::default()),
        WorkerConfig {
            worker_id: "bench".into(),
            checkpoint_every_tasks,
            ..WorkerConfig::default()
        },
        &[store::LeaseKind::Search],
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
    // or `fast-flights-bench fanout [CLIENTSxSEARCHES …]`, `… bookings`, `… integrations`,
    // `… cache`
    if std::env::args().nth(1).as_deref() == Some("bookings") {
        return bookings::run().await;
    }
    if std::env::args().nth(1).as_deref() == Some("cache") {
        return cache::run().await;
    }
    if std::env::args().nth(1).as_deref() == Some("integrations") {
        return integrations::run().await;
    }
    if std::env::args().nth(1).as_deref() == Some("fanout") {
        let cases: Vec<String> = std::env::args().skip(2).collect();
        return fanout::run(&cases).await;
    }
    println!(
        "simulated provider at 0 ms latency; one worker; task concurrency 16; median of {RUNS} runs\n"
    );

    let throughput_spec = spec(ORIGINS, DESTINATIONS, 50, (7, 14))?; // 20,000 tasks
    let every_task_spec = spec(ORIGINS, DESTINATIONS, 5, (7, 14))?; // 2,000 tasks
    let million_spec = spec(ORIGINS, DESTINATIONS, 200, (1, 100))?; // 1,000,000 tasks

    // `fast-flights-bench [all|throughput|rss|fleet|rescue|ratelimit|import] [postgres|sqlite]`
    let part = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let only = std::env::args().nth(2);
    anyhow::ensure!(
        [
            "all",
            "throughput",
            "rss",
            "fleet",
            "rescue",
            "ratelimit",
            "import"
        ]
        .contains(&part.as_str()),
        "usage: fast-flights-bench [all|throughput|rss|fleet|rescue|ratelimit|import] [postgres|sqlite], or fast-flights-bench fanout [CLIENTSxSEARCHES …], or fast-flights-bench bookings|integrations|cache"
    );
    if part == "rescue" {
        return fleet::rescue().await;
    }
    if part == "import" || part == "all" {
        import::run().await?;
        if part == "import" {
            return Ok(());
        }
    }
    if part == "ratelimit" || part == "all" {
        ratelimit::run().await?;
        if part == "ratelimit" {
            return Ok(());
        }
    }
    if part == "fleet" || part == "all" {
        fleet::run().await?;
        if part == "fleet" {
            return Ok(());
        }
    }
    for backend in [Backend::Postgres, Backend::Sqlite] {
        if only
            .as_deref()
            .is_some_and(|o| !format!("{backend:?}").eq_ignore_ascii_case(o))
        {
            continue;
        }
        println!("== {backend:?}");
        if part == "fleet" {
            continue;
        }
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

/// Worker processes (the real binary) sharing one PostgreSQL.
mod fleet {
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use anyhow::Context;
    use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
    use store::Store;

    use super::{Backend, BenchDb, DESTINATIONS, ORIGINS, drop_db, fresh_db, median, spec};
    use domain::TaskPlan;

    const SEARCHES: usize = 8;

    /// The `fast-flights` binary beside this one.
    pub(super) fn binary() -> anyhow::Result<std::path::PathBuf> {
        let path = std::env::current_exe()?.with_file_name("fast-flights");
        anyhow::ensure!(
            path.exists(),
            "{} is missing; build it with `cargo build --release`",
            path.display()
        );
        Ok(path)
    }

    pub(super) fn spawn_worker(
        db: &BenchDb,
        id: &str,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Child> {
        spawn_worker_of(&binary()?, db, id, extra)
    }

    fn spawn_worker_of(
        bin: &std::path::Path,
        db: &BenchDb,
        id: &str,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Child> {
        let mut cmd = Command::new(bin);
        cmd.arg("worker")
            .env("DATABASE_URL", &db.url)
            .env("WORKER_ID", id)
            .env("SIMULATED_LATENCY_MS", "0")
            .env("POLL_INTERVAL_MS", "100")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Ok(cmd.spawn()?)
    }

    pub(super) async fn scalar(
        conn: &DatabaseConnection,
        sql: &str,
    ) -> anyhow::Result<Option<String>> {
        let row = conn
            .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_string()))
            .await?
            .context("no row")?;
        Ok(row.try_get::<Option<String>>("", "v")?)
    }

    /// `SEARCHES` searches of 5,000 tasks, run by `workers` processes: tasks per second.
    async fn throughput(workers: usize) -> anyhow::Result<f64> {
        let db = fresh_db(Backend::Postgres).await?;
        let store = Store::connect(&db.url, 4).await?;
        store.migrate().await?;
        let mut total = 0;
        for i in 0..SEARCHES {
            let s = spec(&[ORIGINS[i % ORIGINS.len()]], DESTINATIONS, 63, (7, 14))?;
            let n = TaskPlan::new(&s).len();
            store.create_job(&s, n, None).await?;
            total += n;
        }
        let conn = sea_orm::Database::connect(&db.url).await?;
        let started = Instant::now();
        let mut children = Vec::new();
        for w in 0..workers {
            children.push(spawn_worker(&db, &format!("bench-{w}"), &[])?);
        }
        loop {
            let left = scalar(
                &conn,
                "SELECT count(*)::text AS v FROM search_jobs WHERE status <> 'SUCCEEDED'",
            )
            .await?;
            if left.as_deref() == Some("0") {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(900),
                "the fleet did not finish"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        for mut c in children {
            let _ = c.kill();
            let _ = c.wait();
        }
        conn.close().await?;
        store.close().await?;
        drop_db(db).await?;
        Ok(total as f64 / seconds)
    }

    /// The binaries whose rescue is measured: ours, and with `FF_BENCH_BASELINE_BIN` an
    /// older build too, so before and after come from one run on one machine.
    fn binaries() -> anyhow::Result<Vec<(String, std::path::PathBuf)>> {
        let mut out = vec![("this build".to_string(), binary()?)];
        if let Ok(path) = std::env::var("FF_BENCH_BASELINE_BIN") {
            let path = std::path::PathBuf::from(path);
            anyhow::ensure!(
                path.exists(),
                "FF_BENCH_BASELINE_BIN: {} is missing",
                path.display()
            );
            out.push((format!("baseline {}", path.display()), path));
        }
        Ok(out)
    }

    /// A fresh database holding one long search, migrated by `bin` itself (an older build
    /// refuses a database that carries migrations it does not know).
    async fn database_with_a_search(
        bin: &std::path::Path,
        backend: Backend,
    ) -> anyhow::Result<(BenchDb, DatabaseConnection)> {
        let db = fresh_db(backend).await?;
        let status = Command::new(bin)
            .arg("migrate")
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "{} migrate failed", bin.display());
        let store = Store::connect(&db.url, 2).await?;
        let s = spec(ORIGINS, DESTINATIONS, 200, (1, 100))?;
        store.create_job(&s, TaskPlan::new(&s).len(), None).await?;
        store.close().await?;
        let conn = sea_orm::Database::connect(&db.url).await?;
        Ok((db, conn))
    }

    /// One value of the one search of a bench database, as text, on either backend.
    async fn job_value(conn: &DatabaseConnection, column: &str) -> anyhow::Result<Option<String>> {
        let row = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT CAST({column} AS TEXT) AS v FROM search_jobs"),
            ))
            .await?
            .context("no search")?;
        Ok(row.try_get::<Option<String>>("", "v")?)
    }

    async fn wait_until_running(conn: &DatabaseConnection, owner: &str) -> anyhow::Result<i64> {
        let started = Instant::now();
        loop {
            let done: i64 = job_value(conn, "completed_tasks")
                .await?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if job_value(conn, "lease_owner").await?.as_deref() == Some(owner) && done > 0 {
                return Ok(done);
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "worker {owner} never ran the search"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Seconds from `killed` until the search has moved past `done`.
    async fn until_it_moves(
        conn: &DatabaseConnection,
        done: i64,
        killed: Instant,
    ) -> anyhow::Result<f64> {
        loop {
            let now: i64 = job_value(conn, "completed_tasks")
                .await?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if now > done {
                return Ok(killed.elapsed().as_secs_f64());
            }
            anyhow::ensure!(
                killed.elapsed() < Duration::from_secs(120),
                "nobody resumed the search"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL the worker running a search while another waits; seconds until the other
    /// claims it and until the search moves again, with the default 30 s lease.
    async fn takeover(bin: &std::path::Path) -> anyhow::Result<(f64, f64)> {
        let (db, conn) = database_with_a_search(bin, Backend::Postgres).await?;
        let mut a = spawn_worker_of(bin, &db, "a", &[])?;
        wait_until_running(&conn, "a").await?;
        let mut b = spawn_worker_of(bin, &db, "b", &[])?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        a.kill()?;
        let killed = Instant::now();
        let _ = a.wait();
        let done: i64 = job_value(&conn, "completed_tasks")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let claimed = loop {
            if job_value(&conn, "lease_owner").await?.as_deref() == Some("b") {
                break killed.elapsed().as_secs_f64();
            }
            anyhow::ensure!(
                killed.elapsed() < Duration::from_secs(120),
                "nobody took the search over"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let moved = until_it_moves(&conn, done, killed).await?;
        let _ = b.kill();
        let _ = b.wait();
        conn.close().await?;
        drop_db(db).await?;
        Ok((claimed, moved))
    }

    /// SIGKILL the only worker running a search and start it again at once, under the same
    /// WORKER_ID (as a supervisor would); seconds until the search moves again.
    async fn restart(bin: &std::path::Path, backend: Backend) -> anyhow::Result<f64> {
        let (db, conn) = database_with_a_search(bin, backend).await?;
        let mut a = spawn_worker_of(bin, &db, "a", &[])?;
        wait_until_running(&conn, "a").await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        a.kill()?;
        let killed = Instant::now();
        let _ = a.wait();
        let done: i64 = job_value(&conn, "completed_tasks")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut again = spawn_worker_of(bin, &db, "a", &[])?;
        let moved = until_it_moves(&conn, done, killed).await?;
        let _ = again.kill();
        let _ = again.wait();
        conn.close().await?;
        drop_db(db).await?;
        Ok(moved)
    }

    fn runs(v: &[f64]) -> String {
        let v: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
        v.join(" · ")
    }

    /// SIGKILL → takeover and SIGKILL → restart → moving again, median of `RUNS`, for each
    /// binary.
    pub async fn rescue() -> anyhow::Result<()> {
        println!(
            "== Rescue after SIGKILL (lease TTL 30 s, poll 100 ms; seconds, median of {})",
            super::RUNS
        );
        for (name, bin) in binaries()? {
            let (mut claimed, mut moved) = (Vec::new(), Vec::new());
            for _ in 0..super::RUNS {
                let (c, m) = takeover(&bin).await?;
                claimed.push(c);
                moved.push(m);
            }
            println!(
                "  {name}: PostgreSQL fleet, another worker claims after {:.2} s ({}), the search moves after {:.2} s ({})",
                median(claimed.clone()),
                runs(&claimed),
                median(moved.clone()),
                runs(&moved)
            );
            for backend in [Backend::Postgres, Backend::Sqlite] {
                let mut moved = Vec::new();
                for _ in 0..super::RUNS {
                    moved.push(restart(&bin, backend).await?);
                }
                println!(
                    "  {name}: {backend:?}, killed and restarted, the search moves after {:.2} s ({})",
                    median(moved.clone()),
                    runs(&moved)
                );
            }
        }
        println!();
        Ok(())
    }

    pub async fn run() -> anyhow::Result<()> {
        println!(
            "== PostgreSQL fleet: `fast-flights worker` processes, simulated provider at 0 ms"
        );
        let mut base = 0.0;
        for workers in [1, 2, 4] {
            let mut rates = Vec::new();
            for _ in 0..super::RUNS {
                rates.push(throughput(workers).await?);
            }
            let rate = median(rates.clone());
            if workers == 1 {
                base = rate;
            }
            println!(
                "  {workers} worker process(es), {SEARCHES} searches: runs {:?} tasks/s, median {rate:.0} tasks/s, {:.2}x one process",
                rates.iter().map(|r| r.round() as i64).collect::<Vec<_>>(),
                rate / base
            );
        }
        println!();
        rescue().await
    }
}

/// Issue 4's figure: the simulated provider at 100 ms a call behind a 50 calls/s limit that
/// every worker process shares through PostgreSQL. Achieved rate against the limit, and
/// wall time against the ideal `tasks / rate`, with one worker process and with three.
mod ratelimit {
    use std::time::{Duration, Instant};

    use store::Store;

    use super::fleet::{scalar, spawn_worker};
    use super::{Backend, DESTINATIONS, drop_db, fresh_db, median, spec};
    use domain::TaskPlan;

    const RATE: f64 = 50.0;
    const SEARCHES: usize = 3;

    /// Seconds and tasks for `SEARCHES` searches run by `workers` processes.
    async fn once(workers: usize, providers_file: &str) -> anyhow::Result<(f64, u64)> {
        let db = fresh_db(Backend::Postgres).await?;
        let store = Store::connect(&db.url, 4).await?;
        store.migrate().await?;
        let mut total = 0;
        for i in 0..SEARCHES {
            // 4 destinations × 50 dates × 2 stays = 400 tasks each.
            let s = spec(&[["LHR", "LGW", "STN"][i]], &DESTINATIONS[..4], 50, (7, 8))?;
            let n = TaskPlan::new(&s).len();
            store.create_job(&s, n, None).await?;
            total += n;
        }
        let conn = sea_orm::Database::connect(&db.url).await?;
        let started = Instant::now();
        let mut children = Vec::new();
        for w in 0..workers {
            children.push(spawn_worker(
                &db,
                &format!("rate-{w}"),
                &[
                    ("PROVIDERS_FILE", providers_file),
                    ("SIMULATED_LATENCY_MS", "100"),
                ],
            )?);
        }
        loop {
            let left = scalar(
                &conn,
                "SELECT count(*)::text AS v FROM search_jobs WHERE status <> 'SUCCEEDED'",
            )
            .await?;
            if left.as_deref() == Some("0") {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "the searches did not finish"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        let failed = scalar(
            &conn,
            "SELECT sum(failed_tasks)::text AS v FROM search_jobs",
        )
        .await?;
        anyhow::ensure!(failed.as_deref() == Some("0"), "tasks failed: {failed:?}");
        for mut c in children {
            let _ = c.kill();
            let _ = c.wait();
        }
        conn.close().await?;
        store.close().await?;
        drop_db(db).await?;
        Ok((seconds, total))
    }

    pub async fn run() -> anyhow::Result<()> {
        println!(
            "== PostgreSQL, simulated provider at 100 ms a call, limit {RATE} calls/s shared by the fleet, {SEARCHES} searches"
        );
        let dir = tempfile_dir()?;
        let file = dir.join("providers.toml");
        std::fs::write(
            &file,
            format!(
                "[providers.simulated]\nkind = \"simulated\"\nlatency_ms = 100\nrate_limit = {RATE}\n"
            ),
        )?;
        let file = file.display().to_string();
        for workers in [1, 3] {
            let mut rates = Vec::new();
            let mut walls = Vec::new();
            let mut tasks = 0;
            for _ in 0..super::RUNS {
                let (seconds, total) = once(workers, &file).await?;
                tasks = total;
                rates.push(total as f64 / seconds);
                walls.push(seconds);
            }
            let rate = median(rates.clone());
            let wall = median(walls.clone());
            let ideal = tasks as f64 / RATE;
            println!(
                "  {workers} worker process(es), {tasks} tasks: achieved {:?} calls/s, median {rate:.2} = {:.1}% of the limit; wall {wall:.2} s vs ideal {ideal:.2} s ({:.3}x)",
                rates
                    .iter()
                    .map(|r| (r * 100.0).round() / 100.0)
                    .collect::<Vec<_>>(),
                100.0 * rate / RATE,
                wall / ideal
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
        println!();
        Ok(())
    }

    fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
        let dir = std::env::temp_dir().join(format!("ff-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

/// Importing a 1,000,000-row CSV into PostgreSQL with `fast-flights import` (the release
/// binary, a process of its own), beside `psql \copy` of the same file in the same run.
mod import {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use anyhow::Context;
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

    use super::{Backend, drop_db, fresh_db, median};

    const ROWS: usize = 1_000_000;

    /// The file's own shape, for `\copy`: what a database can load the file into with no
    /// checks, no time zones and no conversions.
    const COPY_TABLE: &str = "CREATE TABLE flights_as_text_columns (flight_number text, airline text, \
        origin char(3), destination char(3), departure timestamp, arrival timestamp, cabin text, \
        price numeric, currency char(3), seats_total int, seats_available int)";

    /// The largest VmHWM (peak resident memory) seen of `pid`, in KiB.
    fn peak_kib(pid: u32) -> u64 {
        super::status_kib(&pid.to_string(), "VmHWM:")
    }

    struct Ours {
        wall: f64,
        /// From the worker taking the import to its end, as recorded in the database.
        import_only: f64,
        peak_mib: f64,
    }

    async fn ours(file: &std::path::Path) -> anyhow::Result<Ours> {
        let db = fresh_db(Backend::Postgres).await?;
        let binary = std::env::current_exe()?.with_file_name("fast-flights");
        let started = Instant::now();
        let mut child = tokio::process::Command::new(&binary)
            .arg("import")
            .arg(file)
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("pid")?;
        let mut peak = 0;
        let status = loop {
            peak = peak.max(peak_kib(pid));
            if let Some(status) = child.try_wait()? {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let wall = started.elapsed().as_secs_f64();
        anyhow::ensure!(status.success(), "fast-flights import failed");
        let conn = Database::connect(&db.url).await?;
        let row = conn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT EXTRACT(EPOCH FROM (finished_at - started_at))::float8 AS s, \
                 rows_imported FROM imports"
                    .to_string(),
            ))
            .await?
            .context("no import")?;
        let import_only: f64 = row.try_get("", "s")?;
        let imported: i64 = row.try_get("", "rows_imported")?;
        anyhow::ensure!(imported == ROWS as i64, "imported {imported} rows");
        conn.close().await?;
        drop_db(db).await?;
        Ok(Ours {
            wall,
            import_only,
            peak_mib: peak as f64 / 1024.0,
        })
    }

    /// The catalogue's indexes on the file-shaped table: what `\copy` pays for them.
    const COPY_INDEXES: &str = "ALTER TABLE flights_as_text_columns ADD COLUMN id uuid DEFAULT gen_random_uuid() PRIMARY KEY; \
        CREATE UNIQUE INDEX ON flights_as_text_columns (flight_number, departure); \
        CREATE INDEX ON flights_as_text_columns (origin, destination, (departure::date)); \
        CREATE INDEX ON flights_as_text_columns (departure, id)";

    async fn copy(file: &std::path::Path, indexed: bool) -> anyhow::Result<f64> {
        let db = fresh_db(Backend::Postgres).await?;
        let conn = Database::connect(&db.url).await?;
        conn.execute_unprepared(COPY_TABLE).await?;
        if indexed {
            conn.execute_unprepared(COPY_INDEXES).await?;
        }
        conn.close().await?;
        let started = Instant::now();
        let status = tokio::process::Command::new("psql")
            .arg(&db.url)
            .arg("-q")
            .arg("-c")
            .arg(format!(
                "\\copy flights_as_text_columns ({}) FROM '{}' WITH (FORMAT csv, HEADER true)",
                domain::inventory::CSV_COLUMNS.join(", "),
                file.display()
            ))
            .status()
            .await
            .context("running psql")?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(status.success(), "psql \\copy failed");
        drop_db(db).await?;
        Ok(seconds)
    }

    pub async fn run() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("ff-bench-import-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("million.csv");
        std::fs::write(&file, fast_flights::sample::flights_csv(ROWS, 0))?;
        let mib = std::fs::metadata(&file)?.len() as f64 / 1_048_576.0;
        println!("== Import of {ROWS} CSV rows ({mib:.0} MiB) into PostgreSQL");
        let (mut walls, mut imports, mut peaks, mut copies) = (vec![], vec![], vec![], vec![]);
        let mut indexed_copies = vec![];
        for _ in 0..super::RUNS {
            // Alternate, so all see the same machine.
            let o = ours(&file).await?;
            copies.push(copy(&file, false).await?);
            indexed_copies.push(copy(&file, true).await?);
            walls.push(o.wall);
            imports.push(o.import_only);
            peaks.push(o.peak_mib);
        }
        let rate = |s: f64| ROWS as f64 / s;
        let round = |v: &[f64]| {
            v.iter()
                .map(|x| (x * 100.0).round() / 100.0)
                .collect::<Vec<_>>()
        };
        let (wall, import, copy, peak) = (
            median(walls.clone()),
            median(imports.clone()),
            median(copies.clone()),
            median(peaks.clone()),
        );
        println!(
            "  fast-flights import, whole command: {:?} s; median {wall:.2} s = {:.0} rows/s",
            round(&walls),
            rate(wall)
        );
        println!(
            "  of which the import (after the file is stored): {:?} s; median {import:.2} s = {:.0} rows/s",
            round(&imports),
            rate(import)
        );
        println!(
            "  psql \\copy into a table of the file's shape: {:?} s; median {copy:.2} s = {:.0} rows/s",
            round(&copies),
            rate(copy)
        );
        let indexed = median(indexed_copies.clone());
        println!(
            "  psql \\copy into it with the catalogue's indexes (primary key, unique flight and departure, route and date, departure): {:?} s; median {indexed:.2} s = {:.0} rows/s",
            round(&indexed_copies),
            rate(indexed)
        );
        println!(
            "  ratio (import rows/s ÷ \\copy rows/s): whole command {:.3}, import only {:.3}; against the indexed \\copy {:.3} and {:.3}",
            copy / wall,
            copy / import,
            indexed / wall,
            indexed / import
        );
        println!(
            "  peak RSS of the importing process: {:?} MiB; median {peak:.0} MiB",
            round(&peaks)
        );
        let _ = std::fs::remove_dir_all(&dir);
        println!();
        Ok(())
    }
}
