//! Wire structures from the I2P "Common structures" specification.
//!
//! Everything here is parsed from untrusted bytes: every parser returns a [`DataError`]
//! and never panics. Signed structures keep the exact bytes they were parsed from, because
//! signatures and hashes cover the bytes, not our re-encoding of them.

mod address;
mod b33;
mod base;
mod certificate;
mod encrypted_lease_set;
mod hash;
mod identity;
mod lease;
mod lease_set;
mod mapping;
mod meta_lease_set;
mod offline_signature;
pub(crate) mod reader;
mod router_info;
mod tunnel_id;

#[cfg(test)]
pub(crate) mod strategies;

pub use address::RouterAddress;
pub use b33::{B33Address, B33Error, BlindableSigType};
pub use base::{base32_decode, base32_encode, base64_decode, base64_encode};
pub use certificate::{Certificate, KeyCertificate};
pub use encrypted_lease_set::{
    ClientAuthorization, ClientKey, DecryptError, EncryptedLeaseSet, InnerLeaseSet,
};
pub use hash::Hash;
pub use identity::{Destination, KeysAndCert, RouterIdentity};
pub use lease::{EncryptionKey, Lease2};
pub use lease_set::LeaseSet2;
pub(crate) use lease_set::UnsignedLeaseSet2;
pub use mapping::Mapping;
pub(crate) use meta_lease_set::UnsignedMetaLeaseSet;
pub use meta_lease_set::{MetaLease, MetaLeaseSet};
pub use offline_signature::OfflineSignature;
pub use router_info::RouterInfo;
pub use tunnel_id::TunnelId;

/// Why bytes could not be read as (or a value could not be written as) an I2P structure.
///
/// `what` names the field being handled, e.g. `"router info: published"`, so an error
/// from deep inside a DatabaseStore still says where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// The input ended inside a field.
    #[error("{what}: truncated, needed {needed} bytes but {available} available")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// A structure that must fill its input exactly was followed by more bytes.
    #[error("{what}: {count} trailing bytes")]
    TrailingBytes { what: &'static str, count: usize },
    /// A length exceeds what the wire format (or our safety bound) allows.
    #[error("{what}: too large ({actual} bytes, at most {max})")]
    TooLarge {
        what: &'static str,
        max: usize,
        actual: usize,
    },
    /// A field has a value the specification forbids.
    #[error("{what}: {reason}")]
    Invalid {
        what: &'static str,
        reason: &'static str,
    },
    /// A String field is not UTF-8.
    #[error("{what}: not valid UTF-8")]
    InvalidUtf8 { what: &'static str },
    /// A Mapping repeats a key; signed mappings must not (spec: Mapping notes).
    #[error("mapping: duplicate key {0:?}")]
    DuplicateKey(String),
    /// Certificate types other than NULL and KEY cannot carry router or destination keys.
    #[error("unsupported certificate type {0}")]
    UnsupportedCertificateType(u8),
    /// Only EdDSA_SHA512_Ed25519 (7) is implemented.
    #[error("unsupported signing key type {0} (only 7, Ed25519, is supported)")]
    UnsupportedSigType(u16),
    /// Routers must use X25519 (4); destinations may also carry an unused ElGamal key (0).
    #[error("unsupported crypto key type {0}")]
    UnsupportedCryptoType(u16),
    /// Key bytes that do not form a valid public key.
    #[error("{what}: invalid public key")]
    InvalidKey { what: &'static str },
    /// The signature does not verify under the structure's signing key.
    #[error("bad signature")]
    BadSignature,
    /// Text that is not valid I2P base64 / base32.
    #[error("invalid {what} text")]
    InvalidEncoding { what: &'static str },
}
