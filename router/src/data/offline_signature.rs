//! OfflineSignature (spec: Common structures, OfflineSignature; proposal 123).

use super::reader::Reader;
use super::{DataError, Destination, KeyCertificate};
use ed25519_dalek::{Signature, VerifyingKey};

/// The optional block of a LeaseSet2Header that keeps a destination's long-term signing
/// key offline: the destination signs a transient key with an expiry, and the transient
/// key signs the LeaseSet2.
///
/// Only exists verified: [`OfflineSignature::read`] checks the destination's signature
/// over the expiry, the transient signing type and the transient key. Only Ed25519 (7)
/// transient keys are supported, like destination keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineSignature {
    expires_s: u32,
    transient_key: VerifyingKey,
}

impl OfflineSignature {
    /// Reads expires (4), sig type (2), transient key, destination signature.
    pub(crate) fn read(
        r: &mut Reader<'_>,
        destination: &Destination,
    ) -> Result<OfflineSignature, DataError> {
        Self::read_signed_by(r, destination.signature_len(), |msg, sig| {
            destination.verify(msg, sig)
        })
    }

    /// Reads the block whose signature, `signature_len` bytes, `verify` checks: the
    /// destination's key in a LeaseSet2, the blinded key in an encrypted LeaseSet
    /// (spec: Encrypted LeaseSet, "Verified with the blinded public key").
    pub(crate) fn read_signed_by(
        r: &mut Reader<'_>,
        signature_len: usize,
        verify: impl FnOnce(&[u8], &[u8]) -> Result<(), DataError>,
    ) -> Result<OfflineSignature, DataError> {
        let start = r.position();
        let expires_s = r.u32("offline signature: expires")?;
        let sig_type = r.u16("offline signature: transient signing key type")?;
        if sig_type != KeyCertificate::SIG_ED25519 {
            return Err(DataError::UnsupportedSigType(sig_type));
        }
        let key: [u8; 32] = r.array("offline signature: transient signing key")?;
        let transient_key = VerifyingKey::from_bytes(&key).map_err(|_| DataError::InvalidKey {
            what: "offline signature: transient signing key",
        })?;
        let signed = r.since(start);
        let signature = r.take(signature_len, "offline signature: signature")?;
        verify(signed, signature)?;
        Ok(OfflineSignature {
            expires_s,
            transient_key,
        })
    }

    /// When the transient key stops being valid, in seconds since the epoch.
    pub fn expires_s(&self) -> u32 {
        self.expires_s
    }

    /// The transient Ed25519 key that signs the LeaseSet2.
    pub fn transient_public_key(&self) -> [u8; 32] {
        self.transient_key.to_bytes()
    }

    /// Length of signatures made with the transient key.
    pub fn signature_len(&self) -> usize {
        Signature::BYTE_SIZE
    }

    /// Verifies a signature made with the transient key (strict, as for identities).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), DataError> {
        let sig = Signature::from_slice(sig).map_err(|_| DataError::BadSignature)?;
        self.transient_key
            .verify_strict(msg, &sig)
            .map_err(|_| DataError::BadSignature)
    }
}
