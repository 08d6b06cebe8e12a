//! The payload section of ECIES garlic messages (spec: ECIES-X25519-AEAD-Ratchet,
//! "Payload", proposal 144): what a New Session, New Session Reply, Existing Session or
//! router message holds once decrypted.
//!
//! It is a sequence of blocks, each a type byte, a 2-byte big-endian size and that many
//! bytes of data, the same framing as NTCP2's data phase; the block types and the rules
//! about their order are different, so this does not share NTCP2's parser.
//!
//! Parsing reads each block's data from its own slice, so a malformed block can never
//! read into the next one, and checks the ordering rules that hold for every message
//! kind; [`PayloadKind::check`] adds those of one kind.

use super::GarlicError;
use crate::data::reader::Reader;
use crate::data::{DataError, Hash, TunnelId};
use crate::i2np::{read_tunnel_id, I2npMessage, KnownRouterInfos};

/// Block type numbers (spec: "Payload Section Decrypted data"). Others are reserved:
/// 1-3 and 10, 224-253 for experiments, 255 for extension.
pub mod block_type {
    pub const DATE_TIME: u8 = 0;
    pub const TERMINATION: u8 = 4;
    pub const OPTIONS: u8 = 5;
    pub const MESSAGE_NUMBERS: u8 = 6;
    pub const NEXT_KEY: u8 = 7;
    pub const ACK: u8 = 8;
    pub const ACK_REQUEST: u8 = 9;
    pub const GARLIC_CLOVE: u8 = 11;
    pub const PADDING: u8 = 254;

    /// The types above, which [`super::Block::Unknown`] must not use.
    pub(super) const KNOWN: [u8; 9] = [
        DATE_TIME,
        TERMINATION,
        OPTIONS,
        MESSAGE_NUMBERS,
        NEXT_KEY,
        ACK,
        ACK_REQUEST,
        GARLIC_CLOVE,
        PADDING,
    ];
}

/// The largest payload: a ChaChaPoly frame is at most 65535 bytes, 16 of them the MAC.
pub const MAX_PAYLOAD_LEN: usize = 65519;
/// The largest data of one block: a whole payload less the block's 3-byte header.
pub const MAX_BLOCK_DATA_LEN: usize = MAX_PAYLOAD_LEN - BLOCK_HEADER_LEN;
const BLOCK_HEADER_LEN: usize = 3;
/// "There may be up to two Next Key blocks in a single frame": one per direction.
const MAX_NEXT_KEY_BLOCKS: usize = 2;
/// "The maximum Key ID is 32767."
const MAX_KEY_ID: u16 = 32767;

/// One block of a payload section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Unix time in seconds, for replay prevention; required first in New Session
    /// messages and in every message to a router.
    DateTime(u32),
    /// One I2NP message and where to deliver it.
    Clove(Clove),
    /// The sender drops the session (Existing Session only). `reason` 0 is a normal
    /// close, 1 "termination received"; `data` has no specified format.
    Termination { reason: u8, data: Vec<u8> },
    /// Session parameters. Their format is still "for further study" in the
    /// specification, so they are carried as they came.
    Options(Vec<u8>),
    /// The index of the last tag sent in the previous tag set (PN).
    MessageNumbers { previous: u16 },
    /// A DH ratchet step: the sender's next key, or a request for the peer's.
    NextKey(NextKey),
    /// Acknowledges messages that carried an ACK Request; never empty.
    Ack(Vec<Ack>),
    /// Asks for an Ack of this message. The block's one flags byte has no defined bits,
    /// so whatever it carries is ignored, and a zero byte is sent.
    AckRequest,
    /// `n` bytes of padding, sent as zeros: they are encrypted, so zeros are as good as
    /// random bytes and take no randomness.
    Padding(u16),
    /// A block of a type this implementation does not know. Receivers must ignore such
    /// blocks and treat them as padding, but they are kept so that a parsed payload
    /// re-emits as it came.
    Unknown { block_type: u8, data: Vec<u8> },
}

/// A garlic clove as an ECIES payload carries it (spec: "Garlic Clove"): delivery
/// instructions and an I2NP message with the 9-byte short header. The clove id,
/// certificate and 8-byte expiration of ElGamal cloves are gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clove {
    pub delivery: CloveDelivery,
    /// Its expiration travels in whole seconds: milliseconds are rounded on emit.
    pub message: I2npMessage,
}

/// Garlic clove delivery instructions (spec: I2NP, "Garlic Clove Delivery
/// Instructions"), NOT the tunnel message delivery instructions of
/// `crate::tunnel::data`, whose layout differs.
///
/// ```text
/// flag (1): bit 7 encrypted (never set), bits 6-5 type, bit 4 delay (never set)
/// to hash (32): DESTINATION, ROUTER, TUNNEL (the gateway) | tunnel id (4): TUNNEL
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloveDelivery {
    /// To the router (or destination) that decrypted the garlic.
    Local,
    /// To a local destination, by its hash.
    Destination(Hash),
    Router(Hash),
    /// Into a tunnel at its gateway, inside a TunnelGateway message.
    Tunnel {
        gateway: Hash,
        tunnel: TunnelId,
    },
}

/// The Next DH Ratchet Public Key block (spec: "Next DH Ratchet Public Key").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextKey {
    /// The key is for the reverse direction (a reply to a request), not the forward one.
    pub reverse: bool,
    /// Asks the peer for its next reverse key; only on forward keys.
    pub request_reverse: bool,
    /// 0 to 32767, counting the sender's keys.
    pub key_id: u16,
    /// The next X25519 public key; absent when only requesting one.
    pub key: Option<[u8; 32]>,
}

/// One acknowledged message: the tag set and message number it was sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub tag_set_id: u16,
    pub n: u16,
}

/// The message kinds whose payloads have extra rules (spec: "Block Ordering Rules").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// A New Session message, and every one-time message to a router: DateTime first,
    /// then only cloves, options and padding.
    NewSession,
    /// Cloves, options and padding only.
    NewSessionReply,
    /// Any block; the general rules only.
    ExistingSession,
}

impl PayloadKind {
    /// Checks `blocks` (as [`parse_payload`] returned them) against this kind's rules.
    /// Blocks of unknown types are allowed everywhere: receivers must ignore them.
    pub fn check(self, blocks: &[Block]) -> Result<(), GarlicError> {
        let rest = match self {
            PayloadKind::ExistingSession => return Ok(()),
            PayloadKind::NewSessionReply => blocks,
            PayloadKind::NewSession => match blocks.split_first() {
                Some((Block::DateTime(_), rest)) => rest,
                _ => {
                    return Err(GarlicError::BlockOrder(
                        "a new session payload must start with a DateTime block",
                    ))
                }
            },
        };
        let allowed = |block: &Block| {
            matches!(
                block,
                Block::Clove(_) | Block::Options(_) | Block::Padding(_) | Block::Unknown { .. }
            )
        };
        if rest.iter().all(allowed) {
            Ok(())
        } else {
            Err(GarlicError::BlockOrder(
                "new session payloads carry only cloves, options and padding",
            ))
        }
    }
}

impl Block {
    /// The type number the block is framed with.
    pub fn block_type(&self) -> u8 {
        match self {
            Block::DateTime(_) => block_type::DATE_TIME,
            Block::Clove(_) => block_type::GARLIC_CLOVE,
            Block::Termination { .. } => block_type::TERMINATION,
            Block::Options(_) => block_type::OPTIONS,
            Block::MessageNumbers { .. } => block_type::MESSAGE_NUMBERS,
            Block::NextKey(_) => block_type::NEXT_KEY,
            Block::Ack(_) => block_type::ACK,
            Block::AckRequest => block_type::ACK_REQUEST,
            Block::Padding(_) => block_type::PADDING,
            Block::Unknown { block_type, .. } => *block_type,
        }
    }

    /// Parses the data of one block of type `block_type`, which must fill `data`.
    fn read(
        block_type: u8,
        data: &[u8],
        known: &dyn KnownRouterInfos,
    ) -> Result<Block, GarlicError> {
        let mut r = Reader::new(data);
        let block = match block_type {
            block_type::DATE_TIME => Block::DateTime(r.u32("garlic payload: date time")?),
            block_type::GARLIC_CLOVE => Block::Clove(Clove::read(&mut r, known)?),
            block_type::TERMINATION => Block::Termination {
                reason: r.u8("garlic payload: termination reason")?,
                data: r.rest().to_vec(),
            },
            block_type::OPTIONS => Block::Options(r.rest().to_vec()),
            block_type::MESSAGE_NUMBERS => Block::MessageNumbers {
                previous: r.u16("garlic payload: message numbers")?,
            },
            block_type::NEXT_KEY => Block::NextKey(NextKey::read(&mut r)?),
            block_type::ACK => Block::Ack(read_acks(&mut r)?),
            block_type::ACK_REQUEST => {
                r.rest();
                Block::AckRequest
            }
            block_type::PADDING => {
                // The whole payload is below 65536 bytes, so this never saturates.
                Block::Padding(u16::try_from(r.rest().len()).unwrap_or(u16::MAX))
            }
            other => Block::Unknown {
                block_type: other,
                data: r.rest().to_vec(),
            },
        };
        r.finish("garlic payload: block")?;
        Ok(block)
    }

    /// Appends the block's data (not its header).
    fn emit_data(&self, out: &mut Vec<u8>) -> Result<(), GarlicError> {
        match self {
            Block::DateTime(secs) => out.extend_from_slice(&secs.to_be_bytes()),
            Block::Clove(clove) => clove.emit(out)?,
            Block::Termination { reason, data } => {
                out.push(*reason);
                out.extend_from_slice(data);
            }
            Block::Options(data) => out.extend_from_slice(data),
            Block::MessageNumbers { previous } => out.extend_from_slice(&previous.to_be_bytes()),
            Block::NextKey(next) => next.emit(out)?,
            Block::Ack(acks) => {
                if acks.is_empty() {
                    return Err(invalid("garlic payload: ack", "no messages acknowledged"));
                }
                for ack in acks {
                    out.extend_from_slice(&ack.tag_set_id.to_be_bytes());
                    out.extend_from_slice(&ack.n.to_be_bytes());
                }
            }
            Block::AckRequest => out.push(0),
            Block::Padding(len) => out.resize(out.len() + usize::from(*len), 0),
            Block::Unknown { block_type, data } => {
                if block_type::KNOWN.contains(block_type) {
                    return Err(invalid(
                        "garlic payload: unknown block",
                        "its type is a known one",
                    ));
                }
                out.extend_from_slice(data);
            }
        }
        Ok(())
    }
}

impl Clove {
    fn read(r: &mut Reader<'_>, known: &dyn KnownRouterInfos) -> Result<Clove, GarlicError> {
        const WHAT: &str = "garlic clove: delivery flag";
        let flag = r.u8(WHAT)?;
        if flag & 0x80 != 0 {
            return Err(invalid(WHAT, "encrypted cloves are not implemented"));
        }
        if flag & 0x10 != 0 {
            return Err(invalid(WHAT, "the delay field is never present"));
        }
        let mut hash = || r.array("garlic clove: to hash").map(Hash);
        let delivery = match (flag >> 5) & 0x03 {
            0 => CloveDelivery::Local,
            1 => CloveDelivery::Destination(hash()?),
            2 => CloveDelivery::Router(hash()?),
            _ => CloveDelivery::Tunnel {
                gateway: hash()?,
                tunnel: read_tunnel_id(r, "garlic clove: tunnel id")?,
            },
        };
        // Type, message id and expiration in seconds: the short header of NTCP2, with
        // the body's length coming from the block.
        let message = I2npMessage::decode_short_with(r.rest(), known)?;
        Ok(Clove { delivery, message })
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), GarlicError> {
        let (delivery_type, hash, tunnel) = match &self.delivery {
            CloveDelivery::Local => (0u8, None, None),
            CloveDelivery::Destination(hash) => (1, Some(hash), None),
            CloveDelivery::Router(hash) => (2, Some(hash), None),
            CloveDelivery::Tunnel { gateway, tunnel } => (3, Some(gateway), Some(tunnel)),
        };
        if tunnel.is_some_and(|id| id.0 == 0) {
            return Err(invalid("garlic clove: tunnel id", "zero is not a tunnel"));
        }
        out.push(delivery_type << 5);
        if let Some(hash) = hash {
            out.extend_from_slice(&hash.0);
        }
        if let Some(tunnel) = tunnel {
            out.extend_from_slice(&tunnel.0.to_be_bytes());
        }
        out.extend_from_slice(&self.message.try_encode_short()?);
        Ok(())
    }
}

impl NextKey {
    const KEY_PRESENT: u8 = 0x01;
    const REVERSE: u8 = 0x02;
    const REQUEST_REVERSE: u8 = 0x04;

    fn read(r: &mut Reader<'_>) -> Result<NextKey, GarlicError> {
        const WHAT: &str = "garlic payload: next key";
        let flags = r.u8(WHAT)?;
        let next = NextKey {
            reverse: flags & Self::REVERSE != 0,
            request_reverse: flags & Self::REQUEST_REVERSE != 0,
            key_id: r.u16(WHAT)?,
            key: match flags & Self::KEY_PRESENT {
                0 => None,
                _ => Some(r.array(WHAT)?),
            },
        };
        next.validate()?;
        Ok(next)
    }

    fn validate(&self) -> Result<(), GarlicError> {
        const WHAT: &str = "garlic payload: next key";
        if self.reverse && self.request_reverse {
            return Err(invalid(WHAT, "a reverse key cannot request a reverse key"));
        }
        if self.key_id > MAX_KEY_ID {
            return Err(invalid(WHAT, "key id above 32767"));
        }
        Ok(())
    }

    fn emit(&self, out: &mut Vec<u8>) -> Result<(), GarlicError> {
        self.validate()?;
        let mut flags = 0;
        for (set, bit) in [
            (self.key.is_some(), Self::KEY_PRESENT),
            (self.reverse, Self::REVERSE),
            (self.request_reverse, Self::REQUEST_REVERSE),
        ] {
            if set {
                flags |= bit;
            }
        }
        out.push(flags);
        out.extend_from_slice(&self.key_id.to_be_bytes());
        if let Some(key) = &self.key {
            out.extend_from_slice(key);
        }
        Ok(())
    }
}

/// Four bytes per acknowledged message, at least one.
fn read_acks(r: &mut Reader<'_>) -> Result<Vec<Ack>, GarlicError> {
    const WHAT: &str = "garlic payload: ack";
    let mut acks = Vec::new();
    while r.remaining() > 0 {
        acks.push(Ack {
            tag_set_id: r.u16(WHAT)?,
            n: r.u16(WHAT)?,
        });
    }
    if acks.is_empty() {
        return Err(invalid(WHAT, "no messages acknowledged"));
    }
    Ok(acks)
}

fn invalid(what: &'static str, reason: &'static str) -> GarlicError {
    DataError::Invalid { what, reason }.into()
}

/// The rules that hold in every message kind (spec: "Block Ordering Rules"): padding,
/// at most one block of it, comes last; termination comes last but for padding; at most
/// two Next Key blocks.
fn check_general_order(blocks: &[Block]) -> Result<(), GarlicError> {
    let before_padding = match blocks.split_last() {
        Some((Block::Padding(_), rest)) => rest,
        _ => blocks,
    };
    if before_padding
        .iter()
        .any(|block| matches!(block, Block::Padding(_)))
    {
        return Err(GarlicError::BlockOrder(
            "padding must be the last block, and only one",
        ));
    }
    let before_termination = match before_padding.split_last() {
        Some((Block::Termination { .. }, rest)) => rest,
        _ => before_padding,
    };
    if before_termination
        .iter()
        .any(|block| matches!(block, Block::Termination { .. }))
    {
        return Err(GarlicError::BlockOrder(
            "termination must be the last block but for padding",
        ));
    }
    let next_keys = blocks
        .iter()
        .filter(|block| matches!(block, Block::NextKey(_)))
        .count();
    if next_keys > MAX_NEXT_KEY_BLOCKS {
        return Err(GarlicError::BlockOrder("more than two Next Key blocks"));
    }
    Ok(())
}

/// Parses a decrypted payload section into its blocks, checking the ordering rules
/// every message kind shares; see [`PayloadKind::check`] for those of one kind.
pub fn parse_payload(bytes: &[u8]) -> Result<Vec<Block>, GarlicError> {
    parse_payload_with(bytes, &())
}

/// Like [`parse_payload`], taking the RouterInfos of DatabaseStore cloves that the router
/// already holds from `known` rather than parsing and verifying them again.
pub fn parse_payload_with(
    bytes: &[u8],
    known: &dyn KnownRouterInfos,
) -> Result<Vec<Block>, GarlicError> {
    if bytes.len() > MAX_PAYLOAD_LEN {
        return Err(DataError::TooLarge {
            what: "garlic payload",
            max: MAX_PAYLOAD_LEN,
            actual: bytes.len(),
        }
        .into());
    }
    let mut r = Reader::new(bytes);
    let mut blocks = Vec::new();
    while r.remaining() > 0 {
        let block_type = r.u8("garlic payload: block type")?;
        let size = r.u16("garlic payload: block size")?;
        let data = r.take(usize::from(size), "garlic payload: block data")?;
        blocks.push(Block::read(block_type, data, known)?);
    }
    check_general_order(&blocks)?;
    Ok(blocks)
}

/// Takes the blocks whose types are in `types` out of a payload section: returns them
/// parsed, and the payload without them (every other block as it came, not parsed: a clove
/// is not decoded here). For a layer that owns some block types, as the ratchet owns Next
/// Key, Ack and Ack Request, and hands the rest on.
///
/// # Errors
/// If the framing is broken or a taken block does not parse.
pub fn take_blocks(bytes: &[u8], types: &[u8]) -> Result<(Vec<Block>, Vec<u8>), GarlicError> {
    let mut r = Reader::new(bytes);
    let mut taken = Vec::new();
    let mut rest = Vec::with_capacity(bytes.len());
    while r.remaining() > 0 {
        let start = bytes.len() - r.remaining();
        let block_type = r.u8("garlic payload: block type")?;
        let size = r.u16("garlic payload: block size")?;
        let data = r.take(usize::from(size), "garlic payload: block data")?;
        if types.contains(&block_type) {
            taken.push(Block::read(block_type, data, &())?);
        } else {
            rest.extend_from_slice(&bytes[start..bytes.len() - r.remaining()]);
        }
    }
    Ok((taken, rest))
}

/// Encodes blocks as a payload section. Fails on what [`parse_payload`] would reject
/// (order, field values) and on sizes beyond [`MAX_BLOCK_DATA_LEN`] or
/// [`MAX_PAYLOAD_LEN`].
pub fn emit_payload(blocks: &[Block]) -> Result<Vec<u8>, GarlicError> {
    check_general_order(blocks)?;
    let mut out = Vec::new();
    for block in blocks {
        out.push(block.block_type());
        let size_at = out.len();
        out.extend_from_slice(&[0, 0]);
        block.emit_data(&mut out)?;
        let size = out.len() - size_at - 2;
        let size = u16::try_from(size)
            .ok()
            .filter(|_| size <= MAX_BLOCK_DATA_LEN)
            .ok_or(DataError::TooLarge {
                what: "garlic payload: block",
                max: MAX_BLOCK_DATA_LEN,
                actual: size,
            })?;
        out[size_at..size_at + 2].copy_from_slice(&size.to_be_bytes());
    }
    if out.len() > MAX_PAYLOAD_LEN {
        return Err(DataError::TooLarge {
            what: "garlic payload",
            max: MAX_PAYLOAD_LEN,
            actual: out.len(),
        }
        .into());
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use crate::data::strategies::arb_hash;
    use crate::i2np::strategies::{arb_cheap_body, arb_message, arb_tunnel_id};
    use proptest::prelude::*;

    pub(crate) fn arb_delivery() -> impl Strategy<Value = CloveDelivery> {
        prop_oneof![
            Just(CloveDelivery::Local),
            arb_hash().prop_map(CloveDelivery::Destination),
            arb_hash().prop_map(CloveDelivery::Router),
            (arb_hash(), arb_tunnel_id())
                .prop_map(|(gateway, tunnel)| CloveDelivery::Tunnel { gateway, tunnel }),
        ]
    }

    pub(crate) fn arb_clove() -> impl Strategy<Value = Clove> {
        (arb_delivery(), arb_message(arb_cheap_body()))
            .prop_map(|(delivery, message)| Clove { delivery, message })
    }

    fn arb_next_key() -> impl Strategy<Value = NextKey> {
        (
            any::<bool>(),
            any::<bool>(),
            0..=MAX_KEY_ID,
            proptest::option::of(any::<[u8; 32]>()),
        )
            .prop_map(|(reverse, request, key_id, key)| NextKey {
                reverse,
                request_reverse: request && !reverse,
                key_id,
                key,
            })
    }

    fn arb_unknown() -> impl Strategy<Value = Block> {
        (
            any::<u8>().prop_filter("unknown types only", |t| !block_type::KNOWN.contains(t)),
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(block_type, data)| Block::Unknown { block_type, data })
    }

    /// Any block that may stand anywhere: neither padding nor termination.
    fn arb_middle_block() -> impl Strategy<Value = Block> {
        prop_oneof![
            any::<u32>().prop_map(Block::DateTime),
            arb_clove().prop_map(Block::Clove),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Block::Options),
            any::<u16>().prop_map(|previous| Block::MessageNumbers { previous }),
            proptest::collection::vec((any::<u16>(), any::<u16>()), 1..5).prop_map(|acks| {
                Block::Ack(
                    acks.into_iter()
                        .map(|(tag_set_id, n)| Ack { tag_set_id, n })
                        .collect(),
                )
            }),
            Just(Block::AckRequest),
            arb_unknown(),
        ]
    }

    /// Payloads that obey the general ordering rules.
    pub(crate) fn arb_blocks() -> impl Strategy<Value = Vec<Block>> {
        (
            proptest::collection::vec(arb_middle_block(), 0..6),
            proptest::collection::vec(arb_next_key(), 0..=MAX_NEXT_KEY_BLOCKS),
            any::<prop::sample::Index>(),
            proptest::option::of(
                (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..20))
                    .prop_map(|(reason, data)| Block::Termination { reason, data }),
            ),
            proptest::option::of((0u16..64).prop_map(Block::Padding)),
        )
            .prop_map(|(mut blocks, next_keys, at, termination, padding)| {
                for next_key in next_keys {
                    let at = at.index(blocks.len() + 1);
                    blocks.insert(at, Block::NextKey(next_key));
                }
                blocks.extend(termination);
                blocks.extend(padding);
                blocks
            })
    }
}

#[cfg(test)]
mod tests;
