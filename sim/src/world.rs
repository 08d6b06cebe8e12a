//! The simulated world: routers, links, faults and the event loop that drives them.
//!
//! One thread, one queue ordered by (time, sequence). Every random draw comes from a
//! stream of [`crate::rng`]: each router has its own, and the world keeps separate ones
//! for the network, for scenario faults and workload, and for metric sampling.

use crate::adversary::flood::{Aim, FloodWatch};
use crate::adversary::netdb_observer::{NetDbObserver, Receipt};
use crate::adversary::sybil::{self, FloodfillView};
use crate::adversary::tier_capture::{TierCaptureLog, VictimView};
use crate::adversary::{predecessor::PredecessorLog, Adversaries};
use crate::app::AppMessage;
use crate::balancer::{Balancer, BalancerConfig};
use crate::meta::{MetaConfig, MetaPublisher};
use crate::metrics::{Collector, CoverageSample, TunnelRouterSample};
use crate::net::LinkModel;
use crate::queue::EventQueue;
use crate::rng::{derive_rng, Stream};
use crate::scenario::{
    Action, Amount, Behaviour, FloodKind, FloodTargets, MultihomingMode, PartitionSide, Role,
    Scenario,
};
use crate::signer::{Signed, Signer};
use crate::trace::TraceHasher;
use ramsons_analysis::records::CoverageRecord;
use ramsons_analysis::records::DeliveryRecord;
use ramsons_router::client::{ClientConfig, ClientEvent, DestinationId, SendFailure};
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::crypto::RouterKeys;
use ramsons_router::data::{base64_encode, Hash, Mapping, RouterAddress, RouterInfo};
use ramsons_router::i2np::{I2npMessage, MessageBody, StoreEntry};
use ramsons_router::netdb::{routing, NetDbConfig, NetDbEvent, RouterInfoRegistry};
use ramsons_router::profile::SelectionRules;
use ramsons_router::profile::Tier;
use ramsons_router::time::Instant;
use ramsons_router::tunnel::{BuildOutcome, PoolId, TunnelEvent};
use ramsons_router::units::Bandwidth;
use ramsons_router::{Event, Output, Router, RouterConfig};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha20Rng;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

mod streams;

/// A reseed bundle has at least this many floodfills, as real reseed servers' do; a
/// router that knows none cannot use the netDb at all.
const RESEED_MIN_FLOODFILLS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeState {
    /// Created, waiting for its start time.
    Pending,
    Online,
    /// Crashed or churned away; may come back.
    Down,
    /// Withdrawn for good.
    Gone,
}

#[derive(Debug)]
struct Node {
    router: Router,
    group: u16,
    region: u16,
    floodfill: bool,
    bandwidth: Bandwidth,
    state: NodeState,
    /// Bumped at every state change, so that scheduled state changes from an earlier
    /// life are recognised as stale.
    epoch: u32,
    /// The timer the router asked for last; queue entries for other times are stale.
    armed: Instant,
    /// When the uplink finishes sending what is already queued.
    uplink_free: Instant,
    /// Side of the current partition.
    side: bool,
    /// One of the colluding observers.
    colluding: bool,
    /// The client destination this router hosts: its index in `World::destinations`
    /// and, once added, its id in the router.
    destination: Option<(u32, Option<DestinationId>)>,
    /// A refusing Sybil: the key whose lookups it leaves unanswered and stores unflooded.
    refuses: Option<Hash>,
    /// One of the Sybil floodfills.
    sybil: bool,
    /// One of the flooders' routers.
    flooder: bool,
}

#[derive(Debug)]
enum Ev {
    Start(u32),
    /// Boxed: the queue moves entries on every push and pop, and messages are large.
    Deliver {
        to: u32,
        from: u32,
        msg: Box<I2npMessage>,
        size: u32,
    },
    Timer(u32),
    Scenario(u32),
    /// A router comes back after a crash or churn downtime (if `epoch` still matches).
    Restart {
        router: u32,
        epoch: u32,
    },
    /// Churn takes a router down (if `epoch` still matches).
    ChurnDown {
        router: u32,
        epoch: u32,
    },
    /// Router `router` makes a client lookup (if `epoch` still matches).
    Lookup {
        router: u32,
        epoch: u32,
    },
    /// Destination `destination` sends a message (if its router's `epoch` still matches).
    Message {
        destination: u32,
        epoch: u32,
    },
    Sample,
    /// The tier-capture adversary knocks `router` offline.
    Degrade {
        router: u32,
    },
    /// The balancer (proposal 140) or the MetaLeaseSet's signer (proposal 123) of
    /// destination `destination` may publish.
    Balance {
        destination: u32,
    },
    /// Flooder `router` sends its next message of `kind` (if `epoch` still matches).
    Flood {
        router: u32,
        kind: FloodKind,
        epoch: u32,
    },
    /// The warmup ends: the flood's victims' counters start from here.
    FloodMark,
    /// The stream workload's fetches and their deadlines.
    Streams(crate::streams::Timer),
}

/// A client destination and the router that hosts it.
#[derive(Debug)]
struct Hosted {
    /// The router its own messages leave from (the first of `routers`).
    router: u32,
    /// Every router hosting it: more than one when it is multihomed.
    routers: Vec<u32>,
    /// The peers its routers take inbound gateways from (multihoming's mitigation);
    /// empty: as any destination.
    gateways: Vec<Hash>,
    hash: Hash,
    /// Derived once from the seed; handed to the router on its first start.
    keys: DestinationKeys,
    /// Reached through a MetaLeaseSet (`mode = "meta"`): the destination each of
    /// `routers` runs in its place, in the same order (the MetaLeaseSet's listing);
    /// empty otherwise.
    edges: Vec<DestinationKeys>,
}

/// Destinations stop sending this long before the end of a run.
const APP_MESSAGE_DRAIN: Duration = Duration::from_secs(60);

/// Trace tags, one per event kind.
mod tag {
    pub const START: u8 = 1;
    pub const DELIVER: u8 = 2;
    pub const TIMER: u8 = 3;
    pub const SCENARIO: u8 = 4;
    pub const RESTART: u8 = 5;
    pub const CHURN_DOWN: u8 = 6;
    pub const WORKLOAD: u8 = 7;
    pub const SEND: u8 = 8;
    pub const DROP: u8 = 9;
    pub const MESSAGE: u8 = 10;
    pub const FLOOD: u8 = 11;
    pub const DEGRADE: u8 = 12;
    pub const BALANCE: u8 = 13;
    pub const STREAMS: u8 = 14;
}

/// What a run did, for the manifest and the summary line.
#[derive(Debug)]
pub struct Outcome {
    pub trace_hash: String,
    pub events: u64,
    pub routers: u64,
    pub metrics: Collector,
    pub floodfills: Vec<u32>,
    pub adversaries: Adversaries,
}

/// Called now and then with the simulated time reached and the events processed.
pub trait Progress {
    fn update(&mut self, sim_elapsed: Duration, events: u64);
}

impl Progress for () {
    fn update(&mut self, _: Duration, _: u64) {}
}

/// Counts of fault-related drops, for the summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Drops {
    pub lost: u64,
    pub partitioned: u64,
    pub offline: u64,
}

#[derive(Debug)]
pub struct World {
    scenario: Arc<Scenario>,
    netdb_config: NetDbConfig,
    start: Instant,
    stop: Instant,
    now: Instant,
    queue: EventQueue<Ev>,
    nodes: Vec<Node>,
    by_hash: HashMap<Hash, u32, BuildHashPrefix>,
    online: IndexSet,
    links: LinkModel,
    partitioned: bool,
    /// Link delays and losses.
    net_rng: ChaCha20Rng,
    /// Scenario faults, churn, reseed and workload choices.
    world_rng: ChaCha20Rng,
    /// Which routers metric samples look at.
    sample_rng: ChaCha20Rng,
    trace: TraceHasher,
    metrics: Collector,
    drops: Drops,
    /// Every router's current RouterInfo, verified once per publication and shared by the
    /// routers that receive it inside encrypted netDb replies.
    router_infos: Arc<RouterInfoRegistry>,
    /// Client destinations, by index.
    destinations: Vec<Hosted>,
    /// Application messages sent so far; numbers them.
    messages_sent: u64,
    adversaries: Adversaries,
    /// The hash of the destination the Sybils attack, derived once for all of them.
    sybil_target: Option<Hash>,
    /// Who signs for the multihomed destinations whose routers do not sign themselves
    /// (balancer and meta modes), by destination index.
    signers: std::collections::BTreeMap<u32, Signing>,
    /// Page fetches over streams (`[streams]`), if the scenario has them.
    streams: Option<crate::streams::StreamWorkload>,
}

/// A signer and when it is next asked to publish.
#[derive(Debug)]
struct Signing {
    signer: Signer,
    /// The pending [`Ev::Balance`], if any.
    armed: Instant,
}

impl World {
    /// Builds the world of `scenario` with every initial router created and scheduled.
    pub fn new(scenario: Arc<Scenario>) -> Result<World, String> {
        let seed = scenario.general.seed;
        let start = Instant::from_secs(scenario.general.start.0);
        let links = LinkModel::new(&scenario.network, scenario.topology.as_ref())?;
        let tunnels_on = scenario.tunnels.exploratory;
        let record = scenario
            .metrics
            .record
            .iter()
            .copied()
            .filter(|m| tunnels_on || !m.needs_tunnels())
            .collect();
        let metrics = Collector::new(record, start, scenario.general.warmup.0);
        let mut world = World {
            netdb_config: scenario.netdb_config(),
            start,
            stop: start + scenario.general.stop_time.0,
            now: start,
            queue: EventQueue::default(),
            nodes: Vec::new(),
            by_hash: HashMap::default(),
            online: IndexSet::default(),
            links,
            partitioned: false,
            net_rng: derive_rng(seed, Stream::Network, 0),
            world_rng: derive_rng(seed, Stream::World, 0),
            sample_rng: derive_rng(seed, Stream::Sample, 0),
            trace: TraceHasher::default(),
            metrics,
            drops: Drops::default(),
            router_infos: RouterInfoRegistry::new(),
            destinations: Vec::new(),
            messages_sent: 0,
            adversaries: Adversaries::default(),
            sybil_target: None,
            signers: std::collections::BTreeMap::new(),
            streams: None,
            scenario,
        };
        for group in 0..world.scenario.routers.len() {
            let g = &world.scenario.routers[group];
            let (count, first_start, spread) = (g.count, g.start.0, g.start_spread.0);
            for _ in 0..count {
                world.spawn(group, start + first_start, spread);
            }
        }
        world.place_destinations(seed);
        world.streams = world.stream_workload();
        world.watch_adversaries(seed);
        let colluders = (world.nodes.len() as f64 * world.scenario.observers.colluding_fraction)
            .round() as usize;
        let indices: Vec<usize> = (0..world.nodes.len()).collect();
        for i in indices.choose_multiple(&mut derive_rng(seed, Stream::Colluders, 0), colluders) {
            world.nodes[*i].colluding = true;
        }
        world.watch_netdb();
        for (i, event) in world.scenario.events.iter().enumerate() {
            world.queue.push(start + event.at.0, Ev::Scenario(i as u32));
        }
        world.queue.push(
            start + world.scenario.general.warmup.0 + world.sample_interval(),
            Ev::Sample,
        );
        Ok(world)
    }

    fn sample_interval(&self) -> Duration {
        self.scenario.general.sample_interval.0
    }

    /// Creates a router of `group` that starts at a uniform time in `[at, at + spread)`.
    fn spawn(&mut self, group: usize, at: Instant, spread: Duration) {
        let index = self.nodes.len() as u32;
        let spec = &self.scenario.routers[group];
        let seed = self.scenario.general.seed;
        let mut rng = derive_rng(seed, Stream::Router, u64::from(index));
        let behaviour = self.scenario.behaviour_of(group).cloned();
        let (keys, refuses) = match behaviour {
            Some(Behaviour::SybilFloodfill {
                target,
                day,
                prefix_bits,
                refuse,
            }) => {
                let target = *self
                    .sybil_target
                    .get_or_insert_with(|| destination_keys(seed, target).hash());
                let day = Adversaries::attack_day(self.start, day);
                let key = routing::routing_key(&target, day);
                let keys = sybil::grind(&mut rng, &key, prefix_bits);
                (keys, refuse.then_some(target))
            }
            _ => (RouterKeys::generate(&mut rng), None),
        };
        let region = match &spec.region {
            Some(name) => self.scenario.region_index(name).unwrap_or(0),
            None => index as usize % self.links.regions(),
        };
        let floodfill = spec.role == Role::Floodfill;
        let mut tunnels = self.scenario.tunnels.config();
        if let (
            Some(t),
            Some(Behaviour::TierCapture {
                accept_all: true, ..
            }),
        ) = (&mut tunnels, &behaviour)
        {
            // Performing well: every request accepted, however many.
            t.max_participating = usize::MAX;
            t.build_requests_per_hop = None;
            t.build_accept_rate = None;
        }
        let config = RouterConfig {
            floodfill,
            net_id: self.scenario.general.net_id,
            bandwidth_class: spec.bandwidth_class,
            addresses: vec![simulated_address(index, &mut rng)],
            netdb: self.netdb_config.clone(),
            tunnels,
            clients: ClientConfig {
                hops: self.scenario.clients.hops,
                tunnels: self.scenario.clients.tunnels,
                selection: self
                    .scenario
                    .clients
                    .selection
                    .over(SelectionRules::client()),
                sticky_leases: self.scenario.clients.sticky_leases,
                ..ClientConfig::default()
            },
            ..RouterConfig::default()
        };
        let mut router = Router::new(config, keys, rng, self.now);
        router.share_router_infos(self.router_infos.clone());
        self.by_hash.insert(router.hash(), index);
        self.nodes.push(Node {
            router,
            group: group as u16,
            region: region as u16,
            floodfill,
            bandwidth: spec.bandwidth.unwrap_or(self.scenario.network.bandwidth),
            state: NodeState::Pending,
            epoch: 0,
            armed: Instant::MAX,
            uplink_free: self.start,
            side: false,
            // Every router of a colluding group, also those that join later.
            colluding: matches!(
                behaviour,
                Some(Behaviour::Predecessor { .. } | Behaviour::TierCapture { .. })
            ) || self
                .scenario
                .observers
                .groups
                .iter()
                .any(|g| g == spec.name()),
            destination: None,
            sybil: matches!(behaviour, Some(Behaviour::SybilFloodfill { .. })),
            flooder: matches!(behaviour, Some(Behaviour::Flooder(_))),
            refuses,
        });
        let offset = if spread.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_micros(self.world_rng.gen_range(0..spread.as_micros() as u64))
        };
        self.queue.push(at + offset, Ev::Start(index));
    }

    /// Schedules router `i`'s next client lookup: each online router looks up random
    /// routers as a Poisson process of the scenario's rate.
    fn schedule_lookup(&mut self, i: u32) {
        let per_hour = self.scenario.workload.lookups_per_router_hour;
        if per_hour <= 0.0 {
            return;
        }
        let after = self.exponential(Duration::from_secs_f64(3600.0 / per_hour));
        let epoch = self.nodes[i as usize].epoch;
        self.queue
            .push(self.now + after, Ev::Lookup { router: i, epoch });
    }

    /// Runs to the scenario's stop time.
    pub fn run(mut self, progress: &mut dyn Progress) -> (Outcome, Drops) {
        while let Some(at) = self.queue.peek_time() {
            if at > self.stop {
                break;
            }
            let Some((at, _seq, ev)) = self.queue.pop() else {
                break;
            };
            self.now = at;
            self.step(ev);
            if self.trace.events() % 16_384 == 0 {
                progress.update(
                    at.saturating_duration_since(self.start),
                    self.trace.events(),
                );
            }
        }
        progress.update(
            self.stop.saturating_duration_since(self.start),
            self.trace.events(),
        );
        let floodfills = (0..self.nodes.len() as u32)
            .filter(|i| self.nodes[*i as usize].floodfill)
            .collect();
        let colluders = self.nodes.iter().filter(|n| n.colluding).count() as u64;
        self.metrics
            .set_population(self.nodes.len() as u64, colluders);
        for (metric, value) in self.adversaries.summary(self.start) {
            self.metrics.add_summary(metric, value);
        }
        for (metric, value) in self.flood_summary() {
            self.metrics.add_summary(metric, value);
        }
        for (metric, value) in self.multihoming_delivery() {
            self.metrics.add_summary(metric, value);
        }
        self.finish_streams();
        for (d, s) in &self.signers {
            let (name, publications) = s.signer.publications();
            let metric = format!("{name}_{d}_publications");
            self.metrics.add_summary(&metric, publications as f64);
        }
        let events = self.trace.events();
        let outcome = Outcome {
            trace_hash: self.trace.finish(),
            events,
            routers: self.nodes.len() as u64,
            metrics: self.metrics,
            floodfills,
            adversaries: self.adversaries,
        };
        (outcome, self.drops)
    }

    fn micros(&self) -> u64 {
        self.now.saturating_duration_since(self.start).as_micros() as u64
    }

    fn step(&mut self, ev: Ev) {
        let t = self.micros();
        match ev {
            Ev::Start(i) => {
                self.trace.record(t, tag::START, &[u64::from(i)]);
                self.start_router(i);
            }
            Ev::Deliver {
                to,
                from,
                msg,
                size,
            } => {
                self.trace.record(
                    t,
                    tag::DELIVER,
                    &[u64::from(to), u64::from(from), u64::from(msg.id)],
                );
                self.deliver(to, from, *msg, size);
            }
            Ev::Timer(i) => {
                let node = &self.nodes[i as usize];
                if node.state != NodeState::Online || node.armed != self.now {
                    return; // superseded or the router is down
                }
                self.trace.record(t, tag::TIMER, &[u64::from(i)]);
                let now = self.now;
                let node = &mut self.nodes[i as usize];
                node.armed = Instant::MAX;
                node.router.handle_timeout(now);
                self.drain(i);
            }
            Ev::Scenario(k) => {
                self.trace.record(t, tag::SCENARIO, &[u64::from(k)]);
                self.apply(k as usize);
            }
            Ev::Restart { router, epoch } => {
                if self.nodes[router as usize].epoch != epoch
                    || self.nodes[router as usize].state != NodeState::Down
                {
                    return;
                }
                self.trace.record(t, tag::RESTART, &[u64::from(router)]);
                self.bring_online(router);
            }
            Ev::ChurnDown { router, epoch } => {
                let node = &self.nodes[router as usize];
                if node.epoch != epoch || node.state != NodeState::Online {
                    return;
                }
                self.trace.record(t, tag::CHURN_DOWN, &[u64::from(router)]);
                let downtime = self.churn_of(router).map(|(_, down)| down);
                self.take_down(router, NodeState::Down);
                if let Some(mean) = downtime {
                    let after = self.exponential(mean);
                    let epoch = self.nodes[router as usize].epoch;
                    self.queue
                        .push(self.now + after, Ev::Restart { router, epoch });
                }
            }
            Ev::Lookup { router, epoch } => {
                let node = &self.nodes[router as usize];
                if node.epoch != epoch || node.state != NodeState::Online {
                    return;
                }
                self.trace.record(t, tag::WORKLOAD, &[u64::from(router)]);
                self.client_lookup(router);
                self.schedule_lookup(router);
            }
            Ev::Message { destination, epoch } => {
                let router = self.destinations[destination as usize].router;
                let node = &self.nodes[router as usize];
                if node.epoch != epoch || node.state != NodeState::Online {
                    return;
                }
                self.trace
                    .record(t, tag::MESSAGE, &[u64::from(destination)]);
                self.send_request(destination);
                self.schedule_message(destination);
            }
            Ev::Balance { destination } => {
                self.trace
                    .record(t, tag::BALANCE, &[u64::from(destination)]);
                self.balance(destination);
            }
            Ev::Degrade { router } => {
                let down = self
                    .adversaries
                    .tier_capture
                    .as_ref()
                    .and_then(|l| l.degrade);
                if let Some(down) = down {
                    self.knock_down(router, down);
                }
            }
            Ev::Sample => {
                self.sample();
                self.queue
                    .push(self.now + self.sample_interval(), Ev::Sample);
            }
            Ev::Flood {
                router,
                kind,
                epoch,
            } => {
                let node = &self.nodes[router as usize];
                if node.epoch != epoch || node.state != NodeState::Online {
                    return;
                }
                self.trace
                    .record(t, tag::FLOOD, &[u64::from(router), kind as u64]);
                self.flood(router, kind);
                if let Some(interval) = self.flood_interval(router, kind) {
                    self.queue.push(
                        self.now + interval,
                        Ev::Flood {
                            router,
                            kind,
                            epoch,
                        },
                    );
                }
            }
            Ev::Streams(timer) => self.on_streams_timer(t, timer),
            Ev::FloodMark => {
                let loads = self.victim_loads();
                if let Some(watch) = &mut self.adversaries.flood {
                    watch.mark(&loads);
                }
            }
        }
    }

    /// Starts a router for the first time: reseed, then online.
    fn start_router(&mut self, i: u32) {
        if self.nodes[i as usize].state != NodeState::Pending {
            return;
        }
        let mut bundle = self.reseed_bundle(i);
        if self.scenario.bootstrap.warm_floodfills && self.nodes[i as usize].floodfill {
            bundle.extend(
                self.nodes
                    .iter()
                    .filter(|n| {
                        n.floodfill && matches!(n.state, NodeState::Online | NodeState::Pending)
                    })
                    .map(|n| n.router.router_info().clone()),
            );
        }
        let now = self.now;
        self.nodes[i as usize].router.bootstrap(now, bundle);
        self.bring_online(i);
    }

    /// RouterInfos for a starting router: random routers that are online or about to
    /// start (the reseed server's view), with at least a few floodfills among them.
    fn reseed_bundle(&mut self, for_router: u32) -> Vec<Arc<RouterInfo>> {
        let wanted = self.scenario.bootstrap.reseed_routers as usize;
        let candidates: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|&j| {
                j != for_router
                    && matches!(
                        self.nodes[j as usize].state,
                        NodeState::Online | NodeState::Pending
                    )
            })
            .collect();
        let mut chosen: Vec<u32> = candidates
            .choose_multiple(&mut self.world_rng, wanted)
            .copied()
            .collect();
        let floodfills = chosen
            .iter()
            .filter(|j| self.nodes[**j as usize].floodfill)
            .count();
        if floodfills < RESEED_MIN_FLOODFILLS {
            let extra: Vec<u32> = candidates
                .iter()
                .filter(|j| self.nodes[**j as usize].floodfill && !chosen.contains(j))
                .copied()
                .collect::<Vec<_>>()
                .choose_multiple(&mut self.world_rng, RESEED_MIN_FLOODFILLS - floodfills)
                .copied()
                .collect();
            chosen.extend(extra);
        }
        chosen
            .into_iter()
            .map(|j| self.nodes[j as usize].router.router_info().clone())
            .collect()
    }

    fn bring_online(&mut self, i: u32) {
        let now = self.now;
        let node = &mut self.nodes[i as usize];
        node.state = NodeState::Online;
        node.epoch += 1;
        node.armed = Instant::MAX;
        // Starting is restarting with whatever the netDb holds: nothing is in flight.
        node.router.restart(now);
        self.online.insert(i);
        self.drain(i);
        self.schedule_lookup(i);
        self.schedule_floods(i);
        if let Some((d, added)) = self.nodes[i as usize].destination {
            self.observe_edge(i, d, true);
            if added.is_none() {
                self.add_destination(i, d);
            }
            // A multihomed destination's own messages leave from its first router.
            if self.destinations[d as usize].router == i {
                self.schedule_message(d);
            }
            self.streams_online(i, d);
        }
        if let Some((uptime, _)) = self.churn_of(i) {
            let after = self.exponential(uptime);
            let epoch = self.nodes[i as usize].epoch;
            self.queue
                .push(now + after, Ev::ChurnDown { router: i, epoch });
        }
    }

    fn take_down(&mut self, i: u32, state: NodeState) {
        let node = &mut self.nodes[i as usize];
        node.state = state;
        node.epoch += 1;
        node.armed = Instant::MAX;
        self.online.remove(i);
        if let Some((d, _)) = self.nodes[i as usize].destination {
            self.observe_edge(i, d, false);
            if let Some(s) = self.signers.get_mut(&d) {
                s.signer.on_edge_down(i);
                self.arm_signer(d);
            }
        }
    }

    /// Router `router`, one of destination `d`'s, came online or went down: the truth
    /// an observer of a MetaLeaseSet tries to learn (only meta destinations log it).
    fn observe_edge(&mut self, router: u32, d: u32, online: bool) {
        let hosted = &self.destinations[d as usize];
        let Some(edge) = hosted.routers.iter().position(|r| *r == router) else {
            return;
        };
        if let (Some(observer), false) = (
            &mut self.adversaries.netdb_observer,
            hosted.edges.is_empty(),
        ) {
            observer.on_edge(self.now, d, edge as u32, router, online);
        }
    }

    /// Mean uptime and downtime of the churn that applies to router `i`, if any.
    fn churn_of(&self, i: u32) -> Option<(Duration, Duration)> {
        let group = self.scenario.routers[self.nodes[i as usize].group as usize].name();
        self.scenario
            .churn
            .iter()
            .find(|c| c.group == group)
            .map(|c| (c.mean_uptime.0, c.mean_downtime.0))
    }

    fn exponential(&mut self, mean: Duration) -> Duration {
        let u: f64 = self.world_rng.gen_range(f64::EPSILON..1.0);
        mean.mul_f64(-u.ln())
    }

    /// Chooses the routers that host client destinations and derives their keys.
    fn place_destinations(&mut self, seed: u64) {
        let wanted = self.scenario.clients.destinations as usize;
        if wanted == 0 {
            return;
        }
        let hosts: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|i| {
                let node = &self.nodes[*i as usize];
                !node.floodfill && self.scenario.behaviour_of(node.group as usize).is_none()
            })
            .collect();
        let mut rng = derive_rng(seed, Stream::DestinationHosts, 0);
        let chosen: Vec<u32> = hosts.choose_multiple(&mut rng, wanted).copied().collect();
        for (d, &router) in chosen.iter().enumerate() {
            let keys = destination_keys(seed, d as u32);
            self.destinations.push(Hosted {
                router,
                routers: vec![router],
                gateways: Vec::new(),
                hash: keys.hash(),
                keys,
                edges: Vec::new(),
            });
            self.nodes[router as usize].destination = Some((d as u32, None));
        }
        // Multihomed destinations get their further routers from the routers left, from
        // a stream of their own: scenarios without multihoming draw nothing more.
        let multihomed = &self.scenario.clients.multihomed;
        if multihomed
            .iter()
            .all(|m| m.routers <= 1 && m.shared_gateways == 0 && m.mode == MultihomingMode::Naive)
        {
            return;
        }
        let mut free: Vec<u32> = hosts
            .into_iter()
            .filter(|i| self.nodes[*i as usize].destination.is_none())
            .collect();
        let mut rng = derive_rng(seed, Stream::Multihoming, 0);
        for m in multihomed.clone() {
            let extra = (m.routers.saturating_sub(1) as usize).min(free.len());
            let picked: Vec<u32> = free.choose_multiple(&mut rng, extra).copied().collect();
            free.retain(|i| !picked.contains(i));
            for router in picked {
                self.destinations[m.destination as usize]
                    .routers
                    .push(router);
                self.nodes[router as usize].destination = Some((m.destination, None));
            }
            let shared = (m.shared_gateways as usize).min(free.len());
            let gateways: Vec<u32> = free.choose_multiple(&mut rng, shared).copied().collect();
            free.retain(|i| !gateways.contains(i));
            self.destinations[m.destination as usize].gateways = gateways
                .into_iter()
                .map(|i| self.nodes[i as usize].router.hash())
                .collect();
            let hosted = &mut self.destinations[m.destination as usize];
            let keys = hosted.keys.clone();
            let signer = match m.mode {
                MultihomingMode::Naive => continue,
                MultihomingMode::Balancer => {
                    Signer::Balancer(Balancer::new(keys, BalancerConfig::default()))
                }
                MultihomingMode::Meta => {
                    // Keys of their own, from a stream of their own.
                    hosted.edges = (0..hosted.routers.len() as u64)
                        .map(|e| {
                            let index = u64::from(m.destination) << 8 | e;
                            DestinationKeys::generate(&mut derive_rng(
                                seed,
                                Stream::MetaEdge,
                                index,
                            ))
                        })
                        .collect();
                    let targets = hosted.edges.iter().map(DestinationKeys::hash).collect();
                    Signer::Meta(MetaPublisher::new(keys, targets, MetaConfig::default()))
                }
            };
            self.signers.insert(
                m.destination,
                Signing {
                    signer,
                    armed: Instant::MAX,
                },
            );
        }
    }

    /// With multihomed destinations, the floodfills log the LeaseSet stores of every
    /// destination for the netDb observer.
    fn watch_netdb(&mut self) {
        let multihomed = &self.scenario.clients.multihomed;
        if multihomed.is_empty() {
            return;
        }
        let targets = multihomed.iter().map(|m| m.destination).collect();
        let destinations: Vec<(Hash, u32, u32)> = self
            .destinations
            .iter()
            .enumerate()
            .map(|(d, h)| (h.hash, d as u32, h.routers.len() as u32))
            .collect();
        let colluding_floodfills = self.nodes.iter().any(|n| n.floodfill && n.colluding);
        let mut observer = NetDbObserver::new(
            destinations,
            targets,
            self.start,
            self.start + self.scenario.general.warmup.0,
            self.stop,
            colluding_floodfills,
        );
        for (d, hosted) in self.destinations.iter().enumerate() {
            observer.watch_edges(d as u32, hosted.edges.iter().map(DestinationKeys::hash));
        }
        self.adversaries.netdb_observer = Some(observer);
    }

    /// Sets up what the adversaries log, once destinations are placed.
    fn watch_adversaries(&mut self, seed: u64) {
        for (i, adversary) in self.scenario.adversaries.iter().enumerate() {
            match adversary.behaviour {
                Behaviour::SybilFloodfill { target, .. } => {
                    // Known already: spawning the Sybils needed it.
                    let target = self
                        .sybil_target
                        .unwrap_or_else(|| destination_keys(seed, target).hash());
                    self.adversaries.sybil =
                        Adversaries::watch_sybils(&self.scenario, self.start, target);
                }
                Behaviour::Predecessor { victim } => {
                    let router = self.destinations[victim as usize].router;
                    let honest = self.nodes.iter().filter(|n| !n.colluding).count() as u64;
                    let victim = self.nodes[router as usize].router.hash();
                    self.adversaries.predecessor = Some(PredecessorLog::new(victim, honest));
                }
                Behaviour::TierCapture {
                    victim, degrade, ..
                } => {
                    let router = self.destinations[victim as usize].router;
                    let victim = self.nodes[router as usize].router.hash();
                    let group =
                        self.scenario
                            .routers
                            .iter()
                            .position(|g| g.adversary == Some(i))
                            .expect("every adversary has its group") as u16;
                    let since = self.start + self.scenario.general.warmup.0;
                    self.adversaries.tier_capture =
                        Some(TierCaptureLog::new(victim, group, since, degrade));
                }
                Behaviour::Flooder(ref flood) => {
                    let victims = self.choose_victims(seed, &flood.targets, flood.victims);
                    let flood_start = self.start + flood.flood_start;
                    self.adversaries.flood = Some(FloodWatch::new(victims, flood_start, seed));
                    self.queue
                        .push(self.start + self.scenario.general.warmup.0, Ev::FloodMark);
                }
            }
        }
    }

    /// The flood's victims: `count` of the initial honest routers that `targets` names
    /// (all of them without a count), chosen at random.
    fn choose_victims(&self, seed: u64, targets: &FloodTargets, count: Option<u32>) -> Vec<u32> {
        let group = match targets {
            FloodTargets::Group(name) => self.scenario.group_index(name),
            _ => None,
        };
        let candidates: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|i| {
                let node = &self.nodes[*i as usize];
                let honest = self.scenario.behaviour_of(node.group as usize).is_none();
                honest
                    && match targets {
                        FloodTargets::Floodfills => node.floodfill,
                        FloodTargets::Routers => !node.floodfill,
                        FloodTargets::Group(_) => Some(node.group as usize) == group,
                    }
            })
            .collect();
        let n = count.map_or(candidates.len(), |c| c as usize);
        let mut victims: Vec<u32> = candidates
            .choose_multiple(&mut derive_rng(seed, Stream::FloodVictims, 0), n)
            .copied()
            .collect();
        victims.sort_unstable();
        victims
    }

    /// The time between flooder `router`'s messages of `kind`; `None` if it sends none.
    fn flood_interval(&self, router: u32, kind: FloodKind) -> Option<Duration> {
        match self
            .scenario
            .behaviour_of(self.nodes[router as usize].group as usize)
        {
            Some(Behaviour::Flooder(flood)) => flood.rates.interval(kind),
            _ => None,
        }
    }

    /// Starts flooder `i`'s timers as it comes online: each kind at its own rate, evenly
    /// spaced, from the flood's start (or now, if later) plus a random phase.
    fn schedule_floods(&mut self, i: u32) {
        if !self.nodes[i as usize].flooder {
            return;
        }
        let intervals: Vec<(FloodKind, Duration)> = FloodKind::ALL
            .into_iter()
            .filter_map(|kind| Some((kind, self.flood_interval(i, kind)?)))
            .collect();
        let Some(watch) = &mut self.adversaries.flood else {
            return;
        };
        let node = &self.nodes[i as usize];
        let begins = watch.flood_start.max(self.now);
        for (kind, interval) in intervals {
            let at = begins + watch.phase(i, &node.router, interval);
            let epoch = node.epoch;
            self.queue.push(
                at,
                Ev::Flood {
                    router: i,
                    kind,
                    epoch,
                },
            );
        }
    }

    /// Sends flooder `router`'s next message of `kind` to a victim drawn at random.
    fn flood(&mut self, router: u32, kind: FloodKind) {
        let Some(watch) = &mut self.adversaries.flood else {
            return;
        };
        let flooder = &self.nodes[router as usize].router;
        let victim = watch.pick_victim(router, flooder);
        let victim_info = self.nodes[victim as usize].router.router_info();
        let aim = Aim {
            flooder,
            victim: victim_info,
        };
        let to = victim_info.hash();
        if let Some(msg) = watch.message(router, kind, self.now, aim) {
            self.send(router, to, msg);
        }
    }

    /// Every victim's load, in the order of `FloodWatch::victims`.
    fn victim_loads(&self) -> Vec<ramsons_router::Load> {
        self.adversaries
            .flood
            .as_ref()
            .map_or_else(Vec::new, |watch| {
                watch
                    .victims
                    .iter()
                    .map(|v| self.nodes[*v as usize].router.load())
                    .collect()
            })
    }

    /// What the victims hold and did in the interval ending now.
    fn sample_flood(&mut self, now: Instant) {
        let loads = self.victim_loads();
        let Some(watch) = &mut self.adversaries.flood else {
            return;
        };
        let online = watch
            .victims
            .iter()
            .filter(|v| self.nodes[**v as usize].state == NodeState::Online)
            .count();
        let time_s = now.saturating_duration_since(self.start).as_secs_f64();
        watch.sample(time_s, &loads, online);
    }

    /// The flood's scalars for `summary.csv` (none without a flood).
    fn flood_summary(&self) -> Vec<(String, f64)> {
        let Some(watch) = &self.adversaries.flood else {
            return Vec::new();
        };
        let since_start = |t: Instant| t.saturating_duration_since(self.start).as_secs_f64();
        let nodes = &self.nodes;
        watch.summary(
            since_start(watch.flood_start),
            self.sample_interval().as_secs_f64(),
            self.metrics.lookups(),
            self.metrics.tunnel_builds(),
            |r| nodes.get(r as usize).is_some_and(|n| n.flooder),
        )
    }

    /// Whether multihoming still delivers: the share of requests to the multihomed
    /// destinations delivered (`multihoming_target_delivery_success`) and of those to the
    /// others (`multihoming_others_delivery_success`), and the share of the replies the
    /// multihomed destinations sent (from whichever router the request reached) that were
    /// delivered.
    fn multihoming_delivery(&self) -> Vec<(String, f64)> {
        let multihomed = &self.scenario.clients.multihomed;
        if multihomed.is_empty() {
            return Vec::new();
        }
        let target = |d: u32| multihomed.iter().any(|m| m.destination == d);
        let records = self.metrics.deliveries();
        let share = |keep: &dyn Fn(&DeliveryRecord) -> bool| {
            let kept: Vec<&DeliveryRecord> = records.iter().filter(|r| keep(r)).collect();
            (!kept.is_empty()).then(|| {
                kept.iter().filter(|r| r.is_delivered()).count() as f64 / kept.len() as f64
            })
        };
        let request = |r: &DeliveryRecord| r.kind == "request";
        [
            (
                "multihoming_target_delivery_success",
                share(&|r| request(r) && target(r.to)),
            ),
            (
                "multihoming_others_delivery_success",
                share(&|r| request(r) && !target(r.to)),
            ),
            (
                "multihoming_target_reply_success",
                share(&|r| !request(r) && target(r.from)),
            ),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
        .collect()
    }

    /// Adds destination `d` to its router, on the router's first start. With a signer,
    /// the router runs `d`'s keys as a balanced destination that publishes what the
    /// signer hands it. A balancer's edge runs nothing else; a meta destination's router
    /// also runs its own edge destination, the one the MetaLeaseSet lists.
    fn add_destination(&mut self, router: u32, d: u32) {
        let hosted = &self.destinations[d as usize];
        let keys = hosted.keys.clone();
        let edge_keys = hosted
            .routers
            .iter()
            .position(|r| *r == router)
            .and_then(|e| hosted.edges.get(e))
            .cloned();
        let rules = (!hosted.gateways.is_empty()).then(|| SelectionRules {
            gateways: hosted.gateways.clone(),
            ..self
                .scenario
                .clients
                .selection
                .over(SelectionRules::client())
        });
        let now = self.now;
        let node = &mut self.nodes[router as usize];
        let signer = self.signers.get_mut(&d);
        let balanced = signer.as_ref().map(|_| {
            node.router
                .add_balanced_destination(now, keys.clone(), rules.clone())
                .ok()
        });
        let own = match (edge_keys, balanced) {
            (None, Some(balanced)) => balanced,
            (edge_keys, _) => {
                let keys = edge_keys.unwrap_or(keys);
                match rules {
                    Some(rules) => node.router.add_destination_with_rules(now, keys, rules),
                    None => node.router.add_destination(now, keys),
                }
                .ok()
            }
        };
        if let Some(id) = own {
            node.destination = Some((d, Some(id)));
        }
        if let (Some(s), Some(Some(id))) = (signer, balanced) {
            s.signer.add_edge(router, id);
        }
        self.drain(router);
    }

    /// Schedules destination `d`'s signer for when it wants to publish, unless that is
    /// already scheduled.
    fn arm_signer(&mut self, d: u32) {
        let Some(s) = self.signers.get_mut(&d) else {
            return;
        };
        let Some(at) = s.signer.next_poll() else {
            return;
        };
        let at = at.max(self.now);
        if at < s.armed {
            s.armed = at;
            self.queue.push(at, Ev::Balance { destination: d });
        }
    }

    /// Destination `d`'s signer publishes, if it has news, through the edge it names
    /// (proposal 140's "Publish LeaseSet"; proposal 123's MetaLeaseSet likewise).
    fn balance(&mut self, d: u32) {
        let now = self.now;
        let Some(s) = self.signers.get_mut(&d) else {
            return;
        };
        if s.armed > now {
            return; // superseded by an earlier one
        }
        s.armed = Instant::MAX;
        if let Some(p) = s.signer.poll(now) {
            let node = &mut self.nodes[p.router as usize];
            if node.state == NodeState::Online {
                // Refused only if not newer, which the signers' dates rule out.
                let _ = match p.signed {
                    Signed::LeaseSet2(ls) => node.router.publish_lease_set(now, p.destination, ls),
                    Signed::Meta(meta) => {
                        node.router.publish_meta_lease_set(now, p.destination, meta)
                    }
                };
                self.drain(p.router);
            }
        }
        self.arm_signer(d);
    }

    /// Schedules destination `d`'s next message, a Poisson process of the scenario's rate.
    fn schedule_message(&mut self, d: u32) {
        let per_hour = self.scenario.clients.messages_per_destination_hour;
        if per_hour <= 0.0 || self.destinations.len() < 2 {
            return;
        }
        let after = self.exponential(Duration::from_secs_f64(3600.0 / per_hour));
        let router = self.destinations[d as usize].router;
        let epoch = self.nodes[router as usize].epoch;
        self.queue.push(
            self.now + after,
            Ev::Message {
                destination: d,
                epoch,
            },
        );
    }

    /// Destination `from` sends a request to another destination drawn at random.
    fn send_request(&mut self, from: u32) {
        let n = self.destinations.len() as u32;
        let to = (from + self.world_rng.gen_range(1..n)) % n;
        let router = self.destinations[from as usize].router;
        self.send_app_message(router, from, to, AppMessage::REQUEST, 0);
    }

    /// Sends one application message from destination `from` on `router` (one of its
    /// routers) and records it; `answers` is the number of the request a reply answers.
    fn send_app_message(&mut self, router: u32, from: u32, to: u32, kind: u8, answers: u64) {
        // Nothing is sent in the last minute (a message's lifetime): a message still in
        // flight at the end would count as lost.
        if self.now + APP_MESSAGE_DRAIN > self.stop {
            return;
        }
        let Some((_, Some(id))) = self.nodes[router as usize].destination else {
            return;
        };
        self.messages_sent += 1;
        let message = AppMessage {
            number: self.messages_sent,
            from,
            kind,
            answers,
        };
        let payload = message.encode(self.scenario.clients.message_size);
        self.metrics
            .on_message_sent(self.now, message.number, from, to, kind);
        let to_hash = self.destinations[to as usize].hash;
        let now = self.now;
        let sent =
            self.nodes[router as usize]
                .router
                .send(now, id, to_hash, message.number, payload);
        if sent.is_err() {
            self.metrics
                .on_message_failed(message.number, DeliveryRecord::FAILED);
        }
        self.drain(router);
    }

    fn on_client_event(&mut self, router: u32, event: ClientEvent) {
        match event {
            ClientEvent::Received { payload, .. } => {
                let Some(message) = AppMessage::decode(&payload) else {
                    return;
                };
                self.metrics.on_message_delivered(self.now, message.number);
                let me = self.nodes[router as usize].destination.map(|(d, _)| d);
                if let (Some(me), AppMessage::REQUEST, true) =
                    (me, message.kind, self.scenario.clients.reply)
                {
                    // Answered by whichever of its routers the request reached.
                    self.send_app_message(
                        router,
                        me,
                        message.from,
                        AppMessage::REPLY,
                        message.number,
                    );
                }
            }
            ClientEvent::SendFailed {
                reference, reason, ..
            } => {
                let outcome = match reason {
                    SendFailure::NoLeaseSet | SendFailure::NotAuthorised => {
                        DeliveryRecord::NO_LEASE_SET
                    }
                    SendFailure::NoTunnel => DeliveryRecord::NO_TUNNEL,
                    SendFailure::TooLarge => DeliveryRecord::FAILED,
                };
                self.metrics.on_message_failed(reference, outcome);
            }
            ClientEvent::Delivered {
                reference, after, ..
            } => self.metrics.on_message_confirmed(reference, after),
            ClientEvent::InboundTunnels {
                destination,
                leases,
            } => {
                let Some((d, _)) = self.nodes[router as usize].destination else {
                    return;
                };
                if let Some(s) = self.signers.get_mut(&d) {
                    s.signer.on_tunnels(router, destination, leases);
                    self.arm_signer(d);
                }
            }
            ClientEvent::Stream { destination, event } => {
                self.on_stream_event(router, destination, event)
            }
            // No workload sends datagrams yet.
            ClientEvent::LeaseSetPublished { .. }
            | ClientEvent::TunnelStatus { .. }
            | ClientEvent::Datagram { .. } => {}
        }
    }

    /// Pools what colluding routers see, and whether they hold both ends of a tunnel.
    /// Only tunnels built by honest routers count: a colluder's own tunnels tell it nothing.
    fn observe(&mut self, router: u32, event: &TunnelEvent) {
        let reporter_colludes = self.nodes[router as usize].colluding;
        match event {
            TunnelEvent::BuildFinished {
                hops,
                outcome: BuildOutcome::Built,
                started,
                ..
            } if !reporter_colludes => {
                let colluding = |h: Option<&Hash>| {
                    h.and_then(|h| self.by_hash.get(h))
                        .is_some_and(|j| self.nodes[*j as usize].colluding)
                };
                let both = colluding(hops.first()) && colluding(hops.last());
                self.metrics.on_tunnel_built(*started, both);
            }
            TunnelEvent::Joined { .. } if reporter_colludes => {
                self.metrics.on_observation(self.now);
            }
            _ => {}
        }
    }

    /// A client tunnel built by router `router`, for the adversaries watching its builder.
    fn log_client_tunnel(&mut self, router: u32, event: &TunnelEvent) {
        let TunnelEvent::BuildFinished {
            pool: PoolId::Client(_),
            direction,
            hops,
            outcome: BuildOutcome::Built,
            started,
            ..
        } = event
        else {
            return;
        };
        let builder = self.nodes[router as usize].router.hash();
        let (nodes, by_hash) = (&self.nodes, &self.by_hash);
        let node_of = |h: &Hash| by_hash.get(h).map(|j| &nodes[*j as usize]);
        if let Some(log) = &mut self.adversaries.predecessor {
            if log.victim == builder {
                let time_s = self.now.saturating_duration_since(self.start).as_secs_f64();
                let colluding = |h: &Hash| node_of(h).is_some_and(|n| n.colluding);
                log.on_tunnel_built(time_s, *direction, hops, colluding);
            }
        }
        let mut degrade = Vec::new();
        if let Some(log) = &mut self.adversaries.tier_capture {
            if log.victim == builder {
                let group = log.group;
                let theirs = |h: &Hash| node_of(h).is_some_and(|n| n.group == group);
                degrade = log.on_tunnel_built(*started, *direction, hops, theirs);
            }
        }
        if !degrade.is_empty() {
            self.degrade(&degrade);
        }
    }

    /// The tier-capture adversary's denial of service on `routers`, once the tunnel it saw
    /// them in has expired: a victim that tests a tunnel whose hop went down blames every
    /// hop, the adversary's too.
    fn degrade(&mut self, routers: &[Hash]) {
        let lifetime = self
            .scenario
            .tunnels
            .config()
            .map_or(Duration::ZERO, |t| t.lifetime);
        for hash in routers {
            if let Some(&router) = self.by_hash.get(hash) {
                self.queue.push(self.now + lifetime, Ev::Degrade { router });
            }
        }
    }

    /// Router `i`, if online, goes down and comes back after `down` with what it held, as
    /// after a crash.
    fn knock_down(&mut self, i: u32, down: Duration) {
        if self.nodes[i as usize].state != NodeState::Online {
            return;
        }
        self.trace
            .record(self.micros(), tag::DEGRADE, &[u64::from(i)]);
        self.take_down(i, NodeState::Down);
        let epoch = self.nodes[i as usize].epoch;
        self.queue
            .push(self.now + down, Ev::Restart { router: i, epoch });
        if let Some(log) = &mut self.adversaries.tier_capture {
            log.on_degraded(1);
        }
    }

    /// Hands everything router `i` wants done to the world.
    fn drain(&mut self, i: u32) {
        if let Some(key) = self.nodes[i as usize].refuses {
            return self.drain_refusing(i, key);
        }
        loop {
            let output = self.nodes[i as usize].router.poll_output();
            if self.handle_output(i, output) {
                return;
            }
        }
    }

    /// A refusing Sybil's outputs: it runs the real floodfill code, then leaves lookups
    /// for `key` unanswered and never floods `key` on (stores are still acknowledged, so
    /// the publisher believes it stored). Handling one input yields the answer before the
    /// event that says what was asked, so the outputs of an input are looked at together.
    fn drain_refusing(&mut self, i: u32, key: Hash) {
        let mut outputs = Vec::new();
        loop {
            let output = self.nodes[i as usize].router.poll_output();
            let last = matches!(output, Output::Timeout(_));
            outputs.push(output);
            if last {
                break;
            }
        }
        let asked = outputs.iter().any(|o| {
            matches!(o, Output::Event(Event::NetDb(NetDbEvent::LookupReceived { key: k, .. })) if *k == key)
        });
        for output in outputs {
            let suppressed = match &output {
                Output::Send { msg, .. } => {
                    asked
                        || matches!(&msg.body, MessageBody::DatabaseStore(store) if store.key == key)
                }
                _ => false,
            };
            if !suppressed {
                self.handle_output(i, output);
            }
        }
    }

    /// Acts on one output of router `i`; true when it was the last (the next timeout).
    fn handle_output(&mut self, i: u32, output: Output) -> bool {
        {
            match output {
                Output::Send { to, msg } => self.send(i, to, msg),
                Output::Event(Event::NetDb(event)) => {
                    let node = &self.nodes[i as usize];
                    if let Some(watch) = &mut self.adversaries.sybil {
                        watch.on_netdb_event(node.sybil, &event);
                    }
                    if let (
                        Some(observer),
                        NetDbEvent::StoreReceived {
                            key,
                            flooded,
                            outcome,
                            entry,
                            ..
                        },
                        true,
                    ) = (&mut self.adversaries.netdb_observer, &event, node.floodfill)
                    {
                        let store = Receipt {
                            now: self.now,
                            floodfill: i,
                            colluding: node.colluding,
                            key: *key,
                            flooded: *flooded,
                            outcome: *outcome,
                        };
                        match entry {
                            StoreEntry::LeaseSet2(ls) => {
                                let by_hash = &self.by_hash;
                                observer.on_store(&store, ls, |h| by_hash.get(h).copied());
                            }
                            StoreEntry::MetaLeaseSet(meta) => observer.on_meta_store(&store, meta),
                            _ => {}
                        }
                    }
                    self.metrics.on_event(self.now, i, node.floodfill, &event);
                }
                Output::Event(Event::Tunnel(event)) => {
                    self.observe(i, &event);
                    self.log_client_tunnel(i, &event);
                    self.metrics.on_tunnel_event(self.now, i, &event);
                }
                Output::Event(Event::Client(event)) => self.on_client_event(i, event),
                Output::Event(_) => {}
                Output::Timeout(at) => {
                    // A deadline already past is due now; arming the past would never fire.
                    let at = at.max(self.now);
                    let node = &mut self.nodes[i as usize];
                    if at != node.armed && at != Instant::MAX {
                        node.armed = at;
                        self.queue.push(at, Ev::Timer(i));
                    }
                    return true;
                }
            }
        }
        false
    }

    fn send(&mut self, from: u32, to_hash: Hash, msg: I2npMessage) {
        let t = self.micros();
        let Some(&to) = self.by_hash.get(&to_hash) else {
            self.trace.record(t, tag::DROP, &[u64::from(from), 0]);
            return;
        };
        if self.links.lost(&mut self.net_rng) {
            self.drops.lost += 1;
            self.trace.record(t, tag::DROP, &[u64::from(from), 1]);
            return;
        }
        if self.cut(from, to) {
            self.drops.partitioned += 1;
            self.trace.record(t, tag::DROP, &[u64::from(from), 2]);
            return;
        }
        let size = wire_size(&msg);
        let (from_region, to_region) = (
            self.nodes[from as usize].region as usize,
            self.nodes[to as usize].region as usize,
        );
        let delay = self.links.delay(from_region, to_region, &mut self.net_rng);
        let node = &mut self.nodes[from as usize];
        let leaves = node.uplink_free.max(self.now) + node.bandwidth.transmit_time(size);
        node.uplink_free = leaves;
        self.trace.record(
            t,
            tag::SEND,
            &[u64::from(from), u64::from(to), u64::from(msg.id)],
        );
        self.queue.push(
            leaves + delay,
            Ev::Deliver {
                to,
                from,
                msg: Box::new(msg),
                size: size as u32,
            },
        );
    }

    /// Whether a partition separates `a` and `b`.
    fn cut(&self, a: u32, b: u32) -> bool {
        self.partitioned && self.nodes[a as usize].side != self.nodes[b as usize].side
    }

    fn deliver(&mut self, to: u32, from: u32, msg: I2npMessage, size: u32) {
        if self.nodes[to as usize].state != NodeState::Online {
            self.drops.offline += 1;
            return;
        }
        if self.cut(from, to) {
            self.drops.partitioned += 1;
            return;
        }
        let now = self.now;
        let from_hash = self.nodes[from as usize].router.hash();
        // NTCP2 carries the sender's RouterInfo when it opens a session. Sessions are not
        // modelled: a router that does not know the sender is taken to be meeting it.
        if !self.nodes[to as usize]
            .router
            .netdb()
            .store()
            .contains(&from_hash)
        {
            let info = self.nodes[from as usize].router.router_info().clone();
            self.nodes[to as usize].router.handle_peer_info(now, info);
        }
        let node = &mut self.nodes[to as usize];
        self.metrics
            .on_delivery(now, to, node.floodfill, size as usize);
        node.router.handle_message(now, from_hash, msg);
        self.drain(to);
    }

    /// A client lookup by `requester` of a random router of the run.
    fn client_lookup(&mut self, requester: u32) {
        let target = self.world_rng.gen_range(0..self.nodes.len() as u32);
        if target == requester {
            return;
        }
        let key = self.nodes[target as usize].router.hash();
        let now = self.now;
        let _ = self.nodes[requester as usize].router.lookup(now, key);
        self.drain(requester);
    }

    fn apply(&mut self, k: usize) {
        let action = self.scenario.events[k].action.clone();
        match action {
            Action::Join {
                group,
                count,
                spread,
            } => {
                let Some(g) = self.scenario.group_index(&group) else {
                    return;
                };
                for _ in 0..count {
                    self.spawn(g, self.now, spread.0);
                }
            }
            Action::Withdraw { group, amount } => {
                self.metrics.note_withdrawal(self.now);
                for i in self.pick_online(&group, amount) {
                    self.take_down(i, NodeState::Gone);
                }
            }
            Action::Crash {
                group,
                amount,
                down,
            } => {
                for i in self.pick_online(&group, amount) {
                    self.take_down(i, NodeState::Down);
                    if let Some(down) = down {
                        let epoch = self.nodes[i as usize].epoch;
                        self.queue
                            .push(self.now + down.0, Ev::Restart { router: i, epoch });
                    }
                }
            }
            Action::Partition(side) => {
                for node in &mut self.nodes {
                    node.side = false;
                }
                match side {
                    PartitionSide::Group(group) => {
                        let g = self.scenario.group_index(&group).unwrap_or(usize::MAX);
                        for node in &mut self.nodes {
                            node.side = node.group as usize == g;
                        }
                    }
                    PartitionSide::Fraction(f) => {
                        let mut online = self.online.members().to_vec();
                        online.sort_unstable();
                        let n = ((online.len() as f64) * f).round() as usize;
                        for i in online.choose_multiple(&mut self.world_rng, n) {
                            self.nodes[*i as usize].side = true;
                        }
                    }
                }
                self.partitioned = true;
            }
            Action::Heal => self.partitioned = false,
        }
    }

    /// `amount` of the online routers of `group`, chosen at random.
    fn pick_online(&mut self, group: &str, amount: Amount) -> Vec<u32> {
        let Some(g) = self.scenario.group_index(group) else {
            return Vec::new();
        };
        let mut members: Vec<u32> = self
            .online
            .members()
            .iter()
            .copied()
            .filter(|i| self.nodes[*i as usize].group as usize == g)
            .collect();
        members.sort_unstable();
        let n = amount.of(members.len());
        members
            .choose_multiple(&mut self.world_rng, n)
            .copied()
            .collect()
    }

    /// Records the time series: store counters and netDb coverage per role.
    fn sample(&mut self) {
        let now = self.now;
        self.metrics.end_interval(now);
        self.sample_tunnels(now);
        self.sample_sybils(now);
        self.sample_tier_capture(now);
        self.sample_flood(now);
        if self
            .scenario
            .metrics
            .record
            .contains(&crate::scenario::Metric::Islands)
        {
            self.sample_islands(now);
        }
        let online_total = self.online.len() as u64;
        for (role, floodfill) in [
            (CoverageRecord::FLOODFILL, true),
            (CoverageRecord::ROUTER, false),
        ] {
            let mut members: Vec<u32> = self
                .online
                .members()
                .iter()
                .copied()
                .filter(|i| self.nodes[*i as usize].floodfill == floodfill)
                .collect();
            members.sort_unstable();
            let known = members
                .iter()
                .map(|i| self.nodes[*i as usize].router.netdb().store().len() as u64)
                .collect();
            let n = self.scenario.metrics.coverage_sample.min(members.len());
            let coverage = members
                .choose_multiple(&mut self.sample_rng, n)
                .map(|i| self.coverage_of(*i))
                .collect();
            self.metrics.add_coverage(
                now,
                CoverageSample {
                    role,
                    online_routers: online_total,
                    known,
                    coverage,
                },
            );
        }
    }

    /// Who knows whom among the online routers.
    fn sample_islands(&mut self, now: Instant) {
        let mut online = self.online.members().to_vec();
        online.sort_unstable();
        let mut dense = vec![usize::MAX; self.nodes.len()];
        for (d, i) in online.iter().enumerate() {
            dense[*i as usize] = d;
        }
        let knows: Vec<Vec<usize>> = online
            .iter()
            .map(|i| {
                let store = self.nodes[*i as usize].router.netdb().store();
                store
                    .hashes()
                    .filter_map(|h| self.by_hash.get(h))
                    .map(|j| dense[*j as usize])
                    .filter(|d| *d != usize::MAX)
                    .collect()
            })
            .collect();
        let floodfill: Vec<bool> = online
            .iter()
            .map(|i| self.nodes[*i as usize].floodfill)
            .collect();
        self.metrics
            .add_islands(now, crate::islands::measure(&knows, &floodfill));
    }

    /// The online floodfills as the Sybil watch sees them.
    fn sample_sybils(&mut self, now: Instant) {
        let Some(watch) = &mut self.adversaries.sybil else {
            return;
        };
        let mut online = self.online.members().to_vec();
        online.sort_unstable();
        let floodfills: Vec<FloodfillView> = online
            .iter()
            .map(|i| &self.nodes[*i as usize])
            .filter(|n| n.floodfill)
            .map(|n| FloodfillView {
                hash: n.router.hash(),
                sybil: n.sybil,
                holds_target: n
                    .router
                    .netdb()
                    .lease_sets()
                    .get(&watch.target, now)
                    .is_some(),
            })
            .collect();
        let time_s = now.saturating_duration_since(self.start).as_secs_f64();
        watch.sample(now, time_s, &floodfills);
    }

    /// The victim's tiers as the tier-capture log sees them.
    fn sample_tier_capture(&mut self, now: Instant) {
        let Some(log) = &mut self.adversaries.tier_capture else {
            return;
        };
        let (nodes, by_hash) = (&self.nodes, &self.by_hash);
        let Some(victim) = by_hash.get(&log.victim).map(|i| &nodes[*i as usize]) else {
            return;
        };
        let Some(tiers) = victim.router.tunnels().map(|t| t.tiers()) else {
            return;
        };
        let group = log.group;
        let theirs = |h: &Hash| {
            by_hash
                .get(h)
                .is_some_and(|j| nodes[*j as usize].group == group)
        };
        let others = self
            .online
            .members()
            .iter()
            .map(|i| &nodes[*i as usize])
            .filter(|n| n.router.hash() != log.victim);
        let (mut online_routers, mut online_adversaries) = (0, 0);
        for node in others {
            online_routers += 1;
            online_adversaries += u64::from(node.group == group);
        }
        let view = VictimView {
            fast: tiers.fast(),
            high_capacity: tiers.high_capacity(),
            online_routers,
            online_adversaries,
        };
        let time_s = now.saturating_duration_since(self.start).as_secs_f64();
        log.sample(time_s, &view, theirs);
    }

    /// Tunnel counts, transit load and tier sizes across online routers.
    fn sample_tunnels(&mut self, now: Instant) {
        if self.scenario.tunnels.config().is_none() {
            return;
        }
        let transit_total: u64 = self
            .nodes
            .iter()
            .filter_map(|n| n.router.tunnels())
            .map(|t| t.transit_messages())
            .sum();
        let sample = self
            .online
            .members()
            .iter()
            .filter_map(|i| self.nodes[*i as usize].router.tunnels())
            .map(|t| {
                let (inbound, outbound) = t.own_tunnels();
                let sizes = t.tiers().sizes();
                let tier = |tier| sizes.get(&tier).copied().unwrap_or(0) as u64;
                TunnelRouterSample {
                    inbound: inbound as u64,
                    outbound: outbound as u64,
                    participating: t.participating() as u64,
                    tiers: [
                        tier(Tier::Fast),
                        tier(Tier::HighCapacity),
                        tier(Tier::NotFailing),
                        tier(Tier::Failing),
                    ],
                }
            })
            .collect();
        self.metrics.add_tunnel_sample(now, transit_total, sample);
    }

    /// Fraction of the other online routers that router `i` knows.
    fn coverage_of(&self, i: u32) -> f64 {
        let others = self.online.len().saturating_sub(1);
        if others == 0 {
            return 1.0;
        }
        let known_online = self.nodes[i as usize]
            .router
            .netdb()
            .store()
            .hashes()
            .filter(|h| {
                self.by_hash
                    .get(*h)
                    .is_some_and(|j| self.nodes[*j as usize].state == NodeState::Online)
            })
            .count();
        known_online as f64 / others as f64
    }
}

/// Destination `d`'s keys, derived from the seed alone: the adversary that targets a
/// destination knows its hash before it is placed.
fn destination_keys(seed: u64, d: u32) -> DestinationKeys {
    DestinationKeys::generate(&mut derive_rng(seed, Stream::DestinationKeys, u64::from(d)))
}

/// An NTCP2-style address so RouterInfos have realistic sizes: host, port, static key
/// and IV, as a real router publishes them (the simulator does not run NTCP2).
fn simulated_address(index: u32, rng: &mut impl RngCore) -> RouterAddress {
    let mut s = [0u8; 32];
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut s);
    rng.fill_bytes(&mut iv);
    // Every router in its own /16 (up to 57,000 routers), so the rule against two hops
    // from one /16 only bites where a scenario makes it.
    let host = format!(
        "{}.{}.{}.{}",
        1 + (index >> 8) % 223,
        index & 0xff,
        rng.next_u32() & 0xff,
        1 + rng.next_u32() % 254
    );
    let mut options = Mapping::new();
    for (k, v) in [
        ("host", host),
        ("port", (9000 + index % 20_000).to_string()),
        ("s", base64_encode(&s)),
        ("i", base64_encode(&iv)),
        ("v", "2".to_owned()),
    ] {
        options
            .insert(k, v)
            .expect("short address options fit a Mapping");
    }
    RouterAddress {
        cost: 3,
        expiration_ms: 0,
        transport: "NTCP2".to_owned(),
        options,
    }
}

/// Bytes a message occupies on an NTCP2 link: block header, short I2NP header, payload.
/// netDb messages are sized without encoding them (they are most of the traffic);
/// RouterInfos are counted uncompressed (the simulator does not gzip them).
fn wire_size(msg: &I2npMessage) -> usize {
    const BLOCK_AND_SHORT_HEADER: usize = 3 + 9;
    let payload = match &msg.body {
        MessageBody::DatabaseStore(store) => {
            let reply = if store.reply.is_some() { 4 + 4 + 32 } else { 4 };
            let entry = match &store.entry {
                StoreEntry::RouterInfo(info) => 2 + info.as_bytes().len(),
                StoreEntry::LeaseSet2(lease_set) => lease_set.as_bytes().len(),
                StoreEntry::EncryptedLeaseSet(els) => els.as_bytes().len(),
                StoreEntry::MetaLeaseSet(meta) => meta.as_bytes().len(),
                StoreEntry::LeaseSet { data, .. } => data.len(),
            };
            32 + 1 + reply + entry
        }
        MessageBody::DatabaseLookup(lookup) => 32 + 32 + 1 + 2 + 32 * lookup.exclude.len(),
        MessageBody::DatabaseSearchReply(reply) => 32 + 1 + 32 * reply.peers.len() + 32,
        MessageBody::DeliveryStatus(_) => 12,
        // Rare in today's scenarios: measure by encoding.
        other => other.encode().map_or(0, |bytes| bytes.len()),
    };
    BLOCK_AND_SHORT_HEADER + payload
}

/// Hashes router hashes by their first eight bytes. Router hashes are SHA-256 outputs, so
/// those bytes are already uniform; SipHash over all 32 was a visible share of the run
/// time. Only used for lookups, never iterated, so it cannot affect determinism.
#[derive(Debug, Default, Clone, Copy)]
struct BuildHashPrefix;

impl std::hash::BuildHasher for BuildHashPrefix {
    type Hasher = HashPrefix;

    fn build_hasher(&self) -> HashPrefix {
        HashPrefix(0)
    }
}

#[derive(Debug)]
struct HashPrefix(u64);

impl std::hash::Hasher for HashPrefix {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as its length, then its bytes: keep the first 8 bytes seen
        // after the length.
        for chunk in bytes.chunks(8).take(1) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    fn write_usize(&mut self, _length: usize) {}
}

/// A set of router indices with O(1) insert and remove.
#[derive(Debug, Default)]
struct IndexSet {
    members: Vec<u32>,
    position: Vec<u32>,
}

impl IndexSet {
    const ABSENT: u32 = u32::MAX;

    fn insert(&mut self, i: u32) {
        let slot = i as usize;
        if self.position.len() <= slot {
            self.position.resize(slot + 1, Self::ABSENT);
        }
        if self.position[slot] == Self::ABSENT {
            self.position[slot] = self.members.len() as u32;
            self.members.push(i);
        }
    }

    fn remove(&mut self, i: u32) {
        let Some(&at) = self.position.get(i as usize) else {
            return;
        };
        if at == Self::ABSENT {
            return;
        }
        self.members.swap_remove(at as usize);
        if let Some(&moved) = self.members.get(at as usize) {
            self.position[moved as usize] = at;
        }
        self.position[i as usize] = Self::ABSENT;
    }

    fn len(&self) -> usize {
        self.members.len()
    }

    fn members(&self) -> &[u32] {
        &self.members
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_set_insert_and_remove() {
        let mut set = IndexSet::default();
        for i in [5, 1, 9, 3] {
            set.insert(i);
        }
        set.insert(5);
        assert_eq!(set.len(), 4);
        set.remove(1);
        set.remove(42);
        let mut members = set.members().to_vec();
        members.sort_unstable();
        assert_eq!(members, [3, 5, 9]);
    }
}
