//! NTCP2 data-phase throughput, against raw ChaCha20-Poly1305 over the same bytes.
//!
//! One iteration moves 1 MiB of I2NP Data messages of about 1 KiB each from Alice to Bob
//! over an established session: encode and frame (several messages per frame, random
//! padding, SipHash length masks), seal, then on Bob's side unmask, open, parse the
//! blocks and decode every message into an event. The floor is sealing and opening the
//! same number of bytes in 64 KiB ChaCha20-Poly1305 frames, measured in the same run.
//! Results and how to read them: router/BENCHMARKS.md.
//!
//! Run with `cargo bench -p ramsons-router --bench ntcp2`.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ramsons_router::crypto::RouterKeys;
use ramsons_router::data::Mapping;
use ramsons_router::i2np::{DataMessage, I2npMessage, MessageBody, SHORT_HEADER_LEN};
use ramsons_router::time::Instant;
use ramsons_router::transport::ntcp2::{LocalRouter, Ntcp2Keys, Ntcp2Peer, Session, SessionEvent};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;

const NOW: Instant = Instant::from_secs(1_800_000_000);
const TOTAL: usize = 1 << 20;
/// Each message is 1 KiB with its short I2NP header (and the Data message's length).
const MESSAGE_LEN: usize = 1024;
const MESSAGES: usize = TOTAL / MESSAGE_LEN;

fn router(rng: &mut ChaCha20Rng) -> LocalRouter {
    let identity = RouterKeys::generate(rng);
    let keys = Ntcp2Keys::generate(rng);
    let mut options = Mapping::new();
    options.insert("netId", "2").expect("short option");
    let address = keys.router_address("127.0.0.1:9000".parse().expect("literal"));
    LocalRouter {
        info: Arc::new(identity.sign_router_info(NOW.as_millis(), vec![address], options)),
        keys,
        net_id: 2,
    }
}

fn established(rng: &mut ChaCha20Rng) -> (Session, Session) {
    let (alice_router, bob_router) = (router(rng), router(rng));
    let peer = Ntcp2Peer::from_router_info(&bob_router.info).expect("published address");
    let mut alice = Session::connect(NOW, &alice_router, &peer, rng);
    let mut bob = Session::accept(NOW, &bob_router, rng);
    for _ in 0..2 {
        while let Some(bytes) = alice.poll_transmit() {
            bob.handle_input(NOW, &bytes).expect("valid handshake");
        }
        while let Some(bytes) = bob.poll_transmit() {
            alice.handle_input(NOW, &bytes).expect("valid handshake");
        }
    }
    assert!(alice.is_established() && bob.is_established());
    while alice.poll_event().is_some() || bob.poll_event().is_some() {}
    (alice, bob)
}

fn data_phase_against_chacha(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (mut alice, mut bob) = established(&mut rng);
    let messages: Vec<I2npMessage> = (0..MESSAGES as u32)
        .map(|id| {
            let mut payload = vec![0; MESSAGE_LEN - SHORT_HEADER_LEN - 4];
            rng.fill_bytes(&mut payload);
            I2npMessage {
                id,
                expiration_ms: NOW.as_millis() + 60_000,
                body: MessageBody::Data(DataMessage { payload }),
            }
        })
        .collect();

    let mut group = c.benchmark_group("ntcp2 data phase");
    group.throughput(Throughput::Bytes(TOTAL as u64));
    group.sample_size(20);

    group.bench_function(
        "session send + receive (1 MiB of 1 KiB I2NP messages)",
        |b| {
            b.iter(|| {
                for msg in &messages {
                    alice.send(msg);
                }
                while let Some(bytes) = alice.poll_transmit() {
                    bob.handle_input(NOW, black_box(&bytes))
                        .expect("valid frames");
                }
                let mut received = 0;
                while let Some(event) = bob.poll_event() {
                    if let SessionEvent::Message(msg) = black_box(event) {
                        received += usize::from(msg.id < u32::MAX);
                    }
                }
                assert_eq!(received, MESSAGES);
            });
        },
    );

    group.bench_function(
        "raw ChaCha20-Poly1305 seal + open (1 MiB in 64 KiB frames)",
        |b| {
            let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
            let mut buf = vec![0u8; TOTAL];
            rng.fill_bytes(&mut buf);
            let mut n = 0u64;
            b.iter(|| {
                for frame in buf.chunks_mut(65_519) {
                    let mut nonce = [0u8; 12];
                    nonce[4..].copy_from_slice(&n.to_le_bytes());
                    n += 1;
                    let nonce = Nonce::from_slice(&nonce);
                    let tag = cipher
                        .encrypt_in_place_detached(nonce, &[], frame)
                        .expect("within limits");
                    cipher
                        .decrypt_in_place_detached(nonce, &[], black_box(frame), &tag)
                        .expect("authentic");
                }
            });
        },
    );

    group.finish();
}

criterion_group!(benches, data_phase_against_chacha);
criterion_main!(benches);
