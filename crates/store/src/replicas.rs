//! PostgreSQL read replicas (`DATABASE_READ_URL`): reads that may be a moment old go to a
//! standby that is up and not too far behind; every other read, and these too when no
//! standby will do, go to the primary. See the README, "Read replicas".

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::{Result, Store, StoreError, redact};

/// How a replica is doing, as its last check found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Not checked yet: its reads go to the primary.
    Unknown,
    /// Its last check or read failed: its reads go to the primary.
    Down,
    /// Further behind than `MAX_REPLICA_LAG_MS`, or not streaming from its primary: its
    /// reads go to the primary.
    Lagging,
    Up,
}

impl ReplicaState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "not checked yet",
            Self::Down => "down",
            Self::Lagging => "lagging",
            Self::Up => "up",
        }
    }

    fn from_u8(n: u8) -> Self {
        match n {
            3 => Self::Unknown,
            2 => Self::Up,
            1 => Self::Lagging,
            _ => Self::Down,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Self::Down => 0,
            Self::Lagging => 1,
            Self::Up => 2,
            Self::Unknown => 3,
        }
    }
}

/// A replica as `/readyz` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaStatus {
    /// Its URL without the password.
    pub name: String,
    pub state: ReplicaState,
    /// How far behind it was at its last check; `None` when it could not be asked.
    pub lag_ms: Option<i64>,
}

pub(crate) struct Replica {
    name: String,
    pub(crate) db: DatabaseConnection,
    state: AtomicU8,
    lag_ms: AtomicI64,
    /// When a read last failed on it: it gets no reads for [`HOLD_DOWN`] after, whatever
    /// its checks say (a standby that answers checks but fails reads, e.g. one that has
    /// not replayed a migration, would otherwise be tried again every second).
    failed_read_at: std::sync::Mutex<Option<std::time::Instant>>,
}

/// How long a replica that failed a read gets none.
const HOLD_DOWN: Duration = Duration::from_secs(10);

pub(crate) struct Replicas {
    members: Vec<Replica>,
    next: AtomicUsize,
    max_lag: Duration,
}

/// How far behind a standby is: 0 when it has replayed all it received (an idle primary
/// sends nothing, so the last replayed commit may be old without the standby being behind);
/// and whether it is streaming from its primary at all (one cut off from it has replayed
/// all it received, and falls behind without knowing). The WAL receiver's status is hidden
/// from roles without pg_read_all_stats: its presence then counts as streaming.
const LAG_SQL: &str = "SELECT CAST(CASE \
    WHEN NOT pg_is_in_recovery() THEN 0 \
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
    ELSE COALESCE(EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())) * 1000, 0) \
    END AS BIGINT) AS lag_ms, \
    (NOT pg_is_in_recovery() OR COALESCE( \
        (SELECT COALESCE(status = 'streaming', true) FROM pg_stat_wal_receiver LIMIT 1), \
        false)) AS streaming";

impl Store {
    /// Sends the reads that may be a moment old to these standbys (PostgreSQL only). A
    /// standby that is down at start-up is not an error: its reads go to the primary until
    /// [`Store::check_replicas`] finds it up.
    pub async fn with_read_replicas(
        mut self,
        urls: &[String],
        max_lag: Duration,
        max_connections: u32,
    ) -> Result<Self> {
        if urls.is_empty() {
            return Ok(self);
        }
        if self.is_sqlite() {
            return Err(StoreError::Connect {
                url: redact(&urls[0]),
                reason: "read replicas (DATABASE_READ_URL) need a PostgreSQL primary".into(),
            });
        }
        let mut members = Vec::with_capacity(urls.len());
        let mut seen = std::collections::HashSet::new();
        for url in urls.iter().filter(|u| seen.insert(u.as_str())) {
            if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
                return Err(StoreError::Connect {
                    url: redact(url),
                    reason: "a read replica's URL must start with postgres://".into(),
                });
            }
            let mut options = ConnectOptions::new(url.clone());
            options
                .max_connections(max_connections.max(1))
                .min_connections(0)
                // Short: a read waiting on a standby that went away runs on the primary after.
                .connect_timeout(Duration::from_millis(500))
                .acquire_timeout(Duration::from_millis(500))
                .connect_lazy(true)
                .sqlx_logging(false);
            let db = Database::connect(options)
                .await
                .map_err(|e| StoreError::Connect {
                    url: redact(url),
                    reason: crate::redact_in(&e.to_string(), url),
                })?;
            let name = redact(url);
            metrics::counter!("fast_flights_replica_fallbacks_total", "replica" => name.clone())
                .increment(0);
            members.push(Replica {
                name,
                db,
                state: AtomicU8::new(ReplicaState::Unknown.to_u8()),
                lag_ms: AtomicI64::new(-1),
                failed_read_at: std::sync::Mutex::new(None),
            });
        }
        self.replicas = Some(Arc::new(Replicas {
            members,
            next: AtomicUsize::new(0),
            max_lag,
        }));
        Ok(self)
    }

    /// Asks every replica how far behind it is, and routes reads by the answers: a replica
    /// that does not answer within a second, or lags by more than the limit, gets none
    /// until a later check finds it well. Call it every second or so.
    pub async fn check_replicas(&self) {
        let Some(replicas) = &self.replicas else {
            return;
        };
        for replica in &replicas.members {
            let stmt = Statement::from_string(self.db.get_database_backend(), LAG_SQL);
            let answer =
                tokio::time::timeout(Duration::from_secs(1), replica.db.query_one_raw(stmt))
                    .await
                    .map_err(|_| "no answer within 1 s".to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
                    .and_then(|row| {
                        let row = row.ok_or_else(|| "no row".to_string())?;
                        let lag = row
                            .try_get::<i64>("", "lag_ms")
                            .map_err(|e| e.to_string())?;
                        let streaming = row
                            .try_get::<bool>("", "streaming")
                            .map_err(|e| e.to_string())?;
                        Ok((lag, streaming))
                    });
            let max_lag = i64::try_from(replicas.max_lag.as_millis()).unwrap_or(i64::MAX);
            let held = replica
                .failed_read_at
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some_and(|at| at.elapsed() < HOLD_DOWN);
            let (state, lag, why) = match &answer {
                Err(e) => (ReplicaState::Down, -1, e.clone()),
                Ok((lag, false)) => (
                    ReplicaState::Lagging,
                    *lag,
                    "not streaming from its primary".to_string(),
                ),
                Ok((lag, true)) if *lag > max_lag => (
                    ReplicaState::Lagging,
                    *lag,
                    format!("{lag} ms behind, more than MAX_REPLICA_LAG_MS ({max_lag})"),
                ),
                Ok(_) if held => (
                    ReplicaState::Down,
                    -1,
                    "a read failed on it in the last 10 s".to_string(),
                ),
                Ok((lag, true)) => (ReplicaState::Up, *lag, String::new()),
            };
            replica.lag_ms.store(lag, Ordering::Relaxed);
            let before =
                ReplicaState::from_u8(replica.state.swap(state.to_u8(), Ordering::Relaxed));
            if before != state {
                if state == ReplicaState::Up {
                    tracing::info!(replica = %replica.name, lag_ms = lag, "read replica up: reads that may be a moment old go to it");
                } else if !held {
                    tracing::warn!(replica = %replica.name, state = state.as_str(), reason = %why, "read replica not used: its reads go to the primary");
                }
            }
            metrics::gauge!("fast_flights_replica_up", "replica" => replica.name.clone())
                .set(if state == ReplicaState::Up { 1.0 } else { 0.0 });
            metrics::gauge!("fast_flights_replica_lag_seconds", "replica" => replica.name.clone())
                .set(if lag >= 0 {
                    lag as f64 / 1000.0
                } else {
                    f64::NAN
                });
        }
    }

    /// Each replica's state, for `/readyz`; empty without replicas.
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        self.replicas.as_ref().map_or_else(Vec::new, |r| {
            r.members
                .iter()
                .map(|m| {
                    let lag = m.lag_ms.load(Ordering::Relaxed);
                    let state = ReplicaState::from_u8(m.state.load(Ordering::Relaxed));
                    let measured = matches!(state, ReplicaState::Up | ReplicaState::Lagging);
                    ReplicaStatus {
                        name: m.name.clone(),
                        state,
                        lag_ms: (measured && lag >= 0).then_some(lag),
                    }
                })
                .collect()
        })
    }

    /// This store with every read on the primary: for a caller who has just written, so
    /// that what they read next includes what they wrote.
    pub fn reading_primary(&self) -> Store {
        Store {
            replicas: None,
            ..self.clone()
        }
    }

    /// The replica the next read that may be a moment old goes to: the next one that is
    /// up; `None`: the primary. See [`read!`].
    pub(crate) fn replica(&self) -> Option<&Replica> {
        self.replicas.as_ref().and_then(|r| r.pick())
    }

    pub(crate) fn primary(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A read went where [`Store::replica`] said.
    pub(crate) fn read_served(&self, replica: bool) {
        let target = if replica { "replica" } else { "primary" };
        metrics::counter!("fast_flights_db_reads_total", "target" => target).increment(1);
    }

    /// A read failed on `replica`: it gets no reads until it answers a check again.
    pub(crate) fn replica_failed(&self, replica: &Replica, error: &dyn std::fmt::Display) {
        *replica
            .failed_read_at
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
        let before = replica
            .state
            .swap(ReplicaState::Down.to_u8(), Ordering::Relaxed);
        if ReplicaState::from_u8(before) != ReplicaState::Down {
            let error = crate::redact_in(&error.to_string(), &replica.name);
            tracing::warn!(replica = %replica.name, error = %error, "a read failed on a replica: it runs on the primary, and the replica gets no reads for 10 s, then until it answers a check");
        }
        metrics::counter!("fast_flights_replica_fallbacks_total", "replica" => replica.name.clone())
            .increment(1);
    }
}

/// `read!(store, |db| <a read on db, awaited, giving Result<_, DbErr>>)`: the read on the
/// next replica that is up, else on the primary. A replica that fails it is taken out until
/// its next check and the read runs again on the primary, so a standby going away costs its
/// readers no error.
macro_rules! read {
    ($store:expr, |$db:ident| $body:expr) => {{
        let store: &$crate::Store = $store;
        match store.replica() {
            None => {
                store.read_served(false);
                let $db = store.primary();
                $body
            }
            Some(replica) => {
                let answer = {
                    let $db = &replica.db;
                    $body
                };
                match answer {
                    Ok(value) => {
                        store.read_served(true);
                        Ok(value)
                    }
                    Err(e) => {
                        store.replica_failed(replica, &e);
                        store.read_served(false);
                        let $db = store.primary();
                        $body
                    }
                }
            }
        }
    }};
}
pub(crate) use read;

impl Replicas {
    /// The next replica that is up, round robin.
    fn pick(&self) -> Option<&Replica> {
        let n = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.members[(start + i) % n])
            .find(|r| ReplicaState::from_u8(r.state.load(Ordering::Relaxed)) == ReplicaState::Up)
    }
}
