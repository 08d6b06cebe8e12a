//! The stream workload as a plug-in: it builds [`StreamWorkload`] from `[streams]`, has
//! servers listen when their routers come online, runs the workload's timers and hands
//! it the routers' stream events.

use crate::destinations::of as destinations;
use crate::plugin::{Cx, Plugin, Timer};
use crate::rng::{derive_rng, Stream};
use crate::scenario::Scenario;
use crate::streams::{self, StreamWorkload};
use ramsons_router::client::ClientEvent;
use ramsons_router::Event;

/// The trace tag of a fetch starting (word 0) or running out of time (word 1).
const TAG: u8 = 14;
/// [`Timer::kind`]s: a client's next fetch, a fetch's deadline.
const FETCH: u32 = 0;
const DEADLINE: u32 = 1;

#[derive(Debug, Default)]
pub struct Streams {
    /// Built at `init`, once the destinations are placed: servers are the first of them.
    workload: Option<StreamWorkload>,
}

/// The plug-in, when the scenario has `[streams]`.
pub fn plugin(scenario: &Scenario) -> Option<Box<dyn Plugin>> {
    scenario
        .streams
        .as_ref()
        .map(|_| Box::<Streams>::default() as Box<dyn Plugin>)
}

/// A workload timer as the world carries it.
fn timer(t: streams::Timer) -> Timer {
    match t {
        streams::Timer::Fetch { client, epoch } => Timer {
            kind: FETCH,
            subject: u64::from(client),
            epoch,
        },
        streams::Timer::Deadline { fetch } => Timer {
            kind: DEADLINE,
            subject: fetch,
            epoch: 0,
        },
    }
}

impl Streams {
    fn schedule_fetch(&mut self, cx: &mut Cx<'_>, client: u32) {
        let Some(after) = self.workload.as_mut().and_then(|w| w.next_fetch_in()) else {
            return;
        };
        let router = destinations(cx).hosted(client).router;
        let epoch = cx.epoch(router);
        let at = cx.now() + after;
        cx.schedule(at, timer(streams::Timer::Fetch { client, epoch }));
    }

    fn start_fetch(&mut self, cx: &mut Cx<'_>, client: u32, router: u32) {
        let now = cx.now();
        let id = destinations(cx).hosting(router).and_then(|h| h.id);
        let (Some(workload), Some(id)) = (&mut self.workload, id) else {
            return;
        };
        if let Some((at, deadline)) = workload.start(now, client, router, cx.router_mut(router), id)
        {
            cx.schedule(at, timer(deadline));
        }
        cx.drain(router, self);
    }

    fn fetch_deadline(&mut self, cx: &mut Cx<'_>, fetch: u64) {
        let now = cx.now();
        let Some(workload) = &mut self.workload else {
            return;
        };
        let Some(client) = workload.client_router(fetch) else {
            return;
        };
        let online = cx.is_online(client);
        let router = online.then(|| cx.router_mut(client));
        if workload.on_deadline(now, fetch, router) {
            self.note_server_stats(cx, fetch);
            if online {
                cx.drain(client, self);
            }
        }
    }

    /// A fetch ended: the server's counters as they stand, if its stream still exists.
    fn note_server_stats(&mut self, cx: &Cx<'_>, fetch: u64) {
        let Some(workload) = &mut self.workload else {
            return;
        };
        let Some(end) = workload.server_end(fetch) else {
            return;
        };
        if let Some(stats) = end.stats(cx.router(end.router)) {
            workload.set_server_stats(fetch, stats);
        }
    }
}

impl Plugin for Streams {
    fn init(&mut self, cx: &mut Cx<'_>) {
        let Some(spec) = &cx.scenario().streams else {
            return;
        };
        let all = destinations(cx).all();
        let count = spec.server_count(all.len() as u32) as usize;
        let servers = all[..count.min(all.len())]
            .iter()
            .map(|h| h.keys.destination().clone())
            .collect();
        let general = &cx.scenario().general;
        self.workload = Some(StreamWorkload::new(
            spec,
            servers,
            derive_rng(general.seed, Stream::Streams, 0),
            cx.start() + general.warmup.0,
            cx.stop(),
        ));
    }

    /// Router `router`, host of destination `d`, came online (its streams, if it had
    /// any, went with its restart): a server listens, a client starts fetching.
    fn on_online(&mut self, cx: &mut Cx<'_>, router: u32) {
        let (Some(workload), Some(hosting)) =
            (&mut self.workload, destinations(cx).hosting(router))
        else {
            return;
        };
        workload.forget_router(router);
        let Some(id) = hosting.id else {
            return;
        };
        if workload.serves(hosting.destination) {
            let now = cx.now();
            cx.router_mut(router).stream_listen(now, id, true);
            cx.drain(router, self);
        } else {
            self.schedule_fetch(cx, hosting.destination);
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, timer: Timer) {
        match timer.kind {
            FETCH => {
                let client = timer.subject as u32;
                let router = destinations(cx).hosted(client).router;
                if !cx.is_live(router, timer.epoch) {
                    return;
                }
                cx.trace(TAG, &[0, timer.subject]);
                self.start_fetch(cx, client, router);
                self.schedule_fetch(cx, client);
            }
            _ => {
                cx.trace(TAG, &[1, timer.subject]);
                self.fetch_deadline(cx, timer.subject);
            }
        }
    }

    /// A stream event, from inside its router's drain (what the workload does in answer
    /// is drained by the same loop).
    fn on_event(&mut self, cx: &mut Cx<'_>, router: u32, event: &Event) {
        let (Some(workload), Event::Client(ClientEvent::Stream { destination, event })) =
            (&mut self.workload, event)
        else {
            return;
        };
        let now = cx.now();
        let node = cx.router_mut(router);
        if let Some(fetch) = workload.on_event(now, router, node, *destination, event.clone()) {
            self.note_server_stats(cx, fetch);
        }
    }

    /// `streams.csv` into the run's metrics, and the stream scalars.
    fn summary(&mut self, cx: &mut Cx<'_>) -> Vec<(String, f64)> {
        let Some(workload) = &self.workload else {
            return Vec::new();
        };
        let records = workload.records(cx.start());
        let summary = streams::summary(&records);
        cx.metrics_mut().set_streams(records);
        summary
    }
}
