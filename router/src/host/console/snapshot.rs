//! The router task's side of the console: the [`Status`] snapshot, rebuilt about once
//! a second from the router, its connections and the applications.

use super::reach::{self, Evidence};
use crate::data::{Hash, RouterInfo};
use crate::host::driver::Driver;
use crate::host::net::Network;
use crate::host::status::{
    self, DestinationStatus, KnownRouter, OwnTunnel, PeerDetail, Status, TransitRequests,
    TransitTunnel, MAX_ROWS,
};
use crate::profile::Tier;
use crate::time::Instant;
use crate::transport::ntcp2::Ntcp2Peer;
use crate::tunnel::{PoolId, TunnelManager};
use std::sync::atomic::Ordering;

impl<N: Network> Driver<N> {
    pub(in crate::host) fn refresh_status(&mut self) {
        // Pings whose caller gave up are forgotten.
        self.pings.retain(|_, reply| !reply.is_closed());
        let now = self.clock.now();
        let uptime = now.saturating_duration_since(self.started);
        let bandwidth = self.bandwidth_status(now);
        let router = &self.router;
        let netdb = router.netdb();
        let tunnels = router.tunnels();
        let peers = self.peer_status();
        let c = &self.counters;
        let network = reach::assess(&Evidence {
            uptime,
            published: self.config.published_address(),
            inbound_total: c.inbound_sessions,
            outbound_total: c.outbound_sessions,
            inbound_now: peers.inbound,
        });
        let tier = |tier| tunnels.map_or(0, |t| t.tiers().members(tier).len());
        let status = Status {
            router: router.hash().to_base64(),
            version: crate::router::ROUTER_VERSION.into(),
            net_id: self.config.net_id,
            floodfill: self.config.floodfill,
            published: self.config.published_address().to_string(),
            destination: self.destination.map(|(_, hash)| hash.to_base64()),
            uptime_secs: uptime.as_secs(),
            peers,
            netdb: status::NetDbStatus {
                routers: netdb.store().len(),
                floodfills: netdb.store().floodfill_count(),
                lease_sets: netdb.lease_sets().len(),
                lookups_succeeded: c.lookups_succeeded,
                lookups_failed: c.lookups_failed,
                lookups_received: c.lookups_received,
                stores_received: c.stores_received,
                known: known_routers(now, netdb.store().hashes().filter_map(|h| netdb.get(h))),
            },
            tunnels: tunnel_status(now, tunnels, c.builds_succeeded, c.builds_failed),
            tiers: status::TierStatus {
                fast: tier(Tier::Fast),
                high_capacity: tier(Tier::HighCapacity),
                not_failing: tier(Tier::NotFailing),
                failing: tier(Tier::Failing),
            },
            bandwidth,
            network,
            destinations: self.destination_status(),
        };
        self.status.send_replace(status);
    }

    fn bandwidth_status(&mut self, now: Instant) -> status::BandwidthStatus {
        let traffic = &self.ctx.traffic;
        let total_in = traffic.received.load(Ordering::Relaxed);
        let total_out = traffic.sent.load(Ordering::Relaxed);
        let (in_bps, out_bps) = self.bandwidth.record(now, total_in, total_out);
        status::BandwidthStatus {
            in_bps,
            out_bps,
            total_in,
            total_out,
            history: self.bandwidth.history(),
        }
    }

    fn peer_status(&self) -> status::PeerStatus {
        let netdb = self.router.netdb();
        let mut details: Vec<PeerDetail> = self
            .conns
            .values()
            .filter(|c| c.established)
            .filter_map(|c| {
                let peer = c.peer?;
                let info = netdb.get(&peer);
                let dialled = info.and_then(|i| Ntcp2Peer::from_router_info(i).ok());
                let address = match c.inbound {
                    Some(ip) => Some(ip.to_string()),
                    None => dialled.map(|p| p.socket.to_string()),
                };
                Some(PeerDetail {
                    hash: peer.to_base64(),
                    inbound: c.inbound.is_some(),
                    address,
                    caps: info.map(|i| i.caps().to_owned()).unwrap_or_default(),
                    version: info
                        .and_then(|i| i.router_version())
                        .unwrap_or_default()
                        .to_owned(),
                })
            })
            .collect();
        details.sort_by(|a, b| a.hash.cmp(&b.hash));
        let list: Vec<String> = details.iter().map(|d| d.hash.clone()).collect();
        let inbound = details.iter().filter(|d| d.inbound).count();
        status::PeerStatus {
            connected: list.len(),
            connecting: self.conns.len() - list.len(),
            inbound,
            outbound: list.len() - inbound,
            list,
            details,
        }
    }

    fn destination_status(&self) -> Vec<DestinationStatus> {
        let router = &self.router;
        let clients = router.clients();
        let pool_tunnels = |pool: Option<PoolId>| {
            pool.zip(router.tunnels())
                .map_or((0, 0), |(p, t)| t.pool_tunnels(p))
        };
        let test = self
            .destination
            .map(|(id, hash)| (id, "test destination", true, hash));
        let sessions = self
            .apps
            .sessions()
            .filter_map(|(id, label, published)| Some((id, label, published, clients.hash(id)?)));
        let mut list: Vec<DestinationStatus> = test
            .into_iter()
            .chain(sessions)
            .map(|(id, name, published, hash)| {
                let (inbound_tunnels, outbound_tunnels) = pool_tunnels(clients.pool(id));
                let state = match (inbound_tunnels.min(outbound_tunnels), published) {
                    (0, _) => "building tunnels",
                    (_, false) => "publishing LeaseSet",
                    _ => "ready",
                };
                DestinationStatus {
                    name: name.to_owned(),
                    b32: b32(&hash),
                    state: state.into(),
                    inbound_tunnels,
                    outbound_tunnels,
                }
            })
            .collect();
        list.sort_by(|a, b| (&a.name, &a.b32).cmp(&(&b.name, &b.b32)));
        list
    }
}

pub(super) fn b32(hash: &Hash) -> String {
    format!("{}.b32.i2p", hash.to_base32())
}

fn pool_name(pool: PoolId) -> String {
    match pool {
        PoolId::Exploratory => "exploratory".into(),
        PoolId::Client(n) => format!("client {n}"),
    }
}

fn tunnel_status(
    now: Instant,
    tunnels: Option<&TunnelManager>,
    builds_succeeded: u64,
    builds_failed: u64,
) -> status::TunnelStatus {
    let (exploratory_inbound, exploratory_outbound) =
        tunnels.map_or((0, 0), |t| t.pool_tunnels(PoolId::Exploratory));
    let left = |at: Instant| at.saturating_duration_since(now).as_secs();
    let own = tunnels.map_or_else(Vec::new, |t| {
        t.own_tunnel_list()
            .into_iter()
            .map(|v| OwnTunnel {
                pool: pool_name(v.pool),
                inbound: v.inbound,
                hops: v.hops.iter().map(Hash::to_base64).collect(),
                expires_in_secs: left(v.expires),
            })
            .collect()
    });
    let transit = tunnels.map_or_else(Vec::new, |t| {
        t.transit_list(MAX_ROWS)
            .into_iter()
            .map(|v| TransitTunnel {
                tunnel_id: v.tunnel.0,
                role: v.role.as_str().into(),
                expires_in_secs: left(v.expires),
            })
            .collect()
    });
    status::TunnelStatus {
        enabled: tunnels.is_some(),
        exploratory_inbound,
        exploratory_outbound,
        participating: tunnels.map_or(0, |t| t.participating()),
        builds_succeeded,
        builds_failed,
        requests: tunnels.map_or_else(TransitRequests::default, |t| {
            let load = t.load();
            TransitRequests {
                decrypted: load.build_records_decrypted,
                rejected_per_hop: load.builds_rejected_per_hop,
                rejected_rate: load.builds_rejected_rate,
                rejected_full: load.builds_rejected_full,
                dropped_per_hop: load.builds_dropped_per_hop,
            }
        }),
        own,
        transit,
    }
}

/// Floodfills first, then the most recently published, at most [`MAX_ROWS`].
fn known_routers<'a>(
    now: Instant,
    infos: impl Iterator<Item = &'a std::sync::Arc<RouterInfo>>,
) -> Vec<KnownRouter> {
    let now_ms = now.as_millis();
    let mut list: Vec<KnownRouter> = infos
        .map(|info| KnownRouter {
            hash: info.hash().to_base64(),
            caps: info.caps().to_owned(),
            version: info.router_version().unwrap_or_default().to_owned(),
            address: Ntcp2Peer::from_router_info(info)
                .ok()
                .map(|p| p.socket.to_string()),
            floodfill: info.is_floodfill(),
            published_secs_ago: now_ms.saturating_sub(info.published_ms()) / 1000,
        })
        .collect();
    list.sort_by(|a, b| {
        (!a.floodfill, a.published_secs_ago, &a.hash).cmp(&(
            !b.floodfill,
            b.published_secs_ago,
            &b.hash,
        ))
    });
    list.truncate(MAX_ROWS);
    list
}
