//! The provider-answer cache against the real binary: the example provider server counts
//! the calls that reach it. In one process (memory), across worker processes (Redis), and
//! with the Redis the test started itself shut down in the middle of a search.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::providers::{ExampleProvider, providers_file};
use crate::support::{Backend, TestApp, TestDb, TestWorker, days_from_now};

/// A provider file with the example provider cached for ten minutes.
fn cached_provider(url: &str) -> (tempfile::TempDir, String) {
    providers_file(&format!(
        "[providers.csv]\nkind = \"http\"\nbase_url = \"{url}\"\ncache_ttl = \"10m\"\n"
    ))
}

/// LHR → JFK one way on `days` dates: one task a day.
fn search(days: i64) -> Value {
    json!({
        "origins": ["LHR"],
        "destinations": ["JFK"],
        "departureFrom": days_from_now(30),
        "departureTo": days_from_now(30 + days - 1),
        "providers": ["csv"],
    })
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

async fn start(app: &TestApp, input: Value) -> String {
    let job = app.start_search(input).await;
    job["id"].as_str().expect("id").to_string()
}

/// Waits for the search to end; its counters.
async fn finished(app: &TestApp, id: &str) -> Value {
    app.follow_progress(id, Duration::from_secs(120)).await;
    app.data(
        "query($id: UUID!) { job(id: $id) { status totalTasks completedTasks failedTasks
           cacheHits providerCalls error } }",
        json!({ "id": id }),
    )
    .await["job"]
        .clone()
}

/// The offers of a search, without what differs between two searches (ids, times stored).
async fn offers(app: &TestApp, id: &str) -> (Vec<Value>, Vec<(String, String)>) {
    let data = app
        .data(
            "query($id: UUID!) { flights(jobId: $id, first: 100) { totalCount nodes {
               provider origin destination departureDate departureAt arrivalAt carrier
               flightNumbers stops price { minorUnits currency } foundAt fetchedAt } } }",
            json!({ "id": id }),
        )
        .await;
    let mut kept = Vec::new();
    let mut times = Vec::new();
    for node in data["flights"]["nodes"].as_array().expect("nodes") {
        let mut node = node.clone();
        let found = node["foundAt"].as_str().expect("foundAt").to_string();
        let fetched = node["fetchedAt"].as_str().expect("fetchedAt").to_string();
        times.push((found, fetched));
        let object = node.as_object_mut().expect("object");
        object.remove("foundAt");
        object.remove("fetchedAt");
        kept.push(node);
    }
    kept.sort_by_key(|v| v.to_string());
    (kept, times)
}

fn parse(at: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(at)
        .unwrap_or_else(|e| panic!("{at}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// The second run of a search asks the provider nothing and stores the same offers, each
/// saying it was fetched before it was stored.
async fn second_run_is_answered_from_the_cache(app: &TestApp, server: &ExampleProvider) {
    let calls_before = int(&server.stats().await["search"]);
    let first = start(app, search(6)).await;
    let done = finished(app, &first).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(int(&done["totalTasks"]), 6);
    assert_eq!(int(&done["providerCalls"]), 6, "{done}");
    assert_eq!(int(&done["cacheHits"]), 0, "{done}");
    assert_eq!(int(&server.stats().await["search"]) - calls_before, 6);

    let second = start(app, search(6)).await;
    let again = finished(app, &second).await;
    assert_eq!(again["status"], "SUCCEEDED", "{again}");
    assert_eq!(int(&again["providerCalls"]), 0, "{again}");
    assert_eq!(
        int(&again["cacheHits"]),
        int(&again["totalTasks"]),
        "{again}"
    );
    assert_eq!(
        int(&server.stats().await["search"]) - calls_before,
        6,
        "no call reached the provider"
    );

    let (first_offers, first_times) = offers(app, &first).await;
    let (second_offers, second_times) = offers(app, &second).await;
    assert!(
        !first_offers.is_empty(),
        "the example provider has LHR → JFK fares"
    );
    assert_eq!(first_offers, second_offers, "the same offers stored");
    for (found, fetched) in &first_times {
        assert_eq!(found, fetched, "a search's own call: fetched when stored");
    }
    for (found, fetched) in &second_times {
        assert!(
            parse(fetched) < parse(found),
            "a cached offer was fetched before it was stored: {fetched} vs {found}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_one_process_a_repeated_search_and_two_at_once_call_each_query_once() {
    let server = ExampleProvider::spawn(&["--fault", "slow", "--delay-ms", "150"]).await;
    let (_dir, file) = cached_provider(&server.url);
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("PROVIDERS_FILE", &file)]).await;
    second_run_is_answered_from_the_cache(&app, &server).await;

    // Two identical searches started together, of dates nobody asked yet.
    let input = json!({
        "origins": ["LHR"], "destinations": ["JFK"], "providers": ["csv"],
        "departureFrom": days_from_now(60), "departureTo": days_from_now(67),
    });
    let calls_before = int(&server.stats().await["search"]);
    let (a, b) = tokio::join!(start(&app, input.clone()), start(&app, input));
    let (a, b) = (finished(&app, &a).await, finished(&app, &b).await);
    for job in [&a, &b] {
        assert_eq!(job["status"], "SUCCEEDED", "{job}");
    }
    assert_eq!(int(&server.stats().await["search"]) - calls_before, 8);
    assert_eq!(int(&a["providerCalls"]) + int(&b["providerCalls"]), 8);
    assert_eq!(int(&a["cacheHits"]) + int(&b["cacheHits"]), 8);

    let providers = app
        .admin()
        .await
        .data(
            "{ providers { name cache { backend ttlSeconds hits misses errors hitRatio } } }",
            json!({}),
        )
        .await;
    let csv = providers["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .find(|p| p["name"] == "csv")
        .expect("csv")
        .clone();
    let cache = &csv["cache"];
    assert_eq!(cache["backend"], "memory", "{csv}");
    assert_eq!(int(&cache["ttlSeconds"]), 600);
    assert_eq!(
        (int(&cache["hits"]), int(&cache["misses"])),
        (14, 14),
        "{csv}"
    );
    assert_eq!(cache["hitRatio"].as_f64(), Some(0.5));
}

/// A `redis-server` of the test's own, on a free port, keeping nothing on disk.
pub(crate) struct TestRedis {
    pub(crate) port: u16,
    child: Option<Child>,
}

impl TestRedis {
    pub(crate) async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let mut redis = Self { port, child: None };
        redis.restart().await;
        redis
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and waits until it answers PING.
    pub(crate) async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server is required for this test: {e}"));
        self.child = Some(child);
        let client = redis::Client::open(self.url()).expect("url");
        for _ in 0..100 {
            if let Ok(mut c) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server on port {} did not answer", self.port);
    }

    /// `redis-cli shutdown nosave`, then waits for the process to exit.
    pub(crate) async fn shutdown(&mut self) {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "shutdown", "nosave"])
            .output()
            .await
            .expect("redis-cli");
        assert!(
            out.status.success() || out.stdout.is_empty(),
            "redis-cli shutdown: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(mut child) = self.child.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        }
    }

    pub(crate) async fn keys(&self) -> Vec<String> {
        let client = redis::Client::open(self.url()).expect("url");
        let mut c = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut c)
            .await
            .expect("KEYS")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_two_worker_processes_share_the_answers() {
    let redis = TestRedis::start().await;
    let url = redis.url();
    let server = ExampleProvider::spawn(&["--fault", "slow", "--delay-ms", "150"]).await;
    let (_dir, file) = cached_provider(&server.url);
    let db = TestDb::new(Backend::Postgres).await;
    let env: [(&'static str, &str); 3] = [
        ("PROVIDERS_FILE", &file),
        ("REDIS_URL", &url),
        ("TASK_CONCURRENCY", "4"),
    ];
    let mut api_env = env.to_vec();
    api_env.push(("NO_WORKER", "true"));
    let app = TestApp::spawn_with(&db, &api_env).await;
    let w1 = TestWorker::spawn(&db, &env).await;
    let w2 = TestWorker::spawn(&db, &env).await;
    second_run_is_answered_from_the_cache(&app, &server).await;
    assert!(
        redis
            .keys()
            .await
            .iter()
            .any(|k| k.starts_with("fast-flights:pc:v1:csv:")),
        "entries are in Redis under the deployment's prefix: {:?}",
        redis.keys().await
    );

    // Four identical searches at once: the two workers run them side by side.
    let input = json!({
        "origins": ["LHR"], "destinations": ["JFK"], "providers": ["csv"],
        "departureFrom": days_from_now(60), "departureTo": days_from_now(67),
    });
    let calls_before = int(&server.stats().await["search"]);
    let ids = futures::future::join_all((0..4).map(|_| start(&app, input.clone()))).await;
    let mut calls = 0;
    let mut hits = 0;
    for id in &ids {
        let job = finished(&app, id).await;
        assert_eq!(job["status"], "SUCCEEDED", "{job}");
        calls += int(&job["providerCalls"]);
        hits += int(&job["cacheHits"]);
    }
    assert_eq!(
        int(&server.stats().await["search"]) - calls_before,
        8,
        "each of the 8 queries called once across both workers\nw1:\n{}\nw2:\n{}",
        w1.log(),
        w2.log()
    );
    assert_eq!((calls, hits), (8, 24));
    w1.kill().await;
    w2.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_shut_down_mid_search_the_search_succeeds_and_the_cache_comes_back() {
    let mut redis = TestRedis::start().await;
    let url = redis.url();
    let server = ExampleProvider::spawn(&["--fault", "slow", "--delay-ms", "100"]).await;
    let (_dir, file) = cached_provider(&server.url);
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("PROVIDERS_FILE", &file),
            ("REDIS_URL", &url),
            ("TASK_CONCURRENCY", "2"),
        ],
    )
    .await;
    let id = start(&app, search(40)).await;
    // Shut Redis down once the search is under way (checkpoints come every 200 ms).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while int(&app.job(&id).await["completedTasks"]) < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the search made no progress"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    redis.shutdown().await;
    let done = finished(&app, &id).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(int(&done["completedTasks"]), 40);
    assert_eq!(
        int(&done["failedTasks"]),
        0,
        "no query failed for the cache: {done}"
    );
    assert_eq!(int(&done["providerCalls"]), 40);
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    let errors: f64 = metrics
        .lines()
        .find(|l| l.starts_with("fast_flights_provider_cache_errors_total{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no cache error counter:\n{metrics}"));
    assert!(errors >= 1.0, "the failures are counted: {errors}");
    assert!(
        app.log()
            .contains("searches call their providers without it"),
        "a warning names the outage"
    );

    // Back up: the cache is tried again at most a second after a failure, so within a few
    // tries a new search's answers go to Redis and its repeat is served from there.
    redis.restart().await;
    let mut tries = 0;
    loop {
        tries += 1;
        let input = json!({
            "origins": ["LHR"], "destinations": ["JFK"], "providers": ["csv"],
            "departureFrom": days_from_now(90 + 3 * tries), "departureTo": days_from_now(92 + 3 * tries),
        });
        let fresh = start(&app, input.clone()).await;
        assert_eq!(int(&finished(&app, &fresh).await["providerCalls"]), 3);
        let repeat = start(&app, input).await;
        let repeat_job = finished(&app, &repeat).await;
        if int(&repeat_job["cacheHits"]) == 3 {
            break;
        }
        assert!(
            tries < 20,
            "the cache was not used again: {repeat_job}\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        app.log().contains("cache in Redis is back"),
        "the recovery is logged"
    );
    assert!(!redis.keys().await.is_empty(), "entries are in Redis again");
}
