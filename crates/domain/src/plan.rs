//! A search expanded into provider queries by mixed-radix numbering: task `i` is decoded
//! from `i` on demand, so a plan of millions of tasks costs a few bytes.
//!
//! Each provider gets its own sub-plan shaped by what one of its calls can cover
//! ([`CallShape`]): a provider that takes a 30-day departure window and a whole nights
//! range costs one call where a single-date provider costs hundreds. The sub-plans are
//! interleaved round-robin while they last, so a search over several providers keeps them
//! all busy; when every provider has the same shape, task `i` is provider `i % n`.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{AirportCode, FlightQuery, NightsRange, SearchSpec};

/// How much of a search one call of a provider covers. Fixed when the search is created and
/// stored with it, so a resumed search decodes the same tasks whatever the configuration says
/// by then.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallShape {
    pub provider: String,
    /// Consecutive departure dates one call covers (1: a single date).
    pub date_window_days: u32,
    /// Whether one call covers a round trip's whole nights range.
    pub nights_range: bool,
    /// Destinations one call covers.
    pub max_destinations: u32,
}

impl CallShape {
    /// A provider that takes one date, one stay and one destination per call.
    pub fn single(provider: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            date_window_days: 1,
            nights_range: false,
            max_destinations: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SubPlan {
    provider: String,
    /// Single-destination shapes: every (origin, destination) pair with different airports.
    pairs: Vec<(AirportCode, AirportCode)>,
    /// Multi-destination shapes: destination chunks per origin.
    chunks_per_origin: u64,
    max_destinations: u64,
    window: u64,
    date_chunks: u64,
    nights_chunks: u64,
    len: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPlan {
    origins: Vec<AirportCode>,
    destinations: Vec<AirportCode>,
    first_date: NaiveDate,
    date_count: u64,
    nights: Option<NightsRange>,
    subs: Vec<SubPlan>,
    /// Distinct sub-plan lengths, ascending: the ends of the interleaving phases.
    thresholds: Vec<u64>,
    len: Option<u64>,
}

/// One provider query of a search.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Task {
    pub index: u64,
    pub provider: String,
    pub origin: AirportCode,
    /// Empty when the chunk held only the origin itself: nothing to ask.
    pub destinations: Vec<AirportCode>,
    pub departure_from: NaiveDate,
    pub departure_to: NaiveDate,
    pub nights: Option<NightsRange>,
}

impl Task {
    pub fn query(&self, spec: &SearchSpec) -> FlightQuery {
        FlightQuery {
            origin: self.origin,
            destinations: self.destinations.clone(),
            departure_from: self.departure_from,
            departure_to: self.departure_to,
            nights: self.nights,
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
        let date_count = (spec.departure_to - spec.departure_from).num_days().max(0) as u64 + 1;
        let nights_count = spec
            .nights
            .map_or(1, |n| u64::from(n.max.saturating_sub(n.min)) + 1);
        let subs: Vec<SubPlan> = spec
            .providers
            .iter()
            .map(|name| {
                let shape = spec
                    .call_shapes
                    .iter()
                    .find(|s| s.provider == *name)
                    .cloned()
                    .unwrap_or_else(|| CallShape::single(name.clone()));
                let max_destinations = u64::from(shape.max_destinations.max(1));
                let pairs = if max_destinations == 1 {
                    spec.origins
                        .iter()
                        .flat_map(|o| spec.destinations.iter().map(move |d| (*o, *d)))
                        .filter(|(o, d)| o != d)
                        .collect()
                } else {
                    Vec::new()
                };
                let chunks_per_origin = (spec.destinations.len() as u64).div_ceil(max_destinations);
                let routes = if max_destinations == 1 {
                    pairs.len() as u64
                } else {
                    spec.origins.len() as u64 * chunks_per_origin
                };
                let window = u64::from(shape.date_window_days.max(1));
                let date_chunks = date_count.div_ceil(window);
                let nights_chunks = if shape.nights_range { 1 } else { nights_count };
                let len = routes
                    .checked_mul(date_chunks)
                    .and_then(|n| n.checked_mul(nights_chunks))
                    .unwrap_or(u64::MAX);
                SubPlan {
                    provider: name.clone(),
                    pairs,
                    chunks_per_origin,
                    max_destinations,
                    window,
                    date_chunks,
                    nights_chunks,
                    len,
                }
            })
            .collect();
        let len = subs.iter().try_fold(0u64, |sum, s| {
            (s.len != u64::MAX)
                .then_some(s.len)
                .and_then(|l| sum.checked_add(l))
        });
        let mut thresholds: Vec<u64> = subs.iter().map(|s| s.len).filter(|l| *l > 0).collect();
        thresholds.sort_unstable();
        thresholds.dedup();
        Self {
            origins: spec.origins.clone(),
            destinations: spec.destinations.clone(),
            first_date: spec.departure_from,
            date_count,
            nights: spec.nights,
            subs,
            thresholds,
            len,
        }
    }

    /// The number of tasks, or `None` if it does not fit in a `u64`.
    pub fn checked_len(&self) -> Option<u64> {
        self.len
    }

    pub fn len(&self) -> u64 {
        self.len.unwrap_or(u64::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of tasks of one provider.
    pub fn provider_len(&self, provider: &str) -> u64 {
        self.subs
            .iter()
            .filter(|s| s.provider == provider)
            .map(|s| s.len)
            .sum()
    }

    /// Which sub-plan and which of its tasks index `index` is.
    fn locate(&self, index: u64) -> Option<(usize, u64)> {
        let mut base = 0u64;
        let mut prev = 0u64;
        for &t in &self.thresholds {
            let active: Vec<usize> = (0..self.subs.len())
                .filter(|&p| self.subs[p].len > prev)
                .collect();
            let k = active.len() as u64;
            let span = (t - prev).checked_mul(k)?;
            if index - base < span {
                let local = index - base;
                return Some((active[(local % k) as usize], prev + local / k));
            }
            base = base.checked_add(span)?;
            prev = t;
        }
        None
    }

    /// Decodes task `index`; `None` past the end.
    pub fn task(&self, index: u64) -> Option<Task> {
        if index >= self.len() {
            return None;
        }
        let (p, sub_index) = self.locate(index)?;
        let sub = &self.subs[p];
        let mut rest = sub_index;
        let night = rest % sub.nights_chunks;
        rest /= sub.nights_chunks;
        let date_chunk = rest % sub.date_chunks;
        rest /= sub.date_chunks;
        let (origin, destinations) = if sub.max_destinations == 1 {
            let (o, d) = *sub.pairs.get(rest as usize)?;
            (o, vec![d])
        } else {
            let origin = *self.origins.get((rest / sub.chunks_per_origin) as usize)?;
            let chunk = (rest % sub.chunks_per_origin) as usize;
            let size = sub.max_destinations as usize;
            let destinations = self
                .destinations
                .iter()
                .filter(|d| **d != origin)
                .skip(chunk * size)
                .take(size)
                .copied()
                .collect();
            (origin, destinations)
        };
        let first = date_chunk * sub.window;
        let last = (first + sub.window).min(self.date_count) - 1;
        let nights = self.nights.map(|n| {
            if sub.nights_chunks == 1 {
                n
            } else {
                let stay = n.min + night as u16;
                NightsRange {
                    min: stay,
                    max: stay,
                }
            }
        });
        Some(Task {
            index,
            provider: sub.provider.clone(),
            origin,
            destinations,
            departure_from: self.first_date.checked_add_days(Days::new(first))?,
            departure_to: self.first_date.checked_add_days(Days::new(last))?,
            nights,
        })
    }

    /// Encodes a task back to its index; `None` if the task is not part of this plan.
    pub fn index_of(&self, task: &Task) -> Option<u64> {
        let p = self.subs.iter().position(|s| s.provider == task.provider)?;
        let sub = &self.subs[p];
        let route = if sub.max_destinations == 1 {
            let [d] = task.destinations.as_slice() else {
                return None;
            };
            sub.pairs.iter().position(|r| *r == (task.origin, *d))? as u64
        } else {
            let origin = self.origins.iter().position(|o| *o == task.origin)? as u64;
            let rest: Vec<AirportCode> = self
                .destinations
                .iter()
                .filter(|d| **d != task.origin)
                .copied()
                .collect();
            let chunk = match task.destinations.first() {
                Some(first) => rest.iter().position(|d| d == first)? as u64 / sub.max_destinations,
                None => sub.chunks_per_origin.checked_sub(1)?,
            };
            if chunk >= sub.chunks_per_origin {
                return None;
            }
            origin * sub.chunks_per_origin + chunk
        };
        let offset = (task.departure_from - self.first_date).num_days();
        if offset < 0 || !(offset as u64).is_multiple_of(sub.window) {
            return None;
        }
        let date_chunk = offset as u64 / sub.window;
        if date_chunk >= sub.date_chunks {
            return None;
        }
        let night = match (self.nights, task.nights) {
            (None, None) => 0,
            (Some(_), Some(_)) if sub.nights_chunks == 1 => 0,
            (Some(n), Some(t)) => u64::from(t.min.checked_sub(n.min)?),
            _ => return None,
        };
        if night >= sub.nights_chunks {
            return None;
        }
        let sub_index = (route * sub.date_chunks + date_chunk) * sub.nights_chunks + night;
        let mut base = 0u64;
        let mut prev = 0u64;
        for &t in &self.thresholds {
            let active: Vec<usize> = (0..self.subs.len())
                .filter(|&q| self.subs[q].len > prev)
                .collect();
            let k = active.len() as u64;
            if sub_index < t {
                let pos = active.iter().position(|&q| q == p)? as u64;
                return Some(base + (sub_index - prev) * k + pos);
            }
            base += (t - prev) * k;
            prev = t;
        }
        None
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
            call_shapes: Vec::new(),
        }
    }

    fn single_provider(
        origins: Vec<AirportCode>,
        destinations: Vec<AirportCode>,
        days: u64,
        nights: Option<(u16, u16)>,
    ) -> SearchSpec {
        spec(origins, destinations, days, nights, 1)
    }

    fn codes() -> impl Strategy<Value = Vec<AirportCode>> {
        proptest::sample::subsequence(CODES.to_vec(), 1..=4)
            .prop_map(|v| v.into_iter().map(code).collect())
    }

    fn shapes() -> impl Strategy<Value = Vec<(u32, bool, u32)>> {
        proptest::collection::vec((1u32..10, any::<bool>(), 1u32..4), 1..4)
    }

    fn with_shapes(mut spec: SearchSpec, shapes: &[(u32, bool, u32)]) -> SearchSpec {
        spec.call_shapes = spec
            .providers
            .iter()
            .zip(shapes)
            .map(|(p, (w, n, d))| CallShape {
                provider: p.clone(),
                date_window_days: *w,
                nights_range: *n,
                max_destinations: *d,
            })
            .collect();
        spec
    }

    proptest! {
        #[test]
        fn index_and_task_are_a_bijection(
            origins in codes(),
            destinations in codes(),
            days in 0u64..40,
            nights in proptest::option::of((0u16..20, 0u16..10)),
            shapes in shapes(),
            probe in any::<u64>(),
        ) {
            let spec_ = with_shapes(spec(origins.clone(), destinations.clone(), days, nights, shapes.len()), &shapes);
            let spec = spec_;
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
                prop_assert!(!task.destinations.contains(&task.origin));
                prop_assert!(task.departure_from >= spec.departure_from);
                prop_assert!(task.departure_to <= spec.departure_to);
                prop_assert!(task.departure_from <= task.departure_to);
                if let (Some(n), Some(t)) = (spec.nights, task.nights) {
                    prop_assert!(t.min >= n.min && t.max <= n.max);
                }
                seen.insert(task.clone());
            }
            if len <= 5_000 {
                prop_assert_eq!(seen.len() as u64, len);
                // Together the tasks cover every single query of the search exactly once.
                let mut singles = std::collections::HashSet::new();
                let mut count = 0u64;
                for task in &seen {
                    for q in task.query(&spec).expand() {
                        count += 1;
                        singles.insert((task.provider.clone(), q));
                    }
                }
                prop_assert_eq!(singles.len() as u64, count);
                let per_provider = TaskPlan::new(&single_provider(origins, destinations, days, nights)).len();
                prop_assert_eq!(count, per_provider * shapes.len() as u64);
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
        // Same shapes: providers alternate, as plans made before shapes existed did.
        assert_eq!(plan.task(0).expect("task").provider, "p0");
        assert_eq!(plan.task(1).expect("task").provider, "p1");
        assert_eq!(
            plan.task(2).expect("task").departure_from,
            plan.task(0).expect("task").departure_from
        );
    }

    #[test]
    fn a_window_provider_costs_one_call_where_a_daily_one_costs_thirty() {
        let base = spec(vec![code("LHR")], vec![code("BKK")], 29, Some((7, 7)), 2);
        let plan = TaskPlan::new(&with_shapes(base, &[(1, false, 1), (30, true, 5)]));
        assert_eq!(plan.provider_len("p0"), 30 * 8);
        assert_eq!(plan.provider_len("p1"), 1);
        assert_eq!(plan.len(), 30 * 8 + 1);
        // Interleaved while both last: the window provider's one call comes second.
        let second = plan.task(1).expect("task");
        assert_eq!(second.provider, "p1");
        assert_eq!(second.nights, Some(NightsRange { min: 7, max: 14 }));
        assert_eq!((second.departure_to - second.departure_from).num_days(), 29);
        assert!(plan.task(2).is_some_and(|t| t.provider == "p0"));
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
        assert_eq!(last.nights, Some(NightsRange { min: 21, max: 21 }));
    }
}
