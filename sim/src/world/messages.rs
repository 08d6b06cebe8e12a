//! The message workload: destinations sending requests to each other and answering
//! them, and what becomes of every message.

use super::{Ev, World, APP_MESSAGE_DRAIN};
use crate::app::AppMessage;
use ramsons_analysis::records::DeliveryRecord;
use ramsons_router::client::{ClientEvent, SendFailure};
use rand::Rng;
use std::time::Duration;

impl World {
    /// Schedules destination `d`'s next message, a Poisson process of the scenario's rate.
    pub(super) fn schedule_message(&mut self, d: u32) {
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
    pub(super) fn send_request(&mut self, from: u32) {
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

    pub(super) fn on_client_event(&mut self, router: u32, event: ClientEvent) {
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

    /// Whether multihoming still delivers: the share of requests to the multihomed
    /// destinations delivered (`multihoming_target_delivery_success`) and of those to the
    /// others (`multihoming_others_delivery_success`), and the share of the replies the
    /// multihomed destinations sent (from whichever router the request reached) that were
    /// delivered.
    pub(super) fn multihoming_delivery(&self) -> Vec<(String, f64)> {
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
}
