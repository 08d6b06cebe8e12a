//! Bob's memory of the SessionRequests he has seen, against replays.
//!
//! The spec (NTCP2, "Replay prevention") has Bob remember Alice's ephemeral keys for as
//! long as the clock-skew check would let a replayed message 1 through: a replayed
//! message 1 decrypts fine, and without this cache an observer could replay one to learn
//! that the listener is an NTCP2 router. The key is remembered in its obfuscated form (the
//! first 32 bytes of message 1): the AES obfuscation is a fixed permutation for one Bob,
//! so one X always gives the same 32 bytes, and the check needs no decryption.
//!
//! One cache serves every inbound connection; the driver shares it between them.

use crate::time::Instant;
use std::collections::{HashSet, VecDeque};
use std::time::Duration;

/// Message 1 is accepted with a timestamp at most 60 s from ours either way, so a
/// replay is possible for twice that.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(2 * 60);

/// Remembered SessionRequests, oldest first, at most `capacity` of them.
#[derive(Debug)]
pub struct ReplayCache {
    seen: HashSet<[u8; 32]>,
    by_time: VecDeque<(Instant, [u8; 32])>,
    capacity: usize,
}

impl ReplayCache {
    /// A cache for at most `capacity` requests per [`REPLAY_WINDOW`]; beyond that the
    /// oldest are forgotten early (memory stays bounded under a flood of handshakes).
    pub fn new(capacity: usize) -> ReplayCache {
        ReplayCache {
            seen: HashSet::new(),
            by_time: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records `key` (see [`super::Session::request_key`]); false if it was seen within
    /// the window: a replay, to be dropped.
    pub fn insert(&mut self, now: Instant, key: [u8; 32]) -> bool {
        while let Some((at, old)) = self.by_time.front() {
            if *at + REPLAY_WINDOW > now && self.by_time.len() < self.capacity {
                break;
            }
            self.seen.remove(old);
            self.by_time.pop_front();
        }
        if !self.seen.insert(key) {
            return false;
        }
        self.by_time.push_back((now, key));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Instant = Instant::from_secs(1_800_000_000);

    #[test]
    fn replays_within_the_window_are_refused() {
        let mut cache = ReplayCache::new(100);
        assert!(cache.insert(T0, [1; 32]));
        assert!(!cache.insert(T0 + Duration::from_secs(119), [1; 32]));
        assert!(cache.insert(T0 + Duration::from_secs(1), [2; 32]));
        // Once the window has passed, the timestamp check refuses it instead.
        assert!(cache.insert(T0 + REPLAY_WINDOW, [1; 32]));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut cache = ReplayCache::new(10);
        for i in 0..1000u32 {
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&i.to_be_bytes());
            assert!(cache.insert(T0, key));
        }
        assert_eq!(cache.by_time.len(), 10);
        assert_eq!(cache.seen.len(), 10);
    }
}
