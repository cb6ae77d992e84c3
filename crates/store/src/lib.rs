//! Persistence for fast-flights: SeaORM entities and the repositories over them. This is
//! the only crate that writes SQL. PostgreSQL in production; SQLite as the embedded default.

mod analytics;
mod bookings;
pub mod clock;
mod consumers;
mod entity;
mod error;
pub mod events;
pub mod imports;
mod inbox;
mod inventory;
mod inventory_provider;
mod jobs;
pub mod leases;
pub mod login_limits;
mod offer_insert;
mod offers;
pub mod outbox;
mod provider_settings;
mod quota;
mod records;
mod replicas;
mod search_limits;
mod sessions;
mod statistics;
mod users;
mod webhooks;

use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseBackend, DatabaseConnection};

pub use analytics::{RouteDay, RouteDayDelta};
pub use bookings::{Booked, BookingRecord, BookingRefused, CallResult, NewBooking};
pub use clock::{Clock, FakeClock, SystemClock};
pub use consumers::{ClaimedConsumer, ConsumerLag, consumer_id};
pub use error::{Result, StoreError};
pub use events::{EventBus, InMemoryEventBus, JobEvent, PgEventBus};
pub use imports::{
    ClaimedImport, ImportCheckpoint, ImportRecord, ImportSource, ImportStatus, NewImport, Rejection,
};
pub use inbox::{InboxRecord, NewNotification};
pub use inventory::{InventoryAfter, InventoryFilter, InventoryRecord};
pub use inventory_provider::InventoryProvider;
pub use jobs::{Checkpoint, CheckpointOutcome, ClaimedJob, Finish, LeaseState};
pub use leases::{Claim, Lease, LeaseKind, OwnershipError, SqliteOwner, WorkerSession};
pub use login_limits::{Backoff, LoginClaim, LoginCounters, RedisLoginCounters, WindowCount};
pub use offers::{
    CalendarCell, OfferAfter, OfferFilter, OfferOrder, OfferSortKey, OfferSortValue, TimeWindow,
};
pub use outbox::{EventRecord, NewEvent};
pub use quota::SharedQuota;
pub use records::{
    ERROR_SAMPLE_SIZE, JobRecord, NewOffer, OfferColumns, OfferRecord, Page, TaskError,
};
pub use replicas::{ReplicaState, ReplicaStatus};
pub use search_limits::{QuotaExceeded, SearchLimit, SearchLimits};
pub use sessions::{NewSecret, NewSession, SessionAccount, SessionRecord};
pub use statistics::ANALYZE_AFTER_OFFERS;
pub use users::UserRecord;
pub use webhooks::{
    AttemptRecord, AttemptVerdict, ClaimedDelivery, DeliveryRecord, DeliveryStatus,
    DisabledEndpoint, EndpointChanges, NewAttempt, NewEndpoint, SecretError, SecretKey,
    WebhookEndpointRecord,
};

/// The SQLite file used when no database URL is given.
pub const DEFAULT_SQLITE_URL: &str = "sqlite://data/fast-flights.sqlite?mode=rwc";

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    clock: std::sync::Arc<dyn Clock>,
    url: String,
    offer_statistics: std::sync::Arc<statistics::OfferStatistics>,
    /// Standbys for the reads that may be a moment old (`DATABASE_READ_URL`).
    replicas: Option<std::sync::Arc<replicas::Replicas>>,
}

/// SQLite's page cache per connection, in KiB (its default is 2,000).
const SQLITE_CACHE_KIB: u32 = 65_536;

impl Store {
    /// Opens a database from a `postgres://` or `sqlite:` URL. For SQLite the file's folder
    /// is created if missing.
    #[tracing::instrument(skip_all, err)]
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let connect_err = |reason: String| StoreError::Connect {
            url: redact(url),
            reason,
        };
        if let Some(path) = sqlite_path(url) {
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| connect_err(format!("cannot create {}: {e}", parent.display())))?;
            }
        } else if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(connect_err(
                "unsupported scheme; use postgres://… or sqlite://…".into(),
            ));
        }
        let mut options = ConnectOptions::new(url.to_string());
        options
            .max_connections(max_connections.max(1))
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            // On every connection of the pool, not only the first: readers do not block the
            // writer and the file survives a crash mid-write (WAL; NORMAL syncs at
            // checkpoints, not at every commit), and a checkpoint's offers are inserted into
            // pages held in memory instead of spilling the default 2 MiB page cache to the
            // file mid-transaction; the WAL is copied back into the file every 10,000 pages
            // (~40 MiB) instead of every 1,000, so a busy engine checkpoints it a tenth as
            // often (1.11-1.16x the SQLite engine's rate, BENCHMARKS.md).
            .map_sqlx_sqlite_opts(|o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
                    .pragma("temp_store", "MEMORY")
                    .pragma("wal_autocheckpoint", "10000")
            });
        let db = Database::connect(options)
            .await
            .map_err(|e| connect_err(redact_in(&e.to_string(), url)))?;
        Ok(Self {
            db,
            clock: std::sync::Arc::new(SystemClock),
            url: url.to_string(),
            offer_statistics: Default::default(),
            replicas: None,
        })
    }

    /// The same database, with time for leases read from `clock` (tests use a
    /// [`FakeClock`]).
    pub fn with_clock(mut self, clock: std::sync::Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The file of an SQLite database (not for an in-memory one).
    pub fn sqlite_file(&self) -> Option<String> {
        sqlite_path(&self.url)
            .filter(|p| !p.is_empty() && !p.starts_with(":memory:"))
            .map(str::to_string)
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    pub fn is_sqlite(&self) -> bool {
        self.backend() == DatabaseBackend::Sqlite
    }

    /// On PostgreSQL, checkpoints send their progress event themselves, inside their
    /// transaction, to every process; callers then need not publish it again.
    pub fn events_in_transaction(&self) -> bool {
        self.backend() == DatabaseBackend::Postgres
    }

    /// The bus that reaches every process sharing this database: `LISTEN/NOTIFY` on
    /// PostgreSQL, in memory on SQLite (one process).
    pub fn event_bus(
        &self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> std::sync::Arc<dyn EventBus> {
        match self.backend() {
            DatabaseBackend::Postgres => {
                PgEventBus::start(self.db.get_postgres_connection_pool().clone(), shutdown)
            }
            _ => std::sync::Arc::new(InMemoryEventBus::default()),
        }
    }

    /// Applies every pending migration.
    #[tracing::instrument(skip_all, err)]
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Succeeds when the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }

    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Some(rest.split('?').next().unwrap_or(rest))
}

/// A URL fit for messages: any password replaced, in the user part or as a `password=`
/// parameter.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &base[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme_end + 3], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// `reason` with every appearance of `url` replaced by its [`redact`]ed form: drivers quote
/// the URL they were given in their errors.
pub(crate) fn redact_in(reason: &str, url: &str) -> String {
    reason.replace(url, &redact(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/ff"),
            "postgres://app:***@db:5432/ff"
        );
        assert_eq!(redact("postgres://app@db/ff"), "postgres://app@db/ff");
        assert_eq!(redact(DEFAULT_SQLITE_URL), DEFAULT_SQLITE_URL);
        assert_eq!(
            redact("postgres://app@db/ff?sslmode=disable&password=s3cret"),
            "postgres://app@db/ff?sslmode=disable&password=***"
        );
        assert_eq!(
            redact("postgres://app:pw@db/ff?PASSWORD=x"),
            "postgres://app:***@db/ff?PASSWORD=***"
        );
        assert_eq!(
            redact_in("cannot parse 'postgres://u:pw@h/d'", "postgres://u:pw@h/d"),
            "cannot parse 'postgres://u:***@h/d'"
        );
    }

    #[test]
    fn sqlite_paths_are_found() {
        assert_eq!(
            sqlite_path(DEFAULT_SQLITE_URL),
            Some("data/fast-flights.sqlite")
        );
        assert_eq!(sqlite_path("sqlite:/tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("postgres://x"), None);
    }
}
