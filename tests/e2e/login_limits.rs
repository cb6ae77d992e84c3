//! Log-in and sign-up limits from outside: guessing from one address slows that address
//! down while the owner, elsewhere, signs in at once; `signUp` spends the same per-address
//! budget; a back-off ends; and the counts hold across two API processes, on PostgreSQL and
//! on Redis. Clients come from distinct loopback addresses (127.0.0.0/8), and only
//! 127.0.0.1 is a trusted proxy.

use std::net::IpAddr;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::{Backend, Session, TEST_EMAIL, TEST_PASSWORD, TestApp, TestDb};

const LOG_IN: &str =
    "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }";
const SIGN_UP: &str =
    "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }";

/// The limits' defaults (the e2e base environment raises the budgets for other suites).
const DEFAULT_BUDGETS: [(&str, &str); 2] = [
    ("LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", "30"),
    ("LOGIN_ATTEMPTS_PER_ACCOUNT_PER_HOUR", "100"),
];

/// `app`'s API as seen from the loopback address `ip`.
fn from(app: &Session, ip: &str) -> Session {
    let ip: IpAddr = ip.parse().expect("ip");
    Session {
        http: reqwest::Client::builder()
            .local_address(ip)
            .build()
            .expect("client"),
        token: None,
        ..app.clone()
    }
}

/// OK, or the code of the first error.
fn outcome(body: &Value) -> String {
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => code.to_string(),
        None if body.get("errors").is_some() => format!("error without a code: {body}"),
        None => "OK".to_string(),
    }
}

async fn log_in(session: &Session, email: &str, password: &str) -> Value {
    session
        .gql(LOG_IN, json!({ "e": email, "p": password }))
        .await
}

async fn sign_up(session: &Session, email: &str) -> Value {
    session
        .gql(SIGN_UP, json!({ "e": email, "p": TEST_PASSWORD }))
        .await
}

/// A RATE_LIMITED answer's wait, checking that it says when to come back.
fn retry_after(body: &Value) -> u64 {
    assert_eq!(outcome(body), "RATE_LIMITED", "{body}");
    let error = &body["errors"][0];
    let seconds = error["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap_or_else(|| panic!("no retryAfterSeconds: {body}"));
    assert!(seconds >= 1, "{body}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("try again in"),
        "{body}"
    );
    seconds
}

fn env<'a>(
    base: &[(&'static str, &'a str)],
    more: &[(&'static str, &'a str)],
) -> Vec<(&'static str, &'a str)> {
    base.iter().chain(more).copied().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_wrong_passwords_slow_that_address_down_but_the_owner_signs_in_elsewhere() {
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(
        &db,
        &env(
            &DEFAULT_BUDGETS,
            &[
                ("NO_WORKER", "true"),
                // A back-off long enough that no request of this test outlives it.
                ("LOGIN_BACKOFF_BASE_MS", "120000"),
            ],
        ),
    )
    .await;
    let attacker = from(&app, "127.0.0.3");
    let mut outcomes = Vec::new();
    for i in 0..50 {
        let body = log_in(&attacker, TEST_EMAIL, &format!("wrong guess {i:02}")).await;
        if outcome(&body) == "RATE_LIMITED" {
            let wait = retry_after(&body);
            assert!(wait <= 120, "{body}");
        }
        outcomes.push(outcome(&body));
    }
    let wrong = outcomes.iter().filter(|o| *o == "UNAUTHENTICATED").count();
    let limited = outcomes.iter().filter(|o| *o == "RATE_LIMITED").count();
    assert_eq!(
        (wrong, limited),
        (5, 45),
        "five guesses run, then the address backs off: {outcomes:?}"
    );
    assert!(
        outcomes[..5].iter().all(|o| o == "UNAUTHENTICATED"),
        "{outcomes:?}"
    );
    // The right password from the guessing address waits too…
    let body = log_in(&attacker, TEST_EMAIL, TEST_PASSWORD).await;
    retry_after(&body);
    // …and the guessing address has spent its budget for other accounts as well.
    let body = log_in(&attacker, "someone-else@example.com", "whatever it is").await;
    retry_after(&body);
    // The owner, from another address, signs in at once.
    let owner = from(&app, "127.0.0.2");
    let body = log_in(&owner, TEST_EMAIL, TEST_PASSWORD).await;
    assert_eq!(outcome(&body), "OK", "{body}");
    assert!(body["data"]["logIn"]["token"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("NO_WORKER", "true"),
            ("LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", "3"),
        ],
    )
    .await;
    let forwarded = |session: &Session, client: &str, email: &str| {
        session
            .post()
            .header("x-forwarded-for", client)
            .json(&json!({ "query": LOG_IN, "variables": { "e": email, "p": "a wrong password" } }))
            .send()
    };
    // 127.0.0.3 is not a proxy: whatever client it names, its own budget is spent.
    let stranger = from(&app, "127.0.0.3");
    let mut outcomes = Vec::new();
    for i in 0..4 {
        let client = format!("198.51.100.{i}");
        let response = forwarded(&stranger, &client, &format!("u{i}@example.com"))
            .await
            .expect("POST");
        outcomes.push(outcome(&response.json().await.expect("JSON")));
    }
    assert_eq!(
        outcomes,
        [
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "RATE_LIMITED"
        ]
    );
    // The web app's server (127.0.0.1, trusted) names each browser: each has its own.
    let proxy = app.anonymous();
    for i in 0..4 {
        let client = format!("203.0.113.{i}");
        let response = forwarded(&proxy, &client, "v@example.com")
            .await
            .expect("POST");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(outcome(&body), "UNAUTHENTICATED", "client {client}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_and_log_in_share_one_budget_per_address() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("NO_WORKER", "true"),
            ("LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", "3"),
        ],
    )
    .await;
    let browser = from(&app, "127.0.0.4");
    assert_eq!(outcome(&sign_up(&browser, "a@example.com").await), "OK");
    assert_eq!(outcome(&sign_up(&browser, "b@example.com").await), "OK");
    let body = log_in(&browser, "a@example.com", TEST_PASSWORD).await;
    assert_eq!(outcome(&body), "OK", "{body}");
    // The fourth attempt of the minute, whichever mutation it is.
    retry_after(&sign_up(&browser, "c@example.com").await);
    retry_after(&log_in(&browser, "a@example.com", TEST_PASSWORD).await);
    // Another address has a budget of its own.
    let other = from(&app, "127.0.0.5");
    assert_eq!(outcome(&sign_up(&other, "c@example.com").await), "OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_works_again_once_the_backoff_has_passed() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("NO_WORKER", "true"),
            ("LOGIN_BACKOFF_AFTER_FAILURES", "2"),
            ("LOGIN_BACKOFF_BASE_MS", "3000"),
        ],
    )
    .await;
    let me = from(&app, "127.0.0.6");
    for _ in 0..2 {
        let body = log_in(&me, TEST_EMAIL, "mistyped password").await;
        assert_eq!(outcome(&body), "UNAUTHENTICATED", "{body}");
    }
    let wait = retry_after(&log_in(&me, TEST_EMAIL, TEST_PASSWORD).await);
    assert!(
        wait <= 3,
        "the first back-off is LOGIN_BACKOFF_BASE_MS: {wait}"
    );
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(200)).await;
    let body = log_in(&me, TEST_EMAIL, TEST_PASSWORD).await;
    assert_eq!(outcome(&body), "OK", "{body}");
    // The success forgot the failures: two free mistakes again before a back-off.
    for _ in 0..2 {
        let body = log_in(&me, TEST_EMAIL, "mistyped password").await;
        assert_eq!(outcome(&body), "UNAUTHENTICATED", "{body}");
    }
    retry_after(&log_in(&me, TEST_EMAIL, TEST_PASSWORD).await);
}

/// Failures and attempts on one API process count on the other.
async fn limits_hold_across_two_processes(extra: &[(&'static str, &str)]) -> TestDb {
    let db = TestDb::new(Backend::Postgres).await;
    let settings = env(
        &[
            ("NO_WORKER", "true"),
            ("LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", "8"),
            ("LOGIN_BACKOFF_AFTER_FAILURES", "3"),
            ("LOGIN_BACKOFF_BASE_MS", "120000"),
        ],
        extra,
    );
    let a = TestApp::spawn_with(&db, &settings).await;
    let b = TestApp::spawn_with(&db, &settings).await;
    let (on_a, on_b) = (from(&a, "127.0.0.7"), from(&b, "127.0.0.7"));
    // Back-off: two failures on A and one on B make three in a row.
    for (session, what) in [(&on_a, "A"), (&on_a, "A"), (&on_b, "B")] {
        let body = log_in(session, TEST_EMAIL, "a wrong password").await;
        assert_eq!(outcome(&body), "UNAUTHENTICATED", "on {what}: {body}");
    }
    retry_after(&log_in(&on_a, TEST_EMAIL, TEST_PASSWORD).await);
    retry_after(&log_in(&on_b, TEST_EMAIL, TEST_PASSWORD).await);
    // Budget: those five attempts and three sign-ups reach the eight of the minute.
    assert_eq!(outcome(&sign_up(&on_a, "x1@example.com").await), "OK");
    assert_eq!(outcome(&sign_up(&on_b, "x2@example.com").await), "OK");
    assert_eq!(outcome(&sign_up(&on_a, "x3@example.com").await), "OK");
    retry_after(&sign_up(&on_b, "x4@example.com").await);
    retry_after(&sign_up(&on_a, "x4@example.com").await);
    // The owner elsewhere is not affected, on either process.
    assert_eq!(
        outcome(&log_in(&from(&b, "127.0.0.8"), TEST_EMAIL, TEST_PASSWORD).await),
        "OK"
    );
    db
}

async fn stored_counts(db: &TestDb) -> i64 {
    let conn = db.connect().await;
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM login_limits",
        ))
        .await
        .expect("count")
        .expect("row");
    row.try_get("", "n").expect("n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_two_processes_on_postgres() {
    let db = limits_hold_across_two_processes(&[]).await;
    assert!(
        stored_counts(&db).await > 0,
        "the counts are in the database"
    );
}

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// Every key under `prefix`, deleted.
async fn redis_keys(prefix: &str, delete: bool) -> Vec<String> {
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
    if delete && !keys.is_empty() {
        redis::cmd("DEL")
            .arg(&keys)
            .exec_async(&mut redis)
            .await
            .expect("DEL");
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_two_processes_on_redis() {
    let url = redis_url();
    let prefix = format!("ff-test-{}:", uuid::Uuid::new_v4().simple());
    // Fails here, not with a confusing limit, when Redis is missing.
    redis_keys(&prefix, false).await;
    let db =
        limits_hold_across_two_processes(&[("REDIS_URL", &url), ("REDIS_KEY_PREFIX", &prefix)])
            .await;
    assert_eq!(
        stored_counts(&db).await,
        0,
        "nothing counted in the database"
    );
    let keys = redis_keys(&prefix, true).await;
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("{prefix}login:pair:"))),
        "the counts are in Redis under the prefix: {keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_still_works_while_redis_is_down() {
    let db = TestDb::new(Backend::Sqlite).await;
    // Nothing listens on port 1: every count fails, and the limits let attempts through.
    let app = TestApp::spawn_with(
        &db,
        &[("NO_WORKER", "true"), ("REDIS_URL", "redis://127.0.0.1:1")],
    )
    .await;
    let body = log_in(&from(&app, "127.0.0.9"), TEST_EMAIL, TEST_PASSWORD).await;
    assert_eq!(outcome(&body), "OK", "{body}");
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("fast_flights_login_limit_errors_total"),
        "the failure is counted: {metrics}"
    );
}
