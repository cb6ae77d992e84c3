//! A flight provider written by a third party, compiled into fast-flights and served with
//! the same configuration, API and workers as the built-in ones:
//!
//! ```sh
//! cargo run -p fast-flights-example-in-process-provider -- --listen 127.0.0.1:8080
//! ```
//!
//! then start a search with `providers: ["charter"]`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use clap::Parser;
use domain::{FlightOffer, FlightQuery, Money};
use providers::{BookingRequest, Capabilities, Confirmation, FlightProvider, ProviderError};
use server::{
    Application, Cli, default_registry, install_metrics, open_store, register_in_process,
    shutdown_on_signals, telemetry,
};

/// A charter company that flies every route once a day at 09:00 UTC for a flat fare.
struct Charter;

#[async_trait]
impl FlightProvider for Charter {
    fn name(&self) -> &str {
        "charter"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            typical_latency_ms: 1,
            ..Capabilities::default()
        }
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        // Capabilities::default() takes one date and one destination per call.
        let Some(destination) = query.destination() else {
            return Err(ProviderError::InvalidQuery(
                "one destination per call".into(),
            ));
        };
        let Some(departure) = query.departure_from.and_hms_opt(9, 0, 0) else {
            return Err(ProviderError::InvalidQuery("no such date".into()));
        };
        let departure_at = Utc.from_utc_datetime(&departure);
        let price = Money::from_euros(199.0 * f64::from(query.adults), query.currency);
        if query
            .max_price
            .is_some_and(|max| price.minor_units > max.minor_units)
        {
            return Ok(Vec::new());
        }
        Ok(vec![FlightOffer {
            key: format!(
                "CH1-{}{}-{}",
                query.origin, destination, query.departure_from
            ),
            provider: self.name().to_string(),
            origin: query.origin,
            destination,
            departure_at,
            arrival_at: departure_at + chrono::Duration::hours(3),
            return_departure_at: None,
            return_arrival_at: None,
            carrier: "CH".into(),
            flight_numbers: vec!["CH1".into()],
            stops: 0,
            duration_minutes: 180,
            price,
            cabin: query.cabin,
            segments: Vec::new(),
            expires_at: None,
            deep_link: None,
            booking_token: None,
            raw: None,
        }])
    }

    async fn book(
        &self,
        _: &FlightOffer,
        _: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        Err(ProviderError::Unsupported("booking"))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Cli::parse().config;
    telemetry::init(config.log_format);
    // The built-in providers, plus ours behind the same middleware (its rate limit, if the
    // policy sets one, shared by every process on PostgreSQL).
    let store = open_store(&config).await?;
    let mut registry = default_registry(&config, &store)?;
    register_in_process(
        &mut registry,
        &store,
        Arc::new(Charter),
        &config.call_policy(),
        true,
    )?;

    let shutdown = shutdown_on_signals();
    let metrics = install_metrics(&shutdown)?;
    let app = Application::build(&config, store, registry, true, &shutdown, Some(metrics)).await?;
    if let Some(addr) = app.local_addr() {
        println!("fast-flights with the charter provider on http://{addr}/graphiql");
    }
    app.run_until_stopped(shutdown).await
}
