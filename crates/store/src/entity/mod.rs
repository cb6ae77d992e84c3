//! SeaORM entities: the database's shape, kept apart from domain and API types.

pub mod flight_offer;
pub mod search_job;
