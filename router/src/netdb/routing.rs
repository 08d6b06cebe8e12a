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

/// XOR distance between a routing key and a peer hash, as four big-endian 64-bit words:
/// comparing the arrays orders the distances as 256-bit numbers, in four word compares.
pub type Distance = [u64; 4];

pub fn distance(routing_key: &Hash, peer: &Hash) -> Distance {
    let word = |bytes: &[u8; 32], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        u64::from_be_bytes(w)
    };
    let (a, b) = (routing_key.as_bytes(), peer.as_bytes());
    std::array::from_fn(|i| word(a, i) ^ word(b, i))
}

/// The `n` hashes closest to `routing_key`, nearest first.
///
/// A bounded insertion into a small sorted vector: `n` is 1 to 16 in every caller,
/// so this beats sorting the whole candidate set.
pub fn closest<'a>(
    routing_key: &Hash,
    candidates: impl IntoIterator<Item = &'a Hash>,
    n: usize,
) -> Vec<Hash> {
    if n == 0 {
        return Vec::new();
    }
    let mut best: Vec<(Distance, Hash)> = Vec::with_capacity(n + 1);
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

/// The `n` closest hashes among a *sorted* collection of `total` hashes, visiting only a
/// small range of it.
///
/// Every hash that shares the first `bits` bits of `routing_key` is closer than every
/// hash that does not, and those hashes form one contiguous range in sorted order. So
/// once the range for some prefix length holds `n` candidates, the answer lies in it.
/// The search starts at the prefix length where uniformly spread hashes would fill the
/// range about twice over, and widens one bit at a time. `range(lo, hi)` yields the
/// candidates (already filtered) between `lo` and `hi` inclusive.
pub fn closest_sorted<'a, I>(
    routing_key: &Hash,
    n: usize,
    total: usize,
    mut range: impl FnMut(Hash, Hash) -> I,
) -> Vec<Hash>
where
    I: Iterator<Item = &'a Hash>,
{
    if n == 0 || total == 0 {
        return Vec::new();
    }
    let ratio = total as f64 / (2 * n) as f64;
    let mut bits = if ratio > 1.0 { ratio.log2() as u32 } else { 0 };
    loop {
        let (lo, hi) = prefix_range(routing_key, bits);
        let found = closest(routing_key, range(lo, hi), n);
        if found.len() >= n || bits == 0 {
            return found;
        }
        bits -= 1;
    }
}

/// The smallest and largest hashes sharing the first `bits` bits of `key`.
fn prefix_range(key: &Hash, bits: u32) -> (Hash, Hash) {
    let mut lo = *key.as_bytes();
    let mut hi = *key.as_bytes();
    for bit in bits.min(256)..256 {
        let (byte, mask) = ((bit / 8) as usize, 0x80u8 >> (bit % 8));
        lo[byte] &= !mask;
        hi[byte] |= mask;
    }
    (Hash(lo), Hash(hi))
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
            prop_assert_eq!(closest(&target, &peers, n), sorted.clone());
            let set: std::collections::BTreeSet<Hash> = peers.iter().copied().collect();
            let ranged = closest_sorted(&target, n, set.len(), |lo, hi| set.range(lo..=hi));
            prop_assert_eq!(ranged, sorted);
        }

        #[test]
        fn closest_sorted_finds_clustered_keys(
            target in any::<[u8; 32]>(),
            near in proptest::collection::btree_set(any::<u8>(), 1..8),
            far in proptest::collection::btree_set(any::<[u8; 32]>(), 0..200),
            n in 1usize..6,
        ) {
            // A few hashes sharing 31 bytes with the target (a Sybil cluster) among many.
            let target = Hash(target);
            let mut set: std::collections::BTreeSet<Hash> = far.into_iter().map(Hash).collect();
            for last in near {
                let mut h = *target.as_bytes();
                h[31] = last;
                set.insert(Hash(h));
            }
            let all: Vec<Hash> = set.iter().copied().collect();
            let ranged = closest_sorted(&target, n, set.len(), |lo, hi| set.range(lo..=hi));
            prop_assert_eq!(ranged, closest(&target, &all, n));
        }
    }

    #[test]
    fn prefix_ranges_bound_the_shared_prefix() {
        let key = Hash([0b1010_1010; 32]);
        let (lo, hi) = prefix_range(&key, 4);
        assert_eq!(lo.as_bytes()[0], 0b1010_0000);
        assert_eq!(hi.as_bytes()[0], 0b1010_1111);
        assert_eq!(lo.as_bytes()[31], 0);
        assert_eq!(hi.as_bytes()[31], 0xff);
        assert_eq!(prefix_range(&key, 256), (key, key));
    }
}
