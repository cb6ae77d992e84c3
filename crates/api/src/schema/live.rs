//! One reader of the event bus for every subscription of this process. Idle subscriptions
//! read nothing: `jobProgress` takes the progress an event carries; what must be read
//! (an import that moved on, a job queued or ended for `notifications`, everything
//! followed after a `Resync` or a lag) is read once here and shared by all subscribers,
//! however many there are. Where events from other processes cannot arrive (SQLite with
//! the worker in another process), what is followed is read again every second, still
//! once per item for all of its subscribers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use domain::JobProgress;
use store::{BookingRecord, EventBus, ImportRecord, JobEvent, JobRecord, Store};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

/// What `notifications` hears about, read once for all of its subscribers.
#[derive(Clone)]
pub enum News {
    /// A job was queued (started or resumed).
    Queued(Arc<JobRecord>),
    /// A job reached a terminal state.
    JobEnded(Arc<JobRecord>),
    /// An import moved on (it may have ended).
    Import(Arc<ImportRecord>),
    /// A booking was stored or changed.
    Booking(Arc<BookingRecord>),
}

/// Subscribers' `notifications` may fall this far behind before they miss news.
const NEWS_QUEUE: usize = 1024;

pub struct LiveFeed {
    inner: Arc<Inner>,
    /// Set once the bus is being read.
    started: OnceLock<()>,
    refresh_every: Option<Duration>,
}

struct Inner {
    store: Store,
    events: Arc<dyn EventBus>,
    jobs: Followed<JobProgress>,
    imports: Followed<ImportRecord>,
    news: broadcast::Sender<News>,
}

/// The latest known state of each followed item, for its subscribers.
type Followed<T> = Mutex<HashMap<Uuid, watch::Sender<Option<T>>>>;

impl LiveFeed {
    pub fn new(store: Store, events: Arc<dyn EventBus>, refresh_every: Option<Duration>) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                events,
                jobs: Mutex::default(),
                imports: Mutex::default(),
                news: broadcast::channel(NEWS_QUEUE).0,
            }),
            started: OnceLock::new(),
            refresh_every,
        }
    }

    /// The job's progress as events bring it, from now on.
    pub fn job(&self, id: Uuid) -> Follower<JobProgress> {
        self.start();
        Follower::new(&self.inner, |inner| &inner.jobs, id)
    }

    /// The import each time it moves on, from now on.
    pub fn import(&self, id: Uuid) -> Follower<ImportRecord> {
        self.start();
        Follower::new(&self.inner, |inner| &inner.imports, id)
    }

    /// Jobs queued and ended and imports moving on, from now on.
    pub fn news(&self) -> broadcast::Receiver<News> {
        self.start();
        self.inner.news.subscribe()
    }

    /// Reads the bus from the first subscriber on: the receiver exists before this
    /// returns, so nothing published after it is missed.
    fn start(&self) {
        self.started.get_or_init(|| {
            let events = self.inner.events.subscribe();
            tokio::spawn(dispatch(
                Arc::downgrade(&self.inner),
                events,
                self.refresh_every,
            ));
        });
    }
}

/// One subscription's view of a followed item; the item stops being followed with its
/// last follower.
pub struct Follower<T: 'static> {
    inner: Arc<Inner>,
    table: fn(&Inner) -> &Followed<T>,
    id: Uuid,
    receiver: Option<watch::Receiver<Option<T>>>,
}

impl<T: Clone + Send + Sync + 'static> Follower<T> {
    fn new(inner: &Arc<Inner>, table: fn(&Inner) -> &Followed<T>, id: Uuid) -> Self {
        let receiver = lock(table(inner))
            .entry(id)
            .or_insert_with(|| watch::channel(None).0)
            .subscribe();
        Self {
            inner: Arc::clone(inner),
            table,
            id,
            receiver: Some(receiver),
        }
    }

    /// The next state known after the last one returned; `None` once the feed is gone.
    pub async fn next(&mut self) -> Option<T> {
        let receiver = self.receiver.as_mut()?;
        loop {
            receiver.changed().await.ok()?;
            if let Some(state) = receiver.borrow_and_update().clone() {
                return Some(state);
            }
        }
    }
}

impl<T: 'static> Drop for Follower<T> {
    fn drop(&mut self) {
        // This receiver goes first, so the count below is of the others.
        self.receiver = None;
        let mut table = lock((self.table)(&self.inner));
        if table
            .get(&self.id)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            table.remove(&self.id);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn followed<T>(table: &Followed<T>, id: Uuid) -> bool {
    lock(table).contains_key(&id)
}

fn publish<T>(table: &Followed<T>, id: Uuid, state: T) {
    if let Some(sender) = lock(table).get(&id) {
        sender.send_replace(Some(state));
    }
}

async fn dispatch(
    feed: Weak<Inner>,
    mut events: broadcast::Receiver<JobEvent>,
    refresh_every: Option<Duration>,
) {
    let mut refresh = refresh_every.map(|every| {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = tick(&mut refresh) => Ok(JobEvent::Resync),
        };
        let Some(feed) = feed.upgrade() else { return };
        match event {
            Ok(JobEvent::Progress(progress)) => feed.progressed(progress).await,
            Ok(JobEvent::Queued(id)) => feed.queued(id).await,
            Ok(JobEvent::Import(id)) => feed.import_moved(id).await,
            Ok(JobEvent::Booking(id)) => feed.booking_moved(id).await,
            Ok(JobEvent::Webhook(_)) => {}
            // Events may be gone: read again whatever is followed.
            Ok(JobEvent::Resync) | Err(RecvError::Lagged(_)) => feed.resync().await,
            Err(RecvError::Closed) => return,
        }
    }
}

async fn tick(ticks: &mut Option<tokio::time::Interval>) {
    match ticks {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl Inner {
    async fn progressed(&self, progress: JobProgress) {
        let lag = (chrono::Utc::now() - progress.updated_at)
            .num_microseconds()
            .unwrap_or(0);
        metrics::histogram!("fast_flights_event_lag_seconds").record(lag.max(0) as f64 / 1e6);
        let (id, ended) = (progress.job_id, progress.status.is_terminal());
        publish(&self.jobs, id, progress);
        if ended
            && self.news.receiver_count() > 0
            && let Some(job) = self.read_job(id).await
        {
            let _ = self.news.send(News::JobEnded(Arc::new(job)));
        }
    }

    async fn queued(&self, id: Uuid) {
        if self.news.receiver_count() > 0
            && let Some(job) = self.read_job(id).await
        {
            let _ = self.news.send(News::Queued(Arc::new(job)));
        }
    }

    async fn import_moved(&self, id: Uuid) {
        if !followed(&self.imports, id) && self.news.receiver_count() == 0 {
            return;
        }
        if let Some(import) = self.read_import(id).await {
            publish(&self.imports, id, import.clone());
            let _ = self.news.send(News::Import(Arc::new(import)));
        }
    }

    async fn resync(&self) {
        let jobs: Vec<Uuid> = lock(&self.jobs).keys().copied().collect();
        for id in jobs {
            if let Some(job) = self.read_job(id).await {
                publish(&self.jobs, id, job.progress());
            }
        }
        let imports: Vec<Uuid> = lock(&self.imports).keys().copied().collect();
        for id in imports {
            if let Some(import) = self.read_import(id).await {
                publish(&self.imports, id, import);
            }
        }
    }

    async fn read_job(&self, id: Uuid) -> Option<JobRecord> {
        metrics::counter!("fast_flights_subscription_reads_total").increment(1);
        self.store
            .job(id)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, job_id = %id, "cannot read a job for its subscribers"))
            .ok()
            .flatten()
    }

    async fn booking_moved(&self, id: Uuid) {
        if self.news.receiver_count() == 0 {
            return;
        }
        metrics::counter!("fast_flights_subscription_reads_total").increment(1);
        match self.store.booking(id).await {
            Ok(Some(booking)) => {
                let _ = self.news.send(News::Booking(Arc::new(booking)));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, booking_id = %id, "cannot read a booking for its subscribers")
            }
        }
    }

    async fn read_import(&self, id: Uuid) -> Option<ImportRecord> {
        metrics::counter!("fast_flights_subscription_reads_total").increment(1);
        self.store
            .import(id)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, import_id = %id, "cannot read an import for its subscribers"))
            .ok()
            .flatten()
    }
}
