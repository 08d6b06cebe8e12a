//! The context a plug-in acts through, and how the world calls its plug-ins.
//!
//! A plug-in being called is taken out of its slot; the world's `drain` hands it the
//! events of a drain it started itself through the `me` it passes ([`Cx::drain`]).

use super::{Ev, NodeState, World};
use crate::metrics::Collector;
use crate::plugin::{Plugin, Timer};
use crate::scenario::Scenario;
use ramsons_router::data::Hash;
use ramsons_router::i2np::I2npMessage;
use ramsons_router::time::Instant;
use ramsons_router::Router;
use rand_chacha::ChaCha20Rng;
use std::time::Duration;

/// What a plug-in may do and see. See [`crate::plugin`].
#[derive(Debug)]
pub struct Cx<'a> {
    pub(super) world: &'a mut World,
    /// The plug-in's index, which its timers carry.
    pub(super) me: usize,
}

impl Cx<'_> {
    /// The current simulated time.
    pub fn now(&self) -> Instant {
        self.world.now
    }

    /// Time zero of the run.
    pub fn start(&self) -> Instant {
        self.world.start
    }

    /// When the run ends.
    pub fn stop(&self) -> Instant {
        self.world.stop
    }

    /// Seconds from time zero to `t`, as records count time.
    pub fn seconds(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.world.start).as_secs_f64()
    }

    pub fn scenario(&self) -> &Scenario {
        &self.world.scenario
    }

    /// The routers created so far.
    pub fn routers(&self) -> u32 {
        self.world.nodes.len() as u32
    }

    /// Router `i`, read-only.
    pub fn router(&self, i: u32) -> &Router {
        &self.world.nodes[i as usize].router
    }

    pub fn is_online(&self, i: u32) -> bool {
        self.world.nodes[i as usize].state == NodeState::Online
    }

    /// Bumped at every state change of router `i`: a timer set in an earlier life of the
    /// router carries an older one.
    pub fn epoch(&self, i: u32) -> u32 {
        self.world.nodes[i as usize].epoch
    }

    /// The `[[routers]]` group of router `i`.
    pub fn group(&self, i: u32) -> usize {
        usize::from(self.world.nodes[i as usize].group)
    }

    pub fn is_floodfill(&self, i: u32) -> bool {
        self.world.nodes[i as usize].floodfill
    }

    pub fn is_colluding(&self, i: u32) -> bool {
        self.world.nodes[i as usize].colluding
    }

    /// The index of the router with identity hash `hash`.
    pub fn index_of(&self, hash: &Hash) -> Option<u32> {
        self.world.by_hash.get(hash).copied()
    }

    /// The online routers, in no particular order.
    pub fn online(&self) -> &[u32] {
        self.world.online.members()
    }

    /// Whether router `i` is online in the life `epoch` (see [`Cx::epoch`]).
    pub fn is_live(&self, i: u32, epoch: u32) -> bool {
        self.epoch(i) == epoch && self.is_online(i)
    }

    /// Another plug-in of the run, read-only, if the run has one of type `P`; `None`
    /// for the calling plug-in itself, which is out of its slot.
    pub fn plugin<P: Plugin>(&self) -> Option<&P> {
        self.world.plugins.get::<P>()
    }

    pub fn metrics(&self) -> &Collector {
        &self.world.metrics
    }

    /// The run's metrics, for the plug-ins that feed its standard records (deliveries,
    /// tunnels seen by colluders, stream fetches).
    pub fn metrics_mut(&mut self) -> &mut Collector {
        &mut self.world.metrics
    }

    /// The world's shared generator ([`crate::rng::Stream::World`]), drawn in event order
    /// by faults, churn and the built-in workloads. A new plug-in derives a stream of its
    /// own instead ([`crate::rng::derive_rng`]), so that it shifts no other draw.
    pub fn shared_rng(&mut self) -> &mut ChaCha20Rng {
        &mut self.world.world_rng
    }

    /// Marks router `i` as one of the colluding observers.
    pub fn mark_colluding(&mut self, i: u32) {
        self.world.nodes[i as usize].colluding = true;
    }

    /// Sends `msg` from router `from` to the router `to` through the link model.
    pub fn send(&mut self, from: u32, to: Hash, msg: I2npMessage) {
        self.world.send(from, to, msg);
    }

    /// Calls this plug-in's [`Plugin::on_timer`] with `timer` at `at`.
    pub fn schedule(&mut self, at: Instant, timer: Timer) {
        let plugin = self.me as u16;
        self.world.queue.push(at, Ev::Plugin { plugin, timer });
    }

    /// Router `i`, if online, goes down and comes back after `down` with what it held, as
    /// after a crash. Returns whether it was online.
    pub fn knock_down(&mut self, i: u32, down: Duration) -> bool {
        self.world.knock_down(i, down)
    }

    /// Records an event of this plug-in in the trace: a `tag` of its own and its words.
    pub fn trace(&mut self, tag: u8, words: &[u64]) {
        let t = self.world.micros();
        self.world.trace.record(t, tag, words);
    }

    /// Router `i`, to give it an input; then [`Cx::drain`] it.
    pub fn router_mut(&mut self, i: u32) -> &mut Router {
        &mut self.world.nodes[i as usize].router
    }

    /// Hands what router `i` wants done to the world, `me` (the calling plug-in) and the
    /// other plug-ins included. Inside [`Plugin::on_event`] of router `i` the world is
    /// draining it already, and this does nothing.
    pub fn drain(&mut self, i: u32, me: &mut dyn Plugin) {
        if self.world.draining == Some(i) {
            return;
        }
        debug_assert!(
            self.world.draining.is_none(),
            "drain another router in a drain"
        );
        self.world.drain_with(i, Some((self.me, me)));
    }
}

impl World {
    /// Calls plug-in `k` through `f`, out of its slot for the time of the call.
    pub(super) fn with_plugin(&mut self, k: usize, f: impl FnOnce(&mut dyn Plugin, &mut Cx<'_>)) {
        let Some(mut plugin) = self.plugins.slots[k].take() else {
            return;
        };
        f(plugin.as_mut(), &mut Cx { world: self, me: k });
        self.plugins.slots[k] = Some(plugin);
    }

    /// Calls every plug-in through `f`, in order.
    pub(super) fn each_plugin(&mut self, f: impl Fn(&mut dyn Plugin, &mut Cx<'_>)) {
        for k in 0..self.plugins.slots.len() {
            self.with_plugin(k, &f);
        }
    }

    /// Hands router `i`'s event to every plug-in; `me` is the one that started the drain,
    /// out of its slot.
    pub(super) fn dispatch_event(
        &mut self,
        i: u32,
        event: &ramsons_router::Event,
        me: &mut Option<(usize, &mut dyn Plugin)>,
    ) {
        for k in 0..self.plugins.slots.len() {
            match me {
                Some((m, plugin)) if *m == k => {
                    plugin.on_event(&mut Cx { world: self, me: k }, i, event)
                }
                _ => self.with_plugin(k, |p, cx| p.on_event(cx, i, event)),
            }
        }
    }
}
