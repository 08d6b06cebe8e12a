//! `[streams]`: page fetches over I2P streaming between the `[clients]` destinations.
//!
//! Some destinations serve, the others fetch: each client opens a stream to a server
//! drawn at random, writes a request, reads the response and closes; the server listens,
//! reads the request, writes the response and closes. Off when the section is absent.
//!
//! ```toml
//! [streams]
//! servers = 10                   # the first 10 [clients] destinations serve (or a
//!                                # fraction: 0.2); the others fetch. Default 1.
//! fetches_per_client_hour = 30   # each client, a Poisson process. Default 30.
//! request_size = "256 B"         # default "256 B" (16 B to 64 KiB)
//! response_size = "64 KiB"       # one size (default "64 KiB", up to 16 MiB), or:
//! response_sizes = [             # sizes drawn by weight
//!   { size = "10 KiB", weight = 6 },
//!   { size = "100 KiB", weight = 3 },
//!   { size = "1 MiB", weight = 1 },
//! ]
//! timeout = "2 min"              # a fetch not done by then is reset. Default "2 min".
//! ```

use ramsons_router::units::Span;
use serde::Deserialize;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The smallest request: the header that tells the server what to send
/// (`crate::streams::Request`).
pub const MIN_REQUEST_SIZE: u64 = 16;
const MAX_REQUEST_SIZE: u64 = 64 * 1024;
const MAX_RESPONSE_SIZE: u64 = 16 * 1024 * 1024;

/// The `[streams]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Streams {
    #[serde(default)]
    pub servers: Servers,
    #[serde(default = "default_fetch_rate")]
    pub fetches_per_client_hour: f64,
    #[serde(default = "default_request_size")]
    pub request_size: ByteSize,
    /// One response size; `response_sizes` for several.
    #[serde(default)]
    pub response_size: Option<ByteSize>,
    #[serde(default)]
    pub response_sizes: Vec<WeightedSize>,
    #[serde(default = "default_timeout")]
    pub timeout: Span,
}

/// Which `[clients]` destinations serve: the first `n` (destinations are placed on
/// routers at random, so the first are as good as any), or a share of them, rounded.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Servers {
    Count(u32),
    Fraction(f64),
}

impl Default for Servers {
    fn default() -> Self {
        Servers::Count(1)
    }
}

/// A response size and its weight among `response_sizes`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedSize {
    pub size: ByteSize,
    #[serde(default = "default_weight")]
    pub weight: f64,
}

fn default_fetch_rate() -> f64 {
    30.0
}

fn default_request_size() -> ByteSize {
    ByteSize(256)
}

const DEFAULT_RESPONSE_SIZE: ByteSize = ByteSize(64 * 1024);

fn default_timeout() -> Span {
    Span(Duration::from_secs(120))
}

fn default_weight() -> f64 {
    1.0
}

impl Streams {
    /// How many of `destinations` serve (valid once checked: at least one, and at least
    /// one destination left to fetch).
    pub fn server_count(&self, destinations: u32) -> u32 {
        match self.servers {
            Servers::Count(n) => n,
            Servers::Fraction(f) => (f64::from(destinations) * f).round() as u32,
        }
    }

    /// The response sizes in bytes with their weights: `response_sizes`, else the one
    /// `response_size` (or its default).
    pub fn responses(&self) -> Vec<(u64, f64)> {
        if self.response_sizes.is_empty() {
            let size = self.response_size.unwrap_or(DEFAULT_RESPONSE_SIZE);
            return vec![(size.0, 1.0)];
        }
        self.response_sizes
            .iter()
            .map(|w| (w.size.0, w.weight))
            .collect()
    }

    /// Checks the section against the `[clients]` destinations and the run's length;
    /// errors name the field below `streams.`.
    pub fn check(
        &self,
        destinations: u32,
        multihomed: bool,
        stop: Duration,
    ) -> Result<(), (String, String)> {
        let err = |field: &str, message: &str| Err((field.to_owned(), message.to_owned()));
        if destinations < 2 {
            return err(
                "servers",
                "streams need at least two [clients] destinations: one to serve, one to fetch",
            );
        }
        if multihomed {
            return err(
                "servers",
                "streams do not run over multihomed destinations yet: remove clients.multihomed",
            );
        }
        if let Servers::Fraction(f) = self.servers {
            if !(f > 0.0 && f < 1.0) {
                return err("servers", "expected a count, or a fraction in (0, 1)");
            }
        }
        let servers = self.server_count(destinations);
        if servers == 0 || servers >= destinations {
            return Err((
                "servers".to_owned(),
                format!(
                    "{servers} of {destinations} destinations would serve: expected at least \
                     one server and at least one destination left to fetch"
                ),
            ));
        }
        let rate = self.fetches_per_client_hour;
        if !(rate.is_finite() && rate >= 0.0) {
            return err("fetches_per_client_hour", "expected a rate >= 0");
        }
        if !(MIN_REQUEST_SIZE..=MAX_REQUEST_SIZE).contains(&self.request_size.0) {
            return err("request_size", "expected 16 B to 64 KiB");
        }
        if self.response_size.is_some() && !self.response_sizes.is_empty() {
            return err(
                "response_sizes",
                "give either response_size (one size) or response_sizes (a list), not both",
            );
        }
        for (i, (size, weight)) in self.responses().into_iter().enumerate() {
            let field = |name: &str| match self.response_size {
                None if !self.response_sizes.is_empty() => format!("response_sizes[{i}].{name}"),
                _ => "response_size".to_owned(),
            };
            if !(1..=MAX_RESPONSE_SIZE).contains(&size) {
                return Err((field("size"), "expected 1 B to 16 MiB".to_owned()));
            }
            if !(weight.is_finite() && weight > 0.0) {
                return Err((field("weight"), "expected a weight > 0".to_owned()));
            }
        }
        let timeout = self.timeout.0;
        if timeout < Duration::from_secs(1) || timeout >= stop {
            return err(
                "timeout",
                "expected at least 1 s and less than general.stop_time (no fetch starts in \
                 the last timeout of a run)",
            );
        }
        Ok(())
    }
}

/// A number of bytes written as `"512 B"`, `"10 KiB"`, `"1 MiB"` (or `"10 kB"`, `"1 MB"`
/// in powers of ten).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected =
            || format!("expected a size such as \"512 B\", \"10 KiB\" or \"1 MiB\", got {s:?}");
        let t = s.trim();
        let end = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(t.len());
        let number: String = t[..end].chars().filter(|c| *c != '_').collect();
        let value: f64 = number.parse().map_err(|_| expected())?;
        let scale = match t[end..].trim() {
            "B" => 1.0,
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            "kB" | "KB" => 1e3,
            "MB" => 1e6,
            _ => return Err(expected()),
        };
        let bytes = value * scale;
        if !(bytes.is_finite() && bytes >= 0.0 && bytes.fract() == 0.0 && bytes < 1e15) {
            return Err(expected());
        }
        Ok(ByteSize(bytes as u64))
    }
}

impl TryFrom<String> for ByteSize {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{} {unit}", self.0 / size);
            }
        }
        write!(f, "{} B", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams(text: &str) -> Result<Streams, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn sizes_parse_and_print() {
        for (text, bytes, shown) in [
            ("512 B", 512, "512 B"),
            ("10 KiB", 10_240, "10 KiB"),
            ("1 MiB", 1 << 20, "1 MiB"),
            ("1.5 KiB", 1536, "1536 B"),
            ("10 kB", 10_000, "10000 B"),
        ] {
            let size: ByteSize = text.parse().expect("a size");
            assert_eq!(size, ByteSize(bytes), "{text}");
            assert_eq!(size.to_string(), shown);
        }
        for bad in ["10", "10 KB/s", "-1 B", "0.5 B", "KiB", ""] {
            let err = bad.parse::<ByteSize>().expect_err(bad);
            assert!(err.contains("\"10 KiB\""), "{err}");
        }
    }

    #[test]
    fn defaults_and_weighted_sizes() {
        let s = streams("").expect("all defaults");
        assert_eq!(s.servers, Servers::Count(1));
        assert_eq!(s.responses(), vec![(64 * 1024, 1.0)]);
        assert_eq!(s.request_size, ByteSize(256));
        assert_eq!(s.timeout, Span(Duration::from_secs(120)));
        s.check(5, false, Duration::from_secs(600))
            .expect("valid defaults");

        let s = streams(
            "servers = 0.25\nresponse_sizes = [{ size = \"10 KiB\", weight = 3 }, { size = \"1 MiB\" }]\n",
        )
        .expect("a list");
        assert_eq!(s.server_count(20), 5);
        assert_eq!(s.responses(), vec![(10_240, 3.0), (1 << 20, 1.0)]);
    }

    #[test]
    fn errors_name_the_field() {
        let stop = Duration::from_secs(600);
        for (text, destinations, field) in [
            ("", 1, "servers"),
            ("servers = 4", 4, "servers"),
            ("servers = 0", 4, "servers"),
            ("servers = 1.5", 4, "servers"),
            (
                "fetches_per_client_hour = -1.0",
                4,
                "fetches_per_client_hour",
            ),
            ("request_size = \"8 B\"", 4, "request_size"),
            ("response_size = \"32 MiB\"", 4, "response_size"),
            (
                "response_size = \"1 KiB\"\nresponse_sizes = [{ size = \"1 KiB\" }]",
                4,
                "response_sizes",
            ),
            (
                "response_sizes = [{ size = \"1 KiB\" }, { size = \"2 KiB\", weight = 0.0 }]",
                4,
                "response_sizes[1].weight",
            ),
            ("timeout = \"10 min\"", 4, "timeout"),
        ] {
            let s = streams(text).expect("parses");
            let (got, message) = s.check(destinations, false, stop).expect_err(text);
            assert_eq!(got, field, "{text}: {message}");
        }
        let (field, _) = streams("")
            .expect("parses")
            .check(4, true, stop)
            .expect_err("multihomed");
        assert_eq!(field, "servers");
        assert!(streams("page_size = \"1 KiB\"").is_err(), "unknown field");
    }
}
