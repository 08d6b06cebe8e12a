//! Who signs a multihomed destination's entries when its routers do not: proposal 140's
//! balancer (one LeaseSet2 from every edge's tunnels) or a service publishing a
//! MetaLeaseSet over its edges' own destinations (proposal 123). One plug-in
//! ([`Signers`]) runs both the same way: ask when they want, hand what they sign to the
//! edge they name.

use crate::balancer::{Balancer, BalancerConfig};
use crate::destinations::of as destinations;
use crate::meta::{MetaConfig, MetaPublisher};
use crate::plugin::{Cx, Plugin, Timer};
use crate::scenario::MultihomingMode;
use ramsons_router::client::{ClientEvent, DestinationId};
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::{Lease2, LeaseSet2, MetaLeaseSet};
use ramsons_router::time::Instant;
use ramsons_router::Event;
use std::collections::{BTreeMap, BTreeSet};
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

/// The trace tag of a signer's turn.
const TAG: u8 = 13;

/// A signer and when it is next asked to publish.
#[derive(Debug)]
struct Signing {
    signer: Signer,
    /// The pending timer, if any.
    armed: Instant,
}

/// The signers of the multihomed destinations whose routers do not sign themselves
/// (balancer and meta modes), by destination index.
#[derive(Debug, Default)]
pub struct Signers {
    signing: BTreeMap<u32, Signing>,
    /// The routers whose balanced destination a signer knows.
    edges: BTreeSet<u32>,
}

/// The plug-in, when some multihomed destination has a signer.
pub fn plugin(scenario: &crate::scenario::Scenario) -> Option<Box<dyn Plugin>> {
    let multihomed = &scenario.clients.multihomed;
    multihomed
        .iter()
        .any(|m| m.mode != MultihomingMode::Naive)
        .then(|| Box::<Signers>::default() as Box<dyn Plugin>)
}

impl Signers {
    /// Schedules destination `d`'s signer for when it wants to publish, unless that is
    /// already scheduled.
    fn arm(&mut self, cx: &mut Cx<'_>, d: u32) {
        let Some(s) = self.signing.get_mut(&d) else {
            return;
        };
        let Some(at) = s.signer.next_poll() else {
            return;
        };
        let at = at.max(cx.now());
        if at < s.armed {
            s.armed = at;
            let timer = Timer {
                kind: 0,
                subject: u64::from(d),
                epoch: 0,
            };
            cx.schedule(at, timer);
        }
    }

    /// Destination `d`'s signer publishes, if it has news, through the edge it names
    /// (proposal 140's "Publish LeaseSet"; proposal 123's MetaLeaseSet likewise).
    fn publish(&mut self, cx: &mut Cx<'_>, d: u32) {
        let now = cx.now();
        let Some(s) = self.signing.get_mut(&d) else {
            return;
        };
        if s.armed > now {
            return; // superseded by an earlier one
        }
        s.armed = Instant::MAX;
        if let Some(p) = s.signer.poll(now) {
            if cx.is_online(p.router) {
                let router = cx.router_mut(p.router);
                // Refused only if not newer, which the signers' dates rule out.
                let _ = match p.signed {
                    Signed::LeaseSet2(ls) => router.publish_lease_set(now, p.destination, ls),
                    Signed::Meta(meta) => router.publish_meta_lease_set(now, p.destination, meta),
                };
                cx.drain(p.router, self);
            }
        }
        self.arm(cx, d);
    }
}

impl Plugin for Signers {
    fn init(&mut self, cx: &mut Cx<'_>) {
        for (d, hosted) in destinations(cx).all().iter().enumerate() {
            let keys = hosted.keys.clone();
            let signer = match hosted.mode {
                MultihomingMode::Naive => continue,
                MultihomingMode::Balancer => {
                    Signer::Balancer(Balancer::new(keys, BalancerConfig::default()))
                }
                MultihomingMode::Meta => {
                    let targets = hosted.edges.iter().map(DestinationKeys::hash).collect();
                    Signer::Meta(MetaPublisher::new(keys, targets, MetaConfig::default()))
                }
            };
            let armed = Instant::MAX;
            self.signing.insert(d as u32, Signing { signer, armed });
        }
    }

    /// A router that runs a signed destination as balanced is one of its signer's edges
    /// from its first start on.
    fn on_online(&mut self, cx: &mut Cx<'_>, router: u32) {
        let Some(hosting) = destinations(cx).hosting(router) else {
            return;
        };
        if let (Some(s), Some(id)) = (self.signing.get_mut(&hosting.destination), hosting.balanced)
        {
            if self.edges.insert(router) {
                s.signer.add_edge(router, id);
            }
        }
    }

    fn on_offline(&mut self, cx: &mut Cx<'_>, router: u32) {
        let Some(hosting) = destinations(cx).hosting(router) else {
            return;
        };
        let d = hosting.destination;
        if let Some(s) = self.signing.get_mut(&d) {
            s.signer.on_edge_down(router);
            self.arm(cx, d);
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, router: u32, event: &Event) {
        let Event::Client(ClientEvent::InboundTunnels {
            destination,
            leases,
        }) = event
        else {
            return;
        };
        let Some(hosting) = destinations(cx).hosting(router) else {
            return;
        };
        let d = hosting.destination;
        if let Some(s) = self.signing.get_mut(&d) {
            s.signer.on_tunnels(router, *destination, leases.clone());
            self.arm(cx, d);
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, timer: Timer) {
        cx.trace(TAG, &[timer.subject]);
        self.publish(cx, timer.subject as u32);
    }

    fn summary(&mut self, _cx: &mut Cx<'_>) -> Vec<(String, f64)> {
        self.signing
            .iter()
            .map(|(d, s)| {
                let (name, publications) = s.signer.publications();
                (format!("{name}_{d}_publications"), publications as f64)
            })
            .collect()
    }
}
