//! Bookings. A catalogue booking takes its seats with a conditional update in the
//! transaction that stores it (never a read-then-write), so concurrent bookings of the last
//! seats cannot both succeed; a booking of another provider is stored PENDING with a
//! lease-held call (`booking_calls`) that a worker runs. Every change writes its event to
//! the outbox in the same transaction.

use chrono::{DateTime, Utc};
use domain::{BookingStatus, Currency, FlightOffer, Money, Passenger, event_type};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, SqlErr, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::leases::{ClaimRules, Lease, LeaseKind, Sql, WithoutLease, fenced};
use crate::outbox::{self, EventRecord, NewEvent, PAYLOAD_VERSION};
use crate::{OfferRecord, Page, Result, Store, StoreError};

/// A booking as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    pub offer_id: Uuid,
    pub job_id: Uuid,
    pub provider: String,
    /// Seats taken from the admins' catalogue (the `inventory` provider).
    pub catalogue: bool,
    pub status: BookingStatus,
    /// For all passengers.
    pub price: Money,
    pub seats: u32,
    pub passengers: Vec<Passenger>,
    /// The offer as it was booked.
    pub offer: FlightOffer,
    pub idempotency_key: String,
    pub provider_reference: Option<String>,
    pub error: Option<String>,
    /// `PRICE_CHANGED`, `OFFER_EXPIRED`, `PROVIDER_REFUSED`, `PROVIDER_FAILED`.
    pub error_code: Option<String>,
    /// The price the provider asked instead (`PRICE_CHANGED`).
    pub new_price: Option<Money>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// A booking to store.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub account_id: Uuid,
    pub offer: OfferRecord,
    pub passengers: Vec<Passenger>,
    pub idempotency_key: String,
    /// The price the traveller agreed to (the offer's, or a new one after PRICE_CHANGED).
    pub expected_price: Money,
    /// The catalogue flights whose seats this booking takes; `None`: a provider booking.
    pub catalogue_flights: Option<Vec<Uuid>>,
}

/// Why a booking was not stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BookingRefused {
    #[error("not enough seats left on this flight")]
    SoldOut,
    #[error("this offer expired at {0}; search again for a current price")]
    OfferExpired(DateTime<Utc>),
    #[error("the price of this offer is now {price}; book again to accept it")]
    PriceChanged { price: Money },
    #[error(
        "idempotency key `{0}` was used for another booking request; use a new key for a new booking"
    )]
    KeyReused(String),
    #[error("booking {id} is {status} and cannot be cancelled{why}")]
    NotCancellable {
        id: Uuid,
        status: &'static str,
        why: &'static str,
    },
}

/// What [`Store::create_booking`] did.
#[derive(Debug, Clone)]
pub enum Booked {
    /// A new booking (its events are in the outbox).
    Created(BookingRecord),
    /// The same request was made before with this key: that booking.
    Existing(BookingRecord),
}

impl Booked {
    pub fn record(&self) -> &BookingRecord {
        match self {
            Booked::Created(b) | Booked::Existing(b) => b,
        }
    }
}

/// How a provider call ended, for [`Store::finish_booking_call`].
#[derive(Debug, Clone)]
pub enum CallResult {
    Confirmed {
        reference: String,
    },
    Failed {
        code: &'static str,
        message: String,
        new_price: Option<Money>,
    },
}

/// The key of a request, so the same key with another request is told apart.
fn request_hash(new: &NewBooking) -> String {
    let canonical = serde_json::json!({
        "offer": new.offer.id,
        "passengers": new.passengers,
        "price": [new.expected_price.minor_units, new.expected_price.currency.code()],
    });
    format!("{:x}", Sha256::digest(canonical.to_string().as_bytes()))
}

const BOOKING_COLUMNS: &str = "id, account_id, offer_id, job_id, provider, catalogue, status, \
    price_minor, currency, seats, passengers, offer, idempotency_key, provider_reference, \
    error, error_code, new_price_minor, created_at, updated_at, confirmed_at, cancelled_at";

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("booking: {what}"))
}

fn booking_from_row(row: &sea_orm::QueryResult) -> Result<BookingRecord> {
    let currency: String = row.try_get("", "currency")?;
    let currency = Currency::parse(&currency).map_err(corrupt)?;
    let money = |minor: i64| Money {
        minor_units: minor,
        currency,
    };
    let status: String = row.try_get("", "status")?;
    let passengers: String = row.try_get("", "passengers")?;
    let offer: String = row.try_get("", "offer")?;
    let seats: i32 = row.try_get("", "seats")?;
    Ok(BookingRecord {
        id: row.try_get("", "id")?,
        account_id: row.try_get("", "account_id")?,
        offer_id: row.try_get("", "offer_id")?,
        job_id: row.try_get("", "job_id")?,
        provider: row.try_get("", "provider")?,
        catalogue: row.try_get("", "catalogue")?,
        status: BookingStatus::parse(&status).ok_or_else(|| corrupt(&status))?,
        price: money(row.try_get("", "price_minor")?),
        seats: u32::try_from(seats).map_err(corrupt)?,
        passengers: serde_json::from_str(&passengers).map_err(corrupt)?,
        offer: serde_json::from_str(&offer).map_err(corrupt)?,
        idempotency_key: row.try_get("", "idempotency_key")?,
        provider_reference: row.try_get("", "provider_reference")?,
        error: row.try_get("", "error")?,
        error_code: row.try_get("", "error_code")?,
        new_price: row
            .try_get::<Option<i64>>("", "new_price_minor")?
            .map(money),
        created_at: row.try_get("", "created_at")?,
        updated_at: row.try_get("", "updated_at")?,
        confirmed_at: row.try_get("", "confirmed_at")?,
        cancelled_at: row.try_get("", "cancelled_at")?,
    })
}

/// A booking's event payload (version 1, docs/events.md).
fn payload(b: &BookingRecord) -> serde_json::Value {
    serde_json::json!({
        "v": PAYLOAD_VERSION,
        "bookingId": b.id,
        "accountId": b.account_id,
        "status": b.status.as_str(),
        "offerId": b.offer_id,
        "jobId": b.job_id,
        "provider": b.provider,
        "origin": b.offer.origin.as_str(),
        "destination": b.offer.destination.as_str(),
        "departureAt": b.offer.departure_at,
        "returnDepartureAt": b.offer.return_departure_at,
        "seats": b.seats,
        "price": { "amountMinor": b.price.minor_units, "currency": b.price.currency.code() },
        "providerReference": b.provider_reference,
        "errorCode": b.error_code,
        "error": b.error,
    })
}

fn booking_event(event: &'static str, b: &BookingRecord) -> NewEvent {
    NewEvent {
        event_type: event,
        subject_id: b.id,
        account_id: Some(b.account_id),
        payload: payload(b),
    }
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

impl Store {
    async fn booking_in(
        &self,
        conn: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<Option<BookingRecord>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = "
        ))
        .bind(id);
        conn.query_one_raw(sql.statement())
            .await?
            .as_ref()
            .map(booking_from_row)
            .transpose()
    }

    pub async fn booking(&self, id: Uuid) -> Result<Option<BookingRecord>> {
        self.booking_in(&self.db, id).await
    }

    async fn booking_by_key(
        &self,
        account_id: Uuid,
        key: &str,
    ) -> Result<Option<(BookingRecord, String)>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {BOOKING_COLUMNS}, request_hash FROM bookings WHERE account_id = "
        ))
        .bind(account_id)
        .push(" AND idempotency_key = ")
        .bind(key.to_string());
        match self.db.query_one_raw(sql.statement()).await? {
            None => Ok(None),
            Some(row) => Ok(Some((
                booking_from_row(&row)?,
                row.try_get("", "request_hash")?,
            ))),
        }
    }

    /// The same key answered before: that booking if the request is the same, else a
    /// refusal.
    async fn replay(&self, new: &NewBooking, hash: &str) -> Result<Option<Booked>> {
        match self
            .booking_by_key(new.account_id, &new.idempotency_key)
            .await?
        {
            None => Ok(None),
            Some((b, stored)) if stored == hash => Ok(Some(Booked::Existing(b))),
            Some(_) => Err(StoreError::BookingRefused(BookingRefused::KeyReused(
                new.idempotency_key.clone(),
            ))),
        }
    }

    /// Stores a booking with its events in one transaction. A catalogue booking takes its
    /// seats (or is refused SOLD_OUT, storing nothing) and is CONFIRMED at once; another
    /// provider's is PENDING, with a call queued for a worker.
    #[tracing::instrument(skip_all, fields(offer_id = %new.offer.id, account_id = %new.account_id))]
    pub async fn create_booking(&self, new: NewBooking) -> Result<(Booked, Vec<EventRecord>)> {
        let hash = request_hash(&new);
        if let Some(done) = self.replay(&new, &hash).await? {
            return Ok((done, Vec::new()));
        }
        let now = self.now();
        if let Some(expires_at) = new.offer.offer.expires_at
            && expires_at <= now
        {
            return Err(StoreError::BookingRefused(BookingRefused::OfferExpired(
                expires_at,
            )));
        }
        let seats = new.passengers.len();
        let seats_i32 = i32::try_from(seats).unwrap_or(i32::MAX);
        let txn = self.db.begin().await?;
        if let Some(flights) = &new.catalogue_flights
            && let Err(refused) = self.take_seats(&txn, flights, seats_i32, &new, now).await
        {
            drop(txn);
            // The same request may have taken the seats a moment ago, under this key:
            // then that booking is the answer, not the refusal.
            return match self.replay(&new, &hash).await? {
                Some(done) => Ok((done, Vec::new())),
                None => Err(refused),
            };
        }
        let catalogue = new.catalogue_flights.is_some();
        let status = if catalogue {
            BookingStatus::Confirmed
        } else {
            BookingStatus::Pending
        };
        let record = BookingRecord {
            id: Uuid::now_v7(),
            account_id: new.account_id,
            offer_id: new.offer.id,
            job_id: new.offer.job_id,
            provider: new.offer.offer.provider.clone(),
            catalogue,
            status,
            price: new.expected_price,
            seats: u32::try_from(seats).unwrap_or(u32::MAX),
            passengers: new.passengers.clone(),
            offer: new.offer.offer.clone(),
            idempotency_key: new.idempotency_key.clone(),
            provider_reference: catalogue.then(|| format!("FF-{}", short_reference())),
            error: None,
            error_code: None,
            new_price: None,
            created_at: now,
            updated_at: now,
            confirmed_at: catalogue.then_some(now),
            cancelled_at: None,
        };
        let mut insert = Sql::new(self.backend());
        insert
            .push(
                "INSERT INTO bookings (id, account_id, offer_id, job_id, provider, catalogue, \
                 status, price_minor, currency, seats, passengers, offer, inventory_ids, \
                 idempotency_key, request_hash, provider_reference, created_at, updated_at, \
                 confirmed_at) VALUES (",
            )
            .bind(record.id)
            .push(", ")
            .bind(record.account_id)
            .push(", ")
            .bind(record.offer_id)
            .push(", ")
            .bind(record.job_id)
            .push(", ")
            .bind(record.provider.clone())
            .push(", ")
            .bind(catalogue)
            .push(", ")
            .bind(status.as_str())
            .push(", ")
            .bind(record.price.minor_units)
            .push(", ")
            .bind(record.price.currency.code())
            .push(", ")
            .bind(seats_i32)
            .push(", ")
            .bind(json_text(&record.passengers)?)
            .push(", ")
            .bind(json_text(&record.offer)?)
            .push(", ")
            .bind(new.catalogue_flights.as_ref().map(|ids| {
                ids.iter()
                    .map(Uuid::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            }))
            .push(", ")
            .bind(record.idempotency_key.clone())
            .push(", ")
            .bind(hash.clone())
            .push(", ")
            .bind(record.provider_reference.clone())
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(record.confirmed_at)
            .push(")");
        match txn.execute_raw(insert.statement()).await {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                // The same key raced in from another request; its seats are given back
                // with this transaction.
                txn.rollback().await?;
                return match self.replay(&new, &hash).await? {
                    Some(done) => Ok((done, Vec::new())),
                    None => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        }
        let mut events = vec![booking_event(event_type::BOOKING_CREATED, &record)];
        if catalogue {
            events.push(booking_event(event_type::BOOKING_CONFIRMED, &record));
        } else {
            let mut call = Sql::new(self.backend());
            call.push(
                "INSERT INTO booking_calls (id, status, attempts, created_at, updated_at) VALUES (",
            )
            .bind(record.id)
            .push(", 'QUEUED', 0, ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
            txn.execute_raw(call.statement()).await?;
        }
        let events = outbox::append(&txn, self.backend(), now, &events).await?;
        txn.commit().await?;
        Ok((Booked::Created(record), events))
    }

    /// Takes `seats` on every flight of `flights` (one, or an outbound and a return), or
    /// refuses: the update's own condition says whether enough were left, so two bookings
    /// of the last seat cannot both pass.
    async fn take_seats(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        flights: &[Uuid],
        seats: i32,
        new: &NewBooking,
        now: DateTime<Utc>,
    ) -> Result<()> {
        use crate::entity::inventory_flight::{Column, Entity};
        let taken = Entity::update_many()
            .col_expr(
                Column::SeatsAvailable,
                Expr::col(Column::SeatsAvailable).sub(seats),
            )
            .col_expr(
                Column::SeatsBooked,
                Expr::col(Column::SeatsBooked).add(seats),
            )
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.is_in(flights.iter().copied()))
            .filter(Column::SeatsAvailable.gte(seats))
            .filter(Column::DepartureAt.gt(now))
            .exec(txn)
            .await?;
        // Dropping `txn` on an early return rolls it back.
        if taken.rows_affected != flights.len() as u64 {
            let departed = Entity::find()
                .filter(Column::Id.is_in(flights.iter().copied()))
                .all(txn)
                .await?
                .into_iter()
                .find(|f| f.departure_at <= now)
                .map(|f| f.departure_at);
            return Err(StoreError::BookingRefused(match departed {
                Some(at) => BookingRefused::OfferExpired(at),
                None => BookingRefused::SoldOut,
            }));
        }
        // The rows are locked now: their prices cannot move before the commit.
        let rows = Entity::find()
            .filter(Column::Id.is_in(flights.iter().copied()))
            .all(txn)
            .await?;
        let adults = u8::try_from(seats).unwrap_or(u8::MAX);
        let currency = new.expected_price.currency;
        let mut current = 0i64;
        for row in rows {
            let price = Money {
                minor_units: row.price_minor,
                currency: Currency::parse(&row.currency).map_err(corrupt)?,
            };
            current = current.saturating_add(
                crate::inventory_provider::fare(price, adults, currency).minor_units,
            );
        }
        if current != new.expected_price.minor_units {
            return Err(StoreError::BookingRefused(BookingRefused::PriceChanged {
                price: Money {
                    minor_units: current,
                    currency,
                },
            }));
        }
        Ok(())
    }

    /// Cancels a CONFIRMED booking; a catalogue booking's seats go back, once: only the
    /// update that moves it from CONFIRMED gives them back.
    #[tracing::instrument(skip_all, fields(booking_id = %id))]
    pub async fn cancel_booking(&self, id: Uuid) -> Result<(BookingRecord, Vec<EventRecord>)> {
        let now = self.now();
        let txn = self.db.begin().await?;
        let mut cancel = Sql::new(self.backend());
        cancel
            .push("UPDATE bookings SET status = 'CANCELLED', cancelled_at = ")
            .bind(now)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id)
            .push(" AND status = 'CONFIRMED' RETURNING seats, catalogue, inventory_ids");
        let Some(row) = txn.query_one_raw(cancel.statement()).await? else {
            txn.rollback().await?;
            let b = self
                .booking(id)
                .await?
                .ok_or(StoreError::BookingNotFound(id))?;
            let why = match b.status {
                BookingStatus::Cancelled => ": it was cancelled already",
                BookingStatus::Pending => {
                    ": it is still being confirmed by the provider; cancel it once it is confirmed"
                }
                BookingStatus::Failed => ": it failed, so nothing is held",
                BookingStatus::Confirmed => "",
            };
            return Err(StoreError::BookingRefused(BookingRefused::NotCancellable {
                id,
                status: b.status.as_str(),
                why,
            }));
        };
        let seats: i32 = row.try_get("", "seats")?;
        let catalogue: bool = row.try_get("", "catalogue")?;
        let ids: Option<String> = row.try_get("", "inventory_ids")?;
        if catalogue {
            let flights: Vec<Uuid> = ids
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(corrupt))
                .collect::<Result<_>>()?;
            // The seats go back to sale, but never beyond what the flight has now (an admin
            // may have lowered its total since).
            if !flights.is_empty() {
                let mut sql = Sql::new(self.backend());
                sql.push("UPDATE inventory_flights SET seats_available = CASE WHEN seats_total - (seats_booked - ")
                    .bind(seats)
                    .push(") < 0 THEN 0 WHEN seats_available + ")
                    .bind(seats)
                    .push(" > seats_total - (seats_booked - ")
                    .bind(seats)
                    .push(") THEN seats_total - (seats_booked - ")
                    .bind(seats)
                    .push(") ELSE seats_available + ")
                    .bind(seats)
                    .push(" END, seats_booked = CASE WHEN seats_booked < ")
                    .bind(seats)
                    .push(" THEN 0 ELSE seats_booked - ")
                    .bind(seats)
                    .push(" END, updated_at = ")
                    .bind(now)
                    .push(" WHERE id IN (");
                for (i, id) in flights.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.bind(*id);
                }
                sql.push(")");
                txn.execute_raw(sql.statement()).await?;
            }
        }
        let record = self
            .booking_in(&txn, id)
            .await?
            .ok_or(StoreError::BookingNotFound(id))?;
        let events = outbox::append(
            &txn,
            self.backend(),
            now,
            &[booking_event(event_type::BOOKING_CANCELLED, &record)],
        )
        .await?;
        txn.commit().await?;
        Ok((record, events))
    }

    /// Bookings, newest first: an account's own, or everyone's (`None`).
    pub async fn bookings_page(
        &self,
        first: u64,
        after: Option<Uuid>,
        status: Option<BookingStatus>,
        account: Option<Uuid>,
    ) -> Result<Page<BookingRecord>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings b WHERE 1 = 1"
        ));
        if let Some(account) = account {
            sql.push(" AND account_id = ").bind(account);
        }
        if let Some(status) = status {
            sql.push(" AND status = ").bind(status.as_str());
        }
        if let Some(after) = after {
            // Keyset on (created_at, id), descending, from the row the cursor names.
            sql.push(
                " AND (created_at, id) < (SELECT a.created_at, a.id FROM bookings a WHERE a.id = ",
            )
            .bind(after)
            .push(")");
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(i64::try_from(first + 1).unwrap_or(i64::MAX));
        let statement = sql.statement();
        let rows = crate::replicas::read!(self, |db| db.query_all_raw(statement.clone()).await)?;
        let mut items = rows
            .iter()
            .map(booking_from_row)
            .collect::<Result<Vec<_>>>()?;
        let has_next = items.len() as u64 > first;
        items.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Ok(Page { items, has_next })
    }

    /// An account's booking made with `key`.
    pub async fn booking_with_key(
        &self,
        account_id: Uuid,
        key: &str,
    ) -> Result<Option<BookingRecord>> {
        Ok(self.booking_by_key(account_id, key).await?.map(|(b, _)| b))
    }

    /// The latest PRICE_CHANGED answer for an account's bookings of an offer: the price the
    /// provider asks now.
    pub async fn repriced(&self, account_id: Uuid, offer_id: Uuid) -> Result<Option<Money>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE account_id = "
        ))
        .bind(account_id)
        .push(" AND offer_id = ")
        .bind(offer_id)
        .push(" AND error_code = 'PRICE_CHANGED' ORDER BY created_at DESC, id DESC LIMIT 1");
        Ok(self
            .db
            .query_one_raw(sql.statement())
            .await?
            .as_ref()
            .map(booking_from_row)
            .transpose()?
            .and_then(|b| b.new_price))
    }

    /// Takes a queued booking call (or one whose worker is gone) under a new lease.
    pub async fn claim_booking_call(
        &self,
        owner: &str,
        ttl: std::time::Duration,
        only: Option<Uuid>,
    ) -> Result<Option<(Lease, u32, BookingRecord)>> {
        let Some(claim) = self
            .claim(
                LeaseKind::Booking,
                owner,
                ttl,
                ClaimRules {
                    only,
                    order_by: "c.created_at, c.id".into(),
                    ..ClaimRules::default()
                },
            )
            .await?
        else {
            return Ok(None);
        };
        let mut sql = Sql::new(self.backend());
        sql.push("SELECT attempts FROM booking_calls WHERE id = ")
            .bind(claim.lease.id);
        let attempts: i32 = self
            .db
            .query_one_raw(sql.statement())
            .await?
            .ok_or(StoreError::BookingNotFound(claim.lease.id))?
            .try_get("", "attempts")?;
        let booking = self
            .booking(claim.lease.id)
            .await?
            .ok_or(StoreError::BookingNotFound(claim.lease.id))?;
        Ok(Some((
            claim.lease,
            u32::try_from(attempts).unwrap_or(0),
            booking,
        )))
    }

    /// Ends a booking call: the booking CONFIRMED or FAILED and its event, in one
    /// transaction fenced by the call's lease. `None`: the lease was lost, nothing written.
    #[tracing::instrument(skip_all, fields(booking_id = %lease.id), err)]
    pub async fn finish_booking_call(
        &self,
        lease: &Lease,
        result: CallResult,
    ) -> Result<Option<(BookingRecord, Vec<EventRecord>)>> {
        use crate::entity::booking_call::{Column, Entity};
        let now = self.now();
        let txn = self.db.begin().await?;
        let done = Entity::update_many()
            .col_expr(Column::Status, Expr::value("DONE"))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .without_lease()
            .filter(fenced(lease))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        let mut sql = Sql::new(self.backend());
        let event = match &result {
            CallResult::Confirmed { reference } => {
                sql.push("UPDATE bookings SET status = 'CONFIRMED', provider_reference = ")
                    .bind(reference.clone())
                    .push(", confirmed_at = ")
                    .bind(now);
                event_type::BOOKING_CONFIRMED
            }
            CallResult::Failed {
                code,
                message,
                new_price,
            } => {
                sql.push("UPDATE bookings SET status = 'FAILED', error_code = ")
                    .bind(*code)
                    .push(", error = ")
                    .bind(message.clone())
                    .push(", new_price_minor = ")
                    .bind(new_price.map(|p| p.minor_units));
                event_type::BOOKING_FAILED
            }
        };
        sql.push(", updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(lease.id)
            .push(" AND status = 'PENDING'");
        let moved = txn.execute_raw(sql.statement()).await?.rows_affected();
        let record = self
            .booking_in(&txn, lease.id)
            .await?
            .ok_or(StoreError::BookingNotFound(lease.id))?;
        let events = if moved == 1 {
            outbox::append(&txn, self.backend(), now, &[booking_event(event, &record)]).await?
        } else {
            Vec::new()
        };
        txn.commit().await?;
        Ok(Some((record, events)))
    }

    /// Gives a booking call back to the queue (shutdown), to be sent again.
    pub async fn release_booking_call(&self, lease: &Lease) -> Result<()> {
        use crate::entity::booking_call::{Column, Entity};
        Entity::update_many()
            .col_expr(Column::Status, Expr::value("QUEUED"))
            .col_expr(Column::UpdatedAt, Expr::value(self.now()))
            .without_lease()
            .filter(fenced(lease))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Seats left on a catalogue flight.
    pub async fn seats_available(&self, flight: Uuid) -> Result<Option<u32>> {
        use crate::entity::inventory_flight::Entity;
        Ok(Entity::find_by_id(flight)
            .one(&self.db)
            .await?
            .map(|f| u32::try_from(f.seats_available).unwrap_or(0)))
    }
}

/// A reference a traveller can read out: 8 characters, no look-alikes.
fn short_reference() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bits = Uuid::new_v4().as_u128();
    (0..8)
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}
