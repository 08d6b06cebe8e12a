//! LeaseSet2 (spec: Common structures, LeaseSet2Header and LeaseSet2; proposal 123).

use super::lease::{EncryptionKey, Lease2};
use super::offline_signature::OfflineSignature;
use super::reader::Reader;
use super::{DataError, Destination, Hash, KeyCertificate, Mapping};
use header::Header;
use std::fmt;

pub(crate) mod header;

/// What a destination publishes in the netDb (DatabaseStore type 3) and sends along with
/// its first messages: its Destination, a publication date and lifetime, flags, options,
/// its encryption keys and up to 16 inbound tunnels (leases), signed.
///
/// Always verified: the only ways to obtain one are [`LeaseSet2::parse`], which checks
/// the signature, and signing with the destination's keys (`crypto::DestinationKeys`).
/// It keeps the exact signed bytes, so it is forwarded (flooded) without re-encoding, and
/// is immutable so one parsed copy can be shared (`Arc`).
///
/// The signature covers the LeaseSet2 bytes PREPENDED with the DatabaseStore type byte
/// ([`LeaseSet2::STORE_TYPE`], 3), which is not part of the LeaseSet2 itself.
///
/// Offline keys (flag bit 0) are supported when reading, for Ed25519 transient keys:
/// the header's [`OfflineSignature`] is checked against the destination, then the
/// LeaseSet2 signature against the transient key. Signing here never uses them.
/// The unpublished (bit 1) and blinded (bit 2) flags, and the reserved bits, are kept
/// as they are: what they mean is the netDb's business.
#[derive(Clone)]
pub struct LeaseSet2 {
    bytes: Box<[u8]>,
    header: Header,
    options: Mapping,
    encryption_keys: Vec<EncryptionKey>,
    leases: Vec<Lease2>,
}

/// Everything a LeaseSet2 says, before it is signed ([`LeaseSet2::sign_with`]).
#[derive(Debug, Clone)]
pub(crate) struct UnsignedLeaseSet2 {
    pub destination: Destination,
    /// Seconds since the epoch.
    pub published_s: u32,
    /// Seconds after `published_s` at which the LeaseSet2 expires.
    pub expires_offset_s: u16,
    /// Must not have [`LeaseSet2::FLAG_OFFLINE_KEYS`]: signing with offline keys is not
    /// implemented.
    pub flags: u16,
    pub options: Mapping,
    /// At least one, most preferred first.
    pub encryption_keys: Vec<EncryptionKey>,
    /// At most [`LeaseSet2::MAX_LEASES`].
    pub leases: Vec<Lease2>,
}

impl LeaseSet2 {
    /// The DatabaseStore type of a LeaseSet2, also the first byte of the signed data.
    pub const STORE_TYPE: u8 = 3;
    /// The spec's bound on `num` (leases).
    pub const MAX_LEASES: usize = 16;
    /// Flag bit 0: the header carries an [`OfflineSignature`].
    pub const FLAG_OFFLINE_KEYS: u16 = Header::FLAG_OFFLINE_KEYS;
    /// Flag bit 1: not to be flooded, published or sent in reply to a lookup.
    pub const FLAG_UNPUBLISHED: u16 = Header::FLAG_UNPUBLISHED;
    /// Flag bit 2: will be blinded and encrypted when published (implies bit 1).
    pub const FLAG_BLINDED: u16 = 1 << 2;

    /// Parses exactly one LeaseSet2 filling `bytes` (without the DatabaseStore type byte)
    /// and verifies its signature.
    ///
    /// Fails on zero encryption keys or more than 16 leases (the spec's bounds), on an
    /// encryption key whose length contradicts its type, on a destination or transient
    /// key that is not Ed25519, and on any bad signature. Zero leases are accepted, as
    /// the field's range allows; whether to store such a LeaseSet2 is the netDb's call.
    pub fn parse(bytes: &[u8]) -> Result<LeaseSet2, DataError> {
        let mut r = Reader::new(bytes);
        let lease_set = LeaseSet2::read(&mut r)?;
        r.finish("lease set 2")?;
        Ok(lease_set)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<LeaseSet2, DataError> {
        let start = r.position();
        let header = Header::read(r)?;
        let options = Mapping::read(r)?;
        let key_count = r.u8("lease set 2: encryption key count")?;
        key_count_byte(usize::from(key_count))?;
        let encryption_keys = (0..key_count)
            .map(|_| EncryptionKey::read(r))
            .collect::<Result<Vec<_>, _>>()?;
        let lease_count = r.u8("lease set 2: lease count")?;
        lease_count_byte(usize::from(lease_count))?;
        let leases = (0..lease_count)
            .map(|_| Lease2::read(r))
            .collect::<Result<Vec<_>, _>>()?;
        header.read_and_verify_signature(r, Self::STORE_TYPE, r.since(start))?;
        Ok(LeaseSet2 {
            bytes: r.since(start).into(),
            header,
            options,
            encryption_keys,
            leases,
        })
    }

    /// Builds a LeaseSet2 signed by `sign`, which must sign with the private key of
    /// `unsigned.destination`; it is given the type byte and the LeaseSet2 bytes.
    /// Crate-visible so that only `crypto::DestinationKeys` (which owns the key) creates
    /// LeaseSets; the signature is re-checked in debug builds.
    pub(crate) fn sign_with(
        unsigned: UnsignedLeaseSet2,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<LeaseSet2, DataError> {
        let UnsignedLeaseSet2 {
            destination,
            published_s,
            expires_offset_s,
            flags,
            options,
            encryption_keys,
            leases,
        } = unsigned;
        let header = Header::for_signing(
            destination,
            published_s,
            expires_offset_s,
            flags,
            "lease set 2: flags",
        )?;
        let key_count = key_count_byte(encryption_keys.len())?;
        let lease_count = lease_count_byte(leases.len())?;
        let keys_len: usize = encryption_keys.iter().map(EncryptionKey::encoded_len).sum();
        let mut bytes = Vec::with_capacity(
            header.encoded_len()
                + options.encoded_len()
                + 2
                + keys_len
                + leases.len() * Lease2::LEN
                + header.destination.signature_len(),
        );
        header.emit(&mut bytes);
        options.emit(&mut bytes);
        bytes.push(key_count);
        for key in &encryption_keys {
            key.emit(&mut bytes)?;
        }
        bytes.push(lease_count);
        for lease in &leases {
            lease.emit(&mut bytes);
        }
        header.append_signature(Self::STORE_TYPE, &mut bytes, sign);
        Ok(LeaseSet2 {
            bytes: bytes.into(),
            header,
            options,
            encryption_keys,
            leases,
        })
    }

    pub fn destination(&self) -> &Destination {
        &self.header.destination
    }

    /// The destination's hash: the netDb key a LeaseSet2 is stored under.
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// Seconds since the epoch; a newer LeaseSet2 replaces an older one in the netDb.
    pub fn published_s(&self) -> u32 {
        self.header.published_s
    }

    /// Seconds after [`LeaseSet2::published_s`] at which it expires (the header field).
    pub fn expires_offset_s(&self) -> u16 {
        self.header.expires_offset_s
    }

    /// Seconds since the epoch: published + the header's expires offset.
    pub fn expires_s(&self) -> u64 {
        self.header.expires_s()
    }

    /// All 16 flag bits as received, reserved bits included.
    pub fn flags(&self) -> u16 {
        self.header.flags
    }

    /// Flag bit 1: the LeaseSet2 must not be flooded or given out in lookup replies.
    pub fn is_unpublished(&self) -> bool {
        self.header.is_unpublished()
    }

    /// The verified offline signature block, if flag bit 0 is set.
    pub fn offline_signature(&self) -> Option<&OfflineSignature> {
        self.header.offline_signature.as_ref()
    }

    pub fn options(&self) -> &Mapping {
        &self.options
    }

    /// The encryption keys, most preferred first.
    pub fn encryption_keys(&self) -> &[EncryptionKey] {
        &self.encryption_keys
    }

    /// The first X25519 (type 4) key: what an ECIES-X25519 sender encrypts to.
    pub fn x25519_key(&self) -> Option<[u8; 32]> {
        self.encryption_keys
            .iter()
            .filter(|k| k.crypto_type == KeyCertificate::CRYPTO_X25519)
            .find_map(|k| <[u8; 32]>::try_from(k.key.as_slice()).ok())
    }

    pub fn leases(&self) -> &[Lease2] {
        &self.leases
    }

    /// Whether the LeaseSet2 is no longer valid at `now_s` (seconds since the epoch):
    /// past its expiry, or past its transient key's expiry if it is offline-signed.
    pub fn is_expired_at(&self, now_s: u64) -> bool {
        self.header.is_expired_at(now_s)
    }

    /// The exact signed serialization (signature included, no DatabaseStore type byte).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Checks `numk` ("1 <= numk"; its maximum is still TBD in the spec, so the 1-byte
/// field bounds it) and returns it as that byte.
fn key_count_byte(count: usize) -> Result<u8, DataError> {
    if count == 0 {
        return Err(DataError::Invalid {
            what: "lease set 2: encryption keys",
            reason: "at least one key is required",
        });
    }
    u8::try_from(count).map_err(|_| DataError::TooLarge {
        what: "lease set 2: encryption keys",
        max: usize::from(u8::MAX),
        actual: count,
    })
}

/// Checks `num` (at most 16 leases) and returns it as its byte.
fn lease_count_byte(count: usize) -> Result<u8, DataError> {
    match u8::try_from(count) {
        Ok(byte) if count <= LeaseSet2::MAX_LEASES => Ok(byte),
        _ => Err(DataError::TooLarge {
            what: "lease set 2: leases",
            max: LeaseSet2::MAX_LEASES,
            actual: count,
        }),
    }
}

/// Two LeaseSet2s are equal when their signed bytes are.
impl PartialEq for LeaseSet2 {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for LeaseSet2 {}

impl fmt::Debug for LeaseSet2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaseSet2")
            .field("hash", &self.hash())
            .field("published_s", &self.header.published_s)
            .field("expires_s", &self.expires_s())
            .field("flags", &self.header.flags)
            .field("leases", &self.leases.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
