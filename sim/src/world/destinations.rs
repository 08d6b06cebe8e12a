//! Client destinations: which routers host them, adding them to their routers, the
//! signers of multihomed ones (balancer and MetaLeaseSet) and the netDb observer that
//! watches them.

use super::support::destination_keys;
use super::{Ev, Hosted, NodeState, World};
use crate::adversary::netdb_observer::NetDbObserver;
use crate::balancer::{Balancer, BalancerConfig};
use crate::meta::{MetaConfig, MetaPublisher};
use crate::rng::{derive_rng, Stream};
use crate::scenario::MultihomingMode;
use crate::signer::{Signed, Signer};
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::Hash;
use ramsons_router::profile::SelectionRules;
use ramsons_router::time::Instant;
use rand::seq::SliceRandom;

/// A signer and when it is next asked to publish.
#[derive(Debug)]
pub(super) struct Signing {
    pub(super) signer: Signer,
    /// The pending [`Ev::Balance`], if any.
    armed: Instant,
}

impl World {
    /// Chooses the routers that host client destinations and derives their keys.
    pub(super) fn place_destinations(&mut self, seed: u64) {
        let wanted = self.scenario.clients.destinations as usize;
        if wanted == 0 {
            return;
        }
        let hosts: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|i| {
                let node = &self.nodes[*i as usize];
                !node.floodfill && self.scenario.behaviour_of(node.group as usize).is_none()
            })
            .collect();
        let mut rng = derive_rng(seed, Stream::DestinationHosts, 0);
        let chosen: Vec<u32> = hosts.choose_multiple(&mut rng, wanted).copied().collect();
        for (d, &router) in chosen.iter().enumerate() {
            let keys = destination_keys(seed, d as u32);
            self.destinations.push(Hosted {
                router,
                routers: vec![router],
                gateways: Vec::new(),
                hash: keys.hash(),
                keys,
                edges: Vec::new(),
            });
            self.nodes[router as usize].destination = Some((d as u32, None));
        }
        self.place_multihomed(seed, hosts);
    }

    /// The further routers, shared gateways and signers of the multihomed destinations.
    fn place_multihomed(&mut self, seed: u64, hosts: Vec<u32>) {
        // Multihomed destinations get their further routers from the routers left, from
        // a stream of their own: scenarios without multihoming draw nothing more.
        let multihomed = &self.scenario.clients.multihomed;
        if multihomed
            .iter()
            .all(|m| m.routers <= 1 && m.shared_gateways == 0 && m.mode == MultihomingMode::Naive)
        {
            return;
        }
        let mut free: Vec<u32> = hosts
            .into_iter()
            .filter(|i| self.nodes[*i as usize].destination.is_none())
            .collect();
        let mut rng = derive_rng(seed, Stream::Multihoming, 0);
        for m in multihomed.clone() {
            let extra = (m.routers.saturating_sub(1) as usize).min(free.len());
            let picked: Vec<u32> = free.choose_multiple(&mut rng, extra).copied().collect();
            free.retain(|i| !picked.contains(i));
            for router in picked {
                self.destinations[m.destination as usize]
                    .routers
                    .push(router);
                self.nodes[router as usize].destination = Some((m.destination, None));
            }
            let shared = (m.shared_gateways as usize).min(free.len());
            let gateways: Vec<u32> = free.choose_multiple(&mut rng, shared).copied().collect();
            free.retain(|i| !gateways.contains(i));
            self.destinations[m.destination as usize].gateways = gateways
                .into_iter()
                .map(|i| self.nodes[i as usize].router.hash())
                .collect();
            self.add_signer(seed, m.destination, m.mode);
        }
    }

    /// The signer of multihomed destination `d` when `mode` has one.
    fn add_signer(&mut self, seed: u64, d: u32, mode: MultihomingMode) {
        let hosted = &mut self.destinations[d as usize];
        let keys = hosted.keys.clone();
        let signer = match mode {
            MultihomingMode::Naive => return,
            MultihomingMode::Balancer => {
                Signer::Balancer(Balancer::new(keys, BalancerConfig::default()))
            }
            MultihomingMode::Meta => {
                // Keys of their own, from a stream of their own.
                hosted.edges = (0..hosted.routers.len() as u64)
                    .map(|e| {
                        let index = u64::from(d) << 8 | e;
                        DestinationKeys::generate(&mut derive_rng(seed, Stream::MetaEdge, index))
                    })
                    .collect();
                let targets = hosted.edges.iter().map(DestinationKeys::hash).collect();
                Signer::Meta(MetaPublisher::new(keys, targets, MetaConfig::default()))
            }
        };
        self.signers.insert(
            d,
            Signing {
                signer,
                armed: Instant::MAX,
            },
        );
    }

    /// With multihomed destinations, the floodfills log the LeaseSet stores of every
    /// destination for the netDb observer.
    pub(super) fn watch_netdb(&mut self) {
        let multihomed = &self.scenario.clients.multihomed;
        if multihomed.is_empty() {
            return;
        }
        let targets = multihomed.iter().map(|m| m.destination).collect();
        let destinations: Vec<(Hash, u32, u32)> = self
            .destinations
            .iter()
            .enumerate()
            .map(|(d, h)| (h.hash, d as u32, h.routers.len() as u32))
            .collect();
        let colluding_floodfills = self.nodes.iter().any(|n| n.floodfill && n.colluding);
        let mut observer = NetDbObserver::new(
            destinations,
            targets,
            self.start,
            self.start + self.scenario.general.warmup.0,
            self.stop,
            colluding_floodfills,
        );
        for (d, hosted) in self.destinations.iter().enumerate() {
            observer.watch_edges(d as u32, hosted.edges.iter().map(DestinationKeys::hash));
        }
        self.netdb_observer = Some(observer);
    }

    /// Router `router`, one of destination `d`'s, came online or went down: the truth
    /// an observer of a MetaLeaseSet tries to learn (only meta destinations log it).
    pub(super) fn observe_edge(&mut self, router: u32, d: u32, online: bool) {
        let hosted = &self.destinations[d as usize];
        let Some(edge) = hosted.routers.iter().position(|r| *r == router) else {
            return;
        };
        if let (Some(observer), false) = (&mut self.netdb_observer, hosted.edges.is_empty()) {
            observer.on_edge(self.now, d, edge as u32, router, online);
        }
    }

    /// Adds destination `d` to its router, on the router's first start. With a signer,
    /// the router runs `d`'s keys as a balanced destination that publishes what the
    /// signer hands it. A balancer's edge runs nothing else; a meta destination's router
    /// also runs its own edge destination, the one the MetaLeaseSet lists.
    pub(super) fn add_destination(&mut self, router: u32, d: u32) {
        let hosted = &self.destinations[d as usize];
        let keys = hosted.keys.clone();
        let edge_keys = hosted
            .routers
            .iter()
            .position(|r| *r == router)
            .and_then(|e| hosted.edges.get(e))
            .cloned();
        let rules = (!hosted.gateways.is_empty()).then(|| SelectionRules {
            gateways: hosted.gateways.clone(),
            ..self
                .scenario
                .clients
                .selection
                .over(SelectionRules::client())
        });
        let now = self.now;
        let node = &mut self.nodes[router as usize];
        let signer = self.signers.get_mut(&d);
        let balanced = signer.as_ref().map(|_| {
            node.router
                .add_balanced_destination(now, keys.clone(), rules.clone())
                .ok()
        });
        let own = match (edge_keys, balanced) {
            (None, Some(balanced)) => balanced,
            (edge_keys, _) => {
                let keys = edge_keys.unwrap_or(keys);
                match rules {
                    Some(rules) => node.router.add_destination_with_rules(now, keys, rules),
                    None => node.router.add_destination(now, keys),
                }
                .ok()
            }
        };
        if let Some(id) = own {
            node.destination = Some((d, Some(id)));
        }
        if let (Some(s), Some(Some(id))) = (signer, balanced) {
            s.signer.add_edge(router, id);
        }
        self.drain(router);
    }

    /// Schedules destination `d`'s signer for when it wants to publish, unless that is
    /// already scheduled.
    pub(super) fn arm_signer(&mut self, d: u32) {
        let Some(s) = self.signers.get_mut(&d) else {
            return;
        };
        let Some(at) = s.signer.next_poll() else {
            return;
        };
        let at = at.max(self.now);
        if at < s.armed {
            s.armed = at;
            self.queue.push(at, Ev::Balance { destination: d });
        }
    }

    /// Destination `d`'s signer publishes, if it has news, through the edge it names
    /// (proposal 140's "Publish LeaseSet"; proposal 123's MetaLeaseSet likewise).
    pub(super) fn balance(&mut self, d: u32) {
        let now = self.now;
        let Some(s) = self.signers.get_mut(&d) else {
            return;
        };
        if s.armed > now {
            return; // superseded by an earlier one
        }
        s.armed = Instant::MAX;
        if let Some(p) = s.signer.poll(now) {
            let node = &mut self.nodes[p.router as usize];
            if node.state == NodeState::Online {
                // Refused only if not newer, which the signers' dates rule out.
                let _ = match p.signed {
                    Signed::LeaseSet2(ls) => node.router.publish_lease_set(now, p.destination, ls),
                    Signed::Meta(meta) => {
                        node.router.publish_meta_lease_set(now, p.destination, meta)
                    }
                };
                self.drain(p.router);
            }
        }
        self.arm_signer(d);
    }
}
