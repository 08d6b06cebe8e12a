//! Keys on the wire: SAM's base64 (I2P's alphabet) of a Destination (`PUB`, `VALUE`) and
//! of the private key blob (`PRIV`, SESSION CREATE's `DESTINATION`).
//!
//! The blob is the "Private Key File" of the common structures:
//!
//! | field | bytes |
//! |---|---|
//! | Destination | 391 (384 keys and padding, KEY certificate 7) |
//! | encryption private key | by the certificate's crypto type: 256 for 0 (ElGamal), 32 for 4 (X25519) |
//! | signing private key | by its signature type: 32 for 7 (Ed25519) |
//! | offline signature | only when the signing private key is all zeros |
//!
//! Our destinations declare crypto type 0, as Java I2P's and i2pd's do: their real
//! encryption key (X25519, type 4) is published in the LeaseSet2, and the spec calls the
//! 256-byte field unused ("may send random data or all zeros"). We keep our X25519 secret
//! in its first 32 bytes (zeros after), so that a client that stores `PRIV` gets the same
//! LeaseSet key back; a client that zeroes the field only changes that key. 679 bytes,
//! 908 base64 characters.
//!
//! [`DestinationKeys`] derives the destination's padding from a 32-byte seed (proposal
//! 161, repeated), so only blobs of that shape can be read back: ours, and others whose
//! padding happens to be the first 32 bytes repeated. Others are refused as INVALID_KEY,
//! as are offline-signed blobs (not supported).

use crate::crypto::DestinationKeys;
use crate::data::{base64_decode, base64_encode, Destination};

/// Length of our blob's encryption private key field (crypto type 0).
const ELGAMAL_PRIVATE_LEN: usize = 256;
const X25519_PRIVATE_LEN: usize = 32;
const ED25519_PRIVATE_LEN: usize = 32;

/// Why a `PRIV` or destination text was refused (INVALID_KEY).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not I2P base64")]
    Base64,
    #[error("not a destination: {0}")]
    Destination(#[from] crate::data::DataError),
    #[error("private key blob: {0}")]
    Blob(&'static str),
    #[error("offline-signed keys are not supported")]
    Offline,
    #[error("these keys are not of the form this bridge can use (proposal 161 padding)")]
    Unsupported,
}

/// `PUB`: the base64 destination.
pub fn public_base64(destination: &Destination) -> String {
    destination.to_base64()
}

/// `PRIV`: the base64 private key blob.
pub fn private_base64(keys: &DestinationKeys) -> String {
    let secrets = keys.secret_bytes();
    let mut blob = keys.destination().as_bytes().to_vec();
    let mut encryption = [0u8; ELGAMAL_PRIVATE_LEN];
    encryption[..32].copy_from_slice(&secrets[32..64]);
    blob.extend_from_slice(&encryption);
    blob.extend_from_slice(&secrets[..32]);
    base64_encode(&blob)
}

/// A full base64 destination (516 or more characters).
pub fn parse_destination(text: &str) -> Result<Destination, KeyError> {
    let bytes = base64_decode(text).map_err(|_| KeyError::Base64)?;
    Ok(Destination::parse(&bytes)?)
}

/// Reads a `PRIV` blob back into keys.
pub fn parse_private(text: &str) -> Result<DestinationKeys, KeyError> {
    let blob = base64_decode(text).map_err(|_| KeyError::Base64)?;
    // The certificate's length (bytes 385..387) says where the Destination ends.
    let cert_len = blob
        .get(385..387)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(KeyError::Blob("shorter than a destination"))?;
    let dest_len = 387 + cert_len;
    let destination = Destination::parse(blob.get(..dest_len).ok_or(KeyError::Blob("truncated"))?)?;
    let encryption_len = match destination.crypto_type() {
        0 => ELGAMAL_PRIVATE_LEN,
        _ => X25519_PRIVATE_LEN,
    };
    let rest = &blob[dest_len..];
    if rest.len() < encryption_len + ED25519_PRIVATE_LEN {
        return Err(KeyError::Blob("truncated private keys"));
    }
    let (encryption, rest) = rest.split_at(encryption_len);
    let (signing, rest) = rest.split_at(ED25519_PRIVATE_LEN);
    if signing.iter().all(|b| *b == 0) {
        return Err(KeyError::Offline);
    }
    if !rest.is_empty() {
        return Err(KeyError::Blob("bytes after the signing private key"));
    }
    let mut secrets = [0u8; 96];
    secrets[..32].copy_from_slice(signing);
    secrets[32..64].copy_from_slice(&encryption[..32]);
    secrets[64..].copy_from_slice(&destination.as_bytes()[..32]);
    let keys = DestinationKeys::from_secret_bytes(&secrets);
    if keys.destination() != &destination {
        return Err(KeyError::Unsupported);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn keys(seed: u64) -> DestinationKeys {
        DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(seed))
    }

    #[test]
    fn lengths_are_the_specs() {
        let k = keys(1);
        let public = public_base64(k.destination());
        let private = private_base64(&k);
        assert_eq!(public.len(), 524); // 391 bytes; "516 or more"
        assert_eq!(private.len(), 908); // 679 bytes; "884 or more"
        assert!(private.starts_with(&public[..520]));
        let blob = base64_decode(&private).expect("base64");
        assert_eq!(&blob[391 + 32..391 + 256], &[0u8; 224][..]);
        assert_eq!(&blob[391 + 256..], &k.secret_bytes()[..32]);
    }

    #[test]
    fn destinations_parse_back() {
        let k = keys(2);
        let text = public_base64(k.destination());
        assert_eq!(parse_destination(&text).as_ref(), Ok(k.destination()));
        assert!(parse_destination(&text[..100]).is_err());
        assert_eq!(parse_destination("not base64!"), Err(KeyError::Base64));
    }

    #[test]
    fn broken_blobs_are_refused() {
        let k = keys(3);
        let mut blob = base64_decode(&private_base64(&k)).expect("base64");
        let short = base64_encode(&blob[..600]);
        assert_eq!(
            parse_private(&short).map(|_| ()),
            Err(KeyError::Blob("truncated private keys"))
        );
        let mut longer = blob.clone();
        longer.push(0);
        assert!(parse_private(&base64_encode(&longer)).is_err());
        // An all-zero signing key announces an offline signature.
        let n = blob.len();
        blob[n - 32..].fill(0);
        assert_eq!(
            parse_private(&base64_encode(&blob)).map(|_| ()),
            Err(KeyError::Offline)
        );
        // Another signing key no longer matches the destination.
        blob[n - 1] = 1;
        assert_eq!(
            parse_private(&base64_encode(&blob)).map(|_| ()),
            Err(KeyError::Unsupported)
        );
        assert!(parse_private("AAAA").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn private_keys_round_trip(secrets in proptest::collection::vec(any::<u8>(), 96)) {
            let mut s = [0u8; 96];
            s.copy_from_slice(&secrets);
            let k = DestinationKeys::from_secret_bytes(&s);
            let back = parse_private(&private_base64(&k)).expect("own blob");
            prop_assert_eq!(back.secret_bytes(), k.secret_bytes());
        }

        #[test]
        fn random_text_never_panics(text in "[A-Za-z0-9~=-]{0,1200}") {
            let _ = parse_private(&text);
            let _ = parse_destination(&text);
        }
    }
}
