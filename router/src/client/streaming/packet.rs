//! The streaming packet (spec: Streaming, "Packet Format" and "Flags and Option Data
//! Fields"): a parsed [`Packet`], [`Packet::parse`] and [`Packet::emit`].
//!
//! The parser is structural: it reads every field and option the flags announce, in the
//! spec's order, and checks lengths, never signatures or which flags a packet needs
//! (that is [`super::signature`] and the manager's job). It is also exact: whatever
//! [`Packet::parse`] accepts, [`Packet::emit`] writes back byte for byte. That is what
//! lets a signature be checked on our own re-encoding of the packet (with the signature
//! zeroed) instead of on offsets into the received bytes.

use super::StreamingError;
use crate::data::reader::Reader;
use crate::data::{Destination, Hash, KeyCertificate};
use std::fmt;

/// The 22 bytes every packet has: two stream ids, sequence number, ackThrough, NACK
/// count, resendDelay, flags and option size.
pub const MIN_HEADER_LEN: usize = 22;
/// Bytes of the offline signature block with an Ed25519 transient key signed by an
/// Ed25519 destination: expires (4), sig type (2), key (32), signature (64).
pub const OFFLINE_SIGNATURE_LEN: usize = 4 + 2 + 32 + 64;
/// NACK count that, in a SYN, announces the recipient's hash instead of NACKs
/// (spec: "Replay prevention").
pub const REPLAY_HASH_NACKS: usize = 8;

/// The packet's flags word, less the five flags that announce option data (those follow
/// from [`Options`]: a field that is present is announced, one that is absent is not).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u16);

impl Flags {
    pub const SYNCHRONIZE: Flags = Flags(1 << 0);
    pub const CLOSE: Flags = Flags(1 << 1);
    pub const RESET: Flags = Flags(1 << 2);
    /// Option data: the signature (option order 5).
    pub const SIGNATURE_INCLUDED: Flags = Flags(1 << 3);
    pub const SIGNATURE_REQUESTED: Flags = Flags(1 << 4);
    /// Option data: the sender's Destination (order 2).
    pub const FROM_INCLUDED: Flags = Flags(1 << 5);
    /// Option data: the optional delay in ms (order 1).
    pub const DELAY_REQUESTED: Flags = Flags(1 << 6);
    /// Option data: the maximum payload size (order 3).
    pub const MAX_PACKET_SIZE_INCLUDED: Flags = Flags(1 << 7);
    pub const PROFILE_INTERACTIVE: Flags = Flags(1 << 8);
    pub const ECHO: Flags = Flags(1 << 9);
    pub const NO_ACK: Flags = Flags(1 << 10);
    /// Option data: the offline signature block (order 4).
    pub const OFFLINE_SIGNATURE: Flags = Flags(1 << 11);
    /// The flags whose presence [`Options`] decides.
    pub const OPTION_FLAGS: Flags = Flags(
        Self::SIGNATURE_INCLUDED.0
            | Self::FROM_INCLUDED.0
            | Self::DELAY_REQUESTED.0
            | Self::MAX_PACKET_SIZE_INCLUDED.0
            | Self::OFFLINE_SIGNATURE.0,
    );

    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// Flags from a wire word, without the option flags.
    pub const fn from_bits(bits: u16) -> Flags {
        Flags(bits & !Self::OPTION_FLAGS.0)
    }

    pub const fn bits(self) -> u16 {
        self.0
    }

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0 & !Self::OPTION_FLAGS.0;
    }

    pub fn remove(&mut self, other: Flags) {
        self.0 &= !other.0;
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;

    fn bitor(self, rhs: Flags) -> Flags {
        Flags::from_bits(self.0 | rhs.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 12] = [
            "SYN",
            "CLOSE",
            "RESET",
            "SIG",
            "SIGREQ",
            "FROM",
            "DELAY",
            "MTU",
            "INTERACTIVE",
            "ECHO",
            "NO_ACK",
            "OFFLINE",
        ];
        let mut first = true;
        for (bit, name) in NAMES.iter().enumerate() {
            if self.0 & (1 << bit) != 0 {
                write!(f, "{}{name}", if first { "" } else { "|" })?;
                first = false;
            }
        }
        if self.0 >> 12 != 0 {
            write!(f, "{}{:#x}", if first { "" } else { "|" }, self.0 & 0xf000)?;
        } else if first {
            write!(f, "-")?;
        }
        Ok(())
    }
}

/// The option data, in the spec's order (delay, FROM, max packet size, offline
/// signature, signature). A present field sets its flag on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// Milliseconds the sender asks the recipient to wait before sending more data:
    /// 0 asks for an immediate ack, above 60000 means "choked" (receive buffer full).
    pub delay_requested: Option<u16>,
    /// The sender's Destination (required in a SYN).
    pub from: Option<Destination>,
    /// The largest payload the sender accepts (sent with SYN).
    pub max_packet_size: Option<u16>,
    /// The offline signature block, exactly as on the wire: expires, transient sig type,
    /// transient key, the destination's signature. Checked by
    /// [`super::signature::PeerKey::from_syn`], which needs the FROM destination.
    pub offline_signature: Option<Vec<u8>>,
    /// The signature: the rest of the option data (it is the last option).
    pub signature: Option<Vec<u8>>,
    /// Option bytes after the known options, in a packet without a signature: an
    /// option from a future version we cannot read. Kept so that re-emitting is exact.
    pub trailing: Vec<u8>,
}

impl Options {
    /// The option flags these fields announce.
    fn flag_bits(&self) -> u16 {
        let mut bits = 0;
        if self.delay_requested.is_some() {
            bits |= Flags::DELAY_REQUESTED.0;
        }
        if self.from.is_some() {
            bits |= Flags::FROM_INCLUDED.0;
        }
        if self.max_packet_size.is_some() {
            bits |= Flags::MAX_PACKET_SIZE_INCLUDED.0;
        }
        if self.offline_signature.is_some() {
            bits |= Flags::OFFLINE_SIGNATURE.0;
        }
        if self.signature.is_some() {
            bits |= Flags::SIGNATURE_INCLUDED.0;
        }
        bits
    }

    /// Reads the option data announced by `flags` from exactly `bytes`.
    fn read(flags: u16, bytes: &[u8]) -> Result<Options, StreamingError> {
        let has = |flag: Flags| flags & flag.0 != 0;
        let mut r = Reader::new(bytes);
        let mut options = Options::default();
        if has(Flags::DELAY_REQUESTED) {
            options.delay_requested = Some(r.u16("streaming option: delay requested")?);
        }
        if has(Flags::FROM_INCLUDED) {
            options.from = Some(Destination::read(&mut r)?);
        }
        if has(Flags::MAX_PACKET_SIZE_INCLUDED) {
            options.max_packet_size = Some(r.u16("streaming option: max packet size")?);
        }
        if has(Flags::OFFLINE_SIGNATURE) {
            options.offline_signature = Some(read_offline_block(&mut r, &options.from)?);
        }
        let rest = r.rest();
        if has(Flags::SIGNATURE_INCLUDED) {
            if rest.is_empty() {
                return Err(StreamingError::Invalid {
                    what: "streaming option: signature",
                    reason: "flagged but empty",
                });
            }
            options.signature = Some(rest.to_vec());
        } else {
            options.trailing = rest.to_vec();
        }
        Ok(options)
    }

    fn emit(&self, out: &mut Vec<u8>) {
        if let Some(delay) = self.delay_requested {
            out.extend_from_slice(&delay.to_be_bytes());
        }
        if let Some(from) = &self.from {
            out.extend_from_slice(from.as_bytes());
        }
        if let Some(size) = self.max_packet_size {
            out.extend_from_slice(&size.to_be_bytes());
        }
        if let Some(block) = &self.offline_signature {
            out.extend_from_slice(block);
        }
        match &self.signature {
            Some(signature) => out.extend_from_slice(signature),
            None => out.extend_from_slice(&self.trailing),
        }
    }
}

/// The offline block's length follows from the transient key type (only Ed25519 is
/// supported) and the FROM destination's signature length, so FROM must come first
/// (spec: "FROM_INCLUDED must also be set").
fn read_offline_block(
    r: &mut Reader<'_>,
    from: &Option<Destination>,
) -> Result<Vec<u8>, StreamingError> {
    let Some(from) = from else {
        return Err(StreamingError::Invalid {
            what: "streaming option: offline signature",
            reason: "FROM_INCLUDED must also be set",
        });
    };
    let start = r.position();
    r.u32("streaming option: offline signature expires")?;
    let sig_type = r.u16("streaming option: offline signature type")?;
    if sig_type != KeyCertificate::SIG_ED25519 {
        return Err(StreamingError::UnsupportedSigType(sig_type));
    }
    r.take(32, "streaming option: offline signature transient key")?;
    r.take(
        from.signature_len(),
        "streaming option: offline signature signature",
    )?;
    Ok(r.since(start).to_vec())
}

/// One streaming packet. Stream ids are named from the sender's side, as in the spec:
/// `send_stream_id` is the recipient's id for the stream, `recv_stream_id` the sender's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Packet {
    pub send_stream_id: u32,
    pub recv_stream_id: u32,
    /// 0 for the SYN and for plain ACKs, then 1, 2, ... for each new packet.
    pub seq: u32,
    /// The highest sequence number received; everything up to it is acknowledged
    /// except the NACKs. Meaningless with [`Flags::NO_ACK`].
    pub ack_through: u32,
    /// Sequence numbers below `ack_through` not received; in a SYN, eight of them may
    /// instead carry the recipient's hash ([`Packet::replay_hash`]).
    pub nacks: Vec<u32>,
    /// Seconds the sender waits before resending this packet (ignored on receipt).
    pub resend_delay: u8,
    /// The flags that carry no option data; the others follow from `options`.
    pub flags: Flags,
    pub options: Options,
    pub payload: Vec<u8>,
}

impl Packet {
    /// Reads one packet filling `bytes` (the payload is whatever follows the options).
    pub fn parse(bytes: &[u8]) -> Result<Packet, StreamingError> {
        let mut r = Reader::new(bytes);
        let send_stream_id = r.u32("streaming: send stream id")?;
        let recv_stream_id = r.u32("streaming: receive stream id")?;
        let seq = r.u32("streaming: sequence number")?;
        let ack_through = r.u32("streaming: ack through")?;
        let nack_count = r.u8("streaming: NACK count")?;
        let mut nacks = Vec::with_capacity(usize::from(nack_count));
        for _ in 0..nack_count {
            nacks.push(r.u32("streaming: NACK")?);
        }
        let resend_delay = r.u8("streaming: resend delay")?;
        let flags = r.u16("streaming: flags")?;
        let option_len = r.u16("streaming: option size")?;
        let option_bytes = r.take(usize::from(option_len), "streaming: option data")?;
        let options = Options::read(flags, option_bytes)?;
        Ok(Packet {
            send_stream_id,
            recv_stream_id,
            seq,
            ack_through,
            nacks,
            resend_delay,
            flags: Flags::from_bits(flags),
            options,
            payload: r.rest().to_vec(),
        })
    }

    /// The packet's wire encoding. Fails only on fields the format cannot carry: more
    /// than 255 NACKs or more than 65535 bytes of options.
    pub fn emit(&self) -> Result<Vec<u8>, StreamingError> {
        let mut out = Vec::with_capacity(self.wire_len_hint());
        self.emit_into(&mut out)?;
        Ok(out)
    }

    /// [`Packet::emit`], appending to `out`.
    pub fn emit_into(&self, out: &mut Vec<u8>) -> Result<(), StreamingError> {
        let nack_count = u8::try_from(self.nacks.len()).map_err(|_| StreamingError::TooLarge {
            what: "streaming: NACKs",
            max: 255,
            actual: self.nacks.len(),
        })?;
        for field in [
            self.send_stream_id,
            self.recv_stream_id,
            self.seq,
            self.ack_through,
        ] {
            out.extend_from_slice(&field.to_be_bytes());
        }
        out.push(nack_count);
        for nack in &self.nacks {
            out.extend_from_slice(&nack.to_be_bytes());
        }
        out.push(self.resend_delay);
        let flags = self.flags.bits() | self.options.flag_bits();
        out.extend_from_slice(&flags.to_be_bytes());
        let size_at = out.len();
        out.extend_from_slice(&[0, 0]);
        self.options.emit(out);
        let option_len = out.len() - size_at - 2;
        let option_len = u16::try_from(option_len).map_err(|_| StreamingError::TooLarge {
            what: "streaming: option data",
            max: usize::from(u16::MAX),
            actual: option_len,
        })?;
        out[size_at..size_at + 2].copy_from_slice(&option_len.to_be_bytes());
        out.extend_from_slice(&self.payload);
        Ok(())
    }

    fn wire_len_hint(&self) -> usize {
        MIN_HEADER_LEN
            + 4 * self.nacks.len()
            + self.options.from.as_ref().map_or(0, |d| d.as_bytes().len())
            + self.options.signature.as_ref().map_or(0, Vec::len)
            + 8
            + self.payload.len()
    }

    pub fn is_syn(&self) -> bool {
        self.flags.contains(Flags::SYNCHRONIZE)
    }

    pub fn is_close(&self) -> bool {
        self.flags.contains(Flags::CLOSE)
    }

    pub fn is_reset(&self) -> bool {
        self.flags.contains(Flags::RESET)
    }

    /// A plain ACK (sequence 0 without SYN): it is not itself acknowledged.
    pub fn is_plain_ack(&self) -> bool {
        self.seq == 0 && !self.is_syn()
    }

    /// Whether `ack_through` and the NACKs acknowledge anything.
    pub fn carries_ack(&self) -> bool {
        !self.flags.contains(Flags::NO_ACK)
    }

    /// The NACKs that are NACKs: in a SYN, a count of 8 is the replay hash instead.
    pub fn real_nacks(&self) -> &[u32] {
        if self.replay_hash().is_some() {
            &[]
        } else {
            &self.nacks
        }
    }

    /// The recipient's hash a SYN carries in its NACK field against replays to others.
    pub fn replay_hash(&self) -> Option<Hash> {
        if !self.is_syn() || self.nacks.len() != REPLAY_HASH_NACKS {
            return None;
        }
        let mut hash = [0u8; 32];
        for (chunk, nack) in hash.chunks_exact_mut(4).zip(&self.nacks) {
            chunk.copy_from_slice(&nack.to_be_bytes());
        }
        Some(Hash(hash))
    }

    /// Puts `recipient` in the NACK field, as the sender of a SYN must.
    pub fn set_replay_hash(&mut self, recipient: &Hash) {
        self.nacks = recipient
            .as_bytes()
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use crate::data::strategies::destination_from;
    use ed25519_dalek::SigningKey;
    use proptest::prelude::*;

    fn arb_destination() -> impl Strategy<Value = Destination> {
        (any::<[u8; 32]>(), any::<[u8; 32]>())
            .prop_map(|(seed, pad)| destination_from(&SigningKey::from_bytes(&seed), pad))
    }

    fn arb_options() -> impl Strategy<Value = Options> {
        (
            proptest::option::of(any::<u16>()),
            proptest::option::of(arb_destination()),
            proptest::option::of(any::<u16>()),
            any::<bool>(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 1..80)),
            proptest::collection::vec(any::<u8>(), 0..8),
        )
            .prop_map(|(delay, from, mtu, offline, signature, trailing)| {
                let offline_signature = (offline && from.is_some()).then(|| {
                    let mut block = vec![0x5a; OFFLINE_SIGNATURE_LEN];
                    block[4..6].copy_from_slice(&KeyCertificate::SIG_ED25519.to_be_bytes());
                    block
                });
                Options {
                    delay_requested: delay,
                    from,
                    max_packet_size: mtu,
                    offline_signature,
                    trailing: if signature.is_some() {
                        Vec::new()
                    } else {
                        trailing
                    },
                    signature,
                }
            })
    }

    pub(crate) fn arb_packet() -> impl Strategy<Value = Packet> {
        (
            any::<[u32; 4]>(),
            proptest::collection::vec(any::<u32>(), 0..20),
            any::<u8>(),
            any::<u16>(),
            arb_options(),
            proptest::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(
                |(ids, nacks, resend_delay, flags, options, payload)| Packet {
                    send_stream_id: ids[0],
                    recv_stream_id: ids[1],
                    seq: ids[2],
                    ack_through: ids[3],
                    nacks,
                    resend_delay,
                    flags: Flags::from_bits(flags),
                    options,
                    payload,
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::arb_packet;
    use super::*;
    use crate::crypto::DestinationKeys;
    use proptest::prelude::*;

    #[test]
    fn minimal_header_layout() {
        let packet = Packet {
            send_stream_id: 0x0102_0304,
            recv_stream_id: 5,
            seq: 6,
            ack_through: 7,
            nacks: vec![3],
            resend_delay: 9,
            flags: Flags::CLOSE | Flags::NO_ACK,
            options: Options {
                delay_requested: Some(60_001),
                ..Options::default()
            },
            payload: b"hi".to_vec(),
        };
        let bytes = packet.emit().expect("small packet");
        assert_eq!(
            bytes,
            [
                1, 2, 3, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, // ids, seq, ackThrough
                1, 0, 0, 0, 3, // one NACK
                9, // resend delay
                0x04, 0x42, // NO_ACK | DELAY_REQUESTED | CLOSE
                0, 2, 0xea, 0x61, // options: 60001
                b'h', b'i',
            ]
        );
        assert_eq!(Packet::parse(&bytes), Ok(packet));
        assert!(Packet::parse(&bytes[..MIN_HEADER_LEN - 1]).is_err());
    }

    #[test]
    fn options_follow_the_spec_order() {
        let keys = DestinationKeys::from_secret_bytes(&[3; 96]);
        let packet = Packet {
            flags: Flags::SYNCHRONIZE,
            options: Options {
                delay_requested: Some(0x0a0b),
                from: Some(keys.destination().clone()),
                max_packet_size: Some(1730),
                signature: Some(vec![0xee; 64]),
                ..Options::default()
            },
            ..Packet::default()
        };
        let bytes = packet.emit().expect("small packet");
        let dest = keys.destination().as_bytes();
        let options = &bytes[MIN_HEADER_LEN..];
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[20], bytes[21]])),
            options.len()
        );
        assert_eq!(&options[..2], &[0x0a, 0x0b]);
        assert_eq!(&options[2..2 + dest.len()], dest);
        assert_eq!(
            &options[2 + dest.len()..4 + dest.len()],
            &1730u16.to_be_bytes()
        );
        assert_eq!(&options[4 + dest.len()..], &[0xee; 64]);
        assert_eq!(Packet::parse(&bytes), Ok(packet));
    }

    #[test]
    fn replay_hash_sits_in_eight_nacks_of_a_syn() {
        let hash = Hash([0x11; 32]);
        let mut syn = Packet {
            flags: Flags::SYNCHRONIZE,
            ..Packet::default()
        };
        syn.set_replay_hash(&hash);
        assert_eq!(syn.nacks.len(), REPLAY_HASH_NACKS);
        assert_eq!(syn.replay_hash(), Some(hash));
        assert!(syn.real_nacks().is_empty());
        let bytes = syn.emit().expect("small packet");
        assert_eq!(bytes[16], 8);
        assert_eq!(&bytes[17..49], &[0x11; 32]);
        // Without SYN, eight NACKs are NACKs.
        syn.flags = Flags::empty();
        assert_eq!(syn.replay_hash(), None);
        assert_eq!(syn.real_nacks().len(), 8);
    }

    #[test]
    fn offline_signature_needs_from_and_an_ed25519_key() {
        let mut bytes = Packet::default().emit().expect("empty packet");
        bytes[18..20].copy_from_slice(&Flags::OFFLINE_SIGNATURE.bits().to_be_bytes());
        bytes[20..22].copy_from_slice(&(OFFLINE_SIGNATURE_LEN as u16).to_be_bytes());
        bytes.extend_from_slice(&[0; OFFLINE_SIGNATURE_LEN]);
        assert!(matches!(
            Packet::parse(&bytes),
            Err(StreamingError::Invalid { .. })
        ));
        let keys = DestinationKeys::from_secret_bytes(&[4; 96]);
        let mut block = vec![0; OFFLINE_SIGNATURE_LEN];
        block[5] = 1; // DSA_SHA1
        let packet = Packet {
            options: Options {
                from: Some(keys.destination().clone()),
                offline_signature: Some(block),
                ..Options::default()
            },
            ..Packet::default()
        };
        let bytes = packet.emit().expect("small packet");
        assert_eq!(
            Packet::parse(&bytes),
            Err(StreamingError::UnsupportedSigType(1))
        );
    }

    #[test]
    fn emit_refuses_what_the_format_cannot_carry() {
        let packet = Packet {
            nacks: vec![0; 256],
            ..Packet::default()
        };
        assert!(matches!(
            packet.emit(),
            Err(StreamingError::TooLarge { .. })
        ));
        let packet = Packet {
            options: Options {
                signature: Some(vec![0; 70_000]),
                ..Options::default()
            },
            ..Packet::default()
        };
        assert!(matches!(
            packet.emit(),
            Err(StreamingError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_flagged_signature_must_not_be_empty() {
        let mut bytes = Packet::default().emit().expect("empty packet");
        bytes[18..20].copy_from_slice(&Flags::SIGNATURE_INCLUDED.bits().to_be_bytes());
        assert!(Packet::parse(&bytes).is_err());
    }

    proptest! {
        #[test]
        fn emit_then_parse_round_trips(packet in arb_packet()) {
            let bytes = packet.emit().expect("strategy packets fit the format");
            prop_assert_eq!(Packet::parse(&bytes).expect("own encoding parses"), packet);
        }

        #[test]
        fn parse_then_emit_is_exact(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(packet) = Packet::parse(&bytes) {
                prop_assert_eq!(packet.emit().expect("parsed packets re-emit"), bytes);
            }
        }

        #[test]
        fn mutated_packets_never_panic(packet in arb_packet(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
            let mut bytes = packet.emit().expect("strategy packets fit the format");
            for (at, value) in flips {
                let len = bytes.len();
                bytes[at % len] ^= value;
            }
            bytes.truncate(cut % (bytes.len() + 1));
            if let Ok(parsed) = Packet::parse(&bytes) {
                prop_assert_eq!(parsed.emit().expect("parsed packets re-emit"), bytes);
            }
        }
    }
}
