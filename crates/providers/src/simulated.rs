//! A provider that needs no network: fares and schedules made up deterministically from a
//! seed and the query, shaped by real geography. The same query always returns the same
//! offers on a given day, whichever job asks.
//!
//! - Duration follows great-circle distance at airliner speed, plus taxi time and layovers.
//! - Fares grow with distance and cabin; Fridays and Sundays cost more, Tuesdays and
//!   Wednesdays less; the last two weeks before departure cost more, early bookings less.
//! - Short routes usually fly non-stop; some long routes and every ultra-long one need stops.

use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use domain::{AirportCode, AirportDb, Cabin, Direction, FlightOffer, FlightQuery, Money, Segment};
use siphasher::sip::SipHasher13;

use crate::{BookingRequest, Capabilities, Confirmation, FlightProvider, ProviderError};

pub const NAME: &str = "simulated";

const CARRIERS: &[&str] = &[
    "BA", "AF", "KL", "LH", "EK", "QR", "SQ", "TG", "CX", "JL", "NH", "AA", "UA", "DL", "TK", "EY",
    "LX", "IB", "AY", "SK", "VS", "U2", "FR", "W6", "QF", "NZ", "AC", "KE", "MH", "AI",
];

#[derive(Debug, Clone)]
pub struct SimulatedConfig {
    pub seed: u64,
    /// Mean delay of a call; each call varies by up to ±20%.
    pub latency: Duration,
    /// Share of calls, 0.0 to 1.0, that fail with a retryable error.
    pub error_rate: f64,
    /// What one call covers; a window is answered as the single queries it stands for.
    pub date_window_days: u32,
    pub nights_range: bool,
    pub max_destinations: u32,
    /// Share of bookings, 0.0 to 1.0, refused (decided by the idempotency key, so the same
    /// booking is refused every time it is sent).
    pub booking_failure_rate: f64,
    /// Share of offers, 0.0 to 1.0, whose price has moved by +7% when they are booked
    /// (decided by the offer's key): booking them at the old price answers PriceChanged.
    pub price_change_rate: f64,
}

impl Default for SimulatedConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            latency: Duration::from_millis(25),
            error_rate: 0.0,
            date_window_days: 1,
            nights_range: false,
            max_destinations: 1,
            booking_failure_rate: 0.0,
            price_change_rate: 0.0,
        }
    }
}

pub struct SimulatedProvider {
    name: String,
    config: SimulatedConfig,
    calls: AtomicU64,
    today: fn() -> NaiveDate,
}

impl SimulatedProvider {
    pub fn new(config: SimulatedConfig) -> Self {
        Self::named(NAME, config)
    }

    /// A simulated provider under another name, e.g. to run two with different settings.
    pub fn named(name: impl Into<String>, config: SimulatedConfig) -> Self {
        Self {
            name: name.into(),
            config,
            calls: AtomicU64::new(0),
            today: || Utc::now().date_naive(),
        }
    }

    /// Offers for a query as of a given booking date, without latency or errors. A query
    /// over windows gets the offers of every single query it covers.
    pub fn offers(&self, query: &FlightQuery, today: NaiveDate) -> Vec<FlightOffer> {
        query
            .expand()
            .flat_map(|single| self.single_offers(&single, today))
            .collect()
    }

    fn single_offers(&self, query: &FlightQuery, today: NaiveDate) -> Vec<FlightOffer> {
        let db = AirportDb::embedded();
        let Some(destination) = query.destination() else {
            return Vec::new();
        };
        let (Some(from), Some(to), Some(km)) = (
            db.get(query.origin),
            db.get(destination),
            db.distance_km(query.origin, destination),
        ) else {
            return Vec::new();
        };
        if query.origin == destination {
            return Vec::new();
        }
        let departure_date = query.departure_from;
        let return_date = query.return_date();
        let route = self.hash(&[
            b"route",
            query.origin.as_str().as_bytes(),
            destination.as_str().as_bytes(),
        ]);
        let nonstop_exists = km < 2_500.0 || (km < 13_000.0 && route % 100 < 60);
        let carrier_count = 2 + (route >> 8) as usize % 3;
        let carriers: Vec<&str> = (0..carrier_count)
            .map(|i| {
                CARRIERS[(self.hash(&[b"carrier", &route.to_le_bytes(), &[i as u8]])
                    % CARRIERS.len() as u64) as usize]
            })
            .collect();

        let qhash = self.hash(&[
            b"query",
            query.origin.as_str().as_bytes(),
            destination.as_str().as_bytes(),
            departure_date.to_string().as_bytes(),
            return_date
                .map(|d| d.to_string())
                .unwrap_or_default()
                .as_bytes(),
        ]);
        let count = 2 + qhash % 5;
        let mut offers = Vec::with_capacity(count as usize);
        for k in 0..count {
            let r = |salt: &[u8]| self.hash(&[&qhash.to_le_bytes(), &k.to_le_bytes(), salt]);
            let carrier = carriers[(r(b"carrier") % carriers.len() as u64) as usize];
            let stops = match (nonstop_exists, r(b"stops") % 100) {
                (true, x) if x < 55 => 0,
                (_, x) if km > 9_000.0 && x >= 80 => 2,
                _ => 1,
            };
            if query.max_stops.is_some_and(|max| stops > max) {
                continue;
            }
            let out = leg(from.tz, departure_date, km, stops, r(b"out"));
            let back = return_date.map(|date| leg(to.tz, date, km, stops, r(b"back")));
            // A stay shorter than the journey out: no return to offer before landing (with
            // two hours to turn round).
            if back.is_some_and(|b| b.0 < out.1 + chrono::Duration::hours(2)) {
                continue;
            }

            let mut euros = 45.0 + 0.075 * km + 0.02 * (km - 4_000.0).max(0.0);
            euros *= match query.cabin {
                Cabin::Economy => 1.0,
                Cabin::PremiumEconomy => 1.6,
                Cabin::Business => 3.4,
                Cabin::First => 5.8,
            };
            euros *= weekday_factor(departure_date.weekday());
            euros *= advance_factor((departure_date - today).num_days());
            euros *= 1.0 - 0.12 * f64::from(stops);
            euros *= 0.85 + (r(b"noise") % 450) as f64 / 1_000.0;
            if let Some(ret) = return_date {
                euros *= 1.75 * weekday_factor(ret.weekday()).sqrt();
            }
            euros *= f64::from(query.adults);
            let price = Money::from_euros(euros, query.currency);
            if query
                .max_price
                .is_some_and(|max| price.minor_units > max.minor_units)
            {
                continue;
            }

            let base_number = 100 + r(b"number") % 8_900;
            let per_leg = u64::from(stops) + 1;
            let mut flight_numbers: Vec<String> = (0..per_leg)
                .map(|s| format!("{carrier}{}", base_number + s * 7))
                .collect();
            if return_date.is_some() {
                flight_numbers
                    .extend((0..per_leg).map(|s| format!("{carrier}{}", base_number + 1 + s * 7)));
            }
            let key = format!(
                "{}{}-{}-{}-{}-{}",
                query.origin,
                destination,
                flight_numbers.join("."),
                out.0.format("%Y%m%dT%H%M"),
                back.map(|b| b.0.format("%Y%m%dT%H%M").to_string())
                    .unwrap_or_else(|| "ow".into()),
                query.cabin.as_str(),
            );
            let duration = out.2 + back.map_or(0, |b| b.2);
            let hubs = hubs(query.origin, destination, stops, r(b"hubs"));
            let mut segments = leg_segments(
                Direction::Outbound,
                carrier,
                &flight_numbers[..per_leg as usize],
                query.origin,
                destination,
                &hubs,
                out,
            );
            if let Some(back) = back {
                let mut hubs_back = hubs.clone();
                hubs_back.reverse();
                segments.extend(leg_segments(
                    Direction::Return,
                    carrier,
                    &flight_numbers[segments.len()..],
                    destination,
                    query.origin,
                    &hubs_back,
                    back,
                ));
            }
            let quoted_at = today.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            offers.push(FlightOffer {
                deep_link: Some(format!(
                    "https://simulated.fast-flights.invalid/offer/{key}"
                )),
                booking_token: None,
                expires_at: Some(quoted_at + chrono::Duration::days(2)),
                raw: None,
                segments,
                key,
                provider: self.name.clone(),
                origin: query.origin,
                destination,
                departure_at: out.0,
                arrival_at: out.1,
                return_departure_at: back.map(|b| b.0),
                return_arrival_at: back.map(|b| b.1),
                carrier: carrier.to_string(),
                flight_numbers,
                stops,
                duration_minutes: duration,
                price,
                cabin: query.cabin,
            });
        }
        offers
    }

    fn hash(&self, parts: &[&[u8]]) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.config.seed, 0x6661_7374_666c_7973);
        for part in parts {
            h.write(part);
            h.write_u8(0xff);
        }
        h.finish()
    }

    /// A fresh pseudo-random number per call, for latency jitter and injected errors.
    fn call_noise(&self) -> u64 {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        self.hash(&[b"call", &n.to_le_bytes(), &nanos.to_le_bytes()])
    }
}

/// One direction of a trip: (departure, arrival, minutes).
fn leg(
    tz: chrono_tz::Tz,
    date: NaiveDate,
    km: f64,
    stops: u8,
    r: u64,
) -> (DateTime<Utc>, DateTime<Utc>, u32) {
    let minute_of_day = 6 * 60 + (r % 204) as u32 * 5; // 06:00 to 22:55
    let layovers: u32 = (0..stops)
        .map(|s| 55 + ((r >> (8 + 8 * s)) % 186) as u32)
        .sum();
    let minutes = (km / 780.0 * 60.0) as u32 + 35 + layovers;
    let local = date
        .and_hms_opt(minute_of_day / 60, minute_of_day % 60, 0)
        .unwrap_or_default();
    let departure = tz
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local));
    let arrival = departure
        .checked_add_signed(chrono::Duration::minutes(i64::from(minutes)))
        .unwrap_or(departure);
    (departure, arrival, minutes)
}

const HUBS: &[&str] = &[
    "DXB", "DOH", "IST", "FRA", "AMS", "CDG", "SIN", "HKG", "ICN", "ORD", "ATL", "MUC", "ZRH",
];

/// Where a flight with stops changes planes: hubs other than its own ends.
fn hubs(origin: AirportCode, destination: AirportCode, stops: u8, r: u64) -> Vec<AirportCode> {
    let candidates: Vec<AirportCode> = HUBS
        .iter()
        .filter_map(|h| AirportCode::parse(h).ok())
        .filter(|h| *h != origin && *h != destination)
        .collect();
    (0..usize::from(stops))
        .map(|s| candidates[(r as usize / (s + 1) + s * 5) % candidates.len()])
        .collect()
}

/// Splits a leg's time into flights and layovers: layovers as [`leg`] drew them, flying
/// time shared evenly.
fn leg_segments(
    direction: Direction,
    carrier: &str,
    numbers: &[String],
    origin: AirportCode,
    destination: AirportCode,
    hubs: &[AirportCode],
    (departure, arrival, _): (DateTime<Utc>, DateTime<Utc>, u32),
) -> Vec<Segment> {
    let stops: Vec<AirportCode> = std::iter::once(origin)
        .chain(hubs.iter().copied())
        .chain(std::iter::once(destination))
        .collect();
    let flights = stops.len() - 1;
    let total = (arrival - departure).num_minutes();
    let layover = 90i64;
    let flying = ((total - layover * (flights as i64 - 1)) / flights as i64).max(30);
    let mut at = departure;
    (0..flights)
        .map(|i| {
            let end = if i + 1 == flights {
                arrival
            } else {
                at + chrono::Duration::minutes(flying)
            };
            let segment = Segment {
                direction,
                carrier: carrier.to_string(),
                flight_number: numbers.get(i).cloned().unwrap_or_default(),
                origin: stops[i],
                destination: stops[i + 1],
                departure_at: at,
                arrival_at: end,
            };
            at = end + chrono::Duration::minutes(layover);
            segment
        })
        .collect()
}

fn weekday_factor(day: Weekday) -> f64 {
    match day {
        Weekday::Fri | Weekday::Sun => 1.15,
        Weekday::Tue | Weekday::Wed => 0.9,
        Weekday::Sat => 1.05,
        _ => 1.0,
    }
}

fn advance_factor(days_before: i64) -> f64 {
    match days_before {
        ..=6 => 1.6,
        7..=13 => 1.35,
        14..=27 => 1.12,
        28..=120 => 1.0,
        _ => 0.93,
    }
}

#[async_trait]
impl FlightProvider for SimulatedProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            date_window_days: self.config.date_window_days.max(1),
            nights_range: self.config.nights_range,
            max_destinations: self.config.max_destinations.max(1),
            max_results: None,
            typical_latency_ms: self.config.latency.as_millis() as u32,
            booking: true,
            idempotent_booking: true,
        }
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        let noise = self.call_noise();
        if !self.config.latency.is_zero() {
            let jitter = 0.8 + (noise % 401) as f64 / 1_000.0;
            tokio::time::sleep(self.config.latency.mul_f64(jitter)).await;
        }
        if self.config.error_rate > 0.0
            && ((noise >> 20) % 1_000_000) as f64 / 1_000_000.0 < self.config.error_rate
        {
            return Err(ProviderError::Unavailable(
                "the provider failed (simulated failure)".into(),
            ));
        }
        Ok(self.offers(query, (self.today)()))
    }

    /// Books deterministically: the reference follows from the idempotency key, so the
    /// same request sent again answers the same booking.
    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        if !self.config.latency.is_zero() {
            tokio::time::sleep(self.config.latency).await;
        }
        let share = |h: u64| (h % 1_000_000) as f64 / 1_000_000.0;
        if share(self.hash(&[b"reprice", offer.key.as_bytes()])) < self.config.price_change_rate {
            let current = Money {
                minor_units: offer.price.minor_units.saturating_mul(107) / 100,
                currency: offer.price.currency,
            };
            if request.expected_price != current {
                return Err(ProviderError::PriceChanged { price: current });
            }
        } else if request.expected_price != offer.price {
            return Err(ProviderError::PriceChanged { price: offer.price });
        }
        let key = self.hash(&[b"book", request.idempotency_key.as_bytes()]);
        if share(key) < self.config.booking_failure_rate {
            return Err(ProviderError::Refused(
                "the provider refused the booking (simulated failure)".into(),
            ));
        }
        Ok(Confirmation {
            reference: format!("SIM-{:010X}", key & 0xff_ffff_ffff),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{AirportCode, Currency};

    fn code(raw: &str) -> Option<AirportCode> {
        AirportCode::parse(raw).ok()
    }

    fn query(origin: &str, destination: &str, date: &str, ret: Option<&str>) -> FlightQuery {
        FlightQuery {
            origin: code(origin).expect("code"),
            destinations: vec![code(destination).expect("code")],
            departure_from: date.parse().expect("date"),
            departure_to: date.parse().expect("date"),
            nights: ret.map(|r| {
                let days = (r.parse::<NaiveDate>().expect("date")
                    - date.parse::<NaiveDate>().expect("date"))
                .num_days() as u16;
                domain::NightsRange {
                    min: days,
                    max: days,
                }
            }),
            adults: 1,
            cabin: Cabin::Economy,
            max_stops: None,
            max_price: None,
            currency: Currency::EUR,
        }
    }

    fn provider(seed: u64) -> SimulatedProvider {
        SimulatedProvider::new(SimulatedConfig {
            seed,
            latency: Duration::ZERO,
            ..SimulatedConfig::default()
        })
    }

    fn today() -> NaiveDate {
        "2027-01-01".parse().expect("date")
    }

    #[test]
    fn no_return_leaves_before_the_outbound_lands() {
        // A day trip and one night to Bangkok: most long-haul offers cannot be flown, and
        // none may be offered; a same-day return to Paris can.
        let p = provider(3);
        let mut offered = 0;
        for (to, ret) in [
            ("BKK", "2027-02-10"),
            ("BKK", "2027-02-11"),
            ("CDG", "2027-02-10"),
        ] {
            for o in p.offers(&query("LHR", to, "2027-02-10", Some(ret)), today()) {
                offered += 1;
                let back = o.return_departure_at.expect("round trip");
                assert!(back >= o.arrival_at + chrono::Duration::hours(2), "{o:?}");
                assert!(o.is_possible(), "{o:?}");
            }
        }
        assert!(
            p.offers(
                &query("LHR", "BKK", "2027-02-10", Some("2027-02-10")),
                today()
            )
            .is_empty()
        );
        assert!(offered > 0, "short trips are still offered");
    }

    #[test]
    fn the_same_query_gives_the_same_offers() {
        let q = query("LHR", "BKK", "2027-02-10", Some("2027-02-20"));
        let a = provider(7).offers(&q, today());
        let b = provider(7).offers(&q, today());
        assert!(!a.is_empty());
        assert_eq!(a, b);
        let other_seed = provider(8).offers(&q, today());
        assert_ne!(a, other_seed);
    }

    #[test]
    fn longer_routes_take_longer_and_cost_more() {
        let p = provider(1);
        let short = p.offers(&query("LHR", "CDG", "2027-03-03", None), today());
        let long = p.offers(&query("LHR", "SYD", "2027-03-03", None), today());
        let min_price = |o: &[FlightOffer]| o.iter().map(|x| x.price.minor_units).min();
        let min_duration = |o: &[FlightOffer]| o.iter().map(|x| x.duration_minutes).min();
        assert!(min_price(&long) > min_price(&short));
        assert!(
            min_duration(&long) > Some(18 * 60),
            "{:?}",
            min_duration(&long)
        );
        assert!(min_duration(&short) < Some(3 * 60));
        // London to Sydney is too far to fly without stopping.
        assert!(long.iter().all(|o| o.stops >= 1));
    }

    #[test]
    fn late_bookings_cost_more_than_early_ones() {
        let p = provider(3);
        let q = query("LHR", "JFK", "2027-03-03", None);
        let sum = |today: &str| -> i64 {
            p.offers(&q, today.parse().expect("date"))
                .iter()
                .map(|o| o.price.minor_units)
                .sum()
        };
        assert!(sum("2027-03-01") > sum("2027-01-15"));
    }

    #[test]
    fn times_follow_the_origin_time_zone() {
        let p = provider(5);
        for o in p.offers(&query("JFK", "LAX", "2027-03-03", None), today()) {
            let local = o.departure_at.with_timezone(&chrono_tz::America::New_York);
            assert_eq!(local.date_naive().to_string(), "2027-03-03");
            assert!(o.arrival_at > o.departure_at);
        }
    }

    #[test]
    fn max_stops_and_max_price_filter_offers() {
        let p = provider(9);
        let mut q = query("LHR", "SIN", "2027-03-03", None);
        let all = p.offers(&q, today());
        q.max_stops = Some(0);
        assert!(p.offers(&q, today()).iter().all(|o| o.stops == 0));
        let cheapest = all
            .iter()
            .map(|o| o.price.minor_units)
            .min()
            .expect("offers");
        q.max_stops = None;
        q.max_price = Some(Money::new(cheapest, Currency::EUR).expect("money"));
        let capped = p.offers(&q, today());
        assert!(!capped.is_empty() && capped.iter().all(|o| o.price.minor_units <= cheapest));
    }

    #[tokio::test]
    async fn error_rate_one_always_fails_retryably() {
        let p = SimulatedProvider::new(SimulatedConfig {
            seed: 1,
            latency: Duration::ZERO,
            error_rate: 1.0,
            ..SimulatedConfig::default()
        });
        let err = p
            .search(&query("LHR", "CDG", "2027-03-03", None))
            .await
            .expect_err("always fails");
        assert!(err.is_retryable());
    }

    #[test]
    fn a_window_query_answers_what_its_single_queries_answer() {
        let p = provider(3);
        let mut window = query("LHR", "BKK", "2027-02-10", None);
        window.departure_to = "2027-02-16".parse().expect("date");
        window.destinations.push(code("SIN").expect("code"));
        window.nights = Some(domain::NightsRange { min: 7, max: 9 });
        let all = p.offers(&window, today());
        let singles: Vec<FlightOffer> = window
            .expand()
            .flat_map(|q| p.offers(&q, today()))
            .collect();
        assert_eq!(window.expand().count(), 2 * 7 * 3);
        assert_eq!(all, singles);
        for offer in &all {
            let outbound: Vec<&Segment> = offer
                .segments
                .iter()
                .filter(|s| s.direction == Direction::Outbound)
                .collect();
            assert_eq!(outbound.len(), usize::from(offer.stops) + 1);
            assert_eq!(outbound.first().map(|s| s.origin), Some(offer.origin));
            assert_eq!(
                outbound.last().map(|s| s.destination),
                Some(offer.destination)
            );
            assert_eq!(
                outbound.first().map(|s| s.departure_at),
                Some(offer.departure_at)
            );
            assert_eq!(
                outbound.last().map(|s| s.arrival_at),
                Some(offer.arrival_at)
            );
            assert!(
                outbound
                    .windows(2)
                    .all(|w| w[0].arrival_at < w[1].departure_at)
            );
        }
    }
}
