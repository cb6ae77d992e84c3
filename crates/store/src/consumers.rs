//! Durable consumers of the outbox: a name, a position (the last sequence handled) and the
//! lease of the one worker that runs it. The position moves only after a batch was handled,
//! so delivery is at-least-once and in order; handlers make themselves idempotent by event
//! id (see [`Store::with_receipt`]).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use uuid::Uuid;

use crate::leases::{ClaimRules, Lease, LeaseKind, Sql};
use crate::outbox::EventRecord;
use crate::{Result, Store, StoreError};

/// A consumer just claimed: where it stands.
#[derive(Debug, Clone)]
pub struct ClaimedConsumer {
    pub lease: Lease,
    pub name: String,
    /// The last sequence handled.
    pub position: i64,
}

/// How far a consumer is behind the outbox.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsumerLag {
    pub events: u64,
    /// When the oldest event not yet handled was written.
    pub oldest: Option<DateTime<Utc>>,
}

/// A consumer's id, the same in every process: derived from its name.
pub fn consumer_id(name: &str) -> Uuid {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("fast-flights consumer {name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Consumer names are code, not input; they are still checked before going into SQL.
fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "`{name}` is not a consumer name (a-z, 0-9, `-`, `_`)"
        )))
    }
}

impl Store {
    /// Makes sure a consumer exists. A new one starts at the beginning of the outbox.
    pub async fn register_consumer(&self, name: &str) -> Result<()> {
        check_name(name)?;
        let now = self.now();
        let mut sql = Sql::new(self.backend());
        sql.push(
            "INSERT INTO event_consumers (id, name, position, delivered, status, attempts, \
             created_at, updated_at) VALUES (",
        )
        .bind(consumer_id(name))
        .push(", ")
        .bind(name.to_string())
        .push(", 0, 0, 'QUEUED', 0, ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(") ON CONFLICT (id) DO NOTHING");
        self.db.execute_raw(sql.statement()).await?;
        Ok(())
    }

    /// Takes one of `names` that no live worker runs.
    pub async fn claim_consumer(
        &self,
        owner: &str,
        ttl: std::time::Duration,
        names: &[&str],
    ) -> Result<Option<ClaimedConsumer>> {
        if names.is_empty() {
            return Ok(None);
        }
        let mut among = String::from(" AND name IN (");
        for (i, name) in names.iter().enumerate() {
            check_name(name)?;
            if i > 0 {
                among.push_str(", ");
            }
            among.push('\'');
            among.push_str(name);
            among.push('\'');
        }
        among.push(')');
        let Some(claim) = self
            .claim(
                LeaseKind::Consumer,
                owner,
                ttl,
                ClaimRules {
                    and: among,
                    order_by: "c.name".into(),
                    ..ClaimRules::default()
                },
            )
            .await?
        else {
            return Ok(None);
        };
        let mut sql = Sql::new(self.backend());
        sql.push("SELECT name, position FROM event_consumers WHERE id = ")
            .bind(claim.lease.id);
        let row = self
            .db
            .query_one_raw(sql.statement())
            .await?
            .ok_or_else(|| StoreError::Corrupt("a claimed consumer vanished".into()))?;
        Ok(Some(ClaimedConsumer {
            lease: claim.lease,
            name: row.try_get("", "name")?,
            position: row.try_get("", "position")?,
        }))
    }

    /// Moves a consumer's position to `position` after it handled `handled` more events,
    /// and renews its lease; `false` when the lease is no longer held (write nothing more).
    pub async fn advance_consumer(
        &self,
        lease: &mut Lease,
        ttl: std::time::Duration,
        position: i64,
        handled: u64,
    ) -> Result<bool> {
        let now = self.now();
        let expires_at =
            now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(30));
        let mut sql = Sql::new(self.backend());
        sql.push("UPDATE event_consumers SET position = ")
            .bind(position)
            .push(", delivered = delivered + ")
            .bind(i64::try_from(handled).unwrap_or(i64::MAX))
            .push(", error = NULL, updated_at = ")
            .bind(now)
            .push(", lease_expires_at = ")
            .bind(expires_at)
            .push(" WHERE id = ")
            .bind(lease.id)
            .push(" AND lease_token = ")
            .bind(lease.token)
            .push(" AND status = 'RUNNING' AND position <= ")
            .bind(position);
        let held = self.db.execute_raw(sql.statement()).await?.rows_affected() == 1;
        if held {
            lease.expires_at = expires_at;
        }
        Ok(held)
    }

    /// Records why a consumer is stuck (its handler keeps failing on one event) and renews
    /// its lease meanwhile; `false` when the lease is no longer held.
    pub async fn consumer_failing(
        &self,
        lease: &mut Lease,
        ttl: std::time::Duration,
        error: &str,
    ) -> Result<bool> {
        let now = self.now();
        let expires_at =
            now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(30));
        let mut sql = Sql::new(self.backend());
        sql.push("UPDATE event_consumers SET error = ")
            .bind(error.chars().take(1000).collect::<String>())
            .push(", updated_at = ")
            .bind(now)
            .push(", lease_expires_at = ")
            .bind(expires_at)
            .push(" WHERE id = ")
            .bind(lease.id)
            .push(" AND lease_token = ")
            .bind(lease.token)
            .push(" AND status = 'RUNNING'");
        let held = self.db.execute_raw(sql.statement()).await?.rows_affected() == 1;
        if held {
            lease.expires_at = expires_at;
        }
        Ok(held)
    }

    /// Events after `position`, oldest first, at most `limit`.
    pub async fn events_after(&self, position: i64, limit: u64) -> Result<Vec<EventRecord>> {
        Ok(self
            .events_page(limit, Some(position), None, None)
            .await?
            .items)
    }

    /// How far behind the outbox a consumer at `position` is.
    pub async fn consumer_lag(&self, position: i64) -> Result<ConsumerLag> {
        let mut sql = Sql::new(self.backend());
        sql.push("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM events WHERE sequence > ")
            .bind(position);
        let row = self
            .db
            .query_one_raw(sql.statement())
            .await?
            .ok_or_else(|| StoreError::Corrupt("COUNT(*) returned no row".into()))?;
        let n: i64 = row.try_get("", "n")?;
        Ok(ConsumerLag {
            events: u64::try_from(n).unwrap_or(0),
            oldest: row.try_get("", "oldest")?,
        })
    }

    /// Where a consumer stands: its position and how many events it handled.
    pub async fn consumer_position(&self, name: &str) -> Result<Option<(i64, i64)>> {
        let mut sql = Sql::new(self.backend());
        sql.push("SELECT position, delivered FROM event_consumers WHERE id = ")
            .bind(consumer_id(name));
        match self.db.query_one_raw(sql.statement()).await? {
            None => Ok(None),
            Some(row) => Ok(Some((
                row.try_get("", "position")?,
                row.try_get("", "delivered")?,
            ))),
        }
    }

    /// Notes that `consumer` handled `event`; `false` when it was noted before. A handler
    /// whose effect lives outside this database takes the receipt once its effect is done,
    /// and skips an event whose receipt it has.
    pub async fn take_receipt(&self, consumer: &str, event: &EventRecord) -> Result<bool> {
        take_receipt_in(&self.db, self.backend(), self.now(), consumer, event.id).await
    }
}

impl Store {
    /// Gives a consumer back (shutdown): any worker may take it from its position.
    pub async fn release_consumer(&self, lease: &Lease) -> Result<()> {
        let mut sql = Sql::new(self.backend());
        sql.push(
            "UPDATE event_consumers SET status = 'QUEUED', lease_owner = NULL, lease_token = NULL, \
             lease_expires_at = NULL, updated_at = ",
        )
        .bind(self.now())
        .push(" WHERE id = ")
        .bind(lease.id)
        .push(" AND lease_token = ")
        .bind(lease.token);
        self.db.execute_raw(sql.statement()).await?;
        Ok(())
    }
}

/// The receipt of `event_id` for `consumer`, in `conn` (a handler's own transaction, so the
/// receipt and the handler's writes commit together); `false` when it exists.
pub(crate) async fn take_receipt_in(
    conn: &impl ConnectionTrait,
    backend: DatabaseBackend,
    now: DateTime<Utc>,
    consumer: &str,
    event_id: Uuid,
) -> Result<bool> {
    let mut receipt = Sql::new(backend);
    receipt
        .push("INSERT INTO consumer_receipts (consumer, event_id, handled_at) VALUES (")
        .bind(consumer.to_string())
        .push(", ")
        .bind(event_id)
        .push(", ")
        .bind(now)
        .push(") ON CONFLICT DO NOTHING");
    Ok(conn.execute_raw(receipt.statement()).await?.rows_affected() == 1)
}
