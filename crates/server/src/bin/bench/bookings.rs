//! `fast-flights-bench bookings`: catalogue bookings per second on PostgreSQL — one hot
//! flight, and spread over 1,000 flights — against the floor: `pgbench -M prepared`
//! running the same statements a booking's transaction runs, in the same run, with the
//! event sequence from the one-row counter (ours) and from a PostgreSQL SEQUENCE (what the
//! commit ordering costs). Then commit-to-consumer event lag at a steady 200 bookings/s,
//! and events per second through one consumer (a no-op handler with receipts, and the
//! built-in analytics consumer) over the whole outbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use domain::{AirportCode, Cabin, Currency, FlightOffer, InventoryFlight, Money, Passenger};
use sea_orm::{ConnectionTrait, Database};
use store::{EventBus, EventRecord, InMemoryEventBus, JobEvent, NewBooking, OfferRecord, Store};
use tokio_util::sync::CancellationToken;
use worker::{ConsumerError, ConsumerExecutor, EventConsumer, Executor, Stop, WorkerConfig};

use super::{Backend, drop_db, fresh_db};

const FLIGHTS: usize = 1_000;
const BOOKINGS: usize = 4_000;
const CLIENTS: usize = 32;
const PGBENCH_SECONDS: &str = "8";

fn code(c: &str) -> anyhow::Result<AirportCode> {
    AirportCode::parse(c).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A catalogue offer of `flight` (what a search of the `inventory` provider stores).
pub(super) fn offer(flight: &store::InventoryRecord) -> OfferRecord {
    let f = &flight.flight;
    OfferRecord {
        id: uuid::Uuid::now_v7(),
        job_id: uuid::Uuid::now_v7(),
        task_index: 0,
        departure_date: f.departure_date,
        return_date: None,
        found_at: Utc::now(),
        fetched_at: Utc::now(),
        offer: FlightOffer {
            key: format!(
                "{}@{}",
                f.flight_number,
                f.departure_at.format("%Y%m%dT%H%MZ")
            ),
            provider: "inventory".into(),
            origin: f.origin,
            destination: f.destination,
            departure_at: f.departure_at,
            arrival_at: f.arrival_at,
            return_departure_at: None,
            return_arrival_at: None,
            carrier: f.airline.clone(),
            flight_numbers: vec![f.flight_number.clone()],
            stops: 0,
            duration_minutes: 480,
            price: f.price,
            cabin: f.cabin,
            segments: Vec::new(),
            expires_at: None,
            deep_link: None,
            booking_token: Some(flight.id.to_string()),
            raw: None,
        },
    }
}

pub(super) async fn catalogue(store: &Store) -> anyhow::Result<Vec<store::InventoryRecord>> {
    let day = Utc::now().date_naive() + chrono::Days::new(30);
    let mut flights = Vec::with_capacity(FLIGHTS);
    for i in 0..FLIGHTS {
        let departure_at = day.and_hms_opt(8, 0, 0).context("time")?.and_utc()
            + chrono::Duration::minutes(i as i64);
        let flight = InventoryFlight {
            flight_number: format!("FF{i}"),
            airline: "FF".into(),
            origin: code("LHR")?,
            destination: code("JFK")?,
            departure_at,
            arrival_at: departure_at + chrono::Duration::hours(8),
            departure_date: day,
            cabin: Cabin::Economy,
            price: Money::new(45_000, Currency::EUR)?,
            seats_total: 1_000_000,
            seats_available: 1_000_000,
        };
        flights.push(store.upsert_inventory_flight(&flight).await?);
    }
    Ok(flights)
}

/// One one-seat booking of `offer`, told to `bus` when given (as the API does); gives the
/// milliseconds from the booking's `created_at` to its commit.
pub(super) async fn book_one(
    store: &Store,
    offer: &OfferRecord,
    account: uuid::Uuid,
    key: String,
    bus: Option<&Arc<InMemoryEventBus>>,
) -> anyhow::Result<f64> {
    let flight = offer
        .offer
        .booking_token
        .as_deref()
        .unwrap_or_default()
        .parse()?;
    let (booked, _) = store
        .create_booking(NewBooking {
            account_id: account,
            expected_price: offer.offer.price,
            catalogue_flights: Some(vec![flight]),
            offer: offer.clone(),
            passengers: vec![Passenger {
                given_name: "Ada".into(),
                family_name: "Lovelace".into(),
                born_on: None,
                email: None,
            }],
            idempotency_key: key,
        })
        .await?;
    if let Some(bus) = bus {
        bus.publish(JobEvent::Booking(booked.record().id));
    }
    Ok((Utc::now() - booked.record().created_at)
        .num_microseconds()
        .unwrap_or(0) as f64
        / 1000.0)
}

/// `n` one-seat bookings by `CLIENTS` at once, on `offers` round robin: bookings per second.
async fn book(store: &Store, offers: &[OfferRecord], n: usize, tag: &str) -> anyhow::Result<f64> {
    let next = Arc::new(AtomicUsize::new(0));
    let account = uuid::Uuid::now_v7();
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (store, next, offers, tag) = (
            store.clone(),
            Arc::clone(&next),
            offers.to_vec(),
            tag.to_string(),
        );
        clients.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                book_one(
                    &store,
                    &offers[i % offers.len()],
                    account,
                    format!("{tag}-{i}"),
                    None,
                )
                .await?;
            }
        }));
    }
    for client in clients {
        client.await??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The statements of one catalogue booking, for pgbench; `counter`: the sequence from
/// the one-row counter (ours), else from a SEQUENCE. (pgbench replaces `:name` even inside
/// string literals: the JSON below has a space after each colon.)
fn pgbench_script(hot: bool, counter: bool) -> String {
    let pick = if hot {
        "\\set f 1\n"
    } else {
        "\\set f random(1, 1000)\n"
    };
    let sequence = if counter {
        "UPDATE event_sequence SET last = last + 2 WHERE id = 1 RETURNING last AS seq \\gset\n"
    } else {
        "SELECT nextval('bench_events') * 2 + 1000000000 AS seq \\gset\n"
    };
    format!(
        "{pick}BEGIN;
SELECT id FROM bookings WHERE account_id = '00000000-0000-0000-0000-000000000001' AND idempotency_key = 'nope';
UPDATE inventory_flights SET seats_available = seats_available - 1, updated_at = now() WHERE id = (SELECT id FROM bench_flights WHERE n = :f) AND seats_available >= 1 AND departure_at > now();
SELECT price_minor, currency FROM inventory_flights WHERE id = (SELECT id FROM bench_flights WHERE n = :f);
INSERT INTO bookings (id, account_id, offer_id, job_id, provider, catalogue, status, price_minor, currency, seats, passengers, offer, inventory_ids, idempotency_key, request_hash, provider_reference, created_at, updated_at, confirmed_at) VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000000001', gen_random_uuid(), gen_random_uuid(), 'inventory', true, 'CONFIRMED', 45000, 'EUR', 1, '[{{\"givenName\": \"Ada\", \"familyName\": \"Lovelace\", \"bornOn\": null, \"email\": null}}]', '{{\"offer\": \"a snapshot of about this size, the real one is a few hundred bytes of JSON with the route, times, carrier, flight numbers and price\"}}', gen_random_uuid()::text, gen_random_uuid()::text, md5(random()::text), 'FF-ABCDEFGH', now(), now(), now());
{sequence}INSERT INTO events (id, sequence, type, subject_id, account_id, payload, created_at) VALUES (gen_random_uuid(), :seq - 1, 'booking.created', gen_random_uuid(), '00000000-0000-0000-0000-000000000001', '{{\"v\": 1, \"payload\": \"of about this size, a few hundred bytes of JSON: ids, route, times, seats, price\"}}', now()), (gen_random_uuid(), :seq, 'booking.confirmed', gen_random_uuid(), '00000000-0000-0000-0000-000000000001', '{{\"v\": 1, \"payload\": \"of about this size, a few hundred bytes of JSON: ids, route, times, seats, price\"}}', now());
COMMIT;
"
    )
}

async fn pgbench(url: &str, script: &str) -> anyhow::Result<f64> {
    let dir = std::env::temp_dir().join(format!(
        "ff-bench-pgbench-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("booking.sql");
    std::fs::write(&file, script)?;
    let clients = CLIENTS.to_string();
    let out = tokio::process::Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clients,
            "-j",
            "2",
            "-T",
            PGBENCH_SECONDS,
            "-f",
        ])
        .arg(&file)
        .arg(url)
        .output()
        .await
        .context("pgbench (from PostgreSQL's client tools)")?;
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "pgbench failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context("pgbench printed no tps")
}

/// A consumer that notes each event's age when it is handled, with a receipt (as an
/// idempotent handler does).
struct Timing {
    ages_ms: std::sync::Mutex<Vec<f64>>,
    seen: AtomicUsize,
    receipts: bool,
}

#[async_trait]
impl EventConsumer for Timing {
    fn name(&self) -> &'static str {
        if self.receipts {
            "bench-receipts"
        } else {
            "bench-timing"
        }
    }

    async fn handle(&self, store: &Store, event: &EventRecord) -> Result<(), ConsumerError> {
        if self.receipts {
            store.take_receipt(self.name(), event).await?;
        } else {
            let age = (Utc::now() - event.created_at)
                .num_microseconds()
                .unwrap_or(0) as f64
                / 1000.0;
            self.ages_ms
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(age);
        }
        self.seen.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs `consumer` from the start of the outbox until it has seen `until` events.
async fn drain(
    store: &Store,
    bus: &Arc<InMemoryEventBus>,
    consumer: Arc<dyn EventConsumer>,
    seen: impl Fn() -> usize,
    until: usize,
) -> anyhow::Result<f64> {
    let config = WorkerConfig {
        poll_interval: Duration::from_millis(50),
        ..WorkerConfig::default()
    };
    let executor = ConsumerExecutor::new(store.clone(), bus.clone(), &config).with(consumer);
    let run = executor
        .claim("bench", None)
        .await?
        .context("the consumer could not be claimed")?;
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let running = tokio::spawn(run.execute(Stop::on(shutdown.clone())));
    while seen() < until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    shutdown.cancel();
    running.await?;
    Ok(until as f64 / seconds)
}

pub async fn run() -> anyhow::Result<()> {
    println!(
        "== bookings (PostgreSQL; {CLIENTS} clients; pgbench -M prepared -c {CLIENTS}, {PGBENCH_SECONDS} s)"
    );
    let db = fresh_db(Backend::Postgres).await?;
    let store = Store::connect(&db.url, CLIENTS as u32).await?;
    store.migrate().await?;
    let flights = catalogue(&store).await?;
    let offers: Vec<OfferRecord> = flights.iter().map(offer).collect();
    let conn = Database::connect(&db.url).await?;
    conn.execute_unprepared(
        "CREATE TABLE bench_flights AS SELECT row_number() OVER (ORDER BY flight_number) AS n, id FROM inventory_flights; \
         CREATE UNIQUE INDEX ON bench_flights (n); CREATE SEQUENCE bench_events;",
    )
    .await?;
    conn.execute_unprepared("ANALYZE").await?;

    for (name, hot) in [("one hot flight", true), ("1,000 flights", false)] {
        let ours = book(
            &store,
            if hot { &offers[..1] } else { &offers },
            BOOKINGS,
            name,
        )
        .await?;
        let floor = pgbench(&db.url, &pgbench_script(hot, true)).await?;
        let unordered = pgbench(&db.url, &pgbench_script(hot, false)).await?;
        println!(
            "  {name}: {ours:.0} bookings/s; floor (the same statements, pgbench) {floor:.0} tx/s = {:.2} of the floor; \
             the floor with a SEQUENCE instead of the commit-ordered counter {unordered:.0} tx/s (the counter costs {:.2}x)",
            ours / floor,
            unordered / floor,
        );
    }
    let seats: i64 = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT MIN(seats_available)::bigint AS m FROM inventory_flights",
        ))
        .await?
        .context("a row")?
        .try_get("", "m")?;
    anyhow::ensure!(seats >= 0, "a negative seat count: {seats}");
    // pgbench's events are not ours to consume.
    conn.execute_unprepared(
        "DELETE FROM events WHERE sequence > 1000000000 OR type NOT LIKE 'booking.%'",
    )
    .await?;

    // Lag: a consumer follows while bookings come at a steady rate.
    let bus = Arc::new(InMemoryEventBus::default());
    let timing = Arc::new(Timing {
        ages_ms: Default::default(),
        seen: AtomicUsize::new(0),
        receipts: false,
    });
    let total_before = store.count_events("booking.created").await?
        + store.count_events("booking.confirmed").await?;
    {
        let counter = Arc::clone(&timing);
        let seen = move || counter.seen.load(Ordering::Relaxed);
        let total = usize::try_from(total_before).unwrap_or(0);
        drain(
            &store,
            &bus,
            timing.clone() as Arc<dyn EventConsumer>,
            seen,
            total,
        )
        .await?;
    }
    timing
        .ages_ms
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    let (rate, seconds) = (200usize, 10usize);
    let consumer = {
        let config = WorkerConfig {
            poll_interval: Duration::from_millis(50),
            ..WorkerConfig::default()
        };
        let executor = ConsumerExecutor::new(store.clone(), bus.clone(), &config)
            .with(timing.clone() as Arc<dyn EventConsumer>);
        executor
            .claim("bench-lag", None)
            .await?
            .context("claim the timing consumer")?
    };
    let shutdown = CancellationToken::new();
    let following = tokio::spawn(consumer.execute(Stop::on(shutdown.clone())));
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate as u32);
    let account = uuid::Uuid::now_v7();
    let mut paced = Vec::with_capacity(rate * seconds);
    for i in 0..rate * seconds {
        ticks.tick().await;
        let (s, o, b) = (
            store.clone(),
            offers[i % offers.len()].clone(),
            Arc::clone(&bus),
        );
        paced.push(tokio::spawn(async move {
            book_one(&s, &o, account, format!("paced-{i}"), Some(&b)).await
        }));
    }
    let mut commits = Vec::with_capacity(paced.len());
    for booking in paced {
        commits.push(booking.await??);
    }
    commits.sort_by(f64::total_cmp);
    let want = usize::try_from(total_before).unwrap_or(0) + 2 * rate * seconds;
    let deadline = Instant::now() + Duration::from_secs(30);
    while timing.seen.load(Ordering::Relaxed) < want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    following.await?;
    let mut ages = timing
        .ages_ms
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    ages.sort_by(f64::total_cmp);
    println!(
        "  commit-to-consumer lag at {rate} bookings/s ({} events, woken by the bus; from the event's created_at, \
         taken when its transaction starts): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; of which the booking's own \
         transaction (created_at to commit): p50 {:.1} ms, p99 {:.1} ms",
        ages.len(),
        percentile(&ages, 0.5),
        percentile(&ages, 0.99),
        ages.last().copied().unwrap_or(f64::NAN),
        percentile(&commits, 0.5),
        percentile(&commits, 0.99),
    );

    // Throughput of one consumer over the whole outbox.
    let total = usize::try_from(
        store.count_events("booking.created").await?
            + store.count_events("booking.confirmed").await?,
    )
    .unwrap_or(0);
    let receipts = Arc::new(Timing {
        ages_ms: Default::default(),
        seen: AtomicUsize::new(0),
        receipts: true,
    });
    let seen = {
        let r = Arc::clone(&receipts);
        move || r.seen.load(Ordering::Relaxed)
    };
    let receipts_rate = drain(&store, &bus, receipts.clone(), seen, total).await?;
    let started = Instant::now();
    let analytics = ConsumerExecutor::new(store.clone(), bus.clone(), &WorkerConfig::default())
        .with(Arc::new(worker::Analytics));
    let names = analytics.names();
    let run = analytics
        .claim("bench-analytics", None)
        .await?
        .context("claim a built-in consumer")?;
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(run.execute(Stop::on(shutdown.clone())));
    let first = names.first().copied().unwrap_or_default();
    loop {
        let done = store.consumer_position(first).await?.map_or(0, |(p, _)| p);
        let last = store
            .events_page(1, Some(done), None, None)
            .await?
            .items
            .is_empty();
        if last && done > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let built_in = total as f64 / started.elapsed().as_secs_f64();
    shutdown.cancel();
    running.await?;
    println!(
        "  one consumer over {total} events: {receipts_rate:.0} events/s (a handler taking a receipt per event); \
         {built_in:.0} events/s (the built-in `{first}` consumer)"
    );
    conn.close().await?;
    drop_db(db).await
}
