//! Two (or three) endpoints talking through byte vectors, with virtual time.

use super::*;
use crate::time::Instant;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::time::Duration;
use x25519_dalek::StaticSecret;

pub(super) const T0: Instant = Instant::from_secs(1_700_000_000);

fn endpoint(seed: u8) -> RatchetEndpoint {
    RatchetEndpoint::new(StaticSecret::from([seed; 32]))
}

pub(super) fn after(secs: u64) -> Instant {
    T0 + Duration::from_secs(secs)
}

/// Alice, Bob, and the generator they draw from.
pub(super) struct Pair {
    pub(super) alice: RatchetEndpoint,
    pub(super) bob: RatchetEndpoint,
    pub(super) rng: ChaCha20Rng,
}

impl Pair {
    pub(super) fn new(seed: u64) -> Pair {
        Pair {
            alice: endpoint(1),
            bob: endpoint(2),
            rng: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    pub(super) fn a(&self) -> [u8; 32] {
        self.alice.public_key()
    }

    pub(super) fn b(&self) -> [u8; 32] {
        self.bob.public_key()
    }

    pub(super) fn alice_seals(&mut self, payload: &[u8]) -> Sealed {
        let bob = self.b();
        self.alice
            .seal(&mut self.rng, T0, &bob, payload)
            .expect("alice seals")
    }

    pub(super) fn bob_seals(&mut self, payload: &[u8]) -> Sealed {
        let alice = self.a();
        self.bob
            .seal(&mut self.rng, T0, &alice, payload)
            .expect("bob seals")
    }

    /// NS, NSR, then one ES from Alice so that Bob may send ES too.
    pub(super) fn established(seed: u64) -> Pair {
        let mut pair = Pair::new(seed);
        pair.handshake();
        pair
    }

    pub(super) fn handshake(&mut self) {
        let ns = self.alice_seals(b"hello");
        self.bob.open(T0, &ns.message).expect("bob opens the NS");
        let nsr = self.bob_seals(b"welcome");
        self.alice
            .open(T0, &nsr.message)
            .expect("alice opens the NSR");
        let es = self.alice_seals(b"confirm");
        self.bob.open(T0, &es.message).expect("bob opens the ES");
    }
}

#[test]
fn handshake_then_existing_sessions_both_ways() {
    let mut pair = Pair::new(1);
    let (a, b) = (pair.a(), pair.b());
    assert_eq!(pair.alice.next_kind(&b), MessageKind::NewSession);

    let ns = pair.alice_seals(b"GET /");
    assert_eq!(ns.kind, MessageKind::NewSession);
    assert_eq!(ns.message.len(), 96 + 5, "spec: NS length is 96 + payload");
    let opened = pair.bob.open(T0, &ns.message).expect("NS");
    assert_eq!(opened.remote, Some(a), "the static key section names Alice");
    assert_eq!(opened.payload, b"GET /");
    assert_eq!(opened.kind, MessageKind::NewSession);

    assert_eq!(pair.bob.next_kind(&a), MessageKind::NewSessionReply);
    let nsr = pair.bob_seals(b"200 OK");
    assert_eq!(nsr.kind, MessageKind::NewSessionReply);
    assert_eq!(
        nsr.message.len(),
        72 + 6,
        "spec: NSR length is 72 + payload"
    );
    let opened = pair.alice.open(T0, &nsr.message).expect("NSR");
    assert_eq!(opened.remote, Some(b));
    assert_eq!(opened.payload, b"200 OK");
    assert_eq!(opened.kind, MessageKind::NewSessionReply);

    // Alice switches to ES at once; Bob only after Alice's first ES.
    assert_eq!(pair.alice.next_kind(&b), MessageKind::Existing);
    assert_eq!(pair.bob.next_kind(&a), MessageKind::NewSessionReply);
    let es = pair.alice_seals(b"ack");
    assert_eq!(es.message.len(), 8 + 3 + 16);
    assert_eq!(es.number, Some(MessageNumber { tag_set: 0, n: 0 }));
    let opened = pair.bob.open(T0, &es.message).expect("ES");
    assert_eq!(opened.remote, Some(a));
    assert_eq!(opened.kind, MessageKind::Existing);
    assert_eq!(opened.number, es.number);
    assert_eq!(pair.bob.next_kind(&a), MessageKind::Existing);

    let es = pair.bob_seals(b"more");
    assert_eq!(es.kind, MessageKind::Existing);
    let opened = pair.alice.open(T0, &es.message).expect("ES from Bob");
    assert_eq!((opened.remote, opened.payload), (Some(b), b"more".to_vec()));
}

#[test]
fn many_messages_past_the_lookahead_window() {
    let mut pair = Pair::established(2);
    for i in 0..600u32 {
        let payload = i.to_be_bytes();
        let es = pair.alice_seals(&payload);
        let opened = pair.bob.open(T0, &es.message).expect("in order");
        assert_eq!(opened.payload, payload);
        assert_eq!(opened.number.map(|m| m.n), Some(i as u16 + 1));
        let es = pair.bob_seals(&payload);
        let opened = pair.alice.open(T0, &es.message).expect("in order");
        assert_eq!(opened.number.map(|m| m.n), Some(i as u16));
    }
}

#[test]
fn out_of_order_delivery_within_the_window() {
    let mut pair = Pair::established(3);
    // The confirming ES was message 0; `sent[k]` is message k + 1.
    let sent: Vec<Sealed> = (1..=60u8).map(|i| pair.alice_seals(&[i])).collect();
    // Messages 12 down to 1: after 12 the receiver keeps 13 tags behind and 27 ahead.
    for es in sent[..12].iter().rev() {
        assert!(pair.bob.open(T0, &es.message).is_ok());
    }
    // Message 45 is past the lookahead (tags up to 39 are known)...
    let far = &sent[44];
    assert_eq!(
        pair.bob.open(T0, &far.message),
        Err(RatchetError::Undecryptable)
    );
    // ...until the window moves up to it. Message 13 is held back meanwhile.
    for es in &sent[13..30] {
        assert!(pair.bob.open(T0, &es.message).is_ok());
    }
    assert_eq!(
        pair.bob.open(T0, &far.message).expect("now known").payload,
        [45]
    );
    // 17 behind the newest (30) is more than the 15 kept behind: given up as lost.
    assert_eq!(
        pair.bob.open(T0, &sent[12].message),
        Err(RatchetError::Undecryptable)
    );
}

#[test]
fn lost_messages_do_not_stall_the_session() {
    let mut pair = Pair::established(4);
    for i in 0..300u16 {
        let es = pair.alice_seals(&i.to_be_bytes());
        // Every third message is lost.
        if i % 3 != 0 {
            assert!(pair.bob.open(T0, &es.message).is_ok(), "message {i}");
        }
    }
    // Lost tags far behind are trimmed: what waits is bounded by the window.
    assert!(pair.bob.waiting_tags() <= 24 + 160 / 2 + 160);
}

#[test]
fn replays_fail() {
    let mut pair = Pair::new(5);
    let ns = pair.alice_seals(b"ns");
    assert!(pair.bob.open(T0, &ns.message).is_ok());
    assert_eq!(pair.bob.open(T0, &ns.message), Err(RatchetError::Replayed));

    let nsr = pair.bob_seals(b"nsr");
    assert!(pair.alice.open(T0, &nsr.message).is_ok());
    assert_eq!(
        pair.alice.open(T0, &nsr.message),
        Err(RatchetError::Undecryptable)
    );

    let es = pair.alice_seals(b"es");
    assert!(pair.bob.open(T0, &es.message).is_ok());
    assert_eq!(
        pair.bob.open(T0, &es.message),
        Err(RatchetError::Undecryptable)
    );

    // The replay filter forgets New Sessions after 5 minutes; by then the DateTime block
    // (checked by the payload parser) is too old.
    pair.bob.expire(after(5 * 60));
    assert!(pair.bob.open(after(5 * 60), &ns.message).is_ok());
}

#[test]
fn messages_for_another_destination_fail_cleanly() {
    let mut pair = Pair::established(6);
    let mut carol = endpoint(3);
    let ns = pair.alice_seals(b"x");
    // Established: this is an ES; Carol knows no tag and it is no NS to her.
    assert_eq!(
        carol.open(T0, &ns.message),
        Err(RatchetError::Undecryptable)
    );
    let mut rng = ChaCha20Rng::seed_from_u64(60);
    let to_bob = carol
        .seal(&mut rng, T0, &pair.b(), b"for bob")
        .expect("carol seals");
    let mut dave = endpoint(4);
    assert_eq!(
        dave.open(T0, &to_bob.message),
        Err(RatchetError::Undecryptable)
    );
    assert_eq!(
        pair.alice.open(T0, &to_bob.message),
        Err(RatchetError::Undecryptable)
    );
    // Bob still reads it: failures changed nothing.
    let opened = pair.bob.open(T0, &to_bob.message).expect("bob's");
    assert_eq!(opened.remote, Some(carol.public_key()));
}

#[test]
fn tampered_messages_fail_and_change_nothing() {
    let mut pair = Pair::new(7);
    let ns = pair.alice_seals(b"new session payload");
    for i in 0..ns.message.len() {
        let mut bad = ns.message.clone();
        bad[i] ^= 0x01;
        assert!(pair.bob.open(T0, &bad).is_err(), "NS byte {i}");
    }
    assert!(pair.bob.open(T0, &ns.message).is_ok());

    let nsr = pair.bob_seals(b"reply payload");
    for i in 0..nsr.message.len() {
        let mut bad = nsr.message.clone();
        // The top bits of the ephemeral key's last byte are random padding of the
        // Elligator2 representative, masked off by the receiver ("2a) Elligator2").
        let bit = if i == 8 + 31 { 0x20 } else { 0x80 };
        bad[i] ^= bit;
        assert!(pair.alice.open(T0, &bad).is_err(), "NSR byte {i}");
    }
    assert!(pair.alice.open(T0, &nsr.message).is_ok());

    let es = pair.alice_seals(b"existing payload");
    for i in 0..es.message.len() {
        let mut bad = es.message.clone();
        bad[i] ^= 0x10;
        assert_eq!(
            pair.bob.open(T0, &bad),
            Err(RatchetError::Undecryptable),
            "ES byte {i}"
        );
    }
    let truncated = &es.message[..es.message.len() - 1];
    assert!(pair.bob.open(T0, truncated).is_err());
    assert!(
        pair.bob.open(T0, &es.message).is_ok(),
        "the real one still opens"
    );
}

#[test]
fn several_new_sessions_and_replies() {
    let mut pair = Pair::new(8);
    let (a, b) = (pair.a(), pair.b());
    // Alice sends three New Sessions before any reply.
    let ns: Vec<Sealed> = (0..3u8).map(|i| pair.alice_seals(&[i])).collect();
    assert!(ns.iter().all(|m| m.kind == MessageKind::NewSession));
    assert_ne!(
        ns[0].message[..32],
        ns[1].message[..32],
        "fresh ephemeral keys"
    );

    // Bob gets the first two and replies to each.
    pair.bob.open(T0, &ns[0].message).expect("NS 0");
    let reply_to_first = pair.bob_seals(b"r0");
    pair.bob.open(T0, &ns[1].message).expect("NS 1");
    let replies_to_second: Vec<Sealed> = (0..2u8).map(|i| pair.bob_seals(&[b'r', i])).collect();

    // Alice gets a reply to her second NS first: it starts her session.
    let opened = pair
        .alice
        .open(T0, &replies_to_second[1].message)
        .expect("NSR");
    assert_eq!(opened.payload, b"r\x01");
    assert_eq!(pair.alice.next_kind(&b), MessageKind::Existing);
    // The reply to her first NS still delivers its payload, and changes nothing.
    let opened = pair
        .alice
        .open(T0, &reply_to_first.message)
        .expect("late NSR");
    assert_eq!(
        (opened.kind, opened.payload),
        (MessageKind::NewSessionReply, b"r0".to_vec())
    );
    let opened = pair
        .alice
        .open(T0, &replies_to_second[0].message)
        .expect("late NSR");
    assert_eq!(opened.payload, b"r\x00");

    // Her ES tells Bob which reply she took; he drops the other candidates.
    let es = pair.alice_seals(b"es");
    assert_eq!(pair.bob.open(T0, &es.message).expect("ES").payload, b"es");
    assert_eq!(pair.bob.next_kind(&a), MessageKind::Existing);
    let back = pair.bob_seals(b"back");
    assert_eq!(
        pair.alice.open(T0, &back.message).expect("ES").payload,
        b"back"
    );

    // Alice's third NS arrives late: delivered, but the young session stays.
    let opened = pair.bob.open(T0, &ns[2].message).expect("late NS");
    assert_eq!(opened.payload, [2]);
    assert_eq!(pair.bob.next_kind(&a), MessageKind::Existing);
    let es = pair.bob_seals(b"still");
    assert!(pair.alice.open(T0, &es.message).is_ok());
}

#[test]
fn replies_stop_at_the_reply_window() {
    let mut pair = Pair::new(9);
    let a = pair.a();
    let ns = pair.alice_seals(b"ns");
    pair.bob.open(T0, &ns.message).expect("NS");
    let replies: Vec<Sealed> = (0..12u8).map(|i| pair.bob_seals(&[i])).collect();
    assert_eq!(
        pair.bob.seal(&mut pair.rng, T0, &a, b"13th"),
        Err(RatchetError::ReplyWindowFull)
    );
    // Alice can read the last of them.
    assert_eq!(
        pair.alice
            .open(T0, &replies[11].message)
            .expect("NSR")
            .payload,
        [11]
    );
    let es = pair.alice_seals(b"es");
    pair.bob.open(T0, &es.message).expect("ES");
    assert_eq!(pair.bob_seals(b"now es").kind, MessageKind::Existing);
}

#[test]
fn crossed_new_sessions_converge() {
    let mut pair = Pair::new(10);
    let (a, b) = (pair.a(), pair.b());
    let from_alice = pair.alice_seals(b"a");
    let from_bob = pair.bob_seals(b"b");
    pair.bob.open(T0, &from_alice.message).expect("NS");
    pair.alice.open(T0, &from_bob.message).expect("NS");
    // Each answers the other's New Session.
    let reply_from_bob = pair.bob_seals(b"rb");
    let reply_from_alice = pair.alice_seals(b"ra");
    assert_eq!(reply_from_alice.kind, MessageKind::NewSessionReply);
    pair.alice.open(T0, &reply_from_bob.message).expect("NSR");
    pair.bob.open(T0, &reply_from_alice.message).expect("NSR");
    assert_eq!(pair.alice.next_kind(&b), MessageKind::Existing);
    assert_eq!(pair.bob.next_kind(&a), MessageKind::Existing);
    for i in 0..30u8 {
        let es = pair.alice_seals(&[i]);
        assert_eq!(pair.bob.open(T0, &es.message).expect("a->b").payload, [i]);
        let es = pair.bob_seals(&[i]);
        assert_eq!(pair.alice.open(T0, &es.message).expect("b->a").payload, [i]);
    }
}

#[test]
fn one_time_messages_leave_no_state() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let alice = endpoint(1);
    let mut bob = endpoint(2);
    let message = alice
        .seal_one_time(&mut rng, &bob.public_key(), b"datagram")
        .expect("seal");
    assert_eq!(message.len(), 96 + 8);
    let opened = bob.open(T0, &message).expect("open");
    assert_eq!(opened.remote, None);
    assert_eq!(opened.kind, MessageKind::OneTime);
    assert_eq!(opened.payload, b"datagram");
    assert_eq!(bob.counts(), (0, 0));
    assert_eq!(bob.open(T0, &message), Err(RatchetError::Replayed));
}

#[test]
fn idle_sessions_expire() {
    let mut pair = Pair::established(12);
    let (a, b) = (pair.a(), pair.b());
    let late = pair.alice_seals(b"late");
    pair.alice.expire(after(8 * 60 - 1));
    assert_eq!(pair.alice.next_kind(&b), MessageKind::Existing);
    pair.alice.expire(after(8 * 60));
    assert_eq!(
        pair.alice.next_kind(&b),
        MessageKind::NewSession,
        "the sender gives up first"
    );
    pair.bob.expire(after(10 * 60));
    assert_eq!(pair.bob.counts(), (0, 0));
    assert_eq!(pair.bob.next_kind(&a), MessageKind::NewSession);
    assert_eq!(
        pair.bob.open(after(10 * 60), &late.message),
        Err(RatchetError::Undecryptable)
    );
}

#[test]
fn unanswered_new_sessions_expire() {
    let mut pair = Pair::new(13);
    let b = pair.b();
    let ns = pair.alice_seals(b"ns");
    pair.bob.open(T0, &ns.message).expect("NS");
    let nsr = pair.bob_seals(b"slow reply");
    pair.alice.expire(after(3 * 60));
    assert_eq!(pair.alice.counts(), (0, 0));
    assert_eq!(pair.alice.next_kind(&b), MessageKind::NewSession);
    assert!(pair.alice.open(after(3 * 60), &nsr.message).is_err());
    // Bob's candidate session waits for Alice's first Existing Session message as long
    // as an idle tag set would.
    pair.bob.expire(after(3 * 60));
    assert_eq!(pair.bob.counts(), (1, 1));
    pair.bob.expire(after(10 * 60));
    assert_eq!(pair.bob.counts(), (0, 0));
}

#[test]
fn pending_new_sessions_are_bounded() {
    let mut pair = Pair::new(14);
    let sent: Vec<Sealed> = (0..12u8).map(|i| pair.alice_seals(&[i])).collect();
    assert_eq!(pair.alice.counts(), (8, 1));
    // A reply to a forgotten New Session cannot be read; one to a recent one can.
    pair.bob.open(T0, &sent[0].message).expect("NS 0");
    let old = pair.bob_seals(b"to 0");
    pair.bob.open(T0, &sent[11].message).expect("NS 11");
    let new = pair.bob_seals(b"to 11");
    assert!(pair.alice.open(T0, &old.message).is_err());
    assert!(pair.alice.open(T0, &new.message).is_ok());
}

#[test]
fn an_exhausted_tag_set_starts_a_new_session() {
    let mut pair = Pair::established(15);
    let b = pair.b();
    // Message 0 confirmed the session; 1..=65535 use up tag set 0.
    for _ in 1..=u16::MAX {
        pair.alice_seals(b"");
    }
    assert_eq!(pair.alice.next_kind(&b), MessageKind::NewSession);
    let ns = pair.alice_seals(b"again");
    assert_eq!(ns.kind, MessageKind::NewSession);
    // Bob's session is older than 3 minutes by now: the New Session replaces it.
    let opened = pair.bob.open(after(4 * 60), &ns.message).expect("NS");
    assert_eq!(opened.payload, b"again");
    assert_eq!(pair.bob.next_kind(&pair.a()), MessageKind::NewSessionReply);
}

#[test]
fn invalid_inputs_are_errors() {
    let mut pair = Pair::new(16);
    assert_eq!(pair.bob.open(T0, &[]), Err(RatchetError::TooShort));
    assert_eq!(pair.bob.open(T0, &[0; 23]), Err(RatchetError::TooShort));
    assert_eq!(
        pair.bob.open(T0, &[0; 95]),
        Err(RatchetError::Undecryptable)
    );
    assert_eq!(
        pair.bob.open(T0, &[0; 200]),
        Err(RatchetError::Undecryptable)
    );
    let b = pair.b();
    let huge = vec![0; MAX_PAYLOAD_LEN + 1];
    assert_eq!(
        pair.alice.seal(&mut pair.rng, T0, &b, &huge),
        Err(RatchetError::PayloadTooLarge(MAX_PAYLOAD_LEN + 1))
    );
    // The identity point shares no secret.
    assert_eq!(
        pair.alice.seal(&mut pair.rng, T0, &[0; 32], b"x"),
        Err(RatchetError::InvalidRemoteKey)
    );
    assert_eq!(pair.alice.counts(), (0, 0));
    assert!(pair.alice.seal(&mut pair.rng, T0, &b, &huge[1..]).is_ok());
}

/// Everything both sides put on the wire in a fixed exchange.
fn transcript(seed: u64) -> Vec<Vec<u8>> {
    let mut pair = Pair::new(seed);
    let mut wire = Vec::new();
    for step in 0..6u8 {
        let m = pair.alice_seals(&[step]);
        pair.bob.open(T0, &m.message).expect("to bob");
        wire.push(m.message);
        let m = pair.bob_seals(&[step]);
        pair.alice.open(T0, &m.message).expect("to alice");
        wire.push(m.message);
    }
    wire
}

#[test]
fn output_is_deterministic_per_seed() {
    assert_eq!(transcript(42), transcript(42));
    assert_ne!(transcript(42), transcript(43));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut pair = Pair::established(17);
        prop_assert!(pair.bob.open(T0, &bytes).is_err());
        prop_assert!(pair.alice.open(T0, &bytes).is_err());
    }

    #[test]
    fn a_known_tag_with_random_bytes_fails(rest in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut pair = Pair::established(18);
        let es = pair.alice_seals(b"real");
        let mut forged = es.message[..8].to_vec();
        forged.extend_from_slice(&rest);
        prop_assert!(pair.bob.open(T0, &forged).is_err());
        // The forgery did not spend the tag.
        prop_assert_eq!(pair.bob.open(T0, &es.message).map(|o| o.payload), Ok(b"real".to_vec()));
    }

    #[test]
    fn any_flipped_bit_fails(position in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut pair = Pair::new(19);
        let ns = pair.alice_seals(b"some payload");
        let mut bad = ns.message.clone();
        let at = position.index(bad.len());
        bad[at] ^= 1 << bit;
        // Bits 6 and 7 of byte 31 are the ephemeral key's random padding, which the
        // receiver masks off ("2a) Elligator2"): that message is the same one.
        prop_assume!(!(at == 31 && bit >= 6));
        prop_assert!(pair.bob.open(T0, &bad).is_err());
    }
}

/// Two destinations sending to each other at random moments over links with random
/// delays (no loss): every message must open, whichever side starts and however the
/// handshakes cross. This is the simulator's request/reply workload in miniature.
fn random_conversation(seed: u64, steps: usize, max_gap_ms: u64) -> Result<(), String> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut ends = [endpoint(1), endpoint(2)];
    let keys = [ends[0].public_key(), ends[1].public_key()];
    // In flight: (arrival, sequence, to, message).
    let mut flight: Vec<(Instant, usize, usize, Vec<u8>)> = Vec::new();
    let mut now = T0;
    for step in 0..steps {
        now += Duration::from_millis(rng.gen_range(0..max_gap_ms));
        // Deliver everything due, in arrival order, then let time pass.
        flight.sort_by_key(|(at, seq, _, _)| (*at, *seq));
        while flight.first().is_some_and(|(at, ..)| *at <= now) {
            let (at, seq, to, message) = flight.remove(0);
            ends[to]
                .open(at, &message)
                .map_err(|e| format!("message {seq} to {to} at step {step}: {e:?}"))?;
        }
        for end in &mut ends {
            end.expire(now);
        }
        let from = rng.gen_range(0..2usize);
        let sealed = ends[from]
            .seal(&mut rng, now, &keys[1 - from], b"hello")
            .map_err(|e| format!("seal at step {step}: {e:?}"))?;
        let delay = Duration::from_millis(rng.gen_range(100..3_000));
        flight.push((now + delay, step, 1 - from, sealed.message));
    }
    Ok(())
}

#[test]
fn random_two_way_conversations_never_lose_a_message() {
    // Gaps up to 40 s keep sessions alive; up to 20 min they expire in between.
    for max_gap_ms in [40_000, 1_200_000] {
        for seed in 0..200 {
            if let Err(e) = random_conversation(seed, 60, max_gap_ms) {
                panic!("seed {seed}, gaps up to {max_gap_ms} ms: {e}");
            }
        }
    }
}

/// Bob restarts and forgets every session: Alice's Existing Session messages are
/// unreadable to him, and after `reset_outbound` she reaches him again with a New Session.
#[test]
fn a_reset_session_reaches_a_restarted_peer() {
    let mut pair = Pair::established(9);
    let (a, b) = (pair.a(), pair.b());
    pair.bob = endpoint(2);
    let es = pair.alice_seals(b"lost");
    assert_eq!(es.kind, MessageKind::Existing);
    assert!(pair.bob.open(T0, &es.message).is_err());

    pair.alice.reset_outbound(&b);
    assert_eq!(pair.alice.next_kind(&b), MessageKind::NewSession);
    let ns = pair.alice_seals(b"again");
    let opened = pair.bob.open(T0, &ns.message).expect("a fresh New Session");
    assert_eq!(
        (opened.remote, opened.payload),
        (Some(a), b"again".to_vec())
    );
}
