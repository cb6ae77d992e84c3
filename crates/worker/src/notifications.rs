//! The notifications consumer: keeps each account's inbox — its bookings confirmed, failed
//! or cancelled, its searches ended, and (for admins) imports ended. The event's id is the
//! notification's, so an event handled twice is kept once.

use async_trait::async_trait;
use serde_json::Value;
use store::{EventRecord, NewNotification, Store};

use crate::consumers::{ConsumerError, EventConsumer};

pub struct Notifications;

fn text(payload: &Value, field: &str) -> String {
    payload[field].as_str().unwrap_or_default().to_string()
}

fn money(payload: &Value) -> String {
    let amount = payload["amountMinor"].as_i64();
    let currency = payload["currency"]
        .as_str()
        .and_then(|c| domain::Currency::parse(c).ok());
    match (amount, currency) {
        (Some(minor_units), Some(currency)) => domain::Money {
            minor_units,
            currency,
        }
        .for_people(),
        _ => String::new(),
    }
}

fn route(payload: &Value) -> String {
    format!(
        "{} → {}",
        text(payload, "origin"),
        text(payload, "destination")
    )
}

fn day(payload: &Value, field: &str) -> String {
    payload[field]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.format("%-d %b %Y").to_string())
        .unwrap_or_default()
}

fn seats(payload: &Value) -> String {
    match payload["seats"].as_u64() {
        Some(1) => "1 seat".into(),
        Some(n) => format!("{n} seats"),
        None => String::new(),
    }
}

fn search_name(payload: &Value) -> String {
    match payload["label"].as_str() {
        Some(label) if !label.trim().is_empty() => format!("“{label}”"),
        _ => {
            let list = |f: &str| {
                payload[f]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default()
            };
            format!("{} → {}", list("origins"), list("destinations"))
        }
    }
}

/// The notification an event makes, if any: (kind, title, message).
fn compose(event: &EventRecord, p: &Value) -> Option<(&'static str, String, String)> {
    use domain::event_type as t;
    Some(match event.event_type.as_str() {
        t::BOOKING_CONFIRMED => (
            "BOOKING_CONFIRMED",
            format!("Booking confirmed: {}", route(p)),
            format!(
                "{}, departing {}, {} — reference {}",
                seats(p),
                day(p, "departureAt"),
                money(&p["price"]),
                text(p, "providerReference")
            ),
        ),
        t::BOOKING_FAILED => (
            "BOOKING_FAILED",
            format!("Booking not made: {}", route(p)),
            text(p, "error"),
        ),
        t::BOOKING_CANCELLED => (
            "BOOKING_CANCELLED",
            format!("Booking cancelled: {}", route(p)),
            format!(
                "{}, departing {}, {}",
                seats(p),
                day(p, "departureAt"),
                money(&p["price"])
            ),
        ),
        t::SEARCH_SUCCEEDED => (
            "SEARCH_SUCCEEDED",
            format!("Search finished: {}", search_name(p)),
            match p["bestPrice"].is_object() {
                true => format!(
                    "{} flights found, the cheapest {}",
                    domain::spec::thousands(p["foundFlights"].as_u64().unwrap_or(0)),
                    money(&p["bestPrice"])
                ),
                false => "no flights found".into(),
            },
        ),
        t::SEARCH_FAILED => (
            "SEARCH_FAILED",
            format!("Search failed: {}", search_name(p)),
            text(p, "error"),
        ),
        t::IMPORT_FINISHED => {
            let ok = p["status"] == "SUCCEEDED";
            (
                if ok {
                    "IMPORT_SUCCEEDED"
                } else {
                    "IMPORT_FAILED"
                },
                format!(
                    "Import {}: {}",
                    if ok { "finished" } else { "failed" },
                    text(p, "filename")
                ),
                if ok {
                    format!(
                        "{} rows imported, {} rejected",
                        p["rowsImported"].as_u64().unwrap_or(0),
                        p["rowsRejected"].as_u64().unwrap_or(0)
                    )
                } else {
                    text(p, "error")
                },
            )
        }
        _ => return None,
    })
}

#[async_trait]
impl EventConsumer for Notifications {
    fn name(&self) -> &'static str {
        "notifications"
    }

    async fn handle(&self, store: &Store, event: &EventRecord) -> Result<(), ConsumerError> {
        let Some(account_id) = event.account_id else {
            return Ok(());
        };
        let payload: Value = serde_json::from_str(&event.payload)
            .map_err(|e| ConsumerError::Failed(format!("the payload is not JSON: {e}")))?;
        let Some((kind, title, message)) = compose(event, &payload) else {
            return Ok(());
        };
        store
            .record_notification(&NewNotification {
                id: event.id,
                account_id,
                kind,
                subject_id: event.subject_id,
                title,
                message,
                created_at: event.created_at,
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_counts_read_as_the_web_app_writes_them() {
        let price = serde_json::json!({ "amountMinor": 293_455, "currency": "EUR" });
        assert_eq!(money(&price), "€2,934.55");
        assert_eq!(money(&serde_json::json!({})), "");
    }
}
