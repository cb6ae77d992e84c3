//! One lease for every kind of lease-held work (searches, imports, and what comes next).
//!
//! A row of a leased table is claimable when it is `QUEUED`, or `RUNNING` under a lease
//! that is free: never set, expired, or held by a worker that is gone. On PostgreSQL a
//! worker is alive while its [`WorkerSession`] holds a session advisory lock, so the
//! server itself frees a dead process's leases the moment it sees its connection close;
//! the TTL stays as the backstop for a host that vanished without closing its sockets.
//! On SQLite one process owns the file ([`SqliteOwner`]), so whatever it finds running
//! at start is its own to resume.
//!
//! Every write of a lease holder is fenced by the lease token: a worker whose lease was
//! taken over writes nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{Result, Store, StoreError};

/// A kind of lease-held work, one table each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LeaseKind {
    Search,
    Import,
    /// A booking's provider call.
    Booking,
    /// A durable consumer of the outbox.
    Consumer,
    /// One event's delivery to one webhook endpoint.
    Webhook,
}

impl LeaseKind {
    pub const ALL: [LeaseKind; 5] = [
        LeaseKind::Search,
        LeaseKind::Import,
        LeaseKind::Booking,
        LeaseKind::Consumer,
        LeaseKind::Webhook,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            LeaseKind::Search => "search",
            LeaseKind::Import => "import",
            LeaseKind::Booking => "booking",
            LeaseKind::Consumer => "consumer",
            LeaseKind::Webhook => "webhook",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(raw.trim()))
    }

    pub(crate) fn table(&self) -> &'static str {
        match self {
            LeaseKind::Search => "search_jobs",
            LeaseKind::Import => "imports",
            LeaseKind::Booking => "booking_calls",
            LeaseKind::Consumer => "event_consumers",
            LeaseKind::Webhook => "webhook_deliveries",
        }
    }
}

impl std::fmt::Display for LeaseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The right to run one item, held by one worker until `expires_at` (renewed while it
/// runs). Writes carry the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub kind: LeaseKind,
    pub id: Uuid,
    pub owner: String,
    pub token: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// A lease just taken.
#[derive(Debug, Clone)]
pub struct Claim {
    pub lease: Lease,
    /// The worker that held the item before, when this claim took it over from a worker
    /// that died or stopped renewing.
    pub taken_over_from: Option<String>,
}

/// What a kind adds to the one claim: columns it sets and conditions it requires.
#[derive(Debug, Default)]
pub(crate) struct ClaimRules {
    /// `, col = expr` fragments appended to the SET list (no bound values).
    pub set: &'static str,
    /// Only rows whose `claims_without_progress` is below this (searches).
    pub max_claims: Option<i32>,
    /// Only this row.
    pub only: Option<Uuid>,
    /// ` AND …` conditions on the candidate (no bound values).
    pub and: String,
    /// Only rows whose this column (a time) has come.
    pub due: Option<&'static str>,
    /// ORDER BY of the candidates (the candidate row is `c`).
    pub order_by: String,
    /// A query of the only ids worth trying, in the order to try them. On PostgreSQL each
    /// is then looked up by key, checked and locked on its own until one is free, so the
    /// planner cannot walk the table instead and a claim locks one row (`order_by` is not
    /// used); on SQLite the claim takes the first of them by `order_by`.
    pub candidates: Option<String>,
}

/// The advisory-lock class of worker sessions (`pg_advisory_lock(class, worker lock id)`).
const SESSION_LOCK_CLASS: i32 = 0x4646_0001;

/// A statement under construction, with placeholders in the backend's style. Values must be
/// bound in the order they appear in the text (SQLite numbers `?` by position).
pub(crate) struct Sql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DatabaseBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => {
                let n = self.values.len();
                self.text.push_str(&format!("${n}"));
            }
            _ => self.text.push('?'),
        }
        self
    }

    pub(crate) fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// Whether a running row's lease is free at `now`: never set, expired, or (PostgreSQL)
/// held by a registered worker whose session is gone.
fn push_lease_free(sql: &mut Sql, now: DateTime<Utc>) {
    sql.push("(lease_expires_at IS NULL OR lease_expires_at < ")
        .bind(now);
    if sql.backend == DatabaseBackend::Postgres {
        sql.push(" OR lease_owner IN (SELECT w.id FROM workers w WHERE NOT ")
            .push(&session_alive("w.lock_id"))
            .push(")");
    }
    sql.push(")");
}

/// SQL that is true while the session holding the worker lock `lock_id` is connected.
fn session_alive(lock_id: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND l.classid = {SESSION_LOCK_CLASS}::oid AND l.objid = {lock_id}::oid AND l.objsubid = 2)"
    )
}

fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(30))
}

/// The condition of every fenced write: this row, still running under this token.
pub(crate) fn fenced(lease: &Lease) -> Condition {
    Condition::all()
        .add(Expr::col(Alias::new("id")).eq(lease.id))
        .add(Expr::col(Alias::new("lease_token")).eq(lease.token))
        .add(Expr::col(Alias::new("status")).eq("RUNNING"))
}

/// Clearing a row's lease: nobody owns it, anybody may claim it.
pub(crate) trait WithoutLease {
    fn without_lease(self) -> Self;
}

impl<E: sea_orm::EntityTrait> WithoutLease for sea_orm::UpdateMany<E> {
    fn without_lease(self) -> Self {
        self.col_expr(
            Alias::new("lease_owner"),
            Expr::value(Option::<String>::None),
        )
        .col_expr(Alias::new("lease_token"), Expr::value(Option::<Uuid>::None))
        .col_expr(
            Alias::new("lease_expires_at"),
            Expr::value(Option::<DateTime<Utc>>::None),
        )
    }
}

impl Store {
    /// Takes the oldest claimable row of `kind` under a new lease, in one statement: on
    /// PostgreSQL the candidate is locked `FOR UPDATE SKIP LOCKED`, so racing workers take
    /// different rows; SQLite has one writer at a time, which makes the plain sub-select safe.
    pub(crate) async fn claim(
        &self,
        kind: LeaseKind,
        owner: &str,
        ttl: Duration,
        rules: ClaimRules,
    ) -> Result<Option<Claim>> {
        let now = self.now();
        let token = Uuid::new_v4();
        let expires_at = expiry(now, ttl);
        let table = kind.table();
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "UPDATE {table} SET status = 'RUNNING', lease_owner = "
        ))
        .bind(owner)
        .push(", lease_token = ")
        .bind(token)
        .push(", lease_expires_at = ")
        .bind(expires_at)
        .push(
            ", attempts = attempts + 1, \
                 taken_over_from = CASE WHEN status = 'RUNNING' THEN lease_owner END, \
                 started_at = COALESCE(started_at, ",
        )
        .bind(now)
        .push("), updated_at = ")
        .bind(now)
        .push(rules.set);
        let postgres = self.backend() == DatabaseBackend::Postgres;
        let by_key = rules.candidates.as_deref().filter(|_| postgres);
        match by_key {
            Some(candidates) => sql.push(&format!(
                " WHERE id = (SELECT l.id FROM unnest(ARRAY({candidates})) AS k(candidate) \
                 CROSS JOIN LATERAL (SELECT c.id FROM {table} c WHERE c.id = k.candidate AND "
            )),
            None => sql.push(&format!(" WHERE id = (SELECT c.id FROM {table} c WHERE ")),
        };
        sql.push("(status = 'QUEUED' OR (status = 'RUNNING' AND ");
        push_lease_free(&mut sql, now);
        sql.push("))");
        if let (Some(candidates), None) = (&rules.candidates, by_key) {
            sql.push(&format!(" AND c.id IN ({candidates})"));
        }
        if let Some(max) = rules.max_claims {
            sql.push(" AND claims_without_progress < ").bind(max);
        }
        if let Some(id) = rules.only {
            sql.push(" AND id = ").bind(id);
        }
        sql.push(&rules.and);
        if let Some(column) = rules.due {
            sql.push(&format!(" AND c.{column} <= ")).bind(now);
        }
        if by_key.is_some() {
            sql.push(" FOR UPDATE SKIP LOCKED) l LIMIT 1");
        } else {
            sql.push(&format!(" ORDER BY {} LIMIT 1", rules.order_by));
            if postgres {
                sql.push(" FOR UPDATE SKIP LOCKED");
            }
        }
        sql.push(") RETURNING id, taken_over_from");
        let Some(row) = self.db.query_one_raw(sql.statement()).await? else {
            return Ok(None);
        };
        let id: Uuid = row.try_get("", "id")?;
        let taken_over_from: Option<String> = row.try_get("", "taken_over_from")?;
        Ok(Some(Claim {
            lease: Lease {
                kind,
                id,
                owner: owner.to_string(),
                token,
                expires_at,
            },
            taken_over_from,
        }))
    }

    /// Runs `UPDATE {table} SET {set} WHERE status = 'RUNNING' AND <lease free> {and}`:
    /// what a kind does to rows whose holder is gone (searches fail crash-looping ones).
    pub(crate) async fn update_abandoned(
        &self,
        conn: &impl ConnectionTrait,
        kind: LeaseKind,
        set: impl FnOnce(&mut SqlSet<'_>),
        and: &str,
    ) -> Result<Vec<Uuid>> {
        let now = self.now();
        let mut sql = Sql::new(self.backend());
        sql.push(&format!("UPDATE {} SET ", kind.table()));
        set(&mut SqlSet(&mut sql));
        sql.push(" WHERE status = 'RUNNING' AND ");
        push_lease_free(&mut sql, now);
        sql.push(and);
        sql.push(" RETURNING id");
        let rows = conn.query_all_raw(sql.statement()).await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get::<Uuid>("", "id"))
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Extends a lease; `false` when it is no longer held (taken over, or the item ended).
    pub async fn renew(&self, lease: &mut Lease, ttl: Duration) -> Result<bool> {
        let expires_at = expiry(self.now(), ttl);
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "UPDATE {} SET lease_expires_at = ",
            lease.kind.table()
        ))
        .bind(expires_at)
        .push(" WHERE id = ")
        .bind(lease.id)
        .push(" AND lease_token = ")
        .bind(lease.token)
        .push(" AND status = 'RUNNING'");
        let held = self.db.execute_raw(sql.statement()).await?.rows_affected() == 1;
        if held {
            lease.expires_at = expires_at;
        }
        Ok(held)
    }

    /// Makes the running rows of `kind` claimable at once: those of `owner`, or with
    /// `None` every one (only for the process that owns an SQLite file).
    pub async fn release_leases(&self, kind: LeaseKind, owner: Option<&str>) -> Result<u64> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "UPDATE {} SET lease_expires_at = NULL WHERE status = 'RUNNING'",
            kind.table()
        ));
        if let Some(owner) = owner {
            sql.push(" AND lease_owner = ").bind(owner);
        }
        Ok(self.db.execute_raw(sql.statement()).await?.rows_affected())
    }

    /// How many rows of `kind` wait for a worker, and since when the oldest has waited.
    pub async fn queue_stats(&self, kind: LeaseKind) -> Result<(u64, Option<DateTime<Utc>>)> {
        let now = self.now();
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT COUNT(*) AS n, MIN(updated_at) AS oldest FROM {} \
             WHERE status = 'QUEUED' OR (status = 'RUNNING' AND ",
            kind.table()
        ));
        push_lease_free(&mut sql, now);
        sql.push(")");
        let row = self
            .db
            .query_one_raw(sql.statement())
            .await?
            .ok_or_else(|| StoreError::Corrupt("COUNT(*) returned no row".into()))?;
        let n: i64 = row.try_get("", "n")?;
        let oldest: Option<DateTime<Utc>> = row.try_get("", "oldest")?;
        Ok((u64::try_from(n).unwrap_or(0), oldest))
    }
}

/// The SET list of [`Store::update_abandoned`].
pub(crate) struct SqlSet<'a>(&'a mut Sql);

impl SqlSet<'_> {
    pub fn raw(&mut self, text: &str) -> &mut Self {
        self.0.push(text);
        self
    }

    pub fn value(&mut self, value: impl Into<Value>) -> &mut Self {
        self.0.bind(value);
        self
    }
}

/// Why a worker cannot take up its work here.
#[derive(Debug, thiserror::Error)]
pub enum OwnershipError {
    #[error(
        "the SQLite database {path} is in use by another fast-flights process{pid} (it holds \
         {lock}); an SQLite file is worked by one process: stop the other one, or use \
         PostgreSQL (DATABASE_URL=postgres://…) to run several"
    )]
    SqliteInUse {
        path: String,
        lock: String,
        pid: String,
    },
    #[error(
        "another live worker is registered as `{0}` on this database: give each worker process \
         its own WORKER_ID"
    )]
    DuplicateWorkerId(String),
    #[error("cannot lock {path}: {reason}")]
    LockFile { path: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OwnershipError {
    fn from(e: sqlx::Error) -> Self {
        OwnershipError::Store(e.into())
    }
}

/// The exclusive hold of one process on an SQLite file, through `<file>.lock`; released
/// when dropped or when the process dies.
#[derive(Debug)]
pub struct SqliteOwner {
    _file: std::fs::File,
}

impl SqliteOwner {
    /// Takes the file, or says which process has it.
    pub fn acquire(store: &Store) -> std::result::Result<Option<Self>, OwnershipError> {
        use std::io::{Read, Seek, Write};
        let Some(path) = store.sqlite_file() else {
            return Ok(None);
        };
        let lock = format!("{path}.lock");
        let lock_err = |e: std::io::Error| OwnershipError::LockFile {
            path: lock.clone(),
            reason: e.to_string(),
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(OwnershipError::SqliteInUse {
                    path,
                    lock: lock.clone(),
                    pid: if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {holder})")
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(lock_err(e)),
        }
        file.set_len(0).map_err(lock_err)?;
        file.rewind().map_err(lock_err)?;
        write!(file, "{}", std::process::id()).map_err(lock_err)?;
        Ok(Some(Self { _file: file }))
    }
}

/// A worker's registration on PostgreSQL: a `workers` row and a session advisory lock on a
/// connection of its own. While the connection lives, the worker's leases are held; when
/// it closes (the process died, or the connection was cut) they are free at once.
///
/// The session is watched: when it is lost, [`WorkerSession::lost`] fires (the worker's
/// runs must stop, as another worker may take their items at any moment), and it is
/// re-established, the worker's leases released, and a new `lost` token issued.
pub struct WorkerSession {
    state: tokio::sync::watch::Receiver<Option<CancellationToken>>,
}

struct SessionSpec {
    store: Store,
    worker_id: String,
    kinds: String,
}

impl WorkerSession {
    /// Registers `worker_id` and starts watching its session until `shutdown`.
    pub async fn start(
        store: &Store,
        worker_id: &str,
        kinds: &[LeaseKind],
        shutdown: CancellationToken,
    ) -> std::result::Result<Self, OwnershipError> {
        let spec = Arc::new(SessionSpec {
            store: store.clone(),
            worker_id: worker_id.to_string(),
            kinds: kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(","),
        });
        let conn = register(&spec).await?;
        let lost = CancellationToken::new();
        let (tx, rx) = tokio::sync::watch::channel(Some(lost.clone()));
        tokio::spawn(watch_session(spec, conn, lost, tx, shutdown));
        Ok(Self { state: rx })
    }

    /// The token that fires when the current session is lost; `None` while there is none
    /// (reconnecting): claim nothing then.
    pub fn current(&self) -> Option<CancellationToken> {
        self.state.borrow().clone()
    }

    /// Waits until a session is up, and gives its token.
    pub async fn established(&self) -> Option<CancellationToken> {
        let mut state = self.state.clone();
        state
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|s| s.clone())
    }
}

type SessionConn = sqlx::PgConnection;

async fn register(spec: &SessionSpec) -> std::result::Result<SessionConn, OwnershipError> {
    let store = &spec.store;
    // A connection detached from the pool: it lives as long as the session, and the pool
    // neither recycles nor shares it.
    let mut conn = store
        .db
        .get_postgres_connection_pool()
        .acquire()
        .await?
        .detach();
    let raw = &mut conn;
    sqlx::query("SELECT set_config('application_name', $1, false)")
        .bind(session_name(&spec.worker_id))
        .execute(&mut *raw)
        .await?;
    // A host that vanishes without closing its socket is noticed by the server within
    // about 20 s instead of the kernel's two hours (TCP connections only).
    for setting in [
        "SET tcp_keepalives_idle = 10",
        "SET tcp_keepalives_interval = 3",
        "SET tcp_keepalives_count = 3",
        "SET tcp_user_timeout = 20000",
    ] {
        sqlx::query(setting).execute(&mut *raw).await?;
    }
    let lock_id = loop {
        let candidate = Ord::max(Uuid::new_v4().as_u128() as i32 & i32::MAX, 1);
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
            .bind(SESSION_LOCK_CLASS)
            .bind(candidate)
            .fetch_one(&mut *raw)
            .await?;
        if taken {
            break candidate;
        }
    };
    let other_alive: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM workers w WHERE w.id = $1 AND {})",
        session_alive("w.lock_id")
    )))
    .bind(&spec.worker_id)
    .fetch_one(&mut *raw)
    .await?;
    if other_alive {
        return Err(OwnershipError::DuplicateWorkerId(spec.worker_id.clone()));
    }
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    sqlx::query(
        "INSERT INTO workers (id, lock_id, host, pid, kinds, started_at) \
         VALUES ($1, $2, $3, $4, $5, now()) \
         ON CONFLICT (id) DO UPDATE SET lock_id = EXCLUDED.lock_id, host = EXCLUDED.host, \
         pid = EXCLUDED.pid, kinds = EXCLUDED.kinds, started_at = EXCLUDED.started_at",
    )
    .bind(&spec.worker_id)
    .bind(lock_id)
    .bind(host)
    .bind(i32::try_from(std::process::id()).unwrap_or(0))
    .bind(&spec.kinds)
    .execute(&mut *raw)
    .await?;
    // Rows of workers that died holding nothing are of no more use.
    let mut holds = String::new();
    for kind in LeaseKind::ALL {
        holds.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM {} j WHERE j.lease_owner = w.id AND j.status = 'RUNNING')",
            kind.table()
        ));
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM workers w WHERE NOT {}{holds}",
        session_alive("w.lock_id")
    )))
    .execute(&mut *raw)
    .await?;
    // Whatever this worker id holds is left from before this session (a crash, a restart
    // under the same id, a lost connection): free it, so it is resumed at once.
    for kind in LeaseKind::ALL {
        let released = store.release_leases(kind, Some(&spec.worker_id)).await?;
        if released > 0 {
            tracing::info!(
                kind = kind.as_str(),
                released,
                "resuming work this worker held before"
            );
        }
    }
    tracing::debug!(lock_id, "worker session registered");
    Ok(conn)
}

/// The `application_name` of a worker's session connection.
pub fn session_name(worker_id: &str) -> String {
    let name = format!("fast-flights worker {worker_id}");
    // PostgreSQL keeps 63 bytes of it.
    name.char_indices()
        .take_while(|(i, c)| i + c.len_utf8() <= 63)
        .map(|(_, c)| c)
        .collect()
}

const SESSION_CHECK: Duration = Duration::from_millis(500);

async fn watch_session(
    spec: Arc<SessionSpec>,
    mut conn: SessionConn,
    mut lost: CancellationToken,
    state: tokio::sync::watch::Sender<Option<CancellationToken>>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                let _ = sqlx::query("DELETE FROM workers WHERE id = $1")
                    .bind(&spec.worker_id)
                    .execute(&mut conn)
                    .await;
                // Closing the connection ends the session and its lock.
                let _ = sqlx::Connection::close(conn).await;
                return;
            }
            _ = tokio::time::sleep(SESSION_CHECK) => {}
        }
        if sqlx::query("SELECT 1").execute(&mut conn).await.is_ok() {
            continue;
        }
        tracing::warn!(
            "lost the worker's database session: its leases are free for other workers; stopping its runs and reconnecting"
        );
        metrics::counter!("fast_flights_worker_sessions_lost_total").increment(1);
        lost.cancel();
        let _ = state.send(None);
        drop(conn);
        let mut backoff = Duration::from_millis(250);
        conn = loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            match register(&spec).await {
                Ok(conn) => break conn,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot re-establish the worker's session; retrying");
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        tracing::info!("worker session re-established");
        lost = CancellationToken::new();
        let _ = state.send(Some(lost.clone()));
    }
}
