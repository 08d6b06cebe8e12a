//! Sessions that outlive their tag sets (the DH ratchet), ACK requests, and the
//! Elligator2-encoded handshake keys, end to end between two endpoints.

use super::tests::{after, Pair, T0};
use super::*;
use crate::crypto::elligator2;
use crate::garlic::payload::{emit_payload, parse_payload, Block};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::time::Duration;

/// A payload as the client builds them: blocks, here one of padding whose length tells
/// the messages apart.
fn payload(i: usize) -> Vec<u8> {
    emit_payload(&[Block::Padding((i % 1000) as u16)]).expect("padding emits")
}

/// An established pair whose tag sets start a NextKey exchange after `at` messages.
fn ratcheting(seed: u64, at: u16) -> Pair {
    let mut pair = Pair::new(seed);
    pair.alice.set_ratchet_at(at);
    pair.bob.set_ratchet_at(at);
    pair.handshake();
    pair
}

#[test]
fn a_session_crosses_many_tag_sets_both_ways() {
    let mut pair = ratcheting(20, 8);
    let mut highest = (0, 0);
    for i in 0..300 {
        let es = pair.alice_seals(&payload(i));
        let opened = pair.bob.open(T0, &es.message).expect("alice to bob");
        assert_eq!(
            opened.payload,
            payload(i),
            "the ratchet's blocks are taken out"
        );
        assert_eq!(opened.number, es.number);
        let es = pair.bob_seals(&payload(i));
        let opened = pair.alice.open(T0, &es.message).expect("bob to alice");
        assert_eq!(opened.payload, payload(i));
        assert_eq!(opened.number, es.number);
        highest.1 = es.number.expect("ES").tag_set;
    }
    highest.0 = pair.alice_seals(&payload(0)).number.expect("ES").tag_set;
    // About 10 messages per tag set: 8, then the round trip of the exchange.
    assert!(highest.0 >= 20 && highest.1 >= 20, "{highest:?}");
    // Old tag sets go 3 minutes after their successors' first messages; the current
    // ones and the previous ones stay.
    pair.bob.expire(after(4 * 60));
    assert!(pair.bob.counts().0 <= 4, "{:?}", pair.bob.counts());
    let es = pair.alice_seals(&payload(1));
    assert!(pair.bob.open(after(4 * 60), &es.message).is_ok());
}

#[test]
fn one_way_traffic_ratchets_with_empty_answers() {
    // Alice only sends; Bob answers her NextKey blocks with empty messages when told to.
    let mut pair = ratcheting(21, 4);
    let a = pair.a();
    let mut now = T0;
    for i in 0..60 {
        now += Duration::from_millis(300);
        let es = pair
            .alice
            .seal(&mut pair.rng, now, &pair.bob.public_key(), &payload(i));
        let es = es.expect("alice seals");
        pair.bob.open(now, &es.message).expect("bob opens");
        if let Some(at) = pair.bob.next_response_at() {
            assert!(at > now, "owed since this message at the earliest");
            if at <= now + Duration::from_millis(300) {
                assert_eq!(pair.bob.owed_responses(at), vec![a]);
                let empty = pair
                    .bob
                    .seal(&mut pair.rng, at, &a, &[])
                    .expect("bob seals");
                let opened = pair.alice.open(at, &empty.message).expect("alice opens");
                assert!(opened.payload.is_empty());
                assert_eq!(pair.bob.next_response_at(), None);
            }
        }
    }
    let last = pair.alice_seals(&payload(0)).number.expect("ES");
    assert!(last.tag_set >= 5, "{last:?}");
}

#[test]
fn ack_requests_are_answered() {
    let mut pair = ratcheting(22, 4096);
    let a = pair.a();
    let request = emit_payload(&[Block::AckRequest, Block::Padding(3)]).expect("emits");
    let es = pair.alice_seals(&request);
    let opened = pair.bob.open(T0, &es.message).expect("bob opens");
    assert_eq!(
        parse_payload(&opened.payload).expect("parses"),
        vec![Block::Padding(3)],
        "the request is the ratchet's"
    );
    assert!(pair.bob.owed_responses(T0).is_empty(), "not yet due");
    assert_eq!(pair.bob.next_response_at(), Some(after(1)));
    assert_eq!(pair.bob.owed_responses(after(1)), vec![a]);
    // Bob's next message carries the ACK, whatever its payload.
    let reply = pair.bob_seals(&payload(7));
    let opened = pair.alice.open(T0, &reply.message).expect("alice opens");
    assert_eq!(opened.acked, vec![es.number.expect("ES")]);
    assert_eq!(opened.payload, payload(7));
    assert_eq!(pair.bob.next_response_at(), None);
    // Once only.
    let again = pair.bob_seals(&payload(8));
    assert!(pair
        .alice
        .open(T0, &again.message)
        .expect("opens")
        .acked
        .is_empty());
}

#[test]
fn owed_acks_are_bounded() {
    let mut pair = ratcheting(23, 4096);
    let request = emit_payload(&[Block::AckRequest]).expect("emits");
    let sent: Vec<Sealed> = (0..40).map(|_| pair.alice_seals(&request)).collect();
    for es in &sent {
        pair.bob.open(T0, &es.message).expect("opens");
    }
    let reply = pair.bob_seals(&[]);
    let acked = pair.alice.open(T0, &reply.message).expect("opens").acked;
    let newest: Vec<MessageNumber> = sent[24..].iter().filter_map(|s| s.number).collect();
    assert_eq!(acked, newest);
}

/// Both directions ratchet every few messages while a lossy, reordering link drops a
/// fifth of the messages and holds back another fifth: every message that arrives opens
/// once, with its payload, and never twice.
fn lossy_ratchet(seed: u64) -> Result<(u16, u16), String> {
    let mut pair = ratcheting(seed, 6);
    let mut link = ChaCha20Rng::seed_from_u64(seed ^ 0x5eed);
    let keys = [pair.a(), pair.b()];
    // Held back: (to, payload index, message).
    let mut held: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    let mut opened: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut highest = [0u16; 2];
    for i in 0..400 {
        let from = link.gen_range(0..2usize);
        let (sender, receiver) = if from == 0 {
            (&mut pair.alice, &mut pair.bob)
        } else {
            (&mut pair.bob, &mut pair.alice)
        };
        let sealed = sender
            .seal(&mut pair.rng, T0, &keys[1 - from], &payload(i))
            .map_err(|e| format!("seal {i}: {e:?}"))?;
        let number = sealed.number.ok_or(format!("message {i} is no ES"))?;
        highest[from] = highest[from].max(number.tag_set);
        match link.gen_range(0..5) {
            0 => {}
            1 => held.push((1 - from, i, sealed.message)),
            _ => {
                let got = receiver
                    .open(T0, &sealed.message)
                    .map_err(|e| format!("message {i} ({number:?}): {e:?}"))?;
                if got.payload != payload(i) {
                    return Err(format!("message {i}: payload changed"));
                }
                opened.push((1 - from, sealed.message));
            }
        }
        // Now and then, the held-back messages arrive, newest first.
        if link.gen_range(0..8) == 0 {
            while let Some((to, j, message)) = held.pop() {
                let end = if to == 0 {
                    &mut pair.alice
                } else {
                    &mut pair.bob
                };
                let got = end
                    .open(T0, &message)
                    .map_err(|e| format!("held message {j}: {e:?}"))?;
                if got.payload != payload(j) {
                    return Err(format!("held message {j}: payload changed"));
                }
                opened.push((to, message));
            }
        }
    }
    for (to, message) in &opened {
        let end = if *to == 0 {
            &mut pair.alice
        } else {
            &mut pair.bob
        };
        if end.open(T0, message) != Err(RatchetError::Undecryptable) {
            return Err("a replay opened".into());
        }
    }
    Ok((highest[0], highest[1]))
}

#[test]
fn rotations_survive_loss_and_reordering_and_still_refuse_replays() {
    for seed in 0..12 {
        let (a, b) = lossy_ratchet(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(a >= 5 && b >= 5, "seed {seed}: tag sets {a} and {b}");
    }
}

#[test]
fn handshake_keys_look_random_and_are_elligator2_encoded() {
    let mut pair = Pair::new(24);
    let ns = pair.alice_seals(b"hi");
    let key: [u8; 32] = ns.message[..32].try_into().expect("32 bytes");
    assert!(elligator2::public_key(&key).is_some());
    pair.bob.open(T0, &ns.message).expect("NS");
    let nsr = pair.bob_seals(b"ho");
    let key: [u8; 32] = nsr.message[8..40].try_into().expect("32 bytes");
    assert!(elligator2::public_key(&key).is_some());
    // Over many keys, the top two bits take all four values.
    let mut seen = [false; 4];
    for _ in 0..32 {
        let ns = pair.alice_seals(b"again");
        seen[usize::from(ns.message[31] >> 6)] = true;
    }
    assert_eq!(seen, [true; 4]);
}

#[test]
fn a_new_session_re_encoded_is_still_a_replay() {
    let mut pair = Pair::new(25);
    let ns = pair.alice_seals(b"once");
    pair.bob.open(T0, &ns.message).expect("NS");
    let encoded: [u8; 32] = ns.message[..32].try_into().expect("32 bytes");
    let public = elligator2::public_key(&encoded).expect("decodes");
    // Other top bits, and the point's other representative: the same key each time.
    let mut variants = Vec::new();
    for bits in [0x00, 0x40, 0x80, 0xc0] {
        for alternative in [false, true] {
            let mut rep = elligator2::representative(&public, alternative).expect("encodable");
            rep[31] |= bits;
            if rep != encoded {
                variants.push(rep);
            }
        }
    }
    assert_eq!(variants.len(), 7);
    for rep in variants {
        let mut replay = ns.message.clone();
        replay[..32].copy_from_slice(&rep);
        assert_eq!(pair.bob.open(T0, &replay), Err(RatchetError::Replayed));
    }
}

/// A New Session and its reply are answered alone too, so one-way traffic leaves the
/// costly New Sessions after a round trip: Bob's reply, then Alice's first Existing
/// Session (which tells Bob which reply she took).
#[test]
fn new_sessions_and_replies_are_answered_alone() {
    let mut pair = Pair::new(24);
    let (a, b) = (pair.a(), pair.b());
    let ns = pair.alice_seals(&payload(1));
    assert_eq!(ns.kind, MessageKind::NewSession);
    pair.bob.open(T0, &ns.message).expect("bob opens");
    assert_eq!(
        pair.alice.next_response_at(),
        None,
        "Alice owes nothing yet"
    );
    assert_eq!(pair.bob.next_response_at(), Some(after(1)));
    assert_eq!(pair.bob.owed_responses(after(1)), vec![a]);
    let nsr = pair
        .bob
        .seal(&mut pair.rng, after(1), &a, &[])
        .expect("seals");
    assert_eq!(nsr.kind, MessageKind::NewSessionReply);
    assert_eq!(
        pair.bob.next_response_at(),
        None,
        "the reply was the answer"
    );

    let opened = pair
        .alice
        .open(after(1), &nsr.message)
        .expect("alice opens");
    assert!(opened.payload.is_empty());
    assert_eq!(pair.alice.next_response_at(), Some(after(2)));
    let es = pair
        .alice
        .seal(&mut pair.rng, after(2), &b, &[])
        .expect("seals");
    assert_eq!(es.kind, MessageKind::Existing);
    assert_eq!(pair.alice.next_response_at(), None);
    pair.bob.open(after(2), &es.message).expect("bob opens");
    assert_eq!(pair.bob.next_kind(&a), MessageKind::Existing, "established");
    assert_eq!(pair.bob.next_response_at(), None);
}

#[test]
fn a_response_given_up_is_no_longer_due() {
    let mut pair = Pair::new(25);
    let a = pair.a();
    let ns = pair.alice_seals(&payload(1));
    pair.bob.open(T0, &ns.message).expect("bob opens");
    assert!(pair.bob.next_response_at().is_some());
    pair.bob.forgo_response(&a);
    assert_eq!(pair.bob.next_response_at(), None);
}
