//! Webhooks: the `webhooks` consumer queues one delivery per event and endpoint that takes
//! it; the webhook executor sends them, signed as the Standard Webhooks specification says,
//! and tries failed ones again with exponential back-off (docs/webhooks.md).
//!
//! A delivery is lease-held work like any other: a worker killed mid-request leaves it to
//! be claimed again, so each event reaches an endpoint at least once, and receivers dedupe
//! by `webhook-id` (the event's id, the same on every attempt).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::webhook::{RetryPolicy, UrlPolicy};
use store::{
    AttemptVerdict, ClaimedDelivery, EventBus, EventRecord, JobEvent, LeaseKind, NewAttempt,
    SecretKey, Store,
};
use tokio::sync::Notify;

use crate::WorkerError;
use crate::consumers::{ConsumerError, EventConsumer};
use crate::runner::{Executor, LeaseKeeper, Outcome, Run, Stop};

/// How webhooks are sent, from the one `Config`.
#[derive(Clone)]
pub struct WebhookSettings {
    pub policy: UrlPolicy,
    /// Opens the endpoints' sealed secrets; `None`: webhooks are off (production without
    /// WEBHOOK_SECRETS_KEY).
    pub key: Option<Arc<SecretKey>>,
    /// One request, connection included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// An endpoint whose every delivery failed for this long is disabled.
    pub disable_after: Duration,
    /// Deliveries in flight at once in this process.
    pub concurrency: usize,
    /// Wakes this process's webhook executor when deliveries were queued here.
    pub wake: Arc<Notify>,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("policy", &self.policy)
            .field("key", &self.key.as_ref().map(|_| "…"))
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("disable_after", &self.disable_after)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            policy: UrlPolicy::default(),
            key: None,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            disable_after: Duration::from_secs(3 * 86_400),
            concurrency: 16,
            wake: Arc::new(Notify::new()),
        }
    }
}

/// Most of a response body read; the rest is not waited for.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The outbox consumer that queues deliveries.
pub struct WebhookFanout {
    pub events: Arc<dyn EventBus>,
    pub wake: Arc<Notify>,
    /// Whether this process also sends them (then no cross-process wake is needed).
    pub sends_here: bool,
}

#[async_trait]
impl EventConsumer for WebhookFanout {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    async fn handle(&self, store: &Store, event: &EventRecord) -> Result<(), ConsumerError> {
        // Read for every event: an endpoint made a moment ago must get the events after it.
        let endpoints = store.webhook_endpoints().await?;
        if endpoints.is_empty() {
            return Ok(());
        }
        let queued = store.fan_out_to_webhooks(&endpoints, event).await?;
        if queued > 0 {
            metrics::counter!("fast_flights_webhook_deliveries_queued_total").increment(queued);
            self.wake.notify_one();
            if !self.sends_here {
                self.events.publish(JobEvent::Webhook(event.id));
            }
        }
        Ok(())
    }
}

/// Resolves endpoint host names at delivery time and refuses addresses the policy forbids,
/// so a DNS change cannot point an endpoint inside.
struct GuardedResolver {
    policy: UrlPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.allows_address(&host, addr.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused = Some(e);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why: Box<dyn std::error::Error + Send + Sync> = match refused {
                    Some(e) => Box::new(e),
                    None => format!("{host} has no address").into(),
                };
                return Err(why);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client of deliveries: no redirects followed, no proxy from the environment,
/// the timeout, and the guarded resolver.
pub fn http_client(settings: &WebhookSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("fast-flights-webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver {
            policy: settings.policy.clone(),
        }))
        .build()
}

/// The body of every delivery: `{ type, timestamp, data }`, `data` being the event's
/// payload as written (docs/events.md).
pub fn delivery_body(event: &EventRecord) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let timestamp = event
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    format!(
        "{{\"type\":{},\"timestamp\":{},\"data\":{}}}",
        quote(&event.event_type),
        quote(&timestamp),
        event.payload
    )
}

/// `webhook-signature`: one `v1,<base64>` per secret that signs, space-separated.
pub fn signature(
    secrets: &[String],
    msg_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, String> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let signer = standardwebhooks::Webhook::new(secret).map_err(|e| e.to_string())?;
        signatures.push(
            signer
                .sign(msg_id, timestamp, body.as_bytes())
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(signatures.join(" "))
}

/// Sends webhook deliveries: as many at once as the settings say.
pub struct WebhookExecutor {
    store: Store,
    settings: WebhookSettings,
    client: reqwest::Client,
    lease_ttl: Duration,
    worker_id: String,
}

impl WebhookExecutor {
    pub fn new(
        store: Store,
        settings: WebhookSettings,
        lease_ttl: Duration,
        worker_id: &str,
    ) -> Result<Self, WorkerError> {
        let client = http_client(&settings)
            .map_err(|e| WorkerError::Setup(format!("the webhook HTTP client: {e}")))?;
        Ok(Self {
            store,
            settings,
            client,
            lease_ttl,
            worker_id: worker_id.to_string(),
        })
    }
}

#[async_trait]
impl Executor for WebhookExecutor {
    fn kind(&self) -> LeaseKind {
        LeaseKind::Webhook
    }

    fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1)
    }

    fn woken_by(&self, event: &JobEvent) -> bool {
        matches!(event, JobEvent::Webhook(_))
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.settings.wake))
    }

    async fn claim(
        &self,
        owner: &str,
        _only: Option<uuid::Uuid>,
    ) -> Result<Option<Box<dyn Run>>, WorkerError> {
        if self.settings.key.is_none() {
            return Ok(None);
        }
        let claimed = self
            .store
            .claim_webhook_delivery(owner, self.lease_ttl)
            .await?;
        Ok(claimed.map(|claimed| {
            Box::new(WebhookRun {
                store: self.store.clone(),
                settings: self.settings.clone(),
                client: self.client.clone(),
                lease_ttl: self.lease_ttl,
                worker_id: self.worker_id.clone(),
                claimed,
            }) as Box<dyn Run>
        }))
    }
}

struct WebhookRun {
    store: Store,
    settings: WebhookSettings,
    client: reqwest::Client,
    lease_ttl: Duration,
    worker_id: String,
    claimed: ClaimedDelivery,
}

/// What one request came to.
struct Answer {
    attempt: NewAttempt,
    /// Whether trying again may help (and when the receiver asked for it).
    retry: Retry,
}

enum Retry {
    No,
    Yes(Option<Duration>),
    Done,
}

impl WebhookRun {
    fn refused(&self, started: chrono::DateTime<chrono::Utc>, why: String) -> Answer {
        Answer {
            attempt: NewAttempt {
                attempted_at: started,
                status_code: None,
                latency_ms: 0,
                response_body: None,
                error: Some(why),
            },
            retry: Retry::No,
        }
    }

    /// Makes the request and reads what came back.
    async fn attempt(&self) -> Answer {
        let started = self.store.now();
        let endpoint = &self.claimed.endpoint;
        let url = match reqwest::Url::parse(&endpoint.url) {
            Ok(url) => url,
            Err(e) => return self.refused(started, format!("the endpoint's URL is invalid: {e}")),
        };
        // The resolver guards names; an address literal never reaches it.
        if let Some(host) = url.host_str() {
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = literal.parse::<IpAddr>()
                && let Err(e) = self.settings.policy.allows_address(literal, ip)
            {
                return self.refused(started, e.to_string());
            }
        }
        if self.settings.policy.production && url.scheme() != "https" {
            return self.refused(
                started,
                "webhook URLs must use https:// in production".into(),
            );
        }
        let Some(key) = &self.settings.key else {
            return self.refused(started, "webhooks are off: no WEBHOOK_SECRETS_KEY".into());
        };
        let mut secrets = Vec::new();
        for sealed in endpoint.signing_secrets(started) {
            match key.open(endpoint.id, sealed) {
                Ok(secret) => secrets.push(secret),
                Err(e) => return self.refused(started, e.to_string()),
            }
        }
        let event = &self.claimed.event;
        let body = delivery_body(event);
        let msg_id = event.id.to_string();
        let timestamp = started.timestamp();
        let signed = match signature(&secrets, &msg_id, timestamp, &body) {
            Ok(signed) => signed,
            Err(e) => return self.refused(started, format!("cannot sign: {e}")),
        };
        let clock = Instant::now();
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(standardwebhooks::HEADER_WEBHOOK_ID, &msg_id)
            .header(
                standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
                timestamp.to_string(),
            )
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signed)
            .body(body)
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => {
                let why = if e.is_timeout() {
                    format!(
                        "no answer within {} ms (timed out)",
                        self.settings.timeout.as_millis()
                    )
                } else if e.is_connect() {
                    format!("cannot connect: {}", error_chain(&e))
                } else {
                    format!("the request failed: {}", error_chain(&e))
                };
                return Answer {
                    attempt: NewAttempt {
                        attempted_at: started,
                        status_code: None,
                        latency_ms: elapsed_ms(clock),
                        response_body: None,
                        error: Some(why),
                    },
                    retry: Retry::Yes(None),
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| domain::webhook::parse_retry_after(v, self.store.now()));
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        let mut read_error = None;
        while body.len() < MAX_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_BODY_BYTES - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
        let latency_ms = elapsed_ms(clock);
        let text = String::from_utf8_lossy(&body).into_owned();
        let response_body = (!text.is_empty()).then_some(text);
        let code = status.as_u16();
        let (error, retry) = if status.is_success() {
            (None, Retry::Done)
        } else if status.is_redirection() {
            (
                Some(format!(
                    "answered {code} (a redirect{}); redirects are not followed: give the \
                     endpoint its final URL",
                    location.map(|l| format!(" to {l}")).unwrap_or_default()
                )),
                Retry::No,
            )
        } else if code == 429 || status.is_server_error() {
            (Some(format!("answered {code}")), Retry::Yes(retry_after))
        } else {
            (
                Some(format!(
                    "answered {code}: not retried (only 5xx and 429 are)"
                )),
                Retry::No,
            )
        };
        let error = match (error, read_error) {
            (Some(e), _) => Some(e),
            (None, Some(e)) if !status.is_success() => Some(e.to_string()),
            (None, _) => None,
        };
        Answer {
            attempt: NewAttempt {
                attempted_at: started,
                status_code: Some(code),
                latency_ms,
                response_body,
                error,
            },
            retry,
        }
    }

    fn verdict(&self, retry: &Retry) -> AttemptVerdict {
        match retry {
            Retry::Done => AttemptVerdict::Succeeded,
            Retry::No => AttemptVerdict::Failed,
            Retry::Yes(asked) => {
                let delivery = &self.claimed.delivery;
                let pause =
                    self.settings
                        .retry
                        .pause(delivery.attempts.max(1), fastrand::f64(), *asked);
                let now = self.store.now();
                let next = now + chrono::Duration::from_std(pause).unwrap_or_default();
                let window = chrono::Duration::from_std(self.settings.retry.give_up_after)
                    .unwrap_or(chrono::Duration::days(1));
                if next > delivery.retry_window_start() + window {
                    AttemptVerdict::Failed
                } else {
                    AttemptVerdict::RetryAt(next)
                }
            }
        }
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[async_trait]
impl Run for WebhookRun {
    #[tracing::instrument(skip_all, fields(
        delivery_id = %self.claimed.delivery.id,
        endpoint_id = %self.claimed.endpoint.id,
        event_id = %self.claimed.event.id,
    ))]
    async fn execute(mut self: Box<Self>, stop: Stop) -> Outcome {
        // The lease is renewed while the request is out, however long the timeout.
        let (keeper, stop) = LeaseKeeper::start(
            self.store.clone(),
            self.claimed.lease.clone(),
            self.lease_ttl,
            &stop,
        );
        let answer = tokio::select! {
            answer = self.attempt() => answer,
            _ = stop.lease_lost.cancelled() => return Outcome::LeaseLost,
            _ = stop.shutdown.cancelled() => {
                if let Err(e) = self.store.release_webhook_delivery(&self.claimed.lease).await {
                    return Outcome::Aborted(e.to_string());
                }
                return Outcome::Released;
            }
        };
        keeper.stop().await;
        let verdict = self.verdict(&answer.retry);
        let result = match verdict {
            AttemptVerdict::Succeeded => "succeeded",
            AttemptVerdict::RetryAt(_) => "retry",
            AttemptVerdict::Failed => "failed",
        };
        metrics::counter!("fast_flights_webhook_attempts_total", "result" => result).increment(1);
        if let Some(error) = &answer.attempt.error {
            tracing::info!(
                attempt = self.claimed.delivery.attempts,
                latency_ms = answer.attempt.latency_ms,
                status = answer.attempt.status_code,
                result,
                error = %error,
                "webhook attempt failed"
            );
        }
        let finished = self
            .store
            .finish_webhook_attempt(
                &self.claimed.lease,
                &self.worker_id,
                &answer.attempt,
                verdict,
                self.settings.disable_after,
            )
            .await;
        let outcome = match finished {
            Ok((false, _)) => return Outcome::LeaseLost,
            Err(e) => return Outcome::Aborted(e.to_string()),
            Ok((true, disabled)) => {
                if let Some(disabled) = disabled {
                    tracing::warn!(
                        endpoint_id = %disabled.endpoint_id,
                        url = %disabled.url,
                        "a webhook endpoint failed every delivery for too long and was disabled"
                    );
                    let told = self
                        .store
                        .notify_admins(
                            "WEBHOOK_DISABLED",
                            disabled.endpoint_id,
                            "A webhook endpoint was disabled",
                            &format!(
                                "Every delivery to {} has failed since {}; it gets no more \
                                 deliveries until it is enabled again.",
                                disabled.url,
                                disabled.failing_since.format("%-d %b %Y %H:%M UTC")
                            ),
                        )
                        .await;
                    if let Err(e) = told {
                        tracing::warn!(error = %e, "cannot tell the admins about a disabled endpoint");
                    }
                }
                match verdict {
                    AttemptVerdict::Succeeded => Outcome::Finished("SUCCEEDED"),
                    AttemptVerdict::Failed => Outcome::Finished("FAILED"),
                    AttemptVerdict::RetryAt(at) => {
                        // Wake this process's executor when the retry is due.
                        let wake = Arc::clone(&self.settings.wake);
                        let pause = (at - self.store.now()).to_std().unwrap_or_default();
                        // Later ones are found by polling.
                        if pause <= Duration::from_secs(60) {
                            tokio::spawn(async move {
                                tokio::time::sleep(pause).await;
                                wake.notify_one();
                            });
                        }
                        Outcome::Released
                    }
                }
            }
        };
        // The endpoint's next ordered delivery may be claimable now.
        self.settings.wake.notify_one();
        outcome
    }
}
