//! Runs one CSV import: streams the stored file chunk by chunk (never whole in memory),
//! checks every row, and commits valid rows in batches together with the counters, the
//! kept rejections and the resume position. A crashed import resumes after its last batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use csv_async::{AsyncReaderBuilder, ByteRecord};
use domain::inventory::CsvHeader;
use domain::{AirportDb, InventoryFlight};
use store::imports::{CHUNK_BYTES, MAX_KEPT_REJECTIONS};
use store::{EventBus, ImportCheckpoint, ImportLease, ImportRecord, ImportStatus, JobEvent, Store};
use tokio_util::sync::CancellationToken;

/// Valid rows per committed batch: large on PostgreSQL, where a batch is one `COPY`;
/// smaller on SQLite, where it is a multi-row insert (bound by SQLite's 32,766 variables).
pub const BATCH_ROWS_POSTGRES: usize = 5_000;
pub const BATCH_ROWS_SQLITE: usize = 1_000;
/// An import that fails this often for reasons other than its file is given up.
const MAX_ATTEMPTS: u32 = 5;

/// How an import run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Finished(ImportStatus),
    /// Shutdown: the import goes back to the queue with its progress.
    Released,
    /// Another worker holds it now.
    LeaseLost,
}

/// Why a run stopped before the end of the file.
enum Stop {
    /// The file itself is wrong: the import fails with this message.
    File(String),
    /// Something else went wrong (the database, say): try again later.
    Transient(String),
    Shutdown,
    LeaseLost,
}

impl From<store::StoreError> for Stop {
    fn from(e: store::StoreError) -> Self {
        Stop::Transient(e.to_string())
    }
}

pub struct ImportRun {
    store: Store,
    events: Arc<dyn EventBus>,
    lease: ImportLease,
    import: ImportRecord,
    lease_ttl: Duration,
}

/// The chunks of a stored file as one byte stream; the latest few stay readable through
/// `window`.
fn file_stream(
    store: Store,
    id: uuid::Uuid,
    window: ChunkWindow,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> {
    futures::stream::try_unfold(0u32, move |seq| {
        let store = store.clone();
        let window = window.clone();
        async move {
            match store.import_chunk(id, seq).await {
                Ok(Some(data)) => {
                    let chunk = bytes::Bytes::from(data);
                    window.push(chunk.clone());
                    Ok(Some((chunk, seq + 1)))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        }
    })
}

/// The last chunks the CSV reader was given, by their offset in the file, so the byte that
/// ended a record can be looked at: the reader's own positions do not say on which line a
/// record starts (a CRLF's `\n` and blank lines are skipped at the start of the next read).
#[derive(Clone, Default)]
struct ChunkWindow(Arc<std::sync::Mutex<(u64, std::collections::VecDeque<bytes::Bytes>)>>);

impl ChunkWindow {
    /// Chunks kept: the reader reads at most a buffer (a quarter chunk) ahead.
    const KEPT: usize = 3;

    fn push(&self, chunk: bytes::Bytes) {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (start, chunks) = &mut *guard;
        chunks.push_back(chunk);
        while chunks.len() > Self::KEPT {
            if let Some(old) = chunks.pop_front() {
                *start += old.len() as u64;
            }
        }
    }

    fn byte_at(&self, offset: u64) -> Option<u8> {
        let guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (start, chunks) = &*guard;
        let mut at = offset.checked_sub(*start)?;
        for chunk in chunks {
            if at < chunk.len() as u64 {
                return chunk.get(at as usize).copied();
            }
            at -= chunk.len() as u64;
        }
        None
    }
}

fn text_fields(record: &ByteRecord) -> Result<Vec<&str>, String> {
    record
        .iter()
        .enumerate()
        .map(|(i, f)| {
            std::str::from_utf8(f).map_err(|_| format!("field {} is not UTF-8 text", i + 1))
        })
        .collect()
}

impl ImportRun {
    pub fn new(
        store: Store,
        events: Arc<dyn EventBus>,
        claimed: (ImportRecord, ImportLease),
        lease_ttl: Duration,
    ) -> Self {
        Self {
            store,
            events,
            import: claimed.0,
            lease: claimed.1,
            lease_ttl,
        }
    }

    #[tracing::instrument(skip_all, fields(import_id = %self.import.id, file = %self.import.filename))]
    pub async fn execute(self, stop: CancellationToken) -> ImportOutcome {
        tracing::info!(
            resume_at_byte = self.import.bytes_done,
            attempt = self.import.attempts,
            "import started"
        );
        let result = self.stream_rows(&stop).await;
        let outcome = match result {
            Ok(()) => self.finish(ImportStatus::Succeeded, None).await,
            Err(Stop::File(why)) => {
                tracing::warn!(reason = %why, "import failed: the file is not usable");
                self.finish(ImportStatus::Failed, Some(why)).await
            }
            Err(Stop::Transient(why)) if self.import.attempts >= MAX_ATTEMPTS => {
                tracing::error!(reason = %why, "import failed too often; giving up");
                self.finish(
                    ImportStatus::Failed,
                    Some(format!(
                        "gave up after {} attempts; the last failed with: {why}",
                        self.import.attempts
                    )),
                )
                .await
            }
            Err(Stop::Transient(why)) => {
                tracing::warn!(reason = %why, "import interrupted; it will be tried again");
                self.release().await
            }
            Err(Stop::Shutdown) => self.release().await,
            Err(Stop::LeaseLost) => {
                tracing::warn!("import lease lost; another worker has it");
                ImportOutcome::LeaseLost
            }
        };
        self.events.publish(JobEvent::Import(self.import.id));
        outcome
    }

    async fn release(&self) -> ImportOutcome {
        if let Err(e) = self.store.release_import(&self.lease).await {
            tracing::error!(error = %e, "cannot release the import; its lease will expire");
        }
        ImportOutcome::Released
    }

    async fn finish(&self, status: ImportStatus, error: Option<String>) -> ImportOutcome {
        match self.store.finish_import(&self.lease, status, error).await {
            Ok(true) => {
                tracing::info!(status = status.as_str(), "import finished");
                ImportOutcome::Finished(status)
            }
            Ok(false) => ImportOutcome::LeaseLost,
            Err(e) => {
                tracing::error!(error = %e, "cannot record the end of the import; it will be tried again");
                ImportOutcome::Released
            }
        }
    }

    async fn stream_rows(&self, stop: &CancellationToken) -> Result<(), Stop> {
        let id = self.import.id;
        let first = self.store.import_chunk(id, 0).await?;
        let Some(first) = first.filter(|c| !c.is_empty()) else {
            return Err(Stop::File(format!(
                "the file is empty: a CSV import needs the header line `{}` and then one flight per line",
                domain::inventory::CSV_COLUMNS.join(",")
            )));
        };
        let sniff = &first[..first.len().min(8 * 1024)];
        if let Some(at) = sniff.iter().position(|b| *b == 0) {
            return Err(Stop::File(format!(
                "the file is not CSV text: it holds binary data (a NUL byte at byte {at})"
            )));
        }
        drop(first);
        let window = ChunkWindow::default();
        let reader = tokio_util::io::StreamReader::new(Box::pin(file_stream(
            self.store.clone(),
            id,
            window.clone(),
        )));
        let mut csv = AsyncReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(CHUNK_BYTES / 4)
            .create_reader(reader);
        let mut header = ByteRecord::new();
        if !csv
            .read_byte_record(&mut header)
            .await
            .map_err(read_error)?
        {
            return Err(Stop::File("the file has no header line".into()));
        }
        let fields = text_fields(&header)
            .map_err(|e| Stop::File(format!("the header is not CSV text: {e}")))?;
        let header = CsvHeader::parse(&fields).map_err(Stop::File)?;

        let airports = AirportDb::embedded();
        let mut cp = ImportCheckpoint {
            rows_read: self.import.rows_read,
            rows_imported: self.import.rows_imported,
            rows_rejected: self.import.rows_rejected,
            bytes_done: self.import.bytes_done,
            ..ImportCheckpoint::default()
        };
        // Index of a key in `cp.flights`: a later row for the same flight replaces the earlier.
        let mut keys: HashMap<(String, DateTime<Utc>), usize> = HashMap::new();
        let resume_at = self.import.bytes_done;
        let batch_rows = if self.store.is_sqlite() {
            BATCH_ROWS_SQLITE
        } else {
            BATCH_ROWS_POSTGRES
        };
        // Batches are written by a task of their own, so the next batch is read and checked
        // while the database writes this one.
        let (batches, queue) = tokio::sync::mpsc::channel::<ImportCheckpoint>(2);
        let writer = tokio::spawn(write_batches(
            self.store.clone(),
            Arc::clone(&self.events),
            self.lease.clone(),
            self.lease_ttl,
            queue,
        ));
        let read = async {
            let mut record = ByteRecord::new();
            while csv
                .read_byte_record(&mut record)
                .await
                .map_err(read_error)?
            {
                if stop.is_cancelled() {
                    return Err(Stop::Shutdown);
                }
                let after = csv.position();
                let start = record.position().map_or(0, |p| p.byte());
                let end = start + record_len(&record);
                if start < resume_at {
                    continue;
                }
                // The reader's line count after the record, less the line breaks inside it and
                // the `\n` that ended it (a CRLF's `\n` is read with the next record).
                let ended_by_lf =
                    after.byte() > 0 && window.byte_at(after.byte() - 1) == Some(b'\n');
                let inner_breaks = record.as_slice().iter().filter(|b| **b == b'\n').count() as u64;
                let line = after
                    .line()
                    .saturating_sub(inner_breaks + u64::from(ended_by_lf))
                    .max(2);
                cp.rows_read += 1;
                let parsed = text_fields(&record).and_then(|fields| {
                    header.raw(&fields).and_then(|raw| {
                        InventoryFlight::parse(&raw, airports).map_err(|e| e.to_string())
                    })
                });
                match parsed {
                    Ok(flight) => {
                        cp.rows_imported += 1;
                        let key = (flight.flight_number.clone(), flight.departure_at);
                        match keys.get(&key) {
                            Some(&i) => cp.flights[i] = flight,
                            None => {
                                keys.insert(key, cp.flights.len());
                                cp.flights.push(flight);
                            }
                        }
                    }
                    Err(reason) => {
                        if cp.rows_rejected < MAX_KEPT_REJECTIONS {
                            cp.rejections.push((line, reason));
                        }
                        cp.rows_rejected += 1;
                    }
                }
                cp.bytes_done = cp.bytes_done.max(end);
                if cp.flights.len() >= batch_rows || cp.rejections.len() >= batch_rows {
                    send(&batches, &mut cp).await?;
                    keys.clear();
                }
            }
            cp.bytes_done = self.import.size_bytes.max(cp.bytes_done);
            send(&batches, &mut cp).await
        };
        let read: Result<(), Stop> = read.await;
        drop(batches);
        let written = writer
            .await
            .unwrap_or_else(|e| Err(Stop::Transient(format!("the batch writer stopped: {e}"))));
        // A failed write is why reading stopped, if it did: report that first.
        written.and(read)
    }
}

/// Hands the rows gathered so far to the writer, with the counters as they stand.
async fn send(
    batches: &tokio::sync::mpsc::Sender<ImportCheckpoint>,
    cp: &mut ImportCheckpoint,
) -> Result<(), Stop> {
    let batch = ImportCheckpoint {
        flights: std::mem::take(&mut cp.flights),
        rejections: std::mem::take(&mut cp.rejections),
        ..cp.clone()
    };
    batches
        .send(batch)
        .await
        .map_err(|_| Stop::Transient("the batch writer stopped".into()))
}

/// Commits batches in order, each fenced by the lease; tells subscribers now and then.
async fn write_batches(
    store: Store,
    events: Arc<dyn EventBus>,
    lease: ImportLease,
    lease_ttl: Duration,
    mut queue: tokio::sync::mpsc::Receiver<ImportCheckpoint>,
) -> Result<(), Stop> {
    let mut last_publish = tokio::time::Instant::now();
    while let Some(cp) = queue.recv().await {
        if !store.import_checkpoint(&lease, lease_ttl, &cp).await? {
            return Err(Stop::LeaseLost);
        }
        if last_publish.elapsed() >= Duration::from_millis(250) {
            events.publish(JobEvent::Import(lease.import_id));
            last_publish = tokio::time::Instant::now();
        }
    }
    Ok(())
}

/// A record's length in the file, roughly: the position of the next record is what resume
/// needs, and it is at least this far on.
fn record_len(record: &ByteRecord) -> u64 {
    record.as_slice().len() as u64 + record.len() as u64
}

fn read_error(e: csv_async::Error) -> Stop {
    match e.kind() {
        csv_async::ErrorKind::Io(io) => Stop::Transient(format!("reading the stored file: {io}")),
        _ => Stop::File(format!("the file cannot be read as CSV: {e}")),
    }
}
