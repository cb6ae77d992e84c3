//! Job events between the parts of a process: progress for subscribers, wake-ups for
//! workers. The in-memory bus serves one process; a database-backed bus can take its
//! place behind the same trait.

use tokio::sync::broadcast;
use uuid::Uuid;

use domain::JobProgress;

#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// A job was created and waits for a worker.
    Queued(Uuid),
    /// A job checkpointed or changed status.
    Progress(JobProgress),
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
