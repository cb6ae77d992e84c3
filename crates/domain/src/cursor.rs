//! Which tasks of a job are done: a low-water mark (every index below it is done) plus
//! the indices above it that finished out of order. Concurrency bounds how far tasks
//! finish out of order, so the set stays small however many tasks a job has.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCursor {
    low_water: u64,
    above: BTreeSet<u64>,
}

impl TaskCursor {
    pub fn new(low_water: u64, above: impl IntoIterator<Item = u64>) -> Self {
        let mut cursor = Self {
            low_water,
            above: above.into_iter().filter(|i| *i >= low_water).collect(),
        };
        cursor.advance();
        cursor
    }

    pub fn low_water(&self) -> u64 {
        self.low_water
    }

    pub fn done_above(&self) -> impl Iterator<Item = u64> + '_ {
        self.above.iter().copied()
    }

    pub fn is_done(&self, index: u64) -> bool {
        index < self.low_water || self.above.contains(&index)
    }

    /// Marks a task done; returns false if it already was.
    pub fn mark_done(&mut self, index: u64) -> bool {
        if self.is_done(index) {
            return false;
        }
        self.above.insert(index);
        self.advance();
        true
    }

    /// Number of tasks known done.
    pub fn done_count(&self) -> u64 {
        self.low_water + self.above.len() as u64
    }

    /// The indices in `0..total` not yet done, in order, without materialising them.
    pub fn pending(&self, total: u64) -> impl Iterator<Item = u64> + '_ {
        (self.low_water..total).filter(move |i| !self.above.contains(i))
    }

    fn advance(&mut self) {
        while self.above.remove(&self.low_water) {
            self.low_water += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_completions_fold_into_the_low_water_mark() {
        let mut c = TaskCursor::default();
        assert!(c.mark_done(2));
        assert!(c.mark_done(1));
        assert_eq!(c.low_water(), 0);
        assert!(c.mark_done(0));
        assert_eq!(c.low_water(), 3);
        assert_eq!(c.done_above().count(), 0);
        assert!(!c.mark_done(1));
        assert_eq!(c.done_count(), 3);
    }

    #[test]
    fn pending_skips_done_indices() {
        let c = TaskCursor::new(2, [4, 5, 7]);
        let pending: Vec<u64> = c.pending(9).collect();
        assert_eq!(pending, vec![2, 3, 6, 8]);
    }
}
