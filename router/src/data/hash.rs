//! Hash: the SHA-256 that names routers and destinations in the netDb.

use super::{base32_encode, base64_decode, base64_encode, DataError};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// A 32-byte SHA-256 digest (spec: Common structures, Hash).
///
/// Router and destination "real" hashes are the SHA-256 of their identity bytes; the
/// netDb's routing keys are also `Hash`es. `Ord` is big-endian byte order, which is the
/// order of XOR distances when comparing distances to one key.
#[derive(Clone, Copy, PartialEq, Eq, std::hash::Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The hash as four big-endian words: comparing them is comparing the bytes.
    fn words(&self) -> [u64; 4] {
        std::array::from_fn(|i| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&self.0[i * 8..i * 8 + 8]);
            u64::from_be_bytes(word)
        })
    }
}

/// Byte order, compared a word at a time: netDb tables are ordered maps keyed by hash,
/// and a `memcmp` call per comparison showed in profiles.
impl Ord for Hash {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.words().cmp(&other.words())
    }
}

impl PartialOrd for Hash {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash {
    /// All zeroes: in a DatabaseLookup exclude list it asks for non-floodfills only.
    pub const ZERO: Hash = Hash([0; 32]);

    /// SHA-256 of `data`.
    pub fn digest(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads a hash from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Hash, DataError> {
        <[u8; 32]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| DataError::Invalid {
                what: "hash",
                reason: "must be exactly 32 bytes",
            })
    }

    /// The bytewise XOR, i.e. the Kademlia distance between two keys.
    pub fn xor(&self, other: &Hash) -> Hash {
        let mut out = [0u8; 32];
        for (o, (a, b)) in out.iter_mut().zip(self.0.iter().zip(other.0.iter())) {
            *o = a ^ b;
        }
        Hash(out)
    }

    /// 44 characters of I2P base64 (with one `=`), as router hashes are shown in I2P.
    pub fn to_base64(&self) -> String {
        base64_encode(&self.0)
    }

    pub fn from_base64(s: &str) -> Result<Hash, DataError> {
        let bytes = base64_decode(s)?;
        Hash::from_slice(&bytes)
    }

    /// 52 lowercase characters: the label of a `.b32.i2p` address (suffix not included).
    pub fn to_base32(&self) -> String {
        base32_encode(&self.0)
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Hash {
        Hash(bytes)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl FromStr for Hash {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Hash, DataError> {
        Hash::from_base64(s)
    }
}

/// Short form (first 6 base64 characters), like router consoles show hashes in logs.
impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = self.to_base64();
        f.write_str(full.get(..6).unwrap_or(&full))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn hash_order_is_byte_order(a in proptest::prelude::any::<[u8; 32]>(), b in proptest::prelude::any::<[u8; 32]>()) {
            proptest::prop_assert_eq!(Hash(a).cmp(&Hash(b)), a.cmp(&b));
        }
    }
    use proptest::prelude::*;

    #[test]
    fn sha256_of_empty_in_both_encodings() {
        let h = Hash::digest(b"");
        // Standard base64 is 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= ; I2P swaps + and /.
        assert_eq!(
            h.to_base64(),
            "47DEQpj8HBSa-~TImW-5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            h.to_base32(),
            "4oymiquy7qobjgx36tejs35zeqt24qpemsnzgtfeswmrw6csxbkq"
        );
        assert_eq!(format!("{h:?}"), "47DEQp");
        assert_eq!(format!("{h}"), h.to_base64());
        assert_eq!(Hash::from_base64(&h.to_base64()), Ok(h));
        assert_eq!(h.to_base32().len(), 52);
    }

    #[test]
    fn from_base64_rejects_wrong_lengths() {
        assert!(Hash::from_base64("AAAA").is_err());
        assert!(Hash::from_base64("").is_err());
    }

    proptest! {
        #[test]
        fn base64_round_trip(bytes in any::<[u8; 32]>()) {
            let h = Hash(bytes);
            prop_assert_eq!(Hash::from_base64(&h.to_base64())?, h);
            prop_assert_eq!(h.to_string().parse::<Hash>()?, h);
            prop_assert_eq!(h.xor(&h), Hash::ZERO);
        }
    }
}
