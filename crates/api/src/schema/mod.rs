//! The GraphQL schema, one file per area, merged here.

mod accounts;
mod airports;
mod flights;
mod imports;
mod inventory;
mod jobs;
mod notifications;
mod progress;
mod types;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::{MergedObject, MergedSubscription, Schema};
use providers::ProviderRegistry;
use store::{EventBus, Store};

use crate::auth::Tokens;
use crate::loaders::{JobLoader, OfferLoader, UserLoader};
use crate::phase::PhaseTracker;

pub use accounts::{GqlRole, User};
pub use types::{GqlJobStatus, Money};

#[derive(MergedObject, Default)]
pub struct Query(
    accounts::AccountQuery,
    jobs::JobQuery,
    flights::FlightQuery,
    airports::AirportQuery,
    inventory::InventoryQuery,
    imports::ImportQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::AccountMutation,
    jobs::JobMutation,
    inventory::InventoryMutation,
    imports::ImportMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(
    progress::ProgressSubscription,
    imports::ImportSubscription,
    notifications::NotificationSubscription,
);

pub type ApiSchema = Schema<Query, Mutation, Subscription>;

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
}

#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Provider queries one search may expand to.
    pub max_tasks_per_search: u64,
    /// A websocket that sends no `connection_init` within this time is closed (4408).
    pub ws_init_timeout: Duration,
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Largest upload (`importFlights`), in bytes.
    pub max_upload_bytes: usize,
    /// What one account may have queued, and an admin's.
    pub user_searches: store::SearchLimits,
    pub admin_searches: store::SearchLimits,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            max_tasks_per_search: 5_000_000,
            ws_init_timeout: Duration::from_secs(3),
            max_depth: 16,
            max_complexity: 5_000,
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
        }
    }
}

pub fn build_schema(ctx: ApiContext) -> ApiSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(ctx.limits.max_depth)
    .limit_complexity(ctx.limits.max_complexity)
    .extension(PhaseTracker)
    .extension(crate::mutation_limit::OneMutationPerRequest)
    .data(DataLoader::new(
        OfferLoader(ctx.store.clone()),
        tokio::spawn,
    ))
    .data(DataLoader::new(JobLoader(ctx.store.clone()), tokio::spawn))
    .data(DataLoader::new(UserLoader(ctx.store.clone()), tokio::spawn))
    .data(ctx)
    .finish()
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
