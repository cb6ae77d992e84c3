//! The schema history of fast-flights. A migration that has landed is never edited;
//! change the schema with a new one.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_search_jobs;
mod m20261125_000002_flight_offers;
mod m20261125_000003_pause_and_claims;
mod m20261126_000004_offer_details_and_quotas;
mod m20261126_000005_users;
mod m20261126_000006_inventory_and_imports;
mod m20261126_000007_provider_settings;
mod m20261201_000008_workers;
mod m20261201_000009_sessions;
mod m20261201_000010_login_limits;
mod m20261202_000011_bookings_and_events;
mod m20261202_000012_seats_booked;
mod m20261202_000013_webhooks;
mod m20261202_000014_webhook_open_deliveries;
mod m20261202_000015_webhook_parallel_queue;
mod m20261203_000016_rejection_content;
mod m20261203_000017_offer_local_minutes;
mod m20261206_000018_answer_cache;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_search_jobs::Migration),
            Box::new(m20261125_000002_flight_offers::Migration),
            Box::new(m20261125_000003_pause_and_claims::Migration),
            Box::new(m20261126_000004_offer_details_and_quotas::Migration),
            Box::new(m20261126_000005_users::Migration),
            Box::new(m20261126_000006_inventory_and_imports::Migration),
            Box::new(m20261126_000007_provider_settings::Migration),
            Box::new(m20261201_000008_workers::Migration),
            Box::new(m20261201_000009_sessions::Migration),
            Box::new(m20261201_000010_login_limits::Migration),
            Box::new(m20261202_000011_bookings_and_events::Migration),
            Box::new(m20261202_000012_seats_booked::Migration),
            Box::new(m20261202_000013_webhooks::Migration),
            Box::new(m20261202_000014_webhook_open_deliveries::Migration),
            Box::new(m20261202_000015_webhook_parallel_queue::Migration),
            Box::new(m20261203_000016_rejection_content::Migration),
            Box::new(m20261203_000017_offer_local_minutes::Migration),
            Box::new(m20261206_000018_answer_cache::Migration),
        ]
    }
}
