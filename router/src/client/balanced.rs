//! The router side of proposal 140 (balanced destinations): the balancer's view of the
//! tunnels, tunnels through named peers, and LeaseSets and MetaLeaseSets it signs.

use super::publish::{fresh_leases, Publication, Published};
use super::{ClientEvent, Clients, CreateTunnelError, DestinationId, Local, PublishError};
use crate::data::{Hash, Lease2, LeaseSet2, MetaLeaseSet};
use crate::netdb::NetDb;
use crate::netdb::RouterInfoStore;
use crate::profile::selection::Direction;
use crate::time::Instant;
use crate::tunnel::{BuildThroughError, PoolId, TunnelManager, TunnelRequestId, TunnelStatus};
use std::sync::Arc;

impl Clients {
    /// The inbound tunnels of balanced destination `id` worth publishing now (the
    /// proposal's "Get Tunnel Pool"), as [`ClientEvent::InboundTunnels`] reports them.
    pub fn inbound_leases(
        &self,
        now: Instant,
        id: DestinationId,
        tunnels: &TunnelManager,
    ) -> Vec<Lease2> {
        self.locals
            .get(&id)
            .map_or_else(Vec::new, |l| fresh_leases(now, l.pool, tunnels))
    }

    /// Builds one tunnel for balanced destination `id` through exactly the peers of
    /// `path`, in tunnel order (proposal 140's "Create Tunnel"): for an inbound tunnel
    /// the gateway first, the hop that delivers to us last; for an outbound one the hop
    /// after us first, the endpoint last. The result comes as
    /// [`ClientEvent::TunnelStatus`] with the returned id; the tunnel then serves and is
    /// replaced like the pool's others (see [`crate::tunnel::manager`]): never again
    /// through the same peers unless asked again.
    pub fn create_tunnel(
        &mut self,
        now: Instant,
        id: DestinationId,
        direction: Direction,
        path: &[Hash],
        peers: &RouterInfoStore,
        tunnels: &mut TunnelManager,
    ) -> Result<TunnelRequestId, CreateTunnelError> {
        let local = self
            .locals
            .get(&id)
            .ok_or(CreateTunnelError::UnknownDestination)?;
        if !local.balanced {
            return Err(CreateTunnelError::NotBalanced);
        }
        tunnels
            .build_through(now, local.pool, direction, path, peers)
            .map_err(|e| match e {
                BuildThroughError::UnknownPool => CreateTunnelError::UnknownDestination,
                BuildThroughError::Path(e) => CreateTunnelError::Path(e),
                BuildThroughError::Unbuildable => CreateTunnelError::Unbuildable,
            })
    }

    /// A build asked for by name in `pool` ended: its destination hears how.
    pub fn tunnel_status(&mut self, pool: PoolId, request: TunnelRequestId, status: TunnelStatus) {
        if let Some(destination) = self.by_pool(pool) {
            self.events.push_back(ClientEvent::TunnelStatus {
                destination,
                request,
                status,
            });
        }
    }

    /// Publishes `ls`, signed by the balancer of destination `id`, as its LeaseSet
    /// (proposal 140's "Publish LeaseSet"): stored at the closest floodfill until
    /// acknowledged, bundled with our messages, like a LeaseSet the router signed.
    pub fn publish_lease_set(
        &mut self,
        now: Instant,
        id: DestinationId,
        ls: Arc<LeaseSet2>,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) -> Result<(), PublishError> {
        let local = self.balanced(id, ls.hash())?;
        if local
            .lease_set
            .as_ref()
            .is_some_and(|held| held.published_s() >= ls.published_s())
        {
            return Err(PublishError::NotNewer);
        }
        self.adopt(now, id, ls, netdb, tunnels);
        Ok(())
    }

    /// Publishes `meta`, a MetaLeaseSet the service signed for balanced destination
    /// `id`, at the closest floodfill until acknowledged (proposal 123: the service's
    /// destination points at the destinations of its routers).
    pub fn publish_meta_lease_set(
        &mut self,
        now: Instant,
        id: DestinationId,
        meta: Arc<MetaLeaseSet>,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) -> Result<(), PublishError> {
        let local = self.balanced(id, meta.hash())?;
        if let Some(Publication {
            what: Published::Meta(held),
            ..
        }) = &local.publication
        {
            if held.published_s() >= meta.published_s() {
                return Err(PublishError::NotNewer);
            }
        }
        local.publication = Some(Publication::new_round(Published::Meta(meta)));
        self.publish(now, id, netdb, tunnels);
        Ok(())
    }

    /// Balanced destination `id`, if what its balancer signed for `hash` is its own.
    pub(super) fn balanced(
        &mut self,
        id: DestinationId,
        hash: Hash,
    ) -> Result<&mut Local, PublishError> {
        let local = self
            .locals
            .get_mut(&id)
            .ok_or(PublishError::UnknownDestination)?;
        if !local.balanced {
            return Err(PublishError::NotBalanced);
        }
        if hash != local.keys.hash() {
            return Err(PublishError::WrongDestination);
        }
        Ok(local)
    }
}
