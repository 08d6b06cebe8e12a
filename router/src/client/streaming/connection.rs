//! One stream's state machine, sans-IO in the style of quinn-proto's `Connection`.
//!
//! Inputs: [`Connection::handle_packet`], [`Connection::handle_timeout`] and the
//! application's [`Connection::write`], [`Connection::read`], [`Connection::close`] and
//! [`Connection::reset`]. Outputs: [`Connection::poll_transmit`] (packets, unsigned and
//! without FROM: identities are the manager's), [`Connection::poll_event`] and
//! [`Connection::poll_timeout`]. After any input, drain `poll_transmit` until it returns
//! `None` and `poll_event` likewise, then wait for `poll_timeout`.
//!
//! A connection knows its own stream id and learns the peer's from the first packet it
//! receives (the responder from the SYN). Sequence numbers count packets: 0 is the SYN,
//! every later packet that carries data or CLOSE takes the next one; plain ACKs are 0.

use super::congestion::Congestion;
use super::packet::{Flags, Packet};
use super::recv_buffer::{Arrival, RecvBuffer};
use super::rtt::RttEstimator;
use super::send_buffer::{InFlight, SendBuffer};
use super::{InactivityAction, Ports, StreamConfig, CHOKE_DELAY_MS, MAX_DELAY_MS};
use crate::time::Instant;
use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

/// Packets after an unchoke that carry the unchoke signal, in case some are lost.
const UNCHOKE_SIGNALS: u8 = 3;
/// The smallest MTU we agree to, whatever the peer says (`MIN_MESSAGE_SIZE`).
const MIN_MTU: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Responder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Our SYN is out; the peer has not answered.
    Connecting,
    Open,
    /// Both CLOSEs are acknowledged; we re-acknowledge a resent CLOSE until then.
    Lingering(Instant),
    /// Closed cleanly; data may remain to be read.
    Closed,
    /// Reset by either side, or timed out.
    Failed,
}

/// What a connection reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent {
    /// The initiator heard from the responder (the responder reports it on accept).
    Connected,
    /// Data became readable.
    Readable,
    /// `write` refused data earlier, and there is room again.
    Writable,
    /// The peer's CLOSE arrived with everything before it: no more data will come.
    PeerClosed,
    /// Both sides closed and both CLOSEs were acknowledged.
    Closed,
    Reset {
        by_peer: bool,
    },
    TimedOut(TimeoutKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// No answer to the SYN within the connect timeout.
    Connect,
    /// Idle for the inactivity timeout, with [`InactivityAction::Disconnect`].
    Inactivity,
    /// A packet went unacknowledged through `max_resends` resends.
    Retransmissions,
}

/// Counters for tests, benchmarks and observers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    pub packets_sent: u64,
    pub packets_received: u64,
    /// Payload bytes sent in new packets (not counting resends).
    pub bytes_sent: u64,
    /// Payload bytes taken into the receive buffer.
    pub bytes_received: u64,
    pub retransmissions: u64,
    pub fast_retransmits: u64,
    /// Retransmission timeouts (not counting probes of a choked peer).
    pub timeouts: u64,
    pub duplicates_received: u64,
    /// Packets dropped for want of room or out of the window.
    pub packets_refused: u64,
    /// Times the peer choked us, and we it.
    pub chokes_received: u64,
    pub chokes_sent: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseState {
    Open,
    Requested,
    Sent,
    Acked,
}

#[derive(Debug)]
pub struct Connection {
    config: StreamConfig,
    role: Role,
    ports: Ports,
    local_id: u32,
    /// The peer's stream id; 0 until we hear from it.
    remote_id: u32,
    state: State,
    send: SendBuffer,
    next_seq: u32,
    syn_pending: bool,
    close_state: CloseState,
    retransmit: BTreeSet<u32>,
    rtt: RttEstimator,
    cc: Congestion,
    rto_deadline: Option<Instant>,
    /// When the retransmission timer last fired, while packets sent before it may still
    /// be lost (see [`Connection::resend_after_timeout`]).
    timed_out_at: Option<Instant>,
    /// The peer chokes us: only probes until it unchokes.
    choked: bool,
    probe_deadline: Option<Instant>,
    probe_allowed: bool,
    /// Probes sent in this choke: each waits twice as long as the last.
    probes: u32,
    peer_mtu: Option<usize>,
    write_blocked: bool,
    recv: RecvBuffer,
    ack_deadline: Option<Instant>,
    ack_immediately: bool,
    /// We choke the peer: our receive buffer is full.
    choking: bool,
    unchoke_signals: u8,
    peer_closed_reported: bool,
    connect_deadline: Option<Instant>,
    last_activity: Instant,
    reset_pending: bool,
    events: VecDeque<StreamEvent>,
    stats: ConnectionStats,
}

impl Connection {
    /// Opens a stream: the SYN goes out at the next [`Connection::poll_transmit`], with
    /// whatever was written before then.
    pub fn connect(now: Instant, config: StreamConfig, local_id: u32, ports: Ports) -> Self {
        let mut c = Self::new(now, config, Role::Initiator, local_id, ports);
        c.state = State::Connecting;
        c.connect_deadline =
            (!c.config.connect_timeout.is_zero()).then(|| now + c.config.connect_timeout);
        c
    }

    /// Answers the peer's `syn` (already verified by the caller).
    pub fn accept(
        now: Instant,
        config: StreamConfig,
        local_id: u32,
        ports: Ports,
        syn: Packet,
    ) -> Self {
        let mut c = Self::new(now, config, Role::Responder, local_id, ports);
        c.remote_id = syn.recv_stream_id;
        c.events.push_back(StreamEvent::Connected);
        // Our SYN may wait for the application's answer to a request the SYN carried; a
        // bare SYN's sender waits for us (SAM's STREAM CONNECT): answer that at once.
        let bare = syn.payload.is_empty() && !syn.is_close();
        c.handle_packet(now, syn);
        c.ack_immediately |= bare;
        c
    }

    fn new(now: Instant, config: StreamConfig, role: Role, local_id: u32, ports: Ports) -> Self {
        let rtt = RttEstimator::new(
            config.initial_rto,
            config.min_rto,
            config.max_rto,
            config.max_rtt,
        );
        Self {
            send: SendBuffer::new(config.send_buffer),
            recv: RecvBuffer::new(config.receive_buffer, config.max_window.saturating_mul(2)),
            cc: Congestion::new(&config),
            rtt,
            config,
            role,
            ports,
            local_id,
            remote_id: 0,
            state: State::Open,
            next_seq: 0,
            syn_pending: true,
            close_state: CloseState::Open,
            retransmit: BTreeSet::new(),
            rto_deadline: None,
            timed_out_at: None,
            choked: false,
            probe_deadline: None,
            probe_allowed: false,
            probes: 0,
            peer_mtu: None,
            write_blocked: false,
            ack_deadline: None,
            ack_immediately: false,
            choking: false,
            unchoke_signals: 0,
            peer_closed_reported: false,
            connect_deadline: None,
            last_activity: now,
            reset_pending: false,
            events: VecDeque::new(),
            stats: ConnectionStats::default(),
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn local_id(&self) -> u32 {
        self.local_id
    }

    pub fn remote_id(&self) -> u32 {
        self.remote_id
    }

    pub fn ports(&self) -> Ports {
        self.ports
    }

    pub fn stats(&self) -> &ConnectionStats {
        &self.stats
    }

    /// The congestion window, in packets.
    pub fn window(&self) -> u32 {
        self.cc.window()
    }

    pub fn rto(&self) -> Duration {
        self.rtt.rto()
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.rtt.srtt()
    }

    /// Whether the peer is choking us.
    pub fn is_choked(&self) -> bool {
        self.choked
    }

    /// Whether we are choking the peer.
    pub fn is_choking(&self) -> bool {
        self.choking
    }

    /// The payload size we send: the smaller of ours and the peer's.
    pub fn mtu(&self) -> usize {
        let ours = self.config.max_message_size.max(MIN_MTU);
        self.peer_mtu
            .map_or(ours, |theirs| ours.min(theirs.max(MIN_MTU)))
    }

    /// Nothing more will happen: failed, or closed with everything read.
    pub fn is_done(&self) -> bool {
        match self.state {
            State::Failed => !self.reset_pending,
            State::Closed => self.recv.readable_len() == 0,
            _ => false,
        }
    }

    /// The peer closed and every byte before its CLOSE has been read.
    pub fn is_read_finished(&self) -> bool {
        self.recv.is_finished() && self.recv.readable_len() == 0
    }

    fn is_terminal(&self) -> bool {
        matches!(self.state, State::Closed | State::Failed)
    }

    /// Queues as much of `data` as the send buffer takes; returns how much. Nothing is
    /// taken after `close` or once the stream ended; a short write is followed by
    /// [`StreamEvent::Writable`] when there is room again.
    pub fn write(&mut self, data: &[u8]) -> usize {
        let open = matches!(self.state, State::Connecting | State::Open);
        if !open || self.close_state != CloseState::Open {
            return 0;
        }
        let taken = self.send.write(data);
        if taken < data.len() {
            self.write_blocked = true;
        }
        taken
    }

    /// Moves received bytes into `buf`; returns how many (0: nothing to read now; see
    /// [`Connection::is_read_finished`] for the end of the stream).
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = self.recv.read(buf);
        // Only the unread part: packets queued behind a hole wait on the sender, and a
        // choked sender would not send what fills it.
        if self.choking && self.recv.readable_len() <= self.recv.capacity() / 2 {
            self.choking = false;
            self.unchoke_signals = UNCHOKE_SIGNALS;
            self.ack_immediately = true;
        }
        n
    }

    /// Half-closes: a CLOSE follows the data already written. The peer may go on sending.
    pub fn close(&mut self) {
        let open = matches!(self.state, State::Connecting | State::Open);
        if open && self.close_state == CloseState::Open {
            self.close_state = CloseState::Requested;
        }
    }

    /// Ends the stream at once with a RESET.
    pub fn reset(&mut self) {
        if !self.is_terminal() {
            self.fail(StreamEvent::Reset { by_peer: false }, true);
        }
    }

    pub fn poll_event(&mut self) -> Option<StreamEvent> {
        self.events.pop_front()
    }

    /// Takes one packet from the peer (verified by the caller where it must be signed).
    pub fn handle_packet(&mut self, now: Instant, packet: Packet) {
        if self.is_terminal() {
            return;
        }
        self.last_activity = now;
        self.stats.packets_received += 1;
        if packet.is_reset() {
            self.fail(StreamEvent::Reset { by_peer: true }, false);
            return;
        }
        if packet.flags.contains(Flags::ECHO) {
            return;
        }
        if self.remote_id == 0 {
            self.remote_id = packet.recv_stream_id;
        }
        if packet.is_syn() {
            if let Some(mtu) = packet.options.max_packet_size {
                self.peer_mtu = Some(usize::from(mtu));
            }
            self.connected();
        }
        let was_choked = self.choked;
        if packet.carries_ack() {
            self.on_ack(now, packet.ack_through, packet.real_nacks());
        }
        // After the ACK: an explicit choke in this packet wins over its ACK's unchoke.
        if let Some(delay) = packet.options.delay_requested {
            self.on_delay_option(delay);
        }
        if was_choked && !self.choked {
            self.on_unchoke(now);
        }
        if !packet.is_plain_ack() {
            self.on_data(now, packet);
        }
        self.after_input(now);
    }

    fn connected(&mut self) {
        if self.state == State::Connecting {
            self.state = State::Open;
            self.connect_deadline = None;
            self.events.push_back(StreamEvent::Connected);
        }
    }

    fn on_ack(&mut self, now: Instant, ack_through: u32, nacks: &[u32]) {
        if ack_through >= self.next_seq {
            return; // acknowledges what we never sent
        }
        let acked = self.send.on_ack(now, ack_through, nacks);
        if acked.packets > 0 {
            if let Some(sample) = acked.rtt_sample {
                self.rtt.on_sample(sample);
            }
            self.cc.on_ack(acked.packets);
            self.resend_after_timeout();
            // New data got through, so the receiver had room: covers a lost unchoke.
            self.choked = false;
            self.rto_deadline = (self.send.in_flight_len() > 0).then(|| now + self.rtt.rto());
            if acked.syn {
                self.connected();
            }
            if acked.close {
                self.close_state = CloseState::Acked;
            }
        }
        // Fast retransmit on repeated NACKs, unless the packet was resent so recently
        // that these NACKs may predate the resend's arrival.
        let min_gap = self.rtt.srtt().unwrap_or_else(|| self.rtt.rto());
        let threshold = self.config.fast_retransmit_nacks.max(1);
        for seq in acked.nacked {
            let Some(packet) = self.send.in_flight_mut(seq) else {
                continue;
            };
            let old = now.saturating_duration_since(packet.last_sent) >= min_gap;
            if packet.nacks >= threshold && old && self.retransmit.insert(seq) {
                self.stats.fast_retransmits += 1;
                self.cc.on_loss(seq, self.next_seq);
            }
        }
    }

    fn on_delay_option(&mut self, delay: u16) {
        if delay > MAX_DELAY_MS {
            if !self.choked {
                self.choked = true;
                self.stats.chokes_received += 1;
            }
        } else {
            self.choked = false;
        }
    }

    fn on_data(&mut self, now: Instant, packet: Packet) {
        let requested = packet
            .options
            .delay_requested
            .filter(|d| *d <= MAX_DELAY_MS);
        let len = packet.payload.len() as u64;
        let had_readable = self.recv.readable_len() > 0;
        let close = packet.is_close();
        let arrival = self.recv.insert(packet.seq, packet.payload, close);
        let mut immediate = requested == Some(0);
        match arrival {
            Arrival::InOrder => self.stats.bytes_received += len,
            Arrival::OutOfOrder => {
                self.stats.bytes_received += len;
                immediate = true;
            }
            Arrival::Duplicate => {
                self.stats.duplicates_received += 1;
                immediate = true;
            }
            Arrival::Full => {
                self.stats.packets_refused += 1;
                if !self.choking {
                    self.choking = true;
                    self.stats.chokes_sent += 1;
                }
                immediate = true;
            }
            Arrival::OutOfWindow => {
                self.stats.packets_refused += 1;
                immediate = true;
            }
        }
        if self.remote_id != 0 {
            if immediate {
                self.ack_immediately = true;
            } else {
                let wait = requested.map_or(self.config.ack_delay, |ms| {
                    self.config
                        .ack_delay
                        .min(Duration::from_millis(u64::from(ms)))
                });
                let at = now + wait;
                self.ack_deadline = Some(self.ack_deadline.map_or(at, |d| d.min(at)));
            }
        }
        if !had_readable && self.recv.readable_len() > 0 {
            self.events.push_back(StreamEvent::Readable);
        }
        if self.recv.is_finished() && !self.peer_closed_reported {
            self.peer_closed_reported = true;
            self.events.push_back(StreamEvent::PeerClosed);
        }
    }

    /// Closes once both CLOSEs are through; keeps the probe timer of a choked sender.
    fn after_input(&mut self, now: Instant) {
        // Our CLOSE may be acknowledged with earlier packets still NACKed: those must
        // get through before the stream is closed.
        let both_closed = self.close_state == CloseState::Acked
            && self.send.in_flight_len() == 0
            && self.recv.is_finished();
        if self.state == State::Open && both_closed {
            // Long enough for a resend of the peer's CLOSE at its longest RTO, should
            // our last ACK be lost (TCP's TIME-WAIT, shortened).
            let linger = self.config.max_rto + self.rtt.rto() * 2;
            self.state = State::Lingering(now + linger);
            self.rto_deadline = None;
            self.events.push_back(StreamEvent::Closed);
        }
        let waiting = self.send.in_flight_len() == 0 && self.send.unsent_len() > 0;
        if self.choked && waiting {
            if self.probe_deadline.is_none() {
                self.probe_deadline = Some(now + self.probe_interval());
            }
        } else {
            self.probe_deadline = None;
        }
    }

    /// The next packet to send, if any: a RESET, a retransmission, a new packet, or an
    /// ACK that is due.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Packet> {
        if self.reset_pending {
            self.reset_pending = false;
            return Some(self.reset_packet());
        }
        if self.is_terminal() {
            return None;
        }
        if !matches!(self.state, State::Lingering(_)) {
            if let Some(packet) = self.next_retransmission(now) {
                return Some(packet);
            }
            if let Some(packet) = self.next_new_packet(now) {
                return Some(packet);
            }
        }
        let owed = self.ack_due(now) || self.unchoke_signals > 0;
        (owed && self.remote_id != 0).then(|| self.build(0, Flags::empty(), Vec::new()))
    }

    fn ack_due(&self, now: Instant) -> bool {
        self.ack_immediately || self.ack_deadline.is_some_and(|at| at <= now)
    }

    fn next_retransmission(&mut self, now: Instant) -> Option<Packet> {
        let choked = self.choked;
        while let Some(seq) = self.retransmit.pop_first() {
            let Some(packet) = self.send.in_flight_mut(seq) else {
                continue;
            };
            // A probe of a choked peer is not a loss: it does not count to max_resends.
            if !choked {
                packet.resends += 1;
            }
            packet.transmissions += 1;
            packet.last_sent = now;
            packet.nacks = 0;
            let (flags, payload) = (packet.flags, packet.payload.clone());
            self.stats.retransmissions += 1;
            self.rto_deadline.get_or_insert(now + self.rtt.rto());
            return Some(self.build(seq, flags, payload));
        }
        None
    }

    fn next_new_packet(&mut self, now: Instant) -> Option<Packet> {
        let unsent = self.send.unsent_len();
        let close_due = self.close_state == CloseState::Requested && unsent <= self.mtu();
        if !self.syn_pending && unsent == 0 && !close_due {
            return None;
        }
        // The responder's SYN waits (up to the ack delay) for application data to carry.
        let bare = unsent == 0 && !close_due;
        if self.syn_pending && self.role == Role::Responder && bare && !self.ack_due(now) {
            return None;
        }
        if !self.syn_pending {
            if self.send.in_flight_len() >= self.cc.window() as usize {
                return None;
            }
            if self.choked && !self.probe_allowed {
                return None;
            }
        }
        self.probe_allowed = false;
        let payload = self.send.take(self.mtu());
        let mut flags = Flags::empty();
        if self.syn_pending {
            flags.insert(Flags::SYNCHRONIZE);
            self.syn_pending = false;
        }
        if close_due {
            flags.insert(Flags::CLOSE);
            self.close_state = CloseState::Sent;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.stats.bytes_sent += payload.len() as u64;
        self.send.push_in_flight(
            seq,
            InFlight {
                payload: payload.clone(),
                flags,
                last_sent: now,
                resends: 0,
                transmissions: 1,
                nacks: 0,
            },
        );
        self.rto_deadline.get_or_insert(now + self.rtt.rto());
        if self.write_blocked && !self.send.is_full() {
            self.write_blocked = false;
            self.events.push_back(StreamEvent::Writable);
        }
        Some(self.build(seq, flags, payload))
    }

    /// A packet with our current ACK fields and signals. A SYN carries only the
    /// cumulative ACK: its NACK field is for the replay hash.
    fn build(&mut self, seq: u32, mut flags: Flags, payload: Vec<u8>) -> Packet {
        let syn = flags.contains(Flags::SYNCHRONIZE);
        let ack = if syn {
            self.recv
                .cumulative_ack()
                .map(|through| (through, Vec::new()))
        } else {
            self.recv.ack_fields()
        };
        let (ack_through, nacks) = ack.unwrap_or_else(|| {
            flags.insert(Flags::NO_ACK);
            (0, Vec::new())
        });
        let carries_data = seq != 0 || syn;
        let mut packet = Packet {
            send_stream_id: self.remote_id,
            recv_stream_id: self.local_id,
            seq,
            ack_through,
            nacks,
            resend_delay: u8::try_from(self.rtt.rto().as_secs()).unwrap_or(u8::MAX),
            flags,
            payload,
            ..Packet::default()
        };
        if syn {
            packet.options.max_packet_size = Some(self.config.mtu_option());
        }
        packet.options.delay_requested = self.delay_option(carries_data);
        self.ack_deadline = None;
        self.ack_immediately = false;
        self.stats.packets_sent += 1;
        packet
    }

    /// The optional delay: choke or unchoke when we must say so, else "ACK at once"
    /// on a data packet that fills our window (nothing more can go until an ACK comes).
    fn delay_option(&mut self, carries_data: bool) -> Option<u16> {
        if self.choking {
            return Some(CHOKE_DELAY_MS);
        }
        if self.unchoke_signals > 0 {
            self.unchoke_signals -= 1;
            return Some(0);
        }
        let window_full = self.send.in_flight_len() >= self.cc.window() as usize;
        (carries_data && window_full).then_some(0)
    }

    fn reset_packet(&mut self) -> Packet {
        self.stats.packets_sent += 1;
        Packet {
            send_stream_id: self.remote_id,
            recv_stream_id: self.local_id,
            flags: Flags::RESET | Flags::NO_ACK,
            ..Packet::default()
        }
    }

    /// The earliest instant [`Connection::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Closed | State::Failed => None,
            State::Lingering(until) => Some(self.ack_deadline.map_or(until, |a| a.min(until))),
            State::Connecting | State::Open => [
                self.rto_deadline,
                self.ack_deadline,
                self.connect_deadline,
                self.probe_deadline,
                self.inactivity_deadline(),
            ]
            .into_iter()
            .flatten()
            .min(),
        }
    }

    fn inactivity_deadline(&self) -> Option<Instant> {
        let idle = self.state == State::Open && self.send.in_flight_len() == 0;
        let timeout = self.config.inactivity_timeout;
        (idle && !timeout.is_zero()).then(|| self.last_activity + timeout)
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Closed | State::Failed => return,
            State::Lingering(until) => {
                if now >= until {
                    self.state = State::Closed;
                }
                return;
            }
            State::Connecting | State::Open => {}
        }
        if self.connect_deadline.is_some_and(|at| now >= at) {
            self.fail(StreamEvent::TimedOut(TimeoutKind::Connect), false);
            return;
        }
        if self.rto_deadline.is_some_and(|at| now >= at) {
            self.on_rto(now);
            if self.is_terminal() {
                return;
            }
        }
        if self.probe_deadline.is_some_and(|at| now >= at) {
            self.probe_allowed = true;
            self.probe_deadline = None;
        }
        if self.inactivity_deadline().is_some_and(|at| now >= at) {
            match self.config.inactivity_action {
                InactivityAction::Noop => self.last_activity = now,
                InactivityAction::SendKeepalive => {
                    self.last_activity = now;
                    self.ack_immediately = true;
                }
                InactivityAction::Disconnect => {
                    self.fail(StreamEvent::TimedOut(TimeoutKind::Inactivity), true);
                }
            }
        }
    }

    fn fail(&mut self, event: StreamEvent, send_reset: bool) {
        // Without the peer's id a RESET could not reach its stream.
        self.reset_pending = send_reset && self.remote_id != 0;
        self.state = State::Failed;
        self.send.clear();
        self.recv.clear();
        self.retransmit.clear();
        self.rto_deadline = None;
        self.timed_out_at = None;
        self.ack_deadline = None;
        self.probe_deadline = None;
        self.connect_deadline = None;
        self.events.push_back(event);
    }
}

#[path = "connection_recovery.rs"]
mod recovery;

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
