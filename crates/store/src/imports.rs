//! CSV imports of the flight catalogue. The file is kept in the database in 1 MiB chunks,
//! so a worker on any machine can stream it; workers claim imports with a lease, like
//! searches, and commit each batch of rows together with the import's counters and resume
//! position, so a crashed import resumes where its last batch ended.

use chrono::{DateTime, Utc};
use domain::InventoryFlight;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, SqlErr, TransactionTrait,
};
use sha2::Digest;
use tokio::io::{AsyncRead, AsyncReadExt};
use uuid::Uuid;

use crate::entity::{import, import_chunk, import_rejection};
use crate::leases::{ClaimRules, Lease, LeaseKind, WithoutLease, fenced};
use crate::records::Page;
use crate::{Result, Store, StoreError};

/// The size of one stored piece of an import's file.
pub const CHUNK_BYTES: usize = 1 << 20;
/// Rejected rows kept per import (all are counted).
pub const MAX_KEPT_REJECTIONS: u64 = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// The file is being stored; no worker takes it yet.
    Uploading,
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl ImportStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ImportStatus::Uploading => "UPLOADING",
            ImportStatus::Queued => "QUEUED",
            ImportStatus::Running => "RUNNING",
            ImportStatus::Succeeded => "SUCCEEDED",
            ImportStatus::Failed => "FAILED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "UPLOADING" => ImportStatus::Uploading,
            "QUEUED" => ImportStatus::Queued,
            "RUNNING" => ImportStatus::Running,
            "SUCCEEDED" => ImportStatus::Succeeded,
            "FAILED" => ImportStatus::Failed,
            _ => return None,
        })
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, ImportStatus::Succeeded | ImportStatus::Failed)
    }
}

/// Where an import's file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportSource {
    /// `importFlights` over GraphQL.
    Upload,
    /// A file dropped in the watched folder.
    Watch,
    /// `fast-flights import FILE`.
    Cli,
}

impl ImportSource {
    pub fn as_str(&self) -> &'static str {
        match self {
            ImportSource::Upload => "UPLOAD",
            ImportSource::Watch => "WATCH",
            ImportSource::Cli => "CLI",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "UPLOAD" => ImportSource::Upload,
            "WATCH" => ImportSource::Watch,
            "CLI" => ImportSource::Cli,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportRecord {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub source: ImportSource,
    pub filename: String,
    /// Hex SHA-256 of the file, once stored.
    pub sha256: Option<String>,
    pub size_bytes: u64,
    pub status: ImportStatus,
    /// Data rows read so far (the header not counted).
    pub rows_read: u64,
    pub rows_imported: u64,
    pub rows_rejected: u64,
    /// How far into the file the committed rows reach.
    pub bytes_done: u64,
    pub error: Option<String>,
    /// Times a worker took the import up.
    pub attempts: u32,
    /// Runs that ended in a failure other than the file's (the database, say).
    pub failures: u32,
    pub lease_owner: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl ImportRecord {
    /// 0 to 100, by bytes of the file.
    pub fn percent(&self) -> f64 {
        if self.status == ImportStatus::Succeeded {
            return 100.0;
        }
        if self.size_bytes == 0 {
            return 0.0;
        }
        (self.bytes_done as f64 * 100.0 / self.size_bytes as f64).clamp(0.0, 100.0)
    }
}

fn count(n: i64, what: &str, id: Uuid) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("import {id}: negative {what}")))
}

impl TryFrom<import::Model> for ImportRecord {
    type Error = StoreError;

    fn try_from(m: import::Model) -> Result<Self> {
        let id = m.id;
        Ok(Self {
            id,
            owner_id: m.owner_id,
            source: ImportSource::parse(&m.source)
                .ok_or_else(|| StoreError::Corrupt(format!("import {id}: source {}", m.source)))?,
            filename: m.filename,
            sha256: m.sha256,
            size_bytes: count(m.size_bytes, "size", id)?,
            status: ImportStatus::parse(&m.status)
                .ok_or_else(|| StoreError::Corrupt(format!("import {id}: status {}", m.status)))?,
            rows_read: count(m.rows_read, "rows", id)?,
            rows_imported: count(m.rows_imported, "rows", id)?,
            rows_rejected: count(m.rows_rejected, "rows", id)?,
            bytes_done: count(m.bytes_done, "bytes", id)?,
            error: m.error,
            attempts: u32::try_from(m.attempts).unwrap_or(0),
            failures: u32::try_from(m.failures).unwrap_or(0),
            lease_owner: m.lease_owner,
            created_at: m.created_at,
            updated_at: m.updated_at,
            started_at: m.started_at,
            finished_at: m.finished_at,
        })
    }
}

/// An import just taken up by a worker.
#[derive(Debug, Clone)]
pub struct ClaimedImport {
    pub lease: Lease,
    pub import: ImportRecord,
    /// The worker that held it before, when this claim took it over.
    pub taken_over_from: Option<String>,
}

/// One committed step of an import: the counters as they stand after it.
/// A row an import refused: its line (1 is the header), every problem it has, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: u64,
    pub reason: String,
    /// Null for rows rejected before the text was kept.
    pub content: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportCheckpoint {
    /// Valid rows to upsert, no key twice.
    pub flights: Vec<InventoryFlight>,
    /// Rejected rows to keep.
    pub rejections: Vec<Rejection>,
    pub rows_read: u64,
    pub rows_imported: u64,
    pub rows_rejected: u64,
    pub bytes_done: u64,
}

/// What a new import is.
#[derive(Debug, Clone)]
pub struct NewImport {
    pub source: ImportSource,
    pub filename: String,
    pub owner_id: Option<Uuid>,
    /// Set for a file that must be imported only once per content (watched folder, CLI):
    /// its SHA-256, known before storing.
    pub dedupe_sha256: Option<String>,
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn filename_of(raw: &str) -> String {
    let name = raw.rsplit(['/', '\\']).next().unwrap_or(raw).trim();
    let name: String = name.chars().filter(|c| !c.is_control()).take(255).collect();
    if name.is_empty() {
        "upload.csv".to_string()
    } else {
        name
    }
}

/// The hex SHA-256 of everything `reader` holds, read in chunks.
pub async fn sha256_of(reader: &mut (impl AsyncRead + Unpin)) -> std::io::Result<(String, u64)> {
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex(&hasher.finalize()), size))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Stores a file as an import and queues it for the workers. A file with a dedupe hash
    /// that was stored before gives [`StoreError::DuplicateImport`] with the earlier import.
    #[tracing::instrument(skip_all, fields(filename = %new.filename))]
    pub async fn store_import(
        &self,
        new: NewImport,
        reader: &mut (impl AsyncRead + Unpin),
    ) -> Result<ImportRecord> {
        let now = Utc::now();
        let id = Uuid::now_v7();
        let model = import::ActiveModel {
            id: Set(id),
            owner_id: Set(new.owner_id),
            source: Set(new.source.as_str().to_string()),
            filename: Set(filename_of(&new.filename)),
            sha256: Set(None),
            // Set only once the whole file is stored: a process that dies mid-upload
            // leaves no claim on this content behind.
            dedupe_key: Set(None),
            size_bytes: Set(0),
            status: Set(ImportStatus::Uploading.as_str().to_string()),
            rows_read: Set(0),
            rows_imported: Set(0),
            rows_rejected: Set(0),
            bytes_done: Set(0),
            error: Set(None),
            lease_owner: Set(None),
            lease_token: Set(None),
            lease_expires_at: Set(None),
            attempts: Set(0),
            failures: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            started_at: Set(None),
            finished_at: Set(None),
            taken_over_from: Set(None),
        };
        model.insert(&self.db).await?;
        let (sha256, size) = match self.store_chunks(id, reader).await {
            Ok(stored) => stored,
            Err(e) => {
                let _ = self.delete_import(id).await;
                return Err(e);
            }
        };
        let queued = import::Entity::update_many()
            .col_expr(import::Column::Sha256, Expr::value(sha256))
            .col_expr(
                import::Column::DedupeKey,
                Expr::value(new.dedupe_sha256.clone()),
            )
            .col_expr(import::Column::SizeBytes, Expr::value(i64_of(size)))
            .col_expr(
                import::Column::Status,
                Expr::value(ImportStatus::Queued.as_str()),
            )
            .col_expr(import::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(import::Column::Id.eq(id))
            .exec(&self.db)
            .await;
        if let Err(e) = queued {
            let duplicate = matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)));
            let _ = self.delete_import(id).await;
            if duplicate
                && let Some(key) = &new.dedupe_sha256
                && let Some(existing) = self.import_by_dedupe_key(key).await?
            {
                return Err(StoreError::DuplicateImport(Box::new(existing)));
            }
            return Err(e.into());
        }
        self.import(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("import {id} vanished")))
    }

    async fn store_chunks(
        &self,
        id: Uuid,
        reader: &mut (impl AsyncRead + Unpin),
    ) -> Result<(String, u64)> {
        let mut hasher = sha2::Sha256::new();
        let mut size = 0u64;
        let mut seq = 0i32;
        let mut buf = vec![0u8; CHUNK_BYTES];
        loop {
            let mut filled = 0;
            while filled < CHUNK_BYTES {
                let n = reader
                    .read(&mut buf[filled..])
                    .await
                    .map_err(|e| StoreError::Io(format!("reading the file: {e}")))?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            hasher.update(&buf[..filled]);
            size += filled as u64;
            import_chunk::ActiveModel {
                import_id: Set(id),
                seq: Set(seq),
                data: Set(buf[..filled].to_vec()),
            }
            .insert(&self.db)
            .await?;
            import::Entity::update_many()
                .col_expr(import::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(import::Column::Id.eq(id))
                .exec(&self.db)
                .await?;
            seq += 1;
            if filled < CHUNK_BYTES {
                break;
            }
        }
        Ok((hex(&hasher.finalize()), size))
    }

    /// Removes uploads left unfinished for longer than `older_than` (their process died).
    pub async fn delete_stale_uploads(&self, older_than: std::time::Duration) -> Result<u64> {
        let cutoff = Utc::now()
            - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::hours(1));
        let stale: Vec<Uuid> = import::Entity::find()
            .select_only()
            .column(import::Column::Id)
            .filter(import::Column::Status.eq(ImportStatus::Uploading.as_str()))
            .filter(import::Column::UpdatedAt.lt(cutoff))
            .into_tuple()
            .all(&self.db)
            .await?;
        for id in &stale {
            self.delete_import(*id).await?;
        }
        Ok(stale.len() as u64)
    }

    /// Removes an import and everything stored with it (not the flights it wrote).
    pub async fn delete_import(&self, id: Uuid) -> Result<()> {
        let txn = self.db.begin().await?;
        import_chunk::Entity::delete_many()
            .filter(import_chunk::Column::ImportId.eq(id))
            .exec(&txn)
            .await?;
        import_rejection::Entity::delete_many()
            .filter(import_rejection::Column::ImportId.eq(id))
            .exec(&txn)
            .await?;
        import::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn import(&self, id: Uuid) -> Result<Option<ImportRecord>> {
        import::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(ImportRecord::try_from)
            .transpose()
    }

    pub async fn import_by_dedupe_key(&self, sha256: &str) -> Result<Option<ImportRecord>> {
        import::Entity::find()
            .filter(import::Column::DedupeKey.eq(sha256))
            .one(&self.db)
            .await?
            .map(ImportRecord::try_from)
            .transpose()
    }

    /// Newest first; `after` is the id of the last import of the previous page.
    pub async fn imports_page(
        &self,
        first: u64,
        after: Option<Uuid>,
    ) -> Result<Page<ImportRecord>> {
        let mut query = import::Entity::find().order_by_desc(import::Column::Id);
        if let Some(after) = after {
            query = query.filter(import::Column::Id.lt(after));
        }
        let mut rows = query.limit(first + 1).all(&self.db).await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page {
            items: rows
                .into_iter()
                .map(ImportRecord::try_from)
                .collect::<Result<_>>()?,
            has_next,
        })
    }

    /// Kept rejected rows by line, after `after_line`.
    pub async fn import_rejections(
        &self,
        id: Uuid,
        first: u64,
        after_line: Option<u64>,
    ) -> Result<Vec<Rejection>> {
        let mut query = import_rejection::Entity::find()
            .filter(import_rejection::Column::ImportId.eq(id))
            .order_by_asc(import_rejection::Column::Line);
        if let Some(after) = after_line {
            query = query.filter(import_rejection::Column::Line.gt(i64_of(after)));
        }
        Ok(query
            .limit(first)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| Rejection {
                line: u64::try_from(r.line).unwrap_or(0),
                reason: r.reason,
                content: r.content,
            })
            .collect())
    }

    /// The `seq`-th chunk of an import's file; `None` past its end.
    pub async fn import_chunk(&self, id: Uuid, seq: u32) -> Result<Option<Vec<u8>>> {
        Ok(
            import_chunk::Entity::find_by_id((id, i32::try_from(seq).unwrap_or(i32::MAX)))
                .one(&self.db)
                .await?
                .map(|c| c.data),
        )
    }

    /// Takes the oldest queued import, or a running one whose lease is free (its worker
    /// died); with `only`, that import alone.
    #[tracing::instrument(skip_all, fields(worker = owner), err)]
    pub async fn claim_import(
        &self,
        owner: &str,
        lease_ttl: std::time::Duration,
        only: Option<Uuid>,
    ) -> Result<Option<ClaimedImport>> {
        let rules = ClaimRules {
            only,
            order_by: "c.created_at".into(),
            ..ClaimRules::default()
        };
        let Some(claim) = self
            .claim(LeaseKind::Import, owner, lease_ttl, rules)
            .await?
        else {
            return Ok(None);
        };
        let id = claim.lease.id;
        let import = self
            .import(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("import {id} vanished")))?;
        Ok(Some(ClaimedImport {
            lease: claim.lease,
            import,
            taken_over_from: claim.taken_over_from,
        }))
    }

    /// Upserts a batch of flights, keeps its rejected rows and moves the import's counters
    /// and resume position, in one transaction fenced by the lease (which it extends).
    /// `false`: the lease was lost and nothing was written.
    #[tracing::instrument(skip_all, fields(import_id = %lease.id, rows = cp.flights.len()), err)]
    pub async fn import_checkpoint(
        &self,
        lease: &Lease,
        lease_ttl: std::time::Duration,
        cp: &ImportCheckpoint,
    ) -> Result<bool> {
        let now = self.now();
        let expires =
            now + chrono::Duration::from_std(lease_ttl).unwrap_or(chrono::Duration::seconds(30));
        if self.backend() == sea_orm::DatabaseBackend::Postgres {
            return self.import_checkpoint_pg(lease, cp, expires).await;
        }
        let txn = self.db.begin().await?;
        let held = import::Entity::update_many()
            .col_expr(import::Column::RowsRead, Expr::value(i64_of(cp.rows_read)))
            .col_expr(
                import::Column::RowsImported,
                Expr::value(i64_of(cp.rows_imported)),
            )
            .col_expr(
                import::Column::RowsRejected,
                Expr::value(i64_of(cp.rows_rejected)),
            )
            .col_expr(
                import::Column::BytesDone,
                Expr::value(i64_of(cp.bytes_done)),
            )
            .col_expr(import::Column::LeaseExpiresAt, Expr::value(expires))
            .col_expr(import::Column::UpdatedAt, Expr::value(now))
            .filter(fenced(lease))
            .exec(&txn)
            .await?;
        if held.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(false);
        }
        crate::inventory::upsert_batch(&txn, &cp.flights, Some(lease.id)).await?;
        if !cp.rejections.is_empty() {
            import_rejection::Entity::insert_many(cp.rejections.iter().map(|r| {
                import_rejection::ActiveModel {
                    import_id: Set(lease.id),
                    line: Set(i64_of(r.line)),
                    reason: Set(r.reason.clone()),
                    content: Set(r.content.clone()),
                }
            }))
            .on_conflict_do_nothing_on([
                import_rejection::Column::ImportId,
                import_rejection::Column::Line,
            ])
            .exec(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(true)
    }

    /// [`Store::import_checkpoint`] on PostgreSQL, the flights written by `COPY`.
    async fn import_checkpoint_pg(
        &self,
        lease: &Lease,
        cp: &ImportCheckpoint,
        expires: DateTime<Utc>,
    ) -> Result<bool> {
        let pool = self.db.get_postgres_connection_pool();
        let mut tx = pool.begin().await?;
        // Not waiting for the disk is safe here: the counters and resume position commit
        // with the rows, so a batch lost in a database crash is simply read again.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        let held = sqlx::query(
            "UPDATE imports SET rows_read = $1, rows_imported = $2, rows_rejected = $3, \
             bytes_done = $4, lease_expires_at = $5::timestamptz, updated_at = now() \
             WHERE id = $6::uuid AND lease_token = $7::uuid AND status = 'RUNNING'",
        )
        .bind(i64_of(cp.rows_read))
        .bind(i64_of(cp.rows_imported))
        .bind(i64_of(cp.rows_rejected))
        .bind(i64_of(cp.bytes_done))
        .bind(expires.to_rfc3339())
        .bind(lease.id.to_string())
        .bind(lease.token.to_string())
        .execute(&mut *tx)
        .await?;
        if held.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::inventory::upsert_batch_by_copy(&mut tx, &cp.flights, Some(lease.id)).await?;
        if !cp.rejections.is_empty() {
            let lines: Vec<i64> = cp.rejections.iter().map(|r| i64_of(r.line)).collect();
            let reasons: Vec<&str> = cp.rejections.iter().map(|r| r.reason.as_str()).collect();
            let contents: Vec<Option<&str>> =
                cp.rejections.iter().map(|r| r.content.as_deref()).collect();
            sqlx::query(
                "INSERT INTO import_rejections (import_id, line, reason, content) \
                 SELECT $1::uuid, l, r, c FROM UNNEST($2::int8[], $3::text[], $4::text[]) AS t(l, r, c) \
                 ON CONFLICT (import_id, line) DO NOTHING",
            )
            .bind(lease.id.to_string())
            .bind(lines)
            .bind(reasons)
            .bind(contents)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Ends an import (fenced by the lease) and drops its stored file.
    pub async fn finish_import(
        &self,
        lease: &Lease,
        status: ImportStatus,
        error: Option<String>,
    ) -> Result<bool> {
        let now = self.now();
        // A file with rows of which none could be imported did not succeed. The counts are
        // read before the transaction: only the lease holder writes them, and on SQLite a
        // transaction that reads before it writes fails at once (SQLITE_BUSY_SNAPSHOT,
        // whatever the busy timeout) when another write came in between.
        let (status, error) = match status {
            ImportStatus::Succeeded => {
                let counts = import::Entity::find_by_id(lease.id)
                    .one(&self.db)
                    .await?
                    .map(ImportRecord::try_from)
                    .transpose()?;
                match counts {
                    Some(c) if c.rows_read > 0 && c.rows_imported == 0 => (
                        ImportStatus::Failed,
                        Some(format!(
                            "no row could be imported: all {} rows were rejected (the rejected \
                             rows say why)",
                            c.rows_rejected
                        )),
                    ),
                    _ => (status, error),
                }
            }
            _ => (status, error),
        };
        let txn = self.db.begin().await?;
        let mut finish = import::Entity::update_many()
            .col_expr(import::Column::Status, Expr::value(status.as_str()));
        if status == ImportStatus::Failed {
            // A failed import does not stand for its content: the same file may come again.
            finish = finish.col_expr(
                import::Column::DedupeKey,
                Expr::value(Option::<String>::None),
            );
        }
        let done = finish
            .col_expr(import::Column::Error, Expr::value(error))
            .col_expr(import::Column::FinishedAt, Expr::value(now))
            .col_expr(import::Column::UpdatedAt, Expr::value(now))
            .without_lease()
            .filter(fenced(lease))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(false);
        }
        import_chunk::Entity::delete_many()
            .filter(import_chunk::Column::ImportId.eq(lease.id))
            .exec(&txn)
            .await?;
        let finished = import::Entity::find_by_id(lease.id)
            .one(&txn)
            .await?
            .map(ImportRecord::try_from)
            .transpose()?
            .ok_or_else(|| StoreError::Corrupt(format!("import {} vanished", lease.id)))?;
        crate::outbox::append(
            &txn,
            self.backend(),
            now,
            &[crate::outbox::import_finished(&finished)],
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Gives an import back to the queue (shutdown, or a failure that may pass: `failed`),
    /// keeping its progress.
    pub async fn release_import(&self, lease: &Lease, failed: bool) -> Result<()> {
        import::Entity::update_many()
            .col_expr(
                import::Column::Failures,
                Expr::col(import::Column::Failures).add(i32::from(failed)),
            )
            .col_expr(
                import::Column::Status,
                Expr::value(ImportStatus::Queued.as_str()),
            )
            .col_expr(import::Column::UpdatedAt, Expr::value(self.now()))
            .without_lease()
            .filter(fenced(lease))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
