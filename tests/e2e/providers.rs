//! Providers as plugins, against the real binary: the `http` provider talking to the
//! example provider server (examples/http-provider/server.py) in every documented mood,
//! and a search over two providers, one of them failing 30% of its calls.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::on_both_backends;
use crate::support;
use crate::support::{Backend, TestApp, TestDb, days_from_now};

/// The example provider, started by the test on a free port.
pub(crate) struct ExampleProvider {
    pub(crate) url: String,
    _child: Child,
}

impl ExampleProvider {
    pub(crate) async fn spawn(args: &[&str]) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/http-provider/server.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("python3 is required to run {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("listening on ") {
                    return Some(url.trim().to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("the example provider printed its address");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { url, _child: child }
    }

    pub(crate) async fn stats(&self) -> Value {
        reqwest::get(format!("{}/stats", self.url))
            .await
            .expect("GET /stats")
            .json()
            .await
            .expect("stats JSON")
    }
}

/// A providers file in a directory that lives as long as the returned guard.
pub(crate) fn providers_file(toml: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("providers.toml");
    std::fs::write(&path, toml).expect("write providers file");
    let path = path.display().to_string();
    (dir, path)
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

async fn finish(app: &TestApp, input: Value) -> (Value, Value) {
    let job = app.start_search(input).await;
    let id = job["id"].as_str().expect("id").to_string();
    let events = app.follow_progress(&id, Duration::from_secs(90)).await;
    let last = events.last().cloned().expect("progress events");
    let full = app
        .data(
            "query($id: UUID!) { job(id: $id) { id status totalTasks completedTasks failedTasks foundFlights error
               startedAt finishedAt errorSample { taskIndex provider message } } }",
            json!({ "id": id }),
        )
        .await["job"]
        .clone();
    assert_eq!(last["status"], full["status"]);
    // completedTasks counts every finished task, failedTasks those among them that failed.
    assert!(int(&full["failedTasks"]) <= int(&full["completedTasks"]));
    if full["status"] == "SUCCEEDED" {
        assert_eq!(
            int(&full["completedTasks"]),
            int(&full["totalTasks"]),
            "every task finished: {full}"
        );
    }
    (job, full)
}

async fn offers(app: &TestApp, job_id: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .data(
                "query($id: UUID!, $after: String) { flights(jobId: $id, first: 100, after: $after) {
                   pageInfo { hasNextPage endCursor }
                   edges { node { provider origin destination departureDate returnDate departureAt arrivalAt
                     returnDepartureAt stops carrier flightNumbers price { minorUnits currency }
                     segments { direction carrier flightNumber origin destination departureAt arrivalAt }
                     expiresAt deepLink bookingToken rawPayload } } } }",
                json!({ "id": job_id, "after": after }),
            )
            .await;
        let page = &data["flights"];
        all.extend(
            page["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"].clone()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            return all;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

fn one_way(providers: &[&str], days: i64) -> Value {
    json!({
        "origins": ["LHR"],
        "destinations": ["JFK"],
        "departureFrom": days_from_now(30),
        "departureTo": days_from_now(30 + days - 1),
        "providers": providers,
    })
}

async fn estimate(app: &TestApp, input: Value) -> Value {
    app.data(
        "query($input: SearchInput!) { estimateSearch(input: $input) { totalTasks estimatedSeconds
           withinQuota quotaMessage providerCalls { provider calls callsPerSecond estimatedSeconds } } }",
        json!({ "input": input }),
    )
    .await["estimateSearch"]
    .clone()
}

fn calls_of(estimate: &Value, provider: &str) -> i64 {
    let calls = estimate["providerCalls"]
        .as_array()
        .expect("providerCalls")
        .iter()
        .find(|p| p["provider"] == provider)
        .unwrap_or_else(|| panic!("{provider} in {estimate}"));
    int(&calls["calls"])
}

/// A rate-limited provider: the estimate's calls are the calls made, and its duration is
/// printed beside the one measured (machines differ; no timing is asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_estimate_counts_the_calls_of_a_rate_limited_provider() {
    let server = ExampleProvider::spawn(&[]).await;
    let (_dir, file) = providers_file(&format!(
        r#"
[providers.csv-slow]
kind = "http"
base_url = "{url}"
rate_limit = 10
"#,
        url = server.url
    ));
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("PROVIDERS_FILE", &file)]).await;
    let input = one_way(&["csv-slow"], 30);
    let estimate = estimate(&app, input.clone()).await;
    assert_eq!(int(&estimate["totalTasks"]), 30, "{estimate}");
    assert_eq!(calls_of(&estimate, "csv-slow"), 30);
    let pace = estimate["providerCalls"][0]["callsPerSecond"]
        .as_f64()
        .expect("pace");
    assert!(pace <= 10.0, "the rate limit bounds the pace: {estimate}");
    let started = std::time::Instant::now();
    let (_, done) = finish(&app, input).await;
    let measured = started.elapsed().as_secs_f64();
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["totalTasks"], estimate["totalTasks"]);
    assert_eq!(int(&server.stats().await["search"]), 30);
    println!(
        "csv-slow, 30 calls at 10/s: estimated {:.1} s, measured {measured:.1} s",
        estimate["estimatedSeconds"].as_f64().expect("seconds")
    );
}

/// Good answers: a provider that takes a 31-day window and a nights range is asked once
/// and stores exactly what the same provider asked date by date stores; offers carry their
/// flights, expiry, deep link, booking token and raw payload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_provider_good_answers_and_windows() {
    let server = ExampleProvider::spawn(&[]).await;
    let (_dir, file) = providers_file(&format!(
        r#"
[providers.csv-window]
kind = "http"
base_url = "{url}"
date_window_days = 31
nights_range = true
max_destinations = 5

[providers.csv-daily]
kind = "http"
base_url = "{url}"
"#,
        url = server.url
    ));
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("PROVIDERS_FILE", &file)]).await;

    let providers = app
        .admin()
        .await
        .data(
            "{ providers { name kind baseUrl capabilities { dateWindowDays nightsRange maxDestinations } } }",
            json!({}),
        )
        .await;
    let window = providers["providers"]
        .as_array()
        .expect("list")
        .iter()
        .find(|p| p["name"] == "csv-window")
        .cloned()
        .expect("csv-window listed");
    assert_eq!(window["kind"], "http");
    assert_eq!(window["baseUrl"], server.url);
    assert_eq!(window["capabilities"]["dateWindowDays"], 31);
    assert_eq!(window["capabilities"]["nightsRange"], true);

    let search_of = |providers: &[&str]| {
        json!({
            "origins": ["LHR"],
            "destinations": ["JFK", "CDG"],
            "departureFrom": days_from_now(30),
            "departureTo": days_from_now(33),
            "nights": { "min": 3, "max": 5 },
            "providers": providers,
        })
    };
    let search = |provider: &str| search_of(&[provider]);
    // The estimate names what each search then runs: its tasks, and each provider's calls.
    let both = estimate(&app, search_of(&["csv-window", "csv-daily"])).await;
    assert_eq!(int(&both["totalTasks"]), 1 + 24, "{both}");
    assert_eq!(calls_of(&both, "csv-window"), 1, "{both}");
    assert_eq!(calls_of(&both, "csv-daily"), 24, "{both}");
    assert_eq!(both["withinQuota"], true);
    let window_estimate = estimate(&app, search("csv-window")).await;
    let (job_w, done_w) = finish(&app, search("csv-window")).await;
    assert_eq!(window_estimate["totalTasks"], done_w["totalTasks"]);
    assert_eq!(done_w["status"], "SUCCEEDED", "{done_w}");
    assert_eq!(int(&done_w["totalTasks"]), 1, "one call covers it all");
    let calls_after_window = int(&server.stats().await["search"]);
    assert_eq!(calls_after_window, 1);
    assert_eq!(calls_of(&window_estimate, "csv-window"), calls_after_window);

    let daily_estimate = estimate(&app, search("csv-daily")).await;
    let (job_d, done_d) = finish(&app, search("csv-daily")).await;
    assert_eq!(daily_estimate["totalTasks"], done_d["totalTasks"]);
    assert_eq!(
        calls_of(&daily_estimate, "csv-daily"),
        int(&server.stats().await["search"]) - calls_after_window
    );
    assert_eq!(done_d["status"], "SUCCEEDED", "{done_d}");
    assert_eq!(
        int(&done_d["totalTasks"]),
        2 * 4 * 3,
        "2 routes × 4 dates × 3 stays"
    );
    assert_eq!(
        int(&server.stats().await["search"]),
        calls_after_window + 24
    );

    let key = |o: &Value| {
        format!(
            "{}{}{}{}{}",
            o["origin"],
            o["destination"],
            o["departureAt"],
            o["returnDepartureAt"],
            o["flightNumbers"]
        )
    };
    let mut by_window: Vec<String> = offers(&app, job_w["id"].as_str().expect("id"))
        .await
        .iter()
        .map(key)
        .collect();
    let daily = offers(&app, job_d["id"].as_str().expect("id")).await;
    let mut by_day: Vec<String> = daily.iter().map(key).collect();
    by_window.sort();
    by_day.sort();
    assert!(!by_day.is_empty(), "the CSV has fares on these routes");
    assert_eq!(by_window, by_day, "the same fares either way");
    assert_eq!(int(&done_w["foundFlights"]), by_day.len() as i64);

    let offer = &daily[0];
    let segments = offer["segments"].as_array().expect("segments");
    assert_eq!(segments[0]["direction"], "OUTBOUND");
    assert_eq!(segments[0]["origin"], "LHR");
    assert!(segments.iter().any(|s| s["direction"] == "RETURN"));
    assert!(offer["expiresAt"].is_string(), "{offer}");
    assert!(
        offer["deepLink"]
            .as_str()
            .is_some_and(|l| l.starts_with("http"))
    );
    assert!(offer["bookingToken"].is_string());
    assert_eq!(
        offer["rawPayload"]["fareBasis"], "Y1",
        "the raw payload is kept"
    );
    // The departure date is the origin's local date of the first flight.
    let departure_date = offer["departureDate"].as_str().expect("date");
    assert!(
        offer["departureAt"]
            .as_str()
            .expect("at")
            .starts_with(departure_date)
    );
}

/// Each misbehaviour gives its documented outcome; the search goes on with the other
/// provider and ends with right counts and an error sample naming the failing provider,
/// without any of `hidden` (what the provider said) in it.
async fn faulty(
    fault_args: &[&str],
    extra: &str,
    expect_in_error: &str,
    hidden: &[&str],
) -> (Value, Value) {
    let server = ExampleProvider::spawn(fault_args).await;
    let (_dir, file) = providers_file(&format!(
        r#"
[providers.simulated]
kind = "simulated"
latency_ms = 1

[providers.faulty]
kind = "http"
base_url = "{url}"
timeout_ms = 400
{extra}
"#,
        url = server.url
    ));
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(
        &db,
        &[("PROVIDERS_FILE", &file), ("MAX_FAILED_SHARE", "0.9")],
    )
    .await;
    let (_, done) = finish(&app, one_way(&["simulated", "faulty"], 3)).await;
    assert_eq!(int(&done["totalTasks"]), 6, "3 dates × 2 providers");
    let sample = done["errorSample"].as_array().expect("sample").clone();
    assert_eq!(
        sample.len() as i64,
        int(&done["failedTasks"]).min(20),
        "one sample entry per failed task (up to 20): {done}"
    );
    for e in &sample {
        assert_eq!(e["provider"], "faulty", "{e}");
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains(expect_in_error)),
            "`{expect_in_error}` in {e}"
        );
        for text in hidden {
            assert!(!e.to_string().contains(text), "`{text}` shown in {e}");
        }
    }
    let stats = server.stats().await;
    (done, stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_provider_malformed_json_fails_the_task_without_retrying() {
    // serde's message for the cut-off answer starts "EOF while parsing".
    let (done, stats) = faulty(
        &["--fault", "malformed"],
        "",
        "the provider's answer is not the contract's JSON",
        &["EOF", "line 1"],
    )
    .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(int(&done["failedTasks"]), 3);
    assert_eq!(int(&done["completedTasks"]), 6);
    assert_eq!(done["errorSample"].as_array().map(Vec::len), Some(3));
    assert_eq!(int(&stats["search"]), 3, "not retried: {stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_provider_500s_are_retried_then_fail_the_task() {
    let (done, stats) = faulty(
        &["--fault", "500"],
        "retries = 2",
        "the provider is unavailable (HTTP 500)",
        &["simulated outage"],
    )
    .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(int(&done["failedTasks"]), 3);
    assert_eq!(int(&done["completedTasks"]), 6);
    assert_eq!(
        int(&stats["status_500"]),
        9,
        "each task tried 1 + 2 times: {stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_provider_429_waits_retry_after_without_spending_a_retry() {
    // retries = 0: only a 429 wait, which spends no retry, can save each task.
    let (done, stats) = faulty(
        &["--fault", "429", "--retry-after", "2"],
        "retries = 0",
        "",
        &[],
    )
    .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(int(&done["failedTasks"]), 0, "{done}");
    assert_eq!(int(&done["completedTasks"]), 6);
    assert_eq!(int(&stats["status_429"]), 3, "{stats}");
    assert_eq!(int(&stats["search"]), 6, "each task asked twice: {stats}");
    // Without the Retry-After the backoff would retry within 200 ms; the search ran at
    // least the 2 s the provider asked for.
    let at = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(done[field].as_str().expect(field)).expect(field)
    };
    let ran = at("finishedAt") - at("startedAt");
    assert!(
        ran >= chrono::Duration::milliseconds(1900),
        "the Retry-After of 2 s was waited out: the search ran {ran}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_provider_slow_answers_time_out() {
    let (done, stats) = faulty(
        &["--fault", "slow", "--delay-ms", "3000"],
        "retries = 2",
        "did not answer within",
        &[],
    )
    .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(int(&done["failedTasks"]), 3);
    assert_eq!(int(&done["completedTasks"]), 6);
    assert_eq!(
        int(&stats["search"]),
        9,
        "each task tried 1 + 2 times: {stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_provider_connection_refused_fails_the_task() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let (_dir, file) = providers_file(&format!(
        r#"
[providers.simulated]
kind = "simulated"
latency_ms = 1

[providers.gone]
kind = "http"
base_url = "http://127.0.0.1:{port}"
retries = 1
"#
    ));
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(
        &db,
        &[("PROVIDERS_FILE", &file), ("MAX_FAILED_SHARE", "0.9")],
    )
    .await;
    let (_, done) = finish(&app, one_way(&["simulated", "gone"], 3)).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(int(&done["failedTasks"]), 3);
    assert_eq!(int(&done["completedTasks"]), 6);
    for e in done["errorSample"].as_array().expect("sample") {
        assert_eq!(e["provider"], "gone");
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m == "cannot connect to the provider"),
            "{e}"
        );
    }
}

/// The key goes in the Authorization header only: a wrong one fails the search at once as
/// "down", and neither the API nor the log ever shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_provider_keys_are_sent_and_never_shown() {
    let secret = "s3cr3t-key-that-must-not-leak";
    let server = ExampleProvider::spawn(&["--api-key", secret]).await;
    let file_for = |var: &str| {
        providers_file(&format!(
            "[providers.keyed]\nkind = \"http\"\nbase_url = \"{}\"\napi_key_env = \"{var}\"\n",
            server.url
        ))
    };

    let (_dir, file) = file_for("KEYED_API_KEY");
    let db = TestDb::new(Backend::Sqlite).await;
    let app =
        TestApp::spawn_with(&db, &[("PROVIDERS_FILE", &file), ("KEYED_API_KEY", secret)]).await;
    let (_, done) = finish(&app, one_way(&["keyed"], 2)).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let listed = app
        .admin()
        .await
        .gql("{ providers { name kind baseUrl hasApiKey } }", json!({}))
        .await;
    assert_eq!(listed["data"]["providers"][0]["hasApiKey"], true);
    // Users see the providers, not where they are served.
    let as_user = app
        .gql("{ providers { name hasApiKey baseUrl } }", json!({}))
        .await;
    assert_eq!(
        as_user["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{as_user}"
    );
    assert!(!listed.to_string().contains(secret));

    let (_dir2, file2) = file_for("WRONG_KEY");
    let db2 = TestDb::new(Backend::Sqlite).await;
    let wrong = TestApp::spawn_with(
        &db2,
        &[("PROVIDERS_FILE", &file2), ("WRONG_KEY", "not-the-key")],
    )
    .await;
    let (_, failed) = finish(&wrong, one_way(&["keyed"], 2)).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("the provider rejected our credentials (HTTP 401)")),
        "{failed}"
    );
    assert!(
        !failed.to_string().contains("bad or missing API key"),
        "the provider's words are not shown: {failed}"
    );
    assert!(!failed.to_string().contains("not-the-key"));
    assert!(
        !wrong.log().contains("not-the-key"),
        "the key is not logged"
    );
    assert!(!app.log().contains(secret), "the key is not logged");
    assert!(int(&server.stats().await["unauthorized"]) >= 1);

    // A key variable that is not set stops start-up with a message naming it.
    let output = std::process::Command::new(support::BIN)
        .env_clear()
        .env("PROVIDERS_FILE", &file)
        .env("DATABASE_URL", &db.url)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("KEYED_API_KEY") && stderr.contains("not set"),
        "{stderr}"
    );
}

/// A bad providers file stops start-up with a message naming the provider and the field.
#[tokio::test]
async fn a_bad_providers_file_is_named_at_start_up() {
    let db = TestDb::new(Backend::Sqlite).await;
    for (toml, expected) in [
        (
            "[providers.a]\nkind = \"http\"\n",
            "provider `a`: an http provider needs base_url",
        ),
        (
            "[providers.a]\nkind = \"simulated\"\nrate_limt = 3\n",
            "rate_limt",
        ),
        ("[providers.a]\nkind = \"ftp\"\n", "ftp"),
    ] {
        let (_dir, file) = providers_file(toml);
        let output = std::process::Command::new(support::BIN)
            .env_clear()
            .env("PROVIDERS_FILE", &file)
            .env("DATABASE_URL", &db.url)
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .output()
            .expect("run");
        assert!(!output.status.success(), "{toml} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "`{expected}` in {stderr}");
    }
}

/// Two providers at once, one failing 30% of its calls (no retries): the search succeeds,
/// failedTasks is exactly the failing provider's failed calls, the sample names it, and
/// offers from both are stored. A disabled provider cannot be asked for.
async fn two_providers_one_failing(backend: Backend) {
    let (_dir, file) = providers_file(
        r#"
[providers.steady]
kind = "simulated"
latency_ms = 1

[providers.shaky]
kind = "simulated"
latency_ms = 1
error_rate = 0.3
retries = 0
seed = 7

[providers.resting]
kind = "simulated"
enabled = false
"#,
    );
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &[("PROVIDERS_FILE", &file)]).await;
    let (job, done) = finish(
        &app,
        json!({
            "origins": ["LHR", "LGW"],
            "destinations": ["JFK", "BKK"],
            "departureFrom": days_from_now(30),
            "departureTo": days_from_now(79),
            "providers": ["steady", "shaky"],
        }),
    )
    .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let total = int(&done["totalTasks"]);
    assert_eq!(total, 2 * 2 * 50 * 2);
    let failed = int(&done["failedTasks"]);
    let health = app
        .admin()
        .await
        .data(
            "{ providers { name health { calls failures } } }",
            json!({}),
        )
        .await;
    let health_of = |name: &str| {
        health["providers"]
            .as_array()
            .expect("list")
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["health"].clone())
            .expect("listed")
    };
    assert_eq!(int(&health_of("shaky")["calls"]), total / 2);
    assert_eq!(
        failed,
        int(&health_of("shaky")["failures"]),
        "failed tasks are shaky's failed calls"
    );
    assert_eq!(int(&health_of("steady")["failures"]), 0);
    // 200 calls at 30%: far outside 15%–45% would mean the rate is not applied.
    assert!((30..=90).contains(&failed), "{failed} of 200 failed");
    let sample = done["errorSample"].as_array().expect("sample");
    assert_eq!(sample.len(), 20.min(failed as usize));
    assert!(sample.iter().all(|e| {
        e["provider"] == "shaky"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("simulated failure"))
    }));

    let stored = offers(&app, job["id"].as_str().expect("id")).await;
    assert_eq!(stored.len() as i64, int(&done["foundFlights"]));
    for provider in ["steady", "shaky"] {
        assert!(
            stored.iter().any(|o| o["provider"] == provider),
            "offers from {provider}"
        );
    }

    let refused = app
        .gql(
            "mutation($input: SearchInput!) { startSearch(input: $input) { id } }",
            json!({ "input": one_way(&["resting"], 1) }),
        )
        .await;
    let error = &refused["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{refused}");
    assert_eq!(error["extensions"]["field"], "providers");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("resting is switched off")),
        "{refused}"
    );
}

on_both_backends!(two_providers_one_failing);
