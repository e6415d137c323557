//! Which documents were planned before: a fixed table of hashes that the plan cache asks
//! before it lets an operation into its main part (`plan_cache::PreparedCache`). It holds no
//! plans, only one 64-bit hash per slot, so it remembers far more documents than the cache
//! holds plans, in a memory that never grows.
//!
//! Direct-mapped: a document's slot is picked by its hash, and a later document with the same
//! slot takes it over. A document forgotten that way is treated as new once more: it goes
//! through the window again instead of straight to the main part, which costs a plan, never
//! a wrong answer.

use std::sync::atomic::{AtomicU64, Ordering};

/// A set of recently seen hashes, lossy.
pub struct Doorkeeper {
    slots: Box<[AtomicU64]>,
}

impl Doorkeeper {
    /// A table of `slots` hashes (rounded up to a power of two, at least 64).
    pub fn new(slots: usize) -> Doorkeeper {
        let n = slots.max(64).next_power_of_two();
        Doorkeeper {
            slots: (0..n).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Whether `hash` was marked before (and still is); marks it either way.
    pub fn check_and_mark(&self, hash: u64) -> bool {
        // 0 is an empty slot: no hash is stored as 0.
        let stored = hash | 1;
        let slot = &self.slots[(hash >> 32) as usize & (self.slots.len() - 1)];
        // Relaxed: a race between two threads marking the same slot only makes one document
        // look new once more.
        slot.swap(stored, Ordering::Relaxed) == stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_new_once_then_seen_until_its_slot_is_taken() {
        let door = Doorkeeper::new(64);
        let a = 0x0000_0003_0000_0010;
        assert!(!door.check_and_mark(a), "new the first time");
        assert!(door.check_and_mark(a), "seen the second time");
        assert!(door.check_and_mark(a));
        // Another hash in the same slot (the same high bits, masked) takes it over.
        let b = 0x0000_0043_0000_0020;
        assert!(!door.check_and_mark(b));
        assert!(!door.check_and_mark(a), "forgotten: new again");
        // Other slots are not touched.
        let c = 0x0000_0004_0000_0010;
        assert!(!door.check_and_mark(c));
        assert!(door.check_and_mark(a));
    }

    #[test]
    fn zero_and_one_are_hashes_like_any_other_and_the_size_is_a_power_of_two() {
        let door = Doorkeeper::new(100);
        assert_eq!(door.slots.len(), 128);
        // 0 and 1 share a stored value (hash | 1): one may stand for the other, which only
        // ever admits a document a plan early.
        assert!(!door.check_and_mark(0));
        assert!(door.check_and_mark(0));
        assert!(door.check_and_mark(1));
    }
}
