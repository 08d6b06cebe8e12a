//! Tunnel pools: a set of inbound and outbound tunnels built to the same recipe.
//!
//! Every router has an exploratory pool (netDb traffic, tunnel tests, build replies); each
//! local destination has a client pool of its own, so that its tunnels share no state with
//! any other identity on the router (spec: tunnel-implementation, "Tunnel pools").

use super::data::{Endpoint, Gateway};
use crate::data::{Hash, Lease2, TunnelId};
use crate::profile::selection::Direction;
use crate::profile::{SelectionRules, Selector};
use crate::time::Instant;
use rand::RngCore;
use std::time::Duration;

/// The wait before a pool builds again after its first rejected build, doubled for each
/// further rejection in a row up to [`REJECTED_BACKOFF_MAX`]. A rejection comes back within
/// a round trip, so without a wait a pool whose peers are full rebuilds at once, again and
/// again: in a busy network every pool does, and the storm of requests keeps the peers
/// full (we measured hundreds of builds a second in 210 routers whose participating
/// tunnels were capped at 8). Timeouts need no wait: they take the build timeout.
const REJECTED_BACKOFF: Duration = Duration::from_secs(1);
const REJECTED_BACKOFF_MAX: Duration = Duration::from_secs(32);

/// Names a pool of the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PoolId {
    Exploratory,
    /// A local destination's pool, numbered in the order pools were added.
    Client(u32),
}

/// How a pool's tunnels are made: the same for both directions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    pub hops: usize,
    /// Tunnels kept per direction.
    pub count: usize,
    pub rules: SelectionRules,
}

/// One of our inbound tunnels, as a destination publishes it in a Lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundLease {
    pub gateway: Hash,
    pub tunnel: TunnelId,
    pub expires: Instant,
}

/// The lease a destination publishes for the tunnel (its end date in whole seconds).
impl From<InboundLease> for Lease2 {
    fn from(lease: InboundLease) -> Lease2 {
        Lease2 {
            gateway: lease.gateway,
            tunnel_id: lease.tunnel,
            end_date_s: lease.expires.as_secs() as u32,
        }
    }
}

/// One of our inbound tunnels: messages given to `gateway` under `gateway_tunnel` reach
/// us as `tunnel`.
#[derive(Debug)]
pub(super) struct OwnInbound {
    pub(super) tunnel: TunnelId,
    pub(super) gateway: Hash,
    pub(super) gateway_tunnel: TunnelId,
    pub(super) hops: Vec<Hash>,
    pub(super) endpoint: Endpoint,
    pub(super) expires: Instant,
    /// Its rebuild time has passed and the pools were looked at for it.
    pub(super) replacing: bool,
}

#[derive(Debug)]
pub(super) struct OwnOutbound {
    pub(super) hops: Vec<Hash>,
    pub(super) gateway: Gateway,
    pub(super) expires: Instant,
    pub(super) replacing: bool,
    pub(super) next_test: Instant,
}

/// The tunnels of one pool and the hop selection state of each direction.
#[derive(Debug)]
pub(super) struct Pool {
    pub(super) config: PoolConfig,
    pub(super) inbound: Vec<OwnInbound>,
    pub(super) outbound: Vec<OwnOutbound>,
    inbound_selector: Selector,
    outbound_selector: Selector,
    /// Builds rejected in a row, and no build before `retry_at` because of them.
    rejected_in_a_row: u32,
    retry_at: Instant,
}

impl Pool {
    pub(super) fn new(config: PoolConfig, rng: &mut impl RngCore) -> Self {
        let inbound_selector = Selector::new(config.rules.clone(), rng);
        let outbound_selector = Selector::new(config.rules.clone(), rng);
        Self {
            config,
            inbound: Vec::new(),
            outbound: Vec::new(),
            inbound_selector,
            outbound_selector,
            rejected_in_a_row: 0,
            retry_at: Instant::from_secs(0),
        }
    }

    /// A build of ours was rejected: wait before the next.
    pub(super) fn build_rejected(&mut self, now: Instant) {
        let doublings = self.rejected_in_a_row.min(5);
        self.rejected_in_a_row += 1;
        let wait = (REJECTED_BACKOFF * (1 << doublings)).min(REJECTED_BACKOFF_MAX);
        self.retry_at = now + wait;
    }

    /// A build of ours succeeded: the peers have room again.
    pub(super) fn build_accepted(&mut self) {
        self.rejected_in_a_row = 0;
    }

    /// When the pool may build again: now, or later after rejections.
    pub(super) fn may_build_at(&self) -> Instant {
        self.retry_at
    }

    pub(super) fn selector(&mut self, direction: Direction) -> &mut Selector {
        match direction {
            Direction::Inbound => &mut self.inbound_selector,
            Direction::Outbound => &mut self.outbound_selector,
        }
    }

    /// The inbound tunnel with the longest life left: the likeliest to still be there
    /// when a reply comes.
    pub(super) fn newest_inbound(&self) -> Option<&OwnInbound> {
        self.inbound.iter().max_by_key(|t| t.expires)
    }

    /// The newest inbound tunnel whose gateway is not `avoid`.
    pub(super) fn newest_inbound_avoiding(&self, avoid: &Hash) -> Option<&OwnInbound> {
        self.inbound
            .iter()
            .filter(|t| t.gateway != *avoid)
            .max_by_key(|t| t.expires)
    }

    pub(super) fn leases(&self) -> Vec<InboundLease> {
        self.inbound
            .iter()
            .map(|t| InboundLease {
                gateway: t.gateway,
                tunnel: t.gateway_tunnel,
                expires: t.expires,
            })
            .collect()
    }

    pub(super) fn clear(&mut self) {
        self.inbound.clear();
        self.outbound.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rejections_in_a_row_double_the_wait_up_to_a_cap() {
        let config = PoolConfig {
            hops: 2,
            count: 2,
            rules: SelectionRules::client(),
        };
        let mut pool = Pool::new(config, &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
        let now = Instant::from_secs(1_000);
        assert!(pool.may_build_at() <= now);
        let waits: Vec<u64> = (0..8)
            .map(|_| {
                pool.build_rejected(now);
                pool.may_build_at().saturating_duration_since(now).as_secs()
            })
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 32, 32]);
        // A success resets the count: the next rejection waits a second again.
        pool.build_accepted();
        pool.build_rejected(now);
        assert_eq!(pool.may_build_at(), now + Duration::from_secs(1));
    }
}
