//! A checkpoint's offers, written without building SeaORM models for them.
//!
//! On PostgreSQL in one statement: the batch goes as one JSON array that
//! `json_to_recordset` expands into rows, instead of a multi-row `INSERT … VALUES` with 26
//! bound parameters per offer (BENCHMARKS.md, issue 15: the offers of one checkpoint took
//! 90–180 ms that way). On SQLite, where a statement costs no round trip, in multi-row
//! inserts bound straight from the offers, their JSON columns serialised once to text
//! (what SeaORM would store for them), with no `serde_json::Value` and no copy of the rows.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, Statement, Value};
use serde::Serialize;
use uuid::Uuid;

use crate::records::NewOffer;
use crate::{Result, StoreError};

const INSERT: &str = "INSERT INTO flight_offers (id, job_id, task_index, provider, offer_key, \
    origin, destination, departure_date, return_date, departure_at, arrival_at, \
    return_departure_at, return_arrival_at, carrier, flight_numbers, stops, duration_minutes, \
    price_minor, currency, cabin, deep_link, found_at, segments, expires_at, booking_token, \
    raw_payload, departure_minute, return_minute, fetched_at) \
    SELECT r.id, $2, r.task_index, r.provider, r.offer_key, r.origin, r.destination, \
    r.departure_date, r.return_date, r.departure_at, r.arrival_at, r.return_departure_at, \
    r.return_arrival_at, r.carrier, r.flight_numbers, r.stops, r.duration_minutes, \
    r.price_minor, r.currency, r.cabin, r.deep_link, $3, r.segments, r.expires_at, \
    r.booking_token, r.raw_payload, r.departure_minute, r.return_minute, r.fetched_at \
    FROM json_to_recordset($1::json) AS r(id uuid, task_index bigint, provider text, \
    offer_key text, origin text, destination text, departure_date date, return_date date, \
    departure_at timestamptz, arrival_at timestamptz, return_departure_at timestamptz, \
    return_arrival_at timestamptz, carrier text, flight_numbers json, stops smallint, \
    duration_minutes integer, price_minor bigint, currency text, cabin text, deep_link text, \
    segments json, expires_at timestamptz, booking_token text, raw_payload json, \
    departure_minute smallint, return_minute smallint, fetched_at timestamptz) \
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

const COLUMNS: &str = "id, job_id, task_index, provider, offer_key, origin, destination, \
    departure_date, return_date, departure_at, arrival_at, return_departure_at, \
    return_arrival_at, carrier, flight_numbers, stops, duration_minutes, price_minor, currency, \
    cabin, deep_link, found_at, segments, expires_at, booking_token, raw_payload, \
    departure_minute, return_minute, fetched_at";
const COLUMN_COUNT: usize = 29;

/// Offers per SQLite statement at most (29 parameters each, under SQLite's 32,766).
const SQLITE_ROWS_PER_INSERT: usize = 512;

/// Rows in the next SQLite insert: the largest power of two that fits, so that the
/// statements have a handful of shapes and the driver's prepared-statement cache (which
/// keeps each distinct SQL text) stays small however the batches vary.
fn sqlite_chunk_len(remaining: usize) -> usize {
    if remaining >= SQLITE_ROWS_PER_INSERT {
        SQLITE_ROWS_PER_INSERT
    } else {
        1 << (usize::BITS - 1 - remaining.leading_zeros())
    }
}

fn sqlite_insert(rows: usize) -> String {
    let row = format!("({})", vec!["?"; COLUMN_COUNT].join(","));
    format!(
        "INSERT INTO flight_offers ({COLUMNS}) VALUES {} ON CONFLICT (job_id, offer_key) DO NOTHING",
        vec![row.as_str(); rows].join(",")
    )
}

/// Stores `offers` of job `job_id` found at `now` on SQLite, each once per job: how many
/// were new.
pub(crate) async fn insert_offers_sqlite(
    txn: &DatabaseTransaction,
    job_id: Uuid,
    offers: &[NewOffer],
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut inserted = 0;
    let mut rest = offers;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(sqlite_chunk_len(rest.len()));
        rest = tail;
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * COLUMN_COUNT);
        for o in chunk {
            push_sqlite_row(&mut values, job_id, o, now)?;
        }
        let done = txn
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                sqlite_insert(chunk.len()),
                values,
            ))
            .await?;
        inserted += done.rows_affected();
    }
    Ok(inserted)
}

fn push_sqlite_row(
    values: &mut Vec<Value>,
    job_id: Uuid,
    o: &NewOffer,
    now: DateTime<Utc>,
) -> Result<()> {
    let f = &o.offer;
    values.extend([
        Uuid::now_v7().into(),
        job_id.into(),
        i64::try_from(o.task_index).unwrap_or(i64::MAX).into(),
        f.provider.as_str().into(),
        f.key.as_str().into(),
        f.origin.as_str().into(),
        f.destination.as_str().into(),
        o.departure_date.into(),
        o.return_date.into(),
        f.departure_at.into(),
        f.arrival_at.into(),
        f.return_departure_at.into(),
        f.return_arrival_at.into(),
        f.carrier.as_str().into(),
        json_text(&f.flight_numbers)?.into(),
        i16::from(f.stops).into(),
        i32::try_from(f.duration_minutes).unwrap_or(i32::MAX).into(),
        f.price.minor_units.into(),
        f.price.currency.code().into(),
        f.cabin.as_str().into(),
        f.deep_link.as_deref().into(),
        now.into(),
        (!f.segments.is_empty())
            .then(|| json_text(&f.segments))
            .transpose()?
            .into(),
        f.expires_at.into(),
        f.booking_token.as_deref().into(),
        f.raw.as_ref().map(json_text).transpose()?.into(),
        departure_minute(f).into(),
        return_minute(f).into(),
        o.fetched_at.into(),
    ]);
    Ok(())
}

fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
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
    #[serde(skip_serializing_if = "Option::is_none")]
    departure_minute: Option<i16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_minute: Option<i16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fetched_at: Option<Timestamp>,
}

/// The outbound's local departure time at its origin, as minutes after midnight.
fn departure_minute(f: &domain::FlightOffer) -> Option<i16> {
    let db = domain::AirportDb::embedded();
    db.local_minute(f.origin, f.departure_at)
        .and_then(|m| i16::try_from(m).ok())
}

/// The return's local departure time at the destination, as minutes after midnight.
fn return_minute(f: &domain::FlightOffer) -> Option<i16> {
    let db = domain::AirportDb::embedded();
    db.local_minute(f.destination, f.return_departure_at?)
        .and_then(|m| i16::try_from(m).ok())
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
            departure_minute: departure_minute(f),
            return_minute: return_minute(f),
            fetched_at: o.fetched_at.map(Timestamp),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_chunks_are_powers_of_two_that_add_up() {
        for n in [1usize, 2, 3, 7, 500, 511, 512, 513, 1234, 5000] {
            let mut rest = n;
            let mut shapes = std::collections::HashSet::new();
            while rest > 0 {
                let c = sqlite_chunk_len(rest);
                assert!(c.is_power_of_two() && c <= rest && c <= SQLITE_ROWS_PER_INSERT);
                shapes.insert(c);
                rest -= c;
            }
            assert!(shapes.len() <= 10);
        }
    }

    #[test]
    fn the_sqlite_insert_has_a_placeholder_per_column_and_row() {
        let sql = sqlite_insert(3);
        assert_eq!(sql.matches('?').count(), 3 * COLUMN_COUNT);
        assert_eq!(COLUMNS.split(',').count(), COLUMN_COUNT);
    }
}
