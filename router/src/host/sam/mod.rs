//! A SAMv3 bridge (SAM 3.0 to 3.3): applications on this machine talk SAM on TCP 7656
//! and UDP 7655; the bridge talks to the router through a [`Backend`].
//!
//! Layout, from the wire inwards:
//!
//! - [`command`] parses a client line into a typed [`Command`] (and writes one back, for
//!   the property tests and for clients written in Rust); [`reply`] formats the bridge's
//!   answers as the spec writes them; `line` holds the quoting rules both share.
//! - [`keys`]: destinations and private keys as SAM's base64 (`PUB`, `PRIV`).
//! - [`backend`]: the [`Backend`] trait, all the bridge needs of a router; [`mock`] is an
//!   in-memory implementation for tests and for trying clients.
//! - [`server`]: [`SamServer`] binds the ports and runs a task per client socket
//!   (`control`: HELLO, then commands), the session registry (`session`: SESSION
//!   CREATE / ADD / REMOVE, PRIMARY subsessions, routing by protocol and port), streams
//!   (`stream`: CONNECT, ACCEPT, FORWARD), datagrams (`datagram`: the UDP port,
//!   DATAGRAM SEND / RAW SEND, forwarding) and names (`names`: NAMING LOOKUP, DEST
//!   GENERATE).
//!
//! Choices the spec leaves open, and what we chose:
//!
//! - Signature type: only 7 (Ed25519). SIGNATURE_TYPE defaults to DSA_SHA1 by the spec,
//!   so a TRANSIENT SESSION CREATE or DEST GENERATE without `SIGNATURE_TYPE=7` is refused
//!   (`RESULT=I2P_ERROR`, the message says what to send).
//! - `STYLE=MASTER` is `PRIMARY` (i2pd knows only MASTER). A bare `HELLO VERSION` gets 3.3.
//! - Concurrent STREAM ACCEPTs on one session are allowed from SAM 3.2 and answered
//!   ALREADY_ACCEPTING before it, as the spec says (Java I2P and i2pd allow them on 3.1 too).
//! - Incoming streams with no ACCEPT waiting queue for the next one (8 per subsession,
//!   30 s); traffic no subsession takes is dropped.
//! - Errors with no reply of their own (an unknown command, DATAGRAM SEND failing) are
//!   answered `SESSION STATUS RESULT=I2P_ERROR MESSAGE=...`; AUTH answers `AUTH STATUS`.
//! - HOST (FORWARD, datagram PORT) must be an IP address or `localhost`.
//! - The UDP port takes datagrams only from the address of the named session's control
//!   socket.
//!
//! Limits (`[sam]` in `router.toml`, [`crate::host::config::SamSection`]): lines of at
//! most `max_line` bytes (a longer one is answered and the socket closed); a HELLO within
//! `hello_timeout` and, on a socket without a session, each command within
//! `command_timeout`; `max_connections` sockets, `max_sessions` sessions (and
//! `max_sessions_per_client` per client address), `max_subsessions` per PRIMARY,
//! `max_pending_accepts` per session; STREAM CONNECT gives up after `connect_timeout`.
//! Queues toward slow clients are bounded and drop datagrams when full.
//!
//! Not done: SSL (FORWARD SSL=true is refused), offline-signed keys, private keys from
//! other implementations unless their padding is of the proposal 161 form
//! ([`keys`]), NAMING LOOKUP's OPTION: records, HELP, the bridge sending PINGs, the
//! v3.3 per-datagram options (SEND_TAGS, TAG_THRESHOLD, EXPIRES, SEND_LEASESET:
//! accepted and ignored) and persisting AUTH changes. The router's [`Backend`] is
//! [`crate::host::apps::RouterBackend`]; [`crate::host::Host`] starts the bridge.

pub mod backend;
pub mod command;
mod control;
pub mod datagram;
pub mod keys;
mod line;
pub mod mock;
mod names;
mod reader;
pub mod reply;
mod server;
mod session;
mod stream;

#[cfg(test)]
mod tests;

pub use backend::Backend;
pub use command::Command;
pub use control::negotiate;
pub use datagram::UdpHeader;
pub use reply::{Reply, ResultCode};
pub use server::SamServer;

/// Why a client line (or UDP datagram header) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamError {
    #[error("syntax error: {0}")]
    Syntax(&'static str),
    #[error("not UTF-8")]
    NotUtf8,
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("bad {0} value {1:?}")]
    BadValue(&'static str, String),
    #[error("{0} given twice")]
    DuplicateKey(String),
    #[error("{0} is not allowed on {1}")]
    NotAllowed(&'static str, &'static str),
}
