//! A router's outputs: messages into the link model, timers into the queue, events to
//! the plug-ins and the metrics.

use super::{Ev, World};
use crate::plugin::Plugin;
use ramsons_router::time::Instant;
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
                self.dispatch_event(i, &event, me);
                match event {
                    Event::NetDb(event) => {
                        let floodfill = self.nodes[i as usize].floodfill;
                        self.metrics.on_event(self.now, i, floodfill, &event);
                    }
                    Event::Tunnel(event) => self.metrics.on_tunnel_event(self.now, i, &event),
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
}
