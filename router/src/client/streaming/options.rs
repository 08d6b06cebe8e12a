//! A destination's streaming options by their I2CP names (`i2p.streaming.*`, as SAM's
//! `SESSION CREATE` and I2PTunnel pass them), over the router's defaults.
//!
//! The names and units are the streaming API page's: times in milliseconds, sizes in
//! bytes, windows in packets, a negative limit for "none". Options that page lists but
//! this library has no use for (the RTT estimator's constants, which RFC 6298 fixes;
//! the TCB cache; per-hour and per-day limits; read and write timeouts, which belong to
//! the socket an application holds) are accepted and reported back, so the caller can
//! say they were ignored instead of failing a session that every Java client creates.

use super::{InactivityAction, ManagerConfig, ECIES_MTU};
use std::time::Duration;
use thiserror::Error;

/// The prefix of every streaming option.
pub const PREFIX: &str = "i2p.streaming.";

/// Options the API page lists that have no effect here (and `tcbcache.*`).
const IGNORED: [&str; 19] = [
    "alpha",
    "answerPings",
    "beta",
    "blacklist",
    "connectDelay",
    "disableRejectLogging",
    "dsalist",
    "enforceProtocol",
    "initialResendDelay",
    "initialRTT",
    "kappa",
    "limitAction",
    "maxConnsPerDay",
    "maxConnsPerHour",
    "maxTotalConnsPerDay",
    "maxTotalConnsPerHour",
    "profile",
    "readTimeout",
    "writeTimeout",
];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OptionError {
    #[error("{PREFIX}{name}={value}: expected {expected}")]
    Invalid {
        name: String,
        value: String,
        expected: &'static str,
    },
    #[error("{PREFIX}{name} is not a streaming option")]
    Unknown { name: String },
}

impl ManagerConfig {
    /// This configuration with the `i2p.streaming.*` options among `options` applied;
    /// other options are not looked at. Returns the streaming options that were
    /// recognised but have no effect. A value out of its range, or a streaming option
    /// no version of the API page names, is an error that names it.
    pub fn with_options<'a>(
        &self,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(ManagerConfig, Vec<String>), OptionError> {
        let mut config = self.clone();
        let mut ignored = Vec::new();
        let mut window_or_mtu_set = false;
        for (key, value) in options {
            let Some(name) = key.strip_prefix(PREFIX) else {
                continue;
            };
            let value = value.trim();
            if config.apply(name, value)? {
                window_or_mtu_set |= matches!(name, "maxWindowSize" | "maxMessageSize");
            } else if IGNORED.contains(&name) || name.starts_with("tcbcache.") {
                ignored.push(key.to_string());
            } else {
                return Err(OptionError::Unknown {
                    name: name.to_string(),
                });
            }
        }
        let stream = &mut config.stream;
        if stream.initial_window > stream.max_window {
            return Err(invalid(
                "initialWindowSize",
                &stream.initial_window.to_string(),
                "at most maxWindowSize",
            ));
        }
        if window_or_mtu_set {
            // INBOUND_BUFFER_SIZE = maxMessageSize × (maxWindowSize + 2).
            stream.receive_buffer = stream.max_message_size * (stream.max_window as usize + 2);
        }
        Ok((config, ignored))
    }

    /// Applies one option this library uses; false when `name` is not one of them.
    fn apply(&mut self, name: &str, value: &str) -> Result<bool, OptionError> {
        let s = &mut self.stream;
        match name {
            "maxMessageSize" => s.max_message_size = number(name, value, 512, ECIES_MTU)?,
            "initialWindowSize" => s.initial_window = number(name, value, 1, 1024)?,
            "maxWindowSize" => s.max_window = number(name, value, 1, 1024)?,
            "slowStartGrowthRateFactor" => {
                s.slow_start_growth_factor = number(name, value, 1, 100)?
            }
            "congestionAvoidanceGrowthRateFactor" => {
                s.congestion_avoidance_growth_factor = number(name, value, 1, 100)?;
            }
            "initialRTO" => s.initial_rto = millis(name, value, 100, 60_000)?,
            "maxResends" => s.max_resends = number(name, value, 1, 1000)?,
            "initialAckDelay" => s.ack_delay = millis(name, value, 0, 60_000)?,
            "bufferSize" => s.send_buffer = number(name, value, 1024, 16 << 20)?,
            "connectTimeout" => s.connect_timeout = millis_or_none(name, value)?,
            "inactivityTimeout" => s.inactivity_timeout = millis_or_none(name, value)?,
            "inactivityAction" => {
                s.inactivity_action = match value {
                    "0" => InactivityAction::Noop,
                    "1" => InactivityAction::Disconnect,
                    "2" => InactivityAction::SendKeepalive,
                    _ => {
                        return Err(invalid(
                            name,
                            value,
                            "0 (nothing), 1 (disconnect) or 2 (send)",
                        ))
                    }
                };
            }
            "maxConcurrentStreams" => self.max_concurrent_streams = limit(name, value)?,
            "maxConnsPerMinute" => self.max_conns_per_minute = limit(name, value)?,
            "maxTotalConnsPerMinute" => self.max_total_conns_per_minute = limit(name, value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn invalid(name: &str, value: &str, expected: &'static str) -> OptionError {
    OptionError::Invalid {
        name: name.to_string(),
        value: value.to_string(),
        expected,
    }
}

/// An integer from `min` to `max`.
fn number<T: TryFrom<i64>>(
    name: &str,
    value: &str,
    min: i64,
    max: usize,
) -> Result<T, OptionError> {
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    value
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            invalid(
                name,
                value,
                "a whole number in its range (see the streaming API page)",
            )
        })
}

/// Milliseconds from `min` to `max`.
fn millis(name: &str, value: &str, min: i64, max: usize) -> Result<Duration, OptionError> {
    number::<u64>(name, value, min, max).map(Duration::from_millis)
}

/// Milliseconds, where zero or less means "never" (a zero duration here).
fn millis_or_none(name: &str, value: &str) -> Result<Duration, OptionError> {
    match value.parse::<i64>() {
        Ok(n) if n <= 0 => Ok(Duration::ZERO),
        _ => millis(name, value, 1, 24 * 3600 * 1000),
    }
}

/// A count where a negative number means "no limit" (0 here, as in [`ManagerConfig`]).
fn limit<T: TryFrom<i64> + Default>(name: &str, value: &str) -> Result<T, OptionError> {
    match value.parse::<i64>() {
        Ok(n) if n < 0 => Ok(T::default()),
        _ => number(name, value, 0, 1 << 20),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(pairs: &[(&str, &str)]) -> Result<(ManagerConfig, Vec<String>), OptionError> {
        ManagerConfig::default().with_options(pairs.iter().copied())
    }

    #[test]
    fn streaming_options_change_their_fields_and_nothing_else() {
        let (config, ignored) = apply(&[
            ("i2p.streaming.initialAckDelay", "50"),
            ("i2p.streaming.maxWindowSize", "64"),
            ("i2p.streaming.initialWindowSize", "12"),
            ("i2p.streaming.connectTimeout", "-1"),
            ("i2p.streaming.maxConcurrentStreams", "-1"),
            ("i2p.streaming.maxConnsPerMinute", "10"),
            ("i2p.streaming.inactivityAction", "1"),
            ("i2p.streaming.profile", "1"),
            ("inbound.length", "2"),
        ])
        .expect("valid options");
        let default = ManagerConfig::default();
        let s = &config.stream;
        assert_eq!(s.ack_delay, Duration::from_millis(50));
        assert_eq!((s.initial_window, s.max_window), (12, 64));
        assert_eq!(
            s.receive_buffer,
            s.max_message_size * 66,
            "follows the window"
        );
        assert_eq!(s.connect_timeout, Duration::ZERO, "never times out");
        assert_eq!(s.inactivity_action, InactivityAction::Disconnect);
        assert_eq!(config.max_concurrent_streams, 0, "no limit");
        assert_eq!(config.max_conns_per_minute, 10);
        assert_eq!(s.initial_rto, default.stream.initial_rto, "untouched");
        assert_eq!(ignored, ["i2p.streaming.profile"]);
        assert_eq!(apply(&[]).expect("none").0, default);
    }

    #[test]
    fn bad_values_and_unknown_names_are_refused_by_name() {
        for (key, value) in [
            ("i2p.streaming.maxMessageSize", "100"),
            ("i2p.streaming.maxMessageSize", "9000"),
            ("i2p.streaming.initialWindowSize", "0"),
            ("i2p.streaming.maxWindowSize", "many"),
            ("i2p.streaming.initialAckDelay", "-5"),
            ("i2p.streaming.inactivityAction", "3"),
            ("i2p.streaming.initialRTO", "99999999999999999999"),
        ] {
            let e = apply(&[(key, value)]).expect_err(key).to_string();
            assert!(e.contains(key) && e.contains(value), "{e}");
        }
        let e = apply(&[("i2p.streaming.warpFactor", "9")]).expect_err("unknown");
        assert!(e.to_string().contains("warpFactor"), "{e}");
        let e = apply(&[
            ("i2p.streaming.maxWindowSize", "4"),
            ("i2p.streaming.initialWindowSize", "8"),
        ])
        .expect_err("a window above its maximum");
        assert!(e.to_string().contains("initialWindowSize"), "{e}");
    }
}
