//! The JetStream relay: a consumer of the outbox that publishes every event to subject
//! `<prefix>.<type>` of a JetStream stream, with `Nats-Msg-Id` = the event's id, so the
//! stream drops the second copy of an event offered again after a crash. The consumer's
//! position moves only after JetStream acknowledged the publish. NATS down: the handler
//! fails, the consumer offers the event again with a growing pause, and catches up once it
//! is back; nothing else waits for it.

use std::time::Duration;

use async_nats::jetstream;
use async_trait::async_trait;
use store::{EventRecord, Store};
use tokio::sync::Mutex;

use crate::consumers::{ConsumerError, EventConsumer};

/// Where the relay publishes (EVENTS_NATS_*).
#[derive(Debug, Clone)]
pub struct NatsSettings {
    pub url: String,
    pub stream: String,
    /// Subjects are `<subject_prefix>.<event type>`.
    pub subject_prefix: String,
    /// Limits of a stream created here (0: none).
    pub max_age: Duration,
    pub max_bytes: i64,
    pub max_messages: i64,
    /// How long JetStream remembers message ids to drop duplicates.
    pub duplicate_window: Duration,
    /// A publish not acknowledged within this fails (and is tried again).
    pub ack_timeout: Duration,
}

impl Default for NatsSettings {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            stream: "FAST_FLIGHTS_EVENTS".into(),
            subject_prefix: "fast-flights.events".into(),
            max_age: Duration::from_secs(7 * 86_400),
            max_bytes: 0,
            max_messages: 0,
            duplicate_window: Duration::from_secs(600),
            ack_timeout: Duration::from_secs(5),
        }
    }
}

pub struct NatsRelay {
    settings: NatsSettings,
    /// Connected (and the stream made sure of) on first use, so a NATS down at start-up
    /// delays only the relay.
    context: Mutex<Option<jetstream::Context>>,
}

impl NatsRelay {
    pub fn new(settings: NatsSettings) -> Self {
        Self {
            settings,
            context: Mutex::new(None),
        }
    }

    async fn connect(&self) -> Result<jetstream::Context, ConsumerError> {
        let mut held = self.context.lock().await;
        if let Some(context) = held.as_ref() {
            return Ok(context.clone());
        }
        let s = &self.settings;
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(s.ack_timeout)
            .connect(s.url.as_str())
            .await
            .map_err(|e| {
                ConsumerError::Failed(format!("cannot connect to NATS at {}: {e}", s.url))
            })?;
        let mut context = jetstream::new(client);
        context.set_timeout(s.ack_timeout);
        context
            .get_or_create_stream(jetstream::stream::Config {
                name: s.stream.clone(),
                subjects: vec![format!("{}.>", s.subject_prefix)],
                max_age: s.max_age,
                max_bytes: if s.max_bytes > 0 { s.max_bytes } else { -1 },
                max_messages: if s.max_messages > 0 {
                    s.max_messages
                } else {
                    -1
                },
                duplicate_window: s.duplicate_window,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| {
                ConsumerError::Failed(format!(
                    "cannot create the JetStream stream {}: {e}",
                    s.stream
                ))
            })?;
        tracing::info!(url = %s.url, stream = %s.stream, "relaying events to JetStream");
        *held = Some(context.clone());
        Ok(context)
    }

    pub fn subject(&self, event_type: &str) -> String {
        format!("{}.{event_type}", self.settings.subject_prefix)
    }
}

/// The message of one event: its envelope, `data` being its payload as written.
pub fn message_body(event: &EventRecord) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let account = event
        .account_id
        .map_or_else(|| "null".to_string(), |a| quote(&a.to_string()));
    format!(
        "{{\"id\":{},\"sequence\":{},\"type\":{},\"subjectId\":{},\"accountId\":{},\"timestamp\":{},\"data\":{}}}",
        quote(&event.id.to_string()),
        event.sequence,
        quote(&event.event_type),
        quote(&event.subject_id.to_string()),
        account,
        quote(
            &event
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
        event.payload
    )
}

#[async_trait]
impl EventConsumer for NatsRelay {
    fn name(&self) -> &'static str {
        "nats-relay"
    }

    async fn handle(&self, _store: &Store, event: &EventRecord) -> Result<(), ConsumerError> {
        let context = self.connect().await?;
        let publish = jetstream::message::PublishMessage::build()
            .payload(message_body(event).into())
            .message_id(event.id.to_string());
        let acked = async {
            context
                .send_publish(self.subject(&event.event_type), publish)
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match acked {
            Ok(ack) => {
                if ack.duplicate {
                    metrics::counter!("fast_flights_nats_duplicates_total").increment(1);
                }
                metrics::counter!("fast_flights_nats_published_total").increment(1);
                Ok(())
            }
            Err(e) => Err(ConsumerError::Failed(format!(
                "JetStream did not acknowledge event {} on {}: {e}",
                event.id,
                self.subject(&event.event_type)
            ))),
        }
    }
}
