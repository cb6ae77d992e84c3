//! Webhooks against the real binary and receivers started here: every delivery verified
//! with the `standardwebhooks` crate; retries keep the `webhook-id`; timeouts, redirects
//! and 410 answers; a worker SIGKILLed mid-delivery; secret rotation; production's refusal
//! of inner addresses; endpoints disabled after failing for too long.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::support::{Backend, Session, TestApp, TestDb, TestWorker, days_from_now};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// 500 to the first attempt of each `webhook-id`, 200 after.
    FailFirst,
    /// Never answers.
    Hang,
    /// 302 to `/elsewhere`.
    Redirect,
    /// 410 Gone.
    Gone,
    /// 200 after this many milliseconds.
    Slow(u64),
}

#[derive(Debug, Clone)]
pub struct Got {
    pub id: String,
    pub answered: u16,
    pub body: Value,
    pub signature: String,
    /// Which of the receiver's secrets verified it.
    pub verified_by: Vec<usize>,
}

#[derive(Default)]
struct State {
    got: Vec<Got>,
    elsewhere_hits: u64,
    in_flight: u64,
    secrets: Vec<String>,
}

/// A webhook receiver on a free port of 127.0.0.1.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub async fn start(mode: Mode) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let app = axum::Router::new()
            .route(
                "/hook",
                axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                    let state = Arc::clone(&shared);
                    async move { receive(state, mode, headers, body).await }
                }),
            )
            .route(
                "/elsewhere",
                axum::routing::any({
                    let state = Arc::clone(&state);
                    move || {
                        let state = Arc::clone(&state);
                        async move {
                            state.lock().unwrap().elsewhere_hits += 1;
                            StatusCode::OK
                        }
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a receiver");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/hook"),
            state,
        }
    }

    pub fn add_secret(&self, secret: &str) {
        self.state.lock().unwrap().secrets.push(secret.to_string());
    }

    pub fn secrets(&self) -> Vec<String> {
        self.state.lock().unwrap().secrets.clone()
    }

    pub fn got(&self) -> Vec<Got> {
        self.state.lock().unwrap().got.clone()
    }

    pub fn in_flight(&self) -> u64 {
        self.state.lock().unwrap().in_flight
    }

    pub fn elsewhere_hits(&self) -> u64 {
        self.state.lock().unwrap().elsewhere_hits
    }

    /// The ids answered 200, once each, in the order first answered.
    pub fn delivered_ids(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.got()
            .into_iter()
            .filter(|g| g.answered == 200 && seen.insert(g.id.clone()))
            .map(|g| g.id)
            .collect()
    }
}

async fn receive(
    state: Arc<Mutex<State>>,
    mode: Mode,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let signature = headers
        .get("webhook-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let secrets = state.lock().unwrap().secrets.clone();
    let verified_by: Vec<usize> = secrets
        .iter()
        .enumerate()
        .filter(|(_, secret)| {
            standardwebhooks::Webhook::new(secret)
                .expect("a whsec_ secret")
                .verify(&body, &headers)
                .is_ok()
        })
        .map(|(i, _)| i)
        .collect();
    let seen_before = state.lock().unwrap().got.iter().any(|g| g.id == id);
    let answered = match mode {
        Mode::Slow(_) => 200,
        Mode::FailFirst if seen_before => 200,
        Mode::FailFirst => 500,
        Mode::Hang => 0,
        Mode::Redirect => 302,
        Mode::Gone => 410,
    };
    let got = Got {
        id,
        answered,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        signature,
        verified_by,
    };
    match mode {
        Mode::Hang => {
            state.lock().unwrap().got.push(got);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
        Mode::Slow(ms) => {
            state.lock().unwrap().in_flight += 1;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            let mut s = state.lock().unwrap();
            s.in_flight -= 1;
            s.got.push(got);
            StatusCode::OK.into_response()
        }
        Mode::Redirect => {
            state.lock().unwrap().got.push(got);
            (StatusCode::FOUND, [("location", "/elsewhere")]).into_response()
        }
        _ => {
            state.lock().unwrap().got.push(got);
            (
                StatusCode::from_u16(answered).unwrap_or(StatusCode::OK),
                format!("answered {answered}"),
            )
                .into_response()
        }
    }
}

pub const CREATE: &str =
    "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
    secret endpoint { id url eventTypes enabled createdAt parallel } } }";

const DELIVERIES: &str = "query($e: UUID!, $s: WebhookDeliveryStatus) {
    webhookDeliveries(endpointId: $e, first: 100, status: $s) { nodes {
      id eventId eventSequence eventType status attemptCount lastStatusCode lastError
      attempts { attemptedAt statusCode latencyMs responseBody error } } } }";

/// Creates an endpoint for `receiver` taking `types`; the receiver verifies with its secret.
pub async fn endpoint(
    admin: &Session,
    receiver: &Receiver,
    types: Value,
    parallel: bool,
) -> String {
    let data = admin
        .data(
            CREATE,
            json!({ "i": { "url": receiver.url, "eventTypes": types, "parallel": parallel,
                           "description": "test receiver" } }),
        )
        .await;
    let created = &data["createWebhookEndpoint"];
    let secret = created["secret"].as_str().expect("secret");
    assert!(secret.starts_with("whsec_"), "{created}");
    receiver.add_secret(secret);
    created["endpoint"]["id"].as_str().expect("id").to_string()
}

pub async fn deliveries(admin: &Session, endpoint: &str) -> Vec<Value> {
    admin.data(DELIVERIES, json!({ "e": endpoint })).await["webhookDeliveries"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until `ok` holds of the endpoint's deliveries.
async fn wait_deliveries(
    admin: &Session,
    endpoint: &str,
    limit: Duration,
    ok: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let list = deliveries(admin, endpoint).await;
        if ok(&list) {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries never got there: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn wait_until(limit: Duration, what: &str, ok: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !ok() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A search of a few queries, run to its end: one `search.succeeded` event.
pub async fn finished_search(session: &Session) -> String {
    let id = start_small_search(session).await;
    let progress = session.follow_progress(&id, Duration::from_secs(90)).await;
    assert_eq!(
        progress.last().expect("progress")["status"],
        "SUCCEEDED",
        "{progress:?}"
    );
    id
}

/// Starts a search of a few queries.
pub async fn start_small_search(session: &Session) -> String {
    let job = session
        .start_search(json!({
            "origins": ["LHR"],
            "destinations": ["JFK"],
            "departureFrom": days_from_now(20),
            "departureTo": days_from_now(21),
            "providers": ["simulated"],
        }))
        .await;
    job["id"].as_str().expect("id").to_string()
}

/// The events written so far, oldest first, as the admin reads them.
pub async fn events(admin: &Session) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = admin
            .data(
                "query($a: String) { events(first: 100, after: $a) {
                   pageInfo { hasNextPage endCursor } nodes { id sequence type payload createdAt } } }",
                json!({ "a": after }),
            )
            .await;
        let page = &data["events"];
        all.extend(page["nodes"].as_array().cloned().unwrap_or_default());
        if page["pageInfo"]["hasNextPage"] != true {
            return all;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
}

fn fast_retries() -> Vec<(&'static str, &'static str)> {
    vec![
        ("WEBHOOK_RETRY_BASE_MS", "100"),
        ("WEBHOOK_RETRY_MAX_DELAY_SECS", "1"),
        (
            "WEBHOOK_SECRETS_KEY",
            "q5b0Z0n6w0m9JvJ3Yl3o2o0xR0J1n5b9hC9mXqg8Y1k=",
        ),
    ]
}

async fn retried_with_the_same_id(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &fast_retries()).await;
    let admin = app.admin().await;
    let receiver = Receiver::start(Mode::FailFirst).await;
    let endpoint = endpoint(&admin, &receiver, json!(["search.succeeded"]), false).await;

    for _ in 0..3 {
        finished_search(&app.session).await;
    }
    wait_until(Duration::from_secs(60), "three events delivered", || {
        receiver.delivered_ids().len() == 3
    })
    .await;

    let got = receiver.got();
    let events: Vec<Value> = events(&admin)
        .await
        .into_iter()
        .filter(|e| e["type"] == "search.succeeded")
        .collect();
    assert_eq!(events.len(), 3, "{events:#?}");
    for event in &events {
        let id = event["id"].as_str().unwrap();
        let attempts: Vec<&Got> = got.iter().filter(|g| g.id == id).collect();
        assert_eq!(
            attempts.iter().map(|g| g.answered).collect::<Vec<_>>(),
            vec![500, 200],
            "each event: one 500, then one 200, with the same webhook-id {id}"
        );
        for g in &attempts {
            assert_eq!(
                g.verified_by,
                vec![0],
                "signature verifies: {}",
                g.signature
            );
            assert_eq!(g.body["type"], "search.succeeded");
            let at = |v: &Value| {
                chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
                    .expect("RFC 3339")
                    .timestamp_millis()
            };
            assert_eq!(at(&g.body["timestamp"]), at(&event["createdAt"]));
            let payload: Value = match &event["payload"] {
                Value::String(text) => serde_json::from_str(text).unwrap(),
                other => other.clone(),
            };
            assert_eq!(g.body["data"], payload, "data is the event's payload");
        }
    }
    // An ordered endpoint gets them in sequence order.
    let order: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(receiver.delivered_ids(), order);

    let list = wait_deliveries(&admin, &endpoint, Duration::from_secs(10), |list| {
        list.len() == 3 && list.iter().all(|d| d["status"] == "SUCCEEDED")
    })
    .await;
    for d in &list {
        assert_eq!(d["attemptCount"], 2, "{d:#}");
        let codes: Vec<&Value> = d["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["statusCode"])
            .collect();
        assert_eq!(codes, vec![&json!(500), &json!(200)], "{d:#}");
        assert_eq!(d["attempts"][0]["responseBody"], "answered 500");
        assert_eq!(d["attempts"][0]["error"], "answered 500");
        assert!(d["attempts"][1]["error"].is_null());
    }

    // One delivery by id, and the list a page at a time, newest event first.
    let one = admin
        .data(
            "query($d: UUID!) { webhookDelivery(id: $d) { id eventId attempts { statusCode } } }",
            json!({ "d": list[1]["id"] }),
        )
        .await;
    assert_eq!(one["webhookDelivery"]["eventId"], list[1]["eventId"]);
    assert_eq!(
        one["webhookDelivery"]["attempts"],
        json!([{ "statusCode": 500 }, { "statusCode": 200 }])
    );
    let mut paged = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = admin
            .data(
                "query($e: UUID!, $a: String) { webhookDeliveries(endpointId: $e, first: 1, after: $a) { \
                 pageInfo { hasNextPage endCursor } nodes { eventSequence attempts { statusCode } } } }",
                json!({ "e": endpoint, "a": after }),
            )
            .await["webhookDeliveries"]
            .clone();
        paged.push(page["nodes"][0]["eventSequence"].as_i64().unwrap());
        assert_eq!(page["nodes"][0]["attempts"].as_array().unwrap().len(), 2);
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let mut sequences: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    sequences.reverse();
    assert_eq!(
        paged, sequences,
        "pages walk every delivery once, newest first"
    );

    // Redelivery sends a finished one again, with the same id.
    let first = &list[0];
    let again = admin
        .data(
            "mutation($d: UUID!) { redeliverWebhook(deliveryId: $d) { id status } }",
            json!({ "d": first["id"] }),
        )
        .await;
    assert_eq!(again["redeliverWebhook"]["id"], first["id"]);
    let id = first["eventId"].as_str().unwrap().to_string();
    wait_until(Duration::from_secs(20), "redelivered", || {
        receiver.got().iter().filter(|g| g.id == id).count() == 3
    })
    .await;

    // After a rotation both secrets sign, for the receivers to switch over.
    let rotated = admin
        .data(
            "mutation($e: UUID!) { rotateWebhookSecret(id: $e) { secret endpoint { previousSecretExpiresAt } } }",
            json!({ "e": endpoint }),
        )
        .await;
    let new_secret = rotated["rotateWebhookSecret"]["secret"].as_str().unwrap();
    assert!(!rotated["rotateWebhookSecret"]["endpoint"]["previousSecretExpiresAt"].is_null());
    receiver.add_secret(new_secret);
    finished_search(&app.session).await;
    wait_until(Duration::from_secs(60), "a fourth event", || {
        receiver.delivered_ids().len() == 4
    })
    .await;
    let last = receiver.got().into_iter().last().unwrap();
    assert_eq!(last.verified_by, vec![0, 1], "{}", last.signature);
    assert_eq!(last.signature.split(' ').count(), 2);

    // No secret reached the log.
    let log = app.log();
    for secret in receiver.secrets() {
        assert!(!log.contains(&secret[6..]), "a secret in the log");
    }
}

#[tokio::test]
async fn postgres_retries_keep_the_webhook_id_and_the_log_shows_both_attempts() {
    retried_with_the_same_id(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_retries_keep_the_webhook_id_and_the_log_shows_both_attempts() {
    retried_with_the_same_id(Backend::Sqlite).await;
}

#[tokio::test]
async fn timeouts_are_retried_redirects_are_not_followed_and_410_fails_at_once() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut env = fast_retries();
    env.extend([
        ("WEBHOOK_TIMEOUT_MS", "500"),
        ("WEBHOOK_RETRY_FOR_SECS", "2"),
        ("WEBHOOK_DISABLE_AFTER_SECS", "3"),
    ]);
    let app = TestApp::spawn_with(&db, &env).await;
    let admin = app.admin().await;
    let hang = Receiver::start(Mode::Hang).await;
    let redirect = Receiver::start(Mode::Redirect).await;
    let gone = Receiver::start(Mode::Gone).await;
    let hang_id = endpoint(&admin, &hang, json!(["*"]), false).await;
    let redirect_id = endpoint(&admin, &redirect, json!(["*"]), false).await;
    let gone_id = endpoint(&admin, &gone, json!(["search.succeeded"]), false).await;

    finished_search(&app.session).await;

    let list = wait_deliveries(&admin, &redirect_id, Duration::from_secs(30), |l| {
        l.len() == 1 && l[0]["status"] == "FAILED"
    })
    .await;
    assert_eq!(list[0]["attemptCount"], 1, "{list:#?}");
    assert_eq!(list[0]["lastStatusCode"], 302);
    let error = list[0]["lastError"].as_str().unwrap();
    assert!(error.contains("redirects are not followed"), "{error}");
    assert!(error.contains("/elsewhere"), "{error}");
    assert_eq!(redirect.elsewhere_hits(), 0, "the redirect was followed");

    let list = wait_deliveries(&admin, &gone_id, Duration::from_secs(30), |l| {
        l.len() == 1 && l[0]["status"] == "FAILED"
    })
    .await;
    assert_eq!(list[0]["attemptCount"], 1, "410 is not retried: {list:#?}");
    assert_eq!(list[0]["lastStatusCode"], 410);
    assert_eq!(gone.got().len(), 1);

    // The hanging receiver: each attempt times out, is retried, and after the retry
    // window (2 s) the delivery is FAILED.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let list = loop {
        let list = deliveries(&admin, &hang_id).await;
        if list.len() == 1 && list[0]["status"] == "FAILED" {
            break list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hanging receiver's delivery never failed: {list:#?}\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let attempts = list[0]["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 2, "timeouts are retried: {list:#?}");
    for a in attempts {
        assert!(a["statusCode"].is_null(), "{a}");
        assert!(a["error"].as_str().unwrap().contains("timed out"), "{a}");
        assert!(a["latencyMs"].as_i64().unwrap() >= 400, "{a}");
    }
    let ids: HashSet<String> = hang.got().into_iter().map(|g| g.id).collect();
    assert_eq!(ids.len(), 1, "the same webhook-id on every attempt");

    // Once the 410 endpoint has failed for over 3 s, its next failure disables it, and
    // the admins are told.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    finished_search(&app.session).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let data = admin
            .data(
                "query($e: UUID!) { webhookEndpoint(id: $e) { enabled disabledReason failingSince } }",
                json!({ "e": gone_id }),
            )
            .await;
        if data["webhookEndpoint"]["enabled"] == false {
            let reason = data["webhookEndpoint"]["disabledReason"].as_str().unwrap();
            assert!(reason.contains("every delivery failed"), "{reason}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never disabled: {data}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let inbox = admin
        .data(
            "{ inbox(first: 10) { nodes { kind title message subjectId } } }",
            json!({}),
        )
        .await;
    let notes = inbox["inbox"]["nodes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["kind"] == "WEBHOOK_DISABLED" && n["subjectId"] == gone_id.as_str()),
        "{inbox}"
    );
    // An admin turning it off as well keeps why it went off.
    let off = admin
        .data(
            "mutation($e: UUID!) { updateWebhookEndpoint(id: $e, input: { enabled: false }) { enabled disabledReason } }",
            json!({ "e": gone_id }),
        )
        .await;
    let reason = off["updateWebhookEndpoint"]["disabledReason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("every delivery failed"), "{off}");
    // A disabled endpoint gets nothing more. The barrier: deliveries of an event are
    // made for every enabled endpoint it matches at once, so once an endpoint made now
    // (every type, answering 200) has the next search's delivery, the disabled one was
    // passed over. (The redirecting and hanging endpoints have been failing for over 3 s
    // too, so they are disabled by now or soon.)
    let healthy = Receiver::start(Mode::Slow(0)).await;
    let healthy_id = endpoint(&admin, &healthy, json!(["*"]), false).await;
    let before = gone.got().len();
    let gone_deliveries = deliveries(&admin, &gone_id).await.len();
    finished_search(&app.session).await;
    wait_deliveries(&admin, &healthy_id, Duration::from_secs(30), |l| {
        l.len() == 1 && l[0]["status"] == "SUCCEEDED"
    })
    .await;
    assert_eq!(deliveries(&admin, &gone_id).await.len(), gone_deliveries);
    assert_eq!(gone.got().len(), before);
}

#[tokio::test]
async fn deliveries_of_a_killed_worker_complete_elsewhere() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut env = fast_retries();
    env.extend([("LEASE_TTL_MS", "2000")]);
    let mut api_env = env.clone();
    api_env.push(("NO_WORKER", "true"));
    let app = TestApp::spawn_with(&db, &api_env).await;
    let admin = app.admin().await;
    let receiver = Receiver::start(Mode::Slow(400)).await;
    let endpoint = endpoint(&admin, &receiver, json!(["*"]), true).await;

    let mut doomed_env = env.clone();
    doomed_env.push(("WORKER_ID", "doomed"));
    let doomed = TestWorker::spawn(&db, &doomed_env).await;
    let mut searches = Vec::new();
    for _ in 0..12 {
        searches.push(start_small_search(&app.session).await);
    }
    // Kill the worker once deliveries are out, before any can have been answered.
    wait_until(Duration::from_secs(60), "deliveries in flight", || {
        receiver.in_flight() >= 2
    })
    .await;
    doomed.kill().await;
    let mut survivor_env = env.clone();
    survivor_env.push(("WORKER_ID", "survivor"));
    let survivor = TestWorker::spawn(&db, &survivor_env).await;

    wait_deliveries(&admin, &endpoint, Duration::from_secs(120), |list| {
        list.len() >= 12 && list.iter().all(|d| d["status"] == "SUCCEEDED")
    })
    .await;
    let events = events(&admin).await;
    let expected: HashSet<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let got: Vec<Got> = receiver.got();
    let distinct: HashSet<String> = got.iter().map(|g| g.id.clone()).collect();
    assert_eq!(distinct, expected, "each event delivered at least once");
    assert!(got.iter().all(|g| g.verified_by == vec![0]));
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for g in &got {
        *counts.entry(g.id.as_str()).or_default() += 1;
    }
    let conn = db.connect().await;
    let taken_over = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*) FROM webhook_deliveries WHERE taken_over_from = 'doomed'".to_string(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert!(
        taken_over > 0,
        "the killed worker held deliveries that the other one took over"
    );
    eprintln!(
        "{} events, {} requests, {} taken over",
        expected.len(),
        got.len(),
        taken_over
    );
    drop(survivor);
}

#[tokio::test]
async fn production_refuses_inner_addresses_and_plain_http() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("FAST_FLIGHTS_ENV", "production"),
            (
                "WEBHOOK_SECRETS_KEY",
                "q5b0Z0n6w0m9JvJ3Yl3o2o0xR0J1n5b9hC9mXqg8Y1k=",
            ),
        ],
    )
    .await;
    let admin = app.admin().await;
    let create = |url: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .gql(
                    CREATE,
                    json!({ "i": { "url": url, "eventTypes": ["booking.confirmed"] } }),
                )
                .await
        }
    };
    let body = create("http://127.0.0.1/hook").await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(error["extensions"]["field"], "input.url");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("must use https://"),
        "{body}"
    );
    let body = create("https://10.0.0.1/hook").await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("10.0.0.1 is a private address"),
        "{message}"
    );
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://localhost/hook",
    ] {
        let body = admin
            .gql(CREATE, json!({ "i": { "url": url, "eventTypes": ["*"] } }))
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{url}: {body}"
        );
    }
    let body = admin
        .gql(
            CREATE,
            json!({ "i": { "url": "https://hooks.example.com/in", "eventTypes": ["booking.made"] } }),
        )
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("`booking.made` is not an event type"),
        "{message}"
    );
    let body = admin
        .gql(
            CREATE,
            json!({ "i": { "url": "https://hooks.example.com/in", "eventTypes": ["booking.confirmed"] } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    // Travellers cannot see or make endpoints.
    let body = app
        .session
        .gql("{ webhookEndpoints { id } }", json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
}

#[tokio::test]
async fn production_without_a_key_says_how_to_turn_webhooks_on() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_with(&db, &[("FAST_FLIGHTS_ENV", "production")]).await;
    let admin = app.admin().await;
    let body = admin
        .gql(
            CREATE,
            json!({ "i": { "url": "https://hooks.example.com/in", "eventTypes": ["*"] } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("WEBHOOK_SECRETS_KEY"), "{message}");
}
