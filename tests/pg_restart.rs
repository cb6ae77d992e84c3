//! PostgreSQL restarted under a running search: the API reports not-ready while it is
//! away, everything reconnects, and the search ends as if nothing happened. This stops
//! the machine's PostgreSQL cluster, so it is a test binary of its own (cargo runs test
//! binaries one at a time) and needs Debian's `pg_ctlcluster`.

#[path = "e2e/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::json;
use support::{Backend, TestApp, TestDb, days_from_now};

const ENV: &[(&str, &str)] = &[
    ("SIMULATED_LATENCY_MS", "10"),
    ("TASK_CONCURRENCY", "8"),
    ("CHECKPOINT_EVERY_MS", "100"),
    ("LEASE_TTL_MS", "2000"),
    ("POLL_INTERVAL_MS", "200"),
];

fn cluster(action: &str) {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("Debian's PostgreSQL layout (/etc/postgresql) is needed for this test")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .max()
        .expect("a PostgreSQL cluster");
    let status = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .status()
        .expect("run pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster {action} failed");
}

async fn offers(conn: &DatabaseConnection) -> (String, i64, i64, Vec<(String, i64)>) {
    let job = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id::text AS id, status, completed_tasks, found_flights FROM search_jobs",
        ))
        .await
        .expect("job")
        .expect("row");
    let id: String = job.try_get("", "id").expect("id");
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT offer_key, price_minor FROM flight_offers WHERE job_id = '{id}' ORDER BY offer_key"),
        ))
        .await
        .expect("offers");
    (
        job.try_get("", "status").expect("status"),
        job.try_get("", "completed_tasks").expect("completed"),
        job.try_get("", "found_flights").expect("found"),
        rows.iter()
            .map(|r| {
                (
                    r.try_get("", "offer_key").expect("key"),
                    r.try_get("", "price_minor").expect("price"),
                )
            })
            .collect(),
    )
}

fn input() -> serde_json::Value {
    json!({
        "origins": ["LHR", "LGW"],
        "destinations": ["BKK", "SIN", "HND"],
        "departureFrom": days_from_now(20),
        "departureTo": days_from_now(49),
        "nights": {"min": 7, "max": 14},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_survives_a_postgresql_restart() {
    let reference_db = TestDb::new(Backend::Postgres).await;
    let reference_app = TestApp::spawn_with(&reference_db, ENV).await;
    let id = reference_app.start_search(input()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    reference_app
        .follow_progress(&id, Duration::from_secs(120))
        .await;
    reference_app.kill().await;
    let reference = offers(&reference_db.connect().await).await;
    assert_eq!(reference.0, "SUCCEEDED");

    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(&db, ENV).await;
    let job = app.start_search(input()).await;
    let id = job["id"].as_str().expect("id").to_string();
    let total = job["totalTasks"].as_i64().expect("total");
    let started = tokio::time::Instant::now();
    loop {
        let done = app.job(&id).await["completedTasks"]
            .as_i64()
            .expect("completed");
        assert!(
            done < total,
            "finished before the restart; make the search longer"
        );
        if done >= total / 4 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    cluster("stop");
    let ready = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    let down_status = ready.status().as_u16();
    let health = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz")
        .status()
        .as_u16();
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster("start");
    assert_eq!(down_status, 503, "/readyz while the database is away");
    assert_eq!(health, 200, "/healthz while the database is away");

    // Ready again once the database is back.
    let back = tokio::time::Instant::now();
    loop {
        let r = app
            .http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz");
        if r.status().as_u16() == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "never ready again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = app.follow_progress(&id, Duration::from_secs(120)).await;
    assert_eq!(
        events.last().expect("events")["status"],
        "SUCCEEDED",
        "{events:?}"
    );
    app.kill().await;

    let after = offers(&db.connect().await).await;
    assert_eq!(after.0, "SUCCEEDED");
    assert_eq!(after.1, total, "every task counted once");
    assert_eq!(after.2, after.3.len() as i64);
    assert!(
        after.3 == reference.3,
        "the same offers as an uninterrupted run"
    );
}
