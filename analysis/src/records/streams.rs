//! The stream workload's record (`[streams]` in a scenario).

use super::Metric;
use serde::{Deserialize, Serialize};

/// `streams.csv`: one row per stream fetch (`[streams]`) a client destination started
/// after warmup: it opened a stream to a server destination, wrote a request and read the
/// response. Times are from the start of the fetch (the connect call).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamRecord {
    /// Sim seconds since start, when the fetch started.
    pub time_s: f64,
    /// The fetching and the serving destination (indices).
    pub client: u32,
    pub server: u32,
    pub request_bytes: u64,
    pub response_bytes: u64,
    /// `"completed"` (every byte of the response read) | `"reset"` (after connecting, the
    /// stream was reset by either end, given up by the streaming library after its
    /// resends, or closed early) | `"timed_out"` (not done within the fetch timeout; the
    /// client then reset it) | `"connect_failed"` (never connected: refused, the connect
    /// timed out or the connect call failed).
    pub outcome: String,
    /// To the client's `Connected` (the server's first packet); empty if it never came.
    pub connect_ms: Option<f64>,
    /// To the first byte of the response read; empty if none came.
    pub ttfb_ms: Option<f64>,
    /// To the last byte of the response read; empty unless completed.
    pub completion_ms: Option<f64>,
    /// Response bytes the client read.
    pub bytes_received: u64,
    /// From the streaming library's counters (`ConnectionStats`) of both ends, summed:
    /// packets sent (resends and bare acknowledgements included), resends, the fast
    /// retransmits among them, and retransmission timeouts.
    pub packets_sent: u64,
    pub retransmissions: u64,
    pub fast_retransmits: u64,
    pub rto_timeouts: u64,
}

impl StreamRecord {
    pub const COMPLETED: &'static str = "completed";
    pub const RESET: &'static str = "reset";
    pub const TIMED_OUT: &'static str = "timed_out";
    pub const CONNECT_FAILED: &'static str = "connect_failed";

    pub fn is_completed(&self) -> bool {
        self.outcome == Self::COMPLETED
    }

    /// The fetch's goodput: response KiB per second of the whole fetch, from the connect
    /// call to the last byte read (so the connect and the request's way are in it, as
    /// they are in a page load); `None` unless completed.
    pub fn throughput_kib_s(&self) -> Option<f64> {
        let ms = self.completion_ms?;
        (self.is_completed() && ms > 0.0)
            .then(|| self.response_bytes as f64 / 1024.0 / (ms / 1000.0))
    }
}

impl Metric for StreamRecord {
    const FILE_NAME: &'static str = "streams.csv";
}
