//! The life of a search job and the progress it reports.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// Stopped on request, keeping its checkpoint; resumable.
    Paused,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Paused,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            JobStatus::Queued => "QUEUED",
            JobStatus::Running => "RUNNING",
            JobStatus::Succeeded => "SUCCEEDED",
            JobStatus::Failed => "FAILED",
            JobStatus::Cancelled => "CANCELLED",
            JobStatus::Paused => "PAUSED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "QUEUED" => Some(JobStatus::Queued),
            "RUNNING" => Some(JobStatus::Running),
            "SUCCEEDED" => Some(JobStatus::Succeeded),
            "FAILED" => Some(JobStatus::Failed),
            "CANCELLED" => Some(JobStatus::Cancelled),
            "PAUSED" => Some(JobStatus::Paused),
            _ => None,
        }
    }

    /// A terminal job never changes again.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// A snapshot of a job's progress: what subscribers receive at every checkpoint and
/// status change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobProgress {
    pub job_id: Uuid,
    pub status: JobStatus,
    pub total_tasks: u64,
    /// Tasks finished, whether they found flights, found none, or failed.
    pub completed_tasks: u64,
    pub failed_tasks: u64,
    pub found_flights: u64,
    pub best_price: Option<Money>,
    pub tasks_per_second: f64,
    pub eta_seconds: Option<u64>,
    pub cancel_requested: bool,
    pub pause_requested: bool,
    pub error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl JobProgress {
    pub fn percent(&self) -> f64 {
        if self.total_tasks == 0 {
            return 100.0;
        }
        self.completed_tasks as f64 * 100.0 / self.total_tasks as f64
    }
}
