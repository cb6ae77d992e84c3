//! Durable consumers of the outbox. A consumer is a name and a handler ([`EventConsumer`]);
//! its position is kept in the database, and one worker at a time in the whole fleet runs
//! it, under a lease. Events reach it in sequence order, at least once: the position moves
//! after a batch is handled, so a worker killed mid-batch leaves the batch to be handled
//! again by the next one. Handlers are idempotent by event id (`Store::with_receipt`).
//!
//! A new reaction to bookings or searches is a new consumer, registered with
//! [`ConsumerExecutor::with`]: the code that writes the events does not change.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use store::{ClaimedConsumer, EventBus, EventRecord, JobEvent, LeaseKind, Store};
use tokio::sync::OnceCell;
use tokio::sync::broadcast::error::RecvError;

use crate::runner::{Executor, Outcome, Run, Stop};
use crate::{WorkerConfig, WorkerError};

/// Why a handler could not handle an event (it is offered again, after a pause).
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("{0}")]
    Failed(String),
}

#[async_trait]
pub trait EventConsumer: Send + Sync {
    /// Stable and unique (a-z, 0-9, `-`, `_`): the position is kept under it.
    fn name(&self) -> &'static str;
    /// Handles one event. May be called again with an event handled before (after a
    /// crash): it must be idempotent by `event.id`.
    async fn handle(&self, store: &Store, event: &EventRecord) -> Result<(), ConsumerError>;
}

/// Events read per batch.
const BATCH: u64 = 200;
/// Pause after a handler failed, doubling to at most [`MAX_RETRY_PAUSE`].
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(200);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(30);

/// Runs the registered consumers: each one at a time across the fleet.
pub struct ConsumerExecutor {
    store: Store,
    events: Arc<dyn EventBus>,
    consumers: Vec<Arc<dyn EventConsumer>>,
    lease_ttl: Duration,
    poll_interval: Duration,
    registered: OnceCell<()>,
}

impl ConsumerExecutor {
    /// An executor of no consumer yet; add them with [`ConsumerExecutor::with`].
    pub fn new(store: Store, events: Arc<dyn EventBus>, config: &WorkerConfig) -> Self {
        Self {
            store,
            events,
            consumers: Vec::new(),
            lease_ttl: config.lease_ttl,
            poll_interval: config.poll_interval,
            registered: OnceCell::new(),
        }
    }

    /// The built-in consumers: each account's inbox, the daily analytics, the webhooks'
    /// deliveries, and the JetStream relay when it is configured. `sends_webhooks`: this
    /// process also runs the webhook kind (then it is woken directly).
    pub fn built_in(
        store: Store,
        events: Arc<dyn EventBus>,
        config: &WorkerConfig,
        sends_webhooks: bool,
    ) -> Self {
        let mut executor = Self::new(store, Arc::clone(&events), config)
            .with(Arc::new(crate::notifications::Notifications))
            .with(Arc::new(crate::analytics::Analytics))
            .with(Arc::new(crate::webhooks::WebhookFanout {
                events,
                wake: Arc::clone(&config.webhooks.wake),
                sends_here: sends_webhooks,
            }));
        if let Some(nats) = &config.nats {
            executor = executor.with(Arc::new(crate::nats_relay::NatsRelay::new(nats.clone())));
        }
        executor
    }

    /// Adds a consumer; one of the same name is replaced.
    pub fn with(mut self, consumer: Arc<dyn EventConsumer>) -> Self {
        self.consumers.retain(|c| c.name() != consumer.name());
        self.consumers.push(consumer);
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.consumers.iter().map(|c| c.name()).collect()
    }
}

#[async_trait]
impl Executor for ConsumerExecutor {
    fn kind(&self) -> LeaseKind {
        LeaseKind::Consumer
    }

    fn concurrency(&self) -> usize {
        self.consumers.len().max(1)
    }

    /// A consumer runs until shutdown once claimed: the claim loop only needs to look
    /// again for consumers that another worker gave up, which polling finds.
    fn woken_by(&self, _: &JobEvent) -> bool {
        false
    }

    async fn claim(
        &self,
        owner: &str,
        _only: Option<uuid::Uuid>,
    ) -> Result<Option<Box<dyn Run>>, WorkerError> {
        if self.consumers.is_empty() {
            return Ok(None);
        }
        self.registered
            .get_or_try_init(|| async {
                for consumer in &self.consumers {
                    self.store.register_consumer(consumer.name()).await?;
                }
                Ok::<_, WorkerError>(())
            })
            .await?;
        let Some(claimed) = self
            .store
            .claim_consumer(owner, self.lease_ttl, &self.names())
            .await?
        else {
            return Ok(None);
        };
        let Some(consumer) = self
            .consumers
            .iter()
            .find(|c| c.name() == claimed.name)
            .cloned()
        else {
            self.store.release_consumer(&claimed.lease).await?;
            return Ok(None);
        };
        Ok(Some(Box::new(ConsumerRun {
            store: self.store.clone(),
            events: Arc::clone(&self.events),
            consumer,
            claimed,
            lease_ttl: self.lease_ttl,
            poll_interval: self.poll_interval,
        })))
    }
}

struct ConsumerRun {
    store: Store,
    events: Arc<dyn EventBus>,
    consumer: Arc<dyn EventConsumer>,
    claimed: ClaimedConsumer,
    lease_ttl: Duration,
    poll_interval: Duration,
}

/// Whether `event` may mean new events in the outbox.
fn may_have_written(event: &JobEvent) -> bool {
    match event {
        JobEvent::Booking(_) | JobEvent::Import(_) | JobEvent::Resync => true,
        JobEvent::Progress(p) => p.status.is_terminal(),
        JobEvent::Queued(_) | JobEvent::Webhook(_) => false,
    }
}

enum Step {
    Go,
    Stop(Outcome),
}

impl ConsumerRun {
    fn report_lag(&self, lag: store::ConsumerLag) {
        let name = self.consumer.name();
        metrics::gauge!("fast_flights_consumer_lag_events", "consumer" => name)
            .set(lag.events as f64);
        let age = lag.oldest.map_or(0.0, |t| {
            (self.store.now() - t).num_milliseconds().max(0) as f64 / 1000.0
        });
        metrics::gauge!("fast_flights_consumer_oldest_undelivered_seconds", "consumer" => name)
            .set(age);
    }

    /// Hands one event to the handler until it takes it, or the run must stop.
    async fn deliver(&mut self, event: &EventRecord, stop: &Stop) -> Step {
        let mut pause = FIRST_RETRY_PAUSE;
        loop {
            // A handler is left mid-way only when the lease is lost: whoever runs the
            // consumer next offers the event again.
            let handled = tokio::select! {
                handled = self.consumer.handle(&self.store, event) => handled,
                _ = stop.lease_lost.cancelled() => return Step::Stop(Outcome::LeaseLost),
            };
            match handled {
                Ok(()) => return Step::Go,
                Err(e) => {
                    tracing::warn!(
                        consumer = self.consumer.name(),
                        event_id = %event.id,
                        sequence = event.sequence,
                        error = %e,
                        "a consumer's handler failed; offering the event again"
                    );
                    metrics::counter!("fast_flights_consumer_failures_total", "consumer" => self.consumer.name())
                        .increment(1);
                    let held = self
                        .store
                        .consumer_failing(&mut self.claimed.lease, self.lease_ttl, &e.to_string())
                        .await;
                    if let Ok(false) = held {
                        return Step::Stop(Outcome::LeaseLost);
                    }
                    // A stuck consumer's lag grows: show it while it waits.
                    if let Ok(lag) = self.store.consumer_lag(self.claimed.position).await {
                        self.report_lag(lag);
                    }
                }
            }
            tokio::select! {
                _ = stop.shutdown.cancelled() => return Step::Stop(Outcome::Released),
                _ = stop.lease_lost.cancelled() => return Step::Stop(Outcome::LeaseLost),
                _ = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(MAX_RETRY_PAUSE);
        }
    }

    /// Moves the position past `handled` events up to `to`, renewing the lease.
    async fn advance(&mut self, to: i64, handled: u64) -> Step {
        match self
            .store
            .advance_consumer(&mut self.claimed.lease, self.lease_ttl, to, handled)
            .await
        {
            Ok(true) => {
                self.claimed.position = to;
                Step::Go
            }
            Ok(false) => Step::Stop(Outcome::LeaseLost),
            Err(e) => Step::Stop(Outcome::Aborted(e.to_string())),
        }
    }

    async fn run(&mut self, stop: &Stop) -> Outcome {
        let mut wake = self.events.subscribe();
        loop {
            if stop.lease_lost.is_cancelled() {
                return Outcome::LeaseLost;
            }
            if stop.shutdown.is_cancelled() {
                return Outcome::Released;
            }
            let batch = match self.store.events_after(self.claimed.position, BATCH).await {
                Ok(batch) => batch,
                Err(e) => return Outcome::Aborted(e.to_string()),
            };
            if batch.is_empty() {
                self.report_lag(store::ConsumerLag {
                    events: 0,
                    oldest: None,
                });
                // The heartbeat: the lease is renewed while idle too.
                if let Step::Stop(outcome) = self.advance(self.claimed.position, 0).await {
                    return outcome;
                }
                let idle = tokio::time::sleep(self.poll_interval.min(self.lease_ttl / 3));
                tokio::pin!(idle);
                loop {
                    tokio::select! {
                        _ = stop.shutdown.cancelled() => return Outcome::Released,
                        _ = stop.lease_lost.cancelled() => return Outcome::LeaseLost,
                        _ = &mut idle => break,
                        event = wake.recv() => match event {
                            Ok(event) if may_have_written(&event) => break,
                            Ok(_) => continue,
                            Err(RecvError::Lagged(_)) => break,
                            Err(RecvError::Closed) => {
                                (&mut idle).await;
                                break;
                            }
                        },
                    }
                }
                continue;
            }
            let mut handled = 0u64;
            let mut last = self.claimed.position;
            for event in &batch {
                if let Step::Stop(outcome) = self.deliver(event, stop).await {
                    // On shutdown what was handled is kept; the rest is offered again to
                    // whoever runs this consumer next. A lost lease writes nothing.
                    if outcome == Outcome::Released && handled > 0 {
                        let _ = self.advance(last, handled).await;
                    }
                    return outcome;
                }
                handled += 1;
                last = event.sequence;
            }
            if let Step::Stop(outcome) = self.advance(last, handled).await {
                return outcome;
            }
            match self.store.consumer_lag(self.claimed.position).await {
                Ok(lag) => self.report_lag(lag),
                Err(e) => tracing::debug!(error = %e, "cannot read a consumer's lag"),
            }
        }
    }
}

#[async_trait]
impl Run for ConsumerRun {
    #[tracing::instrument(skip_all, fields(consumer = self.consumer.name()))]
    async fn execute(mut self: Box<Self>, stop: Stop) -> Outcome {
        tracing::info!(position = self.claimed.position, "consumer started");
        let outcome = self.run(&stop).await;
        if outcome == Outcome::Released
            && let Err(e) = self.store.release_consumer(&self.claimed.lease).await
        {
            return Outcome::Aborted(e.to_string());
        }
        tracing::info!(
            position = self.claimed.position,
            ?outcome,
            "consumer stopped"
        );
        outcome
    }
}
