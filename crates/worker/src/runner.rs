//! The one Runner of lease-held work. It takes up the worker's ownership (the SQLite file,
//! or a PostgreSQL session that keeps its leases alive), then for each registered kind
//! claims while it has room, runs each claim on an [`Executor`]'s [`Run`], wakes on events,
//! polls as a fallback, and on shutdown waits for every run to give its lease back.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use store::{
    EventBus, JobEvent, Lease, LeaseKind, OwnershipError, SqliteOwner, Store, WorkerSession,
};
use tokio::sync::{Notify, OnceCell, Semaphore, broadcast::error::RecvError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::{WorkerConfig, WorkerError};

/// How a run ended, whatever its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The item reached this terminal status.
    Finished(&'static str),
    /// Shutdown or a passing failure: the item was given back with its progress.
    Released,
    /// Another worker may hold it now; nothing more was written.
    LeaseLost,
    /// The database failed; the lease expires and the item resumes elsewhere.
    Aborted(String),
}

/// What ends a run early.
#[derive(Debug, Clone)]
pub struct Stop {
    /// The process is shutting down: commit what is done and give the lease back.
    pub shutdown: CancellationToken,
    /// The worker's session is gone, so its leases are free to others: write nothing more.
    pub lease_lost: CancellationToken,
}

impl Stop {
    /// A stop that only `shutdown` triggers.
    pub fn on(shutdown: CancellationToken) -> Self {
        Self {
            shutdown,
            lease_lost: CancellationToken::new(),
        }
    }
}

/// Renews a run's lease every third of its time to live, whatever the run is doing (a
/// long provider call, rows skipped on resume, a slow batch), so that the lease never
/// lapses under a live run. The stop it hands out fires as well when a renewal finds the
/// lease gone to another worker.
pub struct LeaseKeeper {
    done: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl LeaseKeeper {
    pub fn start(store: Store, mut lease: Lease, ttl: Duration, stop: &Stop) -> (Self, Stop) {
        let done = CancellationToken::new();
        let lost = stop.lease_lost.child_token();
        let stop = Stop {
            shutdown: stop.shutdown.clone(),
            lease_lost: lost.clone(),
        };
        let until = done.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = until.cancelled() => return,
                    _ = lost.cancelled() => return,
                    _ = tokio::time::sleep(ttl / 3) => {}
                }
                match store.renew(&mut lease, ttl).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(kind = ?lease.kind, id = %lease.id, "the lease is held elsewhere now");
                        lost.cancel();
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(kind = ?lease.kind, id = %lease.id, error = %e, "cannot renew a lease")
                    }
                }
            }
        });
        (Self { done, task }, stop)
    }

    /// Stops renewing; the run writes its end under the lease it still holds.
    pub async fn stop(mut self) {
        self.done.cancel();
        let _ = (&mut self.task).await;
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.done.cancel();
    }
}

/// One claimed item, ready to run.
#[async_trait]
pub trait Run: Send {
    async fn execute(self: Box<Self>, stop: Stop) -> Outcome;
}

/// A kind of lease-held work: how to claim it, and how much of it runs at once.
#[async_trait]
pub trait Executor: Send + Sync {
    fn kind(&self) -> LeaseKind;
    /// Items of this kind one process runs at once.
    fn concurrency(&self) -> usize;
    /// Whether `event` may mean new work of this kind.
    fn woken_by(&self, event: &JobEvent) -> bool;
    /// A wake-up from inside this process (work queued or made claimable here), besides
    /// the events.
    fn wake(&self) -> Option<Arc<Notify>> {
        None
    }
    /// Claims the oldest claimable item (`only`: that one alone) under `owner`.
    async fn claim(
        &self,
        owner: &str,
        only: Option<uuid::Uuid>,
    ) -> Result<Option<Box<dyn Run>>, WorkerError>;
}

/// The worker's hold on its database: it keeps its leases alive.
enum Ownership {
    /// Holds the file's lock for as long as the runner lives.
    Sqlite {
        _file: Option<SqliteOwner>,
    },
    Postgres(WorkerSession),
}

impl Ownership {
    /// The token that fires when the leases taken from now on are lost; waits while the
    /// session is being re-established.
    async fn lease_lost(&self) -> Option<CancellationToken> {
        match self {
            Ownership::Sqlite { .. } => Some(CancellationToken::new()),
            Ownership::Postgres(session) => session.established().await,
        }
    }
}

pub struct Runner {
    store: Store,
    events: Arc<dyn EventBus>,
    config: Arc<WorkerConfig>,
    executors: Vec<Arc<dyn Executor>>,
    ownership: OnceCell<Arc<Ownership>>,
    /// Ends the session watcher.
    session_stop: CancellationToken,
}

/// How often each kind's queue depth and oldest wait are read for `/metrics`.
const QUEUE_STATS_EVERY: Duration = Duration::from_secs(5);

impl Runner {
    pub fn new(store: Store, events: Arc<dyn EventBus>, config: WorkerConfig) -> Self {
        Self {
            store,
            events,
            config: Arc::new(config),
            executors: Vec::new(),
            ownership: OnceCell::new(),
            session_stop: CancellationToken::new(),
        }
    }

    /// Adds a kind of work. One executor per kind.
    pub fn register(mut self, executor: impl Executor + 'static) -> Self {
        self.executors.retain(|e| e.kind() != executor.kind());
        self.executors.push(Arc::new(executor));
        self
    }

    pub fn kinds(&self) -> Vec<LeaseKind> {
        self.executors.iter().map(|e| e.kind()).collect()
    }

    /// Takes up the database for this worker (once): the SQLite file, whose running items
    /// are then all ours to resume, or a PostgreSQL session. Fails when another process
    /// owns the SQLite file or runs under the same worker id.
    pub async fn take_ownership(&self) -> Result<(), WorkerError> {
        self.ownership().await.map(|_| ())
    }

    async fn ownership(&self) -> Result<&Arc<Ownership>, WorkerError> {
        self.ownership
            .get_or_try_init(|| async {
                let ownership = if self.store.is_sqlite() {
                    let owner = SqliteOwner::acquire(&self.store)?;
                    for kind in self.kinds() {
                        let released = self.store.release_leases(kind, None).await?;
                        if released > 0 {
                            tracing::info!(
                                kind = kind.as_str(),
                                released,
                                "resuming unfinished work"
                            );
                        }
                    }
                    Ownership::Sqlite { _file: owner }
                } else {
                    Ownership::Postgres(
                        WorkerSession::start(
                            &self.store,
                            &self.config.worker_id,
                            &self.kinds(),
                            self.session_stop.clone(),
                        )
                        .await?,
                    )
                };
                Ok::<_, WorkerError>(Arc::new(ownership))
            })
            .await
    }

    /// Claims and runs work of every registered kind until `shutdown` fires, then waits
    /// for every run to commit its last checkpoint and give its lease up.
    #[tracing::instrument(skip_all, fields(worker = %self.config.worker_id))]
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), WorkerError> {
        let ownership = Arc::clone(self.ownership().await?);
        let loops = TaskTracker::new();
        for executor in &self.executors {
            loops.spawn(claim_loop(
                Arc::clone(executor),
                Arc::clone(&ownership),
                Arc::clone(&self.events),
                Arc::clone(&self.config),
                shutdown.clone(),
            ));
            loops.spawn(queue_stats(
                self.store.clone(),
                executor.kind(),
                shutdown.clone(),
            ));
        }
        tracing::info!(
            kinds = ?self.kinds().iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "worker started"
        );
        loops.close();
        loops.wait().await;
        self.session_stop.cancel();
        tracing::info!("worker stopped");
        Ok(())
    }

    /// Runs one item of `kind` to its end here (the `import` command), unless another
    /// worker holds it (`None`), or another process owns the SQLite file (`None`: that
    /// process runs it).
    pub async fn run_one(
        &self,
        kind: LeaseKind,
        id: uuid::Uuid,
        shutdown: CancellationToken,
    ) -> Result<Option<Outcome>, WorkerError> {
        let ownership = match self.ownership().await {
            Ok(o) => o,
            Err(WorkerError::Ownership(OwnershipError::SqliteInUse { .. })) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(executor) = self.executors.iter().find(|e| e.kind() == kind) else {
            return Err(WorkerError::KindNotRun(kind));
        };
        let Some(lease_lost) = ownership.lease_lost().await else {
            return Ok(None);
        };
        let Some(run) = executor.claim(&self.config.worker_id, Some(id)).await? else {
            return Ok(None);
        };
        Ok(Some(
            run.execute(Stop {
                shutdown,
                lease_lost,
            })
            .await,
        ))
    }

    /// Runs claimable items one after another, kind by kind, until none is left. For
    /// tests, benchmarks and tools that want a deterministic end. Consumers, which run until
    /// shutdown, are not run here.
    pub async fn run_until_idle(&self) -> Result<Vec<(LeaseKind, Outcome)>, WorkerError> {
        let ownership = Arc::clone(self.ownership().await?);
        let mut outcomes = Vec::new();
        loop {
            let mut ran = false;
            for executor in self
                .executors
                .iter()
                .filter(|e| e.kind() != LeaseKind::Consumer)
            {
                let Some(lease_lost) = ownership.lease_lost().await else {
                    continue;
                };
                if let Some(run) = executor.claim(&self.config.worker_id, None).await? {
                    let stop = Stop {
                        shutdown: CancellationToken::new(),
                        lease_lost,
                    };
                    outcomes.push((executor.kind(), run.execute(stop).await));
                    ran = true;
                }
            }
            if !ran {
                return Ok(outcomes);
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.session_stop.cancel();
    }
}

/// Claims items of one kind while there is room, until `shutdown`.
async fn claim_loop(
    executor: Arc<dyn Executor>,
    ownership: Arc<Ownership>,
    events: Arc<dyn EventBus>,
    config: Arc<WorkerConfig>,
    shutdown: CancellationToken,
) {
    let kind = executor.kind();
    let slots = Arc::new(Semaphore::new(executor.concurrency().max(1)));
    let running = TaskTracker::new();
    let mut wake = events.subscribe();
    let nudge = executor.wake();
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        // Listening before the claim: a nudge given while it runs is not missed.
        let mut nudged = std::pin::pin!(nudge.as_deref().map(Notify::notified));
        if let Some(notified) = nudged.as_mut().as_pin_mut() {
            notified.enable();
        }
        // Nothing is claimed while the session is being re-established.
        let lease_lost = tokio::select! {
            _ = shutdown.cancelled() => break,
            lost = ownership.lease_lost() => match lost {
                Some(lost) => lost,
                None => break,
            },
        };
        match executor.claim(&config.worker_id, None).await {
            Ok(Some(run)) => {
                let stop = Stop {
                    shutdown: shutdown.child_token(),
                    lease_lost,
                };
                running.spawn(async move {
                    run.execute(stop).await;
                    drop(permit);
                });
                continue;
            }
            Ok(None) => drop(permit),
            Err(e) => {
                drop(permit);
                tracing::error!(kind = kind.as_str(), error = %e, "cannot claim work; retrying");
            }
        }
        // Idle: wait for new work, the next poll, or shutdown.
        let poll = tokio::time::sleep(config.poll_interval.max(Duration::from_millis(10)));
        tokio::pin!(poll);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = &mut poll => break,
                _ = async {
                    match nudged.as_mut().as_pin_mut() {
                        Some(notified) => notified.await,
                        None => std::future::pending().await,
                    }
                } => break,
                event = wake.recv() => match event {
                    Ok(JobEvent::Resync) | Err(RecvError::Lagged(_)) => break,
                    Ok(event) if executor.woken_by(&event) => break,
                    Ok(_) => continue,
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
}

/// Keeps `fast_flights_queue_depth` and `fast_flights_queue_oldest_seconds` for one kind:
/// the figures an autoscaler of that kind's workers needs.
async fn queue_stats(store: Store, kind: LeaseKind, shutdown: CancellationToken) {
    let depth = metrics::gauge!("fast_flights_queue_depth", "kind" => kind.as_str());
    let oldest = metrics::gauge!("fast_flights_queue_oldest_seconds", "kind" => kind.as_str());
    loop {
        match store.queue_stats(kind).await {
            Ok((n, since)) => {
                depth.set(n as f64);
                let age = since.map_or(0.0, |t| {
                    (store.now() - t).num_milliseconds().max(0) as f64 / 1000.0
                });
                oldest.set(age);
            }
            Err(e) => tracing::debug!(kind = kind.as_str(), error = %e, "cannot read the queue"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(QUEUE_STATS_EVERY) => {}
        }
    }
}
