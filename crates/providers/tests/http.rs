//! The `http` provider against stub servers on free ports: what users are shown of a
//! failing provider, redirects, and https.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use domain::{AirportCode, Cabin, Currency, FlightQuery};
use fast_flights_providers::{Capabilities, FlightProvider, HttpProvider, ProviderError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Answers every request with one canned HTTP response and counts the requests.
struct Stub {
    url: String,
    hits: Arc<AtomicUsize>,
}

impl Stub {
    async fn answering(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        let mut head = format!(
            "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let response = format!("{head}\r\n{body}").into_bytes();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&hits);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let response = response.clone();
                tokio::spawn(async move {
                    // The whole request first: closing on unread bytes would reset the
                    // connection before the client reads the answer.
                    if read_request(&mut socket).await.is_some() {
                        let _ = socket.write_all(&response).await;
                        let _ = socket.shutdown().await;
                    }
                });
            }
        });
        Self { url, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Reads a request's head and its `Content-Length` body.
async fn read_request(socket: &mut TcpStream) -> Option<()> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if data.len() >= end + 4 + length {
            return Some(());
        }
    }
}

fn query() -> FlightQuery {
    let day = chrono::NaiveDate::from_ymd_opt(2030, 3, 1).expect("date");
    FlightQuery {
        origin: AirportCode::parse("LHR").expect("code"),
        destinations: vec![AirportCode::parse("JFK").expect("code")],
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

fn provider(base_url: &str) -> HttpProvider {
    HttpProvider::new("stub", base_url, None, Capabilities::default()).expect("client")
}

async fn search_error(base_url: &str) -> ProviderError {
    provider(base_url)
        .search(&query())
        .await
        .expect_err("the search fails")
}

/// What the provider says stays in the operators' log: users see a category and the status.
#[tokio::test]
async fn users_see_a_category_and_the_status_never_the_body() {
    let leak = "internal-detail-from-the-provider";
    let body = format!(r#"{{"error": "{leak}"}}"#);
    for (status, expected) in [
        (400, "the provider rejected the query (HTTP 400)"),
        (422, "the provider rejected the query (HTTP 422)"),
        (401, "the provider rejected our credentials (HTTP 401)"),
        (403, "the provider rejected our credentials (HTTP 403)"),
        (500, "the provider is unavailable (HTTP 500)"),
        (503, "the provider is unavailable (HTTP 503)"),
    ] {
        let stub = Stub::answering(status, &[], &body).await;
        let text = search_error(&stub.url).await.to_string();
        assert_eq!(text, expected, "HTTP {status}");
        assert!(!text.contains(leak), "{text}");
        assert_eq!(stub.hits(), 1);
    }
    let overloaded = Stub::answering(503, &[("Retry-After", "7")], &body).await;
    let e = search_error(&overloaded.url).await;
    assert!(
        matches!(&e, ProviderError::Overloaded { retry_after, .. } if retry_after.as_secs() == 7),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "the provider is overloaded (HTTP 503)");
}

/// serde's messages quote the provider's values; users get the category only.
#[tokio::test]
async fn answers_that_break_the_contract_are_not_quoted() {
    let leak = "LEAKY-VALUE";
    for body in [
        format!(r#"{{"offers": [{leak}"#),
        format!(r#"{{"offers": "{leak}"}}"#),
        format!(r#"{{"offers": [{{"id": "{leak}", "price": "{leak}"}}]}}"#),
        // Valid JSON, but an origin that is not an airport code.
        format!(
            r#"{{"offers": [{{"id": "o1", "price": {{"amountMinor": 100, "currency": "EUR"}},
               "segments": [{{"direction": "OUTBOUND", "carrier": "BA", "flightNumber": "BA1",
               "origin": "{leak}", "destination": "JFK",
               "departureAt": "2030-03-01T08:30:00+00:00", "arrivalAt": "2030-03-01T11:30:00-05:00"}}]}}]}}"#
        ),
    ] {
        let stub = Stub::answering(200, &[], &body).await;
        let e = search_error(&stub.url).await;
        assert!(matches!(e, ProviderError::BadResponse(_)), "{e:?}");
        let text = e.to_string();
        assert_eq!(text, "the provider's answer is not the contract's JSON");
        assert!(!text.contains(leak), "{text}");
    }
}

/// A redirect fails the call with a text that says what to do; the address it points at
/// is never asked.
#[tokio::test]
async fn redirects_are_not_followed() {
    let target = Stub::answering(200, &[], r#"{"offers": []}"#).await;
    assert!(
        provider(&target.url).search(&query()).await.is_ok(),
        "the target itself answers"
    );
    let asked_before = target.hits();
    for status in [301, 302, 307, 308] {
        let location = format!("{}/search", target.url);
        let redirecting = Stub::answering(status, &[("Location", &location)], "").await;
        let e = search_error(&redirecting.url).await;
        assert!(matches!(e, ProviderError::Down(_)), "{e:?}");
        let text = e.to_string();
        assert!(
            text.contains(&format!("HTTP {status}"))
                && text.contains("not followed")
                && text.contains("base_url"),
            "{text}"
        );
        assert!(!text.contains(&target.url), "{text}");
        assert_eq!(redirecting.hits(), 1);
    }
    assert_eq!(
        target.hits(),
        asked_before,
        "the redirect target was never asked"
    );
}

/// An https base URL goes through TLS: against a server that speaks plain HTTP on that
/// port, the server sees a TLS handshake and the call fails as "cannot connect".
#[tokio::test]
async fn https_base_urls_speak_tls() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let first_byte = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 1];
        socket.read_exact(&mut buf).await.expect("read");
        let _ = socket
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        let _ = socket.shutdown().await;
        buf[0]
    });
    let e = search_error(&format!("https://127.0.0.1:{port}")).await;
    assert_eq!(e.to_string(), "cannot connect to the provider", "{e:?}");
    assert!(e.is_retryable());
    // 0x16: a TLS handshake record, the ClientHello.
    assert_eq!(first_byte.await.expect("stub"), 0x16);
}
