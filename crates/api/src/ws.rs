//! graphql-transport-ws, as graphql-ws's PROTOCOL.md words it, close codes included:
//! 4400 invalid message, 4401 subscribe before ack, 4403 forbidden init, 4406 wrong
//! subprotocol, 4408 no init in time, 4409 duplicate id, 4429 a second init.
//! async-graphql's own handler departs from several of these, hence this one.
//!
//! The `connection_init` payload carries the caller's token, as
//! `{"authorization": "Bearer <token>"}` (or `{"token": "<token>"}`): without one the
//! socket closes 4401, with a bad one 4403, and when the token expires 4403 too, so a
//! client reconnects with a fresh one. A socket opened with a socket ticket (see
//! `createSocketTicket`) runs subscriptions only: a ticket stands in for a session that
//! browser code never holds, so it must not become one.
//!
//! Limits (see [`SocketLimits`] and docs/websockets.md): at most 100 operations at once
//! (the next `subscribe` gets an `error` message, code `TOO_MANY_OPERATIONS`); messages of
//! at most 64 KiB (bigger closes 1009); a `ping` every 30 s, and no `pong` within 60 s of
//! one closes 4499; per process, `MAX_SOCKETS_PER_IP` sockets per client address (more:
//! the upgrade is refused with 429) and `MAX_SOCKETS_PER_USER` per account (more: closed
//! 4431 at `connection_init`); one `signUp` or `logIn` per minute per socket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{AuthBudget, Caller};
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::phase::Phase;
use crate::socket_slots::Slot;

mod account_checks;
mod shared;

pub use account_checks::AccountChecks;
pub use shared::SharedSubscriptions;

pub const PROTOCOL: &str = "graphql-transport-ws";

/// How often an open socket's account is read again.
const RECHECK_EVERY: Duration = Duration::from_secs(30);

/// A socket's `signUp`/`logIn` budget renews after this long.
const AUTH_BUDGET_PERIOD: Duration = Duration::from_secs(60);

/// tungstenite's read buffer per socket.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Close codes beyond the protocol's own.
const MESSAGE_TOO_BIG: u16 = 1009;
const TOO_MANY_ACCOUNT_SOCKETS: u16 = 4431;
/// graphql-ws's own code for a peer that stopped answering; its client reconnects.
const NO_PONG: u16 = 4499;

/// What one websocket may hold, how many may be open, and how they are kept alive.
#[derive(Debug, Clone)]
pub struct SocketLimits {
    /// Operations running at once on one socket.
    pub max_operations: usize,
    /// Sockets open at once per account, in this process.
    pub max_per_user: usize,
    /// Sockets open at once per client address, in this process.
    pub max_per_ip: usize,
    /// Largest message (and frame) a client may send, in bytes.
    pub max_message_bytes: usize,
    /// How often the server sends `ping`.
    pub ping_interval: Duration,
    /// A socket with a `ping` unanswered this long is closed.
    pub pong_timeout: Duration,
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self {
            max_operations: 100,
            max_per_user: 20,
            max_per_ip: 100,
            max_message_bytes: 64 * 1024,
            ping_interval: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(60),
        }
    }
}

pub fn upgrade(upgrade: WebSocketUpgrade, state: AppState, ip: ClientIp) -> Response {
    let limits = &state.ctx.limits.sockets;
    let Some(ip_slot) = state.sockets.for_ip(ip.0, limits.max_per_ip) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "at most {} websockets per client address",
                limits.max_per_ip
            ),
        )
            .into_response();
    };
    upgrade
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        // tungstenite reads into a 128 KiB buffer per socket by default, most of an idle
        // socket's memory; messages of up to `max_message_bytes` still arrive whole.
        .read_buffer_size(READ_BUFFER_BYTES)
        // Each message is written out as it is sent (and its sender waits for that), so
        // no socket holds more than the message in hand.
        .write_buffer_size(0)
        .protocols([PROTOCOL])
        .on_upgrade(move |socket| async move {
            let selected = socket
                .protocol()
                .and_then(|p| p.to_str().ok())
                .map(str::to_string);
            let _open = OpenSocket::new();
            Connection::new(socket, state, ip, ip_slot)
                .run(selected)
                .await;
        })
}

/// Counts open sockets for `/metrics`, however they end.
struct OpenSocket;

impl OpenSocket {
    fn new() -> Self {
        metrics::gauge!("fast_flights_open_websockets").increment(1.0);
        Self
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        metrics::gauge!("fast_flights_open_websockets").decrement(1.0);
    }
}

/// A message from an operation's task. `generation` tells a finished operation from a
/// later one that reuses its id: only the current one's messages go out.
enum Outgoing {
    Send {
        id: String,
        generation: u64,
        message: String,
        /// The operation ends with this message (an `error`): its id is free again.
        last: bool,
    },
    /// The operation's stream ended by itself.
    Finished { id: String, generation: u64 },
}

/// Messages an operation of its own may have queued before the writer takes them; beyond
/// this its task waits, so a slow client slows its operations instead of growing memory.
/// (A shared subscription's messages wait in its mailbox instead, where the newest state
/// replaces older ones, see [`shared`].)
const OUTGOING_QUEUE: usize = 16;

/// How an operation of a socket runs.
enum Running {
    /// On a task of its own, which sends its messages through the socket's channel.
    Alone(JoinHandle<()>),
    /// As a place in a shared subscription, whose messages the socket takes itself.
    Shared(shared::Subscriber),
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Running::Alone(task) = self {
            task.abort();
        }
    }
}

struct Connection {
    socket: WebSocket,
    state: AppState,
    acknowledged: bool,
    init_received: bool,
    caller: Caller,
    /// The session of the `connection_init` token, rechecked with the account: the
    /// recheck is shared with the session's other sockets.
    session: Option<Arc<account_checks::SessionCheck>>,
    /// Where the socket comes from (see [`ClientIp`]).
    ip: ClientIp,
    /// When the token of `connection_init` expires.
    expires_at: Option<tokio::time::Instant>,
    /// Opened with a socket ticket: subscriptions only.
    ticket: bool,
    operations: HashMap<String, (u64, Running)>,
    generations: u64,
    tx: mpsc::Sender<Outgoing>,
    rx: mpsc::Receiver<Outgoing>,
    /// Notified when a message of a shared subscription waits.
    shared_ready: Arc<Notify>,
    /// Shared by every operation of the socket.
    auth_budget: AuthBudget,
    /// When the oldest unanswered `ping` runs out of time.
    pong_due: Option<tokio::time::Instant>,
    /// This socket's places under the per-address and per-account caps.
    _ip_slot: Slot<IpAddr>,
    account_slot: Option<Slot<Uuid>>,
}

/// Why the server closes the socket.
struct Close(u16, String);

impl Close {
    /// The client left: nothing to send.
    fn gone() -> Self {
        Close(0, String::new())
    }
}

impl Connection {
    fn new(socket: WebSocket, state: AppState, ip: ClientIp, ip_slot: Slot<IpAddr>) -> Self {
        let (tx, rx) = mpsc::channel(OUTGOING_QUEUE);
        Self {
            socket,
            state,
            acknowledged: false,
            init_received: false,
            caller: Caller(None),
            session: None,
            ip,
            expires_at: None,
            ticket: false,
            operations: HashMap::new(),
            generations: 0,
            tx,
            rx,
            shared_ready: Arc::default(),
            auth_budget: AuthBudget::per_connection(AUTH_BUDGET_PERIOD),
            pong_due: None,
            _ip_slot: ip_slot,
            account_slot: None,
        }
    }

    async fn run(mut self, protocol: Option<String>) {
        let close = if protocol.as_deref() != Some(PROTOCOL) {
            Close(4406, "Subprotocol not acceptable".into())
        } else {
            self.serve().await
        };
        self.operations.clear();
        if close.0 != 0 {
            let _ = self
                .socket
                .send(Message::Close(Some(CloseFrame {
                    code: close.0,
                    reason: Utf8Bytes::from(close.1),
                })))
                .await;
        }
    }

    /// Serves until the client leaves (code 0: nothing to send) or a rule is broken.
    async fn serve(&mut self) -> Close {
        let init_deadline = tokio::time::sleep(self.state.ctx.limits.ws_init_timeout);
        tokio::pin!(init_deadline);
        let mut recheck =
            tokio::time::interval_at(tokio::time::Instant::now() + RECHECK_EVERY, RECHECK_EVERY);
        let keep_alive = self.state.ctx.limits.sockets.ping_interval;
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
        // The two deadlines' timers, made again only when a deadline moves rather than on
        // every turn of the loop (every message sent).
        let mut pong_timer = Deadline::new(self.pong_due);
        let mut expiry_timer = Deadline::new(self.expires_at);
        let shared_ready = Arc::clone(&self.shared_ready);
        loop {
            pong_timer.set(self.pong_due);
            expiry_timer.set(self.expires_at);
            tokio::select! {
                _ = &mut init_deadline, if !self.init_received => {
                    return Close(4408, "Connection initialisation timeout".into());
                }
                _ = pong_timer.elapsed(), if self.pong_due.is_some() => {
                    let waited = self.state.ctx.limits.sockets.pong_timeout;
                    return Close(NO_PONG, format!("Terminated: no pong within {} ms of a ping", waited.as_millis()));
                }
                _ = ping.tick() => {
                    if self.send(json!({"type": "ping"})).await.is_err() {
                        return Close::gone();
                    }
                    if self.pong_due.is_none() {
                        self.pong_due = Some(tokio::time::Instant::now() + self.state.ctx.limits.sockets.pong_timeout);
                    }
                }
                _ = expiry_timer.elapsed(), if self.expires_at.is_some() => {
                    return Close(4403, "Forbidden: the token has expired".into());
                }
                _ = recheck.tick(), if self.caller.0.is_some() => {
                    if let Err(close) = self.refresh_caller(Some(RECHECK_EVERY)).await {
                        return close;
                    }
                }
                _ = shared_ready.notified() => {
                    if self.send_shared().await.is_err() {
                        return Close::gone();
                    }
                }
                out = self.rx.recv() => {
                    let Some(out) = out else { continue };
                    let current = |id: &str, generation: u64| {
                        self.operations.get(id).is_some_and(|(g, _)| *g == generation)
                    };
                    let message = match out {
                        // Dropped if the client completed the operation meanwhile.
                        Outgoing::Send { id, generation, message, last } if current(&id, generation) => {
                            if last {
                                self.operations.remove(&id);
                            }
                            message
                        }
                        Outgoing::Finished { id, generation } if current(&id, generation) => {
                            self.operations.remove(&id);
                            json!({"type": "complete", "id": id}).to_string()
                        }
                        _ => continue,
                    };
                    if self.send_text(message).await.is_err() {
                        return Close::gone();
                    }
                }
                incoming = self.socket.next() => {
                    let text = match incoming {
                        Some(Err(e)) if too_big(&e) => {
                            let most = self.state.ctx.limits.sockets.max_message_bytes;
                            return Close(MESSAGE_TOO_BIG, format!("Message too big: at most {most} bytes"));
                        }
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Close::gone(),
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Binary(_))) => {
                            return Close(4400, "Binary messages are not supported".into());
                        }
                        Some(Ok(_)) => continue,
                    };
                    if let Err(close) = self.handle(text.as_str()).await {
                        return close;
                    }
                }
            }
        }
    }

    /// Reads the caller's account and session again (or takes a read of the same session
    /// by another socket at most `shared_within` old): a role taken away, an ended
    /// session or an account deleted closes the socket (4403), so running subscriptions
    /// do not outlive the right to them.
    async fn refresh_caller(&mut self, shared_within: Option<Duration>) -> Result<(), Close> {
        let (Some(viewer), Some(check)) = (self.caller.0, self.session.clone()) else {
            return Ok(());
        };
        let account = check
            .account(&self.state.ctx, shared_within.unwrap_or(Duration::ZERO))
            .await;
        match account {
            Ok(now) if now.role == viewer.role => Ok(()),
            Ok(_) => Err(Close(
                4403,
                "Forbidden: your role changed; reconnect".into(),
            )),
            Err(ApiError::Unauthenticated(why)) => Err(Close(4403, format!("Forbidden: {why}"))),
            Err(_) => {
                tracing::warn!("cannot re-read a websocket's account; keeping it");
                Ok(())
            }
        }
    }

    async fn send(&mut self, message: Value) -> Result<(), axum::Error> {
        self.send_text(message.to_string()).await
    }

    async fn send_text(&mut self, message: String) -> Result<(), axum::Error> {
        self.socket
            .send(Message::Text(Utf8Bytes::from(message)))
            .await
    }

    async fn handle(&mut self, text: &str) -> Result<(), Close> {
        let message: Value =
            serde_json::from_str(text).map_err(|_| invalid("Invalid message received"))?;
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("Invalid message received: missing type"))?;
        match kind {
            "connection_init" => self.init(&message).await,
            "ping" => {
                let mut pong = json!({"type": "pong"});
                if let Some(payload) = message.get("payload").filter(|p| p.is_object()) {
                    pong["payload"] = payload.clone();
                }
                self.send(pong).await.map_err(|_| Close::gone())
            }
            "pong" => {
                self.pong_due = None;
                Ok(())
            }
            "subscribe" => self.subscribe(&message).await,
            "complete" => {
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("Invalid message received: complete needs an id"))?;
                self.operations.remove(id);
                Ok(())
            }
            other => Err(invalid(&format!(
                "Invalid message received: unknown type {other}"
            ))),
        }
    }

    /// `connection_init`: the token, then a place under the account's socket cap.
    async fn init(&mut self, message: &Value) -> Result<(), Close> {
        if self.init_received {
            return Err(Close(4429, "Too many initialisation requests".into()));
        }
        self.init_received = true;
        let payload = match message.get("payload") {
            None | Some(Value::Null) => None,
            Some(p @ Value::Object(_)) => Some(p),
            Some(_) => {
                return Err(invalid(
                    "Invalid message received: payload must be an object",
                ));
            }
        };
        let token = match payload.map(token_of) {
            None | Some(Credential::Missing) => {
                return Err(Close(
                    4401,
                    "Unauthorized: send {\"authorization\": \"Bearer <token>\"}".into(),
                ));
            }
            Some(Credential::Malformed) => {
                return Err(Close(
                    4403,
                    "Forbidden: authorization must be \"Bearer <token>\"".into(),
                ));
            }
            Some(Credential::Token(token)) => token,
        };
        let grant = match self
            .state
            .ctx
            .viewer_until(&token, crate::auth::Accept::SessionOrTicket)
            .await
        {
            Ok(grant) => grant,
            Err(ApiError::Unauthenticated(why)) => {
                return Err(Close(4403, format!("Forbidden: {why}")));
            }
            Err(_) => return Err(Close(4500, "Internal server error".into())),
        };
        let cap = self.state.ctx.limits.sockets.max_per_user;
        let Some(slot) = self.state.sockets.for_account(grant.viewer.id, cap) else {
            return Err(Close(
                TOO_MANY_ACCOUNT_SOCKETS,
                format!("Too many sockets: at most {cap} per account"),
            ));
        };
        self.account_slot = Some(slot);
        self.caller = Caller(Some(grant.viewer));
        self.session = Some(self.state.checks.of(grant.viewer.id, grant.session));
        self.ticket = grant.ticket;
        let left = (grant.expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        self.expires_at = Some(tokio::time::Instant::now() + left);
        self.acknowledged = true;
        self.send(json!({"type": "connection_ack"}))
            .await
            .map_err(|_| Close::gone())
    }

    async fn subscribe(&mut self, message: &Value) -> Result<(), Close> {
        if !self.acknowledged {
            return Err(Close(4401, "Unauthorized".into()));
        }
        let id = message
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| invalid("Invalid message received: subscribe needs an id"))?
            .to_string();
        let payload = message
            .get("payload")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("Invalid message received: subscribe needs a payload"))?;
        let query = payload
            .get("query")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("Invalid message received: payload.query must be a string"))?
            .to_string();
        self.refresh_caller(None).await?;
        // Until the server sends `complete`, the id is taken.
        if self.operations.contains_key(&id) {
            return Err(Close(4409, format!("Subscriber for {id} already exists")));
        }
        let operation_name = match payload.get("operationName") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.clone()),
            Some(_) => {
                return Err(invalid(
                    "Invalid message received: operationName must be a string",
                ));
            }
        };
        let most = self.state.ctx.limits.sockets.max_operations;
        if self.operations.len() >= most {
            let refusal = format!(
                "at most {most} operations at once on one socket; complete one or open another socket"
            );
            return self.refuse(&id, &refusal, "TOO_MANY_OPERATIONS").await;
        }
        if self.ticket && !ticket_may_run(&query, operation_name.as_deref()) {
            let refusal = "a socket opened with a socket ticket runs subscriptions only; send queries and mutations over HTTP";
            return self.refuse(&id, refusal, "FORBIDDEN").await;
        }
        let variables = match payload.get("variables") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v),
            Some(_) => {
                return Err(invalid(
                    "Invalid message received: variables must be an object",
                ));
            }
        };
        let alike = self.caller.0.and_then(|viewer| {
            shared::Key::of(viewer, &query, operation_name.as_deref(), variables)
        });
        let mut request = async_graphql::Request::new(query);
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        if let Some(v) = variables {
            request = request.variables(async_graphql::Variables::from_json(v.clone()));
        }
        self.start(id, request, alike);
        Ok(())
    }

    /// An `error` message for operation `id`, which does not start.
    async fn refuse(&mut self, id: &str, message: &str, code: &str) -> Result<(), Close> {
        let errors = json!([{ "message": message, "extensions": { "code": code } }]);
        self.send(json!({"type": "error", "id": id, "payload": errors}))
            .await
            .map_err(|_| Close::gone())
    }

    fn start(&mut self, id: String, request: async_graphql::Request, alike: Option<shared::Key>) {
        let phase = Phase::default();
        let request = request
            .data(phase.clone())
            .data(self.caller)
            .data(self.ip)
            .data(self.auth_budget.clone());
        self.generations += 1;
        let generation = self.generations;
        let running = match alike {
            Some(key) => Running::Shared(self.state.shared.join(
                key,
                &self.state.schema,
                request,
                phase,
                self.caller,
                Arc::clone(&self.shared_ready),
            )),
            None => Running::Alone(tokio::spawn(execute(
                self.state.schema.clone(),
                request,
                phase,
                self.caller,
                id.clone(),
                generation,
                self.tx.clone(),
            ))),
        };
        // A shared subscription may already hold its newest state.
        self.shared_ready.notify_one();
        self.operations.insert(id, (generation, running));
    }

    /// Sends every message waiting in the socket's shared subscriptions, oldest first for
    /// each; an operation whose stream ended is over.
    async fn send_shared(&mut self) -> Result<(), axum::Error> {
        let mut waiting = Vec::new();
        for (id, (_, running)) in &self.operations {
            let Running::Shared(subscriber) = running else {
                continue;
            };
            while let Some(item) = subscriber.take() {
                let ends = item.ends();
                waiting.push((id.clone(), item));
                if ends {
                    break;
                }
            }
        }
        for (id, item) in waiting {
            let quoted = Value::from(id.as_str()).to_string();
            let message = match &*item {
                shared::Item::Next { payload, .. } => {
                    format!(r#"{{"type":"next","id":{quoted},"payload":{payload}}}"#)
                }
                shared::Item::Error(errors) => {
                    format!(r#"{{"type":"error","id":{quoted},"payload":{errors}}}"#)
                }
                shared::Item::Complete => format!(r#"{{"type":"complete","id":{quoted}}}"#),
            };
            if item.ends() {
                self.operations.remove(&id);
            }
            self.send_text(message).await?;
        }
        Ok(())
    }
}

/// Runs operation `id` of one socket on its own.
async fn execute(
    schema: crate::schema::ApiSchema,
    request: async_graphql::Request,
    phase: Phase,
    caller: crate::auth::Caller,
    id: String,
    generation: u64,
    tx: mpsc::Sender<Outgoing>,
) {
    let quoted = Value::from(id.as_str()).to_string();
    let mut stream = schema.execute_stream(request, phase.clone(), caller);
    let mut first = true;
    while let Some(response) = stream.next().await {
        // The document did not parse or validate: an `error` message, no `complete`.
        let refused = first && !phase.validated() && response.is_err();
        first = false;
        let message = if refused {
            let errors = serde_json::to_string(&response.errors).unwrap_or_else(|_| "[]".into());
            format!(r#"{{"type":"error","id":{quoted},"payload":{errors}}}"#)
        } else {
            let payload = serde_json::to_string(&response).unwrap_or_else(|_| "{}".into());
            format!(r#"{{"type":"next","id":{quoted},"payload":{payload}}}"#)
        };
        let sent = tx.send(Outgoing::Send {
            id: id.clone(),
            generation,
            message,
            last: refused,
        });
        if sent.await.is_err() || refused {
            return;
        }
    }
    let _ = tx.send(Outgoing::Finished { id, generation }).await;
}

/// Whether a ticket's socket may run the operation `name` (or the document's only one):
/// subscriptions only. A document that does not parse, or names no operation it has, is
/// left to the executor, which says what is wrong with it.
fn ticket_may_run(query: &str, name: Option<&str>) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return true;
    };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_none_or(|op| op.node.ty == OperationType::Subscription)
}

fn invalid(why: &str) -> Close {
    Close(4400, why.to_string())
}

/// Whether a read failed because the client sent more than the largest message.
fn too_big(error: &axum::Error) -> bool {
    use std::error::Error;
    error
        .source()
        .and_then(|e| e.downcast_ref::<tungstenite::Error>())
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

/// What a `connection_init` payload holds by way of credentials.
enum Credential {
    Missing,
    Malformed,
    Token(String),
}

/// The token of a `connection_init` payload: `authorization` (`Bearer <token>`, any case of
/// the key) or `token`.
fn token_of(payload: &Value) -> Credential {
    let Some(object) = payload.as_object() else {
        return Credential::Missing;
    };
    for (key, value) in object {
        if key.eq_ignore_ascii_case("authorization") {
            return match value.as_str().and_then(crate::auth::bearer) {
                Some(token) => Credential::Token(token.to_string()),
                None => Credential::Malformed,
            };
        }
        if key == "token" {
            return match value.as_str().map(str::trim).filter(|t| !t.is_empty()) {
                Some(token) => Credential::Token(token.to_string()),
                None => Credential::Malformed,
            };
        }
    }
    Credential::Missing
}

/// A timer for a deadline that may move or be unset; it waits forever while unset.
struct Deadline {
    at: Option<tokio::time::Instant>,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Deadline {
    fn new(at: Option<tokio::time::Instant>) -> Self {
        let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        Self {
            at,
            sleep: Box::pin(tokio::time::sleep_until(at.unwrap_or(far))),
        }
    }

    fn set(&mut self, at: Option<tokio::time::Instant>) {
        if at != self.at {
            *self = Self::new(at);
        }
    }

    async fn elapsed(&mut self) {
        match self.at {
            Some(_) => self.sleep.as_mut().await,
            None => std::future::pending().await,
        }
    }
}
