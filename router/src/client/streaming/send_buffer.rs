//! The sending half's data: bytes the application wrote and no packet carries yet
//! (bounded: `write` takes what fits), and the packets sent and not yet acknowledged,
//! kept until an ACK covers them so they can be resent as they were.

use super::packet::Flags;
use crate::time::Instant;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// A packet sent and not yet acknowledged.
#[derive(Debug, Clone)]
pub(crate) struct InFlight {
    pub(crate) payload: Vec<u8>,
    /// SYNCHRONIZE and CLOSE, which a resend must carry again.
    pub(crate) flags: Flags,
    pub(crate) last_sent: Instant,
    /// Resends that count towards `max_resends` (probes of a choked peer do not).
    pub(crate) resends: u32,
    /// Times it went out; only a packet sent once gives an RTT sample (Karn's rule).
    pub(crate) transmissions: u32,
    /// ACKs that NACKed it since it was last sent.
    pub(crate) nacks: u32,
}

/// What one ACK did to the packets in flight.
#[derive(Debug, Default)]
pub(crate) struct Acked {
    pub(crate) packets: u32,
    /// RTT of the latest-sent packet acknowledged that was never resent (Karn's rule).
    pub(crate) rtt_sample: Option<Duration>,
    pub(crate) syn: bool,
    pub(crate) close: bool,
    /// Packets this ACK NACKed that are still in flight.
    pub(crate) nacked: Vec<u32>,
}

#[derive(Debug)]
pub(crate) struct SendBuffer {
    unsent: VecDeque<u8>,
    capacity: usize,
    in_flight: BTreeMap<u32, InFlight>,
}

impl SendBuffer {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            unsent: VecDeque::new(),
            capacity,
            in_flight: BTreeMap::new(),
        }
    }

    /// Takes as much of `data` as fits; returns how much.
    pub(crate) fn write(&mut self, data: &[u8]) -> usize {
        let room = self.capacity.saturating_sub(self.unsent.len());
        let taken = room.min(data.len());
        self.unsent.extend(&data[..taken]);
        taken
    }

    pub(crate) fn unsent_len(&self) -> usize {
        self.unsent.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.unsent.len() >= self.capacity
    }

    /// The next up to `max` unsent bytes, for a new packet.
    pub(crate) fn take(&mut self, max: usize) -> Vec<u8> {
        let n = max.min(self.unsent.len());
        let mut out = Vec::with_capacity(n);
        let (front, back) = self.unsent.as_slices();
        let from_front = n.min(front.len());
        out.extend_from_slice(&front[..from_front]);
        out.extend_from_slice(&back[..n - from_front]);
        self.unsent.drain(..n);
        out
    }

    pub(crate) fn push_in_flight(&mut self, seq: u32, packet: InFlight) {
        self.in_flight.insert(seq, packet);
    }

    pub(crate) fn in_flight_len(&self) -> usize {
        self.in_flight.len()
    }

    pub(crate) fn in_flight_mut(&mut self, seq: u32) -> Option<&mut InFlight> {
        self.in_flight.get_mut(&seq)
    }

    /// Sequence numbers in flight with when each last went out.
    pub(crate) fn in_flight_seqs(&self) -> impl Iterator<Item = (u32, Instant)> + '_ {
        self.in_flight.iter().map(|(seq, p)| (*seq, p.last_sent))
    }

    /// The oldest packet in flight: the one a retransmission timeout resends.
    pub(crate) fn oldest_in_flight(&self) -> Option<(u32, &InFlight)> {
        self.in_flight.iter().next().map(|(seq, p)| (*seq, p))
    }

    /// Applies an ACK: every packet up to `ack_through` is delivered except the `nacks`,
    /// which are counted as NACKed once more.
    pub(crate) fn on_ack(&mut self, now: Instant, ack_through: u32, nacks: &[u32]) -> Acked {
        let mut nacks = nacks.to_vec();
        nacks.sort_unstable();
        let mut acked = Acked::default();
        let mut newest_sample: Option<(Instant, Duration)> = None;
        let covered: Vec<u32> = self
            .in_flight
            .range(..=ack_through)
            .map(|(s, _)| *s)
            .collect();
        for seq in covered {
            if nacks.binary_search(&seq).is_ok() {
                if let Some(packet) = self.in_flight.get_mut(&seq) {
                    packet.nacks += 1;
                    acked.nacked.push(seq);
                }
                continue;
            }
            let Some(packet) = self.in_flight.remove(&seq) else {
                continue;
            };
            acked.packets += 1;
            acked.syn |= packet.flags.contains(Flags::SYNCHRONIZE);
            acked.close |= packet.flags.contains(Flags::CLOSE);
            if packet.transmissions == 1
                && newest_sample.is_none_or(|(at, _)| packet.last_sent > at)
            {
                let rtt = now.saturating_duration_since(packet.last_sent);
                newest_sample = Some((packet.last_sent, rtt));
            }
        }
        acked.rtt_sample = newest_sample.map(|(_, rtt)| rtt);
        acked
    }

    /// Forgets everything, when the stream ends abnormally.
    pub(crate) fn clear(&mut self) {
        self.unsent.clear();
        self.in_flight.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(at_ms: u64, resends: u32) -> InFlight {
        InFlight {
            payload: vec![0; 10],
            flags: Flags::empty(),
            last_sent: Instant::from_millis(at_ms),
            resends,
            transmissions: resends + 1,
            nacks: 0,
        }
    }

    #[test]
    fn write_is_bounded_and_take_is_in_order() {
        let mut buf = SendBuffer::new(5);
        assert_eq!(buf.write(b"abc"), 3);
        assert_eq!(buf.write(b"defg"), 2);
        assert!(buf.is_full());
        assert_eq!(buf.take(4), b"abcd");
        assert_eq!(buf.write(b"xyz"), 3);
        assert_eq!(buf.take(100), b"exyz");
        assert_eq!(buf.unsent_len(), 0);
    }

    #[test]
    fn ack_removes_all_but_nacks_and_samples_fresh_packets() {
        let mut buf = SendBuffer::new(100);
        buf.push_in_flight(1, sent(100, 0));
        buf.push_in_flight(2, sent(200, 0));
        buf.push_in_flight(3, sent(300, 1));
        buf.push_in_flight(4, sent(400, 0));
        let acked = buf.on_ack(Instant::from_millis(1000), 3, &[2]);
        assert_eq!(acked.packets, 2);
        assert_eq!(acked.nacked, vec![2]);
        // Packet 3 was resent (Karn), so packet 1 gives the sample.
        assert_eq!(acked.rtt_sample, Some(Duration::from_millis(900)));
        assert_eq!(buf.in_flight_len(), 2);
        assert_eq!(buf.in_flight_mut(2).map(|p| p.nacks), Some(1));
        assert_eq!(buf.oldest_in_flight().map(|(s, _)| s), Some(2));
    }
}
