//! KeysAndCert, RouterIdentity and Destination (spec: Common structures, KeysAndCert).

use super::certificate::{Certificate, KeyCertificate};
use super::reader::Reader;
use super::{base64_encode, DataError, Hash};
use ed25519_dalek::{Signature, VerifyingKey};
use std::fmt;

/// Size of the key area before the certificate: a 256-byte public key field and a
/// 128-byte signing key field. With a KEY certificate, the crypto key is aligned at the
/// start, the signing key at the end, and random padding fills the middle.
pub const KEY_AREA_LEN: usize = 384;
/// X25519 public key length (crypto type 4).
const X25519_LEN: usize = 32;
/// Ed25519 public key length (signing type 7).
const ED25519_LEN: usize = 32;
/// Padding between a 32-byte crypto key and a 32-byte signing key.
pub const PADDING_LEN: usize = KEY_AREA_LEN - X25519_LEN - ED25519_LEN;
/// Ed25519 signature length.
pub const SIGNATURE_LEN: usize = 64;

/// An encryption key, a signing key and a certificate: the common layout of router
/// identities and destinations.
///
/// Keeps the exact bytes it was read from: the SHA-256 of these bytes (padding included)
/// is the router's or destination's hash, so nothing may be normalised. Only the
/// Ed25519 signing type is supported; its key is checked to be a valid point on parse.
#[derive(Clone)]
pub struct KeysAndCert {
    bytes: Box<[u8]>,
    hash: Hash,
    certificate: Certificate,
    verifying_key: VerifyingKey,
}

impl KeysAndCert {
    /// Reads one KeysAndCert whose crypto type is one of `crypto_types`.
    fn read(
        r: &mut Reader<'_>,
        what: &'static str,
        crypto_types: &[u16],
    ) -> Result<KeysAndCert, DataError> {
        let start = r.position();
        let keys: [u8; KEY_AREA_LEN] = r.array(what)?;
        let certificate = Certificate::read(r)?;
        let (sig_type, crypto_type) =
            certificate
                .key_types()
                .ok_or(DataError::UnsupportedCertificateType(
                    certificate.cert_type(),
                ))?;
        if sig_type != KeyCertificate::SIG_ED25519 {
            return Err(DataError::UnsupportedSigType(sig_type));
        }
        if !crypto_types.contains(&crypto_type) {
            return Err(DataError::UnsupportedCryptoType(crypto_type));
        }
        if let Certificate::Key(k) = &certificate {
            // Both supported key pairs fit the 384-byte area; the spec says to refuse excess data.
            if !k.excess.is_empty() {
                return Err(DataError::Invalid {
                    what: "key certificate",
                    reason: "excess key data for key types that fit the key area",
                });
            }
        }
        let mut signing = [0u8; ED25519_LEN];
        signing.copy_from_slice(&keys[KEY_AREA_LEN - ED25519_LEN..]);
        let verifying_key =
            VerifyingKey::from_bytes(&signing).map_err(|_| DataError::InvalidKey {
                what: "Ed25519 signing public key",
            })?;
        let bytes: Box<[u8]> = r.since(start).into();
        Ok(KeysAndCert {
            hash: Hash::digest(&bytes),
            bytes,
            certificate,
            verifying_key,
        })
    }

    /// SHA-256 of the exact bytes, computed once on parse.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    pub fn sig_type(&self) -> u16 {
        self.certificate.key_types().map_or(0, |(s, _)| s)
    }

    pub fn crypto_type(&self) -> u16 {
        self.certificate.key_types().map_or(0, |(_, c)| c)
    }

    /// The 32-byte Ed25519 public key (end of the key area).
    pub fn signing_public_key(&self) -> [u8; 32] {
        self.verifying_key.to_bytes()
    }

    /// Length of signatures made with this identity's signing key.
    pub fn signature_len(&self) -> usize {
        SIGNATURE_LEN
    }

    /// Verifies an Ed25519 signature over `msg` (strict: rejects small-order keys and
    /// non-canonical signatures, which honest signers never produce).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), DataError> {
        let sig = Signature::from_slice(sig).map_err(|_| DataError::BadSignature)?;
        self.verifying_key
            .verify_strict(msg, &sig)
            .map_err(|_| DataError::BadSignature)
    }

    fn key_area(&self) -> &[u8] {
        self.bytes.get(..KEY_AREA_LEN).unwrap_or(&[])
    }
}

impl PartialEq for KeysAndCert {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for KeysAndCert {}

impl std::hash::Hash for KeysAndCert {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Debug for KeysAndCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeysAndCert")
            .field("hash", &self.hash)
            .field("sig_type", &self.sig_type())
            .field("crypto_type", &self.crypto_type())
            .finish()
    }
}

/// A router's identity: X25519 encryption key (crypto type 4) and Ed25519 signing key
/// (signing type 7) in a KEY certificate, the only combination current routers publish.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RouterIdentity(KeysAndCert);

impl RouterIdentity {
    /// Parses exactly one RouterIdentity filling `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<RouterIdentity, DataError> {
        let mut r = Reader::new(bytes);
        let identity = RouterIdentity::read(&mut r)?;
        r.finish("router identity")?;
        Ok(identity)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<RouterIdentity, DataError> {
        KeysAndCert::read(r, "router identity: keys", &[KeyCertificate::CRYPTO_X25519])
            .map(RouterIdentity)
    }

    /// Builds the identity bytes: X25519 key, `padding` (320 bytes; proposal 161 makes it
    /// 32 random bytes repeated so it compresses), Ed25519 key, KEY certificate (5, 7, 4).
    pub fn from_keys(
        encryption_key: [u8; 32],
        signing_public_key: [u8; 32],
        padding: &[u8],
    ) -> Result<RouterIdentity, DataError> {
        if padding.len() != PADDING_LEN {
            return Err(DataError::Invalid {
                what: "router identity: padding",
                reason: "must be 320 bytes",
            });
        }
        let mut bytes = Vec::with_capacity(KEY_AREA_LEN + 7);
        bytes.extend_from_slice(&encryption_key);
        bytes.extend_from_slice(padding);
        bytes.extend_from_slice(&signing_public_key);
        Certificate::Key(KeyCertificate::ed25519_x25519()).emit(&mut bytes)?;
        RouterIdentity::parse(&bytes)
    }

    pub fn hash(&self) -> Hash {
        self.0.hash()
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The X25519 static public key (start of the key area), used by NTCP2 and tunnel builds.
    pub fn encryption_key(&self) -> [u8; 32] {
        let mut key = [0u8; 32];
        if let Some(src) = self.0.key_area().get(..X25519_LEN) {
            key.copy_from_slice(src);
        }
        key
    }

    pub fn signing_public_key(&self) -> [u8; 32] {
        self.0.signing_public_key()
    }

    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), DataError> {
        self.0.verify(msg, sig)
    }

    pub fn signature_len(&self) -> usize {
        self.0.signature_len()
    }

    pub fn certificate(&self) -> &Certificate {
        self.0.certificate()
    }

    pub fn sig_type(&self) -> u16 {
        self.0.sig_type()
    }

    pub fn crypto_type(&self) -> u16 {
        self.0.crypto_type()
    }

    pub fn keys_and_cert(&self) -> &KeysAndCert {
        &self.0
    }

    pub fn to_base64(&self) -> String {
        base64_encode(self.as_bytes())
    }
}

impl fmt::Debug for RouterIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RouterIdentity").field(&self.hash()).finish()
    }
}

/// A client endpoint: same layout as a RouterIdentity. The key-area public key is unused
/// since LeaseSet2 carries the encryption keys, so destinations usually declare ElGamal
/// (0) with random bytes there; X25519 (4) is accepted too.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Destination(KeysAndCert);

impl Destination {
    /// Bytes before the Ed25519 key: the unused 256-byte public key field plus 96 bytes
    /// of padding, which modern destinations fill with random data (proposal 161).
    pub const PADDING_LEN: usize = KEY_AREA_LEN - ED25519_LEN;

    /// Builds a modern destination: `padding` (352 bytes; proposal 161 makes it 32 random
    /// bytes repeated 11 times so it compresses), the Ed25519 key, and a KEY certificate
    /// declaring Ed25519 (7) and the unused ElGamal (0) key type, as I2P and i2pd do.
    pub fn from_keys(
        signing_public_key: [u8; 32],
        padding: &[u8],
    ) -> Result<Destination, DataError> {
        if padding.len() != Self::PADDING_LEN {
            return Err(DataError::Invalid {
                what: "destination: padding",
                reason: "must be 352 bytes",
            });
        }
        let mut bytes = Vec::with_capacity(KEY_AREA_LEN + 7);
        bytes.extend_from_slice(padding);
        bytes.extend_from_slice(&signing_public_key);
        Certificate::Key(KeyCertificate::ed25519_elgamal()).emit(&mut bytes)?;
        Destination::parse(&bytes)
    }

    /// Parses exactly one Destination filling `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Destination, DataError> {
        let mut r = Reader::new(bytes);
        let destination = Destination::read(&mut r)?;
        r.finish("destination")?;
        Ok(destination)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Destination, DataError> {
        KeysAndCert::read(
            r,
            "destination: keys",
            &[
                KeyCertificate::CRYPTO_ELGAMAL,
                KeyCertificate::CRYPTO_X25519,
            ],
        )
        .map(Destination)
    }

    pub fn hash(&self) -> Hash {
        self.0.hash()
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), DataError> {
        self.0.verify(msg, sig)
    }

    /// Length of signatures made with this destination's signing key.
    pub fn signature_len(&self) -> usize {
        self.0.signature_len()
    }

    pub fn signing_public_key(&self) -> [u8; 32] {
        self.0.signing_public_key()
    }

    pub fn sig_type(&self) -> u16 {
        self.0.sig_type()
    }

    /// The key certificate's crypto type: 0 for modern destinations, whose real
    /// encryption keys are in their LeaseSet2.
    pub fn crypto_type(&self) -> u16 {
        self.0.crypto_type()
    }

    pub fn keys_and_cert(&self) -> &KeysAndCert {
        &self.0
    }

    /// The full base64 destination, as in address books.
    pub fn to_base64(&self) -> String {
        base64_encode(self.as_bytes())
    }

    /// `<52 chars>.b32.i2p`.
    pub fn to_b32_address(&self) -> String {
        format!("{}.b32.i2p", self.hash().to_base32())
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Destination").field(&self.hash()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::strategies::{arb_identity, mutated};
    use proptest::prelude::*;

    fn sample() -> RouterIdentity {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        RouterIdentity::from_keys(
            [9u8; 32],
            signing.verifying_key().to_bytes(),
            &[1u8; PADDING_LEN],
        )
        .expect("valid keys")
    }

    #[test]
    fn layout_matches_spec() {
        let id = sample();
        let bytes = id.as_bytes();
        assert_eq!(bytes.len(), 391);
        assert_eq!(&bytes[..32], &[9u8; 32]);
        assert_eq!(&bytes[352..384], &id.signing_public_key());
        assert_eq!(&bytes[384..], &[5, 0, 4, 0, 7, 0, 4]);
        assert_eq!(id.encryption_key(), [9u8; 32]);
        assert_eq!(id.hash(), Hash::digest(bytes));
        assert_eq!(id.sig_type(), 7);
        assert_eq!(id.crypto_type(), 4);
    }

    #[test]
    fn unsupported_types_are_named() {
        let id = sample();
        let mut null_cert = id.as_bytes()[..384].to_vec();
        null_cert.extend_from_slice(&[0, 0, 0]);
        assert_eq!(
            RouterIdentity::parse(&null_cert),
            Err(DataError::UnsupportedSigType(0))
        );

        let mut ecdsa = id.as_bytes().to_vec();
        ecdsa[388] = 1;
        assert_eq!(
            RouterIdentity::parse(&ecdsa),
            Err(DataError::UnsupportedSigType(1))
        );

        let mut elgamal = id.as_bytes().to_vec();
        elgamal[390] = 0;
        assert_eq!(
            RouterIdentity::parse(&elgamal),
            Err(DataError::UnsupportedCryptoType(0))
        );
        // ...which is fine for a destination.
        assert!(Destination::parse(&elgamal).is_ok());

        let mut hidden = id.as_bytes()[..384].to_vec();
        hidden.extend_from_slice(&[2, 0, 0]);
        assert_eq!(
            RouterIdentity::parse(&hidden),
            Err(DataError::UnsupportedCertificateType(2))
        );

        let mut excess = id.as_bytes()[..384].to_vec();
        excess.extend_from_slice(&[5, 0, 5, 0, 7, 0, 4, 0]);
        assert!(RouterIdentity::parse(&excess).is_err());
    }

    #[test]
    fn modern_destination_layout() {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[8u8; 32]);
        let key = signing.verifying_key().to_bytes();
        let dest =
            Destination::from_keys(key, &[3u8; Destination::PADDING_LEN]).expect("valid keys");
        let bytes = dest.as_bytes();
        assert_eq!(bytes.len(), 391);
        assert_eq!(&bytes[..352], &[3u8; 352]);
        assert_eq!(&bytes[352..384], &key);
        assert_eq!(&bytes[384..], &[5, 0, 4, 0, 7, 0, 0]);
        assert_eq!(dest.signing_public_key(), key);
        assert_eq!((dest.sig_type(), dest.crypto_type()), (7, 0));
        assert_eq!(dest.signature_len(), 64);
        assert_eq!(dest.hash(), Hash::digest(bytes));
        // Crypto type 0 is a destination's, never a router's.
        assert_eq!(
            RouterIdentity::parse(bytes),
            Err(DataError::UnsupportedCryptoType(0))
        );
        assert!(Destination::from_keys(key, &[3u8; 320]).is_err());
    }

    #[test]
    fn verify_rejects_wrong_signature() {
        use ed25519_dalek::Signer;
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let id = sample();
        let sig = signing.sign(b"hello").to_bytes();
        assert_eq!(id.verify(b"hello", &sig), Ok(()));
        assert_eq!(id.verify(b"hellp", &sig), Err(DataError::BadSignature));
        assert_eq!(
            id.verify(b"hello", &sig[..63]),
            Err(DataError::BadSignature)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip(id in arb_identity()) {
            let parsed = RouterIdentity::parse(id.as_bytes())?;
            prop_assert_eq!(parsed.hash(), id.hash());
            prop_assert_eq!(parsed, id.clone());
            let dest = Destination::parse(id.as_bytes())?;
            prop_assert_eq!(dest.as_bytes(), id.as_bytes());
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..500)) {
            let _ = RouterIdentity::parse(&bytes);
            let _ = Destination::parse(&bytes);
        }

        #[test]
        fn mutated_encodings_never_panic(bytes in arb_identity().prop_flat_map(|id| mutated(id.as_bytes().to_vec()))) {
            let _ = RouterIdentity::parse(&bytes);
            let _ = Destination::parse(&bytes);
        }
    }
}
