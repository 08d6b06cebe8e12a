//! The trace hash: a SHA-256 over every event the simulator processes.
//!
//! Two runs with the same hash processed the same events at the same times in the same
//! order, which is what `replay` checks and what the determinism test asserts.

use sha2::{Digest, Sha256};

#[derive(Debug, Default)]
pub struct TraceHasher {
    hasher: Sha256,
    events: u64,
}

impl TraceHasher {
    /// Records one event: its time, a kind tag and the integers that identify it.
    pub fn record(&mut self, micros: u64, kind: u8, fields: &[u64]) {
        self.events += 1;
        self.hasher.update(micros.to_le_bytes());
        self.hasher.update([kind]);
        for field in fields {
            self.hasher.update(field.to_le_bytes());
        }
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn finish(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
