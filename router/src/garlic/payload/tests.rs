use super::strategies::arb_blocks;
use super::*;
use crate::data::strategies::mutated;
use crate::i2np::{DeliveryStatus, MessageBody};
use proptest::prelude::*;

fn status_clove(delivery: CloveDelivery) -> Clove {
    Clove {
        delivery,
        message: I2npMessage {
            id: 0x0a0b_0c0d,
            expiration_ms: 1_700_000_060_000,
            body: MessageBody::DeliveryStatus(DeliveryStatus {
                msg_id: 5,
                timestamp_ms: 6,
            }),
        },
    }
}

#[test]
fn known_encoding() {
    let gateway = Hash([0xaa; 32]);
    let blocks = [
        Block::DateTime(0x6553_f100),
        Block::Clove(status_clove(CloveDelivery::Tunnel {
            gateway,
            tunnel: TunnelId(0x0102_0304),
        })),
        Block::Padding(3),
    ];
    let bytes = emit_payload(&blocks).expect("valid");
    let mut expected = vec![0, 0, 4, 0x65, 0x53, 0xf1, 0x00];
    // Clove: flag (TUNNEL = 3 << 5), gateway, tunnel id, 9-byte header, 12-byte body.
    expected.extend_from_slice(&[11, 0, 1 + 32 + 4 + 9 + 12, 0x60]);
    expected.extend_from_slice(&gateway.0);
    expected.extend_from_slice(&[1, 2, 3, 4]);
    expected.extend_from_slice(&[10, 0x0a, 0x0b, 0x0c, 0x0d]);
    expected.extend_from_slice(&1_700_000_060u32.to_be_bytes());
    expected.extend_from_slice(&[0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6]);
    expected.extend_from_slice(&[254, 0, 3, 0, 0, 0]);
    assert_eq!(bytes, expected);
    assert_eq!(parse_payload(&bytes), Ok(blocks.to_vec()));
}

#[test]
fn clove_delivery_lengths() {
    // 1, 33, 33 and 37 bytes of delivery instructions (spec: I2NP, typical lengths).
    for (delivery, len) in [
        (CloveDelivery::Local, 1),
        (CloveDelivery::Destination(Hash([1; 32])), 33),
        (CloveDelivery::Router(Hash([2; 32])), 33),
        (
            CloveDelivery::Tunnel {
                gateway: Hash([3; 32]),
                tunnel: TunnelId(9),
            },
            37,
        ),
    ] {
        let bytes = emit_payload(&[Block::Clove(status_clove(delivery))]).expect("valid");
        assert_eq!(bytes.len(), 3 + len + 9 + 12);
        assert_eq!(
            parse_payload(&bytes),
            Ok(vec![Block::Clove(status_clove(delivery))])
        );
    }
    // Tunnel 0, the encrypted flag and the delay flag are refused.
    let zero = Block::Clove(status_clove(CloveDelivery::Tunnel {
        gateway: Hash([3; 32]),
        tunnel: TunnelId(0),
    }));
    assert!(emit_payload(&[zero]).is_err());
    let local = emit_payload(&[Block::Clove(status_clove(CloveDelivery::Local))]).expect("valid");
    for flag in [0x80, 0x10] {
        let mut bad = local.clone();
        bad[3] = flag;
        assert!(matches!(parse_payload(&bad), Err(GarlicError::Data(_))));
    }
    let mut tunnel_zero = emit_payload(&[Block::Clove(status_clove(CloveDelivery::Tunnel {
        gateway: Hash([3; 32]),
        tunnel: TunnelId(1),
    }))])
    .expect("valid");
    tunnel_zero[3 + 33..3 + 37].copy_from_slice(&[0; 4]);
    assert!(parse_payload(&tunnel_zero).is_err());
    // The reserved low bits of the flag are ignored.
    let mut reserved = local.clone();
    reserved[3] = 0x0f;
    assert!(parse_payload(&reserved).is_ok());
}

#[test]
fn block_layouts() {
    let key = [9u8; 32];
    let cases: [(Block, Vec<u8>); 7] = [
        (
            Block::Termination {
                reason: 1,
                data: vec![7],
            },
            vec![4, 0, 2, 1, 7],
        ),
        (
            Block::MessageNumbers { previous: 0x0102 },
            vec![6, 0, 2, 1, 2],
        ),
        (
            Block::NextKey(NextKey {
                reverse: false,
                request_reverse: true,
                key_id: 3,
                key: None,
            }),
            vec![7, 0, 3, 0x04, 0, 3],
        ),
        (
            Block::NextKey(NextKey {
                reverse: true,
                request_reverse: false,
                key_id: 0x7fff,
                key: Some(key),
            }),
            [&[7, 0, 35, 0x03, 0x7f, 0xff][..], &key].concat(),
        ),
        (
            Block::Ack(vec![
                Ack {
                    tag_set_id: 1,
                    n: 2,
                },
                Ack {
                    tag_set_id: 3,
                    n: 4,
                },
            ]),
            vec![8, 0, 8, 0, 1, 0, 2, 0, 3, 0, 4],
        ),
        (Block::AckRequest, vec![9, 0, 1, 0]),
        (
            Block::Unknown {
                block_type: 224,
                data: vec![1, 2],
            },
            vec![224, 0, 2, 1, 2],
        ),
    ];
    for (block, bytes) in cases {
        assert_eq!(
            emit_payload(std::slice::from_ref(&block)),
            Ok(bytes.clone())
        );
        assert_eq!(parse_payload(&bytes), Ok(vec![block]));
    }
    // An ack request's flags byte (or more) is ignored.
    assert_eq!(
        parse_payload(&[9, 0, 2, 0xff, 1]),
        Ok(vec![Block::AckRequest])
    );
    assert_eq!(parse_payload(&[9, 0, 0]), Ok(vec![Block::AckRequest]));
    assert_eq!(parse_payload(&[]), Ok(vec![]));
}

#[test]
fn malformed_blocks() {
    for bytes in [
        &[0u8, 0, 3, 1, 2, 3][..],                   // DateTime of 3 bytes
        &[0, 0, 5, 1, 2, 3, 4, 5],                   // DateTime of 5 bytes
        &[0, 0, 4, 1, 2],                            // block longer than the payload
        &[0, 0],                                     // header cut short
        &[4, 0, 0],                                  // termination without a reason
        &[6, 0, 1, 0],                               // message numbers of 1 byte
        &[7, 0, 3, 0x01, 0, 0],                      // key announced, absent
        &[7, 0, 3, 0x06, 0, 0],                      // reverse key requesting a reverse key
        &[7, 0, 3, 0x00, 0x80, 0],                   // key id above 32767
        &[8, 0, 0],                                  // empty ack
        &[8, 0, 3, 0, 1, 0],                         // ack not a multiple of 4
        &[11, 0, 1, 0],                              // clove without a message
        &[11, 0, 10, 0, 10, 0, 0, 0, 1, 0, 0, 0, 1], // clove with a short body
    ] {
        assert!(parse_payload(bytes).is_err(), "{bytes:?}");
    }
    // A key the flag does not announce is trailing data.
    let mut unannounced = vec![7, 0, 35, 0x00, 0, 0];
    unannounced.extend_from_slice(&[1; 32]);
    assert!(parse_payload(&unannounced).is_err());
    assert!(emit_payload(&[Block::Ack(vec![])]).is_err());
    for block_type in block_type::KNOWN {
        let unknown = Block::Unknown {
            block_type,
            data: vec![],
        };
        assert!(emit_payload(&[unknown]).is_err(), "type {block_type}");
    }
    let bad_key = Block::NextKey(NextKey {
        reverse: true,
        request_reverse: true,
        key_id: 0,
        key: None,
    });
    assert!(emit_payload(&[bad_key]).is_err());
}

#[test]
fn ordering_rules() {
    let padding = Block::Padding(1);
    let termination = Block::Termination {
        reason: 0,
        data: vec![],
    };
    let next_key = Block::NextKey(NextKey {
        reverse: false,
        request_reverse: false,
        key_id: 0,
        key: None,
    });
    let ok = [
        vec![termination.clone(), padding.clone()],
        vec![Block::AckRequest, termination.clone()],
        vec![next_key.clone(), Block::AckRequest, next_key.clone()],
        vec![padding.clone()],
    ];
    for blocks in ok {
        let bytes = emit_payload(&blocks).expect("valid order");
        assert_eq!(parse_payload(&bytes), Ok(blocks));
    }
    let bad = [
        vec![padding.clone(), Block::AckRequest],
        vec![padding.clone(), padding.clone()],
        vec![termination.clone(), Block::AckRequest],
        vec![termination.clone(), termination.clone()],
        vec![padding.clone(), termination.clone()],
        vec![next_key.clone(), next_key.clone(), next_key.clone()],
    ];
    for blocks in bad {
        assert!(
            matches!(emit_payload(&blocks), Err(GarlicError::BlockOrder(_))),
            "{blocks:?}"
        );
        // The same bytes, framed by hand, are refused on parse.
        let mut bytes = Vec::new();
        for block in &blocks {
            bytes.extend(emit_payload(std::slice::from_ref(block)).expect("alone"));
        }
        assert!(
            matches!(parse_payload(&bytes), Err(GarlicError::BlockOrder(_))),
            "{blocks:?}"
        );
    }
}

#[test]
fn kind_rules() {
    let date = Block::DateTime(1);
    let clove = Block::Clove(status_clove(CloveDelivery::Local));
    let padding = Block::Padding(0);
    let unknown = Block::Unknown {
        block_type: 3,
        data: vec![],
    };
    let ns = [
        date.clone(),
        clove.clone(),
        unknown.clone(),
        padding.clone(),
    ];
    assert_eq!(PayloadKind::NewSession.check(&ns), Ok(()));
    assert!(PayloadKind::NewSession.check(&ns[1..]).is_err());
    assert!(PayloadKind::NewSession.check(&[]).is_err());
    assert!(PayloadKind::NewSession
        .check(&[date.clone(), date.clone()])
        .is_err());
    assert!(PayloadKind::NewSession
        .check(&[date.clone(), Block::AckRequest])
        .is_err());
    assert_eq!(PayloadKind::NewSessionReply.check(&ns[1..]), Ok(()));
    assert!(PayloadKind::NewSessionReply.check(&ns).is_err());
    assert_eq!(
        PayloadKind::ExistingSession.check(&[date, Block::AckRequest, clove]),
        Ok(())
    );
}

#[test]
fn size_limits() {
    let largest = [Block::Padding(MAX_BLOCK_DATA_LEN as u16)];
    let bytes = emit_payload(&largest).expect("fits");
    assert_eq!(bytes.len(), MAX_PAYLOAD_LEN);
    assert_eq!(parse_payload(&bytes), Ok(largest.to_vec()));
    assert!(emit_payload(&[Block::Padding(MAX_BLOCK_DATA_LEN as u16 + 1)]).is_err());
    assert!(emit_payload(&[Block::AckRequest, Block::Padding(MAX_BLOCK_DATA_LEN as u16)]).is_err());
    let mut too_long = bytes.clone();
    too_long.extend_from_slice(&[9, 0, 0]);
    assert!(matches!(
        parse_payload(&too_long),
        Err(GarlicError::Data(DataError::TooLarge { .. }))
    ));
}

proptest! {
    #[test]
    fn round_trip(blocks in arb_blocks()) {
        let bytes = emit_payload(&blocks)?;
        prop_assert_eq!(parse_payload(&bytes)?, blocks);
    }

    #[test]
    fn take_blocks_splits_by_type(blocks in arb_blocks()) {
        const TAKEN: [u8; 3] = [block_type::NEXT_KEY, block_type::ACK, block_type::ACK_REQUEST];
        let (taken, rest) = take_blocks(&emit_payload(&blocks)?, &TAKEN)?;
        let (expected, others): (Vec<Block>, Vec<Block>) =
            blocks.into_iter().partition(|b| TAKEN.contains(&b.block_type()));
        prop_assert_eq!(taken, expected);
        prop_assert_eq!(parse_payload(&rest)?, others);
    }

    #[test]
    fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
        let _ = take_blocks(&bytes, &[block_type::NEXT_KEY, block_type::ACK]);
        if let Ok(blocks) = parse_payload(&bytes) {
            for kind in [PayloadKind::NewSession, PayloadKind::NewSessionReply, PayloadKind::ExistingSession] {
                let _ = kind.check(&blocks);
            }
        }
    }

    #[test]
    fn mutated_payloads_never_panic(bytes in arb_blocks().prop_flat_map(|b| mutated(emit_payload(&b).unwrap_or_default()))) {
        if let Ok(blocks) = parse_payload(&bytes) {
            // Whatever parses re-emits to something that parses the same.
            prop_assert_eq!(parse_payload(&emit_payload(&blocks)?)?, blocks);
        }
    }
}
