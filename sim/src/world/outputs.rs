//! A router's outputs: messages into the link model, timers into the queue, events to
//! the metrics, the observers and the plug-ins.

use super::{Ev, World};
use crate::adversary::netdb_observer::Receipt;
use crate::plugin::Plugin;
use ramsons_router::data::Hash;
use ramsons_router::i2np::StoreEntry;
use ramsons_router::netdb::NetDbEvent;
use ramsons_router::time::Instant;
use ramsons_router::tunnel::{BuildOutcome, TunnelEvent};
use ramsons_router::{Event, Output};

impl World {
    /// Hands everything router `i` wants done to the world.
    pub(super) fn drain(&mut self, i: u32) {
        self.drain_with(i, None);
    }

    /// Drains router `i`; `me` is the plug-in that asked, out of its slot (see `Cx`).
    /// A router some plug-in wraps has the outputs of one input looked at together:
    /// handling one input yields the answer before the event that says what was asked.
    pub(super) fn drain_with(&mut self, i: u32, mut me: Option<(usize, &mut dyn Plugin)>) {
        let outer = self.draining.replace(i);
        if let Some(wrapper) = self.nodes[i as usize].wrapper {
            let mut outputs = Vec::new();
            loop {
                let output = self.nodes[i as usize].router.poll_output();
                let last = matches!(output, Output::Timeout(_));
                outputs.push(output);
                if last {
                    break;
                }
            }
            match &mut me {
                Some((m, plugin)) if *m == usize::from(wrapper) => {
                    plugin.filter_outputs(i, &mut outputs)
                }
                _ => self.with_plugin(usize::from(wrapper), |p, _| {
                    p.filter_outputs(i, &mut outputs)
                }),
            }
            for output in outputs {
                self.handle_output(i, output, &mut me);
            }
        } else {
            loop {
                let output = self.nodes[i as usize].router.poll_output();
                if self.handle_output(i, output, &mut me) {
                    break;
                }
            }
        }
        self.draining = outer;
    }

    /// Acts on one output of router `i`; true when it was the last (the next timeout).
    fn handle_output(
        &mut self,
        i: u32,
        output: Output,
        me: &mut Option<(usize, &mut dyn Plugin)>,
    ) -> bool {
        match output {
            Output::Send { to, msg } => self.send(i, to, msg),
            Output::Event(event) => {
                if let Event::Tunnel(tunnel) = &event {
                    self.observe(i, tunnel);
                }
                self.dispatch_event(i, &event, me);
                match event {
                    Event::NetDb(event) => {
                        self.observe_store(i, &event);
                        let floodfill = self.nodes[i as usize].floodfill;
                        self.metrics.on_event(self.now, i, floodfill, &event);
                    }
                    Event::Tunnel(event) => self.metrics.on_tunnel_event(self.now, i, &event),
                    Event::Client(event) => self.on_client_event(i, event),
                    _ => {}
                }
            }
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
        false
    }

    /// A LeaseSet store that floodfill `i` received, for the netDb observer.
    fn observe_store(&mut self, i: u32, event: &NetDbEvent) {
        let node = &self.nodes[i as usize];
        let (
            Some(observer),
            NetDbEvent::StoreReceived {
                key,
                flooded,
                outcome,
                entry,
                ..
            },
            true,
        ) = (&mut self.netdb_observer, event, node.floodfill)
        else {
            return;
        };
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
}
