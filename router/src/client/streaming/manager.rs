//! The streams of one local destination: demultiplexing, identities and admission.
//!
//! Packets come in as bytes with the sender's hash when the session they came over is
//! bound to one, and go out as [`Transmit`]s naming the destination they are for. The
//! manager verifies what must be signed (SYN, CLOSE, RESET) against the peer's key from
//! its SYN, checks the SYN's replay hash, adds FROM, the replay hash and our signature
//! to what connections send, and decides which SYNs become streams.

use super::connection::{Connection, ConnectionStats, Role, StreamEvent};
use super::packet::{Flags, Packet};
use super::signature::{sign, PeerKey};
use super::{Ports, StreamConfig, StreamingError};
use crate::crypto::DestinationKeys;
use crate::data::{Destination, Hash};
use crate::limit::{Limiter, PeerLimiter, PeerRateLimit, RateLimit};
use crate::time::Instant;
use rand::RngCore;
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// Peers whose per-minute SYN counts are kept at once (older ones are forgotten).
const RATE_TRACKED_PEERS: usize = 1024;

/// Our stream id of a stream: random, nonzero, what the peer puts in send stream id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u32);

/// A manager's admission rules, beside the parameters of each stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerConfig {
    pub stream: StreamConfig,
    /// Whether SYNs are accepted at all (off: refused with a RESET).
    pub listen: bool,
    /// Accepted streams the application has not taken with `accept` yet.
    pub backlog: usize,
    /// Streams open at once, inbound and outbound (`maxConcurrentStreams`; 0: no limit).
    pub max_concurrent_streams: usize,
    /// Streams open at once with one peer (0: no limit).
    pub max_streams_per_peer: usize,
    /// Inbound streams per peer per minute (`maxConnsPerMinute`; 0: no limit).
    pub max_conns_per_minute: u32,
    /// Inbound streams per minute from all peers (`maxTotalConnsPerMinute`; 0: no limit).
    pub max_total_conns_per_minute: u32,
    /// How long packets that came before their stream's SYN are kept.
    pub early_packet_lifetime: Duration,
    /// How many such packets are kept at once.
    pub max_early_packets: usize,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        Self {
            stream: StreamConfig::default(),
            listen: false,
            backlog: 32,
            max_concurrent_streams: 0,
            max_streams_per_peer: 0,
            max_conns_per_minute: 0,
            max_total_conns_per_minute: 0,
            early_packet_lifetime: Duration::from_secs(30),
            max_early_packets: 64,
        }
    }
}

/// A packet for the client layer to send to `to` (I2CP protocol 6, with `ports`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub to: Hash,
    pub ports: Ports,
    pub payload: Vec<u8>,
    /// Since the stream's last packet went out, its retransmission timer expired (our
    /// packets are lost) or the peer sent again what we had acknowledged (our ACKs
    /// are): the path may be dead, and this packet should try another (see
    /// `Clients::flush_streams`).
    pub path_suspect: bool,
}

/// Why a SYN was refused (always with a RESET: `limitAction=reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotListening,
    BacklogFull,
    TooManyStreams,
    TooManyFromPeer,
    RateLimited,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerEvent {
    /// A stream was accepted and waits for [`StreamManager::accept`].
    Incoming {
        id: StreamId,
        from: Hash,
        ports: Ports,
    },
    Stream {
        id: StreamId,
        event: StreamEvent,
    },
    Refused {
        from: Hash,
        reason: Refusal,
    },
}

/// Counters of what the manager did with packets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ManagerStats {
    /// Packets kept because they came before their SYN, and later given to its stream.
    pub early_queued: u64,
    pub early_replayed: u64,
    pub refused: u64,
    /// Packets dropped: unparsable, badly signed, replayed, unknown stream.
    pub dropped: u64,
}

#[derive(Debug)]
struct Stream {
    conn: Connection,
    peer: PeerKey,
    remote: Hash,
    /// The connection's RTO expiries and duplicates received, as last reported in a
    /// [`Transmit`].
    losses_reported: (u64, u64),
    /// When a [`Transmit`] last said the path was suspect.
    suspected_at: Option<Instant>,
}

impl Stream {
    fn new(conn: Connection, peer: PeerKey, remote: Hash) -> Self {
        Stream {
            conn,
            peer,
            remote,
            losses_reported: (0, 0),
            suspected_at: None,
        }
    }
}

#[derive(Debug)]
struct Early {
    at: Instant,
    from: Option<Hash>,
    packet: Packet,
}

#[derive(Debug)]
pub struct StreamManager {
    keys: DestinationKeys,
    hash: Hash,
    config: ManagerConfig,
    rng: ChaCha20Rng,
    streams: BTreeMap<StreamId, Stream>,
    /// Inbound streams by (the initiator's stream id, its hash): where its packets
    /// with send stream id 0 (sent before it heard our SYN) go.
    inbound: BTreeMap<(u32, Hash), StreamId>,
    early: BTreeMap<u32, Vec<Early>>,
    early_count: usize,
    backlog: VecDeque<StreamId>,
    control: VecDeque<Transmit>,
    events: VecDeque<ManagerEvent>,
    per_peer_rate: Option<PeerLimiter>,
    total_rate: Option<Limiter>,
    cursor: u32,
    stats: ManagerStats,
}

fn needs_signature(packet: &Packet) -> bool {
    packet.flags.contains(Flags::SYNCHRONIZE)
        || packet.flags.contains(Flags::CLOSE)
        || packet.flags.contains(Flags::RESET)
}

impl StreamManager {
    pub fn new(keys: DestinationKeys, config: ManagerConfig, rng: ChaCha20Rng) -> Self {
        let minute = Duration::from_secs(60);
        let per_peer_rate = (config.max_conns_per_minute > 0).then(|| {
            PeerLimiter::new(PeerRateLimit {
                max: config.max_conns_per_minute,
                window: minute,
                tracked_peers: RATE_TRACKED_PEERS,
            })
        });
        let total_rate = (config.max_total_conns_per_minute > 0).then(|| {
            Limiter::new(RateLimit {
                max: config.max_total_conns_per_minute,
                window: minute,
            })
        });
        Self {
            hash: keys.hash(),
            keys,
            config,
            rng,
            streams: BTreeMap::new(),
            inbound: BTreeMap::new(),
            early: BTreeMap::new(),
            early_count: 0,
            backlog: VecDeque::new(),
            control: VecDeque::new(),
            events: VecDeque::new(),
            per_peer_rate,
            total_rate,
            cursor: 0,
            stats: ManagerStats::default(),
        }
    }

    /// Our destination's hash.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    pub fn destination(&self) -> &Destination {
        self.keys.destination()
    }

    pub fn stats(&self) -> &ManagerStats {
        &self.stats
    }

    pub fn set_listening(&mut self, listen: bool) {
        self.config.listen = listen;
    }

    /// Streams opened or accepted from now on use `config`; whether we listen stays.
    pub fn set_config(&mut self, config: ManagerConfig) {
        let listen = self.config.listen;
        self.config = ManagerConfig { listen, ..config };
    }

    /// Streams open (including those not accepted yet and those lingering).
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Our ids of the streams open, in order.
    pub fn ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.streams.keys().copied()
    }

    pub fn connection(&self, id: StreamId) -> Option<&Connection> {
        self.streams.get(&id).map(|s| &s.conn)
    }

    pub fn connection_mut(&mut self, id: StreamId) -> Option<&mut Connection> {
        self.streams.get_mut(&id).map(|s| &mut s.conn)
    }

    /// The hash of the stream's peer.
    pub fn remote(&self, id: StreamId) -> Option<Hash> {
        self.streams.get(&id).map(|s| s.remote)
    }

    pub fn remote_destination(&self, id: StreamId) -> Option<&Destination> {
        self.streams.get(&id).map(|s| s.peer.destination())
    }

    /// A stream's counters.
    pub fn stream_stats(&self, id: StreamId) -> Option<ConnectionStats> {
        self.connection(id).map(|c| *c.stats())
    }

    /// Opens a stream to `remote`; the SYN goes at the next `poll_transmit`, carrying
    /// what is written before then.
    pub fn connect(
        &mut self,
        now: Instant,
        remote: Destination,
        ports: Ports,
    ) -> Result<StreamId, StreamingError> {
        let hash = remote.hash();
        if self.too_many_streams() || self.too_many_from(&hash) {
            return Err(StreamingError::TooManyStreams);
        }
        let id = self.fresh_id();
        let conn = Connection::connect(now, self.config.stream.clone(), id.0, ports);
        let peer = PeerKey::Destination(remote);
        self.streams.insert(id, Stream::new(conn, peer, hash));
        Ok(id)
    }

    /// The next accepted stream, oldest first.
    pub fn accept(&mut self) -> Option<StreamId> {
        self.backlog.pop_front()
    }

    /// [`Connection::write`] on stream `id` (0 for an unknown stream).
    pub fn write(&mut self, id: StreamId, data: &[u8]) -> usize {
        self.connection_mut(id).map_or(0, |c| c.write(data))
    }

    /// [`Connection::read`] on stream `id` (0 for an unknown stream).
    pub fn read(&mut self, id: StreamId, buf: &mut [u8]) -> usize {
        self.connection_mut(id).map_or(0, |c| c.read(buf))
    }

    pub fn close(&mut self, id: StreamId) {
        if let Some(c) = self.connection_mut(id) {
            c.close();
        }
    }

    pub fn reset(&mut self, id: StreamId) {
        if let Some(c) = self.connection_mut(id) {
            c.reset();
        }
    }

    fn fresh_id(&mut self) -> StreamId {
        loop {
            let id = StreamId(self.rng.next_u32());
            if id.0 != 0 && !self.streams.contains_key(&id) {
                return id;
            }
        }
    }

    fn too_many_streams(&self) -> bool {
        let max = self.config.max_concurrent_streams;
        max > 0 && self.streams.len() >= max
    }

    fn too_many_from(&self, peer: &Hash) -> bool {
        let max = self.config.max_streams_per_peer;
        max > 0 && self.streams.values().filter(|s| s.remote == *peer).count() >= max
    }

    /// Takes one packet. `from` is the sender's hash when the session it came over is
    /// bound to one; `ports` are those of its Data message (the sender's view). An
    /// error says why the packet was dropped; nothing else follows from it.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        from: Option<Hash>,
        ports: Ports,
        bytes: &[u8],
    ) -> Result<(), StreamingError> {
        let result = self.dispatch(now, from, ports, bytes);
        if result.is_err() {
            self.stats.dropped += 1;
        }
        result
    }

    fn dispatch(
        &mut self,
        now: Instant,
        from: Option<Hash>,
        ports: Ports,
        bytes: &[u8],
    ) -> Result<(), StreamingError> {
        let packet = Packet::parse(bytes)?;
        if packet.flags.contains(Flags::ECHO) {
            return Ok(()); // pings are not answered (see the module docs)
        }
        if packet.send_stream_id != 0 {
            let id = StreamId(packet.send_stream_id);
            return self.deliver(now, id, from, packet);
        }
        if packet.is_syn() {
            return self.on_syn(now, from, ports, packet);
        }
        // A later packet from an initiator that has not heard our SYN yet, or one that
        // overtook its SYN.
        match self.find_inbound(packet.recv_stream_id, from) {
            Some(id) => self.deliver(now, id, from, packet),
            None if packet.is_reset() => Err(StreamingError::UnknownStream(0)),
            None => {
                self.queue_early(now, from, packet);
                Ok(())
            }
        }
    }

    fn deliver(
        &mut self,
        now: Instant,
        id: StreamId,
        from: Option<Hash>,
        packet: Packet,
    ) -> Result<(), StreamingError> {
        let hash = self.hash;
        let stream = self
            .streams
            .get_mut(&id)
            .ok_or(StreamingError::UnknownStream(id.0))?;
        if from.is_some_and(|f| f != stream.remote) {
            return Err(StreamingError::WrongSender);
        }
        if packet.replay_hash().is_some_and(|h| h != hash) {
            return Err(StreamingError::WrongRecipient);
        }
        if packet.is_syn() {
            // A SYN names its signer, which must be the stream's peer; it may delegate
            // to a transient key, which then signs the rest of the stream.
            let key = PeerKey::from_syn(&packet, now)?;
            if key.destination().hash() != stream.remote {
                return Err(StreamingError::WrongSender);
            }
            key.verify(&packet)?;
            stream.peer = key;
        } else if needs_signature(&packet) {
            stream.peer.verify(&packet)?;
        }
        stream.conn.handle_packet(now, packet);
        Ok(())
    }

    fn find_inbound(&self, remote_stream: u32, from: Option<Hash>) -> Option<StreamId> {
        match from {
            Some(hash) => self.inbound.get(&(remote_stream, hash)).copied(),
            None => self
                .inbound
                .range((remote_stream, Hash([0; 32]))..=(remote_stream, Hash([0xff; 32])))
                .map(|(_, id)| *id)
                .next(),
        }
    }

    fn on_syn(
        &mut self,
        now: Instant,
        from: Option<Hash>,
        ports: Ports,
        packet: Packet,
    ) -> Result<(), StreamingError> {
        let peer = PeerKey::from_syn(&packet, now)?;
        let remote = peer.destination().hash();
        if from.is_some_and(|f| f != remote) {
            return Err(StreamingError::WrongSender);
        }
        if packet.replay_hash().is_some_and(|h| h != self.hash) {
            return Err(StreamingError::WrongRecipient);
        }
        peer.verify(&packet)?;
        let remote_stream = packet.recv_stream_id;
        if let Some(id) = self.inbound.get(&(remote_stream, remote)).copied() {
            // A resent SYN of a stream we have.
            return self.deliver(now, id, Some(remote), packet);
        }
        if let Some(reason) = self.refusal(now, &remote) {
            self.refuse(remote_stream, remote, ports, reason);
            return Ok(());
        }
        let id = self.fresh_id();
        let local_ports = ports.reversed();
        let mut conn =
            Connection::accept(now, self.config.stream.clone(), id.0, local_ports, packet);
        for early in self.take_early(remote_stream, remote) {
            if !needs_signature(&early.packet) || peer.verify(&early.packet).is_ok() {
                self.stats.early_replayed += 1;
                conn.handle_packet(now, early.packet);
            }
        }
        self.streams.insert(id, Stream::new(conn, peer, remote));
        self.inbound.insert((remote_stream, remote), id);
        self.backlog.push_back(id);
        self.events.push_back(ManagerEvent::Incoming {
            id,
            from: remote,
            ports: local_ports,
        });
        Ok(())
    }

    /// Why a new inbound stream from `peer` must be refused, if it must. Counts it
    /// against the rate limits when it passes the other rules.
    fn refusal(&mut self, now: Instant, peer: &Hash) -> Option<Refusal> {
        if !self.config.listen {
            return Some(Refusal::NotListening);
        }
        if self.backlog.len() >= self.config.backlog {
            return Some(Refusal::BacklogFull);
        }
        if self.too_many_streams() {
            return Some(Refusal::TooManyStreams);
        }
        if self.too_many_from(peer) {
            return Some(Refusal::TooManyFromPeer);
        }
        if let Some(total) = &mut self.total_rate {
            if !total.has_room(now) {
                return Some(Refusal::RateLimited);
            }
        }
        if let Some(per_peer) = &mut self.per_peer_rate {
            if !per_peer.allows(now, *peer) {
                return Some(Refusal::RateLimited);
            }
        }
        if let Some(total) = &mut self.total_rate {
            total.record(now);
        }
        None
    }

    /// Answers a refused SYN with a signed RESET to the initiator's stream.
    fn refuse(&mut self, remote_stream: u32, remote: Hash, ports: Ports, reason: Refusal) {
        let mut reset = Packet {
            send_stream_id: remote_stream,
            flags: Flags::RESET | Flags::NO_ACK,
            ..Packet::default()
        };
        self.stats.refused += 1;
        self.events.push_back(ManagerEvent::Refused {
            from: remote,
            reason,
        });
        if sign(&mut reset, &self.keys).is_ok() {
            if let Ok(payload) = reset.emit() {
                self.control.push_back(Transmit {
                    to: remote,
                    ports: ports.reversed(),
                    payload,
                    path_suspect: false,
                });
            }
        }
    }

    fn queue_early(&mut self, now: Instant, from: Option<Hash>, packet: Packet) {
        if self.early_count >= self.config.max_early_packets {
            self.stats.dropped += 1;
            return;
        }
        self.early_count += 1;
        self.stats.early_queued += 1;
        self.early
            .entry(packet.recv_stream_id)
            .or_default()
            .push(Early {
                at: now,
                from,
                packet,
            });
    }

    /// The early packets of the stream `remote_stream` of `remote`, in arrival order.
    fn take_early(&mut self, remote_stream: u32, remote: Hash) -> Vec<Early> {
        let Some(queued) = self.early.remove(&remote_stream) else {
            return Vec::new();
        };
        let (mine, others): (Vec<Early>, Vec<Early>) = queued
            .into_iter()
            .partition(|e| e.from.is_none_or(|f| f == remote));
        self.early_count -= mine.len();
        if !others.is_empty() {
            self.early.insert(remote_stream, others);
        }
        mine
    }

    /// The next packet to send, streams taking turns.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if let Some(transmit) = self.control.pop_front() {
            return Some(transmit);
        }
        let start = StreamId(self.cursor.saturating_add(1));
        let found = self
            .streams
            .range_mut(start..)
            .find_map(|(id, s)| s.conn.poll_transmit(now).map(|p| (*id, p)));
        let found = found.or_else(|| {
            self.streams
                .range_mut(..start)
                .find_map(|(id, s)| s.conn.poll_transmit(now).map(|p| (*id, p)))
        });
        let (id, packet) = found?;
        self.cursor = id.0;
        let stream = self.streams.get_mut(&id)?;
        let stats = stream.conn.stats();
        let losses = (stats.timeouts, stats.duplicates_received);
        let fresh = losses != stream.losses_reported;
        stream.losses_reported = losses;
        // At most once per RTO: the duplicates of one resent flight, each answered at
        // once, are one loss, not one per packet.
        let rested = stream
            .suspected_at
            .is_none_or(|at| now.saturating_duration_since(at) >= stream.conn.rto());
        let path_suspect = fresh && rested;
        if path_suspect {
            stream.suspected_at = Some(now);
        }
        Some(Transmit {
            path_suspect,
            ..self.finish(id, packet)
        })
    }

    /// Adds our identity to a connection's packet: FROM (and, from the initiator, the
    /// recipient's hash) on a SYN, our signature where one is required.
    fn finish(&self, id: StreamId, mut packet: Packet) -> Transmit {
        let stream = &self.streams[&id];
        if packet.is_syn() {
            packet.options.from = Some(self.keys.destination().clone());
            if stream.conn.role() == Role::Initiator {
                packet.set_replay_hash(&stream.remote);
            }
        }
        if needs_signature(&packet) {
            sign(&mut packet, &self.keys)
                .expect("a connection's packets have few NACKs and small options");
        }
        let payload = packet
            .emit()
            .expect("a connection's packets have few NACKs and small options");
        Transmit {
            to: stream.remote,
            ports: stream.conn.ports(),
            payload,
            path_suspect: false,
        }
    }

    /// The earliest instant [`StreamManager::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let streams = self.streams.values().filter_map(|s| s.conn.poll_timeout());
        let early = self
            .early
            .values()
            .flatten()
            .map(|e| e.at + self.config.early_packet_lifetime);
        streams.chain(early).min()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        for stream in self.streams.values_mut() {
            stream.conn.handle_timeout(now);
        }
        let lifetime = self.config.early_packet_lifetime;
        let mut expired = 0;
        self.early.retain(|_, queued| {
            let before = queued.len();
            queued.retain(|e| e.at + lifetime > now);
            expired += before - queued.len();
            !queued.is_empty()
        });
        self.early_count -= expired;
    }

    /// The next event; streams that have ended are forgotten once their events are out.
    pub fn poll_event(&mut self) -> Option<ManagerEvent> {
        for (id, stream) in &mut self.streams {
            while let Some(event) = stream.conn.poll_event() {
                self.events
                    .push_back(ManagerEvent::Stream { id: *id, event });
            }
        }
        let done: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| s.conn.is_done())
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            self.streams.remove(&id);
            self.inbound.retain(|_, v| *v != id);
            self.backlog.retain(|b| *b != id);
        }
        self.events.pop_front()
    }
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
