//! LeaseSet publication: signing from the inbound tunnels, storing at the closest
//! floodfill until acknowledged, encrypted for hidden destinations.

use super::{ClientEvent, Clients, DestinationId, LEASE_MARGIN};
use crate::data::{Hash, Lease2, LeaseSet2, MetaLeaseSet};
use crate::netdb::{NetDb, OwnStore};
use crate::time::Instant;
use crate::tunnel::{PoolId, TunnelManager};
use std::sync::Arc;
use std::time::Duration;

/// How long a LeaseSet store waits for the floodfill's acknowledgement before the next
/// floodfill is tried (the netDb page: a client store is verified ~20 s later; the ack
/// comes back through two tunnels, which rarely takes more than a few seconds).
pub(super) const PUBLISH_ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Floodfills tried for one LeaseSet before pausing; after the pause, the round starts
/// again from the closest one.
pub(super) const PUBLISH_ATTEMPTS: usize = 3;
pub(super) const PUBLISH_PAUSE: Duration = Duration::from_secs(60);

/// A store goes out through the destination's own outbound tunnel; until it has one,
/// publication checks back this often.
pub(super) const NO_TUNNEL_RETRY: Duration = Duration::from_secs(2);

/// What a destination publishes.
#[derive(Debug, Clone)]
pub(super) enum Published {
    LeaseSet2(Arc<LeaseSet2>),
    Meta(Arc<MetaLeaseSet>),
}

/// Where the publication of a destination's current LeaseSet stands.
#[derive(Debug)]
pub(super) struct Publication {
    pub(super) what: Published,
    /// Floodfills asked in this round, in order.
    pub(super) tried: Vec<Hash>,
    /// The acknowledgement token of the last store, while it is awaited.
    pub(super) awaiting: Option<u32>,
    /// When to store again (ack timeout, or the end of a pause); `None` once stored.
    pub(super) retry_at: Option<Instant>,
}

impl Publication {
    /// A new LeaseSet starts a new round, from the closest floodfill.
    pub(super) fn new_round(what: Published) -> Publication {
        Publication {
            what,
            tried: Vec::new(),
            awaiting: None,
            retry_at: None,
        }
    }
}

impl Clients {
    /// Stores destination `id`'s current LeaseSet at the next floodfill of this round,
    /// or pauses the round when it has tried enough of them (or knows none).
    pub(super) fn publish(
        &mut self,
        now: Instant,
        id: DestinationId,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) {
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        let Some(publication) = local.publication.as_mut() else {
            return;
        };
        if tunnels.pool_tunnels(local.pool).1 == 0 {
            publication.retry_at = Some(now + NO_TUNNEL_RETRY);
            return;
        }
        if publication.tried.len() >= PUBLISH_ATTEMPTS {
            publication.tried.clear();
            publication.awaiting = None;
            publication.retry_at = Some(now + PUBLISH_PAUSE);
            return;
        }
        let tried = &publication.tried;
        let (sent, leases) = match (&publication.what, &local.encrypted) {
            (Published::LeaseSet2(ls), Some(e)) => (
                netdb.publish_encrypted_lease_set(now, e.lease_set.clone(), tried),
                ls.leases().len(),
            ),
            (Published::LeaseSet2(ls), None) => (
                netdb.publish_lease_set(now, ls.clone(), tried),
                ls.leases().len(),
            ),
            (Published::Meta(meta), _) => (
                netdb.publish_meta_lease_set(now, meta.clone(), tried),
                meta.entries().len(),
            ),
        };
        match sent {
            OwnStore::Sent { to, token } => {
                publication.tried.push(to);
                publication.awaiting = Some(token.get());
                publication.retry_at = Some(now + PUBLISH_ACK_TIMEOUT);
                self.events.push_back(ClientEvent::LeaseSetPublished {
                    destination: id,
                    leases,
                });
            }
            // Our router is the only floodfill it knows: held here, nothing to wait for.
            // After a pause the round starts again, so that floodfills learned meanwhile
            // get the LeaseSet too.
            OwnStore::Held => {
                publication.awaiting = None;
                publication.retry_at = Some(now + PUBLISH_PAUSE);
                self.events.push_back(ClientEvent::LeaseSetPublished {
                    destination: id,
                    leases,
                });
            }
            // Every floodfill we know was tried (or we know none): pause, then start
            // over from the closest.
            OwnStore::NoFloodfill => {
                publication.tried.clear();
                publication.awaiting = None;
                publication.retry_at = Some(now + PUBLISH_PAUSE);
            }
        }
    }

    /// The inbound tunnels of `pool` changed: its destination signs a LeaseSet with the
    /// current ones and publishes it (a balanced destination reports them instead).
    pub fn inbound_changed(
        &mut self,
        now: Instant,
        pool: PoolId,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) {
        let Some(id) = self.by_pool(pool) else {
            return;
        };
        let leases = fresh_leases(now, pool, tunnels);
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        if local.balanced {
            self.events.push_back(ClientEvent::InboundTunnels {
                destination: id,
                leases,
            });
            return;
        }
        let Some(last_end) = leases.iter().map(|l| l.end_date_s).max() else {
            return;
        };
        // Published dates must grow, or floodfills keep the older LeaseSet.
        let previous = local.lease_set.as_ref().map_or(0, |ls| ls.published_s());
        let published_s = (now.as_secs() as u32).max(previous + 1);
        let expires_offset_s = last_end.saturating_sub(published_s).clamp(1, 600) as u16;
        let keys = &local.keys;
        let signed = match &local.encryption {
            None => keys.sign_lease_set(published_s, expires_offset_s, leases),
            Some(_) => keys.sign_hidden_lease_set(published_s, expires_offset_s, leases),
        };
        let Ok(ls) = signed else {
            return;
        };
        let Ok(encrypted) = local.encrypt(&mut self.rng, now, &ls) else {
            return;
        };
        local.encrypted = encrypted;
        self.adopt(now, id, Arc::new(ls), netdb, tunnels);
    }

    /// Makes `ls` destination `id`'s current LeaseSet and starts publishing it.
    pub(super) fn adopt(
        &mut self,
        now: Instant,
        id: DestinationId,
        ls: Arc<LeaseSet2>,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) {
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        local.lease_set = Some(ls.clone());
        local.informed.clear();
        // Our own LeaseSet is where the netDb looks when a local destination sends to
        // another local destination.
        netdb.cache_lease_set(now, ls.clone());
        local.publication = Some(Publication::new_round(Published::LeaseSet2(ls)));
        self.publish(now, id, netdb, tunnels);
    }
}

/// `pool`'s inbound tunnels that live long enough to be published, as leases (at most
/// the 16 a LeaseSet holds).
pub(super) fn fresh_leases(now: Instant, pool: PoolId, tunnels: &TunnelManager) -> Vec<Lease2> {
    let usable_until = now + LEASE_MARGIN;
    tunnels
        .leases(pool)
        .into_iter()
        .filter(|l| l.expires > usable_until)
        .take(LeaseSet2::MAX_LEASES)
        .map(Lease2::from)
        .collect()
}
