//! The parts of a LeaseSet2 body: Lease2 and its encryption keys (spec: Common
//! structures, Lease2 and LeaseSet2; proposal 123).

use super::reader::Reader;
use super::{DataError, Hash, KeyCertificate, TunnelId};

/// One inbound tunnel a destination can be reached through: the gateway router's hash,
/// the tunnel id at that gateway, and when the tunnel expires.
///
/// The LeaseSet2 form: 40 bytes, its end date in seconds (the old Lease's 8-byte
/// millisecond date was trimmed to reduce fingerprinting; it rolls over in 2106).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lease2 {
    pub gateway: Hash,
    pub tunnel_id: TunnelId,
    /// Seconds since the epoch.
    pub end_date_s: u32,
}

impl Lease2 {
    /// Encoded size: gateway hash 32, tunnel id 4, end date 4.
    pub const LEN: usize = 40;

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Lease2, DataError> {
        Ok(Lease2 {
            gateway: Hash(r.array("lease2: gateway")?),
            tunnel_id: TunnelId(r.u32("lease2: tunnel id")?),
            end_date_s: r.u32("lease2: end date")?,
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.gateway.as_bytes());
        out.extend_from_slice(&self.tunnel_id.0.to_be_bytes());
        out.extend_from_slice(&self.end_date_s.to_be_bytes());
    }

    /// Whether the tunnel has expired at `now_s` (seconds since the epoch).
    pub fn is_expired_at(&self, now_s: u64) -> bool {
        now_s >= u64::from(self.end_date_s)
    }
}

/// One encryption public key a LeaseSet2 offers, most preferred first.
///
/// The type is the crypto type of the key certificate table (4 = X25519, the ECIES
/// ratchet); the key is carried with an explicit length so that floodfills can verify
/// LeaseSets whose key types they do not know. Lengths are checked for the types the
/// specification lists (0-4); other types keep whatever length they declare.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EncryptionKey {
    pub crypto_type: u16,
    pub key: Vec<u8>,
}

impl EncryptionKey {
    /// An X25519 key (type 4), what ECIES-X25519-AEAD-Ratchet destinations publish.
    pub fn x25519(key: [u8; 32]) -> EncryptionKey {
        EncryptionKey {
            crypto_type: KeyCertificate::CRYPTO_X25519,
            key: key.to_vec(),
        }
    }

    /// The length the specification gives type `crypto_type`: ElGamal, the reserved
    /// P256/P384/P521 and X25519. `None` for types it does not list.
    fn specified_len(crypto_type: u16) -> Option<usize> {
        match crypto_type {
            0 => Some(256),
            1 => Some(64),
            2 => Some(96),
            3 => Some(132),
            4 => Some(32),
            _ => None,
        }
    }

    /// Refuses a key whose length contradicts its type ("must match the specified length
    /// of the encryption type").
    fn check(crypto_type: u16, len: usize) -> Result<(), DataError> {
        match Self::specified_len(crypto_type) {
            Some(expected) if expected != len => Err(DataError::Invalid {
                what: "lease set 2: encryption key",
                reason: "length does not match its crypto type",
            }),
            _ => Ok(()),
        }
    }

    /// Type (2 bytes), length (2 bytes), key.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<EncryptionKey, DataError> {
        let crypto_type = r.u16("lease set 2: encryption key type")?;
        let len = usize::from(r.u16("lease set 2: encryption key length")?);
        Self::check(crypto_type, len)?;
        let key = r.take(len, "lease set 2: encryption key")?.to_vec();
        Ok(EncryptionKey { crypto_type, key })
    }

    /// Fails on a length that contradicts the type or does not fit the 2-byte field.
    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), DataError> {
        Self::check(self.crypto_type, self.key.len())?;
        let len = u16::try_from(self.key.len()).map_err(|_| DataError::TooLarge {
            what: "lease set 2: encryption key",
            max: usize::from(u16::MAX),
            actual: self.key.len(),
        })?;
        out.extend_from_slice(&self.crypto_type.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.key);
        Ok(())
    }

    pub(crate) fn encoded_len(&self) -> usize {
        4 + self.key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lease2_layout() {
        let lease = Lease2 {
            gateway: Hash([7; 32]),
            tunnel_id: TunnelId(0x0102_0304),
            end_date_s: 0x0a0b_0c0d,
        };
        let mut out = Vec::new();
        lease.emit(&mut out);
        assert_eq!(out.len(), Lease2::LEN);
        assert_eq!(&out[..32], &[7; 32]);
        assert_eq!(&out[32..], &[1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d]);
        assert_eq!(Lease2::read(&mut Reader::new(&out)), Ok(lease));
        assert!(!lease.is_expired_at(0x0a0b_0c0c));
        assert!(lease.is_expired_at(0x0a0b_0c0d));
    }

    #[test]
    fn key_lengths_follow_their_type() {
        let mut out = Vec::new();
        EncryptionKey::x25519([9; 32])
            .emit(&mut out)
            .expect("valid X25519 key");
        assert_eq!(&out[..4], &[0, 4, 0, 32]);
        assert_eq!(out.len(), EncryptionKey::x25519([9; 32]).encoded_len());

        let short = EncryptionKey {
            crypto_type: 4,
            key: vec![0; 31],
        };
        assert!(short.emit(&mut Vec::new()).is_err());
        assert!(EncryptionKey::read(&mut Reader::new(&[0, 4, 0, 31])).is_err());
        assert!(EncryptionKey::read(&mut Reader::new(&[0, 0, 0, 32])).is_err());

        // A type the specification does not list keeps its declared length.
        let future = [0x12, 0x34, 0, 3, 1, 2, 3];
        assert_eq!(
            EncryptionKey::read(&mut Reader::new(&future)),
            Ok(EncryptionKey {
                crypto_type: 0x1234,
                key: vec![1, 2, 3]
            })
        );
    }

    proptest! {
        #[test]
        fn key_round_trip(crypto_type in 5u16.., key in proptest::collection::vec(any::<u8>(), 0..300)) {
            let key = EncryptionKey { crypto_type, key };
            let mut out = Vec::new();
            key.emit(&mut out)?;
            prop_assert_eq!(EncryptionKey::read(&mut Reader::new(&out))?, key);
        }
    }
}
