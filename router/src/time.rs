//! The core's own clock.
//!
//! The core never reads a clock: every input carries `now`. An [`Instant`] counts
//! microseconds since the UNIX epoch (UTC) rather than from an arbitrary zero, because the
//! netDb needs the UTC date (routing keys rotate at midnight) and I2P dates on the wire are
//! milliseconds since the epoch. The real router passes the system time; the simulator
//! starts its virtual clock at the scenario's chosen UTC date.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// A point in (real or simulated) time, in microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The latest representable instant; useful as "never".
    pub const MAX: Instant = Instant(u64::MAX);

    pub const fn from_micros(micros: u64) -> Instant {
        Instant(micros)
    }

    pub const fn from_millis(millis: u64) -> Instant {
        Instant(millis.saturating_mul(1000))
    }

    pub const fn from_secs(secs: u64) -> Instant {
        Instant(secs.saturating_mul(1_000_000))
    }

    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Milliseconds since the epoch: the unit of I2P's `Date`.
    pub const fn as_millis(self) -> u64 {
        self.0 / 1000
    }

    pub const fn as_secs(self) -> u64 {
        self.0 / 1_000_000
    }

    /// The time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// Days since the epoch, in UTC.
    pub const fn utc_day(self) -> u64 {
        self.as_secs() / 86_400
    }

    /// The start of the next UTC day.
    pub const fn next_utc_midnight(self) -> Instant {
        Instant::from_secs((self.utc_day() + 1) * 86_400)
    }

    /// The UTC date as `yyyyMMdd`, the form the routing key is derived from.
    pub fn utc_date_string(self) -> String {
        let (y, m, d) = civil_from_days(self.utc_day());
        format!("{y:04}{m:02}{d:02}")
    }
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days` algorithm, restricted to dates after the epoch.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, rhs: Duration) -> Instant {
        let micros = u64::try_from(rhs.as_micros()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(micros))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, rhs: Duration) -> Instant {
        let micros = u64::try_from(rhs.as_micros()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_sub(micros))
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_match_known_days() {
        assert_eq!(Instant::from_secs(0).utc_date_string(), "19700101");
        // 2000-02-29 (a leap day in a century leap year) and the day after.
        assert_eq!(
            Instant::from_secs(951_782_400).utc_date_string(),
            "20000229"
        );
        assert_eq!(
            Instant::from_secs(951_868_800).utc_date_string(),
            "20000301"
        );
        // 2026-11-21T23:59:59Z.
        assert_eq!(
            Instant::from_secs(1_795_305_599).utc_date_string(),
            "20261121"
        );
        assert_eq!(
            Instant::from_secs(1_795_305_600).utc_date_string(),
            "20261122"
        );
    }

    #[test]
    fn next_midnight_is_the_next_day_boundary() {
        let t = Instant::from_secs(1_795_305_599);
        assert_eq!(t.next_utc_midnight(), Instant::from_secs(1_795_305_600));
        assert_eq!(
            Instant::from_secs(1_795_305_600).next_utc_midnight(),
            Instant::from_secs(1_795_305_600 + 86_400)
        );
    }

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(
            Instant::from_secs(1) - Duration::from_secs(5),
            Instant::from_secs(0)
        );
        assert_eq!(
            Instant::from_secs(1).saturating_duration_since(Instant::from_secs(3)),
            Duration::ZERO
        );
    }
}
