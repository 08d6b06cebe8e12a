//! Tunnel messages at an inbound endpoint. The first byte picks the mode.
//!
//! 0: the rest is a list of tunnel message contents (delivery instructions and fragments,
//! each prefixed by a 2-byte length), each laid out behind a valid checksum and given to
//! one endpoint in order, so fragments of one message meet across tunnel messages. The
//! endpoint never panics and holds no more than it was given.
//!
//! 1: the rest is a list of I2NP messages (each prefixed by a 2-byte length) sent
//! through a gateway to an endpoint of the same zero-hop tunnel: what comes out is what
//! went in, in order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::data::Hash;
use ramsons_router::i2np::TunnelData;
use ramsons_router::time::Instant;
use ramsons_router::tunnel::data::{Delivered, Delivery, Endpoint, Gateway, NextHop, ReplayFilter};
use ramsons_router::tunnel::TunnelId;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::time::Duration;

const NOW: Instant = Instant::from_secs(1_700_000_000);
const CONTENT_MAX: usize = TunnelData::DATA_LEN - 5;

/// Splits `bytes` into pieces, each announced by a 2-byte big-endian length (cut to
/// what is left).
fn pieces(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let [hi, lo, rest @ ..] = bytes {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
        let (piece, tail) = rest.split_at(len);
        out.push(piece);
        bytes = tail;
    }
    out
}

/// A tunnel message whose plaintext is `content` behind a valid checksum.
fn message(index: usize, content: &[u8]) -> TunnelData {
    let content = &content[..content.len().min(CONTENT_MAX)];
    let mut iv = [0u8; TunnelData::IV_LEN];
    iv[..8].copy_from_slice(&(index as u64).to_be_bytes());
    let mut data = Box::new([0u8; TunnelData::DATA_LEN]);
    let start = TunnelData::DATA_LEN - content.len();
    data[start..].copy_from_slice(content);
    let sum = Hash::digest(&[content, &iv[..]].concat());
    data[..4].copy_from_slice(&sum.as_bytes()[..4]);
    // Nonzero padding up to the zero byte that ends it.
    data[4..start - 1].fill(0xAA);
    TunnelData {
        tunnel_id: TunnelId(1),
        iv,
        data,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut replays = ReplayFilter::new(&mut rng, 1024, NOW);
    let mut endpoint = Endpoint::inbound(&[]);
    if mode % 2 == 0 {
        let mut given = 0;
        for (index, content) in pieces(rest).into_iter().enumerate() {
            given += content.len();
            let _ = endpoint.receive(NOW, &mut replays, message(index, content));
            assert!(endpoint.pending_bytes() <= given);
        }
        endpoint.handle_timeout(NOW + Duration::from_secs(3600));
        assert_eq!(endpoint.pending_bytes(), 0);
        return;
    }
    let next = NextHop {
        router: Hash([1; 32]),
        tunnel: TunnelId(1),
    };
    let gateway = Gateway::outbound(next, &[]);
    let messages: Vec<_> = pieces(rest)
        .into_iter()
        .map(|bytes| (Delivery::Local, bytes))
        .collect();
    let Ok(sent) = gateway.send(&mut rng, &messages) else {
        return;
    };
    let mut received = Vec::new();
    for msg in sent {
        received.extend(
            endpoint
                .receive(NOW, &mut replays, msg)
                .expect("our own messages"),
        );
    }
    let expected: Vec<_> = messages
        .iter()
        .map(|&(delivery, bytes)| Delivered {
            delivery,
            message: bytes.to_vec(),
        })
        .collect();
    assert_eq!(received, expected);
});
