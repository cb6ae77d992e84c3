//! What is asked of a provider and what it answers, normalised.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{AirportCode, Currency, Money, NightsRange};

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

/// One provider call. A provider that can take windows gets a departure-date window, a
/// nights range and several destinations in one query; one that cannot gets a single
/// date, a single stay and a single destination (see [`FlightQuery::expand`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FlightQuery {
    pub origin: AirportCode,
    pub destinations: Vec<AirportCode>,
    /// The first and last departure dates, both included, in the origin's local time.
    pub departure_from: NaiveDate,
    pub departure_to: NaiveDate,
    /// Nights at the destination for round trips; `None` for one-way.
    pub nights: Option<NightsRange>,
    pub adults: u8,
    pub cabin: Cabin,
    pub max_stops: Option<u8>,
    /// Offers above this price are of no interest.
    pub max_price: Option<Money>,
    pub currency: Currency,
}

impl FlightQuery {
    /// The query for one destination on one date with one stay (`nights` for round trips).
    pub fn single(
        &self,
        destination: AirportCode,
        departure: NaiveDate,
        nights: Option<u16>,
    ) -> FlightQuery {
        FlightQuery {
            destinations: vec![destination],
            departure_from: departure,
            departure_to: departure,
            nights: nights.map(|n| NightsRange { min: n, max: n }),
            ..self.clone()
        }
    }

    /// Every single-destination, single-date, single-stay query this one covers.
    pub fn expand(&self) -> impl Iterator<Item = FlightQuery> + '_ {
        let days = (self.departure_to - self.departure_from).num_days().max(-1) + 1;
        let stays: Vec<Option<u16>> = match self.nights {
            None => vec![None],
            Some(n) => (n.min..=n.max).map(Some).collect(),
        };
        self.destinations
            .iter()
            .filter(move |d| **d != self.origin)
            .flat_map(move |d| {
                let stays = stays.clone();
                (0..days).flat_map(move |day| {
                    let date = self.departure_from + chrono::Days::new(day as u64);
                    stays
                        .clone()
                        .into_iter()
                        .map(move |stay| self.single(*d, date, stay))
                })
            })
    }

    /// The destination of a single-destination query.
    pub fn destination(&self) -> Option<AirportCode> {
        match self.destinations.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The return date of a single-date round trip with one stay.
    pub fn return_date(&self) -> Option<NaiveDate> {
        let n = self.nights?;
        (n.min == n.max && self.departure_from == self.departure_to)
            .then(|| self.departure_from + chrono::Days::new(u64::from(n.min)))
    }

    /// Whether an offer's dates and airports fall inside this query.
    pub fn covers(
        &self,
        offer: &FlightOffer,
        departure: NaiveDate,
        ret: Option<NaiveDate>,
    ) -> bool {
        if offer.origin != self.origin || !self.destinations.contains(&offer.destination) {
            return false;
        }
        if departure < self.departure_from || departure > self.departure_to {
            return false;
        }
        match (self.nights, ret) {
            (None, None) => true,
            (Some(n), Some(ret)) => {
                let stay = (ret - departure).num_days();
                stay >= i64::from(n.min) && stay <= i64::from(n.max)
            }
            _ => false,
        }
    }
}

impl FlightOffer {
    /// Whether the itinerary can be flown: each leg lands after it leaves, and a return
    /// leaves after the outbound has landed (a stay shorter than the journey cannot).
    pub fn is_possible(&self) -> bool {
        if self.arrival_at <= self.departure_at {
            return false;
        }
        match (self.return_departure_at, self.return_arrival_at) {
            (None, None) => true,
            (Some(leaves), Some(lands)) => leaves > self.arrival_at && lands > leaves,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    Outbound,
    Return,
}

/// One flight of an itinerary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub direction: Direction,
    pub carrier: String,
    pub flight_number: String,
    pub origin: AirportCode,
    pub destination: AirportCode,
    pub departure_at: DateTime<Utc>,
    pub arrival_at: DateTime<Utc>,
}

/// A priced itinerary as a provider offers it. `key` identifies the offer at its
/// provider and must be the same every time the provider returns it, so that a task
/// redone after a crash stores nothing twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The flights, outbound then return; may be empty when a provider does not say.
    pub segments: Vec<Segment>,
    /// When the price stops being guaranteed by the provider.
    pub expires_at: Option<DateTime<Utc>>,
    pub deep_link: Option<String>,
    /// What the provider needs to book this offer.
    pub booking_token: Option<String>,
    /// The offer exactly as the provider sent it, for audit.
    pub raw: Option<serde_json::Value>,
}
