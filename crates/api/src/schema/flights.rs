use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{OfferAfter, OfferFilter, OfferOrder, OfferSortValue};
use uuid::Uuid;

use super::ApiContext;
use super::jobs::visible_job;
use super::types::{Date, FlightOffer, Money, OfferNode, offer_columns};
use crate::cursor;
use crate::error::ApiError;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[allow(clippy::enum_variant_names)] // the names are the schema's: PRICE_ASC, …
pub enum FlightOrder {
    #[default]
    PriceAsc,
    DepartureAsc,
    DurationAsc,
}

impl From<FlightOrder> for OfferOrder {
    fn from(o: FlightOrder) -> Self {
        match o {
            FlightOrder::PriceAsc => OfferOrder::PriceAsc,
            FlightOrder::DepartureAsc => OfferOrder::DepartureAsc,
            FlightOrder::DurationAsc => OfferOrder::DurationAsc,
        }
    }
}

#[derive(InputObject, Default)]
pub struct FlightFilter {
    /// In minor units of the search's currency.
    pub max_price: Option<i64>,
    pub max_stops: Option<i32>,
    /// Airline codes, e.g. ["BA", "LH"].
    pub carriers: Option<Vec<String>>,
    pub origins: Option<Vec<String>>,
    pub destinations: Option<Vec<String>>,
    pub providers: Option<Vec<String>>,
}

/// The cheapest fare for a departure date (and return date, for round trips).
#[derive(SimpleObject)]
pub struct CalendarCell {
    pub departure_date: Date,
    pub return_date: Option<Date>,
    pub price: Money,
    pub offers: i64,
}

/// What a flights cursor holds: the order it belongs to and the last row's key.
#[derive(Serialize, Deserialize)]
struct FlightCursor {
    o: char,
    p: Option<i64>,
    t: Option<DateTime<Utc>>,
    d: Option<i32>,
    id: Uuid,
}

impl FlightCursor {
    fn from_after(after: OfferAfter) -> Self {
        let mut c = FlightCursor {
            o: 'p',
            p: None,
            t: None,
            d: None,
            id: after.id,
        };
        match after.value {
            OfferSortValue::Price(p) => c.p = Some(p),
            OfferSortValue::Departure(t) => {
                c.o = 't';
                c.t = Some(t);
            }
            OfferSortValue::Duration(d) => {
                c.o = 'd';
                c.d = Some(d);
            }
        }
        c
    }

    fn into_after(self, order: OfferOrder) -> Option<OfferAfter> {
        let value = match (order, self.o) {
            (OfferOrder::PriceAsc, 'p') => OfferSortValue::Price(self.p?),
            (OfferOrder::DepartureAsc, 't') => OfferSortValue::Departure(self.t?),
            (OfferOrder::DurationAsc, 'd') => OfferSortValue::Duration(self.d?),
            _ => return None,
        };
        Some(OfferAfter { value, id: self.id })
    }
}

/// An edge's cursor, encoded only when the query asks for it.
pub struct FlightEdgeCursor(OfferAfter);

impl async_graphql::connection::CursorType for FlightEdgeCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let invalid = "not a cursor of flights";
        let c = cursor::decode::<FlightCursor>("after", s).map_err(|_| invalid)?;
        let order = match c.o {
            't' => OfferOrder::DepartureAsc,
            'd' => OfferOrder::DurationAsc,
            _ => OfferOrder::PriceAsc,
        };
        c.into_after(order).map(Self).ok_or(invalid)
    }

    fn encode_cursor(&self) -> String {
        cursor::encode(&FlightCursor::from_after(self.0))
    }
}

fn upper(list: Option<Vec<String>>) -> Vec<String> {
    list.unwrap_or_default()
        .into_iter()
        .map(|s| s.trim().to_ascii_uppercase())
        .collect()
}

#[derive(Default)]
pub struct FlightQuery;

#[Object]
impl FlightQuery {
    /// Offers a search found, in pages.
    #[graphql(complexity = "crate::query_limits::page(first, child_complexity)")]
    async fn flights(
        &self,
        ctx: &Context<'_>,
        job_id: Uuid,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] order_by: FlightOrder,
        filter: Option<FlightFilter>,
    ) -> Result<Connection<FlightEdgeCursor, OfferNode>> {
        let api = ctx.data::<ApiContext>()?;
        let look = ctx.look_ahead();
        let mut columns = offer_columns(&look.field("edges").field("node"))
            .or(offer_columns(&look.field("nodes")));
        let first = cursor::page_size(first)?;
        let order: OfferOrder = order_by.into();
        // The edges' cursors carry the sort key.
        columns.times |= order == OfferOrder::DepartureAsc;
        let after = match after {
            None => None,
            Some(raw) => Some(
                cursor::decode::<FlightCursor>("after", &raw)?
                    .into_after(order)
                    .ok_or_else(|| {
                        ApiError::bad_input("after", "the cursor belongs to another orderBy")
                    })?,
            ),
        };
        visible_job(ctx, job_id).await?;
        let filter = filter.unwrap_or_default();
        let max_stops = match filter.max_stops {
            None => None,
            Some(n @ 0..=10) => Some(n as u8),
            Some(n) => return Err(ApiError::bad_input("filter.maxStops", format!("{n}")).into()),
        };
        let filter = OfferFilter {
            max_price_minor: filter.max_price,
            max_stops,
            carriers: upper(filter.carriers),
            origins: upper(filter.origins),
            destinations: upper(filter.destinations),
            providers: filter.providers.unwrap_or_default(),
        };
        let page = api
            .store
            .offers_page(job_id, order, &filter, first, after, columns)
            .await
            .map_err(ApiError::from)?;
        let mut connection = Connection::new(after.is_some(), page.has_next);
        connection.edges.extend(page.items.into_iter().map(|offer| {
            let key = FlightEdgeCursor(OfferAfter::of(&offer, order));
            Edge::new(key, OfferNode(FlightOffer::from(offer)))
        }));
        Ok(connection)
    }

    /// One offer of a search the caller may see; NOT_FOUND otherwise.
    async fn flight(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<FlightOffer>> {
        let api = ctx.data::<ApiContext>()?;
        let not_found = || ApiError::NotFound(format!("flight offer {id}"));
        let offer = api
            .store
            .offer(id, offer_columns(&ctx.look_ahead()))
            .await
            .map_err(ApiError::from)?
            .ok_or_else(not_found)?;
        match visible_job(ctx, offer.job_id).await {
            Ok(_) => Ok(Some(offer.into())),
            Err(ApiError::NotFound(_)) => Err(not_found().into()),
            Err(e) => Err(e.into()),
        }
    }

    /// The cheapest fare per departure date and, for round trips, return date.
    #[graphql(
        complexity = "crate::query_limits::list(crate::query_limits::CALENDAR_CELLS, child_complexity)"
    )]
    async fn price_calendar(&self, ctx: &Context<'_>, job_id: Uuid) -> Result<Vec<CalendarCell>> {
        let api = ctx.data::<ApiContext>()?;
        let job = visible_job(ctx, job_id).await?;
        let currency = job.spec.currency.code();
        Ok(api
            .store
            .price_calendar(job_id)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|c| CalendarCell {
                departure_date: Date(c.departure_date),
                return_date: c.return_date.map(Date),
                price: Money {
                    minor_units: c.min_price,
                    currency,
                },
                offers: c.offers,
            })
            .collect())
    }
}
