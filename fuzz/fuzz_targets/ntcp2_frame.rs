//! NTCP2's data phase: frames an authentic peer seals around arbitrary plaintext, so the
//! block parser and what the session does with each block (I2NP messages, RouterInfos,
//! termination) see hostile input behind a valid MAC, which `ntcp2_session` cannot reach.
//!
//! Alice and Bob complete a real handshake (fixed keys, once per process); the input is a list
//! of frame payloads, each prefixed by a 2-byte length, that Alice seals and Bob reads.
//! Bob never panics and stays established unless a frame was malformed or terminated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::crypto::RouterKeys;
use ramsons_router::data::Mapping;
use ramsons_router::time::Instant;
use ramsons_router::transport::ntcp2::{LocalRouter, Ntcp2Keys, Ntcp2Peer, Session};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::{Arc, OnceLock};

const NOW: Instant = Instant::from_secs(1_700_000_000);
/// A frame's plaintext is at most 65535 bytes less the 16-byte MAC.
const MAX_PAYLOAD_LEN: usize = 65_519;

fn router(rng: &mut ChaCha20Rng) -> LocalRouter {
    let identity = RouterKeys::generate(rng);
    let keys = Ntcp2Keys::generate(rng);
    let mut options = Mapping::new();
    options.insert("netId", "2").expect("short option");
    let address = keys.router_address("127.0.0.1:9000".parse().expect("literal"));
    let info = identity.sign_router_info(NOW.as_millis(), vec![address], options);
    LocalRouter {
        info: Arc::new(info),
        keys,
        net_id: 2,
    }
}

/// Alice and Bob after a real handshake (fixed keys), made once and copied per input.
fn established() -> (Session, Session) {
    static PAIR: OnceLock<(Session, Session)> = OnceLock::new();
    let (alice, bob) = PAIR.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (alice_router, bob_router) = (router(&mut rng), router(&mut rng));
        let peer = Ntcp2Peer::from_router_info(&bob_router.info).expect("published address");
        let mut alice = Session::connect(NOW, &alice_router, &peer, &mut rng);
        let mut bob = Session::accept(NOW, &bob_router, &mut rng);
        for _ in 0..3 {
            while let Some(bytes) = alice.poll_transmit() {
                bob.handle_input(NOW, &bytes).expect("a real handshake");
            }
            while let Some(bytes) = bob.poll_transmit() {
                alice.handle_input(NOW, &bytes).expect("a real handshake");
            }
        }
        assert!(alice.is_established() && bob.is_established());
        while alice.poll_event().is_some() || bob.poll_event().is_some() {}
        (alice, bob)
    });
    let copy = |s: &Session| s.clone_for_fuzzing().expect("established");
    (copy(alice), copy(bob))
}

fuzz_target!(|data: &[u8]| {
    let (mut alice, mut bob) = established();
    let mut rest = data;
    while let [hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]))
            .min(tail.len())
            .min(MAX_PAYLOAD_LEN);
        let (payload, after) = tail.split_at(len);
        rest = after;
        let frame = alice.seal_frame_for_fuzzing(payload).expect("established");
        let result = bob.handle_input(NOW, &frame);
        while bob.poll_event().is_some() {}
        while bob.poll_transmit().is_some() {}
        if result.is_err() || !bob.is_established() {
            break;
        }
    }
});
