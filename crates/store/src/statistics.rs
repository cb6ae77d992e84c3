//! Fresh planner statistics for `flight_offers`.
//!
//! A search stores thousands of offers in seconds; until autovacuum's ANALYZE comes round
//! (a minute or more later) PostgreSQL plans the first read of them without statistics —
//! a bitmap scan and a sort of every row of the job instead of the
//! `(job_id, price_minor, id)` index. So the process that stores offers analyzes the table
//! itself, right after its commit and beside it, once it has stored enough of them since
//! the last time: a fixed number, or a fifth of the rows the table had then (what
//! autovacuum does, sooner), so a growing table is analyzed a few dozen times over its
//! life, not on every checkpoint.
//! SQLite needs none of this: without statistics its planner already picks the index that
//! matches the equality and the order.

use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::Store;

/// Offers stored since the last ANALYZE that always call for another one.
pub const ANALYZE_AFTER_OFFERS: u64 = 1_000;

#[derive(Default)]
pub(crate) struct OfferStatistics {
    /// Offers this process stored since its last ANALYZE.
    stored: AtomicU64,
    /// The table's rows as of that ANALYZE.
    rows: AtomicU64,
    /// One ANALYZE at a time; the others skip theirs.
    running: tokio::sync::Mutex<()>,
}

impl OfferStatistics {
    fn due(&self) -> bool {
        let stored = self.stored.load(Ordering::Relaxed);
        stored >= ANALYZE_AFTER_OFFERS.max(self.rows.load(Ordering::Relaxed) / 5)
    }
}

impl Store {
    /// Notes `stored` new offers, committed; when they make the table's statistics stale,
    /// runs `ANALYZE flight_offers` in a task of its own, so the worker that stored them
    /// goes on at once. Call it after the transaction that stored them, never inside it. A
    /// failed ANALYZE is logged, not returned: the offers are stored either way.
    pub fn offers_stored(&self, stored: u64) {
        if stored == 0 || self.backend() != DatabaseBackend::Postgres {
            return;
        }
        let stats = &self.offer_statistics;
        stats.stored.fetch_add(stored, Ordering::Relaxed);
        if !stats.due() {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let stats = &store.offer_statistics;
            let Ok(_running) = stats.running.try_lock() else {
                return;
            };
            if !stats.due() {
                return;
            }
            let pending = stats.stored.swap(0, Ordering::Relaxed);
            match store.analyze_offers().await {
                Ok(rows) => stats.rows.store(rows, Ordering::Relaxed),
                Err(e) => {
                    stats.stored.fetch_add(pending, Ordering::Relaxed);
                    tracing::warn!(error = %e, "cannot analyze flight_offers");
                }
            }
        });
    }

    /// `ANALYZE flight_offers`; the rows it counted.
    async fn analyze_offers(&self) -> crate::Result<u64> {
        self.db.execute_unprepared("ANALYZE flight_offers").await?;
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT reltuples::bigint AS n FROM pg_class WHERE oid = 'flight_offers'::regclass",
            ))
            .await?;
        let rows: i64 = match row {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        Ok(u64::try_from(rows).unwrap_or(0))
    }
}
