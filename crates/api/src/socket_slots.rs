//! Open websockets per client address and per account, in this process: the caps
//! `MAX_SOCKETS_PER_IP` and `MAX_SOCKETS_PER_USER` are checked against these counts.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// The open sockets of this process, by address and by account.
#[derive(Default)]
pub struct SocketSlots {
    by_ip: Arc<Tally<IpAddr>>,
    by_account: Arc<Tally<Uuid>>,
}

impl SocketSlots {
    /// A slot for one more socket from `ip`, unless `cap` are open already.
    pub fn for_ip(&self, ip: IpAddr, cap: usize) -> Option<Slot<IpAddr>> {
        Tally::take(&self.by_ip, ip, cap)
    }

    /// A slot for one more socket of `account`, unless `cap` are open already.
    pub fn for_account(&self, account: Uuid, cap: usize) -> Option<Slot<Uuid>> {
        Tally::take(&self.by_account, account, cap)
    }
}

struct Tally<K>(Mutex<HashMap<K, usize>>);

impl<K> Default for Tally<K> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: Hash + Eq + Copy> Tally<K> {
    fn take(tally: &Arc<Self>, key: K, cap: usize) -> Option<Slot<K>> {
        let mut counts = tally.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(key).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            tally: Arc::clone(tally),
            key,
        })
    }
}

/// One open socket counted against its key; dropping it frees the place.
pub struct Slot<K: Hash + Eq + Copy> {
    tally: Arc<Tally<K>>,
    key: K,
}

impl<K: Hash + Eq + Copy> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut counts = self.tally.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_holds_until_a_slot_is_dropped() {
        let slots = SocketSlots::default();
        let ip: IpAddr = [203, 0, 113, 5].into();
        let first = slots.for_ip(ip, 2).expect("first");
        let _second = slots.for_ip(ip, 2).expect("second");
        assert!(slots.for_ip(ip, 2).is_none());
        assert!(slots.for_ip([203, 0, 113, 6].into(), 2).is_some());
        drop(first);
        assert!(slots.for_ip(ip, 2).is_some());
    }
}
