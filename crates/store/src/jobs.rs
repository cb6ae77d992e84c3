//! Search jobs: creation, paging, cancellation, claiming with leases, and checkpoints.

use std::time::Duration;

use domain::{JobStatus, SearchSpec, TaskCursor};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{flight_offer, search_job};
use crate::leases::{ClaimRules, Lease, LeaseKind, WithoutLease, fenced};
use crate::records::{
    ERROR_SAMPLE_SIZE, JobRecord, JobRow, NewOffer, Page, StoredJson, TaskError, select_jobs,
};
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub lease: Lease,
    pub job: JobRecord,
    /// The worker whose lease had expired, when this claim took a job over from it.
    pub taken_over_from: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    Held {
        cancel_requested: bool,
        pause_requested: bool,
    },
    Lost,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Succeeded,
    Failed(String),
    Cancelled,
    /// Not an end: the job keeps its checkpoint, gives its lease up and waits for resume.
    Paused,
}

/// Everything a worker learned since its last checkpoint, committed at once.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub offers: Vec<NewOffer>,
    /// Tasks finished since the last checkpoint, failures included.
    pub completed: u64,
    pub failed: u64,
    /// Failed tasks since the last checkpoint (at most the sample size).
    pub errors: Vec<TaskError>,
    /// Of the tasks finished: answered by the answer cache, and asked of their provider.
    pub cache_hits: u64,
    pub provider_calls: u64,
    pub cursor: TaskCursor,
    pub tasks_per_second: f64,
    pub eta_seconds: Option<u64>,
    /// The lease is renewed for this long, unless the checkpoint finishes or releases it.
    pub lease_ttl: Duration,
    pub finish: Option<Finish>,
    /// Give the job up so that any worker can resume it at once (graceful shutdown).
    pub release: bool,
}

#[derive(Debug, Clone)]
pub enum CheckpointOutcome {
    Committed(Box<JobRecord>),
    LeaseLost,
}

/// Which claimable search goes first: that of the account with the fewest searches running,
/// then of the account served least recently (whose latest search started longest ago, or
/// never), then the oldest. So one account's many searches take turns with everyone else's
/// first, across the fleet: every worker claims by the same order.
const FAIR_ORDER: &str = "(SELECT COUNT(*) FROM search_jobs r WHERE r.owner_id = c.owner_id AND r.status = 'RUNNING') ASC, \
     (SELECT MAX(r.started_at) FROM search_jobs r WHERE r.owner_id = c.owner_id) ASC NULLS FIRST, \
     c.id ASC";

fn ttl(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::seconds(30))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    #[tracing::instrument(skip_all, err)]
    pub async fn create_job(
        &self,
        spec: &SearchSpec,
        total_tasks: u64,
        owner_id: Option<Uuid>,
    ) -> Result<JobRecord> {
        let row = search_job::Entity::insert(self.new_job_row(spec, total_tasks, owner_id)?)
            .exec_with_returning(&self.db)
            .await?;
        JobRecord::try_from(row)
    }

    /// The row of a new queued search.
    pub(crate) fn new_job_row(
        &self,
        spec: &SearchSpec,
        total_tasks: u64,
        owner_id: Option<Uuid>,
    ) -> Result<search_job::ActiveModel> {
        let now = self.now();
        let spec_json =
            serde_json::to_value(spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(search_job::ActiveModel {
            id: Set(Uuid::now_v7()),
            owner_id: Set(owner_id),
            label: Set(spec.label.clone()),
            status: Set(JobStatus::Queued.as_str().to_string()),
            spec: Set(spec_json),
            currency: Set(spec.currency.code().to_string()),
            total_tasks: Set(to_i64(total_tasks)),
            completed_tasks: Set(0),
            failed_tasks: Set(0),
            found_flights: Set(0),
            cache_hits: Set(0),
            provider_calls: Set(0),
            best_price_minor: Set(None),
            best_offer_id: Set(None),
            cursor_low_water: Set(0),
            cursor_done: Set(serde_json::json!([])),
            tasks_per_second: Set(0.0),
            eta_seconds: Set(None),
            cancel_requested: Set(false),
            lease_owner: Set(None),
            lease_token: Set(None),
            lease_expires_at: Set(None),
            attempts: Set(0),
            error: Set(None),
            last_checkpoint_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            started_at: Set(None),
            finished_at: Set(None),
            pause_requested: Set(false),
            claims_without_progress: Set(0),
            taken_over_from: Set(None),
            error_sample: Set(None),
        })
    }

    pub async fn job(&self, id: Uuid) -> Result<Option<JobRecord>> {
        select_jobs()
            .filter(search_job::Column::Id.eq(id))
            .into_model::<JobRow>()
            .one(&self.db)
            .await?
            .map(JobRecord::try_from)
            .transpose()
    }

    pub async fn jobs_by_ids(&self, ids: &[Uuid]) -> Result<Vec<JobRecord>> {
        select_jobs()
            .filter(search_job::Column::Id.is_in(ids.iter().copied()))
            .into_model::<JobRow>()
            .all(&self.db)
            .await?
            .into_iter()
            .map(JobRecord::try_from)
            .collect()
    }

    /// Newest first; `after` is the id of the last job of the previous page. With `owner`,
    /// only that account's jobs.
    pub async fn jobs_page(
        &self,
        first: u64,
        after: Option<Uuid>,
        status: Option<JobStatus>,
        owner: Option<Uuid>,
    ) -> Result<Page<JobRecord>> {
        let mut query = select_jobs().order_by_desc(search_job::Column::Id);
        if let Some(owner) = owner {
            query = query.filter(search_job::Column::OwnerId.eq(owner));
        }
        if let Some(after) = after {
            query = query.filter(search_job::Column::Id.lt(after));
        }
        if let Some(status) = status {
            query = query.filter(search_job::Column::Status.eq(status.as_str()));
        }
        let query = query.limit(first + 1);
        let mut rows = crate::replicas::read!(self, |db| query
            .clone()
            .into_model::<JobRow>()
            .all(db)
            .await)?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page {
            items: rows
                .into_iter()
                .map(JobRecord::try_from)
                .collect::<Result<_>>()?,
            has_next,
        })
    }

    /// Cancels a queued or paused job at once; asks a running one to stop at its next
    /// checkpoint.
    /// Cancelling a cancelled job is a no-op; a finished one is a conflict.
    #[tracing::instrument(skip_all, fields(job_id = %id), err)]
    pub async fn request_cancel(&self, id: Uuid) -> Result<JobRecord> {
        let now = self.now();
        let queued = search_job::Entity::update_many()
            .col_expr(
                search_job::Column::Status,
                Expr::value(JobStatus::Cancelled.as_str()),
            )
            .col_expr(search_job::Column::CancelRequested, Expr::value(true))
            .col_expr(search_job::Column::FinishedAt, Expr::value(now))
            .col_expr(search_job::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                search_job::Column::EtaSeconds,
                Expr::value(Option::<i64>::None),
            )
            .filter(search_job::Column::Id.eq(id))
            .filter(
                search_job::Column::Status
                    .is_in([JobStatus::Queued.as_str(), JobStatus::Paused.as_str()]),
            )
            .exec(&self.db)
            .await?;
        if queued.rows_affected == 0 {
            search_job::Entity::update_many()
                .col_expr(search_job::Column::CancelRequested, Expr::value(true))
                .col_expr(search_job::Column::UpdatedAt, Expr::value(now))
                .filter(search_job::Column::Id.eq(id))
                .filter(search_job::Column::Status.eq(JobStatus::Running.as_str()))
                .exec(&self.db)
                .await?;
        }
        let job = self.job(id).await?.ok_or(StoreError::JobNotFound(id))?;
        match job.status {
            JobStatus::Succeeded | JobStatus::Failed => Err(StoreError::Conflict {
                id,
                status: job.status.as_str(),
                action: "cancelled",
            }),
            _ => Ok(job),
        }
    }

    /// Sets (or with `None` clears) a job's label.
    #[tracing::instrument(skip_all, fields(job_id = %id), err)]
    pub async fn rename_job(&self, id: Uuid, label: Option<String>) -> Result<JobRecord> {
        let done = search_job::Entity::update_many()
            .col_expr(search_job::Column::Label, Expr::value(label))
            .col_expr(search_job::Column::UpdatedAt, Expr::value(self.now()))
            .filter(search_job::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if done.rows_affected == 0 {
            return Err(StoreError::JobNotFound(id));
        }
        self.job(id).await?.ok_or(StoreError::JobNotFound(id))
    }

    /// Deletes an ended job and every offer it found, in one transaction. A job that has not
    /// ended (a worker may hold it) is a conflict. Bookings keep their own copy of the offer.
    #[tracing::instrument(skip_all, fields(job_id = %id), err)]
    pub async fn delete_job(&self, id: Uuid) -> Result<()> {
        use sea_orm::TransactionTrait;
        let ended = [
            JobStatus::Succeeded.as_str(),
            JobStatus::Failed.as_str(),
            JobStatus::Cancelled.as_str(),
        ];
        let txn = self.db.begin().await?;
        let deleted = search_job::Entity::delete_many()
            .filter(search_job::Column::Id.eq(id))
            .filter(search_job::Column::Status.is_in(ended))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            txn.rollback().await?;
            let job = self.job(id).await?.ok_or(StoreError::JobNotFound(id))?;
            return Err(StoreError::Conflict {
                id,
                status: job.status.as_str(),
                action: "deleted (cancel it first)",
            });
        }
        flight_offer::Entity::delete_many()
            .filter(flight_offer::Column::JobId.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// How many jobs are in each status.
    pub async fn job_counts(&self) -> Result<Vec<(JobStatus, u64)>> {
        let rows: Vec<(String, i64)> = search_job::Entity::find()
            .select_only()
            .column(search_job::Column::Status)
            .column_as(search_job::Column::Id.count(), "n")
            .group_by(search_job::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(s, n)| Some((JobStatus::parse(&s)?, u64::try_from(n).ok()?)))
            .collect())
    }

    /// Pauses a queued job at once; asks a running one to pause at its next checkpoint.
    #[tracing::instrument(skip_all, fields(job_id = %id), err)]
    pub async fn request_pause(&self, id: Uuid) -> Result<JobRecord> {
        let now = self.now();
        let queued = search_job::Entity::update_many()
            .col_expr(
                search_job::Column::Status,
                Expr::value(JobStatus::Paused.as_str()),
            )
            .col_expr(
                search_job::Column::EtaSeconds,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(search_job::Column::UpdatedAt, Expr::value(now))
            .filter(search_job::Column::Id.eq(id))
            .filter(search_job::Column::Status.eq(JobStatus::Queued.as_str()))
            .exec(&self.db)
            .await?;
        if queued.rows_affected == 0 {
            search_job::Entity::update_many()
                .col_expr(search_job::Column::PauseRequested, Expr::value(true))
                .col_expr(search_job::Column::UpdatedAt, Expr::value(now))
                .filter(search_job::Column::Id.eq(id))
                .filter(search_job::Column::Status.eq(JobStatus::Running.as_str()))
                .filter(search_job::Column::CancelRequested.eq(false))
                .exec(&self.db)
                .await?;
        }
        let job = self.job(id).await?.ok_or(StoreError::JobNotFound(id))?;
        match job.status {
            status if status.is_terminal() => Err(StoreError::Conflict {
                id,
                status: status.as_str(),
                action: "paused",
            }),
            JobStatus::Running if job.cancel_requested => Err(StoreError::Conflict {
                id,
                status: "being cancelled",
                action: "paused",
            }),
            _ => Ok(job),
        }
    }

    /// Puts a paused job back in the queue (it continues from its checkpoint), or takes
    /// back a pause not yet carried out.
    #[tracing::instrument(skip_all, fields(job_id = %id), err)]
    pub async fn request_resume(&self, id: Uuid) -> Result<JobRecord> {
        let now = self.now();
        search_job::Entity::update_many()
            .col_expr(
                search_job::Column::Status,
                Expr::value(JobStatus::Queued.as_str()),
            )
            .col_expr(search_job::Column::ClaimsWithoutProgress, Expr::value(0))
            .col_expr(search_job::Column::UpdatedAt, Expr::value(now))
            .filter(search_job::Column::Id.eq(id))
            .filter(search_job::Column::Status.eq(JobStatus::Paused.as_str()))
            .exec(&self.db)
            .await?;
        search_job::Entity::update_many()
            .col_expr(search_job::Column::PauseRequested, Expr::value(false))
            .col_expr(search_job::Column::UpdatedAt, Expr::value(now))
            .filter(search_job::Column::Id.eq(id))
            .filter(search_job::Column::PauseRequested.eq(true))
            .exec(&self.db)
            .await?;
        let job = self.job(id).await?.ok_or(StoreError::JobNotFound(id))?;
        if job.status.is_terminal() {
            return Err(StoreError::Conflict {
                id,
                status: job.status.as_str(),
                action: "resumed",
            });
        }
        Ok(job)
    }

    /// Marks FAILED the jobs claimed `max_claims` times in a row without committing
    /// progress (they kill their worker, say) whose lease is free, and returns them, so
    /// their subscribers can be told. [`Store::claim_next`] skips such jobs.
    #[tracing::instrument(skip_all, err)]
    pub async fn fail_crash_looping(&self, max_claims: u32) -> Result<Vec<JobRecord>> {
        let now = self.now();
        let max_claims = i32::try_from(Ord::max(max_claims, 1)).unwrap_or(i32::MAX);
        let txn = self.db.begin().await?;
        let looped = self
            .update_abandoned(
                &txn,
                LeaseKind::Search,
                |set| {
                    set.raw("status = 'FAILED', error = ")
                        .value(format!(
                            "stopped after {max_claims} attempts in a row made no progress \
                             (each ended without a checkpoint, e.g. its worker crashed)"
                        ))
                        .raw(", finished_at = ")
                        .value(now)
                        .raw(", updated_at = ")
                        .value(now)
                        .raw(
                            ", eta_seconds = NULL, lease_owner = NULL, lease_token = NULL, \
                             lease_expires_at = NULL",
                        );
                },
                &format!(" AND claims_without_progress >= {max_claims}"),
            )
            .await?;
        if !looped.is_empty() {
            tracing::error!(jobs = looped.len(), "crash-looping jobs marked FAILED");
        }
        let failed: Vec<JobRecord> = select_jobs()
            .filter(search_job::Column::Id.is_in(looped))
            .into_model::<JobRow>()
            .all(&txn)
            .await?
            .into_iter()
            .map(JobRecord::try_from)
            .collect::<Result<_>>()?;
        let events: Vec<_> = failed
            .iter()
            .filter_map(|job| crate::outbox::search_finished(job, None))
            .collect();
        crate::outbox::append(&txn, self.backend(), now, &events).await?;
        txn.commit().await?;
        Ok(failed)
    }

    /// Takes a job that is queued, or running under a free lease (expired, or held by a
    /// worker that is gone), fairly across accounts: see [`FAIR_ORDER`]. A job claimed
    /// `max_claims` times in a row without committing progress is not taken (see
    /// [`Store::fail_crash_looping`]).
    #[tracing::instrument(skip_all, fields(worker = owner), err)]
    pub async fn claim_next(
        &self,
        owner: &str,
        lease_ttl: Duration,
        max_claims: u32,
    ) -> Result<Option<ClaimedJob>> {
        let max_claims = i32::try_from(Ord::max(max_claims, 1)).unwrap_or(i32::MAX);
        let rules = ClaimRules {
            set: ", claims_without_progress = claims_without_progress + 1",
            max_claims: Some(max_claims),
            order_by: FAIR_ORDER.into(),
            ..ClaimRules::default()
        };
        let Some(claim) = self
            .claim(LeaseKind::Search, owner, lease_ttl, rules)
            .await?
        else {
            return Ok(None);
        };
        let id = claim.lease.id;
        let model = search_job::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::JobNotFound(id))?;
        let model_owner = model.owner_id;
        let job = match JobRecord::try_from(model) {
            Ok(job) => job,
            Err(e) => {
                // A row that cannot be read would be claimed again and again: end it.
                tracing::error!(job_id = %id, error = %e, "unreadable job marked FAILED");
                self.fail_unreadable(id, model_owner, &e.to_string())
                    .await?;
                return Err(e);
            }
        };
        Ok(Some(ClaimedJob {
            lease: claim.lease,
            job,
            taken_over_from: claim.taken_over_from,
        }))
    }

    async fn fail_unreadable(&self, id: Uuid, owner: Option<Uuid>, reason: &str) -> Result<()> {
        let now = self.now();
        let error = format!("the stored job cannot be read: {reason}");
        let txn = self.db.begin().await?;
        search_job::Entity::update_many()
            .col_expr(
                search_job::Column::Status,
                Expr::value(JobStatus::Failed.as_str()),
            )
            .col_expr(search_job::Column::Error, Expr::value(error.clone()))
            .col_expr(search_job::Column::FinishedAt, Expr::value(now))
            .col_expr(search_job::Column::UpdatedAt, Expr::value(now))
            .without_lease()
            .filter(search_job::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        let event = crate::outbox::NewEvent {
            event_type: domain::event_type::SEARCH_FAILED,
            subject_id: id,
            account_id: owner,
            payload: serde_json::json!({
                "v": crate::outbox::PAYLOAD_VERSION,
                "jobId": id,
                "accountId": owner,
                "status": "FAILED",
                "error": error,
                "finishedAt": now,
            }),
        };
        crate::outbox::append(&txn, self.backend(), now, &[event]).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Extends a lease; says whether it is still held and whether cancellation was asked.
    pub async fn renew_lease(&self, lease: &mut Lease, lease_ttl: Duration) -> Result<LeaseState> {
        if !self.renew(lease, lease_ttl).await? {
            return Ok(LeaseState::Lost);
        }
        let job = self.job(lease.id).await?;
        Ok(LeaseState::Held {
            cancel_requested: job.as_ref().is_some_and(|j| j.cancel_requested),
            pause_requested: job.as_ref().is_some_and(|j| j.pause_requested),
        })
    }

    /// Commits a checkpoint in one transaction: offers (each stored once per job),
    /// counters, best price, cursor, lease. Fenced by the lease token.
    #[tracing::instrument(skip_all, fields(job_id = %lease.id, offers = cp.offers.len()), err)]
    pub async fn checkpoint(
        &self,
        lease: &mut Lease,
        cp: &Checkpoint,
    ) -> Result<CheckpointOutcome> {
        let now = self.now();
        let txn = self.db.begin().await?;
        // The fenced update comes first: it takes the row (and, on SQLite, the write) lock.
        let fenced = search_job::Entity::update_many()
            .col_expr(
                search_job::Column::CompletedTasks,
                Expr::col(search_job::Column::CompletedTasks).add(to_i64(cp.completed)),
            )
            .col_expr(
                search_job::Column::FailedTasks,
                Expr::col(search_job::Column::FailedTasks).add(to_i64(cp.failed)),
            )
            .col_expr(
                search_job::Column::CacheHits,
                Expr::col(search_job::Column::CacheHits).add(to_i64(cp.cache_hits)),
            )
            .col_expr(
                search_job::Column::ProviderCalls,
                Expr::col(search_job::Column::ProviderCalls).add(to_i64(cp.provider_calls)),
            )
            .col_expr(search_job::Column::UpdatedAt, Expr::value(now))
            .filter(fenced(lease))
            .exec(&txn)
            .await?;
        if fenced.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(CheckpointOutcome::LeaseLost);
        }
        let current = select_jobs()
            .filter(search_job::Column::Id.eq(lease.id))
            .into_model::<JobRow>()
            .one(&txn)
            .await?
            .ok_or(StoreError::JobNotFound(lease.id))?;
        let current_sample = current.error_sample.map(StoredJson::into_text);

        let cheapest = cp.offers.iter().map(|o| o.offer.price.minor_units).min();
        let inserted = match self.backend() {
            DatabaseBackend::Postgres => {
                crate::offer_insert::insert_offers_pg(&txn, lease.id, &cp.offers, now).await?
            }
            _ => crate::offer_insert::insert_offers_sqlite(&txn, lease.id, &cp.offers, now).await?,
        };

        // The cheapest stored offer, read back: a redone task's offers may have been
        // dropped as duplicates, so the batch alone cannot say what is stored.
        let mut best_price = current.best_price_minor;
        let mut best_offer = current.best_offer_id;
        if inserted > 0
            && cheapest.is_some_and(|p| best_price.is_none_or(|best| p < best))
            && let Some((id, price)) = flight_offer::Entity::find()
                .select_only()
                .column(flight_offer::Column::Id)
                .column(flight_offer::Column::PriceMinor)
                .filter(flight_offer::Column::JobId.eq(lease.id))
                .order_by_asc(flight_offer::Column::PriceMinor)
                .order_by_asc(flight_offer::Column::Id)
                .into_tuple::<(Uuid, i64)>()
                .one(&txn)
                .await?
        {
            best_price = Some(price);
            best_offer = Some(id);
        }

        let done: Vec<u64> = cp.cursor.done_above().collect();
        let error_sample = if cp.errors.is_empty() {
            None
        } else {
            let mut sample: Vec<TaskError> = current_sample
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default();
            sample.extend(cp.errors.iter().cloned());
            let excess = sample.len().saturating_sub(ERROR_SAMPLE_SIZE);
            sample.drain(..excess);
            Some(serde_json::json!(sample))
        };
        let mut renewed = None;
        let mut update = search_job::Entity::update_many()
            .col_expr(
                search_job::Column::FoundFlights,
                Expr::value(current.found_flights + to_i64(inserted)),
            )
            .col_expr(search_job::Column::BestPriceMinor, Expr::value(best_price))
            .col_expr(search_job::Column::BestOfferId, Expr::value(best_offer))
            .col_expr(
                search_job::Column::CursorLowWater,
                Expr::value(to_i64(cp.cursor.low_water())),
            )
            .col_expr(
                search_job::Column::CursorDone,
                Expr::value(serde_json::json!(done)),
            )
            .col_expr(
                search_job::Column::TasksPerSecond,
                Expr::value(cp.tasks_per_second),
            )
            .col_expr(
                search_job::Column::EtaSeconds,
                Expr::value(cp.eta_seconds.filter(|_| cp.finish.is_none()).map(to_i64)),
            )
            .col_expr(search_job::Column::LastCheckpointAt, Expr::value(now));
        if let Some(sample) = error_sample {
            update = update.col_expr(search_job::Column::ErrorSample, Expr::value(sample));
        }
        if cp.completed > 0 {
            update = update.col_expr(search_job::Column::ClaimsWithoutProgress, Expr::value(0));
        }
        match &cp.finish {
            Some(finish) => {
                let (status, error) = match finish {
                    Finish::Succeeded => (JobStatus::Succeeded, None),
                    Finish::Failed(e) => (JobStatus::Failed, Some(e.clone())),
                    Finish::Cancelled => (JobStatus::Cancelled, None),
                    Finish::Paused => (JobStatus::Paused, None),
                };
                let finished_at = (status != JobStatus::Paused).then_some(now);
                update = update
                    .col_expr(search_job::Column::Status, Expr::value(status.as_str()))
                    .col_expr(search_job::Column::Error, Expr::value(error))
                    .col_expr(search_job::Column::FinishedAt, Expr::value(finished_at))
                    .col_expr(search_job::Column::PauseRequested, Expr::value(false))
                    .without_lease();
            }
            None if cp.release => {
                update = update.without_lease();
            }
            None => {
                let expires_at = now + ttl(cp.lease_ttl);
                update =
                    update.col_expr(search_job::Column::LeaseExpiresAt, Expr::value(expires_at));
                renewed = Some(expires_at);
            }
        }
        update
            .filter(search_job::Column::Id.eq(lease.id))
            .exec(&txn)
            .await?;
        let job = select_jobs()
            .filter(search_job::Column::Id.eq(lease.id))
            .into_model::<JobRow>()
            .one(&txn)
            .await?
            .map(JobRecord::try_from)
            .transpose()?
            .ok_or(StoreError::JobNotFound(lease.id))?;
        let best_route = match (cp.finish.is_some(), job.best_offer_id) {
            (true, Some(best)) => {
                flight_offer::Entity::find_by_id(best)
                    .select_only()
                    .column(flight_offer::Column::Origin)
                    .column(flight_offer::Column::Destination)
                    .into_tuple::<(String, String)>()
                    .one(&txn)
                    .await?
            }
            _ => None,
        };
        if cp.finish.is_some()
            && let Some(event) = crate::outbox::search_finished(&job, best_route)
        {
            crate::outbox::append(&txn, self.backend(), now, &[event]).await?;
        }
        if self.events_in_transaction() {
            // Delivered at commit, and only if the commit succeeds.
            let event = crate::JobEvent::Progress(job.progress());
            let payload =
                serde_json::to_string(&event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            txn.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [crate::events::CHANNEL.into(), payload.into()],
            ))
            .await?;
        }
        txn.commit().await?;
        self.offers_stored(inserted);
        if let Some(expires_at) = renewed {
            lease.expires_at = expires_at;
        }
        Ok(CheckpointOutcome::Committed(Box::new(job)))
    }
}
