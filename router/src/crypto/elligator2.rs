//! Elligator2 for Curve25519: X25519 public keys that look like 32 random bytes on the wire
//! (spec: ecies, "2a) Elligator2"; Bernstein, Hamburg, Krasnova, Lange, "Elligator:
//! Elliptic-curve points indistinguishable from uniform random strings", section 5).
//!
//! ECIES-X25519-AEAD-Ratchet sends the ephemeral keys of New Session and New Session Reply
//! messages as their Elligator2 *representative*, so that an observer cannot tell them from
//! the random-looking session tags of Existing Session messages. A representative is a
//! field element `r` in `0..=(p-1)/2`; the map sends it to the curve point with
//!
//! ```text
//! w = -A / (1 + 2 r²)        u = w if w³ + A w² + w is a square, else u = -w - A
//! ```
//!
//! (`A = 486662`, `2` is the non-square). About half of all points have a representative:
//! those `u` with `u ≠ 0, -A` and `-2u(u+A)` a square. Each such `u` has two, `√(-u / (2(u+A)))`
//! and `√(-(u+A) / (2u))` (the "alternative" of Java I2P's implementation), each taken as
//! the root in `0..=(p-1)/2`. Since a representative has only 254 bits, the encoder ORs
//! two random bits into the top of byte 31 and the decoder masks them off (`& 0x3f`).
//!
//! # What goes into the protocol
//!
//! The representative goes on the wire; the *point* goes into everything else: the Noise
//! handshake hash mixes the public key (`MixHash(aepk)`, where `aepk` is the key "as
//! decoded by Bob"), and the DH uses it. So does ramsons, and so do i2pd and Java I2P.
//!
//! # Keys that are uniform, not only encodable
//!
//! An honest X25519 public key lies in the prime-order subgroup, which is an eighth of the
//! curve. Elligator2 maps representatives onto the *whole* curve, so an observer who decodes
//! a representative and finds the point in the subgroup again and again knows that these
//! are not random strings. [`generate`] therefore adds a random point of small order to the
//! public key ("dirty" key). X25519 clamps scalars to multiples of 8, which removes that
//! component in every Diffie-Hellman: the shared secrets are those of the clean key, and
//! the peer, which simply uses the decoded point, needs to know nothing about it. The
//! "alternative" root is also chosen at random: always taking the same one would leave
//! every representative on the half of the field where decoding takes the first branch.
//!
//! # Why this module and not a crate
//!
//! curve25519-dalek 4 keeps its field arithmetic private. The one Rust crate with the map
//! for X25519 (`curve25519-elligator2`, a fork of dalek) is an alpha release; depending on
//! it in the handshake of every session would put a second, less reviewed copy of the
//! curve arithmetic in the security path. The map itself is a handful of field operations,
//! so it is written here over RustCrypto's `crypto-bigint` (constant-time Montgomery
//! arithmetic modulo a constant `p = 2^255 - 19`), with curve25519-dalek for the point
//! arithmetic, and checked against the vectors of Java I2P's implementation.
//!
//! Timing: the field operations are crypto-bigint's constant-time ones, the choices between
//! results are constant-time selections. What depends on data in time is the number of
//! keys [`generate`] tries (about two) and whether [`public_key`] rejects its input: both
//! concern keys that are thrown away or bytes that are public anyway.

use crypto_bigint::modular::constant_mod::Residue;
use crypto_bigint::subtle::{ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater};
use crypto_bigint::{Encoding, U256};
use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::EdwardsPoint;
use rand::{CryptoRng, RngCore};
use std::fmt;
use x25519_dalek::{PublicKey, StaticSecret};

/// The modulus type of `p = 2^255 - 19`, inside a module so that the macro's public
/// struct stays private to this file.
mod modulus {
    use crypto_bigint::U256;
    crypto_bigint::impl_modulus!(
        P25519,
        U256,
        "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed"
    );
}
use modulus::P25519;

/// An element of GF(2^255 - 19), in Montgomery form.
type Fe = Residue<P25519, { U256::LIMBS }>;

/// `(p - 1) / 2`: the largest representative, and the Legendre exponent.
const HALF_P_MINUS_1: U256 =
    U256::from_be_hex("3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff6");
/// `(p + 3) / 8`: the square-root exponent for `p ≡ 5 (mod 8)`.
const SQRT_EXPONENT: U256 =
    U256::from_be_hex("0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe");
/// `p - 2`: inversion by Fermat's little theorem.
const P_MINUS_2: U256 =
    U256::from_be_hex("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeb");
/// `√-1 = 2^((p-1)/4)`, checked by a test.
const SQRT_M1: U256 =
    U256::from_be_hex("2b8324804fc1df0b2b4d00993dfbd7a72f431806ad2fe478c4ee1b274a0ea0b0");
/// The Montgomery coefficient of Curve25519.
const A: u64 = 486_662;
/// The bits of byte 31 that carry the representative; the other two are random.
const HIGH_BITS: u8 = 0xc0;

fn fe(value: &U256) -> Fe {
    Fe::new(value)
}

fn fe_u64(value: u64) -> Fe {
    Fe::new(&U256::from_u64(value))
}

fn invert(x: &Fe) -> Fe {
    x.pow(&P_MINUS_2)
}

/// `x^((p-1)/2)`: 1 for a non-zero square, `p - 1` for a non-square, 0 for zero.
fn is_non_square(x: &Fe) -> bool {
    bool::from(x.pow(&HALF_P_MINUS_1).ct_eq(&Fe::ONE.neg()))
}

/// `x³ + A x² + x`: a square exactly when `x` is the u-coordinate of a curve point.
fn curve_rhs(x: &Fe) -> Fe {
    let a = fe_u64(A);
    x.mul(&x.square().add(&a.mul(x)).add(&Fe::ONE))
}

/// The square root of `x` in `0..=(p-1)/2`, or `None` if `x` is not a square.
fn sqrt(x: &Fe) -> Option<Fe> {
    let candidate = x.pow(&SQRT_EXPONENT);
    let squared = candidate.square();
    let times_i = candidate.mul(&fe(&SQRT_M1));
    let root = Fe::conditional_select(&times_i, &candidate, squared.ct_eq(x));
    if !bool::from(root.square().ct_eq(x)) {
        return None;
    }
    let high = root.retrieve().ct_gt(&HALF_P_MINUS_1);
    Some(Fe::conditional_select(&root, &root.neg(), high))
}

/// The representative of the curve point with u-coordinate `public` (little endian), with
/// the two top bits clear, or `None` if the point has none (about half of all points do)
/// or is not on the curve. `public` is read modulo p. `alternative` picks which of
/// the point's two representatives (see the module docs).
pub fn representative(public: &[u8; 32], alternative: bool) -> Option<[u8; 32]> {
    // Values from p up are reduced, as Java I2P does (its vector has bit 255 set). An
    // honest key is below p, so this never meets RFC 7748's masking of that bit.
    let u = fe(&U256::from_le_bytes(*public));
    let u_plus_a = u.add(&fe_u64(A));
    if bool::from(u.ct_eq(&Fe::ZERO) | u_plus_a.ct_eq(&Fe::ZERO)) || is_non_square(&curve_rhs(&u)) {
        return None;
    }
    let (numerator, denominator) = if alternative {
        (u_plus_a, u)
    } else {
        (u, u_plus_a)
    };
    // r² = -numerator / (2 denominator)
    let r_squared = numerator.neg().mul(&invert(&denominator.add(&denominator)));
    let r = sqrt(&r_squared)?.retrieve();
    // Java I2P's decoder refuses (p-1)/2 itself (one chance in 2^253).
    if bool::from(r.ct_eq(&HALF_P_MINUS_1)) {
        return None;
    }
    Some(r.to_le_bytes())
}

/// `DECODE_ELG2`: the u-coordinate (X25519 public key) that `encoded` represents, after
/// masking off its two random top bits. `None` for the few 254-bit values above the largest
/// representative, which no encoder produces; every other input decodes to a curve point.
pub fn public_key(encoded: &[u8; 32]) -> Option<[u8; 32]> {
    let mut bytes = *encoded;
    bytes[31] &= !HIGH_BITS;
    let value = U256::from_le_bytes(bytes);
    if value >= HALF_P_MINUS_1 {
        return None;
    }
    let r = fe(&value);
    let a = fe_u64(A);
    // 1 + 2r² is never zero: -1/2 is not a square.
    let w = a
        .neg()
        .mul(&invert(&Fe::ONE.add(&r.square().add(&r.square()))));
    let other = w.neg().sub(&a);
    let non_square = (is_non_square(&curve_rhs(&w)) as u8).into();
    Some(
        Fe::conditional_select(&w, &other, non_square)
            .retrieve()
            .to_le_bytes(),
    )
}

/// A fresh X25519 key pair whose public key has a representative: what
/// `GENERATE_PRIVATE_ELG2` and `ENCODE_ELG2` of the specification produce together.
pub struct EncodableKey {
    pub secret: StaticSecret,
    /// The public key with a random small-order component (see the module docs): the one
    /// to hash. Its Diffie-Hellman results are those of `PublicKey::from(&secret)`.
    pub public: PublicKey,
    /// The representative with its two random top bits: the 32 bytes to send.
    pub encoded: [u8; 32],
}

impl fmt::Debug for EncodableKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodableKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// Draws keys from `rng` until one is encodable: two tries on average, each 33 bytes of
/// randomness and one fixed-base scalar multiplication.
pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> EncodableKey {
    loop {
        let mut scalar = [0u8; 32];
        rng.fill_bytes(&mut scalar);
        // Bits 0-2: the small-order point; bit 3: which root; bits 6-7: the top bits.
        let mut extra = [0u8; 1];
        rng.fill_bytes(&mut extra);
        let extra = extra[0];
        let torsion = &EIGHT_TORSION[usize::from(extra & 0x07)];
        let point = EdwardsPoint::mul_base_clamped(scalar) + torsion;
        let public = point.to_montgomery().to_bytes();
        if let Some(mut encoded) = representative(&public, extra & 0x08 != 0) {
            encoded[31] |= extra & HIGH_BITS;
            return EncodableKey {
                secret: StaticSecret::from(scalar),
                public: PublicKey::from(public),
                encoded,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn hex32(text: &str) -> [u8; 32] {
        let bytes: Vec<u8> = text
            .split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
            .collect();
        bytes.try_into().expect("32 bytes")
    }

    // /work/shared/specs/elligator2-test-vectors.txt (Java I2P's Elligator2 class).
    const TEST1: &str = "33 95 19 64 00 3c 94 08 78 06 3c cf d0 34 8a f4 \
                         21 50 ca 16 d2 64 6f 2c 58 56 e8 33 83 77 d8 80";
    const TEST1_FALSE: &str = "28 20 b6 b2 41 e0 f6 8a 6c 4a 7f ee 3d 97 82 28 \
                               ef 3a e4 55 33 cd 41 0a a9 1a 41 53 31 d8 61 2d";
    const TEST1_TRUE: &str = "3c fb 87 c4 6c 0b 45 75 ca 81 75 e0 ed 1c 0a e9 \
                              da e7 9d b7 8d f8 69 97 c4 84 7b 9f 20 b2 77 18";
    const TEST2: &str = "e7 35 07 d3 8b ae 63 99 2b 3f 57 aa c4 8c 0a bc \
                         14 50 95 89 28 84 57 99 5a 2b 4c a3 49 0a a2 07";
    const TEST2_DECODED: &str = "1e 8a ff fe d6 bf 53 fe 27 1a d5 72 47 32 62 de \
                                 d8 fa ec 68 e5 e6 7e f4 5e bb 82 ee ba 52 60 4f";

    #[test]
    fn constants_are_what_they_claim() {
        let minus_one = Fe::ONE.neg();
        assert!(bool::from(fe(&SQRT_M1).square().ct_eq(&minus_one)));
        let two = fe_u64(2);
        assert!(is_non_square(&two), "2 is the non-square of the map");
        assert!(bool::from(invert(&two).mul(&two).ct_eq(&Fe::ONE)));
        assert_eq!(
            sqrt(&fe_u64(4)).map(|r| r.retrieve()),
            Some(U256::from_u64(2))
        );
        assert!(sqrt(&two).is_none());
    }

    #[test]
    fn java_vectors_encode() {
        let key = hex32(TEST1);
        assert_eq!(representative(&key, false), Some(hex32(TEST1_FALSE)));
        assert_eq!(representative(&key, true), Some(hex32(TEST1_TRUE)));
        // The vector's key is above p; it decodes to its reduction, key - p.
        let mut canonical = key;
        canonical[0] += 19;
        canonical[31] &= 0x7f;
        for rep in [TEST1_FALSE, TEST1_TRUE] {
            assert_eq!(public_key(&hex32(rep)), Some(canonical));
        }
    }

    #[test]
    fn java_vector_decodes() {
        assert_eq!(public_key(&hex32(TEST2)), Some(hex32(TEST2_DECODED)));
    }

    #[test]
    fn top_bits_are_ignored_on_decode() {
        let mut rep = hex32(TEST2);
        for bits in [0x40, 0x80, 0xc0] {
            rep[31] = (rep[31] & 0x3f) | bits;
            assert_eq!(public_key(&rep), Some(hex32(TEST2_DECODED)));
        }
    }

    #[test]
    fn values_above_the_largest_representative_are_refused() {
        let mut rep = [0xffu8; 32];
        assert_eq!(public_key(&rep), None, "2^254 - 1 after masking");
        rep[0] = 0xf6;
        rep[31] = 0x3f;
        assert_eq!(public_key(&rep), None, "(p-1)/2 itself, as Java I2P");
        rep[0] = 0xf5;
        assert!(public_key(&rep).is_some());
    }

    #[test]
    fn points_without_representative() {
        // Representative 0 decodes to u = 0, a low-order point: the one decoded point the
        // encoder refuses (found by the elligator2 fuzz target).
        assert_eq!(public_key(&[0; 32]), Some([0; 32]));
        assert_eq!(representative(&[0; 32], false), None, "u = 0");
        assert_eq!(representative(&[0; 32], true), None, "u = 0");
        let minus_a = (Fe::ZERO.sub(&fe_u64(A))).retrieve().to_le_bytes();
        assert_eq!(representative(&minus_a, true), None, "u = -A");
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert_eq!(representative(&p, false), None, "p is 0");
        // u = 2 is on the twist: 8 + 4A + 2 is not a square.
        let mut two = [0u8; 32];
        two[0] = 2;
        assert!(is_non_square(&curve_rhs(&fe_u64(2))));
        assert_eq!(representative(&two, false), None);
    }

    #[test]
    fn about_half_of_keys_are_encodable() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let tries = 400;
        let encodable = (0..tries)
            .filter(|_| {
                let secret = StaticSecret::random_from_rng(&mut rng);
                representative(PublicKey::from(&secret).as_bytes(), false).is_some()
            })
            .count();
        // Binomial(400, 1/2): 200 ± 10 (one standard deviation).
        assert!((160..=240).contains(&encodable), "{encodable} of {tries}");
    }

    #[test]
    fn generated_keys_agree_with_their_secret() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let peer = StaticSecret::random_from_rng(&mut rng);
        let peer_public = PublicKey::from(&peer);
        let mut torsion_seen = false;
        for _ in 0..16 {
            let key = generate(&mut rng);
            assert_eq!(public_key(&key.encoded), Some(key.public.to_bytes()));
            // The dirty public key gives the clean key's shared secrets.
            assert_eq!(
                peer.diffie_hellman(&key.public).to_bytes(),
                key.secret.diffie_hellman(&peer_public).to_bytes()
            );
            torsion_seen |= key.public != PublicKey::from(&key.secret);
        }
        assert!(torsion_seen, "small-order components are added");
    }

    #[test]
    fn top_bits_are_random() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut seen = [false; 4];
        for _ in 0..64 {
            seen[usize::from(generate(&mut rng).encoded[31] >> 6)] = true;
        }
        assert_eq!(seen, [true; 4]);
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(seed in any::<u64>(), alternative in any::<bool>()) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let public = PublicKey::from(&StaticSecret::random_from_rng(&mut rng)).to_bytes();
            if let Some(rep) = representative(&public, alternative) {
                prop_assert_eq!(rep[31] & HIGH_BITS, 0);
                prop_assert_eq!(public_key(&rep), Some(public));
            }
        }

        #[test]
        fn any_bytes_decode_without_panic(bytes in any::<[u8; 32]>()) {
            if let Some(u) = public_key(&bytes) {
                // Every decoded point is on the curve, and encodes back to a
                // representative of the same point.
                prop_assert!(!is_non_square(&curve_rhs(&fe(&U256::from_le_bytes(u)))));
                let back = representative(&u, false).or_else(|| representative(&u, true));
                prop_assert_eq!(back.and_then(|r| public_key(&r)), Some(u));
            }
        }
    }
}
