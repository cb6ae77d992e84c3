//! Running one claimed job: tasks through a bounded window, checkpoints every N tasks or
//! T milliseconds, and a last checkpoint whatever ends the run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{JobStatus, TaskCursor, TaskPlan};
use futures::StreamExt;
use providers::{FlightProvider, ProviderError};
use store::{
    Checkpoint, CheckpointOutcome, ClaimedJob, ERROR_SAMPLE_SIZE, Finish, JobEvent, JobRecord,
    Lease, LeaseState, NewOffer, TaskError,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::Worker;

/// How a run of a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The job reached a terminal status.
    Finished(JobStatus),
    /// The process is shutting down; the job was checkpointed and released.
    Released,
    /// Another worker holds the job now; nothing more was written.
    LeaseLost,
    /// The database failed; the lease will expire and the job resume elsewhere.
    Aborted(String),
}

pub(crate) struct JobRun {
    worker: Worker,
    lease: Lease,
    job: JobRecord,
}

struct TaskOutcome {
    index: u64,
    provider: String,
    offers: Vec<NewOffer>,
    error: Option<ProviderError>,
}

/// Work finished since the last checkpoint.
#[derive(Default)]
struct Pending {
    offers: Vec<NewOffer>,
    completed: u64,
    failed: u64,
    errors: Vec<TaskError>,
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

impl JobRun {
    pub(crate) fn new(worker: Worker, claimed: ClaimedJob) -> Self {
        if let Some(previous) = &claimed.taken_over_from {
            metrics::counter!("fast_flights_lease_takeovers_total").increment(1);
            tracing::warn!(job_id = %claimed.job.id, from = %previous, "took over a job whose lease expired");
        }
        Self {
            worker,
            lease: claimed.lease,
            job: claimed.job,
        }
    }

    pub(crate) async fn execute(self, stop: CancellationToken) -> RunOutcome {
        let span = tracing::info_span!(
            "job",
            job_id = %self.job.id,
            worker = %self.worker.config.worker_id,
            attempt = self.job.attempts
        );
        self.execute_inner(stop).instrument(span).await
    }

    async fn execute_inner(self, stop: CancellationToken) -> RunOutcome {
        let config = Arc::clone(&self.worker.config);
        let store = self.worker.store.clone();
        let spec = Arc::new(self.job.spec.clone());
        let plan = Arc::new(TaskPlan::new(&spec));
        let total = self.job.total_tasks.min(plan.len());
        let providers: Arc<HashMap<String, Arc<dyn FlightProvider>>> = Arc::new(
            spec.providers
                .iter()
                .filter_map(|name| self.worker.providers.get(name).map(|p| (name.clone(), p)))
                .collect(),
        );
        tracing::info!(total, done = self.job.cursor.done_count(), "running job");
        self.worker
            .events
            .publish(JobEvent::Progress(self.job.progress()));

        let mut cursor = self.job.cursor.clone();
        let mut run_failed = 0u64;
        let mut last_error: Option<String> = None;
        let mut completed_total = self.job.completed_tasks;
        let mut rate = RateMeter::new(self.job.tasks_per_second);
        let mut pending = Pending::default();

        let indices = PendingIndices {
            cursor: cursor.clone(),
            next: cursor.low_water(),
            total,
        };
        let (low_water_tx, low_water_rx) = tokio::sync::watch::channel(cursor.low_water());
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
        let mut requests = self.worker.events.subscribe();
        let mut requests_closed = false;

        let finish = loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => {
                    let cp = self.checkpoint(&mut pending, &cursor, &mut rate, total, completed_total, None, true);
                    return match self.commit(cp).await {
                        Ok(Some(_)) => RunOutcome::Released,
                        Ok(None) => RunOutcome::LeaseLost,
                        Err(e) => RunOutcome::Aborted(e),
                    };
                }
                request = requests.recv(), if !requests_closed => match request {
                    Ok(JobEvent::Progress(p))
                        if p.job_id == self.job.id && p.status == JobStatus::Running =>
                    {
                        if let Some(finish) = requested_stop(p.cancel_requested, p.pause_requested) {
                            break finish;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => requests_closed = true,
                    _ => {}
                },
                _ = ticker.tick() => {
                    let state = if pending.completed == 0 {
                        match store.renew_lease(&self.lease, config.lease_ttl).await {
                            Ok(LeaseState::Held { cancel_requested, pause_requested }) => {
                                Ok(Some(requested_stop(cancel_requested, pause_requested)))
                            }
                            Ok(LeaseState::Lost) => Ok(None),
                            Err(e) => Err(e.to_string()),
                        }
                    } else {
                        let cp = self.checkpoint(&mut pending, &cursor, &mut rate, total, completed_total, None, false);
                        self.commit(cp).await.map(|r| r.map(|job| {
                            completed_total = job.completed_tasks;
                            self.after_checkpoint(&job, &last_error)
                        }))
                    };
                    match state {
                        Ok(Some(Some(finish))) => break finish,
                        Ok(Some(None)) => {}
                        Ok(None) => return RunOutcome::LeaseLost,
                        Err(e) => return RunOutcome::Aborted(e),
                    }
                }
                outcome = tasks.next() => {
                    let Some(outcome) = outcome else {
                        let failed = self.job.failed_tasks + run_failed;
                        break self
                            .failure_policy(failed, total, &last_error, true)
                            .unwrap_or(Finish::Succeeded);
                    };
                    if !cursor.mark_done(outcome.index) {
                        continue;
                    }
                    low_water_tx.send_if_modified(|lw| {
                        let moved = *lw != cursor.low_water();
                        *lw = cursor.low_water();
                        moved
                    });
                    pending.completed += 1;
                    pending.offers.extend(outcome.offers);
                    if let Some(e) = outcome.error {
                        pending.failed += 1;
                        run_failed += 1;
                        last_error = Some(e.to_string());
                        if pending.errors.len() >= ERROR_SAMPLE_SIZE {
                            pending.errors.remove(0);
                        }
                        pending.errors.push(TaskError {
                            task_index: outcome.index,
                            provider: outcome.provider.clone(),
                            message: e.to_string(),
                            at: chrono::Utc::now(),
                        });
                        tracing::debug!(task = outcome.index, error = %e, "task failed");
                        if matches!(e, ProviderError::Down(_)) {
                            // Trying the other tasks cannot help.
                            break Finish::Failed(format!("a provider cannot serve this search: {e}"));
                        }
                    }
                    if pending.completed >= config.checkpoint_every_tasks {
                        let cp = self.checkpoint(&mut pending, &cursor, &mut rate, total, completed_total, None, false);
                        match self.commit(cp).await {
                            Ok(Some(job)) => {
                                completed_total = job.completed_tasks;
                                if let Some(finish) = self.after_checkpoint(&job, &last_error) {
                                    break finish;
                                }
                            }
                            Ok(None) => return RunOutcome::LeaseLost,
                            Err(e) => return RunOutcome::Aborted(e),
                        }
                        ticker.reset();
                    }
                }
            }
        };
        drop(tasks);
        let cp = self.checkpoint(
            &mut pending,
            &cursor,
            &mut rate,
            total,
            completed_total,
            Some(finish),
            false,
        );
        match self.commit(cp).await {
            Ok(Some(job)) => {
                tracing::info!(
                    status = job.status.as_str(),
                    found = job.found_flights,
                    "job ended"
                );
                RunOutcome::Finished(job.status)
            }
            Ok(None) => RunOutcome::LeaseLost,
            Err(e) => RunOutcome::Aborted(e),
        }
    }

    /// After a checkpoint: whether the job should stop, on request or by the failure policy.
    fn after_checkpoint(&self, job: &JobRecord, last_error: &Option<String>) -> Option<Finish> {
        requested_stop(job.cancel_requested, job.pause_requested).or_else(|| {
            self.failure_policy(job.failed_tasks, job.completed_tasks, last_error, false)
        })
    }

    /// Fails the job once more than `max_failed_share` of its tasks failed: judged after
    /// `FAILURE_POLICY_MIN_TASKS` tasks while running, and on every task at the end.
    fn failure_policy(
        &self,
        failed: u64,
        completed: u64,
        last_error: &Option<String>,
        at_end: bool,
    ) -> Option<Finish> {
        let share = self.worker.config.max_failed_share;
        if completed == 0 || (!at_end && completed < FAILURE_POLICY_MIN_TASKS) {
            return None;
        }
        let all_failed = at_end && failed >= completed;
        (all_failed || failed as f64 > share * completed as f64).then(|| {
            Finish::Failed(format!(
                "{failed} of {completed} provider queries failed, more than the {}% allowed; last error: {}",
                (share * 100.0).round(),
                last_error.as_deref().unwrap_or("unknown")
            ))
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn checkpoint(
        &self,
        pending: &mut Pending,
        cursor: &TaskCursor,
        rate: &mut RateMeter,
        total: u64,
        completed_before: u64,
        finish: Option<Finish>,
        release: bool,
    ) -> Checkpoint {
        let taken = std::mem::take(pending);
        let tasks_per_second = rate.record(taken.completed);
        let remaining = total.saturating_sub(completed_before + taken.completed);
        let eta_seconds =
            (tasks_per_second > 0.0).then(|| (remaining as f64 / tasks_per_second).ceil() as u64);
        Checkpoint {
            offers: taken.offers,
            completed: taken.completed,
            failed: taken.failed,
            errors: taken.errors,
            cursor: cursor.clone(),
            tasks_per_second,
            eta_seconds,
            lease_ttl: self.worker.config.lease_ttl,
            finish,
            release,
        }
    }

    /// Commits a checkpoint and tells subscribers. `Ok(None)`: the lease was lost. A
    /// database error is tried again a few times before the run gives up (its lease then
    /// expires and the job resumes from its last checkpoint).
    async fn commit(&self, cp: Checkpoint) -> Result<Option<JobRecord>, String> {
        const BACKOFF_MS: [u64; 3] = [200, 1_000, 3_000];
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let result = self.worker.store.checkpoint(&self.lease, cp.clone()).await;
            metrics::histogram!("fast_flights_checkpoint_duration_seconds")
                .record(started.elapsed().as_secs_f64());
            match result {
                Ok(CheckpointOutcome::Committed(job)) => {
                    if !self.worker.store.events_in_transaction() {
                        self.worker
                            .events
                            .publish(JobEvent::Progress(job.progress()));
                    }
                    return Ok(Some(*job));
                }
                Ok(CheckpointOutcome::LeaseLost) => {
                    tracing::warn!("lease lost; another worker owns this job now");
                    return Ok(None);
                }
                Err(e) if attempt < BACKOFF_MS.len() => {
                    tracing::warn!(error = %e, attempt, "checkpoint failed; trying again");
                    tokio::time::sleep(Duration::from_millis(BACKOFF_MS[attempt])).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::error!(error = %e, "checkpoint failed; giving the job up");
                    return Err(e.to_string());
                }
            }
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
    let failed = |provider: &str, error| TaskOutcome {
        index,
        provider: provider.to_string(),
        offers: Vec::new(),
        error: Some(error),
    };
    let Some(task) = plan.task(index) else {
        return failed(
            "",
            ProviderError::InvalidQuery(format!("no task {index} in the plan")),
        );
    };
    let Some(provider) = providers.get(&task.provider) else {
        return failed(
            &task.provider,
            ProviderError::Down(format!(
                "provider `{}` is not configured in this worker",
                task.provider
            )),
        );
    };
    if task.destinations.is_empty() {
        // The destination chunk held only the origin: nothing to ask.
        return TaskOutcome {
            index,
            provider: task.provider.clone(),
            offers: Vec::new(),
            error: None,
        };
    }
    let query = task.query(spec);
    let started = Instant::now();
    let answer = tokio::time::timeout(timeout, provider.search(&query))
        .await
        .unwrap_or(Err(ProviderError::Timeout(timeout)));
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
        Ok(offers) => {
            let total = offers.len();
            let offers: Vec<NewOffer> = offers
                .into_iter()
                .filter_map(|offer| normalise(&query, &task.provider, index, offer))
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
            }
        }
        Err(e) => failed(&task.provider, e),
    }
}

/// Dates an offer by its airports' local time and keeps it only if the query asked for it
/// and it can be flown.
fn normalise(
    query: &domain::FlightQuery,
    provider: &str,
    index: u64,
    mut offer: domain::FlightOffer,
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
        let kept = normalise(&query, "p", 0, offer(3)).expect("a possible trip is kept");
        assert_eq!(kept.offer.key, "p:k");
        // The same stay on paper, but the return leaves before the outbound lands.
        let mut impossible = offer(3);
        impossible.arrival_at =
            impossible.return_departure_at.expect("return") + chrono::Duration::hours(1);
        assert!(normalise(&query, "p", 0, impossible).is_none());
        // A leg that lands before it leaves.
        let mut backwards = offer(3);
        backwards.arrival_at = backwards.departure_at - chrono::Duration::hours(1);
        assert!(normalise(&query, "p", 0, backwards).is_none());
    }
}
