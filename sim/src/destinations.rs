//! Client destinations (`[clients]`): which routers host them, and adding them to their
//! routers on first start. A plug-in ([`Destinations`]) that the workloads, the signers
//! and the netDb observer read through [`Cx::plugin`].
//!
//! A destination is hosted by one router, or by several when it is multihomed
//! (`[[clients.multihomed]]`). With a signer (balancer or meta mode) its routers run its
//! keys as a balanced destination that publishes what the signer hands it
//! ([`crate::signer::Signers`]); a meta destination's routers also run an edge
//! destination of their own, the one the MetaLeaseSet lists.

use crate::plugin::{Cx, Plugin};
use crate::rng::{derive_rng, Stream};
use crate::scenario::MultihomingMode;
use ramsons_router::client::DestinationId;
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::Hash;
use ramsons_router::profile::SelectionRules;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;

/// Destination `d`'s keys, derived from the seed alone: the adversary that targets a
/// destination knows its hash before it is placed.
pub fn destination_keys(seed: u64, d: u32) -> DestinationKeys {
    DestinationKeys::generate(&mut derive_rng(seed, Stream::DestinationKeys, u64::from(d)))
}

/// A client destination and the routers that host it.
#[derive(Debug)]
pub struct Hosted {
    /// The router its own messages leave from (the first of `routers`).
    pub router: u32,
    /// Every router hosting it: more than one when it is multihomed.
    pub routers: Vec<u32>,
    /// The peers its routers take inbound gateways from (multihoming's mitigation);
    /// empty: as any destination.
    gateways: Vec<Hash>,
    pub hash: Hash,
    /// Derived once from the seed; handed to the router on its first start.
    pub keys: DestinationKeys,
    /// Who signs its entries when its routers do not.
    pub mode: MultihomingMode,
    /// Reached through a MetaLeaseSet (`mode = "meta"`): the destination each of
    /// `routers` runs in its place, in the same order (the MetaLeaseSet's listing);
    /// empty otherwise.
    pub edges: Vec<DestinationKeys>,
}

/// What a router hosts: destination `d`, and once added, its ids in the router.
#[derive(Debug, Clone, Copy)]
pub struct Hosting {
    pub destination: u32,
    /// The destination the router runs for `destination` (its edge destination, in meta
    /// mode).
    pub id: Option<DestinationId>,
    /// The balanced destination a signer publishes through, in balancer and meta modes.
    pub balanced: Option<DestinationId>,
}

/// The client destinations of a run. See the module docs.
#[derive(Debug, Default)]
pub struct Destinations {
    hosted: Vec<Hosted>,
    /// By router index.
    hosting: BTreeMap<u32, Hosting>,
}

/// The plug-in, always there: hosting nothing when `[clients]` has no destinations.
pub fn plugin() -> Box<dyn Plugin> {
    Box::<Destinations>::default()
}

/// The run's destinations, for the other plug-ins (every run has the plug-in; it is out
/// of its slot only during its own calls, which hand no event the others read it for).
pub fn of<'a>(cx: &'a Cx<'_>) -> &'a Destinations {
    cx.plugin::<Destinations>()
        .expect("the destinations are read outside their own calls")
}

/// The router destination `d`'s own messages leave from (for the adversaries that target
/// a destination).
pub fn router_of(cx: &Cx<'_>, d: u32) -> u32 {
    of(cx).hosted(d).router
}

impl Destinations {
    /// Destination `d`.
    pub fn hosted(&self, d: u32) -> &Hosted {
        &self.hosted[d as usize]
    }

    /// Every destination, by index.
    pub fn all(&self) -> &[Hosted] {
        &self.hosted
    }

    /// What router `router` hosts, if anything.
    pub fn hosting(&self, router: u32) -> Option<Hosting> {
        self.hosting.get(&router).copied()
    }

    /// Chooses the routers that host the destinations and derives their keys.
    fn place(&mut self, cx: &Cx<'_>) {
        let scenario = cx.scenario();
        let seed = scenario.general.seed;
        let wanted = scenario.clients.destinations as usize;
        if wanted == 0 {
            return;
        }
        let hosts: Vec<u32> = (0..cx.routers())
            .filter(|i| !cx.is_floodfill(*i) && scenario.behaviour_of(cx.group(*i)).is_none())
            .collect();
        let mut rng = derive_rng(seed, Stream::DestinationHosts, 0);
        let chosen: Vec<u32> = hosts.choose_multiple(&mut rng, wanted).copied().collect();
        for (d, &router) in chosen.iter().enumerate() {
            let keys = destination_keys(seed, d as u32);
            self.hosted.push(Hosted {
                router,
                routers: vec![router],
                gateways: Vec::new(),
                hash: keys.hash(),
                keys,
                mode: MultihomingMode::Naive,
                edges: Vec::new(),
            });
            self.host(router, d as u32);
        }
        self.place_multihomed(cx, hosts);
    }

    fn host(&mut self, router: u32, d: u32) {
        let hosting = Hosting {
            destination: d,
            id: None,
            balanced: None,
        };
        self.hosting.insert(router, hosting);
    }

    /// The further routers, shared gateways and modes of the multihomed destinations.
    fn place_multihomed(&mut self, cx: &Cx<'_>, hosts: Vec<u32>) {
        // Multihomed destinations get their further routers from the routers left, from
        // a stream of their own: scenarios without multihoming draw nothing more.
        let multihomed = &cx.scenario().clients.multihomed;
        if multihomed
            .iter()
            .all(|m| m.routers <= 1 && m.shared_gateways == 0 && m.mode == MultihomingMode::Naive)
        {
            return;
        }
        let seed = cx.scenario().general.seed;
        let mut free: Vec<u32> = hosts
            .into_iter()
            .filter(|i| !self.hosting.contains_key(i))
            .collect();
        let mut rng = derive_rng(seed, Stream::Multihoming, 0);
        for m in multihomed {
            let extra = (m.routers.saturating_sub(1) as usize).min(free.len());
            let picked: Vec<u32> = free.choose_multiple(&mut rng, extra).copied().collect();
            free.retain(|i| !picked.contains(i));
            for router in picked {
                self.hosted[m.destination as usize].routers.push(router);
                self.host(router, m.destination);
            }
            let shared = (m.shared_gateways as usize).min(free.len());
            let gateways: Vec<u32> = free.choose_multiple(&mut rng, shared).copied().collect();
            free.retain(|i| !gateways.contains(i));
            let hosted = &mut self.hosted[m.destination as usize];
            hosted.gateways = gateways.into_iter().map(|i| cx.router(i).hash()).collect();
            hosted.mode = m.mode;
            if m.mode == MultihomingMode::Meta {
                // Keys of their own, from a stream of their own.
                hosted.edges = (0..hosted.routers.len() as u64)
                    .map(|e| {
                        let index = u64::from(m.destination) << 8 | e;
                        DestinationKeys::generate(&mut derive_rng(seed, Stream::MetaEdge, index))
                    })
                    .collect();
            }
        }
    }

    /// Adds destination `d` to router `router`, on the router's first start. With a
    /// signer, the router runs `d`'s keys as a balanced destination; a balancer's edge
    /// runs nothing else, a meta destination's router also runs its own edge destination.
    fn add(&mut self, cx: &mut Cx<'_>, router: u32, d: u32) {
        let hosted = &self.hosted[d as usize];
        let keys = hosted.keys.clone();
        let edge_keys = hosted
            .routers
            .iter()
            .position(|r| *r == router)
            .and_then(|e| hosted.edges.get(e))
            .cloned();
        let rules = (!hosted.gateways.is_empty()).then(|| SelectionRules {
            gateways: hosted.gateways.clone(),
            ..cx.scenario()
                .clients
                .selection
                .over(SelectionRules::client())
        });
        let signed = hosted.mode != MultihomingMode::Naive;
        let now = cx.now();
        let node = cx.router_mut(router);
        let balanced = signed.then(|| {
            node.add_balanced_destination(now, keys.clone(), rules.clone())
                .ok()
        });
        let own = match (edge_keys, balanced) {
            (None, Some(balanced)) => balanced,
            (edge_keys, _) => {
                let keys = edge_keys.unwrap_or(keys);
                match rules {
                    Some(rules) => node.add_destination_with_rules(now, keys, rules),
                    None => node.add_destination(now, keys),
                }
                .ok()
            }
        };
        let hosting = self.hosting.get_mut(&router).expect("hosts d");
        hosting.balanced = balanced.flatten();
        if own.is_some() {
            hosting.id = own;
        }
        cx.drain(router, self);
    }
}

impl Plugin for Destinations {
    /// Placed before the adversaries' `init`: those that target a destination look up
    /// its router.
    fn init(&mut self, cx: &mut Cx<'_>) {
        self.place(cx);
    }

    fn on_online(&mut self, cx: &mut Cx<'_>, router: u32) {
        if let Some(Hosting {
            destination,
            id: None,
            ..
        }) = self.hosting(router)
        {
            self.add(cx, router, destination);
        }
    }
}
