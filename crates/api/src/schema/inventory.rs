//! The flight catalogue, for admins: browse, add or change one flight, delete one.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, FixedOffset, Utc};
use domain::{AirportCode, AirportDb, InventoryFlight as Flight, RawFlight};
use serde::{Deserialize, Serialize};
use store::{InventoryAfter, InventoryFilter as StoreFilter, InventoryRecord};
use uuid::Uuid;

use super::ApiContext;
use super::types::{Date, GqlCabin, Money, local};
use crate::auth::AdminGuard;
use crate::cursor;
use crate::error::ApiError;

/// A flight of the catalogue. Times carry the UTC offset of their airport.
#[derive(SimpleObject)]
pub struct InventoryFlight {
    pub id: Uuid,
    pub flight_number: String,
    pub airline: String,
    pub origin: String,
    pub destination: String,
    pub departure_at: DateTime<FixedOffset>,
    pub arrival_at: DateTime<FixedOffset>,
    /// The departure's date at the origin.
    pub departure_date: Date,
    pub duration_minutes: i32,
    pub cabin: GqlCabin,
    /// Per seat.
    pub price: Money,
    pub seats_total: i32,
    pub seats_available: i32,
    /// The import that last wrote this flight.
    pub import_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

impl From<InventoryRecord> for InventoryFlight {
    fn from(r: InventoryRecord) -> Self {
        let f = r.flight;
        Self {
            id: r.id,
            duration_minutes: i32::try_from((f.arrival_at - f.departure_at).num_minutes())
                .unwrap_or(0),
            departure_at: local(f.departure_at, f.origin),
            arrival_at: local(f.arrival_at, f.destination),
            departure_date: Date(f.departure_date),
            origin: f.origin.to_string(),
            destination: f.destination.to_string(),
            flight_number: f.flight_number,
            airline: f.airline,
            cabin: f.cabin.into(),
            price: f.price.into(),
            seats_total: i32::try_from(f.seats_total).unwrap_or(i32::MAX),
            seats_available: i32::try_from(f.seats_available).unwrap_or(i32::MAX),
            import_id: r.import_id,
            updated_at: r.updated_at,
        }
    }
}

/// A flight to add, or to replace the one with the same flight number and departure.
#[derive(InputObject)]
pub struct InventoryFlightInput {
    /// E.g. `BA117`.
    pub flight_number: String,
    /// IATA (2) or ICAO (3) airline code.
    pub airline: String,
    pub origin: String,
    pub destination: String,
    /// Local time at the origin, e.g. `2027-03-01T08:30`, or an instant with an offset.
    pub departure: String,
    /// Local time at the destination, or an instant with an offset.
    pub arrival: String,
    #[graphql(default)]
    pub cabin: GqlCabin,
    /// Per seat, in minor units of `currency`.
    pub price: i64,
    pub currency: String,
    pub seats_total: i32,
    /// Default: all seats.
    pub seats_available: Option<i32>,
}

#[derive(InputObject, Default)]
pub struct InventoryFilter {
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub airline: Option<String>,
    pub flight_number: Option<String>,
    /// First departure date (local to the origin), inclusive.
    pub departure_from: Option<Date>,
    pub departure_to: Option<Date>,
}

#[derive(Serialize, Deserialize)]
struct InventoryCursor {
    t: DateTime<Utc>,
    id: Uuid,
}

fn code(field: &str, raw: Option<String>) -> Result<Option<AirportCode>, ApiError> {
    raw.map(|r| AirportCode::parse(&r).map_err(|e| ApiError::bad_input(field, e.to_string())))
        .transpose()
}

fn upper(raw: Option<String>) -> Option<String> {
    raw.map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
}

#[derive(Default)]
pub struct InventoryQuery;

#[Object]
impl InventoryQuery {
    /// The flight catalogue by departure time. ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::query_limits::page(first, child_complexity)"
    )]
    async fn inventory(
        &self,
        ctx: &Context<'_>,
        filter: Option<InventoryFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, InventoryFlight>> {
        let api = ctx.data::<ApiContext>()?;
        let first = cursor::page_size(first)?;
        let after = after
            .map(|raw| cursor::decode::<InventoryCursor>("after", &raw))
            .transpose()?
            .map(|c| InventoryAfter {
                departure_at: c.t,
                id: c.id,
            });
        let f = filter.unwrap_or_default();
        let filter = StoreFilter {
            origin: code("filter.origin", f.origin)?,
            destination: code("filter.destination", f.destination)?,
            airline: upper(f.airline),
            flight_number: upper(f.flight_number),
            departure_from: f.departure_from.map(|d| d.0),
            departure_to: f.departure_to.map(|d| d.0),
        };
        let page = api
            .reads(ctx)
            .inventory_page(&filter, first, after)
            .await
            .map_err(ApiError::from)?;
        Ok(cursor::connection(
            after.is_some(),
            page,
            |r| InventoryCursor {
                t: r.flight.departure_at,
                id: r.id,
            },
            InventoryFlight::from,
        ))
    }
}

#[derive(Default)]
pub struct InventoryMutation;

/// The message of a bad flight, named by its input field.
fn input_field(csv_column: &str) -> &'static str {
    match csv_column {
        "flight_number" => "input.flightNumber",
        "airline" => "input.airline",
        "origin" => "input.origin",
        "destination" => "input.destination",
        "departure" => "input.departure",
        "arrival" => "input.arrival",
        "cabin" => "input.cabin",
        "price" => "input.price",
        "currency" => "input.currency",
        "seats_total" => "input.seatsTotal",
        "seats_available" => "input.seatsAvailable",
        _ => "input",
    }
}

#[Object]
impl InventoryMutation {
    /// Adds a flight to the catalogue, or replaces the one with the same flight number and
    /// departure. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn upsert_inventory_flight(
        &self,
        ctx: &Context<'_>,
        input: InventoryFlightInput,
    ) -> Result<InventoryFlight> {
        let api = ctx.data::<ApiContext>()?;
        if input.price < 0 {
            return Err(
                ApiError::bad_input("input.price", format!("{} is negative", input.price)).into(),
            );
        }
        let currency = domain::Currency::parse(&input.currency)
            .map_err(|e| ApiError::bad_input("input.currency", e.to_string()))?;
        // The catalogue's rules live in one place: the flight is checked as a CSV row would be.
        let price = domain::Money::new(input.price, currency)
            .map_err(|e| ApiError::bad_input("input.price", e.to_string()))?
            .to_string();
        let price = price.split(' ').next().unwrap_or_default().to_string();
        let seats_total = input.seats_total.to_string();
        let seats_available = input
            .seats_available
            .map(|n| n.to_string())
            .unwrap_or_default();
        let cabin = domain::Cabin::from(input.cabin).as_str();
        let raw = RawFlight {
            flight_number: &input.flight_number,
            airline: &input.airline,
            origin: &input.origin,
            destination: &input.destination,
            departure: &input.departure,
            arrival: &input.arrival,
            cabin,
            price: &price,
            currency: currency.code(),
            seats_total: &seats_total,
            seats_available: &seats_available,
        };
        let flight = Flight::parse(&raw, AirportDb::embedded())
            .map_err(|e| ApiError::bad_input(input_field(e.field), e.message))?;
        let record = api
            .store
            .upsert_inventory_flight(&flight)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(flight = %record.flight.flight_number, id = %record.id, "inventory flight upserted");
        Ok(record.into())
    }

    /// Deletes a flight from the catalogue (searches already run keep their offers).
    /// NOT_FOUND if there is no such flight. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn delete_inventory_flight(&self, ctx: &Context<'_>, id: Uuid) -> Result<bool> {
        let api = ctx.data::<ApiContext>()?;
        if api
            .store
            .delete_inventory_flight(id)
            .await
            .map_err(ApiError::from)?
        {
            Ok(true)
        } else {
            Err(ApiError::NotFound(format!("inventory flight {id}")).into())
        }
    }
}
