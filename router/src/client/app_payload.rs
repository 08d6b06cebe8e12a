//! The payload of a Data message as I2CP sends it: application bytes in a gzip stream
//! whose header carries the ports and the protocol (I2CP overview, "I2CP Payload Data
//! Format and Multiplexing"; spec: I2CP, Payload).
//!
//! ```text
//! bytes 0-2   1f 8b 08        gzip magic and CM = deflate (RFC 1952)
//! byte  3     FLG             we send 0; receivers accept FEXTRA, FNAME, FCOMMENT, FHCRC
//! bytes 4-5   source port     (gzip MTIME, low half)  big-endian, as every I2P integer
//! bytes 6-7   dest port       (gzip MTIME, high half) big-endian
//! byte  8     XFL             we send 0; ignored
//! byte  9     protocol        (gzip OS) 6 streaming, 17/18/19/20 datagrams
//! ...         deflate data    any block type: stored, fixed or dynamic Huffman
//! last 8      CRC-32, ISIZE   of the uncompressed data, little-endian (RFC 1952)
//! ```
//!
//! The gzip CRC-32 is the only integrity check streaming has (streaming API, "Data
//! Integrity"), so [`AppPayload::decode`] checks it and the length, and refuses trailing
//! bytes: I2CP carries exactly one gzip member per Data message.
//!
//! # When to compress
//!
//! I2CP lets a sender turn the effort down to level 0 ("i2cp.gzip=false turns the gzip
//! effort setting to 0"), which yields stored deflate blocks; a receiver must accept that
//! as well as compressed data, and [`AppPayload::decode`] runs a full inflater, so it
//! takes either. [`AppPayload::encode`] with `compress` deflates at level 1 and falls back
//! to stored blocks when that does not shrink the data, so it is never longer than the
//! stored encoding. [`compress_by_default`] is our policy: compress Datagram1 and
//! Datagram2, which begin with a Destination whose padding is one 32-byte seed repeated
//! (proposal 161): level 1 saves about 290 bytes; store the rest. Streaming data and raw
//! datagrams are mostly bytes that applications have already compressed or encrypted
//! (TLS, images, gzip'd HTTP), where deflating costs CPU for nothing; a streaming SYN,
//! which carries a Destination too, is the streaming layer's call. Deflating is not free:
//! setting the deflater up costs tens of microseconds per message, as much as an Ed25519
//! signature (router/BENCHMARKS.md, "Application payloads and datagrams").
//!
//! # Bounded decompression
//!
//! The decoder stops after `max_len + 1` bytes of output, so a small stream that inflates
//! to gigabytes (a decompression bomb) costs at most `max_len` bytes of memory and the
//! time to produce them before it is refused.
//!
//! Not done: gzip streams of several members, and the experimental protocol numbers
//! (224-254) have no names here; they pass through as numbers.

use crate::data::reader::Reader;
use crate::data::DataError;
use flate2::bufread::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use std::io::{ErrorKind, Read, Write};

/// I2CP protocol numbers (gzip OS byte). Any other number may be used by an application,
/// except streaming's; 224-254 are reserved for experiments, 255 for future expansion.
pub mod protocol {
    /// The streaming library (TCP-like connections).
    pub const STREAMING: u8 = 6;
    /// Repliable, signed datagrams (Datagram1).
    pub const DATAGRAM: u8 = 17;
    /// Raw datagrams: no sender, no signature.
    pub const RAW: u8 = 18;
    /// Datagram2 (proposal 163): signed, with replay prevention across destinations.
    pub const DATAGRAM2: u8 = 19;
    /// Datagram3 (proposal 163): repliable, unsigned.
    pub const DATAGRAM3: u8 = 20;
}

/// Our compression policy (module docs, "When to compress"): only the datagram kinds
/// that start with a compressible Destination.
pub fn compress_by_default(protocol: u8) -> bool {
    matches!(protocol, protocol::DATAGRAM | protocol::DATAGRAM2)
}

/// Application data with its I2CP ports and protocol, as one Data message carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppPayload {
    pub protocol: u8,
    pub from_port: u16,
    pub to_port: u16,
    pub data: Vec<u8>,
}

/// Why bytes are not an I2CP payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The fixed 10-byte header (or an optional header field) is not gzip as I2CP uses it.
    #[error("bad gzip header: {0}")]
    BadHeader(&'static str),
    /// The input ended inside the header, the deflate data or the trailer.
    #[error("truncated gzip stream: ended in the {0}")]
    Truncated(&'static str),
    /// The deflate data is invalid.
    #[error("corrupt deflate data: {0}")]
    CorruptDeflate(String),
    /// The data inflates to more than the caller's limit.
    #[error("decompressed data exceeds {max} bytes")]
    TooLarge { max: usize },
    /// The CRC-32 in the trailer does not match the data.
    #[error("gzip CRC-32 mismatch")]
    BadCrc,
    /// The length in the trailer (ISIZE, modulo 2^32) does not match the data.
    #[error("gzip length mismatch: trailer says {trailer}, data has {actual} bytes")]
    LengthMismatch { trailer: u32, actual: usize },
    /// Bytes after the gzip member.
    #[error("{0} trailing bytes after the gzip stream")]
    TrailingBytes(usize),
}

/// Only header fields are read through the crate's `Reader`, so truncation is all it can
/// report.
impl From<DataError> for PayloadError {
    fn from(e: DataError) -> Self {
        match e {
            DataError::Truncated { what, .. } => PayloadError::Truncated(what),
            _ => PayloadError::BadHeader("unreadable field"),
        }
    }
}

/// gzip header flags (RFC 1952, 2.3.1).
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FLAGS_RESERVED: u8 = 0xe0;
const MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
/// CRC-32 and ISIZE.
const TRAILER_LEN: usize = 8;
/// A stored deflate block: BFINAL/BTYPE byte, LEN and NLEN, then at most 65535 bytes.
const STORED_BLOCK_HEADER_LEN: usize = 5;
const STORED_BLOCK_MAX: usize = u16::MAX as usize;

impl AppPayload {
    /// The fixed gzip header.
    pub const HEADER_LEN: usize = 10;

    /// What [`AppPayload::encode`] adds to at most 65535 bytes of data without
    /// compression: header, one stored block's header, trailer.
    pub const STORED_OVERHEAD: usize = Self::HEADER_LEN + STORED_BLOCK_HEADER_LEN + TRAILER_LEN;

    /// The largest encoding that fits one garlic message as [`super::Clients`] sends it,
    /// in the worst case: 62,282 bytes. Where it comes from, outermost first:
    ///
    /// - 63,708: the largest I2NP message an outbound tunnel carries, 64 fragments, a
    ///   first of 1003 - 43 bytes (TUNNEL delivery instructions with a message id) and
    ///   63 follow-ons of 996 (spec: tunnel-message, "I2NP Message Maximum Size");
    /// - less 20: the Garlic message's 16-byte I2NP header and 4-byte length;
    /// - less 96: a New Session's ephemeral key, encrypted static key and two MACs (an
    ///   Existing Session needs only 24, but the first message is a New Session);
    /// - less 7: the New Session's DateTime block;
    /// - less 61: the DeliveryStatus clove (block header 3, TUNNEL delivery 37, short
    ///   I2NP header 9, body 12);
    /// - less 1193: our LeaseSet2 in a DatabaseStore clove, bundled with the first
    ///   message to a peer and after each change (block header 3, LOCAL delivery 1, short
    ///   header 9, store key, type and token 37, and a LeaseSet2 of 1143 bytes: a
    ///   391-byte destination, one X25519 key and 16 leases);
    /// - less 49: the Data clove itself (block header 3, DESTINATION delivery 33, short
    ///   header 9, Data length 4).
    ///
    /// The datagram spec's advice is much smaller: drops compound per 1 KiB tunnel
    /// message, so it recommends a few KB, 10 KB at most, for reliable delivery
    /// (datagrams spec, "Datagram Size").
    pub const MAX_ENCODED_LEN: usize = 63_708 - 20 - 96 - 7 - 61 - 1193 - 49;

    /// The largest decoded data we advise callers of [`AppPayload::decode`] to accept:
    /// "Actual message length limit is about 64 KB" (spec: I2CP, Payload notes).
    pub const MAX_DECODED_LEN: usize = 64 * 1024;

    /// The gzip stream: deflated at level 1 if `compress` and that is shorter, else in
    /// stored blocks (module docs, "When to compress").
    pub fn encode(&self, compress: bool) -> Vec<u8> {
        let stored_len = Self::stored_len(self.data.len());
        let mut out = Vec::with_capacity(stored_len);
        self.emit_header(&mut out);
        let compressed = compress
            .then(|| deflate(&self.data))
            .filter(|deflated| Self::HEADER_LEN + deflated.len() + TRAILER_LEN < stored_len);
        match compressed {
            Some(deflated) => out.extend_from_slice(&deflated),
            None => emit_stored(&self.data, &mut out),
        }
        out.extend_from_slice(&crc32fast::hash(&self.data).to_le_bytes());
        // ISIZE is the length modulo 2^32 (RFC 1952, 2.3.1).
        out.extend_from_slice(&(self.data.len() as u32).to_le_bytes());
        out
    }

    /// The length of `encode(false)` for `data_len` bytes of data; `encode(true)` is
    /// never longer.
    pub fn stored_len(data_len: usize) -> usize {
        let blocks = data_len.div_ceil(STORED_BLOCK_MAX).max(1);
        Self::HEADER_LEN + blocks * STORED_BLOCK_HEADER_LEN + data_len + TRAILER_LEN
    }

    /// Parses one gzip member filling `bytes` and inflates at most `max_len` bytes of
    /// data; more is [`PayloadError::TooLarge`], whatever the rest would have been.
    pub fn decode(bytes: &[u8], max_len: usize) -> Result<AppPayload, PayloadError> {
        let mut r = Reader::new(bytes);
        let (protocol, from_port, to_port) = read_header(&mut r)?;
        let mut inflater = DeflateDecoder::new(r.rest());
        let mut data = Vec::new();
        let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
        (&mut inflater)
            .take(limit)
            .read_to_end(&mut data)
            .map_err(|e| match e.kind() {
                ErrorKind::UnexpectedEof => PayloadError::Truncated("deflate data"),
                _ => PayloadError::CorruptDeflate(e.to_string()),
            })?;
        if data.len() > max_len {
            return Err(PayloadError::TooLarge { max: max_len });
        }
        // The inflater reads no further than the end of the last block.
        let mut trailer = Reader::new(inflater.into_inner());
        let crc = u32::from_le_bytes(trailer.array("trailer")?);
        let isize = u32::from_le_bytes(trailer.array("trailer")?);
        if trailer.remaining() > 0 {
            return Err(PayloadError::TrailingBytes(trailer.remaining()));
        }
        if crc != crc32fast::hash(&data) {
            return Err(PayloadError::BadCrc);
        }
        if isize != data.len() as u32 {
            return Err(PayloadError::LengthMismatch {
                trailer: isize,
                actual: data.len(),
            });
        }
        Ok(AppPayload {
            protocol,
            from_port,
            to_port,
            data,
        })
    }

    fn emit_header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&MAGIC);
        out.push(0); // FLG: no optional fields
        out.extend_from_slice(&self.from_port.to_be_bytes());
        out.extend_from_slice(&self.to_port.to_be_bytes());
        out.push(0); // XFL
        out.push(self.protocol);
    }
}

/// Reads the fixed header and skips the optional fields its flags announce (RFC 1952,
/// 2.3.1); returns protocol, source port and destination port.
fn read_header(r: &mut Reader<'_>) -> Result<(u8, u16, u16), PayloadError> {
    let start = r.position();
    if r.array::<3>("header")? != MAGIC {
        return Err(PayloadError::BadHeader("not gzip with deflate (1f 8b 08)"));
    }
    let flags = r.u8("header")?;
    if flags & FLAGS_RESERVED != 0 {
        return Err(PayloadError::BadHeader("reserved flag bits set"));
    }
    let from_port = r.u16("header")?;
    let to_port = r.u16("header")?;
    let _xfl = r.u8("header")?;
    let protocol = r.u8("header")?;
    if flags & FEXTRA != 0 {
        let len = u16::from_le_bytes(r.array("header extra field")?);
        r.take(usize::from(len), "header extra field")?;
    }
    for (flag, what) in [(FNAME, "header file name"), (FCOMMENT, "header comment")] {
        if flags & flag != 0 {
            while r.u8(what)? != 0 {}
        }
    }
    if flags & FHCRC != 0 {
        // The low 16 bits of the CRC-32 of the header up to here.
        let expected = crc32fast::hash(r.since(start)) as u16;
        if u16::from_le_bytes(r.array("header CRC")?) != expected {
            return Err(PayloadError::BadHeader("header CRC mismatch"));
        }
    }
    Ok((protocol, from_port, to_port))
}

/// Raw deflate at level 1: cheap, and the repeated padding of a Destination is found at
/// any level.
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(data.len() / 2), Compression::fast());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .expect("deflating into a Vec cannot fail")
}

/// Stored deflate blocks (RFC 1951, 3.2.4), written here rather than by the deflater at
/// level 0 so the overhead is exact: 5 bytes per 65535 bytes of data (the deflater's
/// blocks are smaller), and always at least one block, the last.
fn emit_stored(data: &[u8], out: &mut Vec<u8>) {
    let mut chunks = data.chunks(STORED_BLOCK_MAX).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        return;
    }
    while let Some(chunk) = chunks.next() {
        // BFINAL in bit 0, BTYPE 00 in bits 1-2; the rest of the byte pads to a boundary.
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16; // chunks of at most 65535
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payload(data: Vec<u8>) -> AppPayload {
        AppPayload {
            protocol: protocol::DATAGRAM2,
            from_port: 0x1234,
            to_port: 0xabcd,
            data,
        }
    }

    /// Deterministic bytes that deflate cannot shrink.
    fn noise(len: usize) -> Vec<u8> {
        use rand::{RngCore, SeedableRng};
        let mut bytes = vec![0; len];
        rand_chacha::ChaCha20Rng::seed_from_u64(len as u64).fill_bytes(&mut bytes);
        bytes
    }

    #[test]
    fn header_carries_ports_and_protocol() {
        let encoded = payload(b"hello".to_vec()).encode(false);
        assert_eq!(
            &encoded[..10],
            &[0x1f, 0x8b, 0x08, 0, 0x12, 0x34, 0xab, 0xcd, 0, 19]
        );
        // One final stored block of 5 bytes, then CRC-32 and ISIZE.
        assert_eq!(&encoded[10..15], &[1, 5, 0, 0xfa, 0xff]);
        assert_eq!(&encoded[15..20], b"hello");
        assert_eq!(&encoded[20..24], &crc32fast::hash(b"hello").to_le_bytes());
        assert_eq!(&encoded[24..], &[5, 0, 0, 0]);
        assert_eq!(encoded.len(), AppPayload::stored_len(5));
    }

    #[test]
    fn other_gzip_writers_are_read() {
        // flate2's own gzip writer, with a file name, a comment, an extra field and a
        // header CRC, at the best level: ports and protocol still come from bytes 4-9.
        let mut writer = flate2::GzBuilder::new()
            .mtime(u32::from_le_bytes([0x00, 0x07, 0x1f, 0x90]))
            .operating_system(protocol::STREAMING)
            .filename("name")
            .comment("comment")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), Compression::best());
        let data = b"GET / HTTP/1.1\r\nHost: example.i2p\r\n\r\n".repeat(20);
        writer.write_all(&data).expect("to a Vec");
        let mut bytes = writer.finish().expect("to a Vec");
        let decoded = AppPayload::decode(&bytes, 1 << 16).expect("valid gzip");
        assert_eq!(
            (decoded.protocol, decoded.from_port, decoded.to_port),
            (protocol::STREAMING, 7, 8080)
        );
        assert_eq!(decoded.data, data);

        // Reserved flag bits are refused.
        bytes[3] |= 0x80;
        assert_eq!(
            AppPayload::decode(&bytes, 1 << 16),
            Err(PayloadError::BadHeader("reserved flag bits set"))
        );
    }

    #[test]
    fn header_crc_is_checked() {
        let mut bytes = payload(vec![]).encode(false);
        bytes[3] = FHCRC;
        let crc = crc32fast::hash(&bytes[..10]) as u16;
        bytes.splice(10..10, crc.to_le_bytes());
        assert!(AppPayload::decode(&bytes, 0).is_ok());
        bytes[10] ^= 1;
        assert_eq!(
            AppPayload::decode(&bytes, 0),
            Err(PayloadError::BadHeader("header CRC mismatch"))
        );
    }

    #[test]
    fn compression_only_when_it_pays() {
        let text = payload(b"a destination's padding repeats ".repeat(40));
        assert!(text.encode(true).len() < text.encode(false).len() / 4);
        let random = payload(noise(4000));
        assert_eq!(random.encode(true), random.encode(false));
        assert!(compress_by_default(protocol::DATAGRAM2));
        assert!(!compress_by_default(protocol::STREAMING));
        assert!(!compress_by_default(protocol::RAW));
    }

    #[test]
    fn trailer_errors_are_named() {
        let good = payload(b"some data".to_vec()).encode(true);
        let n = good.len();
        let mut bad_crc = good.clone();
        bad_crc[n - 8] ^= 1;
        assert_eq!(AppPayload::decode(&bad_crc, 100), Err(PayloadError::BadCrc));
        let mut bad_len = good.clone();
        bad_len[n - 4] ^= 1;
        assert!(matches!(
            AppPayload::decode(&bad_len, 100),
            Err(PayloadError::LengthMismatch { actual: 9, .. })
        ));
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            AppPayload::decode(&trailing, 100),
            Err(PayloadError::TrailingBytes(1))
        );
        assert_eq!(
            AppPayload::decode(&good[..n - 3], 100),
            Err(PayloadError::Truncated("trailer"))
        );
        assert_eq!(
            AppPayload::decode(&good[..12], 100),
            Err(PayloadError::Truncated("deflate data"))
        );
        assert_eq!(
            AppPayload::decode(&good[..7], 100),
            Err(PayloadError::Truncated("header"))
        );
        let mut not_gzip = good.clone();
        not_gzip[2] = 7;
        assert!(matches!(
            AppPayload::decode(&not_gzip, 100),
            Err(PayloadError::BadHeader(_))
        ));
        // Stored block whose NLEN is not the complement of LEN.
        let mut corrupt = payload(b"x".to_vec()).encode(false);
        corrupt[13] ^= 1;
        assert!(matches!(
            AppPayload::decode(&corrupt, 100),
            Err(PayloadError::CorruptDeflate(_))
        ));
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_limit() {
        // 1 GiB of zeros deflates to about 1 MiB; stream it rather than hold the input.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            encoder.write_all(&zeros).expect("to a Vec");
        }
        let bomb = encoder.finish().expect("to a Vec");
        assert!(bomb.len() < 2 << 20);
        assert_eq!(
            AppPayload::decode(&bomb, AppPayload::MAX_DECODED_LEN),
            Err(PayloadError::TooLarge {
                max: AppPayload::MAX_DECODED_LEN
            })
        );
    }

    #[test]
    fn stored_blocks_split_at_65535() {
        for len in [0, 1, 65_535, 65_536, 140_000] {
            let p = payload(noise(len));
            let encoded = p.encode(false);
            assert_eq!(encoded.len(), AppPayload::stored_len(len), "length {len}");
            assert_eq!(AppPayload::decode(&encoded, len), Ok(p));
        }
        assert_eq!(
            AppPayload::stored_len(65_535),
            65_535 + AppPayload::STORED_OVERHEAD
        );
    }

    proptest! {
        #[test]
        fn round_trips(
            protocol: u8,
            from_port: u16,
            to_port: u16,
            data in proptest::collection::vec(0u8..4, 0..3000),
            compress: bool,
        ) {
            let p = AppPayload { protocol, from_port, to_port, data };
            let encoded = p.encode(compress);
            prop_assert!(encoded.len() <= AppPayload::stored_len(p.data.len()));
            prop_assert_eq!(AppPayload::decode(&encoded, p.data.len()), Ok(p.clone()));
            if !p.data.is_empty() {
                prop_assert_eq!(
                    AppPayload::decode(&encoded, p.data.len() - 1),
                    Err(PayloadError::TooLarge { max: p.data.len() - 1 })
                );
            }
        }

        #[test]
        fn prefixes_are_truncated(data in proptest::collection::vec(any::<u8>(), 0..500), compress: bool, cut: proptest::sample::Index) {
            let encoded = payload(data).encode(compress);
            let cut = cut.index(encoded.len());
            prop_assert!(matches!(
                AppPayload::decode(&encoded[..cut], 1000),
                Err(PayloadError::Truncated(_))
            ));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = AppPayload::decode(&bytes, 4096);
            // With a valid-looking header, the deflate decoder gets the random bytes.
            let mut gz = MAGIC.to_vec();
            gz.extend_from_slice(&[0; 7]);
            gz.extend_from_slice(&bytes);
            let _ = AppPayload::decode(&gz, 4096);
        }

        #[test]
        fn mutations_never_panic(
            bytes in proptest::collection::vec(0u8..8, 0..400)
                .prop_flat_map(|d| crate::data::strategies::mutated(payload(d).encode(true)))
        ) {
            if let Ok(p) = AppPayload::decode(&bytes, 4096) {
                prop_assert!(p.data.len() <= 4096);
            }
        }
    }
}
