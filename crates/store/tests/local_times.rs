//! Each offer keeps its local departure times of day (the stored times are UTC; an
//! airport's offset changes with summer time): written with the offer, and filled in by
//! the migration for offers stored before it. The results' time-of-day filters read them.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{database, drop_database, spec};
use domain::{AirportCode, Cabin, Currency, FlightOffer, Money, TaskCursor, TaskPlan};
use fast_flights_store::{
    Checkpoint, CheckpointOutcome, NewOffer, OfferColumns, OfferFilter, OfferOrder, OfferSortKey,
    Store, TimeWindow,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, Statement};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a time")
}

/// LHR → JFK and back: (key, outbound departure, return departure).
const TRIPS: [(&str, &str, &str); 3] = [
    // 06:30 in London in winter; back at 18:00 in New York (UTC-5).
    ("winter", "2027-01-10T06:30:00Z", "2027-01-17T23:00:00Z"),
    // 07:30 in London in summer; back at 19:30 in New York (UTC-4).
    ("summer", "2027-07-10T06:30:00Z", "2027-07-17T23:30:00Z"),
    // 23:15 in London in summer; back at 01:00 in New York.
    ("night", "2027-07-10T22:15:00Z", "2027-07-18T05:00:00Z"),
];
const EXPECTED: [(&str, i64, i64); 3] = [
    ("winter", 390, 1080),
    ("summer", 450, 1170),
    ("night", 1395, 60),
];

fn offer(key: &str, out: &str, back: &str) -> NewOffer {
    let (out, back) = (at(out), at(back));
    NewOffer {
        fetched_at: None,
        task_index: 0,
        departure_date: out.date_naive(),
        return_date: Some(back.date_naive()),
        offer: FlightOffer {
            key: key.into(),
            provider: "simulated".into(),
            origin: AirportCode::parse("LHR").expect("code"),
            destination: AirportCode::parse("JFK").expect("code"),
            departure_at: out,
            arrival_at: out + chrono::Duration::hours(8),
            return_departure_at: Some(back),
            return_arrival_at: Some(back + chrono::Duration::hours(7)),
            carrier: "BA".into(),
            flight_numbers: vec!["BA117".into(), "BA112".into()],
            stops: 0,
            duration_minutes: 900,
            price: Money::new(40_000, Currency::EUR).expect("money"),
            cabin: Cabin::Economy,
            segments: Vec::new(),
            expires_at: None,
            deep_link: None,
            booking_token: None,
            raw: None,
        },
    }
}

async fn stored_minutes(url: &str) -> Vec<(String, i64, i64)> {
    let conn = Database::connect(url).await.expect("connect");
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT offer_key, departure_minute, return_minute FROM flight_offers ORDER BY offer_key",
        ))
        .await
        .expect("read");
    conn.close().await.expect("close");
    let mut out: Vec<(String, i64, i64)> = rows
        .iter()
        .map(|r| {
            let key: String = r.try_get("", "offer_key").expect("key");
            let d: i16 = r.try_get("", "departure_minute").expect("departure minute");
            let b: i16 = r.try_get("", "return_minute").expect("return minute");
            (key, i64::from(d), i64::from(b))
        })
        .collect();
    out.sort();
    out
}

fn expected() -> Vec<(String, i64, i64)> {
    let mut e: Vec<(String, i64, i64)> = EXPECTED
        .iter()
        .map(|(k, d, b)| (k.to_string(), *d, *b))
        .collect();
    e.sort();
    e
}

async fn keys(store: &Store, job: uuid::Uuid, filter: OfferFilter) -> Vec<String> {
    let mut keys: Vec<String> = store
        .offers_page(
            job,
            OfferOrder::new(OfferSortKey::Price, false),
            &filter,
            10,
            None,
            OfferColumns::ALL,
        )
        .await
        .expect("page")
        .items
        .into_iter()
        .map(|o| o.offer.key)
        .collect();
    keys.sort();
    keys
}

async fn local_times(postgres: bool) {
    let db = database(postgres).await;
    let store = Store::connect(&db.url, 2).await.expect("connect");
    store.migrate().await.expect("migrate");
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
    cursor.mark_done(0);
    let outcome = store
        .checkpoint(
            &mut claimed.lease,
            &Checkpoint {
                offers: TRIPS.iter().map(|(k, o, b)| offer(k, o, b)).collect(),
                completed: 1,
                failed: 0,
                errors: Vec::new(),
                cache_hits: 0,
                provider_calls: 0,
                cursor,
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
    let named = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let written = stored_minutes(&db.url).await;
    assert_eq!(written, expected(), "written with the offers");

    // The filters: a morning, and a window across midnight.
    let window = |from, to| Some(TimeWindow { from, to });
    let morning = OfferFilter {
        departure_time: window(360, 479),
        ..OfferFilter::default()
    };
    assert_eq!(
        keys(&store, job.id, morning).await,
        named(&["summer", "winter"])
    );
    let night_back = OfferFilter {
        return_time: window(1320, 300),
        ..OfferFilter::default()
    };
    assert_eq!(keys(&store, job.id, night_back).await, named(&["night"]));
    let both = OfferFilter {
        departure_time: window(420, 1439),
        return_time: window(1100, 1200),
        ..OfferFilter::default()
    };
    assert_eq!(keys(&store, job.id, both).await, named(&["summer"]));

    // Offers stored before the columns existed get their times from the migration.
    let conn = Database::connect(&db.url).await.expect("connect");
    Migrator::down(&conn, Some(1)).await.expect("down");
    Migrator::up(&conn, None).await.expect("up again");
    conn.close().await.expect("close");
    assert_eq!(
        stored_minutes(&db.url).await,
        written,
        "filled in by the migration"
    );
    drop(store);
    drop_database(db).await;
}

#[tokio::test]
async fn sqlite_offers_keep_their_local_departure_times() {
    local_times(false).await;
}

#[tokio::test]
async fn postgres_offers_keep_their_local_departure_times() {
    local_times(true).await;
}
