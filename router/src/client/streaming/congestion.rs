//! The congestion window, in packets (the streaming API page: "Windowing and
//! acknowledgments use packet count, not byte count"): slow start below the threshold,
//! congestion avoidance above it, halved on a fast retransmit and dropped to the minimum
//! on a timeout, at most once per window of data (a loss of a packet sent before the
//! last cut is the same congestion event).

use super::StreamConfig;

#[derive(Debug, Clone)]
pub(crate) struct Congestion {
    window: u32,
    threshold: u32,
    /// ACKed packets not yet turned into window growth.
    credit: u32,
    /// Losses of packets below this sequence number belong to the last cut.
    recovery_until: u32,
    min: u32,
    max: u32,
    slow_start_factor: u32,
    avoidance_factor: u32,
}

impl Congestion {
    pub(crate) fn new(config: &StreamConfig) -> Self {
        let min = config.min_window.max(1);
        let max = config.max_window.max(min);
        Self {
            window: config.initial_window.clamp(min, max),
            threshold: max,
            credit: 0,
            recovery_until: 0,
            min,
            max,
            slow_start_factor: config.slow_start_growth_factor.max(1),
            avoidance_factor: config.congestion_avoidance_growth_factor.max(1),
        }
    }

    pub(crate) fn window(&self) -> u32 {
        self.window
    }

    pub(crate) fn in_slow_start(&self) -> bool {
        self.window < self.threshold
    }

    /// Grows the window for `acked` newly acknowledged packets.
    pub(crate) fn on_ack(&mut self, acked: u32) {
        for _ in 0..acked {
            self.credit += 1;
            let needed = if self.in_slow_start() {
                self.slow_start_factor
            } else {
                self.window.saturating_mul(self.avoidance_factor)
            };
            if self.credit >= needed {
                self.credit = 0;
                self.window = (self.window + 1).min(self.max);
            }
        }
    }

    /// A packet `seq` was lost and fast-retransmitted; `next_seq` is the next new
    /// sequence number. Halves the window unless this loss is part of the last cut.
    pub(crate) fn on_loss(&mut self, seq: u32, next_seq: u32) {
        if seq < self.recovery_until {
            return;
        }
        self.threshold = (self.window / 2).max(self.min);
        self.window = self.threshold;
        self.credit = 0;
        self.recovery_until = next_seq;
    }

    /// The retransmission timer fired: back to the minimum, slow start to half.
    pub(crate) fn on_timeout(&mut self, next_seq: u32) {
        self.threshold = (self.window / 2).max(self.min.max(2));
        self.window = self.min;
        self.credit = 0;
        self.recovery_until = next_seq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_then_avoidance_then_cuts() {
        let config = StreamConfig::default();
        let mut cc = Congestion::new(&config);
        assert_eq!(cc.window(), 6);
        // Slow start: one packet per ACKed packet.
        cc.on_ack(10);
        assert_eq!(cc.window(), 16);
        // A loss halves it once; a second loss from the same flight does not.
        cc.on_loss(20, 40);
        assert_eq!(cc.window(), 8);
        cc.on_loss(30, 41);
        assert_eq!(cc.window(), 8);
        // Avoidance: one packet per window of ACKs.
        assert!(!cc.in_slow_start());
        cc.on_ack(7);
        assert_eq!(cc.window(), 8);
        cc.on_ack(1);
        assert_eq!(cc.window(), 9);
        // A later loss cuts again; a timeout goes to the minimum.
        cc.on_loss(45, 60);
        assert_eq!(cc.window(), 4);
        cc.on_timeout(61);
        assert_eq!(cc.window(), 1);
        assert!(cc.in_slow_start());
        // Never above the maximum.
        cc.on_ack(10_000);
        assert_eq!(cc.window(), 128);
    }
}
