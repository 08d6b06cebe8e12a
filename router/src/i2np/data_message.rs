//! Data (spec: I2NP, Data), and the length-prefixed layout it shares with Garlic.

use super::{I2npError, MAX_BODY_LEN};
use crate::data::reader::Reader;

/// Opaque bytes for a client, only ever carried inside a garlic clove: it has no routing
/// information of its own (spec: Data, Notes).
#[derive(Clone, PartialEq, Eq)]
pub struct DataMessage {
    pub payload: Vec<u8>,
}

impl DataMessage {
    pub const MAX_PAYLOAD_LEN: usize = MAX_LENGTH_PREFIXED_LEN;

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<DataMessage, I2npError> {
        Ok(DataMessage {
            payload: read_length_prefixed(r, "data message: payload")?.to_vec(),
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), I2npError> {
        emit_length_prefixed(out, &self.payload, "data message: payload")
    }
}

/// Only the payload's size: it is a client's business.
impl std::fmt::Debug for DataMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataMessage")
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// The 4-byte length comes first, and the whole body must fit the header's 2-byte size.
pub(super) const MAX_LENGTH_PREFIXED_LEN: usize = MAX_BODY_LEN - 4;

/// A 4-byte length, then that many bytes: the body of both Data and Garlic.
pub(super) fn read_length_prefixed<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
) -> Result<&'a [u8], I2npError> {
    let len = r.u32(what)?;
    // A length beyond the address space cannot be in the buffer either.
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    Ok(r.take(len, what)?)
}

/// Fails when the bytes would not fit an I2NP body after their length field.
pub(super) fn emit_length_prefixed(
    out: &mut Vec<u8>,
    bytes: &[u8],
    what: &'static str,
) -> Result<(), I2npError> {
    let len = u32::try_from(bytes.len())
        .ok()
        .filter(|_| bytes.len() <= MAX_LENGTH_PREFIXED_LEN)
        .ok_or(I2npError::TooLarge {
            what,
            max: MAX_LENGTH_PREFIXED_LEN,
            actual: bytes.len(),
        })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn arb_data_message() -> impl Strategy<Value = DataMessage> {
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|payload| DataMessage { payload })
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::arb_data_message;
    use super::*;
    use crate::i2np::{message_type, I2npMessage, MessageBody};
    use proptest::prelude::*;

    #[test]
    fn layout_and_limits() {
        let body = MessageBody::Data(DataMessage {
            payload: vec![7, 8, 9],
        });
        assert_eq!(body.type_id(), 20);
        let bytes = body.encode().expect("small");
        assert_eq!(bytes, [0, 0, 0, 3, 7, 8, 9]);
        assert_eq!(MessageBody::decode(message_type::DATA, &bytes), Ok(body));

        let largest = MessageBody::Data(DataMessage {
            payload: vec![0; DataMessage::MAX_PAYLOAD_LEN],
        });
        assert_eq!(largest.encode().map(|b| b.len()), Ok(MAX_BODY_LEN));
        let too_big = MessageBody::Data(DataMessage {
            payload: vec![0; DataMessage::MAX_PAYLOAD_LEN + 1],
        });
        assert!(matches!(too_big.encode(), Err(I2npError::TooLarge { .. })));
    }

    #[test]
    fn rejects_bad_lengths() {
        // Declared length beyond the body, trailing bytes, no length at all.
        assert!(MessageBody::decode(message_type::DATA, &[0, 0, 0, 4, 1, 2, 3]).is_err());
        assert!(MessageBody::decode(message_type::DATA, &[0, 0, 0, 1, 1, 2]).is_err());
        assert!(MessageBody::decode(message_type::DATA, &[0, 0, 0]).is_err());
        assert!(MessageBody::decode(message_type::DATA, &[0xff, 0xff, 0xff, 0xff]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(data in arb_data_message(), id: u32, secs: u32) {
            let msg = I2npMessage {
                id,
                expiration_ms: u64::from(secs) * 1000,
                body: MessageBody::Data(data),
            };
            prop_assert_eq!(I2npMessage::decode(&msg.try_encode()?)?, msg.clone());
            prop_assert_eq!(I2npMessage::decode_short(&msg.try_encode_short()?)?, msg);
        }

        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
            let _ = MessageBody::decode(message_type::DATA, &bytes);
        }
    }
}
