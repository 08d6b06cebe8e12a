//! The cleartext of short build records (spec: tunnel-creation-ecies, "Short Request Record
//! Unencrypted" and "Short Reply Record Unencrypted").
//!
//! Request, 154 bytes:
//!
//! ```text
//! 0-3 receive tunnel id | 4-7 next tunnel id | 8-39 next router hash | 40 flags
//! 41-42 more flags (0)  | 43 layer encryption type | 44-47 request time (minutes)
//! 48-51 expiration (seconds) | 52-55 next message id | 56.. options Mapping | padding
//! ```
//!
//! Reply, 202 bytes: options Mapping, random padding, and the status in the last byte.

use crate::data::reader::Reader;
use crate::data::{DataError, Hash, Mapping};
use crate::i2np::read_tunnel_id;
use crate::tunnel::TunnelId;
use rand::RngCore;

/// Size of a request record's cleartext.
pub const REQUEST_LEN: usize = 154;
/// Size of a reply record's cleartext.
pub const REPLY_LEN: usize = 202;

/// Where the request's options Mapping starts; everything after the fixed fields is
/// options and padding, so a Mapping takes at most 98 bytes with its size field.
const REQUEST_OPTIONS_AT: usize = 56;
/// The reply's Mapping may use everything but the status byte: 201 bytes.
const REPLY_OPTIONS_MAX: usize = REPLY_LEN - 1;

/// Flag bit 7: "allow messages from anyone", the inbound gateway.
const FLAG_INBOUND_GATEWAY: u8 = 0x80;
/// Flag bit 6: "allow messages to anyone", the outbound endpoint.
const FLAG_OUTBOUND_ENDPOINT: u8 = 0x40;

/// What a hop does in its tunnel, carried in the request's flags byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HopRole {
    /// Accepts messages from anyone and starts an inbound tunnel.
    InboundGateway,
    /// A middle hop: receives from the previous hop, sends to the next.
    Participant,
    /// Delivers messages to anyone, and sends the build reply into the reply tunnel.
    OutboundEndpoint,
}

impl HopRole {
    fn flags(self) -> u8 {
        match self {
            HopRole::InboundGateway => FLAG_INBOUND_GATEWAY,
            HopRole::Participant => 0,
            HopRole::OutboundEndpoint => FLAG_OUTBOUND_ENDPOINT,
        }
    }

    /// Bits 5-0 are reserved: ignored here so that future flags do not break us.
    fn from_flags(flags: u8) -> Result<HopRole, DataError> {
        match (
            flags & FLAG_INBOUND_GATEWAY != 0,
            flags & FLAG_OUTBOUND_ENDPOINT != 0,
        ) {
            (false, false) => Ok(HopRole::Participant),
            (true, false) => Ok(HopRole::InboundGateway),
            (false, true) => Ok(HopRole::OutboundEndpoint),
            (true, true) => Err(DataError::Invalid {
                what: "build request: flags",
                reason: "inbound gateway and outbound endpoint at once",
            }),
        }
    }
}

/// How the hop encrypts tunnel messages (request byte 43).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerEncryption {
    /// Type 0: AES-256 layer and IV keys, the only type defined so far.
    Aes,
}

impl LayerEncryption {
    fn to_byte(self) -> u8 {
        match self {
            LayerEncryption::Aes => 0,
        }
    }

    fn from_byte(byte: u8) -> Result<LayerEncryption, DataError> {
        match byte {
            0 => Ok(LayerEncryption::Aes),
            _ => Err(DataError::Invalid {
                what: "build request: layer encryption type",
                reason: "only 0 (AES) is defined",
            }),
        }
    }
}

/// A hop's answer (spec: tunnel-creation, "Reply Record Specification").
///
/// Higher values are "higher levels of rejection". Routers send 30 for almost every
/// rejection, so that the code does not reveal why (e.g. a shutdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ReplyStatus {
    Accept = 0,
    RejectProbabilistic = 10,
    RejectTransient = 20,
    RejectBandwidth = 30,
    RejectCritical = 50,
}

impl ReplyStatus {
    pub fn is_accept(self) -> bool {
        self == ReplyStatus::Accept
    }

    /// Reads a status byte. Values between the defined codes (a future code, or a buggy
    /// router) count as the defined level at or above them, capped at critical: any
    /// non-zero byte is a rejection, never an accept.
    pub fn from_byte(byte: u8) -> ReplyStatus {
        match byte {
            0 => ReplyStatus::Accept,
            1..=10 => ReplyStatus::RejectProbabilistic,
            11..=20 => ReplyStatus::RejectTransient,
            21..=30 => ReplyStatus::RejectBandwidth,
            _ => ReplyStatus::RejectCritical,
        }
    }
}

/// The cleartext of a short build request record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The tunnel id this hop receives the tunnel's messages as; never zero.
    pub receive_tunnel: TunnelId,
    /// The next hop's receive tunnel id or, at the outbound endpoint, the reply tunnel.
    pub next_tunnel: TunnelId,
    /// The next hop or, at the outbound endpoint, the reply tunnel's gateway.
    pub next_router: Hash,
    pub role: HopRole,
    pub layer_encryption: LayerEncryption,
    /// Minutes since the epoch, rounded down, when the creator made the request.
    pub request_time_min: u32,
    /// Tunnel lifetime in seconds from the request; 600 is the only value in use.
    pub expiration_secs: u32,
    /// The I2NP message id of the build message this hop sends on (or of the reply).
    pub next_message_id: u32,
    /// Build options, e.g. bandwidth requests (spec: "Tunnel Bandwidth Parameters");
    /// at most 98 bytes encoded.
    pub options: Mapping,
}

impl RequestRecord {
    /// Largest options Mapping, with its 2-byte size, that fits a request.
    pub const MAX_OPTIONS_LEN: usize = REQUEST_LEN - REQUEST_OPTIONS_AT;

    /// The 154-byte cleartext, padded with random bytes; fails if the options do not fit.
    pub fn encode(&self, rng: &mut impl RngCore) -> Result<[u8; REQUEST_LEN], DataError> {
        check_options_len(
            &self.options,
            Self::MAX_OPTIONS_LEN,
            "build request: options",
        )?;
        let mut out = Vec::with_capacity(REQUEST_LEN);
        out.extend_from_slice(&self.receive_tunnel.0.to_be_bytes());
        out.extend_from_slice(&self.next_tunnel.0.to_be_bytes());
        out.extend_from_slice(self.next_router.as_bytes());
        out.extend_from_slice(&[self.role.flags(), 0, 0, self.layer_encryption.to_byte()]);
        out.extend_from_slice(&self.request_time_min.to_be_bytes());
        out.extend_from_slice(&self.expiration_secs.to_be_bytes());
        out.extend_from_slice(&self.next_message_id.to_be_bytes());
        self.options.emit(&mut out);
        Ok(pad(out, rng))
    }

    pub fn parse(bytes: &[u8; REQUEST_LEN]) -> Result<RequestRecord, DataError> {
        let mut r = Reader::new(bytes);
        let receive_tunnel = read_tunnel_id(&mut r, "build request: receive tunnel id")?;
        let next_tunnel = read_tunnel_id(&mut r, "build request: next tunnel id")?;
        let next_router = Hash(r.array("build request: next router")?);
        let role = HopRole::from_flags(r.u8("build request: flags")?)?;
        r.take(2, "build request: more flags")?;
        let layer_encryption = LayerEncryption::from_byte(r.u8("build request: layer type")?)?;
        Ok(RequestRecord {
            receive_tunnel,
            next_tunnel,
            next_router,
            role,
            layer_encryption,
            request_time_min: r.u32("build request: request time")?,
            expiration_secs: r.u32("build request: expiration")?,
            next_message_id: r.u32("build request: next message id")?,
            // The rest is padding, or data implied by options we do not know.
            options: Mapping::read(&mut r)?,
        })
    }
}

/// The cleartext of a short build reply record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRecord {
    /// Reply options, e.g. the bandwidth offered; at most 201 bytes encoded.
    pub options: Mapping,
    pub status: ReplyStatus,
}

impl ReplyRecord {
    /// The 202-byte cleartext, padded with random bytes; fails if the options do not fit.
    pub fn encode(&self, rng: &mut impl RngCore) -> Result<[u8; REPLY_LEN], DataError> {
        check_options_len(&self.options, REPLY_OPTIONS_MAX, "build reply: options")?;
        let mut out = pad(self.options.to_bytes(), rng);
        out[REPLY_LEN - 1] = self.status as u8;
        Ok(out)
    }

    pub fn parse(bytes: &[u8; REPLY_LEN]) -> Result<ReplyRecord, DataError> {
        let (body, status) = bytes.split_at(REPLY_OPTIONS_MAX);
        Ok(ReplyRecord {
            options: Mapping::read(&mut Reader::new(body))?,
            status: ReplyStatus::from_byte(status[0]),
        })
    }
}

fn check_options_len(options: &Mapping, max: usize, what: &'static str) -> Result<(), DataError> {
    match options.encoded_len() {
        len if len > max => Err(DataError::TooLarge {
            what,
            max,
            actual: len,
        }),
        _ => Ok(()),
    }
}

/// Fills the rest of a record with random bytes. `fields` is never longer than `N`: the
/// callers check the only variable part, the options.
fn pad<const N: usize>(fields: Vec<u8>, rng: &mut impl RngCore) -> [u8; N] {
    let mut out = [0u8; N];
    let (head, padding) = out.split_at_mut(fields.len().min(N));
    head.copy_from_slice(&fields[..head.len()]);
    rng.fill_bytes(padding);
    out
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use crate::data::strategies::arb_hash;
    use proptest::prelude::*;

    pub(crate) fn arb_role() -> impl Strategy<Value = HopRole> {
        prop_oneof![
            Just(HopRole::InboundGateway),
            Just(HopRole::Participant),
            Just(HopRole::OutboundEndpoint),
        ]
    }

    pub(crate) fn arb_status() -> impl Strategy<Value = ReplyStatus> {
        prop_oneof![
            Just(ReplyStatus::Accept),
            Just(ReplyStatus::RejectProbabilistic),
            Just(ReplyStatus::RejectTransient),
            Just(ReplyStatus::RejectBandwidth),
            Just(ReplyStatus::RejectCritical),
        ]
    }

    /// Options small enough for either record: at most 3 entries of at most 22 bytes.
    pub(crate) fn arb_options() -> impl Strategy<Value = Mapping> {
        proptest::collection::btree_map("[a-zA-Z]{1,8}", "[ -~]{0,10}", 0..=3).prop_map(|entries| {
            let mut m = Mapping::new();
            for (k, v) in entries {
                m.insert(k, v).expect("short strings");
            }
            m
        })
    }

    pub(crate) fn arb_request() -> impl Strategy<Value = RequestRecord> {
        (
            (1u32.., 1u32.., arb_hash(), arb_role()),
            (any::<u32>(), any::<u32>(), any::<u32>(), arb_options()),
        )
            .prop_map(
                |(
                    (receive, next, next_router, role),
                    (request_time_min, expiration_secs, next_message_id, options),
                )| RequestRecord {
                    receive_tunnel: TunnelId(receive),
                    next_tunnel: TunnelId(next),
                    next_router,
                    role,
                    layer_encryption: LayerEncryption::Aes,
                    request_time_min,
                    expiration_secs,
                    next_message_id,
                    options,
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::*;
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn sample_request() -> RequestRecord {
        RequestRecord {
            receive_tunnel: TunnelId(0x0102_0304),
            next_tunnel: TunnelId(0x0506_0708),
            next_router: Hash([9; 32]),
            role: HopRole::OutboundEndpoint,
            layer_encryption: LayerEncryption::Aes,
            request_time_min: 0x0a0b_0c0d,
            expiration_secs: 600,
            next_message_id: 0x1122_3344,
            options: Mapping::new(),
        }
    }

    #[test]
    fn request_layout() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let bytes = sample_request().encode(&mut rng).expect("fits");
        assert_eq!(&bytes[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&bytes[8..40], &[9; 32]);
        assert_eq!(&bytes[40..44], &[0x40, 0, 0, 0]);
        assert_eq!(&bytes[44..48], &[0x0a, 0x0b, 0x0c, 0x0d]);
        assert_eq!(&bytes[48..52], &600u32.to_be_bytes());
        assert_eq!(&bytes[52..56], &[0x11, 0x22, 0x33, 0x44]);
        assert_eq!(&bytes[56..58], &[0, 0], "empty options");
        assert_eq!(RequestRecord::parse(&bytes), Ok(sample_request()));
        // The padding is random, not zeros.
        assert_ne!(&bytes[58..], &[0u8; REQUEST_LEN - 58][..]);
    }

    #[test]
    fn request_rejects_what_the_spec_rules_out() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let good = sample_request().encode(&mut rng).expect("fits");
        let with = |at: usize, byte: u8| {
            let mut bytes = good;
            bytes[at] = byte;
            RequestRecord::parse(&bytes)
        };
        assert!(with(40, 0xc0).is_err(), "IBGW and OBEP at once");
        assert_eq!(with(40, 0x80).map(|r| r.role), Ok(HopRole::InboundGateway));
        assert_eq!(with(40, 0x3f).map(|r| r.role), Ok(HopRole::Participant));
        assert!(with(43, 1).is_err(), "unknown layer encryption");
        let mut zero_tunnel = good;
        zero_tunnel[..4].copy_from_slice(&[0; 4]);
        assert!(RequestRecord::parse(&zero_tunnel).is_err());
        // An options size running past the record.
        assert!(with(56, 0xff).is_err());

        let mut big = sample_request();
        big.options
            .insert("k", "v".repeat(100))
            .expect("small for a mapping");
        assert!(matches!(
            big.encode(&mut rng),
            Err(DataError::TooLarge { max: 98, .. })
        ));
    }

    #[test]
    fn reply_layout_and_status_bands() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut options = Mapping::new();
        options.insert("b", "200").expect("small");
        let reply = ReplyRecord {
            options,
            status: ReplyStatus::RejectBandwidth,
        };
        let bytes = reply.encode(&mut rng).expect("fits");
        assert_eq!(&bytes[..2], &[0, 8]);
        assert_eq!(bytes[REPLY_LEN - 1], 30);
        assert_eq!(ReplyRecord::parse(&bytes), Ok(reply));

        assert_eq!(ReplyStatus::from_byte(0), ReplyStatus::Accept);
        assert_eq!(ReplyStatus::from_byte(5), ReplyStatus::RejectProbabilistic);
        assert_eq!(ReplyStatus::from_byte(20), ReplyStatus::RejectTransient);
        assert_eq!(ReplyStatus::from_byte(31), ReplyStatus::RejectCritical);
        assert_eq!(ReplyStatus::from_byte(255), ReplyStatus::RejectCritical);
        assert!(!ReplyStatus::from_byte(1).is_accept());

        let mut huge = Mapping::new();
        huge.insert("k", "v".repeat(200))
            .expect("small for a mapping");
        let too_big = ReplyRecord {
            options: huge,
            status: ReplyStatus::Accept,
        };
        assert!(too_big.encode(&mut rng).is_err());
    }

    proptest! {
        #[test]
        fn request_round_trip(request in arb_request(), seed in any::<u64>()) {
            let bytes = request.encode(&mut ChaCha20Rng::seed_from_u64(seed))?;
            prop_assert_eq!(RequestRecord::parse(&bytes)?, request);
        }

        #[test]
        fn reply_round_trip(
            options in arb_options(),
            status in arb_status(),
            seed in any::<u64>(),
        ) {
            let reply = ReplyRecord { options, status };
            let bytes = reply.encode(&mut ChaCha20Rng::seed_from_u64(seed))?;
            prop_assert_eq!(ReplyRecord::parse(&bytes)?, reply);
            prop_assert_eq!(ReplyStatus::from_byte(status as u8), status);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), REPLY_LEN)) {
            let mut request = [0u8; REQUEST_LEN];
            request.copy_from_slice(&bytes[..REQUEST_LEN]);
            let _ = RequestRecord::parse(&request);
            let mut reply = [0u8; REPLY_LEN];
            reply.copy_from_slice(&bytes);
            let _ = ReplyRecord::parse(&reply);
        }
    }
}
