//! Leases, on a fake clock: expiry, renewal and fencing (a worker whose lease was taken over
//! writes nothing) for searches and imports alike; on PostgreSQL a lease ends with its
//! worker's session; on SQLite one process owns the file.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{Db, database, drop_database, spec};
use domain::{
    AirportCode, Cabin, Currency, Direction, FlightOffer, Money, Segment, TaskCursor, TaskPlan,
};
use std::sync::Arc;

use fast_flights_store::{
    self as store, Checkpoint, CheckpointOutcome, FakeClock, LeaseKind, NewOffer, SqliteOwner,
    Store, WorkerSession,
};
use sea_orm::{ConnectionTrait, Database};

fn offer(key: &str, price: i64) -> NewOffer {
    let now = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc();
    let date = now.date_naive();
    NewOffer {
        fetched_at: None,
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
        cache_hits: 0,
        provider_calls: 0,
        cursor: cursor.clone(),
        tasks_per_second: 1.0,
        eta_seconds: None,
        lease_ttl: Duration::from_secs(30),
        finish: None,
        release: false,
    }
}

/// A store whose lease clock stands still until the test moves it.
async fn store_on_fake_clock(db: &Db) -> (Store, Arc<FakeClock>) {
    let clock = Arc::new(FakeClock::new(Utc::now()));
    let store = Store::connect(&db.url, 4)
        .await
        .expect("connect")
        .with_clock(clock.clone());
    store.migrate().await.expect("migrate");
    (store, clock)
}

async fn a_worker_that_lost_its_lease_writes_nothing(postgres: bool) {
    let db = database(postgres).await;
    let (store, clock) = store_on_fake_clock(&db).await;
    let spec = spec();
    let job = store
        .create_job(&spec, TaskPlan::new(&spec).len(), None)
        .await
        .expect("job");

    // Worker A claims with a short lease and stalls past it; worker B takes over.
    let mut a = store
        .claim_next("worker-a", Duration::from_millis(300), 5)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(a.lease.kind, LeaseKind::Search);
    clock.advance(Duration::from_millis(299));
    assert!(
        store
            .claim_next("worker-b", Duration::from_secs(30), 5)
            .await
            .expect("claim")
            .is_none(),
        "A's lease is live until it expires"
    );
    clock.advance(Duration::from_millis(2));
    let mut b = store
        .claim_next("worker-b", Duration::from_secs(30), 5)
        .await
        .expect("claim")
        .expect("taken over");
    assert_eq!(b.job.id, job.id);
    assert_eq!(b.job.attempts, 2);
    assert_eq!(b.taken_over_from.as_deref(), Some("worker-a"));

    let mut cursor = TaskCursor::default();
    cursor.mark_done(0);
    let late = store
        .checkpoint(
            &mut a.lease,
            &checkpoint(&cursor, vec![offer("stale", 100)]),
        )
        .await
        .expect("checkpoint");
    assert!(
        matches!(late, CheckpointOutcome::LeaseLost),
        "A is fenced off"
    );
    assert!(matches!(
        store
            .renew_lease(&mut a.lease, Duration::from_secs(30))
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
        .checkpoint(
            &mut b.lease,
            &checkpoint(&cursor, vec![offer("fresh", 200)]),
        )
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
        .checkpoint(
            &mut b.lease,
            &checkpoint(&cursor, vec![offer("fresh", 200)]),
        )
        .await
        .expect("checkpoint");
    let CheckpointOutcome::Committed(job) = again else {
        panic!("B holds the lease")
    };
    assert_eq!(job.found_flights, 1);

    // Everything an offer carries comes back as it went in.
    let stored = &only_offer(&store, job.id, store::OfferColumns::ALL).await;
    let sent = offer("fresh", 200).offer;
    assert_eq!(stored.offer, sent);

    // A read that does not ask for the JSON columns gets every other field all the same.
    let without_json_columns = store::OfferColumns {
        flight_numbers: false,
        segments: false,
        raw_payload: false,
        ..store::OfferColumns::ALL
    };
    let lean = &only_offer(&store, job.id, without_json_columns).await;
    assert!(lean.offer.segments.is_empty() && lean.offer.raw.is_none());
    assert!(lean.offer.flight_numbers.is_empty());
    let without_json = |o: &FlightOffer| FlightOffer {
        segments: Vec::new(),
        raw: None,
        flight_numbers: Vec::new(),
        ..o.clone()
    };
    assert_eq!(without_json(&lean.offer), without_json(&sent));
    assert_eq!(lean.id, stored.id);
    assert_eq!(lean.found_at, stored.found_at);

    // The leanest read: what is always read comes back as stored, the rest empty.
    let least = &only_offer(&store, job.id, store::OfferColumns::NONE).await;
    let (got, sent) = (&least.offer, &sent);
    assert_eq!(
        (
            least.id,
            least.job_id,
            least.departure_date,
            least.return_date
        ),
        (
            stored.id,
            stored.job_id,
            stored.departure_date,
            stored.return_date
        )
    );
    assert_eq!(
        (&got.origin, &got.destination, &got.carrier, got.stops),
        (&sent.origin, &sent.destination, &sent.carrier, sent.stops)
    );
    assert_eq!(
        (got.duration_minutes, got.price),
        (sent.duration_minutes, sent.price)
    );
    assert_eq!(got.departure_at, chrono::DateTime::UNIX_EPOCH);
    assert!(got.return_arrival_at.is_none() && got.deep_link.is_none());
    assert!(got.provider.is_empty() && got.key.is_empty());
    assert_eq!(least.found_at, chrono::DateTime::UNIX_EPOCH);

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

/// Renewing moves the expiry on from the renewal, and a checkpoint renews too; an expired
/// lease cannot be renewed once another worker took the item.
async fn renewal_keeps_a_lease(postgres: bool) {
    let db = database(postgres).await;
    let (store, clock) = store_on_fake_clock(&db).await;
    let spec = spec();
    store
        .create_job(&spec, TaskPlan::new(&spec).len(), None)
        .await
        .expect("job");
    let ttl = Duration::from_secs(10);
    let mut a = store
        .claim_next("worker-a", ttl, 5)
        .await
        .expect("claim")
        .expect("job");
    let claimed_until = a.lease.expires_at;
    clock.advance(Duration::from_secs(8));
    assert!(matches!(
        store.renew_lease(&mut a.lease, ttl).await.expect("renew"),
        store::LeaseState::Held { .. }
    ));
    assert_eq!(
        a.lease.expires_at,
        claimed_until + chrono::Duration::seconds(8)
    );
    // 16 s after the claim, 8 s after the renewal: still A's.
    clock.advance(Duration::from_secs(8));
    assert!(
        store
            .claim_next("worker-b", ttl, 5)
            .await
            .expect("claim")
            .is_none()
    );
    // A checkpoint renews as well.
    let mut cursor = TaskCursor::default();
    cursor.mark_done(0);
    let committed = store
        .checkpoint(&mut a.lease, &checkpoint(&cursor, Vec::new()))
        .await
        .expect("checkpoint");
    assert!(matches!(committed, CheckpointOutcome::Committed(_)));
    clock.advance(Duration::from_secs(9));
    assert!(
        store
            .claim_next("worker-b", ttl, 5)
            .await
            .expect("claim")
            .is_none(),
        "the checkpoint renewed the lease"
    );
    clock.advance(Duration::from_secs(31));
    assert!(
        store
            .claim_next("worker-b", ttl, 5)
            .await
            .expect("claim")
            .is_some(),
        "30 s of checkpoint TTL later, the lease is free"
    );
    assert!(matches!(
        store.renew_lease(&mut a.lease, ttl).await.expect("renew"),
        store::LeaseState::Lost
    ));
    store.close().await.expect("close");
    drop_database(db).await;
}

#[tokio::test]
async fn sqlite_renewal_keeps_a_lease() {
    renewal_keeps_a_lease(false).await;
}

#[tokio::test]
async fn postgres_renewal_keeps_a_lease() {
    renewal_keeps_a_lease(true).await;
}

/// Imports are the same kind of lease: the same expiry and the same fence.
async fn imports_share_the_lease(postgres: bool) {
    let db = database(postgres).await;
    let (store, clock) = store_on_fake_clock(&db).await;
    let csv = b"flight_number,airline\n".to_vec();
    let import = store
        .store_import(
            store::NewImport {
                source: store::ImportSource::Cli,
                filename: "f.csv".into(),
                owner_id: None,
                dedupe_sha256: None,
            },
            &mut csv.as_slice(),
        )
        .await
        .expect("stored");
    let ttl = Duration::from_secs(5);
    let a = store
        .claim_import("worker-a", ttl, None)
        .await
        .expect("claim")
        .expect("import");
    assert_eq!(a.lease.kind, LeaseKind::Import);
    assert_eq!(a.lease.id, import.id);
    assert!(
        store
            .claim_import("worker-b", ttl, None)
            .await
            .expect("claim")
            .is_none()
    );
    clock.advance(Duration::from_secs(6));
    let b = store
        .claim_import("worker-b", ttl, Some(import.id))
        .await
        .expect("claim")
        .expect("taken over");
    assert_eq!(b.taken_over_from.as_deref(), Some("worker-a"));
    assert_eq!(b.import.attempts, 2);
    let cp = store::ImportCheckpoint {
        rows_read: 7,
        ..Default::default()
    };
    assert!(
        !store
            .import_checkpoint(&a.lease, ttl, &cp)
            .await
            .expect("checkpoint"),
        "A is fenced off"
    );
    assert!(
        !store
            .finish_import(&a.lease, store::ImportStatus::Succeeded, None)
            .await
            .expect("finish")
    );
    assert!(
        store
            .import_checkpoint(&b.lease, ttl, &cp)
            .await
            .expect("checkpoint")
    );
    let stored = store
        .import(import.id)
        .await
        .expect("read")
        .expect("import");
    assert_eq!(stored.rows_read, 7);
    assert_eq!(stored.status, store::ImportStatus::Running);
    assert_eq!(stored.lease_owner.as_deref(), Some("worker-b"));
    store.close().await.expect("close");
    drop_database(db).await;
}

#[tokio::test]
async fn sqlite_imports_share_the_lease() {
    imports_share_the_lease(false).await;
}

#[tokio::test]
async fn postgres_imports_share_the_lease() {
    imports_share_the_lease(true).await;
}

/// On PostgreSQL a lease lives with its worker's session: when the session's connection
/// closes, the lease is free at once, long before its TTL; the worker's session watcher
/// says so, and a second live worker under the same id is refused.
#[tokio::test]
async fn postgres_a_lease_ends_with_its_workers_session() {
    let db = database(true).await;
    let (store, _clock) = store_on_fake_clock(&db).await;
    let spec = spec();
    store
        .create_job(&spec, TaskPlan::new(&spec).len(), None)
        .await
        .expect("job");
    let stop = tokio_util::sync::CancellationToken::new();
    let session = WorkerSession::start(&store, "worker-a", &[LeaseKind::Search], stop.clone())
        .await
        .expect("session");
    let lost = session.current().expect("a session is up");
    match WorkerSession::start(&store, "worker-a", &[LeaseKind::Search], stop.clone()).await {
        Err(store::OwnershipError::DuplicateWorkerId(id)) => assert_eq!(id, "worker-a"),
        Err(e) => panic!("expected a duplicate worker id, got {e}"),
        Ok(_) => panic!("a second live worker-a was accepted"),
    }
    let ttl = Duration::from_secs(3600);
    let mut a = store
        .claim_next("worker-a", ttl, 5)
        .await
        .expect("claim")
        .expect("job");
    assert!(
        store
            .claim_next("worker-b", ttl, 5)
            .await
            .expect("claim")
            .is_none(),
        "A's session is alive"
    );

    // Cut A's session from the server's side; the clock does not move.
    let admin = Database::connect(&db.url).await.expect("connect");
    let killed = admin
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            [store::leases::session_name("worker-a").into()],
        ))
        .await
        .expect("terminate")
        .expect("row");
    assert_eq!(killed.try_get::<i64>("", "n").expect("n"), 1);
    // The server frees the session's lock as the backend exits; wait for that, bounded.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let b = loop {
        if let Some(b) = store.claim_next("worker-b", ttl, 5).await.expect("claim") {
            break b;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "B takes the job over as soon as A's session is gone"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(b.taken_over_from.as_deref(), Some("worker-a"));
    tokio::time::timeout(Duration::from_secs(10), lost.cancelled())
        .await
        .expect("A's watcher notices the lost session");
    let mut cursor = TaskCursor::default();
    cursor.mark_done(0);
    assert!(matches!(
        store
            .checkpoint(&mut a.lease, &checkpoint(&cursor, vec![offer("stale", 1)]))
            .await
            .expect("checkpoint"),
        CheckpointOutcome::LeaseLost
    ));
    // A reconnects, with a new session.
    let again = tokio::time::timeout(Duration::from_secs(10), session.established())
        .await
        .expect("A's session comes back")
        .expect("session");
    assert!(!again.is_cancelled());
    stop.cancel();
    drop(admin);
    store.close().await.expect("close");
    drop_database(db).await;
}

/// One process owns an SQLite file; a second is told which one has it.
#[tokio::test]
async fn sqlite_one_process_owns_the_file() {
    let db = database(false).await;
    let store = Store::connect(&db.url, 2).await.expect("connect");
    let owner = SqliteOwner::acquire(&store)
        .expect("first owner")
        .expect("a file");
    let other = Store::connect(&db.url, 2).await.expect("connect");
    match SqliteOwner::acquire(&other) {
        Err(e @ store::OwnershipError::SqliteInUse { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains(&format!("pid {}", std::process::id())),
                "{message}"
            );
            assert!(message.contains("PostgreSQL"), "{message}");
        }
        Err(e) => panic!("expected the file to be in use, got {e}"),
        Ok(_) => panic!("two owners of one SQLite file"),
    }
    drop(owner);
    assert!(SqliteOwner::acquire(&other).expect("free again").is_some());
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

/// The queue figures of a kind: waiting items (queued, or running under a free lease) and
/// since when the oldest has waited, by the lease clock.
async fn queue_stats_count_what_waits(postgres: bool) {
    let db = database(postgres).await;
    let (store, clock) = store_on_fake_clock(&db).await;
    let spec = spec();
    for _ in 0..3 {
        store
            .create_job(&spec, TaskPlan::new(&spec).len(), None)
            .await
            .expect("job");
    }
    clock.advance(Duration::from_secs(90));
    let (depth, oldest) = store.queue_stats(LeaseKind::Search).await.expect("stats");
    assert_eq!(depth, 3);
    assert_eq!((store.now() - oldest.expect("an oldest")).num_seconds(), 90);
    let ttl = Duration::from_secs(10);
    store
        .claim_next("worker-a", ttl, 5)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(
        store.queue_stats(LeaseKind::Search).await.expect("stats").0,
        2
    );
    clock.advance(Duration::from_secs(11));
    assert_eq!(
        store.queue_stats(LeaseKind::Search).await.expect("stats").0,
        3,
        "a running search whose lease expired waits again"
    );
    assert_eq!(
        store.queue_stats(LeaseKind::Import).await.expect("stats"),
        (0, None)
    );
    store.close().await.expect("close");
    drop_database(db).await;
}

#[tokio::test]
async fn sqlite_queue_stats_count_what_waits() {
    queue_stats_count_what_waits(false).await;
}

#[tokio::test]
async fn postgres_queue_stats_count_what_waits() {
    queue_stats_count_what_waits(true).await;
}

/// An account's searches per minute are counted over the last 60 s by the lease clock, and
/// what it has queued is counted as it stands.
async fn search_limits_hold_per_account(postgres: bool) {
    let db = database(postgres).await;
    let (store, clock) = store_on_fake_clock(&db).await;
    let user = store
        .create_user(
            &domain::Email::parse("limits@example.com").expect("email"),
            "not-a-real-hash",
            domain::Role::User,
        )
        .await
        .expect("user");
    let spec = spec();
    let tasks = TaskPlan::new(&spec).len();
    let limits = store::SearchLimits {
        max_active: 3,
        max_queued_tasks: tasks * 3,
        max_per_minute: 2,
    };
    for _ in 0..2 {
        store
            .create_job_within(&spec, tasks, user.id, limits)
            .await
            .expect("within the limits");
    }
    let per_minute = store
        .create_job_within(&spec, tasks, user.id, limits)
        .await
        .expect_err("a third in one minute");
    let store::StoreError::QuotaExceeded(q) = per_minute else {
        panic!("expected a quota error, got {per_minute}")
    };
    assert_eq!(q.limit, store::SearchLimit::SearchesPerMinute);
    assert_eq!((q.used, q.max), (2, 2));
    clock.advance(Duration::from_secs(61));
    store
        .create_job_within(&spec, tasks, user.id, limits)
        .await
        .expect("a minute later");
    clock.advance(Duration::from_secs(61));
    let active = store
        .create_job_within(&spec, tasks, user.id, limits)
        .await
        .expect_err("a fourth active");
    let store::StoreError::QuotaExceeded(q) = active else {
        panic!("expected a quota error, got {active}")
    };
    assert_eq!(q.limit, store::SearchLimit::ActiveSearches);
    assert_eq!((q.used, q.max), (3, 3));
    let tighter = store::SearchLimits {
        max_active: 10,
        max_queued_tasks: tasks * 3 + 1,
        max_per_minute: 10,
    };
    let queued = store
        .create_job_within(&spec, tasks, user.id, tighter)
        .await
        .expect_err("too many tasks");
    let store::StoreError::QuotaExceeded(q) = queued else {
        panic!("expected a quota error, got {queued}")
    };
    assert_eq!(q.limit, store::SearchLimit::QueuedTasks);
    assert_eq!((q.used, q.requested), (tasks * 3, tasks));
    assert!(matches!(
        store
            .create_job_within(&spec, tasks, uuid::Uuid::new_v4(), limits)
            .await,
        Err(store::StoreError::UserNotFound(_))
    ));
    store.close().await.expect("close");
    drop_database(db).await;
}

#[tokio::test]
async fn sqlite_search_limits_hold_per_account() {
    search_limits_hold_per_account(false).await;
}

#[tokio::test]
async fn postgres_search_limits_hold_per_account() {
    search_limits_hold_per_account(true).await;
}

/// The one offer of `job`, read with `columns`.
async fn only_offer(
    store: &Store,
    job: uuid::Uuid,
    columns: store::OfferColumns,
) -> store::OfferRecord {
    let page = store
        .offers_page(
            job,
            store::OfferOrder::PRICE_ASC,
            &store::OfferFilter::default(),
            10,
            None,
            columns,
        )
        .await
        .expect("offers");
    let [offer] = <[_; 1]>::try_from(page.items)
        .unwrap_or_else(|items| panic!("one offer stored, got {}", items.len()));
    offer
}
