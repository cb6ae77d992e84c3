use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{OfferAfter, OfferFilter, OfferOrder, OfferSortKey, OfferSortValue, TimeWindow};
use uuid::Uuid;

use super::ApiContext;
use super::jobs::visible_job;
use super::types::{Date, FlightOffer, LocalTime, Money, OfferNode, offer_columns};
use crate::cursor;
use crate::error::ApiError;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum FlightOrder {
    #[default]
    PriceAsc,
    PriceDesc,
    DepartureAsc,
    DepartureDesc,
    /// By the outbound flight's arrival.
    ArrivalAsc,
    ArrivalDesc,
    DurationAsc,
    DurationDesc,
    /// Fewest stops first, then cheapest.
    StopsAsc,
    StopsDesc,
}

impl From<FlightOrder> for OfferOrder {
    fn from(o: FlightOrder) -> Self {
        use FlightOrder::*;
        let key = match o {
            PriceAsc | PriceDesc => OfferSortKey::Price,
            DepartureAsc | DepartureDesc => OfferSortKey::Departure,
            ArrivalAsc | ArrivalDesc => OfferSortKey::Arrival,
            DurationAsc | DurationDesc => OfferSortKey::Duration,
            StopsAsc | StopsDesc => OfferSortKey::Stops,
        };
        let descending = matches!(
            o,
            PriceDesc | DepartureDesc | ArrivalDesc | DurationDesc | StopsDesc
        );
        OfferOrder::new(key, descending)
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
    /// Leaving on this date (at the origin).
    pub departure_date: Option<Date>,
    /// Coming back on this date.
    pub return_date: Option<Date>,
    /// Both directions' flight time together, as `durationMinutes`.
    pub max_duration_minutes: Option<i32>,
    /// Found at or before this moment: a running search's results as they were then, so
    /// pages already seen keep their order (count the rest with `foundSince`).
    pub found_until: Option<DateTime<Utc>>,
    /// Found after this moment.
    pub found_since: Option<DateTime<Utc>>,
    /// The outbound leaves its origin at these local times, e.g. `{ from: "06:00", to:
    /// "12:00" }`.
    pub departure_time: Option<TimeOfDayWindow>,
    /// The return leaves the destination at these local times (round trips only).
    pub return_time: Option<TimeOfDayWindow>,
}

/// Local times of day, both ends included. A window whose `from` is after its `to` runs
/// past midnight: `{ from: "22:00", to: "05:00" }` is the night.
#[derive(InputObject, Clone, Copy)]
pub struct TimeOfDayWindow {
    pub from: LocalTime,
    pub to: LocalTime,
}

impl From<TimeOfDayWindow> for TimeWindow {
    fn from(w: TimeOfDayWindow) -> Self {
        TimeWindow {
            from: w.from.0,
            to: w.to.0,
        }
    }
}

impl FlightFilter {
    fn into_store(self) -> Result<OfferFilter, ApiError> {
        let max_stops = match self.max_stops {
            None => None,
            Some(n @ 0..=10) => Some(n as u8),
            Some(n) => {
                return Err(ApiError::bad_input(
                    "filter.maxStops",
                    format!("{n}; use 0 to 10"),
                ));
            }
        };
        if let Some(n) = self.max_duration_minutes.filter(|n| *n <= 0) {
            return Err(ApiError::bad_input(
                "filter.maxDurationMinutes",
                format!("{n}; give more than 0 minutes"),
            ));
        }
        Ok(OfferFilter {
            max_price_minor: self.max_price,
            max_stops,
            carriers: upper(self.carriers),
            origins: upper(self.origins),
            destinations: upper(self.destinations),
            providers: self.providers.unwrap_or_default(),
            departure_date: self.departure_date.map(|d| d.0),
            return_date: self.return_date.map(|d| d.0),
            max_duration_minutes: self.max_duration_minutes,
            found_until: self.found_until,
            found_since: self.found_since,
            departure_time: self.departure_time.map(Into::into),
            return_time: self.return_time.map(Into::into),
        })
    }
}

/// What a flights connection knows beside its page: the count of every offer that passes
/// the filter, read only when asked for.
pub struct FlightsTotal {
    job_id: Uuid,
    filter: OfferFilter,
    /// When the search ended, for [`ApiContext::reads_of_job`].
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[Object]
impl FlightsTotal {
    /// Offers that pass the filter, on every page.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let api = ctx.data::<ApiContext>()?;
        let n = api
            .reads_of_job(ctx, self.finished_at)
            .offers_count(self.job_id, &self.filter)
            .await
            .map_err(ApiError::from)?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
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
    /// Descending.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    r: bool,
    p: Option<i64>,
    t: Option<DateTime<Utc>>,
    d: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<i16>,
    id: Uuid,
}

impl FlightCursor {
    fn from_after(after: OfferAfter, descending: bool) -> Self {
        let mut c = FlightCursor {
            o: 'p',
            r: descending,
            p: None,
            t: None,
            d: None,
            s: None,
            id: after.id,
        };
        match after.value {
            OfferSortValue::Price(p) => c.p = Some(p),
            OfferSortValue::Departure(t) => {
                c.o = 't';
                c.t = Some(t);
            }
            OfferSortValue::Arrival(t) => {
                c.o = 'a';
                c.t = Some(t);
            }
            OfferSortValue::Duration(d) => {
                c.o = 'd';
                c.d = Some(d);
            }
            OfferSortValue::Stops(s, p) => {
                c.o = 's';
                c.s = Some(s);
                c.p = Some(p);
            }
        }
        c
    }

    /// The order it was made in and its position, if it is whole.
    fn into_after(self) -> Option<(OfferOrder, OfferAfter)> {
        let (key, value) = match self.o {
            'p' => (OfferSortKey::Price, OfferSortValue::Price(self.p?)),
            't' => (OfferSortKey::Departure, OfferSortValue::Departure(self.t?)),
            'a' => (OfferSortKey::Arrival, OfferSortValue::Arrival(self.t?)),
            'd' => (OfferSortKey::Duration, OfferSortValue::Duration(self.d?)),
            's' => (OfferSortKey::Stops, OfferSortValue::Stops(self.s?, self.p?)),
            _ => return None,
        };
        Some((
            OfferOrder::new(key, self.r),
            OfferAfter { value, id: self.id },
        ))
    }
}

/// An edge's cursor, encoded only when the query asks for it.
pub struct FlightEdgeCursor(OfferOrder, OfferAfter);

impl async_graphql::connection::CursorType for FlightEdgeCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let invalid = "not a cursor of flights";
        let c = cursor::decode::<FlightCursor>("after", s).map_err(|_| invalid)?;
        let (order, after) = c.into_after().ok_or(invalid)?;
        Ok(Self(order, after))
    }

    fn encode_cursor(&self) -> String {
        cursor::encode(&FlightCursor::from_after(self.1, self.0.descending))
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
    ) -> Result<Connection<FlightEdgeCursor, OfferNode, FlightsTotal>> {
        let api = ctx.data::<ApiContext>()?;
        let look = ctx.look_ahead();
        let mut columns = offer_columns(&look.field("edges").field("node"))
            .or(offer_columns(&look.field("nodes")));
        let first = cursor::page_size(first)?;
        let order: OfferOrder = order_by.into();
        // The edges' cursors carry the sort key.
        columns.times |= order.needs_times();
        let after = match after {
            None => None,
            Some(raw) => {
                let (made_in, after) = cursor::decode::<FlightCursor>("after", &raw)?
                    .into_after()
                    .ok_or_else(|| ApiError::bad_input("after", "not a cursor of flights"))?;
                if made_in != order {
                    return Err(ApiError::bad_input(
                        "after",
                        "the cursor belongs to another orderBy",
                    )
                    .into());
                }
                Some(after)
            }
        };
        let job = visible_job(ctx, job_id).await?;
        let filter = filter.unwrap_or_default().into_store()?;
        let page = api
            .reads_of_job(ctx, job.finished_at)
            .offers_page(job_id, order, &filter, first, after, columns)
            .await
            .map_err(ApiError::from)?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            page.has_next,
            FlightsTotal {
                job_id,
                filter,
                finished_at: job.finished_at,
            },
        );
        connection.edges.extend(page.items.into_iter().map(|offer| {
            let key = FlightEdgeCursor(order, OfferAfter::of(&offer, order));
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
    async fn price_calendar(
        &self,
        ctx: &Context<'_>,
        job_id: Uuid,
        #[graphql(desc = "Only fares to these airports (of the search's destinations).")]
        destinations: Option<Vec<String>>,
    ) -> Result<Vec<CalendarCell>> {
        let api = ctx.data::<ApiContext>()?;
        let job = visible_job(ctx, job_id).await?;
        let currency = job.spec.currency.code();
        Ok(api
            .reads_of_job(ctx, job.finished_at)
            .price_calendar(job_id, &upper(destinations))
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
