//! Tunnel message delivery instructions and the fragment each one precedes
//! (spec: tunnel-message, Tunnel Message Delivery Instructions).
//!
//! Not to be confused with the garlic clove delivery instructions, which look similar
//! and are laid out differently.

use crate::data::reader::Reader;
use crate::data::{DataError, Hash};
use crate::i2np::read_tunnel_id;
use crate::tunnel::TunnelId;

/// Bit 7 of the flag: a follow-on fragment (else a first fragment or a whole message).
const FOLLOW_ON: u8 = 0x80;
/// First fragment, bits 6-5: the delivery type.
const DELIVERY_SHIFT: u8 = 5;
const DELIVERY_MASK: u8 = 0b11;
/// First fragment, bit 4: a delay byte follows. Never implemented by anyone; we never
/// set it and skip the byte if a peer does.
const DELAY: u8 = 0x10;
/// First fragment, bit 3: the message is fragmented and a message id follows.
const FRAGMENTED: u8 = 0x08;
/// First fragment, bit 2: extended options (a length byte, then that many bytes)
/// follow. Never implemented either; skipped the same way.
const EXTENDED_OPTIONS: u8 = 0x04;
/// Follow-on fragment, bits 6-1: the fragment number.
const NUMBER_SHIFT: u8 = 1;
const NUMBER_MASK: u8 = 0x3f;
/// Follow-on fragment, bit 0: the last fragment of its message.
const LAST: u8 = 0x01;

const LOCAL: u8 = 0;
const TUNNEL: u8 = 1;
const ROUTER: u8 = 2;

/// Follow-on fragments are numbered 1 to 63 in a 6-bit field; the first fragment is
/// implicitly number 0, so a message has at most 64 fragments.
pub(crate) const MAX_FRAGMENT_NUMBER: u8 = 63;
/// A follow-on fragment's instructions: flag, message id, size.
pub(crate) const FOLLOW_ON_LEN: usize = 7;

/// Where the endpoint of a tunnel should send a message that came through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// To the endpoint itself. What the gateway of an inbound tunnel always asks for:
    /// the endpoint is the tunnel's creator.
    Local,
    /// Into another tunnel: a TunnelGateway message to `gateway` for its `tunnel`.
    Tunnel { tunnel: TunnelId, gateway: Hash },
    /// Directly to a router.
    Router(Hash),
}

impl Delivery {
    fn type_bits(&self) -> u8 {
        match self {
            Delivery::Local => LOCAL,
            Delivery::Tunnel { .. } => TUNNEL,
            Delivery::Router(_) => ROUTER,
        }
    }

    fn encoded_len(&self) -> usize {
        match self {
            Delivery::Local => 0,
            Delivery::Tunnel { .. } => 4 + 32,
            Delivery::Router(_) => 32,
        }
    }
}

/// The instructions before one fragment, without its size (which the fragment gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Instructions {
    /// A whole message (`message_id` is `None`), or the first fragment of one.
    First {
        delivery: Delivery,
        message_id: Option<u32>,
    },
    /// Fragment `number` (1 to 63) of the message `message_id`.
    FollowOn {
        message_id: u32,
        number: u8,
        last: bool,
    },
}

impl Instructions {
    /// The encoded length, the fragment's 2-byte size field included.
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            Instructions::First {
                delivery,
                message_id,
            } => 1 + delivery.encoded_len() + message_id.map_or(0, |_| 4) + 2,
            Instructions::FollowOn { .. } => FOLLOW_ON_LEN,
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Instructions, DataError> {
        let flag = r.u8("delivery instructions: flag")?;
        if flag & FOLLOW_ON != 0 {
            let number = (flag >> NUMBER_SHIFT) & NUMBER_MASK;
            if number == 0 {
                return Err(DataError::Invalid {
                    what: "delivery instructions: fragment number",
                    reason: "follow-on fragments are numbered from 1",
                });
            }
            return Ok(Instructions::FollowOn {
                message_id: r.u32("delivery instructions: message id")?,
                number,
                last: flag & LAST != 0,
            });
        }
        let delivery = match (flag >> DELIVERY_SHIFT) & DELIVERY_MASK {
            LOCAL => Delivery::Local,
            TUNNEL => Delivery::Tunnel {
                tunnel: read_tunnel_id(r, "delivery instructions: tunnel id")?,
                gateway: Hash(r.array("delivery instructions: gateway")?),
            },
            ROUTER => Delivery::Router(Hash(r.array("delivery instructions: router")?)),
            _ => {
                return Err(DataError::Invalid {
                    what: "delivery instructions: delivery type",
                    reason: "type 3 is invalid",
                })
            }
        };
        if flag & DELAY != 0 {
            r.take(1, "delivery instructions: delay")?;
        }
        let message_id = if flag & FRAGMENTED != 0 {
            Some(r.u32("delivery instructions: message id")?)
        } else {
            None
        };
        if flag & EXTENDED_OPTIONS != 0 {
            let len = r.u8("delivery instructions: extended options length")?;
            r.take(usize::from(len), "delivery instructions: extended options")?;
        }
        Ok(Instructions::First {
            delivery,
            message_id,
        })
    }

    fn emit(&self, out: &mut Vec<u8>) {
        match *self {
            Instructions::First {
                delivery,
                message_id,
            } => {
                let fragmented = if message_id.is_some() { FRAGMENTED } else { 0 };
                out.push(delivery.type_bits() << DELIVERY_SHIFT | fragmented);
                match delivery {
                    Delivery::Local => {}
                    Delivery::Tunnel { tunnel, gateway } => {
                        out.extend_from_slice(&tunnel.0.to_be_bytes());
                        out.extend_from_slice(gateway.as_bytes());
                    }
                    Delivery::Router(router) => out.extend_from_slice(router.as_bytes()),
                }
                if let Some(id) = message_id {
                    out.extend_from_slice(&id.to_be_bytes());
                }
            }
            Instructions::FollowOn {
                message_id,
                number,
                last,
            } => {
                let last = if last { LAST } else { 0 };
                out.push(FOLLOW_ON | (number & NUMBER_MASK) << NUMBER_SHIFT | last);
                out.extend_from_slice(&message_id.to_be_bytes());
            }
        }
    }
}

/// Delivery instructions and the fragment they describe, as laid out in a tunnel
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fragment<'a> {
    pub(crate) instructions: Instructions,
    /// 1 to 1003 bytes: a whole I2NP message or a piece of one.
    pub(crate) data: &'a [u8],
}

impl<'a> Fragment<'a> {
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Fragment<'a>, DataError> {
        let instructions = Instructions::read(r)?;
        let size = r.u16("delivery instructions: fragment size")?;
        if size == 0 {
            return Err(DataError::Invalid {
                what: "delivery instructions: fragment size",
                reason: "fragments are at least 1 byte",
            });
        }
        let data = r.take(usize::from(size), "tunnel message fragment")?;
        Ok(Fragment { instructions, data })
    }

    /// Appends the instructions, size and data. Fragments come from the gateway's
    /// packer, which never makes one larger than a tunnel message.
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        self.instructions.emit(out);
        let size = u16::try_from(self.data.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(self.data);
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use crate::data::strategies::arb_hash;
    use proptest::prelude::*;

    pub(crate) fn arb_delivery() -> impl Strategy<Value = Delivery> {
        prop_oneof![
            Just(Delivery::Local),
            arb_hash().prop_map(Delivery::Router),
            (1u32.., arb_hash()).prop_map(|(tunnel, gateway)| Delivery::Tunnel {
                tunnel: TunnelId(tunnel),
                gateway
            }),
        ]
    }

    pub(crate) fn arb_instructions() -> impl Strategy<Value = Instructions> {
        prop_oneof![
            (arb_delivery(), any::<Option<u32>>()).prop_map(|(delivery, message_id)| {
                Instructions::First {
                    delivery,
                    message_id,
                }
            }),
            (any::<u32>(), 1..=MAX_FRAGMENT_NUMBER, any::<bool>()).prop_map(
                |(message_id, number, last)| Instructions::FollowOn {
                    message_id,
                    number,
                    last,
                }
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::arb_instructions;
    use super::*;
    use proptest::prelude::*;

    fn encode(instructions: Instructions, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Fragment { instructions, data }.emit(&mut out);
        out
    }

    #[test]
    fn known_layouts() {
        // LOCAL, unfragmented: flag 0x00, size.
        let local = Instructions::First {
            delivery: Delivery::Local,
            message_id: None,
        };
        assert_eq!(encode(local, &[0xaa, 0xbb]), [0x00, 0, 2, 0xaa, 0xbb]);
        assert_eq!(local.encoded_len(), 3);

        // TUNNEL, first fragment: flag 0b0010_1000, tunnel id, gateway, message id, size.
        let tunnel = Instructions::First {
            delivery: Delivery::Tunnel {
                tunnel: TunnelId(0x0102_0304),
                gateway: Hash([9; 32]),
            },
            message_id: Some(0x0a0b_0c0d),
        };
        let bytes = encode(tunnel, &[1]);
        assert_eq!(bytes[0], 0x28);
        assert_eq!(&bytes[1..5], &[1, 2, 3, 4]);
        assert_eq!(&bytes[5..37], &[9; 32]);
        assert_eq!(&bytes[37..41], &[0x0a, 0x0b, 0x0c, 0x0d]);
        assert_eq!(&bytes[41..], &[0, 1, 1]);
        assert_eq!(tunnel.encoded_len(), 43);

        // ROUTER, unfragmented: 35 bytes of instructions, as the spec's typical lengths say.
        let router = Instructions::First {
            delivery: Delivery::Router(Hash([3; 32])),
            message_id: None,
        };
        assert_eq!(encode(router, &[7])[0], 0x40);
        assert_eq!(router.encoded_len(), 35);

        // Follow-on: 1nnnnnnd.
        let follow = Instructions::FollowOn {
            message_id: 5,
            number: 63,
            last: true,
        };
        assert_eq!(encode(follow, &[7]), [0xff, 0, 0, 0, 5, 0, 1, 7]);
        let follow = Instructions::FollowOn {
            message_id: 5,
            number: 1,
            last: false,
        };
        assert_eq!(encode(follow, &[7])[0], 0x82);
    }

    #[test]
    fn rejects_what_the_spec_rules_out() {
        let read = |bytes: &[u8]| Fragment::read(&mut Reader::new(bytes)).map(|f| f.instructions);
        // Delivery type 3, follow-on number 0, empty fragment, tunnel id 0, truncation.
        assert!(read(&[0x60, 0, 1, 0]).is_err());
        assert!(read(&[0x81, 0, 0, 0, 1, 0, 1, 0]).is_err());
        assert!(read(&[0x00, 0, 0]).is_err());
        let mut tunnel_zero = vec![0x20, 0, 0, 0, 0];
        tunnel_zero.extend_from_slice(&[1; 32]);
        tunnel_zero.extend_from_slice(&[0, 1, 0]);
        assert!(read(&tunnel_zero).is_err());
        assert!(read(&[0x00, 0, 5, 1, 2]).is_err());
    }

    #[test]
    fn skips_delay_and_extended_options() {
        // LOCAL with a delay byte and two bytes of extended options.
        let bytes = [0x14, 0xee, 2, 0xdd, 0xdd, 0, 1, 0x42];
        let fragment = Fragment::read(&mut Reader::new(&bytes)).expect("valid");
        assert_eq!(
            fragment.instructions,
            Instructions::First {
                delivery: Delivery::Local,
                message_id: None
            }
        );
        assert_eq!(fragment.data, &[0x42]);
    }

    proptest! {
        #[test]
        fn round_trip(
            instructions in arb_instructions(),
            data in proptest::collection::vec(any::<u8>(), 1..1004),
        ) {
            let bytes = encode(instructions, &data);
            prop_assert_eq!(bytes.len(), instructions.encoded_len() + data.len());
            let mut r = Reader::new(&bytes);
            let fragment = Fragment::read(&mut r)?;
            prop_assert_eq!(fragment, Fragment { instructions, data: &data });
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
            let mut r = Reader::new(&bytes);
            while r.remaining() > 0 && Fragment::read(&mut r).is_ok() {}
        }
    }
}
