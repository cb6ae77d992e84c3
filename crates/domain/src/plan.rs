//! A search expanded into provider queries by mixed-radix numbering: task `i` is decoded
//! from `i` on demand, so a plan of millions of tasks costs a few bytes.

use chrono::{Days, NaiveDate};

use crate::{AirportCode, FlightQuery, SearchSpec};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPlan {
    routes: Vec<(AirportCode, AirportCode)>,
    first_date: NaiveDate,
    date_count: u64,
    /// `None` for one-way searches.
    nights_min: Option<u64>,
    nights_count: u64,
    providers: Vec<String>,
}

/// One provider query of a search.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Task {
    pub index: u64,
    pub provider: String,
    pub origin: AirportCode,
    pub destination: AirportCode,
    pub departure_date: NaiveDate,
    pub return_date: Option<NaiveDate>,
}

impl Task {
    pub fn query(&self, spec: &SearchSpec) -> FlightQuery {
        FlightQuery {
            origin: self.origin,
            destination: self.destination,
            departure_date: self.departure_date,
            return_date: self.return_date,
            adults: spec.adults,
            cabin: spec.cabin,
            max_stops: spec.max_stops,
            max_price: spec.max_price,
            currency: spec.currency,
        }
    }
}

impl TaskPlan {
    pub fn new(spec: &SearchSpec) -> Self {
        let routes = spec
            .origins
            .iter()
            .flat_map(|o| spec.destinations.iter().map(move |d| (*o, *d)))
            .filter(|(o, d)| o != d)
            .collect();
        let date_count = (spec.departure_to - spec.departure_from).num_days().max(0) as u64 + 1;
        let (nights_min, nights_count) = match spec.nights {
            None => (None, 1),
            Some(n) => (
                Some(u64::from(n.min)),
                u64::from(n.max.saturating_sub(n.min)) + 1,
            ),
        };
        Self {
            routes,
            first_date: spec.departure_from,
            date_count,
            nights_min,
            nights_count,
            providers: spec.providers.clone(),
        }
    }

    /// The number of tasks, or `None` if it does not fit in a `u64`.
    pub fn checked_len(&self) -> Option<u64> {
        (self.routes.len() as u64)
            .checked_mul(self.date_count)?
            .checked_mul(self.nights_count)?
            .checked_mul(self.providers.len() as u64)
    }

    pub fn len(&self) -> u64 {
        self.checked_len().unwrap_or(u64::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decodes task `index`; `None` past the end.
    pub fn task(&self, index: u64) -> Option<Task> {
        if index >= self.len() {
            return None;
        }
        let providers = self.providers.len() as u64;
        let mut rest = index;
        let provider = (rest % providers) as usize;
        rest /= providers;
        let night = rest % self.nights_count;
        rest /= self.nights_count;
        let date = rest % self.date_count;
        rest /= self.date_count;
        let (origin, destination) = *self.routes.get(rest as usize)?;
        let departure_date = self.first_date.checked_add_days(Days::new(date))?;
        let return_date = match self.nights_min {
            None => None,
            Some(min) => Some(departure_date.checked_add_days(Days::new(min + night))?),
        };
        Some(Task {
            index,
            provider: self.providers[provider].clone(),
            origin,
            destination,
            departure_date,
            return_date,
        })
    }

    /// Encodes a task back to its index; `None` if the task is not part of this plan.
    pub fn index_of(&self, task: &Task) -> Option<u64> {
        let route = self
            .routes
            .iter()
            .position(|r| *r == (task.origin, task.destination))? as u64;
        let date = (task.departure_date - self.first_date).num_days();
        if date < 0 || date as u64 >= self.date_count {
            return None;
        }
        let night = match (self.nights_min, task.return_date) {
            (None, None) => 0,
            (Some(min), Some(ret)) => {
                let nights = (ret - task.departure_date).num_days();
                let n = u64::try_from(nights).ok()?.checked_sub(min)?;
                if n >= self.nights_count {
                    return None;
                }
                n
            }
            _ => return None,
        };
        let provider = self.providers.iter().position(|p| *p == task.provider)? as u64;
        let index = ((route * self.date_count + date as u64) * self.nights_count + night)
            * self.providers.len() as u64
            + provider;
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cabin, Currency, NightsRange};
    use proptest::prelude::*;

    const CODES: &[&str] = &["LHR", "LGW", "STN", "BKK", "SIN", "HND", "JFK", "CDG"];

    fn code(s: &str) -> AirportCode {
        AirportCode::parse(s).expect("code")
    }

    fn spec(
        origins: Vec<AirportCode>,
        destinations: Vec<AirportCode>,
        days: u64,
        nights: Option<(u16, u16)>,
        providers: usize,
    ) -> SearchSpec {
        let from: NaiveDate = "2027-03-01".parse().expect("date");
        SearchSpec {
            requested_origins: origins.clone(),
            requested_destinations: destinations.clone(),
            origins,
            destinations,
            departure_from: from,
            departure_to: from + Days::new(days),
            nights: nights.map(|(min, extra)| NightsRange {
                min,
                max: min + extra,
            }),
            adults: 1,
            cabin: Cabin::Economy,
            max_stops: None,
            max_price: None,
            currency: Currency::EUR,
            providers: (0..providers).map(|i| format!("p{i}")).collect(),
            label: None,
        }
    }

    fn codes() -> impl Strategy<Value = Vec<AirportCode>> {
        proptest::sample::subsequence(CODES.to_vec(), 1..=4)
            .prop_map(|v| v.into_iter().map(code).collect())
    }

    proptest! {
        #[test]
        fn index_and_task_are_a_bijection(
            origins in codes(),
            destinations in codes(),
            days in 0u64..40,
            nights in proptest::option::of((0u16..20, 0u16..10)),
            providers in 1usize..4,
            probe in any::<u64>(),
        ) {
            let spec = spec(origins, destinations, days, nights, providers);
            let plan = TaskPlan::new(&spec);
            let len = plan.len();
            prop_assert!(plan.task(len).is_none());
            if len == 0 {
                return Ok(());
            }
            // Every index decodes to a task that encodes back to it, and no two indices
            // decode to the same task (checked exhaustively when small, by sampling when large).
            let mut seen = std::collections::HashSet::new();
            let indices: Vec<u64> = if len <= 5_000 {
                (0..len).collect()
            } else {
                (0..2_000u64).map(|k| (probe.wrapping_add(k.wrapping_mul(7919))) % len).collect()
            };
            for i in indices {
                let task = plan.task(i).expect("in range");
                prop_assert_eq!(plan.index_of(&task), Some(i));
                prop_assert_ne!(task.origin, task.destination);
                prop_assert!(task.departure_date >= spec.departure_from);
                prop_assert!(task.departure_date <= spec.departure_to);
                if let (Some(n), Some(ret)) = (spec.nights, task.return_date) {
                    let stay = (ret - task.departure_date).num_days();
                    prop_assert!(stay >= i64::from(n.min) && stay <= i64::from(n.max));
                }
                seen.insert((task.provider, task.origin, task.destination, task.departure_date, task.return_date));
            }
            if len <= 5_000 {
                prop_assert_eq!(seen.len() as u64, len);
            }
        }
    }

    #[test]
    fn counts_multiply_and_skip_same_airport_routes() {
        let plan = TaskPlan::new(&spec(
            vec![code("LHR"), code("BKK")],
            vec![code("BKK"), code("SIN")],
            9,
            Some((7, 7)),
            2,
        ));
        // routes: LHR-BKK, LHR-SIN, BKK-SIN (BKK-BKK skipped) = 3; 10 dates; 8 nights; 2 providers
        assert_eq!(plan.len(), 3 * 10 * 8 * 2);
    }

    #[test]
    fn a_five_million_task_plan_decodes_its_last_task() {
        let plan = TaskPlan::new(&spec(
            vec![code("LHR"), code("LGW"), code("STN")],
            vec![code("BKK"), code("SIN"), code("HND"), code("JFK")],
            180,
            Some((7, 14)),
            1,
        ));
        let last = plan.task(plan.len() - 1).expect("last");
        assert_eq!(last.return_date, Some(last.departure_date + Days::new(21)));
    }
}
