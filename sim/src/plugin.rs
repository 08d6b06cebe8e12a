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
//! Plug-ins are built by [`crate::adversary::plugins`], one line each, in the order the
//! world calls them. Every hook has a default that does nothing, so a plug-in writes only
//! the ones it needs.

pub use crate::world::Cx;
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

    /// Router `router` reported `event`. Inside this hook the world is draining the
    /// router: what the plug-in asks of it joins that drain.
    fn on_event(&mut self, _cx: &mut Cx<'_>, _router: u32, _event: &Event) {}

    /// A timer this plug-in set fired.
    fn on_timer(&mut self, _cx: &mut Cx<'_>, _timer: Timer) {}

    /// The world samples its time series (every `general.sample_interval` after warmup).
    fn on_sample(&mut self, _cx: &mut Cx<'_>) {}

    /// The run ended: scalars for `summary.csv`.
    fn summary(&self, _cx: &Cx<'_>) -> Vec<(String, f64)> {
        Vec::new()
    }

    /// Writes the plug-in's records into the run folder; returns the file names.
    fn write(&self, _dir: &Path) -> Result<Vec<String>, csv::Error> {
        Ok(Vec::new())
    }
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
