//! `fast-flights import FILE`: a CSV of flights into the catalogue, in this process, with
//! progress on stderr and a summary on stdout.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use providers::ProviderRegistry;
use store::{ImportRecord, ImportSource, ImportStatus, NewImport, Store, StoreError};
use tokio_util::sync::CancellationToken;
use worker::Runner;

use crate::Config;

/// Imports `file`; `Ok(false)` when the file was refused as a whole (the import FAILED).
pub async fn run(
    config: &Config,
    store: Store,
    file: &Path,
    force: bool,
    shutdown: CancellationToken,
) -> anyhow::Result<bool> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let mut reader = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let (sha256, size) = store::imports::sha256_of(&mut reader)
        .await
        .with_context(|| format!("reading {}", file.display()))?;
    eprintln!("{name}: {size} bytes, sha256 {sha256}");
    let mut reader = tokio::fs::File::open(file).await?;
    let new = NewImport {
        source: ImportSource::Cli,
        filename: name.clone(),
        owner_id: None,
        dedupe_sha256: (!force).then(|| sha256.clone()),
    };
    let import = match store.store_import(new, &mut reader).await {
        Ok(import) => import,
        Err(StoreError::DuplicateImport(earlier)) if earlier.status.is_terminal() => {
            println!(
                "{name} was imported before, as import {} ({}): nothing to do; use --force to import it again",
                earlier.id,
                earlier.status.as_str()
            );
            print_summary(&store, &earlier).await?;
            return Ok(earlier.status == ImportStatus::Succeeded);
        }
        Err(StoreError::DuplicateImport(earlier)) => {
            eprintln!(
                "{name} is being imported already, as import {}; following it",
                earlier.id
            );
            *earlier
        }
        Err(e) => return Err(e).context("storing the file"),
    };
    eprintln!("import {} queued", import.id);

    let events = store.event_bus(shutdown.clone());
    let worker = Runner::with_kinds(
        store.clone(),
        Arc::new(ProviderRegistry::new()),
        events,
        config.worker_config()?,
        &[store::LeaseKind::Import],
    );
    let progress = tokio::spawn(report_progress(store.clone(), import.id));
    let finished = run_to_end(&worker, &store, import.id, &shutdown).await;
    progress.abort();
    let finished = finished?;
    print_summary(&store, &finished).await?;
    Ok(finished.status == ImportStatus::Succeeded)
}

/// Runs the import here until it ends. When a run stops short (a passing failure, or
/// another worker holding it), waits a moment and takes it up again, so the command ends
/// even with no worker running elsewhere.
async fn run_to_end(
    worker: &Runner,
    store: &Store,
    id: uuid::Uuid,
    shutdown: &CancellationToken,
) -> anyhow::Result<ImportRecord> {
    loop {
        let outcome = worker
            .run_one(store::LeaseKind::Import, id, shutdown.clone())
            .await?;
        let import = store
            .import(id)
            .await?
            .with_context(|| format!("import {id} vanished"))?;
        if import.status.is_terminal() {
            return Ok(import);
        }
        if shutdown.is_cancelled() {
            anyhow::bail!(
                "interrupted: import {id} keeps its progress and waits for a worker (or this command) to finish it"
            );
        }
        if outcome.is_none() {
            tracing::debug!(
                "another worker (or the process owning the SQLite file) holds the import; waiting"
            );
        }
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

async fn report_progress(store: Store, id: uuid::Uuid) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Ok(Some(i)) = store.import(id).await {
            eprintln!(
                "  {:5.1}%  {} rows read, {} imported, {} rejected",
                i.percent(),
                i.rows_read,
                i.rows_imported,
                i.rows_rejected
            );
        }
    }
}

async fn print_summary(store: &Store, import: &ImportRecord) -> anyhow::Result<()> {
    println!(
        "import {}: {} — {} rows read, {} imported, {} rejected",
        import.id,
        import.status.as_str(),
        import.rows_read,
        import.rows_imported,
        import.rows_rejected
    );
    if let Some(error) = &import.error {
        println!("error: {error}");
    }
    let shown = store.import_rejections(import.id, 20, None).await?;
    for r in &shown {
        println!("  line {}: {}", r.line, r.reason.replace('\n', "; "));
        if let Some(content) = &r.content {
            println!("    {content}");
        }
    }
    if import.rows_rejected > shown.len() as u64 {
        println!(
            "  … {} more rejected rows (the first 1,000 are kept: query `import(id)` → rejections)",
            import.rows_rejected - shown.len() as u64
        );
    }
    Ok(())
}
