use async_graphql::{Context, Result, Subscription};
use futures::Stream;
use store::JobEvent;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::ApiContext;
use super::types::JobProgress;
use crate::error::ApiError;

#[derive(Default)]
pub struct ProgressSubscription;

/// Sends `next` unless it is older than what was already sent: the snapshot read at
/// subscription time may be newer than events still in the channel.
fn is_newer(next: &domain::JobProgress, last: &domain::JobProgress) -> bool {
    if next == last {
        return false;
    }
    if last.status.is_terminal() {
        return false;
    }
    next.completed_tasks >= last.completed_tasks && next.updated_at >= last.updated_at
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
        let snapshot = api
            .store
            .job(job_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("search job {job_id}")))?
            .progress();
        Ok(async_stream::stream! {
            let mut last = snapshot;
            yield JobProgress::from(last.clone());
            while !last.status.is_terminal() {
                let next = match events.recv().await {
                    Ok(JobEvent::Progress(p)) if p.job_id == job_id => p,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => {
                        // Missed events: a fresh snapshot says where the job is now.
                        match api.store.job(job_id).await {
                            Ok(Some(job)) => job.progress(),
                            _ => break,
                        }
                    }
                    Err(RecvError::Closed) => break,
                };
                if is_newer(&next, &last) {
                    last = next;
                    yield JobProgress::from(last.clone());
                }
            }
        })
    }
}
