//! graphql-transport-ws as graphql-ws's PROTOCOL.md words it, close codes included.

use std::time::Duration;

use serde_json::json;

use crate::support::{Backend, TestApp, TestDb, WsClient, days_from_now};

async fn app() -> (TestDb, TestApp) {
    let db = TestDb::new(Backend::Sqlite).await;
    let app =
        TestApp::spawn_with(&db, &[("NO_WORKER", "true"), ("WS_INIT_TIMEOUT_MS", "500")]).await;
    (db, app)
}

/// A job that stays QUEUED (no worker runs), so its subscription stays open.
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

#[tokio::test]
async fn a_query_over_the_socket_gets_next_then_complete() {
    let (_db, app) = app().await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    ws.subscribe(
        "q1",
        "{ airports(query: \"NRT\", first: 1) { code } }",
        json!({}),
    )
    .await;
    let next = ws.next_json().await.expect("next");
    assert_eq!(next["type"], "next");
    assert_eq!(next["id"], "q1");
    assert_eq!(next["payload"]["data"]["airports"][0]["code"], "NRT");
    let complete = ws.next_json().await.expect("complete");
    assert_eq!(complete, json!({"type": "complete", "id": "q1"}));
}

#[tokio::test]
async fn ping_gets_pong_even_before_init() {
    let (_db, app) = app().await;
    let mut ws = WsClient::connect(&app).await;
    ws.send_json(json!({"type": "ping"})).await;
    assert_eq!(ws.next_json().await.expect("pong")["type"], "pong");
}

#[tokio::test]
async fn an_invalid_document_gets_an_error_message_and_no_complete() {
    let (_db, app) = app().await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    ws.subscribe("bad", "subscription { nope }", json!({}))
        .await;
    let error = ws.next_json().await.expect("error");
    assert_eq!(error["type"], "error");
    assert_eq!(error["id"], "bad");
    assert!(error["payload"][0]["message"].is_string(), "{error}");
    // The connection stays usable, and no `complete` follows the error.
    ws.send_json(json!({"type": "ping"})).await;
    assert_eq!(ws.next_json().await.expect("pong")["type"], "pong");
    // The operation is over, so its id may be used again.
    ws.subscribe("bad", "{ __typename }", json!({})).await;
    let next = ws.next_json().await.expect("next");
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["id"], "bad");
}

#[tokio::test]
async fn an_unknown_job_is_an_execution_error() {
    let (_db, app) = app().await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    ws.subscribe(
        "x",
        PROGRESS,
        json!({"id": uuid::Uuid::new_v4().to_string()}),
    )
    .await;
    let next = ws.next_json().await.expect("next");
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(
        next["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{next}"
    );
    assert_eq!(ws.next_json().await.expect("complete")["type"], "complete");
}

#[tokio::test]
async fn the_client_can_complete_a_subscription() {
    let (_db, app) = app().await;
    let id = queued_job(&app).await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    ws.subscribe("s", PROGRESS, json!({"id": id})).await;
    let first = ws.next_json().await.expect("snapshot");
    assert_eq!(first["payload"]["data"]["jobProgress"]["status"], "QUEUED");
    ws.send_json(json!({"type": "complete", "id": "s"})).await;
    // The same id may be used again once completed.
    ws.subscribe("s", PROGRESS, json!({"id": id})).await;
    let again = ws.next_json().await.expect("snapshot again");
    assert_eq!(again["type"], "next");
    assert_eq!(again["id"], "s");
}

#[tokio::test]
async fn wrong_subprotocol_closes_4406() {
    let (_db, app) = app().await;
    let mut ws = WsClient::connect_with_protocol(&app, None).await;
    assert_eq!(ws.close_code().await.0, 4406);
}

#[tokio::test]
async fn invalid_messages_close_4400() {
    let (_db, app) = app().await;
    for bad in [
        "not json",
        r#"{"type": "what"}"#,
        r#"{"no": "type"}"#,
        r#"{"type": "subscribe", "payload": {"query": "{ __typename }"}}"#,
    ] {
        let mut ws = WsClient::connect(&app).await;
        ws.init().await;
        ws.send_text(bad).await;
        assert_eq!(ws.close_code().await.0, 4400, "{bad}");
    }
}

#[tokio::test]
async fn subscribe_before_ack_closes_4401() {
    let (_db, app) = app().await;
    let mut ws = WsClient::connect(&app).await;
    ws.subscribe("1", "{ __typename }", json!({})).await;
    assert_eq!(ws.close_code().await, (4401, "Unauthorized".to_string()));
}

#[tokio::test]
async fn no_init_in_time_closes_4408() {
    let (_db, app) = app().await;
    let mut ws = WsClient::connect(&app).await;
    // Still open before the 500 ms are up…
    tokio::time::sleep(Duration::from_millis(150)).await;
    ws.send_json(json!({"type": "ping"})).await;
    assert_eq!(ws.next_json().await.expect("pong")["type"], "pong");
    // …and closed once they are.
    assert_eq!(
        ws.close_code().await,
        (4408, "Connection initialisation timeout".to_string())
    );
}

#[tokio::test]
async fn a_duplicate_subscription_id_closes_4409() {
    let (_db, app) = app().await;
    let id = queued_job(&app).await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    ws.subscribe("dup", PROGRESS, json!({"id": id})).await;
    assert_eq!(ws.next_json().await.expect("snapshot")["type"], "next");
    ws.subscribe("dup", PROGRESS, json!({"id": id})).await;
    let (code, reason) = ws.close_code().await;
    assert_eq!(code, 4409);
    assert_eq!(reason, "Subscriber for dup already exists");
}

#[tokio::test]
async fn a_second_init_closes_4429() {
    let (_db, app) = app().await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    ws.send_json(json!({"type": "connection_init"})).await;
    assert_eq!(ws.close_code().await.0, 4429);
}

#[tokio::test]
async fn a_subscriber_sees_a_cancellation_live() {
    let (_db, app) = app().await;
    let id = queued_job(&app).await;
    let mut ws = WsClient::connect(&app).await;
    ws.init().await;
    ws.subscribe("s", PROGRESS, json!({"id": id})).await;
    assert_eq!(
        ws.next_json().await.expect("snapshot")["payload"]["data"]["jobProgress"]["status"],
        "QUEUED"
    );
    app.data(
        "mutation($id: UUID!) { cancelSearch(id: $id) { id } }",
        json!({"id": id}),
    )
    .await;
    let next = ws.next_json().await.expect("event");
    assert_eq!(
        next["payload"]["data"]["jobProgress"]["status"],
        "CANCELLED"
    );
    assert_eq!(ws.next_json().await.expect("complete")["type"], "complete");
}
