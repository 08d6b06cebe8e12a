//! The tunnel data plane (spec: tunnel-message; tunnel implementation, Tunnel Operation).
//!
//! I2NP messages cross a tunnel inside fixed-size TunnelData messages (1028 bytes: the
//! receiving hop's tunnel id, an IV and 1008 encrypted bytes), so their sizes do not show.
//! The gateway packs and fragments messages into tunnel messages and encrypts them; each
//! hop adds one layer and forwards; the endpoint ends up with the gateway's plaintext,
//! reassembles the messages and hands them on as their delivery instructions say.
//!
//! | role                          | who            | crypto                                |
//! |-------------------------------|----------------|---------------------------------------|
//! | [`Gateway::outbound`]         | creator        | undoes every hop's layer in advance   |
//! | [`Participant`]               | any hop        | adds its layer                        |
//! | [`Endpoint::outbound`]        | last hop       | adds its layer, revealing plaintext   |
//! | [`Gateway::inbound`]          | first hop      | adds its layer to fresh plaintext     |
//! | [`Endpoint::inbound`]         | creator        | undoes every hop's layer              |
//!
//! Hops cannot tell inbound from outbound tunnels: they always encrypt. A router keeps
//! one [`ReplayFilter`] for all its tunnels and passes it to each message it handles.
//!
//! Sans-IO like the rest of the core: time comes in as `now`, randomness from the
//! caller's generator, and every role returns what is to be sent rather than sending it.
//! Wrapping a [`TunnelData`](crate::i2np::TunnelData) in an I2NP message (whose id the
//! spec wants fresh and random at each hop) is the caller's job.

mod bloom;
mod fragment;
mod instructions;
mod layer;
mod message;
mod roles;

pub use bloom::ReplayFilter;
pub use fragment::Delivered;
pub use instructions::Delivery;
pub use layer::HopKeys;
pub use roles::{Endpoint, Gateway, NextHop, Participant};

use crate::data::DataError;

/// Why a tunnel message was dropped, or a message could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TunnelDataError {
    /// Its IV and first block were seen in the last 10 to 20 minutes.
    #[error("replayed tunnel message")]
    Replayed,
    /// The checksum does not match: corrupted, tampered with, or not ours to read.
    #[error("tunnel message checksum mismatch")]
    BadChecksum,
    /// No zero byte ends the padding: not a tunnel message the gateway made.
    #[error("tunnel message has no zero byte after its padding")]
    NoPaddingEnd,
    /// The delivery instructions or fragments do not parse.
    #[error("tunnel message: {0}")]
    Malformed(#[from] DataError),
    /// Fragments are at least 1 byte long, so there is nothing to send an empty one in.
    #[error("cannot send an empty message through a tunnel")]
    EmptyMessage,
    /// A message has at most 64 fragments, about 62 KB.
    #[error("a message of {0} bytes needs more than 64 tunnel message fragments")]
    MessageTooLarge(usize),
}
