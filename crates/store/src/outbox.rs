//! The transactional outbox: every change that others may react to writes its event in
//! its own transaction, so an event exists if and only if its change committed.
//!
//! Sequence numbers come from the one-row `event_sequence` counter, taken as the last write
//! of the transaction: its row lock makes event writers commit in sequence order, so a
//! reader that has seen sequence N never sees a smaller number appear later.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use uuid::Uuid;

use crate::leases::Sql;
use crate::{Page, Result, Store, StoreError};

/// An event to append, in the change's transaction.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub subject_id: Uuid,
    /// Whose event it is (`None`: an admins' event, such as an import's).
    pub account_id: Option<Uuid>,
    /// The versioned payload (docs/events.md).
    pub payload: serde_json::Value,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: Uuid,
    pub sequence: i64,
    pub event_type: String,
    pub subject_id: Uuid,
    pub account_id: Option<Uuid>,
    /// The payload's JSON text, as written.
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

/// The version of every payload written today.
pub const PAYLOAD_VERSION: u32 = 1;

/// Appends `events` in the transaction `conn`; call it as the transaction's last write.
pub(crate) async fn append(
    conn: &impl ConnectionTrait,
    backend: DatabaseBackend,
    now: DateTime<Utc>,
    events: &[NewEvent],
) -> Result<Vec<EventRecord>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let mut take = Sql::new(backend);
    take.push("UPDATE event_sequence SET last = last + ")
        .bind(n)
        .push(" WHERE id = 1 RETURNING last");
    let last: i64 = conn
        .query_one_raw(take.statement())
        .await?
        .ok_or_else(|| StoreError::Corrupt("the event_sequence row is missing".into()))?
        .try_get("", "last")?;
    let mut stored = Vec::with_capacity(events.len());
    let mut insert = Sql::new(backend);
    insert.push(
        "INSERT INTO events (id, sequence, type, subject_id, account_id, payload, created_at) VALUES ",
    );
    for (i, event) in events.iter().enumerate() {
        let record = EventRecord {
            id: Uuid::now_v7(),
            sequence: last - n + 1 + i64::try_from(i).unwrap_or(0),
            event_type: event.event_type.to_string(),
            subject_id: event.subject_id,
            account_id: event.account_id,
            payload: event.payload.to_string(),
            created_at: now,
        };
        if i > 0 {
            insert.push(", ");
        }
        insert
            .push("(")
            .bind(record.id)
            .push(", ")
            .bind(record.sequence)
            .push(", ")
            .bind(record.event_type.clone())
            .push(", ")
            .bind(record.subject_id)
            .push(", ")
            .bind(record.account_id)
            .push(", ")
            .bind(record.payload.clone())
            .push(", ")
            .bind(record.created_at)
            .push(")");
        stored.push(record);
    }
    conn.execute_raw(insert.statement()).await?;
    Ok(stored)
}

pub(crate) fn event_from_row(row: &sea_orm::QueryResult) -> Result<EventRecord> {
    Ok(EventRecord {
        id: row.try_get("", "id")?,
        sequence: row.try_get("", "sequence")?,
        event_type: row.try_get("", "type")?,
        subject_id: row.try_get("", "subject_id")?,
        account_id: row.try_get("", "account_id")?,
        payload: row.try_get("", "payload")?,
        created_at: row.try_get("", "created_at")?,
    })
}

pub(crate) const EVENT_COLUMNS: &str =
    "id, sequence, type, subject_id, account_id, payload, created_at";

impl Store {
    /// Events after sequence `after`, oldest first: an account's own (`account`), or every
    /// event; only those of `types` when given.
    pub async fn events_page(
        &self,
        first: u64,
        after: Option<i64>,
        types: Option<&[String]>,
        account: Option<Uuid>,
    ) -> Result<Page<EventRecord>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE sequence > "
        ))
        .bind(after.unwrap_or(0));
        if let Some(account) = account {
            sql.push(" AND account_id = ").bind(account);
        }
        if let Some(types) = types {
            if types.is_empty() {
                return Ok(Page {
                    items: Vec::new(),
                    has_next: false,
                });
            }
            sql.push(" AND type IN (");
            for (i, t) in types.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(t.clone());
            }
            sql.push(")");
        }
        sql.push(" ORDER BY sequence LIMIT ")
            .bind(i64::try_from(first + 1).unwrap_or(i64::MAX));
        let statement = sql.statement();
        let rows = crate::replicas::read!(self, |db| db.query_all_raw(statement.clone()).await)?;
        let mut items = rows
            .iter()
            .map(event_from_row)
            .collect::<Result<Vec<_>>>()?;
        let has_next = items.len() as u64 > first;
        items.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Ok(Page { items, has_next })
    }

    /// The events about one subject (a booking, a search, an import), oldest first.
    pub async fn events_of(&self, subject_id: Uuid) -> Result<Vec<EventRecord>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE subject_id = "
        ))
        .bind(subject_id)
        .push(" ORDER BY sequence");
        let rows = self.db.query_all_raw(sql.statement()).await?;
        rows.iter().map(event_from_row).collect()
    }

    /// How many events there are of `event_type`.
    pub async fn count_events(&self, event_type: &str) -> Result<u64> {
        let mut sql = Sql::new(self.backend());
        sql.push("SELECT COUNT(*) AS n FROM events WHERE type = ")
            .bind(event_type.to_string());
        let n: i64 = self
            .db
            .query_one_raw(sql.statement())
            .await?
            .ok_or_else(|| StoreError::Corrupt("COUNT(*) returned no row".into()))?
            .try_get("", "n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// `search.succeeded` or `search.failed` for a job that just ended so (version 1).
///
/// `best_route` is the origin and destination of the job's best offer.
pub(crate) fn search_finished(
    job: &crate::JobRecord,
    best_route: Option<(String, String)>,
) -> Option<NewEvent> {
    let event_type = match job.status {
        domain::JobStatus::Succeeded => domain::event_type::SEARCH_SUCCEEDED,
        domain::JobStatus::Failed => domain::event_type::SEARCH_FAILED,
        _ => return None,
    };
    Some(NewEvent {
        event_type,
        subject_id: job.id,
        account_id: job.owner_id,
        payload: serde_json::json!({
            "v": PAYLOAD_VERSION,
            "jobId": job.id,
            "accountId": job.owner_id,
            "label": job.label,
            "status": job.status.as_str(),
            "origins": job.spec.origins.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "destinations": job.spec.destinations.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "totalTasks": job.total_tasks,
            "completedTasks": job.completed_tasks,
            "failedTasks": job.failed_tasks,
            "foundFlights": job.found_flights,
            "bestPrice": job.best_price.map(|p| serde_json::json!({
                "amountMinor": p.minor_units, "currency": p.currency.code(),
            })),
            "bestOfferId": job.best_offer_id,
            "bestRoute": best_route.map(|(origin, destination)| serde_json::json!({
                "origin": origin, "destination": destination,
            })),
            "error": job.error,
            "finishedAt": job.finished_at,
        }),
    })
}

/// `import.finished` for an import that just ended, whatever its status (version 1).
pub(crate) fn import_finished(import: &crate::ImportRecord) -> NewEvent {
    NewEvent {
        event_type: domain::event_type::IMPORT_FINISHED,
        subject_id: import.id,
        account_id: import.owner_id,
        payload: serde_json::json!({
            "v": PAYLOAD_VERSION,
            "importId": import.id,
            "accountId": import.owner_id,
            "filename": import.filename,
            "status": import.status.as_str(),
            "rowsRead": import.rows_read,
            "rowsImported": import.rows_imported,
            "rowsRejected": import.rows_rejected,
            "error": import.error,
            "finishedAt": import.finished_at,
        }),
    }
}
