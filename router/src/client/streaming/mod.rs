//! The I2P streaming library: TCP-like reliable, ordered, authenticated streams between
//! destinations over the unordered, lossy messages of the client layer (spec:
//! Streaming Protocol Specification; behaviour and defaults from the streaming API
//! page). Sans-IO like the rest of the core: bytes and `now` come in, packets and
//! deadlines go out.
//!
//! # Layers
//!
//! - [`packet`]: the wire format. [`Packet::parse`] never panics and is exact
//!   (whatever it accepts, [`Packet::emit`] writes back byte for byte).
//! - [`signature`]: SYN, CLOSE and RESET are signed by the sender's destination over the
//!   packet with the signature zeroed; [`PeerKey`] is who signs a peer's packets (its
//!   destination, or the transient key its SYN's offline signature delegates to).
//! - [`Connection`]: one stream's state machine, in the style of quinn-proto's
//!   `Connection`. It knows sequence numbers, windows and timers, not identities: it
//!   neither signs nor verifies, and its packets name no destination. Its parts are small
//!   modules: the unsent and in-flight data (`send_buffer`), reassembly and ACK/NACK
//!   fields (`recv_buffer`), the window (`congestion`), the RTO (`rtt`).
//! - [`StreamManager`]: all streams of one local destination. It demultiplexes packets by
//!   stream id, verifies signatures, checks the SYN's replay hash, accepts or refuses
//!   SYNs (listening, backlog, per-peer and total limits, refused with a RESET), adds
//!   FROM and the signature to what connections send, and says where each packet goes.
//!
//! # Driving it
//!
//! The same contract as the router's: after any input (`handle_packet`, `handle_timeout`,
//! `write`, `read`, `close`, `reset`, `connect`), drain `poll_transmit(now)` and
//! `poll_event()`, then sleep until `poll_timeout()`. The caller is the client layer,
//! which carries each packet as the payload of a Data message with I2CP protocol 6 and
//! the stream's ports (ports are I2CP's, not the packet's: [`Ports`] travels beside).
//!
//! # How the protocol runs here
//!
//! - Connect: the initiator's SYN (sequence 0, NO_ACK, FROM, MAX_PACKET_SIZE, the
//!   recipient's hash in the NACK field, signed) carries whatever the application wrote
//!   before it went out; up to the initial window of data packets may follow before the
//!   reply, with send stream id 0. The responder's SYN waits up to the ack delay for
//!   application data to carry. Packets that reach the responder before the SYN are
//!   kept for a short while and replayed into the connection the SYN opens; the
//!   initiator simply buffers the responder's data out of order until its SYN arrives.
//! - Reliability: every packet carries ackThrough (the highest sequence received) and
//!   NACKs (the holes below it); SYNs carry no NACKs other than the replay hash, as the
//!   spec asks. The sender retransmits on a retransmission timeout (RFC 6298: SRTT,
//!   RTTVAR, K = 4, Karn's rule, doubling backoff, clamped to [100 ms, 45 s], initial RTO
//!   9 s) and on a second NACK of the same packet (fast retransmit); after `max_resends`
//!   resends of one packet it gives up with a RESET.
//! - Congestion: the window counts packets. Slow start adds one packet per ACKed packet up
//!   to the threshold, congestion avoidance one per window; a fast retransmit halves the
//!   window, a timeout drops it to the minimum, at most once per window of data.
//! - Flow control: the send buffer takes at most `send_buffer` unsent bytes (`write`
//!   returns what it took, `Writable` says when there is room again). The receiver keeps
//!   `receive_buffer` bytes unread; the next expected packet that does not fit beside
//!   them is dropped and the receiver chokes the sender (optional delay 60001). Packets
//!   ahead of a hole are dropped, without a choke, when they do not fit beside all that
//!   is held (`recv_buffer` explains the two bounds). The choked sender
//!   sends only probes (a persist timer: one RTO, then twice as long each time, up to the
//!   maximum RTO); the receiver unchokes (delay 0 on its next packets) once the
//!   application has read half its buffer, and an ACK of new data unchokes too, in case
//!   the unchoke was lost. On unchoking, the sender resends at once what the receiver's
//!   last ACK left out and went more than an RTT ago: the full receiver refused it.
//! - ACKs are delayed by the smaller of `ack_delay` and the sender's requested delay,
//!   piggybacked on data, and sent at once for out-of-order or duplicate packets. A
//!   sender whose window is full asks for an immediate ACK (requested delay 0).
//! - Close is a half-close: CLOSE takes a sequence number (it may carry the last data)
//!   and is signed; the stream is closed once each side's CLOSE is acknowledged (and
//!   nothing else is in flight), then lingers the maximum RTO plus two RTOs to
//!   re-acknowledge a resent CLOSE. RESET ends a stream at once.
//! - Timeouts: connect (5 min), inactivity (90 s with nothing in flight: by default a
//!   keepalive ACK, or nothing, or a RESET), retransmissions (above).
//!
//! # Defaults
//!
//! [`StreamConfig::default`] takes Java I2P's documented values (the API page's table):
//! MTU 1730 ([`ECIES_MTU`], 1812, is recommended over ratchet sessions but the spec keeps
//! 1730 as the default for all), initial window 6, window 1..=128, initial RTO 9 s,
//! 8 resends, ack delay 750 ms, send buffer 64 KiB, receive buffer MTU × (128 + 2),
//! connect timeout 5 min, inactivity timeout 90 s with a keepalive. i2pd differs
//! (initial window 10, minimum 3, maximum 512, initial RTT 1.5 s); every value is a field.
//!
//! # Signatures and sessions
//!
//! Every SYN, CLOSE and RESET must carry a valid signature, always: the specification
//! copy we build from (2023-10, accurate for 0.9.59) describes no exception for packets
//! that arrived over an ECIES-X25519 ratchet session bound to the sender, so none is
//! made. What the bound session does give us is used: when the caller passes the
//! sender's hash (`from`), a SYN's FROM must match it and every packet of a stream must
//! come from the stream's peer.
//!
//! # Not done
//!
//! - Ping/pong (ECHO): parsed, otherwise ignored; pings are not answered.
//! - Control block sharing (RFC 2140) between streams to the same peer; the
//!   interactive profile; `connectDelay`; limit actions other than RESET (drop, HTTP 429);
//!   the per-hour and per-day connection limits (per-minute ones are done); access and
//!   block lists.
//! - Offline signatures are verified on receipt; we cannot sign with a transient key.
//! - Signature types other than Ed25519 (the data layer supports only type 7).
//! - Sequence numbers do not wrap (2^32 packets, several terabytes, per stream).
//! - Wiring into the client layer (protocol 6 in Data messages) is the caller's.

mod congestion;
mod connection;
mod manager;
pub mod options;
pub mod packet;
mod recv_buffer;
mod rtt;
mod send_buffer;
pub mod signature;

#[cfg(test)]
mod harness;
#[cfg(test)]
mod tests;

pub use connection::{Connection, ConnectionStats, Role, State, StreamEvent, TimeoutKind};
pub use manager::{ManagerConfig, ManagerEvent, Refusal, StreamId, StreamManager, Transmit};
pub use packet::{Flags, Options, Packet};
pub use signature::PeerKey;

use crate::data::DataError;
use std::time::Duration;

/// The default MTU (largest payload): two 1 KiB tunnel messages with typical overhead.
pub const DEFAULT_MTU: usize = 1730;
/// The MTU recommended over ECIES-X25519 sessions, whose overhead is smaller.
pub const ECIES_MTU: usize = 1812;
/// Optional delays above this mean "choked": the receiver's buffer is full.
pub const MAX_DELAY_MS: u16 = 60_000;
/// The optional delay a choking receiver sends.
pub const CHOKE_DELAY_MS: u16 = MAX_DELAY_MS + 1;

/// I2CP ports of a stream, as in the Data message's gzip header of packets we send:
/// `from` is our port, `to` the peer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ports {
    pub from: u16,
    pub to: u16,
}

impl Ports {
    /// The ports as the peer sees them (on packets it sends to us).
    pub fn reversed(self) -> Ports {
        Ports {
            from: self.to,
            to: self.from,
        }
    }
}

/// What to do when a stream has been idle for the inactivity timeout
/// (`i2p.streaming.inactivityAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InactivityAction {
    /// Nothing (0).
    Noop,
    /// Reset the stream (1, "disconnect"): a graceful close would need the idle peer.
    Disconnect,
    /// Send a keepalive ACK (2, the default).
    SendKeepalive,
}

/// One stream's parameters; defaults from the streaming API page (Java I2P).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    /// The largest payload we accept and send (`i2p.streaming.maxMessageSize`); the
    /// smaller of ours and the peer's is used.
    pub max_message_size: usize,
    /// Congestion window at the start, in packets (`initialWindowSize`).
    pub initial_window: u32,
    /// Smallest window (after a timeout), in packets.
    pub min_window: u32,
    /// Largest window, in packets (`maxWindowSize`).
    pub max_window: u32,
    /// Slow start grows the window by 1/factor per ACKed packet.
    pub slow_start_growth_factor: u32,
    /// Congestion avoidance grows it by 1/(window × factor) per ACKed packet.
    pub congestion_avoidance_growth_factor: u32,
    /// RTO before the first RTT sample (`initialRTO`).
    pub initial_rto: Duration,
    /// Bounds of the RTO (`MIN_RESEND_DELAY`, `MAX_RESEND_DELAY`).
    pub min_rto: Duration,
    pub max_rto: Duration,
    /// RTT samples are capped at this ("Maximum RTT estimate").
    pub max_rtt: Duration,
    /// Resends of one packet before the stream fails (`maxResends`).
    pub max_resends: u32,
    /// NACKs of one packet that trigger a fast retransmit (the spec: two).
    pub fast_retransmit_nacks: u32,
    /// How long an ACK may wait for data to ride on (`initialAckDelay`).
    pub ack_delay: Duration,
    /// Unsent bytes `write` accepts (`bufferSize`).
    pub send_buffer: usize,
    /// Bytes held for the application, in order or not (`INBOUND_BUFFER_SIZE`).
    pub receive_buffer: usize,
    /// How long a connect may take (`connectTimeout`).
    pub connect_timeout: Duration,
    /// Idle time with nothing in flight before `inactivity_action` (`inactivityTimeout`).
    pub inactivity_timeout: Duration,
    pub inactivity_action: InactivityAction,
}

impl Default for StreamConfig {
    fn default() -> Self {
        let max_window = 128;
        Self {
            max_message_size: DEFAULT_MTU,
            initial_window: 6,
            min_window: 1,
            max_window,
            slow_start_growth_factor: 1,
            congestion_avoidance_growth_factor: 1,
            initial_rto: Duration::from_secs(9),
            min_rto: Duration::from_millis(100),
            max_rto: Duration::from_secs(45),
            max_rtt: Duration::from_secs(60),
            max_resends: 8,
            fast_retransmit_nacks: 2,
            ack_delay: Duration::from_millis(750),
            send_buffer: 64 * 1024,
            receive_buffer: DEFAULT_MTU * (max_window as usize + 2),
            connect_timeout: Duration::from_secs(5 * 60),
            inactivity_timeout: Duration::from_secs(90),
            inactivity_action: InactivityAction::SendKeepalive,
        }
    }
}

impl StreamConfig {
    /// The defaults with the MTU recommended over ECIES-X25519 sessions.
    pub fn ecies() -> Self {
        Self {
            max_message_size: ECIES_MTU,
            receive_buffer: ECIES_MTU * 130,
            ..Self::default()
        }
    }

    /// The MTU as it goes in the MAX_PACKET_SIZE option.
    pub(crate) fn mtu_option(&self) -> u16 {
        u16::try_from(self.max_message_size).unwrap_or(u16::MAX)
    }
}

/// Why a packet was not taken, or a stream could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamingError {
    /// A field failed to read (truncation, a FROM destination we cannot parse).
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{what}: {reason}")]
    Invalid {
        what: &'static str,
        reason: &'static str,
    },
    #[error("{what}: too large ({actual}, at most {max})")]
    TooLarge {
        what: &'static str,
        max: usize,
        actual: usize,
    },
    #[error("unsupported signing key type {0} (only 7, Ed25519, is supported)")]
    UnsupportedSigType(u16),
    /// A SYN, CLOSE or RESET without a signature.
    #[error("packet must be signed")]
    Unsigned,
    #[error("bad signature")]
    BadSignature,
    #[error("offline signature expired")]
    OfflineSignatureExpired,
    /// A SYN whose replay field names another destination: a replayed SYN.
    #[error("SYN addressed to another destination")]
    WrongRecipient,
    /// The session the packet came over is bound to someone other than its sender.
    #[error("packet not from the stream's peer")]
    WrongSender,
    /// A packet for a stream id we do not have.
    #[error("unknown stream {0}")]
    UnknownStream(u32),
    /// Opening another stream would pass `max_concurrent_streams`.
    #[error("too many streams")]
    TooManyStreams,
}
