//! Certificate and Key Certificate (spec: Common structures, Certificate).

use super::reader::Reader;
use super::DataError;

/// The certificate that ends a KeysAndCert.
///
/// Routers and destinations today carry a KEY certificate naming their key types; a NULL
/// certificate means the legacy ElGamal + DSA_SHA1 pair. The other types (HashCash,
/// Hidden, Signed, Multiple) are obsolete and kept opaque.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Certificate {
    Null,
    Key(KeyCertificate),
    Other { cert_type: u8, payload: Vec<u8> },
}

/// The payload of a KEY certificate (type 5).
///
/// `excess` holds key bytes that did not fit the 384-byte key area; for the key types
/// we support (Ed25519, X25519) it is empty, and the spec cautions to enforce that.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyCertificate {
    pub sig_type: u16,
    pub crypto_type: u16,
    pub excess: Vec<u8>,
}

impl KeyCertificate {
    /// EdDSA_SHA512_Ed25519: 32-byte public key, 64-byte signature.
    pub const SIG_ED25519: u16 = 7;
    /// DSA_SHA1, implied by a NULL certificate.
    pub const SIG_DSA_SHA1: u16 = 0;
    /// ElGamal, implied by a NULL certificate; still the unused key type of most destinations.
    pub const CRYPTO_ELGAMAL: u16 = 0;
    /// ECIES-X25519: 32-byte public key; the router crypto type since 0.9.48.
    pub const CRYPTO_X25519: u16 = 4;

    /// Ed25519 signing + the unused ElGamal key field, what modern destinations declare
    /// (their encryption keys are in the LeaseSet2, proposal 123).
    pub fn ed25519_elgamal() -> KeyCertificate {
        KeyCertificate {
            sig_type: Self::SIG_ED25519,
            crypto_type: Self::CRYPTO_ELGAMAL,
            excess: Vec::new(),
        }
    }

    /// Ed25519 signing + X25519 encryption, what modern routers publish.
    pub fn ed25519_x25519() -> KeyCertificate {
        KeyCertificate {
            sig_type: Self::SIG_ED25519,
            crypto_type: Self::CRYPTO_X25519,
            excess: Vec::new(),
        }
    }
}

impl Certificate {
    pub const TYPE_NULL: u8 = 0;
    pub const TYPE_HASHCASH: u8 = 1;
    pub const TYPE_HIDDEN: u8 = 2;
    pub const TYPE_SIGNED: u8 = 3;
    pub const TYPE_MULTIPLE: u8 = 4;
    pub const TYPE_KEY: u8 = 5;

    pub fn cert_type(&self) -> u8 {
        match self {
            Certificate::Null => Self::TYPE_NULL,
            Certificate::Key(_) => Self::TYPE_KEY,
            Certificate::Other { cert_type, .. } => *cert_type,
        }
    }

    /// (signing type, crypto type) the certificate implies; `None` for obsolete types.
    pub fn key_types(&self) -> Option<(u16, u16)> {
        match self {
            Certificate::Null => {
                Some((KeyCertificate::SIG_DSA_SHA1, KeyCertificate::CRYPTO_ELGAMAL))
            }
            Certificate::Key(k) => Some((k.sig_type, k.crypto_type)),
            Certificate::Other { .. } => None,
        }
    }

    /// Parses exactly one certificate filling `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Certificate, DataError> {
        let mut r = Reader::new(bytes);
        let cert = Certificate::read(&mut r)?;
        r.finish("certificate")?;
        Ok(cert)
    }

    /// Type byte, 2-byte payload length, payload.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Certificate, DataError> {
        let cert_type = r.u8("certificate: type")?;
        let len = r.u16("certificate: length")?;
        let payload = r.take(usize::from(len), "certificate: payload")?;
        match cert_type {
            Self::TYPE_NULL if payload.is_empty() => Ok(Certificate::Null),
            Self::TYPE_NULL => Err(DataError::Invalid {
                what: "certificate",
                reason: "NULL certificate with a payload",
            }),
            Self::TYPE_KEY => {
                let mut p = Reader::new(payload);
                let sig_type = p.u16("key certificate: signing key type")?;
                let crypto_type = p.u16("key certificate: crypto key type")?;
                Ok(Certificate::Key(KeyCertificate {
                    sig_type,
                    crypto_type,
                    excess: p.rest().to_vec(),
                }))
            }
            _ => Ok(Certificate::Other {
                cert_type,
                payload: payload.to_vec(),
            }),
        }
    }

    pub(crate) fn payload_len(&self) -> usize {
        match self {
            Certificate::Null => 0,
            Certificate::Key(k) => 4 + k.excess.len(),
            Certificate::Other { payload, .. } => payload.len(),
        }
    }

    /// Appends the encoding; fails only if the payload exceeds the 2-byte length.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), DataError> {
        let len = u16::try_from(self.payload_len()).map_err(|_| DataError::TooLarge {
            what: "certificate: payload",
            max: usize::from(u16::MAX),
            actual: self.payload_len(),
        })?;
        out.push(self.cert_type());
        out.extend_from_slice(&len.to_be_bytes());
        match self {
            Certificate::Null => {}
            Certificate::Key(k) => {
                out.extend_from_slice(&k.sig_type.to_be_bytes());
                out.extend_from_slice(&k.crypto_type.to_be_bytes());
                out.extend_from_slice(&k.excess);
            }
            Certificate::Other { payload, .. } => out.extend_from_slice(payload),
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, DataError> {
        let mut out = Vec::with_capacity(3 + self.payload_len());
        self.emit(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        assert_eq!(Certificate::Null.to_bytes(), Ok(vec![0, 0, 0]));
        let key = Certificate::Key(KeyCertificate::ed25519_x25519());
        assert_eq!(key.to_bytes(), Ok(vec![5, 0, 4, 0, 7, 0, 4]));
        assert_eq!(Certificate::parse(&[5, 0, 4, 0, 7, 0, 4]), Ok(key));
        assert!(Certificate::parse(&[0, 0, 1, 9]).is_err());
        assert!(Certificate::parse(&[5, 0, 2, 0, 7]).is_err());
        assert!(Certificate::parse(&[5, 0, 4, 0, 7, 0]).is_err());
    }

    fn arb_certificate() -> impl Strategy<Value = Certificate> {
        prop_oneof![
            Just(Certificate::Null),
            (
                any::<u16>(),
                any::<u16>(),
                proptest::collection::vec(any::<u8>(), 0..8)
            )
                .prop_map(|(sig_type, crypto_type, excess)| Certificate::Key(
                    KeyCertificate {
                        sig_type,
                        crypto_type,
                        excess
                    }
                )),
            (
                (1u8..=255).prop_filter("KEY has its own variant", |t| *t != Certificate::TYPE_KEY),
                proptest::collection::vec(any::<u8>(), 0..8)
            )
                .prop_map(|(cert_type, payload)| Certificate::Other { cert_type, payload }),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(cert in arb_certificate()) {
            let bytes = cert.to_bytes()?;
            prop_assert_eq!(Certificate::parse(&bytes)?, cert);
        }

        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
            let _ = Certificate::parse(&bytes);
        }
    }
}
