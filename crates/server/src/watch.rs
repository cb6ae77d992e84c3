//! The watched folder: every `*.csv` dropped in it is imported exactly once (by content
//! hash, even across restarts and several watching processes), then moved to `processed/`
//! or `failed/` with a JSON report beside it. A symbolic link is never followed: it is
//! moved to `failed/` as it is, its target neither read nor touched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use serde_json::json;
use store::{
    EventBus, ImportRecord, ImportSource, ImportStatus, JobEvent, NewImport, Store, StoreError,
};
use tokio_util::sync::CancellationToken;

/// A file's size and modification time.
type Stamp = (u64, SystemTime);

/// Whether a file last modified at `modified` has been left alone for a whole interval.
fn settled_for(modified: SystemTime, interval: Duration) -> bool {
    // A time in the future (a clock ahead elsewhere) only has the unchanged stamp to go by.
    modified.elapsed().map_or(true, |idle| idle >= interval)
}

pub const PROCESSED: &str = "processed";
pub const FAILED: &str = "failed";
/// The report's `error` for a symbolic link dropped in the folder.
const LINK_REFUSED: &str = "symbolic links are not imported (the watched folder never \
     follows one, so it cannot be made to read files outside it): copy or move the file \
     itself into the folder";

pub struct Watcher {
    dir: PathBuf,
    interval: Duration,
    store: Store,
    events: Arc<dyn EventBus>,
    /// Size and modification time of files at the last scan: a file is taken once they
    /// stop changing, so a half-copied file is not imported.
    seen: HashMap<PathBuf, Stamp>,
    /// Files whose import is under way, with their stamp when taken.
    pending: HashMap<PathBuf, (uuid::Uuid, Stamp)>,
}

impl Watcher {
    /// Checks the folder and makes `processed/` and `failed/` in it.
    pub fn new(
        dir: &Path,
        interval: Duration,
        store: Store,
        events: Arc<dyn EventBus>,
    ) -> anyhow::Result<Self> {
        let meta = std::fs::metadata(dir)
            .with_context(|| format!("WATCH_DIR {} cannot be read", dir.display()))?;
        if !meta.is_dir() {
            anyhow::bail!("WATCH_DIR {} is not a folder", dir.display());
        }
        for sub in [PROCESSED, FAILED] {
            let sub = dir.join(sub);
            std::fs::create_dir_all(&sub).with_context(|| format!("creating {}", sub.display()))?;
            // Files and reports are written there: a link would put them elsewhere.
            if std::fs::symlink_metadata(&sub)?.file_type().is_symlink() {
                anyhow::bail!(
                    "{} is a symbolic link; it must be a folder inside WATCH_DIR",
                    sub.display()
                );
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            interval,
            store,
            events,
            seen: HashMap::new(),
            pending: HashMap::new(),
        })
    }

    pub async fn run(mut self, shutdown: CancellationToken) {
        tracing::info!(dir = %self.dir.display(), "watching for CSV files to import");
        loop {
            if let Err(e) = self.scan().await {
                tracing::warn!(error = %format!("{e:#}"), "watched folder scan failed; retrying");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    async fn scan(&mut self) -> anyhow::Result<()> {
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        let mut present = HashMap::new();
        let mut links = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_csv = Path::new(&name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if !is_csv || name.starts_with('.') {
                continue;
            }
            let meta = match tokio::fs::symlink_metadata(&path).await {
                Ok(m) if m.file_type().is_symlink() => {
                    links.push((path, name));
                    continue;
                }
                Ok(m) if m.is_file() => m,
                _ => continue,
            };
            let stamp = (
                meta.len(),
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            );
            present.insert(path, stamp);
        }
        let previous = std::mem::replace(&mut self.seen, present.clone());
        for (path, stamp) in &present {
            let done = if let Some((id, taken)) = self.pending.get(path).copied() {
                self.settle(path, id, taken, *stamp).await
            } else if previous.get(path) == Some(stamp) && settled_for(stamp.1, self.interval) {
                self.take(path, *stamp).await
            } else {
                Ok(())
            };
            // One file's trouble does not hold the others up.
            if let Err(e) = done {
                tracing::warn!(file = %path.display(), error = %format!("{e:#}"), "watched file: trying again at the next look");
            }
        }
        self.pending.retain(|p, _| present.contains_key(p));
        for (path, name) in links {
            if let Err(e) = self.refuse_link(&path, &name).await {
                tracing::warn!(file = %path.display(), error = %format!("{e:#}"), "symbolic link in the watched folder: trying again at the next look");
            }
        }
        Ok(())
    }

    /// Moves a symbolic link to `failed/` (the link itself: rename never follows it), with
    /// a report saying why.
    async fn refuse_link(&self, path: &Path, name: &str) -> anyhow::Result<()> {
        tracing::warn!(file = %path.display(), "a symbolic link in the watched folder is not imported");
        let Some(target) = self.move_aside(path, FAILED, name).await? else {
            return Ok(());
        };
        let report = json!({
            "file": name,
            "import_id": null,
            "status": ImportStatus::Failed.as_str(),
            "error": LINK_REFUSED,
        });
        write_report(&target, &report).await
    }

    /// Moves a file (or link) into `folder`, under a new name if the folder has one of that
    /// name; `None` when another watching process moved it first.
    async fn move_aside(
        &self,
        path: &Path,
        folder: &str,
        name: &str,
    ) -> anyhow::Result<Option<PathBuf>> {
        let mut target = self.dir.join(folder).join(name);
        if tokio::fs::symlink_metadata(&target).await.is_ok() {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f");
            target = self.dir.join(folder).join(format!("{stamp}-{name}"));
        }
        match tokio::fs::rename(path, &target).await {
            Ok(()) => Ok(Some(target)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("moving {}", path.display())),
        }
    }

    /// Starts importing a file that stopped changing, or finds the import of the same
    /// content made before.
    async fn take(&mut self, path: &Path, stamp: Stamp) -> anyhow::Result<()> {
        let mut file = open_regular(path).await?;
        let (sha256, _) = store::imports::sha256_of(&mut file).await?;
        let import = match self.store.import_by_dedupe_key(&sha256).await? {
            Some(import) => import,
            None => {
                let mut file = open_regular(path).await?;
                let new = NewImport {
                    source: ImportSource::Watch,
                    filename: path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    owner_id: None,
                    dedupe_sha256: Some(sha256.clone()),
                };
                match self.store.store_import(new, &mut file).await {
                    // Changed between the two reads: still being written after all.
                    Ok(import) if import.sha256.as_deref() != Some(sha256.as_str()) => {
                        self.store.delete_import(import.id).await?;
                        tracing::info!(file = %path.display(), "the file changed while it was read; waiting for it to settle");
                        return Ok(());
                    }
                    Ok(import) => {
                        tracing::info!(import_id = %import.id, file = %path.display(), "watched file queued");
                        self.events.publish(JobEvent::Import(import.id));
                        import
                    }
                    // Another process watching the same folder got there first.
                    Err(StoreError::DuplicateImport(earlier)) => *earlier,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        self.pending.insert(path.to_path_buf(), (import.id, stamp));
        self.settle(path, import.id, stamp, stamp).await
    }

    /// Moves a file whose import ended, with its report. A file that changed since it was
    /// taken is not moved: its new content is taken as a new file.
    async fn settle(
        &mut self,
        path: &Path,
        id: uuid::Uuid,
        taken: Stamp,
        now: Stamp,
    ) -> anyhow::Result<()> {
        if now != taken {
            tracing::info!(file = %path.display(), "the file changed after it was taken; taking it again");
            self.pending.remove(path);
            return Ok(());
        }
        let Some(import) = self.store.import(id).await? else {
            self.pending.remove(path);
            return Ok(());
        };
        if !import.status.is_terminal() {
            return Ok(());
        }
        let folder = if import.status == ImportStatus::Succeeded {
            PROCESSED
        } else {
            FAILED
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file.csv".into());
        let moved = self.move_aside(path, folder, &name).await?;
        self.pending.remove(path);
        // Another watching process moved it.
        let Some(target) = moved else {
            return Ok(());
        };
        let report = self.report(&import, &name).await?;
        write_report(&target, &report).await?;
        tracing::info!(file = %target.display(), status = import.status.as_str(), "watched file done");
        Ok(())
    }

    async fn report(&self, import: &ImportRecord, name: &str) -> anyhow::Result<serde_json::Value> {
        let rejections = self
            .store
            .import_rejections(import.id, store::imports::MAX_KEPT_REJECTIONS, None)
            .await?;
        Ok(json!({
            "file": name,
            "import_id": import.id,
            "status": import.status.as_str(),
            // The file the import was made from: another name when this content came before.
            "imported_from": import.filename,
            "sha256": import.sha256,
            "size_bytes": import.size_bytes,
            "rows_read": import.rows_read,
            "rows_imported": import.rows_imported,
            "rows_rejected": import.rows_rejected,
            "error": import.error,
            "finished_at": import.finished_at,
            "rejections": rejections
                .into_iter()
                .map(|r| json!({ "line": r.line, "reason": r.reason, "content": r.content }))
                .collect::<Vec<_>>(),
        }))
    }
}

/// Opens a file of the folder for reading: not through a symbolic link (one swapped in
/// since the scan included) and only a regular file.
async fn open_regular(path: &Path) -> std::io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true);
    // O_NONBLOCK: a FIFO swapped in must not wait for a writer; no effect on files.
    #[cfg(unix)]
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let file = options.open(path).await?;
    if !file.metadata().await?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Writes `<target>.report.json`, never through a link left in its place.
async fn write_report(target: &Path, report: &serde_json::Value) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = target.with_file_name(format!("{name}.report.json"));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.custom_flags(libc::O_NOFOLLOW);
    let write = async {
        let mut file = options.open(&path).await?;
        file.write_all(&serde_json::to_vec_pretty(report)?).await?;
        file.flush().await
    };
    write
        .await
        .with_context(|| format!("writing {}", path.display()))
}
