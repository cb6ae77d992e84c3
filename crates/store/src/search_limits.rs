//! What one account may have queued: checked and inserted in one transaction that first
//! locks the account's row, so concurrent (or aliased) `startSearch` calls of one account
//! are counted one after another and cannot slip past a limit together.

use domain::{JobStatus, SearchSpec};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{search_job, user};
use crate::records::JobRecord;
use crate::{Result, Store, StoreError};

/// One account's bounds on searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLimits {
    /// Searches queued, running or paused at once.
    pub max_active: u64,
    /// Provider queries still to run across those searches.
    pub max_queued_tasks: u64,
    /// Searches started in any 60 seconds.
    pub max_per_minute: u64,
}

/// Which limit a new search would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchLimit {
    ActiveSearches,
    QueuedTasks,
    SearchesPerMinute,
}

impl SearchLimit {
    /// What an operator sets to change it.
    pub fn setting(&self, admin: bool) -> &'static str {
        match (self, admin) {
            (SearchLimit::ActiveSearches, false) => "MAX_ACTIVE_SEARCHES_PER_USER",
            (SearchLimit::ActiveSearches, true) => "MAX_ACTIVE_SEARCHES_PER_ADMIN",
            (SearchLimit::QueuedTasks, false) => "MAX_QUEUED_TASKS_PER_USER",
            (SearchLimit::QueuedTasks, true) => "MAX_QUEUED_TASKS_PER_ADMIN",
            (SearchLimit::SearchesPerMinute, false) => "MAX_SEARCHES_PER_MINUTE_PER_USER",
            (SearchLimit::SearchesPerMinute, true) => "MAX_SEARCHES_PER_MINUTE_PER_ADMIN",
        }
    }
}

/// A search refused by its account's limits: what the account uses, and the bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaExceeded {
    pub limit: SearchLimit,
    /// In use before this search.
    pub used: u64,
    /// This search's share (1 search, or its tasks).
    pub requested: u64,
    pub max: u64,
}

impl std::fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            used,
            requested,
            max,
            ..
        } = self;
        match self.limit {
            SearchLimit::ActiveSearches => write!(
                f,
                "you have {used} searches queued, running or paused, and at most {max} are \
                 allowed at once: cancel one or wait for one to finish"
            ),
            SearchLimit::QueuedTasks => write!(
                f,
                "this search needs {requested} provider queries and your searches still have \
                 {used} to run; together that is more than the {max} allowed per account"
            ),
            SearchLimit::SearchesPerMinute => write!(
                f,
                "you started {used} searches in the last minute, the most allowed: try again \
                 in a minute"
            ),
        }
    }
}

/// Which of `limits` a new search of `total_tasks` for `owner` would pass, if any.
async fn refusal(
    conn: &impl ConnectionTrait,
    owner: Uuid,
    total_tasks: u64,
    limits: SearchLimits,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<QuotaExceeded>> {
    let active = [
        JobStatus::Queued.as_str(),
        JobStatus::Running.as_str(),
        JobStatus::Paused.as_str(),
    ];
    let (searches, tasks): (i64, i64) = search_job::Entity::find()
        .select_only()
        .column_as(search_job::Column::Id.count(), "searches")
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(total_tasks - completed_tasks), 0) AS BIGINT)"),
            "tasks",
        )
        .filter(search_job::Column::OwnerId.eq(owner))
        .filter(search_job::Column::Status.is_in(active))
        .into_tuple()
        .one(conn)
        .await?
        .unwrap_or((0, 0));
    let recent: i64 = search_job::Entity::find()
        .select_only()
        .column_as(search_job::Column::Id.count(), "recent")
        .filter(search_job::Column::OwnerId.eq(owner))
        .filter(search_job::Column::CreatedAt.gt(now - chrono::Duration::seconds(60)))
        .into_tuple()
        .one(conn)
        .await?
        .unwrap_or(0);
    Ok(if count(searches) + 1 > limits.max_active {
        Some(QuotaExceeded {
            limit: SearchLimit::ActiveSearches,
            used: count(searches),
            requested: 1,
            max: limits.max_active,
        })
    } else if count(tasks).saturating_add(total_tasks) > limits.max_queued_tasks {
        Some(QuotaExceeded {
            limit: SearchLimit::QueuedTasks,
            used: count(tasks),
            requested: total_tasks,
            max: limits.max_queued_tasks,
        })
    } else if count(recent) + 1 > limits.max_per_minute {
        Some(QuotaExceeded {
            limit: SearchLimit::SearchesPerMinute,
            used: count(recent),
            requested: 1,
            max: limits.max_per_minute,
        })
    } else {
        None
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// Queues a search for `owner` unless it would pass one of `limits`.
    #[tracing::instrument(skip_all, fields(owner = %owner), err)]
    pub async fn create_job_within(
        &self,
        spec: &SearchSpec,
        total_tasks: u64,
        owner: Uuid,
        limits: SearchLimits,
    ) -> Result<JobRecord> {
        let now = self.now();
        let txn = self.db.begin().await?;
        // Taking the account's row first serialises the account's searches: a row lock on
        // PostgreSQL, the write lock on SQLite.
        let locked = user::Entity::update_many()
            .col_expr(user::Column::Role, Expr::col(user::Column::Role))
            .filter(user::Column::Id.eq(owner))
            .exec(&txn)
            .await?;
        if locked.rows_affected == 0 {
            txn.rollback().await?;
            return Err(StoreError::UserNotFound(owner));
        }
        let refused = refusal(&txn, owner, total_tasks, limits, now).await?;
        if let Some(refused) = refused {
            txn.rollback().await?;
            return Err(StoreError::QuotaExceeded(refused));
        }
        let row = search_job::Entity::insert(self.new_job_row(spec, total_tasks, Some(owner))?)
            .exec_with_returning(&txn)
            .await?;
        txn.commit().await?;
        JobRecord::try_from(row)
    }

    /// Which of `limits` a search of `total_tasks` would pass if `owner` started it now
    /// (nothing is stored; a search started later is checked again).
    pub async fn search_refusal(
        &self,
        owner: Uuid,
        total_tasks: u64,
        limits: SearchLimits,
    ) -> Result<Option<QuotaExceeded>> {
        refusal(&self.db, owner, total_tasks, limits, self.now()).await
    }
}
