//! Reseeding from su3 bundles: what a router of the main network bootstraps from.
//!
//! A reseed bundle is an su3 file ([`su3`]) of content type 3 (reseed data) and file
//! type 0 (zip), signed RSA-SHA512-4096 by one of the reseed operators whose
//! certificates the router ships ([`Signers`]); the zip holds `routerInfo-*.dat`
//! files ([`bundle`]). [`open_bundle`] checks all of it and hands back the RouterInfo
//! files, still to be parsed and verified like any other RouterInfo.
//!
//! Everything here is sans-IO: bytes in, files out. Reading the file (and, later,
//! fetching it over HTTPS) is the driver's ([`crate::host`]).

pub mod bundle;
pub mod signers;
pub mod su3;

pub use bundle::{BundleFile, Limits};
pub use signers::Signers;
pub use su3::{Su3, Su3Error};

/// Why a reseed bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReseedError {
    // Not `#[from]`: that makes it a source too, and error chains would say it twice.
    #[error("not a valid su3 file: {0}")]
    Su3(Su3Error),
    #[error("{what} is over the limit of {max} bytes")]
    TooLarge { what: &'static str, max: u64 },
    #[error("su3 content type {0} is not reseed data (3)")]
    ContentType(u8),
    #[error("su3 file type {0} is not zip (0)")]
    FileType(u8),
    #[error("su3 signature type {0} is not RSA-SHA512-4096 (6), which reseed signers use")]
    SigType(u16),
    #[error("unknown reseed signer {0:?}: the router ships no certificate for it")]
    UnknownSigner(String),
    #[error("the signature does not verify with the certificate of {0:?}")]
    BadSignature(String),
    #[error("bad signer certificate: {0}")]
    Certificate(String),
    #[error("malformed zip: {0}")]
    Zip(String),
    #[error("the zip has {count} entries, more than the {max} a reseed bundle may have")]
    TooManyFiles { count: usize, max: usize },
    #[error("zip entry {name:?} inflates to more than {max} bytes")]
    EntryTooLarge { name: String, max: u64 },
}

impl From<Su3Error> for ReseedError {
    fn from(e: Su3Error) -> Self {
        ReseedError::Su3(e)
    }
}

/// A checked bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The su3 version (reseed servers put the UNIX time of the bundle there).
    pub version: String,
    pub signer: String,
    pub files: Vec<BundleFile>,
}

/// Checks an su3 reseed bundle (structure, types, signer, signature, zip, bounds) and
/// returns its RouterInfo files.
pub fn open_bundle(
    bytes: &[u8],
    signers: &Signers,
    limits: &Limits,
) -> Result<Bundle, ReseedError> {
    if bytes.len() > limits.max_su3_bytes {
        return Err(ReseedError::TooLarge {
            what: "the su3 file",
            max: limits.max_su3_bytes as u64,
        });
    }
    let su3 = Su3::parse(bytes)?;
    if su3.content_type != su3::CONTENT_RESEED {
        return Err(ReseedError::ContentType(su3.content_type));
    }
    if su3.file_type != su3::FILE_ZIP {
        return Err(ReseedError::FileType(su3.file_type));
    }
    if su3.sig_type != su3::SIG_RSA_SHA512_4096 {
        return Err(ReseedError::SigType(su3.sig_type));
    }
    // The signature before the zip: nothing unsigned is ever inflated.
    signers.verify(&su3)?;
    let files = bundle::router_info_files(su3.content, limits)?;
    Ok(Bundle {
        version: su3.version,
        signer: su3.signer,
        files,
    })
}

#[cfg(test)]
pub(crate) mod tests;
