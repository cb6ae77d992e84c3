//! The GraphQL schema, one file per area, merged here.

mod accounts;
mod airports;
mod analytics;
mod bookings;
mod events;
mod flights;
mod imports;
mod inbox;
mod inventory;
mod jobs;
mod live;
mod notifications;
mod progress;
mod sessions;
mod types;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::{MergedObject, MergedSubscription, Schema};
use providers::ProviderRegistry;
use store::{EventBus, Store};

use crate::auth::Tokens;
use crate::loaders::{AttemptsLoader, JobLoader, OfferLoader, UserLoader};
pub use crate::phase::ApiSchema;
use crate::phase::Checks;

pub use accounts::{GqlRole, User};
pub use types::{GqlJobStatus, Money};
pub use webhooks::WebhookApi;

#[derive(MergedObject, Default)]
pub struct Query(
    accounts::AccountQuery,
    jobs::JobQuery,
    flights::FlightQuery,
    airports::AirportQuery,
    inventory::InventoryQuery,
    imports::ImportQuery,
    bookings::BookingQuery,
    events::EventQuery,
    inbox::InboxQuery,
    analytics::AnalyticsQuery,
    webhooks::WebhookQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::AccountMutation,
    sessions::SessionMutation,
    jobs::JobMutation,
    inventory::InventoryMutation,
    imports::ImportMutation,
    bookings::BookingMutation,
    inbox::InboxMutation,
    webhooks::WebhookMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(
    progress::ProgressSubscription,
    imports::ImportSubscription,
    notifications::NotificationSubscription,
);

/// The types as async-graphql runs them; the API runs two of these (see `crate::phase`).
pub type GraphqlSchema = Schema<Query, Mutation, Subscription>;

/// What resolvers need from the rest of the process.
#[derive(Clone)]
pub struct ApiContext {
    pub store: Store,
    pub events: Arc<dyn EventBus>,
    pub providers: Arc<ProviderRegistry>,
    pub limits: ApiLimits,
    /// Renders `/metrics`; `None` serves no metrics.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Issues and checks the bearer tokens of HTTP requests and websockets.
    pub tokens: Arc<Tokens>,
    /// Limits on `signUp` and `logIn` attempts, shared by every API process.
    pub login_limits: Arc<crate::login_limits::LoginLimits>,
    /// Accounts that have just written, whose reads skip the read replicas for a moment.
    pub recent_writes: Arc<RecentWrites>,
}

/// Who wrote in the last moments (`REPLICA_READ_YOUR_WRITES_MS`): their reads go to the
/// primary, so a search's own list and pages right after `startSearch` are fresh however far
/// behind a replica is. Kept per API process: a caller's next request may reach another
/// process, which is why the window is seconds, not the replica's lag alone.
#[derive(Debug)]
pub struct RecentWrites {
    window: Duration,
    writers: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, std::time::Instant>>,
}

impl Default for RecentWrites {
    fn default() -> Self {
        Self::new(Duration::from_secs(5))
    }
}

impl RecentWrites {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            writers: Default::default(),
        }
    }

    pub fn note(&self, account: uuid::Uuid) {
        let now = std::time::Instant::now();
        let mut writers = self.writers.lock().unwrap_or_else(|e| e.into_inner());
        if writers.len() > 10_000 {
            writers.retain(|_, at| now.duration_since(*at) < self.window);
        }
        writers.insert(account, now);
    }

    fn wrote_lately(&self, account: uuid::Uuid) -> bool {
        let writers = self.writers.lock().unwrap_or_else(|e| e.into_inner());
        writers
            .get(&account)
            .is_some_and(|at| at.elapsed() < self.window)
    }
}

impl ApiContext {
    /// The store for reads that may be a moment old (lists, offers, calendars): the read
    /// replicas, unless the caller has just written.
    pub fn reads(&self, ctx: &async_graphql::Context<'_>) -> std::borrow::Cow<'_, Store> {
        let caller = crate::auth::Caller::of(ctx).0;
        if caller.is_some_and(|v| self.recent_writes.wrote_lately(v.id)) {
            std::borrow::Cow::Owned(self.store.reading_primary())
        } else {
            std::borrow::Cow::Borrowed(&self.store)
        }
    }

    /// The store for reads of what one search found: like [`ApiContext::reads`], and on the
    /// primary for a moment after the search ended, so that a search read as SUCCEEDED
    /// (from the primary) never shows a standby's older, emptier results beside it.
    pub fn reads_of_job(
        &self,
        ctx: &async_graphql::Context<'_>,
        finished_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> std::borrow::Cow<'_, Store> {
        let just_ended = finished_at.is_some_and(|at| {
            (chrono::Utc::now() - at)
                .to_std()
                .map_or(true, |age| age < self.recent_writes.window)
        });
        if just_ended {
            std::borrow::Cow::Owned(self.store.reading_primary())
        } else {
            self.reads(ctx)
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Provider queries one search may expand to.
    pub max_tasks_per_search: u64,
    /// Provider queries one search keeps in flight (the workers' TASK_CONCURRENCY), for
    /// `estimateSearch`.
    pub task_concurrency: usize,
    /// A websocket that sends no `connection_init` within this time is closed (4408).
    pub ws_init_timeout: Duration,
    /// Nested fields one request may have (QUERY_TOO_DEEP beyond).
    pub max_depth: usize,
    /// What one request may cost (QUERY_TOO_COMPLEX beyond; see `query_limits`).
    pub max_complexity: usize,
    /// Times one field may be selected in one selection set, aliases included.
    pub max_aliases: usize,
    /// Largest upload (`importFlights`), in bytes.
    pub max_upload_bytes: usize,
    /// What one account may have queued, and an admin's.
    pub user_searches: store::SearchLimits,
    /// Webhook endpoints: where they may point, and the key that seals their secrets.
    pub webhooks: WebhookApi,
    pub admin_searches: store::SearchLimits,
    /// Proxies whose `X-Forwarded-For` names the client (per-IP limits count that client).
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// What the API shows of itself to whom.
    pub exposure: Exposure,
    /// What websockets may hold and how they are kept alive.
    pub sockets: crate::ws::SocketLimits,
    /// When events of work done in another process cannot reach this one (SQLite with the
    /// worker elsewhere): how often what subscriptions follow is read again, once for all
    /// of their subscribers. `None`: events bring every change.
    pub refresh_followed: Option<Duration>,
}

/// What the API shows of itself. [`Exposure::default`] is development (everything, to
/// everyone); [`Exposure::production`] hides the schema and the metrics from strangers.
#[derive(Debug, Clone)]
pub struct Exposure {
    /// Introspection for callers without a token (signed-in callers always have it).
    pub anonymous_introspection: bool,
    /// "Did you mean …?" in validation errors.
    pub suggestions: bool,
    /// The GraphiQL page on `/graphiql`.
    pub graphiql: bool,
    /// `/metrics` on the API's own port.
    pub metrics: MetricsAccess,
    /// `Strict-Transport-Security` on every answer.
    pub hsts: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone who reaches the port.
    Open,
    /// Only with `Authorization: Bearer <this token>`.
    Bearer(String),
    /// Not served here (404); `METRICS_LISTEN` serves it on an address of its own.
    Off,
}

impl Default for Exposure {
    fn default() -> Self {
        Self {
            anonymous_introspection: true,
            suggestions: true,
            graphiql: true,
            metrics: MetricsAccess::Open,
            hsts: false,
        }
    }
}

impl Exposure {
    /// `FAST_FLIGHTS_ENV=production`: introspection only for signed-in callers, no field
    /// suggestions, GraphiQL off unless asked for, `/metrics` only behind a token, HSTS.
    pub fn production(graphiql: bool, metrics_token: Option<String>) -> Self {
        Self {
            anonymous_introspection: false,
            suggestions: false,
            graphiql,
            metrics: metrics_token.map_or(MetricsAccess::Off, MetricsAccess::Bearer),
            hsts: true,
        }
    }
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            max_tasks_per_search: 5_000_000,
            task_concurrency: 16,
            ws_init_timeout: Duration::from_secs(3),
            max_depth: 16,
            max_complexity: 10_000,
            max_aliases: 50,
            max_upload_bytes: 1 << 30,
            user_searches: store::SearchLimits {
                max_active: 5,
                max_queued_tasks: 20_000_000,
                max_per_minute: 10,
            },
            admin_searches: store::SearchLimits {
                max_active: 50,
                max_queued_tasks: 200_000_000,
                max_per_minute: 100,
            },
            trusted_proxies: crate::client_ip::TrustedProxies::loopback(),
            exposure: Exposure::default(),
            sockets: crate::ws::SocketLimits::default(),
            refresh_followed: None,
            webhooks: WebhookApi::default(),
        }
    }
}

/// Directives one field may carry.
const MAX_DIRECTIVES: usize = 5;

/// The schema of the checking pass: the limits, and nothing to resolve with.
fn checks_builder(
    limits: &ApiLimits,
) -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    let builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_directives(MAX_DIRECTIVES)
    .extension(Checks)
    .extension(crate::query_limits::QueryLimits {
        max_cost: limits.max_complexity,
        max_depth: limits.max_depth,
        max_aliases: limits.max_aliases,
        anonymous_introspection: limits.exposure.anonymous_introspection,
    })
    .extension(crate::mutation_limit::OneMutationPerRequest);
    if limits.exposure.suggestions {
        builder
    } else {
        builder.disable_suggestions()
    }
}

/// The schema with its limits and no data behind it: what it would refuse of a document
/// can be checked without a database (the web app's documents are, in a test).
pub fn limits_schema(limits: &ApiLimits) -> GraphqlSchema {
    checks_builder(limits).finish()
}

pub fn build_schema(ctx: ApiContext) -> ApiSchema {
    // The executing pass: documents come to it parsed and validated by the checking pass,
    // so it only runs the checks that cost nothing.
    let runs = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_directives(MAX_DIRECTIVES)
    .validation_mode(async_graphql::ValidationMode::Fast)
    .data(DataLoader::new(
        OfferLoader(ctx.store.clone()),
        tokio::spawn,
    ))
    .data(DataLoader::new(JobLoader(ctx.store.clone()), tokio::spawn))
    .data(DataLoader::new(UserLoader(ctx.store.clone()), tokio::spawn))
    .data(DataLoader::new(
        AttemptsLoader(ctx.store.clone()),
        tokio::spawn,
    ))
    .data(live::LiveFeed::new(
        ctx.store.clone(),
        ctx.events.clone(),
        ctx.limits.refresh_followed,
    ));
    let checks = checks_builder(&ctx.limits).finish();
    ApiSchema::new(checks, runs.data(ctx).finish())
}

/// The schema's SDL, as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .finish()
    .sdl()
}
