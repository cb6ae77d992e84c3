//! The watched folder: every `*.csv` dropped in it is imported exactly once (by content
//! hash, even across restarts and several watching processes), then moved to `processed/`
//! or `failed/` with a JSON report beside it.

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

pub const PROCESSED: &str = "processed";
pub const FAILED: &str = "failed";
/// An upload left UPLOADING this long by a watcher was cut off (its process died).
const STALE_UPLOAD: Duration = Duration::from_secs(120);

pub struct Watcher {
    dir: PathBuf,
    interval: Duration,
    store: Store,
    events: Arc<dyn EventBus>,
    /// Size and modification time of files at the last scan: a file is taken once they
    /// stop changing, so a half-copied file is not imported.
    seen: HashMap<PathBuf, (u64, SystemTime)>,
    /// Files whose import is under way.
    pending: HashMap<PathBuf, uuid::Uuid>,
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
            std::fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("creating {}", dir.join(sub).display()))?;
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
        while let Some(entry) = entries.next_entry().await? {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_csv = Path::new(&name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if !is_csv || name.starts_with('.') {
                continue;
            }
            let meta = match entry.metadata().await {
                Ok(m) if m.is_file() => m,
                _ => continue,
            };
            let stamp = (
                meta.len(),
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            );
            present.insert(path, stamp);
        }
        let previous = std::mem::take(&mut self.seen);
        for (path, stamp) in &present {
            if let Some(id) = self.pending.get(path).copied() {
                self.settle(path, id).await?;
            } else if previous.get(path) == Some(stamp)
                && let Err(e) = self.take(path).await
            {
                tracing::warn!(file = %path.display(), error = %format!("{e:#}"), "cannot import a watched file; trying again");
            }
        }
        self.pending.retain(|p, _| present.contains_key(p));
        self.seen = present;
        Ok(())
    }

    /// Starts importing a file that stopped changing, or finds the import of the same
    /// content made before.
    async fn take(&mut self, path: &Path) -> anyhow::Result<()> {
        let mut file = tokio::fs::File::open(path).await?;
        let (sha256, _) = store::imports::sha256_of(&mut file).await?;
        let mut existing = self.store.import_by_dedupe_key(&sha256).await?;
        if let Some(stale) = existing.as_ref().filter(|i| {
            i.status == ImportStatus::Uploading
                && (chrono::Utc::now() - i.updated_at)
                    .to_std()
                    .unwrap_or_default()
                    > STALE_UPLOAD
        }) {
            tracing::warn!(import_id = %stale.id, "an upload of this file was cut off; storing it again");
            self.store.delete_import(stale.id).await?;
            existing = None;
        }
        let import = match existing {
            Some(import) => import,
            None => {
                let mut file = tokio::fs::File::open(path).await?;
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
        self.pending.insert(path.to_path_buf(), import.id);
        self.settle(path, import.id).await
    }

    /// Moves a file whose import ended, with its report.
    async fn settle(&mut self, path: &Path, id: uuid::Uuid) -> anyhow::Result<()> {
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
        let mut target = self.dir.join(folder).join(&name);
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            target = self.dir.join(folder).join(format!("{}-{name}", import.id));
        }
        match tokio::fs::rename(path, &target).await {
            Ok(()) => {}
            // Another watching process moved it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.pending.remove(path);
                return Ok(());
            }
            Err(e) => return Err(e).with_context(|| format!("moving {}", path.display())),
        }
        let report = self.report(&import, &name).await?;
        let report_path = target.with_file_name(format!(
            "{}.report.json",
            target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        tokio::fs::write(&report_path, serde_json::to_vec_pretty(&report)?)
            .await
            .with_context(|| format!("writing {}", report_path.display()))?;
        tracing::info!(file = %target.display(), status = import.status.as_str(), "watched file done");
        self.pending.remove(path);
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
                .map(|(line, reason)| json!({ "line": line, "reason": reason }))
                .collect::<Vec<_>>(),
        }))
    }
}
