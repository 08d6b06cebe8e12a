//! The simulated world: routers, links, faults and the event loop that drives them.
//!
//! One thread, one queue ordered by (time, sequence). Every random draw comes from a
//! stream of [`crate::rng`]: each router has its own, and the world keeps separate ones
//! for the network, for scenario faults and workload, and for metric sampling.
//!
//! The world keeps the event loop ([`World::run`]), the nodes (`nodes`), the link model
//! (`links`) and scenario events (`faults`). Everything else — adversaries, observers,
//! signers, client destinations and workloads — is a plug-in ([`crate::plugin`]), called
//! through [`Cx`] (`cx`).

use crate::metrics::Collector;
use crate::net::LinkModel;
use crate::plugin::{Plugins, Timer};
use crate::queue::EventQueue;
use crate::rng::{derive_rng, Stream};
use crate::scenario::Scenario;
use crate::trace::TraceHasher;
use ramsons_router::data::Hash;
use ramsons_router::i2np::I2npMessage;
use ramsons_router::netdb::{NetDbConfig, RouterInfoRegistry};
use ramsons_router::time::Instant;
use ramsons_router::units::Bandwidth;
use ramsons_router::Router;
use rand_chacha::ChaCha20Rng;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::{BuildHashPrefix, IndexSet};

mod cx;
mod faults;
mod links;
mod nodes;
mod outputs;
mod sample;
mod sessions;
mod support;

pub use cx::Cx;

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
    /// False behind NAT or a firewall: reached only over sessions it opened.
    dialable: bool,
    bandwidth: Bandwidth,
    state: NodeState,
    /// Bumped at every state change, so that scheduled state changes from an earlier
    /// life are recognised as stale.
    epoch: u32,
    /// The timer the router asked for last; queue entries for other times are stale.
    armed: Instant,
    /// When the uplink finishes sending what is already queued.
    uplink_free: Instant,
    /// One of the colluding observers.
    colluding: bool,
    /// The plug-in that wraps this router's outputs, if one does.
    wrapper: Option<u16>,
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
    Sample,
    /// A dial of `peer` by `router` (in life `epoch`) found no session and timed out.
    DialFailed {
        router: u32,
        epoch: u32,
        peer: u32,
    },
    /// A timer of plug-in `plugin`.
    Plugin {
        plugin: u16,
        timer: Timer,
    },
}

/// Trace tags, one per event kind.
mod tag {
    pub const START: u8 = 1;
    pub const DELIVER: u8 = 2;
    pub const TIMER: u8 = 3;
    pub const SCENARIO: u8 = 4;
    pub const RESTART: u8 = 5;
    pub const CHURN_DOWN: u8 = 6;
    pub const SEND: u8 = 8;
    pub const DROP: u8 = 9;
    pub const DEGRADE: u8 = 12;
    pub const DIAL_FAILED: u8 = 15;
    // The plug-ins' own: 7 lookups, 10 messages, 11 flooders, 13 signers, 14 streams.
}

/// What a run did, for the manifest and the summary line.
#[derive(Debug)]
pub struct Outcome {
    pub trace_hash: String,
    pub events: u64,
    pub routers: u64,
    pub metrics: Collector,
    pub floodfills: Vec<u32>,
    /// Messages to routers that cannot be dialled, carried over sessions they opened.
    pub carried_to_undialable: u64,
    /// The plug-ins as the run left them: their logs.
    pub plugins: Plugins,
}

impl Outcome {
    /// Writes the plug-ins' records into the run folder; returns the file names.
    pub fn write_logs(&self, dir: &Path) -> Result<Vec<String>, csv::Error> {
        self.plugins.write(dir)
    }
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
    /// To a router that cannot be dialled, over no session it opened.
    pub undialable: u64,
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
    wire_sizes: links::WireSizes,
    link_faults: links::LinkFaults,
    sessions: sessions::Sessions,
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
    /// One-way handshake secrets, computed once for both ends.
    shared_secrets: Arc<ramsons_router::crypto::SharedSecrets>,
    plugins: Plugins,
    /// The router being drained, if any (see `Cx::drain`).
    draining: Option<u32>,
}

impl World {
    /// Builds the world of `scenario` with every initial router created and scheduled.
    pub fn new(scenario: Arc<Scenario>) -> Result<World, String> {
        World::with_plugins(scenario, Vec::new())
    }

    /// As [`World::new`], with `extra` plug-ins after the run's own (a plug-in being
    /// written or tested before it has its registry line).
    pub fn with_plugins(
        scenario: Arc<Scenario>,
        extra: Vec<Box<dyn crate::plugin::Plugin>>,
    ) -> Result<World, String> {
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
            wire_sizes: links::WireSizes::default(),
            link_faults: links::LinkFaults::default(),
            sessions: sessions::Sessions::default(),
            net_rng: derive_rng(seed, Stream::Network, 0),
            world_rng: derive_rng(seed, Stream::World, 0),
            sample_rng: derive_rng(seed, Stream::Sample, 0),
            trace: TraceHasher::default(),
            metrics,
            drops: Drops::default(),
            router_infos: RouterInfoRegistry::new(),
            shared_secrets: Arc::default(),
            plugins: Plugins::new(
                crate::plugin::plugins(&scenario)
                    .into_iter()
                    .chain(extra)
                    .collect(),
            ),
            draining: None,
            scenario,
        };
        world.populate();
        Ok(world)
    }

    /// Creates the initial routers, sets up the plug-ins, and schedules the scenario's
    /// events and the first sample.
    fn populate(&mut self) {
        for group in 0..self.scenario.routers.len() {
            let g = &self.scenario.routers[group];
            let (count, first_start, spread) = (g.count, g.start.0, g.start_spread.0);
            for _ in 0..count {
                self.spawn(group, self.start + first_start, spread);
            }
        }
        self.each_plugin(|p, cx| p.init(cx));
        for (i, event) in self.scenario.events.iter().enumerate() {
            self.queue
                .push(self.start + event.at.0, Ev::Scenario(i as u32));
        }
        self.queue.push(
            self.start + self.scenario.general.warmup.0 + self.sample_interval(),
            Ev::Sample,
        );
    }

    fn sample_interval(&self) -> Duration {
        self.scenario.general.sample_interval.0
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
            if self.trace.events().is_multiple_of(16_384) {
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
        self.finish()
    }

    /// The run's scalars into the metrics, and its outcome.
    fn finish(mut self) -> (Outcome, Drops) {
        let floodfills = (0..self.nodes.len() as u32)
            .filter(|i| self.nodes[*i as usize].floodfill)
            .collect();
        let colluders = self.nodes.iter().filter(|n| n.colluding).count() as u64;
        self.metrics
            .set_population(self.nodes.len() as u64, colluders);
        self.each_plugin(|p, cx| {
            for (metric, value) in p.summary(cx) {
                cx.metrics_mut().add_summary(metric, value);
            }
        });
        let events = self.trace.events();
        let outcome = Outcome {
            trace_hash: self.trace.finish(),
            events,
            routers: self.nodes.len() as u64,
            metrics: self.metrics,
            floodfills,
            carried_to_undialable: self.sessions.carried,
            plugins: self.plugins,
        };
        (outcome, self.drops)
    }

    fn micros(&self) -> u64 {
        self.now.saturating_duration_since(self.start).as_micros() as u64
    }

    /// Whether router `i` is online in the life `epoch` (a later state change makes
    /// events scheduled in an earlier one stale).
    fn live(&self, i: u32, epoch: u32) -> bool {
        let node = &self.nodes[i as usize];
        node.epoch == epoch && node.state == NodeState::Online
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
                let words = [u64::from(to), u64::from(from), u64::from(msg.id)];
                self.trace.record(t, tag::DELIVER, &words);
                self.deliver(to, from, *msg, size);
            }
            Ev::Timer(i) => self.on_timer(t, i),
            Ev::Scenario(k) => {
                self.trace.record(t, tag::SCENARIO, &[u64::from(k)]);
                self.apply(k as usize);
            }
            Ev::Sample => {
                self.sample();
                self.queue
                    .push(self.now + self.sample_interval(), Ev::Sample);
            }
            Ev::Plugin { plugin, timer } => {
                self.with_plugin(usize::from(plugin), |p, cx| p.on_timer(cx, timer))
            }
            Ev::DialFailed {
                router,
                epoch,
                peer,
            } => {
                if self.live(router, epoch) {
                    self.trace.record(t, tag::DIAL_FAILED, &[u64::from(router)]);
                    self.dial_failed(router, peer);
                }
            }
            Ev::Restart { router, epoch } => {
                let node = &self.nodes[router as usize];
                if node.epoch != epoch || node.state != NodeState::Down {
                    return;
                }
                self.trace.record(t, tag::RESTART, &[u64::from(router)]);
                self.bring_online(router);
            }
            Ev::ChurnDown { router, epoch } => {
                if !self.live(router, epoch) {
                    return;
                }
                self.trace.record(t, tag::CHURN_DOWN, &[u64::from(router)]);
                self.churn_down(router);
            }
        }
    }

    /// A router's own timer.
    fn on_timer(&mut self, t: u64, i: u32) {
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
}
