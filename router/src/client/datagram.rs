//! Datagrams: the four kinds an [`AppPayload`]'s data may hold, told apart only by the
//! I2CP protocol number (datagrams spec, "Datagram Type Identification": the kinds share
//! no header, so [`Datagram::parse`] needs the protocol the payload came with).
//!
//! ```text
//! Raw (18)        payload
//! Datagram1 (17)  from (Destination, 391 bytes for ours) | signature (64) | payload
//! Datagram2 (19)  from | flags (2) | [options: Mapping] | [offline signature]
//!                 | payload | signature (64)
//! Datagram3 (20)  from hash (32) | flags (2) | [options: Mapping] | payload
//! ```
//!
//! What is signed, and by whom:
//! - Datagram1: the payload itself, by `from`'s key. That holds for Ed25519 and every
//!   type but DSA_SHA1, whose signature is over the payload's SHA-256; like the rest of
//!   the crate we only read Ed25519 (sig type 7) destinations, so DSA ones are refused
//!   as [`DatagramError::UnsupportedSigType`].
//! - Datagram2: the target destination's hash (not in the datagram), then flags,
//!   options, offline block and payload as sent, by `from`'s key or, when offline
//!   signed, the transient key the offline block certifies. Flags bits 0-3 are the
//!   version (2; 3 for Datagram3), bit 4 announces options, bit 5 (Datagram2 only) an
//!   offline signature; other bits are ignored.
//! - Datagram3 and raw: nothing. A Datagram3's `from_hash` is the sender's claim.
//!
//! Replay prevention in Datagram2 is only across destinations: because the target's hash
//! is signed, a datagram sent to Bob does not verify at Carol, and receivers must drop
//! what does not verify with their own hash. Nothing in the format stops the same
//! datagram being replayed to the same target; below the application, the garlic
//! ratchet refuses replayed session messages. Note also that neither signature covers
//! `from` beyond its signing key: a Destination with the same key but other padding
//! would verify too (the hash differs, so replies would go elsewhere).
//!
//! Not done: sending offline-signed Datagram2 ([`DestinationKeys`] has no transient key;
//! received ones are verified and kept), DSA_SHA1 and the other signature types, and
//! any meaning for the options (the spec defines none).

use super::app_payload::{protocol, AppPayload};
use crate::crypto::DestinationKeys;
use crate::data::reader::Reader;
use crate::data::{DataError, Destination, Hash, Mapping, OfflineSignature};
use crate::time::Instant;

/// The largest datagram, whole, that [`Datagram::emit`] writes: what fits
/// [`AppPayload::MAX_ENCODED_LEN`] in stored blocks, 62,259 bytes (the encoding is then
/// the same size or smaller with compression).
pub const MAX_DATAGRAM_LEN: usize = AppPayload::MAX_ENCODED_LEN - AppPayload::STORED_OVERHEAD;

/// The largest payload any kind of datagram from one of our destinations can carry in
/// one garlic message, 61,802 bytes: [`MAX_DATAGRAM_LEN`] less Datagram2's overhead
/// without options or offline signature (a 391-byte Ed25519 destination, 2 bytes of
/// flags, a 64-byte signature), the largest of the four kinds. The datagram spec
/// recommends a few KB, at most 10 KB, for reliable delivery ("Datagram Size"): every
/// 1 KiB tunnel message a datagram spans is another chance to lose all of it.
pub const MAX_DATAGRAM_PAYLOAD_LEN: usize = MAX_DATAGRAM_LEN - 391 - 2 - 64;

/// The largest datagram [`Datagram::parse`] accepts: other routers' limits need not be
/// ours, so this is I2CP's "about 64 KB" (the advised decoding limit) rather than
/// [`MAX_DATAGRAM_LEN`].
pub const MAX_RECEIVED_LEN: usize = AppPayload::MAX_DECODED_LEN;

const DATAGRAM2_VERSION: u16 = 2;
const DATAGRAM3_VERSION: u16 = 3;
const VERSION_MASK: u16 = 0x000f;
const FLAG_OPTIONS: u16 = 0x0010;
const FLAG_OFFLINE: u16 = 0x0020;

/// A datagram, verified if it was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datagram {
    /// Protocol 18: application bytes, nothing else.
    Raw(Vec<u8>),
    /// Protocol 17, Datagram1: `from` signed `payload`.
    Repliable { from: Destination, payload: Vec<u8> },
    /// Protocol 19: `from` (or its offline-certified transient key) signed the target's
    /// hash, the options and the payload.
    Datagram2 {
        from: Destination,
        /// Empty when the datagram has none (flag bit 4 clear).
        options: Mapping,
        offline: Option<OfflineKeys>,
        payload: Vec<u8>,
    },
    /// Protocol 20: unsigned; `from_hash` names the sender for replies.
    Datagram3 {
        from_hash: Hash,
        options: Mapping,
        payload: Vec<u8>,
    },
}

/// The offline signature block of a received Datagram2: verified against `from`, and
/// kept as it came (the datagram's signature covers these bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineKeys {
    bytes: Vec<u8>,
    /// Boxed: a parsed key is large, and most datagrams have no offline block.
    signature: Box<OfflineSignature>,
}

impl OfflineKeys {
    /// When the transient key expires, in seconds since the epoch.
    pub fn expires_s(&self) -> u32 {
        self.signature.expires_s()
    }

    /// The transient Ed25519 key that signed the datagram.
    pub fn transient_public_key(&self) -> [u8; 32] {
        self.signature.transient_public_key()
    }

    /// Expires, transient sig type, transient key, destination's signature.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Why bytes are not a datagram, or a datagram cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatagramError {
    /// The protocol number is not one of the four datagram kinds.
    #[error("protocol {0} is not a datagram (17, 18, 19 or 20)")]
    NotADatagram(u8),
    /// The input ended inside a field.
    #[error("{what}: truncated, needed {needed} bytes but {available} available")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// The signature does not verify: forged, corrupted, or (Datagram2) meant for
    /// another destination.
    #[error("bad signature")]
    BadSignature,
    /// The sender's (or transient) key is not Ed25519.
    #[error("unsupported signature type {0} (only 7, Ed25519, is supported)")]
    UnsupportedSigType(u16),
    /// The flags' version is not the kind's (2 for Datagram2, 3 for Datagram3).
    #[error("datagram version {found}, expected {expected}")]
    BadVersion { expected: u16, found: u16 },
    /// Larger than [`MAX_RECEIVED_LEN`] (parsing) or [`MAX_DATAGRAM_LEN`] (emitting).
    #[error("datagram of {actual} bytes, at most {max}")]
    Oversize { max: usize, actual: usize },
    /// The offline signature's transient key has expired.
    #[error("offline signature expired at {expires_s} s")]
    OfflineExpired { expires_s: u32 },
    /// Emitting a signed datagram whose `from` is not the signing keys' destination.
    #[error("the datagram's sender is not the signing destination")]
    SignerMismatch,
    /// Emitting an offline-signed Datagram2, which needs the transient key.
    #[error("sending offline-signed datagrams is not implemented")]
    OfflineSigningUnsupported,
    /// Any other malformed structure inside (destination, mapping, offline block).
    #[error(transparent)]
    Malformed(DataError),
}

impl From<DataError> for DatagramError {
    fn from(e: DataError) -> Self {
        match e {
            DataError::Truncated {
                what,
                needed,
                available,
            } => DatagramError::Truncated {
                what,
                needed,
                available,
            },
            DataError::BadSignature => DatagramError::BadSignature,
            DataError::UnsupportedSigType(t) => DatagramError::UnsupportedSigType(t),
            other => DatagramError::Malformed(other),
        }
    }
}

impl Datagram {
    /// The I2CP protocol number this kind travels with.
    pub fn protocol(&self) -> u8 {
        match self {
            Datagram::Raw(_) => protocol::RAW,
            Datagram::Repliable { .. } => protocol::DATAGRAM,
            Datagram::Datagram2 { .. } => protocol::DATAGRAM2,
            Datagram::Datagram3 { .. } => protocol::DATAGRAM3,
        }
    }

    /// The application's bytes.
    pub fn payload(&self) -> &[u8] {
        match self {
            Datagram::Raw(payload)
            | Datagram::Repliable { payload, .. }
            | Datagram::Datagram2 { payload, .. }
            | Datagram::Datagram3 { payload, .. } => payload,
        }
    }

    /// Where replies go: the sender's hash, for every kind but raw.
    pub fn reply_to(&self) -> Option<Hash> {
        match self {
            Datagram::Raw(_) => None,
            Datagram::Repliable { from, .. } | Datagram::Datagram2 { from, .. } => {
                Some(from.hash())
            }
            Datagram::Datagram3 { from_hash, .. } => Some(*from_hash),
        }
    }

    /// Parses the data of an [`AppPayload`] that arrived with `protocol` at our
    /// destination `to`, verifying signatures (a Datagram2 with `to`'s hash) and, at
    /// `now`, an offline signature's expiry.
    pub fn parse(
        now: Instant,
        protocol: u8,
        bytes: &[u8],
        to: &Hash,
    ) -> Result<Datagram, DatagramError> {
        if bytes.len() > MAX_RECEIVED_LEN {
            return Err(DatagramError::Oversize {
                max: MAX_RECEIVED_LEN,
                actual: bytes.len(),
            });
        }
        match protocol {
            protocol::RAW => Ok(Datagram::Raw(bytes.to_vec())),
            protocol::DATAGRAM => parse_datagram1(bytes),
            protocol::DATAGRAM2 => parse_datagram2(now, bytes, to),
            protocol::DATAGRAM3 => parse_datagram3(bytes),
            other => Err(DatagramError::NotADatagram(other)),
        }
    }

    /// The encoding, signed with `keys` for the kinds that are signed (whose `from` must
    /// be `keys`' destination); `to` is the target's hash, which Datagram2 signs.
    pub fn emit(&self, keys: &DestinationKeys, to: &Hash) -> Result<Vec<u8>, DatagramError> {
        let len = self.encoded_len();
        if len > MAX_DATAGRAM_LEN {
            return Err(DatagramError::Oversize {
                max: MAX_DATAGRAM_LEN,
                actual: len,
            });
        }
        let mut out = Vec::with_capacity(len);
        match self {
            Datagram::Raw(payload) => out.extend_from_slice(payload),
            Datagram::Repliable { from, payload } => {
                check_signer(from, keys)?;
                out.extend_from_slice(from.as_bytes());
                out.extend_from_slice(&keys.sign(payload));
                out.extend_from_slice(payload);
            }
            Datagram::Datagram2 {
                from,
                options,
                offline,
                payload,
            } => {
                check_signer(from, keys)?;
                if offline.is_some() {
                    return Err(DatagramError::OfflineSigningUnsupported);
                }
                out.extend_from_slice(from.as_bytes());
                let body = out.len();
                emit_flags_and_options(DATAGRAM2_VERSION, options, &mut out);
                out.extend_from_slice(payload);
                let signature = keys.sign(&datagram2_signed_data(to, &out[body..]));
                out.extend_from_slice(&signature);
            }
            Datagram::Datagram3 {
                from_hash,
                options,
                payload,
            } => {
                out.extend_from_slice(from_hash.as_bytes());
                emit_flags_and_options(DATAGRAM3_VERSION, options, &mut out);
                out.extend_from_slice(payload);
            }
        }
        Ok(out)
    }

    /// The length of the encoding, signatures included.
    pub fn encoded_len(&self) -> usize {
        let options_len = |o: &Mapping| if o.is_empty() { 0 } else { o.encoded_len() };
        match self {
            Datagram::Raw(payload) => payload.len(),
            Datagram::Repliable { from, payload } => {
                from.as_bytes().len() + from.signature_len() + payload.len()
            }
            Datagram::Datagram2 {
                from,
                options,
                offline,
                payload,
            } => {
                let offline_len = offline.as_ref().map_or(0, |o| o.bytes.len());
                from.as_bytes().len()
                    + 2
                    + options_len(options)
                    + offline_len
                    + payload.len()
                    + from.signature_len()
            }
            Datagram::Datagram3 {
                options, payload, ..
            } => 32 + 2 + options_len(options) + payload.len(),
        }
    }
}

fn check_signer(from: &Destination, keys: &DestinationKeys) -> Result<(), DatagramError> {
    if from == keys.destination() {
        Ok(())
    } else {
        Err(DatagramError::SignerMismatch)
    }
}

/// Flags with `version`, and the options if there are any.
fn emit_flags_and_options(version: u16, options: &Mapping, out: &mut Vec<u8>) {
    let flags = version | if options.is_empty() { 0 } else { FLAG_OPTIONS };
    out.extend_from_slice(&flags.to_be_bytes());
    if !options.is_empty() {
        options.emit(out);
    }
}

/// The target's hash, then everything after `from` up to the signature.
fn datagram2_signed_data(to: &Hash, body: &[u8]) -> Vec<u8> {
    let mut signed = Vec::with_capacity(32 + body.len());
    signed.extend_from_slice(to.as_bytes());
    signed.extend_from_slice(body);
    signed
}

/// Reads flags, checks the version, and reads the options if the flags announce them.
fn read_flags_and_options(
    r: &mut Reader<'_>,
    expected: u16,
    what: &'static str,
) -> Result<(u16, Mapping), DatagramError> {
    let flags = r.u16(what)?;
    let found = flags & VERSION_MASK;
    if found != expected {
        return Err(DatagramError::BadVersion { expected, found });
    }
    let options = if flags & FLAG_OPTIONS != 0 {
        Mapping::read(r)?
    } else {
        Mapping::new()
    };
    Ok((flags, options))
}

fn parse_datagram1(bytes: &[u8]) -> Result<Datagram, DatagramError> {
    let mut r = Reader::new(bytes);
    let from = Destination::read(&mut r)?;
    let signature = r.take(from.signature_len(), "datagram1: signature")?;
    let payload = r.rest();
    from.verify(payload, signature)?;
    Ok(Datagram::Repliable {
        from,
        payload: payload.to_vec(),
    })
}

fn parse_datagram2(now: Instant, bytes: &[u8], to: &Hash) -> Result<Datagram, DatagramError> {
    let mut r = Reader::new(bytes);
    let from = Destination::read(&mut r)?;
    let body_start = r.position();
    let (flags, options) = read_flags_and_options(&mut r, DATAGRAM2_VERSION, "datagram2: flags")?;
    let offline = if flags & FLAG_OFFLINE != 0 {
        let start = r.position();
        let signature = OfflineSignature::read(&mut r, &from)?;
        if now.as_secs() >= u64::from(signature.expires_s()) {
            return Err(DatagramError::OfflineExpired {
                expires_s: signature.expires_s(),
            });
        }
        Some(OfflineKeys {
            bytes: r.since(start).to_vec(),
            signature: Box::new(signature),
        })
    } else {
        None
    };
    let signature_len = offline
        .as_ref()
        .map_or(from.signature_len(), |o| o.signature.signature_len());
    let rest = r.rest();
    let payload_len = rest
        .len()
        .checked_sub(signature_len)
        .ok_or(DatagramError::Truncated {
            what: "datagram2: signature",
            needed: signature_len,
            available: rest.len(),
        })?;
    let (payload, signature) = rest.split_at(payload_len);
    let body = bytes
        .get(body_start..bytes.len() - signature_len)
        .unwrap_or_default();
    let signed = datagram2_signed_data(to, body);
    match &offline {
        Some(o) => o.signature.verify(&signed, signature)?,
        None => from.verify(&signed, signature)?,
    }
    Ok(Datagram::Datagram2 {
        from,
        options,
        offline,
        payload: payload.to_vec(),
    })
}

fn parse_datagram3(bytes: &[u8]) -> Result<Datagram, DatagramError> {
    let mut r = Reader::new(bytes);
    let from_hash = Hash(r.array("datagram3: from hash")?);
    let (_, options) = read_flags_and_options(&mut r, DATAGRAM3_VERSION, "datagram3: flags")?;
    Ok(Datagram::Datagram3 {
        from_hash,
        options,
        payload: r.rest().to_vec(),
    })
}

#[cfg(test)]
mod tests;
