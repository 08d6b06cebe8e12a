//! Garlic (spec: I2NP, Garlic; ECIES-X25519-AEAD-Ratchet, "Message format").

use super::data_message::{emit_length_prefixed, read_length_prefixed, MAX_LENGTH_PREFIXED_LEN};
use super::I2npError;
use crate::data::reader::Reader;

/// An end-to-end encrypted message: a 4-byte length, then the encrypted data.
///
/// The data is kept as ciphertext. Which key opens it, and how, depends on what it
/// turns out to be (a one-time message to this router's static key, a reply under a
/// key and tag this router handed out, a ratchet session of a local destination): that
/// is `crate::garlic`'s business. ECIES kept this framing, length field included, so
/// that hops cannot tell ECIES garlic from ElGamal garlic.
#[derive(Clone, PartialEq, Eq)]
pub struct Garlic {
    pub data: Vec<u8>,
}

impl Garlic {
    pub const MAX_DATA_LEN: usize = MAX_LENGTH_PREFIXED_LEN;

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Garlic, I2npError> {
        Ok(Garlic {
            data: read_length_prefixed(r, "garlic: data")?.to_vec(),
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), I2npError> {
        emit_length_prefixed(out, &self.data, "garlic: data")
    }
}

/// Only the size: the data is ciphertext.
impl std::fmt::Debug for Garlic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Garlic")
            .field("data_len", &self.data.len())
            .finish()
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn arb_garlic() -> impl Strategy<Value = Garlic> {
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|data| Garlic { data })
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::arb_garlic;
    use super::*;
    use crate::i2np::{message_type, I2npMessage, MessageBody};
    use proptest::prelude::*;

    #[test]
    fn layout_and_limits() {
        let body = MessageBody::Garlic(Garlic {
            data: vec![1, 2, 3, 4, 5],
        });
        assert_eq!(body.type_id(), 11);
        let bytes = body.encode().expect("small");
        assert_eq!(bytes, [0, 0, 0, 5, 1, 2, 3, 4, 5]);
        assert_eq!(MessageBody::decode(message_type::GARLIC, &bytes), Ok(body));

        let too_big = MessageBody::Garlic(Garlic {
            data: vec![0; Garlic::MAX_DATA_LEN + 1],
        });
        assert!(matches!(too_big.encode(), Err(I2npError::TooLarge { .. })));
        assert!(MessageBody::decode(message_type::GARLIC, &[0, 0, 1, 0, 9]).is_err());
        assert!(MessageBody::decode(message_type::GARLIC, &[0, 0, 0, 0, 9]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(garlic in arb_garlic(), id: u32, secs: u32) {
            let msg = I2npMessage {
                id,
                expiration_ms: u64::from(secs) * 1000,
                body: MessageBody::Garlic(garlic),
            };
            prop_assert_eq!(I2npMessage::decode(&msg.try_encode()?)?, msg.clone());
            prop_assert_eq!(I2npMessage::decode_short(&msg.try_encode_short()?)?, msg);
        }

        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
            let _ = MessageBody::decode(message_type::GARLIC, &bytes);
        }
    }
}
