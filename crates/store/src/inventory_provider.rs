//! The `inventory` provider: searches the admins' catalogue like any other provider, so
//! searches find flights loaded by CSV import. A round trip pairs an outbound flight with a
//! return flight departing within the nights range.

use async_trait::async_trait;
use domain::{
    AirportCode, Currency, Direction, FlightOffer, FlightQuery, Money, NightsRange, Segment,
};
use providers::{BookingRequest, Capabilities, Confirmation, FlightProvider, ProviderError};

use crate::{InventoryRecord, Store};

/// Offers one call returns at most.
const MAX_RESULTS: usize = 5_000;
/// Return flights paired with one outbound flight at most, cheapest first.
const RETURNS_PER_OUTBOUND: usize = 20;

pub struct InventoryProvider {
    name: String,
    store: Store,
    capabilities: Capabilities,
}

impl InventoryProvider {
    pub fn new(name: impl Into<String>, store: Store, capabilities: Capabilities) -> Self {
        Self {
            name: name.into(),
            store,
            capabilities,
        }
    }

    /// What one call covers unless the providers file says otherwise: a month of
    /// departures, a whole nights range and ten destinations, from one database query.
    pub fn default_capabilities() -> Capabilities {
        Capabilities {
            date_window_days: 31,
            nights_range: true,
            max_destinations: 10,
            max_results: Some(MAX_RESULTS as u32),
            typical_latency_ms: 5,
            // Booked in the database by the API itself (`Store::create_booking`), never
            // through `book`.
            booking: true,
            idempotent_booking: true,
        }
    }
}

/// The database's words go to the log; users see the category.
fn db_error(e: crate::StoreError) -> ProviderError {
    tracing::warn!(error = %e, "the inventory provider cannot read the catalogue");
    ProviderError::Unavailable("the flight catalogue cannot be read right now".into())
}

/// A seat's price in the search's currency, for all passengers. The catalogue may price in
/// another currency: it is converted at the indicative rates of [`Currency::per_euro`].
pub(crate) fn fare(price: Money, adults: u8, currency: Currency) -> Money {
    let per_seat = if price.currency == currency {
        price.minor_units
    } else {
        let euros = price.minor_units as f64
            / 10f64.powi(i32::from(price.currency.exponent()))
            / price.currency.per_euro();
        Money::from_euros(euros, currency).minor_units
    };
    Money {
        minor_units: per_seat.saturating_mul(i64::from(adults)),
        currency,
    }
}

fn segment(r: &InventoryRecord, direction: Direction) -> Segment {
    Segment {
        direction,
        carrier: r.flight.airline.clone(),
        flight_number: r.flight.flight_number.clone(),
        origin: r.flight.origin,
        destination: r.flight.destination,
        departure_at: r.flight.departure_at,
        arrival_at: r.flight.arrival_at,
    }
}

fn minutes(r: &InventoryRecord) -> u32 {
    u32::try_from((r.flight.arrival_at - r.flight.departure_at).num_minutes()).unwrap_or(0)
}

fn key_part(r: &InventoryRecord) -> String {
    format!(
        "{}@{}",
        r.flight.flight_number,
        r.flight.departure_at.format("%Y%m%dT%H%MZ")
    )
}

impl InventoryProvider {
    fn offer(
        &self,
        query: &FlightQuery,
        out: &InventoryRecord,
        back: Option<&InventoryRecord>,
    ) -> Option<FlightOffer> {
        let mut price = fare(out.flight.price, query.adults, query.currency);
        if let Some(b) = back {
            price.minor_units = price
                .minor_units
                .saturating_add(fare(b.flight.price, query.adults, query.currency).minor_units);
        }
        if query
            .max_price
            .is_some_and(|max| price.minor_units > max.minor_units)
        {
            return None;
        }
        let mut segments = vec![segment(out, Direction::Outbound)];
        segments.extend(back.map(|b| segment(b, Direction::Return)));
        let key = match back {
            None => key_part(out),
            Some(b) => format!("{}+{}", key_part(out), key_part(b)),
        };
        let raw = serde_json::json!({
            "outbound": { "id": out.id, "price": { "amountMinor": out.flight.price.minor_units, "currency": out.flight.price.currency.code() } },
            "return": back.map(|b| serde_json::json!({ "id": b.id, "price": { "amountMinor": b.flight.price.minor_units, "currency": b.flight.price.currency.code() } })),
        });
        Some(FlightOffer {
            key,
            provider: self.name.clone(),
            origin: out.flight.origin,
            destination: out.flight.destination,
            departure_at: out.flight.departure_at,
            arrival_at: out.flight.arrival_at,
            return_departure_at: back.map(|b| b.flight.departure_at),
            return_arrival_at: back.map(|b| b.flight.arrival_at),
            carrier: out.flight.airline.clone(),
            flight_numbers: segments.iter().map(|s| s.flight_number.clone()).collect(),
            stops: 0,
            duration_minutes: minutes(out) + back.map_or(0, minutes),
            price,
            cabin: out.flight.cabin,
            segments,
            expires_at: None,
            deep_link: None,
            booking_token: Some(match back {
                None => out.id.to_string(),
                Some(b) => format!("{}+{}", out.id, b.id),
            }),
            raw: Some(raw),
        })
    }
}

#[async_trait]
impl FlightProvider for InventoryProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        let destinations: Vec<AirportCode> = query
            .destinations
            .iter()
            .copied()
            .filter(|d| *d != query.origin)
            .collect();
        if destinations.is_empty() {
            return Ok(Vec::new());
        }
        let outbound = self
            .store
            .inventory_departures(
                query.origin,
                &destinations,
                query.departure_from,
                query.departure_to,
                query.cabin,
                u32::from(query.adults),
            )
            .await
            .map_err(db_error)?;
        let mut offers = Vec::new();
        match query.nights {
            None => {
                offers.extend(outbound.iter().filter_map(|o| self.offer(query, o, None)));
            }
            Some(NightsRange { min, max }) => {
                // Every return from each destination back to the origin that leaves on a
                // date `min..=max` nights after some outbound date.
                for destination in &destinations {
                    let outs: Vec<&InventoryRecord> = outbound
                        .iter()
                        .filter(|o| o.flight.destination == *destination)
                        .collect();
                    let (Some(first), Some(last)) = (outs.first(), outs.last()) else {
                        continue;
                    };
                    let mut returns = self
                        .store
                        .inventory_departures(
                            *destination,
                            &[query.origin],
                            first.flight.departure_date + chrono::Days::new(u64::from(min)),
                            last.flight.departure_date + chrono::Days::new(u64::from(max)),
                            query.cabin,
                            u32::from(query.adults),
                        )
                        .await
                        .map_err(db_error)?;
                    // Each outbound flight pairs with its cheapest returns only, so a busy
                    // route cannot multiply into millions of pairs.
                    returns.sort_by_key(|r| fare(r.flight.price, 1, query.currency).minor_units);
                    for out in &outs {
                        let pairs = returns
                            .iter()
                            .filter(|back| {
                                let nights = (back.flight.departure_date
                                    - out.flight.departure_date)
                                    .num_days();
                                nights >= i64::from(min)
                                    && nights <= i64::from(max)
                                    && back.flight.departure_at > out.flight.arrival_at
                            })
                            .filter_map(|back| self.offer(query, out, Some(back)))
                            .take(RETURNS_PER_OUTBOUND);
                        offers.extend(pairs);
                    }
                }
            }
        }
        if offers.len() > MAX_RESULTS {
            offers.sort_by_key(|o| o.price.minor_units);
            offers.truncate(MAX_RESULTS);
        }
        Ok(offers)
    }

    /// Catalogue seats are taken by the booking's own transaction (`Store::create_booking`),
    /// never through a provider call.
    async fn book(
        &self,
        _: &FlightOffer,
        _: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        Err(ProviderError::Unsupported("booking outside the database"))
    }
}
