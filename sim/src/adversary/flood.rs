//! Floods: routers of ours that send bogus netDb messages and tunnel build requests to
//! chosen victims, and what the victims hold and do under them.
//!
//! A flooder runs the real router core; the flood is extra I2NP messages the world sends
//! from the flooder's node on timers of its own, so they pay the flooder's uplink and the
//! link model like anything else it sends. Every message is one a router can send:
//!
//! - RouterInfo stores: fresh router keys for every message, a RouterInfo claiming the
//!   floodfill capability (the flooder's own address and caps), stored with a reply token
//!   so that the victim acknowledges it and floods it on as a publisher's store. Fresh
//!   keys cost two key derivations and a signature (tens of microseconds), and they are
//!   what makes a flood grow a table: a pool of identities re-signed with newer dates
//!   would only update entries the victim holds already.
//! - LeaseSet stores: fresh destination keys for every message, one lease through the
//!   flooder, also with a reply token.
//! - Lookups of RouterInfos the flooder's own netDb holds, answered to the flooder
//!   directly: an answer carrying the entry is the costliest one for the victim's uplink.
//! - Build requests: a one-hop outbound tunnel with the victim as its endpoint and the
//!   flooder as the reply gateway, one record encrypted to the victim's key. The victim
//!   decrypts it (one X25519), and if it accepts, holds a participating tunnel for ten
//!   minutes. The flooder is handed the victim's RouterInfo, as a lookup would give it.
//!
//! Each flooder router draws from its own generator (`derive_rng(seed, Stream::Flood, index)`),
//! so the draws of honest routers do not change with the flood.

use crate::metrics::write_all;
use crate::plugin::{Cx, Plugin, Timer};
use crate::rng::{derive_rng, Stream};
use crate::scenario::{Behaviour, Flood, FloodKind, FloodTargets, Scenario};
use ramsons_analysis::records::{LookupRecord, TunnelBuildRecord, VictimLoadRecord};
use ramsons_router::crypto::{DestinationKeys, RouterKeys};
use ramsons_router::data::{Hash, Lease2, RouterInfo, TunnelId};
use ramsons_router::i2np::{
    DatabaseLookup, DatabaseStore, I2npMessage, LookupKind, MessageBody, ReplyEncryption,
    StoreEntry, StoreReply,
};
use ramsons_router::time::Instant;
use ramsons_router::tunnel::build::{BuildDirection, BuildRequest, HopSpec, TUNNEL_LIFETIME_SECS};
use ramsons_router::{Load, Router, RouterConfig};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Lifetime stamped on flood messages, as routers stamp theirs.
const MESSAGE_LIFETIME: Duration = Duration::from_secs(60);

/// The flood of a run: its victims, each flooder router's generator, and what the victims
/// hold and do, sample by sample.
#[derive(Debug)]
pub struct FloodWatch {
    /// Router indices of the victims, shared by every flooder router.
    pub victims: Vec<u32>,
    pub flood_start: Instant,
    seed: u64,
    sources: BTreeMap<u32, FloodSource>,
    /// Messages sent since the last sample, by kind (in [`FloodKind::ALL`] order).
    sent: [u64; 4],
    /// The victims' counters at the last sample (or the end of the warmup).
    previous: Counts,
    pub rows: Vec<VictimLoadRecord>,
}

/// One flooder router's generator and the configuration its fake floodfills are
/// signed with.
#[derive(Debug)]
struct FloodSource {
    rng: ChaCha20Rng,
    fake_floodfill: RouterConfig,
}

/// What one flooder router sends a message from and to.
#[derive(Debug)]
pub struct Aim<'a> {
    pub flooder: &'a Router,
    pub victim: &'a RouterInfo,
}

impl FloodWatch {
    pub fn new(victims: Vec<u32>, flood_start: Instant, seed: u64) -> FloodWatch {
        FloodWatch {
            victims,
            flood_start,
            seed,
            sources: BTreeMap::new(),
            sent: [0; 4],
            previous: Counts::default(),
            rows: Vec::new(),
        }
    }

    fn source(&mut self, router: u32, flooder: &Router) -> &mut FloodSource {
        let seed = self.seed;
        self.sources.entry(router).or_insert_with(|| FloodSource {
            rng: derive_rng(seed, Stream::Flood, u64::from(router)),
            fake_floodfill: RouterConfig {
                floodfill: true,
                ..flooder.config().clone()
            },
        })
    }

    /// A uniform offset in `[0, interval)` for flooder `router`'s first message of a
    /// kind, so that flooders started together do not send in lockstep.
    pub fn phase(&mut self, router: u32, flooder: &Router, interval: Duration) -> Duration {
        let micros = interval.as_micros().max(1) as u64;
        Duration::from_micros(self.source(router, flooder).rng.gen_range(0..micros))
    }

    /// The victim of flooder `router`'s next message, drawn at random.
    pub fn pick_victim(&mut self, router: u32, flooder: &Router) -> u32 {
        let n = self.victims.len();
        let at = self.source(router, flooder).rng.gen_range(0..n);
        self.victims[at]
    }

    /// Flooder `router`'s next message of `kind`, counted as sent; `None` only if the
    /// build request cannot be made (a victim key no secret can be shared with).
    pub fn message(
        &mut self,
        router: u32,
        kind: FloodKind,
        now: Instant,
        aim: Aim<'_>,
    ) -> Option<I2npMessage> {
        let source = self.source(router, aim.flooder);
        let msg = match kind {
            FloodKind::RouterInfo => source.router_info_store(now, aim.flooder.hash()),
            FloodKind::LeaseSet => source.lease_set_store(now, aim.flooder.hash()),
            FloodKind::Lookup => source.lookup(now, aim.flooder),
            FloodKind::Build => source.build(now, aim.flooder.hash(), aim.victim)?,
        };
        self.sent[kind as usize] += 1;
        Some(msg)
    }

    /// The end of the warmup: counts in the first row start here.
    pub fn mark(&mut self, loads: &[Load]) {
        self.previous = Counts::sum(loads);
        self.sent = [0; 4];
    }

    /// Closes the interval ending at `time_s` with every victim's load (`online` tells
    /// how many of them are up).
    pub fn sample(&mut self, time_s: f64, loads: &[Load], online: usize) {
        let counts = Counts::sum(loads);
        let n = loads.len().max(1) as f64;
        let mean = |f: fn(&Load) -> usize| loads.iter().map(f).sum::<usize>() as f64 / n;
        let max = |f: fn(&Load) -> usize| loads.iter().map(f).max().unwrap_or(0) as u64;
        let [sent_router_infos, sent_lease_sets, sent_lookups, sent_builds] =
            std::mem::take(&mut self.sent);
        let mut row = VictimLoadRecord {
            time_s,
            victims: loads.len() as u64,
            victims_online: online as u64,
            sent_router_infos,
            sent_lease_sets,
            sent_lookups,
            sent_builds,
            router_infos_mean: mean(|l| l.netdb.router_infos),
            router_infos_max: max(|l| l.netdb.router_infos),
            lease_sets_mean: mean(|l| l.netdb.lease_sets),
            lease_sets_max: max(|l| l.netdb.lease_sets),
            participating_mean: mean(|l| l.tunnels.participating),
            participating_max: max(|l| l.tunnels.participating),
            limited_peers_max: max(|l| l.netdb.limited_peers),
            ..VictimLoadRecord::default()
        };
        counts.since(&self.previous).fill(&mut row);
        self.previous = counts;
        self.rows.push(row);
    }

    /// The flood's scalars for `summary.csv`. Success rates count the honest routers'
    /// lookups and builds (`flooder` tells the flooders' own apart) started before and
    /// after the flood began; the victims' work and drops are summed over the intervals
    /// that end after it began, and the tables' sizes are the largest any victim reached.
    ///
    /// - `lookup_success_before_flood`, `lookup_success_flood`,
    ///   `tunnel_build_success_before_flood`, `tunnel_build_success_flood`;
    /// - `flood_messages`: sent after the warmup;
    /// - `victim_router_infos_max`, `victim_lease_sets_max`, `victim_participating_max`,
    ///   and `victim_router_infos_end` (mean over the victims at the last sample);
    /// - `victim_lookups_answered_per_min`, `victim_stores_checked_per_min`,
    ///   `victim_build_records_decrypted_per_min`: per victim and minute of flood;
    /// - `victim_lookups_limited`, `victim_stores_limited`, `victim_floodfill_infos_ignored`,
    ///   `victim_router_infos_evicted`, `victim_router_infos_refused`,
    ///   `victim_lease_sets_refused`, `victim_builds_throttled`, `victim_builds_rejected_full`:
    ///   totals over the victims during the flood.
    pub fn summary(
        &self,
        flood_start_s: f64,
        interval_s: f64,
        lookups: &[LookupRecord],
        builds: &[TunnelBuildRecord],
        flooder: impl Fn(u32) -> bool,
    ) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        let mut put = |name: &str, value: f64| out.push((name.to_owned(), value));
        let honest_lookups = lookups.iter().filter(|l| !flooder(l.router));
        let honest_builds = builds.iter().filter(|b| !flooder(b.router));
        for (during, suffix) in [(false, "before_flood"), (true, "flood")] {
            let lookups = honest_lookups
                .clone()
                .filter(|l| (l.time_s >= flood_start_s) == during);
            if let Some(f) = success(lookups.map(LookupRecord::is_found)) {
                put(&format!("lookup_success_{suffix}"), f);
            }
            let builds = honest_builds
                .clone()
                .filter(|b| (b.time_s >= flood_start_s) == during);
            if let Some(f) = success(builds.map(TunnelBuildRecord::is_built)) {
                put(&format!("tunnel_build_success_{suffix}"), f);
            }
        }
        let rows = &self.rows;
        let sent = |r: &VictimLoadRecord| {
            r.sent_router_infos + r.sent_lease_sets + r.sent_lookups + r.sent_builds
        };
        put("flood_messages", rows.iter().map(sent).sum::<u64>() as f64);
        let largest = |f: fn(&VictimLoadRecord) -> u64| rows.iter().map(f).max().unwrap_or(0);
        put(
            "victim_router_infos_max",
            largest(|r| r.router_infos_max) as f64,
        );
        put(
            "victim_lease_sets_max",
            largest(|r| r.lease_sets_max) as f64,
        );
        put(
            "victim_participating_max",
            largest(|r| r.participating_max) as f64,
        );
        if let Some(last) = rows.last() {
            put("victim_router_infos_end", last.router_infos_mean);
        }
        let flood: Vec<&VictimLoadRecord> =
            rows.iter().filter(|r| r.time_s > flood_start_s).collect();
        let total = |f: fn(&VictimLoadRecord) -> u64| flood.iter().map(|r| f(r)).sum::<u64>();
        let victim_minutes = self.victims.len() as f64 * flood.len() as f64 * interval_s / 60.0;
        if victim_minutes > 0.0 {
            for (name, value) in [
                ("lookups_answered", total(|r| r.lookups_answered)),
                ("stores_checked", total(|r| r.stores_checked)),
                (
                    "build_records_decrypted",
                    total(|r| r.build_records_decrypted),
                ),
            ] {
                put(
                    &format!("victim_{name}_per_min"),
                    value as f64 / victim_minutes,
                );
            }
        }
        for (name, value) in [
            ("lookups_limited", total(|r| r.lookups_limited)),
            ("stores_limited", total(|r| r.stores_limited)),
            (
                "floodfill_infos_ignored",
                total(|r| r.floodfill_infos_ignored),
            ),
            ("router_infos_evicted", total(|r| r.router_infos_evicted)),
            ("router_infos_refused", total(|r| r.router_infos_refused)),
            ("lease_sets_refused", total(|r| r.lease_sets_refused)),
            ("builds_throttled", total(|r| r.builds_throttled)),
            ("builds_rejected_full", total(|r| r.builds_rejected_full)),
        ] {
            put(&format!("victim_{name}"), value as f64);
        }
        out
    }
}

/// The share of `outcomes` that are true; `None` without any.
fn success(outcomes: impl Iterator<Item = bool>) -> Option<f64> {
    let (mut yes, mut all) = (0u64, 0u64);
    for outcome in outcomes {
        yes += u64::from(outcome);
        all += 1;
    }
    (all > 0).then(|| yes as f64 / all as f64)
}

impl FloodSource {
    /// A store asking the victim to acknowledge to the flooder: the victim takes it as a
    /// publisher's store and floods it on.
    fn store(&mut self, now: Instant, flooder: Hash, key: Hash, entry: StoreEntry) -> I2npMessage {
        let token = NonZeroU32::new(self.rng.gen_range(1..=u32::MAX)).unwrap_or(NonZeroU32::MIN);
        let body = MessageBody::DatabaseStore(DatabaseStore {
            key,
            reply: Some(StoreReply {
                token,
                tunnel_id: 0,
                gateway: flooder,
            }),
            entry,
        });
        I2npMessage::with_random_id(&mut self.rng, (now + MESSAGE_LIFETIME).as_millis(), body)
    }

    fn router_info_store(&mut self, now: Instant, flooder: Hash) -> I2npMessage {
        let keys = RouterKeys::generate(&mut self.rng);
        let info = Arc::new(self.fake_floodfill.sign_router_info(&keys, now));
        self.store(now, flooder, keys.hash(), StoreEntry::RouterInfo(info))
    }

    fn lease_set_store(&mut self, now: Instant, flooder: Hash) -> I2npMessage {
        let keys = DestinationKeys::generate(&mut self.rng);
        let published_s = now.as_secs() as u32;
        let lease = Lease2 {
            gateway: flooder,
            tunnel_id: TunnelId(self.rng.gen_range(1..=u32::MAX)),
            end_date_s: published_s + TUNNEL_LIFETIME_SECS,
        };
        let ls = keys
            .sign_lease_set(published_s, TUNNEL_LIFETIME_SECS as u16, vec![lease])
            // One lease is within the 16 a LeaseSet2 may carry.
            .expect("a one-lease LeaseSet2 signs");
        self.store(
            now,
            flooder,
            keys.hash(),
            StoreEntry::LeaseSet2(Arc::new(ls)),
        )
    }

    /// A lookup of a RouterInfo the flooder knows (any key if it knows none yet).
    fn lookup(&mut self, now: Instant, flooder: &Router) -> I2npMessage {
        let known = flooder.netdb().store();
        let key = match known.len() {
            0 => Hash(self.rng.gen()),
            n => {
                let at = self.rng.gen_range(0..n);
                known.hashes().nth(at).copied().unwrap_or(Hash::ZERO)
            }
        };
        let body = MessageBody::DatabaseLookup(DatabaseLookup {
            key,
            from: flooder.hash(),
            kind: LookupKind::RouterInfo,
            reply_tunnel: None,
            exclude: Vec::new(),
            reply_encryption: ReplyEncryption::None,
        });
        I2npMessage::with_random_id(&mut self.rng, (now + MESSAGE_LIFETIME).as_millis(), body)
    }

    /// A one-hop outbound tunnel through `victim`, its reply to come to the flooder.
    fn build(&mut self, now: Instant, flooder: Hash, victim: &RouterInfo) -> Option<I2npMessage> {
        let mut tunnel_id = || TunnelId(self.rng.gen_range(1..=u32::MAX));
        let request = BuildRequest {
            hops: vec![HopSpec {
                router: victim.hash(),
                encryption_key: victim.identity().encryption_key(),
                receive_tunnel: tunnel_id(),
            }],
            direction: BuildDirection::Outbound {
                reply_gateway: flooder,
                reply_tunnel: tunnel_id(),
            },
            // A flooder pays for no decoys.
            record_count: 1,
        };
        request
            .create(now, &mut self.rng)
            .ok()
            .map(|build| build.msg)
    }
}

/// The victims' work and drop counters, summed.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    lookups_answered: u64,
    stores_checked: u64,
    build_records_decrypted: u64,
    lookups_limited: u64,
    stores_limited: u64,
    floodfill_infos_ignored: u64,
    router_infos_evicted: u64,
    router_infos_refused: u64,
    lease_sets_refused: u64,
    builds_throttled: u64,
    builds_rejected_full: u64,
}

impl Counts {
    fn sum(loads: &[Load]) -> Counts {
        let mut c = Counts::default();
        for Load { netdb, tunnels } in loads {
            c.lookups_answered += netdb.lookups_answered;
            c.stores_checked += netdb.stores_checked;
            c.build_records_decrypted += tunnels.build_records_decrypted;
            c.lookups_limited += netdb.lookups_limited;
            c.stores_limited += netdb.stores_limited;
            c.floodfill_infos_ignored += netdb.floodfill_infos_ignored;
            c.router_infos_evicted += netdb.router_infos_evicted;
            c.router_infos_refused += netdb.router_infos_refused;
            c.lease_sets_refused += netdb.lease_sets_refused;
            c.builds_throttled += tunnels.builds_rejected_per_hop
                + tunnels.builds_dropped_per_hop
                + tunnels.builds_rejected_rate;
            c.builds_rejected_full += tunnels.builds_rejected_full;
        }
        c
    }

    /// The counts since `earlier` (counters only grow: a router keeps them across
    /// restarts).
    fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            lookups_answered: self.lookups_answered - earlier.lookups_answered,
            stores_checked: self.stores_checked - earlier.stores_checked,
            build_records_decrypted: self.build_records_decrypted - earlier.build_records_decrypted,
            lookups_limited: self.lookups_limited - earlier.lookups_limited,
            stores_limited: self.stores_limited - earlier.stores_limited,
            floodfill_infos_ignored: self.floodfill_infos_ignored - earlier.floodfill_infos_ignored,
            router_infos_evicted: self.router_infos_evicted - earlier.router_infos_evicted,
            router_infos_refused: self.router_infos_refused - earlier.router_infos_refused,
            lease_sets_refused: self.lease_sets_refused - earlier.lease_sets_refused,
            builds_throttled: self.builds_throttled - earlier.builds_throttled,
            builds_rejected_full: self.builds_rejected_full - earlier.builds_rejected_full,
        }
    }

    fn fill(&self, row: &mut VictimLoadRecord) {
        row.lookups_answered = self.lookups_answered;
        row.stores_checked = self.stores_checked;
        row.build_records_decrypted = self.build_records_decrypted;
        row.lookups_limited = self.lookups_limited;
        row.stores_limited = self.stores_limited;
        row.floodfill_infos_ignored = self.floodfill_infos_ignored;
        row.router_infos_evicted = self.router_infos_evicted;
        row.router_infos_refused = self.router_infos_refused;
        row.lease_sets_refused = self.lease_sets_refused;
        row.builds_throttled = self.builds_throttled;
        row.builds_rejected_full = self.builds_rejected_full;
    }
}

/// The flooders as a plug-in: each flooder router sends each kind of message at its
/// rate from the flood's start, to victims drawn at random, and the [`FloodWatch`]
/// samples what the victims hold and do.
#[derive(Debug)]
pub struct Flooders {
    /// The flooders' router group.
    group: usize,
    flood: Flood,
    /// Set up once the routers are created.
    pub watch: Option<FloodWatch>,
}

/// The flooders' trace tag.
const TAG: u8 = 11;
/// The timer that ends the warmup; the others are a flood message's, by `FloodKind`.
const MARK: u32 = u32::MAX;

/// The plug-in of the scenario's `flooder` entry, if it has one.
pub fn plugin(scenario: &Scenario) -> Option<Box<dyn Plugin>> {
    let (group, flood) = super::find(scenario, |b| match b {
        Behaviour::Flooder(flood) => Some(flood.clone()),
        _ => None,
    })?;
    Some(Box::new(Flooders {
        group,
        flood,
        watch: None,
    }))
}

impl Flooders {
    /// The flood's victims: `count` of the initial honest routers that `targets` names
    /// (all of them without a count), chosen at random.
    fn choose_victims(&self, cx: &Cx<'_>) -> Vec<u32> {
        let scenario = cx.scenario();
        let targets = &self.flood.targets;
        let group = match targets {
            FloodTargets::Group(name) => scenario.group_index(name),
            _ => None,
        };
        let candidates: Vec<u32> = (0..cx.routers())
            .filter(|i| {
                let honest = scenario.behaviour_of(cx.group(*i)).is_none();
                honest
                    && match targets {
                        FloodTargets::Floodfills => cx.is_floodfill(*i),
                        FloodTargets::Routers => !cx.is_floodfill(*i),
                        FloodTargets::Group(_) => Some(cx.group(*i)) == group,
                    }
            })
            .collect();
        let n = self.flood.victims.map_or(candidates.len(), |c| c as usize);
        let seed = scenario.general.seed;
        let mut victims: Vec<u32> = candidates
            .choose_multiple(&mut derive_rng(seed, Stream::FloodVictims, 0), n)
            .copied()
            .collect();
        victims.sort_unstable();
        victims
    }

    /// Sends flooder `router`'s next message of `kind` to a victim drawn at random.
    fn send(&mut self, cx: &mut Cx<'_>, router: u32, kind: FloodKind) {
        let Some(watch) = &mut self.watch else {
            return;
        };
        let flooder = cx.router(router);
        let victim = watch.pick_victim(router, flooder);
        let victim_info = cx.router(victim).router_info();
        let aim = Aim {
            flooder,
            victim: victim_info,
        };
        let to = victim_info.hash();
        if let Some(msg) = watch.message(router, kind, cx.now(), aim) {
            cx.send(router, to, msg);
        }
    }

    /// Every victim's load, in the order of `FloodWatch::victims`.
    fn victim_loads(watch: &FloodWatch, cx: &Cx<'_>) -> Vec<Load> {
        watch.victims.iter().map(|v| cx.router(*v).load()).collect()
    }
}

impl Plugin for Flooders {
    fn init(&mut self, cx: &mut Cx<'_>) {
        let victims = self.choose_victims(cx);
        let flood_start = cx.start() + self.flood.flood_start;
        let seed = cx.scenario().general.seed;
        self.watch = Some(FloodWatch::new(victims, flood_start, seed));
        let warmup = cx.start() + cx.scenario().general.warmup.0;
        let mark = Timer {
            kind: MARK,
            subject: 0,
            epoch: 0,
        };
        cx.schedule(warmup, mark);
    }

    /// Starts flooder `router`'s timers: each kind at its own rate, evenly spaced, from
    /// the flood's start (or now, if later) plus a random phase.
    fn on_online(&mut self, cx: &mut Cx<'_>, router: u32) {
        let Some(watch) = &mut self.watch else {
            return;
        };
        if cx.group(router) != self.group {
            return;
        }
        let begins = watch.flood_start.max(cx.now());
        for kind in FloodKind::ALL {
            let Some(interval) = self.flood.rates.interval(kind) else {
                continue;
            };
            let at = begins + watch.phase(router, cx.router(router), interval);
            let timer = Timer {
                kind: kind as u32,
                subject: u64::from(router),
                epoch: cx.epoch(router),
            };
            cx.schedule(at, timer);
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, timer: Timer) {
        if timer.kind == MARK {
            if let Some(watch) = &mut self.watch {
                let loads = Self::victim_loads(watch, cx);
                watch.mark(&loads);
            }
            return;
        }
        let router = timer.subject as u32;
        let kind = FloodKind::ALL[timer.kind as usize];
        if cx.epoch(router) != timer.epoch || !cx.is_online(router) {
            return;
        }
        cx.trace(TAG, &[u64::from(router), kind as u64]);
        self.send(cx, router, kind);
        if let Some(interval) = self.flood.rates.interval(kind) {
            cx.schedule(cx.now() + interval, timer);
        }
    }

    /// What the victims hold and did in the interval ending now.
    fn on_sample(&mut self, cx: &mut Cx<'_>) {
        let Some(watch) = &mut self.watch else {
            return;
        };
        let loads = Self::victim_loads(watch, cx);
        let online = watch.victims.iter().filter(|v| cx.is_online(**v)).count();
        watch.sample(cx.seconds(cx.now()), &loads, online);
    }

    fn summary(&mut self, cx: &mut Cx<'_>) -> Vec<(String, f64)> {
        let Some(watch) = &self.watch else {
            return Vec::new();
        };
        let sample_interval = cx.scenario().general.sample_interval.0.as_secs_f64();
        let metrics = cx.metrics();
        watch.summary(
            cx.seconds(watch.flood_start),
            sample_interval,
            metrics.lookups(),
            metrics.tunnel_builds(),
            |r| r < cx.routers() && cx.group(r) == self.group,
        )
    }

    fn write(&self, dir: &Path) -> Result<Vec<String>, csv::Error> {
        match &self.watch {
            Some(watch) => Ok(vec![write_all(dir, &watch.rows)?.to_owned()]),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;
    use crate::world::World;
    use std::path::Path;
    use std::sync::Arc;

    /// One flooder sends 600 lookups a minute for five minutes to one floodfill that
    /// answers 120 per sender and minute: the victim must drop the rest, which it can
    /// only do if they arrive at the rate configured.
    #[test]
    fn flood_messages_arrive_at_the_configured_rate() {
        let text = r#"
[general]
seed = 3
stop_time = "6 min"
warmup = "1 min"

[[routers]]
role = "floodfill"
count = 3

[[routers]]
role = "router"
count = 10

[bootstrap]
warm_floodfills = true

[netdb]
lookup_limit_per_min = 120

[[adversaries]]
kind = "flooder"
count = 1
victims = 1
lookups_per_min = 600
flood_start = "1 min"

[metrics]
record = ["lookup"]
"#;
        let scenario = Scenario::parse(text, Path::new("flood.toml")).expect("valid");
        let world = World::new(Arc::new(scenario)).expect("world");
        let (outcome, _) = world.run(&mut ());
        let flooders = outcome.plugins.get::<super::Flooders>().expect("flooders");
        let watch = flooders.watch.as_ref().expect("a flood");
        let sent: u64 = watch.rows.iter().map(|r| r.sent_lookups).sum();
        assert!((2999..=3001).contains(&sent), "sent {sent}");
        let others: u64 = watch
            .rows
            .iter()
            .map(|r| r.sent_router_infos + r.sent_lease_sets + r.sent_builds)
            .sum();
        assert_eq!(others, 0);
        // Five or six windows of about 600 lookups, 120 answered in each.
        let limited: u64 = watch.rows.iter().map(|r| r.lookups_limited).sum();
        assert!(
            (3000 - 6 * 120 - 2..=3000 - 5 * 120).contains(&limited),
            "limited {limited}"
        );
    }
}
