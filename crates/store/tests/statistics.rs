//! Planner statistics stay fresh: right after a search stored thousands of offers, the
//! first page of them is read through the `(job_id, price_minor, id)` index, not by a
//! bitmap scan and a sort of every row of the job (PostgreSQL).

mod common;

use std::time::Duration;

use chrono::Utc;
use common::spec;
use domain::{AirportCode, Cabin, Currency, FlightOffer, Money, TaskCursor, TaskPlan};
use fast_flights_store::{Checkpoint, CheckpointOutcome, NewOffer, Store};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};

const OFFERS: usize = 9_552;
const PER_CHECKPOINT: usize = 796;

fn offer(i: usize) -> NewOffer {
    let at = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc()
        + chrono::Duration::minutes(i as i64);
    NewOffer {
        fetched_at: None,
        task_index: (i / 4) as u64,
        departure_date: at.date_naive(),
        return_date: None,
        offer: FlightOffer {
            key: format!("offer-{i}"),
            provider: "simulated".into(),
            origin: AirportCode::parse("LHR").expect("code"),
            destination: AirportCode::parse("JFK").expect("code"),
            departure_at: at,
            arrival_at: at + chrono::Duration::hours(8),
            return_departure_at: None,
            return_arrival_at: None,
            carrier: "BA".into(),
            flight_numbers: vec!["BA117".into()],
            stops: (i % 3) as u8,
            duration_minutes: 480 + (i % 97) as u32,
            price: Money::new(10_000 + ((i * 7_919) % 90_000) as i64, Currency::EUR)
                .expect("money"),
            cabin: Cabin::Economy,
            segments: Vec::new(),
            expires_at: None,
            deep_link: None,
            booking_token: None,
            raw: None,
        },
    }
}

async fn plan_of_first_page(store_url: &str, job: uuid::Uuid) -> String {
    let conn = Database::connect(store_url).await.expect("connect");
    let rows = conn
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!(
                // Every column, as the read of a page does: an index-only scan cannot answer it.
                "EXPLAIN SELECT * FROM flight_offers WHERE job_id = '{job}' \
                 ORDER BY price_minor ASC, id ASC LIMIT 51"
            ),
        ))
        .await
        .expect("explain");
    let plan = rows
        .iter()
        .map(|r| r.try_get::<String>("", "QUERY PLAN").expect("plan line"))
        .collect::<Vec<_>>()
        .join("\n");
    conn.close().await.expect("close");
    plan
}

#[tokio::test]
async fn postgres_the_first_page_after_a_big_search_uses_the_price_index() {
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let conn = Database::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required at {admin}: {e}"));
    let name = format!("ff_stats_{}", uuid::Uuid::new_v4().simple());
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    let url = format!(
        "{}/{name}",
        admin.rsplit_once('/').expect("a database URL").0
    );

    let store = Store::connect(&url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    // Only the store's own ANALYZE may bring statistics: autovacuum's could come at any time.
    let db = Database::connect(&url).await.expect("connect");
    db.execute_unprepared("ALTER TABLE flight_offers SET (autovacuum_enabled = false)")
        .await
        .expect("autovacuum off");
    db.close().await.expect("close");
    let spec = spec();
    let job = store
        .create_job(&spec, TaskPlan::new(&spec).len(), None)
        .await
        .expect("job");
    let mut claimed = store
        .claim_next("worker", Duration::from_secs(60), 5)
        .await
        .expect("claim")
        .expect("the job");
    let mut cursor = TaskCursor::default();
    for (n, chunk) in (0..OFFERS)
        .collect::<Vec<_>>()
        .chunks(PER_CHECKPOINT)
        .enumerate()
    {
        cursor.mark_done(n as u64);
        let outcome = store
            .checkpoint(
                &mut claimed.lease,
                &Checkpoint {
                    offers: chunk.iter().map(|&i| offer(i)).collect(),
                    completed: 1,
                    failed: 0,
                    errors: Vec::new(),
                    cache_hits: 0,
                    provider_calls: 0,
                    cursor: cursor.clone(),
                    tasks_per_second: 1.0,
                    eta_seconds: None,
                    lease_ttl: Duration::from_secs(60),
                    finish: None,
                    release: false,
                },
            )
            .await
            .expect("checkpoint");
        assert!(matches!(outcome, CheckpointOutcome::Committed(_)));
    }
    let stored = store.job(job.id).await.expect("read").expect("job");
    assert_eq!(stored.found_flights, OFFERS as u64);

    // The store analyzes the table beside the checkpoint that made it stale, not inside it.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut plan = plan_of_first_page(&url, job.id).await;
    while !plan.contains("Index Scan using flight_offers_job_price")
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        plan = plan_of_first_page(&url, job.id).await;
    }
    assert!(
        plan.contains("Index Scan using flight_offers_job_price"),
        "the first page is read through the (job_id, price_minor, id) index:\n{plan}"
    );
    assert!(
        !plan.contains("Sort"),
        "the index gives the order, nothing is sorted:\n{plan}"
    );

    store.close().await.expect("close");
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .expect("drop");
}
