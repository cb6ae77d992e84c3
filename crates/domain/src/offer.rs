//! What is asked of a provider and what it answers, normalised.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{AirportCode, Currency, Money};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Cabin {
    #[default]
    Economy,
    PremiumEconomy,
    Business,
    First,
}

impl Cabin {
    pub fn as_str(&self) -> &'static str {
        match self {
            Cabin::Economy => "ECONOMY",
            Cabin::PremiumEconomy => "PREMIUM_ECONOMY",
            Cabin::Business => "BUSINESS",
            Cabin::First => "FIRST",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ECONOMY" => Some(Cabin::Economy),
            "PREMIUM_ECONOMY" => Some(Cabin::PremiumEconomy),
            "BUSINESS" => Some(Cabin::Business),
            "FIRST" => Some(Cabin::First),
            _ => None,
        }
    }
}

/// One provider call: a route on a date, with a return date for round trips.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FlightQuery {
    pub origin: AirportCode,
    pub destination: AirportCode,
    pub departure_date: NaiveDate,
    pub return_date: Option<NaiveDate>,
    pub adults: u8,
    pub cabin: Cabin,
    pub max_stops: Option<u8>,
    /// Offers above this price are of no interest.
    pub max_price: Option<Money>,
    pub currency: Currency,
}

/// A priced itinerary as a provider offers it. `key` identifies the offer at its
/// provider and must be the same every time the provider returns it, so that a task
/// redone after a crash stores nothing twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlightOffer {
    pub key: String,
    pub provider: String,
    pub origin: AirportCode,
    pub destination: AirportCode,
    pub departure_at: DateTime<Utc>,
    pub arrival_at: DateTime<Utc>,
    pub return_departure_at: Option<DateTime<Utc>>,
    pub return_arrival_at: Option<DateTime<Utc>>,
    pub carrier: String,
    pub flight_numbers: Vec<String>,
    pub stops: u8,
    /// Outbound duration; for round trips, outbound plus return.
    pub duration_minutes: u32,
    pub price: Money,
    pub cabin: Cabin,
    pub deep_link: Option<String>,
}
