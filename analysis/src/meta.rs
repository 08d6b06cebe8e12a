//! Meta LeaseSets (proposal 123) seen from the netDb: what a service that spreads itself
//! over several routers through a MetaLeaseSet tells everyone about those routers.
//!
//! Each router (edge) runs a destination of its own and publishes its LeaseSet2 as any
//! destination does; the service signs a MetaLeaseSet listing the edges' destinations,
//! and senders look it up, then one of the listed LeaseSets. So the MetaLeaseSet says
//! outright on how many routers the service runs, and anyone who looks up each listed
//! destination learns which of them are online: a router that goes down stops
//! publishing, and its last LeaseSet2 dies with its leases.
//!
//! The view scored here is that of an observer who asks the netDb about every listed
//! destination continuously: at time `t` it believes an edge online when the newest
//! LeaseSet2 of the edge received by then still has a lease alive at `t`, which is what
//! a lookup at `t` would return. With every floodfill's stores this is the netDb's
//! answer to a prober's lookups; with a colluding minority's it is what they can say
//! without asking. The truth is when each edge's router was up (`edges.csv`).
//!
//! Everything here is a pure function of the records.

use crate::records::{EdgeRecord, MetaLeaseSetRecord, MultihomingRecord};
use std::collections::BTreeMap;

/// The edges the newest MetaLeaseSet of `destination` among `records` lists (by
/// published time; received first wins a tie), if any was seen.
pub fn listed(records: &[MetaLeaseSetRecord], destination: u64) -> Option<Vec<u64>> {
    records
        .iter()
        .filter(|r| r.destination == destination)
        .fold(None::<&MetaLeaseSetRecord>, |newest, r| match newest {
            Some(n) if n.published_s >= r.published_s => Some(n),
            _ => Some(r),
        })
        .map(MetaLeaseSetRecord::listed_edges)
}

/// One edge's LeaseSet2s as the observer received them: (received, published, end of
/// the last lease), in the order received.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeSightings(Vec<(f64, f64, f64)>);

impl EdgeSightings {
    /// The rows of `records` for `edge` of `destination`.
    pub fn of(records: &[MultihomingRecord], destination: u64, edge: u64) -> EdgeSightings {
        let mut seen: Vec<(f64, f64, f64)> = records
            .iter()
            .filter(|r| r.destination == destination && r.edge == Some(edge))
            .map(|r| {
                let end = r
                    .parsed_leases()
                    .iter()
                    .map(|(_, _, end)| *end)
                    .fold(f64::NEG_INFINITY, f64::max);
                (r.time_s, r.published_s, end)
            })
            .collect();
        seen.sort_by(|a, b| a.0.total_cmp(&b.0));
        EdgeSightings(seen)
    }

    /// Whether the view received no LeaseSet2 of the edge at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a lookup at `t` finds the edge reachable: the newest LeaseSet2 received
    /// by `t` has a lease alive at `t`.
    pub fn online_at(&self, t: f64) -> bool {
        self.0
            .iter()
            .take_while(|(seen, ..)| *seen <= t)
            .fold(
                None::<(f64, f64)>,
                |newest, &(_, published, end)| match newest {
                    Some((p, _)) if p >= published => newest,
                    _ => Some((published, end)),
                },
            )
            .is_some_and(|(_, end)| end > t)
    }
}

/// When one edge's router was up: its transitions, in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeTruth(Vec<(f64, bool)>);

impl EdgeTruth {
    /// The transitions `records` give for `edge` of `destination`.
    pub fn of(records: &[EdgeRecord], destination: u64, edge: u64) -> EdgeTruth {
        let mut changes: Vec<(f64, bool)> = records
            .iter()
            .filter(|r| r.destination == destination && r.edge == edge)
            .map(|r| (r.time_s, r.online))
            .collect();
        changes.sort_by(|a, b| a.0.total_cmp(&b.0));
        EdgeTruth(changes)
    }

    /// Whether the router was up at `t` (down before its first start).
    pub fn online_at(&self, t: f64) -> bool {
        self.0
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .is_some_and(|(_, up)| *up)
    }

    /// The transitions after `from` and before `to`, each with when the next one comes
    /// (or `to`).
    fn changes(&self, from: f64, to: f64) -> Vec<(f64, bool, f64)> {
        let inside: Vec<(f64, bool)> = self
            .0
            .iter()
            .copied()
            .filter(|(at, _)| *at > from && *at < to)
            .collect();
        inside
            .iter()
            .enumerate()
            .map(|(i, &(at, up))| (at, up, inside.get(i + 1).map_or(to, |n| n.0)))
            .collect()
    }
}

/// How well the view tells which edges are online, over a time window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnlineScore {
    /// (edge, time) samples scored.
    pub samples: usize,
    /// Share of the samples where the view agrees with the truth.
    pub accuracy: f64,
    /// Routers going down after the window's start, and those the view noticed before
    /// they came back (or the window ended).
    pub downs: usize,
    pub downs_noticed: usize,
    /// Mean time from a router going down to the view saying so, over those noticed.
    pub down_lag_s: Option<f64>,
    /// Routers coming up in the window, those the view noticed, and the mean lag.
    pub ups: usize,
    pub ups_noticed: usize,
    pub up_lag_s: Option<f64>,
}

/// Scores the view of `sightings` against `truth` for each edge, sampling every
/// `step_s` seconds from `from_s` to `to_s`. `edges` pairs each edge's sightings with its
/// truth.
pub fn score(
    edges: &[(EdgeSightings, EdgeTruth)],
    from_s: f64,
    to_s: f64,
    step_s: f64,
) -> OnlineScore {
    let mut out = OnlineScore::default();
    let mut right = 0usize;
    let mut down_lags = Vec::new();
    let mut up_lags = Vec::new();
    let steps = ((to_s - from_s) / step_s).floor().max(0.0) as usize;
    let times: Vec<f64> = (0..=steps).map(|i| from_s + i as f64 * step_s).collect();
    for (view, truth) in edges {
        for &t in &times {
            out.samples += 1;
            right += usize::from(view.online_at(t) == truth.online_at(t));
        }
        for (at, up, until) in truth.changes(from_s, to_s) {
            // Noticed only before the truth changes again.
            let noticed = times
                .iter()
                .copied()
                .filter(|t| *t >= at && *t < until)
                .find(|t| view.online_at(*t) == up)
                .map(|t| t - at);
            let (count, seen, lags) = if up {
                (&mut out.ups, &mut out.ups_noticed, &mut up_lags)
            } else {
                (&mut out.downs, &mut out.downs_noticed, &mut down_lags)
            };
            *count += 1;
            if let Some(lag) = noticed {
                *seen += 1;
                lags.push(lag);
            }
        }
    }
    out.accuracy = if out.samples == 0 {
        0.0
    } else {
        right as f64 / out.samples as f64
    };
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    out.down_lag_s = mean(&down_lags);
    out.up_lag_s = mean(&up_lags);
    out
}

/// What a view of the netDb makes of one meta destination.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaVerdict {
    /// Edges its newest MetaLeaseSet lists (`None`: the view saw none).
    pub listed: Option<usize>,
    /// Edges it runs on (the truth), and those the view saw a LeaseSet2 of.
    pub edges: usize,
    pub edges_seen: usize,
    /// How well the view tells which of the edges it saw are online (`None` if it saw
    /// none): of the others it knows nothing, and "always down" would notice every
    /// outage at once.
    pub online: Option<OnlineScore>,
}

/// Every meta destination's verdict, from a run's records as far as `keep` admits the
/// floodfills' (floodfill, colluding), scored every `step_s` seconds from `from_s` to
/// `to_s`.
pub fn judge_all(
    sightings: &[MultihomingRecord],
    metas: &[MetaLeaseSetRecord],
    truth: &[EdgeRecord],
    keep: impl Fn(u64, bool) -> bool,
    (from_s, to_s, step_s): (f64, f64, f64),
) -> BTreeMap<u64, MetaVerdict> {
    let seen: Vec<MetaLeaseSetRecord> = metas
        .iter()
        .filter(|r| keep(r.floodfill, r.colluding))
        .cloned()
        .collect();
    edges_of(sightings, truth, |r| keep(r.floodfill, r.colluding))
        .into_iter()
        .map(|(d, pairs)| {
            let edges = pairs.len();
            let seen_pairs: Vec<_> = pairs.into_iter().filter(|(v, _)| !v.is_empty()).collect();
            let verdict = MetaVerdict {
                listed: listed(&seen, d).map(|l| l.len()),
                edges,
                edges_seen: seen_pairs.len(),
                online: (!seen_pairs.is_empty()).then(|| score(&seen_pairs, from_s, to_s, step_s)),
            };
            (d, verdict)
        })
        .collect()
}

/// Every meta destination's edges, paired with their truth, from a run's records: the
/// edges named in `edges.csv`, each with its sightings among the rows `keep` admits.
pub fn edges_of(
    sightings: &[MultihomingRecord],
    truth: &[EdgeRecord],
    keep: impl Fn(&MultihomingRecord) -> bool,
) -> BTreeMap<u64, Vec<(EdgeSightings, EdgeTruth)>> {
    let kept: Vec<MultihomingRecord> = sightings.iter().filter(|r| keep(r)).cloned().collect();
    let mut edges: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for r in truth {
        let list = edges.entry(r.destination).or_default();
        if !list.contains(&r.edge) {
            list.push(r.edge);
        }
    }
    edges
        .into_iter()
        .map(|(d, mut list)| {
            list.sort_unstable();
            let pairs = list
                .into_iter()
                .map(|e| (EdgeSightings::of(&kept, d, e), EdgeTruth::of(truth, d, e)))
                .collect();
            (d, pairs)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(t: f64, edge: u64, published: f64, end: f64) -> MultihomingRecord {
        MultihomingRecord {
            time_s: t,
            destination: 0,
            published_s: published,
            leases: format!("7:1:{end} 8:2:{}", end - 60.0),
            edge: Some(edge),
            ..MultihomingRecord::default()
        }
    }

    fn edge(t: f64, e: u64, online: bool) -> EdgeRecord {
        EdgeRecord {
            time_s: t,
            destination: 0,
            edge: e,
            router: 10 + e,
            online,
        }
    }

    #[test]
    fn the_newest_listing_counts() {
        let meta = |published: f64, listed: &str| MetaLeaseSetRecord {
            published_s: published,
            listed: listed.into(),
            ..MetaLeaseSetRecord::default()
        };
        let rows = [meta(100.0, "0 1 2"), meta(300.0, "0 ? 2"), meta(200.0, "0")];
        assert_eq!(listed(&rows, 0), Some(vec![0, 2]));
        assert_eq!(listed(&rows, 1), None);
    }

    #[test]
    fn an_edge_is_online_while_its_newest_lease_set_has_a_live_lease() {
        let view = EdgeSightings::of(
            &[
                ls(100.0, 0, 90.0, 700.0),
                ls(400.0, 0, 380.0, 1000.0),
                ls(500.0, 0, 200.0, 5000.0),
            ],
            0,
            0,
        );
        assert!(!view.online_at(50.0), "nothing seen yet");
        assert!(view.online_at(100.0));
        assert!(view.online_at(999.0));
        // The store received last was published earlier: a lookup returns the newer one.
        assert!(!view.online_at(1000.0));
        assert_eq!(
            EdgeSightings::of(&[ls(1.0, 1, 0.0, 9.0)], 0, 0),
            EdgeSightings::default()
        );
    }

    #[test]
    fn lags_and_accuracy_against_the_truth() {
        // Edge 0 is up from 0 to 1000 and again from 2000; its LeaseSets (republished
        // every 300 s, leases of 600 s) stop when it goes down and resume 120 s after
        // it comes back.
        let mut rows = Vec::new();
        for k in 0..4 {
            let t = f64::from(k) * 300.0;
            rows.push(ls(t, 0, t, t + 600.0));
        }
        for k in 0..4 {
            let t = 2120.0 + f64::from(k) * 300.0;
            rows.push(ls(t, 0, t, t + 600.0));
        }
        let truth = EdgeTruth::of(
            &[
                edge(0.0, 0, true),
                edge(1000.0, 0, false),
                edge(2000.0, 0, true),
            ],
            0,
            0,
        );
        let view = EdgeSightings::of(&rows, 0, 0);
        let s = score(&[(view, truth)], 0.0, 3000.0, 10.0);
        // Down at 1000, the last lease (published 900) ends at 1500: 500 s late. Up at
        // 2000, first seen at 2120.
        assert_eq!(
            (s.downs, s.downs_noticed, s.down_lag_s),
            (1, 1, Some(500.0))
        );
        assert_eq!((s.ups, s.ups_noticed, s.up_lag_s), (1, 1, Some(120.0)));
        assert_eq!(s.samples, 301);
        // Wrong from 1000 to 1490 (50 samples) and 2000 to 2110 (12 samples).
        assert!((s.accuracy - (301.0 - 62.0) / 301.0).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn a_short_outage_can_go_unnoticed() {
        let rows: Vec<MultihomingRecord> = (0..10)
            .map(|k| {
                let t = f64::from(k) * 300.0;
                ls(t, 0, t, t + 600.0)
            })
            .collect();
        let truth = EdgeTruth::of(
            &[
                edge(0.0, 0, true),
                edge(1000.0, 0, false),
                edge(1100.0, 0, true),
            ],
            0,
            0,
        );
        let s = score(
            &[(EdgeSightings::of(&rows, 0, 0), truth)],
            0.0,
            3000.0,
            10.0,
        );
        assert_eq!((s.downs, s.downs_noticed, s.down_lag_s), (1, 0, None));
        assert_eq!((s.ups, s.ups_noticed, s.up_lag_s), (1, 1, Some(0.0)));
    }

    #[test]
    fn edges_come_from_the_truth_and_the_view_is_filtered() {
        let mut hidden = ls(10.0, 1, 10.0, 600.0);
        hidden.colluding = false;
        let mut shown = ls(10.0, 0, 10.0, 600.0);
        shown.colluding = true;
        let truth = [edge(0.0, 0, true), edge(0.0, 1, true)];
        let pairs = edges_of(&[hidden, shown], &truth, |r| r.colluding);
        let pairs = &pairs[&0];
        assert_eq!(pairs.len(), 2);
        assert!(pairs[0].0.online_at(20.0));
        assert!(
            !pairs[1].0.online_at(20.0),
            "the colluders never saw edge 1"
        );
    }
}
