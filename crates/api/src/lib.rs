//! The fast-flights GraphQL API: the schema (in [`schema`]) and its axum transport —
//! GraphQL over HTTP on `/graphql`, graphql-transport-ws on the same path, GraphiQL on
//! `/graphiql`, and `/healthz` and `/readyz` for load balancers.

pub mod auth;
pub mod client_ip;
mod cors;
mod cursor;
pub mod error;
mod headers;
mod http;
mod loaders;
pub mod login_limits;
mod mutation_limit;
mod phase;
pub mod query_limits;
pub mod schema;
pub mod sessions;
mod socket_slots;
mod ws;

use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

pub use auth::{Caller, Tokens, Viewer};
pub use cors::cors_layer;
pub use schema::{
    ApiContext, ApiLimits, ApiSchema, Exposure, GraphqlSchema, MetricsAccess, RecentWrites,
    WebhookApi, build_schema, limits_schema, sdl,
};
pub use sessions::{SessionPolicy, SignedIn};

pub use http::MAX_BODY_BYTES;
pub use ws::SocketLimits;

#[derive(Clone)]
pub struct AppState {
    pub schema: ApiSchema,
    pub ctx: ApiContext,
    /// The websockets open in this process, counted against their caps.
    sockets: std::sync::Arc<socket_slots::SocketSlots>,
    /// Subscriptions alike across this process's sockets, run once (see `ws::shared`).
    shared: std::sync::Arc<ws::SharedSubscriptions>,
    /// The sessions of open sockets, each rechecked once for all of its sockets.
    checks: std::sync::Arc<ws::AccountChecks>,
}

pub fn router(ctx: ApiContext) -> Router {
    let state = AppState {
        schema: build_schema(ctx.clone()),
        ctx,
        sockets: Default::default(),
        shared: Default::default(),
        checks: Default::default(),
    };
    let exposure = state.ctx.limits.exposure.clone();
    let router = Router::new().route("/graphql", get(http::graphql_get).post(http::graphql_post));
    let router = if exposure.graphiql {
        router
            .route("/graphiql", get(http::graphiql))
            .route("/graphiql/assets/{file}", get(http::graphiql_asset))
    } else {
        router
    };
    let router = router
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/healthz", get(http::healthz))
        .route("/readyz", get(http::readyz))
        .route("/metrics", get(http::metrics))
        // Spans name the path only: a query string may hold variables.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                tracing::debug_span!("request", method = %request.method(), path = request.uri().path())
            }),
        )
        .with_state(state);
    headers::security_headers(router, exposure.hsts)
}
