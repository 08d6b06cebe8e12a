//! Two managers over the harness's link: whole streams, end to end, in virtual time.

use super::harness::{random_bytes, Harness, LinkConfig, Side, Verdict};
use super::manager::{ManagerConfig, ManagerEvent, Refusal, StreamId};
use super::packet::Flags;
use super::{InactivityAction, StreamConfig, StreamEvent, TimeoutKind};
use std::time::Duration;

const MIB: usize = 1 << 20;

fn config(stream: StreamConfig) -> ManagerConfig {
    ManagerConfig {
        stream,
        ..ManagerConfig::default()
    }
}

fn lossy_link() -> LinkConfig {
    LinkConfig {
        latency: Duration::from_millis(150),
        jitter: Duration::from_millis(60),
        loss: 0.05,
        reorder: 0.05,
    }
}

/// The only stream B accepted.
fn accepted(h: &Harness) -> StreamId {
    assert_eq!(h.b.accepted.len(), 1, "one stream accepted");
    h.b.accepted[0]
}

#[test]
fn a_mebibyte_each_way_at_once_survives_loss_and_reordering() {
    let mut h = Harness::pair(7, lossy_link(), config(StreamConfig::default()));
    let a_data = random_bytes(1, MIB);
    let b_data = random_bytes(2, MIB);
    let a_id = h.connect();
    h.a.send(a_id, a_data.clone(), true);
    assert!(h.run_until(Duration::from_secs(60), |h| !h.b.accepted.is_empty()));
    let b_id = accepted(&h);
    h.b.send(b_id, b_data.clone(), true);

    let finished = h.run_until(Duration::from_secs(3600), |h| {
        h.a.has_event(a_id, StreamEvent::Closed) && h.b.has_event(b_id, StreamEvent::Closed)
    });
    assert!(finished, "both sides closed within an hour of virtual time");
    assert!(
        h.a.received[&a_id] == b_data,
        "B's mebibyte arrived at A intact"
    );
    assert!(
        h.b.received[&b_id] == a_data,
        "A's mebibyte arrived at B intact"
    );
    assert!(h.link_stats.lost > 50 && h.link_stats.reordered > 50);
    for stats in [&h.a.stats[&a_id], &h.b.stats[&b_id]] {
        assert!(stats.retransmissions > 0, "losses were repaired: {stats:?}");
        assert!(stats.fast_retransmits > 0, "NACKs drove resends: {stats:?}");
        assert_eq!(stats.bytes_sent, MIB as u64);
    }
    assert!(h.a.errors.is_empty() && h.b.errors.is_empty());
    // Both streams are gone once closed and read.
    h.run_for(Duration::from_secs(120));
    assert!(h.a.manager.is_empty() && h.b.manager.is_empty());
}

#[test]
fn connect_accept_and_half_close_each_way() {
    let mut h = Harness::pair(1, LinkConfig::default(), config(StreamConfig::default()));
    let a_id = h.connect();
    h.a.send(a_id, b"request".to_vec(), true);
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.b.accepted
            .first()
            .is_some_and(|id| h.b.has_event(*id, StreamEvent::PeerClosed))
    }));
    let b_id = accepted(&h);
    assert_eq!(h.b.received[&b_id], b"request");
    // A has half-closed; B can still answer, and A still reads.
    assert!(!h.a.has_event(a_id, StreamEvent::Closed));
    h.b.send(b_id, b"response".to_vec(), false);
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.a.received.get(&a_id).is_some_and(|r| r == b"response")
    }));
    assert!(h.a.has_event(a_id, StreamEvent::Connected));
    assert!(!h.a.has_event(a_id, StreamEvent::PeerClosed));
    h.b.manager.close(b_id);
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.a.has_event(a_id, StreamEvent::Closed) && h.b.has_event(b_id, StreamEvent::Closed)
    }));
    assert!(h.a.has_event(a_id, StreamEvent::PeerClosed));
    // Both CLOSEs went signed (the manager checks), each acknowledged.
    for side in [Side::A, Side::B] {
        let closes = h.sent_by(side).filter(|p| p.is_close()).count();
        assert_eq!(closes, 1, "one CLOSE from {side:?} on a lossless link");
    }
    assert!(h.a.errors.is_empty() && h.b.errors.is_empty());
}

/// A bare SYN is answered at once (its sender waits for us, as SAM's STREAM CONNECT
/// does); a SYN with a request waits up to the ack delay for the answer to ride along.
#[test]
fn syn_ack_is_immediate_for_a_bare_syn_and_carries_the_first_answer_otherwise() {
    let stream = StreamConfig::default();
    let round_trip = 2 * LinkConfig::default().latency;
    let mut h = Harness::pair(4, LinkConfig::default(), config(stream.clone()));
    let start = h.now;
    let a_id = h.connect();
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.a.has_event(a_id, StreamEvent::Connected)
    }));
    assert!(
        h.now.saturating_duration_since(start) < round_trip + Duration::from_millis(50),
        "connected after {:?}, not after the {:?} ack delay",
        h.now.saturating_duration_since(start),
        stream.ack_delay
    );

    let mut h = Harness::pair(5, LinkConfig::default(), config(stream));
    let a_id = h.connect();
    h.a.send(a_id, b"GET /".to_vec(), false);
    assert!(h.run_until(Duration::from_secs(30), |h| !h.b.accepted.is_empty()));
    let b_id = accepted(&h);
    h.b.send(b_id, b"200 OK".to_vec(), false);
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.a.received.get(&a_id).is_some_and(|r| r == b"200 OK")
    }));
    let syn_ack = h.sent_by(Side::B).find(|p| p.is_syn()).expect("B's SYN");
    assert_eq!(syn_ack.payload, b"200 OK", "the answer rode in the SYN-ACK");
}

#[test]
fn reset_ends_both_sides() {
    let mut h = Harness::pair(2, LinkConfig::default(), config(StreamConfig::default()));
    let a_id = h.connect();
    h.a.send(a_id, b"x".to_vec(), false);
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.a.has_event(a_id, StreamEvent::Connected)
    }));
    let b_id = accepted(&h);
    h.a.manager.reset(a_id);
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.b.has_event(b_id, StreamEvent::Reset { by_peer: true })
    }));
    assert!(h.a.has_event(a_id, StreamEvent::Reset { by_peer: false }));
    assert_eq!(h.sent_by(Side::A).filter(|p| p.is_reset()).count(), 1);
    assert!(h.a.manager.is_empty() && h.b.manager.is_empty());
    assert!(h.b.errors.is_empty());
}

#[test]
fn connect_to_a_silent_peer_times_out() {
    let stream = StreamConfig {
        connect_timeout: Duration::from_secs(60),
        ..StreamConfig::default()
    };
    let mut h = Harness::pair(3, LinkConfig::default(), config(stream));
    h.silent = Some(Side::B);
    let a_id = h.connect();
    assert!(h.run_until(Duration::from_secs(600), |h| {
        h.a.has_event(a_id, StreamEvent::TimedOut(TimeoutKind::Connect))
    }));
    // Initial RTO 9 s, doubling: SYNs at 0, 9 and 27 s before the 60 s timeout.
    let syns: Vec<_> = h
        .trace
        .iter()
        .filter(|(_, s, p)| *s == Side::A && p.is_syn())
        .map(|(at, _, _)| at.saturating_duration_since(super::harness::T0).as_secs())
        .collect();
    assert_eq!(syns, vec![0, 9, 27]);
    assert!(!h.a.has_event(a_id, StreamEvent::Connected));
    assert!(h.a.manager.is_empty());
}

#[test]
fn retransmissions_give_up_with_a_reset() {
    let mut h = Harness::pair(4, LinkConfig::default(), config(StreamConfig::default()));
    let a_id = h.connect();
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.a.has_event(a_id, StreamEvent::Connected)
    }));
    h.silent = Some(Side::B);
    h.a.send(a_id, b"lost".to_vec(), false);
    assert!(h.run_until(Duration::from_secs(3600), |h| {
        h.a.has_event(a_id, StreamEvent::TimedOut(TimeoutKind::Retransmissions))
    }));
    assert_eq!(h.a.stats[&a_id].retransmissions, 8, "maxResends");
    assert!(h.sent_by(Side::A).last().is_some_and(|p| p.is_reset()));
}

#[test]
fn inactivity_sends_keepalives_or_disconnects() {
    let stream = StreamConfig {
        inactivity_timeout: Duration::from_secs(90),
        ..StreamConfig::default()
    };
    let mut h = Harness::pair(5, LinkConfig::default(), config(stream.clone()));
    let a_id = h.connect();
    h.a.send(a_id, b"hi".to_vec(), false);
    h.run_for(Duration::from_secs(10));
    let before = h.sent_by(Side::A).count();
    h.run_for(Duration::from_secs(600));
    let keepalives = h
        .sent_by(Side::A)
        .skip(before)
        .filter(|p| p.is_plain_ack())
        .count();
    assert!(
        keepalives >= 3,
        "a keepalive every 90 s or so, got {keepalives}"
    );
    assert_eq!(h.a.manager.len(), 1, "still open");

    let disconnect = StreamConfig {
        inactivity_action: InactivityAction::Disconnect,
        ..stream
    };
    let mut h = Harness::pair(5, LinkConfig::default(), config(disconnect));
    let a_id = h.connect();
    h.a.send(a_id, b"hi".to_vec(), false);
    assert!(h.run_until(Duration::from_secs(300), |h| {
        h.a.has_event(a_id, StreamEvent::TimedOut(TimeoutKind::Inactivity))
    }));
    let b_id = accepted(&h);
    let b_ended = |h: &Harness| {
        let b_events = h.b.stream_events(b_id);
        b_events.contains(&StreamEvent::TimedOut(TimeoutKind::Inactivity))
            || b_events.contains(&StreamEvent::Reset { by_peer: true })
    };
    assert!(h.run_until(Duration::from_secs(10), b_ended));
    assert!(h.now.saturating_duration_since(super::harness::T0) >= Duration::from_secs(90));
}

#[test]
fn a_receiver_that_does_not_read_chokes_the_sender() {
    let small = StreamConfig {
        receive_buffer: 16 * 1024,
        ..StreamConfig::default()
    };
    let link = LinkConfig {
        latency: Duration::from_millis(20),
        ..LinkConfig::default()
    };
    let mut h = Harness::new(
        6,
        link,
        config(StreamConfig::default()),
        ManagerConfig {
            listen: true,
            ..config(small)
        },
    );
    h.b.reading = false;
    let data = random_bytes(6, 200 * 1024);
    let a_id = h.connect();
    h.a.send(a_id, data.clone(), true);
    h.run_for(Duration::from_secs(60));
    let b_id = accepted(&h);
    let b = h.b.manager.connection(b_id).expect("open");
    assert!(b.is_choking());
    assert!(h.b.stats[&b_id].chokes_sent >= 1);
    assert!(h.a.stats[&a_id].chokes_received >= 1);
    assert!(h.a.manager.connection(a_id).is_some_and(|a| a.is_choked()));
    // While choked, A only probes: a few packets a minute, not a window's worth.
    let sent = h.a.stats[&a_id].packets_sent;
    h.run_for(Duration::from_secs(60));
    assert!(h.a.stats[&a_id].packets_sent - sent < 60);
    // Reading again unchokes, and everything arrives.
    h.b.reading = true;
    assert!(h.run_until(Duration::from_secs(600), |h| {
        h.b.received
            .get(&b_id)
            .is_some_and(|r| r.len() == data.len())
    }));
    assert!(h.b.received[&b_id] == data);
    assert!(h.b.errors.is_empty());
}

/// A sender whose window is larger than the receiver's buffer loses one packet: what
/// follows it fills the buffer, out of order. The lost packet's resend must still be
/// taken (it alone makes the rest readable) and the receiver must not stay choked on
/// bytes only the sender can release. Both held this stream forever before (seen with
/// i2pd as the sender, whose window grows past our buffer).
#[test]
fn a_hole_behind_a_full_buffer_is_still_filled() {
    let mtu = StreamConfig::default().max_message_size;
    let small = StreamConfig {
        receive_buffer: 16 * mtu,
        ..StreamConfig::default()
    };
    let wide = StreamConfig {
        initial_window: 64,
        ..StreamConfig::default()
    };
    let mut h = Harness::new(
        9,
        LinkConfig::default(),
        config(wide),
        ManagerConfig {
            listen: true,
            ..config(small)
        },
    );
    let mut dropped = false;
    h.filter = Some(Box::new(move |side, packet| {
        if side == Side::A && packet.seq == 3 && !packet.payload.is_empty() && !dropped {
            dropped = true;
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    }));
    let data = random_bytes(9, 64 * mtu);
    let a_id = h.connect();
    h.a.send(a_id, data.clone(), true);
    let arrived = h.run_until(Duration::from_secs(120), |h| {
        h.b.accepted
            .first()
            .and_then(|id| h.b.received.get(id))
            .is_some_and(|r| r.len() == data.len())
    });
    assert!(arrived, "the stream stalled behind its hole");
    let b_id = accepted(&h);
    assert!(h.b.received[&b_id] == data);
}

#[test]
fn data_rides_in_the_syn() {
    let mut h = Harness::pair(7, LinkConfig::default(), config(StreamConfig::default()));
    let a_id = h.connect();
    h.a.send(a_id, b"GET / HTTP/1.1\r\n\r\n".to_vec(), true);
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.b.accepted
            .first()
            .is_some_and(|id| h.b.has_event(*id, StreamEvent::PeerClosed))
    }));
    let first = h.sent_by(Side::A).next().expect("A sent");
    assert!(
        first.is_syn() && first.is_close(),
        "SYN, data and CLOSE in one"
    );
    assert!(first.flags.contains(Flags::NO_ACK));
    assert_eq!(first.payload, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(h.b.received[&accepted(&h)], b"GET / HTTP/1.1\r\n\r\n");
    // The reply's SYN carries the response too.
    let b_id = accepted(&h);
    h.b.send(b_id, b"HTTP/1.1 200 OK\r\n\r\n".to_vec(), true);
    assert!(h.run_until(Duration::from_secs(30), |h| {
        h.a.has_event(a_id, StreamEvent::Closed)
    }));
    let reply = h.sent_by(Side::B).next().expect("B sent");
    assert!(reply.is_syn() && !reply.payload.is_empty());
    assert_eq!(h.a.received[&a_id], b"HTTP/1.1 200 OK\r\n\r\n");
}

#[test]
fn packets_before_the_syn_are_kept_for_it() {
    let mut h = Harness::pair(8, LinkConfig::default(), config(StreamConfig::default()));
    // The SYN takes a second longer than what follows it.
    h.filter = Some(Box::new(|side, packet| {
        if side == Side::A && packet.is_syn() && packet.send_stream_id == 0 {
            Verdict::Delay(Duration::from_secs(1))
        } else {
            Verdict::Pass
        }
    }));
    let data = random_bytes(8, 4 * 1730);
    let a_id = h.connect();
    h.a.send(a_id, data.clone(), true);
    assert!(h.run_until(Duration::from_secs(60), |h| {
        h.a.has_event(a_id, StreamEvent::Connected)
    }));
    assert!(h.b.manager.stats().early_queued >= 2);
    assert_eq!(
        h.b.manager.stats().early_replayed,
        h.b.manager.stats().early_queued
    );
    let b_id = accepted(&h);
    assert!(h.run_until(Duration::from_secs(60), |h| {
        h.b.has_event(b_id, StreamEvent::PeerClosed)
    }));
    assert!(h.b.received[&b_id] == data);
    // Nothing had to be resent: the early packets were kept, not dropped.
    assert_eq!(h.a.stats[&a_id].retransmissions, 0);
}

#[test]
fn a_peer_over_its_limit_is_refused_with_a_reset() {
    let b = ManagerConfig {
        listen: true,
        max_streams_per_peer: 2,
        ..ManagerConfig::default()
    };
    let mut h = Harness::new(9, LinkConfig::default(), ManagerConfig::default(), b);
    let ids: Vec<StreamId> = (0..3).map(|_| h.connect()).collect();
    for id in &ids {
        h.a.send(*id, b"hello".to_vec(), false);
    }
    h.run_for(Duration::from_secs(30));
    let connected = ids
        .iter()
        .filter(|id| h.a.has_event(**id, StreamEvent::Connected))
        .count();
    let refused = ids
        .iter()
        .filter(|id| h.a.has_event(**id, StreamEvent::Reset { by_peer: true }))
        .count();
    assert_eq!((connected, refused), (2, 1));
    assert_eq!(h.b.accepted.len(), 2);
    assert!(h.b.events.contains(&ManagerEvent::Refused {
        from: h.a.manager.hash(),
        reason: Refusal::TooManyFromPeer
    }));
    assert_eq!(h.a.manager.len(), 2);
}

#[test]
fn a_rate_limit_refuses_too() {
    let b = ManagerConfig {
        listen: true,
        max_conns_per_minute: 1,
        ..ManagerConfig::default()
    };
    let mut h = Harness::new(10, LinkConfig::default(), ManagerConfig::default(), b);
    let first = h.connect();
    h.run_for(Duration::from_secs(5));
    let second = h.connect();
    h.run_for(Duration::from_secs(5));
    assert!(h.a.has_event(first, StreamEvent::Connected));
    assert!(h.a.has_event(second, StreamEvent::Reset { by_peer: true }));
    assert!(h.b.events.contains(&ManagerEvent::Refused {
        from: h.a.manager.hash(),
        reason: Refusal::RateLimited
    }));
    // A minute later the window has passed.
    h.run_for(Duration::from_secs(60));
    let third = h.connect();
    h.run_for(Duration::from_secs(5));
    assert!(h.a.has_event(third, StreamEvent::Connected));
}
