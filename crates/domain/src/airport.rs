//! Airports and metropolitan areas, embedded in the binary from `data/`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

const AIRPORTS_CSV: &str = include_str!("../../../data/airports.csv");
const METROS_CSV: &str = include_str!("../../../data/metro_areas.csv");

/// A three-letter IATA code, upper case. It may name an airport or a metro area;
/// [`AirportDb`] tells which.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AirportCode([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IATA code (three letters A-Z)")]
pub struct InvalidCode(pub String);

impl AirportCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidCode> {
        let trimmed = raw.trim();
        let bytes = trimmed.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(InvalidCode(crate::inventory::shown(raw)));
        }
        let mut code = [0u8; 3];
        for (slot, b) in code.iter_mut().zip(bytes) {
            *slot = b.to_ascii_uppercase();
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        // The bytes are ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl FromStr for AirportCode {
    type Err = InvalidCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for AirportCode {
    type Error = InvalidCode;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AirportCode> for String {
    fn from(code: AirportCode) -> Self {
        code.as_str().to_string()
    }
}

impl fmt::Display for AirportCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AirportCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AirportCode({})", self.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Airport {
    pub code: AirportCode,
    pub icao: String,
    pub name: String,
    pub city: String,
    pub subdivision: String,
    pub country: String,
    pub lat: f64,
    pub lon: f64,
    pub tz: Tz,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    Airport,
    Metro,
}

/// An autocomplete hit: an airport or a metro area with the airports it covers.
#[derive(Debug, Clone)]
pub struct Place {
    pub kind: PlaceKind,
    pub code: AirportCode,
    pub name: String,
    pub city: String,
    pub country: String,
    pub airports: Vec<AirportCode>,
}

pub struct AirportDb {
    airports: HashMap<AirportCode, Airport>,
    /// Sorted by code so autocomplete output is stable.
    ordered: Vec<AirportCode>,
    metros: HashMap<AirportCode, Metro>,
}

struct Metro {
    name: String,
    country: String,
    airports: Vec<AirportCode>,
}

static EMBEDDED: LazyLock<AirportDb> = LazyLock::new(AirportDb::load_embedded);

impl AirportDb {
    /// The airport data compiled into the binary.
    pub fn embedded() -> &'static AirportDb {
        &EMBEDDED
    }

    fn load_embedded() -> AirportDb {
        let mut airports = HashMap::new();
        let mut reader = csv::Reader::from_reader(AIRPORTS_CSV.as_bytes());
        for record in reader.records().flatten() {
            let field = |i: usize| record.get(i).unwrap_or("").to_string();
            let (Ok(code), Ok(lat), Ok(lon), Ok(tz)) = (
                AirportCode::parse(&field(0)),
                field(6).parse::<f64>(),
                field(7).parse::<f64>(),
                field(8).parse::<Tz>(),
            ) else {
                continue;
            };
            airports.insert(
                code,
                Airport {
                    code,
                    icao: field(1),
                    name: field(2),
                    city: field(3),
                    subdivision: field(4),
                    country: field(5),
                    lat,
                    lon,
                    tz,
                },
            );
        }
        let mut metros: HashMap<AirportCode, Metro> = HashMap::new();
        let mut reader = csv::Reader::from_reader(METROS_CSV.as_bytes());
        for record in reader.records().flatten() {
            let (Ok(city), Ok(airport)) = (
                AirportCode::parse(record.get(1).unwrap_or("")),
                AirportCode::parse(record.get(3).unwrap_or("")),
            ) else {
                continue;
            };
            if !airports.contains_key(&airport) {
                continue;
            }
            let metro = metros.entry(city).or_insert_with(|| Metro {
                name: record.get(2).unwrap_or("").to_string(),
                country: record.get(0).unwrap_or("").to_string(),
                airports: Vec::new(),
            });
            metro.airports.push(airport);
        }
        let mut ordered: Vec<AirportCode> = airports.keys().copied().collect();
        ordered.sort();
        AirportDb {
            airports,
            ordered,
            metros,
        }
    }

    pub fn len(&self) -> usize {
        self.airports.len()
    }

    pub fn is_empty(&self) -> bool {
        self.airports.is_empty()
    }

    pub fn get(&self, code: AirportCode) -> Option<&Airport> {
        self.airports.get(&code)
    }

    /// Minutes after local midnight at `code` when it is `at` there (0–1439).
    pub fn local_minute(
        &self,
        code: AirportCode,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<u16> {
        use chrono::Timelike;
        let local = at.with_timezone(&self.get(code)?.tz);
        u16::try_from(local.hour() * 60 + local.minute()).ok()
    }

    /// The airports a code stands for: an airport code stands for itself (even where a
    /// metro area shares it, as DXB does), a metro code such as LON for its airports.
    pub fn resolve(&self, code: AirportCode) -> Option<Vec<AirportCode>> {
        if self.airports.contains_key(&code) {
            return Some(vec![code]);
        }
        self.metros.get(&code).map(|m| m.airports.clone())
    }

    /// Great-circle distance in kilometres (haversine on a spherical Earth).
    pub fn distance_km(&self, a: AirportCode, b: AirportCode) -> Option<f64> {
        let (a, b) = (self.get(a)?, self.get(b)?);
        Some(haversine_km(a.lat, a.lon, b.lat, b.lon))
    }

    /// Autocomplete: exact code first, then metro areas, then airports whose code, city
    /// or name starts with the query, then those that merely contain it.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Place> {
        let q = query.trim().to_lowercase();
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(u8, Place)> = Vec::new();
        let mut metro_codes: Vec<&AirportCode> = self.metros.keys().collect();
        metro_codes.sort();
        for code in metro_codes {
            let metro = &self.metros[code];
            let code_lc = code.as_str().to_lowercase();
            let name_lc = metro.name.to_lowercase();
            let score = if code_lc == q {
                0
            } else if name_lc.starts_with(&q) {
                1
            } else {
                continue;
            };
            scored.push((
                score,
                Place {
                    kind: PlaceKind::Metro,
                    code: *code,
                    name: format!("{} (all airports)", metro.name),
                    city: metro.name.clone(),
                    country: metro.country.clone(),
                    airports: metro.airports.clone(),
                },
            ));
        }
        for code in &self.ordered {
            let a = &self.airports[code];
            let code_lc = code.as_str().to_lowercase();
            let city_lc = a.city.to_lowercase();
            let name_lc = a.name.to_lowercase();
            let score = if code_lc == q {
                0
            } else if city_lc.starts_with(&q) {
                2
            } else if name_lc.starts_with(&q) {
                3
            } else if q.len() >= 3 && (city_lc.contains(&q) || name_lc.contains(&q)) {
                4
            } else {
                continue;
            };
            scored.push((
                score,
                Place {
                    kind: PlaceKind::Airport,
                    code: *code,
                    name: a.name.clone(),
                    city: a.city.clone(),
                    country: a.country.clone(),
                    airports: vec![*code],
                },
            ));
        }
        scored.sort_by_key(|(score, _)| *score);
        scored.into_iter().take(limit).map(|(_, p)| p).collect()
    }
}

pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> AirportCode {
        AirportCode::parse(s).expect("valid code")
    }

    #[test]
    fn codes_are_three_letters_upper_cased() {
        assert_eq!(code(" lhr ").as_str(), "LHR");
        assert!(AirportCode::parse("LH").is_err());
        assert!(AirportCode::parse("LH1").is_err());
        assert!(AirportCode::parse("LHRX").is_err());
    }

    #[test]
    fn embedded_data_is_complete() {
        let db = AirportDb::embedded();
        assert!(db.len() > 7000, "only {} airports loaded", db.len());
        let lhr = db.get(code("LHR")).expect("LHR");
        assert_eq!(lhr.tz, chrono_tz::Europe::London);
    }

    #[test]
    fn local_minutes_follow_summer_time() {
        let db = AirportDb::embedded();
        let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().expect("time");
        // 06:30 UTC is 06:30 in London in January and 07:30 in July; 23:00 in Bangkok.
        assert_eq!(
            db.local_minute(code("LHR"), at("2027-01-10T06:30:00Z")),
            Some(390)
        );
        assert_eq!(
            db.local_minute(code("LHR"), at("2027-07-10T06:30:00Z")),
            Some(450)
        );
        assert_eq!(
            db.local_minute(code("BKK"), at("2027-07-10T16:00:00Z")),
            Some(1380)
        );
        assert_eq!(
            db.local_minute(code("QQQ"), at("2027-07-10T16:00:00Z")),
            None
        );
    }

    #[test]
    fn metro_codes_expand_and_airport_codes_do_not() {
        let db = AirportDb::embedded();
        let london = db.resolve(code("LON")).expect("LON is a metro");
        assert!(london.contains(&code("LHR")) && london.contains(&code("LGW")));
        assert_eq!(db.resolve(code("DXB")), Some(vec![code("DXB")]));
        assert_eq!(db.resolve(code("QQQ")), None);
    }

    #[test]
    fn distance_london_new_york_is_about_5500_km() {
        let d = AirportDb::embedded()
            .distance_km(code("LHR"), code("JFK"))
            .expect("both known");
        assert!((5500.0..5600.0).contains(&d), "{d}");
    }

    #[test]
    fn autocomplete_puts_exact_code_first() {
        let hits = AirportDb::embedded().search("lon", 10);
        assert_eq!(hits[0].code.as_str(), "LON");
        assert_eq!(hits[0].kind, PlaceKind::Metro);
        let hits = AirportDb::embedded().search("heathrow", 5);
        assert!(hits.iter().any(|p| p.code.as_str() == "LHR"));
    }
}
