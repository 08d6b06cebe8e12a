//! DatabaseStore (spec: I2NP, DatabaseStore; proposal 123 for the LeaseSet2 types).

use super::I2npError;
use crate::data::reader::Reader;
use crate::data::{EncryptedLeaseSet, Hash, LeaseSet2, MetaLeaseSet, RouterInfo};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::{Read, Write};
use std::num::NonZeroU32;
use std::sync::Arc;

/// Largest decompressed RouterInfo we accept: bounds a gzip bomb. Real RouterInfos are
/// 1-3 KB; the compressed form is limited to 65535 bytes by its length field.
pub const MAX_ROUTER_INFO_SIZE: usize = 64 * 1024;

const TYPE_ROUTER_INFO: u8 = 0;
const TYPE_LEASESET: u8 = 1;
const TYPE_LEASESET2: u8 = LeaseSet2::STORE_TYPE;
const TYPE_ENCRYPTED_LEASESET: u8 = EncryptedLeaseSet::STORE_TYPE;
const TYPE_META_LEASESET: u8 = 7;

/// RouterInfos a router already holds, found by their exact bytes. Decoding a DatabaseStore
/// with one of them returns the held value, verified when it was first parsed and shared,
/// instead of parsing and verifying the same bytes again: RouterInfos inside encrypted
/// netDb replies arrive as bytes, most of them ones the router has.
pub trait KnownRouterInfos {
    fn get(&self, bytes: &[u8]) -> Option<Arc<RouterInfo>>;
}

/// Knows none: every RouterInfo is parsed and verified.
impl KnownRouterInfos for () {
    fn get(&self, _: &[u8]) -> Option<Arc<RouterInfo>> {
        None
    }
}

/// Stores an entry in the netDb: unsolicited (a publish or a flood) or as the answer to a
/// DatabaseLookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseStore {
    /// The entry's real hash (not the routing key): the router's hash for a RouterInfo,
    /// the destination's hash for a LeaseSet2, the storage key `SHA-256(type ‖ A')` for
    /// an encrypted LeaseSet. Decoding does not check that it matches the entry; the
    /// netDb must, before storing anything under it.
    pub key: Hash,
    /// Present when the sender wants a DeliveryStatus; a floodfill then also floods.
    pub reply: Option<StoreReply>,
    pub entry: StoreEntry,
}

/// Where the DeliveryStatus acknowledging a store goes (reply token > 0 on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreReply {
    /// Becomes the DeliveryStatus message id.
    pub token: NonZeroU32,
    /// Inbound gateway tunnel id; 0 means reply directly to the `gateway` router.
    pub tunnel_id: u32,
    pub gateway: Hash,
}

/// What is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEntry {
    /// Type 0, gzip'd on the wire behind a 2-byte length. Decoding verifies it.
    RouterInfo(Arc<RouterInfo>),
    /// Type 3, uncompressed: the rest of the message. Decoding verifies it.
    LeaseSet2(Arc<LeaseSet2>),
    /// Type 5, uncompressed: the rest of the message. Decoding verifies the outer
    /// signature; nobody but the destination's clients can read more.
    EncryptedLeaseSet(Arc<EncryptedLeaseSet>),
    /// Type 7, uncompressed: the rest of the message. Decoding verifies it.
    MetaLeaseSet(Arc<MetaLeaseSet>),
    /// Type 1 (the old LeaseSet), kept opaque: `data` is the rest of the message.
    /// Types 3, 5 and 7 are only ever their parsed variants.
    LeaseSet { store_type: u8, data: Vec<u8> },
}

impl StoreEntry {
    /// The DatabaseStore type byte.
    pub fn store_type(&self) -> u8 {
        match self {
            StoreEntry::RouterInfo(_) => TYPE_ROUTER_INFO,
            StoreEntry::LeaseSet2(_) => TYPE_LEASESET2,
            StoreEntry::EncryptedLeaseSet(_) => TYPE_ENCRYPTED_LEASESET,
            StoreEntry::MetaLeaseSet(_) => TYPE_META_LEASESET,
            StoreEntry::LeaseSet { store_type, .. } => *store_type,
        }
    }
}

/// The LeaseSet types still carried as opaque bytes.
fn is_opaque_leaseset_type(t: u8) -> bool {
    t == TYPE_LEASESET
}

fn gunzip_bounded(compressed: &[u8]) -> Result<Vec<u8>, I2npError> {
    let mut out = Vec::new();
    GzDecoder::new(compressed)
        .take(MAX_ROUTER_INFO_SIZE as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| I2npError::Decompression(e.to_string()))?;
    if out.len() > MAX_ROUTER_INFO_SIZE {
        return Err(I2npError::TooLarge {
            what: "decompressed router info",
            max: MAX_ROUTER_INFO_SIZE,
            actual: out.len(),
        });
    }
    Ok(out)
}

fn gzip(data: &[u8]) -> Result<Vec<u8>, I2npError> {
    // Fast compression: the repeated identity padding (proposal 161) is what compresses.
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len()), Compression::fast());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_err(|e| I2npError::Decompression(e.to_string()))
}

/// The length of [`gzip`]'s output, without keeping it.
fn gzip_len(data: &[u8]) -> usize {
    /// Counts what is written to it.
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut encoder = GzEncoder::new(Count(0), Compression::fast());
    // Writing into a counter cannot fail.
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_or(0, |count| count.0)
}

impl DatabaseStore {
    /// Reads the whole body: key, type, reply token [, tunnel id, gateway], data.
    pub(crate) fn read(
        r: &mut Reader<'_>,
        known: &dyn KnownRouterInfos,
    ) -> Result<DatabaseStore, I2npError> {
        let key = Hash(r.array("database store: key")?);
        // Bits 7-4 are reserved and ignored; bits 3-0 are the type (proposal 123).
        let store_type = r.u8("database store: type")? & 0x0f;
        let token = r.u32("database store: reply token")?;
        let reply = match NonZeroU32::new(token) {
            None => None,
            Some(token) => Some(StoreReply {
                token,
                tunnel_id: r.u32("database store: reply tunnel id")?,
                gateway: Hash(r.array("database store: reply gateway")?),
            }),
        };
        let entry = match store_type {
            TYPE_ROUTER_INFO => {
                let len = r.u16("database store: router info length")?;
                let compressed = r.take(usize::from(len), "database store: gzip'd router info")?;
                let bytes = gunzip_bounded(compressed)?;
                let info = match known.get(&bytes) {
                    Some(held) => held,
                    None => Arc::new(RouterInfo::parse(&bytes)?),
                };
                StoreEntry::RouterInfo(info)
            }
            TYPE_LEASESET2 => StoreEntry::LeaseSet2(Arc::new(LeaseSet2::parse(r.rest())?)),
            TYPE_ENCRYPTED_LEASESET => {
                StoreEntry::EncryptedLeaseSet(Arc::new(EncryptedLeaseSet::parse(r.rest())?))
            }
            TYPE_META_LEASESET => {
                StoreEntry::MetaLeaseSet(Arc::new(MetaLeaseSet::parse(r.rest())?))
            }
            t if is_opaque_leaseset_type(t) => StoreEntry::LeaseSet {
                store_type: t,
                data: r.rest().to_vec(),
            },
            _ => {
                return Err(I2npError::InvalidField {
                    what: "database store: type",
                    reason: "not 0, 1, 3, 5 or 7",
                })
            }
        };
        Ok(DatabaseStore { key, reply, entry })
    }

    /// The length [`DatabaseStore::emit`] writes. A RouterInfo goes gzip'd, so its length
    /// is known only by compressing it (into a counter, not a buffer).
    pub(crate) fn wire_len(&self) -> usize {
        let reply = match self.reply {
            None => 4,
            Some(_) => 4 + 4 + 32,
        };
        let entry = match &self.entry {
            StoreEntry::RouterInfo(ri) => 2 + gzip_len(ri.as_bytes()),
            StoreEntry::LeaseSet2(lease_set) => lease_set.as_bytes().len(),
            StoreEntry::EncryptedLeaseSet(els) => els.as_bytes().len(),
            StoreEntry::MetaLeaseSet(meta) => meta.as_bytes().len(),
            StoreEntry::LeaseSet { data, .. } => data.len(),
        };
        32 + 1 + reply + entry
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), I2npError> {
        out.extend_from_slice(self.key.as_bytes());
        out.push(self.entry.store_type());
        match &self.reply {
            None => out.extend_from_slice(&0u32.to_be_bytes()),
            Some(reply) => {
                out.extend_from_slice(&reply.token.get().to_be_bytes());
                out.extend_from_slice(&reply.tunnel_id.to_be_bytes());
                out.extend_from_slice(reply.gateway.as_bytes());
            }
        }
        match &self.entry {
            StoreEntry::RouterInfo(ri) => {
                let compressed = ri.gzipped_with(gzip)?;
                let len = u16::try_from(compressed.len()).map_err(|_| I2npError::TooLarge {
                    what: "database store: gzip'd router info",
                    max: usize::from(u16::MAX),
                    actual: compressed.len(),
                })?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(compressed);
            }
            StoreEntry::LeaseSet2(lease_set) => out.extend_from_slice(lease_set.as_bytes()),
            StoreEntry::EncryptedLeaseSet(els) => out.extend_from_slice(els.as_bytes()),
            StoreEntry::MetaLeaseSet(meta) => out.extend_from_slice(meta.as_bytes()),
            StoreEntry::LeaseSet { store_type, data } => {
                // Types 3, 5 and 7 are always parsed: opaque bytes of them would not decode
                // back.
                if !is_opaque_leaseset_type(*store_type) {
                    return Err(I2npError::InvalidField {
                        what: "database store: opaque leaseset type",
                        reason: "not 1",
                    });
                }
                out.extend_from_slice(data);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::strategies::{sign_test_lease_set2, sign_test_router_info};
    use crate::data::{DataError, Lease2, Mapping, TunnelId};
    use crate::i2np::{I2npMessage, MessageBody};

    fn ri_store(reply: Option<StoreReply>) -> DatabaseStore {
        let ri = sign_test_router_info(1, 42, vec![], Mapping::new());
        DatabaseStore {
            key: ri.hash(),
            reply,
            entry: StoreEntry::RouterInfo(Arc::new(ri)),
        }
    }

    fn decode_body(body: &[u8]) -> Result<MessageBody, I2npError> {
        MessageBody::decode(1, body)
    }

    #[test]
    fn router_info_layout() {
        let store = ri_store(None);
        let body = MessageBody::DatabaseStore(store.clone())
            .encode()
            .expect("encodable");
        assert_eq!(&body[..32], store.key.as_bytes());
        assert_eq!(body[32], 0);
        assert_eq!(&body[33..37], &[0, 0, 0, 0]);
        let len = usize::from(u16::from_be_bytes([body[37], body[38]]));
        assert_eq!(body.len(), 39 + len);
        // gzip magic
        assert_eq!(&body[39..41], &[0x1f, 0x8b]);
        // The repeated padding compresses: well under the raw ~470 bytes.
        assert!(len < 300, "compressed to {len}");
        assert_eq!(decode_body(&body), Ok(MessageBody::DatabaseStore(store)));
    }

    #[test]
    fn reply_fields_layout() {
        let reply = StoreReply {
            token: NonZeroU32::new(0x0a0b_0c0d).expect("nonzero"),
            tunnel_id: 7,
            gateway: Hash([9; 32]),
        };
        let store = DatabaseStore {
            key: Hash([1; 32]),
            reply: Some(reply),
            entry: StoreEntry::LeaseSet {
                store_type: 1,
                data: vec![1, 2, 3],
            },
        };
        let body = MessageBody::DatabaseStore(store.clone())
            .encode()
            .expect("encodable");
        let mut expected = vec![1; 32];
        expected.push(1);
        expected.extend_from_slice(&[0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 7]);
        expected.extend_from_slice(&[9; 32]);
        expected.extend_from_slice(&[1, 2, 3]);
        assert_eq!(body, expected);
        assert_eq!(
            decode_body(&body),
            Ok(MessageBody::DatabaseStore(store.clone()))
        );
        // Reserved high bits of the type are ignored.
        let mut high = body.clone();
        high[32] |= 0xf0;
        assert_eq!(decode_body(&high), Ok(MessageBody::DatabaseStore(store)));
    }

    #[test]
    fn invalid_types_and_gzip() {
        let mut body = vec![0; 32];
        body.push(2);
        body.extend_from_slice(&[0; 4]);
        assert!(matches!(
            decode_body(&body),
            Err(I2npError::InvalidField { .. })
        ));

        let mut garbage = vec![0; 32];
        garbage.push(0);
        garbage.extend_from_slice(&[0, 0, 0, 0, 0, 3, 1, 2, 3]);
        assert!(matches!(
            decode_body(&garbage),
            Err(I2npError::Decompression(_))
        ));

        let bad_type = DatabaseStore {
            key: Hash::ZERO,
            reply: None,
            entry: StoreEntry::LeaseSet {
                store_type: 2,
                data: vec![],
            },
        };
        assert!(MessageBody::DatabaseStore(bad_type).encode().is_err());

        // Type 3 is parsed on decode, so it cannot be sent as opaque bytes either.
        let opaque_ls2 = DatabaseStore {
            key: Hash::ZERO,
            reply: None,
            entry: StoreEntry::LeaseSet {
                store_type: 3,
                data: vec![1, 2, 3],
            },
        };
        assert!(MessageBody::DatabaseStore(opaque_ls2).encode().is_err());
    }

    fn ls2_store() -> DatabaseStore {
        let lease = Lease2 {
            gateway: Hash([4; 32]),
            tunnel_id: TunnelId(9),
            end_date_s: 1_700_000_600,
        };
        let ls = sign_test_lease_set2(2, 1_700_000_000, vec![lease]);
        DatabaseStore {
            key: ls.hash(),
            reply: None,
            entry: StoreEntry::LeaseSet2(Arc::new(ls)),
        }
    }

    #[test]
    fn lease_set2_layout_and_round_trip() {
        let store = ls2_store();
        let StoreEntry::LeaseSet2(ls) = &store.entry else {
            unreachable!()
        };
        let body = MessageBody::DatabaseStore(store.clone())
            .encode()
            .expect("encodable");
        assert_eq!(&body[..32], store.key.as_bytes());
        assert_eq!(body[32], 3);
        assert_eq!(&body[33..37], &[0, 0, 0, 0]);
        // Uncompressed, no length: the LeaseSet2 fills the rest of the message.
        assert_eq!(&body[37..], ls.as_bytes());
        assert_eq!(
            decode_body(&body),
            Ok(MessageBody::DatabaseStore(store.clone()))
        );

        let msg = I2npMessage {
            id: 5,
            expiration_ms: 1_700_000_060_000,
            body: MessageBody::DatabaseStore(store),
        };
        assert_eq!(I2npMessage::decode(&msg.encode()), Ok(msg.clone()));
        assert_eq!(I2npMessage::decode_short(&msg.encode_short()), Ok(msg));
    }

    #[test]
    fn tampered_lease_set2_is_refused() {
        let store = ls2_store();
        let mut body = MessageBody::DatabaseStore(store)
            .encode()
            .expect("encodable");
        // A byte of the published date, after key (32), type (1), token (4), destination (391).
        body[37 + 393] ^= 1;
        assert_eq!(
            decode_body(&body),
            Err(I2npError::Data(DataError::BadSignature))
        );
        let mut extra = MessageBody::DatabaseStore(ls2_store())
            .encode()
            .expect("encodable");
        extra.push(0);
        assert!(decode_body(&extra).is_err());
    }

    #[test]
    fn encrypted_lease_set_layout_round_trip_and_tampering() {
        use crate::data::strategies::arb_encrypted_lease_set;
        use proptest::strategy::{Strategy, ValueTree};
        use proptest::test_runner::TestRunner;
        let els = arb_encrypted_lease_set()
            .new_tree(&mut TestRunner::deterministic())
            .expect("a strategy value")
            .current();
        let store = DatabaseStore {
            key: els.storage_key(),
            reply: None,
            entry: StoreEntry::EncryptedLeaseSet(Arc::new(els.clone())),
        };
        let body = MessageBody::DatabaseStore(store.clone())
            .encode()
            .expect("encodable");
        assert_eq!(body[32], 5);
        // Uncompressed, no length: the encrypted LeaseSet fills the rest of the message.
        assert_eq!(&body[37..], els.as_bytes());
        assert_eq!(decode_body(&body), Ok(MessageBody::DatabaseStore(store)));
        // The published date, after the sig type and blinded key.
        let mut tampered = body.clone();
        tampered[37 + 34] ^= 1;
        assert_eq!(
            decode_body(&tampered),
            Err(I2npError::Data(DataError::BadSignature))
        );
        // Type 5 cannot go as opaque bytes: it would not decode back as such.
        let opaque = DatabaseStore {
            key: Hash::ZERO,
            reply: None,
            entry: StoreEntry::LeaseSet {
                store_type: 5,
                data: els.as_bytes().to_vec(),
            },
        };
        assert!(MessageBody::DatabaseStore(opaque).encode().is_err());
    }

    #[test]
    fn gzip_bomb_is_bounded() {
        let zeros = vec![0u8; MAX_ROUTER_INFO_SIZE * 4];
        let compressed = gzip(&zeros).expect("in memory");
        assert!(compressed.len() < 65535);
        let mut body = vec![0; 32];
        body.push(0);
        body.extend_from_slice(&[0; 4]);
        body.extend_from_slice(&(compressed.len() as u16).to_be_bytes());
        body.extend_from_slice(&compressed);
        assert!(matches!(
            decode_body(&body),
            Err(I2npError::TooLarge { .. })
        ));
    }

    #[test]
    fn tampered_router_info_is_refused() {
        let store = ri_store(None);
        let StoreEntry::RouterInfo(ri) = &store.entry else {
            unreachable!()
        };
        let mut bytes = ri.as_bytes().to_vec();
        bytes[395] ^= 1;
        let compressed = gzip(&bytes).expect("in memory");
        let mut body = store.key.as_bytes().to_vec();
        body.push(0);
        body.extend_from_slice(&[0; 4]);
        body.extend_from_slice(&(compressed.len() as u16).to_be_bytes());
        body.extend_from_slice(&compressed);
        assert_eq!(
            decode_body(&body),
            Err(I2npError::Data(DataError::BadSignature))
        );
        let msg = I2npMessage {
            id: 1,
            expiration_ms: 0,
            body: MessageBody::DatabaseStore(store),
        };
        assert!(I2npMessage::decode(&msg.encode()).is_ok());
    }
}
