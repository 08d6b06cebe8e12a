//! `[clients]`: client destinations, their messages and multihoming.

use super::tunnels::default_tunnel_count;
use super::{invalid, Invalid};
use ramsons_router::profile::{HopOrder, SelectionRules, Tier};
use serde::Deserialize;

/// Client destinations hosted by the routers, sending each other messages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clients {
    /// Destinations, each on its own router (chosen at random among the initial
    /// non-floodfill routers). They need `[tunnels] exploratory = true`.
    #[serde(default)]
    pub destinations: u32,
    /// Messages each destination sends, to another destination drawn at random, as a
    /// Poisson process.
    #[serde(default = "default_messages_per_hour")]
    pub messages_per_destination_hour: f64,
    /// Bytes of application data per message.
    #[serde(default = "default_message_size")]
    pub message_size: usize,
    /// The recipient answers every request, through its own tunnels.
    #[serde(default = "default_true")]
    pub reply: bool,
    /// Hops of client tunnels.
    #[serde(default = "default_client_hops")]
    pub hops: usize,
    /// Client tunnels per direction.
    #[serde(default = "default_tunnel_count")]
    pub tunnels: usize,
    /// How client hops are chosen; unset fields keep the defaults (fast tier, XOR order,
    /// partitioned inbound gateways, distinct /16).
    #[serde(default)]
    pub selection: Selection,
    /// Destinations hosted on several routers at once, today's way of multihoming: the
    /// same keys on each, every router with its own tunnels publishing its own LeaseSet.
    #[serde(default)]
    pub multihomed: Vec<Multihomed>,
    /// Senders keep the lease they chose for a recipient while it lives, as real routers
    /// do (multihomed destinations need it); off by default so that the recorded
    /// studies replay as they were measured.
    #[serde(default)]
    pub sticky_leases: bool,
}

/// One multihomed destination: `[clients] multihomed = [{ destination = 0, routers = 4 }]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Multihomed {
    /// Index of the destination (below `clients.destinations`).
    pub destination: u32,
    /// Routers hosting it, its own router included: 1 is an ordinary destination (the
    /// baseline a study compares with), each further one another non-floodfill router.
    pub routers: u32,
    /// The mitigation: every hosting router takes its inbound gateways from this many
    /// peers shared by all of them (non-floodfill routers hosting nothing, chosen at
    /// random), so that their leases name the same gateways. 0 (the default): off.
    #[serde(default)]
    pub shared_gateways: u32,
    /// Who signs the destination's LeaseSet.
    #[serde(default)]
    pub mode: MultihomingMode,
}

/// How a multihomed destination publishes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MultihomingMode {
    /// Today's way: each router signs and publishes its own LeaseSet; the last one
    /// published wins.
    #[default]
    Naive,
    /// Proposal 140: the routers only build tunnels; a balancer holding the keys signs
    /// one LeaseSet from all their tunnels (up to 16 leases) and has one router publish
    /// it, at most once a minute (`sim/src/balancer.rs`). Senders should keep their
    /// lease (`clients.sticky_leases = true`): a ratchet session lives on one router.
    Balancer,
    /// Proposal 123: each router runs a destination of its own and publishes its
    /// LeaseSet2; the service signs a MetaLeaseSet listing them all, and senders look it
    /// up, then one of the listed LeaseSets (`sim/src/meta.rs`).
    Meta,
}

impl Clients {
    /// Routers that host destination `d`: 1 unless it is multihomed.
    pub fn hosts_of(&self, d: u32) -> u32 {
        self.multihomed
            .iter()
            .find(|m| m.destination == d)
            .map_or(1, |m| m.routers)
    }

    /// Non-floodfill routers needed to host every destination, and as shared gateways.
    pub fn hosting_routers(&self) -> u64 {
        let extra: u64 = self
            .multihomed
            .iter()
            .map(|m| u64::from(m.routers.saturating_sub(1)) + u64::from(m.shared_gateways))
            .sum();
        u64::from(self.destinations) + extra
    }
}

/// A pool's hop selection strategy, field by field over the pool kind's defaults: the
/// strategies the peer-selection studies compare.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// The tier hops come from.
    pub tier: Option<TierName>,
    /// How hops are ordered, and what is kept from one build to the next.
    pub order: Option<OrderName>,
    /// Inbound gateways from a part of the fast tier fixed per pool.
    pub partitioned_gateways: Option<bool>,
    /// Never two hops in the same IPv4 /16.
    pub distinct_slash16: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TierName {
    Fast,
    HighCapacity,
    NotFailing,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrderName {
    /// Hops in the order drawn.
    Random,
    /// Sorted by XOR(SHA-256(peer ‖ k), k) with the pool's random key k.
    Xor,
    /// The inbound gateway / outbound endpoint stays while usable.
    FixedEdge,
    /// Every hop stays while all are usable.
    Fixed,
}

impl Selection {
    /// `defaults` with the fields this selection sets.
    pub fn over(&self, defaults: SelectionRules) -> SelectionRules {
        SelectionRules {
            tier: self.tier.map_or(defaults.tier, |t| match t {
                TierName::Fast => Tier::Fast,
                TierName::HighCapacity => Tier::HighCapacity,
                TierName::NotFailing => Tier::NotFailing,
            }),
            order: self.order.map_or(defaults.order, |o| match o {
                OrderName::Random => HopOrder::Random,
                OrderName::Xor => HopOrder::Xor,
                OrderName::FixedEdge => HopOrder::FixedEdge,
                OrderName::Fixed => HopOrder::Fixed,
            }),
            partitioned_gateways: self
                .partitioned_gateways
                .unwrap_or(defaults.partitioned_gateways),
            distinct_slash16: self.distinct_slash16.unwrap_or(defaults.distinct_slash16),
            gateways: defaults.gateways,
        }
    }
}

fn default_messages_per_hour() -> f64 {
    60.0
}

fn default_message_size() -> usize {
    512
}

fn default_true() -> bool {
    true
}

fn default_client_hops() -> usize {
    3
}

impl Default for Clients {
    fn default() -> Self {
        Self {
            destinations: 0,
            messages_per_destination_hour: default_messages_per_hour(),
            message_size: default_message_size(),
            reply: true,
            hops: default_client_hops(),
            tunnels: default_tunnel_count(),
            selection: Selection::default(),
            multihomed: Vec::new(),
            sticky_leases: false,
        }
    }
}

impl Clients {
    /// The destinations against the `hosts` (honest non-floodfill routers) that can run
    /// them; `tunnels`: whether exploratory tunnels are on.
    pub(super) fn check(&self, hosts: u32, tunnels: bool) -> Result<(), Invalid> {
        if self.destinations > 0 && !tunnels {
            return Err(invalid(
                "clients.destinations",
                "destinations need tunnels: set [tunnels] exploratory = true",
            ));
        }
        if self.destinations > hosts {
            return Err(invalid(
                "clients.destinations",
                "at most one destination per (non-floodfill) router",
            ));
        }
        for (i, m) in self.multihomed.iter().enumerate() {
            self.check_multihomed(i, m)?;
        }
        if self.hosting_routers() > u64::from(hosts) {
            return Err(invalid(
                "clients.multihomed",
                "not enough (non-floodfill) routers: every destination, every further \
                 router of a multihomed one and every shared gateway needs a router of its own",
            ));
        }
        if !self.messages_per_destination_hour.is_finite()
            || self.messages_per_destination_hour < 0.0
        {
            return Err(invalid(
                "clients.messages_per_destination_hour",
                "expected a rate >= 0",
            ));
        }
        if !(16..=16_384).contains(&self.message_size) {
            return Err(invalid(
                "clients.message_size",
                "expected 16 to 16384 bytes",
            ));
        }
        if !(1..=7).contains(&self.hops) || !(1..=16).contains(&self.tunnels) {
            return Err(invalid(
                "clients.hops",
                "expected 1 to 7 hops and 1 to 16 tunnels",
            ));
        }
        Ok(())
    }

    /// The `i`-th multihomed entry, `m`.
    fn check_multihomed(&self, i: usize, m: &Multihomed) -> Result<(), Invalid> {
        let field = |name: &str| format!("clients.multihomed[{i}].{name}");
        if m.destination >= self.destinations {
            return Err(invalid(
                field("destination"),
                "not a destination: expected an index below clients.destinations",
            ));
        }
        if self.multihomed[..i]
            .iter()
            .any(|o| o.destination == m.destination)
        {
            return Err(invalid(
                field("destination"),
                "listed twice: one entry per multihomed destination",
            ));
        }
        if !(1..=64).contains(&m.routers) {
            return Err(invalid(field("routers"), "expected 1 to 64 routers"));
        }
        if m.mode == MultihomingMode::Balancer && !self.sticky_leases {
            return Err(invalid(
                field("mode"),
                "a balanced destination needs clients.sticky_leases = true: its leases \
                 lead to different routers and a sender's session lives on one",
            ));
        }
        if m.shared_gateways > 16 {
            return Err(invalid(
                field("shared_gateways"),
                "expected 0 (off) to 16 gateway peers",
            ));
        }
        Ok(())
    }
}
