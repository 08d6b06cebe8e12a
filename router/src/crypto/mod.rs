//! A router's private keys and what it signs with them, plus the symmetric primitives the
//! protocols above share:
//!
//! - `blinding`: key blinding for encrypted LeaseSets — the daily blinded key a destination
//!   signs with, the key a client derives from its b33 address, and the netDb key between.
//! - `destination`: a client destination's keys ([`DestinationKeys`]) and its LeaseSet2.
//! - `elligator2`: X25519 public keys as uniform random strings, for the ephemeral keys
//!   of ECIES New Session and New Session Reply messages.
//! - `noise`: the Noise framework's HKDF, MixHash/MixKey and ChaChaPoly with Noise nonces
//!   (tunnel build records today; NTCP2 and ECIES garlic use the same pieces).
//! - `stream`: plain ChaCha20, the STREAM cipher of the I2P specifications.
//!
//! Randomness always comes from the caller's generator (the router's `ChaCha20Rng`), never
//! from the OS, so the simulator can reproduce identities from a seed.

pub mod blinding;
mod destination;
pub mod elligator2;
pub(crate) mod noise;
mod shared_secrets;
pub(crate) mod stream;

pub use destination::DestinationKeys;
pub use shared_secrets::SharedSecrets;

use crate::data::{DataError, Hash, Mapping, RouterAddress, RouterIdentity, RouterInfo};
use ed25519_dalek::{Signer, SigningKey};
use rand::{CryptoRng, RngCore};
use std::fmt;
use x25519_dalek::{PublicKey, StaticSecret};

/// Length of the padding between the two public keys in a RouterIdentity.
const PADDING_LEN: usize = 320;

/// A router's long-term keys: Ed25519 for signing (type 7), X25519 for encryption
/// (type 4), and the RouterIdentity built from their public halves.
///
/// `Debug` shows only the identity hash; the private keys are never printed.
#[derive(Clone)]
pub struct RouterKeys {
    signing: SigningKey,
    encryption: StaticSecret,
    padding_seed: [u8; 32],
    identity: RouterIdentity,
}

impl RouterKeys {
    /// Fresh keys. The identity padding is 32 random bytes repeated (proposal 161), so a
    /// RouterInfo compresses well in a DatabaseStore while the hash stays unpredictable.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> RouterKeys {
        let mut secrets = [0u8; 96];
        rng.fill_bytes(&mut secrets);
        Self::from_secret_bytes(&secrets)
    }

    /// Rebuilds keys from [`RouterKeys::secret_bytes`]: Ed25519 seed, X25519 secret,
    /// padding seed (32 bytes each). Any 96 bytes make valid keys.
    pub fn from_secret_bytes(secrets: &[u8; 96]) -> RouterKeys {
        let IdentitySecrets {
            signing,
            encryption,
            padding_seed,
        } = IdentitySecrets::from_bytes(secrets);
        let identity = RouterIdentity::from_keys(
            PublicKey::from(&encryption).to_bytes(),
            signing.verifying_key().to_bytes(),
            &repeat_seed(&padding_seed, PADDING_LEN),
        )
        // A dalek verifying key is always a valid point and the padding has the right length.
        .expect("keys derived by dalek form a valid identity");
        RouterKeys {
            signing,
            encryption,
            padding_seed,
            identity,
        }
    }

    /// The secrets, for storing the keys: keep them private.
    pub fn secret_bytes(&self) -> [u8; 96] {
        secret_bytes(&self.signing, &self.encryption, &self.padding_seed)
    }

    pub fn identity(&self) -> &RouterIdentity {
        &self.identity
    }

    pub fn hash(&self) -> Hash {
        self.identity.hash()
    }

    /// The X25519 static secret, for NTCP2 and tunnel build decryption.
    pub fn encryption_secret(&self) -> &StaticSecret {
        &self.encryption
    }

    /// An Ed25519 signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// Signs a RouterInfo.
    ///
    /// # Panics
    /// If there are more than 255 addresses or a transport name is longer than 255 bytes,
    /// which the wire format cannot carry; use [`RouterKeys::try_sign_router_info`] when
    /// those come from outside.
    pub fn sign_router_info(
        &self,
        published_ms: u64,
        addresses: Vec<RouterAddress>,
        options: Mapping,
    ) -> RouterInfo {
        self.try_sign_router_info(published_ms, addresses, options)
            .expect(
                "router info within wire limits (<= 255 addresses, transport names <= 255 bytes)",
            )
    }

    pub fn try_sign_router_info(
        &self,
        published_ms: u64,
        addresses: Vec<RouterAddress>,
        options: Mapping,
    ) -> Result<RouterInfo, DataError> {
        RouterInfo::sign_with(
            self.identity.clone(),
            published_ms,
            addresses,
            options,
            |msg| self.sign(msg),
        )
    }
}

/// The 96 secret bytes behind a router identity or a destination: Ed25519 seed, X25519
/// secret, padding seed (32 bytes each). Any 96 bytes make valid keys.
pub(crate) struct IdentitySecrets {
    pub(crate) signing: SigningKey,
    pub(crate) encryption: StaticSecret,
    pub(crate) padding_seed: [u8; 32],
}

impl IdentitySecrets {
    pub(crate) fn from_bytes(secrets: &[u8; 96]) -> IdentitySecrets {
        let part = |i: usize| -> [u8; 32] {
            let mut out = [0u8; 32];
            out.copy_from_slice(&secrets[32 * i..32 * (i + 1)]);
            out
        };
        IdentitySecrets {
            signing: SigningKey::from_bytes(&part(0)),
            encryption: StaticSecret::from(part(1)),
            padding_seed: part(2),
        }
    }
}

/// The inverse of [`IdentitySecrets::from_bytes`].
pub(crate) fn secret_bytes(
    signing: &SigningKey,
    encryption: &StaticSecret,
    padding_seed: &[u8; 32],
) -> [u8; 96] {
    let mut out = [0u8; 96];
    out[..32].copy_from_slice(&signing.to_bytes());
    out[32..64].copy_from_slice(&encryption.to_bytes());
    out[64..].copy_from_slice(padding_seed);
    out
}

/// `len` bytes of `seed` repeated: identity padding per proposal 161, which compresses
/// while the hash stays unpredictable.
pub(crate) fn repeat_seed(seed: &[u8; 32], len: usize) -> Vec<u8> {
    seed.iter().copied().cycle().take(len).collect()
}

impl fmt::Debug for RouterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouterKeys")
            .field("hash", &self.hash())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn generate_is_deterministic_per_seed() {
        let a = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let b = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let c = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(2));
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        let restored = RouterKeys::from_secret_bytes(&a.secret_bytes());
        assert_eq!(restored.identity(), a.identity());
    }

    #[test]
    fn identity_follows_proposal_161() {
        let keys = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(7));
        let bytes = keys.identity().as_bytes();
        let padding = &bytes[32..352];
        assert!(padding.chunks(32).all(|c| c == &padding[..32]));
        assert_eq!(
            keys.identity().encryption_key(),
            PublicKey::from(keys.encryption_secret()).to_bytes()
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let keys = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(3));
        let text = format!("{keys:?}");
        assert!(text.contains("RouterKeys"));
        let secret = keys.secret_bytes();
        assert!(!text.contains(&crate::data::base64_encode(&secret[..32])));
        assert!(!text.contains(&format!("{:?}", &secret[..4])));
    }

    #[test]
    fn signed_router_info_parses_and_tampering_fails() {
        let keys = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(4));
        let mut options = Mapping::new();
        options.insert("caps", "LR").expect("small");
        let ri = keys.sign_router_info(123, vec![], options);
        assert_eq!(ri.hash(), keys.hash());
        assert!(!ri.is_floodfill());
        assert_eq!(RouterInfo::parse(ri.as_bytes()), Ok(ri.clone()));
        let mut tampered = ri.as_bytes().to_vec();
        tampered[395] ^= 0x80;
        assert_eq!(RouterInfo::parse(&tampered), Err(DataError::BadSignature));
        // Another router's signature does not verify either.
        let other = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(5));
        let mut forged = ri.as_bytes().to_vec();
        let n = forged.len();
        forged[n - 64..].copy_from_slice(&other.sign(&ri.as_bytes()[..n - 64]));
        assert_eq!(RouterInfo::parse(&forged), Err(DataError::BadSignature));
    }

    #[test]
    fn too_many_addresses_is_an_error() {
        let keys = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(6));
        let addresses = vec![RouterAddress::new(5, "SSU2", Mapping::new()); 256];
        assert!(keys
            .try_sign_router_info(0, addresses, Mapping::new())
            .is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn sign_then_verify(secrets in proptest::collection::vec(any::<u8>(), 96), msg in any::<Vec<u8>>()) {
            let mut s = [0u8; 96];
            s.copy_from_slice(&secrets);
            let keys = RouterKeys::from_secret_bytes(&s);
            let sig = keys.sign(&msg);
            prop_assert!(keys.identity().verify(&msg, &sig).is_ok());
            let parsed = RouterIdentity::parse(keys.identity().as_bytes())?;
            prop_assert!(parsed.verify(&msg, &sig).is_ok());
        }
    }
}
