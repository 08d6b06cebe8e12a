//! Loss recovery of a [`Connection`]: the retransmission timer, the packets lost with
//! the one it resends, and the end of a choke.

use super::{Connection, StreamEvent, TimeoutKind};
use crate::time::Instant;
use std::time::Duration;

impl Connection {
    /// The retransmission timer fired (RFC 6298 5.4-5.6): resend the oldest packet,
    /// back off, collapse the window. For a choked peer this is the persist timer: the
    /// resend is a probe, not a loss.
    pub(super) fn on_rto(&mut self, now: Instant) {
        let Some((seq, packet)) = self.send.oldest_in_flight() else {
            self.rto_deadline = None;
            return;
        };
        if self.choked {
            self.retransmit.insert(seq);
            self.rto_deadline = Some(now + self.probe_interval());
            return;
        }
        if packet.resends >= self.config.max_resends {
            self.fail(StreamEvent::TimedOut(TimeoutKind::Retransmissions), true);
            return;
        }
        self.stats.timeouts += 1;
        self.retransmit.insert(seq);
        self.rtt.backoff();
        self.cc.on_timeout(self.next_seq);
        self.timed_out_at = Some(now);
        self.rto_deadline = Some(now + self.rtt.rto());
    }

    /// An ACK got through after a timeout. The timer resent only the oldest packet,
    /// but whatever was in flight with it was most likely lost too (a dead tunnel takes
    /// every packet it carries): resend those as the window allows, as TCP goes back
    /// to the first unacknowledged segment after a timeout (RFC 5681 3.1), rather
    /// than one packet per doubled timeout.
    pub(super) fn resend_after_timeout(&mut self) {
        let Some(timed_out_at) = self.timed_out_at else {
            return;
        };
        let (mut lost, mut resent) = (Vec::new(), 0u32);
        for (seq, last_sent) in self.send.in_flight_seqs() {
            if last_sent < timed_out_at {
                lost.push(seq);
            } else {
                resent += 1;
            }
        }
        if lost.is_empty() {
            self.timed_out_at = None;
            return;
        }
        let room = self.cc.window().saturating_sub(resent) as usize;
        self.retransmit.extend(lost.into_iter().take(room));
    }

    /// The choke is over. What this packet's ACK left unacknowledged, sent at least an
    /// RTT ago, was refused by the full receiver: send it again now rather than one
    /// packet per timeout.
    pub(super) fn on_unchoke(&mut self, now: Instant) {
        self.probes = 0;
        self.probe_deadline = None;
        let srtt = self.rtt.srtt().unwrap_or_else(|| self.rtt.rto());
        let refused = self
            .send
            .in_flight_seqs()
            .filter(|(_, last_sent)| now.saturating_duration_since(*last_sent) >= srtt)
            .map(|(seq, _)| seq);
        self.retransmit.extend(refused);
        if !self.retransmit.is_empty() {
            self.rto_deadline = Some(now + self.rtt.rto());
        }
    }

    /// The persist timer of a choked sender: the RTO, doubled for each probe so far.
    pub(super) fn probe_interval(&mut self) -> Duration {
        let factor = 1u32 << self.probes.min(16);
        self.probes += 1;
        (self.rtt.rto() * factor).min(self.config.max_rto)
    }
}
