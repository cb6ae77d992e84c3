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

use crate::{BookingRequest, Capabilities, Confirmation, FlightProvider, ProviderError};

/// The most a `/search` answer may weigh.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// How much of an error body (or of a cause) goes into the log.
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
        // https through rustls with the Mozilla roots built in, so no system certificates
        // are needed. A redirect is an error: following one would send the query, and the
        // key, wherever the provider points.
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
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
        let transport = |e| self.transport_error(path, e);
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                tracing::warn!(provider = %self.name, path, %status, "provider answer too large");
                return Err(ProviderError::BadResponse(format!(
                    "the provider's answer is larger than {} MiB",
                    MAX_BODY_BYTES / 1024 / 1024
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, headers, bytes))
    }

    /// The user-facing error for a failed request; the cause goes to the log.
    fn transport_error(&self, path: &str, e: reqwest::Error) -> ProviderError {
        // Without the URL: it says nothing new and could carry credentials.
        let e = e.without_url();
        let cause = source_chain(&e);
        tracing::warn!(provider = %self.name, path, cause, "provider request failed");
        ProviderError::Unavailable(
            if e.is_timeout() {
                "timed out waiting for the provider"
            } else if e.is_connect() {
                "cannot connect to the provider"
            } else {
                "the request to the provider failed"
            }
            .into(),
        )
    }

    /// An answer with a status other than 200, as the middleware understands it; what
    /// the provider said is logged for operators, not shown to users.
    fn status_error(
        &self,
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
        path: &str,
    ) -> ProviderError {
        let detail = error_message(body, self.api_key.as_ref());
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(|l| l.chars().take(ERROR_CHARS).collect::<String>());
        if status == StatusCode::TOO_MANY_REQUESTS {
            tracing::debug!(provider = %self.name, path, %status, detail, "provider rate limit");
        } else {
            tracing::warn!(provider = %self.name, path, %status, detail, location, "provider answered with an error");
        }
        status_error(status, headers, path)
    }

    /// An answer that is not the contract's JSON; serde's message quotes the provider's
    /// values, so it goes to the log only.
    fn contract_error(&self, path: &str, detail: &str) -> ProviderError {
        let detail = for_the_log(detail.to_string(), self.api_key.as_ref());
        tracing::warn!(provider = %self.name, path, detail, "provider answer breaks the contract");
        ProviderError::BadResponse("the provider's answer is not the contract's JSON".into())
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

/// The message of an error body, for the log: `{"error": "..."}` or the start of the
/// text.
fn error_message(body: &[u8], secret: Option<&SecretString>) -> String {
    let text = serde_json::from_slice::<WireError>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    let text = for_the_log(text, secret);
    if text.is_empty() {
        "no details".to_string()
    } else {
        text
    }
}

/// What the provider said, short and with the API key blotted out should it echo it
/// (before cutting, so no part of the key is left).
fn for_the_log(mut text: String, secret: Option<&SecretString>) -> String {
    if let Some(secret) = secret
        .map(ExposeSecret::expose_secret)
        .filter(|s| !s.is_empty())
    {
        text = text.replace(secret, "***");
    }
    text.trim().chars().take(ERROR_CHARS).collect()
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

/// Maps a non-200 status to the error the middleware understands, with a fixed text: a
/// category and the status, never the provider's body.
fn status_error(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    path: &str,
) -> ProviderError {
    let code = status.as_u16();
    match code {
        429 => ProviderError::RateLimited {
            retry_after: retry_after(headers),
        },
        300..=399 => ProviderError::Down(format!(
            "the provider answered with a redirect (HTTP {code}), which is not followed: \
             point base_url at the final address"
        )),
        400 | 422 => {
            ProviderError::InvalidQuery(format!("the provider rejected the query (HTTP {code})"))
        }
        401 | 403 => ProviderError::Down(format!(
            "the provider rejected our credentials (HTTP {code})"
        )),
        404 => ProviderError::Down(format!(
            "the provider has no {path} at its base URL (HTTP {code})"
        )),
        500..=599 => match retry_after(headers) {
            Some(retry_after) => ProviderError::Overloaded {
                message: format!("the provider is overloaded (HTTP {code})"),
                retry_after,
            },
            None => {
                ProviderError::Unavailable(format!("the provider is unavailable (HTTP {code})"))
            }
        },
        _ => ProviderError::BadResponse(format!(
            "the provider answered with an unexpected status (HTTP {code})"
        )),
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
            return Err(self.status_error(status, &headers, &bytes, "/search"));
        }
        let answer: WireSearchResponse = serde_json::from_slice(&bytes)
            .map_err(|e| self.contract_error("/search", &e.to_string()))?;
        answer
            .offers
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                to_offer(&self.name, query, raw)
                    .map_err(|e| self.contract_error("/search", &format!("offer {i}: {e}")))
            })
            .collect()
    }

    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
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
        let passengers: Vec<serde_json::Value> = request
            .passengers
            .iter()
            .map(|p| {
                serde_json::json!({
                    "givenName": p.given_name,
                    "familyName": p.family_name,
                    "bornOn": p.born_on.map(|d| d.to_string()),
                    "email": p.email,
                })
            })
            .collect();
        let body = serde_json::json!({
            "offerId": offer_id,
            "bookingToken": offer.booking_token,
            "adults": request.passengers.len(),
            "idempotencyKey": request.idempotency_key,
            "passengers": passengers,
            "expectedPrice": {
                "amountMinor": request.expected_price.minor_units,
                "currency": request.expected_price.currency.code(),
            },
        });
        let (status, headers, bytes) = self.post("/book", &body).await?;
        match status.as_u16() {
            200 | 201 => {
                #[derive(Deserialize)]
                struct Booked {
                    reference: String,
                }
                let booked: Booked = serde_json::from_slice(&bytes)
                    .map_err(|e| self.contract_error("/book", &e.to_string()))?;
                if booked.reference.trim().is_empty() || booked.reference.len() > 200 {
                    return Err(
                        self.contract_error("/book", "`reference` must be 1 to 200 characters")
                    );
                }
                Ok(Confirmation {
                    reference: booked.reference,
                })
            }
            404 | 501 => Err(ProviderError::Unsupported("booking")),
            409 => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Repriced {
                    current_price: WireMoney,
                }
                match serde_json::from_slice::<Repriced>(&bytes) {
                    Ok(r) => {
                        let price = domain::Currency::parse(&r.current_price.currency)
                            .ok()
                            .and_then(|c| domain::Money::new(r.current_price.amount_minor, c).ok())
                            .ok_or_else(|| {
                                self.contract_error("/book", "`currentPrice` is not a price")
                            })?;
                        Err(ProviderError::PriceChanged { price })
                    }
                    Err(_) => {
                        tracing::warn!(provider = %self.name, %status, detail = error_message(&bytes, self.api_key.as_ref()), "offer gone");
                        Err(ProviderError::OfferGone(
                            "the provider says the offer is gone (HTTP 409)".into(),
                        ))
                    }
                }
            }
            410 => Err(ProviderError::OfferGone(
                "the provider says the offer is gone (HTTP 410)".into(),
            )),
            422 => {
                tracing::warn!(provider = %self.name, %status, detail = error_message(&bytes, self.api_key.as_ref()), "booking refused");
                Err(ProviderError::Refused(
                    "the provider refused the booking (HTTP 422)".into(),
                ))
            }
            _ => Err(self.status_error(status, &headers, &bytes, "/book")),
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
        let map = |code: u16, h: &HeaderMap| {
            status_error(StatusCode::from_u16(code).expect("status"), h, "/search")
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
        assert!(matches!(
            map(500, &headers(None)),
            ProviderError::Unavailable(_)
        ));
        assert!(matches!(
            map(400, &headers(None)),
            ProviderError::InvalidQuery(_)
        ));
        assert!(matches!(map(401, &headers(None)), ProviderError::Down(_)));
        assert!(matches!(map(404, &headers(None)), ProviderError::Down(_)));
        assert!(matches!(map(301, &headers(None)), ProviderError::Down(_)));
        assert!(matches!(
            map(418, &headers(None)),
            ProviderError::BadResponse(_)
        ));
        assert!(map(503, &headers(Some("4"))).is_retryable());
        assert!(!map(400, &headers(None)).is_retryable());
        assert!(!map(302, &headers(None)).is_retryable());
    }

    #[test]
    fn users_see_a_category_and_the_status() {
        let text = |code: u16, retry: Option<&str>| {
            status_error(
                StatusCode::from_u16(code).expect("status"),
                &headers(retry),
                "/search",
            )
            .to_string()
        };
        for (code, retry, expected) in [
            (400, None, "the provider rejected the query (HTTP 400)"),
            (422, None, "the provider rejected the query (HTTP 422)"),
            (
                401,
                None,
                "the provider rejected our credentials (HTTP 401)",
            ),
            (
                403,
                None,
                "the provider rejected our credentials (HTTP 403)",
            ),
            (
                404,
                None,
                "the provider has no /search at its base URL (HTTP 404)",
            ),
            (500, None, "the provider is unavailable (HTTP 500)"),
            (503, None, "the provider is unavailable (HTTP 503)"),
            (503, Some("4"), "the provider is overloaded (HTTP 503)"),
            (
                418,
                None,
                "the provider answered with an unexpected status (HTTP 418)",
            ),
        ] {
            assert_eq!(text(code, retry), expected);
        }
        let redirect = text(301, None);
        assert!(
            redirect.contains("HTTP 301")
                && redirect.contains("not followed")
                && redirect.contains("base_url"),
            "{redirect}"
        );
    }

    #[test]
    fn the_log_detail_is_short_and_blots_out_an_echoed_key() {
        let key = SecretString::from("k3y-s3cret".to_string());
        let text = error_message(br#"{"error": "bad key k3y-s3cret"}"#, Some(&key));
        assert_eq!(text, "bad key ***");
        let long = "x".repeat(5000);
        assert_eq!(error_message(long.as_bytes(), None).len(), ERROR_CHARS);
        assert_eq!(error_message(b"  ", None), "no details");
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
