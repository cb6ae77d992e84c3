//! Job events: progress for subscribers, wake-ups for workers. One process uses the
//! in-memory bus; processes sharing PostgreSQL use `LISTEN/NOTIFY`, with checkpoint
//! events sent inside the checkpoint's own transaction (see [`crate::Store::checkpoint`]),
//! so an event goes out if and only if its state committed.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use domain::JobProgress;

/// The PostgreSQL channel every fast-flights process listens on.
pub const CHANNEL: &str = "fast_flights_events";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum JobEvent {
    /// A job was created or resumed and waits for a worker.
    Queued(Uuid),
    /// A job checkpointed or changed status.
    Progress(JobProgress),
    /// An import was queued or moved on: workers wake, `importProgress` re-reads it.
    Import(Uuid),
    /// A booking was stored or changed: booking workers wake, its owner's subscriptions
    /// read it again.
    Booking(Uuid),
    /// Webhook deliveries were queued for this endpoint: webhook workers wake.
    Webhook(Uuid),
    /// Events may have been missed (the listener reconnected): read the state again.
    Resync,
}

pub trait EventBus: Send + Sync {
    fn publish(&self, event: JobEvent);
    fn subscribe(&self) -> broadcast::Receiver<JobEvent>;
}

pub struct InMemoryEventBus {
    sender: broadcast::Sender<JobEvent>,
}

impl InMemoryEventBus {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        Self { sender }
    }
}

impl Default for InMemoryEventBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

impl EventBus for InMemoryEventBus {
    fn publish(&self, event: JobEvent) {
        // No receiver is not an error: nobody is listening right now.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.sender.subscribe()
    }
}

/// Events across processes through PostgreSQL: one listening connection per process fans
/// notifications out to local subscribers; `publish` sends a `NOTIFY`.
pub struct PgEventBus {
    pool: sqlx::PgPool,
    local: broadcast::Sender<JobEvent>,
}

impl PgEventBus {
    /// Starts listening until `shutdown`; reconnects with backoff if the connection drops.
    pub fn start(pool: sqlx::PgPool, shutdown: CancellationToken) -> std::sync::Arc<Self> {
        let (local, _) = broadcast::channel(4096);
        let bus = std::sync::Arc::new(Self { pool, local });
        let listener = std::sync::Arc::clone(&bus);
        tokio::spawn(async move { listener.listen(shutdown).await });
        bus
    }

    async fn listen(&self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        let mut first = true;
        loop {
            let connected = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
                listener.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = tokio::select! {
                _ = shutdown.cancelled() => return,
                result = connected => match result {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?backoff, "cannot listen for events; retrying");
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                },
            };
            backoff = Duration::from_millis(100);
            if !first {
                tracing::info!("event listener reconnected");
                let _ = self.local.send(JobEvent::Resync);
            }
            first = false;
            loop {
                let notification = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    n = listener.try_recv() => n,
                };
                match notification {
                    Ok(Some(n)) => match serde_json::from_str::<JobEvent>(n.payload()) {
                        Ok(event) => {
                            let _ = self.local.send(event);
                        }
                        Err(e) => tracing::warn!(error = %e, "unreadable event ignored"),
                    },
                    // The connection dropped; notifications in between are lost.
                    Ok(None) => {
                        let _ = self.local.send(JobEvent::Resync);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "event listener failed; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}

impl EventBus for PgEventBus {
    fn publish(&self, event: JobEvent) {
        let Ok(payload) = serde_json::to_string(&event) else {
            return;
        };
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&pool)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "cannot send an event; subscribers catch up on their next refresh");
            }
        });
    }

    fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.local.subscribe()
    }
}
