//! Each account's inbox: notifications kept for later, written by the notifications
//! consumer (one per event: the event's id is the notification's).

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::leases::Sql;
use crate::{Page, Result, Store};

#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// The event it comes from: the same event never makes two notifications.
    pub id: Uuid,
    pub account_id: Uuid,
    /// `BOOKING_CONFIRMED`, `SEARCH_SUCCEEDED`, …
    pub kind: &'static str,
    pub subject_id: Uuid,
    pub title: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboxRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    pub kind: String,
    pub subject_id: Uuid,
    pub title: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

fn from_row(row: &sea_orm::QueryResult) -> Result<InboxRecord> {
    Ok(InboxRecord {
        id: row.try_get("", "id")?,
        account_id: row.try_get("", "account_id")?,
        kind: row.try_get("", "kind")?,
        subject_id: row.try_get("", "subject_id")?,
        title: row.try_get("", "title")?,
        message: row.try_get("", "message")?,
        created_at: row.try_get("", "created_at")?,
        read_at: row.try_get("", "read_at")?,
    })
}

const COLUMNS: &str = "id, account_id, kind, subject_id, title, message, created_at, read_at";

impl Store {
    /// Keeps a notification; `false` when it was kept before.
    pub async fn record_notification(&self, n: &NewNotification) -> Result<bool> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!("INSERT INTO inbox ({COLUMNS}) VALUES ("))
            .bind(n.id)
            .push(", ")
            .bind(n.account_id)
            .push(", ")
            .bind(n.kind)
            .push(", ")
            .bind(n.subject_id)
            .push(", ")
            .bind(n.title.chars().take(300).collect::<String>())
            .push(", ")
            .bind(n.message.clone())
            .push(", ")
            .bind(n.created_at)
            .push(", NULL) ON CONFLICT (id) DO NOTHING");
        Ok(self.db.execute_raw(sql.statement()).await?.rows_affected() == 1)
    }

    /// An account's notifications, newest first.
    pub async fn inbox_page(
        &self,
        account_id: Uuid,
        first: u64,
        after: Option<Uuid>,
        unread_only: bool,
    ) -> Result<Page<InboxRecord>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!("SELECT {COLUMNS} FROM inbox WHERE account_id = "))
            .bind(account_id);
        if unread_only {
            sql.push(" AND read_at IS NULL");
        }
        if let Some(after) = after {
            sql.push(
                " AND (created_at, id) < (SELECT a.created_at, a.id FROM inbox a WHERE a.id = ",
            )
            .bind(after)
            .push(")");
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(i64::try_from(first + 1).unwrap_or(i64::MAX));
        let rows = self.db.query_all_raw(sql.statement()).await?;
        let mut items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        let has_next = items.len() as u64 > first;
        items.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Ok(Page { items, has_next })
    }

    /// How many of an account's notifications are unread.
    pub async fn unread_count(&self, account_id: Uuid) -> Result<u64> {
        let mut sql = Sql::new(self.backend());
        sql.push("SELECT COUNT(*) AS n FROM inbox WHERE read_at IS NULL AND account_id = ")
            .bind(account_id);
        let n: i64 = self
            .db
            .query_one_raw(sql.statement())
            .await?
            .map(|row| row.try_get("", "n"))
            .transpose()?
            .unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Marks an account's notifications read: those of `ids`, or every one. Gives how many
    /// were unread.
    pub async fn mark_read(&self, account_id: Uuid, ids: Option<&[Uuid]>) -> Result<u64> {
        let mut sql = Sql::new(self.backend());
        sql.push("UPDATE inbox SET read_at = ")
            .bind(self.now())
            .push(" WHERE read_at IS NULL AND account_id = ")
            .bind(account_id);
        if let Some(ids) = ids {
            if ids.is_empty() {
                return Ok(0);
            }
            sql.push(" AND id IN (");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(*id);
            }
            sql.push(")");
        }
        Ok(self.db.execute_raw(sql.statement()).await?.rows_affected())
    }
}
