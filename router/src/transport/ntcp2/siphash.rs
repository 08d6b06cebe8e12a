//! SipHash-2-4 and the chained mask NTCP2 XORs over each data-phase frame length
//! (spec: NTCP2, "SipHash obfuscated length").
//!
//! SipHash is written out here (from the SipHash paper, Aumasson and Bernstein 2012)
//! rather than taken from the `siphasher` crate: it is 40 lines, NTCP2 only ever hashes
//! one 8-byte IV, and the tests pin it to the paper's vectors and to the standard
//! library's (deprecated but still shipped) SipHash-2-4, so a dependency would buy
//! nothing but another crate to audit.

/// One SipRound on the four state words.
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-2-4 of `data` under the key `(k0, k1)` (the 16 key bytes read as two
/// little-endian words).
pub(crate) fn siphash24(k0: u64, k1: u64, data: &[u8]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let compress = |v: &mut [u64; 4], m: u64| {
        v[3] ^= m;
        sip_round(v);
        sip_round(v);
        v[0] ^= m;
    };
    let mut words = data.chunks_exact(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        compress(&mut v, u64::from_le_bytes(bytes));
    }
    // The last word: the remaining bytes, zero-filled, with the length mod 256 on top.
    let rest = words.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    last[7] = data.len() as u8;
    compress(&mut v, u64::from_le_bytes(last));
    v[2] ^= 0xff;
    for _ in 0..4 {
        sip_round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// One direction's length mask: `IV[n] = SipHash-2-4(k1, k2, IV[n-1])`, and frame `n`'s
/// length, as a 16-bit number, is XORed with the hash output's 16 least significant bits
/// (the spec's note for a SipHash returning an integer; its "first 2 bytes of IV[n]" are
/// those bits as little-endian bytes, not a big-endian number to XOR byte by byte over the
/// big-endian length). The next IV is the output as little-endian bytes.
#[derive(Clone)]
pub(crate) struct LengthMask {
    k0: u64,
    k1: u64,
    iv: [u8; 8],
}

impl LengthMask {
    /// From the 32 bytes of `sipkeys_ab` or `sipkeys_ba`: k1, k2 and the first IV, 8 bytes
    /// each; the last 8 bytes are unused.
    pub(crate) fn new(sipkeys: &[u8; 32]) -> LengthMask {
        let word = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&sipkeys[at..at + 8]);
            bytes
        };
        LengthMask {
            k0: u64::from_le_bytes(word(0)),
            k1: u64::from_le_bytes(word(8)),
            iv: word(16),
        }
    }

    /// Advances to the next IV and returns the mask for the next frame's big-endian length.
    pub(crate) fn next_mask(&mut self) -> u16 {
        let hash = siphash24(self.k0, self.k1, &self.iv);
        self.iv = hash.to_le_bytes();
        hash as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The paper's key: bytes 00..0f.
    const K0: u64 = 0x0706_0504_0302_0100;
    const K1: u64 = 0x0f0e_0d0c_0b0a_0908;

    fn counting(len: u8) -> Vec<u8> {
        (0..len).collect()
    }

    #[test]
    fn paper_vectors() {
        // Appendix A of the paper: the 15-byte message 00..0e.
        assert_eq!(siphash24(K0, K1, &counting(15)), 0xa129_ca61_49be_45e5);
        // The reference implementation's vector table, entries 0 and 1.
        assert_eq!(siphash24(K0, K1, &[]), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash24(K0, K1, &counting(1)), 0x74f8_39c5_93dc_67fd);
    }

    proptest! {
        #[test]
        #[allow(deprecated)] // std's SipHasher is SipHash-2-4, kept only as a second opinion.
        fn matches_std_siphasher(k0 in any::<u64>(), k1 in any::<u64>(), data in any::<Vec<u8>>()) {
            use std::hash::{Hasher, SipHasher};
            let mut std = SipHasher::new_with_keys(k0, k1);
            std.write(&data);
            prop_assert_eq!(siphash24(k0, k1, &data), std.finish());
        }
    }

    #[test]
    fn mask_chains_through_the_iv() {
        let mut keys = [0u8; 32];
        keys[..16].copy_from_slice(&counting(16));
        keys[16..24].copy_from_slice(&[9; 8]);
        let mut mask = LengthMask::new(&keys);
        let first = siphash24(K0, K1, &[9; 8]);
        assert_eq!(mask.next_mask(), (first & 0xffff) as u16);
        let second = siphash24(K0, K1, &first.to_le_bytes());
        assert_eq!(mask.next_mask(), (second & 0xffff) as u16);
        // On the wire: the big-endian length XOR that number, so the length's high byte
        // meets the hash's second byte.
        let wire = (0x0102 ^ mask.next_mask()).to_be_bytes();
        let third = siphash24(K0, K1, &second.to_le_bytes()).to_le_bytes();
        assert_eq!(wire, [0x01 ^ third[1], 0x02 ^ third[0]]);
    }
}
