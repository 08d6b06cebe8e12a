//! Key blinding for encrypted LeaseSets (spec: Encrypted LeaseSet Specification,
//! "Blinding Key Derivation" and "Derivation of subcredentials").
//!
//! A destination that publishes an encrypted LeaseSet signs it not with its own key `a`
//! but with a blinded key `a' = a + alpha`, where `alpha` is derived each UTC day from the
//! destination's public key `A` (and an optional secret). Anyone who knows `A` computes
//! `A' = A + alpha·B` and so where to look the LeaseSet up; a floodfill, which sees only
//! `A'`, can check the signature but cannot link it to the destination or to yesterday's
//! `A'`. Signatures under `a'` are RedDSA (sig type 11): Ed25519 with a raw scalar for a
//! private key and a randomised nonce.

use crate::data::{B33Address, BlindableSigType, DataError, Hash};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::{clamp_integer, Scalar};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256, Sha512};
use std::fmt;

/// Personalisation and HKDF info strings of GENERATE_ALPHA.
const ALPHA_PERSONALISATION: &[u8] = b"I2PGenerateAlpha";
const ALPHA_INFO: &[u8] = b"i2pblinding1";
/// Length of the random prefix `T` of a RedDSA nonce (spec: Sign/Verify Calculations).
const NONCE_RANDOM_LEN: usize = 80;

/// `keydata = A || stA || stA'`, the input of both GENERATE_ALPHA and the credential.
fn keydata(public_key: &[u8; 32], sig_type: BlindableSigType) -> [u8; 36] {
    let mut out = [0u8; 36];
    out[..32].copy_from_slice(public_key);
    out[32..34].copy_from_slice(&sig_type.code().to_be_bytes());
    out[34..].copy_from_slice(&BlindableSigType::BLINDED.to_be_bytes());
    out
}

/// `H(p, d) = SHA-256(p || d)` (spec: Definitions).
fn personalised_hash(personalisation: &[u8], data: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(personalisation);
    for part in data {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// `H*(x)`: SHA-512 read as a little-endian number, reduced mod l (Ed25519's
/// hash-and-reduce).
fn hash_to_scalar(parts: &[&[u8]]) -> Scalar {
    let mut hasher = Sha512::new();
    for part in parts {
        hasher.update(part);
    }
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

/// The Ed25519 point `bytes` encodes, if it is in the prime-order subgroup.
fn prime_order_point(bytes: &[u8; 32], what: &'static str) -> Result<EdwardsPoint, DataError> {
    CompressedEdwardsY(*bytes)
        .decompress()
        .filter(EdwardsPoint::is_torsion_free)
        .ok_or(DataError::InvalidKey { what })
}

/// The daily blinding factor `alpha`. `Debug` does not print it: with `A'` it gives `a`.
#[derive(Clone)]
pub struct Alpha(Scalar);

impl Alpha {
    /// GENERATE_ALPHA (spec: Blinding Calculations):
    /// `seed = HKDF(H("I2PGenerateAlpha", keydata), date || secret, "i2pblinding1", 64)`,
    /// `alpha = seed mod l`, with the seed read little-endian.
    ///
    /// `public_key` is the destination's signing public key `A` and `sig_type` its type;
    /// the blinded type is always 11. `date` is the UTC date as `yyyyMMdd`
    /// ([`crate::time::Instant::utc_date_string`]). `secret` is the optional shared secret
    /// of a b33 address with the "secret required" flag, empty when there is none (the
    /// spec's "else zero-length": no secret and an empty one give the same alpha).
    pub fn generate(
        public_key: &[u8; 32],
        sig_type: BlindableSigType,
        date: &str,
        secret: &[u8],
    ) -> Alpha {
        let salt = personalised_hash(ALPHA_PERSONALISATION, &[&keydata(public_key, sig_type)]);
        let ikm = [date.as_bytes(), secret].concat();
        let mut seed = [0u8; 64];
        Hkdf::<Sha256>::new(Some(salt.as_slice()), &ikm)
            .expand(ALPHA_INFO, &mut seed)
            // 64 bytes is far below HKDF-SHA256's limit of 255 * 32.
            .expect("64 bytes is a valid HKDF-SHA256 output length");
        Alpha(Scalar::from_bytes_mod_order_wide(&seed))
    }
}

impl fmt::Debug for Alpha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Alpha(..)")
    }
}

/// A blinded signing public key `A'` (sig type 11), valid for one UTC day: the key in the
/// outer layer of an encrypted LeaseSet.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BlindedPublicKey([u8; 32]);

impl BlindedPublicKey {
    /// BLIND_PUBKEY (spec: Blinding Calculations): `A' = A + DERIVE_PUBLIC(alpha)`, for
    /// the clients looking the LeaseSet up.
    ///
    /// Fails if `public_key` is not a point of Ed25519's prime-order subgroup: the spec
    /// requires `A'` there, and `A'` is there exactly when `A` is.
    pub fn blind(public_key: &[u8; 32], alpha: &Alpha) -> Result<BlindedPublicKey, DataError> {
        let point = prime_order_point(public_key, "blinding: destination signing key")?;
        let blinded = point + EdwardsPoint::mul_base(&alpha.0);
        Ok(BlindedPublicKey(blinded.compress().to_bytes()))
    }

    /// A blinded key as read from the wire (an encrypted LeaseSet's outer layer). Fails
    /// unless it is a point of the prime-order subgroup, where the spec puts every `A'`:
    /// a key off it cannot be anyone's blinded key.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<BlindedPublicKey, DataError> {
        prime_order_point(&bytes, "blinded public key")?;
        Ok(BlindedPublicKey(bytes))
    }

    /// The blinded key of the destination of `address` for the UTC day `date`
    /// (`yyyyMMdd`): what a client computes to find the destination's encrypted LeaseSet.
    /// `secret` is empty unless the address requires one.
    pub fn of_address(
        address: &B33Address,
        date: &str,
        secret: &[u8],
    ) -> Result<BlindedPublicKey, DataError> {
        let public_key = address.public_key();
        let alpha = Alpha::generate(public_key, address.sig_type(), date, secret);
        BlindedPublicKey::blind(public_key, &alpha)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The netDb key of the encrypted LeaseSet signed with this key (spec: Format, "DHT
    /// storage location is SHA-256(sig type || blinded public key)"), with the sig type as
    /// the two big-endian bytes it has in the LeaseSet's outer layer. Floodfills rotate it
    /// into a routing key like any other netDb key.
    pub fn storage_key(&self) -> Hash {
        let mut data = [0u8; 34];
        data[..2].copy_from_slice(&BlindableSigType::BLINDED.to_be_bytes());
        data[2..].copy_from_slice(&self.0);
        Hash::digest(&data)
    }

    /// `subcredential = H("subcredential", credential || A')` (spec: Derivation of
    /// subcredentials), the input to both layers' encryption keys for this day.
    pub fn subcredential(&self, credential: &Credential) -> [u8; 32] {
        personalised_hash(b"subcredential", &[&credential.0, &self.0])
    }

    /// Verifies a RedDSA signature: the same check as Ed25519 (spec: Sign/Verify
    /// Calculations), strict like our other signature checks.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), DataError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| DataError::BadSignature)?;
        let sig = Signature::from_slice(sig).map_err(|_| DataError::BadSignature)?;
        key.verify_strict(msg, &sig)
            .map_err(|_| DataError::BadSignature)
    }
}

/// `credential = H("credential", A || stA || stA')` (spec: Derivation of subcredentials):
/// what knowing the destination's public key proves, the same every day.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Credential([u8; 32]);

impl Credential {
    pub fn new(public_key: &[u8; 32], sig_type: BlindableSigType) -> Credential {
        Credential(personalised_hash(
            b"credential",
            &[&keydata(public_key, sig_type)],
        ))
    }

    /// The credential of the destination of `address`.
    pub fn of_address(address: &B33Address) -> Credential {
        Credential::new(address.public_key(), address.sig_type())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A blinded signing private key `a'` and its public key: what the destination signs its
/// encrypted LeaseSet with for one UTC day. `Debug` shows only the public key.
#[derive(Clone)]
pub struct BlindedSigningKey {
    scalar: Scalar,
    public: BlindedPublicKey,
}

impl BlindedSigningKey {
    /// BLIND_PRIVKEY (spec: Blinding Calculations) for an Ed25519 (type 7) destination key:
    /// `a' = (a + alpha) mod l` and `A' = DERIVE_PUBLIC(a')`.
    ///
    /// An Ed25519 private key is a 32-byte seed, and the spec's `a` is the scalar with
    /// `A = a·B`: the clamped low half of SHA-512(seed) (RFC 8032, 5.1.5). Its high half,
    /// Ed25519's nonce key, has no part in RedDSA.
    pub fn from_ed25519(key: &SigningKey, alpha: &Alpha) -> BlindedSigningKey {
        let expanded: [u8; 64] = Sha512::digest(key.to_bytes()).into();
        let mut low = [0u8; 32];
        low.copy_from_slice(&expanded[..32]);
        let a = Scalar::from_bytes_mod_order(clamp_integer(low));
        let scalar = a + alpha.0;
        let public = BlindedPublicKey(EdwardsPoint::mul_base(&scalar).compress().to_bytes());
        BlindedSigningKey { scalar, public }
    }

    pub fn public_key(&self) -> &BlindedPublicKey {
        &self.public
    }

    /// A RedDSA signature (spec: Sign/Verify Calculations): the nonce is
    /// `r = H*(T || A' || msg)` with `T` 80 random bytes, instead of Ed25519's hash of a
    /// secret nonce key; the rest is Ed25519: `R = r·B`, `S = r + H*(R || A' || msg)·a'`.
    /// Two signatures of the same message therefore differ.
    pub fn sign<R: RngCore + CryptoRng>(&self, rng: &mut R, msg: &[u8]) -> [u8; 64] {
        let mut t = [0u8; NONCE_RANDOM_LEN];
        rng.fill_bytes(&mut t);
        let public = self.public.as_bytes();
        let r = hash_to_scalar(&[&t, public, msg]);
        let big_r = EdwardsPoint::mul_base(&r).compress().to_bytes();
        let k = hash_to_scalar(&[&big_r, public, msg]);
        let s = r + k * self.scalar;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&big_r);
        sig[32..].copy_from_slice(s.as_bytes());
        sig
    }
}

impl fmt::Debug for BlindedSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindedSigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const DAY: &str = "20261201";

    fn destination_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn public(key: &SigningKey) -> [u8; 32] {
        key.verifying_key().to_bytes()
    }

    fn alpha(key: &SigningKey, date: &str, secret: &[u8]) -> Alpha {
        Alpha::generate(&public(key), BlindableSigType::Ed25519, date, secret)
    }

    #[test]
    fn blinding_the_public_key_matches_blinding_the_private_key() {
        for seed in 0..8 {
            let key = destination_key(seed);
            let alpha = alpha(&key, DAY, b"");
            let private = BlindedSigningKey::from_ed25519(&key, &alpha);
            let blinded = BlindedPublicKey::blind(&public(&key), &alpha).expect("valid key");
            assert_eq!(private.public_key(), &blinded);
            assert_ne!(blinded.as_bytes(), &public(&key));
        }
    }

    #[test]
    fn the_ed25519_scalar_is_the_one_behind_the_public_key() {
        // With alpha = 0, blinding is the identity, so A' must equal A.
        let key = destination_key(9);
        let zero = Alpha(Scalar::ZERO);
        let unblinded = BlindedSigningKey::from_ed25519(&key, &zero);
        assert_eq!(unblinded.public_key().as_bytes(), &public(&key));
    }

    #[test]
    fn blinded_signatures_verify_under_the_blinded_key_only() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let key = destination_key(1);
        let blinded = BlindedSigningKey::from_ed25519(&key, &alpha(&key, DAY, b""));
        let msg = b"encrypted leaseset outer layer";
        let sig = blinded.sign(&mut rng, msg);
        assert_eq!(blinded.public_key().verify(msg, &sig), Ok(()));
        // Plain Ed25519 verification accepts it too: RedDSA verifies like Ed25519.
        let dalek = VerifyingKey::from_bytes(blinded.public_key().as_bytes()).expect("point");
        assert!(dalek
            .verify_strict(msg, &Signature::from_bytes(&sig))
            .is_ok());
        // Not under the destination's own key, nor another day's blinded key.
        let unblinded = VerifyingKey::from_bytes(&public(&key)).expect("point");
        assert!(unblinded
            .verify_strict(msg, &Signature::from_bytes(&sig))
            .is_err());
        let tomorrow = BlindedPublicKey::blind(&public(&key), &alpha(&key, "20261202", b""))
            .expect("valid key");
        assert_eq!(tomorrow.verify(msg, &sig), Err(DataError::BadSignature));
        // Nor over another message, nor when altered.
        let key_only = blinded.public_key();
        assert_eq!(
            key_only.verify(b"other", &sig),
            Err(DataError::BadSignature)
        );
        let mut tampered = sig;
        tampered[40] ^= 1;
        assert_eq!(
            key_only.verify(msg, &tampered),
            Err(DataError::BadSignature)
        );
        assert_eq!(
            key_only.verify(msg, &sig[..63]),
            Err(DataError::BadSignature)
        );
    }

    #[test]
    fn signatures_are_randomised() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let key = destination_key(2);
        let blinded = BlindedSigningKey::from_ed25519(&key, &alpha(&key, DAY, b""));
        let first = blinded.sign(&mut rng, b"same");
        let second = blinded.sign(&mut rng, b"same");
        assert_ne!(first, second);
        assert!(blinded.public_key().verify(b"same", &second).is_ok());
    }

    #[test]
    fn alpha_is_deterministic_and_changes_with_date_secret_and_types() {
        let key = destination_key(3);
        let blind = |date: &str, secret: &[u8], sig_type| {
            let alpha = Alpha::generate(&public(&key), sig_type, date, secret);
            BlindedPublicKey::blind(&public(&key), &alpha).expect("valid key")
        };
        let base = blind(DAY, b"", BlindableSigType::Ed25519);
        assert_eq!(base, blind(DAY, b"", BlindableSigType::Ed25519));
        assert_eq!(alpha(&key, DAY, b"").0, alpha(&key, DAY, b"").0);
        let others = [
            blind("20261202", b"", BlindableSigType::Ed25519),
            blind(DAY, b"open sesame", BlindableSigType::Ed25519),
            blind(DAY, b"open sesame!", BlindableSigType::Ed25519),
            blind(DAY, b"", BlindableSigType::RedDsa),
        ];
        for other in others {
            assert_ne!(other, base);
        }
        // The UTC date from our clock works as the date string.
        let midnight = Instant::from_secs(1_795_305_600);
        assert_eq!(
            alpha(&key, &midnight.utc_date_string(), b"").0,
            alpha(&key, "20261122", b"").0
        );
    }

    #[test]
    fn storage_key_is_the_hash_of_type_and_blinded_key() {
        let key = destination_key(4);
        let blinded = BlindedPublicKey::blind(&public(&key), &alpha(&key, DAY, b"")).unwrap();
        let mut data = vec![0x00, 0x0b];
        data.extend_from_slice(blinded.as_bytes());
        assert_eq!(blinded.storage_key(), Hash(Sha256::digest(&data).into()));
        let tomorrow =
            BlindedPublicKey::blind(&public(&key), &alpha(&key, "20261202", b"")).unwrap();
        assert_ne!(tomorrow.storage_key(), blinded.storage_key());
    }

    #[test]
    fn credential_and_subcredential_follow_the_spec() {
        let key = destination_key(5);
        let a = public(&key);
        let credential = Credential::new(&a, BlindableSigType::Ed25519);
        let keydata = [a.as_slice(), &[0, 7, 0, 11]].concat();
        let expected: [u8; 32] =
            Sha256::digest([b"credential".as_slice(), &keydata].concat()).into();
        assert_eq!(credential.as_bytes(), &expected);
        assert_ne!(credential, Credential::new(&a, BlindableSigType::RedDsa));

        let blinded = BlindedPublicKey::blind(&a, &alpha(&key, DAY, b"")).unwrap();
        let expected: [u8; 32] = Sha256::digest(
            [
                b"subcredential".as_slice(),
                credential.as_bytes(),
                blinded.as_bytes(),
            ]
            .concat(),
        )
        .into();
        assert_eq!(blinded.subcredential(&credential), expected);
    }

    #[test]
    fn alpha_follows_generate_alpha() {
        // The spec's steps spelled out with the primitives directly.
        let key = destination_key(6);
        let a = public(&key);
        let keydata = [a.as_slice(), &[0, 7, 0, 11]].concat();
        let salt = Sha256::digest([b"I2PGenerateAlpha".as_slice(), &keydata].concat());
        let mut seed = [0u8; 64];
        Hkdf::<Sha256>::new(Some(salt.as_slice()), b"20261201secret")
            .expand(b"i2pblinding1", &mut seed)
            .unwrap();
        let expected = Scalar::from_bytes_mod_order_wide(&seed);
        assert_eq!(alpha(&key, DAY, b"secret").0, expected);
    }

    #[test]
    fn blinding_rejects_keys_outside_the_prime_order_group() {
        let alpha = alpha(&destination_key(7), DAY, b"");
        // y = 2 is not on the curve; the identity's neighbour (0, -1) has order 2.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        let mut order_two = [0u8; 32];
        order_two[0] = 0xec;
        order_two[1..31].fill(0xff);
        order_two[31] = 0x7f;
        for bad in [off_curve, order_two] {
            assert!(matches!(
                BlindedPublicKey::blind(&bad, &alpha),
                Err(DataError::InvalidKey { .. })
            ));
            assert!(matches!(
                BlindedPublicKey::from_bytes(bad),
                Err(DataError::InvalidKey { .. })
            ));
        }
        let good = BlindedPublicKey::blind(&public(&destination_key(7)), &alpha).unwrap();
        assert_eq!(BlindedPublicKey::from_bytes(*good.as_bytes()), Ok(good));
    }

    #[test]
    fn debug_hides_the_private_parts() {
        let key = destination_key(8);
        let alpha = alpha(&key, DAY, b"");
        assert_eq!(format!("{alpha:?}"), "Alpha(..)");
        let blinded = BlindedSigningKey::from_ed25519(&key, &alpha);
        let text = format!("{blinded:?}");
        assert!(text.contains("public"));
        assert!(!text.contains(&format!("{:?}", blinded.scalar.as_bytes())));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn blind_then_sign_then_verify(
            seed in any::<[u8; 32]>(),
            secret in proptest::collection::vec(any::<u8>(), 0..16),
            day in 0u64..40_000,
            msg in any::<Vec<u8>>(),
            rng_seed in any::<u64>(),
        ) {
            let key = SigningKey::from_bytes(&seed);
            let date = Instant::from_secs(day * 86_400).utc_date_string();
            let alpha = alpha(&key, &date, &secret);
            let private = BlindedSigningKey::from_ed25519(&key, &alpha);
            let blinded = BlindedPublicKey::blind(&public(&key), &alpha)?;
            prop_assert_eq!(private.public_key(), &blinded);
            let sig = private.sign(&mut ChaCha20Rng::seed_from_u64(rng_seed), &msg);
            prop_assert!(blinded.verify(&msg, &sig).is_ok());
        }
    }
}
