//! The world's side of the stream workload ([`crate::streams`]): it builds the workload
//! from `[streams]`, has servers listen when their routers come online, runs the
//! workload's timers and hands it the routers' stream events.

use super::{tag, Ev, NodeState, World};
use crate::rng::{derive_rng, Stream};
use crate::streams::{self, StreamWorkload, Timer};
use ramsons_router::client::streaming::ManagerEvent;
use ramsons_router::client::DestinationId;

impl World {
    /// The workload of the scenario's `[streams]`, if it has one (after the destinations
    /// are placed: servers are the first of them).
    pub(super) fn stream_workload(&self) -> Option<StreamWorkload> {
        let spec = self.scenario.streams.as_ref()?;
        let count = spec.server_count(self.destinations.len() as u32) as usize;
        let servers = self.destinations[..count.min(self.destinations.len())]
            .iter()
            .map(|h| h.keys.destination().clone())
            .collect();
        let seed = self.scenario.general.seed;
        Some(StreamWorkload::new(
            spec,
            servers,
            derive_rng(seed, Stream::Streams, 0),
            self.start + self.scenario.general.warmup.0,
            self.stop,
        ))
    }

    /// Router `router`, host of destination `d`, came online (its streams, if it had
    /// any, went with its restart): a server listens, a client starts fetching.
    pub(super) fn streams_online(&mut self, router: u32, d: u32) {
        let Some(workload) = &mut self.streams else {
            return;
        };
        workload.forget_router(router);
        let serves = workload.serves(d);
        let Some((_, Some(id))) = self.nodes[router as usize].destination else {
            return;
        };
        if serves {
            let now = self.now;
            self.nodes[router as usize]
                .router
                .stream_listen(now, id, true);
            self.drain(router);
        } else {
            self.schedule_fetch(d);
        }
    }

    fn schedule_fetch(&mut self, client: u32) {
        let Some(after) = self.streams.as_mut().and_then(|w| w.next_fetch_in()) else {
            return;
        };
        let router = self.destinations[client as usize].router;
        let epoch = self.nodes[router as usize].epoch;
        self.queue.push(
            self.now + after,
            Ev::Streams(Timer::Fetch { client, epoch }),
        );
    }

    pub(super) fn on_streams_timer(&mut self, t: u64, timer: Timer) {
        match timer {
            Timer::Fetch { client, epoch } => {
                let router = self.destinations[client as usize].router;
                let node = &self.nodes[router as usize];
                if node.epoch != epoch || node.state != NodeState::Online {
                    return;
                }
                self.trace.record(t, tag::STREAMS, &[0, u64::from(client)]);
                self.start_fetch(client, router);
                self.schedule_fetch(client);
            }
            Timer::Deadline { fetch } => {
                self.trace.record(t, tag::STREAMS, &[1, fetch]);
                self.fetch_deadline(fetch);
            }
        }
    }

    fn start_fetch(&mut self, client: u32, router: u32) {
        let now = self.now;
        let node = &mut self.nodes[router as usize];
        let (Some(workload), Some((_, Some(id)))) = (&mut self.streams, node.destination) else {
            return;
        };
        if let Some((at, deadline)) = workload.start(now, client, router, &mut node.router, id) {
            self.queue.push(at, Ev::Streams(deadline));
        }
        self.drain(router);
    }

    fn fetch_deadline(&mut self, fetch: u64) {
        let now = self.now;
        let Some(workload) = &mut self.streams else {
            return;
        };
        let Some(client) = workload.client_router(fetch) else {
            return;
        };
        let node = &mut self.nodes[client as usize];
        let online = node.state == NodeState::Online;
        let router = online.then_some(&mut node.router);
        if workload.on_deadline(now, fetch, router) {
            self.note_server_stats(fetch);
            if online {
                self.drain(client);
            }
        }
    }

    /// A stream event of destination `id` on router `router`, from inside its drain
    /// (what the workload does in answer is drained by the same loop).
    pub(super) fn on_stream_event(&mut self, router: u32, id: DestinationId, event: ManagerEvent) {
        let now = self.now;
        let Some(workload) = &mut self.streams else {
            return;
        };
        let node = &mut self.nodes[router as usize];
        if let Some(fetch) = workload.on_event(now, router, &mut node.router, id, event) {
            self.note_server_stats(fetch);
        }
    }

    /// A fetch ended: the server's counters as they stand, if its stream still exists.
    fn note_server_stats(&mut self, fetch: u64) {
        let Some(workload) = &mut self.streams else {
            return;
        };
        let Some(end) = workload.server_end(fetch) else {
            return;
        };
        if let Some(stats) = end.stats(&self.nodes[end.router as usize].router) {
            workload.set_server_stats(fetch, stats);
        }
    }

    /// At the end of a run: `streams.csv` and the stream scalars, into the metrics.
    pub(super) fn finish_streams(&mut self) {
        let Some(workload) = &self.streams else {
            return;
        };
        let records = workload.records(self.start);
        for (metric, value) in streams::summary(&records) {
            self.metrics.add_summary(metric, value);
        }
        self.metrics.set_streams(records);
    }
}
