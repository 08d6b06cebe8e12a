//! Who signs a multihomed destination's entries when its routers do not: proposal 140's
//! balancer (one LeaseSet2 from every edge's tunnels) or a service publishing a
//! MetaLeaseSet over its edges' own destinations (proposal 123). The world schedules
//! both the same way: ask when they want, hand what they sign to the edge they name.

use crate::balancer::Balancer;
use crate::meta::MetaPublisher;
use ramsons_router::client::DestinationId;
use ramsons_router::data::{Lease2, LeaseSet2, MetaLeaseSet};
use ramsons_router::time::Instant;
use std::sync::Arc;

#[derive(Debug)]
pub enum Signer {
    Balancer(Balancer),
    Meta(MetaPublisher),
}

/// What a signer hands to an edge to publish.
#[derive(Debug, Clone)]
pub enum Signed {
    LeaseSet2(Arc<LeaseSet2>),
    Meta(Arc<MetaLeaseSet>),
}

/// A signed entry (`T`) and the edge (router, its local destination) that publishes it.
#[derive(Debug, Clone)]
pub struct Handed<T = Signed> {
    pub router: u32,
    pub destination: DestinationId,
    pub signed: T,
}

impl<T> Handed<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Handed<U> {
        Handed {
            router: self.router,
            destination: self.destination,
            signed: f(self.signed),
        }
    }
}

impl Signer {
    /// The signer's keys run on `router` as its balanced destination `destination`.
    pub fn add_edge(&mut self, router: u32, destination: DestinationId) {
        match self {
            Signer::Balancer(b) => b.add_edge(router, destination),
            Signer::Meta(m) => m.add_edge(router, destination),
        }
    }

    /// Router `router` reported the inbound tunnels of its local destination
    /// `destination`.
    pub fn on_tunnels(&mut self, router: u32, destination: DestinationId, leases: Vec<Lease2>) {
        match self {
            // A balanced edge runs nothing else.
            Signer::Balancer(b) => b.on_tunnels(router, leases),
            Signer::Meta(m) => m.on_tunnels(router, destination, leases.len()),
        }
    }

    pub fn on_edge_down(&mut self, router: u32) {
        match self {
            Signer::Balancer(b) => b.on_edge_down(router),
            Signer::Meta(m) => m.on_edge_down(router),
        }
    }

    /// When the signer wants to be polled; `None`: not until something changes.
    pub fn next_poll(&self) -> Option<Instant> {
        match self {
            Signer::Balancer(b) => b.next_poll(),
            Signer::Meta(m) => m.next_poll(),
        }
    }

    /// What to publish now, if anything.
    pub fn poll(&mut self, now: Instant) -> Option<Handed> {
        match self {
            Signer::Balancer(b) => b.poll(now).map(|p| p.map(Signed::LeaseSet2)),
            Signer::Meta(m) => m.poll(now).map(|p| p.map(Signed::Meta)),
        }
    }

    /// Entries signed so far, and the summary scalar they are reported under.
    pub fn publications(&self) -> (&'static str, u64) {
        match self {
            Signer::Balancer(b) => ("balancer", b.publications()),
            Signer::Meta(m) => ("meta", m.publications()),
        }
    }
}
