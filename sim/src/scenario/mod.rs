//! Scenario files: what to simulate, read from TOML.
//!
//! Every table rejects unknown fields, so a typo is an error rather than a silently
//! ignored setting. Errors name the file, the field and what was expected; a scenario is
//! fully checked before anything is written.

use ramsons_router::limit::{PeerRateLimit, RateLimit};
use ramsons_router::netdb::NetDbConfig;
use ramsons_router::profile::{HopOrder, SelectionRules, Tier};
use ramsons_router::tunnel::TunnelConfig;
use ramsons_router::units::{Bandwidth, Span, UtcTime};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod adversaries;
mod streams;
use adversaries::AdversarySpec;
pub use adversaries::{
    Adversary, Behaviour, Flood, FloodKind, FloodRates, FloodTargets, MAX_PREFIX_BITS,
};
pub use streams::{ByteSize, Servers, Streams, WeightedSize, MIN_REQUEST_SIZE};

/// A scenario that could not be read or does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("scenario {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("scenario {path}: field `{field}`: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub general: General,
    #[serde(default)]
    pub network: Network,
    #[serde(default)]
    pub topology: Option<Topology>,
    pub routers: Vec<RouterGroup>,
    #[serde(default)]
    pub bootstrap: Bootstrap,
    #[serde(default)]
    pub workload: Workload,
    #[serde(default)]
    pub churn: Vec<Churn>,
    #[serde(default)]
    pub events: Vec<ScenarioEvent>,
    #[serde(default)]
    pub netdb: NetDbOverrides,
    #[serde(default)]
    pub tunnels: Tunnels,
    #[serde(default)]
    pub clients: Clients,
    /// Page fetches over streams between the `[clients]` destinations; off when absent.
    #[serde(default)]
    pub streams: Option<Streams>,
    #[serde(default)]
    pub observers: Observers,
    /// As written; checked and turned into `adversaries` (and router groups) by `parse`.
    #[serde(default, rename = "adversaries")]
    adversary_specs: Vec<AdversarySpec>,
    /// Adversaries, checked; each one's routers are the group `routers[first_adversary_group + i]`.
    #[serde(skip)]
    pub adversaries: Vec<Adversary>,
    #[serde(default)]
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct General {
    /// Seeds every random choice of the run.
    pub seed: u64,
    /// Simulated time at which the run ends.
    pub stop_time: Span,
    /// Metrics ignore what happens before this.
    #[serde(default)]
    pub warmup: Span,
    /// The simulated UTC clock at time zero (routing keys rotate at UTC midnight).
    #[serde(default = "default_start")]
    pub start: UtcTime,
    /// Period of time-series metrics (coverage, store counts).
    #[serde(default = "default_sample_interval")]
    pub sample_interval: Span,
    /// I2P network id of every simulated router.
    #[serde(default = "default_net_id")]
    pub net_id: u8,
}

fn default_start() -> UtcTime {
    UtcTime(1_767_225_600) // 2026-01-01T00:00:00Z
}

fn default_sample_interval() -> Span {
    Span(Duration::from_secs(60))
}

fn default_net_id() -> u8 {
    2
}

/// The default link between any two routers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// One-way latency between routers in the same region (or everywhere, without a topology).
    #[serde(default = "default_latency")]
    pub latency: Span,
    /// Each message's latency varies uniformly by up to this much either way.
    #[serde(default)]
    pub jitter: Span,
    /// Probability that a message is lost.
    #[serde(default)]
    pub loss: f64,
    /// Uplink rate of a router unless its group sets one.
    #[serde(default = "default_bandwidth")]
    pub bandwidth: Bandwidth,
}

fn default_latency() -> Span {
    Span(Duration::from_millis(50))
}

fn default_bandwidth() -> Bandwidth {
    Bandwidth(10_000_000)
}

impl Default for Network {
    fn default() -> Self {
        Self {
            latency: default_latency(),
            jitter: Span::default(),
            loss: 0.0,
            bandwidth: default_bandwidth(),
        }
    }
}

/// Regions and the latency of the links between them; the latency between two routers is
/// the shortest path between their regions (a petgraph graph).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    pub regions: Vec<String>,
    #[serde(default)]
    pub links: Vec<RegionLink>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionLink {
    pub from: String,
    pub to: String,
    pub latency: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Floodfill,
    Router,
}

/// A group of routers with one role, like chutney's `Node(...).getN(k)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterGroup {
    /// Name used by events and churn; defaults to the role.
    #[serde(default)]
    pub name: Option<String>,
    pub role: Role,
    pub count: u32,
    #[serde(default = "default_bandwidth_class")]
    pub bandwidth_class: char,
    /// Uplink rate; defaults to `network.bandwidth`.
    #[serde(default)]
    pub bandwidth: Option<Bandwidth>,
    /// Region of the topology; routers without one are spread over all regions.
    #[serde(default)]
    pub region: Option<String>,
    /// When the group starts; its routers start spread over `start_spread` from then.
    #[serde(default)]
    pub start: Span,
    #[serde(default = "default_start_spread")]
    pub start_spread: Span,
    /// The index in `Scenario::adversaries` when an `[[adversaries]]` entry made the group.
    #[serde(skip)]
    pub adversary: Option<usize>,
}

fn default_bandwidth_class() -> char {
    'O'
}

fn default_start_spread() -> Span {
    Span(Duration::from_secs(60))
}

impl RouterGroup {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(match self.role {
            Role::Floodfill => "floodfill",
            Role::Router => "router",
        })
    }
}

/// How a starting router gets its first RouterInfos (the simulated reseed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bootstrap {
    /// RouterInfos of online routers handed to each starting router, chosen at random.
    #[serde(default = "default_reseed_routers")]
    pub reseed_routers: u32,
    /// Start floodfills as in a network that has run for a while: each floodfill also
    /// knows the RouterInfos of all floodfills online or starting. Without it, a network
    /// started cold needs about an hour before floodfills know enough of each other for
    /// lookups to converge (see the README).
    #[serde(default)]
    pub warm_floodfills: bool,
}

fn default_reseed_routers() -> u32 {
    75
}

impl Default for Bootstrap {
    fn default() -> Self {
        Self {
            reseed_routers: default_reseed_routers(),
            warm_floodfills: false,
        }
    }
}

/// Client traffic against the netDb.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// RouterInfo lookups each online router makes per hour, for routers picked at random
    /// among all routers of the run (some of which may have left).
    #[serde(default = "default_lookup_rate")]
    pub lookups_per_router_hour: f64,
}

fn default_lookup_rate() -> f64 {
    4.0
}

impl Default for Workload {
    fn default() -> Self {
        Self {
            lookups_per_router_hour: default_lookup_rate(),
        }
    }
}

/// Continuous churn: routers of a group alternate between online and offline for
/// exponentially distributed times. Coming back keeps their netDb (a restart).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Churn {
    pub group: String,
    pub mean_uptime: Span,
    pub mean_downtime: Span,
}

/// A fault or change at a point in simulated time.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "EventSpec")]
pub struct ScenarioEvent {
    pub at: Span,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// New routers of a group (its settings) come online, spread over `spread`.
    Join {
        group: String,
        count: u32,
        spread: Span,
    },
    /// Online routers of a group leave for good (mass withdrawal).
    Withdraw { group: String, amount: Amount },
    /// Online routers of a group crash; they restart after `down` when it is given.
    Crash {
        group: String,
        amount: Amount,
        down: Option<Span>,
    },
    /// The online routers split in two sides that cannot reach each other: the routers
    /// of `group`, or a random `fraction` of them, on one side.
    Partition(PartitionSide),
    /// Ends a partition.
    Heal,
}

#[derive(Debug, Clone)]
pub enum PartitionSide {
    Group(String),
    Fraction(f64),
}

/// How many online routers of a group an event affects.
#[derive(Debug, Clone, Copy)]
pub enum Amount {
    Fraction(f64),
    Count(u32),
}

impl Amount {
    pub fn of(&self, online: usize) -> usize {
        match *self {
            Amount::Fraction(f) => ((online as f64) * f).round() as usize,
            Amount::Count(c) => (c as usize).min(online),
        }
    }
}

/// An event as written: one flat table whose `action` decides which fields apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventSpec {
    at: Span,
    action: ActionKind,
    group: Option<String>,
    count: Option<u32>,
    fraction: Option<f64>,
    spread: Option<Span>,
    down: Option<Span>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ActionKind {
    Join,
    Withdraw,
    Crash,
    Partition,
    Heal,
}

impl TryFrom<EventSpec> for ScenarioEvent {
    type Error = String;

    fn try_from(spec: EventSpec) -> Result<Self, String> {
        let EventSpec {
            at,
            action,
            group,
            count,
            fraction,
            spread,
            down,
        } = spec;
        let kind = format!("{action:?}").to_lowercase();
        let group_required = || {
            group
                .clone()
                .ok_or(format!("action \"{kind}\" needs `group`"))
        };
        let amount = || match (fraction, count) {
            (Some(f), None) if (0.0..=1.0).contains(&f) => Ok(Amount::Fraction(f)),
            (Some(f), None) => Err(format!("`fraction` must be in [0, 1], got {f}")),
            (None, Some(c)) => Ok(Amount::Count(c)),
            _ => Err(format!(
                "action \"{kind}\" needs exactly one of `fraction` or `count`"
            )),
        };
        let unexpected = |present: bool, field: &str| {
            if present {
                Err(format!("action \"{kind}\" does not take `{field}`"))
            } else {
                Ok(())
            }
        };
        let action =
            match action {
                ActionKind::Join => {
                    unexpected(fraction.is_some(), "fraction")?;
                    unexpected(down.is_some(), "down")?;
                    Action::Join {
                        group: group_required()?,
                        count: count.ok_or("action \"join\" needs `count`")?,
                        spread: spread.unwrap_or_default(),
                    }
                }
                ActionKind::Withdraw => {
                    unexpected(spread.is_some(), "spread")?;
                    unexpected(down.is_some(), "down")?;
                    Action::Withdraw {
                        group: group_required()?,
                        amount: amount()?,
                    }
                }
                ActionKind::Crash => {
                    unexpected(spread.is_some(), "spread")?;
                    Action::Crash {
                        group: group_required()?,
                        amount: amount()?,
                        down,
                    }
                }
                ActionKind::Partition => {
                    unexpected(count.is_some(), "count")?;
                    unexpected(spread.is_some() || down.is_some(), "spread or down")?;
                    match (group, fraction) {
                        (Some(g), None) => Action::Partition(PartitionSide::Group(g)),
                        (None, Some(f)) if f > 0.0 && f < 1.0 => {
                            Action::Partition(PartitionSide::Fraction(f))
                        }
                        _ => return Err(
                            "action \"partition\" takes either `group` or a `fraction` in (0, 1)"
                                .into(),
                        ),
                    }
                }
                ActionKind::Heal => {
                    let extra = group.is_some()
                        || count.is_some()
                        || fraction.is_some()
                        || spread.is_some()
                        || down.is_some();
                    unexpected(extra, "any field but `at`")?;
                    Action::Heal
                }
            };
        Ok(ScenarioEvent { at, action })
    }
}

/// Optional overrides of the routers' netDb parameters, for trying a protocol change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetDbOverrides {
    pub lookup_peer_timeout: Option<Span>,
    pub lookup_max_peers: Option<usize>,
    pub flood_redundancy: Option<usize>,
    pub republish_interval: Option<Span>,
    pub verify_delay: Option<Span>,
    pub explore_interval_fast: Option<Span>,
    pub explore_interval_slow: Option<Span>,
    pub explore_target: Option<usize>,
    pub router_expiry: Option<Span>,
    pub floodfill_expiry: Option<Span>,
    pub next_day_flood_window: Option<Span>,
    /// Flood mitigations (see `NetDbConfig`); a limit of 0 turns it off.
    pub lookup_limit_per_min: Option<u32>,
    pub store_limit_per_min: Option<u32>,
    pub ignore_unsolicited_floodfills: Option<bool>,
    /// Table caps; 0 means no cap.
    pub max_router_infos: Option<usize>,
    pub max_lease_sets: Option<usize>,
}

/// The window of every rate limit a scenario sets.
const MINUTE: Duration = Duration::from_secs(60);

/// Sets a per-peer limit to `max` a minute (0: off). Scenarios start from the defaults,
/// where every limit is on, so only the rate changes (the peers tracked stay).
fn set_per_minute(limit: &mut Option<PeerRateLimit>, max: Option<u32>) {
    if let Some(max) = max {
        *limit = limit.filter(|_| max > 0).map(|l| PeerRateLimit {
            max,
            window: MINUTE,
            ..l
        });
    }
}

/// A table cap from a scenario: 0 means none.
fn set_cap(cap: &mut Option<usize>, value: Option<usize>) {
    if let Some(value) = value {
        *cap = (value > 0).then_some(value);
    }
}

impl NetDbOverrides {
    pub fn apply(&self, config: &mut NetDbConfig) {
        let d = |o: Option<Span>, field: &mut Duration| {
            if let Some(v) = o {
                *field = v.0;
            }
        };
        d(self.lookup_peer_timeout, &mut config.lookup_peer_timeout);
        d(self.republish_interval, &mut config.republish_interval);
        d(self.verify_delay, &mut config.verify_delay);
        d(
            self.explore_interval_fast,
            &mut config.explore_interval_fast,
        );
        d(
            self.explore_interval_slow,
            &mut config.explore_interval_slow,
        );
        d(self.router_expiry, &mut config.router_expiry);
        d(self.floodfill_expiry, &mut config.floodfill_expiry);
        d(
            self.next_day_flood_window,
            &mut config.next_day_flood_window,
        );
        if let Some(v) = self.lookup_max_peers {
            config.lookup_max_peers = v;
        }
        if let Some(v) = self.flood_redundancy {
            config.flood_redundancy = v;
        }
        if let Some(v) = self.explore_target {
            config.explore_target = v;
        }
        set_per_minute(&mut config.lookup_limit, self.lookup_limit_per_min);
        set_per_minute(&mut config.store_limit, self.store_limit_per_min);
        if let Some(v) = self.ignore_unsolicited_floodfills {
            config.ignore_unsolicited_floodfills = v;
        }
        set_cap(&mut config.max_router_infos, self.max_router_infos);
        set_cap(&mut config.max_lease_sets, self.max_lease_sets);
    }
}

/// The tunnel layer of every simulated router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tunnels {
    /// Build exploratory tunnels (and take part in others'). Off: a netDb-only network.
    #[serde(default)]
    pub exploratory: bool,
    /// Hops per exploratory tunnel.
    #[serde(default = "default_tunnel_hops")]
    pub hops: usize,
    /// Exploratory tunnels per direction.
    #[serde(default = "default_tunnel_count")]
    pub count: usize,
    /// Tunnels a router takes part in for others, at most.
    #[serde(default = "default_max_participating")]
    pub max_participating: usize,
    /// How exploratory hops are chosen; unset fields keep the defaults (not failing,
    /// random order, no gateway partition, distinct /16).
    #[serde(default)]
    pub selection: Selection,
    /// Build-request throttles (see `TunnelConfig`): requests handled per previous hop
    /// per minute, and tunnels accepted per minute; 0 turns one off.
    pub build_requests_per_hop_per_min: Option<u32>,
    pub build_accept_per_min: Option<u32>,
}

fn default_tunnel_hops() -> usize {
    2
}

fn default_tunnel_count() -> usize {
    2
}

fn default_max_participating() -> usize {
    2000
}

impl Default for Tunnels {
    fn default() -> Self {
        Self {
            exploratory: false,
            hops: default_tunnel_hops(),
            count: default_tunnel_count(),
            max_participating: default_max_participating(),
            selection: Selection::default(),
            build_requests_per_hop_per_min: None,
            build_accept_per_min: None,
        }
    }
}

impl Tunnels {
    /// The routers' tunnel configuration, `None` when tunnels are off.
    pub fn config(&self) -> Option<TunnelConfig> {
        self.exploratory.then(|| {
            let mut config = TunnelConfig {
                exploratory_hops: self.hops,
                exploratory_tunnels: self.count,
                max_participating: self.max_participating,
                exploratory_selection: self.selection.over(SelectionRules::exploratory()),
                ..TunnelConfig::default()
            };
            set_per_minute(
                &mut config.build_requests_per_hop,
                self.build_requests_per_hop_per_min,
            );
            if let Some(max) = self.build_accept_per_min {
                config.build_accept_rate = (max > 0).then_some(RateLimit {
                    max,
                    window: MINUTE,
                });
            }
            config
        })
    }
}

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

/// Routers whose observations are pooled, as colluding adversaries would: they behave
/// like everyone else, the simulator only records what they see.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observers {
    /// Share of the initial routers (chosen at random) that collude.
    #[serde(default)]
    pub colluding_fraction: f64,
    /// `[[routers]]` groups whose every router colludes, besides the random share: the set
    /// of colluders a study chooses (for example a group started in one region).
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Metrics to record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    #[serde(default = "Metric::all")]
    pub record: Vec<Metric>,
    /// Routers per role whose netDb is compared with the online set at each sample
    /// (comparing all of them costs O(routers x netDb size) per sample).
    #[serde(default = "default_coverage_sample")]
    pub coverage_sample: usize,
}

fn default_coverage_sample() -> usize {
    256
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            record: Metric::all(),
            coverage_sample: default_coverage_sample(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Lookup,
    Store,
    FloodfillLoad,
    NetdbCoverage,
    /// Builds of routers' own tunnels (with `[tunnels]` on).
    TunnelBuild,
    /// Tunnel counts, transit load, tests and tier sizes over time (with `[tunnels]` on).
    Tunnels,
    /// Connected components of who knows whom (not in the default set: it walks every
    /// router's netDb at each sample).
    Islands,
}

impl Metric {
    pub fn all() -> Vec<Metric> {
        vec![
            Metric::Lookup,
            Metric::Store,
            Metric::FloodfillLoad,
            Metric::NetdbCoverage,
            Metric::TunnelBuild,
            Metric::Tunnels,
        ]
    }

    pub fn needs_tunnels(self) -> bool {
        matches!(self, Metric::TunnelBuild | Metric::Tunnels)
    }
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Scenario::parse(&text, path)
    }

    /// Parses and checks scenario text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let mut scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        scenario.add_adversaries(path)?;
        scenario.validate(path)?;
        Ok(scenario)
    }

    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.routers.iter().position(|g| g.name() == name)
    }

    pub fn region_index(&self, name: &str) -> Option<usize> {
        self.topology
            .as_ref()
            .and_then(|t| t.regions.iter().position(|r| r == name))
    }

    /// Checks the `[[adversaries]]` entries and adds each one's routers as a group.
    fn add_adversaries(&mut self, path: &Path) -> Result<(), ScenarioError> {
        for (i, spec) in std::mem::take(&mut self.adversary_specs)
            .into_iter()
            .enumerate()
        {
            let invalid = |field: &str, message: String| ScenarioError::Invalid {
                path: path.to_owned(),
                field: format!("adversaries[{i}].{field}"),
                message,
            };
            let adversary = spec
                .check(self.clients.destinations)
                .map_err(|(field, message)| invalid(&field, message))?;
            if adversary.group.count == 0 {
                return Err(invalid("count", "expected at least one router".into()));
            }
            if self.group_index(adversary.group.name()).is_some() {
                return Err(invalid(
                    "name",
                    format!(
                        "a group is already named {:?}; name the adversary",
                        adversary.group.name()
                    ),
                ));
            }
            // The simulator keeps one log per kind: a second entry would go unwatched.
            let kind = adversary.behaviour.kind();
            if self.adversaries.iter().any(|a| a.behaviour.kind() == kind) {
                return Err(invalid(
                    "kind",
                    format!("only one [[adversaries]] entry of kind \"{kind}\" per scenario"),
                ));
            }
            let mut group = adversary.group.clone();
            group.adversary = Some(i);
            self.routers.push(group);
            self.adversaries.push(adversary);
        }
        Ok(())
    }

    /// The adversary behaviour of group `group`, if an `[[adversaries]]` entry made it.
    pub fn behaviour_of(&self, group: usize) -> Option<&Behaviour> {
        self.routers
            .get(group)
            .and_then(|g| g.adversary)
            .map(|a| &self.adversaries[a].behaviour)
    }

    fn validate(&self, path: &Path) -> Result<(), ScenarioError> {
        let invalid = |field: String, message: &str| ScenarioError::Invalid {
            path: path.to_owned(),
            field,
            message: message.to_owned(),
        };
        let g = &self.general;
        if g.stop_time.0.is_zero() {
            return Err(invalid(
                "general.stop_time".into(),
                "must be longer than 0 s",
            ));
        }
        if g.warmup >= g.stop_time {
            return Err(invalid(
                "general.warmup".into(),
                "must be shorter than general.stop_time",
            ));
        }
        if g.sample_interval.0 < Duration::from_secs(1) {
            return Err(invalid(
                "general.sample_interval".into(),
                "must be at least 1 s",
            ));
        }
        if !(0.0..1.0).contains(&self.network.loss) {
            return Err(invalid(
                "network.loss".into(),
                "expected a probability in [0, 1)",
            ));
        }
        if self.routers.is_empty() {
            return Err(invalid(
                "routers".into(),
                "expected at least one [[routers]] group",
            ));
        }
        if !self
            .routers
            .iter()
            .any(|g| g.role == Role::Floodfill && g.count > 0 && g.adversary.is_none())
        {
            return Err(invalid(
                "routers".into(),
                "expected at least one floodfill: a netDb needs them",
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, group) in self.routers.iter().enumerate() {
            if !names.insert(group.name()) {
                return Err(invalid(
                    format!("routers[{i}].name"),
                    "group names must be unique; name one of the groups",
                ));
            }
            if !"KLMNOPX".contains(group.bandwidth_class) {
                return Err(invalid(
                    format!("routers[{i}].bandwidth_class"),
                    "expected one of K, L, M, N, O, P, X",
                ));
            }
            if let Some(region) = &group.region {
                if self.region_index(region).is_none() {
                    return Err(invalid(
                        format!("routers[{i}].region"),
                        "not a region of [topology]",
                    ));
                }
            }
        }
        if let Some(topology) = &self.topology {
            if topology.regions.is_empty() {
                return Err(invalid(
                    "topology.regions".into(),
                    "expected at least one region",
                ));
            }
            for (i, link) in topology.links.iter().enumerate() {
                for (end, name) in [("from", &link.from), ("to", &link.to)] {
                    if self.region_index(name).is_none() {
                        return Err(invalid(
                            format!("topology.links[{i}].{end}"),
                            "not a region of topology.regions",
                        ));
                    }
                }
            }
        }
        if !(self.workload.lookups_per_router_hour >= 0.0
            && self.workload.lookups_per_router_hour.is_finite())
        {
            return Err(invalid(
                "workload.lookups_per_router_hour".into(),
                "expected a rate >= 0",
            ));
        }
        let clients = &self.clients;
        if clients.destinations > 0 && !self.tunnels.exploratory {
            return Err(invalid(
                "clients.destinations".into(),
                "destinations need tunnels: set [tunnels] exploratory = true",
            ));
        }
        let hosts: u32 = self
            .routers
            .iter()
            .filter(|g| g.role == Role::Router && g.adversary.is_none())
            .map(|g| g.count)
            .sum();
        if clients.destinations > hosts {
            return Err(invalid(
                "clients.destinations".into(),
                "at most one destination per (non-floodfill) router",
            ));
        }
        for (i, m) in clients.multihomed.iter().enumerate() {
            let field = |name: &str| format!("clients.multihomed[{i}].{name}");
            if m.destination >= clients.destinations {
                return Err(invalid(
                    field("destination"),
                    "not a destination: expected an index below clients.destinations",
                ));
            }
            if clients.multihomed[..i]
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
            if m.mode == MultihomingMode::Balancer && !clients.sticky_leases {
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
        }
        if clients.hosting_routers() > u64::from(hosts) {
            return Err(invalid(
                "clients.multihomed".into(),
                "not enough (non-floodfill) routers: every destination, every further \
                 router of a multihomed one and every shared gateway needs a router of its own",
            ));
        }
        if !clients.messages_per_destination_hour.is_finite()
            || clients.messages_per_destination_hour < 0.0
        {
            return Err(invalid(
                "clients.messages_per_destination_hour".into(),
                "expected a rate >= 0",
            ));
        }
        if !(16..=16_384).contains(&clients.message_size) {
            return Err(invalid(
                "clients.message_size".into(),
                "expected 16 to 16384 bytes",
            ));
        }
        if !(1..=7).contains(&clients.hops) || !(1..=16).contains(&clients.tunnels) {
            return Err(invalid(
                "clients.hops".into(),
                "expected 1 to 7 hops and 1 to 16 tunnels",
            ));
        }
        if let Some(streams) = &self.streams {
            streams
                .check(
                    clients.destinations,
                    !clients.multihomed.is_empty(),
                    g.stop_time.0,
                )
                .map_err(|(field, message)| invalid(format!("streams.{field}"), &message))?;
        }
        if !(0.0..=1.0).contains(&self.observers.colluding_fraction) {
            return Err(invalid(
                "observers.colluding_fraction".into(),
                "expected a fraction in [0, 1]",
            ));
        }
        if self.tunnels.exploratory && !(1..=7).contains(&self.tunnels.hops) {
            return Err(invalid("tunnels.hops".into(), "expected 1 to 7 hops"));
        }
        if self.tunnels.exploratory && !(1..=16).contains(&self.tunnels.count) {
            return Err(invalid(
                "tunnels.count".into(),
                "expected 1 to 16 tunnels per direction",
            ));
        }
        for (i, group) in self.observers.groups.iter().enumerate() {
            if self.group_index(group).is_none() {
                return Err(invalid(
                    format!("observers.groups[{i}]"),
                    "not the name of a [[routers]] group",
                ));
            }
        }
        for (i, adversary) in self.adversaries.iter().enumerate() {
            if let Behaviour::Flooder(flood) = &adversary.behaviour {
                self.validate_flood(flood).map_err(|(field, message)| {
                    invalid(format!("adversaries[{i}].{field}"), message)
                })?;
            }
        }
        for (i, churn) in self.churn.iter().enumerate() {
            if self.group_index(&churn.group).is_none() {
                return Err(invalid(
                    format!("churn[{i}].group"),
                    "not the name of a [[routers]] group",
                ));
            }
            if churn.mean_uptime.0.is_zero() || churn.mean_downtime.0.is_zero() {
                return Err(invalid(
                    format!("churn[{i}]"),
                    "mean_uptime and mean_downtime must be longer than 0 s",
                ));
            }
        }
        for (i, event) in self.events.iter().enumerate() {
            let field = |name: &str| format!("events[{i}].{name}");
            if event.at > g.stop_time {
                return Err(invalid(field("at"), "is after general.stop_time"));
            }
            let group = match &event.action {
                Action::Join { group, .. }
                | Action::Withdraw { group, .. }
                | Action::Crash { group, .. }
                | Action::Partition(PartitionSide::Group(group)) => Some(group),
                Action::Partition(PartitionSide::Fraction(_)) | Action::Heal => None,
            };
            if group.is_some_and(|g| self.group_index(g).is_none()) {
                return Err(invalid(
                    field("group"),
                    "not the name of a [[routers]] group",
                ));
            }
        }
        Ok(())
    }

    /// Checks a flooder's targets and timing against the rest of the scenario; errors
    /// name the field relative to the `[[adversaries]]` entry.
    fn validate_flood(&self, flood: &Flood) -> Result<(), (String, &'static str)> {
        let err = |field: &str, message| Err((field.to_owned(), message));
        let honest = self.routers.iter().filter(|g| g.adversary.is_none());
        let targets: u32 =
            match &flood.targets {
                FloodTargets::Floodfills => honest
                    .filter(|g| g.role == Role::Floodfill)
                    .map(|g| g.count)
                    .sum(),
                FloodTargets::Routers => honest
                    .filter(|g| g.role == Role::Router)
                    .map(|g| g.count)
                    .sum(),
                FloodTargets::Group(name) => match self.group_index(name) {
                    Some(g) if self.routers[g].adversary.is_none() => self.routers[g].count,
                    Some(_) => return err("targets", "an adversary's group cannot be a target"),
                    None => return err(
                        "targets",
                        "expected \"floodfills\", \"routers\" or the name of a [[routers]] group",
                    ),
                },
            };
        if targets == 0 {
            return err("targets", "no router to flood: the target groups are empty");
        }
        if flood.victims.is_some_and(|v| v > targets) {
            return err("victims", "more victims than routers among the targets");
        }
        if flood.rates.builds_per_min > 0.0 && !self.tunnels.exploratory {
            return err(
                "builds_per_min",
                "build requests need tunnels: set [tunnels] exploratory = true",
            );
        }
        if flood.flood_start > self.general.stop_time.0 {
            return err("flood_start", "is after general.stop_time");
        }
        Ok(())
    }

    /// The netDb parameters of every simulated router.
    pub fn netdb_config(&self) -> NetDbConfig {
        let mut config = NetDbConfig::default();
        self.netdb.apply(&mut config);
        config
    }

    /// Routers created at time zero (joins come on top).
    pub fn initial_routers(&self) -> u64 {
        self.routers.iter().map(|g| u64::from(g.count)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[general]
seed = 7
stop_time = "10 min"

[[routers]]
role = "floodfill"
count = 3

[[routers]]
role = "router"
count = 10
"#;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(text, Path::new("test.toml"))
    }

    #[test]
    fn adversaries_become_router_groups() {
        let clients = "[tunnels]\nexploratory = true\n[clients]\ndestinations = 2\n";
        let text = format!(
            "{MINIMAL}\n{clients}\n[[adversaries]]\nkind = \"sybil-floodfill\"\ncount = 4\n\
             target = \"destination:1\"\nrefuse = true\n\n[[adversaries]]\nkind = \"predecessor\"\n\
             name = \"spies\"\ncount = 3\nvictim = \"destination:0\"\n"
        );
        let s = parse(&text).expect("valid adversaries");
        let sybils = s.group_index("sybil-floodfill").expect("group");
        assert_eq!(s.routers[sybils].role, Role::Floodfill);
        assert_eq!(
            s.behaviour_of(sybils),
            Some(&Behaviour::SybilFloodfill {
                target: 1,
                day: 1,
                prefix_bits: 8,
                refuse: true
            })
        );
        let spies = s.group_index("spies").expect("group");
        assert_eq!(
            s.behaviour_of(spies),
            Some(&Behaviour::Predecessor { victim: 0 })
        );
        assert_eq!(s.behaviour_of(0), None);

        for (bad, field) in [
            ("target = \"destination:1\"", "adversaries[0].target"),
            ("count = 4", "adversaries[0].count"),
            ("refuse = true", "adversaries[0].refuse"),
        ] {
            let replacement = match field {
                "adversaries[0].target" => "target = \"destination:5\"",
                "adversaries[0].count" => "count = 0",
                _ => "refuse = true\nvictim = \"destination:0\"",
            };
            let err = parse(&text.replacen(bad, replacement, 1))
                .expect_err(field)
                .to_string();
            let expected = if field.ends_with("refuse") {
                "adversaries[0].victim"
            } else {
                field
            };
            assert!(err.contains(expected), "{err}");
        }
        let twice = text
            .replace(
                "kind = \"predecessor\"",
                "kind = \"sybil-floodfill\"\ntarget = \"destination:0\"",
            )
            .replace("victim = \"destination:0\"\n", "");
        let err = parse(&twice).expect_err("two Sybil entries").to_string();
        assert!(err.contains("adversaries[1].kind"), "{err}");
        let err = parse(&text.replace("name = \"spies\"", "name = \"router\""))
            .expect_err("name clash")
            .to_string();
        assert!(err.contains("adversaries[1].name"), "{err}");
    }

    const FLOODER: &str =
        "\n[[adversaries]]\nkind = \"flooder\"\ncount = 2\nvictims = 2\nlookups_per_min = 60\n";

    #[test]
    fn flooders_parse_with_defaults() {
        let s = parse(&format!("{MINIMAL}{FLOODER}")).expect("valid flooder");
        let g = s.group_index("flooder").expect("group");
        assert_eq!(s.routers[g].role, Role::Router);
        assert_eq!(
            s.behaviour_of(g),
            Some(&Behaviour::Flooder(Flood {
                targets: FloodTargets::Floodfills,
                victims: Some(2),
                rates: FloodRates {
                    lookups_per_min: 60.0,
                    ..FloodRates::default()
                },
                flood_start: Duration::ZERO,
            }))
        );
        let s = parse(&format!(
            "{MINIMAL}{FLOODER}targets = \"router\"\nflood_start = \"2 min\"\n"
        ))
        .expect("a group as target");
        let Some(Behaviour::Flooder(flood)) = s.behaviour_of(2) else {
            panic!("flooder");
        };
        assert_eq!(flood.targets, FloodTargets::Group("router".into()));
        assert_eq!(flood.flood_start, Duration::from_secs(120));
    }

    #[test]
    fn flooder_errors_name_the_field() {
        let flooder = format!("{MINIMAL}{FLOODER}");
        for (change, field) in [
            ("lookups_per_min = 0", "adversaries[0].kind"),
            ("lookups_per_min = -1", "adversaries[0].lookups_per_min"),
            ("lookups_per_min = 1e9", "adversaries[0].lookups_per_min"),
            (
                "lookups_per_min = 60\nvictims = 0",
                "adversaries[0].victims",
            ),
            (
                "lookups_per_min = 60\nvictims = 4",
                "adversaries[0].victims",
            ),
            (
                "lookups_per_min = 60\ntargets = \"nobody\"",
                "adversaries[0].targets",
            ),
            (
                "lookups_per_min = 60\ntargets = \"flooder\"",
                "adversaries[0].targets",
            ),
            ("builds_per_min = 60", "adversaries[0].builds_per_min"),
            (
                "lookups_per_min = 60\nflood_start = \"11 min\"",
                "adversaries[0].flood_start",
            ),
            (
                "lookups_per_min = 60\nvictim = \"destination:0\"",
                "adversaries[0].victim",
            ),
        ] {
            let text = flooder
                .replace("victims = 2\n", "")
                .replace("lookups_per_min = 60", change);
            let err = parse(&text).expect_err(change).to_string();
            assert!(err.contains(field), "{change}: {err}");
        }
        let sybil = format!(
            "{MINIMAL}[tunnels]\nexploratory = true\n[clients]\ndestinations = 1\n\
             [[adversaries]]\nkind = \"sybil-floodfill\"\ncount = 1\ntarget = \"destination:0\"\n\
             lookups_per_min = 5\n"
        );
        let err = parse(&sybil).expect_err("not a flooder").to_string();
        assert!(err.contains("adversaries[0].lookups_per_min"), "{err}");
    }

    #[test]
    fn mitigation_keys_set_or_turn_off_each_one() {
        let text = format!(
            "{MINIMAL}[netdb]\nlookup_limit_per_min = 0\nstore_limit_per_min = 30\n\
             ignore_unsolicited_floodfills = true\nmax_router_infos = 0\nmax_lease_sets = 500\n\
             [tunnels]\nexploratory = true\nbuild_requests_per_hop_per_min = 10\nbuild_accept_per_min = 0\n"
        );
        let s = parse(&text).expect("valid mitigations");
        let netdb = s.netdb_config();
        assert_eq!(netdb.lookup_limit, None);
        let store = netdb.store_limit.expect("on");
        assert_eq!((store.max, store.window), (30, MINUTE));
        assert_eq!(
            store.tracked_peers,
            NetDbConfig::default()
                .store_limit
                .expect("default")
                .tracked_peers
        );
        assert!(netdb.ignore_unsolicited_floodfills);
        assert_eq!(netdb.max_router_infos, None);
        assert_eq!(netdb.max_lease_sets, Some(500));
        let tunnels = s.tunnels.config().expect("on");
        assert_eq!(tunnels.build_requests_per_hop.map(|l| l.max), Some(10));
        assert_eq!(tunnels.build_accept_rate, None);
        // Unset keys keep the defaults.
        let defaults = parse(MINIMAL).expect("valid").netdb_config();
        assert_eq!(defaults, NetDbConfig::default());
    }

    #[test]
    fn tier_capture_takes_its_own_fields() {
        let entry = "[tunnels]\nexploratory = true\n[clients]\ndestinations = 1\n\n\
                     [[adversaries]]\nkind = \"tier-capture\"\ncount = 5\nvictim = \"destination:0\"\n";
        let s = parse(&format!("{MINIMAL}\n{entry}")).expect("valid");
        let group = s.group_index("tier-capture").expect("group");
        assert_eq!(s.routers[group].role, Role::Router);
        assert_eq!(
            s.behaviour_of(group),
            Some(&Behaviour::TierCapture {
                victim: 0,
                accept_all: true,
                degrade: None
            })
        );
        let s = parse(&format!(
            "{MINIMAL}\n{entry}accept_all = false\ndegrade = \"5 min\"\n"
        ))
        .expect("valid");
        assert_eq!(
            s.behaviour_of(group),
            Some(&Behaviour::TierCapture {
                victim: 0,
                accept_all: false,
                degrade: Some(Duration::from_secs(300))
            })
        );
        // "0 s" turns degrading off, so that sweeps can compare.
        let s = parse(&format!("{MINIMAL}\n{entry}degrade = \"0 s\"\n")).expect("valid");
        assert!(matches!(
            s.behaviour_of(group),
            Some(Behaviour::TierCapture { degrade: None, .. })
        ));
        for (extra, field) in [
            ("refuse = true\n", "adversaries[0].refuse"),
            ("degrade = \"soon\"\n", "degrade"),
        ] {
            let err = parse(&format!("{MINIMAL}\n{entry}{extra}"))
                .expect_err(field)
                .to_string();
            assert!(err.contains(field), "{err}");
        }
        let err = parse(&format!("{MINIMAL}\n{entry}").replace("victim = \"destination:0\"\n", ""))
            .expect_err("no victim")
            .to_string();
        assert!(err.contains("adversaries[0].victim"), "{err}");
    }

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = parse(MINIMAL).expect("valid scenario");
        assert_eq!(s.general.seed, 7);
        assert_eq!(s.network.latency.0, Duration::from_millis(50));
        assert_eq!(s.bootstrap.reseed_routers, 75);
        assert_eq!(s.routers[1].name(), "router");
        assert_eq!(s.metrics.record, Metric::all());
    }

    #[test]
    fn bad_unit_names_the_file_field_and_expected_form() {
        let text = MINIMAL.replace("stop_time = \"10 min\"", "stop_time = \"ten minutes\"");
        let err = parse(&text).expect_err("bad duration").to_string();
        assert!(err.contains("test.toml"), "{err}");
        assert!(err.contains("stop_time"), "{err}");
        assert!(err.contains("expected a duration"), "{err}");
    }

    #[test]
    fn selection_overrides_only_the_fields_it_sets() {
        let text = format!(
            "{MINIMAL}\n[tunnels]\nexploratory = true\nselection = {{ order = \"xor\" }}\n\
             [clients]\ndestinations = 2\nselection = {{ tier = \"high-capacity\", order = \"fixed-edge\", distinct_slash16 = false }}\n"
        );
        let s = parse(&text).expect("valid scenario");
        let exploratory = s.tunnels.config().expect("on").exploratory_selection;
        assert_eq!(
            exploratory,
            SelectionRules {
                order: HopOrder::Xor,
                ..SelectionRules::exploratory()
            }
        );
        let client = s.clients.selection.over(SelectionRules::client());
        assert_eq!(
            client,
            SelectionRules {
                tier: Tier::HighCapacity,
                order: HopOrder::FixedEdge,
                distinct_slash16: false,
                ..SelectionRules::client()
            }
        );
        let bad = text.replace("\"fixed-edge\"", "\"sideways\"");
        let err = parse(&bad).expect_err("unknown order").to_string();
        assert!(err.contains("sideways"), "{err}");
    }

    #[test]
    fn multihomed_destinations_parse_and_are_checked() {
        let clients = "[tunnels]\nexploratory = true\n[clients]\ndestinations = 3\n";
        let entry = "multihomed = [{ destination = 1, routers = 4 }]\n";
        let s = parse(&format!("{MINIMAL}{clients}{entry}")).expect("valid multihoming");
        assert_eq!(
            s.clients.multihomed,
            [Multihomed {
                destination: 1,
                routers: 4,
                shared_gateways: 0,
                mode: MultihomingMode::Naive,
            }]
        );
        let balanced = "multihomed = [{ destination = 1, routers = 2, mode = \"balancer\" }]\n";
        let b = parse(&format!(
            "{MINIMAL}{clients}sticky_leases = true\n{balanced}"
        ))
        .expect("a balanced destination");
        assert_eq!(b.clients.multihomed[0].mode, MultihomingMode::Balancer);
        let meta = "multihomed = [{ destination = 1, routers = 3, mode = \"meta\" }]\n";
        let m = parse(&format!("{MINIMAL}{clients}{meta}")).expect("a meta destination");
        assert_eq!(m.clients.multihomed[0].mode, MultihomingMode::Meta);
        assert_eq!((s.clients.hosts_of(1), s.clients.hosts_of(0)), (4, 1));
        assert_eq!(s.clients.hosting_routers(), 6);
        for (bad, field) in [
            (
                "multihomed = [{ destination = 3, routers = 2 }]",
                "clients.multihomed[0].destination",
            ),
            (
                "multihomed = [{ destination = 0, routers = 0 }]",
                "clients.multihomed[0].routers",
            ),
            (
                "multihomed = [{ destination = 0, routers = 2 }, { destination = 0, routers = 3 }]",
                "clients.multihomed[1].destination",
            ),
            // 3 destinations + 8 further routers > 10 routers.
            (
                "multihomed = [{ destination = 0, routers = 9 }]",
                "clients.multihomed",
            ),
            (
                "multihomed = [{ destination = 0, routers = 4, shared_gateways = 5 }]",
                "clients.multihomed",
            ),
            (
                "multihomed = [{ destination = 0, routers = 2, shared_gateways = 17 }]",
                "clients.multihomed[0].shared_gateways",
            ),
            ("multihomed = [{ destination = 0, router = 2 }]", "router"),
            // Balanced without sticky leases.
            (
                "multihomed = [{ destination = 0, routers = 2, mode = \"balancer\" }]",
                "sticky_leases",
            ),
            (
                "multihomed = [{ destination = 0, routers = 2, mode = \"anycast\" }]",
                "anycast",
            ),
        ] {
            let err = parse(&format!("{MINIMAL}{clients}{bad}\n"))
                .expect_err(bad)
                .to_string();
            assert!(err.contains(field), "{bad}: {err}");
        }
    }

    #[test]
    fn observer_groups_must_exist() {
        let text = format!("{MINIMAL}\n[observers]\ngroups = [\"spies\"]\n");
        let err = parse(&text).expect_err("unknown group").to_string();
        assert!(err.contains("observers.groups[0]"), "{err}");
    }

    #[test]
    fn unknown_field_is_an_error() {
        let text = MINIMAL.replace("seed = 7", "seed = 7\nsede = 8");
        let err = parse(&text).expect_err("typo").to_string();
        assert!(err.contains("sede"), "{err}");
    }

    #[test]
    fn semantic_errors_name_the_field() {
        let text = format!("{MINIMAL}\n[[events]]\nat = \"1 min\"\naction = \"withdraw\"\ngroup = \"nobody\"\nfraction = 0.5\n");
        let err = parse(&text).expect_err("unknown group").to_string();
        assert!(err.contains("events[0].group"), "{err}");

        let text = MINIMAL.replace("role = \"floodfill\"", "role = \"router\"\nname = \"r2\"");
        let err = parse(&text).expect_err("no floodfills").to_string();
        assert!(err.contains("floodfill"), "{err}");
    }

    #[test]
    fn events_parse_by_action() {
        let text = format!(
            "{MINIMAL}
[[events]]
at = \"2 min\"
action = \"crash\"
group = \"router\"
count = 2
down = \"1 min\"

[[events]]
at = \"3 min\"
action = \"partition\"
fraction = 0.5

[[events]]
at = \"4 min\"
action = \"heal\"
"
        );
        let s = parse(&text).expect("valid events");
        assert!(matches!(
            s.events[0].action,
            Action::Crash { down: Some(_), .. }
        ));
        assert!(matches!(
            s.events[1].action,
            Action::Partition(PartitionSide::Fraction(_))
        ));
        assert!(matches!(s.events[2].action, Action::Heal));
    }
}
