//! A fleet on one PostgreSQL: 3 worker processes and 2 API processes, 20 searches started
//! through both APIs, one worker SIGKILLed mid-run. Every search ends SUCCEEDED once, with
//! exactly the offers a single process finds, and subscribers on both APIs see it end.

use std::collections::BTreeMap;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestDb, TestWorker, days_from_now};

const ORIGINS: &[&str] = &[
    "LHR", "LGW", "STN", "MAN", "EDI", "CDG", "ORY", "AMS", "FRA", "MUC", "MAD", "BCN", "FCO",
    "MXP", "DUB", "CPH", "ARN", "OSL", "HEL", "VIE",
];

const WORK: &[(&str, &str)] = &[
    ("SIMULATED_LATENCY_MS", "20"),
    ("TASK_CONCURRENCY", "4"),
    ("MAX_CONCURRENT_SEARCHES", "2"),
    ("CHECKPOINT_EVERY_MS", "200"),
    ("LEASE_TTL_MS", "1500"),
    ("POLL_INTERVAL_MS", "100"),
];

fn search(i: usize) -> Value {
    json!({
        "origins": [ORIGINS[i]],
        "destinations": ["JFK", "BKK", "SIN", "DXB", "HND"],
        "departureFrom": days_from_now(20),
        "departureTo": days_from_now(79),
        "label": format!("search-{i:02}"),
    })
}

/// label → (status, completed, total, found, offers as (key, price) sorted)
type Results = BTreeMap<String, (String, i64, i64, i64, Vec<(String, i64)>)>;

async fn results(conn: &DatabaseConnection) -> Results {
    let jobs = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id::text AS id, label, status, completed_tasks, total_tasks, found_flights FROM search_jobs",
        ))
        .await
        .expect("jobs");
    let mut out = Results::new();
    for j in jobs {
        let id: String = j.try_get("", "id").expect("id");
        let offers = conn
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT offer_key, price_minor FROM flight_offers WHERE job_id = '{id}' ORDER BY offer_key"),
            ))
            .await
            .expect("offers")
            .iter()
            .map(|r| (r.try_get("", "offer_key").expect("key"), r.try_get("", "price_minor").expect("price")))
            .collect();
        out.insert(
            j.try_get("", "label").expect("label"),
            (
                j.try_get("", "status").expect("status"),
                j.try_get("", "completed_tasks").expect("completed"),
                j.try_get("", "total_tasks").expect("total"),
                j.try_get("", "found_flights").expect("found"),
                offers,
            ),
        );
    }
    out
}

async fn lease_owners(conn: &DatabaseConnection) -> Vec<String> {
    conn.query_all_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT lease_owner FROM search_jobs WHERE status = 'RUNNING' AND lease_owner IS NOT NULL",
    ))
    .await
    .expect("owners")
    .iter()
    .map(|r| r.try_get("", "lease_owner").expect("owner"))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fleet_survives_a_killed_worker_and_matches_a_single_process() {
    // The reference: one process does all 20 searches.
    let reference_db = TestDb::new(Backend::Postgres).await;
    let single = TestApp::spawn_with(
        &reference_db,
        &[
            ("MAX_CONCURRENT_SEARCHES", "6"),
            ("TASK_CONCURRENCY", "4"),
            ("SIMULATED_LATENCY_MS", "5"),
        ],
    )
    .await;
    let mut reference_ids = Vec::new();
    for i in 0..ORIGINS.len() {
        reference_ids.push(
            single.start_search(search(i)).await["id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    for id in &reference_ids {
        let events = single.follow_progress(id, Duration::from_secs(300)).await;
        assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    }
    single.kill().await;
    let reference = results(&reference_db.connect().await).await;

    // The fleet.
    let db = TestDb::new(Backend::Postgres).await;
    let api_a = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let api_b = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let mut workers = BTreeMap::new();
    for name in ["w1", "w2", "w3"] {
        let mut env = WORK.to_vec();
        env.push(("WORKER_ID", name));
        env.push(("METRICS_LISTEN", "127.0.0.1:0"));
        workers.insert(name, TestWorker::spawn(&db, &env).await);
    }
    let mut ids = Vec::new();
    for i in 0..ORIGINS.len() {
        let api = if i % 2 == 0 { &api_a } else { &api_b };
        ids.push(
            api.start_search(search(i)).await["id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    // Every search is watched on both APIs.
    let mut watchers = Vec::new();
    for id in &ids {
        for api in [&api_a, &api_b] {
            let (addr_api, id) = (api, id.clone());
            watchers.push(async move {
                (
                    id.clone(),
                    addr_api
                        .follow_progress(&id, Duration::from_secs(300))
                        .await,
                )
            });
        }
    }
    let watching = futures::future::join_all(watchers);

    // Kill the first worker seen holding a lease, mid-run.
    let conn = db.connect().await;
    let killer = async {
        let started = tokio::time::Instant::now();
        loop {
            let owners = lease_owners(&conn).await;
            if let Some(victim) = owners.iter().find(|o| workers.contains_key(o.as_str())) {
                let victim = victim.clone();
                tokio::time::sleep(Duration::from_millis(fastrand::u64(100..600))).await;
                return victim;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no worker ever took a job"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let victim = killer.await;
    if let Some(w) = workers.remove(victim.as_str()) {
        w.kill().await;
    }
    let killed_at = tokio::time::Instant::now();
    // Its leases outlive it until they expire: these searches must be taken over.
    let killed_owned = lease_owners(&conn)
        .await
        .iter()
        .filter(|o| **o == victim)
        .count();

    let watched = watching.await;
    let took = killed_at.elapsed();
    for (id, events) in &watched {
        let last = events.last().expect("events");
        assert_eq!(
            last["status"], "SUCCEEDED",
            "job {id} on one API: {events:?}"
        );
        let terminal = events.iter().filter(|e| e["status"] == "SUCCEEDED").count();
        assert_eq!(terminal, 1, "SUCCEEDED exactly once for {id}");
    }
    let fleet = results(&conn).await;
    assert_eq!(fleet.len(), reference.len());
    for (label, (status, completed, total, found, offers)) in &fleet {
        let (_, _, ref_total, ref_found, ref_offers) = &reference[label];
        assert_eq!(status, "SUCCEEDED", "{label}");
        assert_eq!(completed, total, "{label}: every task counted once");
        assert_eq!(total, ref_total, "{label}");
        assert_eq!(
            found, ref_found,
            "{label}: as many offers as one process found"
        );
        assert_eq!(
            *found as usize,
            offers.len(),
            "{label}: found_flights matches the stored offers"
        );
        assert!(
            offers == ref_offers,
            "{label}: the same offers as one process found"
        );
    }
    // Every search the dead worker held was taken over, and counted once in the metrics of
    // the worker that took it.
    let taken_over = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT count(*) AS n FROM search_jobs WHERE taken_over_from = '{victim}'"),
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n");
    assert_eq!(
        taken_over as usize, killed_owned,
        "searches held by {victim} when it died"
    );
    let mut counted = 0.0;
    for w in workers.values() {
        let url = w.metrics_url.as_ref().expect("worker metrics address");
        let text = reqwest::get(url)
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        counted += text
            .lines()
            .find(|l| l.starts_with("fast_flights_lease_takeovers_total"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    assert_eq!(counted, taken_over as f64, "lease takeovers in /metrics");
    eprintln!(
        "killed {victim} while it held {killed_owned} searches; the fleet finished {:.1} s later",
        took.as_secs_f64()
    );
    for (_, w) in workers {
        w.kill().await;
    }
}
