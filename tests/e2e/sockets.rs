//! What one websocket, one account and one address may hold (issue 16): 100 operations per
//! socket, 64 KiB messages, a server ping and a close without pong, sockets per account
//! and per address, one log-in per minute per socket, and idle subscriptions that do not
//! read the database.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    Backend, TEST_EMAIL, TEST_PASSWORD, TestApp, TestDb, WsClient, days_from_now,
};

async fn app(extra: &[(&'static str, &str)]) -> (TestDb, TestApp) {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut env = vec![("NO_WORKER", "true")];
    env.extend_from_slice(extra);
    let app = TestApp::spawn_with(&db, &env).await;
    (db, app)
}

/// A job that stays QUEUED (no worker runs), so its subscriptions stay open.
async fn queued_job(app: &TestApp) -> String {
    app.start_search(json!({
        "origins": ["LHR"], "destinations": ["JFK"],
        "departureFrom": days_from_now(10), "departureTo": days_from_now(11),
    }))
    .await["id"]
        .as_str()
        .expect("id")
        .to_string()
}

const PROGRESS: &str =
    "subscription($id: UUID!) { jobProgress(jobId: $id) { status completedTasks } }";

/// The next message that is not a `next` of a running subscription.
async fn next_other_than_progress(ws: &mut WsClient) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next_json())
            .await
            .expect("a message in time")
            .expect("the socket stays open");
        if message["type"] != "next" {
            return message;
        }
    }
}

#[tokio::test]
async fn the_101st_operation_is_refused_and_the_first_100_still_work() {
    let (_db, app) = app(&[]).await;
    let job = queued_job(&app).await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    for i in 0..100 {
        ws.subscribe(&format!("s{i}"), PROGRESS, json!({ "id": job }))
            .await;
    }
    let mut first_events = std::collections::HashSet::new();
    while first_events.len() < 100 {
        let message = ws.next_json().await.expect("the socket stays open");
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(
            message["payload"]["data"]["jobProgress"]["status"],
            "QUEUED"
        );
        first_events.insert(message["id"].as_str().expect("id").to_string());
    }

    ws.subscribe("s100", PROGRESS, json!({ "id": job })).await;
    let refusal = next_other_than_progress(&mut ws).await;
    assert_eq!(refusal["type"], "error", "{refusal}");
    assert_eq!(refusal["id"], "s100");
    assert_eq!(
        refusal["payload"][0]["extensions"]["code"],
        "TOO_MANY_OPERATIONS"
    );

    // The socket is still open and the 100 still run: cancelling the job ends every one.
    app.data(
        "mutation($id: UUID!) { cancelSearch(id: $id) { id } }",
        json!({ "id": job }),
    )
    .await;
    let mut completed = std::collections::HashSet::new();
    while completed.len() < 100 {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next_json())
            .await
            .expect("every subscription ends")
            .expect("the socket stays open");
        match message["type"].as_str() {
            Some("next") => assert_eq!(
                message["payload"]["data"]["jobProgress"]["status"], "CANCELLED",
                "{message}"
            ),
            Some("complete") => {
                completed.insert(message["id"].as_str().expect("id").to_string());
            }
            _ => panic!("unexpected {message}"),
        }
    }
    assert!(!completed.contains("s100"));

    // With the operations done, a new one is taken again on the same socket.
    ws.subscribe("again", PROGRESS, json!({ "id": job })).await;
    let next = ws.next_json().await.expect("open");
    assert_eq!(next["id"], "again");
    assert_eq!(next["type"], "next", "{next}");
}

#[tokio::test]
async fn a_message_over_64_kib_closes_1009_and_60_kib_is_fine() {
    let (_db, app) = app(&[]).await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    // A 60 KiB query is read (and answered: it is a document, padded with a comment).
    let query = format!(
        "{{ airports(query: \"NRT\", first: 1) {{ code }} }} #{}",
        "x".repeat(60 * 1024)
    );
    ws.subscribe("fits", &query, json!({})).await;
    let next = ws.next_json().await.expect("an answer");
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["payload"]["data"]["airports"][0]["code"], "NRT");
    assert_eq!(ws.next_json().await.expect("complete")["type"], "complete");

    let huge = json!({
        "id": "huge", "type": "subscribe",
        "payload": { "query": format!("{{ __typename }} #{}", "x".repeat(100 * 1024)) }
    });
    // The server may close before it has read the whole message; sending can then fail.
    let _ = ws.try_send_text(huge.to_string()).await;
    let (code, reason) = ws.close_code().await;
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains("65536"), "{reason}");
}

#[tokio::test]
async fn a_client_that_never_pongs_is_closed_4499() {
    let (_db, app) = app(&[
        ("WS_PING_INTERVAL_MS", "300"),
        ("WS_PONG_TIMEOUT_MS", "900"),
    ])
    .await;
    let mut ws = WsClient::connect(&app).await;
    ws.answer_pings = false;
    ws.init().await;
    let ping = ws.next_json().await.expect("a ping");
    assert_eq!(ping, json!({"type": "ping"}));
    let (code, reason) = ws.close_code().await;
    assert_eq!(code, 4499, "{reason}");
    assert!(reason.contains("pong"), "{reason}");
}

#[tokio::test]
async fn a_client_that_pongs_stays_open_across_pings() {
    let (_db, app) = app(&[
        ("WS_PING_INTERVAL_MS", "300"),
        ("WS_PONG_TIMEOUT_MS", "900"),
    ])
    .await;
    let job = queued_job(&app).await;
    let mut ws = WsClient::connect(&app).await;
    ws.answer_pings = false;
    ws.init().await;
    ws.subscribe("s", PROGRESS, json!({ "id": job })).await;
    assert_eq!(ws.next_json().await.expect("next")["type"], "next");
    // Six pings span twice the pong timeout: an unanswered one would have closed the socket.
    for _ in 0..6 {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next_json())
            .await
            .expect("a ping in time")
            .expect("the socket stays open");
        assert_eq!(message, json!({"type": "ping"}));
        ws.send_json(json!({"type": "pong"})).await;
    }
    // The subscription still runs.
    ws.send_json(json!({"type": "complete", "id": "s"})).await;
    ws.subscribe("t", PROGRESS, json!({ "id": job })).await;
    let next = next_other_than_ping(&mut ws).await;
    assert_eq!(next["id"], "t", "{next}");
}

async fn next_other_than_ping(ws: &mut WsClient) -> Value {
    loop {
        let message = ws.next_json().await.expect("the socket stays open");
        if message["type"] == "ping" {
            ws.send_json(json!({"type": "pong"})).await;
        } else {
            return message;
        }
    }
}

/// `connection_init` with `token`, leaving the answer to the caller.
async fn send_init(ws: &mut WsClient, token: &str) {
    ws.send_json(json!({
        "type": "connection_init",
        "payload": { "authorization": format!("Bearer {token}") }
    }))
    .await;
}

#[tokio::test]
async fn sockets_per_address_are_capped_with_429() {
    let (_db, app) = app(&[("MAX_SOCKETS_PER_IP", "2")]).await;
    let first = WsClient::connect_as(&app, "203.0.113.5")
        .await
        .expect("first");
    let _second = WsClient::connect_as(&app, "203.0.113.5")
        .await
        .expect("second");
    match WsClient::connect_as(&app, "203.0.113.5").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
        }
        Err(e) => panic!("refused otherwise: {e}"),
        Ok(_) => panic!("a third socket from one address was accepted"),
    }
    let mut elsewhere = WsClient::connect_as(&app, "203.0.113.6")
        .await
        .expect("another address has its own count");
    elsewhere.init().await;

    // A socket that closes frees its place (once the server has seen it go).
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match WsClient::connect_as(&app, "203.0.113.5").await {
            Ok(mut ws) => {
                ws.init().await;
                break;
            }
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the closed socket's place was not freed: {e}"),
        }
    }
}

#[tokio::test]
async fn sockets_per_account_are_capped_with_4431() {
    let (_db, app) = app(&[("MAX_SOCKETS_PER_USER", "2")]).await;
    let mut first = WsClient::connect(&app).await;
    first.init().await;
    let mut second = WsClient::connect(&app).await;
    second.init().await;
    let token = app.token.clone().expect("signed in");
    let mut third = WsClient::connect(&app).await;
    send_init(&mut third, &token).await;
    let (code, reason) = third.close_code().await;
    assert_eq!(code, 4431, "{reason}");
    assert!(reason.contains("at most 2 per account"), "{reason}");

    let other = app.sign_up_or_in("other@example.com").await;
    let mut theirs = WsClient::connect(&other).await;
    theirs.init().await;

    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut ws = WsClient::connect(&app).await;
        send_init(&mut ws, &token).await;
        let answer = ws.next_json().await;
        if answer
            .as_ref()
            .is_some_and(|a| a["type"] == "connection_ack")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed socket's place was not freed: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn one_log_in_per_minute_per_socket() {
    let (_db, app) = app(&[]).await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    let log_in = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }";
    let credentials = json!({ "e": TEST_EMAIL, "p": TEST_PASSWORD });

    ws.subscribe("a", log_in, credentials.clone()).await;
    let first = ws.next_json().await.expect("next");
    assert_eq!(first["id"], "a");
    assert!(
        first["payload"]["data"]["logIn"]["token"].is_string(),
        "{first}"
    );
    assert_eq!(ws.next_json().await.expect("complete")["type"], "complete");

    // A new operation does not bring a new budget: the socket has had its log-in.
    for (id, document) in [
        ("b", log_in),
        (
            "c",
            "mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }",
        ),
    ] {
        ws.subscribe(id, document, credentials.clone()).await;
        let refused = ws.next_json().await.expect("next");
        assert_eq!(refused["id"], id);
        assert_eq!(
            refused["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
            "{refused}"
        );
        assert_eq!(ws.next_json().await.expect("complete")["type"], "complete");
    }

    // Another socket has its own budget.
    let mut fresh = WsClient::connect(&app).await;
    fresh.init().await;
    fresh.subscribe("a", log_in, credentials).await;
    let answer = fresh.next_json().await.expect("next");
    assert!(
        answer["payload"]["data"]["logIn"]["token"].is_string(),
        "{answer}"
    );
}

/// Runs `sql` over a connection to the admin database, so it is not counted on the test's.
async fn on_admin(sql: String) -> Option<sea_orm::QueryResult> {
    use sea_orm::{ConnectionTrait, Statement};
    let admin = sea_orm::Database::connect(crate::support::postgres_admin_url())
        .await
        .expect("admin connection");
    let row = admin
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            sql,
        ))
        .await
        .expect("admin query");
    let _ = admin.close().await;
    row
}

fn database_name(db: &TestDb) -> &str {
    db.url.rsplit('/').next().expect("database name")
}

/// Transactions on `db` so far, as PostgreSQL's statistics count them.
async fn transactions_on(db: &TestDb) -> i64 {
    let row = on_admin(format!(
        "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = '{}'",
        database_name(db)
    ))
    .await
    .expect("a row for the database");
    row.try_get::<i64>("", "n").expect("count")
}

/// A counter of the API's `/metrics`.
async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// Opens `count` `jobProgress` subscriptions to `job` on one socket and takes their
/// first event.
async fn idle_subscribers(app: &TestApp, job: &str, count: usize) -> WsClient {
    let mut ws = WsClient::connect(app).await;
    ws.init().await;
    for i in 0..count {
        ws.subscribe(&format!("s{i}"), PROGRESS, json!({ "id": job }))
            .await;
    }
    for _ in 0..count {
        let message = ws.next_json().await.expect("open");
        assert_eq!(message["type"], "next", "{message}");
    }
    ws
}

#[tokio::test]
async fn idle_subscriptions_do_not_read_the_database() {
    const SUBSCRIBERS: usize = 50;
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(&db, &[("NO_WORKER", "true")]).await;
    let job = queued_job(&app).await;
    let mut ws = idle_subscribers(&app, &job, SUBSCRIBERS).await;
    // A backend reports its transactions to pg_stat_database within 10 s
    // (PGSTAT_IDLE_INTERVAL), so the reads of subscribing are counted before `before`,
    // and everything after it before the count ends.
    const STATS_DELAY: Duration = Duration::from_secs(11);
    tokio::time::sleep(STATS_DELAY).await;
    let before = transactions_on(&db).await;
    // Idle for a while...
    tokio::time::sleep(Duration::from_secs(6)).await;
    // ...then the event listener's connection dies: after a Resync the job is read once
    // again for all of them.
    let listening = format!(
        "SELECT MIN(pid) AS pid FROM pg_stat_activity WHERE datname = '{}' AND query LIKE 'LISTEN%'",
        database_name(&db)
    );
    let pid_of = |row: Option<sea_orm::QueryResult>| {
        row.and_then(|r| r.try_get::<Option<i32>>("", "pid").ok().flatten())
    };
    let killed = pid_of(on_admin(listening.clone()).await).expect("a listening connection");
    on_admin(format!("SELECT pg_terminate_backend({killed})")).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while pid_of(on_admin(listening.clone()).await).is_none_or(|pid| pid == killed) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listener did not reconnect"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(STATS_DELAY).await;
    let during = transactions_on(&db).await - before;
    // Reading the job every 2 s per subscription would be over 400 transactions here; one
    // read per subscription after the Resync would be 50.
    assert!(
        during < SUBSCRIBERS as i64,
        "{during} transactions with {SUBSCRIBERS} idle subscriptions and one Resync"
    );
    // (Asked after counting: `/metrics` reads the database too.)
    assert_eq!(
        metric(&app, "fast_flights_subscription_reads_total").await,
        1.0,
        "one shared read after the listener reconnected"
    );

    // They still hear the job end, all of them.
    app.data(
        "mutation($id: UUID!) { cancelSearch(id: $id) { id } }",
        json!({ "id": job }),
    )
    .await;
    let mut completed = 0;
    while completed < SUBSCRIBERS {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next_json())
            .await
            .expect("every subscription ends")
            .expect("open");
        match message["type"].as_str() {
            Some("next") => assert_eq!(
                message["payload"]["data"]["jobProgress"]["status"],
                "CANCELLED"
            ),
            Some("complete") => completed += 1,
            _ => panic!("unexpected {message}"),
        }
    }
}

/// Alike subscriptions on many sockets of one account run once per process (issue 15);
/// every one of them still hears each status change, in order, and the final state.
#[tokio::test]
async fn alike_subscriptions_on_many_sockets_each_hear_every_status_change_and_the_end() {
    const SOCKETS: usize = 8;
    const PER_SOCKET: usize = 3;
    let db = TestDb::new(Backend::Postgres).await;
    let app = TestApp::spawn_with(
        &db,
        &[("SIMULATED_LATENCY_MS", "20"), ("TASK_CONCURRENCY", "4")],
    )
    .await;
    let job = app
        .start_search(json!({
            "origins": ["LHR", "LGW"], "destinations": ["JFK", "BOS"],
            "departureFrom": days_from_now(10), "departureTo": days_from_now(60),
            "nights": {"min": 7, "max": 14},
        }))
        .await;
    let id = job["id"].as_str().expect("id").to_string();
    let total = job["totalTasks"].as_i64().expect("totalTasks");

    // Each socket's messages, per operation, and a word each time one sees a status.
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut readers = Vec::new();
    for s in 0..SOCKETS {
        let mut ws = WsClient::connect(&app).await;
        ws.init().await;
        for op in 0..PER_SOCKET {
            ws.subscribe(&format!("op{op}"), PROGRESS, json!({ "id": id }))
                .await;
        }
        let seen = seen_tx.clone();
        readers.push(tokio::spawn(async move {
            let mut heard: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
            let mut completed = 0;
            while completed < PER_SOCKET {
                let message = tokio::time::timeout(Duration::from_secs(120), ws.next_json())
                    .await
                    .unwrap_or_else(|_| panic!("socket {s}: no message in 120 s"))
                    .unwrap_or_else(|| panic!("socket {s} closed"));
                let op = message["id"].as_str().expect("an operation id").to_string();
                match message["type"].as_str() {
                    Some("next") => {
                        let progress = message["payload"]["data"]["jobProgress"].clone();
                        let _ = seen.send(progress["status"].as_str().unwrap_or("").to_string());
                        heard.entry(op).or_default().push(progress);
                    }
                    Some("complete") => completed += 1,
                    _ => panic!("socket {s}: unexpected {message}"),
                }
            }
            heard
        }));
    }
    drop(seen_tx);

    // Pause once it has made progress; resume once every subscription has seen PAUSED.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while app.job(&id).await["completedTasks"].as_i64().unwrap_or(0) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no progress in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.data(
        "mutation($id: UUID!) { pauseSearch(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    let mut paused = 0;
    while paused < SOCKETS * PER_SOCKET {
        let status = tokio::time::timeout(Duration::from_secs(60), seen_rx.recv())
            .await
            .expect("every subscription hears PAUSED within 60 s")
            .expect("the readers run");
        if status == "PAUSED" {
            paused += 1;
        }
    }
    app.data(
        "mutation($id: UUID!) { resumeSearch(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;

    for (s, reader) in readers.into_iter().enumerate() {
        let heard = reader.await.expect("reader");
        assert_eq!(heard.len(), PER_SOCKET, "socket {s}: {heard:?}");
        for (op, events) in heard {
            let mut statuses: Vec<&str> = Vec::new();
            for e in &events {
                let status = e["status"].as_str().expect("status");
                if status != "QUEUED" && statuses.last() != Some(&status) {
                    statuses.push(status);
                }
            }
            assert_eq!(
                statuses,
                ["RUNNING", "PAUSED", "RUNNING", "SUCCEEDED"],
                "socket {s} {op}: {events:?}"
            );
            let done: Vec<i64> = events
                .iter()
                .map(|e| e["completedTasks"].as_i64().expect("completedTasks"))
                .collect();
            assert!(
                done.windows(2).all(|w| w[0] <= w[1]),
                "socket {s} {op}: progress went back: {done:?}"
            );
            assert_eq!(done.last().copied(), Some(total), "socket {s} {op}");
        }
    }
}
