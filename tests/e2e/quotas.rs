//! One account cannot crowd out the others: limits on what it has queued, checked
//! atomically however the calls arrive, one mutation per request, and workers that take
//! turns between accounts.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{self, Backend, Session, TestApp, TestDb, days_from_now};

/// The defaults, stated: the test support raises them for every other test.
const DEFAULT_LIMITS: &[(&str, &str)] = &[
    ("MAX_ACTIVE_SEARCHES_PER_USER", "5"),
    ("MAX_QUEUED_TASKS_PER_USER", "20000000"),
    ("MAX_SEARCHES_PER_MINUTE_PER_USER", "10"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut env = DEFAULT_LIMITS.to_vec();
    env.push(("NO_WORKER", "true"));
    env.extend_from_slice(extra);
    env
}

/// A search of `days` departure dates from LHR to JFK: `days` provider queries.
fn search(days: i64) -> Value {
    json!({
        "origins": ["LHR"],
        "destinations": ["JFK"],
        "departureFrom": days_from_now(30),
        "departureTo": days_from_now(29 + days),
    })
}

const START: &str = "mutation($input: SearchInput!) { startSearch(input: $input) { id } }";

/// The `extensions` of the one error of a refused `startSearch`.
async fn refused(session: &Session, input: Value) -> Value {
    let body = session.gql(START, json!({ "input": input })).await;
    let errors = body["errors"].as_array().expect("an error");
    assert_eq!(errors.len(), 1, "{body}");
    assert!(body["data"].is_null(), "nothing started: {body}");
    errors[0]["extensions"].clone()
}

async fn stored(db: &TestDb) -> i64 {
    let conn = db.connect().await;
    conn.query_one_raw(Statement::from_string(
        conn.get_database_backend(),
        "SELECT COUNT(*) AS n FROM search_jobs",
    ))
    .await
    .expect("count")
    .expect("row")
    .try_get::<i64>("", "n")
    .expect("n")
}

async fn the_sixth_active_search_is_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &with(&[])).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(app.start_search(search(2)).await["id"].clone());
    }
    let ext = refused(&app, search(2)).await;
    assert_eq!(ext["code"], "QUOTA_EXCEEDED");
    assert_eq!(ext["limit"], "MAX_ACTIVE_SEARCHES_PER_USER");
    assert_eq!(ext["used"], 5);
    assert_eq!(ext["max"], 5);
    let message = app.gql(START, json!({ "input": search(2) })).await["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(message.contains("5 searches queued"), "{message}");
    assert_eq!(stored(&db).await, 5);
    // Another account is not held back by this one's searches.
    let other = app.sign_up_or_in("other@example.com").await;
    other.start_search(search(2)).await;
    // A cancelled search no longer counts.
    app.data(
        "mutation($id: UUID!) { cancelSearch(id: $id) { id } }",
        json!({ "id": ids[0] }),
    )
    .await;
    app.start_search(search(2)).await;
    assert_eq!(stored(&db).await, 7);
    // Admins have limits of their own.
    let admin = app.admin().await;
    for _ in 0..6 {
        admin.start_search(search(2)).await;
    }
}

async fn queued_tasks_and_searches_per_minute_are_bounded(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(
        &db,
        &with(&[
            ("MAX_QUEUED_TASKS_PER_USER", "50"),
            ("MAX_SEARCHES_PER_MINUTE_PER_USER", "3"),
        ]),
    )
    .await;
    let first = app.start_search(search(30)).await["totalTasks"].clone();
    // The estimate says so before anything is tried, and stores nothing.
    let estimate = app
        .data(
            "query($input: SearchInput!) { estimateSearch(input: $input) { totalTasks withinQuota quotaMessage } }",
            json!({ "input": search(30) }),
        )
        .await["estimateSearch"]
        .clone();
    assert_eq!(estimate["totalTasks"], first);
    assert_eq!(estimate["withinQuota"], false, "{estimate}");
    assert!(
        estimate["quotaMessage"]
            .as_str()
            .is_some_and(|m| m.contains("more than the 50 allowed")),
        "{estimate}"
    );
    let within = app
        .data(
            "query($input: SearchInput!) { estimateSearch(input: $input) { withinQuota quotaMessage } }",
            json!({ "input": search(10) }),
        )
        .await["estimateSearch"]
        .clone();
    assert_eq!(within, json!({ "withinQuota": true, "quotaMessage": null }));
    let ext = refused(&app, search(30)).await;
    assert_eq!(ext["code"], "QUOTA_EXCEEDED");
    assert_eq!(ext["limit"], "MAX_QUEUED_TASKS_PER_USER");
    assert_eq!(ext["used"], first);
    assert_eq!(ext["requested"], first);
    assert_eq!(ext["max"], 50);
    app.start_search(search(10)).await;
    // Three started in this minute (the refused one did not count); a fourth waits.
    let small = app.sign_up_or_in("small@example.com").await;
    for _ in 0..3 {
        small.start_search(search(1)).await;
    }
    let ext = refused(&small, search(1)).await;
    assert_eq!(ext["limit"], "MAX_SEARCHES_PER_MINUTE_PER_USER");
    assert_eq!(ext["used"], 3);
    assert_eq!(ext["max"], 3);
    assert_eq!(stored(&db).await, 5);
}

/// 300 aliased `startSearch` fields in one request, and 50 requests at once: never more
/// stored than the limit.
async fn many_at_once_cannot_slip_past_the_count(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(&db, &with(&[])).await;
    let fields: Vec<String> = (0..300)
        .map(|i| format!("s{i}: startSearch(input: $input) {{ id }}"))
        .collect();
    let response = app
        .post()
        .json(&json!({
            "query": format!("mutation($input: SearchInput!) {{ {} }}", fields.join(" ")),
            "variables": { "input": search(2) },
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 400, "a request error");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "TOO_MANY_MUTATIONS",
        "{body}"
    );
    assert_eq!(stored(&db).await, 0, "an aliased request runs no field");

    let calls: Vec<_> = (0..50)
        .map(|_| {
            let session = app.session.clone();
            tokio::spawn(async move { session.gql(START, json!({ "input": search(2) })).await })
        })
        .collect();
    let mut started = 0;
    let mut over = 0;
    for call in calls {
        let body = call.await.expect("request");
        if body["data"]["startSearch"]["id"].is_string() {
            started += 1;
        } else {
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "QUOTA_EXCEEDED",
                "{body}"
            );
            over += 1;
        }
    }
    assert_eq!((started, over), (5, 45));
    assert_eq!(stored(&db).await, 5);
}

/// With one search slot, account A queues three searches and then B queues one: B's
/// starts before A's second.
async fn workers_take_turns_between_accounts(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("MAX_CONCURRENT_SEARCHES", "1"),
            ("SIMULATED_LATENCY_MS", "20"),
            ("TASK_CONCURRENCY", "2"),
        ],
    )
    .await;
    let a = app.sign_up_or_in("a@example.com").await;
    let b = app.sign_up_or_in("b@example.com").await;
    let mut ids = Vec::new();
    for (who, label) in [(&a, "a1"), (&a, "a2"), (&a, "a3"), (&b, "b1")] {
        let mut input = search(40);
        input["label"] = json!(label);
        let id = who.start_search(input).await["id"]
            .as_str()
            .expect("id")
            .to_string();
        ids.push((who, id));
    }
    for (who, id) in &ids {
        let events = who.follow_progress(id, Duration::from_secs(120)).await;
        assert_eq!(events.last().expect("events")["status"], "SUCCEEDED");
    }
    let conn = db.connect().await;
    let order: Vec<String> = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT label FROM search_jobs ORDER BY started_at",
        ))
        .await
        .expect("query")
        .iter()
        .map(|r| r.try_get("", "label").expect("label"))
        .collect();
    assert_eq!(order, ["a1", "b1", "a2", "a3"], "B waited behind A");
}

on_both_backends!(
    the_sixth_active_search_is_refused,
    queued_tasks_and_searches_per_minute_are_bounded,
    many_at_once_cannot_slip_past_the_count,
    workers_take_turns_between_accounts,
);
