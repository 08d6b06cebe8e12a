//! The blocks inside an NTCP2 frame's plaintext (spec: NTCP2, "Unencrypted data"): each is
//! a type byte, a 2-byte big-endian size and that many bytes of data.

use super::Ntcp2Error;
use rand::RngCore;

pub(crate) const DATE_TIME: u8 = 0;
pub(crate) const OPTIONS: u8 = 1;
pub(crate) const ROUTER_INFO: u8 = 2;
pub(crate) const I2NP: u8 = 3;
pub(crate) const TERMINATION: u8 = 4;
pub(crate) const PADDING: u8 = 254;

/// Type byte and size.
pub(crate) const HEADER_LEN: usize = 3;
/// A frame is at most 65535 bytes with its 16-byte MAC, so its plaintext at most 65519.
pub(crate) const MAX_PAYLOAD_LEN: usize = 65_519;
/// The largest block data that fits in a frame.
pub(crate) const MAX_DATA_LEN: usize = MAX_PAYLOAD_LEN - HEADER_LEN;

/// One parsed block, borrowing from the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block<'a> {
    /// The sender's clock, seconds since the epoch.
    DateTime(u32),
    /// Padding and traffic-shaping parameters; their negotiation is unspecified, so the
    /// bytes are kept unread.
    Options(&'a [u8]),
    /// A RouterInfo (not gzip'd); `flood` is the flood-request flag bit.
    RouterInfo { flood: bool, info: &'a [u8] },
    /// An I2NP message with the 9-byte short header.
    I2np(&'a [u8]),
    /// The sender is closing: frames it received, the reason code, optional extra data.
    Termination { frames_received: u64, reason: u8 },
    /// Random bytes, only the count matters.
    Padding(usize),
    /// A type we do not know; receivers must ignore these (spec: "treat them as padding").
    Unknown(u8),
}

/// Parses a frame's plaintext into blocks. Padding, if present, must come last, and
/// nothing but Padding may follow a Termination (spec: "Block Ordering Rules").
pub(crate) fn parse(payload: &[u8]) -> Result<Vec<Block<'_>>, Ntcp2Error> {
    let mut blocks = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let [kind, hi, lo, tail @ ..] = rest else {
            return Err(Ntcp2Error::Payload("truncated block header"));
        };
        match blocks.last() {
            Some(Block::Padding(_)) => {
                return Err(Ntcp2Error::Payload("block after padding"));
            }
            Some(Block::Termination { .. }) if *kind != PADDING => {
                return Err(Ntcp2Error::Payload(
                    "block other than padding after termination",
                ));
            }
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        if tail.len() < len {
            return Err(Ntcp2Error::Payload("block longer than its frame"));
        }
        let (data, after) = tail.split_at(len);
        blocks.push(read_block(*kind, data)?);
        rest = after;
    }
    Ok(blocks)
}

fn read_block(kind: u8, data: &[u8]) -> Result<Block<'_>, Ntcp2Error> {
    Ok(match kind {
        DATE_TIME => {
            let bytes: [u8; 4] = data
                .try_into()
                .map_err(|_| Ntcp2Error::Payload("DateTime block is not 4 bytes"))?;
            Block::DateTime(u32::from_be_bytes(bytes))
        }
        OPTIONS => Block::Options(data),
        ROUTER_INFO => {
            let (flag, info) = data
                .split_first()
                .ok_or(Ntcp2Error::Payload("empty RouterInfo block"))?;
            Block::RouterInfo {
                flood: flag & 1 == 1,
                info,
            }
        }
        I2NP => Block::I2np(data),
        TERMINATION => {
            if data.len() < 9 {
                return Err(Ntcp2Error::Payload(
                    "Termination block shorter than 9 bytes",
                ));
            }
            let mut frames = [0u8; 8];
            frames.copy_from_slice(&data[..8]);
            Block::Termination {
                frames_received: u64::from_be_bytes(frames),
                reason: data[8],
            }
        }
        PADDING => Block::Padding(data.len()),
        other => Block::Unknown(other),
    })
}

/// Appends a block; `data` must be at most [`MAX_DATA_LEN`] bytes (callers check).
pub(crate) fn push(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
    debug_assert!(
        data.len() <= MAX_DATA_LEN,
        "block data checked by the caller"
    );
    out.push(kind);
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// Appends a RouterInfo block: flag byte, then the RouterInfo as signed.
pub(crate) fn push_router_info(out: &mut Vec<u8>, flood: bool, info: &[u8]) {
    out.push(ROUTER_INFO);
    out.extend_from_slice(&((info.len() + 1) as u16).to_be_bytes());
    out.push(u8::from(flood));
    out.extend_from_slice(info);
}

pub(crate) fn push_termination(out: &mut Vec<u8>, frames_received: u64, reason: u8) {
    let mut data = [0u8; 9];
    data[..8].copy_from_slice(&frames_received.to_be_bytes());
    data[8] = reason;
    push(out, TERMINATION, &data);
}

/// Appends a Padding block of `len` random bytes.
pub(crate) fn push_padding(out: &mut Vec<u8>, len: usize, rng: &mut impl RngCore) {
    let start = out.len() + HEADER_LEN;
    push(out, PADDING, &vec![0; len]);
    rng.fill_bytes(&mut out[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// Owned blocks to generate; borrowed [`Block`]s are made from them.
    #[derive(Debug, Clone)]
    enum Owned {
        DateTime(u32),
        Options(Vec<u8>),
        RouterInfo(bool, Vec<u8>),
        I2np(Vec<u8>),
        Unknown(u8, Vec<u8>),
    }

    fn arb_owned() -> impl Strategy<Value = Owned> {
        let bytes = || proptest::collection::vec(any::<u8>(), 0..300);
        prop_oneof![
            any::<u32>().prop_map(Owned::DateTime),
            bytes().prop_map(Owned::Options),
            (any::<bool>(), bytes()).prop_map(|(f, b)| Owned::RouterInfo(f, b)),
            bytes().prop_map(Owned::I2np),
            (5u8..254, bytes()).prop_map(|(k, b)| Owned::Unknown(k, b)),
        ]
    }

    proptest! {
        #[test]
        fn blocks_round_trip(
            blocks in proptest::collection::vec(arb_owned(), 0..8),
            termination in proptest::option::of((any::<u64>(), any::<u8>())),
            padding in proptest::option::of(0usize..100),
        ) {
            let mut out = Vec::new();
            let mut expected = Vec::new();
            for block in &blocks {
                match block {
                    Owned::DateTime(t) => {
                        push(&mut out, DATE_TIME, &t.to_be_bytes());
                        expected.push(Block::DateTime(*t));
                    }
                    Owned::Options(b) => {
                        push(&mut out, OPTIONS, b);
                        expected.push(Block::Options(b));
                    }
                    Owned::RouterInfo(flood, b) => {
                        push_router_info(&mut out, *flood, b);
                        expected.push(Block::RouterInfo { flood: *flood, info: b });
                    }
                    Owned::I2np(b) => {
                        push(&mut out, I2NP, b);
                        expected.push(Block::I2np(b));
                    }
                    Owned::Unknown(k, b) => {
                        push(&mut out, *k, b);
                        expected.push(Block::Unknown(*k));
                    }
                }
            }
            if let Some((frames_received, reason)) = termination {
                push_termination(&mut out, frames_received, reason);
                expected.push(Block::Termination { frames_received, reason });
            }
            if let Some(len) = padding {
                push_padding(&mut out, len, &mut ChaCha20Rng::seed_from_u64(len as u64));
                expected.push(Block::Padding(len));
            }
            prop_assert_eq!(parse(&out)?, expected);
        }

        #[test]
        fn arbitrary_payloads_never_panic(bytes in any::<Vec<u8>>()) {
            let _ = parse(&bytes);
        }
    }

    #[test]
    fn ordering_rules() {
        let mut rng = ChaCha20Rng::seed_from_u64(0);
        let mut after_padding = Vec::new();
        push_padding(&mut after_padding, 2, &mut rng);
        push(&mut after_padding, I2NP, &[1]);
        assert!(parse(&after_padding).is_err());

        let mut two_paddings = Vec::new();
        push_padding(&mut two_paddings, 1, &mut rng);
        push_padding(&mut two_paddings, 1, &mut rng);
        assert!(parse(&two_paddings).is_err());

        let mut after_termination = Vec::new();
        push_termination(&mut after_termination, 0, 0);
        push(&mut after_termination, DATE_TIME, &[0; 4]);
        assert!(parse(&after_termination).is_err());
    }

    #[test]
    fn malformed_blocks_are_errors() {
        assert!(parse(&[I2NP, 0]).is_err());
        assert!(parse(&[I2NP, 0, 2, 1]).is_err());
        assert!(parse(&[DATE_TIME, 0, 3, 1, 2, 3]).is_err());
        assert!(parse(&[TERMINATION, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(parse(&[ROUTER_INFO, 0, 0]).is_err());
    }
}
