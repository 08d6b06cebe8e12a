//! What the bridge needs from a router: [`Backend`].
//!
//! The bridge owns everything SAM: sockets, lines, session IDs, PRIMARY subsessions and
//! which of them an incoming stream or datagram belongs to. The router owns everything
//! I2P: one client destination per [`Backend::create_session`] (tunnels, LeaseSet,
//! garlic), the streaming library, datagram signing and verification, the netDb.
//!
//! One backend session is one destination. A PRIMARY session and all its subsessions
//! share it: the bridge routes what arrives by I2CP protocol and port, so the router
//! never hears of subsessions. Everything that arrives for a destination comes out of
//! one channel, [`Created::inbound`]: incoming streams (already accepted by the
//! streaming library) and received datagrams, each with its ports. The router closes
//! the channel when the destination dies; the bridge then closes the client's socket,
//! as the spec wants ("when the session dies for any reason, the SAM bridge closes the
//! socket"). A bounded channel is the router's backpressure: when it is full, drop
//! datagrams and refuse streams, as a busy application would.
//!
//! Implementing it over the real router (notes for whoever does): the router runs in
//! one task ([`crate::host`]); the backend is a cheap handle holding a command channel
//! into that task, and `Session` carries the `DestinationId`. `create_session` adds the
//! destination and answers once its tunnels are built (the spec warns clients that this
//! takes seconds to minutes; the bridge waits as long as it takes). `connect` opens a
//! stream and answers when the SYN is answered, or with a [`ConnectError`] after the
//! streaming library's own connect timeout (about a minute; the bridge gives up later,
//! after [`crate::host::config::SamSection::connect_timeout`]).
//!
//! All methods take `&self` and may be called concurrently from many tasks (every
//! client socket is a task of its own).

use crate::crypto::DestinationKeys;
use crate::data::{Destination, Hash};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

/// The router side of the SAM bridge. See the module documentation.
pub trait Backend: Send + Sync + 'static {
    /// A stream to a peer: bytes in order, both ways, until either side shuts down.
    type Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static;
    /// The router's handle on one destination (what `create_session` made).
    type Session: Send + Sync + 'static;

    /// Starts a destination with `keys`: builds its tunnels, publishes its LeaseSet,
    /// and from then on delivers what arrives for it on [`Created::inbound`].
    /// [`BackendError::DuplicatedDest`] if the router already runs these keys.
    fn create_session(
        &self,
        keys: DestinationKeys,
        options: SessionOptions,
    ) -> impl Future<Output = Result<Created<Self::Session, Self::Stream>, BackendError>> + Send;

    /// Stops the destination: its tunnels, streams and LeaseSet go; the inbound channel
    /// closes. Called once, when the client's control socket closes.
    fn remove_session(&self, session: &Self::Session) -> impl Future<Output = ()> + Send;

    /// Opens a stream from `session` to `to`, with the I2CP ports given (0 for none).
    fn connect(
        &self,
        session: &Self::Session,
        to: Target,
        ports: PortPair,
    ) -> impl Future<Output = Result<Self::Stream, ConnectError>> + Send;

    /// Sends one datagram, unreliably: success means handed to the router, not
    /// delivered. The router signs repliable and Datagram2 datagrams with the session's
    /// keys; raw and Datagram3 ones are not signed.
    fn send_datagram(
        &self,
        session: &Self::Session,
        datagram: OutgoingDatagram,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Resolves a host name (`example.i2p`) or a b32 address (as its hash) to the full
    /// destination, from the address book or the netDb. `session` is the caller's
    /// session, if it has one: a b32 lookup goes out through its tunnels.
    fn lookup(
        &self,
        session: Option<&Self::Session>,
        name: LookupName,
    ) -> impl Future<Output = Result<Destination, LookupError>> + Send;
}

/// What `create_session` gives back.
#[derive(Debug)]
pub struct Created<Session, Stream> {
    pub session: Session,
    /// Everything that arrives for the destination; closed when it dies.
    pub inbound: mpsc::Receiver<Inbound<Stream>>,
}

/// Options for a new destination: everything on the SESSION CREATE line that the bridge
/// did not interpret itself, as written (keys are case-sensitive), e.g. `inbound.length`,
/// `inbound.quantity`, `outbound.*`, `i2cp.leaseSetEncType` (`4,0` from most clients),
/// `i2cp.*`, streaming options (`i2p.streaming.*`). The router applies what it knows
/// and ignores the rest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionOptions {
    pub options: BTreeMap<String, String>,
}

/// Whom to connect or send to: a full destination, or only its hash (a b32 address),
/// which the router resolves through its LeaseSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Destination(Box<Destination>),
    Hash(Hash),
}

impl Target {
    pub fn hash(&self) -> Hash {
        match self {
            Target::Destination(d) => d.hash(),
            Target::Hash(h) => *h,
        }
    }
}

/// I2CP source and destination ports (0: unspecified / any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortPair {
    pub from: u16,
    pub to: u16,
}

/// The four kinds of datagram, by their I2CP protocol: the router core's own.
pub use crate::client::DatagramKind;

/// A datagram the client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingDatagram {
    pub kind: DatagramKind,
    pub to: Target,
    pub ports: PortPair,
    pub payload: Vec<u8>,
}

/// Who sent a received datagram, as far as its kind tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// Raw datagrams say nothing about their sender.
    Anonymous,
    /// Repliable and Datagram2: the verified sender.
    Destination(Box<Destination>),
    /// Datagram3: the sender's hash, unverified.
    Hash(Hash),
}

/// A datagram for one of our destinations. The router has verified the signature of
/// repliable and Datagram2 datagrams (and Datagram2's replay protection) and dropped
/// those that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedDatagram {
    pub kind: DatagramKind,
    pub from: Sender,
    pub ports: PortPair,
    pub payload: Vec<u8>,
}

/// A stream a peer opened to us, already accepted by the streaming library.
#[derive(Debug)]
pub struct IncomingStream<S> {
    pub stream: S,
    /// The peer's destination (from its signed SYN).
    pub peer: Box<Destination>,
    pub ports: PortPair,
}

/// What arrives for a destination.
#[derive(Debug)]
pub enum Inbound<S> {
    Stream(IncomingStream<S>),
    Datagram(ReceivedDatagram),
}

/// A host name or b32 address for [`Backend::lookup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupName {
    /// `<52 base32 characters>.b32.i2p`, decoded.
    Hash(Hash),
    /// Anything else ending in `.i2p`, as written (host names, b33 addresses).
    Host(String),
}

impl fmt::Display for LookupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupName::Hash(h) => write!(f, "{}.b32.i2p", h.to_base32()),
            LookupName::Host(name) => f.write_str(name),
        }
    }
}

/// Why a session could not be created, or a datagram not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The router already runs a destination with these keys (DUPLICATED_DEST).
    #[error("the destination is already in use")]
    DuplicatedDest,
    /// The keys or options are not acceptable to the router (INVALID_KEY).
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// Anything else (I2P_ERROR), e.g. no tunnels, router shutting down.
    #[error("{0}")]
    Other(String),
}

/// Why a stream could not be opened (STREAM STATUS results).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The peer's LeaseSet was found but it did not answer (CANT_REACH_PEER).
    #[error("cannot reach the peer: {0}")]
    CantReachPeer(String),
    /// No LeaseSet for the peer in the netDb (PEER_NOT_FOUND).
    #[error("the peer is not in the netDb")]
    PeerNotFound,
    /// The streaming library's connect timeout passed (TIMEOUT).
    #[error("timed out")]
    Timeout,
    /// The destination is malformed or of a type the router cannot talk to (INVALID_KEY).
    #[error("invalid destination: {0}")]
    InvalidKey(String),
    /// Anything else (I2P_ERROR).
    #[error("{0}")]
    Other(String),
}

/// Why a name could not be resolved (NAMING REPLY results).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Not in the address book, or no LeaseSet for the hash (KEY_NOT_FOUND, or
    /// LEASESET_NOT_FOUND when the client asked for OPTIONS).
    #[error("not found")]
    NotFound,
    /// The name is malformed (INVALID_KEY).
    #[error("invalid name: {0}")]
    Invalid(String),
}
