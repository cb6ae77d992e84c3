//! The GraphQL schema, one file per area, merged here.

mod airports;
mod flights;
mod jobs;
mod progress;
mod types;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::{MergedObject, MergedSubscription, Schema};
use providers::ProviderRegistry;
use store::{EventBus, Store};

use crate::loaders::{JobLoader, OfferLoader};
use crate::phase::PhaseTracker;

pub use types::{GqlJobStatus, Money};

#[derive(MergedObject, Default)]
pub struct Query(jobs::JobQuery, flights::FlightQuery, airports::AirportQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(jobs::JobMutation);

#[derive(MergedSubscription, Default)]
pub struct Subscription(progress::ProgressSubscription);

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
    /// Decides whether a websocket's `connection_init` is accepted (4403 otherwise).
    pub connection_init: Arc<dyn ConnectionInit>,
}

/// The gate of a graphql-transport-ws connection: sees the `connection_init` payload and
/// accepts or refuses it. Authentication plugs in here.
pub trait ConnectionInit: Send + Sync {
    fn accept(&self, payload: Option<&serde_json::Value>) -> bool;
}

/// Accepts every connection: the API has no accounts yet.
pub struct AcceptAll;

impl ConnectionInit for AcceptAll {
    fn accept(&self, _: Option<&serde_json::Value>) -> bool {
        true
    }
}

#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Provider queries one search may expand to.
    pub max_tasks_per_search: u64,
    /// A websocket that sends no `connection_init` within this time is closed (4408).
    pub ws_init_timeout: Duration,
    pub max_depth: usize,
    pub max_complexity: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            max_tasks_per_search: 5_000_000,
            ws_init_timeout: Duration::from_secs(3),
            max_depth: 16,
            max_complexity: 5_000,
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
    .data(DataLoader::new(
        OfferLoader(ctx.store.clone()),
        tokio::spawn,
    ))
    .data(DataLoader::new(JobLoader(ctx.store.clone()), tokio::spawn))
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
