//! A cache of provider answers, keyed by (provider, normalised query), so that searches
//! that ask the same question share one provider call (docs/providers.md, "The answer
//! cache").
//!
//! [`Cached`] is the outermost layer around a provider: a hit spends no rate-limit token and
//! no retry. Identical queries in flight at once make one call: in this process through
//! [`Cached`]'s in-flight table, across the fleet through a short lock in Redis
//! (`SET NX PX`) that the other processes wait on. A cache that fails or is slow is passed
//! by: the search calls the provider as if there were no cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{FlightOffer, FlightQuery};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::{BookingRequest, Capabilities, Confirmation, FlightProvider, ProviderError};

/// Bumped whenever the encoding or [`FlightOffer`] changes, so that no process reads an
/// entry written in another format: the version is part of every key.
pub const FORMAT_VERSION: u32 = 1;

/// A provider's answer to one query, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub offers: Vec<FlightOffer>,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// This caller's own call of the provider.
    Provider,
    /// Another call's answer: cached, or shared by an identical query in flight at once.
    Cache { fetched_at: DateTime<Utc> },
}

impl Answer {
    pub fn fresh(offers: Vec<FlightOffer>) -> Self {
        Self {
            offers,
            source: Source::Provider,
        }
    }

    pub fn is_cached(&self) -> bool {
        matches!(self.source, Source::Cache { .. })
    }
}

/// A query that got no answer: why, and whether it was this caller's own call that failed
/// (or the shared call of an identical query in flight at the same time).
#[derive(Debug, Clone, PartialEq)]
pub struct Unanswered {
    pub error: ProviderError,
    pub called: bool,
}

/// How the cache of one provider has done in this process.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheStats {
    /// `memory` or `redis`.
    pub backend: &'static str,
    pub ttl: Duration,
    /// Answers served without calling the provider (shared in-flight answers included).
    pub hits: u64,
    /// Answers the provider was called for.
    pub misses: u64,
    /// Cache reads or writes that failed or took too long (the call went on without them).
    pub errors: u64,
}

impl CacheStats {
    /// hits ÷ (hits + misses); `None` before the first lookup.
    pub fn hit_ratio(&self) -> Option<f64> {
        let total = self.hits + self.misses;
        (total > 0).then(|| self.hits as f64 / total as f64)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("the cache did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the cache failed: {0}")]
    Backend(String),
    /// The cache failed a moment ago; it is left alone until its pause ends.
    #[error("the cache is paused after a failure")]
    Paused,
    #[error("a cached answer cannot be read: {0}")]
    Decode(String),
    /// The cache's settings are wrong (a URL that does not parse).
    #[error("{0}")]
    Config(String),
}

/// A cached answer: its offers and when the provider gave them.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub fetched_at: DateTime<Utc>,
    pub offers: Arc<Vec<FlightOffer>>,
}

/// Where entries are kept; expiry is the store's.
#[async_trait]
pub trait AnswerStore: Send + Sync {
    /// `memory` or `redis`, for `/metrics` and the `providers` query.
    fn backend(&self) -> &'static str;
    /// Whether other processes share the entries, so that a call needs the fleet's lock.
    fn shared(&self) -> bool;
    async fn get(&self, key: &str) -> Result<Option<Stored>, CacheError>;
    async fn put(&self, key: &str, value: Stored, ttl: Duration) -> Result<(), CacheError>;
    /// Takes the lock on `key` for `ttl` if nobody holds it.
    async fn lock(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, CacheError>;
    /// Lets the lock go if `token` still holds it.
    async fn unlock(&self, key: &str, token: &str) -> Result<(), CacheError>;
}

/// The key of `query`'s answer from `provider`: every field that can change the answer,
/// destinations sorted, in a fixed text form.
pub fn cache_key(provider: &str, query: &FlightQuery) -> String {
    let mut destinations: Vec<&str> = query.destinations.iter().map(|d| d.as_str()).collect();
    destinations.sort_unstable();
    destinations.dedup();
    let nights = query
        .nights
        .map_or_else(|| "ow".to_string(), |n| format!("{}-{}", n.min, n.max));
    let stops = query
        .max_stops
        .map_or_else(|| "any".to_string(), |s| s.to_string());
    let cap = query.max_price.map_or_else(
        || "none".to_string(),
        |p| format!("{}{}", p.minor_units, p.currency.code()),
    );
    format!(
        "pc:v{FORMAT_VERSION}:{provider}:{}:{}:{}:{}:{nights}:{}:{}:{stops}:{cap}:{}",
        query.origin.as_str(),
        destinations.join(","),
        query.departure_from,
        query.departure_to,
        query.adults,
        query.cabin.as_str(),
        query.currency.code(),
    )
}

/// An entry in Redis: when the answer was fetched, then its offers as JSON, LZ4-compressed.
fn encode(fetched_at: DateTime<Utc>, offers: &[FlightOffer]) -> Result<Vec<u8>, CacheError> {
    let json = serde_json::to_vec(offers).map_err(|e| CacheError::Decode(e.to_string()))?;
    let mut out = Vec::with_capacity(8 + json.len() / 2);
    out.extend_from_slice(&fetched_at.timestamp_micros().to_le_bytes());
    out.extend_from_slice(&lz4_flex::compress_prepend_size(&json));
    Ok(out)
}

fn decode(bytes: &[u8]) -> Result<(DateTime<Utc>, Vec<FlightOffer>), CacheError> {
    let bad = |what: String| CacheError::Decode(what);
    let (at, body) = bytes
        .split_first_chunk::<8>()
        .ok_or_else(|| bad("too short".into()))?;
    let fetched_at = DateTime::from_timestamp_micros(i64::from_le_bytes(*at))
        .ok_or_else(|| bad("bad time".into()))?;
    let json = lz4_flex::decompress_size_prepended(body).map_err(|e| bad(e.to_string()))?;
    let offers = serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))?;
    Ok((fetched_at, offers))
}

/// How long an answer fetched at `now` may be served: the TTL, cut short by the first
/// offer whose price stops being guaranteed. `None`: not at all.
fn entry_ttl(ttl: Duration, now: DateTime<Utc>, offers: &[FlightOffer]) -> Option<Duration> {
    let first_expiry = offers.iter().filter_map(|o| o.expires_at).min();
    let ttl = match first_expiry {
        None => ttl,
        Some(at) => ttl.min((at - now).to_std().ok()?),
    };
    (!ttl.is_zero()).then_some(ttl)
}

#[derive(Clone, Copy)]
enum Outcome {
    Hit,
    Miss,
    Error,
}

/// An answer as shared between identical queries in flight: its offers, when they were
/// fetched, and whether the provider was called for them (or they came from the cache).
type Flight = Result<(Arc<Vec<FlightOffer>>, DateTime<Utc>, bool), ProviderError>;

/// The cache layer: see the module's documentation.
pub struct Cached {
    inner: Arc<dyn FlightProvider>,
    store: Arc<dyn AnswerStore>,
    ttl: Duration,
    /// How long a call holds the fleet's lock, and the longest others wait on it.
    lock_ttl: Duration,
    in_flight: std::sync::Mutex<HashMap<String, Arc<OnceCell<Flight>>>>,
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
    /// `/metrics` counters (hits, misses, errors), registered at first use, once the
    /// process's recorder is installed.
    metrics: std::sync::OnceLock<[metrics::Counter; 3]>,
}

/// How often a process waiting on another's call looks for its answer.
const POLL: Duration = Duration::from_millis(20);

impl Cached {
    /// Caches `inner`'s answers in `store` for `ttl`. `lock_ttl` bounds one call (the
    /// provider's timeout is a good value).
    pub fn new(
        inner: Arc<dyn FlightProvider>,
        store: Arc<dyn AnswerStore>,
        ttl: Duration,
        lock_ttl: Duration,
    ) -> Self {
        let cached = Self {
            inner,
            store,
            ttl,
            lock_ttl: lock_ttl.max(Duration::from_millis(100)),
            in_flight: std::sync::Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            metrics: std::sync::OnceLock::new(),
        };
        // At 0 from the start, so that dashboards see the series before the first query.
        cached.counters();
        cached
    }

    /// The `/metrics` counters, registered (at 0) on first use.
    fn counters(&self) -> &[metrics::Counter; 3] {
        self.metrics.get_or_init(|| {
            let provider = self.inner.name().to_string();
            let counters = [
                metrics::counter!("fast_flights_provider_cache_hits_total", "provider" => provider.clone()),
                metrics::counter!("fast_flights_provider_cache_misses_total", "provider" => provider.clone()),
                metrics::counter!("fast_flights_provider_cache_errors_total", "provider" => provider),
            ];
            for counter in &counters {
                counter.increment(0);
            }
            counters
        })
    }

    fn count(&self, outcome: Outcome) {
        let (counter, index) = match outcome {
            Outcome::Hit => (&self.hits, 0),
            Outcome::Miss => (&self.misses, 1),
            Outcome::Error => (&self.errors, 2),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.counters()[index].increment(1);
    }

    fn failed(&self, error: &CacheError) {
        if let CacheError::Decode(e) = error {
            tracing::warn!(provider = self.inner.name(), error = %e, "a cached answer was unreadable; the provider is asked instead");
        }
        if !matches!(error, CacheError::Paused) {
            self.count(Outcome::Error);
        }
    }

    /// The cached answer for `key`, if there is one that may still be served.
    async fn lookup(&self, key: &str) -> Option<Stored> {
        let stored = match self.store.get(key).await {
            Ok(stored) => stored?,
            Err(e) => {
                self.failed(&e);
                return None;
            }
        };
        let now = Utc::now();
        let fresh = (now - stored.fetched_at)
            .to_std()
            .map_or(true, |age| age < self.ttl);
        let expired = stored
            .offers
            .iter()
            .any(|o| o.expires_at.is_some_and(|e| e <= now));
        (fresh && !expired).then_some(stored)
    }

    /// Asks the provider, under the fleet's lock when the store is shared: the first
    /// process to take it calls, the others wait for its answer.
    async fn fetch(&self, key: &str, query: &FlightQuery) -> Flight {
        // Looked up again: an identical call may have finished since this query's lookup.
        if !self.store.shared() {
            return match self.lookup(key).await {
                Some(stored) => Ok((stored.offers, stored.fetched_at, false)),
                None => self.call(key, query).await,
            };
        }
        let lock_key = format!("{key}:lock");
        let token = uuid::Uuid::new_v4().simple().to_string();
        let deadline = Instant::now() + self.lock_ttl;
        loop {
            match self.store.lock(&lock_key, &token, self.lock_ttl).await {
                Ok(true) => {
                    let flight = match self.lookup(key).await {
                        Some(stored) => Ok((stored.offers, stored.fetched_at, false)),
                        None => self.call(key, query).await,
                    };
                    if let Err(e) = self.store.unlock(&lock_key, &token).await {
                        self.failed(&e);
                    }
                    return flight;
                }
                Ok(false) => {}
                Err(e) => {
                    self.failed(&e);
                    return self.call(key, query).await;
                }
            }
            // Another process is asking: wait for its answer, or for its lock to go.
            tokio::time::sleep(POLL).await;
            if let Some(stored) = self.lookup(key).await {
                return Ok((stored.offers, stored.fetched_at, false));
            }
            if Instant::now() >= deadline {
                return self.call(key, query).await;
            }
        }
    }

    async fn call(&self, key: &str, query: &FlightQuery) -> Flight {
        let offers = Arc::new(self.inner.search(query).await?);
        let now = Utc::now();
        if let Some(ttl) = entry_ttl(self.ttl, now, &offers) {
            let stored = Stored {
                fetched_at: now,
                offers: Arc::clone(&offers),
            };
            if let Err(e) = self.store.put(key, stored, ttl).await {
                self.failed(&e);
            }
        }
        Ok((offers, now, true))
    }
}

#[async_trait]
impl FlightProvider for Cached {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        self.answer(query)
            .await
            .map(|a| a.offers)
            .map_err(|u| u.error)
    }

    async fn answer(&self, query: &FlightQuery) -> Result<Answer, Unanswered> {
        let key = cache_key(self.inner.name(), query);
        if let Some(stored) = self.lookup(&key).await {
            self.count(Outcome::Hit);
            return Ok(Answer {
                offers: Arc::unwrap_or_clone(stored.offers),
                source: Source::Cache {
                    fetched_at: stored.fetched_at,
                },
            });
        }
        let cell = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(in_flight.entry(key.clone()).or_default())
        };
        let ran = AtomicBool::new(false);
        let flight = cell
            .get_or_init(|| {
                ran.store(true, Ordering::Relaxed);
                self.fetch(&key, query)
            })
            .await
            .clone();
        let ran = ran.load(Ordering::Relaxed);
        if ran {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            if in_flight.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                in_flight.remove(&key);
            }
        }
        drop(cell);
        let (offers, fetched_at, called) = match flight {
            Ok(answer) => answer,
            Err(error) => {
                if ran {
                    self.count(Outcome::Miss);
                }
                return Err(Unanswered { error, called: ran });
            }
        };
        // Owned without a copy when nothing else holds the answer (no entry, no waiter).
        let offers = Arc::unwrap_or_clone(offers);
        if ran && called {
            self.count(Outcome::Miss);
            Ok(Answer::fresh(offers))
        } else {
            self.count(Outcome::Hit);
            Ok(Answer {
                offers,
                source: Source::Cache { fetched_at },
            })
        }
    }

    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        self.inner.book(offer, request).await
    }

    fn health(&self) -> Option<crate::ProviderHealth> {
        self.inner.health()
    }

    fn cache_stats(&self) -> Option<CacheStats> {
        Some(CacheStats {
            backend: self.store.backend(),
            ttl: self.ttl,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        })
    }
}

/// Entries in this process's memory, as the offers themselves (nothing encoded), the
/// least recently used dropped past a size bound.
pub struct MemoryStore {
    entries: moka::sync::Cache<String, (Stored, Duration)>,
}

struct EntryExpiry;

impl moka::Expiry<String, (Stored, Duration)> for EntryExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &(Stored, Duration),
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.1)
    }
}

/// About what an offer takes in memory: the struct, its strings and its lists.
fn offer_bytes(o: &FlightOffer) -> usize {
    std::mem::size_of::<FlightOffer>()
        + o.key.len()
        + o.provider.len()
        + o.carrier.len()
        + o.flight_numbers.iter().map(|n| n.len() + 24).sum::<usize>()
        + o.segments.len() * (std::mem::size_of::<domain::Segment>() + 16)
        + o.deep_link.as_ref().map_or(0, String::len)
        + o.booking_token.as_ref().map_or(0, String::len)
        + o.raw.as_ref().map_or(0, |raw| raw.to_string().len() * 2)
}

impl MemoryStore {
    /// At most about `max_bytes` of keys and entries.
    pub fn new(max_bytes: u64) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, value: &(Stored, Duration)| {
                let offers: usize = value.0.offers.iter().map(offer_bytes).sum();
                u32::try_from(key.len() + offers + 128).unwrap_or(u32::MAX)
            })
            .expire_after(EntryExpiry)
            .build();
        Self { entries }
    }
}

#[async_trait]
impl AnswerStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn shared(&self) -> bool {
        false
    }

    async fn get(&self, key: &str) -> Result<Option<Stored>, CacheError> {
        Ok(self.entries.get(key).map(|(stored, _)| stored))
    }

    async fn put(&self, key: &str, value: Stored, ttl: Duration) -> Result<(), CacheError> {
        self.entries.insert(key.to_string(), (value, ttl));
        Ok(())
    }

    /// One process: its in-flight table already makes identical calls one.
    async fn lock(&self, _key: &str, _token: &str, _ttl: Duration) -> Result<bool, CacheError> {
        Ok(true)
    }

    async fn unlock(&self, _key: &str, _token: &str) -> Result<(), CacheError> {
        Ok(())
    }
}

const UNLOCK_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('DEL', KEYS[1]) else return 0 end";

/// Entries in Redis, shared by every process of the fleet. Each command has `timeout`
/// (50 ms by default); one that fails or takes longer pauses the cache for a second, during
/// which searches call their providers directly, and the cache is tried again after.
pub struct RedisStore {
    redis: redis::aio::ConnectionManager,
    prefix: String,
    timeout: Duration,
    /// When the latest failure was, while the cache is down.
    down_since: std::sync::Mutex<Option<Instant>>,
}

/// How long the cache is left alone after a failure.
const PAUSE: Duration = Duration::from_secs(1);

impl RedisStore {
    /// Connects lazily: a Redis that is down at start-up is tried again on later lookups.
    pub fn connect(url: &str, prefix: &str, timeout: Duration) -> Result<Self, CacheError> {
        let client = redis::Client::open(url).map_err(|e| CacheError::Config(e.to_string()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout.max(Duration::from_millis(200))))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(0);
        let redis = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| CacheError::Config(e.to_string()))?;
        metrics::gauge!("fast_flights_provider_cache_down").set(0.0);
        Ok(Self {
            redis,
            prefix: prefix.to_string(),
            timeout,
            down_since: std::sync::Mutex::new(None),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs one command under the timeout and the pause.
    async fn run<T>(
        &self,
        command: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, CacheError> {
        let started = Instant::now();
        {
            let down = self.down_since.lock().unwrap_or_else(|e| e.into_inner());
            if down.is_some_and(|at| started < at + PAUSE) {
                return Err(CacheError::Paused);
            }
        }
        let outcome = match tokio::time::timeout(self.timeout, command).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(CacheError::Backend(e.to_string())),
            Err(_) => Err(CacheError::Timeout(self.timeout)),
        };
        let mut down = self.down_since.lock().unwrap_or_else(|e| e.into_inner());
        match &outcome {
            // Back only for a command sent after the latest failure: one already in flight
            // when Redis went away may still have been answered.
            Ok(_) => {
                if down.is_some_and(|at| started > at) {
                    *down = None;
                    tracing::info!("the provider-answer cache in Redis is back");
                    metrics::gauge!("fast_flights_provider_cache_down").set(0.0);
                }
            }
            Err(e) => {
                if down.replace(Instant::now()).is_none() {
                    tracing::warn!(error = %e, "the provider-answer cache in Redis failed; searches call their providers without it until it answers again");
                    metrics::gauge!("fast_flights_provider_cache_down").set(1.0);
                }
            }
        }
        drop(down);
        outcome
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl AnswerStore for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn shared(&self) -> bool {
        true
    }

    async fn get(&self, key: &str) -> Result<Option<Stored>, CacheError> {
        let mut redis = self.redis.clone();
        let bytes: Option<Vec<u8>> = self
            .run(redis::cmd("GET").arg(self.key(key)).query_async(&mut redis))
            .await?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let (fetched_at, offers) = decode(&bytes)?;
        Ok(Some(Stored {
            fetched_at,
            offers: Arc::new(offers),
        }))
    }

    async fn put(&self, key: &str, value: Stored, ttl: Duration) -> Result<(), CacheError> {
        let bytes = encode(value.fetched_at, &value.offers)?;
        let mut redis = self.redis.clone();
        self.run(
            redis::cmd("SET")
                .arg(self.key(key))
                .arg(bytes)
                .arg("PX")
                .arg(millis(ttl))
                .exec_async(&mut redis),
        )
        .await
    }

    async fn lock(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, CacheError> {
        let mut redis = self.redis.clone();
        let taken: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(self.key(key))
                    .arg(token)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async(&mut redis),
            )
            .await?;
        Ok(taken.is_some())
    }

    async fn unlock(&self, key: &str, token: &str) -> Result<(), CacheError> {
        let mut redis = self.redis.clone();
        let _: i64 = self
            .run(
                redis::Script::new(UNLOCK_SCRIPT)
                    .key(self.key(key))
                    .arg(token)
                    .invoke_async(&mut redis),
            )
            .await?;
        Ok(())
    }
}
