//! ECIES garlic: the payload section parser, and opening both router forms with fixed
//! keys. The first input byte picks which. A payload that parses must re-emit and parse
//! to the same blocks, and split by `take_blocks` into the taken blocks and a payload of
//! the others; opening must fail cleanly on whatever it is given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::crypto::RouterKeys;
use ramsons_router::garlic::payload::{
    block_type, emit_payload, parse_payload, take_blocks, PayloadKind,
};
use ramsons_router::garlic::router::{open_as_router, open_with_tag};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            // What the ratchet takes out of every Existing Session payload.
            let owned = [
                block_type::NEXT_KEY,
                block_type::ACK,
                block_type::ACK_REQUEST,
            ];
            let taken = take_blocks(bytes, &owned);
            if let Ok(blocks) = parse_payload(bytes) {
                let (_, rest) = taken.expect("a payload that parses frames");
                let others: Vec<_> = blocks
                    .iter()
                    .filter(|b| !owned.contains(&b.block_type()))
                    .cloned()
                    .collect();
                assert_eq!(parse_payload(&rest).expect("the rest parses"), others);
                for kind in [
                    PayloadKind::NewSession,
                    PayloadKind::NewSessionReply,
                    PayloadKind::ExistingSession,
                ] {
                    let _ = kind.check(&blocks);
                }
                let encoded = emit_payload(&blocks).expect("a parsed payload re-emits");
                assert_eq!(parse_payload(&encoded).expect("re-parses"), blocks);
            }
        }
        1 => {
            let keys = RouterKeys::from_secret_bytes(&[7; 96]);
            let public = keys.identity().encryption_key();
            let _ = open_as_router(keys.encryption_secret(), &public, bytes, None);
        }
        _ => {
            let _ = open_with_tag(&[7; 32], bytes);
        }
    }
});
