//! Read replicas against a real streaming standby: the test makes its own primary
//! (`initdb`) and a standby of it (`pg_basebackup -R`) on free ports, and runs the server
//! with `DATABASE_READ_URL` pointing at the standby.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::pg_restart::OwnCluster;
use crate::support::{TestApp, days_from_now};

/// Transactions the standby has run in the test's database (its `pg_stat_database`).
async fn standby_transactions(standby: &DatabaseConnection) -> i64 {
    // Statistics reach pg_stat_database when a backend is idle; read a fresh snapshot.
    standby
        .execute_unprepared("SELECT pg_stat_clear_snapshot()")
        .await
        .expect("clear snapshot");
    let row = standby
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT CAST(xact_commit + xact_rollback AS BIGINT) AS n FROM pg_stat_database \
             WHERE datname = current_database()",
        ))
        .await
        .expect("pg_stat_database")
        .expect("a row");
    row.try_get("", "n").expect("n")
}

/// Waits until the standby has replayed everything the primary has written so far (the
/// server's migrations among it).
async fn caught_up(primary: &DatabaseConnection, standby: &DatabaseConnection) {
    let lsn = |conn: &DatabaseConnection, sql: &'static str| {
        let conn = conn.clone();
        async move {
            conn.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .expect("LSN")
                .expect("a row")
                .try_get::<String>("", "lsn")
                .expect("lsn")
        }
    };
    let target = lsn(primary, "SELECT CAST(pg_current_wal_lsn() AS TEXT) AS lsn").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let row = standby
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT pg_last_wal_replay_lsn() >= CAST('{target}' AS pg_lsn) AS done"),
            ))
            .await
            .expect("replay LSN")
            .expect("a row");
        if row.try_get::<bool>("", "done").expect("done") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the standby never caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn readyz(app: &TestApp) -> String {
    app.http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("GET /readyz")
        .text()
        .await
        .expect("text")
}

/// Waits until `/readyz` reports the replica in `state`.
async fn replica_is(app: &TestApp, state: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = readyz(app).await;
        if text
            .lines()
            .any(|l| l.starts_with("replica ") && l.contains(&format!(": {state}")))
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the replica never became {state}: {text}\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const LIST: &str = "{ jobs(first: 20) { nodes { id status } } }";

fn ids(list: &Value) -> Vec<String> {
    list["jobs"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_string())
        .collect()
}

/// List reads, each a transaction wherever it runs.
async fn list_reads(app: &TestApp, n: usize) {
    for _ in 0..n {
        app.data(LIST, json!({})).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_reads_go_to_a_streaming_standby_and_fall_back_to_the_primary() {
    let primary = OwnCluster::start_new();
    let db = primary.database("ff_replica");
    let standby = OwnCluster::standby_of(&primary);
    let standby_url = format!("postgres://postgres@127.0.0.1:{}/ff_replica", standby.port);
    let app = TestApp::spawn_with(
        &db,
        &[
            ("DATABASE_READ_URL", &standby_url),
            // A standby whose replay is paused stays in use: what it serves is stale.
            ("MAX_REPLICA_LAG_MS", "600000"),
            ("REPLICA_READ_YOUR_WRITES_MS", "500"),
        ],
    )
    .await;
    replica_is(&app, "up").await;
    let on_standby = Database::connect(&standby_url).await.expect("standby");
    caught_up(&db.connect().await, &on_standby).await;
    on_standby
        .execute_unprepared("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause replay");

    // Right after startSearch, the caller's list and the search's page are fresh although
    // the standby has not replayed the search: they are read from the primary.
    let job = app
        .start_search(json!({
            "origins": ["LHR"], "destinations": ["JFK"],
            "departureFrom": days_from_now(30), "departureTo": days_from_now(32),
            "providers": ["simulated"],
        }))
        .await;
    let id = job["id"].as_str().expect("id").to_string();
    assert!(
        ids(&app.data(LIST, json!({})).await).contains(&id),
        "read your writes"
    );
    assert_eq!(app.job(&id).await["id"], id);
    app.follow_progress(&id, Duration::from_secs(60)).await;

    // Past the window, the list comes from the standby, which has not seen the search yet…
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        !ids(&app.data(LIST, json!({})).await).contains(&id),
        "the list is read from the paused standby: {}\n{}",
        readyz(&app).await,
        app.log()
    );
    // …until it replays it.
    on_standby
        .execute_unprepared("SELECT pg_wal_replay_resume()")
        .await
        .expect("resume replay");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !ids(&app.data(LIST, json!({})).await).contains(&id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the standby never caught up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // List reads are served by the standby.
    let before = standby_transactions(&on_standby).await;
    list_reads(&app, 40).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let served = standby_transactions(&on_standby).await - before;
        if served >= 40 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the standby ran {served} transactions for 40 list reads\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The standby stopped: reads fall back to the primary, with no error.
    on_standby.close().await.expect("close");
    standby.stop();
    for _ in 0..20 {
        let list = app.gql(LIST, json!({})).await;
        assert!(
            list["errors"].is_null(),
            "a read failed with the standby down: {list}"
        );
        assert!(ids(&list["data"]).contains(&id));
    }
    replica_is(&app, "down").await;
    let list = app.gql(LIST, json!({})).await;
    assert!(list["errors"].is_null(), "{list}");

    // Started again: reads return to it.
    standby.start();
    replica_is(&app, "up").await;
    let on_standby = Database::connect(&standby_url)
        .await
        .expect("standby again");
    let before = standby_transactions(&on_standby).await;
    list_reads(&app, 40).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while standby_transactions(&on_standby).await - before < 40 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reads did not return to the standby"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Cut off from its primary, it has replayed all it received and is not behind by its
    // own measure, but it is not streaming: it gets no reads.
    standby.reconfigure("primary_conninfo = 'host=127.0.0.1 port=1 user=postgres'");
    replica_is(&app, "lagging").await;
    let list = app.gql(LIST, json!({})).await;
    assert!(list["errors"].is_null(), "{list}");

    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("fast_flights_db_reads_total{target=\"replica\"}")
            && metrics.contains("fast_flights_db_reads_total{target=\"primary\"}"),
        "reads are counted by where they went"
    );
}
