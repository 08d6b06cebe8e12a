//! Destinations as an address book holds them: checked for shape, not for key types.
//!
//! The book keeps every well-formed destination, including the DSA ones that many old
//! names still point to and that [`Destination`] (Ed25519 only) cannot represent: a
//! lookup still answers them (SAM's NAMING LOOKUP returns the base64), and a router
//! that learns new key types later finds them in its book. What a destination is for
//! the router is decided when it is used ([`BookDestination::to_destination`]).

use crate::data::{base64_decode, base64_encode, DataError, Destination, Hash};
use std::fmt;

/// Key area (public key and signing key fields) before the certificate.
const KEY_AREA: usize = 384;
/// Certificate type and length.
const CERT_HEADER: usize = 3;
/// The naming rules: keys are 516 to 616 base64 characters (certificates up to about
/// 100 bytes).
pub const MIN_BASE64_LEN: usize = 516;
pub const MAX_BASE64_LEN: usize = 616;
/// The most bytes whose base64 fits [`MAX_BASE64_LEN`] characters.
const MAX_LEN: usize = MAX_BASE64_LEN / 4 * 3;
const CERT_NULL: u8 = 0;
const CERT_KEY: u8 = 5;
/// Signature type of a destination without a KEY certificate.
const SIG_DSA_SHA1: u16 = 0;

/// A well-formed destination: 384 bytes of keys and a certificate whose length field
/// matches the bytes that follow. Compared and ordered by its bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BookDestination(Box<[u8]>);

/// Why a destination text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestError {
    #[error("{0} base64 characters (a destination has {MIN_BASE64_LEN} to {MAX_BASE64_LEN})")]
    Length(usize),
    #[error("not I2P base64")]
    Base64,
    #[error("{0}")]
    Shape(&'static str),
}

impl BookDestination {
    /// Reads the base64 (I2P alphabet) text of a destination.
    pub fn parse_base64(text: &str) -> Result<BookDestination, DestError> {
        if !(MIN_BASE64_LEN..=MAX_BASE64_LEN).contains(&text.len()) {
            return Err(DestError::Length(text.len()));
        }
        let bytes = base64_decode(text).map_err(|_| DestError::Base64)?;
        BookDestination::from_bytes(bytes)
    }

    /// Checks the shape of destination bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<BookDestination, DestError> {
        // What the book keeps must read back from the base64 it writes.
        if bytes.len() > MAX_LEN {
            return Err(DestError::Shape(
                "longer than a destination's base64 may be",
            ));
        }
        let header = bytes
            .get(KEY_AREA..KEY_AREA + CERT_HEADER)
            .ok_or(DestError::Shape("shorter than keys and certificate header"))?;
        let cert_type = header[0];
        let cert_len = usize::from(u16::from_be_bytes([header[1], header[2]]));
        if bytes.len() != KEY_AREA + CERT_HEADER + cert_len {
            return Err(DestError::Shape(
                "certificate length does not match the destination's length",
            ));
        }
        match cert_type {
            CERT_NULL if cert_len != 0 => Err(DestError::Shape("NULL certificate with data")),
            CERT_KEY if cert_len < 4 => Err(DestError::Shape("KEY certificate too short")),
            _ => Ok(BookDestination(bytes.into_boxed_slice())),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The base64 text, as hosts.txt and SAM write it.
    pub fn to_base64(&self) -> String {
        base64_encode(&self.0)
    }

    /// SHA-256 of the bytes: what a `.b32.i2p` address names.
    pub fn hash(&self) -> Hash {
        Hash::digest(&self.0)
    }

    /// The signature type: from a KEY certificate, else DSA-SHA1 (0).
    pub fn sig_type(&self) -> u16 {
        match self.0.get(KEY_AREA..KEY_AREA + CERT_HEADER + 2) {
            Some([CERT_KEY, _, _, hi, lo]) => u16::from_be_bytes([*hi, *lo]),
            _ => SIG_DSA_SHA1,
        }
    }

    /// The destination the router can talk to and verify signatures of (Ed25519 ones).
    pub fn to_destination(&self) -> Result<Destination, DataError> {
        Destination::parse(&self.0)
    }
}

impl From<&Destination> for BookDestination {
    fn from(destination: &Destination) -> Self {
        BookDestination(destination.as_bytes().into())
    }
}

impl fmt::Debug for BookDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BookDestination")
            .field(&self.hash())
            .field(&self.sig_type())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DestinationKeys;
    use rand::SeedableRng;

    #[test]
    fn ours_and_dsa_ones_are_kept() {
        let keys = DestinationKeys::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(4));
        let ours = keys.destination();
        let book = BookDestination::parse_base64(&ours.to_base64()).expect("ours");
        assert_eq!(book.hash(), ours.hash());
        assert_eq!(book.sig_type(), 7);
        assert_eq!(book.to_destination().expect("Ed25519"), *ours);

        // A DSA destination: NULL certificate, 387 bytes, 516 characters.
        let mut dsa = vec![9u8; KEY_AREA];
        dsa.extend_from_slice(&[0, 0, 0]);
        let text = base64_encode(&dsa);
        assert_eq!(text.len(), MIN_BASE64_LEN);
        let book = BookDestination::parse_base64(&text).expect("DSA kept");
        assert_eq!(book.sig_type(), 0);
        assert!(book.to_destination().is_err());
        assert_eq!(book.to_base64(), text);
    }

    #[test]
    fn malformed_ones_are_refused() {
        assert!(matches!(
            BookDestination::parse_base64("AAAA"),
            Err(DestError::Length(4))
        ));
        assert_eq!(
            BookDestination::parse_base64(&"!".repeat(516)),
            Err(DestError::Base64)
        );
        let mut wrong_len = vec![0u8; KEY_AREA];
        wrong_len.extend_from_slice(&[5, 0, 9, 0, 7, 0, 0]);
        assert!(BookDestination::from_bytes(wrong_len).is_err());
        let mut null_with_data = vec![0u8; KEY_AREA];
        null_with_data.extend_from_slice(&[0, 0, 1, 0]);
        assert!(BookDestination::from_bytes(null_with_data).is_err());
        assert!(BookDestination::from_bytes(Vec::new()).is_err());
    }

    /// Found by the identity fuzz target: a 504-byte destination (a 117-byte KEY
    /// certificate) was taken from bytes, but its 672 characters of base64 are refused
    /// when read back.
    #[test]
    fn what_is_taken_from_bytes_reads_back_from_base64() {
        let shaped = |len: usize| {
            let mut bytes = vec![7u8; KEY_AREA];
            let cert_len = (len - KEY_AREA - CERT_HEADER) as u16;
            bytes.push(CERT_KEY);
            bytes.extend_from_slice(&cert_len.to_be_bytes());
            bytes.extend_from_slice(&[0, 7, 0, 4]);
            bytes.resize(len, 0x74);
            bytes
        };
        assert_eq!(
            BookDestination::from_bytes(shaped(504)),
            Err(DestError::Shape(
                "longer than a destination's base64 may be"
            ))
        );
        let longest = BookDestination::from_bytes(shaped(MAX_LEN)).expect("fits");
        let text = longest.to_base64();
        assert_eq!(text.len(), MAX_BASE64_LEN);
        assert_eq!(BookDestination::parse_base64(&text), Ok(longest));
    }
}
