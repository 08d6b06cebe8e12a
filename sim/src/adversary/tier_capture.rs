//! Peer-tier capture: routers that perform well try to enter a victim's fast tier, since
//! client tunnels are drawn from it. A router sorts its peers by what it measured of them
//! (accepted builds for capacity, tunnel-test and lookup response times for speed), so an
//! adversary that accepts every request and answers quickly climbs the tiers on merit;
//! what this log measures is how far, against the share of the network it runs.
//!
//! The log reads the victim's tiers and its built client tunnels from the simulator: the
//! adversary itself learns only the tunnels it is in. Holding a hop is what the other
//! attacks build on: the hop next to the victim sees it (the predecessor attack), and a
//! tunnel whose every hop is the adversary's hides nothing.
//!
//! An adversary that degrades knocks the honest routers it sees next to it in the victim's
//! tunnels offline for a while (a selective denial of service, modelled by its effect):
//! the victim's builds through them then time out, they fall out of its fast tier, and
//! the places they leave go to routers that stayed up, its own among them.

use super::client_tunnel_built;
use crate::destinations::router_of;
use crate::metrics::write_all;
use crate::plugin::{Cx, Plugin, Timer};
use crate::scenario::{Behaviour, Scenario};
use ramsons_analysis::records::TierCaptureRecord;
use ramsons_router::data::Hash;
use ramsons_router::profile::selection::Direction;
use ramsons_router::time::Instant;
use ramsons_router::{Event, RouterConfig};
use std::path::Path;
use std::time::Duration;

/// Client tunnels counted over some span.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    built: u64,
    with_adversary: u64,
    adjacent: u64,
    held: u64,
    hops: u64,
    adversary_hops: u64,
    degraded: u64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.built += other.built;
        self.with_adversary += other.with_adversary;
        self.adjacent += other.adjacent;
        self.held += other.held;
        self.hops += other.hops;
        self.adversary_hops += other.adversary_hops;
        self.degraded += other.degraded;
    }
}

/// What the simulator shows the log of the victim and the network at a sample.
#[derive(Debug)]
pub struct VictimView<'a> {
    pub fast: &'a [Hash],
    pub high_capacity: &'a [Hash],
    /// Online routers other than the victim, and the adversary's among them.
    pub online_routers: u64,
    pub online_adversaries: u64,
}

#[derive(Debug)]
pub struct TierCaptureLog {
    /// The victim's router.
    pub victim: Hash,
    /// The router group the adversary runs.
    pub group: u16,
    /// Tunnels whose build started earlier are not counted (the warmup).
    since: Instant,
    /// How long the routers it degrades stay offline; `None`: it does not degrade.
    pub degrade: Option<Duration>,
    interval: Tally,
    total: Tally,
    pub rows: Vec<TierCaptureRecord>,
}

impl TierCaptureLog {
    pub fn new(
        victim: Hash,
        group: u16,
        since: Instant,
        degrade: Option<Duration>,
    ) -> TierCaptureLog {
        TierCaptureLog {
            victim,
            group,
            since,
            degrade,
            interval: Tally::default(),
            total: Tally::default(),
            rows: Vec::new(),
        }
    }

    /// The victim built a client tunnel through `hops` (gateway first), started at
    /// `started`; `adversarial` tells the adversary's routers apart. Returns the routers
    /// to degrade: the honest ones other than the victim that the adversary's hops saw
    /// next to them, when it degrades.
    pub fn on_tunnel_built(
        &mut self,
        started: Instant,
        direction: Direction,
        hops: &[Hash],
        adversarial: impl Fn(&Hash) -> bool,
    ) -> Vec<Hash> {
        let mut seen = match self.degrade {
            Some(_) => super::seen_next_to(self.victim, direction, hops, &adversarial),
            None => Vec::new(),
        };
        seen.retain(|h| *h != self.victim);
        if started < self.since || hops.is_empty() {
            return seen;
        }
        let theirs = hops.iter().filter(|h| adversarial(h)).count() as u64;
        let next_to_victim = match direction {
            Direction::Outbound => hops.first(),
            Direction::Inbound => hops.last(),
        };
        let t = &mut self.interval;
        t.built += 1;
        t.hops += hops.len() as u64;
        t.adversary_hops += theirs;
        t.with_adversary += u64::from(theirs > 0);
        t.held += u64::from(theirs == hops.len() as u64);
        t.adjacent += u64::from(next_to_victim.is_some_and(&adversarial));
        seen
    }

    /// The adversary knocked `routers` offline in this interval.
    pub fn on_degraded(&mut self, routers: u64) {
        self.interval.degraded += routers;
    }

    /// Ends an interval at `time_s` with the victim's tiers as they are now.
    pub fn sample(
        &mut self,
        time_s: f64,
        view: &VictimView<'_>,
        adversarial: impl Fn(&Hash) -> bool,
    ) {
        let count = |peers: &[Hash]| peers.iter().filter(|h| adversarial(h)).count() as u64;
        let t = std::mem::take(&mut self.interval);
        self.total.add(&t);
        self.rows.push(TierCaptureRecord {
            time_s,
            fast_tier: view.fast.len() as u64,
            fast_adversary: count(view.fast),
            high_capacity: view.high_capacity.len() as u64,
            high_capacity_adversary: count(view.high_capacity),
            online_routers: view.online_routers,
            online_adversaries: view.online_adversaries,
            tunnels_built: t.built,
            tunnels_with_adversary: t.with_adversary,
            tunnels_adjacent: t.adjacent,
            tunnels_held: t.held,
            hops: t.hops,
            adversary_hops: t.adversary_hops,
            degraded: t.degraded,
        });
    }

    /// The attack's scalars: the adversary's mean and final share of the victim's fast
    /// tier, its mean share of the network (what uniform selection would give a hop), and
    /// over every client tunnel counted its share of hops and of tunnels it is in, next to
    /// the victim in, and holds whole.
    pub fn summary(&self) -> Vec<(String, f64)> {
        let mean = |f: fn(&TierCaptureRecord) -> Option<f64>| {
            let values: Vec<f64> = self.rows.iter().filter_map(f).collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        let fast_share = |r: &TierCaptureRecord| share(r.fast_adversary, r.fast_tier);
        let t = &self.total;
        [
            ("tier_capture_fast_share", mean(fast_share)),
            (
                "tier_capture_fast_share_final",
                self.rows.last().and_then(fast_share),
            ),
            (
                "tier_capture_network_share",
                mean(|r| share(r.online_adversaries, r.online_routers)),
            ),
            ("tier_capture_hop_share", share(t.adversary_hops, t.hops)),
            (
                "tier_capture_tunnel_share",
                share(t.with_adversary, t.built),
            ),
            ("tier_capture_adjacent_share", share(t.adjacent, t.built)),
            ("tier_capture_held_share", share(t.held, t.built)),
            (
                "tier_capture_degraded",
                (t.degraded > 0).then_some(t.degraded as f64),
            ),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
        .collect()
    }
}

/// `part / whole`, none of nothing.
fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The tier-capture adversary as a plug-in: its routers accept every request (with
/// `accept_all`) and collude; it logs the victim's tiers and tunnels and knocks the
/// routers it saw next to it offline (with `degrade`).
#[derive(Debug)]
pub struct TierCapture {
    /// The adversary's router group.
    group: usize,
    /// The victim destination.
    destination: u32,
    accept_all: bool,
    degrade: Option<Duration>,
    /// Set up once the destinations are placed.
    pub log: Option<TierCaptureLog>,
}

/// Its one kind of timer: knock router `subject` down.
const DEGRADE: u32 = 0;

/// The plug-in of the scenario's `tier-capture` entry, if it has one.
pub fn plugin(scenario: &Scenario) -> Option<Box<dyn Plugin>> {
    let (group, (destination, accept_all, degrade)) = super::find(scenario, |b| match *b {
        Behaviour::TierCapture {
            victim,
            accept_all,
            degrade,
        } => Some((victim, accept_all, degrade)),
        _ => None,
    })?;
    Some(Box::new(TierCapture {
        group,
        destination,
        accept_all,
        degrade,
        log: None,
    }))
}

impl Plugin for TierCapture {
    fn configure(&self, group: usize, config: &mut RouterConfig) {
        if let (Some(t), true) = (&mut config.tunnels, self.accept_all && group == self.group) {
            // Performing well: every request accepted, however many.
            t.max_participating = usize::MAX;
            t.build_requests_per_hop = None;
            t.build_accept_rate = None;
        }
    }

    fn colludes(&self, group: usize) -> bool {
        group == self.group
    }

    fn init(&mut self, cx: &mut Cx<'_>) {
        let victim = cx.router(router_of(cx, self.destination)).hash();
        let since = cx.start() + cx.scenario().general.warmup.0;
        let group = self.group as u16;
        self.log = Some(TierCaptureLog::new(victim, group, since, self.degrade));
    }

    /// A client tunnel of the victim: logged, and the routers seen next to the adversary
    /// in it knocked down once it has expired (a victim that tests a tunnel whose hop went
    /// down blames every hop, the adversary's too).
    fn on_event(&mut self, cx: &mut Cx<'_>, router: u32, event: &Event) {
        let Some((direction, hops, started)) = client_tunnel_built(event) else {
            return;
        };
        let Some(log) = &mut self.log else {
            return;
        };
        if log.victim != cx.router(router).hash() {
            return;
        }
        let group = self.group;
        let theirs = |h: &Hash| cx.index_of(h).is_some_and(|j| cx.group(j) == group);
        let degrade = log.on_tunnel_built(started, direction, hops, theirs);
        let lifetime = cx
            .scenario()
            .tunnels
            .config()
            .map_or(Duration::ZERO, |t| t.lifetime);
        for hash in degrade {
            if let Some(router) = cx.index_of(&hash) {
                let timer = Timer {
                    kind: DEGRADE,
                    subject: u64::from(router),
                    epoch: 0,
                };
                cx.schedule(cx.now() + lifetime, timer);
            }
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, timer: Timer) {
        let (Some(log), Some(down)) = (&mut self.log, self.degrade) else {
            return;
        };
        if cx.knock_down(timer.subject as u32, down) {
            log.on_degraded(1);
        }
    }

    /// The victim's tiers as the log sees them.
    fn on_sample(&mut self, cx: &mut Cx<'_>) {
        let Some(log) = &mut self.log else {
            return;
        };
        let Some(victim) = cx.index_of(&log.victim) else {
            return;
        };
        let Some(tiers) = cx.router(victim).tunnels().map(|t| t.tiers()) else {
            return;
        };
        let (mut online_routers, mut online_adversaries) = (0, 0);
        for &i in cx.online() {
            if cx.router(i).hash() != log.victim {
                online_routers += 1;
                online_adversaries += u64::from(cx.group(i) == self.group);
            }
        }
        let view = VictimView {
            fast: tiers.fast(),
            high_capacity: tiers.high_capacity(),
            online_routers,
            online_adversaries,
        };
        let time_s = cx.seconds(cx.now());
        let group = self.group;
        let theirs = |h: &Hash| cx.index_of(h).is_some_and(|j| cx.group(j) == group);
        log.sample(time_s, &view, theirs);
    }

    fn summary(&mut self, _cx: &mut Cx<'_>) -> Vec<(String, f64)> {
        self.log
            .as_ref()
            .map_or_else(Vec::new, TierCaptureLog::summary)
    }

    fn write(&self, dir: &Path) -> Result<Vec<String>, csv::Error> {
        match &self.log {
            Some(log) => Ok(vec![write_all(dir, &log.rows)?.to_owned()]),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u8) -> Hash {
        Hash::from([i; 32])
    }

    #[test]
    fn tunnels_and_tiers_are_counted_against_the_adversary() {
        let adversarial = |x: &Hash| x.as_ref()[0] >= 100;
        let mut log = TierCaptureLog::new(
            h(1),
            2,
            Instant::from_secs(100),
            Some(Duration::from_secs(600)),
        );
        // Before `since`: not counted.
        log.on_tunnel_built(
            Instant::from_secs(50),
            Direction::Outbound,
            &[h(100), h(101)],
            adversarial,
        );
        // Outbound: the first hop is next to the victim, and sees the second.
        let seen = log.on_tunnel_built(
            Instant::from_secs(100),
            Direction::Outbound,
            &[h(100), h(5), h(6)],
            adversarial,
        );
        assert_eq!(seen, vec![h(5)]);
        // Inbound: the last hop is next to the victim; held whole.
        log.on_tunnel_built(
            Instant::from_secs(120),
            Direction::Inbound,
            &[h(101), h(102)],
            adversarial,
        );
        let seen = log.on_tunnel_built(
            Instant::from_secs(130),
            Direction::Inbound,
            &[h(100), h(7)],
            adversarial,
        );
        assert_eq!(seen, vec![h(7)]);
        log.on_degraded(1);
        let fast = [h(5), h(100), h(101), h(7)];
        let view = VictimView {
            fast: &fast,
            high_capacity: &fast,
            online_routers: 20,
            online_adversaries: 4,
        };
        log.sample(600.0, &view, adversarial);
        let row = &log.rows[0];
        assert_eq!((row.fast_tier, row.fast_adversary), (4, 2));
        assert_eq!(row.tunnels_built, 3);
        assert_eq!(row.tunnels_with_adversary, 3);
        assert_eq!(row.tunnels_adjacent, 2);
        assert_eq!(row.tunnels_held, 1);
        assert_eq!((row.hops, row.adversary_hops), (7, 4));
        assert_eq!(row.degraded, 1);

        let summary: std::collections::BTreeMap<String, f64> = log.summary().into_iter().collect();
        assert_eq!(summary["tier_capture_fast_share"], 0.5);
        assert_eq!(summary["tier_capture_network_share"], 0.2);
        assert_eq!(summary["tier_capture_hop_share"], 4.0 / 7.0);
        assert_eq!(summary["tier_capture_held_share"], 1.0 / 3.0);
    }

    #[test]
    fn no_samples_no_scalars() {
        let log = TierCaptureLog::new(h(1), 0, Instant::from_secs(0), None);
        assert!(log.summary().is_empty());
    }
}
