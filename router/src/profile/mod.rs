//! Peer profiles and tiers: what this router has seen of each peer, summarised as capacity
//! and speed, and the peers sorted into the four tiers that tunnel peer selection draws
//! from.
//!
//! Only indirect measurements count, as the I2P peer-selection design requires: a peer's
//! own claims (bandwidth class, advertised capacity) and transport-level observations
//! could be forged or would tie measurements to the measuring router. What counts is
//! whether a peer accepted, rejected or ignored our tunnel build requests, whether our
//! tunnels through it passed their tests, and whether and how fast it answered netDb
//! lookups.
//!
//! - [`stats`]: decaying counters, so that recent behaviour weighs more.
//! - [`PeerProfile`]: one peer's counters and its capacity and speed.
//! - [`tiers`]: the periodic sort into fast, high capacity, not failing and failing.
//! - [`selection`]: choosing and ordering tunnel hops from the tiers.

pub mod selection;
pub mod stats;
pub mod tiers;

pub use selection::{check_path, HopOrder, PathError, SelectionRules, Selector};
pub use tiers::{Tier, TierConfig, Tiers};

use crate::data::Hash;
use crate::time::Instant;
use stats::DecayingCounter;
use std::collections::BTreeMap;
use std::time::Duration;

/// Something we observed about a peer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Observation {
    /// It accepted to join one of our tunnels.
    BuildAccepted,
    /// It declined (any reason): it is alive but busy.
    BuildRejected,
    /// It did not answer a build request in time: dead, overloaded or dropping.
    BuildTimedOut,
    /// A tunnel it is in passed a test, taking this long end to end.
    TunnelTestPassed(Duration),
    /// A tunnel it is in failed a test. Any hop may be at fault; the caller decides
    /// whom to charge (all hops share the blame).
    TunnelTestFailed,
    /// It answered a netDb lookup after this long.
    LookupAnswered(Duration),
    /// It did not answer a netDb lookup.
    LookupTimedOut,
}

/// Capacity horizons as counter half-lives, with their weights: how many tunnels a peer
/// would take, judged over three horizons with more weight on the recent past (our
/// numbers; the peer-selection page describes the time weighting without them).
const WINDOWS: [(Duration, f64); 3] = [
    (Duration::from_secs(10 * 60), 0.5),
    (Duration::from_secs(60 * 60), 0.3),
    (Duration::from_secs(24 * 60 * 60), 0.2),
];

/// Half-life of the counters that spot failing peers.
const RECENT: Duration = WINDOWS[0].0;

/// A rejection is a busy peer; a timeout or failed test may be a dead or cheating one,
/// so they weigh much more (the peer-selection page: "drops and test failures are
/// weighted much higher than rejections").
const REJECT_WEIGHT: f64 = 0.5;
const FAILURE_WEIGHT: f64 = 4.0;

/// Every peer starts with this much capacity, so that new peers get tried at all.
const CAPACITY_GROWTH: f64 = 1.0;

/// Smoothing of response times: the weight of the newest sample.
const LATENCY_SMOOTHING: f64 = 0.25;

/// What one router knows of one peer.
#[derive(Debug, Clone)]
pub struct PeerProfile {
    accepted: [DecayingCounter; 3],
    rejected: [DecayingCounter; 3],
    failed: [DecayingCounter; 3],
    /// Successes and failures of the last ten minutes, to spot failing peers.
    recent_ok: DecayingCounter,
    recent_failed: DecayingCounter,
    /// Smoothed response time (tunnel tests and lookups), in milliseconds.
    response_ms: Option<f64>,
    last_heard: Instant,
}

impl PeerProfile {
    fn new(now: Instant) -> Self {
        Self {
            accepted: Default::default(),
            rejected: Default::default(),
            failed: Default::default(),
            recent_ok: DecayingCounter::default(),
            recent_failed: DecayingCounter::default(),
            response_ms: None,
            last_heard: now,
        }
    }

    fn record(&mut self, now: Instant, observation: Observation) {
        let add = |counters: &mut [DecayingCounter; 3]| {
            for (c, (half_life, _)) in counters.iter_mut().zip(WINDOWS) {
                c.add(now, 1.0, half_life);
            }
        };
        let mut latency = None;
        let ok = match observation {
            Observation::BuildAccepted => {
                add(&mut self.accepted);
                true
            }
            Observation::BuildRejected => {
                add(&mut self.rejected);
                true // alive and answering
            }
            Observation::BuildTimedOut | Observation::TunnelTestFailed => {
                add(&mut self.failed);
                false
            }
            Observation::TunnelTestPassed(d) | Observation::LookupAnswered(d) => {
                latency = Some(d);
                true
            }
            Observation::LookupTimedOut => false,
        };
        if ok {
            self.recent_ok.add(now, 1.0, RECENT);
            self.last_heard = now;
        } else {
            self.recent_failed.add(now, 1.0, RECENT);
        }
        if let Some(d) = latency {
            let ms = d.as_secs_f64() * 1e3;
            self.response_ms = Some(match self.response_ms {
                None => ms,
                Some(old) => old + LATENCY_SMOOTHING * (ms - old),
            });
        }
    }

    /// How many tunnels this peer would accept from us, roughly per window: time-weighted
    /// accepts, less rejections and (heavily) failures.
    pub fn capacity(&self, now: Instant) -> f64 {
        let windows = WINDOWS.iter().enumerate().map(|(i, (half_life, weight))| {
            let accepted = self.accepted[i].value(now, *half_life);
            let rejected = self.rejected[i].value(now, *half_life);
            let failed = self.failed[i].value(now, *half_life);
            weight * (accepted - REJECT_WEIGHT * rejected - FAILURE_WEIGHT * failed)
        });
        CAPACITY_GROWTH + windows.sum::<f64>()
    }

    /// How fast this peer answers: responses per second at its smoothed response time.
    /// Zero until it has answered something.
    pub fn speed(&self) -> f64 {
        self.response_ms.map_or(0.0, |ms| 1000.0 / ms.max(1.0))
    }

    /// Whether most of what we asked of it lately went wrong.
    pub fn is_failing(&self, now: Instant) -> bool {
        let failed = self.recent_failed.value(now, RECENT);
        failed >= 2.0 && failed > self.recent_ok.value(now, RECENT)
    }

    pub fn last_heard(&self) -> Instant {
        self.last_heard
    }

    /// Every counter, in the fixed order of the saved format.
    fn counters(&self) -> impl Iterator<Item = &DecayingCounter> {
        self.accepted
            .iter()
            .chain(&self.rejected)
            .chain(&self.failed)
            .chain([&self.recent_ok, &self.recent_failed])
    }

    /// One record of [`Profiles::encode`].
    fn decode(record: &[u8; RECORD_LEN]) -> Option<(Hash, PeerProfile)> {
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&record[at..at + 8]);
            u64::from_be_bytes(b)
        };
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&record[..32]);
        let mut counters = [DecayingCounter::default(); COUNTERS];
        for (i, counter) in counters.iter_mut().enumerate() {
            let at = 32 + i * DecayingCounter::ENCODED_LEN;
            *counter = DecayingCounter::from_parts(word(at), word(at + 8))?;
        }
        let tail = 32 + COUNTERS * DecayingCounter::ENCODED_LEN;
        let response = f64::from_bits(word(tail));
        // -1 stands for "never answered" (see `encode`).
        let response_ms = if response == -1.0 {
            None
        } else if response.is_finite() && response >= 0.0 {
            Some(response)
        } else {
            return None;
        };
        let [a0, a1, a2, r0, r1, r2, f0, f1, f2, recent_ok, recent_failed] = counters;
        let profile = PeerProfile {
            accepted: [a0, a1, a2],
            rejected: [r0, r1, r2],
            failed: [f0, f1, f2],
            recent_ok,
            recent_failed,
            response_ms,
            last_heard: Instant::from_micros(word(tail + 8)),
        };
        Some((Hash::from(hash), profile))
    }
}

/// The profiles of every peer this router has dealt with.
#[derive(Debug, Default, Clone)]
pub struct Profiles {
    peers: BTreeMap<Hash, PeerProfile>,
}

impl Profiles {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, now: Instant, peer: Hash, observation: Observation) {
        self.peers
            .entry(peer)
            .or_insert_with(|| PeerProfile::new(now))
            .record(now, observation);
    }

    pub fn get(&self, peer: &Hash) -> Option<&PeerProfile> {
        self.peers.get(peer)
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Hash, &PeerProfile)> + '_ {
        self.peers.iter()
    }

    /// Forgets peers not heard from since `before`, keeping memory bounded.
    pub fn forget_before(&mut self, before: Instant) {
        self.peers.retain(|_, p| p.last_heard >= before);
    }

    /// Restores profiles saved by [`Profiles::encode`], e.g. after a restart; peers we
    /// already know keep their in-memory profile.
    pub fn merge(&mut self, saved: Profiles) {
        for (peer, profile) in saved.peers {
            self.peers.entry(peer).or_insert(profile);
        }
    }

    /// The profiles as bytes, for the real router's data directory: a magic and version,
    /// the count, then one fixed-size record per peer (our own format; I2P does not
    /// specify profile storage).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.peers.len() * RECORD_LEN);
        out.extend_from_slice(PROFILES_MAGIC);
        out.extend_from_slice(&(self.peers.len() as u32).to_be_bytes());
        for (peer, p) in &self.peers {
            out.extend_from_slice(peer.as_bytes());
            for counter in p.counters() {
                counter.emit(&mut out);
            }
            out.extend_from_slice(&p.response_ms.unwrap_or(-1.0).to_bits().to_be_bytes());
            out.extend_from_slice(&p.last_heard.as_micros().to_be_bytes());
        }
        out
    }

    /// Parses what [`Profiles::encode`] wrote; any damage is an error, never a panic or
    /// a half-read table.
    pub fn decode(bytes: &[u8]) -> Result<Profiles, ProfilesError> {
        let rest = bytes
            .strip_prefix(PROFILES_MAGIC.as_slice())
            .ok_or(ProfilesError::Magic)?;
        let (count, mut rest) = rest.split_first_chunk::<4>().ok_or(ProfilesError::Length)?;
        let count = u32::from_be_bytes(*count) as usize;
        if rest.len() != count.checked_mul(RECORD_LEN).ok_or(ProfilesError::Length)? {
            return Err(ProfilesError::Length);
        }
        let mut peers = BTreeMap::new();
        while let Some((record, tail)) = rest.split_first_chunk::<RECORD_LEN>() {
            rest = tail;
            let (peer, profile) = PeerProfile::decode(record).ok_or(ProfilesError::Value)?;
            peers.insert(peer, profile);
        }
        Ok(Profiles { peers })
    }
}

/// `encode`'s magic: "ramsons profiles", format 1.
const PROFILES_MAGIC: &[u8; 4] = b"RPF1";

/// Hash, eleven counters, the smoothed response time and the last-heard instant.
const RECORD_LEN: usize = 32 + COUNTERS * DecayingCounter::ENCODED_LEN + 8 + 8;
const COUNTERS: usize = 11;

/// Why saved profiles could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProfilesError {
    #[error("not a ramsons profiles file (bad magic or version)")]
    Magic,
    #[error("profiles file has the wrong length for its record count (truncated?)")]
    Length,
    #[error("profiles file holds an impossible value (corrupt?)")]
    Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Instant = Instant::from_secs(1_800_000_000);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn sample_profiles() -> Profiles {
        let mut profiles = Profiles::new();
        let observations = [
            Observation::BuildAccepted,
            Observation::BuildRejected,
            Observation::BuildTimedOut,
            Observation::TunnelTestPassed(Duration::from_millis(420)),
            Observation::LookupTimedOut,
        ];
        for (i, observation) in observations.into_iter().enumerate() {
            let peer = Hash::from([i as u8 % 3; 32]);
            profiles.record(T0 + secs(i as u64 * 7), peer, observation);
        }
        profiles
    }

    #[test]
    fn saved_profiles_decay_on_as_if_never_saved() {
        let profiles = sample_profiles();
        let bytes = profiles.encode();
        let restored = Profiles::decode(&bytes).expect("own encoding decodes");
        assert_eq!(restored.encode(), bytes);
        let later = T0 + secs(1800);
        for ((a, p), (b, q)) in profiles.iter().zip(restored.iter()) {
            assert_eq!(a, b);
            assert_eq!(p.capacity(later), q.capacity(later));
            assert_eq!(p.speed(), q.speed());
            assert_eq!(p.is_failing(later), q.is_failing(later));
        }
    }

    #[test]
    fn damaged_profiles_are_errors() {
        let bytes = sample_profiles().encode();
        assert!(matches!(
            Profiles::decode(b"nope"),
            Err(ProfilesError::Magic)
        ));
        assert!(matches!(
            Profiles::decode(&bytes[..bytes.len() - 1]),
            Err(ProfilesError::Length)
        ));
        let mut nan = bytes.clone();
        // The first counter's value of the first record becomes NaN.
        nan[8 + 32..8 + 40].copy_from_slice(&f64::NAN.to_bits().to_be_bytes());
        assert!(matches!(Profiles::decode(&nan), Err(ProfilesError::Value)));
        for cut in 0..bytes.len() {
            assert!(Profiles::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn accepts_raise_capacity_and_failures_lower_it_more_than_rejections() {
        let mut p = PeerProfile::new(T0);
        let fresh = p.capacity(T0);
        for _ in 0..10 {
            p.record(T0, Observation::BuildAccepted);
        }
        let accepted = p.capacity(T0);
        assert!(accepted > fresh);

        let mut rejecting = p.clone();
        let mut failing = p.clone();
        for _ in 0..4 {
            rejecting.record(T0, Observation::BuildRejected);
            failing.record(T0, Observation::BuildTimedOut);
        }
        assert!(rejecting.capacity(T0) < accepted);
        assert!(failing.capacity(T0) < rejecting.capacity(T0));
    }

    #[test]
    fn old_behaviour_fades() {
        let mut p = PeerProfile::new(T0);
        for _ in 0..10 {
            p.record(T0, Observation::BuildTimedOut);
        }
        assert!(p.is_failing(T0));
        let bad = p.capacity(T0);
        let later = T0 + secs(6 * 3600);
        assert!(
            !p.is_failing(later),
            "ten-minute failures are forgotten after hours"
        );
        assert!(p.capacity(later) > bad);
    }

    #[test]
    fn speed_follows_response_times() {
        let mut quick = PeerProfile::new(T0);
        let mut slow = PeerProfile::new(T0);
        assert_eq!(quick.speed(), 0.0);
        for _ in 0..5 {
            quick.record(T0, Observation::LookupAnswered(Duration::from_millis(80)));
            slow.record(
                T0,
                Observation::TunnelTestPassed(Duration::from_millis(900)),
            );
        }
        assert!(quick.speed() > slow.speed());
        assert!((quick.speed() - 12.5).abs() < 0.01);
    }

    #[test]
    fn profiles_forget_silent_peers() {
        let mut profiles = Profiles::new();
        profiles.record(T0, Hash([1; 32]), Observation::BuildAccepted);
        profiles.record(T0 + secs(3600), Hash([2; 32]), Observation::BuildAccepted);
        profiles.forget_before(T0 + secs(60));
        assert!(profiles.get(&Hash([1; 32])).is_none());
        assert!(profiles.get(&Hash([2; 32])).is_some());
    }
}
