//! The message workload: destinations send requests to each other as a Poisson process
//! of `[clients] messages_per_destination_hour`, answer them (with `reply`), and every
//! message's fate goes into the delivery records.

use crate::app::AppMessage;
use crate::destinations::of as destinations;
use crate::plugin::{Cx, Plugin, Timer};
use crate::rng::exponential;
use ramsons_analysis::records::DeliveryRecord;
use ramsons_router::client::{ClientEvent, SendFailure};
use ramsons_router::Event;
use rand::Rng;
use std::time::Duration;

/// The trace tag of a destination's request.
const TAG: u8 = 10;

/// Destinations stop sending this long before the end of a run.
const APP_MESSAGE_DRAIN: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct Messages {
    /// Application messages sent so far; numbers them.
    sent: u64,
}

/// The plug-in, always there: with no destinations it sends nothing.
pub fn plugin() -> Box<dyn Plugin> {
    Box::<Messages>::default()
}

impl Messages {
    /// Schedules destination `d`'s next message.
    fn schedule(&self, cx: &mut Cx<'_>, d: u32) {
        let per_hour = cx.scenario().clients.messages_per_destination_hour;
        if per_hour <= 0.0 || destinations(cx).all().len() < 2 {
            return;
        }
        let after = exponential(cx.shared_rng(), Duration::from_secs_f64(3600.0 / per_hour));
        let router = destinations(cx).hosted(d).router;
        let timer = Timer {
            kind: 0,
            subject: u64::from(d),
            epoch: cx.epoch(router),
        };
        cx.schedule(cx.now() + after, timer);
    }

    /// Destination `from` sends a request to another destination drawn at random.
    fn send_request(&mut self, cx: &mut Cx<'_>, from: u32) {
        let n = destinations(cx).all().len() as u32;
        let to = (from + cx.shared_rng().gen_range(1..n)) % n;
        let router = destinations(cx).hosted(from).router;
        self.send(cx, router, from, to, AppMessage::REQUEST, 0);
    }

    /// Sends one application message from destination `from` on `router` (one of its
    /// routers) and records it; `answers` is the number of the request a reply answers.
    fn send(&mut self, cx: &mut Cx<'_>, router: u32, from: u32, to: u32, kind: u8, answers: u64) {
        // Nothing is sent in the last minute (a message's lifetime): a message still in
        // flight at the end would count as lost.
        if cx.now() + APP_MESSAGE_DRAIN > cx.stop() {
            return;
        }
        let Some(id) = destinations(cx).hosting(router).and_then(|h| h.id) else {
            return;
        };
        self.sent += 1;
        let message = AppMessage {
            number: self.sent,
            from,
            kind,
            answers,
        };
        let payload = message.encode(cx.scenario().clients.message_size);
        let now = cx.now();
        cx.metrics_mut()
            .on_message_sent(now, message.number, from, to, kind);
        let to_hash = destinations(cx).hosted(to).hash;
        let sent = cx
            .router_mut(router)
            .send(now, id, to_hash, message.number, payload);
        if sent.is_err() {
            cx.metrics_mut()
                .on_message_failed(message.number, DeliveryRecord::FAILED);
        }
        cx.drain(router, self);
    }

    /// A message reached destination `d` on `router`: a request is answered by whichever
    /// of its routers it reached.
    fn received(&mut self, cx: &mut Cx<'_>, router: u32, payload: &[u8]) {
        let Some(message) = AppMessage::decode(payload) else {
            return;
        };
        let now = cx.now();
        cx.metrics_mut().on_message_delivered(now, message.number);
        let me = destinations(cx).hosting(router).map(|h| h.destination);
        if let (Some(me), AppMessage::REQUEST, true) =
            (me, message.kind, cx.scenario().clients.reply)
        {
            let number = message.number;
            self.send(cx, router, me, message.from, AppMessage::REPLY, number);
        }
    }

    /// Whether multihoming still delivers: the share of requests to the multihomed
    /// destinations delivered (`multihoming_target_delivery_success`) and of those to the
    /// others (`multihoming_others_delivery_success`), and the share of the replies the
    /// multihomed destinations sent (from whichever router the request reached) that were
    /// delivered.
    fn multihoming_delivery(cx: &Cx<'_>) -> Vec<(String, f64)> {
        let multihomed = &cx.scenario().clients.multihomed;
        if multihomed.is_empty() {
            return Vec::new();
        }
        let target = |d: u32| multihomed.iter().any(|m| m.destination == d);
        let records = cx.metrics().deliveries();
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

impl Plugin for Messages {
    /// A multihomed destination's own messages leave from its first router.
    fn on_online(&mut self, cx: &mut Cx<'_>, router: u32) {
        let Some(hosting) = destinations(cx).hosting(router) else {
            return;
        };
        if destinations(cx).hosted(hosting.destination).router == router {
            self.schedule(cx, hosting.destination);
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, timer: Timer) {
        let d = timer.subject as u32;
        if !cx.is_live(destinations(cx).hosted(d).router, timer.epoch) {
            return;
        }
        cx.trace(TAG, &[timer.subject]);
        self.send_request(cx, d);
        self.schedule(cx, d);
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, router: u32, event: &Event) {
        let Event::Client(event) = event else {
            return;
        };
        match event {
            ClientEvent::Received { payload, .. } => self.received(cx, router, payload),
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
                cx.metrics_mut().on_message_failed(*reference, outcome);
            }
            ClientEvent::Delivered {
                reference, after, ..
            } => cx.metrics_mut().on_message_confirmed(*reference, *after),
            _ => {}
        }
    }

    fn summary(&mut self, cx: &mut Cx<'_>) -> Vec<(String, f64)> {
        Self::multihoming_delivery(cx)
    }
}
