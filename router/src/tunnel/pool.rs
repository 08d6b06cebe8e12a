//! Tunnel pools: a set of inbound and outbound tunnels built to the same recipe.
//!
//! Every router has an exploratory pool (netDb traffic, tunnel tests, build replies); each
//! local destination has a client pool of its own, so that its tunnels share no state with
//! any other identity on the router (spec: tunnel-implementation, "Tunnel pools").

use super::data::{Endpoint, Gateway};
use crate::data::{Hash, TunnelId};
use crate::profile::selection::Direction;
use crate::profile::{SelectionRules, Selector};
use crate::time::Instant;
use rand::RngCore;

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
        }
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
