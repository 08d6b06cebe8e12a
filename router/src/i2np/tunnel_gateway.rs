//! TunnelGateway (spec: I2NP, TunnelGateway).

use super::tunnel_data::read_tunnel_id;
use super::{I2npError, MAX_BODY_LEN, STANDARD_HEADER_LEN};
use crate::data::reader::Reader;
use crate::data::TunnelId;

/// An I2NP message handed to the gateway of an inbound tunnel, to be sent down it.
///
/// `message` is the wrapped message in its standard 16-byte-header encoding. It is kept
/// as bytes: the gateway fragments it without looking inside, and the message types it
/// carries (garlic above all) need not be ones this router can decode.
#[derive(Clone, PartialEq, Eq)]
pub struct TunnelGateway {
    /// The gateway's own id for the tunnel; never zero.
    pub tunnel_id: TunnelId,
    pub message: Vec<u8>,
}

impl TunnelGateway {
    /// Tunnel id (4) and length (2) come before the message, and the whole body must fit
    /// the outer header's 2-byte size.
    pub const MAX_MESSAGE_LEN: usize = MAX_BODY_LEN - 6;

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<TunnelGateway, I2npError> {
        let tunnel_id = read_tunnel_id(r, "tunnel gateway: tunnel id")?;
        let len = r.u16("tunnel gateway: length")?;
        let message = r.take(usize::from(len), "tunnel gateway: message")?;
        if message.len() < STANDARD_HEADER_LEN {
            return Err(I2npError::InvalidField {
                what: "tunnel gateway: message",
                reason: "shorter than an I2NP header",
            });
        }
        Ok(TunnelGateway {
            tunnel_id,
            message: message.to_vec(),
        })
    }

    /// The length [`TunnelGateway::emit`] writes.
    pub(crate) fn wire_len(&self) -> usize {
        4 + 2 + self.message.len()
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) -> Result<(), I2npError> {
        let len = u16::try_from(self.message.len())
            .ok()
            .filter(|_| self.message.len() <= Self::MAX_MESSAGE_LEN)
            .ok_or(I2npError::TooLarge {
                what: "tunnel gateway: message",
                max: Self::MAX_MESSAGE_LEN,
                actual: self.message.len(),
            })?;
        out.extend_from_slice(&self.tunnel_id.0.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.message);
        Ok(())
    }
}

/// The tunnel id and the wrapped message's size, not its bytes.
impl std::fmt::Debug for TunnelGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunnelGateway")
            .field("tunnel_id", &self.tunnel_id)
            .field("message_len", &self.message.len())
            .finish()
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use crate::i2np::strategies::{arb_delivery_status, arb_message};
    use crate::i2np::tunnel_data::strategies::arb_tunnel_id;
    use crate::i2np::MessageBody;
    use proptest::prelude::*;

    /// Wraps a real (small) I2NP message, as an inbound gateway would receive one.
    pub(crate) fn arb_tunnel_gateway() -> impl Strategy<Value = TunnelGateway> {
        (
            arb_tunnel_id(),
            arb_message(arb_delivery_status().prop_map(MessageBody::DeliveryStatus)),
        )
            .prop_map(|(tunnel_id, msg)| TunnelGateway {
                tunnel_id,
                message: msg.encode(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::arb_tunnel_gateway;
    use super::*;
    use crate::i2np::{DeliveryStatus, I2npMessage, MessageBody};
    use proptest::prelude::*;

    #[test]
    fn layout_and_limits() {
        let inner = I2npMessage {
            id: 5,
            expiration_ms: 6000,
            body: MessageBody::DeliveryStatus(DeliveryStatus {
                msg_id: 1,
                timestamp_ms: 2,
            }),
        }
        .encode();
        let gw = TunnelGateway {
            tunnel_id: TunnelId(0x0a0b_0c0d),
            message: inner.clone(),
        };
        let body = MessageBody::TunnelGateway(gw.clone())
            .encode()
            .expect("small");
        assert_eq!(&body[..4], &[0x0a, 0x0b, 0x0c, 0x0d]);
        assert_eq!(&body[4..6], &(inner.len() as u16).to_be_bytes());
        assert_eq!(&body[6..], &inner[..]);
        assert_eq!(
            MessageBody::decode(19, &body),
            Ok(MessageBody::TunnelGateway(gw))
        );

        let too_big = TunnelGateway {
            tunnel_id: TunnelId(1),
            message: vec![0; TunnelGateway::MAX_MESSAGE_LEN + 1],
        };
        assert!(matches!(
            MessageBody::TunnelGateway(too_big).encode(),
            Err(I2npError::TooLarge { .. })
        ));
        let largest = TunnelGateway {
            tunnel_id: TunnelId(1),
            message: vec![0; TunnelGateway::MAX_MESSAGE_LEN],
        };
        assert_eq!(
            MessageBody::TunnelGateway(largest)
                .encode()
                .map(|b| b.len()),
            Ok(MAX_BODY_LEN)
        );
    }

    #[test]
    fn rejects_bad_lengths() {
        // Declared length beyond the body, trailing bytes, and a stub "message".
        assert!(MessageBody::decode(19, &[0, 0, 0, 1, 0, 20, 1, 2]).is_err());
        let mut body = vec![0, 0, 0, 1, 0, 16];
        body.extend_from_slice(&[0; 17]);
        assert!(MessageBody::decode(19, &body).is_err());
        assert!(matches!(
            MessageBody::decode(19, &[0, 0, 0, 1, 0, 2, 1, 2]),
            Err(I2npError::InvalidField { .. })
        ));
        assert!(matches!(
            MessageBody::decode(19, &[0, 0, 0, 0, 0, 0]),
            Err(I2npError::Data(crate::data::DataError::Invalid { .. }))
        ));
    }

    proptest! {
        #[test]
        fn round_trip(gw in arb_tunnel_gateway()) {
            let body = MessageBody::TunnelGateway(gw.clone()).encode()?;
            prop_assert_eq!(MessageBody::decode(19, &body)?, MessageBody::TunnelGateway(gw));
        }

        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
            let _ = MessageBody::decode(19, &bytes);
        }
    }
}
