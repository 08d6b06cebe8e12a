//! Two stream managers joined by a seeded lossy, reordering link in virtual time, and a
//! scripted application on each side (in the spirit of quinn-proto's `tests/util.rs`).
//!
//! Each [`Endpoint`] accepts streams, writes what its script queued (as fast as the send
//! buffer takes it), optionally closes after, and reads everything readable unless told
//! not to. The loop drains both managers after every input, then jumps to the next
//! instant anything happens: a delivery on the link or a manager's timeout.

use super::connection::{ConnectionStats, StreamEvent};
use super::manager::{ManagerConfig, ManagerEvent, StreamId, StreamManager, Transmit};
use super::packet::Packet;
use super::{Ports, StreamingError};
use crate::crypto::DestinationKeys;
use crate::time::Instant;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) const T0: Instant = Instant::from_secs(1_800_000_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Side {
    A,
    B,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// The link: every packet takes `latency` plus up to `jitter`; with probability
/// `reorder` it is held another `latency` (so later ones overtake it); with probability
/// `loss` it is lost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkConfig {
    pub(crate) latency: Duration,
    pub(crate) jitter: Duration,
    pub(crate) loss: f64,
    pub(crate) reorder: f64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(100),
            jitter: Duration::ZERO,
            loss: 0.0,
            reorder: 0.0,
        }
    }
}

/// What a test's filter does with a packet on the link, before loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pass,
    Delay(Duration),
    /// Lost, whatever the link's loss rate.
    Drop,
}

type Filter = Box<dyn FnMut(Side, &Packet) -> Verdict>;

/// One side: its manager and its application's script and observations.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) manager: StreamManager,
    pub(crate) events: Vec<ManagerEvent>,
    pub(crate) received: BTreeMap<StreamId, Vec<u8>>,
    /// Bytes queued for a stream, how many went in, and whether to close after.
    pub(crate) outgoing: BTreeMap<StreamId, (Vec<u8>, usize, bool)>,
    pub(crate) reading: bool,
    pub(crate) accepted: Vec<StreamId>,
    pub(crate) errors: Vec<StreamingError>,
    /// The last counters seen of each stream (they outlive the stream).
    pub(crate) stats: BTreeMap<StreamId, ConnectionStats>,
}

impl Endpoint {
    fn new(seed: u8, config: ManagerConfig) -> Self {
        let keys = DestinationKeys::from_secret_bytes(&[seed; 96]);
        let rng = ChaCha20Rng::seed_from_u64(u64::from(seed));
        Self {
            manager: StreamManager::new(keys, config, rng),
            events: Vec::new(),
            received: BTreeMap::new(),
            outgoing: BTreeMap::new(),
            reading: true,
            accepted: Vec::new(),
            errors: Vec::new(),
            stats: BTreeMap::new(),
        }
    }

    /// Queues `data` for stream `id`; `close` closes it once all of it is written.
    pub(crate) fn send(&mut self, id: StreamId, data: Vec<u8>, close: bool) {
        self.outgoing.insert(id, (data, 0, close));
    }

    /// The events of stream `id`, in order.
    pub(crate) fn stream_events(&self, id: StreamId) -> Vec<StreamEvent> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ManagerEvent::Stream { id: i, event } if *i == id => Some(*event),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn has_event(&self, id: StreamId, event: StreamEvent) -> bool {
        self.stream_events(id).contains(&event)
    }

    /// Accepts, writes and reads; returns whether anything moved.
    fn run_application(&mut self) -> bool {
        let mut moved = false;
        while let Some(id) = self.manager.accept() {
            self.accepted.push(id);
            moved = true;
        }
        for (id, (data, written, close)) in &mut self.outgoing {
            if *written < data.len() {
                let n = self.manager.write(*id, &data[*written..]);
                *written += n;
                moved |= n > 0;
            }
            if *close && *written == data.len() {
                self.manager.close(*id);
                *close = false;
                moved = true;
            }
        }
        if self.reading {
            let ids: Vec<StreamId> = self.manager_streams();
            let mut buf = vec![0u8; 16 * 1024];
            for id in ids {
                loop {
                    let n = self.manager.read(id, &mut buf);
                    if n == 0 {
                        break;
                    }
                    self.received.entry(id).or_default().extend(&buf[..n]);
                    moved = true;
                }
            }
        }
        moved
    }

    fn manager_streams(&self) -> Vec<StreamId> {
        self.manager.ids().collect()
    }

    fn record_stats(&mut self) {
        for id in self.manager_streams() {
            if let Some(stats) = self.manager.stream_stats(id) {
                self.stats.insert(id, stats);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LinkStats {
    pub(crate) sent: u64,
    pub(crate) lost: u64,
    pub(crate) reordered: u64,
}

pub(crate) struct Harness {
    pub(crate) now: Instant,
    pub(crate) a: Endpoint,
    pub(crate) b: Endpoint,
    pub(crate) link: LinkConfig,
    pub(crate) link_stats: LinkStats,
    /// Drops everything addressed to a side: a silent peer.
    pub(crate) silent: Option<Side>,
    /// Every packet put on the link, parsed, with its sender.
    pub(crate) trace: Vec<(Instant, Side, Packet)>,
    pub(crate) filter: Option<Filter>,
    rng: ChaCha20Rng,
    queue: BTreeMap<(Instant, u64), (Side, Transmit)>,
    sequence: u64,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").field("now", &self.now).finish()
    }
}

impl Harness {
    pub(crate) fn new(seed: u64, link: LinkConfig, a: ManagerConfig, b: ManagerConfig) -> Self {
        Self {
            now: T0,
            a: Endpoint::new(1, a),
            b: Endpoint::new(2, b),
            link,
            link_stats: LinkStats::default(),
            silent: None,
            trace: Vec::new(),
            filter: None,
            rng: ChaCha20Rng::seed_from_u64(seed),
            queue: BTreeMap::new(),
            sequence: 0,
        }
    }

    /// A listening B and a connecting A with the same stream configuration.
    pub(crate) fn pair(seed: u64, link: LinkConfig, config: ManagerConfig) -> Self {
        let b = ManagerConfig {
            listen: true,
            ..config.clone()
        };
        Self::new(seed, link, config, b)
    }

    pub(crate) fn endpoint(&mut self, side: Side) -> &mut Endpoint {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    /// Opens a stream from A to B.
    pub(crate) fn connect(&mut self) -> StreamId {
        let to = self.b.manager.destination().clone();
        self.a
            .manager
            .connect(self.now, to, Ports { from: 4000, to: 80 })
            .expect("within limits")
    }

    /// Drains both sides until neither has anything more to do at `now`.
    pub(crate) fn pump(&mut self) {
        loop {
            let mut moved = false;
            for side in [Side::A, Side::B] {
                let now = self.now;
                let endpoint = self.endpoint(side);
                moved |= endpoint.run_application();
                let mut out = Vec::new();
                while let Some(transmit) = endpoint.manager.poll_transmit(now) {
                    out.push(transmit);
                }
                endpoint.record_stats();
                while let Some(event) = endpoint.manager.poll_event() {
                    endpoint.events.push(event);
                    moved = true;
                }
                moved |= !out.is_empty();
                for transmit in out {
                    self.put_on_link(side, transmit);
                }
            }
            if !moved {
                break;
            }
        }
    }

    fn put_on_link(&mut self, from: Side, transmit: Transmit) {
        let packet = Packet::parse(&transmit.payload).expect("our packets parse");
        self.trace.push((self.now, from, packet.clone()));
        self.link_stats.sent += 1;
        let mut delay = self.link.latency;
        let mut dropped = false;
        if let Some(filter) = &mut self.filter {
            match filter(from, &packet) {
                Verdict::Pass => {}
                Verdict::Delay(extra) => delay += extra,
                Verdict::Drop => dropped = true,
            }
        }
        if dropped || self.silent == Some(from.other()) || self.rng.gen_bool(self.link.loss) {
            self.link_stats.lost += 1;
            return;
        }
        if !self.link.jitter.is_zero() {
            delay += self.link.jitter.mul_f64(self.rng.gen::<f64>());
        }
        if self.rng.gen_bool(self.link.reorder) {
            self.link_stats.reordered += 1;
            delay += self.link.latency;
        }
        self.sequence += 1;
        self.queue
            .insert((self.now + delay, self.sequence), (from.other(), transmit));
    }

    /// Advances to the next instant anything happens, but not past `limit`, and
    /// handles it; false when nothing ever will.
    fn step(&mut self, limit: Instant) -> bool {
        self.pump();
        let next = [
            self.queue.keys().next().map(|(at, _)| *at),
            self.a.manager.poll_timeout(),
            self.b.manager.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else {
            return false;
        };
        self.now = self.now.max(next.min(limit));
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (to, transmit) = entry.remove();
            let from = Some(self.endpoint(to.other()).manager.hash());
            let now = self.now;
            let endpoint = self.endpoint(to);
            let ports = transmit.ports;
            if let Err(e) = endpoint
                .manager
                .handle_packet(now, from, ports, &transmit.payload)
            {
                endpoint.errors.push(e);
            }
            // The applications run between deliveries, as they would between messages.
            self.pump();
        }
        let now = self.now;
        self.a.manager.handle_timeout(now);
        self.b.manager.handle_timeout(now);
        self.pump();
        true
    }

    /// Steps until `done` holds or `limit` of virtual time has passed; returns `done`.
    pub(crate) fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&Harness) -> bool,
    ) -> bool {
        let end = self.now + limit;
        self.pump();
        while !done(self) {
            if self.now >= end || !self.step(end) {
                return done(self);
            }
        }
        true
    }

    /// Runs for `duration` of virtual time.
    pub(crate) fn run_for(&mut self, duration: Duration) {
        let end = self.now + duration;
        self.run_until(duration, |h| h.now >= end);
    }

    /// Packets `side` sent, in order.
    pub(crate) fn sent_by(&self, side: Side) -> impl Iterator<Item = &Packet> {
        self.trace
            .iter()
            .filter(move |(_, s, _)| *s == side)
            .map(|(_, _, p)| p)
    }
}

/// `len` seeded pseudo-random bytes.
pub(crate) fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut data = vec![0u8; len];
    rng.fill(&mut data[..]);
    data
}
