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
/// Limits of an offer, as docs/provider-contract.schema.json states them.
const MAX_SEGMENTS: usize = 16;
const MAX_LINK_CHARS: usize = 2000;

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

/// The message of an error body: `{"error": "..."}` or the start of the text, with the
/// API key blotted out should the provider echo it.
fn error_message(body: &[u8], secret: Option<&SecretString>) -> String {
    let mut text = serde_json::from_slice::<WireError>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    if let Some(secret) = secret
        .map(ExposeSecret::expose_secret)
        .filter(|s| !s.is_empty())
    {
        text = text.replace(secret, "***");
    }
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
    secret: Option<&SecretString>,
) -> ProviderError {
    let message = error_message(body, secret);
    match status.as_u16() {
        429 => ProviderError::RateLimited {
            retry_after: retry_after(headers),
        },
        400 | 422 => ProviderError::InvalidQuery(message),
        401 | 403 => ProviderError::Down(format!("rejected our credentials ({status}): {message}")),
        404 => ProviderError::Down(format!("no {path} at the base URL ({status})")),
        500..=599 => match retry_after(headers) {
            Some(retry_after) => ProviderError::Overloaded {
                message: format!("{status}: {message}"),
                retry_after,
            },
            None => ProviderError::Unavailable(format!("{status}: {message}")),
        },
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
    if wire.segments.len() > MAX_SEGMENTS {
        return Err(format!("an offer has at most {MAX_SEGMENTS} segments"));
    }
    for (field, value) in [
        ("deepLink", &wire.deep_link),
        ("bookingToken", &wire.booking_token),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > MAX_LINK_CHARS) {
            return Err(format!(
                "`{field}` is longer than {MAX_LINK_CHARS} characters"
            ));
        }
    }
    let mut segments = Vec::with_capacity(wire.segments.len());
    for (i, s) in wire.segments.iter().enumerate() {
        let code = |raw: &str, field: &str| {
            AirportCode::parse(raw).map_err(|e| format!("segment {i}: {field}: {e}"))
        };
        if s.arrival_at <= s.departure_at {
            return Err(format!("segment {i}: arrivalAt is not after departureAt"));
        }
        let carrier = s.carrier.trim();
        if !(2..=3).contains(&carrier.len()) {
            return Err(format!(
                "segment {i}: carrier must be a 2- or 3-character airline code"
            ));
        }
        let number = s.flight_number.trim();
        if number.is_empty() || number.len() > 10 {
            return Err(format!(
                "segment {i}: flightNumber must be 1 to 10 characters"
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
            return Err(status_error(
                status,
                &headers,
                &bytes,
                "/search",
                self.api_key.as_ref(),
            ));
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
                error_message(&bytes, self.api_key.as_ref())
            ))),
            _ => Err(status_error(
                status,
                &headers,
                &bytes,
                "/book",
                self.api_key.as_ref(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = retry_after {
            h.insert(RETRY_AFTER, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(
            retry_after(&headers(Some("7"))),
            Some(Duration::from_secs(7))
        );
        let at = (Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let wait = retry_after(&headers(Some(&at))).expect("a date");
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        // A date in the past means now.
        let past = (Utc::now() - chrono::Duration::seconds(30)).to_rfc2822();
        assert_eq!(retry_after(&headers(Some(&past))), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(Some("soon"))), None);
        assert_eq!(retry_after(&headers(None)), None);
    }

    #[test]
    fn statuses_map_to_what_the_middleware_understands() {
        let body = br#"{"error": "slow down"}"#;
        let map = |code: u16, h: &HeaderMap| {
            status_error(
                StatusCode::from_u16(code).expect("status"),
                h,
                body,
                "/search",
                None,
            )
        };
        assert_eq!(
            map(429, &headers(Some("3"))),
            ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(
            map(429, &headers(None)),
            ProviderError::RateLimited { retry_after: None }
        );
        assert!(matches!(
            map(503, &headers(Some("4"))),
            ProviderError::Overloaded { retry_after, .. } if retry_after == Duration::from_secs(4)
        ));
        assert!(
            matches!(map(500, &headers(None)), ProviderError::Unavailable(m) if m.contains("slow down"))
        );
        assert!(matches!(
            map(400, &headers(None)),
            ProviderError::InvalidQuery(_)
        ));
        assert!(matches!(map(401, &headers(None)), ProviderError::Down(_)));
        assert!(matches!(map(404, &headers(None)), ProviderError::Down(_)));
        assert!(matches!(
            map(302, &headers(None)),
            ProviderError::BadResponse(_)
        ));
        assert!(map(503, &headers(Some("4"))).is_retryable());
        assert!(!map(400, &headers(None)).is_retryable());
    }

    #[test]
    fn an_echoed_key_is_blotted_out() {
        let key = SecretString::from("k3y-s3cret".to_string());
        let body = br#"{"error": "bad key k3y-s3cret"}"#;
        let e = status_error(
            StatusCode::UNAUTHORIZED,
            &headers(None),
            body,
            "/search",
            Some(&key),
        );
        let text = e.to_string();
        assert!(
            !text.contains("k3y-s3cret") && text.contains("***"),
            "{text}"
        );
    }

    fn query() -> FlightQuery {
        let lhr = AirportCode::parse("LHR").expect("code");
        let jfk = AirportCode::parse("JFK").expect("code");
        let day = chrono::NaiveDate::from_ymd_opt(2030, 3, 1).expect("date");
        FlightQuery {
            origin: lhr,
            destinations: vec![jfk],
            departure_from: day,
            departure_to: day,
            nights: None,
            adults: 1,
            cabin: Cabin::Economy,
            max_stops: None,
            max_price: None,
            currency: Currency::EUR,
        }
    }

    fn offer() -> serde_json::Value {
        serde_json::json!({
            "id": "o1",
            "price": {"amountMinor": 12345, "currency": "EUR"},
            "segments": [{
                "direction": "OUTBOUND", "carrier": "BA", "flightNumber": "BA117",
                "origin": "LHR", "destination": "JFK",
                "departureAt": "2030-03-01T08:30:00+00:00", "arrivalAt": "2030-03-01T11:30:00-05:00"
            }]
        })
    }

    #[test]
    fn offers_breaking_the_contract_are_named() {
        let ok = to_offer("p", &query(), offer()).expect("valid");
        assert_eq!(ok.price.minor_units, 12345);
        assert_eq!(ok.duration_minutes, 480);
        let broken = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut raw = offer();
            edit(&mut raw);
            to_offer("p", &query(), raw).expect_err("rejected")
        };
        assert!(broken(&|o| o["id"] = "".into()).contains("`id`"));
        assert!(broken(&|o| o["price"]["currency"] = "USD".into()).contains("asked for EUR"));
        assert!(broken(&|o| o["price"]["amountMinor"] = (-1).into()).contains("price"));
        assert!(
            broken(&|o| o["segments"][0]["arrivalAt"] = "2030-03-01T07:00:00+00:00".into())
                .contains("not after")
        );
        assert!(broken(&|o| o["segments"][0]["carrier"] = "B".into()).contains("carrier"));
        assert!(broken(&|o| o["segments"][0]["origin"] = "L1".into()).contains("origin"));
        assert!(broken(&|o| o["deepLink"] = "x".repeat(2001).into()).contains("deepLink"));
        assert!(broken(&|o| o["segments"][0]["direction"] = "RETURN".into()).contains("OUTBOUND"));
    }
}
