//! The predecessor attack: colluding routers log who sits next to them each time they are
//! hops of the victim's tunnels, and the victim, being at one end of every tunnel it
//! builds, is logged more often than anyone else as tunnels are rebuilt.
//!
//! A hop learns the router it received the build request from and the router it sends to
//! (`TunnelEvent::Joined`). The first hop of an outbound tunnel has the victim before it;
//! the last hop of an inbound tunnel has the victim after it. A hop in the middle cannot
//! tell which way the tunnel points, so the colluders log both neighbours of every hop
//! they hold, and never count each other. The simulator tells the adversary which tunnels
//! are the victim's: an upper bound on an adversary that must link them (a colluding
//! inbound gateway finds its tunnel in the victim's LeaseSet; other tunnels by timing).

use super::client_tunnel_built;
use crate::destinations::router_of;
use crate::metrics::write_all;
use crate::plugin::{Cx, Plugin};
use crate::scenario::{Behaviour, Scenario};
use ramsons_analysis::anonymity;
use ramsons_analysis::records::PredecessorRecord;
use ramsons_router::data::Hash;
use ramsons_router::profile::selection::Direction;
use ramsons_router::Event;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug)]
pub struct PredecessorLog {
    /// The victim's router.
    pub victim: Hash,
    /// Routers the adversary could suspect: every honest router of the run.
    honest_routers: u64,
    sightings: BTreeMap<Hash, u64>,
    rebuilds: u64,
    pub rows: Vec<PredecessorRecord>,
}

impl PredecessorLog {
    pub fn new(victim: Hash, honest_routers: u64) -> PredecessorLog {
        PredecessorLog {
            victim,
            honest_routers,
            sightings: BTreeMap::new(),
            rebuilds: 0,
            rows: Vec::new(),
        }
    }

    /// The victim built a tunnel through `hops` (gateway first); `colluding` tells the
    /// adversary's routers apart.
    pub fn on_tunnel_built(
        &mut self,
        time_s: f64,
        direction: Direction,
        hops: &[Hash],
        colluding: impl Fn(&Hash) -> bool,
    ) {
        self.rebuilds += 1;
        let colluders = hops
            .iter()
            .filter(|h| **h != self.victim && colluding(h))
            .count() as u64;
        for seen in super::seen_next_to(self.victim, direction, hops, colluding) {
            *self.sightings.entry(seen).or_default() += 1;
        }
        self.rows.push(self.record(time_s, direction, colluders));
    }

    /// The attack's scalars: `predecessor_rebuilds_to_top`, the tunnels the victim built
    /// until it was first the router the colluders saw most (absent if it never was), and
    /// at the end `predecessor_victim_rank`, `predecessor_degree` and
    /// `predecessor_observed_share` (the victim's tunnels with a colluder in them).
    pub fn summary(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        if let Some(r) = self.rows.iter().find(|r| r.victim_rank == 1) {
            out.push(("predecessor_rebuilds_to_top".to_owned(), r.rebuild as f64));
        }
        if let Some(last) = self.rows.last() {
            let observed = self
                .rows
                .iter()
                .filter(|r| r.colluders_in_tunnel > 0)
                .count();
            out.push((
                "predecessor_victim_rank".to_owned(),
                last.victim_rank as f64,
            ));
            out.push(("predecessor_degree".to_owned(), last.degree));
            out.push((
                "predecessor_observed_share".to_owned(),
                observed as f64 / self.rows.len() as f64,
            ));
        }
        out
    }

    fn record(&self, time_s: f64, direction: Direction, colluders: u64) -> PredecessorRecord {
        let victim_sightings = self.sightings.get(&self.victim).copied().unwrap_or(0);
        let top_other_sightings = self
            .sightings
            .iter()
            .filter(|(h, _)| **h != self.victim)
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0);
        let belief = anonymity::measure(
            self.sightings.iter().map(|(h, n)| (*h, *n as f64)),
            self.honest_routers,
            Some(&self.victim),
        )
        .ok();
        PredecessorRecord {
            time_s,
            rebuild: self.rebuilds,
            direction: match direction {
                Direction::Inbound => "inbound",
                Direction::Outbound => "outbound",
            }
            .to_owned(),
            colluders_in_tunnel: colluders,
            victim_sightings,
            top_other_sightings,
            victim_rank: belief
                .and_then(|b| b.true_rank)
                .unwrap_or(self.honest_routers),
            suspects: self.sightings.len() as u64,
            entropy_bits: belief.map_or(0.0, |b| b.entropy_bits),
            degree: belief.map_or(0.0, |b| b.degree),
        }
    }
}

/// The predecessor adversary as a plug-in: its routers collude, and it logs the victim's
/// client tunnels.
#[derive(Debug)]
pub struct Predecessor {
    /// The colluders' router group.
    group: usize,
    /// The victim destination.
    destination: u32,
    /// Set up once the destinations are placed.
    pub log: Option<PredecessorLog>,
}

/// The plug-in of the scenario's `predecessor` entry, if it has one.
pub fn plugin(scenario: &Scenario) -> Option<Box<dyn Plugin>> {
    let (group, destination) = super::find(scenario, |b| match *b {
        Behaviour::Predecessor { victim } => Some(victim),
        _ => None,
    })?;
    Some(Box::new(Predecessor {
        group,
        destination,
        log: None,
    }))
}

impl Plugin for Predecessor {
    fn colludes(&self, group: usize) -> bool {
        group == self.group
    }

    fn init(&mut self, cx: &mut Cx<'_>) {
        let victim = cx.router(router_of(cx, self.destination)).hash();
        let honest = (0..cx.routers()).filter(|i| !cx.is_colluding(*i)).count() as u64;
        self.log = Some(PredecessorLog::new(victim, honest));
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, router: u32, event: &Event) {
        let (Some(log), Some((direction, hops, _))) = (&mut self.log, client_tunnel_built(event))
        else {
            return;
        };
        if log.victim == cx.router(router).hash() {
            let colluding = |h: &Hash| cx.index_of(h).is_some_and(|j| cx.is_colluding(j));
            log.on_tunnel_built(cx.seconds(cx.now()), direction, hops, colluding);
        }
    }

    fn summary(&mut self, _cx: &mut Cx<'_>) -> Vec<(String, f64)> {
        self.log
            .as_ref()
            .map_or_else(Vec::new, PredecessorLog::summary)
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

    fn h(b: u8) -> Hash {
        Hash([b; 32])
    }

    #[test]
    fn the_victim_is_seen_next_to_the_ends_only() {
        let (victim, spy) = (h(1), h(9));
        let mut log = PredecessorLog::new(victim, 10);
        let colluding = |x: &Hash| *x == spy;
        // A colluding first hop of an outbound tunnel sees the victim before it.
        log.on_tunnel_built(1.0, Direction::Outbound, &[spy, h(2), h(3)], colluding);
        assert_eq!(log.rows[0].victim_sightings, 1);
        // Tied with the second hop, seen once too: ties count against the adversary.
        assert_eq!(log.rows[0].victim_rank, 2);
        // A colluding middle hop sees two honest routers, not the victim.
        log.on_tunnel_built(2.0, Direction::Outbound, &[h(2), spy, h(4)], colluding);
        assert_eq!(log.rows[1].victim_sightings, 1);
        assert_eq!(log.rows[1].top_other_sightings, 2);
        assert_eq!(log.rows[1].victim_rank, 3);
        // A colluding last hop of an inbound tunnel sees the victim after it.
        log.on_tunnel_built(3.0, Direction::Inbound, &[h(5), h(6), spy], colluding);
        assert_eq!(log.rows[2].victim_sightings, 2);
        assert_eq!(log.rows[2].colluders_in_tunnel, 1);
        // An inbound gateway's sender is outside the tunnel: not logged.
        log.on_tunnel_built(4.0, Direction::Inbound, &[spy, h(6), h(7)], colluding);
        assert_eq!(log.rows[3].victim_sightings, 2);
        assert_eq!(log.rows[3].suspects, 4);
    }
}
