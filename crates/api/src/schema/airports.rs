use async_graphql::{Enum, Object, Result, SimpleObject};
use domain::{AirportDb, PlaceKind};

use crate::error::ApiError;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum AirportKind {
    Airport,
    /// A city code such as LON standing for all its airports.
    Metro,
}

/// An airport, or a metro area with the airports it covers.
#[derive(SimpleObject)]
pub struct Airport {
    pub code: String,
    pub kind: AirportKind,
    pub name: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// IANA time zone; null for metro areas.
    pub time_zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The airport codes a search for this code covers.
    pub airports: Vec<String>,
}

#[derive(Default)]
pub struct AirportQuery;

#[Object]
impl AirportQuery {
    /// Airport and city autocomplete: by code, city or name.
    #[graphql(
        complexity = "crate::query_limits::list(crate::query_limits::bound(first), child_complexity)"
    )]
    async fn airports(
        &self,
        query: String,
        #[graphql(default = 10)] first: i32,
    ) -> Result<Vec<Airport>> {
        if !(1..=50).contains(&first) {
            return Err(ApiError::bad_input("first", format!("{first}; use 1 to 50")).into());
        }
        let db = AirportDb::embedded();
        Ok(db
            .search(&query, first as usize)
            .into_iter()
            .map(|p| {
                let airport = (p.kind == PlaceKind::Airport)
                    .then(|| db.get(p.code))
                    .flatten();
                Airport {
                    code: p.code.to_string(),
                    kind: match p.kind {
                        PlaceKind::Airport => AirportKind::Airport,
                        PlaceKind::Metro => AirportKind::Metro,
                    },
                    name: p.name,
                    city: p.city,
                    country: p.country,
                    time_zone: airport.map(|a| a.tz.name().to_string()),
                    latitude: airport.map(|a| a.lat),
                    longitude: airport.map(|a| a.lon),
                    airports: p.airports.iter().map(ToString::to_string).collect(),
                }
            })
            .collect())
    }
}
