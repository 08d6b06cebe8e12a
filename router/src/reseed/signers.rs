//! Reseed signers: the X.509 certificates of the main network's reseed operators,
//! shipped with the router (`router/certificates/reseed/`), and the su3 signature check.
//!
//! A signer is named by the certificate's subject CN (`admin@stormycloud.org`), which
//! is what an su3 file's signer ID says. Signatures are RSA-SHA512-4096 as reseed
//! servers make them: PKCS#1 v1.5 padding around the bare SHA-512 digest of the signed
//! part, without the DigestInfo prefix of RFC 8017 (Java's "NONEwithRSA" over a hash,
//! which the su3 specification calls a raw signature).

use super::su3::Su3;
use super::ReseedError;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha512};
use std::collections::BTreeMap;
use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

/// RSA-4096: 512-byte signatures.
const KEY_BITS: usize = 4096;
/// OID 2.5.4.3, the subject's common name.
const COMMON_NAME: x509_cert::der::asn1::ObjectIdentifier =
    x509_cert::der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");

/// `(file name, PEM text)` of a certificate under `router/certificates/reseed/`.
macro_rules! shipped {
    ($file:literal) => {
        (
            $file,
            include_str!(concat!("../../certificates/reseed/", $file)),
        )
    };
}

/// The certificates the router ships, by file name.
const SHIPPED: &[(&str, &str)] = &[
    shipped!("acetone_at_mail.i2p.crt"),
    shipped!("admin_at_likogan.dev.crt"),
    shipped!("admin_at_stormycloud.org.crt"),
    shipped!("arnavbhatt288_at_mail.i2p.crt"),
    shipped!("creativecowpat_at_mail.i2p.crt"),
    shipped!("echelon3_at_mail.i2p.crt"),
    shipped!("hankhill19580_at_gmail.com.crt"),
    shipped!("hiduser0_at_mail.i2p.crt"),
    shipped!("hottuna_at_mail.i2p.crt"),
    shipped!("i2p-reseed_at_mk16.de.crt"),
    shipped!("igor_at_novg.net.crt"),
    shipped!("lazygravy_at_mail.i2p.crt"),
    shipped!("orignal_at_mail.i2p.crt"),
    shipped!("r4sas-reseed_at_mail.i2p.crt"),
    shipped!("rambler_at_mail.i2p.crt"),
    shipped!("reseed_at_diva.exchange.crt"),
    shipped!("sahil_at_mail.i2p.crt"),
];

/// The signers whose reseed bundles the router accepts.
#[derive(Debug, Clone, Default)]
pub struct Signers {
    /// By signer ID, lower case (IDs are e-mail addresses).
    keys: BTreeMap<String, RsaPublicKey>,
}

impl Signers {
    /// No signers: every bundle is refused (tests add their own).
    pub fn empty() -> Signers {
        Signers::default()
    }

    /// The main network's reseed signers, from the certificates shipped in the router.
    pub fn shipped() -> Signers {
        let mut signers = Signers::empty();
        for (file, pem) in SHIPPED {
            // Every shipped certificate is checked by a test; one that fails anyway is
            // left out rather than taking the others down.
            if let Err(e) = signers.add_certificate_pem(pem) {
                debug_assert!(false, "shipped certificate {file}: {e}");
            }
        }
        signers
    }

    /// Adds the signer of a PEM certificate; returns its ID (the subject CN).
    pub fn add_certificate_pem(&mut self, pem: &str) -> Result<String, ReseedError> {
        let bad = |why: String| ReseedError::Certificate(why);
        let cert = Certificate::from_pem(pem).map_err(|e| bad(e.to_string()))?;
        let tbs = &cert.tbs_certificate;
        let id = tbs
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find(|attr| attr.oid == COMMON_NAME)
            .and_then(|attr| std::str::from_utf8(attr.value.value()).ok())
            .ok_or_else(|| bad("no subject common name".into()))?
            .to_owned();
        let spki = tbs
            .subject_public_key_info
            .to_der()
            .map_err(|e| bad(e.to_string()))?;
        let key = RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| bad(format!("{id}: not an RSA key: {e}")))?;
        self.add_key(&id, key)?;
        Ok(id)
    }

    /// Adds a signer's RSA-4096 key under `id`.
    pub fn add_key(&mut self, id: &str, key: RsaPublicKey) -> Result<(), ReseedError> {
        if key.size() * 8 != KEY_BITS {
            return Err(ReseedError::Certificate(format!(
                "{id}: a {}-bit key, not {KEY_BITS}",
                key.size() * 8
            )));
        }
        self.keys.insert(id.to_ascii_lowercase(), key);
        Ok(())
    }

    /// The IDs of the known signers.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Checks the su3 file's signature by the signer it names.
    pub fn verify(&self, su3: &Su3<'_>) -> Result<(), ReseedError> {
        let key = self
            .keys
            .get(&su3.signer.to_ascii_lowercase())
            .ok_or_else(|| ReseedError::UnknownSigner(su3.signer.clone()))?;
        let digest = Sha512::digest(su3.signed);
        key.verify(Pkcs1v15Sign::new_unprefixed(), &digest, su3.signature)
            .map_err(|_| ReseedError::BadSignature(su3.signer.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_certificate_is_an_rsa_4096_signer_named_as_its_file() {
        let mut signers = Signers::empty();
        for (file, pem) in SHIPPED {
            let id = signers.add_certificate_pem(pem).expect(file);
            let expected = file.trim_end_matches(".crt").replace("_at_", "@");
            assert_eq!(id, expected);
        }
        assert_eq!(Signers::shipped().ids().count(), SHIPPED.len());
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/certificates/reseed");
        let mut files: Vec<String> = std::fs::read_dir(folder)
            .expect("the certificates folder")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let listed: Vec<&str> = SHIPPED.iter().map(|(f, _)| *f).collect();
        assert_eq!(files, listed, "every certificate file is shipped, in order");
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        let mut signers = Signers::empty();
        for pem in [
            "",
            "hello",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            assert!(matches!(
                signers.add_certificate_pem(pem),
                Err(ReseedError::Certificate(_))
            ));
        }
    }
}
