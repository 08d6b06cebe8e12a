//! One NTCP2 connection as a state machine: bytes in, bytes and events out.

use super::block::{self, Block};
use super::cipher::DataKeys;
use super::handshake::{
    Initiator, InitiatorCreated, Responder, ResponderCreated, ResponderRequested, HEAD_LEN,
};
use super::{CloseReason, LocalRouter, Ntcp2Error, Ntcp2Peer, SessionEvent, TerminationReason};
use crate::data::{Hash, RouterInfo};
use crate::i2np::I2npMessage;
use crate::time::Instant;
use rand::{CryptoRng, Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::VecDeque;
use std::mem;
use std::sync::Arc;
use std::time::Duration;

/// How long a handshake may take from the session's creation. The specification leaves it
/// open; three messages need well under a second on any working path, so this only ends
/// stalled or slowloris handshakes.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a data-phase frame may take to arrive once its first byte has (the spec
/// names the termination reason, "intra-frame read timeout", not a value). A frame is at
/// most 64 KiB: even a slow link delivers it in seconds.
pub const INTRA_FRAME_TIMEOUT: Duration = Duration::from_secs(30);

/// Padding per data-phase frame: uniform in 0..=31 bytes (the specification leaves the
/// distribution to implementations, and the Options block's negotiation is unspecified).
const MAX_FRAME_PADDING: usize = 31;

/// One NTCP2 connection, sans-IO: bytes in, bytes out, events out; all timing by `now`.
///
/// After each call, the driver writes everything [`Session::poll_transmit`] yields (in
/// order), handles [`Session::poll_event`] until `None`, and arms a timer for
/// [`Session::poll_timeout`].
pub struct Session {
    state: State,
    /// Seeded from the caller's generator: ephemeral keys and padding.
    rng: ChaCha20Rng,
    /// Received bytes not yet consumed.
    input: Vec<u8>,
    /// Bytes ready to write.
    transmit: VecDeque<Vec<u8>>,
    /// Encoded I2NP messages (short header) waiting for a frame.
    outbox: VecDeque<Vec<u8>>,
    events: VecDeque<SessionEvent>,
    peer: Option<Hash>,
    handshake_deadline: Instant,
    /// Bob: the obfuscated ephemeral key of message 1, once read (for [`ReplayCache`]).
    ///
    /// [`ReplayCache`]: super::ReplayCache
    request_key: Option<[u8; 32]>,
}

enum State {
    /// Alice, message 1 sent.
    AwaitingCreated(Box<Initiator>),
    /// Alice, message 2 read, its padding to come.
    CreatedPadding(Box<InitiatorCreated>),
    /// Bob, waiting for message 1.
    AwaitingRequest(Box<Responder>),
    /// Bob, message 1 read, its padding to come.
    RequestPadding(Box<ResponderRequested>),
    /// Bob, message 2 sent.
    AwaitingConfirmed(Box<ResponderCreated>),
    Established(Box<DataPhase>),
    Closed,
}

struct DataPhase {
    keys: DataKeys,
    /// The unmasked length of the frame being received, once its 2 bytes are read.
    frame_len: Option<usize>,
    /// When the frame now being received must be complete (while one is).
    frame_deadline: Option<Instant>,
}

/// What one step over the received bytes did.
enum Progress {
    /// Nothing more can be done until more bytes arrive.
    NeedInput,
    /// Consumed this many bytes (possibly 0 with a state change).
    Consumed(usize),
    /// The peer closed with a Termination block.
    Terminated(TerminationReason),
}

impl Session {
    /// Alice: dials `peer`. The first transmit is message 1 (SessionRequest).
    pub fn connect<R: RngCore + CryptoRng>(
        now: Instant,
        local: &LocalRouter,
        peer: &Ntcp2Peer,
        rng: &mut R,
    ) -> Session {
        let mut session = Session::new(now, rng, Some(peer.hash));
        match Initiator::start(now, local, peer, &mut session.rng) {
            Ok((initiator, message1)) => {
                session.state = State::AwaitingCreated(Box::new(initiator));
                session.transmit.push_back(message1);
            }
            Err(error) => session.fail(error),
        }
        session
    }

    /// Bob: an inbound connection; waits for message 1.
    pub fn accept<R: RngCore + CryptoRng>(
        now: Instant,
        local: &LocalRouter,
        rng: &mut R,
    ) -> Session {
        let mut session = Session::new(now, rng, None);
        session.state = State::AwaitingRequest(Box::new(Responder::new(local)));
        session
    }

    fn new<R: RngCore + CryptoRng>(now: Instant, rng: &mut R, peer: Option<Hash>) -> Session {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Session {
            state: State::Closed,
            rng: ChaCha20Rng::from_seed(seed),
            input: Vec::new(),
            transmit: VecDeque::new(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            peer,
            handshake_deadline: now + HANDSHAKE_TIMEOUT,
            request_key: None,
        }
    }

    /// Bytes read from the socket, in whatever chunks they arrived. An error ends the
    /// session (and is reported as [`SessionEvent::Closed`] too); input after the close
    /// is ignored.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) -> Result<(), Ntcp2Error> {
        if self.is_closed() {
            return Ok(());
        }
        self.input.extend_from_slice(data);
        let mut consumed = 0;
        let result = loop {
            match self.step(now, consumed) {
                Ok(Progress::NeedInput) => break Ok(()),
                Ok(Progress::Consumed(n)) => consumed += n,
                Ok(Progress::Terminated(reason)) => {
                    self.close_with(CloseReason::Remote(reason));
                    break Ok(());
                }
                Err(error) => break Err(error),
            }
        };
        if let Err(error) = &result {
            self.fail(error.clone());
        }
        if self.is_closed() {
            self.input = Vec::new();
        } else {
            self.input.drain(..consumed);
        }
        // A peer that starts a frame must finish it: trickling a byte now and then
        // would otherwise hold the connection and its buffer forever.
        if let State::Established(data) = &mut self.state {
            data.frame_deadline = match (self.input.is_empty(), data.frame_len) {
                (true, None) => None,
                _ => data.frame_deadline.or(Some(now + INTRA_FRAME_TIMEOUT)),
            };
        }
        result
    }

    /// Advances over the input from `pos` by one message, padding or frame.
    fn step(&mut self, now: Instant, pos: usize) -> Result<Progress, Ntcp2Error> {
        let input = &mut self.input[pos..];
        if let State::Established(data) = &mut self.state {
            return read_frame(data, input, &mut self.events, self.peer);
        }
        let (state, consumed) = match mem::replace(&mut self.state, State::Closed) {
            State::AwaitingCreated(alice) => match input.get(..HEAD_LEN) {
                Some(head) => (
                    State::CreatedPadding(Box::new(alice.read_created(now, head)?)),
                    Some(HEAD_LEN),
                ),
                None => (State::AwaitingCreated(alice), None),
            },
            State::CreatedPadding(alice) => match input.get(..alice.padding_len) {
                Some(padding) => {
                    // Bob may send nothing more before message 3.
                    if input.len() > padding.len() {
                        return Err(Ntcp2Error::UnexpectedData);
                    }
                    let consumed = padding.len();
                    let (message3, keys) = alice.confirm(padding)?;
                    self.transmit.push_back(message3);
                    self.establish(None);
                    (State::Established(DataPhase::new(keys)), Some(consumed))
                }
                None => (State::CreatedPadding(alice), None),
            },
            State::AwaitingRequest(bob) => match input.get(..HEAD_LEN) {
                Some(head) => {
                    let mut key = [0u8; 32];
                    key.copy_from_slice(&head[..32]);
                    self.request_key = Some(key);
                    (
                        State::RequestPadding(Box::new(bob.read_request(now, head)?)),
                        Some(HEAD_LEN),
                    )
                }
                None => (State::AwaitingRequest(bob), None),
            },
            State::RequestPadding(bob) => match input.get(..bob.padding_len) {
                Some(padding) => {
                    // Alice may send nothing more before message 2.
                    if input.len() > padding.len() {
                        return Err(Ntcp2Error::UnexpectedData);
                    }
                    let consumed = padding.len();
                    let (bob, message2) = bob.create(now, padding, &mut self.rng)?;
                    self.transmit.push_back(message2);
                    (State::AwaitingConfirmed(Box::new(bob)), Some(consumed))
                }
                None => (State::RequestPadding(bob), None),
            },
            State::AwaitingConfirmed(bob) => {
                let len = bob.message3_len();
                match input.get(..len) {
                    Some(message3) => {
                        let (info, keys) = bob.read_confirmed(message3)?;
                        self.peer = Some(info.hash());
                        self.establish(Some(Arc::new(info)));
                        (State::Established(DataPhase::new(keys)), Some(len))
                    }
                    None => (State::AwaitingConfirmed(bob), None),
                }
            }
            // Established was handled above; a closed session reads nothing.
            State::Established(_) | State::Closed => (State::Closed, None),
        };
        self.state = state;
        Ok(consumed.map_or(Progress::NeedInput, Progress::Consumed))
    }

    fn establish(&mut self, info: Option<Arc<RouterInfo>>) {
        if let Some(peer) = self.peer {
            self.events
                .push_back(SessionEvent::Established { peer, info });
        }
    }

    /// Queues an I2NP message; sent once established (queued until then). Messages
    /// queued together share frames. A message whose encoding exceeds a frame's block
    /// limit (65516 bytes with its short header) cannot be sent over NTCP2 and is
    /// dropped, as is anything sent after the close.
    pub fn send(&mut self, msg: &I2npMessage) {
        if self.is_closed() {
            return;
        }
        if let Ok(encoded) = msg.try_encode_short() {
            if encoded.len() <= block::MAX_DATA_LEN {
                self.outbox.push_back(encoded);
            }
        }
    }

    /// Sends a Termination block with `reason` (after any queued messages, if the
    /// handshake is done), then the session is closed.
    pub fn close(&mut self, _now: Instant, reason: TerminationReason) {
        if self.is_closed() {
            return;
        }
        if let State::Established(data) = &mut self.state {
            let mut out = Vec::new();
            write_frames(data, &mut self.outbox, &mut self.rng, &mut out);
            write_termination(data, reason, &mut self.rng, &mut out);
            self.transmit.push_back(out);
        }
        self.close_with(CloseReason::Local(reason));
    }

    /// Ends the session on an error; in the data phase the peer is told why first
    /// (handshake failures get no answer, as the specification requires).
    fn fail(&mut self, error: Ntcp2Error) {
        if let State::Established(data) = &mut self.state {
            let mut out = Vec::new();
            write_termination(data, error.termination_reason(), &mut self.rng, &mut out);
            self.transmit.push_back(out);
        }
        self.close_with(CloseReason::Error(error));
    }

    fn close_with(&mut self, reason: CloseReason) {
        // A handshake message not yet written is not worth sending any more.
        if !self.is_established() {
            self.transmit.clear();
        }
        self.state = State::Closed;
        self.outbox.clear();
        self.events.push_back(SessionEvent::Closed { reason });
    }

    /// Bytes to write, in order. Queued messages are framed here, after the handshake
    /// messages, so Alice's first data frame leaves together with message 3.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let mut out = self.transmit.pop_front();
        if self.transmit.is_empty() && !self.outbox.is_empty() {
            if let State::Established(data) = &mut self.state {
                write_frames(
                    data,
                    &mut self.outbox,
                    &mut self.rng,
                    out.get_or_insert_with(Vec::new),
                );
            }
        }
        out
    }

    /// Seals `payload` as this session's next data-phase frame, as a peer with another
    /// encoder would, so the fuzz targets reach the block parser behind the frame MAC.
    /// Only in fuzzing builds (`cargo fuzz` sets `--cfg fuzzing`); `None` before the
    /// handshake is done.
    #[cfg(fuzzing)]
    pub fn seal_frame_for_fuzzing(&mut self, payload: &[u8]) -> Option<Vec<u8>> {
        let State::Established(data) = &mut self.state else {
            return None;
        };
        let mut out = Vec::new();
        data.keys.send.seal_frame(payload, &mut out);
        Some(out)
    }

    /// A copy of an established session, keys and all, so a fuzz target handshakes once
    /// rather than for every input. Only in fuzzing builds; `None` before the handshake.
    #[cfg(fuzzing)]
    pub fn clone_for_fuzzing(&self) -> Option<Session> {
        let State::Established(data) = &self.state else {
            return None;
        };
        Some(Session {
            state: State::Established(Box::new(DataPhase {
                keys: data.keys.clone(),
                frame_len: data.frame_len,
                frame_deadline: data.frame_deadline,
            })),
            rng: self.rng.clone(),
            input: self.input.clone(),
            transmit: self.transmit.clone(),
            outbox: self.outbox.clone(),
            events: self.events.clone(),
            peer: self.peer,
            handshake_deadline: self.handshake_deadline,
            request_key: self.request_key,
        })
    }

    #[must_use]
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// When the handshake times out, while it runs; afterwards, when a frame begun must
    /// be complete. The idle timeout of an established session is the driver's.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Closed => None,
            State::Established(data) => data.frame_deadline,
            _ => Some(self.handshake_deadline),
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            let error = if self.is_established() {
                Ntcp2Error::IntraFrameTimeout
            } else {
                Ntcp2Error::HandshakeTimeout
            };
            self.fail(error);
        }
    }

    /// Bob: message 1's obfuscated ephemeral key once it has been read, for the
    /// driver's [`ReplayCache`](super::ReplayCache); check it before writing message 2.
    pub fn request_key(&self) -> Option<[u8; 32]> {
        self.request_key
    }

    /// The peer's router hash: known from the start when we dialled, after message 3
    /// when we accepted.
    pub fn peer(&self) -> Option<Hash> {
        self.peer
    }

    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established(_))
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::AwaitingCreated(_) => "awaiting SessionCreated",
            State::CreatedPadding(_) => "awaiting SessionCreated padding",
            State::AwaitingRequest(_) => "awaiting SessionRequest",
            State::RequestPadding(_) => "awaiting SessionRequest padding",
            State::AwaitingConfirmed(_) => "awaiting SessionConfirmed",
            State::Established(_) => "established",
            State::Closed => "closed",
        };
        f.debug_struct("Session")
            .field("state", &state)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl DataPhase {
    fn new(keys: DataKeys) -> Box<DataPhase> {
        Box::new(DataPhase {
            keys,
            frame_len: None,
            frame_deadline: None,
        })
    }
}

/// Reads the next frame's length, or the frame itself once it is all there, and turns
/// its blocks into events.
fn read_frame(
    data: &mut DataPhase,
    input: &mut [u8],
    events: &mut VecDeque<SessionEvent>,
    peer: Option<Hash>,
) -> Result<Progress, Ntcp2Error> {
    let Some(len) = data.frame_len else {
        let [a, b, ..] = *input else {
            return Ok(Progress::NeedInput);
        };
        data.frame_len = Some(data.keys.recv.frame_len([a, b])?);
        return Ok(Progress::Consumed(2));
    };
    let Some(frame) = input.get_mut(..len) else {
        return Ok(Progress::NeedInput);
    };
    let payload = data.keys.recv.open_frame(frame)?;
    data.frame_len = None;
    for block in block::parse(payload)? {
        match block {
            // A message we cannot decode (a type we do not implement, or malformed) is
            // skipped: the frame is authentic and the rest of it still counts.
            Block::I2np(bytes) => {
                if let Ok(msg) = I2npMessage::decode_short(bytes) {
                    events.push_back(SessionEvent::Message(msg));
                }
            }
            // Only the peer's own RouterInfo is taken, and only if it verifies.
            Block::RouterInfo { info, .. } => {
                if let Ok(info) = RouterInfo::parse(info) {
                    if Some(info.hash()) == peer {
                        events.push_back(SessionEvent::RouterInfo(Arc::new(info)));
                    }
                }
            }
            Block::Termination { reason, .. } => {
                return Ok(Progress::Terminated(TerminationReason::from_code(reason)));
            }
            Block::DateTime(_) | Block::Options(_) | Block::Padding(_) | Block::Unknown(_) => {}
        }
    }
    Ok(Progress::Consumed(len))
}

/// Frames every queued message into `out`, as many per frame as fit, each frame with a
/// random Padding block.
fn write_frames(
    data: &mut DataPhase,
    outbox: &mut VecDeque<Vec<u8>>,
    rng: &mut ChaCha20Rng,
    out: &mut Vec<u8>,
) {
    let mut payload = Vec::new();
    while !outbox.is_empty() {
        payload.clear();
        while let Some(msg) = outbox.front() {
            let needed = block::HEADER_LEN + msg.len();
            // The first message always goes in (send() checked it fits a frame alone).
            if !payload.is_empty() && payload.len() + needed > block::MAX_PAYLOAD_LEN {
                break;
            }
            block::push(&mut payload, block::I2NP, msg);
            outbox.pop_front();
        }
        push_random_padding(&mut payload, rng);
        data.keys.send.seal_frame(&payload, out);
    }
}

/// One frame with a Termination block (and padding) into `out`.
fn write_termination(
    data: &mut DataPhase,
    reason: TerminationReason,
    rng: &mut ChaCha20Rng,
    out: &mut Vec<u8>,
) {
    let mut payload = Vec::new();
    block::push_termination(&mut payload, data.keys.recv.frames(), reason.code());
    push_random_padding(&mut payload, rng);
    data.keys.send.seal_frame(&payload, out);
}

/// A Padding block of random length, as far as the frame has room for one.
fn push_random_padding(payload: &mut Vec<u8>, rng: &mut ChaCha20Rng) {
    if let Some(room) = block::MAX_PAYLOAD_LEN.checked_sub(payload.len() + block::HEADER_LEN) {
        let len = rng.gen_range(0..=MAX_FRAME_PADDING.min(room));
        block::push_padding(payload, len, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{data_message, established, NOW};
    use super::*;

    /// Seals `payload` as Alice's next frame, as a peer with other encoders would.
    fn frame_from(session: &mut Session, payload: &[u8]) -> Vec<u8> {
        let State::Established(data) = &mut session.state else {
            panic!("established session expected");
        };
        let mut out = Vec::new();
        data.keys.send.seal_frame(payload, &mut out);
        out
    }

    #[test]
    fn undecodable_i2np_messages_are_skipped_and_the_session_goes_on() {
        let (mut alice, mut bob, ..) = established(20);
        let good = data_message(1, 10).encode_short();
        let mut payload = Vec::new();
        // A type we do not implement (VariableTunnelBuild), then a malformed header.
        block::push(&mut payload, block::I2NP, &[23, 0, 0, 0, 1, 0, 0, 0, 0, 7]);
        block::push(&mut payload, block::I2NP, &[1, 2]);
        block::push(&mut payload, block::DATE_TIME, &[0; 4]);
        block::push(&mut payload, 200, b"unknown block type");
        block::push(&mut payload, block::I2NP, &good);
        let wire = frame_from(&mut alice, &payload);
        bob.handle_input(NOW, &wire).expect("a valid frame");
        assert_eq!(
            bob.poll_event(),
            Some(SessionEvent::Message(data_message(1, 10)))
        );
        assert_eq!(bob.poll_event(), None);
        assert!(bob.is_established());
    }

    #[test]
    fn only_the_peers_own_verified_router_info_is_reported() {
        let (mut alice, mut bob, alice_router, bob_router) = established(21);
        let mut payload = Vec::new();
        block::push_router_info(&mut payload, true, bob_router.info.as_bytes());
        block::push_router_info(&mut payload, true, &alice_router.info.as_bytes()[1..]);
        block::push_router_info(&mut payload, true, alice_router.info.as_bytes());
        let wire = frame_from(&mut alice, &payload);
        bob.handle_input(NOW, &wire).expect("a valid frame");
        assert_eq!(
            bob.poll_event(),
            Some(SessionEvent::RouterInfo(alice_router.info.clone()))
        );
        assert_eq!(bob.poll_event(), None);
    }
}
