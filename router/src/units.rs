//! Quantities written as text in scenario and configuration files: `"50 ms"`,
//! `"10 min"`, `"1 Mbit"`, `"2026-11-21T22:00:00Z"`.
//!
//! Each type parses from a string and fails with a message that says what was expected,
//! so that a file's error names the field and the accepted forms. With the `serde`
//! feature they (de)serialise as those strings; the simulator's scenarios and the real
//! router's configuration share them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Splits `"12.5 ms"` into `(12.5, "ms")`; the space is optional.
fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(s.len());
    let number: String = s[..end].chars().filter(|c| *c != '_').collect();
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some((value, s[end..].trim()))
}

/// A span of (simulated or real) time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct Span(pub Duration);

impl FromStr for Span {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = || {
            format!(
                "expected a duration such as \"50 ms\", \"30 s\", \"10 min\" or \"2 h\", got {s:?}"
            )
        };
        let (value, unit) = split_number(s).ok_or_else(expected)?;
        let seconds = match unit {
            "us" | "µs" => value / 1e6,
            "ms" => value / 1e3,
            "s" | "sec" | "secs" => value,
            "min" | "mins" => value * 60.0,
            "h" | "hour" | "hours" => value * 3600.0,
            "d" | "day" | "days" => value * 86_400.0,
            _ => return Err(expected()),
        };
        Duration::try_from_secs_f64(seconds)
            .map(Span)
            .map_err(|_| expected())
    }
}

impl TryFrom<String> for Span {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Span> for String {
    fn from(d: Span) -> String {
        d.to_string()
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0.as_micros();
        for (unit, size) in [
            ("h", 3_600_000_000u128),
            ("min", 60_000_000),
            ("s", 1_000_000),
            ("ms", 1_000),
        ] {
            if micros >= size && micros.is_multiple_of(size) {
                return write!(f, "{} {unit}", micros / size);
            }
        }
        write!(f, "{micros} us")
    }
}

/// A link rate, in bits per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct Bandwidth(pub u64);

impl Bandwidth {
    /// How long `bytes` take to leave a link of this rate.
    pub fn transmit_time(self, bytes: usize) -> Duration {
        if self.0 == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos((bytes as u64 * 8).saturating_mul(1_000_000_000) / self.0)
    }
}

impl FromStr for Bandwidth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = || {
            format!("expected a bandwidth such as \"512 kbit\", \"10 Mbit\" or \"1 Gbit\" (bits per second), got {s:?}")
        };
        let (value, unit) = split_number(s).ok_or_else(expected)?;
        let unit = unit
            .strip_suffix("/s")
            .or_else(|| unit.strip_suffix("ps"))
            .unwrap_or(unit);
        let scale = match unit {
            "bit" => 1.0,
            "kbit" | "Kbit" => 1e3,
            "Mbit" => 1e6,
            "Gbit" => 1e9,
            _ => return Err(expected()),
        };
        let bits = value * scale;
        if !(1.0..=1e13).contains(&bits) {
            return Err(expected());
        }
        Ok(Bandwidth(bits as u64))
    }
}

impl TryFrom<String> for Bandwidth {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Bandwidth> for String {
    fn from(b: Bandwidth) -> String {
        b.to_string()
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [
            ("Gbit", 1_000_000_000u64),
            ("Mbit", 1_000_000),
            ("kbit", 1_000),
        ] {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{} {unit}", self.0 / size);
            }
        }
        write!(f, "{} bit", self.0)
    }
}

/// A UTC instant written as `"2026-11-21T22:00:00Z"`, seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "String", into = "String")
)]
pub struct UtcTime(pub u64);

impl FromStr for UtcTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected =
            || format!("expected a UTC time such as \"2026-11-21T22:00:00Z\", got {s:?}");
        let b = s.trim().as_bytes();
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
            return Err(expected());
        }
        let num = |range: std::ops::Range<usize>| -> Result<u64, String> {
            std::str::from_utf8(&b[range])
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(expected)
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if year < 1970
            || !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(expected());
        }
        let days = days_from_civil(year, month, day);
        Ok(UtcTime(days * 86_400 + hour * 3600 + minute * 60 + second))
    }
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl TryFrom<String> for UtcTime {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<UtcTime> for String {
    fn from(t: UtcTime) -> String {
        t.to_string()
    }
}

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = crate::time::Instant::from_secs(self.0).utc_date_string();
        let secs = self.0 % 86_400;
        write!(
            f,
            "{}-{}-{}T{:02}:{:02}:{:02}Z",
            &date[0..4],
            &date[4..6],
            &date[6..8],
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_and_without_space() {
        assert_eq!("50 ms".parse::<Span>(), Ok(Span(Duration::from_millis(50))));
        assert_eq!("10min".parse::<Span>(), Ok(Span(Duration::from_secs(600))));
        assert_eq!("1.5 h".parse::<Span>(), Ok(Span(Duration::from_secs(5400))));
        assert!("fast"
            .parse::<Span>()
            .unwrap_err()
            .contains("expected a duration"));
        assert!("10 parsecs".parse::<Span>().is_err());
        assert!("-1 s".parse::<Span>().is_err());
    }

    #[test]
    fn durations_display_round_trips() {
        for s in ["2 h", "90 min", "45 s", "250 ms", "7 us"] {
            let d: Span = s.parse().expect("valid duration");
            assert_eq!(d.to_string().parse::<Span>(), Ok(d));
        }
    }

    #[test]
    fn bandwidths_are_bits_per_second() {
        assert_eq!("10 Mbit".parse::<Bandwidth>(), Ok(Bandwidth(10_000_000)));
        assert_eq!("512 kbit/s".parse::<Bandwidth>(), Ok(Bandwidth(512_000)));
        assert!("10 MB".parse::<Bandwidth>().is_err());
        // 1000 bytes at 8 kbit/s take one second.
        assert_eq!(Bandwidth(8_000).transmit_time(1000), Duration::from_secs(1));
    }

    #[test]
    fn utc_times_round_trip() {
        let t: UtcTime = "2026-11-21T22:30:05Z".parse().expect("valid time");
        assert_eq!(t.0, 1_795_305_600 - 86_400 + 22 * 3600 + 30 * 60 + 5);
        assert_eq!(t.to_string(), "2026-11-21T22:30:05Z");
        assert!("2026-13-01T00:00:00Z".parse::<UtcTime>().is_err());
        assert!("yesterday".parse::<UtcTime>().is_err());
    }
}
