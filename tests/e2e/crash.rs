//! SIGKILL mid-run, restart, finish: the stored result equals an uninterrupted run's.
//! PostgreSQL, real binary, several kill points at random moments.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestDb, days_from_now};

const ENV: &[(&str, &str)] = &[
    ("SIMULATED_LATENCY_MS", "8"),
    ("TASK_CONCURRENCY", "8"),
    ("CHECKPOINT_EVERY_MS", "100"),
    ("CHECKPOINT_EVERY_TASKS", "40"),
    ("LEASE_TTL_MS", "1000"),
    ("POLL_INTERVAL_MS", "100"),
];

fn input() -> Value {
    json!({
        "origins": ["LHR", "LGW"],
        "destinations": ["BKK", "SIN", "HND"],
        "departureFrom": days_from_now(20),
        "departureTo": days_from_now(79),
        "nights": {"min": 7, "max": 14},
    })
}

#[derive(Debug, PartialEq)]
struct Outcome {
    status: String,
    total: i64,
    completed: i64,
    failed: i64,
    found: i64,
    best_price: Option<i64>,
    /// (offer key, price, task index, carrier, stops, duration), sorted by key.
    offers: Vec<(String, i64, i64, String, i16, i32)>,
}

async fn outcome(conn: &DatabaseConnection, job: &str) -> Outcome {
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT status, total_tasks, completed_tasks, failed_tasks, found_flights, best_price_minor \
                 FROM search_jobs WHERE id = '{job}'"
            ),
        ))
        .await
        .expect("query job")
        .expect("job row");
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT offer_key, price_minor, task_index, carrier, stops, duration_minutes \
                 FROM flight_offers WHERE job_id = '{job}' ORDER BY offer_key"
            ),
        ))
        .await
        .expect("query offers");
    Outcome {
        status: row.try_get("", "status").expect("status"),
        total: row.try_get("", "total_tasks").expect("total"),
        completed: row.try_get("", "completed_tasks").expect("completed"),
        failed: row.try_get("", "failed_tasks").expect("failed"),
        found: row.try_get("", "found_flights").expect("found"),
        best_price: row.try_get("", "best_price_minor").expect("best"),
        offers: rows
            .iter()
            .map(|r| {
                (
                    r.try_get("", "offer_key").expect("key"),
                    r.try_get("", "price_minor").expect("price"),
                    r.try_get("", "task_index").expect("task"),
                    r.try_get("", "carrier").expect("carrier"),
                    r.try_get("", "stops").expect("stops"),
                    r.try_get("", "duration_minutes").expect("duration"),
                )
            })
            .collect(),
    }
}

async fn completed(conn: &DatabaseConnection, job: &str) -> (String, i64) {
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT status, completed_tasks FROM search_jobs WHERE id = '{job}'"),
        ))
        .await
        .expect("query")
        .expect("row");
    (
        row.try_get("", "status").expect("status"),
        row.try_get("", "completed_tasks").expect("completed"),
    )
}

async fn run_to_end(app: &TestApp, job: &str) {
    let events = app.follow_progress(job, Duration::from_secs(300)).await;
    assert_eq!(
        events.last().expect("events")["status"],
        "SUCCEEDED",
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_run_the_search_ends_as_if_never_interrupted() {
    let reference_db = TestDb::new(Backend::Postgres).await;
    let crash_db = TestDb::new(Backend::Postgres).await;

    let reference_app = TestApp::spawn_with(&reference_db, ENV).await;
    let reference_job = reference_app.start_search(input()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    run_to_end(&reference_app, &reference_job).await;
    reference_app.kill().await;
    let reference = outcome(&reference_db.connect().await, &reference_job).await;
    assert!(
        reference.total >= 2_000,
        "a few thousand tasks: {}",
        reference.total
    );
    assert_eq!(reference.completed, reference.total);
    assert_eq!(reference.found, reference.offers.len() as i64);

    let conn = crash_db.connect().await;
    let mut app = TestApp::spawn_with(&crash_db, ENV).await;
    let job = app.start_search(input()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let total = reference.total;
    let mut kills = Vec::new();
    for k in 0..3 {
        // Kill somewhere in the k-th quarter of the work, at a random moment.
        let fraction = 0.1 + 0.25 * k as f64 + fastrand::f64() * 0.2;
        let target = (fraction * total as f64) as i64;
        loop {
            let (status, done) = completed(&conn, &job).await;
            assert_ne!(
                status, "SUCCEEDED",
                "finished before kill point {k}; slow the search down"
            );
            if done >= target {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..100))).await;
        app.kill().await;
        let (status, done) = completed(&conn, &job).await;
        assert_eq!(status, "RUNNING", "killed mid-run");
        assert!(done < total, "killed before the end: {done} of {total}");
        kills.push(done);
        app = TestApp::spawn_with(&crash_db, ENV).await;
    }
    run_to_end(&app, &job).await;
    app.kill().await;

    let crashed = outcome(&conn, &job).await;
    assert_eq!(crashed.status, "SUCCEEDED");
    assert_eq!(
        crashed.completed, total,
        "every task counted once (kills at {kills:?})"
    );
    assert_eq!(crashed.failed, 0);
    assert_eq!(
        crashed.found,
        crashed.offers.len() as i64,
        "found_flights equals the stored offers"
    );
    assert_eq!(crashed.best_price, reference.best_price);
    assert_eq!(
        crashed.offers.len(),
        reference.offers.len(),
        "no duplicates, nothing missing"
    );
    assert!(
        crashed.offers == reference.offers,
        "the same offers as the uninterrupted run"
    );
    let dup = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT count(*) - count(DISTINCT offer_key) AS dup FROM flight_offers WHERE job_id = '{job}'"),
        ))
        .await
        .expect("query")
        .expect("row");
    assert_eq!(dup.try_get::<i64>("", "dup").expect("dup"), 0);
}
