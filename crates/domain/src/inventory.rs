//! The admins' flight catalogue: one scheduled flight with its seats and price, and the CSV
//! format it is imported from (see docs/inventory-csv.md).

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::{AirportCode, AirportDb, Cabin, Currency, Money};

/// The CSV columns, in the order of the sample file. A file may order them as it likes.
pub const CSV_COLUMNS: [&str; 11] = [
    "flight_number",
    "airline",
    "origin",
    "destination",
    "departure",
    "arrival",
    "cabin",
    "price",
    "currency",
    "seats_total",
    "seats_available",
];

/// A flight of the catalogue, checked: known airports, arrival after departure, a price of
/// zero or more in a known currency, `seats_available <= seats_total`.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryFlight {
    /// Upper case, e.g. `BA117`.
    pub flight_number: String,
    /// The operating airline's IATA (2) or ICAO (3) code.
    pub airline: String,
    pub origin: AirportCode,
    pub destination: AirportCode,
    pub departure_at: DateTime<Utc>,
    pub arrival_at: DateTime<Utc>,
    /// The departure's calendar date at the origin airport.
    pub departure_date: NaiveDate,
    pub cabin: Cabin,
    /// Per seat.
    pub price: Money,
    pub seats_total: u32,
    pub seats_available: u32,
}

/// What is wrong with one flight: the field (a CSV column name) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FlightError {
    pub field: &'static str,
    pub message: String,
}

/// The most of a value (or of a file) an error message quotes.
pub const MAX_QUOTED_CHARS: usize = 60;

/// A value as an error message repeats it: cut short, so a runaway field cannot make a
/// runaway message, and a file that is not CSV is not copied into its report.
pub fn shown(raw: &str) -> String {
    shown_at_most(raw, MAX_QUOTED_CHARS)
}

/// The first `max` characters of a trimmed value, with `…` when it goes on.
pub fn shown_at_most(raw: &str, max: usize) -> String {
    let raw = raw.trim();
    match raw.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &raw[..cut]),
        None => raw.to_string(),
    }
}

/// Names as a list quotes them: together at most [`MAX_QUOTED_CHARS`] of them, then how
/// many more there are.
fn listed(names: &[String]) -> String {
    let mut budget = MAX_QUOTED_CHARS;
    let mut quoted = Vec::new();
    for name in names {
        if budget == 0 {
            break;
        }
        let name = shown_at_most(name, budget);
        budget = budget.saturating_sub(name.trim_end_matches('…').chars().count());
        quoted.push(name);
    }
    let more = names.len() - quoted.len();
    if more > 0 {
        quoted.push(format!("and {more} more"));
    }
    quoted.join(", ")
}

/// The value, or `None` with its problem added to `bad`.
fn keep<T>(bad: &mut Vec<FlightError>, r: Result<T, FlightError>) -> Option<T> {
    r.map_err(|e| bad.push(e)).ok()
}

fn err(field: &'static str, message: impl Into<String>) -> FlightError {
    FlightError {
        field,
        message: message.into(),
    }
}

/// A flight as given: text fields, as a CSV row or an API input has them.
#[derive(Debug, Clone, Default)]
pub struct RawFlight<'a> {
    pub flight_number: &'a str,
    pub airline: &'a str,
    pub origin: &'a str,
    pub destination: &'a str,
    /// Local time at the origin (`2027-03-01T08:30`), or an instant with an offset.
    pub departure: &'a str,
    /// Local time at the destination, or an instant with an offset.
    pub arrival: &'a str,
    /// Empty means ECONOMY.
    pub cabin: &'a str,
    /// A decimal amount in major units (`129.99`).
    pub price: &'a str,
    pub currency: &'a str,
    pub seats_total: &'a str,
    /// Empty means all seats are available.
    pub seats_available: &'a str,
}

impl InventoryFlight {
    /// The flight, or its first problem (see [`InventoryFlight::parse_all`]).
    pub fn parse(raw: &RawFlight<'_>, airports: &AirportDb) -> Result<Self, FlightError> {
        Self::parse_all(raw, airports).map_err(|mut all| all.remove(0))
    }

    /// The flight, or every problem it has, in column order (never an empty list). A
    /// check that needs a field with a problem of its own (the arrival after the departure,
    /// say) is left out rather than reported twice.
    pub fn parse_all(raw: &RawFlight<'_>, airports: &AirportDb) -> Result<Self, Vec<FlightError>> {
        let mut bad = Vec::new();
        let airline = keep(&mut bad, {
            let airline = shown(raw.airline).to_ascii_uppercase();
            if (2..=3).contains(&airline.len())
                && airline.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                Ok(airline)
            } else {
                Err(err(
                    "airline",
                    format!(
                        "`{}` is not a 2- or 3-character airline code",
                        shown(raw.airline)
                    ),
                ))
            }
        });
        let flight_number = keep(&mut bad, {
            let number = shown(raw.flight_number).to_ascii_uppercase();
            if valid_flight_number(&number) {
                Ok(number)
            } else {
                Err(err(
                    "flight_number",
                    format!(
                        "`{}` is not a flight number (an airline code and 1 to 4 digits, e.g. BA117)",
                        shown(raw.flight_number)
                    ),
                ))
            }
        });
        let airport = |field: &'static str, value: &str| {
            let code = AirportCode::parse(value).map_err(|e| err(field, e.to_string()))?;
            airports
                .get(code)
                .map(|a| (code, a.tz))
                .ok_or_else(|| err(field, format!("unknown airport `{code}`")))
        };
        let origin = keep(&mut bad, airport("origin", raw.origin));
        let destination = keep(&mut bad, airport("destination", raw.destination));
        let destination = match (origin, destination) {
            (Some((o, _)), Some((d, _))) if o == d => keep(
                &mut bad,
                Err(err("destination", "is the same airport as the origin")),
            ),
            (_, d) => d,
        };
        let departure_at =
            origin.and_then(|(_, tz)| keep(&mut bad, parse_time(raw.departure, tz, "departure")));
        let arrival_at =
            destination.and_then(|(_, tz)| keep(&mut bad, parse_time(raw.arrival, tz, "arrival")));
        let times = match (departure_at, arrival_at) {
            (Some(d), Some(a)) if a <= d => keep(
                &mut bad,
                Err(err(
                    "arrival",
                    format!(
                        "is not after the departure ({} UTC is not after {} UTC)",
                        a.format("%Y-%m-%d %H:%M"),
                        d.format("%Y-%m-%d %H:%M")
                    ),
                )),
            ),
            (Some(d), Some(a)) if a - d > chrono::Duration::hours(36) => keep(
                &mut bad,
                Err(err("arrival", "is more than 36 hours after the departure")),
            ),
            (Some(d), Some(a)) => Some((d, a)),
            _ => None,
        };
        let cabin = keep(
            &mut bad,
            match raw.cabin.trim() {
                "" => Ok(Cabin::Economy),
                c => Cabin::parse(&c.to_ascii_uppercase().replace([' ', '-'], "_")).ok_or_else(
                    || {
                        err(
                            "cabin",
                            format!(
                                "`{}` is not ECONOMY, PREMIUM_ECONOMY, BUSINESS or FIRST",
                                shown(c)
                            ),
                        )
                    },
                ),
            },
        );
        let currency = keep(
            &mut bad,
            Currency::parse(raw.currency).map_err(|e| err("currency", e.to_string())),
        );
        let price = currency.and_then(|c| keep(&mut bad, parse_price(raw.price, c)));
        let seats_total = keep(&mut bad, parse_seats(raw.seats_total, "seats_total"));
        let seats_available = match raw.seats_available.trim() {
            "" => seats_total,
            s => keep(&mut bad, parse_seats(s, "seats_available")),
        };
        let seats_available = match (seats_total, seats_available) {
            (Some(total), Some(left)) if left > total => keep(
                &mut bad,
                Err(err(
                    "seats_available",
                    format!("{left} seats left is more than the {total} seats in total"),
                )),
            ),
            (_, left) => left,
        };
        match (
            airline,
            flight_number,
            origin,
            destination,
            times,
            cabin,
            price,
            seats_total,
            seats_available,
        ) {
            (
                Some(airline),
                Some(flight_number),
                Some((origin, origin_tz)),
                Some((destination, _)),
                Some((departure_at, arrival_at)),
                Some(cabin),
                Some(price),
                Some(seats_total),
                Some(seats_available),
            ) if bad.is_empty() => Ok(Self {
                flight_number,
                airline,
                origin,
                destination,
                departure_date: departure_at.with_timezone(&origin_tz).date_naive(),
                departure_at,
                arrival_at,
                cabin,
                price,
                seats_total,
                seats_available,
            }),
            _ => Err(bad),
        }
    }

    /// What identifies a flight in the catalogue: one flight number departs once at a time.
    pub fn key(&self) -> (&str, DateTime<Utc>) {
        (&self.flight_number, self.departure_at)
    }
}

/// Which column holds which field, from a CSV's header line. Column names are matched
/// without regard to case or surrounding spaces; `cabin` and `seats_available` may be left
/// out; any other column is refused, so a misspelt one is not silently ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvHeader {
    /// For each of [`CSV_COLUMNS`], its index in a record.
    index: [Option<usize>; 11],
    width: usize,
}

const OPTIONAL_COLUMNS: [&str; 2] = ["cabin", "seats_available"];

impl CsvHeader {
    pub fn parse(fields: &[&str]) -> Result<Self, String> {
        let expected = CSV_COLUMNS.join(",");
        let mut index = [None; 11];
        let mut unknown = Vec::new();
        for (i, raw) in fields.iter().enumerate() {
            let name = raw
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase();
            match CSV_COLUMNS.iter().position(|c| *c == name) {
                Some(col) if index[col].is_some() => {
                    return Err(format!("the header names `{}` twice", shown(&name)));
                }
                Some(col) => index[col] = Some(i),
                None => unknown.push(if name.is_empty() {
                    "(empty)".to_string()
                } else {
                    name
                }),
            }
        }
        let missing: Vec<&str> = CSV_COLUMNS
            .iter()
            .zip(index)
            .filter(|(c, i)| i.is_none() && !OPTIONAL_COLUMNS.contains(c))
            .map(|(c, _)| *c)
            .collect();
        if !missing.is_empty() || !unknown.is_empty() {
            let mut why = Vec::new();
            if !missing.is_empty() {
                why.push(format!("missing {}", missing.join(", ")));
            }
            if !unknown.is_empty() {
                why.push(format!("unknown {}", listed(&unknown)));
            }
            return Err(format!(
                "the first line must be the header `{expected}` (cabin and seats_available may be left out); this one has {}",
                why.join("; ")
            ));
        }
        Ok(Self {
            index,
            width: fields.len(),
        })
    }

    /// The fields of one record, or why its shape is wrong.
    pub fn raw<'a>(&self, record: &[&'a str]) -> Result<RawFlight<'a>, String> {
        if record.len() != self.width {
            return Err(format!(
                "has {} fields where the header has {}",
                record.len(),
                self.width
            ));
        }
        let get = |col: usize| self.index[col].map_or("", |i| record[i]);
        Ok(RawFlight {
            flight_number: get(0),
            airline: get(1),
            origin: get(2),
            destination: get(3),
            departure: get(4),
            arrival: get(5),
            cabin: get(6),
            price: get(7),
            currency: get(8),
            seats_total: get(9),
            seats_available: get(10),
        })
    }
}

/// An airline designator — two characters with a letter (IATA, e.g. `U2`) or three letters
/// (ICAO) — then 1 to 4 digits and an optional letter.
fn valid_flight_number(n: &str) -> bool {
    let bytes = n.as_bytes();
    if !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let number_ok = |rest: &[u8]| {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let suffix = &rest[digits..];
        (1..=4).contains(&digits)
            && (suffix.is_empty() || (suffix.len() == 1 && suffix[0].is_ascii_alphabetic()))
    };
    let iata =
        bytes.len() > 2 && bytes[..2].iter().any(u8::is_ascii_alphabetic) && number_ok(&bytes[2..]);
    let icao =
        bytes.len() > 3 && bytes[..3].iter().all(u8::is_ascii_alphabetic) && number_ok(&bytes[3..]);
    iata || icao
}

/// A local wall-clock time at an airport, or an instant with an explicit offset.
pub fn parse_time(
    raw: &str,
    tz: chrono_tz::Tz,
    field: &'static str,
) -> Result<DateTime<Utc>, FlightError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(err(field, "is empty"));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .ok_or_else(|| {
        err(
            field,
            format!(
                "`{}` is not a time (use 2027-03-01T08:30, local to the airport)",
                shown(text)
            ),
        )
    })?;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
        // Clocks went back: the earlier of the two.
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(err(
            field,
            format!(
                "{} does not exist in {tz} (the clocks go forward then)",
                shown(text)
            ),
        )),
    }
}

/// A decimal amount in major units, with no more decimals than the currency has.
pub fn parse_price(raw: &str, currency: Currency) -> Result<Money, FlightError> {
    let text = raw.trim();
    let bad = || {
        err(
            "price",
            format!(
                "`{}` is not an amount (e.g. 129.99, in {currency})",
                shown(text)
            ),
        )
    };
    if text.starts_with('-') {
        return Err(err("price", format!("{} is negative", shown(text))));
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let exp = usize::from(currency.exponent());
    if fraction.len() > exp {
        return Err(err(
            "price",
            format!(
                "{} has more decimals than {currency} has ({exp})",
                shown(text)
            ),
        ));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let padded = format!("{fraction:0<exp$}");
    let fraction: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().map_err(|_| bad())?
    };
    let minor = whole
        .checked_mul(10i64.pow(exp as u32))
        .and_then(|w| w.checked_add(fraction))
        .filter(|m| *m <= 100_000_000_000)
        .ok_or_else(|| err("price", format!("{} is too large", shown(text))))?;
    Money::new(minor, currency).map_err(|e| err("price", e.to_string()))
}

fn parse_seats(raw: &str, field: &'static str) -> Result<u32, FlightError> {
    let text = raw.trim();
    if text.starts_with('-') {
        return Err(err(field, format!("{} is negative", shown(text))));
    }
    text.parse::<u32>()
        .ok()
        .filter(|n| *n <= 10_000)
        .ok_or_else(|| {
            err(
                field,
                format!(
                    "`{}` is not a whole number of seats (0 to 10000)",
                    shown(text)
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawFlight<'static> {
        RawFlight {
            flight_number: "ba117",
            airline: "BA",
            origin: "LHR",
            destination: "JFK",
            departure: "2027-03-01T08:30",
            arrival: "2027-03-01T11:25",
            cabin: "",
            price: "499.90",
            currency: "gbp",
            seats_total: "200",
            seats_available: "",
        }
    }

    fn parse(r: &RawFlight<'_>) -> Result<InventoryFlight, FlightError> {
        InventoryFlight::parse(r, AirportDb::embedded())
    }

    #[test]
    fn a_good_row_is_normalised_in_the_airports_time_zones() {
        let f = parse(&raw()).expect("valid");
        assert_eq!(f.flight_number, "BA117");
        // London is on GMT in March before the switch; New York on EST (UTC-5).
        assert_eq!(f.departure_at.to_rfc3339(), "2027-03-01T08:30:00+00:00");
        assert_eq!(f.arrival_at.to_rfc3339(), "2027-03-01T16:25:00+00:00");
        assert_eq!(f.departure_date.to_string(), "2027-03-01");
        assert_eq!(f.price.minor_units, 49990);
        assert_eq!(f.price.currency.code(), "GBP");
        assert_eq!((f.seats_total, f.seats_available), (200, 200));
        assert_eq!(f.cabin, Cabin::Economy);
    }

    #[test]
    fn departure_dates_are_local_to_the_origin() {
        // 23:30 in Los Angeles on 1 March is 07:30 UTC on 2 March.
        let f = parse(&RawFlight {
            origin: "LAX",
            destination: "JFK",
            departure: "2027-03-01 23:30",
            arrival: "2027-03-02 07:45",
            ..raw()
        })
        .expect("valid");
        assert_eq!(f.departure_date.to_string(), "2027-03-01");
        assert_eq!(f.departure_at.to_rfc3339(), "2027-03-02T07:30:00+00:00");
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |r: RawFlight<'static>| parse(&r).expect_err("rejected").field;
        assert_eq!(
            field(RawFlight {
                origin: "XXX",
                ..raw()
            }),
            "origin"
        );
        assert_eq!(
            field(RawFlight {
                origin: "LONDON",
                ..raw()
            }),
            "origin"
        );
        assert_eq!(
            field(RawFlight {
                destination: "LHR",
                ..raw()
            }),
            "destination"
        );
        assert_eq!(
            field(RawFlight {
                departure: "tomorrow",
                ..raw()
            }),
            "departure"
        );
        assert_eq!(
            field(RawFlight {
                arrival: "2027-03-01T01:00",
                ..raw()
            }),
            "arrival"
        );
        assert_eq!(
            field(RawFlight {
                price: "-5",
                ..raw()
            }),
            "price"
        );
        assert_eq!(
            field(RawFlight {
                price: "4.999",
                ..raw()
            }),
            "price"
        );
        assert_eq!(
            field(RawFlight {
                price: "abc",
                ..raw()
            }),
            "price"
        );
        assert_eq!(
            field(RawFlight {
                currency: "XYZ",
                ..raw()
            }),
            "currency"
        );
        assert_eq!(
            field(RawFlight {
                seats_total: "-1",
                ..raw()
            }),
            "seats_total"
        );
        assert_eq!(
            field(RawFlight {
                seats_available: "201",
                ..raw()
            }),
            "seats_available"
        );
        assert_eq!(
            field(RawFlight {
                cabin: "steerage",
                ..raw()
            }),
            "cabin"
        );
        assert_eq!(
            field(RawFlight {
                flight_number: "117",
                ..raw()
            }),
            "flight_number"
        );
        assert_eq!(
            field(RawFlight {
                airline: "B",
                ..raw()
            }),
            "airline"
        );
    }

    #[test]
    fn a_time_the_clocks_skip_is_refused() {
        // Clocks go forward at 01:00 GMT on 28 March 2027 in London.
        let e = parse(&RawFlight {
            departure: "2027-03-28T01:30",
            arrival: "2027-03-28T09:00",
            ..raw()
        })
        .expect_err("rejected");
        assert_eq!(e.field, "departure");
        assert!(e.message.contains("does not exist"), "{e}");
    }

    #[test]
    fn explicit_offsets_are_taken_as_given() {
        let f = parse(&RawFlight {
            departure: "2027-03-01T09:30:00+01:00",
            arrival: "2027-03-01T16:25:00Z",
            ..raw()
        })
        .expect("valid");
        assert_eq!(f.departure_at.to_rfc3339(), "2027-03-01T08:30:00+00:00");
    }

    #[test]
    fn prices_follow_the_currency_exponent() {
        let jpy = Currency::parse("JPY").expect("JPY");
        assert_eq!(parse_price("12000", jpy).map(|m| m.minor_units), Ok(12000));
        assert!(parse_price("12000.5", jpy).is_err());
        let eur = Currency::EUR;
        assert_eq!(parse_price("0", eur).map(|m| m.minor_units), Ok(0));
        assert_eq!(parse_price("12.5", eur).map(|m| m.minor_units), Ok(1250));
        assert_eq!(parse_price(".5", eur).map(|m| m.minor_units), Ok(50));
        assert!(parse_price("", eur).is_err());
        assert!(parse_price("1e3", eur).is_err());
        assert!(parse_price("99999999999999999999", eur).is_err());
    }

    #[test]
    fn headers_may_reorder_and_skip_optional_columns() {
        let h = CsvHeader::parse(&[
            "\u{feff}Origin",
            "destination",
            "flight_number",
            "airline",
            "departure",
            "arrival",
            "price",
            "currency",
            " seats_total ",
        ])
        .expect("valid");
        let r = h
            .raw(&[
                "LHR",
                "JFK",
                "BA117",
                "BA",
                "2027-03-01T08:30",
                "2027-03-01T11:25",
                "10",
                "EUR",
                "9",
            ])
            .expect("fits");
        assert_eq!(
            (r.origin, r.flight_number, r.cabin, r.seats_total),
            ("LHR", "BA117", "", "9")
        );
        assert!(h.raw(&["LHR"]).expect_err("short").contains("1 fields"));
        let e = CsvHeader::parse(&["flight_number", "airline", "orign"]).expect_err("bad");
        assert!(
            e.contains("missing origin") && e.contains("unknown orign"),
            "{e}"
        );
        let e = CsvHeader::parse(
            &CSV_COLUMNS
                .iter()
                .chain(&["origin"])
                .copied()
                .collect::<Vec<_>>(),
        )
        .expect_err("twice");
        assert!(e.contains("twice"), "{e}");
    }

    /// The longest run of `quoted` that is also in `source`, in characters.
    fn longest_quote(quoted: &str, source: &str) -> usize {
        let q: Vec<char> = quoted.to_lowercase().chars().collect();
        let s: Vec<char> = source.to_lowercase().chars().collect();
        let mut best = 0;
        let mut row = vec![0usize; s.len() + 1];
        for a in &q {
            let mut diagonal = 0;
            for (j, b) in s.iter().enumerate() {
                let above = row[j + 1];
                row[j + 1] = if a == b { diagonal + 1 } else { 0 };
                best = best.max(row[j + 1]);
                diagonal = above;
            }
        }
        best
    }

    #[test]
    fn messages_quote_at_most_60_characters_of_a_value() {
        let long: String = (0..400)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0,0,{long}",width="{long}">"#
        );
        let fields: Vec<&str> = svg.split(',').collect();
        let e = CsvHeader::parse(&fields).expect_err("not a header");
        assert!(longest_quote(&e, &svg) <= MAX_QUOTED_CHARS, "{e}");
        assert!(e.contains('…') && e.contains("more"), "{e}");
        let named = CsvHeader::parse(&["flight_number", "airline", "orign", "destnation"])
            .expect_err("bad");
        assert!(named.contains("unknown orign, destnation"), "{named}");

        let airports = AirportDb::embedded();
        for field in [
            "origin",
            "airline",
            "flight_number",
            "currency",
            "price",
            "departure",
        ] {
            let mut r: RawFlight<'_> = raw();
            match field {
                "origin" => r.origin = &long,
                "airline" => r.airline = &long,
                "flight_number" => r.flight_number = &long,
                "currency" => r.currency = &long,
                "price" => r.price = &long,
                _ => r.departure = &long,
            }
            let e = InventoryFlight::parse(&r, airports)
                .expect_err(field)
                .to_string();
            assert!(longest_quote(&e, &long) <= MAX_QUOTED_CHARS, "{field}: {e}");
            assert!(e.contains('…'), "{field}: {e}");
        }
    }

    #[test]
    fn flight_numbers_have_a_designator_and_digits() {
        for good in ["BA117", "U21234", "AAL100", "BA117A", "9W1"] {
            assert!(valid_flight_number(good), "{good}");
        }
        for bad in ["117", "BA", "BA12345", "B1", "BA-117", "BAXYZ"] {
            assert!(!valid_flight_number(bad), "{bad}");
        }
    }
}
