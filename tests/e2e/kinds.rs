//! `fast-flights worker --kinds …` runs only the kinds of work it is given, and `/metrics`
//! shows each kind's queue: how many items wait and for how long the oldest has.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::support::{BIN, Backend, TestApp, TestDb, TestWorker, days_from_now};

async fn metrics(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

/// The value of a metric line starting with `prefix`, once it appears.
async fn wait_for_metric(url: &str, prefix: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = metrics(url).await;
        if let Some(v) = text
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            && ok(v)
        {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "no {prefix} as expected in:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_each_kind_of_work_scales_on_its_own() {
    let db = TestDb::new(Backend::Postgres).await;
    let api = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let imports = TestWorker::spawn(
        &db,
        &[
            ("WORKER_ID", "importer"),
            ("WORKER_KINDS", "import"),
            ("METRICS_LISTEN", "127.0.0.1:0"),
        ],
    )
    .await;
    let imports_metrics = imports.metrics_url.clone().expect("metrics url");
    let job = api
        .start_search(json!({
            "origins": ["LHR"],
            "destinations": ["JFK"],
            "departureFrom": days_from_now(20),
            "departureTo": days_from_now(29),
        }))
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();

    // The import worker registered for imports alone, and reports the import queue.
    let conn = db.connect().await;
    let kinds = conn
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT kinds FROM workers WHERE id = 'importer'",
        ))
        .await
        .expect("query")
        .expect("the importer is registered")
        .try_get::<String>("", "kinds")
        .expect("kinds");
    assert_eq!(kinds, "import");
    wait_for_metric(
        &imports_metrics,
        "fast_flights_queue_depth{kind=\"import\"}",
        |v| v == 0.0,
    )
    .await;
    assert!(
        !metrics(&imports_metrics)
            .await
            .contains("fast_flights_queue_depth{kind=\"search\"}"),
        "an import worker does not watch the search queue"
    );

    // A search worker sees the waiting search in its queue figures, then runs it.
    let searches = TestWorker::spawn(
        &db,
        &[
            ("WORKER_ID", "searcher"),
            ("WORKER_KINDS", "search"),
            ("METRICS_LISTEN", "127.0.0.1:0"),
        ],
    )
    .await;
    let events = api.follow_progress(&job, Duration::from_secs(120)).await;
    assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    let searches_metrics = searches.metrics_url.clone().expect("metrics url");
    wait_for_metric(
        &searches_metrics,
        "fast_flights_queue_oldest_seconds{kind=\"search\"}",
        |v| v >= 0.0,
    )
    .await;
    let job = api.job(&job).await;
    assert_eq!(job["attempts"], 1, "one worker ran it: {job}");
    searches.kill().await;
    imports.kill().await;
    api.kill().await;
}

#[tokio::test]
async fn an_unknown_kind_of_work_is_named() {
    let run = tokio::process::Command::new(BIN)
        .arg("worker")
        .env("WORKER_KINDS", "search,teleport")
        .env("DATABASE_URL", "sqlite::memory:")
        .kill_on_drop(true)
        .output();
    // A worker that took the kind would run until stopped: that is a failure, not a hang.
    let out = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the worker refuses an unknown kind instead of running")
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "`teleport` is not a kind of work; the kinds are search, import, booking, consumer, webhook"
        ),
        "{stderr}"
    );
}
