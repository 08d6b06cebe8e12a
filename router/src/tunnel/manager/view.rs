//! A read-only listing of the manager's tunnels, for the console: which of ours are
//! built (pool, direction, hops, expiry) and which of others' we are a hop of.

use super::{HopState, TunnelManager};
use crate::data::{Hash, TunnelId};
use crate::time::Instant;
use crate::tunnel::pool::PoolId;

/// One of our built tunnels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnTunnelView {
    pub pool: PoolId,
    pub inbound: bool,
    /// In path order: the gateway first for outbound tunnels; for inbound ones, the
    /// gateway first and the hop before us last.
    pub hops: Vec<Hash>,
    pub expires: Instant,
}

/// Our place in a tunnel of others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitRole {
    InboundGateway,
    Participant,
    OutboundEndpoint,
}

impl TransitRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TransitRole::InboundGateway => "inbound gateway",
            TransitRole::Participant => "participant",
            TransitRole::OutboundEndpoint => "outbound endpoint",
        }
    }
}

/// A participating tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitView {
    pub tunnel: TunnelId,
    pub role: TransitRole,
    pub expires: Instant,
}

impl TunnelManager {
    /// Our built tunnels, pool by pool, inbound before outbound.
    pub fn own_tunnel_list(&self) -> Vec<OwnTunnelView> {
        let mut list = Vec::new();
        for (id, pool) in &self.pools {
            list.extend(pool.inbound.iter().map(|t| OwnTunnelView {
                pool: *id,
                inbound: true,
                hops: t.hops.clone(),
                expires: t.expires,
            }));
            list.extend(pool.outbound.iter().map(|t| OwnTunnelView {
                pool: *id,
                inbound: false,
                hops: t.hops.clone(),
                expires: t.expires,
            }));
        }
        list
    }

    /// The tunnels we are a hop of, soonest to expire first, at most `max`.
    pub fn transit_list(&self, max: usize) -> Vec<TransitView> {
        self.hop_expiries
            .iter()
            .filter_map(|(expires, id)| {
                let role = match self.participating.get(id)?.role {
                    HopState::InboundGateway(_) => TransitRole::InboundGateway,
                    HopState::Participant(_) => TransitRole::Participant,
                    HopState::OutboundEndpoint(_) => TransitRole::OutboundEndpoint,
                };
                Some(TransitView {
                    tunnel: *id,
                    role,
                    expires: *expires,
                })
            })
            .take(max)
            .collect()
    }
}
