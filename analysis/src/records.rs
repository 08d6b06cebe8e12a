//! The schemas of a run folder: `manifest.json` and one CSV per metric.
//!
//! These types are the single source of truth. The simulator writes them (through
//! [`CsvWriter`] or `csv::Writer::serialize` directly) and the analysis tools read them back
//! with [`RunFolder`](crate::RunFolder). CSV columns are the field names, in declaration order,
//! with a header row. Readers match columns by header name, so adding a column at the end of a
//! record is backward compatible with older run folders only if the new field has a serde
//! default.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod streams;
pub use streams::StreamRecord;

/// File name of the manifest inside a run folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Name of the sub-folder of a run folder that holds the charts drawn at the end of the run.
pub const PLOTS_DIR: &str = "plots";

/// `manifest.json`: what was run, how, and what it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Scenario file stem, e.g. `"floodfill-baseline"`.
    pub scenario_name: String,
    /// Path of the scenario file as given to the simulator.
    pub scenario_path: String,
    /// Full scenario text, so a run folder is self-contained for replay.
    pub scenario_toml: String,
    pub seed: u64,
    /// Crate version plus git commit when known.
    pub code_version: String,
    /// Hex SHA-256 of the event trace.
    pub trace_hash: String,
    /// Events processed.
    pub events: u64,
    /// Routers ever created.
    pub routers: u64,
    /// Simulated UTC start time (Unix seconds).
    pub sim_start_unix_s: u64,
    pub sim_duration_s: f64,
    /// Metrics exclude the first `warmup_s` seconds of simulated time.
    pub warmup_s: f64,
    pub sample_interval_s: f64,
    pub wall_time_s: f64,
    pub peak_memory_bytes: u64,
    /// CSV file names written, e.g. `"lookup.csv"`.
    pub metrics: Vec<String>,
}

/// A record type stored as one CSV file in a run folder.
pub trait Metric: Serialize + DeserializeOwned {
    /// File name inside the run folder, e.g. `"lookup.csv"`.
    const FILE_NAME: &'static str;
}

/// `lookup.csv`: one row per finished lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupRecord {
    /// Simulated seconds since start, when the lookup started.
    pub time_s: f64,
    /// Router index in the simulation.
    pub router: u32,
    /// Base64 of the key, first 8 characters.
    pub target: String,
    /// `"found"` | `"not_found"`.
    pub outcome: String,
    pub latency_ms: f64,
    pub peers_queried: u32,
    pub timeouts: u32,
}

impl LookupRecord {
    /// Value of [`outcome`](Self::outcome) for a lookup that found the entry.
    pub const FOUND: &'static str = "found";
    /// Value of [`outcome`](Self::outcome) for a lookup that did not.
    pub const NOT_FOUND: &'static str = "not_found";

    /// Whether the lookup found the entry.
    pub fn is_found(&self) -> bool {
        self.outcome == Self::FOUND
    }
}

impl Metric for LookupRecord {
    const FILE_NAME: &'static str = "lookup.csv";
}

/// `store.csv`: one row per sample interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreRecord {
    /// End of the interval, simulated seconds since start.
    pub time_s: f64,
    /// DatabaseStores received by floodfills as direct publishes.
    pub stores_received: u64,
    /// DatabaseStores received by floodfills as floods.
    pub floods_received: u64,
    pub floods_sent: u64,
    /// Routers publishing their RouterInfo.
    pub publishes: u64,
    pub publishes_verified: u64,
    pub publishes_failed: u64,
}

impl Metric for StoreRecord {
    const FILE_NAME: &'static str = "store.csv";
}

/// `floodfill_load.csv`: one row per floodfill, totals after warmup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloodfillLoadRecord {
    pub router: u32,
    pub stores_received: u64,
    pub floods_received: u64,
    pub lookups_received: u64,
    /// Lookups answered with the entry.
    pub replies_found: u64,
    /// Lookups answered with a DatabaseSearchReply.
    pub replies_search: u64,
    pub floods_sent: u64,
    pub bytes_received: u64,
}

impl FloodfillLoadRecord {
    /// Messages received: stores + floods + lookups.
    pub fn messages_received(&self) -> u64 {
        self.stores_received
            .saturating_add(self.floods_received)
            .saturating_add(self.lookups_received)
    }
}

impl Metric for FloodfillLoadRecord {
    const FILE_NAME: &'static str = "floodfill_load.csv";
}

/// `netdb_coverage.csv`: one row per sample time and role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageRecord {
    pub time_s: f64,
    /// `"floodfill"` | `"router"`.
    pub role: String,
    /// Routers online in the whole network at that time.
    pub online_routers: u64,
    /// Online routers of this role sampled.
    pub routers: u64,
    // RouterInfos in each sampled router's netDb:
    pub min_known: u64,
    pub p10_known: u64,
    pub median_known: u64,
    pub mean_known: f64,
    pub p90_known: u64,
    pub max_known: u64,
    /// Mean over routers of (online routers known / online routers).
    pub mean_coverage: f64,
}

impl CoverageRecord {
    /// Value of [`role`](Self::role) for floodfills.
    pub const FLOODFILL: &'static str = "floodfill";
    /// Value of [`role`](Self::role) for other routers.
    pub const ROUTER: &'static str = "router";
}

impl Metric for CoverageRecord {
    const FILE_NAME: &'static str = "netdb_coverage.csv";
}

/// `tunnel_build.csv`: one row per finished build of a router's own tunnel (after warmup).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunnelBuildRecord {
    /// Sim seconds since start, when the build started.
    pub time_s: f64,
    pub router: u32,
    /// `"inbound"` | `"outbound"`.
    pub direction: String,
    pub hops: u32,
    /// `"built"` | `"rejected"` | `"timed_out"`.
    pub outcome: String,
    /// Time to the reply (or to the timeout).
    pub latency_ms: f64,
}

impl TunnelBuildRecord {
    pub const BUILT: &'static str = "built";
    pub const REJECTED: &'static str = "rejected";
    pub const TIMED_OUT: &'static str = "timed_out";

    pub fn is_built(&self) -> bool {
        self.outcome == Self::BUILT
    }
}

impl Metric for TunnelBuildRecord {
    const FILE_NAME: &'static str = "tunnel_build.csv";
}

/// `tunnels.csv`: per sample interval, the tunnel layer across online routers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunnelSampleRecord {
    /// End of the interval.
    pub time_s: f64,
    /// Online routers with tunnels enabled.
    pub routers: u64,
    /// Own tunnels built and alive, summed over routers.
    pub inbound_tunnels: u64,
    pub outbound_tunnels: u64,
    /// Tunnels routers take part in for others: mean and max over routers (transit load).
    pub participating_mean: f64,
    pub participating_max: u64,
    /// Tunnel messages forwarded for others during the interval, summed over routers.
    pub transit_messages: u64,
    pub tests_passed: u64,
    pub tests_failed: u64,
    /// Median over routers of each tier's size.
    pub fast_tier_median: u64,
    pub high_capacity_median: u64,
    pub not_failing_median: u64,
    pub failing_median: u64,
}

impl Metric for TunnelSampleRecord {
    const FILE_NAME: &'static str = "tunnels.csv";
}

/// `delivery.csv`: one row per application message a destination sent after warmup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// Sim seconds since start, when it was sent.
    pub time_s: f64,
    /// Sending and receiving destination (indices).
    pub from: u32,
    pub to: u32,
    /// `"request"` | `"reply"`.
    pub kind: String,
    /// `"delivered"` | `"lost"` (sent, never arrived) | `"no_lease_set"` (the recipient's
    /// LeaseSet was not found) | `"no_tunnel"` (the sender had no outbound tunnel) |
    /// `"failed"` (refused for another reason).
    pub outcome: String,
    /// Send to delivery; empty unless delivered.
    pub latency_ms: Option<f64>,
    /// Send to the sender's receipt of the delivery confirmation (the DeliveryStatus clove
    /// back through its inbound tunnel); empty when none came.
    pub confirmed_ms: Option<f64>,
}

impl DeliveryRecord {
    pub const DELIVERED: &'static str = "delivered";
    pub const LOST: &'static str = "lost";
    pub const FAILED: &'static str = "failed";
    pub const NO_LEASE_SET: &'static str = "no_lease_set";
    pub const NO_TUNNEL: &'static str = "no_tunnel";

    pub fn is_delivered(&self) -> bool {
        self.outcome == Self::DELIVERED
    }
}

impl Metric for DeliveryRecord {
    const FILE_NAME: &'static str = "delivery.csv";
}

/// `collusion.csv`: one row: how often colluding routers held both ends of the tunnels
/// built after warmup, against what uniform random hop selection would give.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollusionRecord {
    pub routers: u64,
    pub colluders: u64,
    pub tunnels_built: u64,
    /// Built tunnels whose first and last hop were both colluders.
    pub both_ends_colluding: u64,
    pub fraction: f64,
    /// `K/(N-1) * (K-1)/(N-2)`: both ends colluding when hops are drawn uniformly from the
    /// other N-1 routers, K of them colluders (tunnels of 2 or more hops).
    pub expected_uniform: f64,
    /// Tunnels the colluders joined, each seen with its previous and next router.
    pub observations: u64,
}

impl Metric for CollusionRecord {
    const FILE_NAME: &'static str = "collusion.csv";
}

/// `sybil.csv`: one row per sample interval of a floodfill Sybil attack on one target
/// destination: who received the lookups for its LeaseSet, how clients' lookups for it
/// ended, and who holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SybilRecord {
    /// End of the interval, simulated seconds since start.
    pub time_s: f64,
    /// Whether the routing keys in force are those of the day the Sybils were ground for.
    pub attacked_day: bool,
    /// DatabaseLookups for the target that floodfills received in the interval.
    pub lookups_received: u64,
    /// Of those, the ones that reached a Sybil.
    pub lookups_at_adversary: u64,
    /// Lookups for the target that clients finished in the interval, and found.
    pub client_lookups: u64,
    pub client_lookups_found: u64,
    /// Sybils among the `storage_set_size` online floodfills closest to the target's
    /// routing key at the end of the interval.
    pub storage_set_adversary: u64,
    pub storage_set_size: u64,
    /// Whether the closest online floodfill is a Sybil (absent in older run folders).
    #[serde(default)]
    pub closest_adversary: bool,
    /// Online floodfills holding the target's LeaseSet at the end of the interval.
    pub holders_honest: u64,
    pub holders_adversary: u64,
    /// Online honest floodfills and Sybils.
    pub honest_floodfills: u64,
    pub sybils: u64,
}

impl Metric for SybilRecord {
    const FILE_NAME: &'static str = "sybil.csv";
}

/// `predecessor.csv`: one row per tunnel the victim built after warmup, with what the
/// colluding routers have logged so far about the routers next to them in its tunnels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PredecessorRecord {
    pub time_s: f64,
    /// Tunnels the victim built so far (1 for the first).
    pub rebuild: u64,
    /// `"inbound"` | `"outbound"`.
    pub direction: String,
    /// Colluders among the tunnel's hops.
    pub colluders_in_tunnel: u64,
    /// Times the colluders have logged the victim next to them, in all tunnels so far.
    pub victim_sightings: u64,
    /// The most sightings of any other router.
    pub top_other_sightings: u64,
    /// The victim's place when suspects are sorted by sightings (1 = most seen; ties
    /// count against the adversary; the number of honest routers while it is unseen).
    pub victim_rank: u64,
    /// Distinct routers logged.
    pub suspects: u64,
    /// Entropy (bits) of the adversary's distribution over suspects (sightings
    /// normalised), and the degree of anonymity H / log2(N) over the N honest routers.
    pub entropy_bits: f64,
    pub degree: f64,
}

impl Metric for PredecessorRecord {
    const FILE_NAME: &'static str = "predecessor.csv";
}

/// `tier-capture.csv`: one row per sample interval of a peer-tier capture attack: how much
/// of the victim's fast and high-capacity tiers the adversary's routers hold at the end of
/// the interval, and how many of the client tunnels the victim built in it they are in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierCaptureRecord {
    /// End of the interval, simulated seconds since start.
    pub time_s: f64,
    /// The victim's fast tier, and the adversary's routers in it.
    pub fast_tier: u64,
    pub fast_adversary: u64,
    pub high_capacity: u64,
    pub high_capacity_adversary: u64,
    /// Online routers other than the victim, and the adversary's among them: a hop drawn
    /// uniformly from the network is the adversary's with probability
    /// `online_adversaries / online_routers`.
    pub online_routers: u64,
    pub online_adversaries: u64,
    /// Client tunnels the victim built in the interval.
    pub tunnels_built: u64,
    /// Of those: with at least one adversary hop; with the adversary in the hop next to
    /// the victim (the first hop of an outbound tunnel, the last of an inbound one);
    /// with every hop the adversary's.
    pub tunnels_with_adversary: u64,
    pub tunnels_adjacent: u64,
    pub tunnels_held: u64,
    /// Hops of those tunnels, and the adversary's among them.
    pub hops: u64,
    pub adversary_hops: u64,
    /// Honest routers the adversary knocked offline in the interval (`degrade`).
    pub degraded: u64,
}

impl Metric for TierCaptureRecord {
    const FILE_NAME: &'static str = "tier-capture.csv";
}

/// `victim_load.csv`: with a `flooder` adversary, one row per sample interval: what the
/// flooders sent and what it cost their victims. Table sizes are taken over the victims at
/// the end of the interval; the work and drop counts are summed over the victims for the
/// interval (the first row counts from the end of the warmup).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VictimLoadRecord {
    pub time_s: f64,
    pub victims: u64,
    pub victims_online: u64,
    /// Flood messages sent in the interval, by kind: DatabaseStores of RouterInfos and of
    /// LeaseSets, DatabaseLookups, ShortTunnelBuilds.
    pub sent_router_infos: u64,
    pub sent_lease_sets: u64,
    pub sent_lookups: u64,
    pub sent_builds: u64,
    /// Memory: RouterInfos and LeaseSets held, tunnels taken part in, and peers counted
    /// by the netDb's rate limits (mean and max over the victims).
    pub router_infos_mean: f64,
    pub router_infos_max: u64,
    pub lease_sets_mean: f64,
    pub lease_sets_max: u64,
    pub participating_mean: f64,
    pub participating_max: u64,
    pub limited_peers_max: u64,
    /// Work: lookups answered, stores whose entry the tables judged, build records
    /// decrypted (one X25519 each).
    pub lookups_answered: u64,
    pub stores_checked: u64,
    pub build_records_decrypted: u64,
    /// What each mitigation dropped or refused.
    pub lookups_limited: u64,
    pub stores_limited: u64,
    pub floodfill_infos_ignored: u64,
    pub router_infos_evicted: u64,
    pub router_infos_refused: u64,
    pub lease_sets_refused: u64,
    /// Build requests rejected or dropped by the per-hop and acceptance-rate throttles.
    pub builds_throttled: u64,
    /// Build requests rejected because the victim was at `max_participating`.
    pub builds_rejected_full: u64,
}

impl Metric for VictimLoadRecord {
    const FILE_NAME: &'static str = "victim_load.csv";
}

/// `multihoming.csv`: one row per LeaseSet2 store a floodfill received after warmup, for
/// every destination of a run with `[clients] multihomed`: what an observer of the netDb
/// sees (every floodfill, or with `colluding` only the colluders), with the truth beside it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MultihomingRecord {
    /// When the floodfill received it, simulated seconds since start.
    pub time_s: f64,
    /// The floodfill (router index), and whether it is one of the colluding observers.
    pub floodfill: u64,
    pub colluding: bool,
    /// The destination (index) and, the truth the observer does not see, how many
    /// routers host it.
    pub destination: u64,
    pub routers: u64,
    /// Straight from the publisher (false) or flooded by another floodfill (true).
    pub flooded: bool,
    /// What the floodfill's table made of it: `new`, `updated`, `unchanged`, `older`
    /// (published before the one held: last publish wins) or `rejected`.
    pub outcome: String,
    /// The LeaseSet's published and expiry times, simulated seconds since start.
    pub published_s: f64,
    pub expires_s: f64,
    /// The leases, `gateway:tunnel:end_s` separated by spaces: the gateway as a router
    /// index (a stand-in for its hash), the tunnel id, the end date in simulated seconds.
    pub leases: String,
    /// For a destination reached through a MetaLeaseSet (`mode = "meta"`): which of its
    /// edges published this LeaseSet2 under a destination of its own, the one the
    /// MetaLeaseSet lists in that place. Empty otherwise (and in runs recorded before
    /// the column existed).
    #[serde(default)]
    pub edge: Option<u64>,
}

impl MultihomingRecord {
    /// The leases as (gateway, tunnel id, end date); malformed entries are skipped.
    pub fn parsed_leases(&self) -> Vec<(u64, u32, f64)> {
        self.leases
            .split_whitespace()
            .filter_map(|lease| {
                let mut parts = lease.split(':');
                let gateway = parts.next()?.parse().ok()?;
                let tunnel = parts.next()?.parse().ok()?;
                let end = parts.next()?.parse().ok()?;
                Some((gateway, tunnel, end))
            })
            .collect()
    }
}

impl Metric for MultihomingRecord {
    const FILE_NAME: &'static str = "multihoming.csv";
}

/// `meta_lease_sets.csv`: one row per MetaLeaseSet store a floodfill received after
/// warmup, in a run with multihomed destinations published through one
/// (`mode = "meta"`): what the netDb tells anyone of the routers behind it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetaLeaseSetRecord {
    /// When the floodfill received it, simulated seconds since start.
    pub time_s: f64,
    pub floodfill: u64,
    pub colluding: bool,
    /// The destination (index) whose MetaLeaseSet it is.
    pub destination: u64,
    pub flooded: bool,
    /// As in `multihoming.csv`.
    pub outcome: String,
    /// Published and expiry times, simulated seconds since start.
    pub published_s: f64,
    pub expires_s: f64,
    /// The destinations it lists, as the destination's edge numbers separated by spaces
    /// (a destination of no edge: `?`).
    pub listed: String,
}

impl MetaLeaseSetRecord {
    /// The edges listed; entries that are not an edge's are skipped.
    pub fn listed_edges(&self) -> Vec<u64> {
        self.listed
            .split_whitespace()
            .filter_map(|e| e.parse().ok())
            .collect()
    }
}

impl Metric for MetaLeaseSetRecord {
    const FILE_NAME: &'static str = "meta_lease_sets.csv";
}

/// `edges.csv`: the truth an observer of a MetaLeaseSet tries to learn: one row each
/// time a router running an edge of a `mode = "meta"` destination comes online or goes
/// down, from the start of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeRecord {
    pub time_s: f64,
    pub destination: u64,
    /// The edge number (its place in the MetaLeaseSet), and its router.
    pub edge: u64,
    pub router: u64,
    pub online: bool,
}

impl Metric for EdgeRecord {
    const FILE_NAME: &'static str = "edges.csv";
}

/// `islands.csv`: one row per sample: the connected components of the graph in which two
/// online routers are joined when either holds the other's RouterInfo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IslandsRecord {
    pub time_s: f64,
    pub online: u64,
    pub components: u64,
    /// Share of the online routers in the largest component.
    pub largest_fraction: f64,
    /// Routers that know no online router and that no online router knows.
    pub isolated: u64,
    /// Online non-floodfill routers that know no online floodfill.
    pub without_floodfill: u64,
}

impl Metric for IslandsRecord {
    const FILE_NAME: &'static str = "islands.csv";
}

/// `summary.csv`: the run's scalars, one row each (e.g. `lookup_success`), so sweeps and
/// reports can compare runs without reading every metric. The simulator computes the standard
/// ones from its metrics; studies add their own (e.g. an attack's success rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRecord {
    pub metric: String,
    pub value: f64,
}

impl Metric for SummaryRecord {
    const FILE_NAME: &'static str = "summary.csv";
}

/// File name of the sweep description inside a sweep folder.
pub const SWEEP_FILE: &str = "sweep.json";

/// `sweep.json`: what `ramsons-sim sweep` ran. A sweep folder holds it, `sweep.csv`
/// ([`SweepRecord`]) and one run folder per point and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepManifest {
    /// Scenario file stem, e.g. `"quickstart"`.
    pub scenario_name: String,
    /// Path of the scenario file as given.
    pub scenario_path: String,
    /// The scenario text before any parameter was set (each run's manifest holds the text it
    /// ran).
    pub scenario_toml: String,
    pub code_version: String,
    /// The swept parameters, in the order given (the first varies slowest).
    pub parameters: Vec<SweepParameter>,
    pub seeds: Vec<u64>,
    /// Every combination of parameter values, with its runs.
    pub points: Vec<SweepPoint>,
    /// Runs at once.
    pub jobs: u64,
    pub wall_time_s: f64,
}

impl SweepManifest {
    /// The parameter named `name`: its full dotted path, or a last segment no other parameter
    /// shares (`count` for `routers.1.count`). Returns its position.
    pub fn parameter_index(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.parameters.iter().position(|p| p.path == name) {
            return Some(i);
        }
        let mut matching = self
            .parameters
            .iter()
            .enumerate()
            .filter(|(_, p)| p.path.rsplit('.').next() == Some(name));
        match (matching.next(), matching.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }
}

/// One swept parameter: a dotted path into the scenario TOML and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepParameter {
    /// E.g. `"routers.1.count"` or `"general.stop_time"`.
    pub path: String,
    pub values: Vec<ParamValue>,
}

/// A parameter value as set in the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Integer(i64),
    Float(f64),
    /// Strings, including quantities with units such as `"10 min"`.
    Text(String),
}

impl ParamValue {
    /// The number this value stands for: numbers as they are, and the leading number of a
    /// quantity with a unit (`"10 min"` is 10). `None` for booleans and other text.
    pub fn number(&self) -> Option<f64> {
        match self {
            Self::Integer(i) => Some(*i as f64),
            Self::Float(f) => Some(*f),
            Self::Bool(_) => None,
            Self::Text(t) => split_quantity(t).map(|(n, _)| n),
        }
    }

    /// The unit of a quantity (`"min"` for `"10 min"`), `""` for a bare number.
    pub fn unit(&self) -> Option<&str> {
        match self {
            Self::Integer(_) | Self::Float(_) => Some(""),
            Self::Bool(_) => None,
            Self::Text(t) => split_quantity(t).map(|(_, u)| u),
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

/// `"10 min"` -> `(10.0, "min")`, `"0.5"` -> `(0.5, "")`.
fn split_quantity(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(text.len());
    // "e" alone is a unit letter, not an exponent: shrink until the prefix parses.
    (1..=end).rev().find_map(|cut| {
        let number = text[..cut].parse::<f64>().ok().filter(|n| n.is_finite())?;
        Some((number, text[cut..].trim()))
    })
}

/// One point of a sweep: a value for every parameter, run once per seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Names the point's run folders (`<label>-seed<seed>`) and its rows in `sweep.csv`.
    pub label: String,
    /// One value per parameter, in the order of [`SweepManifest::parameters`].
    pub values: Vec<ParamValue>,
    pub runs: Vec<SweepRun>,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRun {
    pub seed: u64,
    /// Run folder name, relative to the sweep folder.
    pub folder: String,
    pub trace_hash: String,
    pub wall_time_s: f64,
}

/// `sweep.csv`: one row per point and summary metric, aggregated over the point's seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRecord {
    /// [`SweepPoint::label`].
    pub point: String,
    /// A `summary.csv` metric.
    pub metric: String,
    /// Runs (seeds) that reported the metric.
    pub n: u64,
    pub mean: f64,
    /// Sample standard deviation; empty for n = 1.
    pub std_dev: Option<f64>,
    /// 95% confidence interval of the mean (Student t, n - 1 degrees of freedom); empty for
    /// n = 1.
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

impl Metric for SweepRecord {
    const FILE_NAME: &'static str = "sweep.csv";
}

/// Writes one metric CSV (header + one row per record) into a run folder.
///
/// ```no_run
/// # fn main() -> Result<(), csv::Error> {
/// use ramsons_analysis::records::{CsvWriter, StoreRecord};
/// let mut w = CsvWriter::<StoreRecord>::create(std::path::Path::new("runs/x"))?;
/// // w.write(&record)?; ...
/// let file_name = w.finish()?; // "store.csv", for Manifest::metrics
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CsvWriter<T: Metric> {
    inner: csv::Writer<BufWriter<File>>,
    path: PathBuf,
    rows: u64,
    _record: PhantomData<fn(&T)>,
}

impl<T: Metric> CsvWriter<T> {
    /// Creates (or truncates) `dir/T::FILE_NAME`.
    pub fn create(dir: &Path) -> Result<Self, csv::Error> {
        let path = dir.join(T::FILE_NAME);
        let file = File::create(&path)?;
        Ok(Self {
            inner: csv::Writer::from_writer(BufWriter::new(file)),
            path,
            rows: 0,
            _record: PhantomData,
        })
    }

    /// Path of the file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one row.
    pub fn write(&mut self, record: &T) -> Result<(), csv::Error> {
        self.inner.serialize(record)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and closes the file; returns its file name, for [`Manifest::metrics`].
    ///
    /// A metric with no rows still gets its header row, so readers can tell "recorded, empty"
    /// from "not recorded".
    pub fn finish(mut self) -> Result<&'static str, csv::Error> {
        // csv writes the header lazily with the first record; write it for empty files too.
        if self.rows == 0 {
            self.inner.write_record(header_of::<T>())?;
        }
        let mut buf = self
            .inner
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        buf.flush()?;
        Ok(T::FILE_NAME)
    }
}

/// Field names of a record type, in declaration order.
pub(crate) fn header_of<T: Metric>() -> Vec<&'static str> {
    struct Fields(Vec<&'static str>);
    impl<'de> serde::Deserializer<'de> for &mut Fields {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("only structs"))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.extend_from_slice(fields);
            Err(serde::de::Error::custom("fields collected"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Fields(Vec::new());
    // The error is expected: we only want the field list serde hands to deserialize_struct.
    let _ = T::deserialize(&mut fields);
    fields.0
}
