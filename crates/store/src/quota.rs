//! A provider's call quota shared by every process on one PostgreSQL: a token bucket in
//! `provider_quotas`, refilled by the database's clock. Each process takes a few tokens per
//! round trip and spends them at once, so the fleet together stays within the rate.

use std::time::Duration;

use async_trait::async_trait;
use providers::Quota;
use providers::quota::burst_for;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::{Result, Store, StoreError};

impl Store {
    /// Takes up to `want` whole tokens from `provider`'s bucket after refilling it at `rate`
    /// per second up to `capacity`. Returns the tokens granted and how many the bucket held
    /// before taking. PostgreSQL only.
    pub async fn take_quota(
        &self,
        provider: &str,
        rate: f64,
        capacity: f64,
        want: u32,
    ) -> Result<(u32, f64)> {
        if self.is_sqlite() {
            return Err(StoreError::Unsupported(
                "shared quotas need PostgreSQL; SQLite runs one process and limits in memory",
            ));
        }
        self.db
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "INSERT INTO provider_quotas (provider, tokens, refilled_at) \
                 VALUES ($1, $2, clock_timestamp()) ON CONFLICT (provider) DO NOTHING",
                [provider.into(), capacity.into()],
            ))
            .await?;
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "WITH c AS (SELECT clock_timestamp() AS t), \
                 cur AS ( \
                   SELECT q.provider, c.t, LEAST($2::float8, q.tokens + \
                     GREATEST(0, EXTRACT(EPOCH FROM (c.t - q.refilled_at)))::float8 * $3::float8) AS avail \
                   FROM provider_quotas q, c WHERE q.provider = $1 FOR UPDATE OF q), \
                 take AS (SELECT provider, t, avail, LEAST(FLOOR(avail), $4::float8) AS granted FROM cur) \
                 UPDATE provider_quotas q SET tokens = take.avail - take.granted, \
                   refilled_at = GREATEST(q.refilled_at, take.t) \
                 FROM take WHERE q.provider = take.provider \
                 RETURNING take.granted::int8 AS granted, take.avail AS avail",
                [
                    provider.into(),
                    capacity.into(),
                    rate.into(),
                    f64::from(want).into(),
                ],
            ))
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no quota row for provider {provider}")))?;
        let granted: i64 = row.try_get("", "granted")?;
        let avail: f64 = row.try_get("", "avail")?;
        Ok((u32::try_from(granted.max(0)).unwrap_or(0), avail))
    }
}

/// [`Quota`] over [`Store::take_quota`]: the same provider's rate holds across every
/// process that uses the same database and the same rate.
pub struct SharedQuota {
    store: Store,
    provider: String,
    rate: f64,
    capacity: f64,
    batch: u32,
    /// Tokens taken from the database and not spent yet.
    held: tokio::sync::Mutex<u32>,
}

impl SharedQuota {
    pub fn new(store: Store, provider: impl Into<String>, rate: f64) -> Self {
        let rate = rate.max(0.001);
        let capacity = burst_for(rate);
        // Half a bucket per round trip: few queries, and no process hoards the burst.
        let batch = ((capacity / 2.0).ceil() as u32).max(1);
        Self {
            store,
            provider: provider.into(),
            rate,
            capacity,
            batch,
            held: tokio::sync::Mutex::new(0),
        }
    }
}

#[async_trait]
impl Quota for SharedQuota {
    async fn acquire(&self) {
        // Callers queue on the lock, so they are served in order.
        let mut held = self.held.lock().await;
        let mut failures = 0u32;
        loop {
            if *held > 0 {
                *held -= 1;
                return;
            }
            match self
                .store
                .take_quota(&self.provider, self.rate, self.capacity, self.batch)
                .await
            {
                Ok((granted, _)) if granted > 0 => {
                    failures = 0;
                    *held = granted;
                }
                Ok((_, avail)) => {
                    failures = 0;
                    let missing = (1.0 - avail).max(0.0);
                    let wait =
                        Duration::from_secs_f64(missing / self.rate).max(Duration::from_millis(1));
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    // Without the database no call may be made; wait for it to come back.
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(provider = %self.provider, error = %e, "cannot take a rate-limit token; waiting for the database");
                    }
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(failures.min(10))))
                        .await;
                }
            }
        }
    }

    fn rate(&self) -> f64 {
        self.rate
    }

    fn scope(&self) -> &'static str {
        "fleet"
    }
}
