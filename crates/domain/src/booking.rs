//! Bookings: who travels, checked at the edge, and the states a booking goes through.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Email;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookingStatus {
    /// Stored; a worker is asking the provider.
    Pending,
    Confirmed,
    /// The provider refused or the offer could not be booked; nothing is held.
    Failed,
    Cancelled,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 4] = [
        BookingStatus::Pending,
        BookingStatus::Confirmed,
        BookingStatus::Failed,
        BookingStatus::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            BookingStatus::Pending => "PENDING",
            BookingStatus::Confirmed => "CONFIRMED",
            BookingStatus::Failed => "FAILED",
            BookingStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// One traveller of a booking, as given at the edge and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Passenger {
    pub given_name: String,
    pub family_name: String,
    pub born_on: Option<NaiveDate>,
    pub email: Option<String>,
}

/// A passenger as it comes in, unchecked.
#[derive(Debug, Clone, Default)]
pub struct RawPassenger {
    pub given_name: String,
    pub family_name: String,
    pub born_on: Option<NaiveDate>,
    pub email: Option<String>,
}

/// Why a booking request was refused, naming the field (`passengers[1].givenName`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct BookingInputError {
    pub field: String,
    pub message: String,
}

fn reject(field: impl Into<String>, message: impl Into<String>) -> BookingInputError {
    BookingInputError {
        field: field.into(),
        message: message.into(),
    }
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;
/// The earliest birth date taken: older ones are typing mistakes.
const EARLIEST_BIRTH_YEAR: i32 = 1900;

/// Format characters that show nothing or turn text around: zero-width spaces and joiners,
/// direction marks, embeddings, overrides and isolates, the byte-order mark, soft hyphens.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn name(field: String, raw: &str) -> Result<String, BookingInputError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(reject(field, "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(reject(
            field,
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Err(reject(
            field,
            "must not contain control, invisible or text-direction characters",
        ));
    }
    if !name.chars().any(char::is_alphabetic) {
        return Err(reject(field, "must contain a letter"));
    }
    Ok(name.to_string())
}

/// Checks the passengers of a booking for a search of `adults` travellers, as of `today`.
pub fn parse_passengers(
    raw: Vec<RawPassenger>,
    adults: u8,
    today: NaiveDate,
) -> Result<Vec<Passenger>, BookingInputError> {
    if raw.is_empty() {
        return Err(reject(
            "passengers",
            format!(
                "give the {adults} passenger{} of this search",
                if adults == 1 { "" } else { "s" }
            ),
        ));
    }
    if raw.len() != usize::from(adults) {
        return Err(reject(
            "passengers",
            format!(
                "this search is for {adults} passenger{}, got {}",
                if adults == 1 { "" } else { "s" },
                raw.len()
            ),
        ));
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, p)| {
            let field = |f: &str| format!("passengers[{i}].{f}");
            let born_on = match p.born_on {
                Some(d) if d > today => {
                    return Err(reject(field("bornOn"), format!("{d} is in the future")));
                }
                Some(d) if d < NaiveDate::from_ymd_opt(EARLIEST_BIRTH_YEAR, 1, 1).unwrap_or(d) => {
                    return Err(reject(
                        field("bornOn"),
                        format!("{d} is before {EARLIEST_BIRTH_YEAR}"),
                    ));
                }
                other => other,
            };
            let email = match p.email.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(raw) => Some(
                    Email::parse(raw)
                        .map_err(|m| reject(field("email"), m))?
                        .as_str()
                        .to_string(),
                ),
            };
            Ok(Passenger {
                given_name: name(field("givenName"), &p.given_name)?,
                family_name: name(field("familyName"), &p.family_name)?,
                born_on,
                email,
            })
        })
        .collect()
}

/// A client-made key that makes a booking request safe to send again.
pub fn parse_idempotency_key(raw: &str) -> Result<String, BookingInputError> {
    let key = raw.trim();
    if key.is_empty() {
        return Err(reject("idempotencyKey", "must not be empty"));
    }
    if key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(reject(
            "idempotencyKey",
            format!("is longer than {MAX_IDEMPOTENCY_KEY_CHARS} characters"),
        ));
    }
    if key.chars().any(char::is_control) {
        return Err(reject(
            "idempotencyKey",
            "must not contain control characters",
        ));
    }
    Ok(key.to_string())
}

/// The outbox's event types. Payloads are versioned (`v` in every payload) and described
/// in docs/events.md.
pub mod event_type {
    pub const BOOKING_CREATED: &str = "booking.created";
    pub const BOOKING_CONFIRMED: &str = "booking.confirmed";
    pub const BOOKING_FAILED: &str = "booking.failed";
    pub const BOOKING_CANCELLED: &str = "booking.cancelled";
    pub const SEARCH_SUCCEEDED: &str = "search.succeeded";
    pub const SEARCH_FAILED: &str = "search.failed";
    pub const IMPORT_FINISHED: &str = "import.finished";

    pub const ALL: [&str; 7] = [
        BOOKING_CREATED,
        BOOKING_CONFIRMED,
        BOOKING_FAILED,
        BOOKING_CANCELLED,
        SEARCH_SUCCEEDED,
        SEARCH_FAILED,
        IMPORT_FINISHED,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 10).unwrap()
    }

    fn pax(given: &str, family: &str) -> RawPassenger {
        RawPassenger {
            given_name: given.into(),
            family_name: family.into(),
            ..Default::default()
        }
    }

    #[test]
    fn passengers_are_trimmed_and_counted_against_the_search() {
        let ok = parse_passengers(vec![pax(" Ada ", "Lovelace")], 1, today()).unwrap();
        assert_eq!(ok[0].given_name, "Ada");
        let e = parse_passengers(vec![], 2, today()).unwrap_err();
        assert_eq!(e.field, "passengers");
        assert!(e.message.contains("2 passengers"), "{e}");
        let e = parse_passengers(vec![pax("A", "B")], 2, today()).unwrap_err();
        assert!(e.message.contains("got 1"), "{e}");
    }

    #[test]
    fn each_bad_field_is_named() {
        let e = parse_passengers(vec![pax("Ada", "L"), pax("  ", "X")], 2, today()).unwrap_err();
        assert_eq!(e.field, "passengers[1].givenName");
        let mut future = pax("Ada", "L");
        future.born_on = NaiveDate::from_ymd_opt(2027, 1, 11);
        let e = parse_passengers(vec![future], 1, today()).unwrap_err();
        assert_eq!(e.field, "passengers[0].bornOn");
        assert!(e.message.contains("future"), "{e}");
        let mut email = pax("Ada", "L");
        email.email = Some("not-an-address".into());
        let e = parse_passengers(vec![email], 1, today()).unwrap_err();
        assert_eq!(e.field, "passengers[0].email");
        assert_eq!(
            parse_idempotency_key(" ").unwrap_err().field,
            "idempotencyKey"
        );
    }
}
