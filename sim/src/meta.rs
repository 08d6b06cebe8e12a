//! The service side of a destination multihomed through a MetaLeaseSet (proposal 123).
//!
//! Each router (edge) runs a destination of its own, which publishes its LeaseSet2 as
//! any destination does. The service holds its own keys elsewhere and signs a
//! MetaLeaseSet listing every edge's destination at one cost, so senders spread over
//! them. The listing is static, as an operator would write it: the service does not know
//! which edges are up, and the MetaLeaseSet outlives any one of them (it is re-signed
//! every `refresh`, each time through the next edge able to publish it).
//!
//! Publishing needs a router: every edge also runs the service's keys as a *balanced*
//! destination (`Router::add_balanced_destination`), which builds the tunnels a
//! publication travels through and publishes only what it is given. An edge is ready
//! once that destination reported inbound tunnels, and stops being ready when the edge
//! goes down.

use crate::signer::Handed;
use ramsons_router::client::DestinationId;
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::{Hash, MetaLease, MetaLeaseSet};
use ramsons_router::time::Instant;
use std::sync::Arc;
use std::time::Duration;

/// How the service signs its MetaLeaseSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaConfig {
    /// How long a MetaLeaseSet is valid: floodfills keep entries at most an hour.
    pub lifetime: Duration,
    /// Time between two signatures: half the lifetime, so one lost publication does
    /// not leave the service unlisted.
    pub refresh: Duration,
    /// The cost every edge is listed at (equal costs: senders choose at random).
    pub cost: u8,
}

impl Default for MetaConfig {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(60 * 60),
            refresh: Duration::from_secs(30 * 60),
            cost: 10,
        }
    }
}

/// An edge's balanced copy of the service destination, which publishes for it.
#[derive(Debug, Clone)]
struct Publisher {
    router: u32,
    destination: DestinationId,
    ready: bool,
}

#[derive(Debug)]
pub struct MetaPublisher {
    keys: DestinationKeys,
    config: MetaConfig,
    /// The edges' destinations, in the order listed.
    targets: Vec<Hash>,
    publishers: Vec<Publisher>,
    /// When the last MetaLeaseSet was signed, and its published time.
    last: Option<(Instant, u32)>,
    /// The publisher that publishes next.
    turn: usize,
    publications: u64,
}

impl MetaPublisher {
    /// The service of `keys`, listing the destinations `targets` of its edges.
    pub fn new(keys: DestinationKeys, targets: Vec<Hash>, config: MetaConfig) -> MetaPublisher {
        MetaPublisher {
            keys,
            config,
            targets,
            publishers: Vec::new(),
            last: None,
            turn: 0,
            publications: 0,
        }
    }

    /// Edge `router` runs the service's keys as its balanced destination `destination`.
    pub fn add_edge(&mut self, router: u32, destination: DestinationId) {
        if !self.publishers.iter().any(|p| p.router == router) {
            self.publishers.push(Publisher {
                router,
                destination,
                ready: false,
            });
        }
    }

    /// Edge `router` reported the inbound tunnels of its local destination
    /// `destination`: if that is the service's copy, the edge can publish while it has
    /// some.
    pub fn on_tunnels(&mut self, router: u32, destination: DestinationId, tunnels: usize) {
        if let Some(p) = self
            .publishers
            .iter_mut()
            .find(|p| p.router == router && p.destination == destination)
        {
            p.ready = tunnels > 0;
        }
    }

    /// Edge `router` went down, and its tunnels with it.
    pub fn on_edge_down(&mut self, router: u32) {
        if let Some(p) = self.publishers.iter_mut().find(|p| p.router == router) {
            p.ready = false;
        }
    }

    /// MetaLeaseSets signed so far.
    pub fn publications(&self) -> u64 {
        self.publications
    }

    /// When the service wants to be asked again ([`MetaPublisher::poll`]): at once
    /// before its first MetaLeaseSet, then `refresh` after the last; never while no edge
    /// can publish (an edge becoming ready asks again).
    pub fn next_poll(&self) -> Option<Instant> {
        if !self.publishers.iter().any(|p| p.ready) {
            return None;
        }
        Some(
            self.last
                .map_or(Instant::from_micros(0), |(at, _)| at + self.config.refresh),
        )
    }

    /// A MetaLeaseSet to publish, if one is due and an edge can publish it.
    pub fn poll(&mut self, now: Instant) -> Option<Handed<Arc<MetaLeaseSet>>> {
        if self.next_poll().is_none_or(|at| now < at) {
            return None;
        }
        let ready: Vec<&Publisher> = self.publishers.iter().filter(|p| p.ready).collect();
        let publisher = ready.get(self.turn % ready.len().max(1))?;
        let (router, destination) = (publisher.router, publisher.destination);
        self.turn = self.turn.wrapping_add(1);
        let previous = self.last.map_or(0, |(_, p)| p);
        let published_s = (now.as_secs() as u32).max(previous + 1);
        let lifetime = self.config.lifetime.as_secs().min(u64::from(u16::MAX)) as u16;
        let ends = published_s + u32::from(lifetime);
        let entries = self
            .targets
            .iter()
            .map(|t| MetaLease::lease_set2(*t, self.config.cost, ends))
            .collect();
        let meta = self
            .keys
            .sign_meta_lease_set(published_s, lifetime, entries)
            .ok()?;
        self.last = Some((now, published_s));
        self.publications += 1;
        Some(Handed {
            router,
            destination,
            signed: Arc::new(meta),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const T0: u64 = 1_795_262_400;

    fn keys(seed: u64) -> DestinationKeys {
        DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(seed))
    }

    fn service(edges: u32) -> MetaPublisher {
        let targets = (0..edges)
            .map(|e| keys(100 + u64::from(e)).hash())
            .collect();
        let mut s = MetaPublisher::new(keys(1), targets, MetaConfig::default());
        for e in 0..edges {
            s.add_edge(e, DestinationId(7 + e));
        }
        s
    }

    #[test]
    fn nothing_is_signed_until_an_edge_can_publish() {
        let mut s = service(3);
        let now = Instant::from_secs(T0);
        assert_eq!(s.next_poll(), None);
        assert!(s.poll(now).is_none());
        // Tunnels of the edge's own destination do not count: only the service's copy.
        s.on_tunnels(1, DestinationId(99), 2);
        assert_eq!(s.next_poll(), None);
        s.on_tunnels(1, DestinationId(8), 2);
        let p = s.poll(now).expect("due at once");
        assert_eq!((p.router, p.destination), (1, DestinationId(8)));
        assert_eq!(p.signed.hash(), keys(1).hash());
        assert_eq!(s.publications(), 1);
    }

    #[test]
    fn every_edge_is_listed_and_the_listing_is_refreshed_in_turn() {
        let mut s = service(3);
        for e in 0..3 {
            s.on_tunnels(e, DestinationId(7 + e), 1);
        }
        let now = Instant::from_secs(T0);
        let first = s.poll(now).expect("first");
        let targets = first.signed.lease_set2_targets(T0);
        assert_eq!(targets.len(), 3);
        let listed: Vec<Hash> = targets.iter().map(|t| t.target).collect();
        for e in 0..3 {
            assert!(listed.contains(&keys(100 + e).hash()));
        }
        assert!(targets.iter().all(|t| t.cost == 10));
        assert_eq!(first.signed.expires_s(), T0 + 3600);
        assert!(
            s.poll(now + Duration::from_secs(60)).is_none(),
            "not yet due"
        );
        let refresh = now + Duration::from_secs(30 * 60);
        assert_eq!(s.next_poll(), Some(refresh));
        let second = s.poll(refresh).expect("refreshed");
        assert_ne!(second.router, first.router, "the edges take turns");
        assert!(second.signed.published_s() > first.signed.published_s());
    }

    #[test]
    fn an_edge_that_went_down_does_not_publish() {
        let mut s = service(2);
        s.on_tunnels(0, DestinationId(7), 1);
        s.on_tunnels(1, DestinationId(8), 1);
        s.on_edge_down(0);
        let now = Instant::from_secs(T0);
        for k in 0..3 {
            let p = s.poll(now + Duration::from_secs(k * 1800)).expect("due");
            assert_eq!(p.router, 1);
        }
        s.on_edge_down(1);
        assert_eq!(s.next_poll(), None);
    }
}
