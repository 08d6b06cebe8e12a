//! Scenario files: what to simulate, read from TOML.
//!
//! Every table rejects unknown fields, so a typo is an error rather than a silently
//! ignored setting. Errors name the file, the field and what was expected; a scenario is
//! fully checked before anything is written.

use ramsons_router::netdb::NetDbConfig;
use ramsons_router::units::{Bandwidth, Span, UtcTime};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod adversaries;
mod clients;
mod events;
mod metrics;
mod netdb;
mod streams;
#[cfg(test)]
mod tests;
mod tunnels;
use adversaries::AdversarySpec;
pub use adversaries::{
    Adversary, Behaviour, Flood, FloodKind, FloodRates, FloodTargets, MAX_PREFIX_BITS,
};
pub use clients::{Clients, Multihomed, MultihomingMode, OrderName, Selection, TierName};
pub use events::{Action, Amount, LinkVerb, PartitionSide, ScenarioEvent};
pub use metrics::{Metric, Metrics};
pub use netdb::NetDbOverrides;
pub use streams::{ByteSize, Servers, Streams, WeightedSize, MIN_REQUEST_SIZE};
pub use tunnels::Tunnels;

/// A field that does not make sense: its path in the file and what was expected.
type Invalid = (String, String);

fn invalid(field: impl Into<String>, message: &str) -> Invalid {
    (field.into(), message.to_owned())
}

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
    /// Whether others can dial these routers. `false`: behind NAT or a firewall; they
    /// publish caps 'U', dial out, and are reached only over sessions they opened.
    #[serde(default = "default_dialable")]
    pub dialable: bool,
    /// The index in `Scenario::adversaries` when an `[[adversaries]]` entry made the group.
    #[serde(skip)]
    pub adversary: Option<usize>,
}

fn default_bandwidth_class() -> char {
    'O'
}

fn default_dialable() -> bool {
    true
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
        self.check()
            .map_err(|(field, message)| ScenarioError::Invalid {
                path: path.to_owned(),
                field,
                message,
            })
    }

    /// Each section in file order, then the sections that name others.
    fn check(&self) -> Result<(), Invalid> {
        self.general.check()?;
        if !(0.0..1.0).contains(&self.network.loss) {
            return Err(invalid("network.loss", "expected a probability in [0, 1)"));
        }
        self.check_routers()?;
        if let Some(topology) = &self.topology {
            self.check_topology(topology)?;
        }
        if !(self.workload.lookups_per_router_hour >= 0.0
            && self.workload.lookups_per_router_hour.is_finite())
        {
            return Err(invalid(
                "workload.lookups_per_router_hour",
                "expected a rate >= 0",
            ));
        }
        let hosts: u32 = self
            .routers
            .iter()
            .filter(|g| g.role == Role::Router && g.adversary.is_none())
            .map(|g| g.count)
            .sum();
        self.clients.check(hosts, self.tunnels.exploratory)?;
        if let Some(streams) = &self.streams {
            let multihoming = !self.clients.multihomed.is_empty();
            let stop = self.general.stop_time.0;
            streams
                .check(self.clients.destinations, multihoming, stop)
                .map_err(|(field, message)| (format!("streams.{field}"), message))?;
        }
        if !(0.0..=1.0).contains(&self.observers.colluding_fraction) {
            return Err(invalid(
                "observers.colluding_fraction",
                "expected a fraction in [0, 1]",
            ));
        }
        self.tunnels.check()?;
        for (i, group) in self.observers.groups.iter().enumerate() {
            if self.group_index(group).is_none() {
                return Err(invalid(
                    format!("observers.groups[{i}]"),
                    "not the name of a [[routers]] group",
                ));
            }
        }
        adversaries::check_floods(self)?;
        self.check_churn()?;
        events::check_events(self)
    }

    /// Group names, bandwidth classes and regions; at least one honest floodfill.
    fn check_routers(&self) -> Result<(), Invalid> {
        if self.routers.is_empty() {
            return Err(invalid(
                "routers",
                "expected at least one [[routers]] group",
            ));
        }
        if !self
            .routers
            .iter()
            .any(|g| g.role == Role::Floodfill && g.count > 0 && g.adversary.is_none())
        {
            return Err(invalid(
                "routers",
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
            if group.role == Role::Floodfill && !group.dialable {
                return Err(invalid(
                    format!("routers[{i}].dialable"),
                    "a floodfill must be dialable: nobody could store to it",
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
        Ok(())
    }

    fn check_topology(&self, topology: &Topology) -> Result<(), Invalid> {
        if topology.regions.is_empty() {
            return Err(invalid("topology.regions", "expected at least one region"));
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
        Ok(())
    }

    fn check_churn(&self) -> Result<(), Invalid> {
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

impl General {
    fn check(&self) -> Result<(), Invalid> {
        if self.stop_time.0.is_zero() {
            return Err(invalid("general.stop_time", "must be longer than 0 s"));
        }
        if self.warmup >= self.stop_time {
            return Err(invalid(
                "general.warmup",
                "must be shorter than general.stop_time",
            ));
        }
        if self.sample_interval.0 < Duration::from_secs(1) {
            return Err(invalid("general.sample_interval", "must be at least 1 s"));
        }
        Ok(())
    }
}
