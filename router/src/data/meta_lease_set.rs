//! MetaLeaseSet (spec: Common structures, MetaLease and MetaLeaseSet; proposal 123).

use super::lease_set::header::Header;
use super::offline_signature::OfflineSignature;
use super::reader::Reader;
use super::{DataError, Destination, Hash, Mapping};
use std::fmt;

/// One entry of a [`MetaLeaseSet`]: the netDb key of another LeaseSet of the service,
/// what kind of entry is stored there, its cost and when the entry stops being valid.
///
/// The same 40 bytes as a Lease2, with flags and cost in place of the tunnel id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetaLease {
    /// The hash the listed entry is stored under (for a LeaseSet2: its destination's).
    pub target: Hash,
    /// The 24 flag bits: bits 3-0 are the entry type ([`MetaLease::entry_type`]),
    /// bits 23-4 are reserved and kept as received.
    pub flags: u32,
    /// Lower is preferred.
    pub cost: u8,
    /// Seconds since the epoch.
    pub end_date_s: u32,
}

impl MetaLease {
    /// Encoded size: target 32, flags 3, cost 1, end date 4.
    pub const LEN: usize = 40;
    /// Entry type: not said.
    pub const TYPE_UNKNOWN: u8 = 0;
    /// Entry type: an old LeaseSet.
    pub const TYPE_LEASE_SET: u8 = 1;
    /// Entry type: a LeaseSet2.
    pub const TYPE_LEASE_SET2: u8 = 3;
    /// Entry type: another MetaLeaseSet (this is how meta LeaseSets nest).
    pub const TYPE_META_LEASE_SET: u8 = 5;

    /// An entry pointing at the LeaseSet2 of `target`, with no reserved bits set.
    pub fn lease_set2(target: Hash, cost: u8, end_date_s: u32) -> MetaLease {
        MetaLease {
            target,
            flags: u32::from(Self::TYPE_LEASE_SET2),
            cost,
            end_date_s,
        }
    }

    /// Flag bits 3-0: which kind of entry `target` holds.
    pub fn entry_type(&self) -> u8 {
        // The mask keeps 4 bits, so the cast cannot truncate.
        (self.flags & 0x0f) as u8
    }

    pub fn is_expired_at(&self, now_s: u64) -> bool {
        now_s >= u64::from(self.end_date_s)
    }

    fn read(r: &mut Reader<'_>) -> Result<MetaLease, DataError> {
        let target = Hash(r.array("meta lease: target")?);
        let [a, b, c] = r.array("meta lease: flags")?;
        Ok(MetaLease {
            target,
            flags: u32::from_be_bytes([0, a, b, c]),
            cost: r.u8("meta lease: cost")?,
            end_date_s: r.u32("meta lease: end date")?,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), DataError> {
        let [high, a, b, c] = self.flags.to_be_bytes();
        if high != 0 {
            return Err(DataError::Invalid {
                what: "meta lease: flags",
                reason: "the field has 24 bits",
            });
        }
        out.extend_from_slice(self.target.as_bytes());
        out.extend_from_slice(&[a, b, c, self.cost]);
        out.extend_from_slice(&self.end_date_s.to_be_bytes());
        Ok(())
    }
}

/// A destination's pointer to its other LeaseSets (DatabaseStore type 7): "to reach me,
/// look up one of these". Proposal 123 uses it for multihoming, where each router of a
/// service publishes the LeaseSet2 of its own destination and the service's destination
/// publishes a MetaLeaseSet listing them; a client looks up the meta entry, then one of
/// the entries it lists, cheapest first.
///
/// Stored under the destination's hash, like a LeaseSet2, and signed the same way (by
/// the destination or its transient key, over the bytes prepended with the type byte 7).
/// Always verified: it comes from [`MetaLeaseSet::parse`] or from signing with the
/// destination's keys (`crypto::DestinationKeys`). Keeps its exact signed bytes.
///
/// Revocations are the hashes of entries the destination withdrew; the spec leaves what
/// a reader does with them open, so they are carried, not acted on, here.
#[derive(Clone)]
pub struct MetaLeaseSet {
    bytes: Box<[u8]>,
    header: Header,
    options: Mapping,
    entries: Vec<MetaLease>,
    revocations: Vec<Hash>,
}

/// Everything a MetaLeaseSet says, before it is signed ([`MetaLeaseSet::sign_with`]).
#[derive(Debug, Clone)]
pub(crate) struct UnsignedMetaLeaseSet {
    pub destination: Destination,
    /// Seconds since the epoch.
    pub published_s: u32,
    /// Seconds after `published_s` at which the MetaLeaseSet expires.
    pub expires_offset_s: u16,
    /// Must not have the offline-keys bit: signing with offline keys is not implemented.
    pub flags: u16,
    pub options: Mapping,
    /// At least one, at most 255.
    pub entries: Vec<MetaLease>,
    /// At most 255.
    pub revocations: Vec<Hash>,
}

impl MetaLeaseSet {
    /// The DatabaseStore type of a MetaLeaseSet, also the first byte of the signed data.
    pub const STORE_TYPE: u8 = 7;

    /// Parses exactly one MetaLeaseSet filling `bytes` (without the DatabaseStore type
    /// byte) and verifies its signature. Fails on zero entries ("1 <= num"; the maximum
    /// is left open by the spec, so the 1-byte count bounds it) and on a bad signature.
    pub fn parse(bytes: &[u8]) -> Result<MetaLeaseSet, DataError> {
        let mut r = Reader::new(bytes);
        let start = r.position();
        let header = Header::read(&mut r)?;
        let options = Mapping::read(&mut r)?;
        let count = r.u8("meta lease set: entry count")?;
        entry_count_byte(usize::from(count))?;
        let entries = (0..count)
            .map(|_| MetaLease::read(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        let revoked = r.u8("meta lease set: revocation count")?;
        let revocations = (0..revoked)
            .map(|_| r.array("meta lease set: revocation").map(Hash))
            .collect::<Result<Vec<_>, _>>()?;
        let unsigned = r.since(start);
        header.read_and_verify_signature(&mut r, Self::STORE_TYPE, unsigned)?;
        r.finish("meta lease set")?;
        Ok(MetaLeaseSet {
            bytes: bytes.into(),
            header,
            options,
            entries,
            revocations,
        })
    }

    /// Builds a MetaLeaseSet signed by `sign`, which must sign with the private key of
    /// `unsigned.destination`. Crate-visible so that only `crypto::DestinationKeys`
    /// creates them.
    pub(crate) fn sign_with(
        unsigned: UnsignedMetaLeaseSet,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<MetaLeaseSet, DataError> {
        let UnsignedMetaLeaseSet {
            destination,
            published_s,
            expires_offset_s,
            flags,
            options,
            entries,
            revocations,
        } = unsigned;
        let header = Header::for_signing(
            destination,
            published_s,
            expires_offset_s,
            flags,
            "meta lease set: flags",
        )?;
        let count = entry_count_byte(entries.len())?;
        let revoked = u8::try_from(revocations.len()).map_err(|_| DataError::TooLarge {
            what: "meta lease set: revocations",
            max: usize::from(u8::MAX),
            actual: revocations.len(),
        })?;
        let mut bytes = Vec::with_capacity(
            header.encoded_len()
                + options.encoded_len()
                + 2
                + entries.len() * MetaLease::LEN
                + revocations.len() * 32
                + header.destination.signature_len(),
        );
        header.emit(&mut bytes);
        options.emit(&mut bytes);
        bytes.push(count);
        for entry in &entries {
            entry.emit(&mut bytes)?;
        }
        bytes.push(revoked);
        for hash in &revocations {
            bytes.extend_from_slice(hash.as_bytes());
        }
        header.append_signature(Self::STORE_TYPE, &mut bytes, sign);
        Ok(MetaLeaseSet {
            bytes: bytes.into(),
            header,
            options,
            entries,
            revocations,
        })
    }

    pub fn destination(&self) -> &Destination {
        &self.header.destination
    }

    /// The destination's hash: the netDb key a MetaLeaseSet is stored under.
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// Seconds since the epoch; a newer entry replaces an older one in the netDb.
    pub fn published_s(&self) -> u32 {
        self.header.published_s
    }

    /// Seconds after [`MetaLeaseSet::published_s`] at which it expires (the header field).
    pub fn expires_offset_s(&self) -> u16 {
        self.header.expires_offset_s
    }

    /// Seconds since the epoch: published + the header's expires offset.
    pub fn expires_s(&self) -> u64 {
        self.header.expires_s()
    }

    /// Flag bit 1: not to be flooded or given out in lookup replies.
    pub fn is_unpublished(&self) -> bool {
        self.header.is_unpublished()
    }

    /// The verified offline signature block, if flag bit 0 is set.
    pub fn offline_signature(&self) -> Option<&OfflineSignature> {
        self.header.offline_signature.as_ref()
    }

    /// Past its expiry, or past its transient key's expiry if it is offline-signed.
    pub fn is_expired_at(&self, now_s: u64) -> bool {
        self.header.is_expired_at(now_s)
    }

    pub fn options(&self) -> &Mapping {
        &self.options
    }

    /// The entries in the order signed.
    pub fn entries(&self) -> &[MetaLease] {
        &self.entries
    }

    /// The LeaseSet2 entries still valid at `now_s`, cheapest first (ties keep the
    /// signed order, so every reader ranks them alike): the order a client tries them.
    pub fn lease_set2_targets(&self, now_s: u64) -> Vec<MetaLease> {
        let mut live: Vec<MetaLease> = self
            .entries
            .iter()
            .filter(|e| e.entry_type() == MetaLease::TYPE_LEASE_SET2 && !e.is_expired_at(now_s))
            .copied()
            .collect();
        live.sort_by_key(|e| e.cost);
        live
    }

    /// Hashes of withdrawn entries.
    pub fn revocations(&self) -> &[Hash] {
        &self.revocations
    }

    /// The exact signed serialization (signature included, no DatabaseStore type byte).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Checks `num` (at least one entry; the 1-byte field bounds the rest) and returns it as
/// its byte.
fn entry_count_byte(count: usize) -> Result<u8, DataError> {
    if count == 0 {
        return Err(DataError::Invalid {
            what: "meta lease set: entries",
            reason: "at least one entry is required",
        });
    }
    u8::try_from(count).map_err(|_| DataError::TooLarge {
        what: "meta lease set: entries",
        max: usize::from(u8::MAX),
        actual: count,
    })
}

/// Two MetaLeaseSets are equal when their signed bytes are.
impl PartialEq for MetaLeaseSet {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for MetaLeaseSet {}

impl fmt::Debug for MetaLeaseSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaLeaseSet")
            .field("hash", &self.hash())
            .field("published_s", &self.header.published_s)
            .field("expires_s", &self.expires_s())
            .field("entries", &self.entries.len())
            .field("revocations", &self.revocations.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::strategies::{
        arb_meta_lease_set, destination_from, mutated, sign_test_meta_lease_set,
    };
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    const PUBLISHED: u32 = 1_700_000_000;

    fn sign(seed: u8, entries: Vec<MetaLease>, revocations: Vec<Hash>) -> MetaLeaseSet {
        sign_test_meta_lease_set(seed, PUBLISHED, entries, revocations)
    }

    fn entry(i: u8, cost: u8) -> MetaLease {
        MetaLease::lease_set2(Hash([i; 32]), cost, PUBLISHED + 600)
    }

    #[test]
    fn layout_matches_spec() {
        let meta = sign(3, vec![entry(1, 5)], vec![Hash([9; 32])]);
        let bytes = meta.as_bytes();
        let dest = meta.destination().as_bytes().len();
        assert_eq!(&bytes[dest..dest + 4], &PUBLISHED.to_be_bytes());
        assert_eq!(&bytes[dest + 4..dest + 6], &3600u16.to_be_bytes());
        assert_eq!(&bytes[dest + 6..dest + 8], &[0, 0]); // flags
        assert_eq!(&bytes[dest + 8..dest + 10], &[0, 0]); // empty options
        let body = dest + 10;
        assert_eq!(bytes[body], 1); // num
        assert_eq!(&bytes[body + 1..body + 33], &[1; 32]);
        assert_eq!(&bytes[body + 33..body + 36], &[0, 0, 3]); // flags: type 3
        assert_eq!(bytes[body + 36], 5); // cost
        assert_eq!(
            &bytes[body + 37..body + 41],
            &(PUBLISHED + 600).to_be_bytes()
        );
        assert_eq!(bytes[body + 41], 1); // numr
        assert_eq!(&bytes[body + 42..body + 74], &[9; 32]);
        assert_eq!(bytes.len(), body + 74 + 64);

        // Signed over the type byte 7 and the bytes: not a LeaseSet2's signature.
        let signing = SigningKey::from_bytes(&[3; 32]);
        let mut signed = vec![MetaLeaseSet::STORE_TYPE];
        signed.extend_from_slice(&bytes[..bytes.len() - 64]);
        assert_eq!(
            &bytes[bytes.len() - 64..],
            &signing.sign(&signed).to_bytes()
        );
    }

    #[test]
    fn parses_what_it_signs() {
        let meta = sign(4, vec![entry(1, 9), entry(2, 1)], vec![]);
        let parsed = MetaLeaseSet::parse(meta.as_bytes()).unwrap();
        assert_eq!(parsed, meta);
        assert_eq!(parsed.entries(), meta.entries());
        assert_eq!(parsed.hash(), meta.destination().hash());
        assert_eq!(parsed.expires_s(), u64::from(PUBLISHED) + 3600);
    }

    #[test]
    fn every_tampered_byte_is_refused() {
        let meta = sign(5, vec![entry(1, 0)], vec![Hash([7; 32])]);
        let bytes = meta.as_bytes();
        for i in 0..bytes.len() {
            let mut bad = bytes.to_vec();
            bad[i] ^= 0x01;
            assert!(MetaLeaseSet::parse(&bad).is_err(), "byte {i} flipped");
        }
        assert!(MetaLeaseSet::parse(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(matches!(
            MetaLeaseSet::parse(&longer),
            Err(DataError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn needs_an_entry_and_24_bit_flags() {
        let signing = SigningKey::from_bytes(&[8; 32]);
        let unsigned = |entries| UnsignedMetaLeaseSet {
            destination: destination_from(&signing, [8; 32]),
            published_s: PUBLISHED,
            expires_offset_s: 600,
            flags: 0,
            options: Mapping::new(),
            entries,
            revocations: vec![],
        };
        let sign = |msg: &[u8]| signing.sign(msg).to_bytes();
        assert!(matches!(
            MetaLeaseSet::sign_with(unsigned(vec![]), sign),
            Err(DataError::Invalid { .. })
        ));
        let mut wide = entry(1, 0);
        wide.flags = 1 << 24;
        assert!(MetaLeaseSet::sign_with(unsigned(vec![wide]), sign).is_err());
        let mut offline = unsigned(vec![entry(1, 0)]);
        offline.flags = Header::FLAG_OFFLINE_KEYS;
        assert!(MetaLeaseSet::sign_with(offline, sign).is_err());
    }

    #[test]
    fn targets_are_live_lease_sets_cheapest_first() {
        let mut expired = entry(4, 0);
        expired.end_date_s = PUBLISHED;
        let mut nested = entry(5, 0);
        nested.flags = u32::from(MetaLease::TYPE_META_LEASE_SET);
        let meta = sign(
            9,
            vec![entry(1, 7), expired, entry(2, 3), nested, entry(3, 3)],
            vec![],
        );
        let order: Vec<u8> = meta
            .lease_set2_targets(u64::from(PUBLISHED) + 1)
            .iter()
            .map(|e| e.target.0[0])
            .collect();
        assert_eq!(order, vec![2, 3, 1]);
    }

    proptest! {
        #[test]
        fn round_trips(meta in arb_meta_lease_set()) {
            let parsed = MetaLeaseSet::parse(meta.as_bytes()).unwrap();
            prop_assert_eq!(parsed.entries(), meta.entries());
            prop_assert_eq!(parsed.revocations(), meta.revocations());
            prop_assert_eq!(parsed, meta);
        }

        #[test]
        fn parsing_mutations_never_panics(edits in mutated(sign(2, vec![entry(1, 0)], vec![]).as_bytes().to_vec())) {
            let _ = MetaLeaseSet::parse(&edits);
        }

        #[test]
        fn parsing_noise_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = MetaLeaseSet::parse(&bytes);
        }
    }
}
