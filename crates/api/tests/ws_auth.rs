//! The websocket's `connection_init` carries the caller's token: none closes 4401, a bad
//! one 4403, a good one is acknowledged, and the socket closes 4403 when the token expires.
//! Served in process so the token lifetime can be seconds.

use std::sync::Arc;
use std::time::Duration;

use domain::{Email, Role};
use fast_flights_api::login_limits::{LoginLimits, LoginPolicy};
use fast_flights_api::{ApiContext, ApiLimits, Tokens};
use futures::{SinkExt, StreamExt};
use providers::ProviderRegistry;
use serde_json::{Value, json};
use store::{InMemoryEventBus, Store};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn tokens(ttl: Duration) -> Tokens {
    Tokens::hs256(SECRET, "fast-flights", "fast-flights", ttl)
}

/// What the router needs, on `store`, with tokens that live `ttl`.
fn context(store: Store, ttl: Duration) -> ApiContext {
    let login_limits = Arc::new(LoginLimits::new(
        Arc::new(store.clone()),
        LoginPolicy::default(),
    ));
    ApiContext {
        store,
        events: Arc::new(InMemoryEventBus::default()),
        providers: Arc::new(ProviderRegistry::new()),
        limits: ApiLimits::default(),
        metrics: None,
        tokens: Arc::new(tokens(ttl)),
        login_limits,
        recent_writes: Default::default(),
    }
}

/// A session for `user` and its first pair, opened as logIn would.
async fn signed_in(ctx: &ApiContext, user: store::UserRecord) -> fast_flights_api::SignedIn {
    ctx.open_session(user).await.expect("session")
}

/// A token signed like ours for a session that was never opened.
fn unopened(tokens: &Tokens, user: uuid::Uuid, role: Role) -> String {
    let session = fast_flights_api::auth::Session {
        id: uuid::Uuid::now_v7(),
        version: 0,
        expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
    };
    tokens.issue(user, role, &session).expect("token")
}

/// The router on a free port, a user's token and id.
async fn serve(ttl: Duration) -> (String, String, uuid::Uuid, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.sqlite").display()
    );
    let store = Store::connect(&url, 2).await.expect("store");
    store.migrate().await.expect("migrate");
    let user = store
        .create_user(
            &Email::parse("ws@example.com").expect("email"),
            "not-a-real-hash",
            Role::User,
        )
        .await
        .expect("user");
    let ctx = context(store.clone(), ttl);
    let id = user.id;
    let token = signed_in(&ctx, user).await.token;
    let router = fast_flights_api::router(ctx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("ws://{addr}/graphql"), token, id, dir)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn init(url: &str, payload: Value) -> (Ws, Message) {
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
    let first = ws.next().await.expect("an answer").expect("a message");
    (ws, first)
}

fn close_code(message: &Message) -> (u16, String) {
    match message {
        Message::Close(Some(frame)) => (u16::from(frame.code), frame.reason.to_string()),
        other => panic!("expected a close, got {other:?}"),
    }
}

fn is_ack(message: &Message) -> bool {
    matches!(message, Message::Text(t)
        if serde_json::from_str::<Value>(t).expect("json")["type"] == "connection_ack")
}

#[tokio::test]
async fn no_token_closes_4401() {
    let (url, _, _, _dir) = serve(Duration::from_secs(600)).await;
    for payload in [json!({}), json!(null), json!({"other": "thing"})] {
        let (_, answer) = init(&url, payload.clone()).await;
        let (code, reason) = close_code(&answer);
        assert_eq!(code, 4401, "{payload}: {reason}");
        assert!(reason.starts_with("Unauthorized"), "{reason}");
    }
}

#[tokio::test]
async fn a_bad_token_closes_4403() {
    let (url, _, user, _dir) = serve(Duration::from_secs(600)).await;
    let other_key = Tokens::hs256(
        b"another-secret-another-secret-xx",
        "fast-flights",
        "fast-flights",
        Duration::from_secs(600),
    );
    let forged = unopened(&other_key, user, Role::User);
    let (_, answer) = init(&url, json!({"authorization": format!("Bearer {forged}")})).await;
    let (code, reason) = close_code(&answer);
    assert_eq!(code, 4403);
    assert!(reason.contains("signature"), "{reason}");

    let (_, answer) = init(&url, json!({"token": "not.a.jwt"})).await;
    assert_eq!(close_code(&answer).0, 4403);
    // A credential in the wrong form is a bad one, not a missing one.
    for malformed in [
        json!({"authorization": "Basic abc"}),
        json!({"authorization": 42}),
    ] {
        let (_, answer) = init(&url, malformed.clone()).await;
        assert_eq!(close_code(&answer).0, 4403, "{malformed}");
    }

    // A good signature for an account that does not exist.
    let ghost = unopened(
        &tokens(Duration::from_secs(600)),
        uuid::Uuid::now_v7(),
        Role::Admin,
    );
    let (_, answer) = init(&url, json!({"token": ghost})).await;
    let (code, reason) = close_code(&answer);
    assert_eq!(code, 4403);
    assert!(reason.contains("no longer exists"), "{reason}");
}

#[tokio::test]
async fn a_good_token_is_acknowledged_then_closed_4403_when_it_expires() {
    let (url, token, _, _dir) = serve(Duration::from_secs(2)).await;
    let started = tokio::time::Instant::now();
    let (mut ws, answer) = init(&url, json!({"Authorization": format!("Bearer {token}")})).await;
    assert!(is_ack(&answer), "{answer:?}");
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(m @ Message::Close(_))) => return m,
                Some(Ok(_)) => continue,
                other => panic!("socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("closed when the token expires");
    let (code, reason) = close_code(&closed);
    assert_eq!(code, 4403);
    assert!(reason.contains("expired"), "{reason}");
    // `exp` has one-second resolution, so the close comes between 1 and 3 s in.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_changed_role_closes_the_socket_at_the_next_subscribe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.sqlite").display()
    );
    let store = Store::connect(&url, 2).await.expect("store");
    store.migrate().await.expect("migrate");
    let admin = store
        .create_user(
            &Email::parse("boss@example.com").expect("email"),
            "not-a-real-hash",
            Role::Admin,
        )
        .await
        .expect("user");
    let ctx = context(store.clone(), Duration::from_secs(600));
    let token = signed_in(&ctx, admin.clone()).await.token;
    let router = fast_flights_api::router(ctx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    let (mut ws, answer) = init(
        &format!("ws://{addr}/graphql"),
        json!({"authorization": format!("Bearer {token}")}),
    )
    .await;
    assert!(is_ack(&answer), "{answer:?}");
    store
        .set_user_role(admin.id, Role::User)
        .await
        .expect("demote");
    ws.send(Message::Text(
        json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { importProgress(id: \"00000000-0000-0000-0000-000000000000\") { status } }"}})
            .to_string()
            .into(),
    ))
    .await
    .expect("send");
    let closed = ws.next().await.expect("an answer").expect("a message");
    let (code, reason) = close_code(&closed);
    assert_eq!(code, 4403);
    assert!(reason.contains("role changed"), "{reason}");
}

#[tokio::test]
async fn an_ended_session_closes_the_socket_at_the_next_subscribe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.sqlite").display()
    );
    let store = Store::connect(&url, 2).await.expect("store");
    store.migrate().await.expect("migrate");
    let user = store
        .create_user(
            &Email::parse("leaver@example.com").expect("email"),
            "not-a-real-hash",
            Role::User,
        )
        .await
        .expect("user");
    let ctx = context(store.clone(), Duration::from_secs(600));
    let token = signed_in(&ctx, user).await.token;
    let session = ctx
        .tokens
        .verify_until(&token, fast_flights_api::auth::Accept::Session)
        .expect("valid")
        .session;
    let router = fast_flights_api::router(ctx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    let (mut ws, answer) = init(
        &format!("ws://{addr}/graphql"),
        json!({"authorization": format!("Bearer {token}")}),
    )
    .await;
    assert!(is_ack(&answer), "{answer:?}");
    store.revoke_session(session.id).await.expect("log out");
    ws.send(Message::Text(
        json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { jobProgress(jobId: \"00000000-0000-0000-0000-000000000000\") { status } }"}})
            .to_string()
            .into(),
    ))
    .await
    .expect("send");
    let closed = ws.next().await.expect("an answer").expect("a message");
    let (code, reason) = close_code(&closed);
    assert_eq!(code, 4403);
    assert!(reason.contains("session has ended"), "{reason}");
}
