//! Nodes: creating routers, starting, stopping and restarting them, and churn.

use super::support::simulated_address;
use super::{tag, Ev, Node, NodeState, World};
use crate::rng::{derive_rng, Stream};
use crate::scenario::Role;
use ramsons_router::client::ClientConfig;
use ramsons_router::crypto::RouterKeys;
use ramsons_router::data::{RouterAddress, RouterInfo};
use ramsons_router::profile::SelectionRules;
use ramsons_router::time::Instant;
use ramsons_router::{Router, RouterConfig};
use rand::seq::SliceRandom;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;

/// A reseed bundle has at least this many floodfills, as real reseed servers' do; a
/// router that knows none cannot use the netDb at all.
const RESEED_MIN_FLOODFILLS: usize = 3;

impl World {
    /// Creates a router of `group` that starts at a uniform time in `[at, at + spread)`.
    pub(super) fn spawn(&mut self, group: usize, at: Instant, spread: Duration) {
        let index = self.nodes.len() as u32;
        let spec = &self.scenario.routers[group];
        let seed = self.scenario.general.seed;
        let mut rng = derive_rng(seed, Stream::Router, u64::from(index));
        let keys = self
            .plugins
            .slots
            .iter_mut()
            .flatten()
            .find_map(|p| p.router_keys(group, &mut rng))
            .unwrap_or_else(|| RouterKeys::generate(&mut rng));
        let region = match &spec.region {
            Some(name) => self.scenario.region_index(name).unwrap_or(0),
            None => index as usize % self.links.regions(),
        };
        let floodfill = spec.role == Role::Floodfill;
        let address = simulated_address(index, &mut rng);
        let config = self.router_config(group, address);
        let mut router = Router::new(config, keys, rng, self.now);
        router.share_router_infos(self.router_infos.clone());
        router.share_secrets(self.shared_secrets.clone());
        self.by_hash.insert(router.hash(), index);
        let plugins = &self.plugins;
        self.nodes.push(Node {
            router,
            group: group as u16,
            region: region as u16,
            floodfill,
            dialable: spec.dialable,
            bandwidth: spec.bandwidth.unwrap_or(self.scenario.network.bandwidth),
            state: NodeState::Pending,
            epoch: 0,
            armed: Instant::MAX,
            uplink_free: self.start,
            // Every router of a colluding group, also those that join later.
            colluding: plugins.iter().any(|p| p.colludes(group)),
            wrapper: plugins
                .iter()
                .position(|p| p.wraps(group))
                .map(|k| k as u16),
        });
        let offset = if spread.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_micros(self.world_rng.gen_range(0..spread.as_micros() as u64))
        };
        self.queue.push(at + offset, Ev::Start(index));
    }

    /// The configuration of a router of `group`, as the scenario and the plug-ins set it.
    fn router_config(&self, group: usize, address: RouterAddress) -> RouterConfig {
        let spec = &self.scenario.routers[group];
        let clients = &self.scenario.clients;
        let mut config = RouterConfig {
            floodfill: spec.role == Role::Floodfill,
            net_id: self.scenario.general.net_id,
            bandwidth_class: spec.bandwidth_class,
            reachable: spec.dialable,
            addresses: vec![address],
            netdb: self.netdb_config.clone(),
            tunnels: self.scenario.tunnels.config(),
            clients: ClientConfig {
                hops: clients.hops,
                tunnels: clients.tunnels,
                selection: clients.selection.over(SelectionRules::client()),
                sticky_leases: clients.sticky_leases,
                ..ClientConfig::default()
            },
            ..RouterConfig::default()
        };
        for plugin in self.plugins.iter() {
            plugin.configure(group, &mut config);
        }
        config
    }

    /// Starts a router for the first time: reseed, then online.
    pub(super) fn start_router(&mut self, i: u32) {
        if self.nodes[i as usize].state != NodeState::Pending {
            return;
        }
        let mut bundle = self.reseed_bundle(i);
        if self.scenario.bootstrap.warm_floodfills && self.nodes[i as usize].floodfill {
            bundle.extend(
                self.nodes
                    .iter()
                    .filter(|n| {
                        n.floodfill && matches!(n.state, NodeState::Online | NodeState::Pending)
                    })
                    .map(|n| n.router.router_info().clone()),
            );
        }
        let now = self.now;
        self.nodes[i as usize].router.bootstrap(now, bundle);
        self.bring_online(i);
    }

    /// RouterInfos for a starting router: random routers that are online or about to
    /// start (the reseed server's view), with at least a few floodfills among them.
    fn reseed_bundle(&mut self, for_router: u32) -> Vec<Arc<RouterInfo>> {
        let wanted = self.scenario.bootstrap.reseed_routers as usize;
        let candidates: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|&j| {
                j != for_router
                    && matches!(
                        self.nodes[j as usize].state,
                        NodeState::Online | NodeState::Pending
                    )
            })
            .collect();
        let mut chosen: Vec<u32> = candidates
            .choose_multiple(&mut self.world_rng, wanted)
            .copied()
            .collect();
        let floodfills = chosen
            .iter()
            .filter(|j| self.nodes[**j as usize].floodfill)
            .count();
        if floodfills < RESEED_MIN_FLOODFILLS {
            let extra: Vec<u32> = candidates
                .iter()
                .filter(|j| self.nodes[**j as usize].floodfill && !chosen.contains(j))
                .copied()
                .collect::<Vec<_>>()
                .choose_multiple(&mut self.world_rng, RESEED_MIN_FLOODFILLS - floodfills)
                .copied()
                .collect();
            chosen.extend(extra);
        }
        chosen
            .into_iter()
            .map(|j| self.nodes[j as usize].router.router_info().clone())
            .collect()
    }

    pub(super) fn bring_online(&mut self, i: u32) {
        let now = self.now;
        let node = &mut self.nodes[i as usize];
        node.state = NodeState::Online;
        node.epoch += 1;
        node.armed = Instant::MAX;
        // Starting is restarting with whatever the netDb holds: nothing is in flight.
        node.router.restart(now);
        self.online.insert(i);
        self.drain(i);
        self.each_plugin(|p, cx| p.on_online(cx, i));
        if let Some((uptime, _)) = self.churn_of(i) {
            let after = self.exponential(uptime);
            let epoch = self.nodes[i as usize].epoch;
            self.queue
                .push(now + after, Ev::ChurnDown { router: i, epoch });
        }
    }

    pub(super) fn take_down(&mut self, i: u32, state: NodeState) {
        let node = &mut self.nodes[i as usize];
        node.state = state;
        node.epoch += 1;
        node.armed = Instant::MAX;
        self.online.remove(i);
        self.each_plugin(|p, cx| p.on_offline(cx, i));
    }

    /// Router `i`, if online, goes down and comes back after `down` with what it held, as
    /// after a crash. Returns whether it was online.
    pub(super) fn knock_down(&mut self, i: u32, down: Duration) -> bool {
        if self.nodes[i as usize].state != NodeState::Online {
            return false;
        }
        self.trace
            .record(self.micros(), tag::DEGRADE, &[u64::from(i)]);
        self.take_down(i, NodeState::Down);
        let epoch = self.nodes[i as usize].epoch;
        self.queue
            .push(self.now + down, Ev::Restart { router: i, epoch });
        true
    }

    /// Mean uptime and downtime of the churn that applies to router `i`, if any.
    pub(super) fn churn_of(&self, i: u32) -> Option<(Duration, Duration)> {
        let group = self.scenario.routers[self.nodes[i as usize].group as usize].name();
        self.scenario
            .churn
            .iter()
            .find(|c| c.group == group)
            .map(|c| (c.mean_uptime.0, c.mean_downtime.0))
    }

    fn exponential(&mut self, mean: Duration) -> Duration {
        crate::rng::exponential(&mut self.world_rng, mean)
    }

    /// Churn takes router `router` down; it comes back after a downtime of the churn's.
    pub(super) fn churn_down(&mut self, router: u32) {
        let downtime = self.churn_of(router).map(|(_, down)| down);
        self.take_down(router, NodeState::Down);
        if let Some(mean) = downtime {
            let after = self.exponential(mean);
            let epoch = self.nodes[router as usize].epoch;
            self.queue
                .push(self.now + after, Ev::Restart { router, epoch });
        }
    }
}
