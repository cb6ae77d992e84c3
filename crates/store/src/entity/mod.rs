//! SeaORM entities: the database's shape, kept apart from domain and API types.

pub mod booking_call;
pub mod flight_offer;
pub mod import;
pub mod import_chunk;
pub mod import_rejection;
pub mod inventory_flight;
pub mod provider_setting;
pub mod search_job;
pub mod session;
pub mod user;
