//! Rescue in seconds. A worker's leases live with its process: on PostgreSQL with its
//! database session, on SQLite with its hold on the file. So a process that dies (SIGKILL)
//! loses them as soon as the database sees it go, and its searches move again long before
//! the lease TTL (60 s here) could have expired — and still end with exactly the offers of
//! an uninterrupted run.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestDb, TestWorker, days_from_now};

/// A TTL no rescue in these tests could wait out: whatever moves a search again within
/// `RESCUED_WITHIN` did not wait for it.
const ENV: &[(&str, &str)] = &[
    ("LEASE_TTL_MS", "60000"),
    ("POLL_INTERVAL_MS", "1000"),
    ("SIMULATED_LATENCY_MS", "8"),
    ("TASK_CONCURRENCY", "8"),
    ("CHECKPOINT_EVERY_MS", "100"),
    ("CHECKPOINT_EVERY_TASKS", "40"),
];
const RESCUED_WITHIN: Duration = Duration::from_secs(15);

fn input() -> Value {
    json!({
        "origins": ["LHR", "LGW"],
        "destinations": ["BKK", "SIN", "HND"],
        "departureFrom": days_from_now(20),
        "departureTo": days_from_now(79),
        "nights": {"min": 7, "max": 14},
    })
}

/// The one search of a test database: (status, completed tasks, lease owner, attempts).
async fn state(conn: &DatabaseConnection) -> (String, i64, Option<String>, i32) {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT status, completed_tasks, lease_owner, attempts FROM search_jobs",
        ))
        .await
        .expect("query")
        .expect("one search");
    (
        row.try_get("", "status").expect("status"),
        row.try_get("", "completed_tasks").expect("completed"),
        row.try_get("", "lease_owner").expect("owner"),
        row.try_get("", "attempts").expect("attempts"),
    )
}

/// The one search's result: (status, completed, found), and its offers as (key, price,
/// task) sorted by key.
type Result = ((String, i64, i64), Vec<(String, i64, i64)>);

async fn result(conn: &DatabaseConnection) -> Result {
    let backend = conn.get_database_backend();
    let job = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT status, completed_tasks, found_flights FROM search_jobs",
        ))
        .await
        .expect("query")
        .expect("one search");
    let offers = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT offer_key, price_minor, task_index FROM flight_offers ORDER BY offer_key",
        ))
        .await
        .expect("offers")
        .iter()
        .map(|r| {
            (
                r.try_get("", "offer_key").expect("key"),
                r.try_get("", "price_minor").expect("price"),
                r.try_get("", "task_index").expect("task"),
            )
        })
        .collect();
    (
        (
            job.try_get("", "status").expect("status"),
            job.try_get("", "completed_tasks").expect("completed"),
            job.try_get("", "found_flights").expect("found"),
        ),
        offers,
    )
}

/// Waits, bounded, until the search has done at least `tasks`.
async fn wait_for_progress(conn: &DatabaseConnection, tasks: i64) -> (i64, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, done, owner, _) = state(conn).await;
        assert!(
            status == "QUEUED" || status == "RUNNING",
            "the search runs until it is killed: {status}"
        );
        if done >= tasks {
            return (done, owner);
        }
        assert!(Instant::now() < deadline, "no progress to {tasks} tasks");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Seconds until the search has moved past `done`, bounded well beyond the assertion so a
/// failure says how long it took.
async fn seconds_until_it_moves(conn: &DatabaseConnection, done: i64, since: Instant) -> f64 {
    loop {
        let (_, now_done, _, _) = state(conn).await;
        if now_done > done {
            return since.elapsed().as_secs_f64();
        }
        assert!(
            since.elapsed() < Duration::from_secs(90),
            "the search did not move again within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn reference(backend: Backend) -> Result {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, ENV).await;
    let id = app.start_search(input()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let events = app.follow_progress(&id, Duration::from_secs(300)).await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    app.kill().await;
    result(&db.connect().await).await
}

fn assert_same_result(got: &Result, want: &Result) {
    assert_eq!(got.0.0, "SUCCEEDED");
    assert_eq!(got.0, want.0, "status, tasks and flights as uninterrupted");
    assert_eq!(
        got.0.2,
        got.1.len() as i64,
        "found_flights is what is stored"
    );
    assert_eq!(got.1.len(), want.1.len(), "no offer lost or stored twice");
    assert!(got.1 == want.1, "the same offers as the uninterrupted run");
}

async fn a_killed_serve_resumes_at_once_on_restart(backend: Backend) {
    let want = reference(backend).await;
    let db = TestDb::new(backend).await;
    let conn = db.connect().await;
    let app = TestApp::spawn_with(&db, ENV).await;
    let id = app.start_search(input()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let total = want.0.1;
    wait_for_progress(&conn, total / 5).await;
    app.kill().await;
    let (status, done, owner, _) = state(&conn).await;
    assert_eq!(status, "RUNNING", "killed mid-run");
    assert!(owner.is_some(), "killed holding the lease");
    let restarted = Instant::now();
    let app = TestApp::spawn_with(&db, ENV).await;
    let seconds = seconds_until_it_moves(&conn, done, restarted).await;
    println!(
        "{backend:?}: SIGKILL at {done}/{total} tasks, restart → the search moves again after {seconds:.2} s (lease TTL 60 s)"
    );
    assert!(
        seconds < RESCUED_WITHIN.as_secs_f64(),
        "resumed after {seconds:.1} s: it waited for the lease"
    );
    let events = app.follow_progress(&id, Duration::from_secs(300)).await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    app.kill().await;
    assert_same_result(&result(&conn).await, &want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_killed_serve_resumes_at_once_on_restart() {
    a_killed_serve_resumes_at_once_on_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_killed_serve_resumes_at_once_on_restart() {
    a_killed_serve_resumes_at_once_on_restart(Backend::Postgres).await;
}

/// A second process on the same SQLite file is refused at start, naming the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_second_process_on_the_file_is_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn(&db).await;
    let out = tokio::process::Command::new(crate::support::BIN)
        .arg("worker")
        .env("DATABASE_URL", &db.url)
        .output()
        .await
        .expect("run a second worker");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a second owner started: {stderr}");
    assert!(
        stderr.contains("in use by another fast-flights process")
            && stderr.contains(&format!("pid {}", app.pid())),
        "{stderr}"
    );
    app.kill().await;
}

fn worker_env(id: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut env = ENV.to_vec();
    env.push(("WORKER_ID", id));
    env.push(("MAX_CONCURRENT_SEARCHES", "1"));
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_fleet_takes_a_killed_workers_search_over_in_seconds() {
    let want = reference(Backend::Postgres).await;
    let db = TestDb::new(Backend::Postgres).await;
    let conn = db.connect().await;
    let mut env = ENV.to_vec();
    env.push(("NO_WORKER", "true"));
    let api = TestApp::spawn_with(&db, &env).await;
    let mut workers = Vec::new();
    for id in ["w1", "w2", "w3"] {
        workers.push((id, TestWorker::spawn(&db, &worker_env(id)).await));
    }
    let id = api.start_search(input()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let total = want.0.1;
    let (_, owner) = wait_for_progress(&conn, total / 5).await;
    let owner = owner.expect("a worker holds the search");
    let at = workers
        .iter()
        .position(|(id, _)| *id == owner)
        .expect("one of ours");
    let (_, victim) = workers.remove(at);
    victim.kill().await;
    let (_, done, _, _) = state(&conn).await;
    let killed = Instant::now();
    let seconds = seconds_until_it_moves(&conn, done, killed).await;
    let (_, _, new_owner, _) = state(&conn).await;
    println!(
        "fleet: SIGKILL of {owner} at {done}/{total} tasks → {} took over after {seconds:.2} s (lease TTL 60 s)",
        new_owner.as_deref().unwrap_or("?")
    );
    assert!(
        seconds < RESCUED_WITHIN.as_secs_f64(),
        "taken over after {seconds:.1} s: the fleet waited for the lease"
    );
    assert_ne!(new_owner.as_deref(), Some(owner.as_str()));
    let events = api.follow_progress(&id, Duration::from_secs(300)).await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    assert_same_result(&result(&conn).await, &want);
    for (_, w) in workers {
        w.kill().await;
    }
    api.kill().await;
}

/// A worker whose database session is cut while the process lives on loses its leases at
/// once: its run stops and writes nothing more, the search is resumed (by it or another
/// worker) without losing or doubling an offer, and the worker reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_worker_cut_off_from_the_database_is_fenced_and_reconnects() {
    let want = reference(Backend::Postgres).await;
    let db = TestDb::new(Backend::Postgres).await;
    let conn = db.connect().await;
    let mut env = ENV.to_vec();
    env.push(("NO_WORKER", "true"));
    let api = TestApp::spawn_with(&db, &env).await;
    let w1 = TestWorker::spawn(&db, &worker_env("w1")).await;
    let w2 = TestWorker::spawn(&db, &worker_env("w2")).await;
    let id = api.start_search(input()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let total = want.0.1;
    let (_, owner) = wait_for_progress(&conn, total / 5).await;
    let owner = owner.expect("a worker holds the search");
    let (_, _, _, attempts_before) = state(&conn).await;
    let session = format!("fast-flights worker {owner}");
    let sessions = |conn: &DatabaseConnection| {
        let session = session.clone();
        let conn = conn.clone();
        async move {
            conn.query_one_raw(Statement::from_sql_and_values(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
                [session.into()],
            ))
            .await
            .expect("query")
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("n")
        }
    };
    assert_eq!(sessions(&conn).await, 1, "{owner} holds one session");
    let cut = conn
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            [session.clone().into()],
        ))
        .await
        .expect("terminate")
        .expect("row");
    assert_eq!(cut.try_get::<i64>("", "n").expect("n"), 1);
    // Its run may commit what it had in flight before it notices; then it stops, and the
    // search is claimed anew.
    let cut_at = Instant::now();
    let (seconds, attempts_after) = loop {
        let (_, _, _, attempts) = state(&conn).await;
        if attempts > attempts_before {
            break (cut_at.elapsed().as_secs_f64(), attempts);
        }
        assert!(
            cut_at.elapsed() < Duration::from_secs(90),
            "the search was not claimed anew within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (_, done, new_owner, _) = state(&conn).await;
    println!(
        "{owner}'s session cut → claimed anew by {} after {seconds:.2} s (attempt {attempts_after}, at {done}/{total} tasks)",
        new_owner.as_deref().unwrap_or("?")
    );
    assert!(seconds < RESCUED_WITHIN.as_secs_f64(), "{seconds:.1} s");
    let deadline = Instant::now() + Duration::from_secs(20);
    while sessions(&conn).await != 1 {
        assert!(Instant::now() < deadline, "{owner} did not reconnect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = api.follow_progress(&id, Duration::from_secs(300)).await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    assert_same_result(&result(&conn).await, &want);
    let log = if owner == "w1" { w1.log() } else { w2.log() };
    assert!(
        log.contains("lost the worker's database session") && log.contains("lease lost"),
        "the cut-off worker stopped its run: {log}"
    );
    w1.kill().await;
    w2.kill().await;
    api.kill().await;
}
