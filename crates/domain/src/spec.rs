//! A search as a user asks for it, checked field by field at the edge.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{AirportCode, AirportDb, Cabin, CallShape, Currency, Money, TaskPlan};

pub const MAX_ADULTS: u8 = 9;
pub const MAX_STOPS: u8 = 3;
pub const MAX_NIGHTS: u16 = 365;
pub const MAX_LABEL_CHARS: usize = 200;
pub const MAX_CODES_PER_LIST: usize = 100;
/// How far ahead a departure may be: airlines sell about a year out.
pub const MAX_DAYS_AHEAD: i64 = 730;

/// The raw search input, as it arrives from a client.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub origins: Vec<String>,
    pub destinations: Vec<String>,
    pub departure_from: NaiveDate,
    pub departure_to: NaiveDate,
    /// `(min, max)` nights for a round trip; `None` for one-way.
    pub nights: Option<(i64, i64)>,
    pub adults: Option<i64>,
    pub cabin: Option<Cabin>,
    pub max_stops: Option<i64>,
    /// In minor units of `currency`.
    pub max_price: Option<i64>,
    pub currency: Option<String>,
    pub providers: Option<Vec<String>>,
    pub label: Option<String>,
}

/// What validation needs to know about the world.
#[derive(Debug, Clone)]
pub struct ValidationContext<'a> {
    pub today: NaiveDate,
    pub max_tasks: u64,
    /// Every provider that exists.
    pub known_providers: &'a [String],
    /// The providers a search may use, and the ones used when the request names none.
    pub enabled_providers: &'a [String],
    /// What one call of each provider covers; a provider missing here takes single queries.
    pub call_shapes: &'a [CallShape],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NightsRange {
    pub min: u16,
    pub max: u16,
}

/// A validated search. Only [`SearchSpec::parse`] builds one from user input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchSpec {
    /// The codes as asked (airport or metro codes).
    pub requested_origins: Vec<AirportCode>,
    pub requested_destinations: Vec<AirportCode>,
    /// The airports they stand for.
    pub origins: Vec<AirportCode>,
    pub destinations: Vec<AirportCode>,
    pub departure_from: NaiveDate,
    pub departure_to: NaiveDate,
    pub nights: Option<NightsRange>,
    pub adults: u8,
    pub cabin: Cabin,
    pub max_stops: Option<u8>,
    pub max_price: Option<Money>,
    pub currency: Currency,
    pub providers: Vec<String>,
    pub label: Option<String>,
    /// What one call of each provider covered when the search was made; the task plan
    /// follows them. Searches stored before shapes existed have none: single queries.
    #[serde(default)]
    pub call_shapes: Vec<CallShape>,
}

/// A rejected field: `field` is the input field's name as clients spell it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    pub field: &'static str,
    pub message: String,
}

fn reject(field: &'static str, message: impl Into<String>) -> SpecError {
    SpecError {
        field,
        message: message.into(),
    }
}

/// Every rejected field of a search at once, in the order of the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct SpecErrors(pub Vec<SpecError>);

/// Keeps `result`'s value, or its error in `bad`.
fn keep<T>(bad: &mut Vec<SpecError>, result: Result<T, SpecError>) -> Option<T> {
    result.map_err(|e| bad.push(e)).ok()
}

impl SearchSpec {
    /// Checks every field and gives every objection, one per field.
    pub fn parse(req: SearchRequest, ctx: &ValidationContext<'_>) -> Result<Self, SpecErrors> {
        let db = AirportDb::embedded();
        let mut bad = Vec::new();
        let from = keep(&mut bad, parse_places("origins", &req.origins, db));
        let to = keep(
            &mut bad,
            parse_places("destinations", &req.destinations, db),
        );
        // LHR to LON would search Heathrow to Gatwick: a trip within one place is no trip.
        let places = match (from, to) {
            (Some((_, origins)), Some((_, destinations)))
                if destinations.iter().any(|d| origins.contains(d)) =>
            {
                let both = destinations
                    .iter()
                    .find(|d| origins.contains(d))
                    .map(ToString::to_string)
                    .unwrap_or_default();
                bad.push(reject(
                    "destinations",
                    format!(
                        "{both} is among the origins too ({} to {}); a destination must be somewhere else",
                        req.origins.join(", "),
                        req.destinations.join(", ")
                    ),
                ));
                None
            }
            (Some(from), Some(to)) => Some((from, to)),
            _ => None,
        };

        if req.departure_from < ctx.today {
            bad.push(reject(
                "departureFrom",
                format!(
                    "{} is in the past (today is {})",
                    req.departure_from, ctx.today
                ),
            ));
        }
        let horizon = ctx.today + chrono::Duration::days(MAX_DAYS_AHEAD);
        if req.departure_to > horizon {
            bad.push(reject(
                "departureTo",
                format!(
                    "{} is more than {MAX_DAYS_AHEAD} days ahead (the last date is {horizon})",
                    req.departure_to
                ),
            ));
        } else if req.departure_to < req.departure_from {
            bad.push(reject(
                "departureTo",
                format!(
                    "{} is before the earliest departure ({})",
                    req.departure_to, req.departure_from
                ),
            ));
        }

        let nights = keep(&mut bad, parse_nights(req.nights));
        let adults = keep(
            &mut bad,
            match req.adults.unwrap_or(1) {
                n @ 1..=9 => Ok(n as u8),
                n => Err(reject(
                    "adults",
                    format!("{n} passengers; a search takes 1 to {MAX_ADULTS}"),
                )),
            },
        );
        let max_stops = keep(
            &mut bad,
            match req.max_stops {
                None => Ok(None),
                Some(n @ 0..=3) => Ok(Some(n as u8)),
                Some(n) => Err(reject(
                    "maxStops",
                    format!("{n} stops; choose 0 to {MAX_STOPS}, or any"),
                )),
            },
        );
        let currency = keep(
            &mut bad,
            match req.currency.as_deref() {
                None => Ok(Currency::EUR),
                Some(raw) => Currency::parse(raw).map_err(|e| reject("currency", e.to_string())),
            },
        );
        let max_price = match (req.max_price, currency) {
            (None, _) => Some(None),
            (Some(n), _) if n <= 0 => {
                bad.push(reject("maxPrice", "a price cap must be more than zero"));
                None
            }
            (Some(n), Some(currency)) => keep(
                &mut bad,
                Money::new(n, currency)
                    .map(Some)
                    .map_err(|e| reject("maxPrice", e.to_string())),
            ),
            // Checked once the currency is right.
            (Some(_), None) => None,
        };
        let providers = keep(&mut bad, parse_providers(req.providers, ctx));
        let label = keep(
            &mut bad,
            match req.label {
                None => Ok(None),
                Some(l) if l.trim().is_empty() => Ok(None),
                Some(l) if l.chars().count() > MAX_LABEL_CHARS => Err(reject(
                    "label",
                    format!("longer than {MAX_LABEL_CHARS} characters"),
                )),
                Some(l) => Ok(Some(l.trim().to_string())),
            },
        );

        let (
            Some(((requested_origins, origins), (requested_destinations, destinations))),
            Some(nights),
            Some(adults),
            Some(max_stops),
            Some(currency),
            Some(max_price),
            Some(providers),
            Some(label),
            true,
        ) = (
            places,
            nights,
            adults,
            max_stops,
            currency,
            max_price,
            providers,
            label,
            bad.is_empty(),
        )
        else {
            return Err(SpecErrors(bad));
        };
        let spec = SearchSpec {
            requested_origins,
            requested_destinations,
            origins,
            destinations,
            departure_from: req.departure_from,
            departure_to: req.departure_to,
            nights,
            adults,
            cabin: req.cabin.unwrap_or_default(),
            max_stops,
            max_price,
            currency,
            call_shapes: providers
                .iter()
                .map(|p| {
                    ctx.call_shapes
                        .iter()
                        .find(|s| s.provider == *p)
                        .cloned()
                        .unwrap_or_else(|| CallShape::single(p.clone()))
                })
                .collect(),
            providers,
            label,
        };
        match TaskPlan::new(&spec).checked_len() {
            Some(n) if n <= ctx.max_tasks => Ok(spec),
            total => Err(SpecErrors(vec![reject(
                "input",
                format!(
                    "this search needs {} provider queries, more than the limit of {}; \
                     choose fewer airports, a shorter departure window or fewer nights",
                    total.map_or_else(|| "too many".to_string(), thousands),
                    thousands(ctx.max_tasks)
                ),
            )])),
        }
    }
}

fn parse_nights(raw: Option<(i64, i64)>) -> Result<Option<NightsRange>, SpecError> {
    let Some((min, max)) = raw else {
        return Ok(None);
    };
    if min < 0 || max < 0 {
        return Err(reject("nights", "nights cannot be fewer than zero"));
    }
    if min > max {
        return Err(reject(
            "nights",
            format!("at least {min} nights is more than at most {max}"),
        ));
    }
    if max > i64::from(MAX_NIGHTS) {
        return Err(reject(
            "nights",
            format!("{max} nights is more than the {MAX_NIGHTS} a search allows"),
        ));
    }
    Ok(Some(NightsRange {
        min: min as u16,
        max: max as u16,
    }))
}

fn parse_providers(
    raw: Option<Vec<String>>,
    ctx: &ValidationContext<'_>,
) -> Result<Vec<String>, SpecError> {
    let providers = match raw {
        None => ctx.enabled_providers.to_vec(),
        Some(list) => {
            let mut seen = HashSet::new();
            let mut providers = Vec::new();
            for name in list {
                let name = name.trim().to_string();
                if !ctx.known_providers.contains(&name) {
                    return Err(reject(
                        "providers",
                        format!(
                            "there is no provider named {name}; the providers are {}",
                            ctx.known_providers.join(", ")
                        ),
                    ));
                }
                if !ctx.enabled_providers.contains(&name) {
                    return Err(reject(
                        "providers",
                        format!("{name} is switched off for now; choose another provider"),
                    ));
                }
                if seen.insert(name.clone()) {
                    providers.push(name);
                }
            }
            providers
        }
    };
    if providers.is_empty() {
        return Err(reject(
            "providers",
            "no provider to search; choose at least one",
        ));
    }
    Ok(providers)
}

/// A count with thousands separators: 6745728 → "6,745,728".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn parse_places(
    field: &'static str,
    raw: &[String],
    db: &AirportDb,
) -> Result<(Vec<AirportCode>, Vec<AirportCode>), SpecError> {
    if raw.is_empty() {
        return Err(reject(field, "give at least one airport or city code"));
    }
    if raw.len() > MAX_CODES_PER_LIST {
        return Err(reject(
            field,
            format!("{} codes; at most {MAX_CODES_PER_LIST}", raw.len()),
        ));
    }
    let mut requested = Vec::new();
    let mut airports = Vec::new();
    let mut unknown = Vec::new();
    for item in raw {
        let code = AirportCode::parse(item).map_err(|e| reject(field, e.to_string()))?;
        let Some(resolved) = db.resolve(code) else {
            unknown.push(code.to_string());
            continue;
        };
        if !requested.contains(&code) {
            requested.push(code);
        }
        for a in resolved {
            if !airports.contains(&a) {
                airports.push(a);
            }
        }
    }
    match unknown.as_slice() {
        [] => Ok((requested, airports)),
        [one] => Err(reject(
            field,
            format!("{one} is not an airport or city code we know"),
        )),
        many => Err(reject(
            field,
            format!("{} are not airport or city codes we know", many.join(", ")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn providers() -> Vec<String> {
        vec!["simulated".to_string()]
    }

    fn request() -> SearchRequest {
        SearchRequest {
            origins: vec!["LON".into()],
            destinations: vec!["BKK".into(), "sin".into()],
            departure_from: date("2027-01-10"),
            departure_to: date("2027-01-20"),
            nights: Some((7, 14)),
            ..Default::default()
        }
    }

    /// The search, or its first objection.
    fn parse(req: SearchRequest) -> Result<SearchSpec, SpecError> {
        parse_all(req).map_err(|e| e.0[0].clone())
    }

    fn parse_all(req: SearchRequest) -> Result<SearchSpec, SpecErrors> {
        let p = providers();
        SearchSpec::parse(
            req,
            &ValidationContext {
                today: date("2027-01-01"),
                max_tasks: 5_000_000,
                known_providers: &p,
                enabled_providers: &p,
                call_shapes: &[],
            },
        )
    }

    fn field_of(req: SearchRequest) -> &'static str {
        parse(req).expect_err("should be rejected").field
    }

    #[test]
    fn a_good_request_gets_defaults() {
        let spec = parse(request()).expect("valid");
        assert!(spec.origins.len() >= 5, "LON expands: {:?}", spec.origins);
        assert_eq!(spec.requested_origins.len(), 1);
        assert_eq!(spec.destinations.len(), 2);
        assert_eq!(spec.adults, 1);
        assert_eq!(spec.cabin, Cabin::Economy);
        assert_eq!(spec.currency, Currency::EUR);
        assert_eq!(spec.providers, providers());
        assert_eq!(spec.nights, Some(NightsRange { min: 7, max: 14 }));
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(
            field_of(SearchRequest {
                origins: vec![],
                ..request()
            }),
            "origins"
        );
        assert_eq!(
            field_of(SearchRequest {
                origins: vec!["QQQ".into()],
                ..request()
            }),
            "origins"
        );
        assert_eq!(
            field_of(SearchRequest {
                destinations: vec!["B1".into()],
                ..request()
            }),
            "destinations"
        );
        assert_eq!(
            field_of(SearchRequest {
                origins: vec!["LHR".into()],
                destinations: vec!["LHR".into()],
                ..request()
            }),
            "destinations"
        );
        // A city that holds an origin airport, either way round.
        for (from, to) in [("LHR", "LON"), ("LON", "STN"), ("LON", "LHR")] {
            let err = parse(SearchRequest {
                origins: vec![from.into()],
                destinations: vec![to.into(), "BKK".into()],
                ..request()
            })
            .expect_err("overlap");
            assert_eq!(err.field, "destinations", "{from} to {to}");
            assert!(err.message.contains("among the origins"), "{}", err.message);
        }
        assert_eq!(
            field_of(SearchRequest {
                departure_from: date("2026-12-31"),
                ..request()
            }),
            "departureFrom"
        );
        assert_eq!(
            field_of(SearchRequest {
                departure_to: date("2027-01-09"),
                ..request()
            }),
            "departureTo"
        );
        assert_eq!(
            field_of(SearchRequest {
                nights: Some((5, 4)),
                ..request()
            }),
            "nights"
        );
        assert_eq!(
            field_of(SearchRequest {
                nights: Some((-1, 4)),
                ..request()
            }),
            "nights"
        );
        assert_eq!(
            field_of(SearchRequest {
                adults: Some(0),
                ..request()
            }),
            "adults"
        );
        assert_eq!(
            field_of(SearchRequest {
                adults: Some(10),
                ..request()
            }),
            "adults"
        );
        assert_eq!(
            field_of(SearchRequest {
                max_stops: Some(4),
                ..request()
            }),
            "maxStops"
        );
        assert_eq!(
            field_of(SearchRequest {
                max_price: Some(0),
                ..request()
            }),
            "maxPrice"
        );
        assert_eq!(
            field_of(SearchRequest {
                currency: Some("XXQ".into()),
                ..request()
            }),
            "currency"
        );
        assert_eq!(
            field_of(SearchRequest {
                providers: Some(vec!["nope".into()]),
                ..request()
            }),
            "providers"
        );
        assert_eq!(
            field_of(SearchRequest {
                providers: Some(vec![]),
                ..request()
            }),
            "providers"
        );
        assert_eq!(
            field_of(SearchRequest {
                label: Some("x".repeat(201)),
                ..request()
            }),
            "label"
        );
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let errors = parse_all(SearchRequest {
            origins: vec!["ZZZ".into()],
            destinations: vec!["QQQ".into(), "XXQ".into()],
            nights: Some((14, 7)),
            adults: Some(0),
            max_price: Some(-500),
            ..request()
        })
        .expect_err("rejected");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec!["origins", "destinations", "nights", "adults", "maxPrice"]
        );
        let messages: Vec<&str> = errors.0.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages[0], "ZZZ is not an airport or city code we know");
        assert_eq!(
            messages[1],
            "QQQ, XXQ are not airport or city codes we know"
        );
        assert_eq!(messages[2], "at least 14 nights is more than at most 7");
        assert_eq!(messages[4], "a price cap must be more than zero");
        for m in messages {
            assert!(!m.contains('`') && !m.contains("minor units"), "{m}");
        }
    }

    #[test]
    fn the_task_cap_is_enforced() {
        let p = providers();
        let err = SearchSpec::parse(
            SearchRequest {
                nights: Some((1, 30)),
                ..request()
            },
            &ValidationContext {
                today: date("2027-01-01"),
                max_tasks: 1_000,
                known_providers: &p,
                enabled_providers: &p,
                call_shapes: &[],
            },
        )
        .expect_err("over the cap");
        let err = &err.0[0];
        assert_eq!(err.field, "input");
        assert!(
            err.message
                .contains("more than the limit of 1,000; choose fewer airports"),
            "{}",
            err.message
        );
    }

    #[test]
    fn one_way_and_same_day_departures_are_allowed() {
        let spec = parse(SearchRequest {
            nights: None,
            departure_from: date("2027-01-01"),
            departure_to: date("2027-01-01"),
            ..request()
        })
        .expect("valid");
        assert_eq!(spec.nights, None);
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(6_745_728), "6,745,728");
    }
}
