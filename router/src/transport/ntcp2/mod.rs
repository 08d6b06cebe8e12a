//! NTCP2, I2P's TCP transport (spec: NTCP2), sans-IO.
//!
//! A [`Session`] is one connection: the driver feeds it the bytes read from the socket
//! ([`Session::handle_input`]) and writes what [`Session::poll_transmit`] yields; the
//! handshake's outcome, received I2NP messages and the close come out of
//! [`Session::poll_event`]. Time only enters through `now`, randomness through the
//! generator given at creation.
//!
//! - `keys`: our static key and IV ([`Ntcp2Keys`]), a peer's published address
//!   ([`Ntcp2Peer`]), the AES-CBC obfuscation of ephemeral keys.
//! - `handshake`: messages 1-3 (Noise XK with I2P's extensions).
//! - `cipher`: the data phase's keys, frame AEAD and SipHash length masks (`siphash`).
//! - `block`: the blocks inside frames.
//! - `session`: the state machine tying them together.

mod block;
mod cipher;
mod handshake;
mod keys;
mod replay;
mod session;
mod siphash;

pub use keys::{Ntcp2Keys, Ntcp2Peer, TRANSPORT};
pub use replay::{ReplayCache, REPLAY_WINDOW};
pub use session::{Session, HANDSHAKE_TIMEOUT, INTRA_FRAME_TIMEOUT};

use crate::data::{DataError, Hash, RouterInfo};
use crate::i2np::I2npMessage;
use std::sync::Arc;

/// What a session needs of our own router.
#[derive(Debug, Clone)]
pub struct LocalRouter {
    /// Our current RouterInfo (sent in message 3 when we dial); its hash is our identity
    /// and the AES key peers obfuscate their message 1 with.
    pub info: Arc<RouterInfo>,
    /// Must be the keys of the NTCP2 address `info` publishes.
    pub keys: Ntcp2Keys,
    /// The network we are on (2 for the main I2P network).
    pub net_id: u8,
}

/// What a session reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// Handshake done. Bob gets Alice's verified RouterInfo (from SessionConfirmed);
    /// Alice gets `None`, as she dialled a peer she knew.
    Established {
        peer: Hash,
        info: Option<Arc<RouterInfo>>,
    },
    /// An I2NP message from the peer.
    Message(I2npMessage),
    /// The peer's own RouterInfo sent in the data phase (to be stored, or flooded when
    /// it asks), signature verified. RouterInfos of other routers are ignored.
    RouterInfo(Arc<RouterInfo>),
    /// The session is over; nothing more will be received. Bytes already queued (a
    /// Termination frame) may still be waiting in [`Session::poll_transmit`].
    Closed { reason: CloseReason },
}

/// Why a session closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// We called [`Session::close`].
    Local(TerminationReason),
    /// The peer sent a Termination block.
    Remote(TerminationReason),
    /// The handshake failed or timed out, or the peer broke the protocol.
    Error(Ntcp2Error),
}

/// The reason codes of the Termination block (spec: NTCP2, "Termination").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminationReason {
    Normal,
    TerminationReceived,
    IdleTimeout,
    RouterShutdown,
    AeadFailure,
    IncompatibleOptions,
    IncompatibleSignatureType,
    ClockSkew,
    PaddingViolation,
    AeadFramingError,
    PayloadFormatError,
    Message1Error,
    Message2Error,
    Message3Error,
    IntraFrameReadTimeout,
    RouterInfoSignatureFailure,
    /// The `s` parameter is missing, invalid or mismatched in the RouterInfo.
    StaticKeyMismatch,
    Banned,
    /// A code the specification did not define when this was written.
    Other(u8),
}

impl TerminationReason {
    /// The defined reasons, indexed by their code.
    const BY_CODE: [TerminationReason; 18] = [
        TerminationReason::Normal,
        TerminationReason::TerminationReceived,
        TerminationReason::IdleTimeout,
        TerminationReason::RouterShutdown,
        TerminationReason::AeadFailure,
        TerminationReason::IncompatibleOptions,
        TerminationReason::IncompatibleSignatureType,
        TerminationReason::ClockSkew,
        TerminationReason::PaddingViolation,
        TerminationReason::AeadFramingError,
        TerminationReason::PayloadFormatError,
        TerminationReason::Message1Error,
        TerminationReason::Message2Error,
        TerminationReason::Message3Error,
        TerminationReason::IntraFrameReadTimeout,
        TerminationReason::RouterInfoSignatureFailure,
        TerminationReason::StaticKeyMismatch,
        TerminationReason::Banned,
    ];

    pub fn code(self) -> u8 {
        match self {
            TerminationReason::Other(code) => code,
            known => Self::BY_CODE
                .iter()
                .position(|r| *r == known)
                .map_or(0, |code| code as u8),
        }
    }

    pub fn from_code(code: u8) -> TerminationReason {
        Self::BY_CODE
            .get(usize::from(code))
            .copied()
            .unwrap_or(TerminationReason::Other(code))
    }
}

/// Why a session failed. Every byte from the network goes through a parser returning one
/// of these; none panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ntcp2Error {
    /// A ChaChaPoly frame did not authenticate: tampering, or (in message 1) a dialler
    /// using a wrong router hash, IV or static key for us.
    #[error("{0}: authentication failed (bad MAC)")]
    BadMac(&'static str),
    /// A low-order X25519 point, with which no secret can be agreed.
    #[error("{0} is not a usable X25519 key")]
    InvalidKey(&'static str),
    /// Message 1 or the peer's RouterInfo names another network (`None`: no `netId`).
    #[error("wrong network: peer is on {got:?}, we are on {expected}")]
    WrongNetwork { expected: u8, got: Option<u8> },
    #[error("unsupported NTCP2 version {0}")]
    UnsupportedVersion(u8),
    /// tsA or tsB is further from our clock than 60 s; positive when the peer is ahead.
    #[error("clock skew of {offset_secs} s (at most 60 s allowed)")]
    ClockSkew { offset_secs: i64 },
    /// Message 1 announced a message 3 that cannot hold a RouterInfo or is too long.
    #[error("message 3 part 2 length {0} out of range")]
    BadMessage3Length(usize),
    /// Bytes arrived that the peer cannot have been allowed to send yet.
    #[error("data received before the handshake allowed it")]
    UnexpectedData,
    /// The handshake did not finish within [`HANDSHAKE_TIMEOUT`].
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// A data-phase frame was begun and not finished within [`INTRA_FRAME_TIMEOUT`].
    #[error("a frame stayed incomplete too long")]
    IntraFrameTimeout,
    /// Alice's RouterInfo in message 3 did not parse or verify.
    #[error("bad RouterInfo: {0}")]
    BadRouterInfo(DataError),
    /// Alice's RouterInfo has no NTCP2 address whose `s` is the key she used.
    #[error("RouterInfo does not publish the static key proven in the handshake")]
    StaticKeyMismatch,
    /// A data-phase frame length below the 16-byte MAC.
    #[error("frame length {0} is shorter than its MAC")]
    BadFrameLength(usize),
    /// Blocks that do not parse, or are not allowed where they are.
    #[error("payload: {0}")]
    Payload(&'static str),
    /// Our RouterInfo does not fit in message 3.
    #[error("our RouterInfo ({0} bytes) does not fit in message 3")]
    RouterInfoTooLarge(usize),
    /// The peer's RouterInfo has no NTCP2 address we can dial.
    #[error("cannot dial: {0}")]
    NoAddress(&'static str),
}

impl Ntcp2Error {
    /// The reason to give in the Termination block when this ends a data phase.
    fn termination_reason(&self) -> TerminationReason {
        match self {
            Ntcp2Error::BadMac(_) => TerminationReason::AeadFailure,
            Ntcp2Error::BadFrameLength(_) => TerminationReason::AeadFramingError,
            Ntcp2Error::IntraFrameTimeout => TerminationReason::IntraFrameReadTimeout,
            _ => TerminationReason::PayloadFormatError,
        }
    }
}

#[cfg(test)]
mod tests;
