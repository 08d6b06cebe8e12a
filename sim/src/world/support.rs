//! Small pieces the world builds on: derived addresses, a hasher for router hashes, a
//! set of router indices.

use ramsons_router::data::{base64_encode, Mapping, RouterAddress};
use rand::RngCore;

/// An NTCP2-style address so RouterInfos have realistic sizes: host, port, static key
/// and IV, as a real router publishes them (the simulator does not run NTCP2).
pub(super) fn simulated_address(index: u32, rng: &mut impl RngCore) -> RouterAddress {
    let mut s = [0u8; 32];
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut s);
    rng.fill_bytes(&mut iv);
    // Every router in its own /16 (up to 57,000 routers), so the rule against two hops
    // from one /16 only bites where a scenario makes it.
    let host = format!(
        "{}.{}.{}.{}",
        1 + (index >> 8) % 223,
        index & 0xff,
        rng.next_u32() & 0xff,
        1 + rng.next_u32() % 254
    );
    let mut options = Mapping::new();
    for (k, v) in [
        ("host", host),
        ("port", (9000 + index % 20_000).to_string()),
        ("s", base64_encode(&s)),
        ("i", base64_encode(&iv)),
        ("v", "2".to_owned()),
    ] {
        options
            .insert(k, v)
            .expect("short address options fit a Mapping");
    }
    RouterAddress {
        cost: 3,
        expiration_ms: 0,
        transport: "NTCP2".to_owned(),
        options,
    }
}

/// Hashes router hashes by their first eight bytes. Router hashes are SHA-256 outputs, so
/// those bytes are already uniform; SipHash over all 32 was a visible share of the run
/// time. Only used for lookups, never iterated, so it cannot affect determinism.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct BuildHashPrefix;

impl std::hash::BuildHasher for BuildHashPrefix {
    type Hasher = HashPrefix;

    fn build_hasher(&self) -> HashPrefix {
        HashPrefix(0)
    }
}

#[derive(Debug)]
pub(super) struct HashPrefix(u64);

impl std::hash::Hasher for HashPrefix {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as its length, then its bytes: keep the first 8 bytes seen
        // after the length.
        for chunk in bytes.chunks(8).take(1) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    fn write_usize(&mut self, _length: usize) {}
}

/// A set of router indices with O(1) insert and remove.
#[derive(Debug, Default)]
pub(super) struct IndexSet {
    members: Vec<u32>,
    position: Vec<u32>,
}

impl IndexSet {
    const ABSENT: u32 = u32::MAX;

    pub(super) fn insert(&mut self, i: u32) {
        let slot = i as usize;
        if self.position.len() <= slot {
            self.position.resize(slot + 1, Self::ABSENT);
        }
        if self.position[slot] == Self::ABSENT {
            self.position[slot] = self.members.len() as u32;
            self.members.push(i);
        }
    }

    pub(super) fn remove(&mut self, i: u32) {
        let Some(&at) = self.position.get(i as usize) else {
            return;
        };
        if at == Self::ABSENT {
            return;
        }
        self.members.swap_remove(at as usize);
        if let Some(&moved) = self.members.get(at as usize) {
            self.position[moved as usize] = at;
        }
        self.position[i as usize] = Self::ABSENT;
    }

    pub(super) fn len(&self) -> usize {
        self.members.len()
    }

    pub(super) fn members(&self) -> &[u32] {
        &self.members
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_set_insert_and_remove() {
        let mut set = IndexSet::default();
        for i in [5, 1, 9, 3] {
            set.insert(i);
        }
        set.insert(5);
        assert_eq!(set.len(), 4);
        set.remove(1);
        set.remove(42);
        let mut members = set.members().to_vec();
        members.sort_unstable();
        assert_eq!(members, [3, 5, 9]);
    }
}
