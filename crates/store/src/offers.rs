//! Offers of a job: keyset pages in three orders, lookups by id, the price calendar.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, EntityTrait, ExprTrait, FromQueryResult, Order, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entity::flight_offer::{self, Column};
use crate::records::{OfferRecord, Page};
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

impl Store {
    pub async fn offers_page(
        &self,
        job_id: Uuid,
        order: OfferOrder,
        filter: &OfferFilter,
        first: u64,
        after: Option<OfferAfter>,
    ) -> Result<Page<OfferRecord>> {
        let sort_col = match order {
            OfferOrder::PriceAsc => Column::PriceMinor,
            OfferOrder::DepartureAsc => Column::DepartureAt,
            OfferOrder::DurationAsc => Column::DurationMinutes,
        };
        let mut query = flight_offer::Entity::find()
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
        let mut rows = query.limit(first + 1).all(&self.db).await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page {
            items: rows
                .into_iter()
                .map(OfferRecord::try_from)
                .collect::<Result<_>>()?,
            has_next,
        })
    }

    pub async fn offers_by_ids(&self, ids: &[Uuid]) -> Result<Vec<OfferRecord>> {
        flight_offer::Entity::find()
            .filter(Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(OfferRecord::try_from)
            .collect()
    }

    pub async fn offer(&self, id: Uuid) -> Result<Option<OfferRecord>> {
        flight_offer::Entity::find_by_id(id)
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
}
