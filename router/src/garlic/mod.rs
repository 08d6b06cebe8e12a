//! Garlic encryption with ECIES-X25519 (spec: ECIES-X25519-AEAD-Ratchet, proposal 144;
//! ECIES-X25519 Router Messages, proposal 156).
//!
//! - [`payload`]: the payload section every ECIES garlic message carries once decrypted,
//!   a sequence of blocks (DateTime, Garlic Clove, Padding, ...).
//! - [`router`]: the two forms a router itself sends and receives: one-time messages to
//!   a router's static X25519 key (Noise N), and replies under a one-time key and 8-byte
//!   tag (netDb lookup replies, the outbound endpoint's tunnel build reply).
//!
//! - [`ratchet`]: ECIES-X25519-AEAD-Ratchet sessions between destinations (New Session,
//!   New Session Reply, Existing Session), over payload bytes of the same format.

pub mod payload;
pub mod ratchet;
pub mod replies;
pub mod router;
pub mod wrap;

use crate::data::DataError;
use crate::i2np::I2npError;

/// Why a garlic message could not be opened, parsed or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GarlicError {
    /// A block or a clove's delivery instructions are malformed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A clove's I2NP message is malformed, or of a type this router does not implement.
    #[error("garlic clove message: {0}")]
    Message(#[from] I2npError),
    /// The blocks break an ordering or count rule of the payload section.
    #[error("garlic payload: {0}")]
    BlockOrder(&'static str),
    /// Too short to hold the cleartext header and the MAC of the form it was opened as.
    #[error("garlic message of {actual} bytes, at least {min} needed")]
    TooShort { min: usize, actual: usize },
    /// Authentication failed: tampered, for another key, or garbage.
    #[error("garlic message does not decrypt")]
    Undecryptable,
    /// A router's X25519 key is a low-order point: no secret can be shared with it.
    #[error("the router's encryption key is a low-order point")]
    LowOrderKey,
}
