//! The log-in counters on every backend (SQLite, PostgreSQL, Redis): concurrent attempts are
//! counted one after another, a back-off lets exactly its free failures through, windows and
//! back-offs end at their time, and a success clears the failures.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fast_flights_store::{Backoff, LoginClaim, LoginCounters, RedisLoginCounters, Store};
use sea_orm::{ConnectionTrait, Database};

const BACKOFF: Backoff = Backoff {
    free: 3,
    base: Duration::from_secs(60),
    max: Duration::from_secs(900),
};
const FORGET: Duration = Duration::from_secs(3600);

fn later(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(d).expect("duration")
}

async fn check(counters: Arc<dyn LoginCounters>, prefix: &str) {
    let now = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now");
    let window = Duration::from_secs(60);

    // 40 attempts at once: each gets its own count.
    let key = format!("{prefix}count");
    let counts = futures::future::join_all((0..40).map(|_| {
        let counters = Arc::clone(&counters);
        let key = key.clone();
        async move { counters.count(&key, window, now).await.expect("count") }
    }))
    .await;
    let mut hits: Vec<u64> = counts.iter().map(|c| c.hits).collect();
    hits.sort_unstable();
    assert_eq!(hits, (1..=40).collect::<Vec<u64>>());
    if counters.kind() == "database" {
        // One window for all of them; once it ends, the count starts again (Redis ends its
        // windows on its own clock, with the key's TTL).
        assert!(counts.iter().all(|c| c.resets_at == later(now, window)));
        let next = counters
            .count(&key, window, later(now, window))
            .await
            .expect("count");
        assert_eq!(next.hits, 1);
    }

    // 20 claims at once on one pair: exactly the free failures run.
    let pair = format!("{prefix}pair");
    let claims = futures::future::join_all((0..20).map(|_| {
        let counters = Arc::clone(&counters);
        let pair = pair.clone();
        async move {
            counters
                .claim(&pair, BACKOFF, FORGET, now)
                .await
                .expect("claim")
        }
    }))
    .await;
    let mut allowed: Vec<u64> = claims
        .iter()
        .filter_map(|c| match c {
            LoginClaim::Allowed { failures } => Some(*failures),
            LoginClaim::Refused { .. } => None,
        })
        .collect();
    allowed.sort_unstable();
    assert_eq!(allowed, [1, 2, 3], "{claims:?}");
    let until = later(now, BACKOFF.base);
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, LoginClaim::Allowed { .. }) || *c == LoginClaim::Refused { until }),
        "refused until the first back-off ends: {claims:?}"
    );
    // Once it has passed, one more failure doubles the wait.
    let claim = counters
        .claim(&pair, BACKOFF, FORGET, until)
        .await
        .expect("claim");
    assert_eq!(claim, LoginClaim::Allowed { failures: 4 });
    let just_before = until + chrono::Duration::seconds(119);
    assert_eq!(
        counters
            .claim(&pair, BACKOFF, FORGET, just_before)
            .await
            .expect("claim"),
        LoginClaim::Refused {
            until: until + chrono::Duration::seconds(120)
        }
    );
    // A success forgets the failures.
    counters.clear(&pair).await.expect("clear");
    assert_eq!(
        counters
            .claim(&pair, BACKOFF, FORGET, until)
            .await
            .expect("claim"),
        LoginClaim::Allowed { failures: 1 }
    );
    counters.clear(&pair).await.expect("clear");
}

#[tokio::test]
async fn sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.sqlite").display()
    );
    let store = Store::connect(&url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    check(Arc::new(store.clone()), "").await;
    let pruned = store
        .prune(Utc::now() + chrono::Duration::days(2))
        .await
        .expect("prune");
    assert!(pruned >= 1, "expired counts are pruned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let conn = Database::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required at {admin}: {e}"));
    let name = format!("ff_store_{}", uuid::Uuid::new_v4().simple());
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let store = Store::connect(&format!("{base}/{name}"), 8)
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    check(Arc::new(store.clone()), "").await;
    store.close().await.expect("close");
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .expect("drop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
    let prefix = format!("ff-store-test-{}:", uuid::Uuid::new_v4().simple());
    let counters = RedisLoginCounters::connect(&url, &prefix).expect("redis url");
    // A clear first, so a missing Redis fails here with its own message.
    counters
        .clear("probe")
        .await
        .unwrap_or_else(|e| panic!("Redis is required at {url}: {e}"));
    let counters = Arc::new(counters);
    check(counters.clone(), "").await;
    counters.clear("count").await.expect("clear");
}
