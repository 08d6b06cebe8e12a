//! DatabaseLookup (spec: I2NP, DatabaseLookup; proposal 154 for ECIES replies).

use super::I2npError;
use crate::data::reader::Reader;
use crate::data::Hash;

const FLAG_DELIVERY: u8 = 0x01;
const FLAG_ENCRYPTION: u8 = 0x02;
const LOOKUP_TYPE_SHIFT: u8 = 2;
const FLAG_ECIES: u8 = 0x10;

/// Asks a floodfill for an entry; answered by a DatabaseStore or a DatabaseSearchReply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseLookup {
    /// The real hash looked up (not the routing key).
    pub key: Hash,
    /// Without `reply_tunnel`: the router to reply to. With it: the reply tunnel's gateway.
    pub from: Hash,
    pub kind: LookupKind,
    /// Set the delivery flag: reply through this tunnel at the `from` gateway.
    pub reply_tunnel: Option<u32>,
    /// Peers not to name in a DatabaseSearchReply; at most 512.
    pub exclude: Vec<Hash>,
    pub reply_encryption: ReplyEncryption,
}

/// Lookup type flags (bits 3-2), as of 0.9.16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LookupKind {
    /// 00: RouterInfo or LeaseSet; not recommended towards 0.9.16+ routers.
    Any,
    /// 01: a LeaseSet (any variant).
    LeaseSet,
    /// 10: a RouterInfo.
    RouterInfo,
    /// 11: exploration: a DatabaseSearchReply naming non-floodfill routers only.
    Exploration,
}

impl LookupKind {
    fn bits(self) -> u8 {
        match self {
            LookupKind::Any => 0,
            LookupKind::LeaseSet => 1,
            LookupKind::RouterInfo => 2,
            LookupKind::Exploration => 3,
        }
    }

    fn from_bits(bits: u8) -> LookupKind {
        match bits & 0x03 {
            0 => LookupKind::Any,
            1 => LookupKind::LeaseSet,
            2 => LookupKind::RouterInfo,
            _ => LookupKind::Exploration,
        }
    }
}

/// How the reply must be encrypted (flag bits 4 and 1; spec: I2NP, Reply Encryption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyEncryption {
    /// Bits 4,1 = 0,0: plain reply.
    None,
    /// Bits 4,1 = 0,1: ElGamal/AES+SessionTags reply with a 32-byte key and 32-byte tags (1..=32).
    AesSessionTag { key: [u8; 32], tags: Vec<[u8; 32]> },
    /// Bits 4,1 = 1,0: ECIES-X25519 ratchet existing-session reply, 8-byte tags (the spec
    /// requires exactly 1; we accept 1..=32 like the AES case).
    Ratchet { key: [u8; 32], tags: Vec<[u8; 8]> },
}

impl DatabaseLookup {
    /// Largest exclude list the spec allows.
    pub const MAX_EXCLUDE: usize = 512;
    /// Largest reply tag count the spec allows.
    pub const MAX_TAGS: usize = 32;

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<DatabaseLookup, I2npError> {
        let key = Hash(r.array("database lookup: key")?);
        let from = Hash(r.array("database lookup: from")?);
        // Bits 7-5 are reserved and ignored.
        let flags = r.u8("database lookup: flags")?;
        let reply_tunnel = if flags & FLAG_DELIVERY != 0 {
            Some(r.u32("database lookup: reply tunnel id")?)
        } else {
            None
        };
        let count = usize::from(r.u16("database lookup: exclude count")?);
        if count > Self::MAX_EXCLUDE {
            return Err(I2npError::TooLarge {
                what: "database lookup: excluded peers",
                max: Self::MAX_EXCLUDE,
                actual: count,
            });
        }
        let mut exclude = Vec::with_capacity(count);
        for _ in 0..count {
            exclude.push(Hash(r.array("database lookup: excluded peer")?));
        }
        let reply_encryption = match (flags & FLAG_ECIES != 0, flags & FLAG_ENCRYPTION != 0) {
            (false, false) => ReplyEncryption::None,
            (false, true) => {
                let key = r.array("database lookup: reply key")?;
                let n = read_tag_count(r)?;
                let mut tags = Vec::with_capacity(n);
                for _ in 0..n {
                    tags.push(r.array("database lookup: reply tag")?);
                }
                ReplyEncryption::AesSessionTag { key, tags }
            }
            (true, false) => {
                let key = r.array("database lookup: reply key")?;
                let n = read_tag_count(r)?;
                let mut tags = Vec::with_capacity(n);
                for _ in 0..n {
                    tags.push(r.array("database lookup: reply tag")?);
                }
                ReplyEncryption::Ratchet { key, tags }
            }
            (true, true) => {
                return Err(I2npError::InvalidField {
                    what: "database lookup: flags",
                    reason: "ECIES and encryption flags both set (ECIES-to-ECIES is reserved)",
                })
            }
        };
        Ok(DatabaseLookup {
            key,
            from,
            kind: LookupKind::from_bits(flags >> LOOKUP_TYPE_SHIFT),
            reply_tunnel,
            exclude,
            reply_encryption,
        })
    }

    fn flags(&self) -> u8 {
        let mut flags = self.kind.bits() << LOOKUP_TYPE_SHIFT;
        if self.reply_tunnel.is_some() {
            flags |= FLAG_DELIVERY;
        }
        match self.reply_encryption {
            ReplyEncryption::None => {}
            ReplyEncryption::AesSessionTag { .. } => flags |= FLAG_ENCRYPTION,
            ReplyEncryption::Ratchet { .. } => flags |= FLAG_ECIES,
        }
        flags
    }

    /// The length [`DatabaseLookup::emit`] writes.
    pub(crate) fn wire_len(&self) -> usize {
        let reply_tunnel = if self.reply_tunnel.is_some() { 4 } else { 0 };
        let encryption = match &self.reply_encryption {
            ReplyEncryption::None => 0,
            ReplyEncryption::AesSessionTag { key, tags } => key.len() + 1 + 32 * tags.len(),
            ReplyEncryption::Ratchet { key, tags } => key.len() + 1 + 8 * tags.len(),
        };
        32 + 32 + 1 + reply_tunnel + 2 + 32 * self.exclude.len() + encryption
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), I2npError> {
        if self.exclude.len() > Self::MAX_EXCLUDE {
            return Err(I2npError::TooLarge {
                what: "database lookup: excluded peers",
                max: Self::MAX_EXCLUDE,
                actual: self.exclude.len(),
            });
        }
        out.extend_from_slice(self.key.as_bytes());
        out.extend_from_slice(self.from.as_bytes());
        out.push(self.flags());
        if let Some(tunnel) = self.reply_tunnel {
            out.extend_from_slice(&tunnel.to_be_bytes());
        }
        // At most 512, checked above.
        out.extend_from_slice(&(self.exclude.len() as u16).to_be_bytes());
        for peer in &self.exclude {
            out.extend_from_slice(peer.as_bytes());
        }
        match &self.reply_encryption {
            ReplyEncryption::None => {}
            ReplyEncryption::AesSessionTag { key, tags } => {
                out.extend_from_slice(key);
                out.push(tag_count(tags.len())?);
                tags.iter().for_each(|t| out.extend_from_slice(t));
            }
            ReplyEncryption::Ratchet { key, tags } => {
                out.extend_from_slice(key);
                out.push(tag_count(tags.len())?);
                tags.iter().for_each(|t| out.extend_from_slice(t));
            }
        }
        Ok(())
    }
}

fn read_tag_count(r: &mut Reader<'_>) -> Result<usize, I2npError> {
    let n = usize::from(r.u8("database lookup: reply tag count")?);
    if n == 0 || n > DatabaseLookup::MAX_TAGS {
        return Err(I2npError::InvalidField {
            what: "database lookup: reply tag count",
            reason: "must be 1 to 32",
        });
    }
    Ok(n)
}

fn tag_count(n: usize) -> Result<u8, I2npError> {
    match u8::try_from(n) {
        Ok(n @ 1..=32) => Ok(n),
        _ => Err(I2npError::InvalidField {
            what: "database lookup: reply tag count",
            reason: "must be 1 to 32",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i2np::MessageBody;

    fn lookup() -> DatabaseLookup {
        DatabaseLookup {
            key: Hash([1; 32]),
            from: Hash([2; 32]),
            kind: LookupKind::RouterInfo,
            reply_tunnel: None,
            exclude: vec![],
            reply_encryption: ReplyEncryption::None,
        }
    }

    fn encode(l: &DatabaseLookup) -> Result<Vec<u8>, I2npError> {
        MessageBody::DatabaseLookup(l.clone()).encode()
    }

    #[test]
    fn flag_bits() {
        let plain = encode(&lookup()).expect("valid");
        assert_eq!(plain.len(), 32 + 32 + 1 + 2);
        assert_eq!(plain[64], 0b0000_1000);

        let explore = DatabaseLookup {
            kind: LookupKind::Exploration,
            reply_tunnel: Some(0x0102_0304),
            exclude: vec![Hash::ZERO],
            ..lookup()
        };
        let bytes = encode(&explore).expect("valid");
        assert_eq!(bytes[64], 0b0000_1101);
        assert_eq!(&bytes[65..69], &[1, 2, 3, 4]);
        assert_eq!(&bytes[69..71], &[0, 1]);
        assert_eq!(bytes.len(), 71 + 32);

        let ratchet = DatabaseLookup {
            kind: LookupKind::LeaseSet,
            reply_encryption: ReplyEncryption::Ratchet {
                key: [7; 32],
                tags: vec![[8; 8]],
            },
            ..lookup()
        };
        let bytes = encode(&ratchet).expect("valid");
        assert_eq!(bytes[64], 0b0001_0100);
        assert_eq!(bytes.len(), 67 + 32 + 1 + 8);
        assert_eq!(bytes[67 + 32], 1);

        let aes = DatabaseLookup {
            reply_encryption: ReplyEncryption::AesSessionTag {
                key: [7; 32],
                tags: vec![[8; 32], [9; 32]],
            },
            ..lookup()
        };
        let bytes = encode(&aes).expect("valid");
        assert_eq!(bytes[64], 0b0000_1010);
        assert_eq!(bytes.len(), 67 + 32 + 1 + 64);
        for l in [explore, ratchet, aes] {
            let bytes = encode(&l).expect("valid");
            assert_eq!(
                MessageBody::decode(2, &bytes),
                Ok(MessageBody::DatabaseLookup(l))
            );
        }
    }

    #[test]
    fn reserved_and_out_of_range() {
        let mut both = encode(&lookup()).expect("valid");
        both[64] |= FLAG_ECIES | FLAG_ENCRYPTION;
        both.extend_from_slice(&[0; 33]);
        assert!(matches!(
            MessageBody::decode(2, &both),
            Err(I2npError::InvalidField { .. })
        ));

        // Reserved bits 7-5 are ignored.
        let mut reserved = encode(&lookup()).expect("valid");
        reserved[64] |= 0xe0;
        assert_eq!(
            MessageBody::decode(2, &reserved),
            Ok(MessageBody::DatabaseLookup(lookup()))
        );

        let mut too_many = encode(&lookup()).expect("valid");
        too_many[65..67].copy_from_slice(&513u16.to_be_bytes());
        assert!(matches!(
            MessageBody::decode(2, &too_many),
            Err(I2npError::TooLarge { .. })
        ));

        let zero_tags = DatabaseLookup {
            reply_encryption: ReplyEncryption::Ratchet {
                key: [0; 32],
                tags: vec![],
            },
            ..lookup()
        };
        assert!(encode(&zero_tags).is_err());
        let excluded = DatabaseLookup {
            exclude: vec![Hash::ZERO; 513],
            ..lookup()
        };
        assert!(encode(&excluded).is_err());
    }
}
