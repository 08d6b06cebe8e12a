//! Streaming packets. The first input byte picks the mode. 0: `Packet::parse` on
//! arbitrary bytes; what parses must re-emit to exactly the same bytes. 1: the bytes go
//! to a stream manager with one open stream, patched to that stream's id so they reach
//! its connection; the manager is then driven (transmit, events, a timeout) and must
//! neither panic nor loop.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::client::streaming::{ManagerConfig, Packet, Ports, StreamManager};
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::time::Instant;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::OnceLock;
use std::time::Duration;

const NOW: Instant = Instant::from_secs(1_800_000_000);

fn drive(bytes: &[u8]) {
    let config = ManagerConfig {
        listen: true,
        ..ManagerConfig::default()
    };
    static KEYS: OnceLock<(DestinationKeys, DestinationKeys)> = OnceLock::new();
    let (peer, keys) = KEYS.get_or_init(|| {
        (
            DestinationKeys::from_secret_bytes(&[9; 96]),
            DestinationKeys::from_secret_bytes(&[7; 96]),
        )
    });
    let mut manager = StreamManager::new(keys.clone(), config, ChaCha20Rng::seed_from_u64(1));
    let Ok(id) = manager.connect(NOW, peer.destination().clone(), Ports::default()) else {
        return;
    };
    manager.write(id, b"hello");
    while manager.poll_transmit(NOW).is_some() {}
    let mut packet = bytes.to_vec();
    if packet.len() >= 4 {
        packet[..4].copy_from_slice(&id.0.to_be_bytes());
    }
    let _ = manager.handle_packet(NOW, None, Ports::default(), &packet);
    let _ = manager.handle_packet(NOW, None, Ports::default(), bytes);
    for step in 0..4u64 {
        let now = NOW + Duration::from_secs(10 * step);
        manager.handle_timeout(now);
        for _ in 0..1000 {
            if manager.poll_transmit(now).is_none() {
                break;
            }
        }
        while manager.poll_event().is_some() {}
        let mut buf = [0u8; 4096];
        manager.read(id, &mut buf);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(packet) = Packet::parse(bytes) {
            assert_eq!(packet.emit().expect("a parsed packet re-emits"), bytes);
        }
    } else {
        drive(bytes);
    }
});
