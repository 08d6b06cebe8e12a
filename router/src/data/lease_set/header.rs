//! LeaseSet2Header (spec: Common structures, LeaseSet2Header; proposal 123): the part
//! LeaseSet2 and MetaLeaseSet share, and their shared signature rule.
//!
//! Both are signed by the destination (or by its transient key when the header carries
//! an [`OfflineSignature`]) over their bytes PREPENDED with their DatabaseStore type byte,
//! so that one entry can never be replayed as the other.

use crate::data::offline_signature::OfflineSignature;
use crate::data::reader::Reader;
use crate::data::{DataError, Destination, Hash};

/// Who signed, when, for how long, and how the entry may be used.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub destination: Destination,
    /// Seconds since the epoch; a newer entry replaces an older one in the netDb.
    pub published_s: u32,
    /// Seconds after `published_s` at which the entry expires.
    pub expires_offset_s: u16,
    /// All 16 bits as received, reserved bits included.
    pub flags: u16,
    /// Present exactly when [`Header::FLAG_OFFLINE_KEYS`] is set; verified on read.
    pub offline_signature: Option<OfflineSignature>,
}

impl Header {
    /// Flag bit 0: the header carries an [`OfflineSignature`].
    pub const FLAG_OFFLINE_KEYS: u16 = 1 << 0;
    /// Flag bit 1: not to be flooded, published or sent in reply to a lookup.
    pub const FLAG_UNPUBLISHED: u16 = 1 << 1;

    /// Reads the destination, published, expires, flags and, when flagged, the
    /// offline signature block (checked against the destination).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Header, DataError> {
        let destination = Destination::read(r)?;
        let published_s = r.u32("lease set header: published")?;
        let expires_offset_s = r.u16("lease set header: expires")?;
        let flags = r.u16("lease set header: flags")?;
        let offline_signature = if flags & Self::FLAG_OFFLINE_KEYS != 0 {
            Some(OfflineSignature::read(r, &destination)?)
        } else {
            None
        };
        Ok(Header {
            destination,
            published_s,
            expires_offset_s,
            flags,
            offline_signature,
        })
    }

    /// A header we sign ourselves: never with offline keys, which we do not implement.
    pub(crate) fn for_signing(
        destination: Destination,
        published_s: u32,
        expires_offset_s: u16,
        flags: u16,
        what: &'static str,
    ) -> Result<Header, DataError> {
        if flags & Self::FLAG_OFFLINE_KEYS != 0 {
            return Err(DataError::Invalid {
                what,
                reason: "signing with offline keys is not supported",
            });
        }
        Ok(Header {
            destination,
            published_s,
            expires_offset_s,
            flags,
            offline_signature: None,
        })
    }

    /// Writes the header of an entry we sign (no offline block, see [`Header::for_signing`]).
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        debug_assert!(self.offline_signature.is_none());
        out.extend_from_slice(self.destination.as_bytes());
        out.extend_from_slice(&self.published_s.to_be_bytes());
        out.extend_from_slice(&self.expires_offset_s.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
    }

    /// Encoded length of [`Header::emit`]'s output.
    pub(crate) fn encoded_len(&self) -> usize {
        self.destination.as_bytes().len() + 8
    }

    /// Reads the signature that ends an entry of `store_type` whose bytes so far (header
    /// included) are `unsigned`, and checks it with the transient key if there is one,
    /// else with the destination's.
    pub(crate) fn read_and_verify_signature(
        &self,
        r: &mut Reader<'_>,
        store_type: u8,
        unsigned: &[u8],
    ) -> Result<(), DataError> {
        let signed = signed_message(store_type, unsigned);
        match &self.offline_signature {
            Some(offline) => {
                let signature = r.take(offline.signature_len(), "lease set: signature")?;
                offline.verify(&signed, signature)
            }
            None => {
                let signature = r.take(self.destination.signature_len(), "lease set: signature")?;
                self.destination.verify(&signed, signature)
            }
        }
    }

    /// Signs `bytes` (this header and the body, as emitted) as an entry of `store_type`
    /// with `sign`, which must hold the destination's private key, and appends the
    /// signature. The signature is re-checked in debug builds.
    pub(crate) fn append_signature(
        &self,
        store_type: u8,
        bytes: &mut Vec<u8>,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) {
        let signed = signed_message(store_type, bytes);
        let signature = sign(&signed);
        debug_assert!(
            self.destination.verify(&signed, &signature).is_ok(),
            "signer does not match destination"
        );
        bytes.extend_from_slice(&signature);
    }

    /// The destination's hash: the netDb key the entry is stored under.
    pub(crate) fn hash(&self) -> Hash {
        self.destination.hash()
    }

    /// Seconds since the epoch: published + expires offset.
    pub(crate) fn expires_s(&self) -> u64 {
        u64::from(self.published_s) + u64::from(self.expires_offset_s)
    }

    pub(crate) fn is_unpublished(&self) -> bool {
        self.flags & Self::FLAG_UNPUBLISHED != 0
    }

    /// Past its expiry, or past its transient key's expiry if it is offline-signed.
    pub(crate) fn is_expired_at(&self, now_s: u64) -> bool {
        now_s >= self.expires_s()
            || self
                .offline_signature
                .as_ref()
                .is_some_and(|o| now_s >= u64::from(o.expires_s()))
    }
}

/// The bytes an entry's signature covers: its DatabaseStore type byte, then its bytes.
fn signed_message(store_type: u8, entry: &[u8]) -> Vec<u8> {
    let mut signed = Vec::with_capacity(1 + entry.len());
    signed.push(store_type);
    signed.extend_from_slice(entry);
    signed
}
