//! Daily figures per route and currency, written by the analytics consumer: bookings,
//! seats and revenue, cancellations; searches and their best prices.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::consumers::take_receipt_in;
use crate::leases::Sql;
use crate::outbox::EventRecord;
use crate::{Result, Store};

/// What one event adds to a day's figures on one route, in one currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteDayDelta {
    pub day: NaiveDate,
    pub origin: String,
    pub destination: String,
    pub currency: String,
    pub bookings: i64,
    pub seats: i64,
    pub revenue_minor: i64,
    pub cancellations: i64,
    pub refunded_minor: i64,
    pub searches: i64,
    /// The cheapest price a search found on the route.
    pub best_price_minor: Option<i64>,
}

/// A day's figures on one route, in one currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteDay {
    pub day: NaiveDate,
    pub origin: String,
    pub destination: String,
    pub currency: String,
    pub bookings: i64,
    pub seats: i64,
    pub revenue_minor: i64,
    pub cancellations: i64,
    pub refunded_minor: i64,
    pub searches: i64,
    pub best_price_minor: Option<i64>,
}

impl Store {
    /// Adds `deltas` to the daily figures, once per event: with the event's receipt, in one
    /// transaction. `false` when the event was counted before.
    pub async fn record_route_days(
        &self,
        consumer: &str,
        event: &EventRecord,
        deltas: &[RouteDayDelta],
    ) -> Result<bool> {
        let txn = self.db.begin().await?;
        if !take_receipt_in(&txn, self.backend(), self.now(), consumer, event.id).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        for d in deltas {
            if d.bookings != 0 || d.cancellations != 0 {
                let mut sql = Sql::new(self.backend());
                sql.push(
                    "INSERT INTO booking_stats (day, origin, destination, currency, bookings, seats, \
                     revenue_minor, cancellations, refunded_minor) VALUES (",
                )
                .bind(d.day)
                .push(", ")
                .bind(d.origin.clone())
                .push(", ")
                .bind(d.destination.clone())
                .push(", ")
                .bind(d.currency.clone())
                .push(", ")
                .bind(d.bookings)
                .push(", ")
                .bind(d.seats)
                .push(", ")
                .bind(d.revenue_minor)
                .push(", ")
                .bind(d.cancellations)
                .push(", ")
                .bind(d.refunded_minor)
                .push(
                    ") ON CONFLICT (day, origin, destination, currency) DO UPDATE SET \
                     bookings = booking_stats.bookings + excluded.bookings, \
                     seats = booking_stats.seats + excluded.seats, \
                     revenue_minor = booking_stats.revenue_minor + excluded.revenue_minor, \
                     cancellations = booking_stats.cancellations + excluded.cancellations, \
                     refunded_minor = booking_stats.refunded_minor + excluded.refunded_minor",
                );
                txn.execute_raw(sql.statement()).await?;
            }
            if d.searches != 0 {
                let mut sql = Sql::new(self.backend());
                sql.push(
                    "INSERT INTO search_stats (day, origin, destination, currency, searches, \
                     best_price_minor) VALUES (",
                )
                .bind(d.day)
                .push(", ")
                .bind(d.origin.clone())
                .push(", ")
                .bind(d.destination.clone())
                .push(", ")
                .bind(d.currency.clone())
                .push(", ")
                .bind(d.searches)
                .push(", ")
                .bind(d.best_price_minor)
                .push(
                    ") ON CONFLICT (day, origin, destination, currency) DO UPDATE SET \
                     searches = search_stats.searches + excluded.searches, \
                     best_price_minor = CASE \
                       WHEN search_stats.best_price_minor IS NULL THEN excluded.best_price_minor \
                       WHEN excluded.best_price_minor IS NULL THEN search_stats.best_price_minor \
                       WHEN excluded.best_price_minor < search_stats.best_price_minor THEN excluded.best_price_minor \
                       ELSE search_stats.best_price_minor END",
                );
                txn.execute_raw(sql.statement()).await?;
            }
        }
        txn.commit().await?;
        Ok(true)
    }

    /// The daily figures from `from` to `to` (both included), by day, route and currency.
    pub async fn route_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<RouteDay>> {
        let mut days: Days = Days::new();
        let mut sql = Sql::new(self.backend());
        sql.push(
            "SELECT day, origin, destination, currency, bookings, seats, revenue_minor, \
             cancellations, refunded_minor FROM booking_stats WHERE day >= ",
        )
        .bind(from)
        .push(" AND day <= ")
        .bind(to);
        for row in self.db.query_all_raw(sql.statement()).await? {
            let d = entry(&mut days, &row)?;
            d.bookings = row.try_get("", "bookings")?;
            d.seats = row.try_get("", "seats")?;
            d.revenue_minor = row.try_get("", "revenue_minor")?;
            d.cancellations = row.try_get("", "cancellations")?;
            d.refunded_minor = row.try_get("", "refunded_minor")?;
        }
        let mut sql = Sql::new(self.backend());
        sql.push(
            "SELECT day, origin, destination, currency, searches, best_price_minor FROM search_stats \
             WHERE day >= ",
        )
        .bind(from)
        .push(" AND day <= ")
        .bind(to);
        for row in self.db.query_all_raw(sql.statement()).await? {
            let d = entry(&mut days, &row)?;
            d.searches = row.try_get("", "searches")?;
            d.best_price_minor = row.try_get("", "best_price_minor")?;
        }
        Ok(days.into_values().collect())
    }
}

type Key = (NaiveDate, String, String, String);
type Days = std::collections::BTreeMap<Key, RouteDay>;

/// The figures of the day, route and currency of `row`, started empty.
fn entry<'d>(days: &'d mut Days, row: &sea_orm::QueryResult) -> Result<&'d mut RouteDay> {
    let key: Key = (
        row.try_get("", "day")?,
        row.try_get("", "origin")?,
        row.try_get("", "destination")?,
        row.try_get("", "currency")?,
    );
    Ok(days.entry(key.clone()).or_insert_with(|| RouteDay {
        day: key.0,
        origin: key.1,
        destination: key.2,
        currency: key.3,
        ..RouteDay::default()
    }))
}
