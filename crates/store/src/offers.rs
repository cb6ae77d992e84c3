//! Offers of a job: keyset pages in three orders, lookups by id, the price calendar.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OfferOrder {
    #[default]
    PriceAsc,
    DepartureAsc,
    DurationAsc,
}

/// The sort key of the last offer of a page, in the page's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferSortValue {
    Price(i64),
    Departure(DateTime<Utc>),
    Duration(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferAfter {
    pub value: OfferSortValue,
    pub id: Uuid,
}

impl OfferAfter {
    /// The position of `offer` in `order`.
    pub fn of(offer: &OfferRecord, order: OfferOrder) -> Self {
        let value = match order {
            OfferOrder::PriceAsc => OfferSortValue::Price(offer.offer.price.minor_units),
            OfferOrder::DepartureAsc => OfferSortValue::Departure(offer.offer.departure_at),
            OfferOrder::DurationAsc => OfferSortValue::Duration(
                i32::try_from(offer.offer.duration_minutes).unwrap_or(i32::MAX),
            ),
        };
        Self {
            value,
            id: offer.id,
        }
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
    select
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
        let sort_col = match order {
            OfferOrder::PriceAsc => Column::PriceMinor,
            OfferOrder::DepartureAsc => Column::DepartureAt,
            OfferOrder::DurationAsc => Column::DurationMinutes,
        };
        let mut query = select_offers(columns)
            .filter(Column::JobId.eq(job_id))
            .order_by(sort_col, Order::Asc)
            .order_by(Column::Id, Order::Asc);
        if let Some(max) = filter.max_price_minor {
            query = query.filter(Column::PriceMinor.lte(max));
        }
        if let Some(max) = filter.max_stops {
            query = query.filter(Column::Stops.lte(i16::from(max)));
        }
        for (col, values) in [
            (Column::Carrier, &filter.carriers),
            (Column::Origin, &filter.origins),
            (Column::Destination, &filter.destinations),
            (Column::Provider, &filter.providers),
        ] {
            if !values.is_empty() {
                query = query.filter(col.is_in(values.iter().cloned()));
            }
        }
        if let Some(after) = after {
            let value: sea_orm::Value = match after.value {
                OfferSortValue::Price(p) => p.into(),
                OfferSortValue::Departure(d) => d.into(),
                OfferSortValue::Duration(d) => d.into(),
            };
            query = query.filter(
                Condition::any()
                    .add(Expr::col(sort_col).gt(value.clone()))
                    .add(
                        Condition::all()
                            .add(Expr::col(sort_col).eq(value))
                            .add(Column::Id.gt(after.id)),
                    ),
            );
        }
        let mut rows = query
            .limit(first + 1)
            .into_model::<OfferRow>()
            .all(&self.db)
            .await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page {
            items: records(rows)?,
            has_next,
        })
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

    pub async fn price_calendar(&self, job_id: Uuid) -> Result<Vec<CalendarCell>> {
        Ok(flight_offer::Entity::find()
            .select_only()
            .column(Column::DepartureDate)
            .column(Column::ReturnDate)
            .column_as(Column::PriceMinor.min(), "min_price")
            .column_as(Column::Id.count(), "offers")
            .filter(Column::JobId.eq(job_id))
            .group_by(Column::DepartureDate)
            .group_by(Column::ReturnDate)
            .order_by_asc(Column::DepartureDate)
            .order_by_asc(Column::ReturnDate)
            .into_model::<CalendarCell>()
            .all(&self.db)
            .await?)
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
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(self.backend(), sql, [id]))
            .await?;
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
