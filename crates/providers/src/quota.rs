//! Call quotas: how many calls a provider may take per second. [`LocalQuota`] is a token
//! bucket in this process; a fleet of worker processes shares one through the database
//! instead (the store crate implements [`Quota`] on PostgreSQL).

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Permission to call a provider, one call at a time.
#[async_trait]
pub trait Quota: Send + Sync {
    /// Waits until one call may be made.
    async fn acquire(&self);

    /// Calls per second allowed.
    fn rate(&self) -> f64;

    /// Where the limit holds: `"process"` or `"fleet"`.
    fn scope(&self) -> &'static str;
}

/// How many calls a bucket may hold unused: a tenth of a second's worth, at least one, so
/// the rate holds over short spans as well as long ones.
pub fn burst_for(rate: f64) -> f64 {
    (rate / 10.0).max(1.0)
}

/// A token bucket in this process. Callers are served in the order they arrive.
pub struct LocalQuota {
    rate: f64,
    capacity: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl LocalQuota {
    pub fn new(rate: f64) -> Self {
        let rate = rate.max(0.001);
        let capacity = burst_for(rate);
        Self {
            rate,
            capacity,
            bucket: Mutex::new((capacity, Instant::now())),
        }
    }
}

#[async_trait]
impl Quota for LocalQuota {
    async fn acquire(&self) {
        // The lock is held while waiting, so callers are served in order.
        let mut bucket = self.bucket.lock().await;
        let now = Instant::now();
        let (tokens, last) = *bucket;
        let mut tokens =
            (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.capacity);
        let mut at = now;
        if tokens < 1.0 {
            let wait = Duration::from_secs_f64((1.0 - tokens) / self.rate);
            tokio::time::sleep(wait).await;
            at = Instant::now();
            tokens = 1.0;
        }
        *bucket = (tokens - 1.0, at);
    }

    fn rate(&self) -> f64 {
        self.rate
    }

    fn scope(&self) -> &'static str {
        "process"
    }
}
