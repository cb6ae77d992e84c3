//! The end-to-end suites, one module each, in one test binary: `tests/e2e/support` and the
//! server are compiled and linked once for all of them. `cargo test --test e2e -- fleet`
//! runs one suite; `cargo test --test e2e -- sqlite::` every scenario on SQLite.

mod support;

mod answer_cache;
mod api;
mod auth;
mod bookings;
mod cli;
mod cors;
mod crash;
mod fleet;
mod http_spec;
mod imports;
mod kinds;
mod login_limits;
mod nats;
mod pg_restart;
mod production;
mod providers;
mod query_limits;
mod quotas;
mod reads;
mod replicas;
mod rescue;
mod results;
mod schema_drift;
mod sessions;
mod sockets;
mod webapp_api;
mod webhooks;
mod ws_protocol;
