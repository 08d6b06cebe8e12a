//! The two I2NP header forms (spec: I2NP, Common structures, I2NP message header).

use super::I2npError;
use crate::data::reader::Reader;
use crate::data::{DataError, Hash};

/// type (1) + msg_id (4) + expiration Date (8) + size (2) + checksum (1).
pub const STANDARD_HEADER_LEN: usize = 16;
/// type (1) + msg_id (4) + expiration in seconds (4); NTCP2/SSU2 frames carry the size.
pub const SHORT_HEADER_LEN: usize = 9;
/// The standard header's 2-byte size field bounds every body.
pub const MAX_BODY_LEN: usize = u16::MAX as usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub type_id: u8,
    pub id: u32,
    pub expiration_ms: u64,
}

/// The checksum is the first byte of SHA-256 of the body; still required on send for
/// older routers, though transports with authenticated encryption skip checking it.
fn checksum(body: &[u8]) -> u8 {
    Hash::digest(body).0[0]
}

pub(super) fn frame_standard(type_id: u8, id: u32, expiration_ms: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(STANDARD_HEADER_LEN + body.len());
    out.push(type_id);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&expiration_ms.to_be_bytes());
    // Callers check the body against MAX_BODY_LEN first.
    out.extend_from_slice(&u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.push(checksum(body));
    out.extend_from_slice(body);
    out
}

pub(super) fn parse_standard(bytes: &[u8]) -> Result<(Header, &[u8]), I2npError> {
    let mut r = Reader::new(bytes);
    let header = Header {
        type_id: r.u8("I2NP header: type")?,
        id: r.u32("I2NP header: message id")?,
        expiration_ms: r.u64("I2NP header: expiration")?,
    };
    let size = r.u16("I2NP header: size")?;
    let expected = r.u8("I2NP header: checksum")?;
    let body = r.take(usize::from(size), "I2NP message body")?;
    r.finish("I2NP message")?;
    let actual = checksum(body);
    if actual != expected {
        return Err(I2npError::BadChecksum { expected, actual });
    }
    Ok((header, body))
}

/// Milliseconds to the short header's seconds, rounded to nearest; saturates in 2106
/// (the spec notes the field wraps then; an offset will be needed by that date).
fn ms_to_secs(ms: u64) -> u32 {
    u32::try_from(ms.saturating_add(500) / 1000).unwrap_or(u32::MAX)
}

pub(super) fn frame_short(type_id: u8, id: u32, expiration_ms: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SHORT_HEADER_LEN + body.len());
    out.push(type_id);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&ms_to_secs(expiration_ms).to_be_bytes());
    out.extend_from_slice(body);
    out
}

pub(super) fn parse_short(bytes: &[u8]) -> Result<(Header, &[u8]), I2npError> {
    let mut r = Reader::new(bytes);
    let header = Header {
        type_id: r.u8("I2NP short header: type")?,
        id: r.u32("I2NP short header: message id")?,
        expiration_ms: u64::from(r.u32("I2NP short header: expiration")?) * 1000,
    };
    let body = r.rest();
    if body.len() > MAX_BODY_LEN {
        return Err(DataError::TooLarge {
            what: "I2NP message body",
            max: MAX_BODY_LEN,
            actual: body.len(),
        }
        .into());
    }
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_to_nearest_and_saturate() {
        assert_eq!(ms_to_secs(1499), 1);
        assert_eq!(ms_to_secs(1500), 2);
        assert_eq!(ms_to_secs(u64::MAX), u32::MAX);
    }
}
