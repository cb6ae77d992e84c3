//! A `connection_init` the gate refuses closes the socket with 4403, as graphql-ws's
//! PROTOCOL.md says. The server binary accepts every connection until accounts exist, so
//! this serves the router in process with a gate that wants a token.

use std::sync::Arc;

use fast_flights_api::{ApiContext, ApiLimits, ConnectionInit};
use futures::{SinkExt, StreamExt};
use providers::ProviderRegistry;
use serde_json::{Value, json};
use store::{InMemoryEventBus, Store};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct WantsToken;

impl ConnectionInit for WantsToken {
    fn accept(&self, payload: Option<&Value>) -> bool {
        payload.and_then(|p| p.get("token")) == Some(&json!("let-me-in"))
    }
}

async fn serve() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.sqlite").display()
    );
    let store = Store::connect(&url, 2).await.expect("store");
    store.migrate().await.expect("migrate");
    let router = fast_flights_api::router(ApiContext {
        store,
        events: Arc::new(InMemoryEventBus::default()),
        providers: Arc::new(ProviderRegistry::new()),
        limits: ApiLimits::default(),
        metrics: None,
        connection_init: Arc::new(WantsToken),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("ws://{addr}/graphql"), dir)
}

async fn init(url: &str, payload: Value) -> Message {
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    ws.send(Message::Text(
        json!({"type": "connection_init", "payload": payload})
            .to_string()
            .into(),
    ))
    .await
    .expect("send");
    ws.next().await.expect("an answer").expect("a message")
}

#[tokio::test]
async fn a_refused_connection_init_closes_4403() {
    let (url, _dir) = serve().await;
    match init(&url, json!({"token": "wrong"})).await {
        Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), 4403);
            assert_eq!(frame.reason.as_str(), "Forbidden");
        }
        other => panic!("expected a 4403 close, got {other:?}"),
    }
}

#[tokio::test]
async fn an_accepted_connection_init_is_acknowledged() {
    let (url, _dir) = serve().await;
    match init(&url, json!({"token": "let-me-in"})).await {
        Message::Text(t) => assert_eq!(
            serde_json::from_str::<Value>(&t).expect("json")["type"],
            "connection_ack"
        ),
        other => panic!("expected connection_ack, got {other:?}"),
    }
}
