//! The receiving half: reassembly of packets by sequence number into the byte stream
//! the application reads, bounded in bytes and in how far ahead a packet may be; and the
//! ACK fields that describe what arrived (ackThrough and the NACKed holes below it).
//!
//! The byte bound has two parts, because what waits on the application and what waits
//! on the sender are cured by different parties. The next expected packet is refused
//! only when the application has not read enough (`Full`: the connection chokes the
//! sender); it is never refused for the packets queued behind it, which only it can make
//! readable. A packet ahead of a hole is refused when everything held would pass the
//! capacity (`OutOfWindow`: the sender resends it once the hole is filled). Counting the
//! queued packets against the next expected one deadlocked a stream from i2pd: with a
//! buffer's worth queued behind a hole, the packet that filled it never fitted, and every
//! resend was refused. Held bytes stay below twice the capacity (the queued packets,
//! at most one capacity, join a readable part of at most one).

use std::collections::{BTreeMap, VecDeque};

/// The most NACKs one packet can carry (the count is one byte).
pub(crate) const MAX_NACKS: usize = 255;

/// What became of an arriving packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// It was the next expected; it and any queued packets after it are readable now.
    InOrder,
    /// Queued behind a hole.
    OutOfOrder,
    /// Already had it.
    Duplicate,
    /// The next expected packet, and the application has not read enough to take it.
    Full,
    /// Too far ahead of the next expected packet (in packets, or in bytes: no room
    /// beside what is held), or after the CLOSE.
    OutOfWindow,
}

#[derive(Debug)]
pub(crate) struct RecvBuffer {
    readable: VecDeque<u8>,
    out_of_order: BTreeMap<u32, (Vec<u8>, bool)>,
    out_of_order_bytes: usize,
    /// Every sequence number below this arrived.
    next_seq: u32,
    highest: Option<u32>,
    /// The sequence number of the peer's CLOSE, once it arrived (in order or not).
    close_seq: Option<u32>,
    capacity: usize,
    max_ahead: u32,
}

impl RecvBuffer {
    pub(crate) fn new(capacity: usize, max_ahead: u32) -> Self {
        Self {
            readable: VecDeque::new(),
            out_of_order: BTreeMap::new(),
            out_of_order_bytes: 0,
            next_seq: 0,
            highest: None,
            close_seq: None,
            capacity,
            max_ahead: max_ahead.max(1),
        }
    }

    /// Bytes held: readable and out of order.
    pub(crate) fn buffered(&self) -> usize {
        self.readable.len() + self.out_of_order_bytes
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn readable_len(&self) -> usize {
        self.readable.len()
    }

    /// Whether the peer's CLOSE has been reached in order: no more data will come.
    pub(crate) fn is_finished(&self) -> bool {
        self.close_seq.is_some_and(|close| close < self.next_seq)
    }

    /// Takes packet `seq`; `close` says it carries the CLOSE flag.
    pub(crate) fn insert(&mut self, seq: u32, payload: Vec<u8>, close: bool) -> Arrival {
        if seq < self.next_seq || self.out_of_order.contains_key(&seq) {
            return Arrival::Duplicate;
        }
        let after_close = self.close_seq.is_some_and(|c| seq > c);
        if after_close || seq - self.next_seq >= self.max_ahead {
            return Arrival::OutOfWindow;
        }
        if seq == self.next_seq {
            if self.readable.len() + payload.len() > self.capacity {
                return Arrival::Full;
            }
        } else if self.buffered() + payload.len() > self.capacity {
            return Arrival::OutOfWindow;
        }
        self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
        if close {
            self.close_seq = Some(seq);
        }
        if seq != self.next_seq {
            self.out_of_order_bytes += payload.len();
            self.out_of_order.insert(seq, (payload, close));
            return Arrival::OutOfOrder;
        }
        self.readable.extend(payload);
        self.next_seq = seq + 1;
        while let Some((payload, _)) = self.out_of_order.remove(&self.next_seq) {
            self.out_of_order_bytes -= payload.len();
            self.readable.extend(payload);
            self.next_seq += 1;
        }
        Arrival::InOrder
    }

    /// Moves readable bytes into `buf`; returns how many.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.readable.len());
        let (front, back) = self.readable.as_slices();
        let from_front = n.min(front.len());
        buf[..from_front].copy_from_slice(&front[..from_front]);
        buf[from_front..n].copy_from_slice(&back[..n - from_front]);
        self.readable.drain(..n);
        n
    }

    /// ackThrough and NACKs for what arrived, or `None` if nothing did. With more
    /// holes than a packet can NACK, ackThrough comes down to the highest received
    /// packet below the 256th hole, so that nothing missing is acknowledged.
    pub(crate) fn ack_fields(&self) -> Option<(u32, Vec<u32>)> {
        let highest = self.highest?;
        let mut nacks = Vec::new();
        let mut through = highest;
        for seq in self.next_seq..highest {
            if self.out_of_order.contains_key(&seq) {
                continue;
            }
            if nacks.len() == MAX_NACKS {
                let mut below = seq.checked_sub(1);
                while let Some(candidate) = below.filter(|c| nacks.last() == Some(c)) {
                    nacks.pop();
                    below = candidate.checked_sub(1);
                }
                // With no packet received below the holes, nothing can be acknowledged.
                through = below?;
                break;
            }
            nacks.push(seq);
        }
        Some((through, nacks))
    }

    /// The cumulative part only (no NACKs): everything below the first hole. What a SYN
    /// may carry, since a SYN's NACK field is for the replay hash.
    pub(crate) fn cumulative_ack(&self) -> Option<u32> {
        self.next_seq.checked_sub(1)
    }

    pub(crate) fn clear(&mut self) {
        self.readable.clear();
        self.out_of_order.clear();
        self.out_of_order_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_and_reports_holes() {
        let mut recv = RecvBuffer::new(1000, 64);
        assert_eq!(recv.ack_fields(), None);
        assert_eq!(recv.insert(0, b"ab".to_vec(), false), Arrival::InOrder);
        assert_eq!(recv.insert(2, b"ef".to_vec(), false), Arrival::OutOfOrder);
        assert_eq!(recv.insert(4, b"ij".to_vec(), true), Arrival::OutOfOrder);
        assert_eq!(recv.insert(2, b"ef".to_vec(), false), Arrival::Duplicate);
        assert_eq!(recv.ack_fields(), Some((4, vec![1, 3])));
        assert_eq!(recv.cumulative_ack(), Some(0));
        assert_eq!(recv.insert(5, b"zz".to_vec(), false), Arrival::OutOfWindow);
        assert_eq!(recv.insert(1, b"cd".to_vec(), false), Arrival::InOrder);
        assert!(!recv.is_finished());
        assert_eq!(recv.insert(3, b"gh".to_vec(), false), Arrival::InOrder);
        assert!(recv.is_finished());
        assert_eq!(recv.ack_fields(), Some((4, vec![])));
        let mut buf = [0u8; 7];
        assert_eq!(recv.read(&mut buf), 7);
        assert_eq!(&buf, b"abcdefg");
        assert_eq!(recv.read(&mut buf), 3);
        assert_eq!(recv.buffered(), 0);
    }

    #[test]
    fn bounded_in_bytes_and_distance() {
        let mut recv = RecvBuffer::new(10, 4);
        assert_eq!(recv.insert(0, vec![0; 6], false), Arrival::InOrder);
        assert_eq!(recv.insert(1, vec![0; 5], false), Arrival::Full);
        assert_eq!(recv.insert(1, vec![0; 4], false), Arrival::InOrder);
        assert_eq!(recv.insert(6, vec![], false), Arrival::OutOfWindow);
        assert_eq!(recv.insert(5, vec![], false), Arrival::OutOfOrder);
    }

    #[test]
    fn the_packet_that_fills_a_hole_is_never_refused_for_what_waits_behind_it() {
        let mut recv = RecvBuffer::new(10, 8);
        assert_eq!(recv.insert(1, vec![1; 5], false), Arrival::OutOfOrder);
        assert_eq!(recv.insert(2, vec![2; 5], false), Arrival::OutOfOrder);
        // Nothing more fits ahead of the hole...
        assert_eq!(recv.insert(3, vec![3; 1], false), Arrival::OutOfWindow);
        // ...but the hole's own packet does: only it can make the rest readable.
        assert_eq!(recv.insert(0, vec![0; 5], false), Arrival::InOrder);
        assert_eq!(recv.buffered(), 15);
        // Now the application is behind: the next packet waits for it to read.
        assert_eq!(recv.insert(3, vec![3; 1], false), Arrival::Full);
        let mut buf = [0u8; 15];
        assert_eq!(recv.read(&mut buf), 15);
        assert_eq!(recv.insert(3, vec![3; 1], false), Arrival::InOrder);
    }

    #[test]
    fn never_nacks_more_than_a_packet_holds() {
        let mut recv = RecvBuffer::new(1 << 20, 1000);
        recv.insert(0, vec![], false);
        // Every other packet up to 700 arrives: holes at 1, 3, 5, ...
        for seq in (2..700).step_by(2) {
            recv.insert(seq, vec![], false);
        }
        let (through, nacks) = recv.ack_fields().expect("received");
        assert_eq!(nacks.len(), MAX_NACKS);
        assert!(nacks.iter().all(|n| *n < through));
        assert_eq!(through, 510);
        // With runs of holes, ackThrough lands on a received packet.
        let mut recv = RecvBuffer::new(1 << 20, 1000);
        recv.insert(0, vec![], false);
        recv.insert(300, vec![], false);
        let (through, nacks) = recv.ack_fields().expect("received");
        assert_eq!((through, nacks.len()), (0, 0));
    }
}
