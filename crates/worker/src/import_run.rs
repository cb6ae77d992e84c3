//! Runs one CSV import: streams the stored file chunk by chunk (never whole in memory),
//! checks every row, and commits valid rows in batches together with the counters, the
//! kept rejections and the resume position. A crashed import resumes after its last batch.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use csv_async::{AsyncReaderBuilder, ByteRecord};
use domain::inventory::CsvHeader;
use domain::{AirportDb, InventoryFlight};
use store::imports::{CHUNK_BYTES, MAX_KEPT_REJECTIONS};
use store::{
    ClaimedImport, EventBus, ImportCheckpoint, ImportRecord, ImportStatus, JobEvent, Lease, Store,
};

use crate::{LeaseKeeper, Outcome, Run, Stop as RunStop};

/// Valid rows per committed batch: large on PostgreSQL, where a batch is one `COPY`;
/// smaller on SQLite, where it is a multi-row insert (bound by SQLite's 32,766 variables).
pub const BATCH_ROWS_POSTGRES: usize = 5_000;
pub const BATCH_ROWS_SQLITE: usize = 1_000;
/// A batch is committed at least this often, whatever its size, so progress shows even
/// when most rows are rejected.
const BATCH_EVERY: Duration = Duration::from_secs(1);
/// An import whose runs fail this often for reasons other than its file is given up.
const MAX_FAILURES: u32 = 5;
/// A row longer than this is taken for a quote left open, and the file is refused.
pub const MAX_ROW_BYTES: u64 = 1 << 20;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

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
    lease: Lease,
    import: ImportRecord,
    lease_ttl: Duration,
}

/// What the CSV reader was given of the file: the latest chunks by offset, a running count
/// of line breaks, and where the last complete row ended. The reader's own positions do not
/// say on which line a row starts (a CRLF's `\n` and blank lines are skipped at the start
/// of the next read), nor does it count lone `\r` line ends.
#[derive(Default)]
struct Tap {
    /// Offset of the first kept chunk, and the chunks.
    start: u64,
    chunks: VecDeque<bytes::Bytes>,
    /// Bytes handed to the reader so far.
    end: u64,
    /// Line breaks before `counted`.
    counted: u64,
    breaks: u64,
    /// Where the last complete row ended.
    row_end: u64,
}

impl Tap {
    /// Chunks kept: the reader reads at most a buffer (a quarter chunk) ahead.
    const KEPT: usize = 3;

    fn push(&mut self, chunk: bytes::Bytes) {
        self.end += chunk.len() as u64;
        self.chunks.push_back(chunk);
        while self.chunks.len() > Self::KEPT {
            if let Some(old) = self.chunks.pop_front() {
                self.start += old.len() as u64;
            }
        }
    }

    fn byte_at(&self, offset: u64) -> Option<u8> {
        let mut at = offset.checked_sub(self.start)?;
        for chunk in &self.chunks {
            if at < chunk.len() as u64 {
                return chunk.get(at as usize).copied();
            }
            at -= chunk.len() as u64;
        }
        None
    }

    /// The first byte of the row the reader reported at `reported`: past the line ends and
    /// blank lines it skipped.
    fn row_start(&self, reported: u64) -> u64 {
        let mut at = reported;
        while matches!(self.byte_at(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        at
    }

    /// The line `offset` is on (1-based): `\n`, `\r\n` and a lone `\r` each end a line.
    /// Offsets must not go back.
    fn line_at(&mut self, offset: u64) -> u64 {
        while self.counted < offset {
            match self.byte_at(self.counted) {
                Some(b'\n') => self.breaks += 1,
                Some(b'\r') if self.byte_at(self.counted + 1) != Some(b'\n') => self.breaks += 1,
                _ => {}
            }
            self.counted += 1;
        }
        self.breaks + 1
    }
}

/// The chunks of a stored file as one byte stream (a UTF-8 byte-order mark dropped), each
/// also given to `tap`. Refuses to go on once a row runs past [`MAX_ROW_BYTES`].
fn file_stream(
    store: Store,
    id: uuid::Uuid,
    tap: Arc<Mutex<Tap>>,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> {
    futures::stream::try_unfold(0u32, move |seq| {
        let store = store.clone();
        let tap = Arc::clone(&tap);
        async move {
            {
                let tap = tap.lock().unwrap_or_else(|e| e.into_inner());
                if tap.end > tap.row_end + MAX_ROW_BYTES + CHUNK_BYTES as u64 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        RowTooLong(tap.row_end),
                    ));
                }
            }
            match store.import_chunk(id, seq).await {
                Ok(Some(data)) => {
                    let mut chunk = bytes::Bytes::from(data);
                    if seq == 0 && chunk.starts_with(UTF8_BOM) {
                        chunk = chunk.slice(UTF8_BOM.len()..);
                    }
                    tap.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(chunk.clone());
                    Ok(Some((chunk, seq + 1)))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        }
    })
}

/// A row that began at this offset never ended.
#[derive(Debug)]
struct RowTooLong(u64);

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a row runs on for more than {MAX_ROW_BYTES} bytes")
    }
}

impl std::error::Error for RowTooLong {}

fn text_fields(record: &ByteRecord) -> Result<Vec<&str>, String> {
    record
        .iter()
        .enumerate()
        .map(|(i, f)| {
            std::str::from_utf8(f).map_err(|_| format!("field {} is not UTF-8 text", i + 1))
        })
        .collect()
}

/// Most of a rejected row's text that is kept.
const MAX_ROW_TEXT_CHARS: usize = 500;

/// A row as an admin reads it back: its fields joined by commas, bytes that are not UTF-8
/// replaced, cut at [`MAX_ROW_TEXT_CHARS`].
fn row_text(record: &ByteRecord) -> String {
    let fields: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    domain::inventory::shown_at_most(&fields.join(","), MAX_ROW_TEXT_CHARS)
}

/// Refuses, from its first bytes, a file that cannot be CSV text.
fn check_start(first: &[u8]) -> Result<(), Stop> {
    let empty = || {
        Stop::File(format!(
            "the file is empty: a CSV import needs the header line `{}` and then one flight per line",
            domain::inventory::CSV_COLUMNS.join(",")
        ))
    };
    if first.starts_with(b"\xFF\xFE") || first.starts_with(b"\xFE\xFF") {
        return Err(Stop::File(
            "the file is UTF-16 text: save it as UTF-8 CSV (\"CSV UTF-8\" in spreadsheets)".into(),
        ));
    }
    let text = first.strip_prefix(UTF8_BOM).unwrap_or(first);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    let sniff = &text[..text.len().min(8 * 1024)];
    if let Some(at) = sniff.iter().position(|b| *b == 0) {
        return Err(Stop::File(format!(
            "the file is not CSV text: it holds binary data (a NUL byte at byte {at})"
        )));
    }
    Ok(())
}

impl ImportRun {
    pub fn new(
        store: Store,
        events: Arc<dyn EventBus>,
        claimed: ClaimedImport,
        lease_ttl: Duration,
    ) -> Self {
        if let Some(previous) = &claimed.taken_over_from {
            metrics::counter!("fast_flights_lease_takeovers_total").increment(1);
            tracing::warn!(import_id = %claimed.import.id, from = %previous, "took over an import its worker had left");
        }
        Self {
            store,
            events,
            import: claimed.import,
            lease: claimed.lease,
            lease_ttl,
        }
    }

    #[tracing::instrument(skip_all, fields(import_id = %self.import.id, file = %self.import.filename))]
    async fn run(self, stop: RunStop) -> Outcome {
        tracing::info!(
            resume_at_byte = self.import.bytes_done,
            attempt = self.import.attempts,
            "import started"
        );
        // Rows skipped on resume and slow batches write nothing for a while: the lease is
        // renewed on its own as well as by each batch.
        let (keeper, stop) = LeaseKeeper::start(
            self.store.clone(),
            self.lease.clone(),
            self.lease_ttl,
            &stop,
        );
        let result = self.stream_rows(&stop).await;
        keeper.stop().await;
        let outcome = match result {
            Ok(()) => self.finish(ImportStatus::Succeeded, None).await,
            Err(Stop::File(why)) => {
                tracing::warn!(reason = %why, "import failed: the file is not usable");
                self.finish(ImportStatus::Failed, Some(why)).await
            }
            Err(Stop::Transient(why)) if self.import.failures + 1 >= MAX_FAILURES => {
                tracing::error!(reason = %why, "import failed too often; giving up");
                self.finish(
                    ImportStatus::Failed,
                    Some(format!(
                        "gave up after {MAX_FAILURES} failed attempts to import it (the database \
                         or the stored file could not be read; the workers' logs say more); \
                         upload the file again to retry"
                    )),
                )
                .await
            }
            Err(Stop::Transient(why)) => {
                tracing::warn!(reason = %why, "import interrupted; it will be tried again");
                self.release(true).await
            }
            Err(Stop::Shutdown) => self.release(false).await,
            Err(Stop::LeaseLost) => {
                tracing::warn!("import lease lost; another worker may have it");
                Outcome::LeaseLost
            }
        };
        self.events.publish(JobEvent::Import(self.import.id));
        outcome
    }

    async fn release(&self, failed: bool) -> Outcome {
        if let Err(e) = self.store.release_import(&self.lease, failed).await {
            tracing::error!(error = %e, "cannot release the import; its lease will expire");
        }
        Outcome::Released
    }

    async fn finish(&self, status: ImportStatus, error: Option<String>) -> Outcome {
        match self.store.finish_import(&self.lease, status, error).await {
            Ok(true) => {
                tracing::info!(status = status.as_str(), "import finished");
                Outcome::Finished(status.as_str())
            }
            Ok(false) => Outcome::LeaseLost,
            Err(e) => {
                tracing::error!(error = %e, "cannot record the end of the import; it will be tried again");
                self.release(true).await
            }
        }
    }

    async fn stream_rows(&self, stop: &RunStop) -> Result<(), Stop> {
        let id = self.import.id;
        match self.store.import_chunk(id, 0).await? {
            Some(first) => check_start(&first)?,
            None => check_start(&[])?,
        }
        let tap = Arc::new(Mutex::new(Tap::default()));
        let reader = tokio_util::io::StreamReader::new(Box::pin(file_stream(
            self.store.clone(),
            id,
            Arc::clone(&tap),
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
            .map_err(|e| read_error(e, &tap))?
        {
            return Err(Stop::File("the file has no header line".into()));
        }
        let fields = text_fields(&header)
            .map_err(|e| Stop::File(format!("the header is not CSV text: {e}")))?;
        let header = CsvHeader::parse(&fields).map_err(Stop::File)?;
        lock(&tap).row_end = csv.position().byte();

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
            let mut last_batch = tokio::time::Instant::now();
            while csv
                .read_byte_record(&mut record)
                .await
                .map_err(|e| read_error(e, &tap))?
            {
                if stop.lease_lost.is_cancelled() {
                    return Err(Stop::LeaseLost);
                }
                if stop.shutdown.is_cancelled() {
                    return Err(Stop::Shutdown);
                }
                let after = csv.position().byte();
                let reported = record.position().map_or(0, |p| p.byte());
                let line = {
                    let mut tap = lock(&tap);
                    tap.row_end = after;
                    let start = tap.row_start(reported);
                    tap.line_at(start)
                };
                let end = reported + record_len(&record);
                if reported < resume_at {
                    continue;
                }
                cp.rows_read += 1;
                let parsed = text_fields(&record).and_then(|fields| {
                    header.raw(&fields).and_then(|raw| {
                        InventoryFlight::parse_all(&raw, airports).map_err(|all| {
                            all.iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
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
                            cp.rejections.push(store::Rejection {
                                line,
                                reason,
                                content: Some(row_text(&record)),
                            });
                        }
                        cp.rows_rejected += 1;
                    }
                }
                cp.bytes_done = cp.bytes_done.max(end);
                if cp.flights.len() >= batch_rows
                    || cp.rejections.len() >= batch_rows
                    || last_batch.elapsed() >= BATCH_EVERY
                {
                    send(&batches, &mut cp).await?;
                    keys.clear();
                    last_batch = tokio::time::Instant::now();
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

#[async_trait::async_trait]
impl Run for ImportRun {
    async fn execute(self: Box<Self>, stop: RunStop) -> Outcome {
        self.run(stop).await
    }
}

fn lock(tap: &Mutex<Tap>) -> std::sync::MutexGuard<'_, Tap> {
    tap.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hands the rows gathered so far to the writer, with the counters as they stand. Rows go
/// in key order, so concurrent imports touching the same flights lock them in one order.
async fn send(
    batches: &tokio::sync::mpsc::Sender<ImportCheckpoint>,
    cp: &mut ImportCheckpoint,
) -> Result<(), Stop> {
    let mut flights = std::mem::take(&mut cp.flights);
    flights.sort_by(|a, b| {
        (&a.flight_number, a.departure_at).cmp(&(&b.flight_number, b.departure_at))
    });
    let batch = ImportCheckpoint {
        flights,
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
    lease: Lease,
    lease_ttl: Duration,
    mut queue: tokio::sync::mpsc::Receiver<ImportCheckpoint>,
) -> Result<(), Stop> {
    let mut last_publish = tokio::time::Instant::now();
    while let Some(cp) = queue.recv().await {
        if !store.import_checkpoint(&lease, lease_ttl, &cp).await? {
            return Err(Stop::LeaseLost);
        }
        if last_publish.elapsed() >= Duration::from_millis(250) {
            events.publish(JobEvent::Import(lease.id));
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

fn read_error(e: csv_async::Error, tap: &Mutex<Tap>) -> Stop {
    match e.kind() {
        csv_async::ErrorKind::Io(io) => {
            if let Some(RowTooLong(from)) = io.get_ref().and_then(|e| e.downcast_ref()) {
                let mut tap = lock(tap);
                let start = tap.row_start(*from);
                let line = tap.line_at(start);
                return Stop::File(format!(
                    "the row starting on line {line} runs on for more than {} MiB: is a quote left open (a field starting with `\"` that never ends)?",
                    MAX_ROW_BYTES >> 20
                ));
            }
            Stop::Transient(format!("reading the stored file: {io}"))
        }
        _ => Stop::File(format!("the file cannot be read as CSV: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap_of(bytes: &[u8]) -> Tap {
        let mut tap = Tap::default();
        tap.push(bytes::Bytes::copy_from_slice(bytes));
        tap
    }

    #[test]
    fn lines_count_every_kind_of_line_end() {
        let mut tap = tap_of(b"a\r\nb\rc\nd\r\r\ne");
        // a:1, b:2, c:3, d:4, (blank):5, e:6
        let at = |tap: &mut Tap, byte: u8| {
            let offset = (0..).find(|o| tap.byte_at(*o) == Some(byte)).expect("byte");
            tap.line_at(offset)
        };
        assert_eq!(at(&mut tap, b'a'), 1);
        assert_eq!(at(&mut tap, b'b'), 2);
        assert_eq!(at(&mut tap, b'c'), 3);
        assert_eq!(at(&mut tap, b'd'), 4);
        assert_eq!(at(&mut tap, b'e'), 6);
    }

    #[test]
    fn rows_start_past_skipped_line_ends() {
        let tap = tap_of(b"h\r\n\r\n\nx");
        assert_eq!(tap.row_start(1), 6);
        assert_eq!(tap.row_start(6), 6);
    }

    #[test]
    fn files_that_cannot_be_csv_are_named() {
        let why = |bytes: &[u8]| match check_start(bytes) {
            Err(Stop::File(m)) => m,
            _ => String::new(),
        };
        assert!(why(b"").contains("empty"));
        assert!(why(b"\xEF\xBB\xBF \r\n").contains("empty"));
        assert!(why(b"\xFF\xFEf\0l\0").contains("UTF-16"));
        assert!(why(b"\x89PNG\r\n\x1a\n\0\0").contains("binary"));
        assert!(check_start(b"flight_number,airline\n").is_ok());
    }
}
