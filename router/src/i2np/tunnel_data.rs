//! TunnelData (spec: I2NP, TunnelData; tunnel-message, Tunnel Message (Encrypted)).

use super::I2npError;
use crate::data::reader::Reader;
use crate::data::DataError;
use crate::data::TunnelId;

/// One fixed-size tunnel message on its way from a hop to the next: the tunnel id the
/// receiving hop knows the tunnel by, then 1024 bytes, an IV and 1008 encrypted bytes.
///
/// The layout inside the 1008 bytes, and the crypto that turns them into plaintext, is
/// the data plane's business (`crate::tunnel::data`); here they are opaque. The payload
/// is boxed so that a [`super::MessageBody`] stays small whatever it holds.
#[derive(Clone, PartialEq, Eq)]
pub struct TunnelData {
    /// The receiving hop's id for the tunnel; never zero.
    pub tunnel_id: TunnelId,
    pub iv: [u8; TunnelData::IV_LEN],
    pub data: Box<[u8; TunnelData::DATA_LEN]>,
}

impl TunnelData {
    pub const IV_LEN: usize = 16;
    /// The encrypted part: 63 AES blocks.
    pub const DATA_LEN: usize = 1008;
    /// The whole body: tunnel id, IV, data (the "1028-byte tunnel message").
    pub const BODY_LEN: usize = 4 + Self::IV_LEN + Self::DATA_LEN;

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<TunnelData, I2npError> {
        Ok(TunnelData {
            tunnel_id: read_tunnel_id(r, "tunnel data: tunnel id")?,
            iv: r.array("tunnel data: IV")?,
            data: Box::new(r.array("tunnel data: data")?),
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.reserve(Self::BODY_LEN);
        out.extend_from_slice(&self.tunnel_id.0.to_be_bytes());
        out.extend_from_slice(&self.iv);
        out.extend_from_slice(&self.data[..]);
    }
}

/// Only the tunnel id: 1 KB of ciphertext in every log line helps nobody.
impl std::fmt::Debug for TunnelData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunnelData")
            .field("tunnel_id", &self.tunnel_id)
            .finish_non_exhaustive()
    }
}

/// Reads a tunnel id that must not be zero: zero means "no tunnel" wherever I2P carries
/// one, so a message or instruction naming tunnel 0 can only be garbage.
pub(crate) fn read_tunnel_id(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<TunnelId, DataError> {
    match r.u32(what)? {
        0 => Err(DataError::Invalid {
            what,
            reason: "tunnel id 0 is reserved",
        }),
        id => Ok(TunnelId(id)),
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn arb_tunnel_id() -> impl Strategy<Value = TunnelId> {
        (1u32..).prop_map(TunnelId)
    }

    pub(crate) fn arb_tunnel_data() -> impl Strategy<Value = TunnelData> {
        (
            arb_tunnel_id(),
            any::<[u8; TunnelData::IV_LEN]>(),
            any::<u8>(),
        )
            .prop_map(|(tunnel_id, iv, fill)| {
                // A pattern rather than 1008 independent bytes keeps proptest fast; the
                // body treats the data as opaque anyway.
                let data = std::array::from_fn(|i| fill.wrapping_add(i as u8));
                TunnelData {
                    tunnel_id,
                    iv,
                    data: Box::new(data),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::arb_tunnel_data;
    use super::*;
    use crate::i2np::MessageBody;
    use proptest::prelude::*;

    #[test]
    fn layout() {
        let msg = TunnelData {
            tunnel_id: TunnelId(0x0102_0304),
            iv: [7; 16],
            data: Box::new([9; TunnelData::DATA_LEN]),
        };
        let body = MessageBody::TunnelData(msg.clone())
            .encode()
            .expect("fixed size");
        assert_eq!(body.len(), 1028);
        assert_eq!(&body[..4], &[1, 2, 3, 4]);
        assert_eq!(&body[4..20], &[7; 16]);
        assert!(body[20..].iter().all(|&b| b == 9));
        assert_eq!(
            MessageBody::decode(18, &body),
            Ok(MessageBody::TunnelData(msg))
        );
        assert!(!format!("{:?}", MessageBody::decode(18, &body)).contains("9, 9"));
    }

    #[test]
    fn rejects_wrong_sizes_and_tunnel_zero() {
        let mut body = vec![0, 0, 0, 1];
        body.resize(TunnelData::BODY_LEN, 0);
        assert!(MessageBody::decode(18, &body).is_ok());
        assert!(MessageBody::decode(18, &body[..TunnelData::BODY_LEN - 1]).is_err());
        body.push(0);
        assert!(MessageBody::decode(18, &body).is_err());
        body.pop();
        body[3] = 0;
        assert!(matches!(
            MessageBody::decode(18, &body),
            Err(I2npError::Data(DataError::Invalid { .. }))
        ));
    }

    proptest! {
        #[test]
        fn round_trip(msg in arb_tunnel_data()) {
            let body = MessageBody::TunnelData(msg.clone()).encode()?;
            prop_assert_eq!(MessageBody::decode(18, &body)?, MessageBody::TunnelData(msg));
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), TunnelData::BODY_LEN),
            proptest::collection::vec(any::<u8>(), 0..1100),
        ]) {
            let _ = MessageBody::decode(18, &bytes);
        }
    }
}
