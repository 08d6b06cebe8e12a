//! An observer of the netDb watching for multihomed destinations: the floodfills log every
//! LeaseSet2 store they receive (straight from a publisher or flooded), with its published
//! time and leases, and at the end of the run the estimator of
//! `ramsons_analysis::multihoming` says from those logs alone which destinations are
//! multihomed and on how many routers.
//!
//! Every destination of the run is watched, not only the multihomed ones: the others are
//! the single-homed baseline the detector must not flag. Two views are scored: every
//! floodfill (the netDb as a whole, "an observer of the netDb"), and, when the scenario has
//! colluding observers (`[observers]`) among the floodfills, only theirs. The floodfills
//! behave honestly; the simulator only records what they receive.
//!
//! A destination reached through a MetaLeaseSet (`mode = "meta"`) is watched further:
//! the MetaLeaseSet stores (`meta_lease_sets.csv`), its edges' own LeaseSet2s (in
//! `multihoming.csv` under the destination, with the edge's number: the MetaLeaseSet
//! ties them to it for everyone), and when each edge's router was up (`edges.csv`, the
//! truth), so that `ramsons_analysis::meta` can say how well the netDb tells which of
//! them are online.

use crate::destinations;
use crate::plugin::{Cx, Plugin};
use crate::scenario::Scenario;
use ramsons_analysis::meta;
use ramsons_analysis::multihoming::{estimate, estimate_all, Verdict};
use ramsons_analysis::records::{EdgeRecord, MetaLeaseSetRecord, MultihomingRecord};
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::{Hash, LeaseSet2, MetaLeaseSet};
use ramsons_router::i2np::StoreEntry;
use ramsons_router::netdb::{NetDbEvent, StoreOutcome};
use ramsons_router::time::Instant;
use ramsons_router::Event;
use std::collections::{BTreeMap, BTreeSet};

/// A DatabaseStore a floodfill received: when, which floodfill (and whether it is a
/// colluding observer), under which key, how it came and what its table made of it.
#[derive(Debug, Clone, Copy)]
pub struct Receipt {
    pub now: Instant,
    pub floodfill: u32,
    pub colluding: bool,
    pub key: Hash,
    pub flooded: bool,
    pub outcome: StoreOutcome,
}

/// Seconds between the samples that score the view of which edges are online.
const ONLINE_SAMPLE_S: f64 = 10.0;

#[derive(Debug)]
pub struct NetDbObserver {
    /// Watched destinations: index and how many routers host it.
    watched: BTreeMap<Hash, (u32, u32)>,
    /// The edge destinations of meta destinations: whose (index) and which edge.
    edges: BTreeMap<Hash, (u32, u32)>,
    /// The destinations a scenario lists under `clients.multihomed` (its study targets).
    targets: BTreeSet<u32>,
    start: Instant,
    since: Instant,
    /// Minutes observed (stop time minus warmup), for rates.
    minutes: f64,
    /// Whether some floodfill colludes: then the colluders' view is scored too.
    colluding_floodfills: bool,
    pub rows: Vec<MultihomingRecord>,
    pub meta_rows: Vec<MetaLeaseSetRecord>,
    pub edge_rows: Vec<EdgeRecord>,
}

impl NetDbObserver {
    /// Writes the observer's records into the run folder; returns the file names.
    pub fn write(&self, dir: &std::path::Path) -> Result<Vec<String>, csv::Error> {
        let mut written = vec![crate::metrics::write_all(dir, &self.rows)?.to_owned()];
        // Only runs with a meta destination log its edges.
        if !self.edge_rows.is_empty() {
            written.push(crate::metrics::write_all(dir, &self.meta_rows)?.to_owned());
            written.push(crate::metrics::write_all(dir, &self.edge_rows)?.to_owned());
        }
        Ok(written)
    }

    /// Watches `destinations` (hash, index, hosting routers); `targets` are the
    /// multihoming entries' destinations; stores are logged from `since` to `stop`.
    pub fn new(
        destinations: impl IntoIterator<Item = (Hash, u32, u32)>,
        targets: BTreeSet<u32>,
        start: Instant,
        since: Instant,
        stop: Instant,
        colluding_floodfills: bool,
    ) -> NetDbObserver {
        NetDbObserver {
            watched: destinations
                .into_iter()
                .map(|(hash, d, routers)| (hash, (d, routers)))
                .collect(),
            targets,
            start,
            since,
            minutes: stop.saturating_duration_since(since).as_secs_f64() / 60.0,
            colluding_floodfills,
            rows: Vec::new(),
            meta_rows: Vec::new(),
            edge_rows: Vec::new(),
            edges: BTreeMap::new(),
        }
    }

    /// Watches the destinations `edges` run for meta destination `d`, in the order its
    /// MetaLeaseSet lists them.
    pub fn watch_edges(&mut self, d: u32, edges: impl IntoIterator<Item = Hash>) {
        for (e, hash) in edges.into_iter().enumerate() {
            self.edges.insert(hash, (d, e as u32));
        }
    }

    /// Edge `edge` of destination `d` (on router `router`) came online or went down.
    pub fn on_edge(&mut self, now: Instant, d: u32, edge: u32, router: u32, online: bool) {
        self.edge_rows.push(EdgeRecord {
            time_s: self.since_start(now),
            destination: u64::from(d),
            edge: u64::from(edge),
            router: u64::from(router),
            online,
        });
    }

    /// Simulated seconds since the start of the run, at `now`.
    fn since_start(&self, now: Instant) -> f64 {
        now.saturating_duration_since(self.start).as_secs_f64()
    }

    /// Simulated seconds since the start of the run, at the Unix time `unix_s`.
    fn seconds(&self, unix_s: f64) -> f64 {
        unix_s - self.start.as_secs() as f64
    }

    /// A floodfill received a store of `ls`.
    pub fn on_store(
        &mut self,
        store: &Receipt,
        ls: &LeaseSet2,
        gateway_index: impl Fn(&Hash) -> Option<u32>,
    ) {
        if store.now < self.since {
            return;
        }
        let (destination, routers, edge) =
            match (self.watched.get(&store.key), self.edges.get(&store.key)) {
                (Some(&(d, routers)), _) => (d, routers, None),
                (None, Some(&(d, e))) => (d, self.routers_of(d), Some(u64::from(e))),
                (None, None) => return,
            };
        let leases = ls
            .leases()
            .iter()
            .map(|l| {
                let gateway = gateway_index(&l.gateway).map_or(u64::MAX, u64::from);
                let end = self.seconds(f64::from(l.end_date_s));
                format!("{gateway}:{}:{end}", l.tunnel_id.0)
            })
            .collect::<Vec<_>>()
            .join(" ");
        self.rows.push(MultihomingRecord {
            time_s: self.since_start(store.now),
            floodfill: u64::from(store.floodfill),
            colluding: store.colluding,
            destination: u64::from(destination),
            routers: u64::from(routers),
            flooded: store.flooded,
            outcome: outcome_name(store.outcome).to_owned(),
            published_s: self.seconds(f64::from(ls.published_s())),
            expires_s: self.seconds(ls.expires_s() as f64),
            leases,
            edge,
        });
    }

    /// A floodfill received a store of the MetaLeaseSet `meta`.
    pub fn on_meta_store(&mut self, store: &Receipt, meta: &MetaLeaseSet) {
        if store.now < self.since {
            return;
        }
        let Some(&(destination, _)) = self.watched.get(&store.key) else {
            return;
        };
        let listed = meta
            .entries()
            .iter()
            .map(|e| match self.edges.get(&e.target) {
                Some(&(d, edge)) if d == destination => edge.to_string(),
                _ => "?".to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ");
        self.meta_rows.push(MetaLeaseSetRecord {
            time_s: self.since_start(store.now),
            floodfill: u64::from(store.floodfill),
            colluding: store.colluding,
            destination: u64::from(destination),
            flooded: store.flooded,
            outcome: outcome_name(store.outcome).to_owned(),
            published_s: self.seconds(f64::from(meta.published_s())),
            expires_s: self.seconds(meta.expires_s() as f64),
            listed,
        });
    }

    /// How many routers host destination `d` (the truth).
    fn routers_of(&self, d: u32) -> u32 {
        self.watched
            .values()
            .find(|(i, _)| *i == d)
            .map_or(1, |(_, r)| *r)
    }

    /// The observer's scalars (see `docs/studies/multihoming.md`): for the study's
    /// targets and for the other destinations, what the estimator says and how much
    /// LeaseSet traffic the floodfills took, over every floodfill and, when some
    /// collude, over the colluders only (`multihoming_colluding_*`).
    pub fn summary(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        let all = estimate_all(&self.rows, |_| true);
        self.score("multihoming", &all, &mut out);
        if self.colluding_floodfills {
            let colluding = estimate_all(&self.rows, |r| r.colluding);
            self.score("multihoming_colluding", &colluding, &mut out);
        }
        // Load: LeaseSet stores the floodfills received (direct and flooded).
        if self.minutes > 0.0 {
            let stores = |target: bool| {
                self.rows
                    .iter()
                    .filter(|r| self.targets.contains(&(r.destination as u32)) == target)
                    .count() as f64
            };
            let others = self.watched.len() - self.targets.len();
            out.push((
                "multihoming_ls_stores_per_min".to_owned(),
                self.rows.len() as f64 / self.minutes,
            ));
            if !self.targets.is_empty() {
                out.push((
                    "multihoming_target_stores_per_min".to_owned(),
                    stores(true) / self.minutes / self.targets.len() as f64,
                ));
            }
            if others > 0 {
                out.push((
                    "multihoming_others_stores_per_min".to_owned(),
                    stores(false) / self.minutes / others as f64,
                ));
            }
        }
        self.score_meta(&mut out);
        out
    }

    /// The meta destinations' scalars (`meta_*`, none without one): how many edges
    /// their MetaLeaseSets list, how well the netDb tells which edges are online
    /// (every floodfill's view, and the colluders' as `meta_colluding_*`), and the
    /// floodfills' load of MetaLeaseSet stores.
    fn score_meta(&self, out: &mut Vec<(String, f64)>) {
        if self.edge_rows.is_empty() {
            return;
        }
        let from = self
            .since
            .saturating_duration_since(self.start)
            .as_secs_f64();
        let window = (from, from + self.minutes * 60.0, ONLINE_SAMPLE_S);
        for (prefix, colluders_only) in [("meta", false), ("meta_colluding", true)] {
            if colluders_only && !self.colluding_floodfills {
                continue;
            }
            let verdicts = meta::judge_all(
                &self.rows,
                &self.meta_rows,
                &self.edge_rows,
                |_, colluding| colluding || !colluders_only,
                window,
            );
            let mean = |values: Vec<f64>| {
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
            };
            let scores: Vec<&meta::OnlineScore> = verdicts
                .values()
                .filter_map(|v| v.online.as_ref())
                .collect();
            let sum = |f: fn(&meta::OnlineScore) -> usize| {
                (!scores.is_empty()).then(|| scores.iter().map(|s| f(s) as f64).sum())
            };
            let values = [
                (
                    "listed",
                    mean(
                        verdicts
                            .values()
                            .map(|v| v.listed.unwrap_or(0) as f64)
                            .collect(),
                    ),
                ),
                (
                    "edges_seen",
                    mean(
                        verdicts
                            .values()
                            .map(|v| v.edges_seen as f64 / v.edges.max(1) as f64)
                            .collect(),
                    ),
                ),
                (
                    "online_accuracy",
                    mean(scores.iter().map(|s| s.accuracy).collect()),
                ),
                ("downs", sum(|s| s.downs)),
                ("downs_noticed", sum(|s| s.downs_noticed)),
                ("ups", sum(|s| s.ups)),
                ("ups_noticed", sum(|s| s.ups_noticed)),
                (
                    "down_lag_s",
                    mean(scores.iter().filter_map(|s| s.down_lag_s).collect()),
                ),
                (
                    "up_lag_s",
                    mean(scores.iter().filter_map(|s| s.up_lag_s).collect()),
                ),
            ];
            for (name, value) in values {
                if let Some(v) = value {
                    out.push((format!("{prefix}_{name}"), v));
                }
            }
        }
        let metas = self
            .edge_rows
            .iter()
            .map(|r| r.destination)
            .collect::<BTreeSet<_>>();
        if self.minutes > 0.0 {
            out.push((
                "meta_stores_per_min".to_owned(),
                self.meta_rows.len() as f64 / self.minutes / metas.len() as f64,
            ));
        }
    }

    /// Scores one view's verdicts against the truth, under `prefix`. A destination the
    /// view saw nothing of counts as seen on no router.
    fn score(&self, prefix: &str, seen: &BTreeMap<u64, Verdict>, out: &mut Vec<(String, f64)>) {
        let unseen = estimate(&[]);
        let verdicts: BTreeMap<u64, Verdict> = self
            .watched
            .values()
            .map(|(d, _)| {
                let d = u64::from(*d);
                (d, seen.get(&d).unwrap_or(&unseen).clone())
            })
            .collect();
        let truth = |d: u64| self.routers_of(d as u32);
        let mean = |values: Vec<f64>| {
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        type Scored<'a> = Vec<(&'a u64, &'a Verdict)>;
        let (targets, others): (Scored<'_>, Scored<'_>) = verdicts
            .iter()
            .partition(|(d, _)| self.targets.contains(&(**d as u32)));
        let mut put = |name: &str, value: Option<f64>| {
            if let Some(v) = value {
                out.push((format!("{prefix}_{name}"), v));
            }
        };
        put(
            "target_routers",
            mean(targets.iter().map(|(d, _)| f64::from(truth(**d))).collect()),
        );
        put(
            "target_detected",
            mean(
                targets
                    .iter()
                    .map(|(_, v)| f64::from(u8::from(v.multihomed)))
                    .collect(),
            ),
        );
        put(
            "target_estimate",
            mean(
                targets
                    .iter()
                    .map(|(_, v)| v.estimated_routers as f64)
                    .collect(),
            ),
        );
        put(
            "target_abs_error",
            mean(
                targets
                    .iter()
                    .map(|(d, v)| (v.estimated_routers as f64 - f64::from(truth(**d))).abs())
                    .collect(),
            ),
        );
        put(
            "target_publishes_per_hour",
            mean(targets.iter().map(|(_, v)| v.publishes_per_hour).collect()),
        );
        put(
            "target_backwards",
            mean(targets.iter().map(|(_, v)| v.backwards as f64).collect()),
        );
        put(
            "target_seen",
            mean(
                targets
                    .iter()
                    .map(|(_, v)| f64::from(u8::from(v.lease_sets > 0)))
                    .collect(),
            ),
        );
        put(
            "target_gateways",
            mean(targets.iter().map(|(_, v)| v.gateways as f64).collect()),
        );
        put(
            "others_gateways",
            mean(others.iter().map(|(_, v)| v.gateways as f64).collect()),
        );
        put(
            "others_flagged",
            mean(
                others
                    .iter()
                    .map(|(_, v)| f64::from(u8::from(v.multihomed)))
                    .collect(),
            ),
        );
        put(
            "others_publishes_per_hour",
            mean(others.iter().map(|(_, v)| v.publishes_per_hour).collect()),
        );
        put(
            "accuracy",
            mean(
                verdicts
                    .iter()
                    .map(|(d, v)| f64::from(u8::from(v.multihomed == (truth(*d) > 1))))
                    .collect(),
            ),
        );
    }
}

/// The netDb observer as a plug-in: with multihomed destinations (`[clients]
/// multihomed`), the floodfills log the LeaseSet stores of every destination.
#[derive(Debug, Default)]
pub struct WatchNetDb {
    /// Created at `init`, once the destinations are placed and the colluders chosen.
    pub observer: Option<NetDbObserver>,
    /// The routers of meta destinations: which destination and which of its edges.
    edges: BTreeMap<u32, (u32, u32)>,
}

/// The plug-in, when the scenario has multihomed destinations.
pub fn plugin(scenario: &Scenario) -> Option<Box<dyn Plugin>> {
    (!scenario.clients.multihomed.is_empty())
        .then(|| Box::<WatchNetDb>::default() as Box<dyn Plugin>)
}

impl WatchNetDb {
    /// Router `router` came online or went down: for an edge of a meta destination, the
    /// truth an observer of a MetaLeaseSet tries to learn.
    fn on_edge(&mut self, cx: &Cx<'_>, router: u32, online: bool) {
        if let (Some(observer), Some(&(d, edge))) = (&mut self.observer, self.edges.get(&router)) {
            observer.on_edge(cx.now(), d, edge, router, online);
        }
    }
}

impl Plugin for WatchNetDb {
    fn init(&mut self, cx: &mut Cx<'_>) {
        let hosted = destinations::of(cx).all();
        let targets = cx
            .scenario()
            .clients
            .multihomed
            .iter()
            .map(|m| m.destination)
            .collect();
        let destinations = hosted
            .iter()
            .enumerate()
            .map(|(d, h)| (h.hash, d as u32, h.routers.len() as u32));
        let colluding_floodfills =
            (0..cx.routers()).any(|i| cx.is_floodfill(i) && cx.is_colluding(i));
        let since = cx.start() + cx.scenario().general.warmup.0;
        let mut observer = NetDbObserver::new(
            destinations,
            targets,
            cx.start(),
            since,
            cx.stop(),
            colluding_floodfills,
        );
        for (d, h) in hosted.iter().enumerate() {
            observer.watch_edges(d as u32, h.edges.iter().map(DestinationKeys::hash));
            if !h.edges.is_empty() {
                for (e, router) in h.routers.iter().enumerate() {
                    self.edges.insert(*router, (d as u32, e as u32));
                }
            }
        }
        self.observer = Some(observer);
    }

    fn on_online(&mut self, cx: &mut Cx<'_>, router: u32) {
        self.on_edge(cx, router, true);
    }

    fn on_offline(&mut self, cx: &mut Cx<'_>, router: u32) {
        self.on_edge(cx, router, false);
    }

    /// A LeaseSet store that floodfill `router` received.
    fn on_event(&mut self, cx: &mut Cx<'_>, router: u32, event: &Event) {
        let (
            Some(observer),
            Event::NetDb(NetDbEvent::StoreReceived {
                key,
                flooded,
                outcome,
                entry,
                ..
            }),
            true,
        ) = (&mut self.observer, event, cx.is_floodfill(router))
        else {
            return;
        };
        let store = Receipt {
            now: cx.now(),
            floodfill: router,
            colluding: cx.is_colluding(router),
            key: *key,
            flooded: *flooded,
            outcome: *outcome,
        };
        match entry {
            StoreEntry::LeaseSet2(ls) => observer.on_store(&store, ls, |h| cx.index_of(h)),
            StoreEntry::MetaLeaseSet(meta) => observer.on_meta_store(&store, meta),
            _ => {}
        }
    }

    fn summary(&mut self, _cx: &mut Cx<'_>) -> Vec<(String, f64)> {
        self.observer
            .as_ref()
            .map_or_else(Vec::new, NetDbObserver::summary)
    }

    fn write(&self, dir: &std::path::Path) -> Result<Vec<String>, csv::Error> {
        match &self.observer {
            Some(observer) => observer.write(dir),
            None => Ok(Vec::new()),
        }
    }
}

fn outcome_name(outcome: StoreOutcome) -> &'static str {
    match outcome {
        StoreOutcome::New => "new",
        StoreOutcome::Updated => "updated",
        StoreOutcome::Unchanged => "unchanged",
        StoreOutcome::Older => "older",
        StoreOutcome::Rejected(_) => "rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramsons_router::data::MetaLease;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use std::time::Duration;

    fn h(b: u8) -> Hash {
        Hash([b; 32])
    }

    /// A store of destination `d` seen at `t` by floodfill `ff`, with tunnels `a` and `b`
    /// of gateway `g`.
    fn row(t: f64, ff: u64, colluding: bool, d: u64, g: u64, a: u32, b: u32) -> MultihomingRecord {
        MultihomingRecord {
            time_s: t + 1.0,
            floodfill: ff,
            colluding,
            destination: d,
            outcome: "updated".to_owned(),
            published_s: t,
            expires_s: t + 600.0,
            leases: format!("{g}:{a}:600 {g}:{b}:600"),
            ..MultihomingRecord::default()
        }
    }

    #[test]
    fn verdicts_are_scored_against_the_truth() {
        let start = Instant::from_secs(1_767_225_600);
        // Destination 0 on 2 routers (the target), 1 on one, 2 never seen; 10 minutes.
        let mut observer = NetDbObserver::new(
            [(h(1), 0, 2), (h(2), 1, 1), (h(3), 2, 1)],
            [0].into_iter().collect(),
            start,
            start,
            start + std::time::Duration::from_secs(600),
            true,
        );
        for j in 0..4u32 {
            let t = f64::from(j) * 120.0;
            observer.rows.push(row(t, 7, true, 0, 1, j, j + 1));
            observer
                .rows
                .push(row(t + 60.0, 8, false, 0, 2, 100 + j, 101 + j));
            observer.rows.push(row(t, 8, false, 1, 3, 200 + j, 201 + j));
        }
        let summary: BTreeMap<String, f64> = observer.summary().into_iter().collect();
        let get = |name: &str| summary[name];
        assert_eq!(get("multihoming_target_routers"), 2.0);
        assert_eq!(get("multihoming_target_detected"), 1.0);
        assert_eq!(get("multihoming_target_estimate"), 2.0);
        assert_eq!(get("multihoming_target_abs_error"), 0.0);
        assert_eq!(get("multihoming_target_gateways"), 2.0);
        assert_eq!(get("multihoming_others_flagged"), 0.0);
        // Destination 2 was never seen: right that it is not multihomed.
        assert_eq!(get("multihoming_accuracy"), 1.0);
        // The colluder (floodfill 7) saw one of the target's routers only.
        assert_eq!(get("multihoming_colluding_target_detected"), 0.0);
        assert_eq!(get("multihoming_colluding_target_estimate"), 1.0);
        assert_eq!(get("multihoming_colluding_target_seen"), 1.0);
        // Wrong about the target, right (by default) about the two it never saw.
        assert_eq!(get("multihoming_colluding_accuracy"), 2.0 / 3.0);
        // 12 stores in 10 minutes: 8 of the target's, 4 over two other destinations.
        assert_eq!(get("multihoming_ls_stores_per_min"), 1.2);
        assert_eq!(get("multihoming_target_stores_per_min"), 0.8);
        assert_eq!(get("multihoming_others_stores_per_min"), 0.2);
    }

    fn keys(seed: u64) -> DestinationKeys {
        DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(seed))
    }

    #[test]
    fn a_meta_lease_set_is_logged_by_edge_number_and_scored() {
        let start = Instant::from_secs(1_767_225_600);
        let service = keys(1);
        let edges: Vec<Hash> = (0..2).map(|e| keys(10 + e).hash()).collect();
        let mut observer = NetDbObserver::new(
            [(service.hash(), 0, 2)],
            [0].into_iter().collect(),
            start,
            start,
            start + Duration::from_secs(600),
            false,
        );
        observer.watch_edges(0, edges.clone());
        observer.on_edge(start, 0, 0, 5, true);
        observer.on_edge(start, 0, 1, 6, true);
        let ends = start.as_secs() as u32 + 3600;
        let stranger = keys(99).hash();
        let meta = service
            .sign_meta_lease_set(
                start.as_secs() as u32,
                3600,
                [edges[1], stranger, edges[0]]
                    .into_iter()
                    .map(|t| MetaLease::lease_set2(t, 10, ends))
                    .collect(),
            )
            .expect("signed");
        let store = Receipt {
            now: start + Duration::from_secs(1),
            floodfill: 3,
            colluding: false,
            key: service.hash(),
            flooded: false,
            outcome: StoreOutcome::New,
        };
        observer.on_meta_store(&store, &meta);
        let mut listed: Vec<&str> = observer.meta_rows[0].listed.split(' ').collect();
        listed.sort_unstable();
        assert_eq!(listed, ["0", "1", "?"], "a destination of no edge is `?`");
        let summary: BTreeMap<String, f64> = observer.summary().into_iter().collect();
        assert_eq!(summary["meta_listed"], 2.0);
        // No LeaseSet2 of either edge was seen: nothing to score them on.
        assert_eq!(summary["meta_edges_seen"], 0.0);
        assert!(!summary.contains_key("meta_online_accuracy"));
        assert!(
            !summary.contains_key("meta_colluding_listed"),
            "nobody colludes"
        );
    }
}
