//! A checkpoint's offers in one statement on PostgreSQL: the batch goes as one JSON array
//! that `json_to_recordset` expands into rows, instead of a multi-row `INSERT … VALUES`
//! with 26 bound parameters per offer (BENCHMARKS.md, issue 15: the offers of one
//! checkpoint took 90–180 ms that way).

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, Statement};
use serde::Serialize;
use uuid::Uuid;

use crate::records::NewOffer;
use crate::{Result, StoreError};

const INSERT: &str = "INSERT INTO flight_offers (id, job_id, task_index, provider, offer_key, \
    origin, destination, departure_date, return_date, departure_at, arrival_at, \
    return_departure_at, return_arrival_at, carrier, flight_numbers, stops, duration_minutes, \
    price_minor, currency, cabin, deep_link, found_at, segments, expires_at, booking_token, \
    raw_payload) \
    SELECT r.id, $2, r.task_index, r.provider, r.offer_key, r.origin, r.destination, \
    r.departure_date, r.return_date, r.departure_at, r.arrival_at, r.return_departure_at, \
    r.return_arrival_at, r.carrier, r.flight_numbers, r.stops, r.duration_minutes, \
    r.price_minor, r.currency, r.cabin, r.deep_link, $3, r.segments, r.expires_at, \
    r.booking_token, r.raw_payload \
    FROM json_to_recordset($1::json) AS r(id uuid, task_index bigint, provider text, \
    offer_key text, origin text, destination text, departure_date date, return_date date, \
    departure_at timestamptz, arrival_at timestamptz, return_departure_at timestamptz, \
    return_arrival_at timestamptz, carrier text, flight_numbers json, stops smallint, \
    duration_minutes integer, price_minor bigint, currency text, cabin text, deep_link text, \
    segments json, expires_at timestamptz, booking_token text, raw_payload json) \
    ON CONFLICT (job_id, offer_key) DO NOTHING";

/// Stores `offers` of job `job_id` found at `now`, each once per job: how many were new.
pub(crate) async fn insert_offers_pg(
    txn: &DatabaseTransaction,
    job_id: Uuid,
    offers: &[NewOffer],
    now: DateTime<Utc>,
) -> Result<u64> {
    if offers.is_empty() {
        return Ok(0);
    }
    let rows: Vec<Row<'_>> = offers.iter().map(Row::from).collect();
    let batch = serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let done = txn
        .execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            INSERT,
            [batch.into(), job_id.into(), now.into()],
        ))
        .await?;
    Ok(done.rows_affected())
}

/// One offer as `json_to_recordset` reads it. Absent options are SQL NULL.
#[derive(Serialize)]
struct Row<'a> {
    id: Uuid,
    task_index: i64,
    provider: &'a str,
    offer_key: &'a str,
    origin: domain::AirportCode,
    destination: domain::AirportCode,
    departure_date: chrono::NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_date: Option<chrono::NaiveDate>,
    departure_at: Timestamp,
    arrival_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_departure_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_arrival_at: Option<Timestamp>,
    carrier: &'a str,
    flight_numbers: &'a [String],
    stops: u8,
    duration_minutes: i32,
    price_minor: i64,
    currency: &'static str,
    cabin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    deep_link: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    segments: &'a [domain::Segment],
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    booking_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_payload: Option<&'a serde_json::Value>,
}

impl<'a> From<&'a NewOffer> for Row<'a> {
    fn from(o: &'a NewOffer) -> Self {
        let f = &o.offer;
        Row {
            id: Uuid::now_v7(),
            task_index: i64::try_from(o.task_index).unwrap_or(i64::MAX),
            provider: &f.provider,
            offer_key: &f.key,
            origin: f.origin,
            destination: f.destination,
            departure_date: o.departure_date,
            return_date: o.return_date,
            departure_at: Timestamp(f.departure_at),
            arrival_at: Timestamp(f.arrival_at),
            return_departure_at: f.return_departure_at.map(Timestamp),
            return_arrival_at: f.return_arrival_at.map(Timestamp),
            carrier: &f.carrier,
            flight_numbers: &f.flight_numbers,
            stops: f.stops,
            duration_minutes: i32::try_from(f.duration_minutes).unwrap_or(i32::MAX),
            price_minor: f.price.minor_units,
            currency: f.price.currency.code(),
            cabin: f.cabin.as_str(),
            deep_link: f.deep_link.as_deref(),
            segments: &f.segments,
            expires_at: f.expires_at.map(Timestamp),
            booking_token: f.booking_token.as_deref(),
            raw_payload: f.raw.as_ref(),
        }
    }
}

/// A time to the microsecond, as PostgreSQL keeps it: cut, not rounded, as a bound
/// parameter would be.
struct Timestamp(DateTime<Utc>);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&self.0.to_rfc3339_opts(SecondsFormat::Micros, true))
    }
}
