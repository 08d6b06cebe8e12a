//! Alice and Bob in memory: whole handshakes and data phases through the public API.

use super::*;
use crate::crypto::RouterKeys;
use crate::data::Mapping;
use crate::i2np::{DataMessage, DeliveryStatus, MessageBody};
use crate::time::Instant;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::net::SocketAddr;
use std::time::Duration;

pub(super) const NOW: Instant = Instant::from_secs(1_700_000_000);

/// A router on network `net_id` whose RouterInfo publishes `published`'s NTCP2 address
/// while it handshakes with `keys` (the same, unless a test wants them to differ).
fn router_publishing(
    rng: &mut ChaCha20Rng,
    net_id: u8,
    keys: Ntcp2Keys,
    published: &Ntcp2Keys,
) -> LocalRouter {
    let identity = RouterKeys::generate(rng);
    let socket: SocketAddr = "127.0.0.1:12345".parse().expect("literal");
    let mut options = Mapping::new();
    options.insert("netId", net_id.to_string()).expect("short");
    let info = identity.sign_router_info(
        NOW.as_millis(),
        vec![published.router_address(socket)],
        options,
    );
    LocalRouter {
        info: Arc::new(info),
        keys,
        net_id,
    }
}

pub(super) fn router(rng: &mut ChaCha20Rng, net_id: u8) -> LocalRouter {
    let keys = Ntcp2Keys::generate(rng);
    router_publishing(rng, net_id, keys.clone(), &keys)
}

fn dial(rng: &mut ChaCha20Rng, alice: &LocalRouter, bob: &LocalRouter) -> (Session, Session) {
    let peer = Ntcp2Peer::from_router_info(&bob.info).expect("bob publishes NTCP2");
    (
        Session::connect(NOW, alice, &peer, rng),
        Session::accept(NOW, bob, rng),
    )
}

/// Moves everything `from` wants to send into `to`, in chunks of sizes drawn by
/// `chunk`; returns whether any bytes moved. Receiving errors are left in `to`'s events.
fn pump(
    from: &mut Session,
    to: &mut Session,
    now: Instant,
    chunk: &mut dyn FnMut(usize) -> usize,
) -> bool {
    let mut moved = false;
    while let Some(bytes) = from.poll_transmit() {
        moved |= !bytes.is_empty();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = chunk(rest.len()).clamp(1, rest.len());
            let _ = to.handle_input(now, &rest[..n]);
            rest = &rest[n..];
        }
    }
    moved
}

fn whole(len: usize) -> usize {
    len
}

/// Runs both directions until neither has anything to send.
pub(super) fn converse(alice: &mut Session, bob: &mut Session, now: Instant) {
    converse_chunked(alice, bob, now, &mut whole);
}

fn converse_chunked(
    alice: &mut Session,
    bob: &mut Session,
    now: Instant,
    chunk: &mut dyn FnMut(usize) -> usize,
) {
    while pump(alice, bob, now, chunk) | pump(bob, alice, now, chunk) {}
}

fn events(session: &mut Session) -> Vec<SessionEvent> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn closed_error(events: &[SessionEvent]) -> Option<&Ntcp2Error> {
    events.iter().find_map(|e| match e {
        SessionEvent::Closed {
            reason: CloseReason::Error(error),
        } => Some(error),
        _ => None,
    })
}

fn messages(events: &[SessionEvent]) -> Vec<&I2npMessage> {
    events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn status(id: u32) -> I2npMessage {
    I2npMessage {
        id,
        expiration_ms: NOW.as_millis() + 60_000,
        body: MessageBody::DeliveryStatus(DeliveryStatus {
            msg_id: id,
            timestamp_ms: 1,
        }),
    }
}

pub(super) fn data_message(id: u32, len: usize) -> I2npMessage {
    I2npMessage {
        id,
        expiration_ms: NOW.as_millis() + 60_000,
        body: MessageBody::Data(DataMessage {
            payload: vec![id as u8; len],
        }),
    }
}

/// A handshake between fresh routers, established on both sides, events drained.
pub(super) fn established(seed: u64) -> (Session, Session, LocalRouter, LocalRouter) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (alice_router, bob_router) = (router(&mut rng, 2), router(&mut rng, 2));
    let (mut alice, mut bob) = dial(&mut rng, &alice_router, &bob_router);
    converse(&mut alice, &mut bob, NOW);
    assert!(alice.is_established() && bob.is_established());
    events(&mut alice);
    events(&mut bob);
    (alice, bob, alice_router, bob_router)
}

#[test]
fn handshake_establishes_both_sides_and_messages_flow() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (alice_router, bob_router) = (router(&mut rng, 2), router(&mut rng, 2));
    let (mut alice, mut bob) = dial(&mut rng, &alice_router, &bob_router);
    assert_eq!(alice.poll_timeout(), Some(NOW + HANDSHAKE_TIMEOUT));
    assert_eq!(alice.peer(), Some(bob_router.info.hash()));
    assert_eq!(bob.peer(), None);
    // Queued before the handshake: goes out with message 3.
    alice.send(&status(1));
    converse(&mut alice, &mut bob, NOW);

    assert_eq!(
        events(&mut alice),
        vec![SessionEvent::Established {
            peer: bob_router.info.hash(),
            info: None
        }]
    );
    assert_eq!(
        events(&mut bob),
        vec![
            SessionEvent::Established {
                peer: alice_router.info.hash(),
                info: Some(alice_router.info.clone()),
            },
            SessionEvent::Message(status(1)),
        ]
    );
    assert_eq!(bob.peer(), Some(alice_router.info.hash()));
    assert_eq!((alice.poll_timeout(), bob.poll_timeout()), (None, None));

    bob.send(&status(2));
    bob.send(&data_message(3, 1000));
    alice.send(&status(4));
    converse(&mut alice, &mut bob, NOW);
    assert_eq!(
        events(&mut alice),
        vec![
            SessionEvent::Message(status(2)),
            SessionEvent::Message(data_message(3, 1000))
        ]
    );
    assert_eq!(events(&mut bob), vec![SessionEvent::Message(status(4))]);
}

#[test]
fn byte_by_byte_and_random_chunks() {
    for seed in 0..6 {
        let mut rng = ChaCha20Rng::seed_from_u64(100 + seed);
        let (alice_router, bob_router) = (router(&mut rng, 2), router(&mut rng, 2));
        let (mut alice, mut bob) = dial(&mut rng, &alice_router, &bob_router);
        let mut chunks = ChaCha20Rng::seed_from_u64(seed);
        let mut chunk = |len: usize| {
            if seed == 0 {
                1
            } else {
                chunks.gen_range(1..=len.min(700))
            }
        };
        for id in 0..20 {
            alice.send(&data_message(id, 50 * id as usize));
        }
        converse_chunked(&mut alice, &mut bob, NOW, &mut chunk);
        for id in 20..40 {
            bob.send(&data_message(id, 30 * id as usize));
        }
        converse_chunked(&mut alice, &mut bob, NOW, &mut chunk);
        let (to_bob, to_alice) = (events(&mut bob), events(&mut alice));
        assert!(closed_error(&to_bob).is_none() && closed_error(&to_alice).is_none());
        let expected: Vec<_> = (0..20)
            .map(|id| data_message(id, 50 * id as usize))
            .collect();
        assert_eq!(messages(&to_bob), expected.iter().collect::<Vec<_>>());
        let expected: Vec<_> = (20..40)
            .map(|id| data_message(id, 30 * id as usize))
            .collect();
        assert_eq!(messages(&to_alice), expected.iter().collect::<Vec<_>>());
    }
}

#[test]
fn many_messages_in_one_go_span_several_frames() {
    let (mut alice, mut bob, ..) = established(2);
    let sent: Vec<_> = (0..300).map(|id| data_message(id, 1024)).collect();
    for msg in &sent {
        alice.send(msg);
    }
    let wire = alice.poll_transmit().expect("frames");
    assert!(alice.poll_transmit().is_none());
    // 300 KiB does not fit one 64 KiB frame, but shares few frames.
    assert!(
        wire.len() > 300 * 1024 && wire.len() < 300 * 1050,
        "{}",
        wire.len()
    );
    bob.handle_input(NOW, &wire).expect("valid frames");
    assert_eq!(messages(&events(&mut bob)), sent.iter().collect::<Vec<_>>());
}

#[test]
fn oversized_messages_are_dropped() {
    let (mut alice, _bob, ..) = established(3);
    alice.send(&data_message(1, 65_516));
    assert!(alice.poll_transmit().is_none());
}

#[test]
fn wrong_published_values_fail_at_bob() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let (alice_router, bob_router) = (router(&mut rng, 2), router(&mut rng, 2));
    let right = Ntcp2Peer::from_router_info(&bob_router.info).expect("published");
    let wrong_iv = Ntcp2Peer {
        iv: [0; 16],
        ..right.clone()
    };
    let wrong_hash = Ntcp2Peer {
        hash: alice_router.info.hash(),
        ..right.clone()
    };
    let wrong_key = Ntcp2Peer {
        static_key: alice_router.keys.public_key(),
        ..right
    };
    for peer in [wrong_iv, wrong_hash, wrong_key] {
        let mut alice = Session::connect(NOW, &alice_router, &peer, &mut rng);
        let mut bob = Session::accept(NOW, &bob_router, &mut rng);
        converse(&mut alice, &mut bob, NOW);
        assert!(bob.is_closed());
        assert_eq!(
            closed_error(&events(&mut bob)),
            Some(&Ntcp2Error::BadMac("message 1"))
        );
        assert!(!alice.is_established());
    }
}

#[test]
fn tampered_handshake_bytes_fail_cleanly() {
    // Message index (0: SessionRequest, 1: SessionCreated, 2: SessionConfirmed).
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (alice_router, bob_router) = (router(&mut rng, 2), router(&mut rng, 2));
    for message in 0..3 {
        let mut position = 0;
        loop {
            let (mut alice, mut bob) = dial(&mut rng, &alice_router, &bob_router);
            let sessions = [&mut alice, &mut bob];
            let mut past_the_end = false;
            for turn in 0..3 {
                let (from, to) = if turn % 2 == 0 { (0, 1) } else { (1, 0) };
                let Some(mut bytes) = sessions[from].poll_transmit() else {
                    break;
                };
                if turn == message {
                    // Padding lengths are random: each run has its own message length.
                    let Some(byte) = bytes.get_mut(position) else {
                        past_the_end = true;
                        break;
                    };
                    *byte ^= 0x40;
                }
                let _ = sessions[to].handle_input(NOW, &bytes);
            }
            if past_the_end {
                break;
            }
            let (a, b) = (events(&mut alice), events(&mut bob));
            assert!(
                closed_error(&a).is_some() || closed_error(&b).is_some(),
                "message {message} byte {position} went unnoticed"
            );
            assert!(!bob.is_established(), "message {message} byte {position}");
            // Message 3 is mostly Alice's RouterInfo: sample it.
            position += if message == 2 { 13 } else { 1 };
        }
    }
}

#[test]
fn wrong_network_is_rejected() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let bob_router = router(&mut rng, 2);
    // In message 1.
    let alice_router = router(&mut rng, 3);
    let (mut alice, mut bob) = dial(&mut rng, &alice_router, &bob_router);
    converse(&mut alice, &mut bob, NOW);
    let expected = Ntcp2Error::WrongNetwork {
        expected: 2,
        got: Some(3),
    };
    assert_eq!(closed_error(&events(&mut bob)), Some(&expected));
    // In the RouterInfo of message 3.
    let liar = LocalRouter {
        net_id: 2,
        ..alice_router
    };
    let (mut alice, mut bob) = dial(&mut rng, &liar, &bob_router);
    converse(&mut alice, &mut bob, NOW);
    assert_eq!(closed_error(&events(&mut bob)), Some(&expected));
}

#[test]
fn clock_skew_beyond_a_minute_is_rejected() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let (alice_router, bob_router) = (router(&mut rng, 2), router(&mut rng, 2));
    let peer = Ntcp2Peer::from_router_info(&bob_router.info).expect("published");

    // Bob a minute and a second ahead: he rejects tsA.
    let mut alice = Session::connect(NOW, &alice_router, &peer, &mut rng);
    let bob_now = NOW + Duration::from_secs(61);
    let mut bob = Session::accept(bob_now, &bob_router, &mut rng);
    let message1 = alice.poll_transmit().expect("message 1");
    assert!(bob.handle_input(bob_now, &message1).is_err());
    assert_eq!(
        closed_error(&events(&mut bob)),
        Some(&Ntcp2Error::ClockSkew { offset_secs: -61 })
    );

    // Bob exactly a minute behind: he accepts, but Alice, a second later, rejects tsB.
    let mut alice = Session::connect(NOW, &alice_router, &peer, &mut rng);
    let bob_now = NOW - Duration::from_secs(60);
    let mut bob = Session::accept(bob_now, &bob_router, &mut rng);
    let message1 = alice.poll_transmit().expect("message 1");
    bob.handle_input(bob_now, &message1)
        .expect("60 s is allowed");
    let message2 = bob.poll_transmit().expect("message 2");
    let alice_now = NOW + Duration::from_secs(1);
    assert!(alice.handle_input(alice_now, &message2).is_err());
    assert_eq!(
        closed_error(&events(&mut alice)),
        Some(&Ntcp2Error::ClockSkew { offset_secs: -61 })
    );
}

#[test]
fn router_info_must_publish_the_proven_static_key() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let bob_router = router(&mut rng, 2);
    let keys = Ntcp2Keys::generate(&mut rng);
    let other = Ntcp2Keys::generate(&mut rng);
    let alice_router = router_publishing(&mut rng, 2, keys, &other);
    let (mut alice, mut bob) = dial(&mut rng, &alice_router, &bob_router);
    converse(&mut alice, &mut bob, NOW);
    assert_eq!(
        closed_error(&events(&mut bob)),
        Some(&Ntcp2Error::StaticKeyMismatch)
    );
    assert!(!bob.is_established());
}

#[test]
fn termination_closes_both_sides_with_the_reason() {
    let (mut alice, mut bob, ..) = established(9);
    alice.send(&status(7));
    alice.close(NOW, TerminationReason::RouterShutdown);
    assert!(alice.is_closed());
    alice.send(&status(8));
    converse(&mut alice, &mut bob, NOW);
    assert_eq!(
        events(&mut alice),
        vec![SessionEvent::Closed {
            reason: CloseReason::Local(TerminationReason::RouterShutdown)
        }]
    );
    assert_eq!(
        events(&mut bob),
        vec![
            SessionEvent::Message(status(7)),
            SessionEvent::Closed {
                reason: CloseReason::Remote(TerminationReason::RouterShutdown)
            }
        ]
    );
    assert!(bob.is_closed());
    // Input after the close is ignored.
    assert_eq!(bob.handle_input(NOW, &[1, 2, 3]), Ok(()));
}

#[test]
fn closing_during_the_handshake_sends_nothing() {
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let (alice_router, bob_router) = (router(&mut rng, 2), router(&mut rng, 2));
    let (mut alice, _bob) = dial(&mut rng, &alice_router, &bob_router);
    alice.send(&status(1));
    alice.close(NOW, TerminationReason::Normal);
    assert_eq!(alice.poll_transmit(), None);
    assert_eq!(
        events(&mut alice),
        vec![SessionEvent::Closed {
            reason: CloseReason::Local(TerminationReason::Normal)
        }]
    );
}

#[test]
fn data_phase_tampering_is_reported_to_the_peer() {
    let (mut alice, mut bob, ..) = established(10);
    alice.send(&status(1));
    let mut wire = alice.poll_transmit().expect("a frame");
    wire[4] ^= 1;
    assert_eq!(
        bob.handle_input(NOW, &wire),
        Err(Ntcp2Error::BadMac("data phase frame"))
    );
    converse(&mut alice, &mut bob, NOW);
    assert_eq!(
        events(&mut alice),
        vec![SessionEvent::Closed {
            reason: CloseReason::Remote(TerminationReason::AeadFailure)
        }]
    );
}

#[test]
fn handshake_times_out() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let bob_router = router(&mut rng, 2);
    let mut bob = Session::accept(NOW, &bob_router, &mut rng);
    let deadline = bob.poll_timeout().expect("handshake running");
    bob.handle_timeout(deadline - Duration::from_millis(1));
    assert!(!bob.is_closed());
    bob.handle_timeout(deadline);
    assert!(bob.is_closed());
    assert_eq!(
        closed_error(&events(&mut bob)),
        Some(&Ntcp2Error::HandshakeTimeout)
    );
    assert_eq!(bob.poll_timeout(), None);
}

#[test]
fn bytes_before_their_turn_are_rejected() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let (alice_router, bob_router) = (router(&mut rng, 2), router(&mut rng, 2));
    let (mut alice, mut bob) = dial(&mut rng, &alice_router, &bob_router);
    let mut message1 = alice.poll_transmit().expect("message 1");
    message1.push(0);
    assert_eq!(
        bob.handle_input(NOW, &message1),
        Err(Ntcp2Error::UnexpectedData)
    );
}

#[test]
fn termination_reason_codes_round_trip() {
    for code in 0..=255 {
        assert_eq!(TerminationReason::from_code(code).code(), code);
    }
    assert_eq!(
        TerminationReason::from_code(16),
        TerminationReason::StaticKeyMismatch
    );
    assert_eq!(
        TerminationReason::from_code(18),
        TerminationReason::Other(18)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic_an_accepting_session(
        seed in any::<u64>(),
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..6),
    ) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let bob_router = router(&mut rng, 2);
        let mut bob = Session::accept(NOW, &bob_router, &mut rng);
        for chunk in &chunks {
            let _ = bob.handle_input(NOW, chunk);
        }
        while bob.poll_transmit().is_some() {}
        prop_assert!(!bob.is_established());
    }

    #[test]
    fn arbitrary_bytes_never_panic_an_established_session(
        seed in 0u64..4,
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let (_alice, mut bob, ..) = established(seed);
        let _ = bob.handle_input(NOW, &bytes);
        while bob.poll_transmit().is_some() {}
    }
}

#[test]
fn a_frame_left_half_sent_ends_the_session() {
    let (mut alice, mut bob, ..) = established(13);
    assert_eq!(bob.poll_timeout(), None, "no frame under way, no deadline");
    alice.send(&status(1));
    let wire = alice.poll_transmit().expect("a frame");
    // Everything but the last byte: the frame stays incomplete.
    bob.handle_input(NOW, &wire[..wire.len() - 1])
        .expect("a valid prefix");
    let deadline = bob.poll_timeout().expect("a frame under way");
    assert_eq!(deadline, NOW + INTRA_FRAME_TIMEOUT);
    bob.handle_timeout(deadline - Duration::from_millis(1));
    assert!(!bob.is_closed());
    bob.handle_timeout(deadline);
    assert_eq!(
        closed_error(&events(&mut bob)),
        Some(&Ntcp2Error::IntraFrameTimeout)
    );
    // Alice is told why.
    converse(&mut alice, &mut bob, NOW);
    assert_eq!(
        events(&mut alice),
        vec![SessionEvent::Closed {
            reason: CloseReason::Remote(TerminationReason::IntraFrameReadTimeout)
        }]
    );
}

#[test]
fn completed_frames_clear_the_deadline() {
    let (mut alice, mut bob, ..) = established(14);
    alice.send(&status(2));
    let wire = alice.poll_transmit().expect("a frame");
    bob.handle_input(NOW, &wire[..3]).expect("a prefix");
    assert!(bob.poll_timeout().is_some());
    bob.handle_input(NOW, &wire[3..]).expect("the rest");
    assert_eq!(bob.poll_timeout(), None);
}
