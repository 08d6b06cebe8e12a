//! What the router task does with the router's events: counters for the status page,
//! ping answers, and the applications' share (sessions, streams, datagrams, lookups).

use super::{Driver, Network, PingOutcome};
use crate::client::ClientEvent;
use crate::netdb::{NetDbEvent, Purpose};
use crate::tunnel::{BuildOutcome, TunnelEvent};
use crate::Event;
use tracing::{debug, info};

impl<N: Network> Driver<N> {
    /// Counts what the status page shows, answers pings, and hands applications what
    /// is theirs.
    pub(super) fn on_router_event(&mut self, event: Event) {
        let c = &mut self.counters;
        match event {
            Event::NetDb(NetDbEvent::LookupFinished {
                key,
                found,
                purpose,
                peers_queried,
                timeouts,
                ..
            }) => {
                if purpose == Purpose::LeaseSet {
                    self.apps
                        .on_lookup_finished(&mut self.router, self.clock.now(), key);
                }
                if found {
                    c.lookups_succeeded += 1;
                } else {
                    c.lookups_failed += 1;
                }
                debug!(%key, found, ?purpose, peers_queried, timeouts, "lookup finished");
            }
            Event::NetDb(NetDbEvent::LookupReceived {
                key,
                from,
                kind,
                answer,
            }) => {
                c.lookups_received += 1;
                debug!(%key, %from, ?kind, ?answer, "lookup received");
            }
            Event::NetDb(NetDbEvent::StoreReceived { key, from, .. }) => {
                c.stores_received += 1;
                debug!(%key, %from, "store received");
            }
            Event::NetDb(NetDbEvent::PublishFinished { failure, attempts }) => {
                info!(?failure, attempts, "RouterInfo publication finished");
            }
            Event::Tunnel(TunnelEvent::BuildFinished {
                pool,
                direction,
                outcome,
                ..
            }) => {
                if outcome == BuildOutcome::Built {
                    c.builds_succeeded += 1;
                } else {
                    c.builds_failed += 1;
                }
                debug!(?pool, ?direction, ?outcome, "tunnel build finished");
            }
            Event::Client(ClientEvent::Delivered {
                reference, after, ..
            }) => {
                if let Some(reply) = self.pings.remove(&reference) {
                    let _ = reply.send(PingOutcome {
                        delivered: true,
                        latency_ms: Some(after.as_millis() as u64),
                        error: None,
                    });
                }
            }
            Event::Client(ClientEvent::SendFailed {
                reference, reason, ..
            }) => {
                if let Some(reply) = self.pings.remove(&reference) {
                    let _ = reply.send(PingOutcome::failed(format!("{reason:?}")));
                }
            }
            Event::Client(event) => {
                self.apps
                    .on_client_event(&mut self.router, self.clock.now(), &event);
                tracing::trace!(?event, "client event");
            }
            other => tracing::trace!(?other, "router event"),
        }
    }
}
