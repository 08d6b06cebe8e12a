//! The peers a router that cannot be dialled holds sessions with.
//!
//! A router behind NAT or a firewall publishes caps 'U' and is reached only over
//! sessions it opened itself. Real routers add SSU2 introducers, through which a peer
//! without a session can still reach them; we model NTCP2 only, so here a peer without
//! a session cannot. That matters at one place: the last hop of our own inbound tunnel
//! delivers to us, so it must be a peer we hold a session with.
//!
//! The core has no sessions (the transport has them), so it counts its own sends: a
//! session carries every one of them and a driver keeps it at least [`SESSION_IDLE`]
//! after the last message over it. A peer we sent to within half of that is taken to
//! hold one, which leaves the build and its reply time to pass before it could close.

use crate::data::Hash;
use crate::time::Instant;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a driver keeps a session that carries nothing. An assumption of the order
/// of real routers' idle timeouts (minutes); the simulator closes sessions after it.
pub const SESSION_IDLE: Duration = Duration::from_secs(300);

/// Within this of our last send to a peer, a session with it is taken to be up.
const FRESH: Duration = Duration::from_secs(SESSION_IDLE.as_secs() / 2);

/// When we last sent to each peer directly (over a session), for a router that cannot
/// be dialled.
#[derive(Debug, Default)]
pub struct DirectPeers {
    last_sent: BTreeMap<Hash, Instant>,
    pruned_at: Instant,
}

impl DirectPeers {
    /// We sent to `to` directly at `now`.
    pub fn note(&mut self, now: Instant, to: Hash) {
        self.last_sent.insert(to, now);
        if now >= self.pruned_at + SESSION_IDLE {
            self.last_sent.retain(|_, at| *at + FRESH > now);
            self.pruned_at = now;
        }
    }

    /// The peers we hold a session with at `now`, in hash order.
    pub fn fresh(&self, now: Instant) -> impl Iterator<Item = &Hash> {
        self.last_sent
            .iter()
            .filter(move |(_, at)| **at + FRESH > now)
            .map(|(h, _)| h)
    }

    /// The hop next to us for an inbound tunnel whose other hops are `others`: a peer we
    /// hold a session with, not among them, that `usable` accepts, drawn uniformly.
    /// `None` when there is none (and then nothing is drawn).
    pub fn adjacent(
        &self,
        now: Instant,
        others: &[Hash],
        usable: impl Fn(&Hash) -> bool,
        rng: &mut ChaCha20Rng,
    ) -> Option<Hash> {
        let candidates: Vec<Hash> = self
            .fresh(now)
            .filter(|h| !others.contains(h) && usable(h))
            .copied()
            .collect();
        if candidates.is_empty() {
            return None;
        }
        candidates.choose(rng).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn peer(i: u8) -> Hash {
        Hash([i; 32])
    }

    #[test]
    fn only_peers_sent_to_lately_are_adjacent_candidates() {
        let t0 = Instant::from_secs(1_000);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut direct = DirectPeers::default();
        assert_eq!(direct.adjacent(t0, &[], |_| true, &mut rng), None);
        direct.note(t0, peer(1));
        direct.note(t0, peer(2));
        let later = t0 + FRESH - Duration::from_secs(1);
        let chosen = direct.adjacent(later, &[peer(1)], |_| true, &mut rng);
        assert_eq!(chosen, Some(peer(2)), "not a hop twice");
        assert_eq!(
            direct.adjacent(later, &[], |h| *h == peer(1), &mut rng),
            Some(peer(1))
        );
        assert_eq!(
            direct.adjacent(t0 + FRESH, &[], |_| true, &mut rng),
            None,
            "stale"
        );
        direct.note(t0 + SESSION_IDLE, peer(3));
        assert_eq!(direct.last_sent.len(), 1, "stale entries pruned");
    }
}
