//! The core's [`Instant`] from tokio's clock.
//!
//! The core wants UNIX time (routing keys and I2P dates are calendar-based); timers want
//! tokio's monotonic clock, which turmoil controls in tests. So the clock reads the
//! system time once, at start, and from then on advances with tokio's clock: in a real
//! router that is the wall clock (minus drift over a run), under turmoil it is the
//! simulation's time, and the same driver code serves both.

use crate::time::Instant;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    unix_at_start: Instant,
    start: tokio::time::Instant,
}

impl Clock {
    /// Starts at the system's current time.
    pub fn system() -> Clock {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Self::starting_at(Instant::from_micros(since_epoch.as_micros() as u64))
    }

    /// Starts at `unix` (tests pin the date so that runs repeat).
    pub fn starting_at(unix: Instant) -> Clock {
        Clock {
            unix_at_start: unix,
            start: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> Instant {
        self.unix_at_start + self.start.elapsed()
    }

    /// The tokio instant at which the core's clock reads `at` (now, if that has passed;
    /// far in the future for `Instant::MAX`).
    pub fn deadline(&self, at: Instant) -> tokio::time::Instant {
        // A year from now stands in for "never": tokio panics on instants it cannot
        // represent.
        let never = tokio::time::Instant::now() + Duration::from_secs(365 * 86_400);
        let after = at.saturating_duration_since(self.unix_at_start);
        self.start
            .checked_add(after)
            .map_or(never, |t| t.min(never))
    }
}
