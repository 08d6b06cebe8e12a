//! Recent warnings and errors for the console's log page: a [`tracing`] layer that
//! keeps the last [`CAPACITY`] of them in a ring the console reads.
//!
//! The binary installs [`LogLayer`] beside its stderr formatter and hands the ring to
//! the router ([`crate::host::Host::set_log`]); a router without it shows no entries.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// Entries kept: enough for the last bad hour of a busy router, bounded in memory.
pub const CAPACITY: usize = 200;
/// A message longer than this is cut (a peer may put anything in what we log).
const MAX_MESSAGE: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub unix_secs: u64,
    /// "WARN" or "ERROR".
    pub level: String,
    /// The module that logged it.
    pub target: String,
    /// The message and its fields (`key=value`).
    pub message: String,
}

/// The shared ring. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LogRing {
    entries: Arc<Mutex<VecDeque<LogEntry>>>,
}

impl LogRing {
    pub fn new() -> LogRing {
        LogRing::default()
    }

    /// The layer that fills this ring.
    pub fn layer(&self) -> LogLayer {
        LogLayer { ring: self.clone() }
    }

    pub fn push(&self, entry: LogEntry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// Newest first.
    pub fn recent(&self) -> Vec<LogEntry> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.iter().rev().cloned().collect()
    }
}

/// Records WARN and ERROR events into a [`LogRing`].
#[derive(Debug, Clone)]
pub struct LogLayer {
    ring: LogRing,
}

impl<S: Subscriber> Layer<S> for LogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        if level > Level::WARN {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        let mut message = text.message;
        if !text.fields.is_empty() {
            let _ = write!(message, " ({})", text.fields.trim_end());
        }
        if message.len() > MAX_MESSAGE {
            let cut = (0..=MAX_MESSAGE)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        let unix_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.ring.push(LogEntry {
            unix_secs,
            level: level.to_string(),
            target: event.metadata().target().to_owned(),
            message,
        });
    }
}

#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, "{}={value:?} ", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, "{}={value} ", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn keeps_warnings_newest_first_and_bounded() {
        let ring = LogRing::new();
        let subscriber = tracing_subscriber::registry().with(ring.layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not kept");
            tracing::warn!(peer = "abc", "first");
            for i in 0..CAPACITY {
                tracing::error!("error {i}");
            }
        });
        let recent = ring.recent();
        assert_eq!(recent.len(), CAPACITY);
        assert_eq!(recent[0].message, format!("error {}", CAPACITY - 1));
        assert_eq!(recent[0].level, "ERROR");
        assert!(recent.iter().all(|e| e.message != "first"));

        let ring = LogRing::new();
        let subscriber = tracing_subscriber::registry().with(ring.layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(peer = "abc", n = 3, "cannot dial");
        });
        assert_eq!(ring.recent()[0].message, "cannot dial (peer=abc n=3)");
    }
}
