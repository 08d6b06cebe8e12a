//! DatabaseSearchReply (spec: I2NP, DatabaseSearchReply).

use super::I2npError;
use crate::data::reader::Reader;
use crate::data::Hash;

/// A floodfill's answer to a lookup it cannot satisfy: routers it thinks are closer to
/// the key (typically 3). `from` is unauthenticated and cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSearchReply {
    pub key: Hash,
    /// At most 255 (1-byte count).
    pub peers: Vec<Hash>,
    pub from: Hash,
}

impl DatabaseSearchReply {
    pub const MAX_PEERS: usize = 255;

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<DatabaseSearchReply, I2npError> {
        let key = Hash(r.array("search reply: key")?);
        let count = r.u8("search reply: peer count")?;
        let mut peers = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            peers.push(Hash(r.array("search reply: peer hash")?));
        }
        let from = Hash(r.array("search reply: from")?);
        Ok(DatabaseSearchReply { key, peers, from })
    }

    /// The length [`DatabaseSearchReply::emit`] writes.
    pub(crate) fn wire_len(&self) -> usize {
        32 + 1 + 32 * self.peers.len() + 32
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), I2npError> {
        let count = u8::try_from(self.peers.len()).map_err(|_| I2npError::TooLarge {
            what: "search reply: peers",
            max: Self::MAX_PEERS,
            actual: self.peers.len(),
        })?;
        out.extend_from_slice(self.key.as_bytes());
        out.push(count);
        for peer in &self.peers {
            out.extend_from_slice(peer.as_bytes());
        }
        out.extend_from_slice(self.from.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i2np::MessageBody;

    #[test]
    fn layout_and_limits() {
        let reply = DatabaseSearchReply {
            key: Hash([1; 32]),
            peers: vec![Hash([2; 32]), Hash([3; 32])],
            from: Hash([4; 32]),
        };
        let body = MessageBody::DatabaseSearchReply(reply.clone())
            .encode()
            .expect("small");
        assert_eq!(body.len(), 32 + 1 + 64 + 32);
        assert_eq!(body[32], 2);
        assert_eq!(
            MessageBody::decode(3, &body),
            Ok(MessageBody::DatabaseSearchReply(reply.clone()))
        );
        let too_many = DatabaseSearchReply {
            peers: vec![Hash::ZERO; 256],
            ..reply
        };
        assert!(MessageBody::DatabaseSearchReply(too_many).encode().is_err());
    }
}
