//! NTCP2 sessions fed hostile bytes: never panic, never establish on garbage.
//!
//! The routers' keys are fixed (made once per process). The first byte picks the victim: an accepting Bob given the rest as raw input, or a
//! real handshake whose messages get the rest XORed over them (reaching message 2 and 3
//! parsing, and the data phase, which pure garbage never passes the MACs of).
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

/// Alice's and Bob's routers, made once, and the generator as it was after them.
fn routers() -> &'static (LocalRouter, LocalRouter, ChaCha20Rng) {
    static ROUTERS: OnceLock<(LocalRouter, LocalRouter, ChaCha20Rng)> = OnceLock::new();
    ROUTERS.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(0);
        let (alice, bob) = (router(&mut rng), router(&mut rng));
        (alice, bob, rng)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (alice_router, bob_router, rng) = routers();
    let mut rng = rng.clone();
    let mut bob = Session::accept(NOW, bob_router, &mut rng);
    if mode % 2 == 0 {
        // Raw bytes, in chunks of up to 64.
        for chunk in rest.chunks(64) {
            let _ = bob.handle_input(NOW, chunk);
        }
        assert!(!bob.is_established());
        return;
    }
    let peer = Ntcp2Peer::from_router_info(&bob_router.info).expect("published address");
    let mut alice = Session::connect(NOW, alice_router, &peer, &mut rng);
    let mut mask = rest.iter().copied();
    for _ in 0..4 {
        let moved = relay(&mut alice, &mut bob, &mut mask) | relay(&mut bob, &mut alice, &mut mask);
        if !moved {
            break;
        }
    }
    while alice.poll_event().is_some() || bob.poll_event().is_some() {}
});

/// Moves what `from` sends into `to`, XORing it with the next bytes of `mask`.
fn relay(from: &mut Session, to: &mut Session, mask: &mut impl Iterator<Item = u8>) -> bool {
    let mut moved = false;
    while let Some(mut bytes) = from.poll_transmit() {
        moved = true;
        for (byte, m) in bytes.iter_mut().zip(&mut *mask) {
            *byte ^= m;
        }
        let _ = to.handle_input(NOW, &bytes);
    }
    moved
}
