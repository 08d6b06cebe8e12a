//! Adversaries: routers of ours with chosen identities and behaviour, and what they log.
//!
//! The scenario's `[[adversaries]]` entries become router groups running the real router
//! core (see `scenario::adversaries`). This module holds what differs: how a Sybil's
//! identity is ground, which outputs a refusing Sybil suppresses, what flooders send, and
//! the logs from which each study's records are written. Nothing here draws from a
//! generator that honest routers or the network use, so an attack changes the trace only
//! through what the adversary's routers do.

pub mod flood;
pub mod netdb_observer;
pub mod predecessor;
pub mod sybil;
pub mod tier_capture;

use crate::metrics::write_all;
use crate::scenario::{Behaviour, Scenario};
use flood::FloodWatch;
use netdb_observer::NetDbObserver;
use predecessor::PredecessorLog;
use ramsons_router::data::Hash;
use ramsons_router::profile::selection::Direction;
use ramsons_router::time::Instant;
use std::path::Path;
use sybil::SybilWatch;
use tier_capture::TierCaptureLog;

/// One day in seconds: Sybils are ground for the routing key of a UTC day.
const DAY_SECS: u64 = 86_400;

/// The state of every adversary of a run.
#[derive(Debug, Default)]
pub struct Adversaries {
    pub sybil: Option<SybilWatch>,
    pub predecessor: Option<PredecessorLog>,
    pub tier_capture: Option<TierCaptureLog>,
    pub flood: Option<FloodWatch>,
    /// The floodfills watching for multihomed destinations (with `[clients] multihomed`).
    pub netdb_observer: Option<NetDbObserver>,
}

impl Adversaries {
    /// The UTC midnight starting the `day`-th day after the one containing `start`.
    pub fn attack_day(start: Instant, day: u32) -> Instant {
        Instant::from_secs((start.as_secs() / DAY_SECS + u64::from(day)) * DAY_SECS)
    }

    /// Sets up the Sybil watch; `target` is the hash of the attacked destination.
    pub fn watch_sybils(scenario: &Scenario, start: Instant, target: Hash) -> Option<SybilWatch> {
        scenario.adversaries.iter().find_map(|a| match a.behaviour {
            Behaviour::SybilFloodfill {
                day,
                refuse,
                prefix_bits,
                ..
            } => Some(SybilWatch::new(
                target,
                Self::attack_day(start, day),
                refuse,
                // The floodfill a publisher stores to, and those it floods to.
                1 + scenario.netdb_config().flood_redundancy,
                prefix_bits,
            )),
            _ => None,
        })
    }

    /// Each adversary's scalars for `summary.csv`; `start` is the run's time zero.
    pub fn summary(&self, start: Instant) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        if let Some(watch) = &self.sybil {
            let midnight = watch.attack_starts.saturating_duration_since(start);
            out.extend(watch.summary(midnight.as_secs_f64()));
        }
        if let Some(log) = &self.predecessor {
            out.extend(log.summary());
        }
        if let Some(log) = &self.tier_capture {
            out.extend(log.summary());
        }
        if let Some(observer) = &self.netdb_observer {
            out.extend(observer.summary());
        }
        out
    }

    /// Writes each adversary's records into the run folder; returns the file names.
    pub fn write(&self, dir: &Path) -> Result<Vec<String>, csv::Error> {
        let mut written = Vec::new();
        if let Some(watch) = &self.sybil {
            written.push(write_all(dir, &watch.rows)?.to_owned());
        }
        if let Some(log) = &self.predecessor {
            written.push(write_all(dir, &log.rows)?.to_owned());
        }
        if let Some(log) = &self.tier_capture {
            written.push(write_all(dir, &log.rows)?.to_owned());
        }
        if let Some(watch) = &self.flood {
            written.push(write_all(dir, &watch.rows)?.to_owned());
        }
        if let Some(observer) = &self.netdb_observer {
            written.push(write_all(dir, &observer.rows)?.to_owned());
            // Only runs with a meta destination log its edges.
            if !observer.edge_rows.is_empty() {
                written.push(write_all(dir, &observer.meta_rows)?.to_owned());
                written.push(write_all(dir, &observer.edge_rows)?.to_owned());
            }
        }
        Ok(written)
    }
}

/// The routers the adversary's hops see next to them in a tunnel `builder` built through
/// `hops` (gateway first), once per sighting: a hop learns the router it received the
/// build request from and the one it sends to. The tunnel is taken as messages cross it,
/// with the builder at its end: before the gateway of an outbound tunnel, after the
/// endpoint of an inbound one; the routers beyond the other end (whoever talks to the
/// tunnel) are not seen. The adversary's own routers are not reported.
pub fn seen_next_to(
    builder: Hash,
    direction: Direction,
    hops: &[Hash],
    adversarial: impl Fn(&Hash) -> bool,
) -> Vec<Hash> {
    let mut path: Vec<Hash> = Vec::with_capacity(hops.len() + 1);
    if direction == Direction::Outbound {
        path.push(builder);
    }
    path.extend_from_slice(hops);
    if direction == Direction::Inbound {
        path.push(builder);
    }
    let mut seen = Vec::new();
    for (at, hop) in path.iter().enumerate() {
        if *hop == builder || !adversarial(hop) {
            continue;
        }
        let neighbours = [at.checked_sub(1), Some(at + 1)];
        seen.extend(
            neighbours
                .into_iter()
                .flatten()
                .filter_map(|n| path.get(n))
                .filter(|h| !adversarial(h)),
        );
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_day_is_a_utc_midnight() {
        let start = Instant::from_secs(1_767_225_600 + 23 * 3600); // 2026-01-01T23:00Z
        assert_eq!(
            Adversaries::attack_day(start, 0).utc_date_string(),
            "20260101"
        );
        let next = Adversaries::attack_day(start, 1);
        assert_eq!(next.utc_date_string(), "20260102");
        assert_eq!(next.as_secs() % DAY_SECS, 0);
    }
}
