//! What the repositories hand out: plain values built from rows, never the rows themselves.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    AirportCode, Cabin, Currency, FlightOffer, JobProgress, JobStatus, Money, SearchSpec,
    TaskCursor,
};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::search_job;

#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub label: Option<String>,
    pub status: JobStatus,
    pub spec: SearchSpec,
    pub total_tasks: u64,
    pub completed_tasks: u64,
    pub failed_tasks: u64,
    pub found_flights: u64,
    /// Tasks answered by the answer cache, and tasks that called their provider.
    pub cache_hits: u64,
    pub provider_calls: u64,
    pub best_price: Option<Money>,
    pub best_offer_id: Option<Uuid>,
    pub cursor: TaskCursor,
    pub tasks_per_second: f64,
    pub eta_seconds: Option<u64>,
    pub cancel_requested: bool,
    pub pause_requested: bool,
    pub error: Option<String>,
    pub attempts: u32,
    /// Claims in a row that ended without committing any progress.
    pub claims_without_progress: u32,
    /// The latest failed tasks, newest last.
    pub error_sample: Vec<TaskError>,
    pub lease_owner: Option<String>,
    pub last_checkpoint_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl JobRecord {
    pub fn progress(&self) -> JobProgress {
        JobProgress {
            job_id: self.id,
            status: self.status,
            total_tasks: self.total_tasks,
            completed_tasks: self.completed_tasks,
            failed_tasks: self.failed_tasks,
            found_flights: self.found_flights,
            best_price: self.best_price,
            tasks_per_second: self.tasks_per_second,
            eta_seconds: self.eta_seconds,
            cancel_requested: self.cancel_requested,
            pause_requested: self.pause_requested,
            error: self.error.clone(),
            updated_at: self.updated_at,
        }
    }
}

fn non_negative(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}: {value}")))
}

/// A JSON column as read: text straight from the database, or a value SeaORM decoded
/// (rows that come back from writes). Either way it is decoded once, into its Rust type.
#[derive(Debug)]
pub(crate) enum StoredJson {
    Text(String),
    Value(serde_json::Value),
}

impl StoredJson {
    pub(crate) fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Value(value) => value.to_string(),
        }
    }

    fn decode<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        match self {
            Self::Text(text) => serde_json::from_str(&text),
            Self::Value(value) => serde_json::from_value(value),
        }
    }
}

impl sea_orm::TryGetable for StoredJson {
    fn try_get_by<I: sea_orm::ColIdx>(
        res: &sea_orm::QueryResult,
        index: I,
    ) -> Result<Self, sea_orm::TryGetError> {
        <String as sea_orm::TryGetable>::try_get_by(res, index).map(Self::Text)
    }
}

/// A job as read for the API: its JSON columns as text (see [`select_jobs`]).
#[derive(Debug, sea_orm::FromQueryResult)]
pub(crate) struct JobRow {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub label: Option<String>,
    pub status: String,
    pub spec: StoredJson,
    pub currency: String,
    pub total_tasks: i64,
    pub completed_tasks: i64,
    pub failed_tasks: i64,
    pub found_flights: i64,
    pub cache_hits: i64,
    pub provider_calls: i64,
    pub best_price_minor: Option<i64>,
    pub best_offer_id: Option<Uuid>,
    pub cursor_low_water: i64,
    pub cursor_done: StoredJson,
    pub tasks_per_second: f64,
    pub eta_seconds: Option<i64>,
    pub cancel_requested: bool,
    pub lease_owner: Option<String>,
    pub attempts: i32,
    pub error: Option<String>,
    pub last_checkpoint_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub pause_requested: bool,
    pub claims_without_progress: i32,
    pub error_sample: Option<StoredJson>,
}

/// `search_jobs` selected as a [`JobRow`]: the JSON columns as text, so they are decoded
/// from their bytes without a `serde_json::Value` in between.
pub(crate) fn select_jobs() -> sea_orm::Select<search_job::Entity> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{EntityTrait, QuerySelect};
    use search_job::Column;
    search_job::Entity::find()
        .select_only()
        .columns([
            Column::Id,
            Column::OwnerId,
            Column::Label,
            Column::Status,
            Column::Currency,
            Column::TotalTasks,
            Column::CompletedTasks,
            Column::FailedTasks,
            Column::FoundFlights,
            Column::CacheHits,
            Column::ProviderCalls,
            Column::BestPriceMinor,
            Column::BestOfferId,
            Column::CursorLowWater,
            Column::TasksPerSecond,
            Column::EtaSeconds,
            Column::CancelRequested,
            Column::LeaseOwner,
            Column::Attempts,
            Column::Error,
            Column::LastCheckpointAt,
            Column::CreatedAt,
            Column::UpdatedAt,
            Column::StartedAt,
            Column::FinishedAt,
            Column::PauseRequested,
            Column::ClaimsWithoutProgress,
        ])
        .expr_as(Expr::cust("CAST(spec AS TEXT)"), "spec")
        .expr_as(Expr::cust("CAST(cursor_done AS TEXT)"), "cursor_done")
        .expr_as(Expr::cust("CAST(error_sample AS TEXT)"), "error_sample")
}

impl From<search_job::Model> for JobRow {
    fn from(m: search_job::Model) -> Self {
        Self {
            id: m.id,
            owner_id: m.owner_id,
            label: m.label,
            status: m.status,
            spec: StoredJson::Value(m.spec),
            currency: m.currency,
            total_tasks: m.total_tasks,
            completed_tasks: m.completed_tasks,
            failed_tasks: m.failed_tasks,
            found_flights: m.found_flights,
            cache_hits: m.cache_hits,
            provider_calls: m.provider_calls,
            best_price_minor: m.best_price_minor,
            best_offer_id: m.best_offer_id,
            cursor_low_water: m.cursor_low_water,
            cursor_done: StoredJson::Value(m.cursor_done),
            tasks_per_second: m.tasks_per_second,
            eta_seconds: m.eta_seconds,
            cancel_requested: m.cancel_requested,
            lease_owner: m.lease_owner,
            attempts: m.attempts,
            error: m.error,
            last_checkpoint_at: m.last_checkpoint_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
            started_at: m.started_at,
            finished_at: m.finished_at,
            pause_requested: m.pause_requested,
            claims_without_progress: m.claims_without_progress,
            error_sample: m.error_sample.map(StoredJson::Value),
        }
    }
}

impl TryFrom<search_job::Model> for JobRecord {
    type Error = StoreError;

    fn try_from(m: search_job::Model) -> Result<Self, StoreError> {
        JobRow::from(m).try_into()
    }
}

impl TryFrom<JobRow> for JobRecord {
    type Error = StoreError;

    fn try_from(m: JobRow) -> Result<Self, StoreError> {
        let status = JobStatus::parse(&m.status)
            .ok_or_else(|| StoreError::Corrupt(format!("job {} has status {}", m.id, m.status)))?;
        let spec: SearchSpec = m
            .spec
            .decode()
            .map_err(|e| StoreError::Corrupt(format!("job {} spec: {e}", m.id)))?;
        let currency = Currency::parse(&m.currency)
            .map_err(|e| StoreError::Corrupt(format!("job {}: {e}", m.id)))?;
        let done: Vec<u64> = m
            .cursor_done
            .decode()
            .map_err(|e| StoreError::Corrupt(format!("job {} cursor: {e}", m.id)))?;
        Ok(Self {
            id: m.id,
            owner_id: m.owner_id,
            label: m.label,
            status,
            spec,
            total_tasks: non_negative(m.total_tasks, "total_tasks")?,
            completed_tasks: non_negative(m.completed_tasks, "completed_tasks")?,
            failed_tasks: non_negative(m.failed_tasks, "failed_tasks")?,
            found_flights: non_negative(m.found_flights, "found_flights")?,
            cache_hits: non_negative(m.cache_hits, "cache_hits")?,
            provider_calls: non_negative(m.provider_calls, "provider_calls")?,
            best_price: m
                .best_price_minor
                .map(|p| Money::new(p, currency))
                .transpose()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            best_offer_id: m.best_offer_id,
            cursor: TaskCursor::new(non_negative(m.cursor_low_water, "cursor")?, done),
            tasks_per_second: m.tasks_per_second,
            eta_seconds: m.eta_seconds.and_then(|e| u64::try_from(e).ok()),
            cancel_requested: m.cancel_requested,
            pause_requested: m.pause_requested,
            error: m.error,
            attempts: u32::try_from(m.attempts).unwrap_or(0),
            claims_without_progress: u32::try_from(m.claims_without_progress).unwrap_or(0),
            error_sample: m
                .error_sample
                .map(StoredJson::decode::<Vec<TaskError>>)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("job {} error sample: {e}", m.id)))?
                .unwrap_or_default(),
            lease_owner: m.lease_owner,
            last_checkpoint_at: m.last_checkpoint_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
            started_at: m.started_at,
            finished_at: m.finished_at,
        })
    }
}

/// A task that failed, as kept in a job's error sample.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskError {
    pub task_index: u64,
    pub provider: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

/// Failed tasks a job keeps, newest last.
pub const ERROR_SAMPLE_SIZE: usize = 20;

/// An offer found by a task, about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOffer {
    pub task_index: u64,
    pub departure_date: NaiveDate,
    pub return_date: Option<NaiveDate>,
    pub offer: FlightOffer,
    /// When the provider gave the answer, for an offer served by the answer cache; `None`
    /// for one fetched by this search's own call (its fetch time is when it was stored).
    pub fetched_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfferRecord {
    pub id: Uuid,
    pub job_id: Uuid,
    pub task_index: u64,
    pub departure_date: NaiveDate,
    pub return_date: Option<NaiveDate>,
    pub found_at: DateTime<Utc>,
    /// When the provider gave this price: `found_at`, or earlier for a cached answer.
    pub fetched_at: DateTime<Utc>,
    pub offer: FlightOffer,
}

/// Which of an offer's optional columns a read brings back: its JSON columns, its times and
/// its details. The others are not selected (their place in the row is a NULL), so they are
/// neither sent by the database nor decoded, and the record holds them empty (times at the
/// epoch, texts empty). Always read: the id, the job, the route, the dates, the carrier,
/// stops, duration, price and cabin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfferColumns {
    pub flight_numbers: bool,
    pub segments: bool,
    pub raw_payload: bool,
    /// `departure_at`, `arrival_at`, `return_departure_at`, `return_arrival_at`.
    pub times: bool,
    /// `task_index`, `provider`, `offer_key`, `deep_link`, `found_at`, `expires_at`,
    /// `booking_token`, `fetched_at`.
    pub details: bool,
}

impl OfferColumns {
    /// Every column: for callers that hand the whole offer on (a booking's snapshot).
    pub const ALL: Self = Self {
        flight_numbers: true,
        segments: true,
        raw_payload: true,
        times: true,
        details: true,
    };
    /// Only the columns always read.
    pub const NONE: Self = Self {
        flight_numbers: false,
        segments: false,
        raw_payload: false,
        times: false,
        details: false,
    };

    /// The columns either read needs.
    pub fn or(self, other: Self) -> Self {
        Self {
            flight_numbers: self.flight_numbers || other.flight_numbers,
            segments: self.segments || other.segments,
            raw_payload: self.raw_payload || other.raw_payload,
            times: self.times || other.times,
            details: self.details || other.details,
        }
    }
}

/// The SELECT expression of an optional plain column: the column when wanted, else a NULL
/// of its type.
pub(crate) fn offer_plain_column(
    column: &'static str,
    sql_type: &'static str,
    wanted: bool,
) -> sea_orm::sea_query::SimpleExpr {
    if wanted {
        sea_orm::sea_query::Expr::cust(column)
    } else {
        sea_orm::sea_query::Expr::cust(format!("CAST(NULL AS {sql_type})"))
    }
}

/// The SELECT expression of an offer's JSON column: its text when wanted, else NULL.
/// Together with [`offer_json`] this is the one place that knows how such a column is
/// stored.
pub(crate) fn offer_json_column(
    column: &'static str,
    wanted: bool,
) -> sea_orm::sea_query::SimpleExpr {
    if wanted {
        sea_orm::sea_query::Expr::cust(format!("CAST({column} AS TEXT)"))
    } else {
        sea_orm::sea_query::Expr::cust("CAST(NULL AS TEXT)")
    }
}

/// Decodes an offer's JSON column from its stored text straight into `T`.
pub(crate) fn offer_json<T: serde::de::DeserializeOwned>(
    column: &str,
    text: &str,
) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("{column}: {e}"))
}

/// An offer as read: its JSON columns as text, NULL when the read did not ask for them.
/// Read by position, in the order of `offers::select_offers` (by name, each of a page's
/// ~1,300 values was a hashed lookup of its column's name).
#[derive(Debug)]
pub(crate) struct OfferRow {
    pub id: Uuid,
    pub job_id: Uuid,
    pub origin: String,
    pub destination: String,
    pub departure_date: NaiveDate,
    pub return_date: Option<NaiveDate>,
    pub carrier: String,
    pub stops: i16,
    pub duration_minutes: i32,
    pub price_minor: i64,
    pub currency: String,
    pub cabin: String,
    // Times: NULL unless asked for (the return ones may be NULL anyway).
    pub departure_at: Option<DateTime<Utc>>,
    pub arrival_at: Option<DateTime<Utc>>,
    pub return_departure_at: Option<DateTime<Utc>>,
    pub return_arrival_at: Option<DateTime<Utc>>,
    // Details: NULL unless asked for.
    pub task_index: Option<i64>,
    pub provider: Option<String>,
    pub offer_key: Option<String>,
    pub deep_link: Option<String>,
    pub found_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub booking_token: Option<String>,
    pub fetched_at: Option<DateTime<Utc>>,
    // JSON, as text: NULL unless asked for.
    pub flight_numbers: Option<String>,
    pub segments: Option<String>,
    pub raw_payload: Option<String>,
}

impl sea_orm::FromQueryResult for OfferRow {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self::from_query_result_nullable(res, pre)?)
    }

    fn from_query_result_nullable(
        res: &sea_orm::QueryResult,
        _pre: &str,
    ) -> Result<Self, sea_orm::TryGetError> {
        let mut column = 0;
        let mut at = || {
            column += 1;
            column - 1
        };
        Ok(Self {
            id: res.try_get_by_index_nullable(at())?,
            job_id: res.try_get_by_index_nullable(at())?,
            origin: res.try_get_by_index_nullable(at())?,
            destination: res.try_get_by_index_nullable(at())?,
            departure_date: res.try_get_by_index_nullable(at())?,
            return_date: res.try_get_by_index_nullable(at())?,
            carrier: res.try_get_by_index_nullable(at())?,
            stops: res.try_get_by_index_nullable(at())?,
            duration_minutes: res.try_get_by_index_nullable(at())?,
            price_minor: res.try_get_by_index_nullable(at())?,
            currency: res.try_get_by_index_nullable(at())?,
            cabin: res.try_get_by_index_nullable(at())?,
            departure_at: res.try_get_by_index_nullable(at())?,
            arrival_at: res.try_get_by_index_nullable(at())?,
            return_departure_at: res.try_get_by_index_nullable(at())?,
            return_arrival_at: res.try_get_by_index_nullable(at())?,
            task_index: res.try_get_by_index_nullable(at())?,
            provider: res.try_get_by_index_nullable(at())?,
            offer_key: res.try_get_by_index_nullable(at())?,
            deep_link: res.try_get_by_index_nullable(at())?,
            found_at: res.try_get_by_index_nullable(at())?,
            expires_at: res.try_get_by_index_nullable(at())?,
            booking_token: res.try_get_by_index_nullable(at())?,
            fetched_at: res.try_get_by_index_nullable(at())?,
            flight_numbers: res.try_get_by_index_nullable(at())?,
            segments: res.try_get_by_index_nullable(at())?,
            raw_payload: res.try_get_by_index_nullable(at())?,
        })
    }
}

impl TryFrom<OfferRow> for OfferRecord {
    type Error = StoreError;

    fn try_from(m: OfferRow) -> Result<Self, StoreError> {
        let id = m.id;
        let corrupt = |what: String| StoreError::Corrupt(format!("offer {id}: {what}"));
        let code = |raw: &str| AirportCode::parse(raw).map_err(|e| corrupt(e.to_string()));
        let currency = Currency::parse(&m.currency).map_err(|e| corrupt(e.to_string()))?;
        let flight_numbers = match &m.flight_numbers {
            None => Vec::new(),
            Some(text) => offer_json("flight_numbers", text).map_err(corrupt)?,
        };
        let segments = match &m.segments {
            None => Vec::new(),
            Some(text) => offer_json("segments", text).map_err(corrupt)?,
        };
        let raw = match &m.raw_payload {
            None => None,
            Some(text) => Some(offer_json("raw_payload", text).map_err(corrupt)?),
        };
        Ok(Self {
            id: m.id,
            job_id: m.job_id,
            task_index: non_negative(m.task_index.unwrap_or(0), "task_index")?,
            departure_date: m.departure_date,
            return_date: m.return_date,
            found_at: m.found_at.unwrap_or(DateTime::UNIX_EPOCH),
            fetched_at: m.fetched_at.or(m.found_at).unwrap_or(DateTime::UNIX_EPOCH),
            offer: FlightOffer {
                origin: code(&m.origin)?,
                destination: code(&m.destination)?,
                stops: u8::try_from(m.stops).map_err(|e| corrupt(e.to_string()))?,
                duration_minutes: u32::try_from(m.duration_minutes)
                    .map_err(|e| corrupt(e.to_string()))?,
                price: Money::new(m.price_minor, currency).map_err(|e| corrupt(e.to_string()))?,
                cabin: Cabin::parse(&m.cabin)
                    .ok_or_else(|| corrupt(format!("cabin {}", m.cabin)))?,
                key: m.offer_key.unwrap_or_default(),
                provider: m.provider.unwrap_or_default(),
                departure_at: m.departure_at.unwrap_or(DateTime::UNIX_EPOCH),
                arrival_at: m.arrival_at.unwrap_or(DateTime::UNIX_EPOCH),
                return_departure_at: m.return_departure_at,
                return_arrival_at: m.return_arrival_at,
                carrier: m.carrier,
                flight_numbers,
                deep_link: m.deep_link,
                segments,
                expires_at: m.expires_at,
                booking_token: m.booking_token,
                raw,
            },
        })
    }
}

/// One page of a keyset-paged list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}
