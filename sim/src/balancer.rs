//! The balancer of proposal 140 ("Invisible Multihoming"): one destination spread over
//! several routers (edges), published as one LeaseSet of up to 16 leases taken from all
//! of them.
//!
//! The edges run the destination as *balanced* (`Router::add_balanced_destination`):
//! they build its tunnels, report them, and publish what they are given. The balancer
//! holds the destination's keys, keeps each edge's latest tunnel list, signs a LeaseSet
//! that interleaves the edges' freshest leases, and hands it to one edge to publish,
//! taking the edges in turn.
//!
//! It publishes when the LeaseSet it last signed no longer matches the tunnels (a lease
//! died, or an edge has new ones), but not more often than `min_interval`: tunnel
//! changes on all edges together are frequent, and publishing each one would put the
//! naive way's floodfill load back. A real balancer talks to its edges over a local
//! link; here it is instantaneous, and it lives outside any router's clock.

use crate::signer::Handed;
use ramsons_router::client::DestinationId;
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::{Lease2, LeaseSet2};
use ramsons_router::time::Instant;
use std::sync::Arc;
use std::time::Duration;

/// How a balancer signs and publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalancerConfig {
    /// Leases per LeaseSet, at most 16.
    pub max_leases: usize,
    /// Shortest time between two publications.
    pub min_interval: Duration,
}

impl Default for BalancerConfig {
    fn default() -> Self {
        Self {
            max_leases: LeaseSet2::MAX_LEASES,
            min_interval: Duration::from_secs(60),
        }
    }
}

/// One router the destination runs on.
#[derive(Debug, Clone)]
struct Edge {
    router: u32,
    destination: DestinationId,
    /// The latest tunnel list it reported, freshest first.
    leases: Vec<Lease2>,
}

#[derive(Debug)]
pub struct Balancer {
    keys: DestinationKeys,
    config: BalancerConfig,
    edges: Vec<Edge>,
    /// The leases of the LeaseSet last signed.
    published: Vec<Lease2>,
    last_published: Option<(Instant, u32)>,
    /// The edge that publishes next.
    turn: usize,
    publications: u64,
}

impl Balancer {
    /// A balancer for `keys`, with no edges yet.
    pub fn new(keys: DestinationKeys, config: BalancerConfig) -> Balancer {
        Balancer {
            keys,
            config: BalancerConfig {
                max_leases: config.max_leases.clamp(1, LeaseSet2::MAX_LEASES),
                ..config
            },
            edges: Vec::new(),
            published: Vec::new(),
            last_published: None,
            turn: 0,
            publications: 0,
        }
    }

    /// The destination runs on `router` now, as its local destination `destination`
    /// (the proposal's "Create Session" answered).
    pub fn add_edge(&mut self, router: u32, destination: DestinationId) {
        if !self.has_edge(router) {
            self.edges.push(Edge {
                router,
                destination,
                leases: Vec::new(),
            });
        }
    }

    /// Whether `router` is one of the edges.
    fn has_edge(&self, router: u32) -> bool {
        self.edges.iter().any(|e| e.router == router)
    }

    /// LeaseSets signed so far.
    pub fn publications(&self) -> u64 {
        self.publications
    }

    /// Edge `router` reported its tunnels (the proposal's "Tunnel List").
    pub fn on_tunnels(&mut self, router: u32, mut leases: Vec<Lease2>) {
        if let Some(edge) = self.edges.iter_mut().find(|e| e.router == router) {
            leases.sort_by_key(|l| std::cmp::Reverse(l.end_date_s));
            edge.leases = leases;
        }
    }

    /// Edge `router` went down: its tunnels are gone with it.
    pub fn on_edge_down(&mut self, router: u32) {
        self.on_tunnels(router, Vec::new());
    }

    /// The leases to publish now: the edges' freshest first, one edge after the other,
    /// so that every edge with tunnels is represented.
    fn interleaved(&self) -> Vec<Lease2> {
        let deepest = self.edges.iter().map(|e| e.leases.len()).max().unwrap_or(0);
        (0..deepest)
            .flat_map(|i| self.edges.iter().filter_map(move |e| e.leases.get(i)))
            .copied()
            .take(self.config.max_leases)
            .collect()
    }

    /// When the balancer wants to be asked again ([`Balancer::poll`]): when the interval
    /// since the last publication ends, if the tunnels changed meanwhile.
    pub fn next_poll(&self) -> Option<Instant> {
        if self.interleaved() == self.published {
            return None;
        }
        Some(
            self.last_published
                .map_or(Instant::from_micros(0), |(at, _)| {
                    at + self.config.min_interval
                }),
        )
    }

    /// A LeaseSet to publish, if the tunnels changed since the last one and the interval
    /// has passed (the proposal's "Publish LeaseSet").
    pub fn poll(&mut self, now: Instant) -> Option<Handed<Arc<LeaseSet2>>> {
        if self.next_poll().is_none_or(|at| now < at) {
            return None;
        }
        let leases = self.interleaved();
        let publishers: Vec<&Edge> = self.edges.iter().filter(|e| !e.leases.is_empty()).collect();
        if leases.is_empty() || publishers.is_empty() {
            return None;
        }
        let edge = publishers[self.turn % publishers.len()];
        let (router, destination) = (edge.router, edge.destination);
        self.turn = self.turn.wrapping_add(1);
        // Published dates must grow, or floodfills keep the older LeaseSet.
        let previous = self.last_published.map_or(0, |(_, p)| p);
        let published_s = (now.as_secs() as u32).max(previous + 1);
        let last_end = leases
            .iter()
            .map(|l| l.end_date_s)
            .max()
            .unwrap_or(published_s);
        let expires_offset_s = last_end.saturating_sub(published_s).clamp(1, 600) as u16;
        let lease_set = self
            .keys
            .sign_lease_set(published_s, expires_offset_s, leases.clone())
            .ok()?;
        self.published = leases;
        self.last_published = Some((now, published_s));
        self.publications += 1;
        Some(Handed {
            router,
            destination,
            signed: Arc::new(lease_set),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramsons_router::data::{Hash, TunnelId};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const T0: u64 = 1_795_262_400;

    fn lease(edge: u8, i: u8, ends_in: u32) -> Lease2 {
        Lease2 {
            gateway: Hash([edge * 16 + i; 32]),
            tunnel_id: TunnelId(u32::from(edge) * 100 + u32::from(i)),
            end_date_s: T0 as u32 + ends_in,
        }
    }

    fn balancer(edges: u32, config: BalancerConfig) -> Balancer {
        let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let mut b = Balancer::new(keys, config);
        for r in 0..edges {
            b.add_edge(r, DestinationId(7));
        }
        b
    }

    #[test]
    fn one_lease_set_holds_every_edges_freshest_leases() {
        let mut b = balancer(3, BalancerConfig::default());
        for edge in 0..3u8 {
            b.on_tunnels(
                u32::from(edge),
                (0..8).map(|i| lease(edge, i, 100 + u32::from(i))).collect(),
            );
        }
        let now = Instant::from_secs(T0);
        let p = b.poll(now).expect("tunnels to publish");
        let leases = p.signed.leases();
        assert_eq!(leases.len(), 16);
        // Round-robin over the edges, freshest first: 6, 6 and 4 leases.
        for edge in 0..3u8 {
            let mine: Vec<&Lease2> = leases
                .iter()
                .filter(|l| l.tunnel_id.0 / 100 == u32::from(edge))
                .collect();
            assert!(mine.len() >= 5, "edge {edge}: {}", mine.len());
            assert_eq!(mine[0], &lease(edge, 7, 107));
        }
        let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(1));
        assert_eq!(p.signed.hash(), keys.hash());
        assert_eq!(
            LeaseSet2::parse(p.signed.as_bytes()).as_ref(),
            Ok(&*p.signed)
        );
    }

    #[test]
    fn publishes_on_change_at_most_once_per_interval_through_each_edge_in_turn() {
        let config = BalancerConfig {
            max_leases: 4,
            min_interval: Duration::from_secs(60),
        };
        let mut b = balancer(2, config);
        b.on_tunnels(0, vec![lease(0, 0, 600)]);
        b.on_tunnels(1, vec![lease(1, 0, 600)]);
        let t = Instant::from_secs(T0);
        let first = b.poll(t).expect("first publication");
        assert_eq!(
            b.poll(t + Duration::from_secs(10)).map(|p| p.router),
            None,
            "nothing changed"
        );
        assert_eq!(b.next_poll(), None);

        b.on_tunnels(0, vec![lease(0, 1, 620), lease(0, 0, 600)]);
        assert_eq!(b.next_poll(), Some(t + Duration::from_secs(60)));
        assert!(b.poll(t + Duration::from_secs(30)).is_none(), "too soon");
        let second = b
            .poll(t + Duration::from_secs(60))
            .expect("changed, interval over");
        assert_ne!(first.router, second.router, "edges take turns");
        assert!(second.signed.published_s() > first.signed.published_s());
        assert_eq!(second.signed.leases().len(), 3);

        // An edge that goes down drops out of the LeaseSet and of the turns.
        b.on_edge_down(1);
        let third = b.poll(t + Duration::from_secs(120)).expect("edge 1 gone");
        assert_eq!(third.router, 0);
        assert!(third.signed.leases().iter().all(|l| l.tunnel_id.0 < 100));
        assert_eq!(b.publications(), 3);
    }

    #[test]
    fn no_tunnels_no_lease_set() {
        let mut b = balancer(2, BalancerConfig::default());
        assert!(b.poll(Instant::from_secs(T0)).is_none());
        assert_eq!(b.next_poll(), None);
        b.on_tunnels(5, vec![lease(5, 0, 600)]); // not an edge
        assert!(b.poll(Instant::from_secs(T0)).is_none());
    }
}
