//! Multihoming seen from the netDb: from the LeaseSets of one destination that floodfills
//! received, is the destination hosted on several routers, and on how many?
//!
//! Today's multihoming runs the same keys on several routers; each builds its own inbound
//! tunnels and publishes its own LeaseSet2, and floodfills keep whichever was published
//! last. Proposal 140 ("Invisible Multihoming") says an observer of the netDb can tell.
//! The estimator here exploits how a router republishes: whenever its inbound tunnels
//! change, with the tunnels that have not changed still in the new LeaseSet (a tunnel is
//! rebuilt about 90 s before it expires, and both are listed meanwhile). LeaseSets that
//! share a lease (gateway and tunnel id) come from the same router, so linking them gives
//! one chain per router and tunnel generation; chains that are alive at the same time can
//! only be different routers. A chain's life runs from its first LeaseSet's published
//! time to its last one's, so a single router that loses all its tunnels at once starts a
//! new chain after the old one ended, not beside it.
//!
//! Two further signals are reported, not used for the verdict: the publish rate (distinct
//! LeaseSets per hour grow with the routers) and published times that go backwards in the
//! order the floodfills received them (two routers publishing in turn).
//!
//! Everything here is a pure function of the observations: the simulator calls it at the
//! end of a run and tests call it on synthetic sequences.

use crate::records::MultihomingRecord;
use std::collections::BTreeMap;

/// A lease as an observer identifies it: the inbound gateway and the tunnel id.
pub type LeaseKey = (u64, u32);

/// One LeaseSet of the destination as a floodfill received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    /// When a floodfill received it.
    pub seen_s: f64,
    /// The LeaseSet's published time.
    pub published_s: f64,
    pub leases: Vec<LeaseKey>,
}

impl Sighting {
    pub fn from_record(record: &MultihomingRecord) -> Sighting {
        Sighting {
            seen_s: record.time_s,
            published_s: record.published_s,
            leases: record
                .parsed_leases()
                .into_iter()
                .map(|(gateway, tunnel, _)| (gateway, tunnel))
                .collect(),
        }
    }
}

/// LeaseSets that share a lease, linked: one router's LeaseSets while its tunnels overlap.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub first_published_s: f64,
    pub last_published_s: f64,
    pub lease_sets: usize,
}

/// What the estimator makes of one destination's LeaseSets.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Distinct LeaseSets seen (the same one stored and flooded counts once).
    pub lease_sets: usize,
    pub chains: usize,
    /// Most chains alive at one time: the estimated number of routers (0 without
    /// observations).
    pub estimated_routers: usize,
    /// More than one router at some time.
    pub multihomed: bool,
    /// Distinct LeaseSets per hour over the span they were seen in (0 for fewer than two).
    pub publishes_per_hour: f64,
    /// Distinct LeaseSets first seen after one published later than them.
    pub backwards: usize,
    /// Distinct inbound gateways named by the leases: more routers, more gateways,
    /// unless they share a small set of them (the mitigation).
    pub gateways: usize,
}

/// The distinct LeaseSets among `sightings` (same published time and leases), each at the
/// time it was first seen, in the order they were first seen.
pub fn distinct(sightings: &[Sighting]) -> Vec<Sighting> {
    let mut first: BTreeMap<(u64, Vec<LeaseKey>), Sighting> = BTreeMap::new();
    for s in sightings {
        let mut leases = s.leases.clone();
        leases.sort_unstable();
        leases.dedup();
        let key = (s.published_s.to_bits(), leases.clone());
        let entry = first.entry(key).or_insert_with(|| Sighting {
            leases,
            ..s.clone()
        });
        if s.seen_s < entry.seen_s {
            entry.seen_s = s.seen_s;
        }
    }
    let mut out: Vec<Sighting> = first.into_values().collect();
    out.sort_by(|a, b| {
        a.seen_s
            .total_cmp(&b.seen_s)
            .then(a.published_s.total_cmp(&b.published_s))
            .then_with(|| a.leases.cmp(&b.leases))
    });
    out
}

/// Links LeaseSets that share a lease (union-find over `lease_sets`); chains come out
/// sorted by their first published time.
pub fn chains(lease_sets: &[Sighting]) -> Vec<Chain> {
    let mut parent: Vec<usize> = (0..lease_sets.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: BTreeMap<LeaseKey, usize> = BTreeMap::new();
    for (i, ls) in lease_sets.iter().enumerate() {
        for lease in &ls.leases {
            match owner.get(lease) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    owner.insert(*lease, i);
                }
            }
        }
    }
    let mut by_root: BTreeMap<usize, Chain> = BTreeMap::new();
    for (i, ls) in lease_sets.iter().enumerate() {
        let r = root(&mut parent, i);
        let chain = by_root.entry(r).or_insert(Chain {
            first_published_s: ls.published_s,
            last_published_s: ls.published_s,
            lease_sets: 0,
        });
        chain.first_published_s = chain.first_published_s.min(ls.published_s);
        chain.last_published_s = chain.last_published_s.max(ls.published_s);
        chain.lease_sets += 1;
    }
    let mut out: Vec<Chain> = by_root.into_values().collect();
    out.sort_by(|a, b| a.first_published_s.total_cmp(&b.first_published_s));
    out
}

/// Most chains alive at one instant, a chain being alive from its first published time to
/// its last, both included.
pub fn max_concurrent(chains: &[Chain]) -> usize {
    // Starts sort before ends at the same time: closed intervals that touch overlap.
    let mut events: Vec<(f64, i32)> = chains
        .iter()
        .flat_map(|c| [(c.first_published_s, 0), (c.last_published_s, 1)])
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut alive, mut most) = (0usize, 0usize);
    for (_, kind) in events {
        if kind == 0 {
            alive += 1;
            most = most.max(alive);
        } else {
            alive = alive.saturating_sub(1);
        }
    }
    most
}

/// The estimator's verdict on one destination's sightings (any order, duplicates allowed).
pub fn estimate(sightings: &[Sighting]) -> Verdict {
    let lease_sets = distinct(sightings);
    let chains = chains(&lease_sets);
    let estimated_routers = max_concurrent(&chains);
    let mut latest = f64::NEG_INFINITY;
    let mut backwards = 0;
    for ls in &lease_sets {
        if ls.published_s < latest {
            backwards += 1;
        }
        latest = latest.max(ls.published_s);
    }
    let publishes_per_hour = match (lease_sets.first(), lease_sets.last()) {
        (Some(a), Some(b)) if lease_sets.len() > 1 && b.seen_s > a.seen_s => {
            (lease_sets.len() - 1) as f64 * 3600.0 / (b.seen_s - a.seen_s)
        }
        _ => 0.0,
    };
    let gateways: std::collections::BTreeSet<u64> = lease_sets
        .iter()
        .flat_map(|ls| ls.leases.iter().map(|(gateway, _)| *gateway))
        .collect();
    Verdict {
        gateways: gateways.len(),
        lease_sets: lease_sets.len(),
        chains: chains.len(),
        estimated_routers,
        multihomed: estimated_routers > 1,
        publishes_per_hour,
        backwards,
    }
}

/// Verdicts per destination over the rows of `multihoming.csv` that `keep` admits (all
/// floodfills, or the colluding ones).
pub fn estimate_all(
    records: &[MultihomingRecord],
    keep: impl Fn(&MultihomingRecord) -> bool,
) -> BTreeMap<u64, Verdict> {
    let mut by_destination: BTreeMap<u64, Vec<Sighting>> = BTreeMap::new();
    for r in records.iter().filter(|r| keep(r)) {
        by_destination
            .entry(r.destination)
            .or_default()
            .push(Sighting::from_record(r));
    }
    by_destination
        .into_iter()
        .map(|(d, s)| (d, estimate(&s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Router `r` publishes `count` LeaseSets `period` seconds apart from `offset`, each
    /// with its current tunnel and the next one (tunnel ids unique per router), as a router
    /// rebuilding one tunnel at a time does.
    fn router_chain(r: u64, offset: f64, period: f64, count: u32) -> Vec<Sighting> {
        // Tunnel `n` of router `r`: its gateway (a few gateways, shared between routers)
        // and an id unique to the router.
        let lease = |r: u64, n: u32| (u64::from(n % 5), r as u32 * 1000 + n);
        (0..count)
            .map(|j| {
                let t = offset + f64::from(j) * period;
                Sighting {
                    seen_s: t + 0.5,
                    published_s: t,
                    leases: vec![lease(r, j), lease(r, j + 1)],
                }
            })
            .collect()
    }

    #[test]
    fn one_router_is_one_chain() {
        let v = estimate(&router_chain(0, 0.0, 300.0, 10));
        assert_eq!((v.lease_sets, v.chains, v.estimated_routers), (10, 1, 1));
        assert!(!v.multihomed);
        assert_eq!(v.backwards, 0);
        assert_eq!(v.gateways, 5);
        assert!((v.publishes_per_hour - 12.0).abs() < 1e-9);
    }

    #[test]
    fn a_broken_chain_is_not_a_second_router() {
        // All tunnels lost at once: the next LeaseSet shares nothing with the last.
        let mut s = router_chain(0, 0.0, 300.0, 5);
        s.extend(router_chain(7, 1500.0, 300.0, 5));
        let v = estimate(&s);
        assert_eq!((v.chains, v.estimated_routers), (2, 1));
        assert!(!v.multihomed);
    }

    #[test]
    fn two_interleaved_routers_are_two() {
        let mut s = router_chain(0, 0.0, 300.0, 10);
        s.extend(router_chain(1, 150.0, 300.0, 10));
        let v = estimate(&s);
        assert_eq!((v.chains, v.estimated_routers), (2, 2));
        assert!(v.multihomed);
    }

    #[test]
    fn published_times_going_backwards_are_counted() {
        let s = [
            Sighting {
                seen_s: 10.0,
                published_s: 9.0,
                leases: vec![(1, 1)],
            },
            Sighting {
                seen_s: 11.0,
                published_s: 5.0,
                leases: vec![(2, 2)],
            },
        ];
        assert_eq!(estimate(&s).backwards, 1);
    }

    #[test]
    fn nothing_seen_is_no_router() {
        let v = estimate(&[]);
        assert_eq!((v.lease_sets, v.estimated_routers), (0, 0));
        assert!(!v.multihomed);
    }

    #[test]
    fn records_are_grouped_by_destination() {
        let row = |d: u64, colluding: bool, leases: &str| MultihomingRecord {
            time_s: 1.0,
            destination: d,
            colluding,
            published_s: 1.0,
            leases: leases.to_owned(),
            ..MultihomingRecord::default()
        };
        let rows = [
            row(0, true, "5:10:600 6:11:600"),
            row(0, false, "7:12:600"),
            row(3, false, "5:10:600"),
        ];
        let all = estimate_all(&rows, |_| true);
        assert_eq!(all.len(), 2);
        assert_eq!(all[&0].estimated_routers, 2);
        let colluding = estimate_all(&rows, |r| r.colluding);
        assert_eq!(colluding[&0].estimated_routers, 1);
        assert!(!colluding.contains_key(&3));
    }

    proptest! {
        /// k routers republishing over the same window are estimated as k, whatever the
        /// order the sightings arrive in and however often each is seen.
        #[test]
        fn interleaved_routers_are_counted(
            k in 1u64..8,
            period in 60.0f64..900.0,
            count in 3u32..20,
            offsets in proptest::collection::vec(0.0f64..1.0, 8),
            copies in 1usize..4,
            rotate in 0usize..1000,
        ) {
            let mut s = Vec::new();
            for r in 0..k {
                // Starts within the first period, so every chain spans the others' middle.
                let chain = router_chain(r, offsets[r as usize] * period, period, count);
                for _ in 0..copies {
                    s.extend(chain.iter().cloned());
                }
            }
            let n = s.len();
            s.rotate_left(rotate % n);
            let v = estimate(&s);
            prop_assert_eq!(v.estimated_routers, k as usize);
            prop_assert_eq!(v.chains, k as usize);
            prop_assert_eq!(v.lease_sets, (k as usize) * count as usize);
            prop_assert_eq!(v.multihomed, k > 1);
        }

        /// A single router whose chain breaks any number of times is never multihomed.
        #[test]
        fn one_router_with_breaks_is_one(
            breaks in proptest::collection::vec(1u32..6, 1..6),
            period in 60.0f64..900.0,
        ) {
            let mut s = Vec::new();
            let mut t = 0.0;
            for (i, len) in breaks.iter().enumerate() {
                s.extend(router_chain(i as u64, t, period, *len));
                t += f64::from(*len) * period;
            }
            let v = estimate(&s);
            prop_assert_eq!(v.estimated_routers, 1);
            prop_assert_eq!(v.chains, breaks.len());
        }
    }
}
