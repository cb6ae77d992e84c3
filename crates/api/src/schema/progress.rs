use async_graphql::{Context, Result, Subscription};
use futures::Stream;
use uuid::Uuid;

use super::jobs::visible_job;
use super::live::LiveFeed;
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
        // Follow before reading the snapshot so no event falls between the two.
        let mut follower = ctx.data::<LiveFeed>()?.job(job_id);
        let snapshot = visible_job(ctx, job_id).await?.progress();
        Ok(async_stream::stream! {
            let _active = ActiveSubscription::new();
            let mut last = snapshot;
            yield JobProgress::from(last.clone());
            while !last.status.is_terminal() {
                let Some(next) = follower.next().await else { break };
                if is_newer(&next, &last) {
                    last = next;
                    yield JobProgress::from(last.clone());
                }
            }
        })
    }
}
