//! What the repositories hand out: plain values built from rows, never the rows themselves.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    AirportCode, Cabin, Currency, FlightOffer, JobProgress, JobStatus, Money, SearchSpec,
    TaskCursor,
};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::{flight_offer, search_job};

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

impl TryFrom<search_job::Model> for JobRecord {
    type Error = StoreError;

    fn try_from(m: search_job::Model) -> Result<Self, StoreError> {
        let status = JobStatus::parse(&m.status)
            .ok_or_else(|| StoreError::Corrupt(format!("job {} has status {}", m.id, m.status)))?;
        let spec: SearchSpec = serde_json::from_value(m.spec)
            .map_err(|e| StoreError::Corrupt(format!("job {} spec: {e}", m.id)))?;
        let currency = Currency::parse(&m.currency)
            .map_err(|e| StoreError::Corrupt(format!("job {}: {e}", m.id)))?;
        let done: Vec<u64> = serde_json::from_value(m.cursor_done)
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
                .map(serde_json::from_value)
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfferRecord {
    pub id: Uuid,
    pub job_id: Uuid,
    pub task_index: u64,
    pub departure_date: NaiveDate,
    pub return_date: Option<NaiveDate>,
    pub found_at: DateTime<Utc>,
    pub offer: FlightOffer,
}

impl TryFrom<flight_offer::Model> for OfferRecord {
    type Error = StoreError;

    fn try_from(m: flight_offer::Model) -> Result<Self, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("offer {}: {what}", m.id));
        let code = |raw: &str| AirportCode::parse(raw).map_err(|e| corrupt(e.to_string()));
        let currency = Currency::parse(&m.currency).map_err(|e| corrupt(e.to_string()))?;
        let flight_numbers: Vec<String> =
            serde_json::from_value(m.flight_numbers.clone()).map_err(|e| corrupt(e.to_string()))?;
        Ok(Self {
            id: m.id,
            job_id: m.job_id,
            task_index: non_negative(m.task_index, "task_index")?,
            departure_date: m.departure_date,
            return_date: m.return_date,
            found_at: m.found_at,
            offer: FlightOffer {
                key: m.offer_key.clone(),
                provider: m.provider.clone(),
                origin: code(&m.origin)?,
                destination: code(&m.destination)?,
                departure_at: m.departure_at,
                arrival_at: m.arrival_at,
                return_departure_at: m.return_departure_at,
                return_arrival_at: m.return_arrival_at,
                carrier: m.carrier.clone(),
                flight_numbers,
                stops: u8::try_from(m.stops).map_err(|e| corrupt(e.to_string()))?,
                duration_minutes: u32::try_from(m.duration_minutes)
                    .map_err(|e| corrupt(e.to_string()))?,
                price: Money::new(m.price_minor, currency).map_err(|e| corrupt(e.to_string()))?,
                cabin: Cabin::parse(&m.cabin)
                    .ok_or_else(|| corrupt(format!("cabin {}", m.cabin)))?,
                deep_link: m.deep_link.clone(),
                segments: match &m.segments {
                    None => Vec::new(),
                    Some(json) => serde_json::from_value(json.clone())
                        .map_err(|e| corrupt(format!("segments: {e}")))?,
                },
                expires_at: m.expires_at,
                booking_token: m.booking_token.clone(),
                raw: m.raw_payload.clone(),
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
