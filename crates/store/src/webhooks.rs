//! Webhook endpoints, their deliveries (lease-held work, one per event and endpoint) and
//! every attempt made (docs/webhooks.md).
//!
//! Signing secrets are stored sealed (ChaCha20-Poly1305) with the operator's key, bound to
//! their endpoint's id: a dump of the database alone cannot sign a delivery.

use std::collections::HashMap;

use base64::Engine;
use chrono::{DateTime, Utc};
use ring::aead;
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};
use uuid::Uuid;

use crate::leases::{ClaimRules, Lease, LeaseKind, Sql};
use crate::outbox::{EVENT_COLUMNS, EventRecord, event_from_row};
use crate::{Page, Result, Store, StoreError};

/// The operator's key that seals signing secrets (`WEBHOOK_SECRETS_KEY`).
pub struct SecretKey {
    key: aead::LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

const SEALED_PREFIX: &str = "v1.";
/// Bytes of a new signing secret (Standard Webhooks: 24 to 64).
const SIGNING_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("WEBHOOK_SECRETS_KEY must be 32 bytes in base64 (e.g. `openssl rand -base64 32`): {0}")]
    BadKey(String),
    #[error(
        "the signing secret of endpoint {0} cannot be opened with this WEBHOOK_SECRETS_KEY (it \
         was sealed with another key): rotate the endpoint's secret"
    )]
    WrongKey(Uuid),
    #[error("no randomness: {0}")]
    Random(String),
}

impl SecretKey {
    pub fn from_base64(raw: &str) -> std::result::Result<Self, SecretError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .map_err(|e| SecretError::BadKey(e.to_string()))?;
        if bytes.len() != 32 {
            return Err(SecretError::BadKey(format!(
                "it decodes to {} bytes",
                bytes.len()
            )));
        }
        Self::from_bytes(&bytes)
    }

    /// A key for this process alone (development without WEBHOOK_SECRETS_KEY).
    pub fn random() -> std::result::Result<Self, SecretError> {
        let rng = SystemRandom::new();
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes)
            .map_err(|_| SecretError::Random("the system's source failed".into()))?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, SecretError> {
        let unbound = aead::UnboundKey::new(&aead::CHACHA20_POLY1305, bytes)
            .map_err(|_| SecretError::BadKey("not a ChaCha20-Poly1305 key".into()))?;
        Ok(Self {
            key: aead::LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// A new signing secret, in the Standard Webhooks form `whsec_<base64>`.
    pub fn new_signing_secret(&self) -> std::result::Result<String, SecretError> {
        let mut bytes = [0u8; SIGNING_SECRET_BYTES];
        self.rng
            .fill(&mut bytes)
            .map_err(|_| SecretError::Random("the system's source failed".into()))?;
        Ok(format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// Seals `secret` for endpoint `endpoint`: `v1.<nonce>.<ciphertext and tag>`.
    pub fn seal(&self, endpoint: Uuid, secret: &str) -> std::result::Result<String, SecretError> {
        let mut nonce = [0u8; aead::NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| SecretError::Random("the system's source failed".into()))?;
        let mut data = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(endpoint.as_bytes()),
                &mut data,
            )
            .map_err(|_| SecretError::Random("sealing failed".into()))?;
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
        Ok(format!(
            "{SEALED_PREFIX}{}.{}",
            b64.encode(nonce),
            b64.encode(data)
        ))
    }

    pub fn open(&self, endpoint: Uuid, sealed: &str) -> std::result::Result<String, SecretError> {
        let wrong = || SecretError::WrongKey(endpoint);
        let rest = sealed.strip_prefix(SEALED_PREFIX).ok_or_else(wrong)?;
        let (nonce, data) = rest.split_once('.').ok_or_else(wrong)?;
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
        let nonce: [u8; aead::NONCE_LEN] = b64
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(wrong)?;
        let mut data = b64.decode(data).map_err(|_| wrong())?;
        let plain = self
            .key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(endpoint.as_bytes()),
                &mut data,
            )
            .map_err(|_| wrong())?;
        String::from_utf8(plain.to_vec()).map_err(|_| wrong())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpointRecord {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Deliveries may go out of sequence order, several at once.
    pub parallel: bool,
    /// The sealed signing secret.
    pub secret: String,
    /// The sealed secret before the last rotation, still signing until it expires.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// The outbox position when the endpoint was made: it takes the events after it.
    pub start_sequence: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Since when every attempt failed (`None` after a success).
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
}

impl WebhookEndpointRecord {
    /// The sealed secrets that sign a delivery at `now`: the current one, and the previous
    /// one while its grace lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            secrets.push(previous);
        }
        secrets
    }
}

#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub parallel: bool,
    pub sealed_secret: String,
    pub created_by: Option<Uuid>,
}

/// What `updateWebhookEndpoint` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub parallel: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Queued,
    /// Being sent by a worker.
    Running,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "QUEUED",
            DeliveryStatus::Running => "RUNNING",
            DeliveryStatus::Succeeded => "SUCCEEDED",
            DeliveryStatus::Failed => "FAILED",
        }
    }

    fn parse(raw: &str) -> Result<Self> {
        Ok(match raw {
            "QUEUED" => DeliveryStatus::Queued,
            "RUNNING" => DeliveryStatus::Running,
            "SUCCEEDED" => DeliveryStatus::Succeeded,
            "FAILED" => DeliveryStatus::Failed,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "a webhook delivery has status {other}"
                )));
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_sequence: i64,
    pub event_type: String,
    /// Waits for the endpoint's earlier ordered deliveries.
    pub ordered: bool,
    pub status: DeliveryStatus,
    pub next_attempt_at: DateTime<Utc>,
    /// When it was queued, or redelivered.
    pub window_started_at: DateTime<Utc>,
    /// Its first claim.
    pub started_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DeliveryRecord {
    /// Where its retry window starts: its first attempt, or its redelivery. A delivery
    /// that waited its turn behind an endpoint's earlier ones still gets the whole window.
    pub fn retry_window_start(&self) -> DateTime<Utc> {
        self.started_at
            .map_or(self.window_started_at, |s| s.max(self.window_started_at))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// The start of the answer's body.
    pub response_body: Option<String>,
    /// Why no answer came, or why it counts as a failure.
    pub error: Option<String>,
    pub worker: String,
}

/// One request just made.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

/// What an attempt means for its delivery.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttemptVerdict {
    Succeeded,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// No more attempts.
    Failed,
}

/// A delivery just claimed, with what it needs to be sent.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub lease: Lease,
    pub delivery: DeliveryRecord,
    pub endpoint: WebhookEndpointRecord,
    pub event: EventRecord,
}

/// An endpoint turned off because every delivery failed for too long.
#[derive(Debug, Clone)]
pub struct DisabledEndpoint {
    pub endpoint_id: Uuid,
    pub url: String,
    pub failing_since: DateTime<Utc>,
}

/// How many queued deliveries of each parallel endpoint a claim considers (PostgreSQL).
const PARALLEL_CANDIDATES: usize = 64;

/// Longest response body kept in the attempt log.
pub const KEPT_BODY_CHARS: usize = 1_024;

const ENDPOINT_COLUMNS: &str = "id, url, event_types, description, enabled, parallel, secret, \
     previous_secret, previous_secret_expires_at, start_sequence, created_by, created_at, \
     updated_at, failing_since, disabled_at, disabled_reason";

const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_id, event_sequence, event_type, ordered, \
     status, next_attempt_at, window_started_at, started_at, attempts, last_status_code, \
     last_error, finished_at, created_at, updated_at";

fn endpoint_from_row(row: &sea_orm::QueryResult) -> Result<WebhookEndpointRecord> {
    let id: Uuid = row.try_get("", "id")?;
    let types: String = row.try_get("", "event_types")?;
    let event_types: Vec<String> = serde_json::from_str(&types)
        .map_err(|e| StoreError::Corrupt(format!("webhook endpoint {id}: event types: {e}")))?;
    Ok(WebhookEndpointRecord {
        id,
        url: row.try_get("", "url")?,
        event_types,
        description: row.try_get("", "description")?,
        enabled: row.try_get("", "enabled")?,
        parallel: row.try_get("", "parallel")?,
        secret: row.try_get("", "secret")?,
        previous_secret: row.try_get("", "previous_secret")?,
        previous_secret_expires_at: row.try_get("", "previous_secret_expires_at")?,
        start_sequence: row.try_get("", "start_sequence")?,
        created_by: row.try_get("", "created_by")?,
        created_at: row.try_get("", "created_at")?,
        updated_at: row.try_get("", "updated_at")?,
        failing_since: row.try_get("", "failing_since")?,
        disabled_at: row.try_get("", "disabled_at")?,
        disabled_reason: row.try_get("", "disabled_reason")?,
    })
}

fn delivery_from_row(row: &sea_orm::QueryResult) -> Result<DeliveryRecord> {
    let status: String = row.try_get("", "status")?;
    let attempts: i32 = row.try_get("", "attempts")?;
    let code: Option<i32> = row.try_get("", "last_status_code")?;
    Ok(DeliveryRecord {
        id: row.try_get("", "id")?,
        endpoint_id: row.try_get("", "endpoint_id")?,
        event_id: row.try_get("", "event_id")?,
        event_sequence: row.try_get("", "event_sequence")?,
        event_type: row.try_get("", "event_type")?,
        ordered: row.try_get("", "ordered")?,
        status: DeliveryStatus::parse(&status)?,
        next_attempt_at: row.try_get("", "next_attempt_at")?,
        window_started_at: row.try_get("", "window_started_at")?,
        started_at: row.try_get("", "started_at")?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        last_status_code: code.and_then(|c| u16::try_from(c).ok()),
        last_error: row.try_get("", "last_error")?,
        finished_at: row.try_get("", "finished_at")?,
        created_at: row.try_get("", "created_at")?,
        updated_at: row.try_get("", "updated_at")?,
    })
}

fn attempt_from_row(row: &sea_orm::QueryResult) -> Result<AttemptRecord> {
    let code: Option<i32> = row.try_get("", "status_code")?;
    let latency: i64 = row.try_get("", "latency_ms")?;
    Ok(AttemptRecord {
        id: row.try_get("", "id")?,
        delivery_id: row.try_get("", "delivery_id")?,
        attempted_at: row.try_get("", "attempted_at")?,
        status_code: code.and_then(|c| u16::try_from(c).ok()),
        latency_ms: u64::try_from(latency).unwrap_or(0),
        response_body: row.try_get("", "response_body")?,
        error: row.try_get("", "error")?,
        worker: row.try_get("", "worker")?,
    })
}

fn types_json(types: &[String]) -> String {
    serde_json::to_string(types).unwrap_or_else(|_| "[]".into())
}

impl Store {
    pub async fn create_webhook_endpoint(
        &self,
        new: &NewEndpoint,
    ) -> Result<WebhookEndpointRecord> {
        let now = self.now();
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) SELECT "
        ))
        .bind(new.id)
        .push(", ")
        .bind(new.url.clone())
        .push(", ")
        .bind(types_json(&new.event_types))
        .push(", ")
        .bind(new.description.clone())
        .push(", ")
        .bind(true)
        .push(", ")
        .bind(new.parallel)
        .push(", ")
        .bind(new.sealed_secret.clone())
        .push(", NULL, NULL, s.last, ")
        .bind(new.created_by)
        .push(", ")
        .bind(now)
        .push(", ")
        .bind(now)
        .push(", NULL, NULL, NULL FROM event_sequence s WHERE s.id = 1");
        self.db.execute_raw(sql.statement()).await?;
        self.webhook_endpoint(new.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a webhook endpoint just made is missing".into()))
    }

    pub async fn webhook_endpoint(&self, id: Uuid) -> Result<Option<WebhookEndpointRecord>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = "
        ))
        .bind(id);
        self.db
            .query_one_raw(sql.statement())
            .await?
            .as_ref()
            .map(endpoint_from_row)
            .transpose()
    }

    /// Every endpoint, oldest first.
    pub async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpointRecord>> {
        let sql =
            format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id");
        let rows = self
            .db
            .query_all_raw(sea_orm::Statement::from_string(self.backend(), sql))
            .await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    /// Applies `changes`; enabling an endpoint forgets its failures. `None`: no such one.
    pub async fn update_webhook_endpoint(
        &self,
        id: Uuid,
        changes: &EndpointChanges,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let now = self.now();
        let mut sql = Sql::new(self.backend());
        sql.push("UPDATE webhook_endpoints SET updated_at = ")
            .bind(now);
        if let Some(url) = &changes.url {
            sql.push(", url = ").bind(url.clone());
        }
        if let Some(types) = &changes.event_types {
            sql.push(", event_types = ").bind(types_json(types));
        }
        if let Some(description) = &changes.description {
            sql.push(", description = ").bind(description.clone());
        }
        if let Some(parallel) = changes.parallel {
            sql.push(", parallel = ").bind(parallel);
        }
        match changes.enabled {
            Some(true) => {
                sql.push(
                    ", enabled = TRUE, failing_since = NULL, disabled_at = NULL, \
                     disabled_reason = NULL",
                );
            }
            // An endpoint off already keeps when and why it went off.
            Some(false) => {
                sql.push(", disabled_at = CASE WHEN enabled THEN ")
                    .bind(now)
                    .push(
                        " ELSE disabled_at END, disabled_reason = CASE WHEN enabled THEN \
                         'turned off by an admin' ELSE disabled_reason END, enabled = FALSE",
                    );
            }
            None => {}
        }
        sql.push(" WHERE id = ").bind(id);
        if self.db.execute_raw(sql.statement()).await?.rows_affected() == 0 {
            return Ok(None);
        }
        self.webhook_endpoint(id).await
    }

    /// Deletes an endpoint with its deliveries and their attempts; `false`: no such one.
    pub async fn delete_webhook_endpoint(&self, id: Uuid) -> Result<bool> {
        let txn = self.db.begin().await?;
        let mut attempts = Sql::new(self.backend());
        attempts
            .push(
                "DELETE FROM webhook_attempts WHERE delivery_id IN \
                 (SELECT d.id FROM webhook_deliveries d WHERE d.endpoint_id = ",
            )
            .bind(id)
            .push(")");
        txn.execute_raw(attempts.statement()).await?;
        let mut deliveries = Sql::new(self.backend());
        deliveries
            .push("DELETE FROM webhook_deliveries WHERE endpoint_id = ")
            .bind(id);
        txn.execute_raw(deliveries.statement()).await?;
        let mut endpoint = Sql::new(self.backend());
        endpoint
            .push("DELETE FROM webhook_endpoints WHERE id = ")
            .bind(id);
        let deleted = txn.execute_raw(endpoint.statement()).await?.rows_affected() == 1;
        txn.commit().await?;
        Ok(deleted)
    }

    /// A new secret signs from now on; the old one goes on signing beside it until
    /// `grace` has passed.
    pub async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        sealed_secret: &str,
        grace: std::time::Duration,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let now = self.now();
        let until = now + chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::days(1));
        let mut sql = Sql::new(self.backend());
        sql.push("UPDATE webhook_endpoints SET previous_secret = secret, secret = ")
            .bind(sealed_secret.to_string())
            .push(", previous_secret_expires_at = ")
            .bind(until)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id);
        if self.db.execute_raw(sql.statement()).await?.rows_affected() == 0 {
            return Ok(None);
        }
        self.webhook_endpoint(id).await
    }

    /// Queues `event` for every enabled endpoint that takes it (and was made before it);
    /// again for the same event, nothing. Returns how many deliveries were queued.
    pub async fn fan_out_to_webhooks(
        &self,
        endpoints: &[WebhookEndpointRecord],
        event: &EventRecord,
    ) -> Result<u64> {
        let now = self.now();
        let mut sql = Sql::new(self.backend());
        sql.push(
            "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_sequence, \
             event_type, ordered, status, next_attempt_at, window_started_at, attempts, \
             created_at, updated_at) VALUES ",
        );
        let mut n = 0;
        for endpoint in endpoints.iter().filter(|e| {
            e.enabled
                && e.start_sequence < event.sequence
                && domain::webhook::takes(&e.event_types, &event.event_type)
        }) {
            if n > 0 {
                sql.push(", ");
            }
            n += 1;
            sql.push("(")
                .bind(Uuid::now_v7())
                .push(", ")
                .bind(endpoint.id)
                .push(", ")
                .bind(event.id)
                .push(", ")
                .bind(event.sequence)
                .push(", ")
                .bind(event.event_type.clone())
                .push(", ")
                .bind(!endpoint.parallel)
                .push(", 'QUEUED', ")
                .bind(now)
                .push(", ")
                .bind(now)
                .push(", 0, ")
                .bind(now)
                .push(", ")
                .bind(now)
                .push(")");
        }
        if n == 0 {
            return Ok(0);
        }
        sql.push(" ON CONFLICT (endpoint_id, event_id) DO NOTHING");
        Ok(self.db.execute_raw(sql.statement()).await?.rows_affected())
    }

    /// Takes the next due delivery of an enabled endpoint under a lease. An ordered one
    /// waits until the endpoint's earlier ordered deliveries have ended.
    pub async fn claim_webhook_delivery(
        &self,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<ClaimedDelivery>> {
        // The candidates, each found through an index: the head (lowest open sequence) of
        // every enabled endpoint's ordered deliveries, claimable only when it is not held;
        // the earliest queued unordered deliveries (a parallel endpoint's, or redelivered
        // ones) of every enabled endpoint (on PostgreSQL several each, so that workers
        // skipping each other's locked rows still find one); and the running unordered
        // ones, in case their holder is gone. Probing every queued row for an earlier open
        // one instead cost 23 ms a claim with 4,000 queued (`fast-flights-bench
        // integrations`), and so did letting the planner join the candidates to the table.
        let candidates = if self.backend() == DatabaseBackend::Postgres {
            format!(
                "SELECT q.id FROM (SELECT h.id, h.next_attempt_at, h.event_sequence FROM \
                 webhook_endpoints e CROSS JOIN LATERAL (SELECT h.id, h.next_attempt_at, \
                 h.event_sequence FROM webhook_deliveries h WHERE h.endpoint_id = e.id AND \
                 h.ordered AND h.status IN ('QUEUED', 'RUNNING') ORDER BY h.event_sequence \
                 LIMIT 1) h WHERE e.enabled \
                 UNION ALL SELECT p.id, p.next_attempt_at, p.event_sequence FROM \
                 webhook_endpoints e CROSS JOIN LATERAL (SELECT d.id, d.next_attempt_at, \
                 d.event_sequence FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND NOT \
                 d.ordered AND d.status = 'QUEUED' ORDER BY d.next_attempt_at LIMIT \
                 {PARALLEL_CANDIDATES}) p WHERE e.enabled \
                 UNION ALL SELECT r.id, r.next_attempt_at, r.event_sequence FROM \
                 webhook_deliveries r WHERE NOT r.ordered AND r.status = 'RUNNING') q \
                 ORDER BY q.next_attempt_at, q.event_sequence"
            )
        } else {
            "SELECT (SELECT h.id FROM webhook_deliveries h WHERE h.endpoint_id = e.id AND \
             h.ordered AND h.status IN ('QUEUED', 'RUNNING') ORDER BY h.event_sequence LIMIT 1) \
             FROM webhook_endpoints e WHERE e.enabled \
             UNION ALL SELECT (SELECT d.id FROM webhook_deliveries d WHERE d.endpoint_id = e.id \
             AND NOT d.ordered AND d.status = 'QUEUED' ORDER BY d.next_attempt_at LIMIT 1) FROM \
             webhook_endpoints e WHERE e.enabled \
             UNION ALL SELECT r.id FROM webhook_deliveries r WHERE NOT r.ordered AND r.status = \
             'RUNNING'"
                .to_string()
        };
        let and = " AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = c.endpoint_id \
                   AND e.enabled)"
            .to_string();
        let Some(claim) = self
            .claim(
                LeaseKind::Webhook,
                owner,
                ttl,
                ClaimRules {
                    and,
                    candidates: Some(candidates),
                    due: Some("next_attempt_at"),
                    order_by: "c.next_attempt_at, c.event_sequence".into(),
                    ..ClaimRules::default()
                },
            )
            .await?
        else {
            return Ok(None);
        };
        let id = claim.lease.id;
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = "
        ))
        .bind(id);
        let delivery = self
            .db
            .query_one_raw(sql.statement())
            .await?
            .as_ref()
            .map(delivery_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::Corrupt(format!("webhook delivery {id} vanished")))?;
        let endpoint = self
            .webhook_endpoint(delivery.endpoint_id)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!("the endpoint of delivery {id} vanished"))
            })?;
        let mut sql = Sql::new(self.backend());
        sql.push(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = "))
            .bind(delivery.event_id);
        let event = self
            .db
            .query_one_raw(sql.statement())
            .await?
            .as_ref()
            .map(event_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::Corrupt(format!("the event of delivery {id} vanished")))?;
        Ok(Some(ClaimedDelivery {
            lease: claim.lease,
            delivery,
            endpoint,
            event,
        }))
    }

    /// Records an attempt and what it means, fenced by the delivery's lease, and keeps the
    /// endpoint's failure streak: an endpoint failing for `disable_after` is disabled (and
    /// returned, for the admins to be told). `Ok(None)` inside: nothing was disabled;
    /// `Err(LeaseLost)`-like `false`: the lease was lost and nothing was written.
    pub async fn finish_webhook_attempt(
        &self,
        lease: &Lease,
        worker: &str,
        attempt: &NewAttempt,
        verdict: AttemptVerdict,
        disable_after: std::time::Duration,
    ) -> Result<(bool, Option<DisabledEndpoint>)> {
        let now = self.now();
        let txn = self.db.begin().await?;
        let (status, next, finished) = match verdict {
            AttemptVerdict::Succeeded => (DeliveryStatus::Succeeded, now, Some(now)),
            AttemptVerdict::RetryAt(at) => (DeliveryStatus::Queued, at, None),
            AttemptVerdict::Failed => (DeliveryStatus::Failed, now, Some(now)),
        };
        let mut update = Sql::new(self.backend());
        update
            .push("UPDATE webhook_deliveries SET status = ")
            .bind(status.as_str())
            .push(", next_attempt_at = ")
            .bind(next)
            .push(", finished_at = ")
            .bind(finished)
            .push(", last_status_code = ")
            .bind(attempt.status_code.map(i32::from))
            .push(", last_error = ")
            .bind(attempt.error.clone())
            .push(
                ", lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, \
                 updated_at = ",
            )
            .bind(now)
            .push(" WHERE id = ")
            .bind(lease.id)
            .push(" AND lease_token = ")
            .bind(lease.token)
            .push(" AND status = 'RUNNING' RETURNING endpoint_id");
        let Some(row) = txn.query_one_raw(update.statement()).await? else {
            txn.rollback().await?;
            return Ok((false, None));
        };
        let endpoint_id: Uuid = row.try_get("", "endpoint_id")?;
        let mut insert = Sql::new(self.backend());
        insert
            .push(
                "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code, \
                 latency_ms, response_body, error, worker) VALUES (",
            )
            .bind(Uuid::now_v7())
            .push(", ")
            .bind(lease.id)
            .push(", ")
            .bind(attempt.attempted_at)
            .push(", ")
            .bind(attempt.status_code.map(i32::from))
            .push(", ")
            .bind(i64::try_from(attempt.latency_ms).unwrap_or(i64::MAX))
            .push(", ")
            .bind(
                attempt
                    .response_body
                    .as_ref()
                    .map(|b| b.chars().take(KEPT_BODY_CHARS).collect::<String>()),
            )
            .push(", ")
            .bind(
                attempt
                    .error
                    .as_ref()
                    .map(|e| e.chars().take(1_000).collect::<String>()),
            )
            .push(", ")
            .bind(worker.to_string())
            .push(")");
        txn.execute_raw(insert.statement()).await?;
        let mut streak = Sql::new(self.backend());
        if verdict == AttemptVerdict::Succeeded {
            streak
                .push("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ")
                .bind(endpoint_id)
                .push(" AND failing_since IS NOT NULL");
            txn.execute_raw(streak.statement()).await?;
            txn.commit().await?;
            return Ok((true, None));
        }
        streak
            .push("UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ")
            .bind(attempt.attempted_at)
            .push(") WHERE id = ")
            .bind(endpoint_id)
            .push(" RETURNING url, failing_since, enabled");
        let mut disabled = None;
        if let Some(row) = txn.query_one_raw(streak.statement()).await? {
            let since: Option<DateTime<Utc>> = row.try_get("", "failing_since")?;
            let enabled: bool = row.try_get("", "enabled")?;
            let limit =
                chrono::Duration::from_std(disable_after).unwrap_or(chrono::Duration::days(3));
            if let Some(since) = since
                && enabled
                && now - since >= limit
            {
                let reason = format!(
                    "every delivery failed since {} (more than {} h)",
                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    limit.num_hours()
                );
                let mut off = Sql::new(self.backend());
                off.push("UPDATE webhook_endpoints SET enabled = FALSE, disabled_at = ")
                    .bind(now)
                    .push(", disabled_reason = ")
                    .bind(reason)
                    .push(", updated_at = ")
                    .bind(now)
                    .push(" WHERE id = ")
                    .bind(endpoint_id);
                txn.execute_raw(off.statement()).await?;
                disabled = Some(DisabledEndpoint {
                    endpoint_id,
                    url: row.try_get("", "url")?,
                    failing_since: since,
                });
            }
        }
        txn.commit().await?;
        Ok((true, disabled))
    }

    /// Gives a delivery back (shutdown): claimable again at once, the attempt not counted.
    pub async fn release_webhook_delivery(&self, lease: &Lease) -> Result<()> {
        let mut sql = Sql::new(self.backend());
        sql.push(
            "UPDATE webhook_deliveries SET status = 'QUEUED', attempts = attempts - 1, \
             lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL WHERE id = ",
        )
        .bind(lease.id)
        .push(" AND lease_token = ")
        .bind(lease.token)
        .push(" AND status = 'RUNNING'");
        self.db.execute_raw(sql.statement()).await?;
        Ok(())
    }

    pub async fn webhook_delivery(&self, id: Uuid) -> Result<Option<DeliveryRecord>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = "
        ))
        .bind(id);
        self.db
            .query_one_raw(sql.statement())
            .await?
            .as_ref()
            .map(delivery_from_row)
            .transpose()
    }

    /// An endpoint's deliveries, newest first; only those in `statuses` when given; `after`:
    /// the (event sequence, id) of the last delivery of the previous page.
    pub async fn webhook_deliveries_page(
        &self,
        endpoint_id: Uuid,
        first: u64,
        after: Option<(i64, Uuid)>,
        statuses: Option<&[DeliveryStatus]>,
    ) -> Result<Page<DeliveryRecord>> {
        let mut sql = Sql::new(self.backend());
        sql.push(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = "
        ))
        .bind(endpoint_id);
        if let Some(statuses) = statuses {
            sql.push(" AND status IN (");
            for (i, status) in statuses.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(status.as_str());
            }
            sql.push(")");
        }
        if let Some((sequence, id)) = after {
            sql.push(" AND (event_sequence < ")
                .bind(sequence)
                .push(" OR (event_sequence = ")
                .bind(sequence)
                .push(" AND id < ")
                .bind(id)
                .push("))");
        }
        sql.push(" ORDER BY event_sequence DESC, id DESC LIMIT ")
            .bind(i64::try_from(first + 1).unwrap_or(i64::MAX));
        let rows = self.db.query_all_raw(sql.statement()).await?;
        let mut items = rows
            .iter()
            .map(delivery_from_row)
            .collect::<Result<Vec<_>>>()?;
        let has_next = items.len() as u64 > first;
        items.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Ok(Page { items, has_next })
    }

    /// The attempts of each of `deliveries`, oldest first (at most `limit` each, the latest
    /// ones), in one query.
    pub async fn webhook_attempts(
        &self,
        deliveries: &[Uuid],
        limit: u64,
    ) -> Result<HashMap<Uuid, Vec<AttemptRecord>>> {
        let mut by_delivery: HashMap<Uuid, Vec<AttemptRecord>> = HashMap::new();
        if deliveries.is_empty() {
            return Ok(by_delivery);
        }
        let mut sql = Sql::new(self.backend());
        sql.push(
            "SELECT id, delivery_id, attempted_at, status_code, latency_ms, response_body, \
             error, worker FROM (SELECT a.*, ROW_NUMBER() OVER (PARTITION BY delivery_id \
             ORDER BY attempted_at DESC, id DESC) AS latest FROM webhook_attempts a WHERE \
             delivery_id IN (",
        );
        for (i, id) in deliveries.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(*id);
        }
        sql.push(")) r WHERE latest <= ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .push(" ORDER BY delivery_id, attempted_at, id");
        for row in self.db.query_all_raw(sql.statement()).await? {
            let attempt = attempt_from_row(&row)?;
            by_delivery
                .entry(attempt.delivery_id)
                .or_default()
                .push(attempt);
        }
        Ok(by_delivery)
    }

    /// Sends a delivery again now, with a fresh retry window, outside the endpoint's
    /// order (the events after it have gone on). One being sent right now is left as is.
    pub async fn redeliver_webhook(&self, id: Uuid) -> Result<Option<DeliveryRecord>> {
        let now = self.now();
        let mut sql = Sql::new(self.backend());
        sql.push(
            "UPDATE webhook_deliveries SET status = 'QUEUED', ordered = FALSE, next_attempt_at = ",
        )
        .bind(now)
        .push(", window_started_at = CASE WHEN status = 'QUEUED' THEN window_started_at ELSE ")
        .bind(now)
        .push(" END, finished_at = NULL, updated_at = ")
        .bind(now)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND status <> 'RUNNING'");
        self.db.execute_raw(sql.statement()).await?;
        self.webhook_delivery(id).await
    }

    /// Tells every admin, in their inbox.
    pub async fn notify_admins(
        &self,
        kind: &'static str,
        subject_id: Uuid,
        title: &str,
        message: &str,
    ) -> Result<u64> {
        let sql = "SELECT id FROM users WHERE role = 'ADMIN'";
        let rows = self
            .db
            .query_all_raw(sea_orm::Statement::from_string(self.backend(), sql))
            .await?;
        let now = self.now();
        let mut told = 0;
        for row in rows {
            let account_id: Uuid = row.try_get("", "id")?;
            let kept = self
                .record_notification(&crate::NewNotification {
                    id: Uuid::now_v7(),
                    account_id,
                    kind,
                    subject_id,
                    title: title.to_string(),
                    message: message.to_string(),
                    created_at: now,
                })
                .await?;
            told += u64::from(kept);
        }
        Ok(told)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_endpoint() {
        let key = SecretKey::random().unwrap();
        let secret = key.new_signing_secret().unwrap();
        assert!(secret.starts_with("whsec_"));
        let endpoint = Uuid::now_v7();
        let sealed = key.seal(endpoint, &secret).unwrap();
        assert!(!sealed.contains(&secret[6..]));
        assert_eq!(key.open(endpoint, &sealed).unwrap(), secret);
        assert!(matches!(
            key.open(Uuid::now_v7(), &sealed),
            Err(SecretError::WrongKey(_))
        ));
        let other = SecretKey::random().unwrap();
        assert!(other.open(endpoint, &sealed).is_err());
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
    }
}
