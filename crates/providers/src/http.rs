//! The `http` provider: any service that speaks the JSON contract of docs/providers.md
//! (`POST {base}/search`, optional `POST {base}/book`) is a provider, configured by URL.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    AirportCode, Cabin, Currency, Direction, FlightOffer, FlightQuery, Money, NightsRange, Segment,
};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::{Capabilities, Confirmation, FlightProvider, Passengers, ProviderError};

/// The most a `/search` answer may weigh.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// How much of an error body goes into a task's error.
const ERROR_CHARS: usize = 200;

pub struct HttpProvider {
    name: String,
    base_url: String,
    api_key: Option<SecretString>,
    capabilities: Capabilities,
    client: reqwest::Client,
}

impl HttpProvider {
    /// `base_url` without a trailing slash is fine either way. Timeouts are the
    /// middleware's; this client only bounds connecting.
    pub fn new(
        name: impl Into<String>,
        base_url: &str,
        api_key: Option<SecretString>,
        capabilities: Capabilities,
    ) -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("fast-flights/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Down(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            name: name.into(),
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            capabilities,
            client,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn post<B: Serialize + Sync>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, Vec<u8>), ProviderError> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(ProviderError::BadResponse(format!(
                    "the answer is larger than {} MiB",
                    MAX_BODY_BYTES / 1024 / 1024
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, headers, bytes))
    }
}

fn transport_error(e: reqwest::Error) -> ProviderError {
    // Without the URL: it says nothing new and could carry credentials.
    let e = e.without_url();
    if e.is_timeout() {
        ProviderError::Unavailable(format!("timed out: {e}"))
    } else if e.is_connect() {
        ProviderError::Unavailable(format!("cannot connect: {}", source_chain(&e)))
    } else {
        ProviderError::Unavailable(format!("request failed: {}", source_chain(&e)))
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The message of an error body: `{"error": "..."}` or the start of the text.
fn error_message(body: &[u8]) -> String {
    let text = serde_json::from_slice::<WireError>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    let text = text.trim();
    if text.is_empty() {
        "no details".to_string()
    } else {
        text.chars().take(ERROR_CHARS).collect()
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let raw = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = raw.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(raw).ok()?.with_timezone(&Utc);
    Some((at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

/// Maps a non-200 status to the error the middleware understands.
fn status_error(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    path: &str,
) -> ProviderError {
    let message = error_message(body);
    match status.as_u16() {
        429 => ProviderError::RateLimited {
            retry_after: retry_after(headers),
        },
        400 | 422 => ProviderError::InvalidQuery(message),
        401 | 403 => ProviderError::Down(format!("rejected our credentials ({status}): {message}")),
        404 => ProviderError::Down(format!("no {path} at the base URL ({status})")),
        500..=599 => ProviderError::Unavailable(format!("{status}: {message}")),
        _ => ProviderError::BadResponse(format!("unexpected status {status}: {message}")),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireSearchRequest<'a> {
    origin: AirportCode,
    destinations: &'a [AirportCode],
    departure_from: chrono::NaiveDate,
    departure_to: chrono::NaiveDate,
    nights: Option<NightsRange>,
    adults: u8,
    cabin: Cabin,
    max_stops: Option<u8>,
    max_price: Option<WireMoney>,
    currency: &'a str,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WireMoney {
    amount_minor: i64,
    currency: String,
}

#[derive(Deserialize)]
struct WireError {
    error: String,
}

#[derive(Deserialize)]
struct WireSearchResponse {
    offers: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOffer {
    id: String,
    price: WireMoney,
    cabin: Option<Cabin>,
    segments: Vec<WireSegment>,
    expires_at: Option<DateTime<chrono::FixedOffset>>,
    deep_link: Option<String>,
    booking_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSegment {
    direction: Direction,
    carrier: String,
    flight_number: String,
    origin: String,
    destination: String,
    departure_at: DateTime<chrono::FixedOffset>,
    arrival_at: DateTime<chrono::FixedOffset>,
}

/// Checks one offer of an answer and normalises it.
fn to_offer(
    provider: &str,
    query: &FlightQuery,
    raw: serde_json::Value,
) -> Result<FlightOffer, String> {
    let wire: WireOffer = serde_json::from_value(raw.clone()).map_err(|e| e.to_string())?;
    if wire.id.is_empty() || wire.id.len() > 200 {
        return Err("`id` must be 1 to 200 characters".into());
    }
    let currency = Currency::parse(&wire.price.currency).map_err(|e| format!("price: {e}"))?;
    if currency != query.currency {
        return Err(format!(
            "price is in {} but the query asked for {}",
            currency.code(),
            query.currency.code()
        ));
    }
    let price = Money::new(wire.price.amount_minor, currency).map_err(|e| format!("price: {e}"))?;
    let mut segments = Vec::with_capacity(wire.segments.len());
    for (i, s) in wire.segments.iter().enumerate() {
        let code = |raw: &str, field: &str| {
            AirportCode::parse(raw).map_err(|e| format!("segment {i}: {field}: {e}"))
        };
        if s.arrival_at <= s.departure_at {
            return Err(format!("segment {i}: arrivalAt is not after departureAt"));
        }
        if s.carrier.trim().is_empty() || s.flight_number.trim().is_empty() {
            return Err(format!(
                "segment {i}: carrier and flightNumber must not be empty"
            ));
        }
        segments.push(Segment {
            direction: s.direction,
            carrier: s.carrier.trim().to_string(),
            flight_number: s.flight_number.trim().to_string(),
            origin: code(&s.origin, "origin")?,
            destination: code(&s.destination, "destination")?,
            departure_at: s.departure_at.with_timezone(&Utc),
            arrival_at: s.arrival_at.with_timezone(&Utc),
        });
    }
    let split = segments
        .iter()
        .position(|s| s.direction == Direction::Return)
        .unwrap_or(segments.len());
    let (outbound, back) = segments.split_at(split);
    if back.iter().any(|s| s.direction != Direction::Return) {
        return Err("segments must list OUTBOUND flights before RETURN ones".into());
    }
    for leg in [outbound, back] {
        for pair in leg.windows(2) {
            if pair[0].destination != pair[1].origin || pair[1].departure_at < pair[0].arrival_at {
                return Err(format!(
                    "flight {} does not connect to flight {}",
                    pair[0].flight_number, pair[1].flight_number
                ));
            }
        }
    }
    let (Some(first), Some(last)) = (outbound.first(), outbound.last()) else {
        return Err("an offer needs at least one OUTBOUND segment".into());
    };
    match (query.nights.is_some(), back.first(), back.last()) {
        (false, None, _) => {}
        (true, Some(b0), Some(bn)) => {
            if b0.origin != last.destination || bn.destination != first.origin {
                return Err(
                    "the return does not fly back from the destination to the origin".into(),
                );
            }
            if b0.departure_at < last.arrival_at {
                return Err("the return leaves before the outbound arrives".into());
            }
        }
        (false, Some(_), _) => return Err("a one-way query got RETURN segments".into()),
        (true, _, _) => return Err("a round-trip query got no RETURN segments".into()),
    }
    let minutes = |leg: &[Segment]| match (leg.first(), leg.last()) {
        (Some(a), Some(b)) => (b.arrival_at - a.departure_at).num_minutes().max(0) as u32,
        _ => 0,
    };
    let stops = u8::try_from(outbound.len() - 1).map_err(|_| "too many segments".to_string())?;
    Ok(FlightOffer {
        key: wire.id,
        provider: provider.to_string(),
        origin: first.origin,
        destination: last.destination,
        departure_at: first.departure_at,
        arrival_at: last.arrival_at,
        return_departure_at: back.first().map(|s| s.departure_at),
        return_arrival_at: back.last().map(|s| s.arrival_at),
        carrier: first.carrier.clone(),
        flight_numbers: segments.iter().map(|s| s.flight_number.clone()).collect(),
        stops,
        duration_minutes: minutes(outbound) + minutes(back),
        price,
        cabin: wire.cabin.unwrap_or(query.cabin),
        expires_at: wire.expires_at.map(|t| t.with_timezone(&Utc)),
        deep_link: wire.deep_link,
        booking_token: wire.booking_token,
        raw: Some(raw),
        segments,
    })
}

#[async_trait]
impl FlightProvider for HttpProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        let body = WireSearchRequest {
            origin: query.origin,
            destinations: &query.destinations,
            departure_from: query.departure_from,
            departure_to: query.departure_to,
            nights: query.nights,
            adults: query.adults,
            cabin: query.cabin,
            max_stops: query.max_stops,
            max_price: query.max_price.map(|m| WireMoney {
                amount_minor: m.minor_units,
                currency: m.currency.code().to_string(),
            }),
            currency: query.currency.code(),
        };
        let (status, headers, bytes) = self.post("/search", &body).await?;
        if status != StatusCode::OK {
            return Err(status_error(status, &headers, &bytes, "/search"));
        }
        let answer: WireSearchResponse = serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::BadResponse(format!("malformed JSON: {e}")))?;
        answer
            .offers
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                to_offer(&self.name, query, raw)
                    .map_err(|e| ProviderError::BadResponse(format!("offer {i}: {e}")))
            })
            .collect()
    }

    async fn book(
        &self,
        offer: &FlightOffer,
        passengers: &Passengers,
    ) -> Result<Confirmation, ProviderError> {
        if !self.capabilities.booking {
            return Err(ProviderError::Unsupported("booking"));
        }
        // The provider's own id: stored keys are prefixed with the provider's name.
        let offer_id = offer
            .raw
            .as_ref()
            .and_then(|r| r.get("id"))
            .and_then(|id| id.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| {
                offer
                    .key
                    .strip_prefix(&format!("{}:", self.name))
                    .unwrap_or(&offer.key)
                    .to_string()
            });
        let body = serde_json::json!({
            "offerId": offer_id,
            "bookingToken": offer.booking_token,
            "adults": passengers.adults,
        });
        let (status, headers, bytes) = self.post("/book", &body).await?;
        match status.as_u16() {
            200 => {
                #[derive(Deserialize)]
                struct Booked {
                    reference: String,
                }
                let booked: Booked = serde_json::from_slice(&bytes)
                    .map_err(|e| ProviderError::BadResponse(format!("malformed JSON: {e}")))?;
                Ok(Confirmation {
                    reference: booked.reference,
                })
            }
            404 | 501 => Err(ProviderError::Unsupported("booking")),
            409 | 410 => Err(ProviderError::InvalidQuery(format!(
                "the offer is gone: {}",
                error_message(&bytes)
            ))),
            _ => Err(status_error(status, &headers, &bytes, "/book")),
        }
    }
}
