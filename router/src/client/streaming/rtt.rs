//! The retransmission timeout, per RFC 6298: SRTT and RTTVAR from samples (α = 1/8,
//! β = 1/4, K = 4), doubled on each timeout until a new sample, clamped to the
//! configured bounds. Callers apply Karn's rule: no samples from retransmitted packets.

use std::time::Duration;

/// The clock granularity G of RFC 6298 (our clock counts microseconds; 1 ms keeps a
/// zero RTTVAR from making the RTO exactly the SRTT).
const GRANULARITY: Duration = Duration::from_millis(1);

#[derive(Debug, Clone)]
pub(crate) struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min_rto: Duration,
    max_rto: Duration,
    max_rtt: Duration,
}

impl RttEstimator {
    pub(crate) fn new(
        initial_rto: Duration,
        min_rto: Duration,
        max_rto: Duration,
        max_rtt: Duration,
    ) -> Self {
        Self {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial_rto.clamp(min_rto, max_rto),
            min_rto,
            max_rto,
            max_rtt,
        }
    }

    /// Takes one RTT measurement (RFC 6298 2.2 and 2.3) and recomputes the RTO, which
    /// also ends any backoff.
    pub(crate) fn on_sample(&mut self, sample: Duration) {
        let r = sample.min(self.max_rtt);
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + delta / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        self.rto = (srtt + (self.rttvar * 4).max(GRANULARITY)).clamp(self.min_rto, self.max_rto);
    }

    /// Doubles the RTO after a timeout (RFC 6298 5.5).
    pub(crate) fn backoff(&mut self) {
        self.rto = (self.rto * 2).min(self.max_rto);
    }

    pub(crate) fn rto(&self) -> Duration {
        self.rto
    }

    /// The smoothed RTT, once there is a sample.
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimator() -> RttEstimator {
        RttEstimator::new(
            Duration::from_secs(9),
            Duration::from_millis(100),
            Duration::from_secs(45),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn follows_rfc_6298() {
        let mut rtt = estimator();
        assert_eq!(rtt.rto(), Duration::from_secs(9));
        assert_eq!(rtt.srtt(), None);
        // First sample: SRTT = R, RTTVAR = R/2, RTO = R + 4 R/2 = 3R.
        rtt.on_sample(Duration::from_millis(400));
        assert_eq!(rtt.srtt(), Some(Duration::from_millis(400)));
        assert_eq!(rtt.rto(), Duration::from_millis(1200));
        // Second: RTTVAR = 3/4·200 + 1/4·|400−800| = 250, SRTT = 7/8·400 + 1/8·800 = 450.
        rtt.on_sample(Duration::from_millis(800));
        assert_eq!(rtt.srtt(), Some(Duration::from_millis(450)));
        assert_eq!(rtt.rto(), Duration::from_millis(450 + 4 * 250));
    }

    #[test]
    fn backs_off_and_clamps() {
        let mut rtt = estimator();
        for _ in 0..5 {
            rtt.backoff();
        }
        assert_eq!(rtt.rto(), Duration::from_secs(45));
        // A sample ends the backoff; tiny RTTs meet the floor.
        rtt.on_sample(Duration::from_micros(10));
        assert_eq!(rtt.rto(), Duration::from_millis(100));
        // Samples are capped at the maximum RTT estimate.
        let mut rtt = estimator();
        rtt.on_sample(Duration::from_secs(600));
        assert_eq!(rtt.srtt(), Some(Duration::from_secs(60)));
        assert_eq!(rtt.rto(), Duration::from_secs(45));
    }
}
