//! The manager alone: SYNs, signatures, refusals and hostile bytes, one packet at a time.

use super::*;
use proptest::prelude::*;
use rand::SeedableRng;

const NOW: Instant = Instant::from_secs(1_800_000_000);

fn manager(seed: u8, listen: bool) -> StreamManager {
    let keys = DestinationKeys::from_secret_bytes(&[seed; 96]);
    let config = ManagerConfig {
        listen,
        ..ManagerConfig::default()
    };
    StreamManager::new(keys, config, ChaCha20Rng::seed_from_u64(u64::from(seed)))
}

fn syn_from(alice: &mut StreamManager, to: &StreamManager) -> Transmit {
    let id = alice
        .connect(NOW, to.destination().clone(), Ports { from: 1, to: 80 })
        .expect("no limits");
    alice.write(id, b"hello");
    alice.poll_transmit(NOW).expect("the SYN")
}

#[test]
fn syn_is_signed_names_the_recipient_and_opens_a_stream() {
    let (mut alice, mut bob) = (manager(1, false), manager(2, true));
    let syn = syn_from(&mut alice, &bob);
    assert_eq!(syn.to, bob.hash());
    let packet = Packet::parse(&syn.payload).expect("parses");
    assert!(packet.is_syn() && packet.options.signature.is_some());
    assert_eq!(packet.replay_hash(), Some(bob.hash()));
    assert_eq!(packet.payload, b"hello");
    bob.handle_packet(NOW, Some(alice.hash()), syn.ports, &syn.payload)
        .expect("valid SYN");
    let Some(ManagerEvent::Incoming { id, from, ports }) = bob.poll_event() else {
        panic!("an incoming stream");
    };
    assert_eq!((from, ports), (alice.hash(), Ports { from: 80, to: 1 }));
    assert_eq!(bob.accept(), Some(id));
    let mut buf = [0u8; 16];
    assert_eq!(bob.read(id, &mut buf), 5);
    assert_eq!(&buf[..5], b"hello");
}

#[test]
fn replayed_tampered_and_misattributed_syns_are_dropped() {
    let (mut alice, bob, mut carol) = (manager(1, false), manager(2, true), manager(3, true));
    let syn = syn_from(&mut alice, &bob);
    // Bob replays Alice's SYN to Carol.
    assert_eq!(
        carol.handle_packet(NOW, None, syn.ports, &syn.payload),
        Err(StreamingError::WrongRecipient)
    );
    // The session says it came from someone else.
    assert_eq!(
        carol.handle_packet(NOW, Some(bob.hash()), syn.ports, &syn.payload),
        Err(StreamingError::WrongSender)
    );
    let mut bob = bob;
    let mut tampered = syn.payload.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        bob.handle_packet(NOW, None, syn.ports, &tampered),
        Err(StreamingError::BadSignature)
    );
    assert!(bob.is_empty());
    assert_eq!(bob.stats().dropped, 1);
}

#[test]
fn a_closed_door_answers_with_a_signed_reset() {
    let (mut alice, mut bob) = (manager(1, false), manager(2, false));
    let syn = syn_from(&mut alice, &bob);
    bob.handle_packet(NOW, Some(alice.hash()), syn.ports, &syn.payload)
        .expect("valid SYN");
    assert_eq!(
        bob.poll_event(),
        Some(ManagerEvent::Refused {
            from: alice.hash(),
            reason: Refusal::NotListening
        })
    );
    let reset = bob.poll_transmit(NOW).expect("a RESET");
    assert_eq!(reset.to, alice.hash());
    alice
        .handle_packet(NOW, Some(bob.hash()), reset.ports, &reset.payload)
        .expect("signed by Bob");
    let events: Vec<_> = std::iter::from_fn(|| alice.poll_event()).collect();
    assert!(events.iter().any(|e| matches!(
        e,
        ManagerEvent::Stream {
            event: StreamEvent::Reset { by_peer: true },
            ..
        }
    )));
    assert!(alice.is_empty(), "a reset stream is forgotten");
}

#[test]
fn unsigned_close_is_dropped() {
    let (mut alice, mut bob) = (manager(1, false), manager(2, true));
    let syn = syn_from(&mut alice, &bob);
    bob.handle_packet(NOW, Some(alice.hash()), syn.ports, &syn.payload)
        .expect("valid SYN");
    let id = bob.accept().expect("accepted");
    let forged = Packet {
        send_stream_id: id.0,
        recv_stream_id: 1,
        seq: 1,
        flags: Flags::CLOSE | Flags::NO_ACK,
        ..Packet::default()
    };
    let bytes = forged.emit().expect("emits");
    assert_eq!(
        bob.handle_packet(NOW, None, syn.ports, &bytes),
        Err(StreamingError::Unsigned)
    );
    assert_eq!(
        bob.handle_packet(NOW, None, syn.ports, &[0; 3])
            .map_err(|_| ()),
        Err(())
    );
}

proptest! {
    /// Arbitrary bytes, aimed at a live stream, then a few timeouts: no panic, no
    /// endless output.
    #[test]
    fn random_packets_to_a_live_stream_are_harmless(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        flags in any::<u16>(),
    ) {
        let (mut alice, bob) = (manager(1, false), manager(2, true));
        let syn = syn_from(&mut alice, &bob);
        let id = Packet::parse(&syn.payload).expect("parses").recv_stream_id;
        let mut packet = bytes.clone();
        if packet.len() >= 22 {
            packet[..4].copy_from_slice(&id.to_be_bytes());
            packet[18..20].copy_from_slice(&flags.to_be_bytes());
        }
        let _ = alice.handle_packet(NOW, Some(bob.hash()), Ports::default(), &packet);
        let _ = alice.handle_packet(NOW, None, Ports::default(), &bytes);
        for step in 0..4u64 {
            let now = NOW + Duration::from_secs(20 * step);
            alice.handle_timeout(now);
            let sent = std::iter::from_fn(|| alice.poll_transmit(now)).take(100).count();
            prop_assert!(sent < 100);
            while alice.poll_event().is_some() {}
        }
    }
}
