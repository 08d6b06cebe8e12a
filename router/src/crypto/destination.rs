//! A client destination's private keys and the LeaseSet2 it signs with them.

use super::blinding::{Alpha, BlindedSigningKey, Credential};
use super::{repeat_seed, secret_bytes, IdentitySecrets};
use crate::data::{
    B33Address, BlindableSigType, ClientAuthorization, DataError, Destination, EncryptedLeaseSet,
    EncryptionKey, Hash, Lease2, LeaseSet2, Mapping, MetaLease, MetaLeaseSet, UnsignedLeaseSet2,
    UnsignedMetaLeaseSet,
};
use ed25519_dalek::{Signer, SigningKey};
use rand::{CryptoRng, RngCore};
use std::fmt;
use x25519_dalek::{PublicKey, StaticSecret};

/// A destination's keys: Ed25519 for signing (type 7, in the Destination), X25519 for
/// the ECIES-X25519 ratchet (type 4, published in the LeaseSet2 rather than the
/// Destination, whose public key field is unused random data), and the Destination.
///
/// `Debug` shows only the destination hash; the private keys are never printed.
#[derive(Clone)]
pub struct DestinationKeys {
    signing: SigningKey,
    encryption: StaticSecret,
    padding_seed: [u8; 32],
    destination: Destination,
}

impl DestinationKeys {
    /// Fresh keys from the caller's generator (never the OS: the simulator replays them).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> DestinationKeys {
        let mut secrets = [0u8; 96];
        rng.fill_bytes(&mut secrets);
        Self::from_secret_bytes(&secrets)
    }

    /// Rebuilds keys from [`DestinationKeys::secret_bytes`]: Ed25519 seed, X25519 secret,
    /// padding seed (32 bytes each). Any 96 bytes make valid keys. The padding seed is
    /// repeated over the unused key field and padding (proposal 161), so the Destination
    /// compresses while its hash stays unpredictable.
    pub fn from_secret_bytes(secrets: &[u8; 96]) -> DestinationKeys {
        let IdentitySecrets {
            signing,
            encryption,
            padding_seed,
        } = IdentitySecrets::from_bytes(secrets);
        let padding = repeat_seed(&padding_seed, Destination::PADDING_LEN);
        let destination = Destination::from_keys(signing.verifying_key().to_bytes(), &padding)
            // A dalek verifying key is always a valid point and the padding has the right length.
            .expect("keys derived by dalek form a valid destination");
        DestinationKeys {
            signing,
            encryption,
            padding_seed,
            destination,
        }
    }

    /// The secrets, for storing the keys: keep them private.
    pub fn secret_bytes(&self) -> [u8; 96] {
        secret_bytes(&self.signing, &self.encryption, &self.padding_seed)
    }

    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    /// The destination's hash: its netDb key and `.b32.i2p` name.
    pub fn hash(&self) -> Hash {
        self.destination.hash()
    }

    /// The X25519 static secret, for decrypting ECIES-X25519 garlic messages.
    pub fn encryption_secret(&self) -> &StaticSecret {
        &self.encryption
    }

    /// The X25519 public key published in the LeaseSet2.
    pub fn encryption_public(&self) -> [u8; 32] {
        PublicKey::from(&self.encryption).to_bytes()
    }

    /// An Ed25519 signature over `msg` with the destination's signing key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// The blinded signing key for the UTC day `date` (`yyyyMMdd`) and the optional
    /// `secret` (empty for none): what our encrypted LeaseSet for that day is signed with
    /// and stored under (spec: Encrypted LeaseSet, Blinding Calculations).
    pub fn blinded_signing_key(&self, date: &str, secret: &[u8]) -> BlindedSigningKey {
        let public = self.destination.signing_public_key();
        let alpha = Alpha::generate(&public, BlindableSigType::Ed25519, date, secret);
        BlindedSigningKey::from_ed25519(&self.signing, &alpha)
    }

    /// What knowing our signing public key proves: the base of our encrypted LeaseSets'
    /// keys on every day.
    pub fn credential(&self) -> Credential {
        Credential::new(
            &self.destination.signing_public_key(),
            BlindableSigType::Ed25519,
        )
    }

    /// `inner` (one of our LeaseSet2s) encrypted for the readers `auth` allows and
    /// signed with our blinded key for the UTC day `date` and `secret` (empty for none):
    /// what we publish instead of `inner` when we hide it from the floodfills. `date`
    /// must be the day it is published on, which is the day clients look it up for.
    pub fn encrypt_lease_set<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
        date: &str,
        secret: &[u8],
        inner: &LeaseSet2,
        auth: &ClientAuthorization,
    ) -> Result<EncryptedLeaseSet, DataError> {
        let signing = self.blinded_signing_key(date, secret);
        EncryptedLeaseSet::encrypt(rng, &signing, &self.credential(), inner, auth)
    }

    /// Our b33 address, which lets clients derive the blinded key of any day.
    pub fn b33_address(&self, secret_required: bool, per_client_auth: bool) -> B33Address {
        B33Address::new(
            self.destination.signing_public_key(),
            BlindableSigType::Ed25519,
            secret_required,
            per_client_auth,
        )
        // A dalek verifying key is always a valid point.
        .expect("a destination's Ed25519 key is a valid point")
    }

    /// Signs a published LeaseSet2 offering our X25519 key and `leases`, with no options.
    /// Fails with more than 16 leases.
    pub fn sign_lease_set(
        &self,
        published_s: u32,
        expires_offset_s: u16,
        leases: Vec<Lease2>,
    ) -> Result<LeaseSet2, DataError> {
        self.sign_lease_set_with_flags(published_s, expires_offset_s, 0, leases)
    }

    /// Signs the LeaseSet2 of a destination that publishes only its encrypted LeaseSet:
    /// flagged blinded and unpublished, so that the peers we send it to (bundled with our
    /// messages) keep it without passing it on to floodfills.
    pub fn sign_hidden_lease_set(
        &self,
        published_s: u32,
        expires_offset_s: u16,
        leases: Vec<Lease2>,
    ) -> Result<LeaseSet2, DataError> {
        let flags = LeaseSet2::FLAG_BLINDED | LeaseSet2::FLAG_UNPUBLISHED;
        self.sign_lease_set_with_flags(published_s, expires_offset_s, flags, leases)
    }

    fn sign_lease_set_with_flags(
        &self,
        published_s: u32,
        expires_offset_s: u16,
        flags: u16,
        leases: Vec<Lease2>,
    ) -> Result<LeaseSet2, DataError> {
        let unsigned = UnsignedLeaseSet2 {
            destination: self.destination.clone(),
            published_s,
            expires_offset_s,
            flags,
            options: Mapping::new(),
            encryption_keys: vec![EncryptionKey::x25519(self.encryption_public())],
            leases,
        };
        LeaseSet2::sign_with(unsigned, |msg| self.sign(msg))
    }

    /// Signs a published MetaLeaseSet listing `entries` (the service's other LeaseSets),
    /// with no options and no revocations. Fails without entries or with more than 255.
    pub fn sign_meta_lease_set(
        &self,
        published_s: u32,
        expires_offset_s: u16,
        entries: Vec<MetaLease>,
    ) -> Result<MetaLeaseSet, DataError> {
        let unsigned = UnsignedMetaLeaseSet {
            destination: self.destination.clone(),
            published_s,
            expires_offset_s,
            flags: 0,
            options: Mapping::new(),
            entries,
            revocations: Vec::new(),
        };
        MetaLeaseSet::sign_with(unsigned, |msg| self.sign(msg))
    }
}

impl fmt::Debug for DestinationKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DestinationKeys")
            .field("hash", &self.hash())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::blinding::BlindedPublicKey;
    use crate::data::{InnerLeaseSet, TunnelId};
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use std::sync::Arc;

    fn lease(i: u8) -> Lease2 {
        Lease2 {
            gateway: Hash([i; 32]),
            tunnel_id: TunnelId(u32::from(i) + 1),
            end_date_s: 1_700_000_600,
        }
    }

    #[test]
    fn generate_is_deterministic_per_seed() {
        let a = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let b = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let c = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(2));
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        let restored = DestinationKeys::from_secret_bytes(&a.secret_bytes());
        assert_eq!(restored.destination(), a.destination());
        assert_eq!(restored.encryption_public(), a.encryption_public());
    }

    #[test]
    fn destination_follows_proposal_161() {
        let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(7));
        let bytes = keys.destination().as_bytes();
        assert_eq!(bytes.len(), 391);
        let padding = &bytes[..352];
        assert!(padding.chunks(32).all(|c| c == &padding[..32]));
        assert_eq!(&bytes[352..384], &keys.destination().signing_public_key());
        assert_eq!(keys.destination().sig_type(), 7);
        assert_eq!(keys.destination().crypto_type(), 0);
        assert_eq!(Destination::parse(bytes).as_ref(), Ok(keys.destination()));
    }

    #[test]
    fn debug_hides_secrets() {
        let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(3));
        let text = format!("{keys:?}");
        assert!(text.contains("DestinationKeys"));
        let secret = keys.secret_bytes();
        assert!(!text.contains(&crate::data::base64_encode(&secret[..32])));
        assert!(!text.contains(&format!("{:?}", &secret[..4])));
        assert!(!text.contains(&format!("{:?}", &secret[32..36])));
    }

    #[test]
    fn signed_lease_set_publishes_our_key() {
        let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(4));
        let ls = keys
            .sign_lease_set(1_700_000_000, 600, vec![lease(1), lease(2)])
            .expect("two leases");
        assert_eq!(ls.hash(), keys.hash());
        assert_eq!(ls.x25519_key(), Some(keys.encryption_public()));
        assert_eq!(
            keys.encryption_public(),
            PublicKey::from(keys.encryption_secret()).to_bytes()
        );
        assert_eq!(ls.flags(), 0);
        assert_eq!(ls.expires_s(), 1_700_000_600);
        assert_eq!(LeaseSet2::parse(ls.as_bytes()), Ok(ls));
        assert!(keys
            .sign_lease_set(1_700_000_000, 600, (0..17).map(lease).collect())
            .is_err());
    }

    #[test]
    fn signed_meta_lease_set_lists_the_service_routers() {
        let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(8));
        let entries: Vec<MetaLease> = (1..=3)
            .map(|i| MetaLease::lease_set2(Hash([i; 32]), i, 1_700_003_600))
            .collect();
        let meta = keys
            .sign_meta_lease_set(1_700_000_000, 3600, entries.clone())
            .expect("three entries");
        assert_eq!(meta.hash(), keys.hash());
        assert_eq!(meta.entries(), entries.as_slice());
        assert_eq!(MetaLeaseSet::parse(meta.as_bytes()), Ok(meta));
        assert!(keys
            .sign_meta_lease_set(1_700_000_000, 3600, Vec::new())
            .is_err());
    }

    #[test]
    fn a_client_with_the_b33_address_finds_and_verifies_the_blinded_key() {
        let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(5));
        let date = "20261201";
        let signing = keys.blinded_signing_key(date, b"hunter2");
        let sig = signing.sign(&mut ChaCha20Rng::seed_from_u64(6), b"outer layer");

        // The client knows only the address text and the secret.
        let address: B33Address = keys.b33_address(true, false).to_string().parse().unwrap();
        assert!(address.secret_required() && !address.per_client_auth());
        let alpha = Alpha::generate(address.public_key(), address.sig_type(), date, b"hunter2");
        let blinded = BlindedPublicKey::blind(address.public_key(), &alpha).unwrap();
        assert_eq!(&blinded, signing.public_key());
        assert_eq!(blinded.storage_key(), signing.public_key().storage_key());
        assert_eq!(blinded.verify(b"outer layer", &sig), Ok(()));
        assert_eq!(
            keys.destination().verify(b"outer layer", &sig),
            Err(DataError::BadSignature)
        );
        // Without the secret the client derives another key and looks in the wrong place.
        let guessed = Alpha::generate(address.public_key(), address.sig_type(), date, b"");
        let wrong = BlindedPublicKey::blind(address.public_key(), &guessed).unwrap();
        assert_ne!(wrong.storage_key(), blinded.storage_key());
    }

    #[test]
    fn a_client_with_the_b33_address_finds_and_decrypts_the_encrypted_lease_set() {
        let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(8));
        let inner = keys
            .sign_lease_set(1_796_086_800, 600, vec![lease(1)])
            .expect("one lease");
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let els = keys
            .encrypt_lease_set(
                &mut rng,
                "20261201",
                b"pw",
                &inner,
                &ClientAuthorization::Everybody,
            )
            .expect("encryptable");

        let address: B33Address = keys.b33_address(true, false).to_string().parse().unwrap();
        let blinded = BlindedPublicKey::of_address(&address, "20261201", b"pw").unwrap();
        assert_eq!(blinded.storage_key(), els.storage_key());
        let credential = Credential::of_address(&address);
        assert_eq!(credential, keys.credential());
        assert_eq!(
            els.decrypt(&credential, None),
            Ok(InnerLeaseSet::LeaseSet2(Arc::new(inner)))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn sign_then_parse(
            secrets in proptest::collection::vec(any::<u8>(), 96),
            published_s in any::<u32>(),
            expires_offset_s in any::<u16>(),
            count in 0u8..=16,
        ) {
            let mut s = [0u8; 96];
            s.copy_from_slice(&secrets);
            let keys = DestinationKeys::from_secret_bytes(&s);
            let ls = keys.sign_lease_set(published_s, expires_offset_s, (0..count).map(lease).collect())?;
            let parsed = LeaseSet2::parse(ls.as_bytes())?;
            prop_assert_eq!(parsed.destination(), keys.destination());
            prop_assert_eq!(parsed.leases().len(), usize::from(count));
            prop_assert_eq!(parsed, ls);
        }
    }
}
