//! The four tiers: fast ⊂ high capacity ⊂ not failing, and failing.
//!
//! Thresholds are dynamic, recomputed at every sort from the peers themselves: a peer is
//! high capacity when its capacity exceeds the median of the peers that are not failing,
//! and fast when, among the high-capacity peers, its speed is at least their mean. Tier
//! sizes are then held within bounds (DESIGN.md): the fast tier has at least
//! min(40, 6 x clients + 6) and at most 75 peers, high capacity 10 to 150.

use super::{PeerProfile, Profiles};
use crate::data::Hash;
use crate::time::Instant;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::Duration;

/// A peer's tier, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Fast,
    HighCapacity,
    NotFailing,
    Failing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TierConfig {
    /// Client destinations on this router: each wants fast peers of its own.
    pub clients: usize,
    pub fast_max: usize,
    pub high_capacity_min: usize,
    pub high_capacity_max: usize,
    /// How often the tiers are re-sorted.
    pub interval: Duration,
}

impl Default for TierConfig {
    fn default() -> Self {
        Self {
            clients: 0,
            fast_max: 75,
            high_capacity_min: 10,
            high_capacity_max: 150,
            interval: Duration::from_secs(45),
        }
    }
}

impl TierConfig {
    pub fn fast_min(&self) -> usize {
        (6 * self.clients + 6).min(40)
    }
}

/// One sort of the peers into tiers. Each list is in hash order, so that what is drawn
/// from it depends only on its members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tiers {
    fast: Vec<Hash>,
    high_capacity: Vec<Hash>,
    not_failing: Vec<Hash>,
    failing: Vec<Hash>,
    capacity_threshold: f64,
    speed_threshold: f64,
    sorted_at: Instant,
}

/// A candidate with what the sort looks at.
struct Scored {
    peer: Hash,
    capacity: f64,
    speed: f64,
}

/// Best first, ties broken by hash so that the sort is a total order.
fn by_desc(a: f64, b: f64, ha: &Hash, hb: &Hash) -> Ordering {
    b.total_cmp(&a).then_with(|| ha.cmp(hb))
}

impl Tiers {
    /// Sorts `candidates` (the peers we could use, e.g. every router in the netDb) into
    /// tiers from their profiles. A candidate without a profile is not failing, with the
    /// capacity a new peer starts with and no speed.
    pub fn sort(
        profiles: &Profiles,
        candidates: impl IntoIterator<Item = Hash>,
        now: Instant,
        config: &TierConfig,
    ) -> Tiers {
        let fresh = PeerProfile::new(now);
        let mut failing = Vec::new();
        let mut usable = Vec::new();
        for peer in candidates {
            let profile = profiles.get(&peer).unwrap_or(&fresh);
            if profile.is_failing(now) {
                failing.push(peer);
            } else {
                usable.push(Scored {
                    peer,
                    capacity: profile.capacity(now),
                    speed: profile.speed(),
                });
            }
        }

        // High capacity: above the median, best first, within bounds.
        usable.sort_by(|a, b| by_desc(a.capacity, b.capacity, &a.peer, &b.peer));
        let capacity_threshold = usable.get(usable.len() / 2).map_or(0.0, |s| s.capacity);
        let above = usable
            .iter()
            .take_while(|s| s.capacity > capacity_threshold)
            .count();
        let high_count = above
            .max(config.high_capacity_min)
            .min(config.high_capacity_max)
            .min(usable.len());
        let high = &usable[..high_count];

        // Fast: high-capacity peers at least as fast as their mean, fastest first.
        let speed_threshold = if high.is_empty() {
            0.0
        } else {
            high.iter().map(|s| s.speed).sum::<f64>() / high.len() as f64
        };
        let mut by_speed: Vec<&Scored> = high.iter().collect();
        by_speed.sort_by(|a, b| by_desc(a.speed, b.speed, &a.peer, &b.peer));
        let fast_enough = by_speed
            .iter()
            .take_while(|s| s.speed >= speed_threshold && s.speed > 0.0)
            .count();
        let fast_count = fast_enough
            .max(config.fast_min())
            .min(config.fast_max)
            .min(by_speed.len());

        let sorted = |mut v: Vec<Hash>| {
            v.sort_unstable();
            v
        };
        Tiers {
            fast: sorted(by_speed[..fast_count].iter().map(|s| s.peer).collect()),
            high_capacity: sorted(high.iter().map(|s| s.peer).collect()),
            not_failing: sorted(usable.iter().map(|s| s.peer).collect()),
            failing: sorted(failing),
            capacity_threshold,
            speed_threshold,
            sorted_at: now,
        }
    }

    pub fn fast(&self) -> &[Hash] {
        &self.fast
    }

    pub fn high_capacity(&self) -> &[Hash] {
        &self.high_capacity
    }

    pub fn not_failing(&self) -> &[Hash] {
        &self.not_failing
    }

    pub fn failing(&self) -> &[Hash] {
        &self.failing
    }

    /// The peers of `tier` (for the nested tiers, including the narrower ones).
    pub fn members(&self, tier: Tier) -> &[Hash] {
        match tier {
            Tier::Fast => &self.fast,
            Tier::HighCapacity => &self.high_capacity,
            Tier::NotFailing => &self.not_failing,
            Tier::Failing => &self.failing,
        }
    }

    /// The most specific tier of `peer`, if it was a candidate.
    pub fn tier_of(&self, peer: &Hash) -> Option<Tier> {
        [
            Tier::Fast,
            Tier::HighCapacity,
            Tier::NotFailing,
            Tier::Failing,
        ]
        .into_iter()
        .find(|t| self.members(*t).binary_search(peer).is_ok())
    }

    /// The thresholds of this sort: (capacity, speed).
    pub fn thresholds(&self) -> (f64, f64) {
        (self.capacity_threshold, self.speed_threshold)
    }

    /// Whether it is time to sort again.
    pub fn due(&self, now: Instant, config: &TierConfig) -> bool {
        now >= self.sorted_at + config.interval || self.not_failing.is_empty()
    }

    /// Tier sizes, for metrics.
    pub fn sizes(&self) -> BTreeMap<Tier, usize> {
        [
            Tier::Fast,
            Tier::HighCapacity,
            Tier::NotFailing,
            Tier::Failing,
        ]
        .into_iter()
        .map(|t| (t, self.members(t).len()))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Observation;
    use super::*;

    const T0: Instant = Instant::from_secs(1_800_000_000);

    fn peer(i: u8) -> Hash {
        Hash([i; 32])
    }

    /// 100 peers: the first 30 accept everything (the first 10 of them also answer
    /// fast), the next 60 say nothing, the last 10 time out.
    fn network() -> (Profiles, Vec<Hash>) {
        let mut profiles = Profiles::new();
        for i in 0..100u8 {
            let p = peer(i);
            let obs: &[Observation] = match i {
                0..=9 => &[
                    Observation::BuildAccepted,
                    Observation::BuildAccepted,
                    Observation::TunnelTestPassed(Duration::from_millis(100)),
                ],
                10..=29 => &[
                    Observation::BuildAccepted,
                    Observation::BuildAccepted,
                    Observation::TunnelTestPassed(Duration::from_millis(2000)),
                ],
                90..=99 => &[Observation::BuildTimedOut, Observation::BuildTimedOut],
                _ => &[],
            };
            for o in obs {
                profiles.record(T0, p, *o);
            }
        }
        (profiles, (0..100).map(peer).collect())
    }

    #[test]
    fn tiers_nest_and_follow_the_profiles() {
        let (profiles, candidates) = network();
        let config = TierConfig {
            clients: 0, // fast tier at least 6
            ..TierConfig::default()
        };
        let tiers = Tiers::sort(&profiles, candidates, T0, &config);
        assert_eq!(tiers.failing(), (90..100).map(peer).collect::<Vec<_>>());
        assert_eq!(tiers.not_failing().len(), 90);
        assert_eq!(tiers.high_capacity(), (0..30).map(peer).collect::<Vec<_>>());
        assert_eq!(tiers.fast(), (0..10).map(peer).collect::<Vec<_>>());
        for p in tiers.fast() {
            assert!(tiers.high_capacity().contains(p));
        }
        assert_eq!(tiers.tier_of(&peer(3)), Some(Tier::Fast));
        assert_eq!(tiers.tier_of(&peer(20)), Some(Tier::HighCapacity));
        assert_eq!(tiers.tier_of(&peer(50)), Some(Tier::NotFailing));
        assert_eq!(tiers.tier_of(&peer(95)), Some(Tier::Failing));
        assert_eq!(tiers.tier_of(&peer(200)), None);
    }

    #[test]
    fn tier_sizes_are_held_within_bounds() {
        let (profiles, candidates) = network();
        // Six clients want at least 40 fast peers: the fast tier tops up from the
        // high-capacity tier, which itself holds only the 30 peers above the median.
        let config = TierConfig {
            clients: 6,
            ..TierConfig::default()
        };
        let tiers = Tiers::sort(&profiles, candidates.clone(), T0, &config);
        assert_eq!(tiers.fast().len(), 30);
        let config = TierConfig {
            fast_max: 4,
            high_capacity_max: 12,
            ..TierConfig::default()
        };
        let tiers = Tiers::sort(&profiles, candidates, T0, &config);
        assert_eq!(tiers.fast().len(), 4);
        assert_eq!(tiers.high_capacity().len(), 12);
    }

    #[test]
    fn a_sort_is_due_after_the_interval() {
        let (profiles, candidates) = network();
        let config = TierConfig::default();
        let tiers = Tiers::sort(&profiles, candidates, T0, &config);
        assert!(!tiers.due(T0 + Duration::from_secs(44), &config));
        assert!(tiers.due(T0 + Duration::from_secs(45), &config));
    }
}
