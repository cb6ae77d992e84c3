//! The provider-answer cache: hits, single flight in one process and across processes on
//! a real Redis, expiry, and a cache that is down or holds garbage.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use domain::{AirportCode, Cabin, Currency, FlightOffer, FlightQuery, Money, NightsRange};
use fast_flights_providers::cache::{AnswerStore, cache_key};
use fast_flights_providers::{
    BookingRequest, Cached, Capabilities, Confirmation, FlightProvider, MemoryStore, ProviderError,
    RedisStore, SimulatedConfig, SimulatedProvider, Source,
};

/// The simulated provider, counting its calls, each taking `delay` at least.
struct Counting {
    inner: SimulatedProvider,
    delay: Duration,
    calls: AtomicUsize,
    /// Offers are answered with this `expires_at`, when set.
    expires_in: Option<chrono::Duration>,
    /// Every call fails.
    fails: bool,
}

impl Counting {
    fn new(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            inner: SimulatedProvider::named(
                "sim",
                SimulatedConfig {
                    latency: Duration::ZERO,
                    ..SimulatedConfig::default()
                },
            ),
            delay,
            calls: AtomicUsize::new(0),
            expires_in: None,
            fails: false,
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl FlightProvider for Counting {
    fn name(&self) -> &str {
        "sim"
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn search(&self, query: &FlightQuery) -> Result<Vec<FlightOffer>, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if self.fails {
            return Err(ProviderError::Unavailable("down for the test".into()));
        }
        let mut offers = self.inner.search(query).await?;
        if let Some(expires_in) = self.expires_in {
            for offer in &mut offers {
                offer.expires_at = Some(chrono::Utc::now() + expires_in);
            }
        }
        Ok(offers)
    }

    async fn book(
        &self,
        offer: &FlightOffer,
        request: &BookingRequest,
    ) -> Result<Confirmation, ProviderError> {
        self.inner.book(offer, request).await
    }
}

fn code(raw: &str) -> AirportCode {
    AirportCode::parse(raw).expect("code")
}

fn query() -> FlightQuery {
    let day = (chrono::Utc::now() + chrono::Duration::days(40)).date_naive();
    FlightQuery {
        origin: code("LHR"),
        destinations: vec![code("BKK"), code("HKT")],
        departure_from: day,
        departure_to: day,
        nights: Some(NightsRange { min: 7, max: 7 }),
        adults: 1,
        cabin: Cabin::Economy,
        max_stops: None,
        max_price: None,
        currency: Currency::EUR,
    }
}

fn memory() -> Arc<dyn AnswerStore> {
    Arc::new(MemoryStore::new(8 << 20))
}

fn cached(inner: &Arc<Counting>, store: Arc<dyn AnswerStore>, ttl: Duration) -> Arc<Cached> {
    Arc::new(Cached::new(
        Arc::clone(inner) as Arc<dyn FlightProvider>,
        store,
        ttl,
        Duration::from_secs(5),
    ))
}

#[tokio::test]
async fn a_repeated_query_is_answered_from_the_cache_with_the_same_offers() {
    let inner = Counting::new(Duration::ZERO);
    let provider = cached(&inner, memory(), Duration::from_secs(60));
    let first = provider.answer(&query()).await.expect("first");
    assert_eq!(first.source, Source::Provider);
    assert!(
        !first.offers.is_empty(),
        "the simulated provider found flights"
    );
    let second = provider.answer(&query()).await.expect("second");
    assert!(second.is_cached(), "{:?}", second.source);
    assert_eq!(second.offers, first.offers, "the same offers, decoded");
    assert_eq!(inner.calls(), 1);
    let stats = provider.cache_stats().expect("stats");
    assert_eq!((stats.hits, stats.misses, stats.errors), (1, 1, 0));
    assert_eq!(stats.hit_ratio(), Some(0.5));
    assert_eq!(stats.backend, "memory");
}

#[test]
fn the_key_normalises_destinations_and_keeps_what_changes_an_answer() {
    let q = query();
    let mut reordered = q.clone();
    reordered.destinations.reverse();
    assert_eq!(cache_key("sim", &q), cache_key("sim", &reordered));
    let mut two = q.clone();
    two.adults = 2;
    let mut business = q.clone();
    business.cabin = Cabin::Business;
    let mut capped = q.clone();
    capped.max_price = Some(Money::new(50_000, Currency::EUR).expect("money"));
    let mut direct = q.clone();
    direct.max_stops = Some(0);
    let mut one_way = q.clone();
    one_way.nights = None;
    let keys: std::collections::HashSet<String> = [&q, &two, &business, &capped, &direct, &one_way]
        .into_iter()
        .map(|q| cache_key("sim", q))
        .chain([cache_key("other", &q)])
        .collect();
    assert_eq!(keys.len(), 7, "{keys:#?}");
    assert!(cache_key("sim", &q).starts_with("pc:v1:sim:"), "versioned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_queries_in_flight_at_once_make_one_call() {
    let inner = Counting::new(Duration::from_millis(200));
    let provider = cached(&inner, memory(), Duration::from_secs(60));
    let answers = futures::future::join_all((0..8).map(|_| {
        let provider = Arc::clone(&provider);
        tokio::spawn(async move { provider.answer(&query()).await })
    }))
    .await;
    let answers: Vec<_> = answers
        .into_iter()
        .map(|a| a.expect("joined").expect("answered"))
        .collect();
    assert_eq!(
        inner.calls(),
        1,
        "one provider call for eight identical queries"
    );
    let called = answers.iter().filter(|a| !a.is_cached()).count();
    assert_eq!(called, 1, "exactly one answer is the provider's own");
    assert!(answers.iter().all(|a| a.offers == answers[0].offers));
    let stats = provider.cache_stats().expect("stats");
    assert_eq!((stats.hits, stats.misses), (7, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_call_shared_in_flight_is_one_call_and_nobody_elses() {
    let mut inner = Counting::new(Duration::from_millis(200));
    Arc::get_mut(&mut inner).expect("one owner").fails = true;
    let provider = cached(&inner, memory(), Duration::from_secs(60));
    let answers = futures::future::join_all((0..4).map(|_| {
        let provider = Arc::clone(&provider);
        tokio::spawn(async move { provider.answer(&query()).await })
    }))
    .await;
    let failures: Vec<_> = answers
        .into_iter()
        .map(|a| a.expect("joined").expect_err("the provider is down"))
        .collect();
    assert_eq!(inner.calls(), 1);
    assert_eq!(
        failures.iter().filter(|f| f.called).count(),
        1,
        "{failures:?}"
    );
    assert!(failures.iter().all(|f| f.error == failures[0].error));
    let stats = provider.cache_stats().expect("stats");
    assert_eq!(
        (stats.hits, stats.misses),
        (0, 1),
        "the call counts as a miss"
    );
    assert_eq!(
        inner.calls(),
        1,
        "a failed answer is not cached, but was asked once"
    );
}

#[tokio::test]
async fn an_entry_past_its_ttl_is_fetched_again() {
    let inner = Counting::new(Duration::ZERO);
    let provider = cached(&inner, memory(), Duration::from_millis(300));
    provider.answer(&query()).await.expect("first");
    assert!(provider.answer(&query()).await.expect("hit").is_cached());
    // Real time must pass for a TTL to run out.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = provider.answer(&query()).await.expect("after the TTL");
    assert_eq!(again.source, Source::Provider);
    assert_eq!(inner.calls(), 2);
}

#[tokio::test]
async fn offers_whose_price_has_expired_are_never_served_from_the_cache() {
    let mut inner = Counting::new(Duration::ZERO);
    Arc::get_mut(&mut inner).expect("one owner").expires_in = Some(chrono::Duration::zero());
    let provider = cached(&inner, memory(), Duration::from_secs(60));
    provider.answer(&query()).await.expect("first");
    let second = provider.answer(&query()).await.expect("second");
    assert_eq!(
        second.source,
        Source::Provider,
        "an expired answer is asked again"
    );
    assert_eq!(inner.calls(), 2);
}

#[tokio::test]
async fn with_redis_down_every_query_still_gets_its_answer() {
    let inner = Counting::new(Duration::ZERO);
    // Nothing listens on port 1.
    let store = RedisStore::connect("redis://127.0.0.1:1", "ff-test:", Duration::from_millis(50))
        .expect("a lazy connection");
    let provider = cached(&inner, Arc::new(store), Duration::from_secs(60));
    for _ in 0..3 {
        let answer = provider
            .answer(&query())
            .await
            .expect("answered without the cache");
        assert_eq!(answer.source, Source::Provider);
    }
    assert_eq!(inner.calls(), 3);
    assert!(provider.cache_stats().expect("stats").errors >= 1);
}

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

async fn delete_keys(prefix: &str) {
    let url = redis_url();
    let client = redis::Client::open(url.as_str()).expect("redis url");
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is required for this test and is not reachable at {url}: {e}")
        });
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut redis)
        .await
        .expect("KEYS");
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(&keys)
            .exec_async(&mut redis)
            .await
            .expect("DEL");
    }
}

#[tokio::test]
async fn an_unreadable_entry_in_redis_is_a_miss_and_an_error() {
    let prefix = format!("ff-test-{}:", uuid::Uuid::new_v4().simple());
    let key = format!("{prefix}{}", cache_key("sim", &query()));
    let client = redis::Client::open(redis_url()).expect("redis url");
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis is required for this test at {}: {e}", redis_url()));
    redis::cmd("SET")
        .arg(&key)
        .arg(b"not an entry".as_slice())
        .exec_async(&mut redis)
        .await
        .expect("SET");
    let inner = Counting::new(Duration::ZERO);
    let store =
        RedisStore::connect(&redis_url(), &prefix, Duration::from_millis(200)).expect("connect");
    let provider = cached(&inner, Arc::new(store), Duration::from_secs(60));
    let answer = provider.answer(&query()).await.expect("answered");
    assert_eq!(answer.source, Source::Provider);
    // Read twice before the call: by the lookup, and again under the lock.
    assert!(provider.cache_stats().expect("stats").errors >= 1);
    assert!(
        provider.answer(&query()).await.expect("hit").is_cached(),
        "rewritten"
    );
    delete_keys(&prefix).await;
}

/// Two processes' caches (each its own connection and in-flight table) on one Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_queries_from_two_processes_on_redis_make_one_call() {
    let prefix = format!("ff-test-{}:", uuid::Uuid::new_v4().simple());
    delete_keys(&prefix).await;
    let inner = Counting::new(Duration::from_millis(300));
    let process = || {
        let store = RedisStore::connect(&redis_url(), &prefix, Duration::from_millis(200))
            .expect("connect");
        cached(&inner, Arc::new(store), Duration::from_secs(60))
    };
    let (a, b) = (process(), process());
    let answers = futures::future::join_all((0..8).map(|i| {
        let provider = Arc::clone(if i % 2 == 0 { &a } else { &b });
        tokio::spawn(async move { provider.answer(&query()).await })
    }))
    .await;
    let answers: Vec<_> = answers
        .into_iter()
        .map(|a| a.expect("joined").expect("answered"))
        .collect();
    assert_eq!(inner.calls(), 1, "one call across both processes");
    assert!(answers.iter().all(|x| x.offers == answers[0].offers));
    let (sa, sb) = (a.cache_stats().expect("a"), b.cache_stats().expect("b"));
    assert_eq!(sa.errors + sb.errors, 0, "Redis answered every command");
    assert_eq!((sa.hits + sb.hits, sa.misses + sb.misses), (7, 1));
    assert!(b.answer(&query()).await.expect("later").is_cached());
    delete_keys(&prefix).await;
}
