use std::time::Duration;

use async_graphql::{Context, Result, Subscription};
use futures::Stream;
use store::JobEvent;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::ApiContext;
use super::jobs::visible_job;
use super::types::JobProgress;

#[derive(Default)]
pub struct ProgressSubscription;

/// Counts open `jobProgress` streams for `/metrics`, whatever ends them.
struct ActiveSubscription;

impl ActiveSubscription {
    fn new() -> Self {
        metrics::gauge!("fast_flights_active_subscriptions").increment(1.0);
        Self
    }
}

impl Drop for ActiveSubscription {
    fn drop(&mut self) {
        metrics::gauge!("fast_flights_active_subscriptions").decrement(1.0);
    }
}

/// With no event for this long, the subscription reads the job again: events from a
/// worker in another process do not reach this one's in-memory bus.
const REFRESH_AFTER: Duration = Duration::from_secs(2);

/// Whether `next` should be sent after `last`. The snapshot read at subscription time may
/// be newer than events still queued, so older progress is skipped; a terminal state is
/// always sent, since it ends the stream.
fn is_newer(next: &domain::JobProgress, last: &domain::JobProgress) -> bool {
    if last.status.is_terminal() || next == last {
        return false;
    }
    next.status.is_terminal() || next.completed_tasks >= last.completed_tasks
}

#[Subscription]
impl ProgressSubscription {
    /// The job's current progress at once, then an event per checkpoint and status
    /// change, until the job ends.
    async fn job_progress(
        &self,
        ctx: &Context<'_>,
        job_id: Uuid,
    ) -> Result<impl Stream<Item = JobProgress> + use<>> {
        let api = ctx.data::<ApiContext>()?.clone();
        // Subscribe before reading the snapshot so no event falls between the two.
        let mut events = api.events.subscribe();
        let snapshot = visible_job(ctx, &api, job_id).await?.progress();
        Ok(async_stream::stream! {
            let _active = ActiveSubscription::new();
            let mut last = snapshot;
            yield JobProgress::from(last.clone());
            let mut refresh_at = tokio::time::Instant::now() + REFRESH_AFTER;
            while !last.status.is_terminal() {
                let event = tokio::time::timeout_at(refresh_at, events.recv()).await;
                // Other jobs' events do not put the refresh off.
                let about_others = match &event {
                    Ok(Ok(JobEvent::Progress(p))) => p.job_id != job_id,
                    Ok(Ok(JobEvent::Queued(_) | JobEvent::Import(_))) => true,
                    Ok(Ok(JobEvent::Resync)) => false,
                    _ => false,
                };
                if !about_others {
                    refresh_at = tokio::time::Instant::now() + REFRESH_AFTER;
                }
                let next = match event {
                    Ok(Ok(JobEvent::Progress(p))) if p.job_id == job_id => {
                        let lag = (chrono::Utc::now() - p.updated_at).num_microseconds().unwrap_or(0);
                        metrics::histogram!("fast_flights_event_lag_seconds").record(lag.max(0) as f64 / 1e6);
                        p
                    }
                    Ok(Ok(JobEvent::Progress(_) | JobEvent::Queued(_) | JobEvent::Import(_))) => continue,
                    Ok(Err(RecvError::Closed)) => break,
                    // Missed events, or none for a while: read where the job is now.
                    Ok(Ok(JobEvent::Resync)) | Ok(Err(RecvError::Lagged(_))) | Err(_) => {
                        match api.store.job(job_id).await {
                        Ok(Some(job)) => job.progress(),
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot refresh job progress; retrying");
                            continue;
                        }
                    }},
                };
                if is_newer(&next, &last) {
                    last = next;
                    yield JobProgress::from(last.clone());
                }
            }
        })
    }
}
