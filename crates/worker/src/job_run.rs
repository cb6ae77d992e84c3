//! Running one claimed job: tasks through a bounded window, checkpoints every N tasks or
//! T milliseconds, and a last checkpoint whatever ends the run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{JobStatus, TaskCursor, TaskPlan};
use futures::StreamExt;
use providers::{FlightProvider, ProviderError, Source, Unanswered};
use store::{
    Checkpoint, CheckpointOutcome, ClaimedJob, ERROR_SAMPLE_SIZE, Finish, JobEvent, JobRecord,
    Lease, LeaseState, NewOffer, TaskError,
};
use tracing::Instrument;

use crate::{Outcome, Run, SearchExecutor, Stop};

/// Why a run of a search ended other than with the job's end; told to the Runner as an
/// [`Outcome`].
#[derive(Debug)]
enum RunError {
    /// Shutdown: the job was checkpointed and its lease given up.
    Released,
    /// Another worker holds the job now, or may: nothing more is written.
    LeaseLost,
    /// The database failed even after retries; the lease expires and the job resumes
    /// from its last checkpoint.
    Store(store::StoreError),
}

pub(crate) struct JobRun {
    exec: SearchExecutor,
    claimed: ClaimedJob,
}

struct TaskOutcome {
    index: u64,
    provider: String,
    offers: Vec<NewOffer>,
    error: Option<ProviderError>,
    /// How the task was answered: by its own provider call, or by the answer cache.
    asked: Asked,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// Nothing to ask (or no provider to ask).
    Nobody,
    Provider,
    Cache,
}

/// Work finished since the last checkpoint.
#[derive(Default)]
struct Pending {
    offers: Vec<NewOffer>,
    completed: u64,
    failed: u64,
    errors: Vec<TaskError>,
    cache_hits: u64,
    provider_calls: u64,
}

/// What a user asked of a running job; cancelling wins over pausing.
fn requested_stop(cancel: bool, pause: bool) -> Option<Finish> {
    if cancel {
        Some(Finish::Cancelled)
    } else if pause {
        Some(Finish::Paused)
    } else {
        None
    }
}

/// Tasks a job must have finished before its failure share is judged while it runs.
const FAILURE_POLICY_MIN_TASKS: u64 = 100;

/// How far past the low-water mark tasks may run. It bounds the set of indices done out of
/// order (kept in memory and written at every checkpoint) even when one call hangs.
const MAX_SPREAD: u64 = 10_000;

/// The indices still to run, in order, decoded lazily from a snapshot of the cursor.
struct PendingIndices {
    cursor: TaskCursor,
    next: u64,
    total: u64,
}

impl Iterator for PendingIndices {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        while self.next < self.total {
            let i = self.next;
            self.next += 1;
            if !self.cursor.is_done(i) {
                return Some(i);
            }
        }
        None
    }
}

/// How a checkpoint leaves the job.
enum CheckpointEnd {
    /// It goes on running under a renewed lease.
    Continue,
    /// It ends (or pauses) and gives its lease up.
    Finish(Finish),
    /// It keeps running but gives its lease up, for any worker to resume (shutdown).
    Release,
}

/// What the run should do after a task finished.
enum Step {
    Continue,
    Checkpoint,
    Finish(Finish),
}

/// A running search between checkpoints: one method per input (a task finished, a tick,
/// a user's request), each saying what happens next.
struct RunState {
    exec: SearchExecutor,
    lease: Lease,
    job_id: uuid::Uuid,
    total: u64,
    /// Failed tasks of earlier runs of this job.
    failed_before: u64,
    cursor: TaskCursor,
    low_water: tokio::sync::watch::Sender<u64>,
    pending: Pending,
    failed_this_run: u64,
    last_error: Option<String>,
    /// Tasks completed as of the last committed checkpoint.
    completed_total: u64,
    rate: RateMeter,
}

impl RunState {
    fn on_task(&mut self, outcome: TaskOutcome) -> Step {
        if !self.cursor.mark_done(outcome.index) {
            return Step::Continue;
        }
        let low_water = self.cursor.low_water();
        self.low_water.send_if_modified(|lw| {
            let moved = *lw != low_water;
            *lw = low_water;
            moved
        });
        self.pending.completed += 1;
        match outcome.asked {
            Asked::Nobody => {}
            Asked::Provider => self.pending.provider_calls += 1,
            Asked::Cache => self.pending.cache_hits += 1,
        }
        self.pending.offers.extend(outcome.offers);
        if let Some(e) = outcome.error {
            self.pending.failed += 1;
            self.failed_this_run += 1;
            self.last_error = Some(e.to_string());
            if self.pending.errors.len() >= ERROR_SAMPLE_SIZE {
                self.pending.errors.remove(0);
            }
            self.pending.errors.push(TaskError {
                task_index: outcome.index,
                provider: outcome.provider,
                message: e.to_string(),
                at: chrono::Utc::now(),
            });
            tracing::debug!(task = outcome.index, error = %e, "task failed");
            if matches!(e, ProviderError::Down(_)) {
                // Trying the other tasks cannot help.
                return Step::Finish(Finish::Failed(format!(
                    "a provider cannot serve this search: {e}"
                )));
            }
        }
        if self.pending.completed >= self.exec.config.checkpoint_every_tasks {
            Step::Checkpoint
        } else {
            Step::Continue
        }
    }

    /// Every task ran: the failure policy judges the whole job.
    fn on_all_tasks_done(&self) -> Finish {
        let failed = self.failed_before + self.failed_this_run;
        self.failure_policy(failed, self.total, true)
            .unwrap_or(Finish::Succeeded)
    }

    /// A cancel or pause request, as an event.
    fn on_event(&self, event: &JobEvent) -> Option<Finish> {
        match event {
            JobEvent::Progress(p) if p.job_id == self.job_id && p.status == JobStatus::Running => {
                requested_stop(p.cancel_requested, p.pause_requested)
            }
            _ => None,
        }
    }

    /// The heartbeat: a checkpoint if there is news, else a lease renewal; either way it
    /// learns of requests made since.
    async fn on_tick(&mut self) -> Result<Option<Finish>, RunError> {
        if self.pending.completed > 0 {
            return self.checkpoint_and_judge().await;
        }
        match self
            .exec
            .store
            .renew_lease(&mut self.lease, self.exec.config.lease_ttl)
            .await
        {
            Ok(LeaseState::Held {
                cancel_requested,
                pause_requested,
            }) => Ok(requested_stop(cancel_requested, pause_requested)),
            Ok(LeaseState::Lost) => Err(RunError::LeaseLost),
            Err(e) => Err(RunError::Store(e)),
        }
    }

    /// A checkpoint on the way, then whether the job should stop: on request, or by the
    /// failure policy.
    async fn checkpoint_and_judge(&mut self) -> Result<Option<Finish>, RunError> {
        let job = self.commit(CheckpointEnd::Continue).await?;
        Ok(requested_stop(job.cancel_requested, job.pause_requested)
            .or_else(|| self.failure_policy(job.failed_tasks, job.completed_tasks, false)))
    }

    /// Fails the job once more than `max_failed_share` of its tasks failed: judged after
    /// `FAILURE_POLICY_MIN_TASKS` tasks while running, and on every task at the end.
    fn failure_policy(&self, failed: u64, completed: u64, at_end: bool) -> Option<Finish> {
        let share = self.exec.config.max_failed_share;
        if completed == 0 || (!at_end && completed < FAILURE_POLICY_MIN_TASKS) {
            return None;
        }
        let all_failed = at_end && failed >= completed;
        let last = self.last_error.as_deref().unwrap_or("unknown");
        if all_failed {
            return Some(Finish::Failed(format!(
                "all {completed} provider queries failed; last error: {last}"
            )));
        }
        (failed as f64 > share * completed as f64).then(|| {
            Finish::Failed(format!(
                "{failed} of {completed} provider queries failed, more than the {}% allowed; last error: {last}",
                (share * 100.0).round(),
            ))
        })
    }

    /// Everything since the last checkpoint, as one.
    fn take_checkpoint(&mut self, end: CheckpointEnd) -> Checkpoint {
        let taken = std::mem::take(&mut self.pending);
        let tasks_per_second = self.rate.record(taken.completed);
        let remaining = self
            .total
            .saturating_sub(self.completed_total + taken.completed);
        let eta_seconds =
            (tasks_per_second > 0.0).then(|| (remaining as f64 / tasks_per_second).ceil() as u64);
        let (finish, release) = match end {
            CheckpointEnd::Continue => (None, false),
            CheckpointEnd::Finish(finish) => (Some(finish), false),
            CheckpointEnd::Release => (None, true),
        };
        Checkpoint {
            offers: taken.offers,
            completed: taken.completed,
            failed: taken.failed,
            errors: taken.errors,
            cache_hits: taken.cache_hits,
            provider_calls: taken.provider_calls,
            cursor: self.cursor.clone(),
            tasks_per_second,
            eta_seconds,
            lease_ttl: self.exec.config.lease_ttl,
            finish,
            release,
        }
    }

    /// Commits a checkpoint and tells subscribers. A database error is tried again a few
    /// times before the run gives up.
    async fn commit(&mut self, end: CheckpointEnd) -> Result<JobRecord, RunError> {
        const BACKOFF_MS: [u64; 3] = [200, 1_000, 3_000];
        let cp = self.take_checkpoint(end);
        let store = &self.exec.store;
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let result = store.checkpoint(&mut self.lease, &cp).await;
            metrics::histogram!("fast_flights_checkpoint_duration_seconds")
                .record(started.elapsed().as_secs_f64());
            match result {
                Ok(CheckpointOutcome::Committed(job)) => {
                    if !store.events_in_transaction() {
                        self.exec.events.publish(JobEvent::Progress(job.progress()));
                    }
                    self.completed_total = job.completed_tasks;
                    return Ok(*job);
                }
                Ok(CheckpointOutcome::LeaseLost) => return Err(RunError::LeaseLost),
                Err(e) if attempt < BACKOFF_MS.len() => {
                    tracing::warn!(error = %e, attempt, "checkpoint failed; trying again");
                    tokio::time::sleep(Duration::from_millis(BACKOFF_MS[attempt])).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::error!(error = %e, "checkpoint failed; giving the job up");
                    return Err(RunError::Store(e));
                }
            }
        }
    }
}

impl JobRun {
    pub(crate) fn new(exec: SearchExecutor, claimed: ClaimedJob) -> Self {
        if let Some(previous) = &claimed.taken_over_from {
            metrics::counter!("fast_flights_lease_takeovers_total").increment(1);
            tracing::warn!(job_id = %claimed.job.id, from = %previous, "took over a job its worker had left");
        }
        Self { exec, claimed }
    }

    async fn execute_inner(self, stop: Stop) -> Result<JobStatus, RunError> {
        let JobRun { exec, claimed } = self;
        let job = claimed.job;
        let config = Arc::clone(&exec.config);
        let spec = Arc::new(job.spec.clone());
        let plan = Arc::new(TaskPlan::new(&spec));
        let total = job.total_tasks.min(plan.len());
        let providers: Arc<HashMap<String, Arc<dyn FlightProvider>>> = Arc::new(
            spec.providers
                .iter()
                .filter_map(|name| exec.providers.get(name).map(|p| (name.clone(), p)))
                .collect(),
        );
        tracing::info!(total, done = job.cursor.done_count(), "running job");
        exec.events.publish(JobEvent::Progress(job.progress()));

        let (low_water, low_water_rx) = tokio::sync::watch::channel(job.cursor.low_water());
        let indices = PendingIndices {
            cursor: job.cursor.clone(),
            next: job.cursor.low_water(),
            total,
        };
        let gated = futures::stream::unfold(
            (indices, low_water_rx),
            |(mut indices, mut low_water)| async move {
                let index = indices.next()?;
                while index >= low_water.borrow().saturating_add(MAX_SPREAD) {
                    if low_water.changed().await.is_err() {
                        break;
                    }
                }
                Some((index, (indices, low_water)))
            },
        );
        let timeout = config.provider_timeout;
        let mut tasks = gated
            .map(|index| {
                let (plan, spec, providers) =
                    (Arc::clone(&plan), Arc::clone(&spec), Arc::clone(&providers));
                async move { run_task(index, &plan, &spec, &providers, timeout).await }
            })
            .buffer_unordered(config.task_concurrency.max(1))
            .boxed();

        let heartbeat = config
            .checkpoint_every
            .min(config.lease_ttl / 3)
            .max(Duration::from_millis(10));
        let mut ticker = tokio::time::interval(heartbeat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        // A cancel or pause request reaches the job as an event at once; the lease renewal
        // at each tick would see it too, within a checkpoint interval.
        let mut requests = exec.events.subscribe();
        let mut requests_open = true;

        let mut state = RunState {
            lease: claimed.lease,
            job_id: job.id,
            total,
            failed_before: job.failed_tasks,
            cursor: job.cursor.clone(),
            low_water,
            pending: Pending::default(),
            failed_this_run: 0,
            last_error: None,
            completed_total: job.completed_tasks,
            rate: RateMeter::new(job.tasks_per_second),
            exec,
        };
        let finish = loop {
            let next = tokio::select! {
                biased;
                _ = stop.lease_lost.cancelled() => return Err(RunError::LeaseLost),
                _ = stop.shutdown.cancelled() => {
                    state.commit(CheckpointEnd::Release).await?;
                    return Err(RunError::Released);
                }
                request = requests.recv(), if requests_open => match request {
                    Ok(event) => state.on_event(&event),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        requests_open = false;
                        None
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                },
                _ = ticker.tick() => state.on_tick().await?,
                outcome = tasks.next() => match outcome {
                    None => Some(state.on_all_tasks_done()),
                    Some(outcome) => match state.on_task(outcome) {
                        Step::Continue => None,
                        Step::Finish(finish) => Some(finish),
                        Step::Checkpoint => {
                            let finish = state.checkpoint_and_judge().await?;
                            ticker.reset();
                            finish
                        }
                    },
                },
            };
            if let Some(finish) = next {
                break finish;
            }
        };
        drop(tasks);
        let job = state.commit(CheckpointEnd::Finish(finish)).await?;
        tracing::info!(
            status = job.status.as_str(),
            found = job.found_flights,
            "job ended"
        );
        Ok(job.status)
    }
}

#[async_trait::async_trait]
impl Run for JobRun {
    async fn execute(self: Box<Self>, stop: Stop) -> Outcome {
        let span = tracing::info_span!(
            "job",
            job_id = %self.claimed.job.id,
            worker = %self.exec.config.worker_id,
            attempt = self.claimed.job.attempts
        );
        match self.execute_inner(stop).instrument(span).await {
            Ok(status) => Outcome::Finished(status.as_str()),
            Err(RunError::Released) => Outcome::Released,
            Err(RunError::LeaseLost) => {
                tracing::warn!("lease lost; another worker may own this job now");
                Outcome::LeaseLost
            }
            Err(RunError::Store(e)) => Outcome::Aborted(e.to_string()),
        }
    }
}

async fn run_task(
    index: u64,
    plan: &TaskPlan,
    spec: &domain::SearchSpec,
    providers: &HashMap<String, Arc<dyn FlightProvider>>,
    timeout: Duration,
) -> TaskOutcome {
    let failed = |provider: &str, error, asked| TaskOutcome {
        index,
        provider: provider.to_string(),
        offers: Vec::new(),
        error: Some(error),
        asked,
    };
    let Some(task) = plan.task(index) else {
        return failed(
            "",
            ProviderError::InvalidQuery(format!("no task {index} in the plan")),
            Asked::Nobody,
        );
    };
    let Some(provider) = providers.get(&task.provider) else {
        return failed(
            &task.provider,
            ProviderError::Down(format!(
                "provider `{}` is not configured in this worker",
                task.provider
            )),
            Asked::Nobody,
        );
    };
    if task.destinations.is_empty() {
        // The destination chunk held only the origin: nothing to ask.
        return TaskOutcome {
            index,
            provider: task.provider.clone(),
            offers: Vec::new(),
            error: None,
            asked: Asked::Nobody,
        };
    }
    let query = task.query(spec);
    let started = Instant::now();
    let answer = tokio::time::timeout(timeout, provider.answer(&query))
        .await
        .unwrap_or(Err(Unanswered {
            error: ProviderError::Timeout(timeout),
            called: true,
        }));
    let outcome = if answer.is_ok() {
        "completed"
    } else {
        "failed"
    };
    metrics::histogram!("fast_flights_provider_latency_seconds", "provider" => task.provider.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("fast_flights_tasks_total", "provider" => task.provider.clone(), "outcome" => outcome)
        .increment(1);
    match answer {
        Ok(answer) => {
            let (fetched_at, asked) = match answer.source {
                Source::Provider => (None, Asked::Provider),
                Source::Cache { fetched_at } => (Some(fetched_at), Asked::Cache),
            };
            let total = answer.offers.len();
            let offers: Vec<NewOffer> = answer
                .offers
                .into_iter()
                .filter_map(|offer| normalise(&query, &task.provider, index, offer, fetched_at))
                .collect();
            if offers.len() < total {
                let dropped = (total - offers.len()) as u64;
                tracing::warn!(
                    provider = %task.provider,
                    task = index,
                    dropped,
                    "the provider answered offers outside the query or that cannot be flown (a return before the outbound lands); they were dropped"
                );
                metrics::counter!("fast_flights_offers_dropped_total", "provider" => task.provider.clone())
                    .increment(dropped);
            }
            TaskOutcome {
                index,
                provider: task.provider.clone(),
                offers,
                error: None,
                asked,
            }
        }
        // A failed call shared with an identical query in flight was not this task's.
        Err(e) => failed(
            &task.provider,
            e.error,
            if e.called {
                Asked::Provider
            } else {
                Asked::Nobody
            },
        ),
    }
}

/// Dates an offer by its airports' local time and keeps it only if the query asked for it
/// and it can be flown.
fn normalise(
    query: &domain::FlightQuery,
    provider: &str,
    index: u64,
    mut offer: domain::FlightOffer,
    fetched_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<NewOffer> {
    let db = domain::AirportDb::embedded();
    let departure_date = offer
        .departure_at
        .with_timezone(&db.get(offer.origin)?.tz)
        .date_naive();
    let return_date = match offer.return_departure_at {
        None => None,
        Some(at) => Some(
            at.with_timezone(&db.get(offer.destination)?.tz)
                .date_naive(),
        ),
    };
    if !query.covers(&offer, departure_date, return_date) || !offer.is_possible() {
        return None;
    }
    // Unique per job across providers, stable across redone tasks.
    offer.key = format!("{provider}:{}", offer.key);
    offer.provider = provider.to_string();
    Some(NewOffer {
        task_index: index,
        departure_date,
        return_date,
        offer,
        fetched_at,
    })
}

/// Tasks per second, smoothed over checkpoints.
struct RateMeter {
    last: Instant,
    rate: f64,
}

impl RateMeter {
    fn new(initial: f64) -> Self {
        Self {
            last: Instant::now(),
            rate: initial,
        }
    }

    fn record(&mut self, completed: u64) -> f64 {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).max(Duration::from_millis(1));
        self.last = now;
        let instant = completed as f64 / elapsed.as_secs_f64();
        self.rate = if self.rate <= 0.0 {
            instant
        } else {
            0.7 * self.rate + 0.3 * instant
        };
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use domain::{AirportCode, Cabin, Currency, FlightOffer, FlightQuery, Money, NightsRange};

    fn code(raw: &str) -> AirportCode {
        AirportCode::parse(raw).expect("code")
    }

    fn round_trip_query() -> FlightQuery {
        FlightQuery {
            origin: code("LHR"),
            destinations: vec![code("BKK")],
            departure_from: "2027-03-01".parse().expect("date"),
            departure_to: "2027-03-01".parse().expect("date"),
            nights: Some(NightsRange { min: 0, max: 1 }),
            adults: 1,
            cabin: Cabin::Economy,
            max_stops: None,
            max_price: None,
            currency: Currency::EUR,
        }
    }

    /// Leaves LHR 2027-03-01 10:00 UTC and lands 12 hours later; the return leaves BKK
    /// at `return_hour` UTC on 2027-03-02.
    fn offer(return_hour: u32) -> FlightOffer {
        let at = |d, h| {
            Utc.with_ymd_and_hms(2027, 3, d, h, 0, 0)
                .single()
                .expect("time")
        };
        FlightOffer {
            key: "k".into(),
            provider: String::new(),
            origin: code("LHR"),
            destination: code("BKK"),
            departure_at: at(1, 10),
            arrival_at: at(1, 22),
            return_departure_at: Some(at(2, return_hour)),
            return_arrival_at: Some(at(2, return_hour) + chrono::Duration::hours(13)),
            carrier: "XQ".into(),
            flight_numbers: vec!["XQ1".into(), "XQ2".into()],
            stops: 0,
            duration_minutes: 25 * 60,
            price: Money::new(50_000, Currency::EUR).expect("money"),
            cabin: Cabin::Economy,
            segments: Vec::new(),
            expires_at: None,
            deep_link: None,
            booking_token: None,
            raw: None,
        }
    }

    #[test]
    fn a_return_before_the_outbound_lands_is_dropped() {
        let query = round_trip_query();
        // Lands 22:00 UTC on the 1st; a return at 03:00 UTC on the 2nd (10:00 in Bangkok,
        // one night) can be flown.
        let kept = normalise(&query, "p", 0, offer(3), None).expect("a possible trip is kept");
        assert_eq!(kept.offer.key, "p:k");
        // The same stay on paper, but the return leaves before the outbound lands.
        let mut impossible = offer(3);
        impossible.arrival_at =
            impossible.return_departure_at.expect("return") + chrono::Duration::hours(1);
        assert!(normalise(&query, "p", 0, impossible, None).is_none());
        // A leg that lands before it leaves.
        let mut backwards = offer(3);
        backwards.arrival_at = backwards.departure_at - chrono::Duration::hours(1);
        assert!(normalise(&query, "p", 0, backwards, None).is_none());
    }
}
