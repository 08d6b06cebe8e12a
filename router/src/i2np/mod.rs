//! I2NP, the router-to-router message protocol (spec: I2NP).
//!
//! Implemented so far: the netDb messages (DatabaseStore, DatabaseLookup,
//! DatabaseSearchReply, DeliveryStatus), Garlic and Data (their contents are
//! `crate::garlic`'s), the tunnel data plane's TunnelData and TunnelGateway, and tunnel
//! building's ShortTunnelBuild and OutboundTunnelBuildReply.
//! Each message can be framed with the standard 16-byte header (inside tunnel messages,
//! garlic cloves, TunnelGateway) or the 9-byte NTCP2/SSU2 header, whose size comes from
//! the transport frame.

mod data_message;
mod database_lookup;
mod database_store;
mod delivery_status;
mod garlic;
mod header;
mod search_reply;
mod tunnel_build;
mod tunnel_data;
mod tunnel_gateway;

pub use data_message::DataMessage;
pub use database_lookup::{DatabaseLookup, LookupKind, ReplyEncryption};
pub use database_store::{
    DatabaseStore, KnownRouterInfos, StoreEntry, StoreReply, MAX_ROUTER_INFO_SIZE,
};
pub use delivery_status::DeliveryStatus;
pub use garlic::Garlic;
pub use header::{MAX_BODY_LEN, SHORT_HEADER_LEN, STANDARD_HEADER_LEN};
pub use search_reply::DatabaseSearchReply;
pub use tunnel_build::{BuildRecords, SHORT_RECORD_LEN};
pub use tunnel_data::TunnelData;
pub use tunnel_gateway::TunnelGateway;

pub(crate) use tunnel_data::read_tunnel_id;

use crate::data::reader::Reader;
use crate::data::DataError;

/// Why an I2NP message could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum I2npError {
    /// A structure inside the message (or the framing itself) is malformed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A message type we do not implement (yet), or a reserved one.
    #[error("unsupported I2NP message type {0}")]
    UnsupportedType(u8),
    /// The standard header's checksum byte does not match the first byte of SHA-256(body).
    #[error("I2NP checksum mismatch: header has {expected:#04x}, body hashes to {actual:#04x}")]
    BadChecksum { expected: u8, actual: u8 },
    /// A field value the specification rules out.
    #[error("{what}: {reason}")]
    InvalidField {
        what: &'static str,
        reason: &'static str,
    },
    /// A count or length above the wire format's (or our safety) limit.
    #[error("{what}: too large ({actual}, at most {max})")]
    TooLarge {
        what: &'static str,
        max: usize,
        actual: usize,
    },
    /// The gzip'd RouterInfo of a DatabaseStore is not valid gzip.
    #[error("gzip'd router info: {0}")]
    Decompression(String),
}

/// I2NP message type numbers (spec: I2NP, Messages).
pub mod message_type {
    pub const DATABASE_STORE: u8 = 1;
    pub const DATABASE_LOOKUP: u8 = 2;
    pub const DATABASE_SEARCH_REPLY: u8 = 3;
    pub const DELIVERY_STATUS: u8 = 10;
    pub const GARLIC: u8 = 11;
    pub const TUNNEL_DATA: u8 = 18;
    pub const TUNNEL_GATEWAY: u8 = 19;
    pub const DATA: u8 = 20;
    pub const TUNNEL_BUILD: u8 = 21;
    pub const TUNNEL_BUILD_REPLY: u8 = 22;
    pub const VARIABLE_TUNNEL_BUILD: u8 = 23;
    pub const VARIABLE_TUNNEL_BUILD_REPLY: u8 = 24;
    pub const SHORT_TUNNEL_BUILD: u8 = 25;
    pub const OUTBOUND_TUNNEL_BUILD_REPLY: u8 = 26;
}

/// One I2NP message: header fields plus a typed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I2npMessage {
    /// Usually random; DeliveryStatus and tunnel builds refer back to it.
    pub id: u32,
    /// Milliseconds since the epoch. The short header carries seconds, so a message
    /// that crosses NTCP2/SSU2 arrives with this rounded to the nearest second.
    pub expiration_ms: u64,
    pub body: MessageBody,
}

/// The bodies we implement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageBody {
    DatabaseStore(DatabaseStore),
    DatabaseLookup(DatabaseLookup),
    DatabaseSearchReply(DatabaseSearchReply),
    DeliveryStatus(DeliveryStatus),
    Garlic(Garlic),
    TunnelData(TunnelData),
    TunnelGateway(TunnelGateway),
    Data(DataMessage),
    ShortTunnelBuild(BuildRecords),
    OutboundTunnelBuildReply(BuildRecords),
}

impl MessageBody {
    /// The I2NP type number written in the header.
    pub fn type_id(&self) -> u8 {
        match self {
            MessageBody::DatabaseStore(_) => message_type::DATABASE_STORE,
            MessageBody::DatabaseLookup(_) => message_type::DATABASE_LOOKUP,
            MessageBody::DatabaseSearchReply(_) => message_type::DATABASE_SEARCH_REPLY,
            MessageBody::DeliveryStatus(_) => message_type::DELIVERY_STATUS,
            MessageBody::Garlic(_) => message_type::GARLIC,
            MessageBody::TunnelData(_) => message_type::TUNNEL_DATA,
            MessageBody::TunnelGateway(_) => message_type::TUNNEL_GATEWAY,
            MessageBody::Data(_) => message_type::DATA,
            MessageBody::ShortTunnelBuild(_) => message_type::SHORT_TUNNEL_BUILD,
            MessageBody::OutboundTunnelBuildReply(_) => message_type::OUTBOUND_TUNNEL_BUILD_REPLY,
        }
    }

    /// Decodes a body of type `type_id` that fills `bytes` exactly.
    pub fn decode(type_id: u8, bytes: &[u8]) -> Result<MessageBody, I2npError> {
        Self::decode_with(type_id, bytes, &())
    }

    /// Like [`MessageBody::decode`], taking RouterInfos the router holds from `known`.
    pub fn decode_with(
        type_id: u8,
        bytes: &[u8],
        known: &dyn KnownRouterInfos,
    ) -> Result<MessageBody, I2npError> {
        let mut r = Reader::new(bytes);
        let body = match type_id {
            message_type::DATABASE_STORE => {
                MessageBody::DatabaseStore(DatabaseStore::read(&mut r, known)?)
            }
            message_type::DATABASE_LOOKUP => {
                MessageBody::DatabaseLookup(DatabaseLookup::read(&mut r)?)
            }
            message_type::DATABASE_SEARCH_REPLY => {
                MessageBody::DatabaseSearchReply(DatabaseSearchReply::read(&mut r)?)
            }
            message_type::DELIVERY_STATUS => {
                MessageBody::DeliveryStatus(DeliveryStatus::read(&mut r)?)
            }
            message_type::GARLIC => MessageBody::Garlic(Garlic::read(&mut r)?),
            message_type::TUNNEL_DATA => MessageBody::TunnelData(TunnelData::read(&mut r)?),
            message_type::TUNNEL_GATEWAY => {
                MessageBody::TunnelGateway(TunnelGateway::read(&mut r)?)
            }
            message_type::DATA => MessageBody::Data(DataMessage::read(&mut r)?),
            message_type::SHORT_TUNNEL_BUILD => {
                MessageBody::ShortTunnelBuild(BuildRecords::read(&mut r)?)
            }
            message_type::OUTBOUND_TUNNEL_BUILD_REPLY => {
                MessageBody::OutboundTunnelBuildReply(BuildRecords::read(&mut r)?)
            }
            other => return Err(I2npError::UnsupportedType(other)),
        };
        r.finish("I2NP message body")?;
        Ok(body)
    }

    /// The length of the body [`MessageBody::encode`] writes, without writing it (for a
    /// body `encode` accepts). A RouterInfo store compresses its RouterInfo to know.
    pub fn wire_len(&self) -> usize {
        match self {
            MessageBody::DatabaseStore(m) => m.wire_len(),
            MessageBody::DatabaseLookup(m) => m.wire_len(),
            MessageBody::DatabaseSearchReply(m) => m.wire_len(),
            // msg id, timestamp.
            MessageBody::DeliveryStatus(_) => 4 + 8,
            // A 4-byte length, then the bytes.
            MessageBody::Garlic(m) => 4 + m.data.len(),
            MessageBody::Data(m) => 4 + m.payload.len(),
            MessageBody::TunnelData(_) => TunnelData::BODY_LEN,
            MessageBody::TunnelGateway(m) => m.wire_len(),
            MessageBody::ShortTunnelBuild(m) | MessageBody::OutboundTunnelBuildReply(m) => {
                m.wire_len()
            }
        }
    }

    /// Encodes the body; fails if a count exceeds its field (see each message) or the
    /// body exceeds [`MAX_BODY_LEN`].
    pub fn encode(&self) -> Result<Vec<u8>, I2npError> {
        let mut out = Vec::new();
        match self {
            MessageBody::DatabaseStore(m) => m.emit(&mut out)?,
            MessageBody::DatabaseLookup(m) => m.emit(&mut out)?,
            MessageBody::DatabaseSearchReply(m) => m.emit(&mut out)?,
            MessageBody::DeliveryStatus(m) => m.emit(&mut out),
            MessageBody::Garlic(m) => m.emit(&mut out)?,
            MessageBody::TunnelData(m) => m.emit(&mut out),
            MessageBody::TunnelGateway(m) => m.emit(&mut out)?,
            MessageBody::Data(m) => m.emit(&mut out)?,
            MessageBody::ShortTunnelBuild(m) | MessageBody::OutboundTunnelBuildReply(m) => {
                m.emit(&mut out)
            }
        }
        if out.len() > MAX_BODY_LEN {
            return Err(I2npError::TooLarge {
                what: "I2NP message body",
                max: MAX_BODY_LEN,
                actual: out.len(),
            });
        }
        Ok(out)
    }
}

impl I2npMessage {
    /// A new message of ours: a random id, as the specification recommends, and the
    /// given expiration.
    pub fn with_random_id(rng: &mut impl rand::Rng, expiration_ms: u64, body: MessageBody) -> Self {
        I2npMessage {
            id: rng.gen(),
            expiration_ms,
            body,
        }
    }

    /// Standard 16-byte header: type, id, expiration (ms), size, checksum.
    ///
    /// # Panics
    /// If the body cannot be encoded (more than 512 excluded peers, 255 search reply
    /// peers, 32 reply tags, an invalid LeaseSet store type, or a body over 65535 bytes).
    /// Use [`I2npMessage::try_encode`] for messages built from outside input.
    pub fn encode(&self) -> Vec<u8> {
        self.try_encode().expect("I2NP message within wire limits")
    }

    pub fn try_encode(&self) -> Result<Vec<u8>, I2npError> {
        let body = self.body.encode()?;
        Ok(header::frame_standard(
            self.body.type_id(),
            self.id,
            self.expiration_ms,
            &body,
        ))
    }

    /// The length of [`I2npMessage::encode`]'s output, without encoding.
    pub fn wire_len(&self) -> usize {
        header::STANDARD_HEADER_LEN + self.body.wire_len()
    }

    /// The length of [`I2npMessage::encode_short`]'s output, without encoding: what the
    /// message takes in an NTCP2 or SSU2 frame, block header aside.
    pub fn wire_len_short(&self) -> usize {
        header::SHORT_HEADER_LEN + self.body.wire_len()
    }

    /// Decodes one message filling `bytes`, checking the size and checksum fields.
    pub fn decode(bytes: &[u8]) -> Result<I2npMessage, I2npError> {
        let (h, body) = header::parse_standard(bytes)?;
        Ok(I2npMessage {
            id: h.id,
            expiration_ms: h.expiration_ms,
            body: MessageBody::decode(h.type_id, body)?,
        })
    }

    /// 9-byte NTCP2/SSU2 header: type, id, expiration in seconds (rounded to nearest).
    ///
    /// # Panics
    /// As [`I2npMessage::encode`]; see [`I2npMessage::try_encode_short`].
    pub fn encode_short(&self) -> Vec<u8> {
        self.try_encode_short()
            .expect("I2NP message within wire limits")
    }

    pub fn try_encode_short(&self) -> Result<Vec<u8>, I2npError> {
        let body = self.body.encode()?;
        Ok(header::frame_short(
            self.body.type_id(),
            self.id,
            self.expiration_ms,
            &body,
        ))
    }

    /// Decodes one message with the short header; the body is the rest of `bytes`.
    pub fn decode_short(bytes: &[u8]) -> Result<I2npMessage, I2npError> {
        Self::decode_short_with(bytes, &())
    }

    /// Like [`I2npMessage::decode_short`], taking RouterInfos the router holds from `known`.
    pub fn decode_short_with(
        bytes: &[u8],
        known: &dyn KnownRouterInfos,
    ) -> Result<I2npMessage, I2npError> {
        let (h, body) = header::parse_short(bytes)?;
        Ok(I2npMessage {
            id: h.id,
            expiration_ms: h.expiration_ms,
            body: MessageBody::decode_with(h.type_id, body, known)?,
        })
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    pub(crate) use super::tunnel_data::strategies::arb_tunnel_id;
    use super::*;
    use crate::data::strategies::{
        arb_encrypted_lease_set, arb_hash, arb_lease_set2, arb_meta_lease_set, arb_router_info,
    };
    use proptest::prelude::*;
    use std::num::NonZeroU32;
    use std::sync::Arc;

    pub(crate) fn arb_store_reply() -> impl Strategy<Value = Option<StoreReply>> {
        proptest::option::of((1u32.., any::<u32>(), arb_hash()).prop_map(
            |(token, tunnel_id, gateway)| StoreReply {
                token: NonZeroU32::new(token).expect("strategy starts at 1"),
                tunnel_id,
                gateway,
            },
        ))
    }

    pub(crate) fn arb_leaseset_store() -> impl Strategy<Value = DatabaseStore> {
        (
            arb_hash(),
            arb_store_reply(),
            Just(1u8),
            proptest::collection::vec(any::<u8>(), 0..600),
        )
            .prop_map(|(key, reply, store_type, data)| DatabaseStore {
                key,
                reply,
                entry: StoreEntry::LeaseSet { store_type, data },
            })
    }

    pub(crate) fn arb_router_info_store() -> impl Strategy<Value = DatabaseStore> {
        (arb_store_reply(), arb_router_info()).prop_map(|(reply, ri)| DatabaseStore {
            key: ri.hash(),
            reply,
            entry: StoreEntry::RouterInfo(Arc::new(ri)),
        })
    }

    /// Keyed by the destination hash, as a valid store is.
    pub(crate) fn arb_lease_set2_store() -> impl Strategy<Value = DatabaseStore> {
        (arb_store_reply(), arb_lease_set2()).prop_map(|(reply, ls)| DatabaseStore {
            key: ls.hash(),
            reply,
            entry: StoreEntry::LeaseSet2(Arc::new(ls)),
        })
    }

    /// Keyed by the storage key, as a valid store is.
    pub(crate) fn arb_meta_lease_set_store() -> impl Strategy<Value = DatabaseStore> {
        (arb_store_reply(), arb_meta_lease_set()).prop_map(|(reply, meta)| DatabaseStore {
            key: meta.hash(),
            reply,
            entry: StoreEntry::MetaLeaseSet(Arc::new(meta)),
        })
    }

    pub(crate) fn arb_encrypted_lease_set_store() -> impl Strategy<Value = DatabaseStore> {
        (arb_store_reply(), arb_encrypted_lease_set()).prop_map(|(reply, els)| DatabaseStore {
            key: els.storage_key(),
            reply,
            entry: StoreEntry::EncryptedLeaseSet(Arc::new(els)),
        })
    }

    pub(crate) fn arb_reply_encryption() -> impl Strategy<Value = ReplyEncryption> {
        prop_oneof![
            Just(ReplyEncryption::None),
            (
                any::<[u8; 32]>(),
                proptest::collection::vec(any::<[u8; 32]>(), 1..4)
            )
                .prop_map(|(key, tags)| ReplyEncryption::AesSessionTag { key, tags }),
            (
                any::<[u8; 32]>(),
                proptest::collection::vec(any::<[u8; 8]>(), 1..4)
            )
                .prop_map(|(key, tags)| ReplyEncryption::Ratchet { key, tags }),
        ]
    }

    pub(crate) fn arb_lookup() -> impl Strategy<Value = DatabaseLookup> {
        (
            arb_hash(),
            arb_hash(),
            prop_oneof![
                Just(LookupKind::Any),
                Just(LookupKind::LeaseSet),
                Just(LookupKind::RouterInfo),
                Just(LookupKind::Exploration)
            ],
            proptest::option::of(any::<u32>()),
            proptest::collection::vec(arb_hash(), 0..20),
            arb_reply_encryption(),
        )
            .prop_map(
                |(key, from, kind, reply_tunnel, exclude, reply_encryption)| DatabaseLookup {
                    key,
                    from,
                    kind,
                    reply_tunnel,
                    exclude,
                    reply_encryption,
                },
            )
    }

    pub(crate) fn arb_search_reply() -> impl Strategy<Value = DatabaseSearchReply> {
        (
            arb_hash(),
            proptest::collection::vec(arb_hash(), 0..16),
            arb_hash(),
        )
            .prop_map(|(key, peers, from)| DatabaseSearchReply { key, peers, from })
    }

    pub(crate) fn arb_delivery_status() -> impl Strategy<Value = DeliveryStatus> {
        (any::<u32>(), any::<u64>()).prop_map(|(msg_id, timestamp_ms)| DeliveryStatus {
            msg_id,
            timestamp_ms,
        })
    }

    /// Bodies without RouterInfos (cheap: no key generation).
    pub(crate) fn arb_cheap_body() -> impl Strategy<Value = MessageBody> {
        prop_oneof![
            arb_leaseset_store().prop_map(MessageBody::DatabaseStore),
            arb_lookup().prop_map(MessageBody::DatabaseLookup),
            arb_search_reply().prop_map(MessageBody::DatabaseSearchReply),
            arb_delivery_status().prop_map(MessageBody::DeliveryStatus),
            super::garlic::strategies::arb_garlic().prop_map(MessageBody::Garlic),
            super::data_message::strategies::arb_data_message().prop_map(MessageBody::Data),
            super::tunnel_data::strategies::arb_tunnel_data().prop_map(MessageBody::TunnelData),
            super::tunnel_gateway::strategies::arb_tunnel_gateway()
                .prop_map(MessageBody::TunnelGateway),
            super::tunnel_build::strategies::arb_build_records()
                .prop_map(MessageBody::ShortTunnelBuild),
            super::tunnel_build::strategies::arb_build_records()
                .prop_map(MessageBody::OutboundTunnelBuildReply),
        ]
    }

    /// Expirations the short header can carry exactly (whole seconds).
    pub(crate) fn arb_message(
        body: impl Strategy<Value = MessageBody>,
    ) -> impl Strategy<Value = I2npMessage> {
        (any::<u32>(), any::<u32>(), body).prop_map(|(id, secs, body)| I2npMessage {
            id,
            expiration_ms: u64::from(secs) * 1000,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::*;
    use super::*;
    use crate::data::strategies::mutated;
    use proptest::prelude::*;

    #[test]
    fn delivery_status_known_encoding() {
        let msg = I2npMessage {
            id: 0x0102_0304,
            expiration_ms: 0x0000_0190_0000_03e8,
            body: MessageBody::DeliveryStatus(DeliveryStatus {
                msg_id: 0xdead_beef,
                timestamp_ms: 2,
            }),
        };
        let bytes = msg.encode();
        let body = [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 2];
        let checksum = crate::data::Hash::digest(&body).0[0];
        let mut expected = vec![
            10, 1, 2, 3, 4, 0, 0, 0x01, 0x90, 0, 0, 0x03, 0xe8, 0, 12, checksum,
        ];
        expected.extend_from_slice(&body);
        assert_eq!(bytes, expected);
        assert_eq!(I2npMessage::decode(&bytes), Ok(msg.clone()));

        let short = msg.encode_short();
        // 0x0190_0000_03e8 ms = 1_717_986_919_400 ms -> rounds to 1_717_986_919 s.
        let secs: u32 = 1_717_986_919;
        let mut expected = vec![10, 1, 2, 3, 4];
        expected.extend_from_slice(&secs.to_be_bytes());
        expected.extend_from_slice(&body);
        assert_eq!(short, expected);
        let back = I2npMessage::decode_short(&short).expect("valid");
        assert_eq!(back.expiration_ms, u64::from(secs) * 1000);
    }

    #[test]
    fn header_errors() {
        let msg = I2npMessage {
            id: 1,
            expiration_ms: 1000,
            body: MessageBody::DeliveryStatus(DeliveryStatus {
                msg_id: 1,
                timestamp_ms: 1,
            }),
        };
        let bytes = msg.encode();
        let mut bad = bytes.clone();
        bad[15] ^= 0xff;
        assert!(matches!(
            I2npMessage::decode(&bad),
            Err(I2npError::BadChecksum { .. })
        ));
        assert!(matches!(
            I2npMessage::decode(&bytes[..bytes.len() - 1]),
            Err(I2npError::Data(DataError::Truncated { .. }))
        ));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            I2npMessage::decode(&longer),
            Err(I2npError::Data(DataError::TrailingBytes { .. }))
        ));
        let mut unknown = bytes.clone();
        unknown[0] = message_type::TUNNEL_BUILD;
        assert_eq!(
            I2npMessage::decode(&unknown),
            Err(I2npError::UnsupportedType(message_type::TUNNEL_BUILD))
        );
        assert!(I2npMessage::decode_short(&[10, 0, 0]).is_err());
    }

    proptest! {
        #[test]
        fn standard_round_trip(msg in arb_message(arb_cheap_body())) {
            let bytes = msg.try_encode()?;
            prop_assert_eq!(I2npMessage::decode(&bytes)?, msg);
        }

        #[test]
        fn short_round_trip(msg in arb_message(arb_cheap_body())) {
            let bytes = msg.try_encode_short()?;
            prop_assert_eq!(bytes.len(), msg.try_encode()?.len() - 7);
            prop_assert_eq!(I2npMessage::decode_short(&bytes)?, msg);
        }

        #[test]
        fn wire_len_is_the_encoded_length(msg in arb_message(arb_cheap_body())) {
            prop_assert_eq!(msg.wire_len(), msg.try_encode()?.len());
            prop_assert_eq!(msg.wire_len_short(), msg.try_encode_short()?.len());
        }

        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
            let _ = I2npMessage::decode(&bytes);
            let _ = I2npMessage::decode_short(&bytes);
        }

        #[test]
        fn random_bodies_never_panic(type_id in prop_oneof![Just(1u8), Just(2), Just(3), Just(10), Just(11), Just(20), any::<u8>()], bytes in any::<Vec<u8>>()) {
            let _ = MessageBody::decode(type_id, &bytes);
        }

        #[test]
        fn mutated_encodings_never_panic(
            bytes in arb_message(arb_cheap_body()).prop_flat_map(|m| mutated(m.encode()))
        ) {
            let _ = I2npMessage::decode(&bytes);
        }

        #[test]
        fn mutated_short_encodings_never_panic(
            bytes in arb_message(arb_cheap_body()).prop_flat_map(|m| mutated(m.encode_short()))
        ) {
            let _ = I2npMessage::decode_short(&bytes);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn router_info_store_round_trip(
            msg in arb_message(arb_router_info_store().prop_map(MessageBody::DatabaseStore))
        ) {
            prop_assert_eq!(I2npMessage::decode(&msg.try_encode()?)?, msg.clone());
            prop_assert_eq!(I2npMessage::decode_short(&msg.try_encode_short()?)?, msg);
        }

        #[test]
        fn store_wire_len_is_the_encoded_length(
            body in prop_oneof![
                arb_router_info_store(),
                arb_lease_set2_store(),
                arb_encrypted_lease_set_store(),
                arb_meta_lease_set_store(),
            ]
            .prop_map(MessageBody::DatabaseStore)
        ) {
            prop_assert_eq!(body.wire_len(), body.encode()?.len());
        }

        #[test]
        fn lease_set2_store_round_trip(
            msg in arb_message(arb_lease_set2_store().prop_map(MessageBody::DatabaseStore))
        ) {
            prop_assert_eq!(I2npMessage::decode(&msg.try_encode()?)?, msg.clone());
            prop_assert_eq!(I2npMessage::decode_short(&msg.try_encode_short()?)?, msg);
        }

        #[test]
        fn mutated_lease_set2_stores_never_panic(
            bytes in arb_message(arb_lease_set2_store().prop_map(MessageBody::DatabaseStore))
                .prop_flat_map(|m| mutated(m.encode_short()))
        ) {
            let _ = I2npMessage::decode_short(&bytes);
        }

        #[test]
        fn encrypted_lease_set_store_round_trip(
            msg in arb_message(arb_encrypted_lease_set_store().prop_map(MessageBody::DatabaseStore))
        ) {
            prop_assert_eq!(I2npMessage::decode(&msg.try_encode()?)?, msg.clone());
            prop_assert_eq!(I2npMessage::decode_short(&msg.try_encode_short()?)?, msg);
        }

        #[test]
        fn mutated_encrypted_lease_set_stores_never_panic(
            bytes in arb_message(arb_encrypted_lease_set_store().prop_map(MessageBody::DatabaseStore))
                .prop_flat_map(|m| mutated(m.encode_short()))
        ) {
            let _ = I2npMessage::decode_short(&bytes);
        }

        #[test]
        fn meta_lease_set_store_round_trip(
            msg in arb_message(arb_meta_lease_set_store().prop_map(MessageBody::DatabaseStore))
        ) {
            prop_assert_eq!(I2npMessage::decode(&msg.try_encode()?)?, msg.clone());
            prop_assert_eq!(I2npMessage::decode_short(&msg.try_encode_short()?)?, msg);
        }

        #[test]
        fn mutated_meta_lease_set_stores_never_panic(
            bytes in arb_message(arb_meta_lease_set_store().prop_map(MessageBody::DatabaseStore))
                .prop_flat_map(|m| mutated(m.encode_short()))
        ) {
            let _ = I2npMessage::decode_short(&bytes);
        }

        #[test]
        fn mutated_router_info_stores_never_panic(
            bytes in arb_message(arb_router_info_store().prop_map(MessageBody::DatabaseStore))
                .prop_flat_map(|m| mutated(m.encode_short()))
        ) {
            let _ = I2npMessage::decode_short(&bytes);
        }
    }
}
