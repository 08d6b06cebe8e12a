//! Rate limits against floods: how many messages of one kind a router takes per window,
//! from each peer or in all.
//!
//! Fixed windows, reset lazily by the first event after a window ends, so no timer is
//! needed and nothing happens while nothing arrives. A peer can get up to twice its
//! allowance across a window boundary; that is the price of a table that costs one
//! counter per peer and a reset that is a `clear`. The per-peer table is bounded: a
//! flood from many identities evicts the peers that entered the window first instead
//! of growing it.

use crate::data::Hash;
use crate::time::Instant;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// At most `max` events per `window`, counted together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

/// At most `max` events per `window` from each peer, with at most `tracked_peers` peers
/// counted per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerRateLimit {
    pub max: u32,
    pub window: Duration,
    /// Peers counted at once. When one more arrives, the peer that entered the window
    /// first is forgotten (its count starts again at zero if it comes back): a flood
    /// from many identities costs bounded memory, and every identity gets at most its
    /// allowance while it is counted.
    pub tracked_peers: usize,
}

/// Counts events per peer in the current window of a [`PeerRateLimit`].
#[derive(Debug)]
pub struct PeerLimiter {
    limit: PeerRateLimit,
    window_end: Instant,
    counts: BTreeMap<Hash, u32>,
    /// The counted peers in the order they entered the window; the front is evicted
    /// first.
    arrivals: VecDeque<Hash>,
    /// The highest count any peer reached in the current window, and in the last
    /// completed one: how close honest traffic comes to the limit.
    peak: u32,
    last_peak: u32,
}

impl PeerLimiter {
    pub fn new(limit: PeerRateLimit) -> Self {
        Self {
            limit,
            window_end: Instant::default(),
            counts: BTreeMap::new(),
            arrivals: VecDeque::new(),
            peak: 0,
            last_peak: 0,
        }
    }

    pub fn limit(&self) -> &PeerRateLimit {
        &self.limit
    }

    /// Counts one event from `peer` at `now`; returns how many `peer` has had in this
    /// window, this one included. Above [`PeerRateLimit::max`] the caller refuses it.
    pub fn hit(&mut self, now: Instant, peer: Hash) -> u32 {
        if now >= self.window_end {
            self.last_peak = self.peak;
            self.peak = 0;
            self.counts.clear();
            self.arrivals.clear();
            self.window_end = now + self.limit.window;
        }
        let count = match self.counts.get_mut(&peer) {
            Some(count) => {
                *count = count.saturating_add(1);
                *count
            }
            None => {
                if self.counts.len() >= self.limit.tracked_peers {
                    if let Some(oldest) = self.arrivals.pop_front() {
                        self.counts.remove(&oldest);
                    }
                }
                self.counts.insert(peer, 1);
                self.arrivals.push_back(peer);
                1
            }
        };
        self.peak = self.peak.max(count);
        count
    }

    /// Whether one more event from `peer` at `now` would be within the limit.
    pub fn allows(&mut self, now: Instant, peer: Hash) -> bool {
        self.hit(now, peer) <= self.limit.max
    }

    /// Peers counted in the current window.
    pub fn tracked(&self) -> usize {
        self.counts.len()
    }

    /// The highest count one peer reached in the current or the last completed window.
    pub fn peak(&self) -> u32 {
        self.peak.max(self.last_peak)
    }

    /// Forgets every count, as after a restart.
    pub fn clear(&mut self) {
        self.counts.clear();
        self.arrivals.clear();
        self.window_end = Instant::default();
        self.peak = 0;
        self.last_peak = 0;
    }
}

/// Counts events in the current window of a [`RateLimit`], all sources together.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    window_end: Instant,
    count: u32,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            window_end: Instant::default(),
            count: 0,
        }
    }

    /// Whether the window at `now` still has room; counts nothing.
    pub fn has_room(&mut self, now: Instant) -> bool {
        self.roll(now);
        self.count < self.limit.max
    }

    /// Counts one event at `now`.
    pub fn record(&mut self, now: Instant) {
        self.roll(now);
        self.count = self.count.saturating_add(1);
    }

    /// Starts a new window if the current one has ended.
    fn roll(&mut self, now: Instant) {
        if now >= self.window_end {
            self.count = 0;
            self.window_end = now + self.limit.window;
        }
    }

    /// Forgets the current window, as after a restart.
    pub fn clear(&mut self) {
        self.window_end = Instant::default();
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Instant = Instant::from_secs(1_000);

    fn peer(i: u32) -> Hash {
        let mut h = [0u8; 32];
        h[..4].copy_from_slice(&i.to_be_bytes());
        Hash(h)
    }

    fn limiter(max: u32, tracked_peers: usize) -> PeerLimiter {
        PeerLimiter::new(PeerRateLimit {
            max,
            window: Duration::from_secs(60),
            tracked_peers,
        })
    }

    #[test]
    fn one_peer_gets_its_allowance_per_window_and_no_more() {
        let mut l = limiter(3, 10);
        let allowed = (0..10).filter(|_| l.allows(T0, peer(1))).count();
        assert_eq!(allowed, 3);
        assert!(l.allows(T0, peer(2)), "other peers have their own count");
        assert!(!l.allows(T0 + Duration::from_secs(59), peer(1)));
        assert!(
            l.allows(T0 + Duration::from_secs(60), peer(1)),
            "a new window starts afresh"
        );
        assert_eq!(l.peak(), 11, "the last window's peak is still reported");
    }

    #[test]
    fn many_peers_cost_bounded_memory_and_each_gets_at_most_its_allowance() {
        let mut l = limiter(2, 100);
        let mut allowed = 0;
        for i in 0..10_000 {
            for _ in 0..3 {
                allowed += usize::from(l.allows(T0, peer(i)));
            }
            assert!(l.tracked() <= 100);
        }
        assert_eq!(allowed, 2 * 10_000);
        assert_eq!(l.arrivals.len(), l.counts.len());
    }

    #[test]
    fn the_oldest_peer_is_evicted_first() {
        let mut l = limiter(1, 2);
        assert!(l.allows(T0, peer(1)));
        assert!(l.allows(T0, peer(2)));
        assert!(!l.allows(T0, peer(2)));
        assert!(l.allows(T0, peer(3)), "evicts peer 1, not peer 2");
        assert!(!l.allows(T0, peer(2)));
        assert!(l.allows(T0, peer(1)), "peer 1 was forgotten");
    }

    #[test]
    fn the_overall_limiter_resets_per_window() {
        let mut l = Limiter::new(RateLimit {
            max: 2,
            window: Duration::from_secs(10),
        });
        let mut taken = 0;
        for _ in 0..5 {
            if l.has_room(T0) {
                l.record(T0);
                taken += 1;
            }
        }
        assert_eq!(taken, 2);
        assert!(l.has_room(T0 + Duration::from_secs(10)));
    }
}
