//! ShortTunnelBuild (type 25) and OutboundTunnelBuildReply (type 26) (spec: I2NP).
//!
//! Both bodies are a one-byte record count (1 to 8) followed by that many 218-byte
//! encrypted records. What the records hold, and who can read them, is the business of
//! `tunnel::build`; here they are opaque bytes.

use super::I2npError;
use crate::data::reader::Reader;
use std::fmt;

/// Size of one encrypted short build record (request or reply).
pub const SHORT_RECORD_LEN: usize = 218;

/// The records of a ShortTunnelBuild or OutboundTunnelBuildReply: 1 to
/// [`BuildRecords::MAX`] of them, an invariant kept by every constructor.
#[derive(Clone, PartialEq, Eq)]
pub struct BuildRecords(Vec<[u8; SHORT_RECORD_LEN]>);

impl BuildRecords {
    /// Most records a message can carry (spec: "Valid values: 1-8").
    pub const MAX: usize = 8;

    /// Fails unless there are 1 to [`BuildRecords::MAX`] records.
    pub fn new(records: Vec<[u8; SHORT_RECORD_LEN]>) -> Result<BuildRecords, I2npError> {
        Self::check_count(records.len())?;
        Ok(BuildRecords(records))
    }

    fn check_count(count: usize) -> Result<(), I2npError> {
        match count {
            0 => Err(I2npError::InvalidField {
                what: "tunnel build: record count",
                reason: "must be at least 1",
            }),
            1..=Self::MAX => Ok(()),
            _ => Err(I2npError::TooLarge {
                what: "tunnel build: records",
                max: Self::MAX,
                actual: count,
            }),
        }
    }

    pub fn records(&self) -> &[[u8; SHORT_RECORD_LEN]] {
        &self.0
    }

    /// The records, to rewrite in place; their number cannot change.
    pub fn records_mut(&mut self) -> &mut [[u8; SHORT_RECORD_LEN]] {
        &mut self.0
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<BuildRecords, I2npError> {
        let count = usize::from(r.u8("tunnel build: record count")?);
        Self::check_count(count)?;
        let records = (0..count)
            .map(|_| r.array("tunnel build: record"))
            .collect::<Result<_, _>>()?;
        Ok(BuildRecords(records))
    }

    /// The length [`BuildRecords::emit`] writes.
    pub(crate) fn wire_len(&self) -> usize {
        1 + SHORT_RECORD_LEN * self.0.len()
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        // At most 8 records, by the constructor's invariant.
        out.push(self.0.len() as u8);
        for record in &self.0 {
            out.extend_from_slice(record);
        }
    }
}

/// The records are ciphertext: show how many, not 218 bytes of noise each.
impl fmt::Debug for BuildRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BuildRecords({} records)", self.0.len())
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn arb_build_records() -> impl Strategy<Value = BuildRecords> {
        proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), SHORT_RECORD_LEN),
            1..=BuildRecords::MAX,
        )
        .prop_map(|records| {
            let records = records
                .into_iter()
                .map(|r| <[u8; SHORT_RECORD_LEN]>::try_from(r).expect("strategy length"))
                .collect();
            BuildRecords::new(records).expect("strategy count")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::arb_build_records;
    use super::*;
    use crate::i2np::{message_type, MessageBody};
    use proptest::prelude::*;

    #[test]
    fn layout_and_limits() {
        let records = BuildRecords::new(vec![[1; SHORT_RECORD_LEN], [2; SHORT_RECORD_LEN]])
            .expect("two records");
        let body = MessageBody::ShortTunnelBuild(records.clone())
            .encode()
            .expect("small");
        assert_eq!(body.len(), 1 + 2 * SHORT_RECORD_LEN);
        assert_eq!(body[0], 2);
        assert_eq!(body[1], 1);
        assert_eq!(body[1 + SHORT_RECORD_LEN], 2);
        assert_eq!(
            MessageBody::decode(message_type::SHORT_TUNNEL_BUILD, &body),
            Ok(MessageBody::ShortTunnelBuild(records.clone()))
        );
        assert_eq!(
            MessageBody::decode(message_type::OUTBOUND_TUNNEL_BUILD_REPLY, &body),
            Ok(MessageBody::OutboundTunnelBuildReply(records.clone()))
        );
        assert_eq!(format!("{records:?}"), "BuildRecords(2 records)");

        assert!(BuildRecords::new(vec![]).is_err());
        assert!(BuildRecords::new(vec![[0; SHORT_RECORD_LEN]; 9]).is_err());
        for count in [0u8, 9, 255] {
            let mut bad = vec![count];
            bad.resize(1 + usize::from(count) * SHORT_RECORD_LEN, 0);
            assert!(MessageBody::decode(message_type::SHORT_TUNNEL_BUILD, &bad).is_err());
        }
        // A record cut short, and a byte too many.
        assert!(
            MessageBody::decode(message_type::SHORT_TUNNEL_BUILD, &body[..body.len() - 1]).is_err()
        );
        let mut longer = body.clone();
        longer.push(0);
        assert!(MessageBody::decode(message_type::SHORT_TUNNEL_BUILD, &longer).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip(records in arb_build_records()) {
            for body in [
                MessageBody::ShortTunnelBuild(records.clone()),
                MessageBody::OutboundTunnelBuildReply(records.clone()),
            ] {
                let bytes = body.encode()?;
                prop_assert_eq!(bytes.len(), 1 + records.records().len() * SHORT_RECORD_LEN);
                prop_assert_eq!(MessageBody::decode(body.type_id(), &bytes)?, body);
            }
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = MessageBody::decode(message_type::SHORT_TUNNEL_BUILD, &bytes);
            let _ = MessageBody::decode(message_type::OUTBOUND_TUNNEL_BUILD_REPLY, &bytes);
        }
    }
}
