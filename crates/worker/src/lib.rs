//! Lease-held background work. The [`Runner`] orchestrates (ownership of the database,
//! claims, wake-ups, concurrency per kind, shutdown); an [`Executor`] per kind claims and
//! runs its items: [`SearchExecutor`] runs searches ([`job_run`]), [`ImportExecutor`] CSV
//! imports ([`import_run`]).

mod analytics;
mod booking_run;
pub mod consumers;
pub mod import_run;
mod job_run;
pub mod nats_relay;
mod notifications;
mod runner;
pub mod webhooks;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use providers::ProviderRegistry;
use store::{EventBus, JobEvent, LeaseKind, Store};

pub use analytics::Analytics;
pub use consumers::{ConsumerError, ConsumerExecutor, EventConsumer};
pub use import_run::ImportRun;
pub use nats_relay::{NatsRelay, NatsSettings};
pub use notifications::Notifications;
pub use runner::{Executor, LeaseKeeper, Outcome, Run, Runner, Stop};
pub use webhooks::{WebhookExecutor, WebhookFanout, WebhookSettings};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Names this process in leases and logs.
    pub worker_id: String,
    /// Jobs run at once by this process.
    pub max_concurrent_searches: usize,
    /// Provider calls in flight at once within one job.
    pub task_concurrency: usize,
    /// Checkpoint after this many finished tasks…
    pub checkpoint_every_tasks: u64,
    /// …or after this long, whichever comes first.
    pub checkpoint_every: Duration,
    /// A job whose worker stops renewing its lease for this long can be taken over.
    pub lease_ttl: Duration,
    /// How often an idle worker looks for claimable jobs without being woken.
    pub poll_interval: Duration,
    /// A task (one provider query, retries included) that takes longer fails with a
    /// timeout, so one hung call cannot hold the job's window.
    pub provider_timeout: Duration,
    /// A job fails once more than this share (0.0 to 1.0) of its provider queries failed.
    pub max_failed_share: f64,
    /// A job claimed this many times in a row without committing progress is failed.
    pub max_claims_without_progress: u32,
    /// Booking calls to providers in flight at once in this process.
    pub booking_concurrency: usize,
    pub webhooks: WebhookSettings,
    /// The JetStream relay of the outbox, when EVENTS_NATS_URL is set.
    pub nats: Option<NatsSettings>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            worker_id: format!("worker-{}", std::process::id()),
            max_concurrent_searches: 4,
            task_concurrency: 16,
            checkpoint_every_tasks: 500,
            checkpoint_every: Duration::from_millis(1_000),
            lease_ttl: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            provider_timeout: Duration::from_secs(300),
            max_failed_share: 0.5,
            max_claims_without_progress: 5,
            booking_concurrency: 16,
            webhooks: WebhookSettings::default(),
            nats: None,
        }
    }
}

/// An upload not moved on for this long was cut off (its process died) and is removed.
const STALE_UPLOAD: Duration = Duration::from_secs(3600);
const STALE_UPLOAD_SWEEP: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Ownership(#[from] store::OwnershipError),
    #[error("this worker does not run {0} work (see --kinds / WORKER_KINDS)")]
    KindNotRun(LeaseKind),
    #[error("cannot set up {0}")]
    Setup(String),
}

impl Runner {
    /// A runner of the given kinds of work, with the built-in executors.
    pub fn with_kinds(
        store: Store,
        providers: Arc<ProviderRegistry>,
        events: Arc<dyn EventBus>,
        config: WorkerConfig,
        kinds: &[LeaseKind],
    ) -> Self {
        let config = Arc::new(config);
        let mut runner = Runner::new(store.clone(), Arc::clone(&events), (*config).clone());
        for kind in kinds {
            runner = match kind {
                LeaseKind::Search => runner.register(SearchExecutor {
                    store: store.clone(),
                    providers: Arc::clone(&providers),
                    events: Arc::clone(&events),
                    config: Arc::clone(&config),
                }),
                LeaseKind::Import => runner.register(ImportExecutor::new(
                    store.clone(),
                    Arc::clone(&events),
                    config.lease_ttl,
                )),
                LeaseKind::Booking => runner.register(BookingExecutor {
                    store: store.clone(),
                    providers: Arc::clone(&providers),
                    events: Arc::clone(&events),
                    lease_ttl: config.lease_ttl,
                    concurrency: config.booking_concurrency,
                }),
                LeaseKind::Consumer => runner.register(ConsumerExecutor::built_in(
                    store.clone(),
                    Arc::clone(&events),
                    &config,
                    kinds.contains(&LeaseKind::Webhook),
                )),
                LeaseKind::Webhook => match WebhookExecutor::new(
                    store.clone(),
                    config.webhooks.clone(),
                    config.lease_ttl,
                    &config.worker_id,
                ) {
                    Ok(executor) => runner.register(executor),
                    Err(e) => {
                        tracing::error!(error = %e, "webhooks are not sent by this worker");
                        runner
                    }
                },
            };
        }
        runner
    }
}

/// Runs searches: as many at once as `max_concurrent_searches`.
#[derive(Clone)]
pub struct SearchExecutor {
    pub store: Store,
    pub providers: Arc<ProviderRegistry>,
    pub events: Arc<dyn EventBus>,
    pub config: Arc<WorkerConfig>,
}

#[async_trait]
impl Executor for SearchExecutor {
    fn kind(&self) -> LeaseKind {
        LeaseKind::Search
    }

    fn concurrency(&self) -> usize {
        self.config.max_concurrent_searches
    }

    fn woken_by(&self, event: &JobEvent) -> bool {
        matches!(event, JobEvent::Queued(_))
    }

    async fn claim(
        &self,
        owner: &str,
        _only: Option<uuid::Uuid>,
    ) -> Result<Option<Box<dyn Run>>, WorkerError> {
        let failed = self
            .store
            .fail_crash_looping(self.config.max_claims_without_progress)
            .await?;
        for job in failed {
            self.events.publish(JobEvent::Progress(job.progress()));
        }
        let claimed = self
            .store
            .claim_next(
                owner,
                self.config.lease_ttl,
                self.config.max_claims_without_progress,
            )
            .await?;
        Ok(claimed.map(|c| Box::new(job_run::JobRun::new(self.clone(), c)) as Box<dyn Run>))
    }
}

/// Runs CSV imports one at a time: they write in large batches, and one at a time keeps a
/// worker's share of the database fair to searches. Also removes uploads cut off by a crash.
pub struct ImportExecutor {
    store: Store,
    events: Arc<dyn EventBus>,
    lease_ttl: Duration,
    swept_at: Mutex<Option<tokio::time::Instant>>,
}

impl ImportExecutor {
    pub fn new(store: Store, events: Arc<dyn EventBus>, lease_ttl: Duration) -> Self {
        Self {
            store,
            events,
            lease_ttl,
            swept_at: Mutex::new(None),
        }
    }

    async fn sweep_stale_uploads(&self) {
        {
            let mut swept_at = self.swept_at.lock().unwrap_or_else(|e| e.into_inner());
            if swept_at.is_some_and(|t| t.elapsed() < STALE_UPLOAD_SWEEP) {
                return;
            }
            *swept_at = Some(tokio::time::Instant::now());
        }
        match self.store.delete_stale_uploads(STALE_UPLOAD).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(uploads = n, "removed uploads cut off by a crash"),
            Err(e) => tracing::warn!(error = %e, "cannot remove stale uploads"),
        }
    }
}

#[async_trait]
impl Executor for ImportExecutor {
    fn kind(&self) -> LeaseKind {
        LeaseKind::Import
    }

    fn concurrency(&self) -> usize {
        1
    }

    fn woken_by(&self, event: &JobEvent) -> bool {
        matches!(event, JobEvent::Import(_))
    }

    async fn claim(
        &self,
        owner: &str,
        only: Option<uuid::Uuid>,
    ) -> Result<Option<Box<dyn Run>>, WorkerError> {
        if only.is_none() {
            self.sweep_stale_uploads().await;
        }
        let claimed = self.store.claim_import(owner, self.lease_ttl, only).await?;
        Ok(claimed.map(|c| {
            Box::new(ImportRun::new(
                self.store.clone(),
                Arc::clone(&self.events),
                c,
                self.lease_ttl,
            )) as Box<dyn Run>
        }))
    }
}

/// Runs bookings' provider calls, many at once: each mostly waits on its provider.
pub struct BookingExecutor {
    pub store: Store,
    pub providers: Arc<ProviderRegistry>,
    pub events: Arc<dyn EventBus>,
    pub lease_ttl: Duration,
    pub concurrency: usize,
}

#[async_trait]
impl Executor for BookingExecutor {
    fn kind(&self) -> LeaseKind {
        LeaseKind::Booking
    }

    fn concurrency(&self) -> usize {
        self.concurrency
    }

    fn woken_by(&self, event: &JobEvent) -> bool {
        matches!(event, JobEvent::Booking(_))
    }

    async fn claim(
        &self,
        owner: &str,
        only: Option<uuid::Uuid>,
    ) -> Result<Option<Box<dyn Run>>, WorkerError> {
        let claimed = self
            .store
            .claim_booking_call(owner, self.lease_ttl, only)
            .await?;
        Ok(claimed.map(|(lease, attempts, booking)| {
            Box::new(booking_run::BookingRun {
                store: self.store.clone(),
                providers: Arc::clone(&self.providers),
                events: Arc::clone(&self.events),
                lease,
                lease_ttl: self.lease_ttl,
                attempts,
                booking,
            }) as Box<dyn Run>
        }))
    }
}
