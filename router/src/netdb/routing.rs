//! Routing keys and Kademlia XOR closeness.
//!
//! The netDb does not place an entry by its own hash but by its *routing key*,
//! `SHA-256(key ‖ "yyyyMMdd")` for the current UTC date. The routing key rotates at UTC
//! midnight, which moves every entry to a new place in the keyspace each day, so that an
//! adversary cannot park floodfills next to a target forever: it must recompute (and
//! regenerate identities) daily. Closeness is the XOR of the routing key and a peer's
//! (unrotated) router hash, compared as a 256-bit big-endian number.

use crate::data::Hash;
use crate::time::Instant;
use sha2::{Digest, Sha256};

/// The routing key of `key` on the UTC day containing `now`.
pub fn routing_key(key: &Hash, now: Instant) -> Hash {
    routing_key_for_date(key, &now.utc_date_string())
}

/// The routing key of `key` for an explicit `yyyyMMdd` date.
pub fn routing_key_for_date(key: &Hash, date: &str) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(key.as_bytes());
    hasher.update(date.as_bytes());
    Hash(hasher.finalize().into())
}

/// XOR distance between a routing key and a peer hash. Ordering the arrays
/// lexicographically orders the distances as 256-bit numbers.
pub type Distance = [u8; 32];

pub fn distance(routing_key: &Hash, peer: &Hash) -> Distance {
    let mut d = [0u8; 32];
    for (out, (a, b)) in d
        .iter_mut()
        .zip(routing_key.as_bytes().iter().zip(peer.as_bytes()))
    {
        *out = a ^ b;
    }
    d
}

/// The `n` hashes closest to `routing_key`, nearest first.
///
/// A bounded insertion into a small sorted vector: `n` is 3 to 16 in every caller,
/// so this beats sorting the whole candidate set.
pub fn closest<'a>(
    routing_key: &Hash,
    candidates: impl IntoIterator<Item = &'a Hash>,
    n: usize,
) -> Vec<Hash> {
    let mut best: Vec<(Distance, Hash)> = Vec::with_capacity(n + 1);
    if n == 0 {
        return Vec::new();
    }
    for peer in candidates {
        let d = distance(routing_key, peer);
        if best.len() == n && best.last().is_some_and(|(worst, _)| d >= *worst) {
            continue;
        }
        let at = best.partition_point(|(other, _)| *other < d);
        best.insert(at, (d, *peer));
        best.truncate(n);
    }
    best.into_iter().map(|(_, h)| h).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hash(byte: u8) -> Hash {
        Hash([byte; 32])
    }

    #[test]
    fn routing_key_is_sha256_of_key_and_date() {
        let key = hash(7);
        let mut input = key.as_bytes().to_vec();
        input.extend_from_slice(b"20261121");
        let expected = Hash(Sha256::digest(&input).into());
        assert_eq!(routing_key_for_date(&key, "20261121"), expected);
        assert_eq!(
            routing_key(&key, Instant::from_secs(1_795_305_599)),
            expected
        );
    }

    #[test]
    fn routing_key_rotates_at_utc_midnight() {
        let key = hash(1);
        let before = Instant::from_secs(1_795_305_599);
        let after = Instant::from_secs(1_795_305_600);
        assert_ne!(routing_key(&key, before), routing_key(&key, after));
        assert_eq!(
            routing_key(&key, after),
            routing_key(&key, after + std::time::Duration::from_secs(86_399))
        );
    }

    proptest! {
        #[test]
        fn closest_matches_a_full_sort(
            target in any::<[u8; 32]>(),
            peers in proptest::collection::btree_set(any::<[u8; 32]>(), 0..64),
            n in 0usize..8,
        ) {
            let target = Hash(target);
            let peers: Vec<Hash> = peers.into_iter().map(Hash).collect();
            let mut sorted = peers.clone();
            sorted.sort_by_key(|p| distance(&target, p));
            sorted.truncate(n);
            prop_assert_eq!(closest(&target, &peers, n), sorted);
        }
    }
}
