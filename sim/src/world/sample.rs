//! The time series: netDb coverage per role, tunnels and tiers, islands.

use super::{NodeState, World};
use crate::metrics::{CoverageSample, TunnelRouterSample};
use ramsons_analysis::records::CoverageRecord;
use ramsons_router::profile::Tier;
use ramsons_router::time::Instant;
use rand::seq::SliceRandom;

impl World {
    /// Records the time series: store counters and netDb coverage per role.
    pub(super) fn sample(&mut self) {
        let now = self.now;
        self.metrics.end_interval(now);
        self.sample_tunnels(now);
        self.each_plugin(|p, cx| p.on_sample(cx));
        if self
            .scenario
            .metrics
            .record
            .contains(&crate::scenario::Metric::Islands)
        {
            self.sample_islands(now);
        }
        let online_total = self.online.len() as u64;
        for (role, floodfill) in [
            (CoverageRecord::FLOODFILL, true),
            (CoverageRecord::ROUTER, false),
        ] {
            let mut members: Vec<u32> = self
                .online
                .members()
                .iter()
                .copied()
                .filter(|i| self.nodes[*i as usize].floodfill == floodfill)
                .collect();
            members.sort_unstable();
            let known = members
                .iter()
                .map(|i| self.nodes[*i as usize].router.netdb().store().len() as u64)
                .collect();
            let n = self.scenario.metrics.coverage_sample.min(members.len());
            let coverage = members
                .choose_multiple(&mut self.sample_rng, n)
                .map(|i| self.coverage_of(*i))
                .collect();
            self.metrics.add_coverage(
                now,
                CoverageSample {
                    role,
                    online_routers: online_total,
                    known,
                    coverage,
                },
            );
        }
    }

    /// Who knows whom among the online routers.
    fn sample_islands(&mut self, now: Instant) {
        let mut online = self.online.members().to_vec();
        online.sort_unstable();
        let mut dense = vec![usize::MAX; self.nodes.len()];
        for (d, i) in online.iter().enumerate() {
            dense[*i as usize] = d;
        }
        let knows: Vec<Vec<usize>> = online
            .iter()
            .map(|i| {
                let store = self.nodes[*i as usize].router.netdb().store();
                store
                    .hashes()
                    .filter_map(|h| self.by_hash.get(h))
                    .map(|j| dense[*j as usize])
                    .filter(|d| *d != usize::MAX)
                    .collect()
            })
            .collect();
        let floodfill: Vec<bool> = online
            .iter()
            .map(|i| self.nodes[*i as usize].floodfill)
            .collect();
        self.metrics
            .add_islands(now, crate::islands::measure(&knows, &floodfill));
    }

    /// Tunnel counts, transit load and tier sizes across online routers.
    fn sample_tunnels(&mut self, now: Instant) {
        if self.scenario.tunnels.config().is_none() {
            return;
        }
        let transit_total: u64 = self
            .nodes
            .iter()
            .filter_map(|n| n.router.tunnels())
            .map(|t| t.transit_messages())
            .sum();
        let sample = self
            .online
            .members()
            .iter()
            .filter_map(|i| self.nodes[*i as usize].router.tunnels())
            .map(|t| {
                let (inbound, outbound) = t.own_tunnels();
                let sizes = t.tiers().sizes();
                let tier = |tier| sizes.get(&tier).copied().unwrap_or(0) as u64;
                TunnelRouterSample {
                    inbound: inbound as u64,
                    outbound: outbound as u64,
                    participating: t.participating() as u64,
                    tiers: [
                        tier(Tier::Fast),
                        tier(Tier::HighCapacity),
                        tier(Tier::NotFailing),
                        tier(Tier::Failing),
                    ],
                }
            })
            .collect();
        self.metrics.add_tunnel_sample(now, transit_total, sample);
    }

    /// Fraction of the other online routers that router `i` knows.
    fn coverage_of(&self, i: u32) -> f64 {
        let others = self.online.len().saturating_sub(1);
        if others == 0 {
            return 1.0;
        }
        let known_online = self.nodes[i as usize]
            .router
            .netdb()
            .store()
            .hashes()
            .filter(|h| {
                self.by_hash
                    .get(*h)
                    .is_some_and(|j| self.nodes[*j as usize].state == NodeState::Online)
            })
            .count();
        known_online as f64 / others as f64
    }
}
