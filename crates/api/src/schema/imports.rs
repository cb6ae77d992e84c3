//! CSV imports of the flight catalogue, for admins: upload a file, follow its progress,
//! read its rejected rows. The file is processed by the workers, never by the API process.

use async_graphql::connection::Connection;
use async_graphql::{
    ComplexObject, Context, Enum, Object, Result, SimpleObject, Subscription, Upload,
};
use chrono::{DateTime, Utc};
use futures::Stream;
use store::{ImportRecord, ImportSource, ImportStatus, JobEvent, NewImport};
use uuid::Uuid;

use super::ApiContext;
use super::live::LiveFeed;
use crate::auth::{AdminGuard, Caller};
use crate::cursor;
use crate::error::ApiError;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "ImportStatus")]
pub enum GqlImportStatus {
    /// The file is being stored.
    Uploading,
    /// Stored; waiting for a worker.
    Queued,
    Running,
    /// Every row was read: valid ones are in the catalogue, the others counted as rejected.
    Succeeded,
    /// The file as a whole was refused (see `error`).
    Failed,
}

impl From<ImportStatus> for GqlImportStatus {
    fn from(s: ImportStatus) -> Self {
        match s {
            ImportStatus::Uploading => Self::Uploading,
            ImportStatus::Queued => Self::Queued,
            ImportStatus::Running => Self::Running,
            ImportStatus::Succeeded => Self::Succeeded,
            ImportStatus::Failed => Self::Failed,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "ImportSource")]
pub enum GqlImportSource {
    /// `importFlights`.
    Upload,
    /// The watched folder.
    Watch,
    /// `fast-flights import FILE`.
    Cli,
}

impl From<ImportSource> for GqlImportSource {
    fn from(s: ImportSource) -> Self {
        match s {
            ImportSource::Upload => Self::Upload,
            ImportSource::Watch => Self::Watch,
            ImportSource::Cli => Self::Cli,
        }
    }
}

/// A rejected row: its line in the file (1 is the header) and what is wrong with it.
#[derive(SimpleObject)]
pub struct ImportRejection {
    pub line: i64,
    /// Every problem of the row, one per line (as `problems` lists them).
    pub reason: String,
    /// Every problem of the row, in column order: `field: what is wrong`.
    pub problems: Vec<String>,
    /// The row as it was read, its fields joined by commas (at most 500 characters); null
    /// for rows rejected before this was kept.
    pub content: Option<String>,
}

/// A CSV import of the flight catalogue.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Import {
    pub id: Uuid,
    pub filename: String,
    pub source: GqlImportSource,
    pub status: GqlImportStatus,
    /// Hex SHA-256 of the file.
    pub sha256: Option<String>,
    pub size_bytes: i64,
    /// Data rows read so far.
    pub rows_read: i64,
    /// Valid rows written to the catalogue (a row for a flight already there replaces it).
    pub rows_imported: i64,
    /// Rows refused; the first 1,000 are kept in `rejections`.
    pub rows_rejected: i64,
    /// 0 to 100, by bytes of the file.
    pub percent: f64,
    /// Why the file as a whole was refused.
    pub error: Option<String>,
    /// Times a worker took the import up.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<ImportRecord> for Import {
    fn from(r: ImportRecord) -> Self {
        Self {
            percent: r.percent(),
            id: r.id,
            filename: r.filename,
            source: r.source.into(),
            status: r.status.into(),
            sha256: r.sha256,
            size_bytes: count(r.size_bytes),
            rows_read: count(r.rows_read),
            rows_imported: count(r.rows_imported),
            rows_rejected: count(r.rows_rejected),
            error: r.error,
            attempts: i32::try_from(r.attempts).unwrap_or(i32::MAX),
            created_at: r.created_at,
            updated_at: r.updated_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

#[ComplexObject]
impl Import {
    /// Rejected rows by line number, after line `after`.
    #[graphql(
        complexity = "crate::query_limits::list(crate::query_limits::bound(first), child_complexity)"
    )]
    async fn rejections(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
        after: Option<i64>,
    ) -> Result<Vec<ImportRejection>> {
        let api = ctx.data::<ApiContext>()?;
        if !(1..=1000).contains(&first) {
            return Err(ApiError::bad_input("first", format!("{first}; use 1 to 1000")).into());
        }
        let after = after.map(|a| u64::try_from(a).unwrap_or(0));
        Ok(api
            .store
            .import_rejections(self.id, first as u64, after)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|r| ImportRejection {
                line: count(r.line),
                problems: r.reason.lines().map(str::to_string).collect(),
                reason: r.reason,
                content: r.content,
            })
            .collect())
    }
}

async fn find(api: &ApiContext, id: Uuid) -> Result<ImportRecord, ApiError> {
    api.store
        .import(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("import {id}")))
}

#[derive(Default)]
pub struct ImportQuery;

#[Object]
impl ImportQuery {
    /// One import. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn import(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<Import>> {
        let api = ctx.data::<ApiContext>()?;
        Ok(Some(find(api, id).await?.into()))
    }

    /// Imports, newest first. ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::query_limits::page(first, child_complexity)"
    )]
    async fn imports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Import>> {
        let api = ctx.data::<ApiContext>()?;
        let first = cursor::page_size(first)?;
        let after: Option<Uuid> = after.map(|raw| cursor::decode("after", &raw)).transpose()?;
        let page = api
            .store
            .imports_page(first, after)
            .await
            .map_err(ApiError::from)?;
        Ok(cursor::connection(
            after.is_some(),
            page,
            |i| i.id,
            Import::from,
        ))
    }
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Uploads a CSV of flights (GraphQL multipart request) and queues it for the workers;
    /// returns at once. Follow it with `importProgress`. The format is in
    /// docs/inventory-csv.md. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn import_flights(&self, ctx: &Context<'_>, file: Upload) -> Result<Import> {
        let api = ctx.data::<ApiContext>()?;
        let admin = Caller::of(ctx).admin()?;
        let upload = file
            .value(ctx)
            .map_err(|e| ApiError::bad_input("file", format!("no file was uploaded: {e}")))?;
        let filename = upload.filename.clone();
        let mut content = tokio::fs::File::from_std(upload.content);
        let import = api
            .store
            .store_import(
                NewImport {
                    source: ImportSource::Upload,
                    filename,
                    owner_id: Some(admin.id),
                    dedupe_sha256: None,
                },
                &mut content,
            )
            .await
            .map_err(ApiError::from)?;
        tracing::info!(import_id = %import.id, bytes = import.size_bytes, user_id = %admin.id, "import queued");
        api.events.publish(JobEvent::Import(import.id));
        Ok(import.into())
    }
}

#[derive(Default)]
pub struct ImportSubscription;

#[Subscription]
impl ImportSubscription {
    /// The import as it is now, then again each time it moves on, until it ends. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn import_progress(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> Result<impl Stream<Item = Import> + use<>> {
        let api = ctx.data::<ApiContext>()?;
        let mut follower = ctx.data::<LiveFeed>()?.import(id);
        let first = find(api, id).await?;
        Ok(async_stream::stream! {
            let mut last = first;
            yield Import::from(last.clone());
            while !last.status.is_terminal() {
                let Some(now) = follower.next().await else { break };
                // A read begun before the snapshot may arrive after it.
                if now != last && now.updated_at >= last.updated_at {
                    last = now;
                    yield Import::from(last.clone());
                }
            }
        })
    }
}
