//! Offers of a job: keyset pages in five orders either way, counts, lookups by id, the price
//! calendar.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, EntityTrait, ExprTrait, FromQueryResult, Order, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entity::flight_offer::{self, Column};
use crate::records::{
    OfferColumns, OfferRecord, OfferRow, Page, offer_json_column, offer_plain_column,
};
use crate::{Result, Store};

/// What a page is sorted by. Ties go by id; by stops, first by price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OfferSortKey {
    #[default]
    Price,
    Departure,
    Arrival,
    Duration,
    Stops,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OfferOrder {
    pub key: OfferSortKey,
    /// Every key of the order reversed, the id's too.
    pub descending: bool,
}

impl OfferOrder {
    pub const PRICE_ASC: Self = Self {
        key: OfferSortKey::Price,
        descending: false,
    };

    pub fn new(key: OfferSortKey, descending: bool) -> Self {
        Self { key, descending }
    }

    /// Whether a page in this order reads the offers' times (its cursors carry one).
    pub fn needs_times(self) -> bool {
        matches!(self.key, OfferSortKey::Departure | OfferSortKey::Arrival)
    }
}

/// The sort key of the last offer of a page, in the page's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferSortValue {
    Price(i64),
    Departure(DateTime<Utc>),
    Arrival(DateTime<Utc>),
    Duration(i32),
    /// Stops, then price.
    Stops(i16, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferAfter {
    pub value: OfferSortValue,
    pub id: Uuid,
}

impl OfferAfter {
    /// The position of `offer` in `order`.
    pub fn of(offer: &OfferRecord, order: OfferOrder) -> Self {
        let o = &offer.offer;
        let value = match order.key {
            OfferSortKey::Price => OfferSortValue::Price(o.price.minor_units),
            OfferSortKey::Departure => OfferSortValue::Departure(o.departure_at),
            OfferSortKey::Arrival => OfferSortValue::Arrival(o.arrival_at),
            OfferSortKey::Duration => {
                OfferSortValue::Duration(i32::try_from(o.duration_minutes).unwrap_or(i32::MAX))
            }
            OfferSortKey::Stops => OfferSortValue::Stops(i16::from(o.stops), o.price.minor_units),
        };
        Self {
            value,
            id: offer.id,
        }
    }

    /// Whether this key belongs to pages sorted by `key`.
    pub fn fits(&self, key: OfferSortKey) -> bool {
        matches!(
            (self.value, key),
            (OfferSortValue::Price(_), OfferSortKey::Price)
                | (OfferSortValue::Departure(_), OfferSortKey::Departure)
                | (OfferSortValue::Arrival(_), OfferSortKey::Arrival)
                | (OfferSortValue::Duration(_), OfferSortKey::Duration)
                | (OfferSortValue::Stops(..), OfferSortKey::Stops)
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferFilter {
    pub max_price_minor: Option<i64>,
    pub max_stops: Option<u8>,
    pub carriers: Vec<String>,
    pub origins: Vec<String>,
    pub destinations: Vec<String>,
    pub providers: Vec<String>,
    pub departure_date: Option<NaiveDate>,
    pub return_date: Option<NaiveDate>,
    /// Both directions together, as `duration_minutes`.
    pub max_duration_minutes: Option<i32>,
    /// Found at or before (a snapshot of a running search's results).
    pub found_until: Option<DateTime<Utc>>,
    /// Found after (what a snapshot does not show yet).
    pub found_since: Option<DateTime<Utc>>,
    /// Leaving the origin at these local times of day.
    pub departure_time: Option<TimeWindow>,
    /// Leaving the destination on the way back at these local times of day.
    pub return_time: Option<TimeWindow>,
}

/// Local times of day, as minutes after midnight (0–1439), both ends included. A window
/// whose start is after its end runs past midnight: 22:00–05:00 is the night.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub from: u16,
    pub to: u16,
}

impl TimeWindow {
    fn condition(self, column: Column) -> Condition {
        let (from, to) = (
            i16::try_from(self.from).unwrap_or(i16::MAX),
            i16::try_from(self.to).unwrap_or(i16::MAX),
        );
        let both = if self.from <= self.to {
            Condition::all()
        } else {
            Condition::any()
        };
        // An offer stored without its local time matches no window.
        Condition::all()
            .add(column.is_not_null())
            .add(both.add(column.gte(from)).add(column.lte(to)))
    }
}

impl OfferFilter {
    /// The filter's conditions on a query of one job's offers.
    fn apply<S: QueryFilter>(&self, mut query: S) -> S {
        if let Some(max) = self.max_price_minor {
            query = query.filter(Column::PriceMinor.lte(max));
        }
        if let Some(max) = self.max_stops {
            query = query.filter(Column::Stops.lte(i16::from(max)));
        }
        if let Some(max) = self.max_duration_minutes {
            query = query.filter(Column::DurationMinutes.lte(max));
        }
        if let Some(day) = self.departure_date {
            query = query.filter(Column::DepartureDate.eq(day));
        }
        if let Some(day) = self.return_date {
            query = query.filter(Column::ReturnDate.eq(day));
        }
        if let Some(until) = self.found_until {
            query = query.filter(Column::FoundAt.lte(until));
        }
        if let Some(since) = self.found_since {
            query = query.filter(Column::FoundAt.gt(since));
        }
        if let Some(window) = self.departure_time {
            query = query.filter(window.condition(Column::DepartureMinute));
        }
        if let Some(window) = self.return_time {
            query = query.filter(window.condition(Column::ReturnMinute));
        }
        for (col, values) in [
            (Column::Carrier, &self.carriers),
            (Column::Origin, &self.origins),
            (Column::Destination, &self.destinations),
            (Column::Provider, &self.providers),
        ] {
            if !values.is_empty() {
                query = query.filter(col.is_in(values.iter().cloned()));
            }
        }
        query
    }
}

/// The cheapest offer for one departure date (and return date, for round trips).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct CalendarCell {
    pub departure_date: NaiveDate,
    pub return_date: Option<NaiveDate>,
    pub min_price: i64,
    pub offers: i64,
}

/// The offers table as an [`OfferRow`] read: the columns always read, and the optional ones
/// that `columns` asks for, in the order `OfferRow` reads them.
fn select_offers(columns: OfferColumns) -> sea_orm::Select<flight_offer::Entity> {
    let mut select = flight_offer::Entity::find().select_only().columns([
        Column::Id,
        Column::JobId,
        Column::Origin,
        Column::Destination,
        Column::DepartureDate,
        Column::ReturnDate,
        Column::Carrier,
        Column::Stops,
        Column::DurationMinutes,
        Column::PriceMinor,
        Column::Currency,
        Column::Cabin,
    ]);
    let optional = [
        ("departure_at", "TIMESTAMPTZ", columns.times),
        ("arrival_at", "TIMESTAMPTZ", columns.times),
        ("return_departure_at", "TIMESTAMPTZ", columns.times),
        ("return_arrival_at", "TIMESTAMPTZ", columns.times),
        ("task_index", "BIGINT", columns.details),
        ("provider", "TEXT", columns.details),
        ("offer_key", "TEXT", columns.details),
        ("deep_link", "TEXT", columns.details),
        ("found_at", "TIMESTAMPTZ", columns.details),
        ("expires_at", "TIMESTAMPTZ", columns.details),
        ("booking_token", "TEXT", columns.details),
    ];
    for (column, sql_type, wanted) in optional {
        select = select.expr_as(offer_plain_column(column, sql_type, wanted), column);
    }
    let fetched_at = if columns.details {
        Expr::cust("COALESCE(fetched_at, found_at)")
    } else {
        Expr::cust("CAST(NULL AS TIMESTAMPTZ)")
    };
    select
        .expr_as(fetched_at, "fetched_at")
        .expr_as(
            offer_json_column("flight_numbers", columns.flight_numbers),
            "flight_numbers",
        )
        .expr_as(offer_json_column("segments", columns.segments), "segments")
        .expr_as(
            offer_json_column("raw_payload", columns.raw_payload),
            "raw_payload",
        )
}

/// Rows after a keyset position: `(cols…, id) > (values…, id)` in the page's direction,
/// spelled out so that either database uses the sort index.
fn after_key(
    cols: &[Column],
    values: Vec<sea_orm::Value>,
    id: Uuid,
    descending: bool,
) -> Condition {
    let beyond = |expr: Expr, value: sea_orm::Value| {
        if descending {
            expr.lt(value)
        } else {
            expr.gt(value)
        }
    };
    let mut any = Condition::any();
    for i in 0..=cols.len() {
        let mut all = Condition::all();
        for (col, value) in cols.iter().zip(&values).take(i) {
            all = all.add(Expr::col(*col).eq(value.clone()));
        }
        all = match cols.get(i) {
            Some(col) => all.add(beyond(Expr::col(*col), values[i].clone())),
            None => all.add(beyond(Expr::col(Column::Id), id.into())),
        };
        any = any.add(all);
    }
    any
}

fn records(rows: Vec<OfferRow>) -> Result<Vec<OfferRecord>> {
    rows.into_iter().map(OfferRecord::try_from).collect()
}

impl Store {
    /// A page of a job's offers in `order`, reading only the JSON columns `columns` asks for.
    pub async fn offers_page(
        &self,
        job_id: Uuid,
        order: OfferOrder,
        filter: &OfferFilter,
        first: u64,
        after: Option<OfferAfter>,
        columns: OfferColumns,
    ) -> Result<Page<OfferRecord>> {
        let direction = if order.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        let sort_cols: &[Column] = match order.key {
            OfferSortKey::Price => &[Column::PriceMinor],
            OfferSortKey::Departure => &[Column::DepartureAt],
            OfferSortKey::Arrival => &[Column::ArrivalAt],
            OfferSortKey::Duration => &[Column::DurationMinutes],
            OfferSortKey::Stops => &[Column::Stops, Column::PriceMinor],
        };
        let mut query = select_offers(columns).filter(Column::JobId.eq(job_id));
        for col in sort_cols {
            query = query.order_by(*col, direction.clone());
        }
        query = filter.apply(query.order_by(Column::Id, direction));
        if let Some(after) = after {
            let values: Vec<sea_orm::Value> = match after.value {
                OfferSortValue::Price(p) => vec![p.into()],
                OfferSortValue::Departure(d) | OfferSortValue::Arrival(d) => vec![d.into()],
                OfferSortValue::Duration(d) => vec![d.into()],
                OfferSortValue::Stops(s, p) => vec![s.into(), p.into()],
            };
            query = query.filter(after_key(sort_cols, values, after.id, order.descending));
        }
        let query = query.limit(first + 1);
        let mut rows = crate::replicas::read!(self, |db| query
            .clone()
            .into_model::<OfferRow>()
            .all(db)
            .await)?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page {
            items: records(rows)?,
            has_next,
        })
    }

    /// The airlines of a job's offers, by code.
    pub async fn offer_carriers(&self, job_id: Uuid) -> Result<Vec<String>> {
        let query = flight_offer::Entity::find()
            .select_only()
            .column(Column::Carrier)
            .distinct()
            .filter(Column::JobId.eq(job_id))
            .order_by_asc(Column::Carrier);
        Ok(crate::replicas::read!(self, |db| query
            .clone()
            .into_tuple()
            .all(db)
            .await)?)
    }

    /// How many of a job's offers pass `filter`.
    pub async fn offers_count(&self, job_id: Uuid, filter: &OfferFilter) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        let query = filter.apply(flight_offer::Entity::find().filter(Column::JobId.eq(job_id)));
        Ok(crate::replicas::read!(self, |db| query
            .clone()
            .count(db)
            .await)?)
    }

    pub async fn offers_by_ids(
        &self,
        ids: &[Uuid],
        columns: OfferColumns,
    ) -> Result<Vec<OfferRecord>> {
        records(
            select_offers(columns)
                .filter(Column::Id.is_in(ids.iter().copied()))
                .into_model::<OfferRow>()
                .all(&self.db)
                .await?,
        )
    }

    pub async fn offer(&self, id: Uuid, columns: OfferColumns) -> Result<Option<OfferRecord>> {
        select_offers(columns)
            .filter(Column::Id.eq(id))
            .into_model::<OfferRow>()
            .one(&self.db)
            .await?
            .map(OfferRecord::try_from)
            .transpose()
    }

    /// The cheapest fare per (departure, return) date, of offers to `destinations` (all
    /// when empty).
    pub async fn price_calendar(
        &self,
        job_id: Uuid,
        destinations: &[String],
    ) -> Result<Vec<CalendarCell>> {
        let mut query = flight_offer::Entity::find();
        if !destinations.is_empty() {
            query = query.filter(Column::Destination.is_in(destinations.iter().cloned()));
        }
        let query = query
            .select_only()
            .column(Column::DepartureDate)
            .column(Column::ReturnDate)
            .column_as(Column::PriceMinor.min(), "min_price")
            .column_as(Column::Id.count(), "offers")
            .filter(Column::JobId.eq(job_id))
            .group_by(Column::DepartureDate)
            .group_by(Column::ReturnDate)
            .order_by_asc(Column::DepartureDate)
            .order_by_asc(Column::ReturnDate);
        Ok(crate::replicas::read!(self, |db| query
            .clone()
            .into_model::<CalendarCell>()
            .all(db)
            .await)?)
    }

    /// The best price found so far, over time: a point each second the cheapest offer got
    /// cheaper, at most `max_points` (the latest kept).
    pub async fn best_price_history(
        &self,
        job_id: Uuid,
        max_points: usize,
    ) -> Result<Vec<(DateTime<Utc>, i64)>> {
        use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
        let (sql, id): (&str, sea_orm::Value) = match self.backend() {
            DatabaseBackend::Postgres => (
                "SELECT to_char(date_trunc('second', found_at AT TIME ZONE 'UTC'), \
                 'YYYY-MM-DD\"T\"HH24:MI:SS') AS t, MIN(price_minor) AS p \
                 FROM flight_offers WHERE job_id = $1 GROUP BY 1 ORDER BY 1",
                job_id.into(),
            ),
            // Stored as RFC 3339 text in UTC: its first 19 characters are the second.
            _ => (
                "SELECT substr(found_at, 1, 19) AS t, MIN(price_minor) AS p \
                 FROM flight_offers WHERE job_id = ? GROUP BY 1 ORDER BY 1",
                job_id.into(),
            ),
        };
        let statement = Statement::from_sql_and_values(self.backend(), sql, [id]);
        let rows = crate::replicas::read!(self, |db| db.query_all_raw(statement.clone()).await)?;
        let mut points: Vec<(DateTime<Utc>, i64)> = Vec::new();
        for row in rows {
            let t: String = row.try_get("", "t")?;
            let p: i64 = row.try_get("", "p")?;
            let at =
                chrono::NaiveDateTime::parse_from_str(&t.replace(' ', "T"), "%Y-%m-%dT%H:%M:%S")
                    .map_err(|e| crate::StoreError::Corrupt(format!("found_at {t}: {e}")))?
                    .and_utc();
            if points.last().is_none_or(|(_, best)| p < *best) {
                points.push((at, p));
            }
        }
        if points.len() > max_points {
            points.drain(..points.len() - max_points);
        }
        Ok(points)
    }
}
