//! `[[adversaries]]`: routers of ours with chosen behaviour.
//!
//! An adversary is a group of simulated routers running the real router core; what makes
//! them adversarial is how their identities are chosen, which of their outputs they
//! suppress and what they log. They see only what their routers see. Each entry becomes a
//! router group of its own (named by `name`, default the kind), so scenario events such as
//! `withdraw` or `crash` can name it.
//!
//! ```toml
//! [[adversaries]]
//! kind = "sybil-floodfill"   # floodfills ground close to a target's routing key
//! count = 4
//! target = "destination:0"
//! day = 1                    # the UTC day after general.start's
//! prefix_bits = 10           # routing keys share at least this many leading bits
//! refuse = true              # neither serve nor flood the target's entry
//! start = "30 min"
//!
//! [[adversaries]]
//! kind = "predecessor"       # colluding routers logging their neighbours
//! count = 20
//! victim = "destination:0"
//!
//! [[adversaries]]
//! kind = "tier-capture"      # well-performing routers entering a victim's fast tier
//! count = 16
//! victim = "destination:0"
//! accept_all = true          # accept every tunnel request: no participating cap or limits
//! degrade = "10 min"         # knock the routers seen next to it in the victim's tunnels
//!                            # offline this long (a DoS, modelled by its effect; "0 s": off)
//! region = "datacenter"      # e.g. a region with low latency to everyone
//! kind = "flooder"           # routers sending bogus netDb traffic and tunnel builds
//! count = 4
//! targets = "floodfills"     # "floodfills" | "routers" | a [[routers]] group's name
//! victims = 8                # this many of them, chosen at random (default: all)
//! router_infos_per_min = 600 # per flooder router; each rate defaults to 0
//! lease_sets_per_min = 600
//! lookups_per_min = 600
//! builds_per_min = 600
//! flood_start = "10 min"
//! ```

use super::{default_bandwidth_class, invalid, Invalid, RouterGroup, Scenario};
use crate::scenario::Role;
use ramsons_router::units::{Bandwidth, Span};
use serde::Deserialize;
use std::time::Duration;

/// One `[[adversaries]]` entry, checked.
#[derive(Debug, Clone)]
pub struct Adversary {
    /// The routers it runs, as a group of their own.
    pub group: RouterGroup,
    pub behaviour: Behaviour,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    /// Floodfills whose identities are ground so that their routing keys on `day` share
    /// `prefix_bits` leading bits with the target destination's.
    SybilFloodfill {
        target: u32,
        day: u32,
        prefix_bits: u32,
        refuse: bool,
    },
    /// Colluding routers that log the routers next to them in the victim's tunnels.
    Predecessor { victim: u32 },
    /// Routers that perform well, to enter the victim's fast tier and so its tunnels.
    /// With `accept_all` they accept every tunnel request (no participating cap, no
    /// build-rate limits), where honest routers reject some under load. With `degrade`,
    /// each honest router they see next to them in one of the victim's tunnels is taken
    /// offline for that long: a denial of service modelled by its effect (an upper bound
    /// on one), so that the victim's builds through its honest fast peers fail.
    TierCapture {
        victim: u32,
        accept_all: bool,
        degrade: Option<Duration>,
    },
    /// Routers that send bogus netDb messages and tunnel build requests to victims.
    Flooder(Flood),
}

impl Behaviour {
    /// The kind as written in a scenario.
    pub fn kind(&self) -> &'static str {
        match self {
            Behaviour::SybilFloodfill { .. } => Kind::SybilFloodfill,
            Behaviour::Predecessor { .. } => Kind::Predecessor,
            Behaviour::TierCapture { .. } => Kind::TierCapture,
            Behaviour::Flooder(_) => Kind::Flooder,
        }
        .name()
    }
}

/// What each flooder router sends, to whom, from when.
#[derive(Debug, Clone, PartialEq)]
pub struct Flood {
    pub targets: FloodTargets,
    /// How many of the target routers the flooders share as victims, chosen at random
    /// among the initial ones; `None`: all of them.
    pub victims: Option<u32>,
    pub rates: FloodRates,
    /// When the flood begins, counted from time zero (a flooder router that is not
    /// online yet begins when it is).
    pub flood_start: Duration,
}

/// The routers a flood is aimed at; adversaries' routers are never among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FloodTargets {
    Floodfills,
    /// Routers that are not floodfills.
    Routers,
    /// The routers of a `[[routers]]` group.
    Group(String),
}

/// One kind of flood message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloodKind {
    /// A DatabaseStore of a freshly signed RouterInfo claiming the floodfill capability.
    RouterInfo,
    /// A DatabaseStore of a freshly signed LeaseSet2 of a destination nobody runs.
    LeaseSet,
    /// A DatabaseLookup of a RouterInfo, answered to the flooder.
    Lookup,
    /// A ShortTunnelBuild asking the victim to be the only hop of a tunnel.
    Build,
}

impl FloodKind {
    pub const ALL: [FloodKind; 4] = [
        FloodKind::RouterInfo,
        FloodKind::LeaseSet,
        FloodKind::Lookup,
        FloodKind::Build,
    ];
}

/// Messages per minute each flooder router sends, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FloodRates {
    pub router_infos_per_min: f64,
    pub lease_sets_per_min: f64,
    pub lookups_per_min: f64,
    pub builds_per_min: f64,
}

impl FloodRates {
    pub fn per_min(&self, kind: FloodKind) -> f64 {
        match kind {
            FloodKind::RouterInfo => self.router_infos_per_min,
            FloodKind::LeaseSet => self.lease_sets_per_min,
            FloodKind::Lookup => self.lookups_per_min,
            FloodKind::Build => self.builds_per_min,
        }
    }

    /// The time between two messages of `kind`; `None` when none are sent.
    pub fn interval(&self, kind: FloodKind) -> Option<Duration> {
        let rate = self.per_min(kind);
        (rate > 0.0).then(|| Duration::from_secs_f64(60.0 / rate))
    }
}

/// The fastest a flooder router may send one kind: ten messages a millisecond is far
/// beyond any uplink, and keeps a typo from creating billions of events.
pub const MAX_FLOOD_PER_MIN: f64 = 600_000.0;

/// The most leading bits a Sybil identity is ground for: each bit doubles the work
/// (about 2^bits SHA-256 pairs per identity).
pub const MAX_PREFIX_BITS: u32 = 24;

/// An adversary as written: one flat table whose `kind` decides which fields apply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AdversarySpec {
    kind: Kind,
    name: Option<String>,
    count: u32,
    #[serde(default)]
    start: Span,
    #[serde(default = "default_spread")]
    start_spread: Span,
    #[serde(default = "default_bandwidth_class")]
    bandwidth_class: char,
    bandwidth: Option<Bandwidth>,
    region: Option<String>,
    target: Option<String>,
    day: Option<u32>,
    prefix_bits: Option<u32>,
    refuse: Option<bool>,
    victim: Option<String>,
    accept_all: Option<bool>,
    degrade: Option<Span>,
    targets: Option<String>,
    victims: Option<u32>,
    router_infos_per_min: Option<f64>,
    lease_sets_per_min: Option<f64>,
    lookups_per_min: Option<f64>,
    builds_per_min: Option<f64>,
    flood_start: Option<Span>,
}

fn default_spread() -> Span {
    Span(Duration::from_secs(10))
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    SybilFloodfill,
    Predecessor,
    TierCapture,
    Flooder,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::SybilFloodfill => "sybil-floodfill",
            Kind::Predecessor => "predecessor",
            Kind::TierCapture => "tier-capture",
            Kind::Flooder => "flooder",
        }
    }
}

impl AdversarySpec {
    /// Checks the entry against the kind; `destinations` is `clients.destinations`.
    /// Errors name the field (relative to the entry).
    pub(super) fn check(self, destinations: u32) -> Result<Adversary, (String, String)> {
        let err = |field: &str, message: String| (field.to_owned(), message);
        let destination = |field: &str, value: Option<String>| -> Result<u32, (String, String)> {
            let value =
                value.ok_or_else(|| err(field, "expected e.g. \"destination:0\"".into()))?;
            let index = value
                .strip_prefix("destination:")
                .and_then(|i| i.parse::<u32>().ok())
                .ok_or_else(|| {
                    err(
                        field,
                        format!("expected \"destination:<index>\", got {value:?}"),
                    )
                })?;
            if index >= destinations {
                return Err(err(
                    field,
                    format!("destination {index} does not exist: clients.destinations is {destinations}"),
                ));
            }
            Ok(index)
        };
        // The fields each kind takes; any other that is present is an error.
        let present = [
            ("target", self.target.is_some()),
            ("day", self.day.is_some()),
            ("prefix_bits", self.prefix_bits.is_some()),
            ("refuse", self.refuse.is_some()),
            ("victim", self.victim.is_some()),
            ("accept_all", self.accept_all.is_some()),
            ("degrade", self.degrade.is_some()),
            ("targets", self.targets.is_some()),
            ("victims", self.victims.is_some()),
            ("router_infos_per_min", self.router_infos_per_min.is_some()),
            ("lease_sets_per_min", self.lease_sets_per_min.is_some()),
            ("lookups_per_min", self.lookups_per_min.is_some()),
            ("builds_per_min", self.builds_per_min.is_some()),
            ("flood_start", self.flood_start.is_some()),
        ];
        let takes: &[&str] = match self.kind {
            Kind::SybilFloodfill => &["target", "day", "prefix_bits", "refuse"],
            Kind::Predecessor => &["victim"],
            Kind::TierCapture => &["victim", "accept_all", "degrade"],
            Kind::Flooder => &[
                "targets",
                "victims",
                "router_infos_per_min",
                "lease_sets_per_min",
                "lookups_per_min",
                "builds_per_min",
                "flood_start",
            ],
        };
        if let Some((field, _)) = present
            .iter()
            .find(|(field, present)| *present && !takes.contains(field))
        {
            let kind = self.kind.name();
            return Err(err(field, format!("kind \"{kind}\" does not take it")));
        }
        let (behaviour, role) = match self.kind {
            Kind::SybilFloodfill => {
                let prefix_bits = self.prefix_bits.unwrap_or(8);
                if prefix_bits > MAX_PREFIX_BITS {
                    return Err(err(
                        "prefix_bits",
                        format!("at most {MAX_PREFIX_BITS} (each bit doubles the grinding work)"),
                    ));
                }
                let behaviour = Behaviour::SybilFloodfill {
                    target: destination("target", self.target)?,
                    day: self.day.unwrap_or(1),
                    prefix_bits,
                    refuse: self.refuse.unwrap_or(false),
                };
                (behaviour, Role::Floodfill)
            }
            Kind::Predecessor => {
                let behaviour = Behaviour::Predecessor {
                    victim: destination("victim", self.victim)?,
                };
                (behaviour, Role::Router)
            }
            Kind::TierCapture => {
                // "0 s" is off, so that a sweep can compare with and without.
                let degrade = self.degrade.map(|d| d.0).filter(|d| !d.is_zero());
                let behaviour = Behaviour::TierCapture {
                    victim: destination("victim", self.victim)?,
                    accept_all: self.accept_all.unwrap_or(true),
                    degrade,
                };
                (behaviour, Role::Router)
            }
            Kind::Flooder => (Behaviour::Flooder(self.flood()?), Role::Router),
        };
        let group = RouterGroup {
            name: Some(self.name.unwrap_or_else(|| behaviour.kind().to_owned())),
            role,
            count: self.count,
            bandwidth_class: self.bandwidth_class,
            bandwidth: self.bandwidth,
            region: self.region,
            start: self.start,
            start_spread: self.start_spread,
            dialable: true,
            adversary: None,
        };
        Ok(Adversary { group, behaviour })
    }

    /// Checks a flooder's fields. Whether a target group exists, and whether builds
    /// have tunnels to reach, the scenario checks: it knows the groups and tables.
    fn flood(&self) -> Result<Flood, (String, String)> {
        let err = |field: &str, message: String| (field.to_owned(), message);
        let targets = match self.targets.as_deref().unwrap_or("floodfills") {
            "floodfills" => FloodTargets::Floodfills,
            "routers" => FloodTargets::Routers,
            "" => {
                return Err(err(
                    "targets",
                    "expected \"floodfills\", \"routers\" or a group's name".into(),
                ))
            }
            group => FloodTargets::Group(group.to_owned()),
        };
        if self.victims == Some(0) {
            return Err(err("victims", "expected at least one victim".into()));
        }
        let rate = |field: &str, value: Option<f64>| -> Result<f64, (String, String)> {
            let value = value.unwrap_or(0.0);
            if !(0.0..=MAX_FLOOD_PER_MIN).contains(&value) {
                return Err(err(
                    field,
                    format!(
                        "expected messages per minute from 0 to {MAX_FLOOD_PER_MIN}, got {value}"
                    ),
                ));
            }
            Ok(value)
        };
        let rates = FloodRates {
            router_infos_per_min: rate("router_infos_per_min", self.router_infos_per_min)?,
            lease_sets_per_min: rate("lease_sets_per_min", self.lease_sets_per_min)?,
            lookups_per_min: rate("lookups_per_min", self.lookups_per_min)?,
            builds_per_min: rate("builds_per_min", self.builds_per_min)?,
        };
        if FloodKind::ALL.iter().all(|k| rates.per_min(*k) == 0.0) {
            return Err(err(
                "kind",
                "a flooder must send something: set router_infos_per_min, lease_sets_per_min, \
                 lookups_per_min or builds_per_min above 0"
                    .into(),
            ));
        }
        Ok(Flood {
            targets,
            victims: self.victims,
            rates,
            flood_start: self.flood_start.map_or(Duration::ZERO, |s| s.0),
        })
    }
}

/// Checks each flooder's targets and timing against the rest of the scenario.
pub(super) fn check_floods(scenario: &Scenario) -> Result<(), Invalid> {
    for (i, adversary) in scenario.adversaries.iter().enumerate() {
        if let Behaviour::Flooder(flood) = &adversary.behaviour {
            check_flood(scenario, flood).map_err(|(field, message)| {
                invalid(format!("adversaries[{i}].{field}"), message)
            })?;
        }
    }
    Ok(())
}

/// Errors name the field relative to the `[[adversaries]]` entry.
fn check_flood(scenario: &Scenario, flood: &Flood) -> Result<(), (String, &'static str)> {
    let err = |field: &str, message| Err((field.to_owned(), message));
    let honest = scenario.routers.iter().filter(|g| g.adversary.is_none());
    let targets: u32 = match &flood.targets {
        FloodTargets::Floodfills => honest
            .filter(|g| g.role == Role::Floodfill)
            .map(|g| g.count)
            .sum(),
        FloodTargets::Routers => honest
            .filter(|g| g.role == Role::Router)
            .map(|g| g.count)
            .sum(),
        FloodTargets::Group(name) => match scenario.group_index(name) {
            Some(g) if scenario.routers[g].adversary.is_none() => scenario.routers[g].count,
            Some(_) => return err("targets", "an adversary's group cannot be a target"),
            None => {
                return err(
                    "targets",
                    "expected \"floodfills\", \"routers\" or the name of a [[routers]] group",
                )
            }
        },
    };
    if targets == 0 {
        return err("targets", "no router to flood: the target groups are empty");
    }
    if flood.victims.is_some_and(|v| v > targets) {
        return err("victims", "more victims than routers among the targets");
    }
    if flood.rates.builds_per_min > 0.0 && !scenario.tunnels.exploratory {
        return err(
            "builds_per_min",
            "build requests need tunnels: set [tunnels] exploratory = true",
        );
    }
    if flood.flood_start > scenario.general.stop_time.0 {
        return err("flood_start", "is after general.stop_time");
    }
    Ok(())
}
