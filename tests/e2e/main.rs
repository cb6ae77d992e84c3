//! The end-to-end suites, one module each, in one test binary: `tests/e2e/support` and the
//! server are compiled and linked once for all of them. `cargo test --test e2e -- fleet`
//! runs one suite; `cargo test --test e2e -- sqlite::` every scenario on SQLite.
//!
//! `tests/pg_restart.rs` stays a test binary of its own: it stops the machine's PostgreSQL
//! cluster, and cargo runs test binaries one at a time, so no other test uses PostgreSQL
//! meanwhile. Inside this binary it would run alongside the others.

mod support;

mod api;
mod auth;
mod cli;
mod crash;
mod fleet;
mod http_spec;
mod imports;
mod kinds;
mod providers;
mod rescue;
mod schema_drift;
mod webapp_api;
mod ws_protocol;
