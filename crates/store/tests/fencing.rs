//! Leases fence writes: a worker whose lease was taken over writes nothing.

use std::time::Duration;

use chrono::Utc;
use domain::{
    AirportCode, Cabin, Currency, Direction, FlightOffer, Money, SearchRequest, SearchSpec,
    Segment, TaskCursor, TaskPlan, ValidationContext,
};
use fast_flights_store::{self as store, Checkpoint, CheckpointOutcome, NewOffer, Store};
use sea_orm::{ConnectionTrait, Database};

struct Db {
    url: String,
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

async fn database(postgres: bool) -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    if !postgres {
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("t.sqlite").display()
        );
        return Db {
            url,
            pg: None,
            _dir: dir,
        };
    }
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let conn = Database::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required at {admin}: {e}"));
    let name = format!("ff_store_{}", uuid::Uuid::new_v4().simple());
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin.clone());
    Db {
        url: format!("{base}/{name}"),
        pg: Some((admin, name)),
        _dir: dir,
    }
}

async fn drop_database(db: Db) {
    if let Some((admin, name)) = db.pg {
        let conn = Database::connect(&admin).await.expect("admin");
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("drop");
    }
}

fn spec() -> SearchSpec {
    let today = Utc::now().date_naive();
    let providers = vec!["simulated".to_string()];
    SearchSpec::parse(
        SearchRequest {
            origins: vec!["LHR".into()],
            destinations: vec!["JFK".into()],
            departure_from: today + chrono::Duration::days(10),
            departure_to: today + chrono::Duration::days(19),
            ..Default::default()
        },
        &ValidationContext {
            today,
            max_tasks: 1000,
            known_providers: &providers,
            enabled_providers: &providers,
            call_shapes: &[],
        },
    )
    .expect("valid spec")
}

fn offer(key: &str, price: i64) -> NewOffer {
    let now = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc();
    let date = now.date_naive();
    NewOffer {
        task_index: 0,
        departure_date: date,
        return_date: None,
        offer: FlightOffer {
            key: key.into(),
            provider: "simulated".into(),
            origin: AirportCode::parse("LHR").expect("code"),
            destination: AirportCode::parse("JFK").expect("code"),
            departure_at: now,
            arrival_at: now + chrono::Duration::hours(8),
            return_departure_at: None,
            return_arrival_at: None,
            carrier: "BA".into(),
            flight_numbers: vec!["BA117".into()],
            stops: 0,
            duration_minutes: 480,
            price: Money::new(price, Currency::EUR).expect("money"),
            cabin: Cabin::Economy,
            segments: vec![Segment {
                direction: Direction::Outbound,
                carrier: "BA".into(),
                flight_number: "BA117".into(),
                origin: AirportCode::parse("LHR").expect("code"),
                destination: AirportCode::parse("JFK").expect("code"),
                departure_at: now,
                arrival_at: now + chrono::Duration::hours(8),
            }],
            expires_at: Some(now + chrono::Duration::days(1)),
            deep_link: None,
            booking_token: Some(format!("token-{key}")),
            raw: Some(serde_json::json!({ "id": key, "fareBasis": "Y1" })),
        },
    }
}

fn checkpoint(cursor: &TaskCursor, offers: Vec<NewOffer>) -> Checkpoint {
    Checkpoint {
        offers,
        completed: 1,
        failed: 0,
        errors: Vec::new(),
        cursor: cursor.clone(),
        tasks_per_second: 1.0,
        eta_seconds: None,
        lease_ttl: Duration::from_secs(30),
        finish: None,
        release: false,
    }
}

async fn a_worker_that_lost_its_lease_writes_nothing(postgres: bool) {
    let db = database(postgres).await;
    let store = Store::connect(&db.url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    let spec = spec();
    let job = store
        .create_job(&spec, TaskPlan::new(&spec).len(), None)
        .await
        .expect("job");

    // Worker A claims with a short lease and stalls past it; worker B takes over.
    let a = store
        .claim_next("worker-a", Duration::from_millis(300), 5)
        .await
        .expect("claim")
        .expect("job");
    assert!(
        store
            .claim_next("worker-b", Duration::from_secs(30), 5)
            .await
            .expect("claim")
            .is_none(),
        "A's lease is live"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let b = store
        .claim_next("worker-b", Duration::from_secs(30), 5)
        .await
        .expect("claim")
        .expect("taken over");
    assert_eq!(b.job.id, job.id);
    assert_eq!(b.job.attempts, 2);

    let mut cursor = TaskCursor::default();
    cursor.mark_done(0);
    let late = store
        .checkpoint(&a.lease, checkpoint(&cursor, vec![offer("stale", 100)]))
        .await
        .expect("checkpoint");
    assert!(
        matches!(late, CheckpointOutcome::LeaseLost),
        "A is fenced off"
    );
    assert!(matches!(
        store
            .renew_lease(&a.lease, Duration::from_secs(30))
            .await
            .expect("renew"),
        store::LeaseState::Lost
    ));
    let after = store.job(job.id).await.expect("read").expect("job");
    assert_eq!(after.completed_tasks, 0, "A's counters were not written");
    assert_eq!(after.found_flights, 0, "A's offers were not written");
    assert_eq!(after.lease_owner.as_deref(), Some("worker-b"));

    // B's own checkpoint goes through.
    let ok = store
        .checkpoint(&b.lease, checkpoint(&cursor, vec![offer("fresh", 200)]))
        .await
        .expect("checkpoint");
    let CheckpointOutcome::Committed(job) = ok else {
        panic!("B holds the lease")
    };
    assert_eq!(job.completed_tasks, 1);
    assert_eq!(job.found_flights, 1);
    assert_eq!(job.best_price.map(|m| m.minor_units), Some(200));

    // The same offer again (a redone task) is stored once.
    let again = store
        .checkpoint(&b.lease, checkpoint(&cursor, vec![offer("fresh", 200)]))
        .await
        .expect("checkpoint");
    let CheckpointOutcome::Committed(job) = again else {
        panic!("B holds the lease")
    };
    assert_eq!(job.found_flights, 1);

    // Everything an offer carries comes back as it went in.
    let page = store
        .offers_page(
            job.id,
            store::OfferOrder::PriceAsc,
            &store::OfferFilter::default(),
            10,
            None,
        )
        .await
        .expect("offers");
    let [stored] = page.items.as_slice() else {
        panic!("one offer stored, got {}", page.items.len())
    };
    let sent = offer("fresh", 200).offer;
    assert_eq!(stored.offer.segments, sent.segments);
    assert_eq!(stored.offer.booking_token, sent.booking_token);
    assert_eq!(stored.offer.raw, sent.raw);
    assert_eq!(stored.offer.expires_at, sent.expires_at);

    store.close().await.expect("close");
    drop_database(db).await;
}

#[tokio::test]
async fn sqlite_a_worker_that_lost_its_lease_writes_nothing() {
    a_worker_that_lost_its_lease_writes_nothing(false).await;
}

#[tokio::test]
async fn postgres_a_worker_that_lost_its_lease_writes_nothing() {
    a_worker_that_lost_its_lease_writes_nothing(true).await;
}

/// The bucket grants at most its burst at once, refills at the rate by the database's clock,
/// and several quota holders together stay within the rate.
#[tokio::test]
async fn postgres_a_shared_quota_holds_across_holders() {
    use providers::Quota;

    let db = database(true).await;
    let store = Store::connect(&db.url, 8).await.expect("connect");
    store.migrate().await.expect("migrate");

    // Half a token a second: emptied, it has nothing to give for the next two seconds,
    // however slow the machine is between the two calls.
    let (granted, available) = store.take_quota("slow", 0.5, 2.0, 5).await.expect("take");
    assert_eq!(granted, 2, "a fresh bucket holds its burst, no more");
    assert!((available - 2.0).abs() < 1e-9);
    let (granted, _) = store.take_quota("slow", 0.5, 2.0, 5).await.expect("take");
    assert_eq!(granted, 0, "an empty bucket grants nothing");
    let (granted, _) = store.take_quota("fast", 20.0, 2.0, 5).await.expect("take");
    assert_eq!(granted, 2);
    tokio::time::sleep(Duration::from_millis(120)).await;
    let (granted, _) = store.take_quota("fast", 20.0, 2.0, 5).await.expect("take");
    assert_eq!(
        granted, 2,
        "refilled at 20/s for 120 ms or more, capped at 2"
    );

    // Three holders (as three processes would be) draw 60 calls at 40/s together.
    let rate = 40.0;
    let holders: Vec<std::sync::Arc<store::SharedQuota>> = (0..3)
        .map(|_| std::sync::Arc::new(store::SharedQuota::new(store.clone(), "q", rate)))
        .collect();
    let started = std::time::Instant::now();
    let calls: Vec<_> = (0..60)
        .map(|i| {
            let q = holders[i % 3].clone();
            tokio::spawn(async move { q.acquire().await })
        })
        .collect();
    for c in calls {
        c.await.expect("call");
    }
    let elapsed = started.elapsed().as_secs_f64();
    // A burst of 4 (a tenth of a second), then 40/s: 56 more calls need at least 1.4 s.
    assert!(elapsed >= 1.35, "60 calls at 40/s took only {elapsed:.2} s");

    store.close().await.expect("close");
    drop_database(db).await;
}
