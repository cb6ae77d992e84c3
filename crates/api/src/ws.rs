//! graphql-transport-ws, as graphql-ws's PROTOCOL.md words it, close codes included:
//! 4400 invalid message, 4401 subscribe before ack, 4403 forbidden init, 4406 wrong
//! subprotocol, 4408 no init in time, 4409 duplicate id, 4429 a second init.
//! async-graphql's own handler departs from several of these, hence this one.

use std::collections::HashMap;

use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::response::Response;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::AppState;
use crate::phase::Phase;

pub const PROTOCOL: &str = "graphql-transport-ws";

pub fn upgrade(upgrade: WebSocketUpgrade, state: AppState) -> Response {
    upgrade
        .protocols([PROTOCOL])
        .on_upgrade(move |socket| async move {
            let selected = socket
                .protocol()
                .and_then(|p| p.to_str().ok())
                .map(str::to_string);
            Connection::new(socket, state).run(selected).await;
        })
}

enum Outgoing {
    Send(Value),
    /// The operation's stream ended by itself.
    Finished(String),
}

struct Connection {
    socket: WebSocket,
    state: AppState,
    acknowledged: bool,
    init_received: bool,
    operations: HashMap<String, JoinHandle<()>>,
    tx: mpsc::UnboundedSender<Outgoing>,
    rx: mpsc::UnboundedReceiver<Outgoing>,
}

/// Why the server closes the socket.
struct Close(u16, String);

impl Connection {
    fn new(socket: WebSocket, state: AppState) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            socket,
            state,
            acknowledged: false,
            init_received: false,
            operations: HashMap::new(),
            tx,
            rx,
        }
    }

    async fn run(mut self, protocol: Option<String>) {
        let close = if protocol.as_deref() != Some(PROTOCOL) {
            Close(4406, "Subprotocol not acceptable".into())
        } else {
            self.serve().await
        };
        for (_, op) in self.operations.drain() {
            op.abort();
        }
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
        loop {
            tokio::select! {
                _ = &mut init_deadline, if !self.init_received => {
                    return Close(4408, "Connection initialisation timeout".into());
                }
                out = self.rx.recv() => {
                    let Some(out) = out else { continue };
                    let message = match out {
                        Outgoing::Send(v) => v,
                        Outgoing::Finished(id) => {
                            if self.operations.remove(&id).is_none() {
                                continue;
                            }
                            json!({"type": "complete", "id": id})
                        }
                    };
                    if self.send(message).await.is_err() {
                        return Close(0, String::new());
                    }
                }
                incoming = self.socket.next() => {
                    let text = match incoming {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Close(0, String::new()),
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

    async fn send(&mut self, message: Value) -> Result<(), axum::Error> {
        self.socket
            .send(Message::Text(Utf8Bytes::from(message.to_string())))
            .await
    }

    async fn handle(&mut self, text: &str) -> Result<(), Close> {
        let invalid = |why: &str| Close(4400, why.to_string());
        let message: Value =
            serde_json::from_str(text).map_err(|_| invalid("Invalid message received"))?;
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("Invalid message received: missing type"))?;
        match kind {
            "connection_init" => {
                if self.init_received {
                    return Err(Close(4429, "Too many initialisation requests".into()));
                }
                self.init_received = true;
                match message.get("payload") {
                    None | Some(Value::Null) | Some(Value::Object(_)) => {}
                    Some(_) => {
                        return Err(invalid(
                            "Invalid message received: payload must be an object",
                        ));
                    }
                }
                self.acknowledged = true;
                self.send(json!({"type": "connection_ack"}))
                    .await
                    .map_err(|_| Close(0, String::new()))
            }
            "ping" => {
                let mut pong = json!({"type": "pong"});
                if let Some(payload) = message.get("payload").filter(|p| p.is_object()) {
                    pong["payload"] = payload.clone();
                }
                self.send(pong).await.map_err(|_| Close(0, String::new()))
            }
            "pong" => Ok(()),
            "subscribe" => {
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
                    .ok_or_else(|| {
                        invalid("Invalid message received: subscribe needs a payload")
                    })?;
                let query = payload
                    .get("query")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid("Invalid message received: payload.query must be a string")
                    })?
                    .to_string();
                if self.operations.get(&id).is_some_and(|op| !op.is_finished()) {
                    return Err(Close(4409, format!("Subscriber for {id} already exists")));
                }
                let mut request = async_graphql::Request::new(query);
                match payload.get("operationName") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(name)) => request = request.operation_name(name.clone()),
                    Some(_) => {
                        return Err(invalid(
                            "Invalid message received: operationName must be a string",
                        ));
                    }
                }
                match payload.get("variables") {
                    None | Some(Value::Null) => {}
                    Some(v @ Value::Object(_)) => {
                        request = request.variables(async_graphql::Variables::from_json(v.clone()));
                    }
                    Some(_) => {
                        return Err(invalid(
                            "Invalid message received: variables must be an object",
                        ));
                    }
                }
                self.start(id, request);
                Ok(())
            }
            "complete" => {
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("Invalid message received: complete needs an id"))?;
                if let Some(op) = self.operations.remove(id) {
                    op.abort();
                }
                Ok(())
            }
            other => Err(invalid(&format!(
                "Invalid message received: unknown type {other}"
            ))),
        }
    }

    fn start(&mut self, id: String, request: async_graphql::Request) {
        let phase = Phase::default();
        let request = request.data(phase.clone());
        let schema = self.state.schema.clone();
        let tx = self.tx.clone();
        let op_id = id.clone();
        let task = tokio::spawn(async move {
            let mut stream = schema.execute_stream(request);
            let mut first = true;
            while let Some(response) = stream.next().await {
                if first && !phase.validated() && response.is_err() {
                    // The document did not parse or validate: an `error` message, no `complete`.
                    let errors = serde_json::to_value(&response.errors).unwrap_or(json!([]));
                    let _ = tx.send(Outgoing::Send(
                        json!({"type": "error", "id": op_id, "payload": errors}),
                    ));
                    return;
                }
                first = false;
                let payload = serde_json::to_value(&response).unwrap_or(json!({}));
                if tx
                    .send(Outgoing::Send(
                        json!({"type": "next", "id": op_id, "payload": payload}),
                    ))
                    .is_err()
                {
                    return;
                }
            }
            let _ = tx.send(Outgoing::Finished(op_id));
        });
        self.operations.insert(id, task);
    }
}
