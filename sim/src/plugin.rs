//! Plug-in behaviours: what the world runs besides its routers, links and faults.
//!
//! The world keeps the event loop, the nodes (start, crash, restart, churn) and the link
//! model. An adversary is a [`Plugin`]: the world tells it when routers are created, come
//! online, report events and are sampled, and fires the timers it asks for; it acts
//! through a small context ([`Cx`]): the time, sending through the link model, timers,
//! knocking a router down, the trace, and a read-only view of the routers. A plug-in may
//! also wrap a router's outputs ([`Plugin::filter_outputs`]), as smoltcp's fault
//! injector wraps a device: a refusing Sybil is a real floodfill whose unwanted answers
//! its plug-in drops.
//!
//! Besides the adversaries, the observers (colluders, the netDb observer), the signers of
//! multihomed destinations and the client workloads (lookups, messages, streams) are
//! plug-ins too, and so are the client destinations the workloads run on: the world
//! knows none of them. [`plugins`] lists a run's plug-ins in the order the world calls
//! them; the adversaries come from [`crate::adversary`]'s registry, one line each. Every
//! hook has a default that does nothing, so a plug-in writes only the ones it needs.

use crate::scenario::Scenario;
pub use crate::world::Cx;
use crate::{adversary, destinations, signer, workload};
use ramsons_router::crypto::RouterKeys;
use ramsons_router::{Event, Output, RouterConfig};
use rand_chacha::ChaCha20Rng;
use std::any::Any;
use std::path::Path;

/// A timer a plug-in set with [`Cx::schedule`], handed back to it when it fires. The
/// fields mean what the plug-in wants; `epoch` is usually a router's [`Cx::epoch`] when
/// the timer was set, so that a timer from before a restart is recognised as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub kind: u32,
    pub subject: u64,
    pub epoch: u32,
}

/// Any plug-in as `Any`, so that a run's plug-in of a given type can be found.
pub trait AsAny: Any {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A behaviour plugged into the world. See the module docs.
pub trait Plugin: std::fmt::Debug + AsAny {
    /// The keys of router `index` of `group`, about to be created, if this plug-in
    /// chooses them; `rng` is the router's own generator.
    fn router_keys(&mut self, _group: usize, _rng: &mut ChaCha20Rng) -> Option<RouterKeys> {
        None
    }

    /// Adjusts the configuration of a router of `group` before it is created.
    fn configure(&self, _group: usize, _config: &mut RouterConfig) {}

    /// Whether the routers of `group` are colluding observers.
    fn colludes(&self, _group: usize) -> bool {
        false
    }

    /// Whether this plug-in wraps the outputs of the routers of `group`.
    fn wraps(&self, _group: usize) -> bool {
        false
    }

    /// The outputs router `router` produced for one input, up to its next timeout, before
    /// the world acts on them; the plug-in may drop or change them.
    fn filter_outputs(&mut self, _router: u32, _outputs: &mut Vec<Output>) {}

    /// Once, when every initial router is created and the destinations are placed.
    fn init(&mut self, _cx: &mut Cx<'_>) {}

    /// Router `router` came online (first start or restart).
    fn on_online(&mut self, _cx: &mut Cx<'_>, _router: u32) {}

    /// Router `router` went down (crash, churn, withdrawal or knocked down). The
    /// plug-in that knocked it down ([`Cx::knock_down`]) is not told: it knows.
    fn on_offline(&mut self, _cx: &mut Cx<'_>, _router: u32) {}

    /// Router `router` reported `event`. Inside this hook the world is draining the
    /// router: what the plug-in asks of it joins that drain.
    fn on_event(&mut self, _cx: &mut Cx<'_>, _router: u32, _event: &Event) {}

    /// A timer this plug-in set fired.
    fn on_timer(&mut self, _cx: &mut Cx<'_>, _timer: Timer) {}

    /// The world samples its time series (every `general.sample_interval` after warmup).
    fn on_sample(&mut self, _cx: &mut Cx<'_>) {}

    /// The run ended: scalars for `summary.csv`, in the order of the plug-ins. A
    /// workload may also hand its records to the run's metrics here.
    fn summary(&mut self, _cx: &mut Cx<'_>) -> Vec<(String, f64)> {
        Vec::new()
    }

    /// Writes the plug-in's records into the run folder; returns the file names.
    fn write(&self, _dir: &Path) -> Result<Vec<String>, csv::Error> {
        Ok(Vec::new())
    }
}

/// The plug-ins of `scenario`, in the order the world calls them. The order is part of
/// every trace (two plug-ins that act at the same instant act in this order), and it is
/// the one the world had when these behaviours were its own:
/// - lookups first: a router that comes online schedules its lookup before the rest;
/// - the destinations before the adversaries, whose `init` looks up a target's router;
/// - the colluders after the adversaries, whose `init` counts the routers that do not
///   collude by group, and the netDb observer after them, which scores the colluders;
/// - then the messages, the streams and the signers, whose scalars close `summary.csv`
///   in that order.
pub fn plugins(scenario: &Scenario) -> Vec<Box<dyn Plugin>> {
    let mut plugins = Vec::new();
    plugins.extend(workload::lookups::plugin(scenario));
    plugins.push(destinations::plugin());
    plugins.extend(adversary::plugins(scenario));
    plugins.push(adversary::colluders::plugin(scenario));
    plugins.extend(adversary::netdb_observer::plugin(scenario));
    plugins.push(workload::messages::plugin());
    plugins.extend(workload::streams::plugin(scenario));
    plugins.extend(signer::plugin(scenario));
    plugins
}

/// The plug-ins of a run, in the order the world calls them.
#[derive(Debug, Default)]
pub struct Plugins {
    /// A plug-in being called is out of its slot for the time of the call.
    pub(crate) slots: Vec<Option<Box<dyn Plugin>>>,
}

impl Plugins {
    pub fn new(plugins: Vec<Box<dyn Plugin>>) -> Plugins {
        Plugins {
            slots: plugins.into_iter().map(Some).collect(),
        }
    }

    /// The plug-in of type `P`, if the run has one (for tests and reports).
    pub fn get<P: Plugin>(&self) -> Option<&P> {
        self.slots
            .iter()
            .flatten()
            .find_map(|p| p.as_ref().as_any().downcast_ref::<P>())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn Plugin> {
        self.slots.iter().flatten().map(|p| p.as_ref())
    }

    /// Every plug-in's records, in order.
    pub fn write(&self, dir: &Path) -> Result<Vec<String>, csv::Error> {
        let mut written = Vec::new();
        for plugin in self.iter() {
            written.extend(plugin.write(dir)?);
        }
        Ok(written)
    }
}
