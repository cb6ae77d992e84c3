//! Durable consumers, on both backends: a consumer written here and registered with the
//! executor (no change to the code that writes events) sees every event in order; one run
//! at a time holds it; a run that dies mid-batch leaves no event skipped, and the
//! idempotent handler records each event once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use domain::{AirportCode, Cabin, Currency, FlightOffer, Money, Passenger};
use fast_flights_worker::{
    ConsumerError, ConsumerExecutor, EventConsumer, Executor, Outcome, Stop, WorkerConfig,
};
use sea_orm::{ConnectionTrait, Database};
use store::{EventRecord, InMemoryEventBus, LeaseKind, NewBooking, OfferRecord, Store};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

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
            dir.path().join("c.sqlite").display()
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
    let name = format!("ff_consumers_{}", Uuid::new_v4().simple());
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

fn offer() -> OfferRecord {
    let at = Utc::now() + chrono::Duration::days(30);
    let code = |c: &str| AirportCode::parse(c).expect("code");
    OfferRecord {
        id: Uuid::now_v7(),
        job_id: Uuid::now_v7(),
        task_index: 0,
        departure_date: at.date_naive(),
        return_date: None,
        found_at: Utc::now(),
        fetched_at: Utc::now(),
        offer: FlightOffer {
            key: "K1".into(),
            provider: "simulated".into(),
            origin: code("LHR"),
            destination: code("JFK"),
            departure_at: at,
            arrival_at: at + chrono::Duration::hours(8),
            return_departure_at: None,
            return_arrival_at: None,
            carrier: "BA".into(),
            flight_numbers: vec!["BA117".into()],
            stops: 0,
            duration_minutes: 480,
            price: Money::new(45_000, Currency::EUR).expect("money"),
            cabin: Cabin::Economy,
            segments: Vec::new(),
            expires_at: None,
            deep_link: None,
            booking_token: None,
            raw: None,
        },
    }
}

/// Writes `n` events, through real changes (provider bookings: one `booking.created` each).
async fn write_events(store: &Store, n: usize) {
    let account = Uuid::now_v7();
    let offer = offer();
    for i in 0..n {
        store
            .create_booking(NewBooking {
                account_id: account,
                offer: offer.clone(),
                passengers: vec![Passenger {
                    given_name: "Ada".into(),
                    family_name: format!("L{i}"),
                    born_on: None,
                    email: None,
                }],
                idempotency_key: format!("key-{i}"),
                expected_price: offer.offer.price,
                catalogue_flights: None,
            })
            .await
            .expect("booking");
    }
}

/// Records each event once (by its receipt), and dies on `die_at` the first time it sees it.
struct Recorder {
    die_at: Option<i64>,
    died: CancellationToken,
    calls: AtomicUsize,
    recorded: Mutex<Vec<i64>>,
}

#[async_trait]
impl EventConsumer for Recorder {
    fn name(&self) -> &'static str {
        "test-recorder"
    }

    async fn handle(&self, store: &Store, event: &EventRecord) -> Result<(), ConsumerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if Some(event.sequence) == self.die_at && !self.died.is_cancelled() {
            // The worker dies here: its lease is gone, this call never returns.
            self.died.cancel();
            std::future::pending::<()>().await;
        }
        if store.take_receipt(self.name(), event).await? {
            self.recorded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(event.sequence);
        }
        Ok(())
    }
}

async fn until(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn a_consumer_resumes_after_dying_mid_batch(postgres: bool) {
    let db = database(postgres).await;
    let store = Store::connect(&db.url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    write_events(&store, 30).await;
    let bus = Arc::new(InMemoryEventBus::default());
    let config = WorkerConfig {
        poll_interval: Duration::from_millis(20),
        ..WorkerConfig::default()
    };
    let recorder = Arc::new(Recorder {
        die_at: Some(17),
        died: CancellationToken::new(),
        calls: AtomicUsize::new(0),
        recorded: Mutex::new(Vec::new()),
    });
    let executor =
        ConsumerExecutor::new(store.clone(), bus.clone(), &config).with(recorder.clone());

    // The first run dies on event 17, after handling 1 to 16 in the same batch.
    let first = executor
        .claim("w1", None)
        .await
        .expect("claim")
        .expect("claimed");
    // One run at a time: nobody else gets the consumer while it is held.
    assert!(executor.claim("w2", None).await.expect("claim").is_none());
    let outcome = first
        .execute(Stop {
            shutdown: CancellationToken::new(),
            lease_lost: recorder.died.clone(),
        })
        .await;
    assert_eq!(outcome, Outcome::LeaseLost);
    assert_eq!(
        store
            .consumer_position("test-recorder")
            .await
            .expect("position"),
        Some((0, 0))
    );
    // What a restart does: the dead worker's leases are freed.
    store
        .release_leases(LeaseKind::Consumer, Some("w1"))
        .await
        .expect("release");

    // The next run offers 1 to 16 again (at least once), skips none, and the handler
    // records each event once; then it follows new events as they come.
    let second = executor
        .claim("w2", None)
        .await
        .expect("claim")
        .expect("claimed");
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(second.execute(Stop {
        shutdown: shutdown.clone(),
        lease_lost: CancellationToken::new(),
    }));
    let recorded = || {
        recorder
            .recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    };
    until("30 events recorded", || recorded().len() == 30).await;
    write_events(&store, 5).await;
    until("35 events recorded", || recorded().len() == 35).await;
    shutdown.cancel();
    assert_eq!(running.await.expect("run"), Outcome::Released);
    assert_eq!(recorded(), (1..=35).collect::<Vec<i64>>());
    // 1-16 twice, 17 twice (the first call never returned), the rest once.
    assert_eq!(recorder.calls.load(Ordering::SeqCst), 35 + 17);
    assert_eq!(
        store
            .consumer_position("test-recorder")
            .await
            .expect("position"),
        Some((35, 35))
    );
    // Given back on shutdown: another worker takes it from there at once.
    assert!(executor.claim("w3", None).await.expect("claim").is_some());
    drop_database(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_consumer_resumes_after_dying_mid_batch() {
    a_consumer_resumes_after_dying_mid_batch(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_consumer_resumes_after_dying_mid_batch() {
    a_consumer_resumes_after_dying_mid_batch(true).await;
}
