//! The su3 signed file format (the I2P "Software Update Specification", SU3 File
//! Specification): a 40-byte header, the version, the signer's ID, the content, and a
//! signature over everything before it.
//!
//! ```text
//!  0..6   "I2Psu3"          6  unused     7  format version = 0
//!  8..10  signature type    10..12  signature length
//! 12 unused   13 version length (>= 16)   14 unused   15 signer ID length
//! 16..24  content length    24 unused   25 file type   26 unused   27 content type
//! 28..40  unused            40.. version, signer ID, content, signature
//! ```
//!
//! Parsing checks the structure only (lengths add up to the file exactly); what the
//! signature and the types must be is the verifier's business ([`super::Signers`]).

/// The magic at the start of every su3 file.
pub const MAGIC: &[u8; 6] = b"I2Psu3";
/// Fixed header length.
pub const HEADER_LEN: usize = 40;
/// Signature type RSA-SHA512-4096, what reseed servers sign with.
pub const SIG_RSA_SHA512_4096: u16 = 6;
/// File type of a zip archive.
pub const FILE_ZIP: u8 = 0;
/// Content type of reseed data.
pub const CONTENT_RESEED: u8 = 3;
/// The version field is at least this long (zero-padded).
const MIN_VERSION_LEN: usize = 16;

/// A parsed su3 file, borrowing its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Su3<'a> {
    pub sig_type: u16,
    /// The version text, without its zero padding (reseed bundles: a UNIX time).
    pub version: String,
    /// Who signed it (`name@example.com`): names the certificate to check against.
    pub signer: String,
    pub file_type: u8,
    pub content_type: u8,
    pub content: &'a [u8],
    /// Everything the signature covers: the header through the end of the content.
    pub signed: &'a [u8],
    pub signature: &'a [u8],
}

/// Why bytes are not an su3 file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Su3Error {
    #[error("{0} bytes, shorter than the {HEADER_LEN}-byte header")]
    Truncated(usize),
    #[error("no I2Psu3 magic")]
    Magic,
    #[error("su3 format version {0}, only 0 is known")]
    FormatVersion(u8),
    #[error("version field of {0} bytes, under the minimum of {MIN_VERSION_LEN}")]
    VersionLength(usize),
    #[error("empty signer ID")]
    NoSigner,
    #[error("{what} is not UTF-8")]
    NotUtf8 { what: &'static str },
    #[error("the header says {expected} bytes in all, the file has {actual}")]
    Length { expected: u128, actual: usize },
}

impl<'a> Su3<'a> {
    /// Parses `bytes`, which must be exactly one su3 file.
    pub fn parse(bytes: &'a [u8]) -> Result<Su3<'a>, Su3Error> {
        let header: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(Su3Error::Truncated(bytes.len()))?;
        if &header[..6] != MAGIC {
            return Err(Su3Error::Magic);
        }
        if header[7] != 0 {
            return Err(Su3Error::FormatVersion(header[7]));
        }
        let sig_type = u16::from_be_bytes([header[8], header[9]]);
        let sig_len = usize::from(u16::from_be_bytes([header[10], header[11]]));
        let version_len = usize::from(header[13]);
        let signer_len = usize::from(header[15]);
        let mut content_len = [0u8; 8];
        content_len.copy_from_slice(&header[16..24]);
        let content_len = u64::from_be_bytes(content_len);
        if version_len < MIN_VERSION_LEN {
            return Err(Su3Error::VersionLength(version_len));
        }
        if signer_len == 0 {
            return Err(Su3Error::NoSigner);
        }
        // In u128: a hostile content length cannot overflow the sum.
        let expected = HEADER_LEN as u128
            + version_len as u128
            + signer_len as u128
            + u128::from(content_len)
            + sig_len as u128;
        if expected != bytes.len() as u128 {
            return Err(Su3Error::Length {
                expected,
                actual: bytes.len(),
            });
        }
        // The sum equals the slice length, so every offset below is in bounds and the
        // content length fits a usize.
        let signer_at = HEADER_LEN + version_len;
        let content_at = signer_at + signer_len;
        let signature_at = bytes.len() - sig_len;
        let text = |range: std::ops::Range<usize>, what| {
            std::str::from_utf8(&bytes[range]).map_err(|_| Su3Error::NotUtf8 { what })
        };
        let version = text(HEADER_LEN..signer_at, "version")?;
        Ok(Su3 {
            sig_type,
            version: version.trim_end_matches('\0').to_owned(),
            signer: text(signer_at..content_at, "signer ID")?.to_owned(),
            file_type: header[25],
            content_type: header[27],
            content: &bytes[content_at..signature_at],
            signed: &bytes[..signature_at],
            signature: &bytes[signature_at..],
        })
    }
}

/// The header fields of an su3 file to write (tests and tools; the router only reads
/// su3 files).
#[derive(Debug, Clone)]
pub struct Builder<'a> {
    pub sig_type: u16,
    pub sig_len: u16,
    pub version: &'a str,
    pub signer: &'a str,
    pub file_type: u8,
    pub content_type: u8,
}

impl Builder<'_> {
    /// A reseed bundle's header: RSA-SHA512-4096, zip, reseed data.
    pub fn reseed<'a>(version: &'a str, signer: &'a str) -> Builder<'a> {
        Builder {
            sig_type: SIG_RSA_SHA512_4096,
            sig_len: 512,
            version,
            signer,
            file_type: FILE_ZIP,
            content_type: CONTENT_RESEED,
        }
    }

    /// The file around `content`, signed by `sign` over the signed part. Fields too
    /// long for their length bytes are cut.
    pub fn build(&self, content: &[u8], sign: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
        let mut version = self.version.as_bytes().to_vec();
        version.resize(version.len().clamp(MIN_VERSION_LEN, 255), 0);
        let signer = &self.signer.as_bytes()[..self.signer.len().min(255)];
        let mut bytes = Vec::with_capacity(HEADER_LEN + version.len() + content.len() + 600);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&[0, 0]);
        bytes.extend_from_slice(&self.sig_type.to_be_bytes());
        bytes.extend_from_slice(&self.sig_len.to_be_bytes());
        bytes.extend_from_slice(&[0, version.len() as u8, 0, signer.len() as u8]);
        bytes.extend_from_slice(&(content.len() as u64).to_be_bytes());
        bytes.extend_from_slice(&[0, self.file_type, 0, self.content_type]);
        bytes.extend_from_slice(&[0; 12]);
        bytes.extend_from_slice(&version);
        bytes.extend_from_slice(signer);
        bytes.extend_from_slice(content);
        let signature = sign(&bytes);
        bytes.extend_from_slice(&signature);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(content: &[u8]) -> Vec<u8> {
        let builder = Builder {
            sig_len: 4,
            ..Builder::reseed("1700000000", "me@mail.i2p")
        };
        builder.build(content, |_| vec![1, 2, 3, 4])
    }

    #[test]
    fn fields_are_read_back() {
        let bytes = sample(b"zip here");
        let su3 = Su3::parse(&bytes).expect("parses");
        assert_eq!(su3.sig_type, 6);
        assert_eq!(su3.version, "1700000000");
        assert_eq!(su3.signer, "me@mail.i2p");
        assert_eq!(
            (su3.file_type, su3.content_type),
            (FILE_ZIP, CONTENT_RESEED)
        );
        assert_eq!(su3.content, b"zip here");
        assert_eq!(su3.signature, [1, 2, 3, 4]);
        assert_eq!(su3.signed.len(), bytes.len() - 4);
    }

    #[test]
    fn truncated_and_inconsistent_files_are_refused() {
        let bytes = sample(b"zip here");
        for cut in [0, 5, 39] {
            assert_eq!(Su3::parse(&bytes[..cut]), Err(Su3Error::Truncated(cut)));
        }
        assert!(matches!(
            Su3::parse(&bytes[..bytes.len() - 1]),
            Err(Su3Error::Length { .. })
        ));
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert_eq!(Su3::parse(&magic), Err(Su3Error::Magic));
        let mut huge = bytes.clone();
        huge[16..24].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(Su3::parse(&huge), Err(Su3Error::Length { .. })));
        let mut short_version = bytes.clone();
        short_version[13] = 3;
        assert_eq!(Su3::parse(&short_version), Err(Su3Error::VersionLength(3)));
        let mut format = bytes;
        format[7] = 1;
        assert_eq!(Su3::parse(&format), Err(Su3Error::FormatVersion(1)));
    }

    proptest! {
        #[test]
        fn round_trip(content in prop::collection::vec(any::<u8>(), 0..300), version in "[0-9]{1,20}") {
            let builder = Builder { sig_len: 3, ..Builder::reseed(&version, "a@b") };
            let bytes = builder.build(&content, |_| vec![9, 9, 9]);
            let su3 = Su3::parse(&bytes).expect("parses");
            prop_assert_eq!(su3.content, &content[..]);
            prop_assert_eq!(su3.version, version);
        }

        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), magic in any::<bool>()) {
            let mut bytes = bytes;
            if magic && bytes.len() >= 8 {
                bytes[..6].copy_from_slice(MAGIC);
                bytes[7] = 0;
            }
            let _ = Su3::parse(&bytes);
        }
    }
}
