//! Tunnel building with ECIES-X25519 short records (spec: tunnel-creation-ecies, "Short
//! Record Specification"; I2NP ShortTunnelBuild, type 25, and OutboundTunnelBuildReply,
//! type 26; proposal 157).
//!
//! One message of 1 to 8 records of 218 bytes builds a whole tunnel:
//!
//! 1. The creator ([`BuildRequest::create`]) encrypts one request per hop to the hop's
//!    static X25519 key, puts the records in random slots, fills the unused slots with
//!    random bytes, and keeps a [`PendingBuild`] with each hop's keys.
//! 2. Each hop ([`handle_request`]) finds its record by its truncated router hash,
//!    decrypts it, asks the caller's policy whether to accept, seals its reply into its
//!    own slot, masks all the other records, and sends the message on: to the next hop,
//!    or from the outbound endpoint as an OutboundTunnelBuildReply into the reply tunnel.
//! 3. The creator ([`PendingBuild::handle_reply`]) removes the masks and reads every
//!    hop's answer; for accepting hops it hands out the layer and IV keys, as the data
//!    plane's [`HopKeys`](crate::tunnel::data::HopKeys).
//!
//! Not here yet: garlic wrapping of the build message to an inbound gateway and of the
//! reply to the creator (the garlic reply key and tag are derived: [`GarlicReplyKey`];
//! `crate::garlic::router` has both encryptions),
//! the long 528-byte records (types 21 to 24), and the replay filter, which belongs to the
//! router: a replayed request asks for a receive tunnel id the router already has.

mod crypt;
mod participant;
mod record;
mod reply;
mod request;

#[cfg(test)]
mod tests;

pub use crypt::GarlicReplyKey;
pub use participant::{handle_request, BuildSend, HopConfig, ParticipantOutcome};
pub use record::{HopRole, LayerEncryption, ReplyRecord, ReplyStatus, RequestRecord};
pub use reply::HopReply;
pub use request::{BuildDirection, BuildRequest, HopSpec, NewBuild, PendingBuild};

use crate::data::DataError;
use std::time::Duration;

/// The specification recommends at least 4 records, so that a 2- or 3-hop tunnel does
/// not reveal its length to its hops.
pub const RECOMMENDED_RECORDS: usize = 4;

/// Most hops a tunnel of ours has: a build message carries at most
/// [`BuildRecords::MAX`](crate::i2np::BuildRecords::MAX) records, and an inbound build
/// needs one for its creator (I2CP's `inbound.length` and `outbound.length` stop at 7 too).
pub const MAX_HOPS: usize = 7;

/// Records in the build message of a tunnel of `hops` hops: [`RECOMMENDED_RECORDS`], or
/// one per hop (and one for the creator of an inbound tunnel) when that is more.
pub fn record_count(hops: usize, inbound: bool) -> usize {
    RECOMMENDED_RECORDS.max(hops + usize::from(inbound))
}

/// Expiration of every build message we send, counted from when we send it. Each hop
/// starts afresh rather than passing the creator's on, which would tell later hops how
/// long the message has travelled.
pub const BUILD_MESSAGE_LIFETIME: Duration = Duration::from_secs(20);

/// The only tunnel lifetime in use (spec: "the only supported value is 600").
pub const TUNNEL_LIFETIME_SECS: u32 = 600;

/// Oldest request a hop accepts, in minutes, and how far ahead of our clock its request
/// time may be (clock skew plus rounding to the minute). Older requests are dropped, not
/// answered: the creator has given up on them, or they are replays.
const MAX_REQUEST_AGE_MIN: u64 = 5;
const MAX_REQUEST_AHEAD_MIN: u64 = 2;

/// Why a build message could not be created, handled or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The creator asked for a build the wire format or the spec cannot express.
    #[error("invalid tunnel build: {0}")]
    InvalidRequest(&'static str),
    /// No record starts with our truncated router hash: the message is not for us.
    #[error("no build record for us")]
    NotForUs,
    /// A record failed authentication (tampered, or encrypted to another key).
    #[error("build record does not decrypt")]
    Undecryptable,
    /// An authentic record whose cleartext is malformed.
    #[error("malformed build record: {0}")]
    Malformed(#[from] DataError),
    /// The request time is too far from ours; dropped as a late copy or a replay.
    #[error("build request from minute {request_min}, now is minute {now_min}")]
    Stale { request_min: u32, now_min: u64 },
    /// The reply does not have as many records as the request had.
    #[error("build reply has {actual} records, the request had {expected}")]
    RecordCount { expected: usize, actual: usize },
    /// Hop number `hop` (0 is the first) sent a reply that does not decrypt or parse:
    /// the whole build must be discarded, as a hop may be tagging records.
    #[error("hop {hop}'s build reply does not decrypt")]
    BadReply { hop: usize },
    /// Our own record in an inbound build came back changed: a hop tampered with it.
    #[error("our own build record came back modified")]
    Tampered,
}
