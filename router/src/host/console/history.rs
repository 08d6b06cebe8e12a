//! Bandwidth over time, kept by the router task: rates over the last ten seconds for
//! the numbers, and one ten-second sample per slot over the last hour for the chart.

use crate::host::status::BandwidthSample;
use crate::time::Instant;
use std::collections::VecDeque;
use std::time::Duration;

/// The window rates are averaged over, and the chart's sample interval.
pub const SAMPLE: Duration = Duration::from_secs(10);
/// Samples kept: an hour of them.
pub const SAMPLES: usize = 360;

/// Traffic totals as the router task reads them, once a second.
#[derive(Debug)]
pub struct Bandwidth {
    started: Instant,
    /// `(when, total in, total out)`, covering at least the last [`SAMPLE`].
    recent: VecDeque<(Instant, u64, u64)>,
    /// The totals at the end of the last sample.
    sampled: (Instant, u64, u64),
    samples: VecDeque<BandwidthSample>,
}

impl Bandwidth {
    pub fn new(now: Instant) -> Bandwidth {
        Bandwidth {
            started: now,
            recent: VecDeque::from([(now, 0, 0)]),
            sampled: (now, 0, 0),
            samples: VecDeque::new(),
        }
    }

    /// Records the totals at `now`; returns the rates (bytes per second, in and out)
    /// over the last ten seconds, or since start when that is shorter.
    pub fn record(&mut self, now: Instant, total_in: u64, total_out: u64) -> (u64, u64) {
        self.recent.push_back((now, total_in, total_out));
        // Keep the newest entry that is at least SAMPLE old as the window's start.
        while self
            .recent
            .get(1)
            .is_some_and(|(at, _, _)| now.saturating_duration_since(*at) >= SAMPLE)
        {
            self.recent.pop_front();
        }
        let rates = rate(self.recent.front().copied(), (now, total_in, total_out));
        let (at, _, _) = self.sampled;
        if now.saturating_duration_since(at) >= SAMPLE {
            let (in_bps, out_bps) = rate(Some(self.sampled), (now, total_in, total_out));
            let uptime_secs = now.saturating_duration_since(self.started).as_secs();
            self.samples.push_back(BandwidthSample {
                uptime_secs,
                in_bps,
                out_bps,
            });
            if self.samples.len() > SAMPLES {
                self.samples.pop_front();
            }
            self.sampled = (now, total_in, total_out);
        }
        rates
    }

    /// The samples, oldest first.
    pub fn history(&self) -> Vec<BandwidthSample> {
        self.samples.iter().copied().collect()
    }
}

fn rate(from: Option<(Instant, u64, u64)>, to: (Instant, u64, u64)) -> (u64, u64) {
    let Some((at, i, o)) = from else {
        return (0, 0);
    };
    let secs = to.0.saturating_duration_since(at).as_secs_f64();
    if secs < 0.5 {
        return (0, 0);
    }
    let per_sec = |now: u64, then: u64| (now.saturating_sub(then) as f64 / secs).round() as u64;
    (per_sec(to.1, i), per_sec(to.2, o))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bursty traffic (all of it in one second of ten) still reads as a rate, and a
    /// burst of catch-up refreshes a moment apart does not zero it (what made the old
    /// per-refresh rate read 0 while traffic flowed).
    #[test]
    fn rates_over_ten_seconds() {
        let t0 = Instant::from_secs(1000);
        let mut b = Bandwidth::new(t0);
        let mut total = 0;
        let mut last = (0, 0);
        for s in 1..=30 {
            if s % 10 == 5 {
                total += 10_000;
            }
            last = b.record(t0 + Duration::from_secs(s), total, total / 2);
        }
        assert_eq!(last, (1000, 500));
        let again = b.record(t0 + Duration::from_millis(30_001), total, total / 2);
        assert_eq!(again, (1000, 500));
        let history = b.history();
        assert_eq!(history.len(), 3);
        assert_eq!(history[0].uptime_secs, 10);
        assert_eq!(history[0].in_bps, 1000);
    }

    #[test]
    fn an_hour_at_most() {
        let t0 = Instant::from_secs(0);
        let mut b = Bandwidth::new(t0);
        for s in 1..=(2 * 3600) {
            b.record(t0 + Duration::from_secs(s), s * 100, 0);
        }
        let history = b.history();
        assert_eq!(history.len(), SAMPLES);
        assert_eq!(history.last().map(|s| s.uptime_secs), Some(7200));
        assert!(history.iter().all(|s| s.in_bps == 100));
    }
}
