//! Webhooks, for admins: endpoints (`createWebhookEndpoint`, `updateWebhookEndpoint`,
//! `deleteWebhookEndpoint`, `rotateWebhookSecret`, `webhookEndpoints`) and their deliveries
//! (`webhookDeliveries`, `redeliverWebhook`). See docs/webhooks.md.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::connection::Connection;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use domain::webhook::{UrlPolicy, WebhookInputError};
use store::{
    AttemptRecord, DeliveryRecord, DeliveryStatus, EndpointChanges, JobEvent, NewEndpoint,
    SecretKey, WebhookEndpointRecord,
};
use uuid::Uuid;

use super::ApiContext;
use crate::auth::{AdminGuard, Caller};
use crate::cursor;
use crate::error::ApiError;
use crate::loaders::AttemptsLoader;

/// What the API needs to manage endpoints.
#[derive(Debug, Clone, Default)]
pub struct WebhookApi {
    pub policy: UrlPolicy,
    /// Seals new secrets; `None`: webhooks are off (production without WEBHOOK_SECRETS_KEY).
    pub key: Option<Arc<SecretKey>>,
    /// For how long a rotated secret still signs beside the new one.
    pub rotation_grace: Duration,
}

impl WebhookApi {
    fn key(&self) -> Result<&SecretKey, ApiError> {
        self.key.as_deref().ok_or_else(|| {
            ApiError::Unavailable(
                "webhooks are off: set WEBHOOK_SECRETS_KEY (32 random bytes in base64, e.g. \
                 `openssl rand -base64 32`), the same on every API and worker process"
                    .into(),
            )
        })
    }
}

fn input_error(field: &str, e: WebhookInputError) -> ApiError {
    ApiError::bad_input(field, e.to_string())
}

/// Where events are delivered.
#[derive(SimpleObject)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    /// The event types it takes (`*`: all).
    pub event_types: Vec<String>,
    pub description: Option<String>,
    /// A disabled endpoint gets no deliveries (see `disabledReason`).
    pub enabled: bool,
    /// Deliveries may go out of sequence order, several at once.
    pub parallel: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Since when every attempt has failed; null after a success.
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// Until when the secret before the last rotation still signs beside the new one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

impl From<WebhookEndpointRecord> for WebhookEndpoint {
    fn from(e: WebhookEndpointRecord) -> Self {
        Self {
            id: e.id,
            url: e.url,
            event_types: e.event_types,
            description: e.description,
            enabled: e.enabled,
            parallel: e.parallel,
            created_at: e.created_at,
            updated_at: e.updated_at,
            failing_since: e.failing_since,
            disabled_at: e.disabled_at,
            disabled_reason: e.disabled_reason,
            previous_secret_expires_at: e.previous_secret_expires_at,
        }
    }
}

/// An endpoint with its signing secret, shown this once.
#[derive(SimpleObject)]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: verify deliveries with it (docs/webhooks.md). It is not shown again.
    pub secret: String,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its first attempt or its next retry.
    Pending,
    /// A worker is sending it.
    Delivering,
    Succeeded,
    /// No more attempts: see `lastError`.
    Failed,
}

impl From<DeliveryStatus> for WebhookDeliveryStatus {
    fn from(s: DeliveryStatus) -> Self {
        match s {
            DeliveryStatus::Queued => Self::Pending,
            DeliveryStatus::Running => Self::Delivering,
            DeliveryStatus::Succeeded => Self::Succeeded,
            DeliveryStatus::Failed => Self::Failed,
        }
    }
}

impl From<WebhookDeliveryStatus> for DeliveryStatus {
    fn from(s: WebhookDeliveryStatus) -> Self {
        match s {
            WebhookDeliveryStatus::Pending => Self::Queued,
            WebhookDeliveryStatus::Delivering => Self::Running,
            WebhookDeliveryStatus::Succeeded => Self::Succeeded,
            WebhookDeliveryStatus::Failed => Self::Failed,
        }
    }
}

/// One event's delivery to one endpoint.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// Sent as `webhook-id` on every attempt: receivers dedupe by it.
    pub event_id: Uuid,
    pub event_sequence: i64,
    pub event_type: String,
    pub status: WebhookDeliveryStatus,
    /// Attempts made so far.
    pub attempt_count: i32,
    /// When the next attempt is due (PENDING).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRecord> for WebhookDelivery {
    fn from(d: DeliveryRecord) -> Self {
        Self {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_sequence: d.event_sequence,
            event_type: d.event_type,
            status: d.status.into(),
            attempt_count: i32::try_from(d.attempts).unwrap_or(i32::MAX),
            next_attempt_at: (d.status == DeliveryStatus::Queued).then_some(d.next_attempt_at),
            last_status_code: d.last_status_code.map(i32::from),
            last_error: d.last_error,
            finished_at: d.finished_at,
            created_at: d.created_at,
        }
    }
}

/// One request made.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    pub id: Uuid,
    pub attempted_at: DateTime<Utc>,
    /// The answer's status; null when none came (timeout, connection refused).
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    /// The start of the answer's body (at most 1 KiB).
    pub response_body: Option<String>,
    /// Why it counts as failed.
    pub error: Option<String>,
}

impl From<AttemptRecord> for WebhookAttempt {
    fn from(a: AttemptRecord) -> Self {
        Self {
            id: a.id,
            attempted_at: a.attempted_at,
            status_code: a.status_code.map(i32::from),
            latency_ms: i64::try_from(a.latency_ms).unwrap_or(i64::MAX),
            response_body: a.response_body,
            error: a.error,
        }
    }
}

#[ComplexObject]
impl WebhookDelivery {
    /// Its attempts, oldest first (the latest 50).
    async fn attempts(&self, ctx: &Context<'_>) -> Result<Vec<WebhookAttempt>> {
        let attempts = ctx
            .data::<DataLoader<AttemptsLoader>>()?
            .load_one(self.id)
            .await?
            .unwrap_or_default();
        Ok(attempts.into_iter().map(WebhookAttempt::from).collect())
    }
}

#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// `https://…` (in production: a public address, unless WEBHOOK_ALLOW_HOSTS lists it).
    pub url: String,
    /// Event types to deliver (docs/events.md), or `["*"]` for all.
    pub event_types: Vec<String>,
    pub description: Option<String>,
    /// Deliver out of order, several at once (default: in sequence order, one at a time).
    #[graphql(default)]
    pub parallel: bool,
}

/// Fields left out are kept.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// An empty one removes it.
    pub description: Option<String>,
    /// `true` turns a disabled endpoint on again (its failures forgotten).
    pub enabled: Option<bool>,
    pub parallel: Option<bool>,
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Every webhook endpoint, oldest first. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let api = ctx.data::<ApiContext>()?;
        let endpoints = api
            .store
            .webhook_endpoints()
            .await
            .map_err(ApiError::from)?;
        Ok(endpoints.into_iter().map(WebhookEndpoint::from).collect())
    }

    /// One endpoint. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> Result<Option<WebhookEndpoint>> {
        let api = ctx.data::<ApiContext>()?;
        let endpoint = api
            .store
            .webhook_endpoint(id)
            .await
            .map_err(ApiError::from)?;
        Ok(endpoint.map(WebhookEndpoint::from))
    }

    /// One delivery, with its attempts. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn webhook_delivery(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> Result<Option<WebhookDelivery>> {
        let api = ctx.data::<ApiContext>()?;
        let delivery = api
            .store
            .webhook_delivery(id)
            .await
            .map_err(ApiError::from)?;
        Ok(delivery.map(WebhookDelivery::from))
    }

    /// An endpoint's deliveries, newest event first; only those in `status` when given.
    /// ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::query_limits::page(first, child_complexity)"
    )]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        endpoint_id: Uuid,
        first: Option<i32>,
        after: Option<String>,
        status: Option<WebhookDeliveryStatus>,
    ) -> Result<Connection<String, WebhookDelivery>> {
        let api = ctx.data::<ApiContext>()?;
        let first = cursor::page_size(first)?;
        let after: Option<(i64, Uuid)> =
            after.map(|raw| cursor::decode("after", &raw)).transpose()?;
        let statuses = status.map(|s| vec![DeliveryStatus::from(s)]);
        let page = api
            .store
            .webhook_deliveries_page(endpoint_id, first, after, statuses.as_deref())
            .await
            .map_err(ApiError::from)?;
        Ok(cursor::connection(
            after.is_some(),
            page,
            |d| (d.event_sequence, d.id),
            WebhookDelivery::from,
        ))
    }
}

#[derive(Default)]
pub struct WebhookMutation;

async fn endpoint_or_not_found(
    api: &ApiContext,
    id: Uuid,
) -> Result<WebhookEndpointRecord, ApiError> {
    api.store
        .webhook_endpoint(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("webhook endpoint {id}")))
}

#[Object]
impl WebhookMutation {
    /// A new endpoint, with its signing secret (shown this once). It gets the events
    /// written from now on. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<WebhookEndpointWithSecret> {
        let api = ctx.data::<ApiContext>()?;
        let admin = Caller::of(ctx).user()?;
        let webhooks = &api.limits.webhooks;
        let url = webhooks
            .policy
            .check(&input.url)
            .map_err(|e| input_error("input.url", e))?;
        let event_types = domain::webhook::parse_event_types(&input.event_types)
            .map_err(|e| input_error("input.eventTypes", e))?;
        let description = domain::webhook::parse_description(input.description.as_deref())
            .map_err(|e| input_error("input.description", e))?;
        let key = webhooks.key()?;
        let id = Uuid::now_v7();
        let secret = key.new_signing_secret().map_err(internal)?;
        let sealed = key.seal(id, &secret).map_err(internal)?;
        let endpoint = api
            .store
            .create_webhook_endpoint(&NewEndpoint {
                id,
                url: url.to_string(),
                event_types,
                description,
                parallel: input.parallel,
                sealed_secret: sealed,
                created_by: Some(admin.id),
            })
            .await
            .map_err(ApiError::from)?;
        tracing::info!(endpoint_id = %id, url = %endpoint.url, "webhook endpoint created");
        Ok(WebhookEndpointWithSecret {
            endpoint: endpoint.into(),
            secret,
        })
    }

    /// Changes an endpoint; fields left out are kept. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpoint> {
        let api = ctx.data::<ApiContext>()?;
        let webhooks = &api.limits.webhooks;
        let url = input
            .url
            .as_deref()
            .map(|u| webhooks.policy.check(u))
            .transpose()
            .map_err(|e| input_error("input.url", e))?;
        let event_types = input
            .event_types
            .as_deref()
            .map(domain::webhook::parse_event_types)
            .transpose()
            .map_err(|e| input_error("input.eventTypes", e))?;
        let description = match input.description.as_deref() {
            Some(d) => Some(
                domain::webhook::parse_description(Some(d))
                    .map_err(|e| input_error("input.description", e))?,
            ),
            None => None,
        };
        let changes = EndpointChanges {
            url: url.map(|u| u.to_string()),
            event_types,
            description,
            enabled: input.enabled,
            parallel: input.parallel,
        };
        let endpoint = api
            .store
            .update_webhook_endpoint(id, &changes)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("webhook endpoint {id}")))?;
        if input.enabled == Some(true) {
            api.events.publish(JobEvent::Webhook(id));
        }
        Ok(endpoint.into())
    }

    /// Deletes an endpoint with its deliveries and their log. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: Uuid) -> Result<bool> {
        let api = ctx.data::<ApiContext>()?;
        let deleted = api
            .store
            .delete_webhook_endpoint(id)
            .await
            .map_err(ApiError::from)?;
        if !deleted {
            return Err(ApiError::NotFound(format!("webhook endpoint {id}")).into());
        }
        tracing::info!(endpoint_id = %id, "webhook endpoint deleted");
        Ok(true)
    }

    /// A new signing secret (shown this once); the old one goes on signing beside it for
    /// 24 hours, so receivers can switch without missing a delivery. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> Result<WebhookEndpointWithSecret> {
        let api = ctx.data::<ApiContext>()?;
        let webhooks = &api.limits.webhooks;
        let key = webhooks.key()?;
        endpoint_or_not_found(api, id).await?;
        let secret = key.new_signing_secret().map_err(internal)?;
        let sealed = key.seal(id, &secret).map_err(internal)?;
        let endpoint = api
            .store
            .rotate_webhook_secret(id, &sealed, webhooks.rotation_grace)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("webhook endpoint {id}")))?;
        tracing::info!(endpoint_id = %id, "webhook secret rotated");
        Ok(WebhookEndpointWithSecret {
            endpoint: endpoint.into(),
            secret,
        })
    }

    /// Sends a delivery again now, whatever became of it (one being sent is left as is).
    /// It keeps its `webhook-id`. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        delivery_id: Uuid,
    ) -> Result<WebhookDelivery> {
        let api = ctx.data::<ApiContext>()?;
        let delivery = api
            .store
            .redeliver_webhook(delivery_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("webhook delivery {delivery_id}")))?;
        api.events.publish(JobEvent::Webhook(delivery.endpoint_id));
        Ok(delivery.into())
    }
}

fn internal(e: store::SecretError) -> ApiError {
    tracing::error!(error = %e, "webhook secret");
    ApiError::Internal
}
