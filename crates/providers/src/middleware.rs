//! Layers around any [`FlightProvider`], in the spirit of `tower`: each wraps a provider
//! and is a provider itself. [`layered`] stacks them in the order that makes sense:
//!
//! `Retry` → `CircuitBreaker` → `ConcurrencyLimit` → `RateLimit` → `Timeout` → provider
//!
//! so a retry goes back through the breaker, waits for a concurrency slot and then a
//! rate-limit token (taken right before the call, so calls leave at the rate), and each
//! attempt has its own timeout. Time is tokio's, so tests drive
//! it with a paused clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::{FlightOffer, FlightQuery};
use tokio::sync::Semaphore;

use crate::quota::{LocalQuota, Quota};
use tokio::time::Instant;

use crate::{BookingRequest, Capabilities, Confirmation, FlightProvider, ProviderError};

/// How a provider is called. Defaults suit a remote API.
#[derive(Debug, Clone)]
pub struct CallPolicy {
    /// Each attempt fails after this long.
    pub timeout: Duration,
    /// Attempts after the first for retryable failures (429 waits do not count).
    pub max_retries: u32,
    /// Backoff before retry n is `base_backoff * 2^n`, capped, with jitter.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Share of the backoff drawn at random (0 = exact, 1 = anywhere in 0..backoff).
    pub jitter: f64,
    /// How many 429s one call may wait out without spending retries; later ones spend them.
    pub max_rate_limit_waits: u32,
    /// The longest a retry waits when a provider (or an open circuit) asks for longer.
    pub max_retry_after: Duration,
    /// Consecutive failures that open the circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit rejects calls before letting one probe through.
    pub breaker_cooldown: Duration,
    /// Calls in flight at once, across every job of this process.
    pub max_concurrency: usize,
    /// Calls per second for this process; `None` for no limit.
    pub rate_per_second: Option<f64>,
}

impl Default for CallPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            max_retries: 3,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            jitter: 0.5,
            max_rate_limit_waits: 10,
            max_retry_after: Duration::from_secs(60),
            breaker_threshold: 20,
            breaker_cooldown: Duration::from_secs(30),
            max_concurrency: 64,
            rate_per_second: None,
        }
    }
}

/// Wraps `provider` in every layer of `policy`, measured for [`FlightProvider::health`].
/// A rate limit in `policy` holds in this process.
pub fn layered(provider: Arc<dyn FlightProvider>, policy: &CallPolicy) -> Arc<dyn FlightProvider> {
    let quota = policy
        .rate_per_second
        .map(|rate| Arc::new(LocalQuota::new(rate)) as Arc<dyn Quota>);
    layered_with_quota(provider, policy, quota)
}

/// Like [`layered`], with the rate limit given by `quota` (e.g. shared by a fleet);
/// `policy.rate_per_second` is ignored.
pub fn layered_with_quota(
    provider: Arc<dyn FlightProvider>,
    policy: &CallPolicy,
    quota: Option<Arc<dyn Quota>>,
) -> Arc<dyn FlightProvider> {
    let mut p: Arc<dyn FlightProvider> = Arc::new(Timeout::new(provider, policy.timeout));
    if let Some(quota) = quota {
        p = Arc::new(RateLimit::with_quota(p, quota));
    }
    p = Arc::new(ConcurrencyLimit::new(p, policy.max_concurrency));
    let breaker = Arc::new(CircuitBreaker::new(
        p,
        policy.breaker_threshold,
        policy.breaker_cooldown,
    ));
    let retry = Arc::new(Retry::new(breaker.clone(), policy.clone()));
    Arc::new(Measured {
        inner: retry,
        breaker,
        stats: std::sync::Mutex::new(Stats::default()),
    })
}

/// Delegates the name and capabilities to the inner provider.
macro_rules! delegate {
    () => {
        fn name(&self) -> &str {
            self.inner.name()
        }

        fn capabilities(&self) -> Capabilities {
            self.inner.capabilities()
        }
    };
}

pub struct Timeout {
    inner: Arc<dyn FlightProvider>,
    limit: Duration,
}

impl Timeout {
    pub fn new(inner: Arc<dyn FlightProvider>, limit: Duration) -> Self {
        Self { inner, limit }
    }
}

#[async_trait]
impl FlightProvider for Timeout {
    delegate!();

    /// A booking is bounded by the same timeout. The middleware never retries one: the
    /// booking worker does, and only where the provider's bookings are idempotent.
    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        tokio::time::timeout(self.limit, self.inner.book(offer, request))
            .await
            .unwrap_or(Err(ProviderError::Timeout(self.limit)))
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        tokio::time::timeout(self.limit, self.inner.search(query))
            .await
            .unwrap_or(Err(ProviderError::Timeout(self.limit)))
    }
}

pub struct ConcurrencyLimit {
    inner: Arc<dyn FlightProvider>,
    slots: Semaphore,
}

impl ConcurrencyLimit {
    pub fn new(inner: Arc<dyn FlightProvider>, max: usize) -> Self {
        Self {
            inner,
            slots: Semaphore::new(max.max(1)),
        }
    }
}

#[async_trait]
impl FlightProvider for ConcurrencyLimit {
    delegate!();

    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        self.inner.book(offer, request).await
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| ProviderError::Down("the provider is shutting down".into()))?;
        self.inner.search(query).await
    }
}

/// A token bucket: `rate` calls per second on average, with small bursts (a tenth of a
/// second's worth, see [`crate::quota`]).
pub struct RateLimit {
    inner: Arc<dyn FlightProvider>,
    quota: Arc<dyn Quota>,
}

impl RateLimit {
    /// At most `rate` calls per second from this process.
    pub fn new(inner: Arc<dyn FlightProvider>, rate: f64) -> Self {
        Self::with_quota(inner, Arc::new(LocalQuota::new(rate)))
    }

    /// Calls as `quota` allows, e.g. a quota shared by a fleet of processes.
    pub fn with_quota(inner: Arc<dyn FlightProvider>, quota: Arc<dyn Quota>) -> Self {
        Self { inner, quota }
    }

    async fn take(&self) {
        self.quota.acquire().await;
    }
}

#[async_trait]
impl FlightProvider for RateLimit {
    delegate!();

    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        self.inner.book(offer, request).await
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        self.take().await;
        self.inner.search(query).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BreakerState {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe call is in flight; the others are rejected until it answers.
    HalfOpen,
}

pub struct CircuitBreaker {
    inner: Arc<dyn FlightProvider>,
    threshold: u32,
    cooldown: Duration,
    state: std::sync::Mutex<BreakerState>,
}

impl CircuitBreaker {
    pub fn new(inner: Arc<dyn FlightProvider>, threshold: u32, cooldown: Duration) -> Self {
        Self {
            inner,
            threshold: threshold.max(1),
            cooldown,
            state: std::sync::Mutex::new(BreakerState::Closed { failures: 0 }),
        }
    }

    pub fn state(&self) -> BreakerState {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets a call through, or refuses it while the circuit is open. `Ok(true)`: the call is
    /// the half-open probe.
    fn admit(&self) -> Result<bool, ProviderError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match *state {
            BreakerState::Closed { .. } => Ok(false),
            BreakerState::Open { until } if Instant::now() >= until => {
                *state = BreakerState::HalfOpen;
                Ok(true)
            }
            BreakerState::Open { until } => Err(ProviderError::CircuitOpen {
                retry_after: until.saturating_duration_since(Instant::now()),
            }),
            BreakerState::HalfOpen => Err(ProviderError::CircuitOpen {
                retry_after: self.cooldown,
            }),
        }
    }

    fn record(&self, result: &Result<Vec<FlightOffer>, ProviderError>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let failed = match result {
            Ok(_) => false,
            // The query's fault, not the provider's; and a 429 comes from a provider that is
            // up and answering (the retry layer waits it out).
            Err(
                ProviderError::InvalidQuery(_)
                | ProviderError::Unsupported(_)
                | ProviderError::RateLimited { .. },
            ) => false,
            Err(_) => true,
        };
        *state = match (*state, failed) {
            (_, false) => BreakerState::Closed { failures: 0 },
            (BreakerState::HalfOpen, true) => BreakerState::Open {
                until: Instant::now() + self.cooldown,
            },
            (BreakerState::Closed { failures }, true) if failures + 1 >= self.threshold => {
                tracing::warn!(provider = self.inner.name(), "circuit opened");
                BreakerState::Open {
                    until: Instant::now() + self.cooldown,
                }
            }
            (BreakerState::Closed { failures }, true) => BreakerState::Closed {
                failures: failures + 1,
            },
            (open @ BreakerState::Open { .. }, true) => open,
        };
    }
}

#[async_trait]
impl FlightProvider for CircuitBreaker {
    delegate!();

    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        self.inner.book(offer, request).await
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        let mut probe = ProbeGuard {
            breaker: self,
            armed: self.admit()?,
        };
        let result = self.inner.search(query).await;
        probe.armed = false;
        self.record(&result);
        result
    }
}

/// A half-open probe whose call is dropped before it answers (its search was cancelled)
/// gives the probe up, so the next call probes instead of the circuit staying half-open.
struct ProbeGuard<'a> {
    breaker: &'a CircuitBreaker,
    armed: bool,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut state = self.breaker.state.lock().unwrap_or_else(|e| e.into_inner());
        if *state == BreakerState::HalfOpen {
            *state = BreakerState::Open {
                until: Instant::now(),
            };
        }
    }
}

pub struct Retry {
    inner: Arc<dyn FlightProvider>,
    policy: CallPolicy,
}

impl Retry {
    pub fn new(inner: Arc<dyn FlightProvider>, policy: CallPolicy) -> Self {
        Self { inner, policy }
    }

    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .policy
            .base_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.policy.max_backoff);
        let jitter = self.policy.jitter.clamp(0.0, 1.0);
        exp.mul_f64(1.0 - jitter * fastrand::f64())
    }
}

#[async_trait]
impl FlightProvider for Retry {
    delegate!();

    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        self.inner.book(offer, request).await
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        let (mut retries, mut waits) = (0, 0);
        loop {
            let error = match self.inner.search(query).await {
                Ok(offers) => return Ok(offers),
                Err(e) => e,
            };
            let pause = match &error {
                // A 429 says when to come back: wait, without spending a retry.
                ProviderError::RateLimited { retry_after }
                    if waits < self.policy.max_rate_limit_waits =>
                {
                    waits += 1;
                    retry_after.unwrap_or_else(|| self.backoff(waits - 1))
                }
                // Other failures spend a retry, waiting at least as long as asked (a 503's
                // Retry-After, an open circuit's cool-down).
                e if e.is_retryable() && retries < self.policy.max_retries => {
                    retries += 1;
                    let backoff = self.backoff(retries - 1);
                    e.retry_after().map_or(backoff, |asked| {
                        asked.min(self.policy.max_retry_after).max(backoff)
                    })
                }
                _ => return Err(error),
            };
            tracing::debug!(provider = self.inner.name(), error = %error, ?pause, "retrying");
            tokio::time::sleep(pause).await;
        }
    }
}

/// Calls, failures and latency of a provider in this process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderHealth {
    pub calls: u64,
    /// Calls that failed after their retries.
    pub failures: u64,
    /// Over the latest calls (up to 1,024), retries included.
    pub p50: Option<Duration>,
    pub p95: Option<Duration>,
    pub breaker: BreakerState,
}

const LATENCY_WINDOW: usize = 1024;

#[derive(Default)]
struct Stats {
    calls: u64,
    failures: u64,
    latencies: std::collections::VecDeque<Duration>,
}

/// The outermost layer: counts calls and keeps recent latencies for `health`.
struct Measured {
    inner: Arc<dyn FlightProvider>,
    breaker: Arc<CircuitBreaker>,
    stats: std::sync::Mutex<Stats>,
}

fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

#[async_trait]
impl FlightProvider for Measured {
    delegate!();

    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        self.inner.book(offer, request).await
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        let started = Instant::now();
        let result = self.inner.search(query).await;
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.calls += 1;
        stats.failures += u64::from(result.is_err());
        if stats.latencies.len() == LATENCY_WINDOW {
            stats.latencies.pop_front();
        }
        stats.latencies.push_back(started.elapsed());
        result
    }

    fn health(&self) -> Option<ProviderHealth> {
        let stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let mut sorted: Vec<Duration> = stats.latencies.iter().copied().collect();
        sorted.sort();
        Some(ProviderHealth {
            calls: stats.calls,
            failures: stats.failures,
            p50: percentile(&sorted, 0.50),
            p95: percentile(&sorted, 0.95),
            breaker: self.breaker.state(),
        })
    }
}
