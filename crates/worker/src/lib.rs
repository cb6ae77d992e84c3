//! The job runner. [`Worker::run`] is the orchestrator: it claims jobs while it has room
//! and hands each to a [`job_run::JobRun`], the executor, which runs the tasks,
//! checkpoints, and stops on cancellation, shutdown or a lost lease.

pub mod import_run;
mod job_run;

use std::sync::Arc;
use std::time::Duration;

use providers::ProviderRegistry;
use store::{EventBus, JobEvent, Store};
use tokio::sync::{Semaphore, broadcast::error::RecvError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use import_run::{ImportOutcome, ImportRun};
pub use job_run::RunOutcome;

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
}

#[derive(Clone)]
pub struct Worker {
    store: Store,
    providers: Arc<ProviderRegistry>,
    events: Arc<dyn EventBus>,
    config: Arc<WorkerConfig>,
}

impl Worker {
    pub fn new(
        store: Store,
        providers: Arc<ProviderRegistry>,
        events: Arc<dyn EventBus>,
        config: WorkerConfig,
    ) -> Self {
        Self {
            store,
            providers,
            events,
            config: Arc::new(config),
        }
    }

    /// Claims and runs jobs until `shutdown` fires, then waits for every running job to
    /// commit its last checkpoint and give up its lease.
    #[tracing::instrument(skip_all, fields(worker = %self.config.worker_id))]
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), WorkerError> {
        if self.store.is_sqlite() {
            // One process owns an SQLite file: leases left by a crash are ours to resume.
            let released = self.store.release_all_leases().await?;
            if released > 0 {
                tracing::info!(jobs = released, "resuming unfinished jobs");
            }
            let released = self.store.release_all_import_leases().await?;
            if released > 0 {
                tracing::info!(imports = released, "resuming unfinished imports");
            }
        }
        let imports = tokio::spawn(self.clone().run_imports(shutdown.clone()));
        let slots = Arc::new(Semaphore::new(self.config.max_concurrent_searches.max(1)));
        let running = TaskTracker::new();
        let mut wake = self.events.subscribe();
        tracing::info!("worker started");
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                permit = Arc::clone(&slots).acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            match self
                .store
                .claim_next(
                    &self.config.worker_id,
                    self.config.lease_ttl,
                    self.config.max_claims_without_progress,
                )
                .await
            {
                Ok(Some(claimed)) => {
                    let run = job_run::JobRun::new(self.clone(), claimed);
                    let stop = shutdown.child_token();
                    running.spawn(async move {
                        run.execute(stop).await;
                        drop(permit);
                    });
                    continue;
                }
                Ok(None) => drop(permit),
                Err(e) => {
                    drop(permit);
                    tracing::error!(error = %e, "cannot claim a job; retrying");
                }
            }
            // Idle: wait for a new job, the next poll, or shutdown.
            let poll = tokio::time::sleep(self.config.poll_interval.max(Duration::from_millis(10)));
            tokio::pin!(poll);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = &mut poll => break,
                    event = wake.recv() => match event {
                        Ok(JobEvent::Queued(_) | JobEvent::Resync) | Err(RecvError::Lagged(_)) => break,
                        Ok(JobEvent::Progress(_) | JobEvent::Import(_)) => continue,
                        Err(RecvError::Closed) => {
                            (&mut poll).await;
                            break;
                        }
                    },
                }
            }
        }
        running.close();
        running.wait().await;
        if let Err(e) = imports.await {
            tracing::error!(error = %e, "the import loop ended abnormally");
        }
        tracing::info!("worker stopped");
        Ok(())
    }

    /// Runs CSV imports one at a time until `shutdown`: they write in large batches, and
    /// one at a time keeps a worker's share of the database fair to searches.
    async fn run_imports(self, shutdown: CancellationToken) {
        let mut wake = self.events.subscribe();
        let mut swept_at: Option<tokio::time::Instant> = None;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            if swept_at.is_none_or(|t| t.elapsed() >= STALE_UPLOAD_SWEEP) {
                swept_at = Some(tokio::time::Instant::now());
                match self.store.delete_stale_uploads(STALE_UPLOAD).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(uploads = n, "removed uploads cut off by a crash"),
                    Err(e) => tracing::warn!(error = %e, "cannot remove stale uploads"),
                }
            }
            match self
                .store
                .claim_import(&self.config.worker_id, self.config.lease_ttl, None)
                .await
            {
                Ok(Some(claimed)) => {
                    ImportRun::new(
                        self.store.clone(),
                        Arc::clone(&self.events),
                        claimed,
                        self.config.lease_ttl,
                    )
                    .execute(shutdown.child_token())
                    .await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "cannot claim an import; retrying"),
            }
            let poll = tokio::time::sleep(self.config.poll_interval.max(Duration::from_millis(10)));
            tokio::pin!(poll);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = &mut poll => break,
                    event = wake.recv() => match event {
                        Ok(JobEvent::Import(_) | JobEvent::Resync) | Err(RecvError::Lagged(_)) => break,
                        Ok(_) => continue,
                        Err(RecvError::Closed) => {
                            (&mut poll).await;
                            break;
                        }
                    },
                }
            }
        }
    }

    /// Runs one import to its end in this process (the `import` command), unless another
    /// worker took it first.
    pub async fn run_import(
        &self,
        id: uuid::Uuid,
        stop: CancellationToken,
    ) -> Result<Option<ImportOutcome>, WorkerError> {
        let Some(claimed) = self
            .store
            .claim_import(&self.config.worker_id, self.config.lease_ttl, Some(id))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(
            ImportRun::new(
                self.store.clone(),
                Arc::clone(&self.events),
                claimed,
                self.config.lease_ttl,
            )
            .execute(stop)
            .await,
        ))
    }

    /// Runs claimable jobs one after another until none is left. For benchmarks and tools
    /// that want a deterministic end.
    pub async fn run_until_idle(&self) -> Result<Vec<RunOutcome>, WorkerError> {
        let mut outcomes = Vec::new();
        while let Some(claimed) = self
            .store
            .claim_next(
                &self.config.worker_id,
                self.config.lease_ttl,
                self.config.max_claims_without_progress,
            )
            .await?
        {
            let run = job_run::JobRun::new(self.clone(), claimed);
            outcomes.push(run.execute(CancellationToken::new()).await);
        }
        Ok(outcomes)
    }
}
