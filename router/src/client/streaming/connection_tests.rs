//! A connection alone: packets handed across by hand, so each test decides exactly
//! what is lost and when.

use super::*;
use crate::client::streaming::CHOKE_DELAY_MS;

const T0: Instant = Instant::from_secs(1_800_000_000);
const RTT: Duration = Duration::from_millis(200);

fn pair(config: StreamConfig) -> (Connection, Connection, Instant) {
    let mut a = Connection::connect(T0, config.clone(), 11, Ports::default());
    let syn = a.poll_transmit(T0).expect("the SYN");
    assert!(syn.is_syn() && syn.flags.contains(Flags::NO_ACK));
    let now = T0 + RTT / 2;
    let mut b = Connection::accept(now, config, 22, Ports::default(), syn);
    assert_eq!(b.poll_event(), Some(StreamEvent::Connected));
    // A's SYN was bare (A waits for us): B's goes at once.
    let reply = b.poll_transmit(now).expect("B's SYN");
    assert!(reply.is_syn() && reply.carries_ack() && reply.ack_through == 0);
    let now = now + RTT / 2;
    a.handle_packet(now, reply);
    assert_eq!(a.poll_event(), Some(StreamEvent::Connected));
    assert_eq!((a.remote_id(), b.remote_id()), (22, 11));
    (a, b, now)
}

fn drain(c: &mut Connection, now: Instant) -> Vec<Packet> {
    std::iter::from_fn(|| c.poll_transmit(now)).collect()
}

#[test]
fn first_rtt_sample_sets_the_rto() {
    let (a, _, _) = pair(StreamConfig::default());
    // SYN to SYN reply took the RTT: B answered a bare SYN at once.
    assert_eq!(a.srtt(), Some(RTT));
    assert_eq!(a.rto(), RTT * 3);
}

#[test]
fn two_nacks_fast_retransmit_the_hole() {
    let (mut a, mut b, mut now) = pair(StreamConfig::default());
    a.write(&vec![7u8; 5 * 1730]);
    let sent = drain(&mut a, now);
    assert_eq!(sent.len(), 5);
    assert_eq!(
        sent.iter().map(|p| p.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    now += Duration::from_secs(2);
    // Packet 2 is lost; each later one makes B NACK it at once.
    let mut acks = Vec::new();
    for packet in sent.into_iter().filter(|p| p.seq != 2) {
        b.handle_packet(now, packet);
        acks.extend(drain(&mut b, now));
    }
    assert!(acks.len() >= 3);
    assert!(acks
        .iter()
        .skip(1)
        .all(|p| p.nacks == [2] && p.ack_through >= 3));
    for ack in acks {
        a.handle_packet(now, ack);
    }
    let resent = drain(&mut a, now);
    assert_eq!(resent.iter().map(|p| p.seq).collect::<Vec<_>>(), [2]);
    assert_eq!(a.stats().fast_retransmits, 1);
    assert!(a.window() < 6 + 4, "the window was cut");
    b.handle_packet(now, resent[0].clone());
    let mut buf = vec![0u8; 10_000];
    assert_eq!(b.read(&mut buf), 5 * 1730);
}

#[test]
fn timeout_resends_the_oldest_and_backs_off() {
    let (mut a, _, now) = pair(StreamConfig::default());
    a.write(b"lost");
    let first = drain(&mut a, now);
    assert_eq!(first.len(), 1);
    let rto = a.rto();
    let deadline = a.poll_timeout().expect("RTO armed");
    assert_eq!(deadline, now + rto);
    a.handle_timeout(deadline);
    let resent = drain(&mut a, deadline);
    assert_eq!(resent.len(), 1);
    assert_eq!(
        (resent[0].seq, &resent[0].payload),
        (first[0].seq, &first[0].payload)
    );
    assert_eq!(a.rto(), (rto * 2).min(Duration::from_secs(45)));
    assert_eq!(a.window(), 1);
    assert_eq!(a.stats().timeouts, 1);
}

/// Five packets die in a dead tunnel. The timer resends the first; once its ACK comes,
/// the rest go again as the reopening window allows, not one per doubled timeout.
#[test]
fn after_a_timeout_an_ack_resends_what_was_lost_with_the_oldest() {
    let (mut a, mut b, now) = pair(StreamConfig::default());
    a.write(&vec![3u8; 5 * 1730]);
    let lost = drain(&mut a, now);
    assert_eq!(lost.len(), 5);
    let deadline = a.poll_timeout().expect("RTO armed");
    a.handle_timeout(deadline);
    let resent = drain(&mut a, deadline);
    assert_eq!(resent.iter().map(|p| p.seq).collect::<Vec<_>>(), [1]);

    let mut now = deadline + RTT / 2;
    b.handle_packet(now, resent[0].clone());
    let mut order = vec![1];
    for _ in 0..4 {
        // B acknowledges once its ACK delay is over.
        now += Duration::from_secs(2);
        let acks = drain(&mut b, now);
        now += RTT / 2;
        for ack in acks {
            a.handle_packet(now, ack);
        }
        let again = drain(&mut a, now);
        assert!(!again.is_empty(), "each ACK sends more of what was lost");
        now += RTT / 2;
        for packet in again {
            order.push(packet.seq);
            b.handle_packet(now, packet);
        }
        if order.len() == 5 {
            break;
        }
    }
    assert_eq!(order, [1, 2, 3, 4, 5]);
    assert_eq!(a.stats().timeouts, 1, "no further timeout");
    let mut buf = vec![0u8; 10_000];
    assert_eq!(b.read(&mut buf), 5 * 1730);
}

#[test]
fn slow_start_opens_the_window() {
    let (mut a, mut b, mut now) = pair(StreamConfig {
        send_buffer: 1 << 20,
        ..StreamConfig::default()
    });
    a.write(&vec![1u8; 60 * 1730]);
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let sent = drain(&mut a, now);
        rounds.push(sent.len());
        now += RTT / 2;
        for packet in sent {
            b.handle_packet(now, packet);
        }
        let mut buf = vec![0u8; 1 << 20];
        b.read(&mut buf);
        // The last packet of a full window asks for an immediate ACK.
        let acks = drain(&mut b, now);
        assert_eq!(acks.len(), 1);
        now += RTT / 2;
        for ack in acks {
            a.handle_packet(now, ack);
        }
    }
    // The ACK of our SYN already grew the initial 6 to 7.
    assert_eq!(rounds, [7, 14, 28]);
}

#[test]
fn a_choke_stops_new_data_until_an_unchoke() {
    let (mut a, _, now) = pair(StreamConfig::default());
    let choke = Packet {
        send_stream_id: 11,
        recv_stream_id: 22,
        ack_through: 0,
        options: super::super::Options {
            delay_requested: Some(CHOKE_DELAY_MS),
            ..Default::default()
        },
        ..Packet::default()
    };
    a.handle_packet(now, choke.clone());
    assert!(a.is_choked());
    a.write(b"waiting");
    assert!(drain(&mut a, now).is_empty());
    // The persist timer lets one probe out.
    let probe_at = a.poll_timeout().expect("probe timer");
    a.handle_timeout(probe_at);
    assert_eq!(drain(&mut a, probe_at).len(), 1);
    let mut unchoke = choke;
    unchoke.options.delay_requested = Some(0);
    a.handle_packet(probe_at, unchoke);
    assert!(!a.is_choked());
}

#[test]
fn peer_reset_and_data_after_close() {
    let (mut a, mut b, now) = pair(StreamConfig::default());
    a.write(b"bye");
    a.close();
    assert_eq!(a.write(b"more"), 0, "nothing after close");
    let sent = drain(&mut a, now);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].is_close() && sent[0].payload == b"bye");
    b.handle_packet(now, sent[0].clone());
    assert_eq!(b.poll_event(), Some(StreamEvent::Readable));
    assert_eq!(b.poll_event(), Some(StreamEvent::PeerClosed));
    b.reset();
    let reset = drain(&mut b, now);
    assert_eq!(reset.len(), 1);
    assert!(reset[0].is_reset() && reset[0].send_stream_id == 11);
    a.handle_packet(now, reset[0].clone());
    assert_eq!(a.state(), State::Failed);
    assert_eq!(a.poll_event(), Some(StreamEvent::Reset { by_peer: true }));
    assert!(a.is_done() && a.poll_timeout().is_none());
}

#[test]
fn a_close_acknowledged_past_a_hole_waits_for_the_hole() {
    let (mut a, mut b, mut now) = pair(StreamConfig::default());
    a.write(&vec![3u8; 3 * 1730]);
    a.close();
    let sent = drain(&mut a, now);
    assert_eq!(
        sent.iter().map(|p| p.is_close()).collect::<Vec<_>>(),
        [false, false, true]
    );
    b.close();
    now += RTT / 2;
    let mut replies = Vec::new();
    for packet in sent.iter().filter(|p| p.seq != 1) {
        b.handle_packet(now, packet.clone());
        replies.extend(drain(&mut b, now));
    }
    assert!(replies.iter().any(|p| p.is_close()));
    now += RTT / 2;
    for reply in replies {
        a.handle_packet(now, reply);
    }
    // A's CLOSE (3) is acknowledged and B's arrived, but packet 1 is still missing.
    assert!(a.poll_event().is_some_and(|e| e == StreamEvent::PeerClosed));
    assert_eq!(a.state(), State::Open);
    // Timers run (a delayed ACK, then the RTO) until packet 1 goes again.
    let resent = loop {
        now = a.poll_timeout().expect("timers armed");
        a.handle_timeout(now);
        let out: Vec<Packet> = drain(&mut a, now)
            .into_iter()
            .filter(|p| p.seq == 1)
            .collect();
        if !out.is_empty() {
            break out;
        }
    };
    b.handle_packet(now, resent[0].clone());
    let mut acks = drain(&mut b, now);
    if acks.is_empty() {
        now = b.poll_timeout().expect("the ack timer");
        b.handle_timeout(now);
        acks = drain(&mut b, now);
    }
    for ack in acks {
        a.handle_packet(now, ack);
    }
    assert!(matches!(a.state(), State::Lingering(_)));
    assert_eq!(a.poll_event(), Some(StreamEvent::Closed));
}
