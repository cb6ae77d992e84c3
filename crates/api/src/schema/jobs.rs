use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::Utc;
use domain::{SearchRequest, SearchSpec, TaskPlan, ValidationContext};
use store::JobEvent;
use uuid::Uuid;

use super::ApiContext;
use super::types::{Date, GqlCabin, GqlJobStatus, SearchJob};
use crate::auth::{AdminGuard, Caller};
use crate::cursor;
use crate::error::ApiError;
use crate::loaders::JobLoader;
use async_graphql::dataloader::DataLoader;

#[derive(InputObject)]
pub struct NightsInput {
    pub min: i32,
    pub max: i32,
}

#[derive(InputObject)]
pub struct SearchInput {
    /// IATA airport codes (LHR) or metro codes (LON for every London airport).
    pub origins: Vec<String>,
    pub destinations: Vec<String>,
    /// First departure date searched (inclusive).
    pub departure_from: Date,
    /// Last departure date searched (inclusive).
    pub departure_to: Date,
    /// Nights at the destination for a round trip; null for one-way.
    pub nights: Option<NightsInput>,
    #[graphql(default = 1)]
    pub adults: i32,
    #[graphql(default)]
    pub cabin: GqlCabin,
    /// Most stops per direction; null for any.
    pub max_stops: Option<i32>,
    /// Price cap in minor units of `currency`, for all passengers.
    pub max_price: Option<i64>,
    /// ISO 4217 code.
    #[graphql(default = "EUR")]
    pub currency: String,
    /// Provider names; default: every enabled provider.
    pub providers: Option<Vec<String>>,
    pub label: Option<String>,
}

#[derive(SimpleObject)]
pub struct Provider {
    pub name: String,
    /// `simulated`, `http`, or `in-process` for one compiled into the server.
    pub kind: String,
    /// A disabled provider is listed but no search may use it.
    pub enabled: bool,
    pub supports_booking: bool,
    pub typical_latency_ms: i32,
    /// Where an `http` provider is served. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    pub base_url: Option<String>,
    /// Whether an API key is configured; the key itself is never shown.
    pub has_api_key: bool,
    /// Null when calls are not rate-limited.
    pub rate_limit: Option<RateLimit>,
    /// Each call fails after this long.
    pub timeout_ms: Option<i64>,
    /// Retries of a call that failed with a retryable error.
    pub retries: Option<i32>,
    /// Calls in flight at once in one process.
    pub max_concurrency: Option<i32>,
    pub capabilities: ProviderCapabilities,
    /// Calls made by this process; null for a provider that is not measured. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    pub health: Option<ProviderHealth>,
    /// The provider-answer cache in front of this provider; null when its answers are not
    /// cached (`cache_ttl`, docs/providers.md). ADMIN only.
    #[graphql(guard = "AdminGuard")]
    pub cache: Option<ProviderCache>,
}

/// How a provider's answers are cached, and how the cache has done in this process.
#[derive(SimpleObject)]
pub struct ProviderCache {
    /// `memory` (this process) or `redis` (shared by the fleet).
    pub backend: String,
    /// How long an answer is served from the cache.
    pub ttl_seconds: i64,
    /// Queries answered from the cache in this process since it started.
    pub hits: i64,
    /// Queries the provider was called for.
    pub misses: i64,
    /// Cache reads and writes that failed or were too slow (the queries went on without).
    pub errors: i64,
    /// hits ÷ (hits + misses), 0 to 1; null before the first query.
    pub hit_ratio: Option<f64>,
}

impl From<providers::CacheStats> for ProviderCache {
    fn from(c: providers::CacheStats) -> Self {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Self {
            backend: c.backend.to_string(),
            ttl_seconds: n(c.ttl.as_secs()),
            hits: n(c.hits),
            misses: n(c.misses),
            errors: n(c.errors),
            hit_ratio: c.hit_ratio(),
        }
    }
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq)]
pub enum RateLimitScope {
    /// Each process keeps the rate on its own (SQLite: there is one process).
    Process,
    /// Every worker process on the same PostgreSQL shares the rate.
    Fleet,
}

#[derive(SimpleObject)]
pub struct RateLimit {
    pub per_second: f64,
    pub scope: RateLimitScope,
}

/// What one call of a provider covers; the task plan follows it.
#[derive(SimpleObject)]
pub struct ProviderCapabilities {
    /// Consecutive departure dates one call covers (1: a single date).
    pub date_window_days: i32,
    /// One call covers a round trip's whole nights range.
    pub nights_range: bool,
    /// Destinations one call covers.
    pub max_destinations: i32,
    /// The most offers one call returns, when the provider caps them.
    pub max_results: Option<i32>,
    pub typical_latency_ms: i32,
    pub booking: bool,
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq)]
pub enum BreakerStatus {
    /// Calls go through.
    Closed,
    /// Calls are refused after repeated failures, until the cool-down ends.
    Open,
    /// One probe call is being tried.
    HalfOpen,
}

#[derive(SimpleObject)]
pub struct ProviderHealth {
    pub calls: i64,
    /// Calls that failed after their retries.
    pub failures: i64,
    /// failures ÷ calls, 0 to 1.
    pub error_rate: f64,
    /// Median latency of the latest calls, retries included.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub breaker: BreakerStatus,
}

impl From<providers::ProviderHealth> for ProviderHealth {
    fn from(h: providers::ProviderHealth) -> Self {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1_000.0;
        Self {
            calls: i64::try_from(h.calls).unwrap_or(i64::MAX),
            failures: i64::try_from(h.failures).unwrap_or(i64::MAX),
            error_rate: if h.calls == 0 {
                0.0
            } else {
                h.failures as f64 / h.calls as f64
            },
            p50_ms: h.p50.map(ms),
            p95_ms: h.p95.map(ms),
            breaker: match h.breaker {
                providers::BreakerState::Closed { .. } => BreakerStatus::Closed,
                providers::BreakerState::Open { .. } => BreakerStatus::Open,
                providers::BreakerState::HalfOpen => BreakerStatus::HalfOpen,
            },
        }
    }
}

#[derive(Default)]
pub struct JobQuery;

#[Object]
impl JobQuery {
    /// What a search would cost, checked exactly as `startSearch` checks it, without
    /// starting it: its provider queries, each provider's calls, about how long it runs
    /// and whether the caller's limits let it start now.
    async fn estimate_search(
        &self,
        ctx: &Context<'_>,
        input: SearchInput,
    ) -> Result<SearchEstimate> {
        let api = ctx.data::<ApiContext>()?;
        let viewer = Caller::of(ctx).user()?;
        let spec = parse_search(ctx, input).await?;
        let plan = TaskPlan::new(&spec);
        let total = plan.len();
        let provider_calls: Vec<ProviderCallEstimate> = spec
            .providers
            .iter()
            .map(|name| {
                let calls = plan.provider_len(name);
                let calls_per_second = pace(api, name);
                ProviderCallEstimate {
                    provider: name.clone(),
                    calls: i64::try_from(calls).unwrap_or(i64::MAX),
                    calls_per_second,
                    estimated_seconds: if calls_per_second > 0.0 {
                        calls as f64 / calls_per_second
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        let limits = if viewer.is_admin() {
            api.limits.admin_searches
        } else {
            api.limits.user_searches
        };
        let refused = api
            .store
            .search_refusal(viewer.id, total, limits)
            .await
            .map_err(ApiError::from)?;
        Ok(SearchEstimate {
            total_tasks: i64::try_from(total).unwrap_or(i64::MAX),
            estimated_seconds: provider_calls
                .iter()
                .map(|p| p.estimated_seconds)
                .fold(0.0, f64::max),
            provider_calls,
            within_quota: refused.is_none(),
            quota_message: refused.map(|r| r.to_string()),
        })
    }

    /// A search of the caller's (admins: anyone's). NOT_FOUND when there is no such
    /// search or it is somebody else's.
    async fn job(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<SearchJob>> {
        Ok(Some(visible_job(ctx, id).await?.into()))
    }

    /// Searches, newest first: the caller's own, or with `scope: ALL` (admins only)
    /// everybody's.
    #[graphql(complexity = "crate::query_limits::page(first, child_complexity)")]
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<GqlJobStatus>,
        #[graphql(default)] scope: JobScope,
        #[graphql(desc = "With `scope: ALL`: only the searches of the account with this email.")]
        owner_email: Option<String>,
    ) -> Result<Connection<String, SearchJob>> {
        let api = ctx.data::<ApiContext>()?;
        let caller = Caller::of(ctx);
        let owner = match scope {
            JobScope::Mine => Some(caller.user()?.id),
            JobScope::All => {
                caller.admin()?;
                match owner_email
                    .as_deref()
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                {
                    None => None,
                    Some(raw) => {
                        let email = domain::Email::parse(raw)
                            .map_err(|e| ApiError::bad_input("ownerEmail", e.to_string()))?;
                        match api
                            .store
                            .user_by_email(&email)
                            .await
                            .map_err(ApiError::from)?
                        {
                            Some(user) => Some(user.id),
                            // Nobody has it: nobody's searches.
                            None => return Ok(Connection::new(false, false)),
                        }
                    }
                }
            }
        };
        let first = cursor::page_size(first)?;
        let after: Option<Uuid> = after.map(|raw| cursor::decode("after", &raw)).transpose()?;
        let page = api
            .reads(ctx)
            .jobs_page(first, after, status.map(Into::into), owner)
            .await
            .map_err(ApiError::from)?;
        Ok(cursor::connection(
            after.is_some(),
            page,
            |job| job.id,
            SearchJob::from,
        ))
    }

    /// The flight providers this server knows.
    async fn providers(&self, ctx: &Context<'_>) -> Result<Vec<Provider>> {
        let api = ctx.data::<ApiContext>()?;
        let overrides = api
            .store
            .provider_overrides()
            .await
            .map_err(ApiError::from)?;
        Ok(api
            .providers
            .providers()
            .map(|(p, enabled, info)| {
                provider_view(p, *overrides.get(p.name()).unwrap_or(&enabled), info)
            })
            .collect())
    }
}

fn provider_view(
    p: &std::sync::Arc<dyn providers::FlightProvider>,
    enabled: bool,
    info: &providers::ProviderInfo,
) -> Provider {
    let caps = p.capabilities();
    let int = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    Provider {
        name: p.name().to_string(),
        kind: info.kind.clone(),
        enabled,
        supports_booking: caps.booking,
        typical_latency_ms: int(caps.typical_latency_ms),
        base_url: info.base_url.clone(),
        has_api_key: info.has_api_key,
        rate_limit: info.rate_limit.map(|(per_second, scope)| RateLimit {
            per_second,
            scope: if scope == "fleet" {
                RateLimitScope::Fleet
            } else {
                RateLimitScope::Process
            },
        }),
        timeout_ms: info
            .timeout
            .map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX)),
        retries: info.retries.map(int),
        max_concurrency: info
            .max_concurrency
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
        capabilities: ProviderCapabilities {
            date_window_days: int(caps.date_window_days),
            nights_range: caps.nights_range,
            max_destinations: int(caps.max_destinations),
            max_results: caps.max_results.map(int),
            typical_latency_ms: int(caps.typical_latency_ms),
            booking: caps.booking,
        },
        health: p.health().map(ProviderHealth::from),
        cache: p.cache_stats().map(ProviderCache::from),
    }
}

/// A search as `startSearch` and `estimateSearch` take it, checked. Every bad field is
/// its own error, each with `extensions.field`: all but the last are added to the
/// response here, the last is returned.
async fn parse_search(ctx: &Context<'_>, input: SearchInput) -> Result<SearchSpec> {
    let api = ctx.data::<ApiContext>()?;
    let known = api.providers.names();
    let enabled = enabled_providers(api).await?;
    let request = SearchRequest {
        origins: input.origins,
        destinations: input.destinations,
        departure_from: input.departure_from.0,
        departure_to: input.departure_to.0,
        nights: input.nights.map(|n| (i64::from(n.min), i64::from(n.max))),
        adults: Some(i64::from(input.adults)),
        cabin: Some(input.cabin.into()),
        max_stops: to_i64(input.max_stops),
        max_price: input.max_price,
        currency: Some(input.currency),
        providers: input.providers,
        label: input.label,
    };
    SearchSpec::parse(
        request,
        &ValidationContext {
            today: Utc::now().date_naive(),
            max_tasks: api.limits.max_tasks_per_search,
            known_providers: &known,
            enabled_providers: &enabled,
            call_shapes: &api.providers.call_shapes(),
        },
    )
    .map_err(|errors| {
        let mut errors = errors.0;
        let last = errors.pop().map_or(ApiError::Internal, ApiError::from);
        for earlier in errors {
            ctx.add_error(
                async_graphql::Error::from(ApiError::from(earlier)).into_server_error(ctx.item.pos),
            );
        }
        last.into()
    })
}

/// What a search would cost, before it is started.
#[derive(SimpleObject)]
pub struct SearchEstimate {
    /// Provider queries it expands to (what `totalTasks` of the started search will be).
    pub total_tasks: i64,
    /// Each provider's share: a provider whose one call covers a window of dates costs
    /// one call where a single-date one costs one per date.
    pub provider_calls: Vec<ProviderCallEstimate>,
    /// About how long it runs with nothing else queued: its slowest provider's time.
    pub estimated_seconds: f64,
    /// Whether the caller's limits let it start now.
    pub within_quota: bool,
    /// Why not, in words, when it would be refused.
    pub quota_message: Option<String>,
}

#[derive(SimpleObject)]
pub struct ProviderCallEstimate {
    pub provider: String,
    pub calls: i64,
    /// The pace assumed: the provider's rate limit, or the calls one search keeps in
    /// flight over its recent (or typical) latency, whichever is slower.
    pub calls_per_second: f64,
    pub estimated_seconds: f64,
}

/// How fast one search can call `provider`: its rate limit, or what the calls in flight
/// at once manage at its latency (measured in this process when it has called it, typical
/// otherwise), whichever is lower.
fn pace(api: &ApiContext, provider: &str) -> f64 {
    let Some(p) = api.providers.get(provider) else {
        return 0.0;
    };
    let info = api.providers.info(provider);
    let in_flight = info
        .and_then(|i| i.max_concurrency)
        .unwrap_or(usize::MAX)
        .min(api.limits.task_concurrency)
        .max(1) as f64;
    let latency_ms = p
        .health()
        .and_then(|h| h.p50)
        .map(|d| d.as_secs_f64() * 1_000.0)
        .unwrap_or_else(|| f64::from(p.capabilities().typical_latency_ms))
        .max(1.0);
    let by_latency = in_flight * 1_000.0 / latency_ms;
    match info.and_then(|i| i.rate_limit) {
        Some((per_second, _)) => by_latency.min(per_second),
        None => by_latency,
    }
}

/// The providers a new search may use: the configured ones, as admins switched them.
async fn enabled_providers(api: &ApiContext) -> Result<Vec<String>, ApiError> {
    let overrides = api.store.provider_overrides().await?;
    Ok(api
        .providers
        .providers()
        .filter(|(p, enabled, _)| *overrides.get(p.name()).unwrap_or(enabled))
        .map(|(p, _, _)| p.name().to_string())
        .collect())
}

#[derive(Default)]
pub struct JobMutation;

/// Whose searches `jobs` lists.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum JobScope {
    /// The caller's own.
    #[default]
    Mine,
    /// Everybody's (admins only).
    All,
}

/// The job `id` if the caller may see it. Somebody else's job is NOT_FOUND, exactly like
/// a job that does not exist, so ids do not leak.
pub(crate) async fn visible_job(ctx: &Context<'_>, id: Uuid) -> Result<store::JobRecord, ApiError> {
    let viewer = Caller::of(ctx).user()?;
    // Through the loader: the fields of one request that name the same job (`job` and
    // `flights`, say) read it once, and concurrent requests share a query.
    ctx.data::<DataLoader<JobLoader>>()
        .map_err(|_| ApiError::Internal)?
        .load_one(id)
        .await
        .map_err(|_| ApiError::Internal)?
        .filter(|job| viewer.may_see(job.owner_id))
        .ok_or_else(|| ApiError::NotFound(format!("search job {id}")))
}

fn to_i64(n: Option<i32>) -> Option<i64> {
    n.map(i64::from)
}

#[Object]
impl JobMutation {
    /// Validates a search and queues it. Returns at once; follow `jobProgress`.
    async fn start_search(&self, ctx: &Context<'_>, input: SearchInput) -> Result<SearchJob> {
        let api = ctx.data::<ApiContext>()?;
        let viewer = Caller::of(ctx).user()?;
        let spec = parse_search(ctx, input).await?;
        let total = TaskPlan::new(&spec).len();
        let admin = viewer.is_admin();
        let limits = if admin {
            api.limits.admin_searches
        } else {
            api.limits.user_searches
        };
        let job = api
            .store
            .create_job_within(&spec, total, viewer.id, limits)
            .await
            .map_err(|e| match e {
                store::StoreError::QuotaExceeded(quota) => ApiError::QuotaExceeded { quota, admin },
                other => ApiError::from(other),
            })?;
        tracing::info!(job_id = %job.id, user_id = %viewer.id, total_tasks = total, "search queued");
        api.events.publish(JobEvent::Queued(job.id));
        api.events.publish(JobEvent::Progress(job.progress()));
        Ok(job.into())
    }

    /// Pauses a search. A queued one is PAUSED at once; a running one stops within a
    /// checkpoint interval, keeps its progress and gives its worker up. Resume it with
    /// `resumeSearch`.
    async fn pause_search(&self, ctx: &Context<'_>, id: Uuid) -> Result<SearchJob> {
        let api = ctx.data::<ApiContext>()?;
        visible_job(ctx, id).await?;
        let job = api.store.request_pause(id).await.map_err(ApiError::from)?;
        api.events.publish(JobEvent::Progress(job.progress()));
        Ok(job.into())
    }

    /// Queues a paused search again; it continues from where it stopped.
    async fn resume_search(&self, ctx: &Context<'_>, id: Uuid) -> Result<SearchJob> {
        let api = ctx.data::<ApiContext>()?;
        visible_job(ctx, id).await?;
        let job = api.store.request_resume(id).await.map_err(ApiError::from)?;
        api.events.publish(JobEvent::Queued(job.id));
        api.events.publish(JobEvent::Progress(job.progress()));
        Ok(job.into())
    }

    /// Switches a provider on or off for every process on this database. New searches use
    /// only enabled providers; running searches go on as they started. ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn set_provider_enabled(
        &self,
        ctx: &Context<'_>,
        name: String,
        enabled: bool,
    ) -> Result<Provider> {
        let api = ctx.data::<ApiContext>()?;
        let Some((p, _, info)) = api.providers.providers().find(|(p, _, _)| p.name() == name)
        else {
            return Err(ApiError::NotFound(format!("provider `{name}`")).into());
        };
        api.store
            .set_provider_enabled(&name, enabled)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(provider = %name, enabled, "provider switched");
        Ok(provider_view(p, enabled, info))
    }

    /// Names a search (an empty `label` goes back to its route). Its owner and admins only.
    async fn rename_search(&self, ctx: &Context<'_>, id: Uuid, label: String) -> Result<SearchJob> {
        let api = ctx.data::<ApiContext>()?;
        visible_job(ctx, id).await?;
        let label = label.trim();
        if label.chars().count() > domain::MAX_LABEL_CHARS {
            return Err(ApiError::bad_input(
                "label",
                format!("longer than {} characters", domain::MAX_LABEL_CHARS),
            )
            .into());
        }
        let label = (!label.is_empty()).then(|| label.to_string());
        let job = api
            .store
            .rename_job(id, label)
            .await
            .map_err(ApiError::from)?;
        api.events.publish(JobEvent::Progress(job.progress()));
        Ok(job.into())
    }

    /// Deletes an ended search and every flight it found; nothing of it is kept (bookings
    /// made from it keep their own copy of the flight). A search that has not ended is
    /// CONFLICT: cancel it first. Returns the id.
    async fn delete_search(&self, ctx: &Context<'_>, id: Uuid) -> Result<Uuid> {
        let api = ctx.data::<ApiContext>()?;
        visible_job(ctx, id).await?;
        api.store.delete_job(id).await.map_err(ApiError::from)?;
        Ok(id)
    }

    /// Stops a search. A queued or paused one ends CANCELLED at once; a running one stops within a
    /// checkpoint interval, keeps what it found and ends CANCELLED.
    async fn cancel_search(&self, ctx: &Context<'_>, id: Uuid) -> Result<SearchJob> {
        let api = ctx.data::<ApiContext>()?;
        visible_job(ctx, id).await?;
        let job = api.store.request_cancel(id).await.map_err(ApiError::from)?;
        api.events.publish(JobEvent::Progress(job.progress()));
        Ok(job.into())
    }
}
