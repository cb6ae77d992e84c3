//! The analytics consumer: daily figures per route and currency — confirmed bookings,
//! seats and revenue, cancellations and refunds (by the day of the event), and searches
//! that succeeded with the best price they found. A search counts once on each route of
//! its spec; its best price counts on the route of its best offer. Each event is counted
//! once: its receipt commits with the figures.

use async_trait::async_trait;
use serde_json::Value;
use store::{EventRecord, RouteDayDelta, Store};

use crate::consumers::{ConsumerError, EventConsumer};

pub struct Analytics;

fn codes(p: &Value, field: &str) -> Vec<String> {
    p[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn deltas(event: &EventRecord, p: &Value) -> Vec<RouteDayDelta> {
    use domain::event_type as t;
    let day = event.created_at.date_naive();
    let booking = || RouteDayDelta {
        day,
        origin: p["origin"].as_str().unwrap_or_default().to_string(),
        destination: p["destination"].as_str().unwrap_or_default().to_string(),
        currency: p["price"]["currency"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        ..RouteDayDelta::default()
    };
    let price = p["price"]["amountMinor"].as_i64().unwrap_or(0);
    match event.event_type.as_str() {
        t::BOOKING_CONFIRMED => vec![RouteDayDelta {
            bookings: 1,
            seats: p["seats"].as_i64().unwrap_or(0),
            revenue_minor: price,
            ..booking()
        }],
        t::BOOKING_CANCELLED => vec![RouteDayDelta {
            cancellations: 1,
            refunded_minor: price,
            ..booking()
        }],
        t::SEARCH_SUCCEEDED => {
            let best = &p["bestRoute"];
            let currency = p["bestPrice"]["currency"].as_str().unwrap_or_default();
            let mut out = Vec::new();
            for origin in codes(p, "origins") {
                for destination in codes(p, "destinations") {
                    let on_best = best["origin"] == origin.as_str()
                        && best["destination"] == destination.as_str();
                    out.push(RouteDayDelta {
                        day,
                        origin: origin.clone(),
                        destination,
                        currency: currency.to_string(),
                        searches: 1,
                        best_price_minor: on_best
                            .then(|| p["bestPrice"]["amountMinor"].as_i64())
                            .flatten(),
                        ..RouteDayDelta::default()
                    });
                }
            }
            // The best offer may be on a route the spec named by its metro code (LON):
            // its price is counted there too.
            if let (Some(o), Some(d)) = (best["origin"].as_str(), best["destination"].as_str())
                && !out.iter().any(|r| r.origin == o && r.destination == d)
            {
                out.push(RouteDayDelta {
                    day,
                    origin: o.to_string(),
                    destination: d.to_string(),
                    currency: currency.to_string(),
                    searches: 1,
                    best_price_minor: p["bestPrice"]["amountMinor"].as_i64(),
                    ..RouteDayDelta::default()
                });
            }
            out
        }
        _ => Vec::new(),
    }
}

#[async_trait]
impl EventConsumer for Analytics {
    fn name(&self) -> &'static str {
        "analytics"
    }

    async fn handle(&self, store: &Store, event: &EventRecord) -> Result<(), ConsumerError> {
        let payload: Value = serde_json::from_str(&event.payload)
            .map_err(|e| ConsumerError::Failed(format!("the payload is not JSON: {e}")))?;
        let deltas = deltas(event, &payload);
        if deltas.is_empty() {
            return Ok(());
        }
        store.record_route_days(self.name(), event, &deltas).await?;
        Ok(())
    }
}
