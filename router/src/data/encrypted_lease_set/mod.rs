//! EncryptedLeaseSet (DatabaseStore type 5; spec: Common structures, EncryptedLeaseSet, and
//! the Encrypted LeaseSet specification).
//!
//! A destination that does not want the floodfills (or anyone without its address) to
//! learn its LeaseSet publishes it wrapped: an outer layer that names only the day's
//! blinded key `A'`, a publication date and a lifetime, signed with RedDSA under `A'`;
//! inside, two ChaCha20 layers keyed from what knowing the destination's signing key
//! proves (the subcredential), the first of which may also require a per-client key.
//!
//! This is the one structure of `data` that leans on `crypto`: its signing key is a
//! [`BlindedPublicKey`] and its body is encrypted, so the outer layer is read here and the
//! two inner layers live in `layers`.

mod layers;
#[cfg(test)]
mod tests;

pub use layers::{ClientAuthorization, ClientKey, DecryptError, InnerLeaseSet};

use super::offline_signature::OfflineSignature;
use super::reader::Reader;
use super::{BlindableSigType, DataError, Hash};
use crate::crypto::blinding::{BlindedPublicKey, BlindedSigningKey};
use rand::{CryptoRng, RngCore};
use std::fmt;
use std::ops::Range;

/// Length of a RedDSA (and Ed25519) signature.
const SIGNATURE_LEN: usize = 64;

/// An encrypted LeaseSet as floodfills see it: the outer layer, signature verified.
///
/// Like [`LeaseSet2`](super::LeaseSet2) it keeps the exact bytes it was parsed from and
/// is immutable, so it is stored and flooded as received and shared behind an `Arc`.
/// Nothing in it names the destination: only the holders of its address (and secret, and
/// client key where required) can [`decrypt`](EncryptedLeaseSet::decrypt) it.
///
/// The signature covers the bytes PREPENDED with the DatabaseStore type byte
/// ([`EncryptedLeaseSet::STORE_TYPE`], 5). Offline keys (flag bit 0) are read and checked
/// (the transient key signed by the blinded key, the whole by the transient key), never
/// written. Reserved flag bits are kept as received.
#[derive(Clone)]
pub struct EncryptedLeaseSet {
    bytes: Box<[u8]>,
    blinded_key: BlindedPublicKey,
    published_s: u32,
    expires_offset_s: u16,
    flags: u16,
    offline_signature: Option<OfflineSignature>,
    /// Where the encrypted layer-1 data sits in `bytes`.
    ciphertext: Range<usize>,
}

impl EncryptedLeaseSet {
    /// The DatabaseStore type of an encrypted LeaseSet, also the first signed byte.
    pub const STORE_TYPE: u8 = 5;
    /// Flag bit 0: an [`OfflineSignature`] follows the flags.
    pub const FLAG_OFFLINE_KEYS: u16 = 1 << 0;
    /// Flag bit 1: not to be flooded, published or sent in reply to a lookup.
    pub const FLAG_UNPUBLISHED: u16 = 1 << 1;

    /// Parses exactly one encrypted LeaseSet filling `bytes` (without the DatabaseStore
    /// type byte) and verifies its signature.
    ///
    /// Fails on a blinded key type other than RedDSA (11), a key off the prime-order
    /// subgroup, an empty ciphertext (the spec's `1 <= len`), a transient key that is not
    /// Ed25519, and any bad signature.
    pub fn parse(bytes: &[u8]) -> Result<EncryptedLeaseSet, DataError> {
        let mut r = Reader::new(bytes);
        let sig_type = r.u16("encrypted lease set: blinded key type")?;
        if sig_type != BlindableSigType::BLINDED {
            return Err(DataError::UnsupportedSigType(sig_type));
        }
        let blinded_key =
            BlindedPublicKey::from_bytes(r.array("encrypted lease set: blinded key")?)?;
        let published_s = r.u32("encrypted lease set: published")?;
        let expires_offset_s = r.u16("encrypted lease set: expires")?;
        let flags = r.u16("encrypted lease set: flags")?;
        let offline_signature = if flags & Self::FLAG_OFFLINE_KEYS != 0 {
            Some(OfflineSignature::read_signed_by(
                &mut r,
                SIGNATURE_LEN,
                |msg, sig| blinded_key.verify(msg, sig),
            )?)
        } else {
            None
        };
        let len = r.u16("encrypted lease set: ciphertext length")?;
        if len == 0 {
            return Err(DataError::Invalid {
                what: "encrypted lease set: ciphertext",
                reason: "empty",
            });
        }
        let start = r.position();
        r.take(usize::from(len), "encrypted lease set: ciphertext")?;
        let ciphertext = start..r.position();
        let signed = signed_message(r.since(0));
        let signature = r.take(SIGNATURE_LEN, "encrypted lease set: signature")?;
        match &offline_signature {
            Some(offline) => offline.verify(&signed, signature)?,
            None => blinded_key.verify(&signed, signature)?,
        }
        r.finish("encrypted lease set")?;
        Ok(EncryptedLeaseSet {
            bytes: bytes.into(),
            blinded_key,
            published_s,
            expires_offset_s,
            flags,
            offline_signature,
            ciphertext,
        })
    }

    /// The outer layer around `ciphertext`, signed by `signing` (no offline keys, flags 0:
    /// an encrypted LeaseSet exists to be published, an unpublished one is sent in the
    /// clear to whoever may read it).
    fn sign<R: RngCore + CryptoRng>(
        rng: &mut R,
        signing: &BlindedSigningKey,
        published_s: u32,
        expires_offset_s: u16,
        ciphertext: &[u8],
    ) -> Result<EncryptedLeaseSet, DataError> {
        let len = u16::try_from(ciphertext.len()).map_err(|_| DataError::TooLarge {
            what: "encrypted lease set: ciphertext",
            max: usize::from(u16::MAX),
            actual: ciphertext.len(),
        })?;
        let mut bytes = Vec::with_capacity(44 + ciphertext.len() + SIGNATURE_LEN);
        bytes.extend_from_slice(&BlindableSigType::BLINDED.to_be_bytes());
        bytes.extend_from_slice(signing.public_key().as_bytes());
        bytes.extend_from_slice(&published_s.to_be_bytes());
        bytes.extend_from_slice(&expires_offset_s.to_be_bytes());
        bytes.extend_from_slice(&0u16.to_be_bytes());
        bytes.extend_from_slice(&len.to_be_bytes());
        let start = bytes.len();
        bytes.extend_from_slice(ciphertext);
        let ciphertext = start..bytes.len();
        let signature = signing.sign(rng, &signed_message(&bytes));
        bytes.extend_from_slice(&signature);
        Ok(EncryptedLeaseSet {
            bytes: bytes.into(),
            blinded_key: *signing.public_key(),
            published_s,
            expires_offset_s,
            flags: 0,
            offline_signature: None,
            ciphertext,
        })
    }

    /// The day's blinded key `A'` that signed it.
    pub fn blinded_key(&self) -> &BlindedPublicKey {
        &self.blinded_key
    }

    /// The netDb key it is stored under: `SHA-256(sig type ‖ A')`. A floodfill checks the
    /// DatabaseStore key against it, as it checks a LeaseSet2's against the destination.
    pub fn storage_key(&self) -> Hash {
        self.blinded_key.storage_key()
    }

    /// Seconds since the epoch; a newer encrypted LeaseSet replaces an older one.
    pub fn published_s(&self) -> u32 {
        self.published_s
    }

    /// Seconds after [`EncryptedLeaseSet::published_s`] at which it expires.
    pub fn expires_offset_s(&self) -> u16 {
        self.expires_offset_s
    }

    /// Seconds since the epoch: published + the expires offset.
    pub fn expires_s(&self) -> u64 {
        u64::from(self.published_s) + u64::from(self.expires_offset_s)
    }

    /// All 16 flag bits as received, reserved bits included.
    pub fn flags(&self) -> u16 {
        self.flags
    }

    /// Flag bit 1: not to be flooded or given out in lookup replies.
    pub fn is_unpublished(&self) -> bool {
        self.flags & Self::FLAG_UNPUBLISHED != 0
    }

    /// The verified offline signature block, if flag bit 0 is set.
    pub fn offline_signature(&self) -> Option<&OfflineSignature> {
        self.offline_signature.as_ref()
    }

    /// Whether it is no longer valid at `now_s` (seconds since the epoch): past its
    /// expiry, or past its transient key's if it is offline-signed.
    pub fn is_expired_at(&self, now_s: u64) -> bool {
        now_s >= self.expires_s()
            || self
                .offline_signature
                .as_ref()
                .is_some_and(|o| now_s >= u64::from(o.expires_s()))
    }

    /// The encrypted layer 1: its salt, then ChaCha20 ciphertext.
    fn ciphertext(&self) -> &[u8] {
        self.bytes.get(self.ciphertext.clone()).unwrap_or(&[])
    }

    /// The exact signed serialization (signature included, no DatabaseStore type byte).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The bytes the outer signature covers: the type byte, then the outer layer.
fn signed_message(outer: &[u8]) -> Vec<u8> {
    let mut signed = Vec::with_capacity(1 + outer.len());
    signed.push(EncryptedLeaseSet::STORE_TYPE);
    signed.extend_from_slice(outer);
    signed
}

/// Two encrypted LeaseSets are equal when their signed bytes are.
impl PartialEq for EncryptedLeaseSet {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for EncryptedLeaseSet {}

impl fmt::Debug for EncryptedLeaseSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedLeaseSet")
            .field("storage_key", &self.storage_key())
            .field("published_s", &self.published_s)
            .field("expires_s", &self.expires_s())
            .field("flags", &self.flags)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}
