//! The provider layers, on tokio's paused clock: time only moves when everything waits,
//! so backoff and cool-down times are exact.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use domain::{AirportCode, Cabin, Currency, FlightOffer, FlightQuery};
use fast_flights_providers::middleware::{
    BreakerState, CircuitBreaker, ConcurrencyLimit, RateLimit, Retry, Timeout,
};
use fast_flights_providers::{
    BookingRequest, CallPolicy, Capabilities, Confirmation, FlightProvider, ProviderError,
};
use tokio::time::Instant;

/// Answers from a script, then succeeds; can be slow; counts calls and concurrency.
#[derive(Default)]
struct Scripted {
    script: std::sync::Mutex<VecDeque<ProviderError>>,
    delay: Duration,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Scripted {
    fn failing(errors: Vec<ProviderError>) -> Arc<Self> {
        Arc::new(Self {
            script: std::sync::Mutex::new(errors.into()),
            ..Default::default()
        })
    }

    fn slow(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            delay,
            ..Default::default()
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl FlightProvider for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    async fn search(&self, _: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        match self.script.lock().expect("script").pop_front() {
            Some(e) => Err(e),
            None => Ok(Vec::new()),
        }
    }

    async fn book(
        &self,
        _: &FlightOffer,
        _: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Err(ProviderError::Unsupported("booking"))
    }
}

fn query() -> FlightQuery {
    FlightQuery {
        origin: AirportCode::parse("LHR").expect("code"),
        destinations: vec![AirportCode::parse("JFK").expect("code")],
        departure_from: "2027-03-01".parse().expect("date"),
        departure_to: "2027-03-01".parse().expect("date"),
        nights: None,
        adults: 1,
        cabin: Cabin::Economy,
        max_stops: None,
        max_price: None,
        currency: Currency::EUR,
    }
}

fn exact(max_retries: u32) -> CallPolicy {
    CallPolicy {
        max_retries,
        base_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(10),
        jitter: 0.0,
        ..CallPolicy::default()
    }
}

fn unavailable() -> ProviderError {
    ProviderError::Unavailable("503".into())
}

#[tokio::test(start_paused = true)]
async fn retries_back_off_exponentially_then_succeed() {
    let inner = Scripted::failing(vec![unavailable(), unavailable(), unavailable()]);
    let retry = Retry::new(inner.clone(), exact(3));
    let started = Instant::now();
    assert!(retry.search(&query()).await.is_ok());
    assert_eq!(inner.calls(), 4);
    assert_eq!(started.elapsed(), Duration::from_millis(100 + 200 + 400));
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_return_the_last_error() {
    let inner = Scripted::failing(vec![
        unavailable(),
        ProviderError::Timeout(Duration::from_secs(1)),
        unavailable(),
    ]);
    let retry = Retry::new(inner.clone(), exact(2));
    let err = retry.search(&query()).await.expect_err("fails");
    assert_eq!(err, unavailable());
    assert_eq!(inner.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn invalid_queries_are_not_retried() {
    let inner = Scripted::failing(vec![ProviderError::InvalidQuery("no such route".into())]);
    let retry = Retry::new(inner.clone(), exact(5));
    assert!(matches!(
        retry.search(&query()).await,
        Err(ProviderError::InvalidQuery(_))
    ));
    assert_eq!(inner.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_429_waits_its_retry_after_without_spending_a_retry() {
    let limited = || ProviderError::RateLimited {
        retry_after: Some(Duration::from_secs(2)),
    };
    let inner = Scripted::failing(vec![limited(), limited(), unavailable()]);
    let retry = Retry::new(inner.clone(), exact(1));
    let started = Instant::now();
    assert!(
        retry.search(&query()).await.is_ok(),
        "one retry is enough: the 429s did not use it"
    );
    assert_eq!(inner.calls(), 4);
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(2_000 + 2_000 + 100)
    );
}

#[tokio::test(start_paused = true)]
async fn jitter_keeps_backoff_within_its_bounds() {
    let policy = CallPolicy {
        jitter: 1.0,
        ..exact(1)
    };
    for _ in 0..20 {
        let inner = Scripted::failing(vec![unavailable()]);
        let retry = Retry::new(inner, policy.clone());
        let started = Instant::now();
        assert!(retry.search(&query()).await.is_ok());
        assert!(started.elapsed() <= Duration::from_millis(100));
    }
}

#[tokio::test(start_paused = true)]
async fn the_breaker_opens_half_opens_and_closes() {
    let inner = Scripted::failing(vec![
        unavailable(),
        unavailable(),
        unavailable(),
        unavailable(),
    ]);
    let breaker = CircuitBreaker::new(inner.clone(), 3, Duration::from_secs(30));
    for _ in 0..3 {
        assert!(breaker.search(&query()).await.is_err());
    }
    assert!(matches!(breaker.state(), BreakerState::Open { .. }));
    // Open: rejected without calling the provider.
    let err = breaker.search(&query()).await.expect_err("open");
    assert!(
        matches!(err, ProviderError::CircuitOpen { retry_after } if retry_after == Duration::from_secs(30))
    );
    assert_eq!(inner.calls(), 3);

    // After the cool-down one probe goes through; it fails, so the circuit opens again.
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(
        breaker.search(&query()).await.expect_err("probe fails"),
        unavailable()
    );
    assert_eq!(inner.calls(), 4);
    assert!(matches!(breaker.state(), BreakerState::Open { .. }));

    // The next probe succeeds and closes it.
    tokio::time::advance(Duration::from_secs(30)).await;
    assert!(breaker.search(&query()).await.is_ok());
    assert_eq!(breaker.state(), BreakerState::Closed { failures: 0 });
}

#[tokio::test(start_paused = true)]
async fn a_half_open_breaker_lets_one_probe_through() {
    let inner = Scripted::slow(Duration::from_secs(5));
    let breaker = Arc::new(CircuitBreaker::new(
        inner.clone(),
        1,
        Duration::from_secs(10),
    ));
    inner
        .script
        .lock()
        .expect("script")
        .push_back(unavailable());
    assert!(breaker.search(&query()).await.is_err());
    tokio::time::advance(Duration::from_secs(10)).await;
    let probe = tokio::spawn({
        let b = breaker.clone();
        async move { b.search(&query()).await }
    });
    tokio::task::yield_now().await;
    assert!(matches!(
        breaker.search(&query()).await,
        Err(ProviderError::CircuitOpen { .. })
    ));
    assert!(probe.await.expect("probe").is_ok());
    assert_eq!(inner.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn slow_answers_time_out() {
    let inner = Scripted::slow(Duration::from_secs(60));
    let timeout = Timeout::new(inner, Duration::from_secs(2));
    let started = Instant::now();
    let err = timeout.search(&query()).await.expect_err("times out");
    assert_eq!(err, ProviderError::Timeout(Duration::from_secs(2)));
    assert_eq!(started.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_slow_booking_times_out_too() {
    let inner = Scripted::slow(Duration::from_secs(60));
    let provider = fast_flights_providers::layered(
        inner,
        &CallPolicy {
            timeout: Duration::from_secs(2),
            ..exact(3)
        },
    );
    let offer = FlightOffer {
        key: "k".into(),
        provider: "scripted".into(),
        origin: AirportCode::parse("LHR").expect("code"),
        destination: AirportCode::parse("JFK").expect("code"),
        departure_at: chrono::Utc::now(),
        arrival_at: chrono::Utc::now(),
        return_departure_at: None,
        return_arrival_at: None,
        carrier: "BA".into(),
        flight_numbers: vec!["BA1".into()],
        stops: 0,
        duration_minutes: 60,
        price: domain::Money::new(100, Currency::EUR).expect("money"),
        cabin: Cabin::Economy,
        segments: Vec::new(),
        expires_at: None,
        deep_link: None,
        booking_token: None,
        raw: None,
    };
    let started = Instant::now();
    let err = provider
        .book(
            &offer,
            &BookingRequest {
                idempotency_key: "k".into(),
                passengers: Vec::new(),
                expected_price: offer.price,
            },
        )
        .await
        .expect_err("times out");
    assert_eq!(err, ProviderError::Timeout(Duration::from_secs(2)));
    // Not retried by the middleware: retries of a booking are the booking worker's, and
    // only at providers whose bookings are idempotent.
    assert_eq!(started.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn the_concurrency_cap_holds() {
    let inner = Scripted::slow(Duration::from_millis(100));
    let limited = Arc::new(ConcurrencyLimit::new(inner.clone(), 3));
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let l = limited.clone();
            tokio::spawn(async move { l.search(&query()).await })
        })
        .collect();
    for c in calls {
        assert!(c.await.expect("call").is_ok());
    }
    assert_eq!(inner.max_in_flight.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_holds_under_concurrent_callers() {
    let inner = Scripted::slow(Duration::ZERO);
    let limited = Arc::new(RateLimit::new(inner.clone(), 50.0));
    let started = Instant::now();
    let calls: Vec<_> = (0..150)
        .map(|_| {
            let l = limited.clone();
            tokio::spawn(async move { l.search(&query()).await })
        })
        .collect();
    for c in calls {
        assert!(c.await.expect("call").is_ok());
    }
    // A burst of a tenth of a second's worth (5), then 50 per second: 145 more calls take 2.9 s.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(2_890) && elapsed <= Duration::from_millis(2_910),
        "{elapsed:?}"
    );
    assert_eq!(inner.calls(), 150);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_lets_the_next_call_probe() {
    let inner = Scripted::slow(Duration::from_secs(5));
    inner
        .script
        .lock()
        .expect("script")
        .push_back(unavailable());
    let breaker = CircuitBreaker::new(inner.clone(), 1, Duration::from_secs(10));
    assert!(breaker.search(&query()).await.is_err());
    tokio::time::advance(Duration::from_secs(10)).await;
    // The probe's search is cancelled (its job was paused) before it answers.
    let dropped = tokio::time::timeout(Duration::from_secs(1), breaker.search(&query())).await;
    assert!(dropped.is_err(), "the probe was still in flight");
    assert!(!matches!(breaker.state(), BreakerState::HalfOpen));
    // The next call is the probe, and it closes the circuit.
    assert!(breaker.search(&query()).await.is_ok());
    assert_eq!(breaker.state(), BreakerState::Closed { failures: 0 });
    assert_eq!(inner.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_storm_of_429s_is_waited_out_without_opening_the_breaker() {
    // Every call of the first wave is refused with a 429; the breaker would open after 5
    // failures if 429s counted.
    let errors = (0..40)
        .map(|_| ProviderError::RateLimited {
            retry_after: Some(Duration::from_millis(500)),
        })
        .collect();
    let inner = Scripted::failing(errors);
    let policy = CallPolicy {
        breaker_threshold: 5,
        max_retries: 0,
        ..exact(0)
    };
    let provider = fast_flights_providers::layered(inner.clone(), &policy);
    let calls: Vec<_> = (0..40)
        .map(|_| {
            let p = provider.clone();
            tokio::spawn(async move { p.search(&query()).await })
        })
        .collect();
    for call in calls {
        assert!(
            call.await.expect("task").is_ok(),
            "a 429 was not waited out"
        );
    }
    assert_eq!(inner.calls(), 80);
    let health = provider.health().expect("measured");
    assert_eq!(health.failures, 0);
    assert!(matches!(health.breaker, BreakerState::Closed { .. }));
}

#[tokio::test(start_paused = true)]
async fn a_503_retry_after_is_waited_and_spends_a_retry() {
    let inner = Scripted::failing(vec![ProviderError::Overloaded {
        message: "busy".into(),
        retry_after: Duration::from_secs(7),
    }]);
    let retry = Retry::new(inner.clone(), exact(1));
    let started = Instant::now();
    assert!(retry.search(&query()).await.is_ok());
    // The backoff (100 ms) is shorter than asked: the provider's 7 s wins.
    assert_eq!(started.elapsed(), Duration::from_secs(7));
    // With no retries left the same answer fails the call.
    let inner = Scripted::failing(vec![ProviderError::Overloaded {
        message: "busy".into(),
        retry_after: Duration::from_secs(7),
    }]);
    let retry = Retry::new(inner.clone(), exact(0));
    assert!(matches!(
        retry.search(&query()).await,
        Err(ProviderError::Overloaded { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn an_open_circuit_is_retried_after_its_cool_down() {
    // Layered: two failures open the circuit (threshold 2); the retry waits out the
    // 10 s cool-down, the probe succeeds, and the call returns offers.
    let inner = Scripted::failing(vec![unavailable(), unavailable()]);
    let policy = CallPolicy {
        breaker_threshold: 2,
        breaker_cooldown: Duration::from_secs(10),
        ..exact(3)
    };
    let provider = fast_flights_providers::layered(inner.clone(), &policy);
    let started = Instant::now();
    assert!(provider.search(&query()).await.is_ok());
    // 100 ms backoff, then the circuit opens; the next retry waits the cool-down.
    assert!(
        started.elapsed() >= Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(inner.calls(), 3);
}
