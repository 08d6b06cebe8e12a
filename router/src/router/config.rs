//! How a router is set up, and the RouterInfo that follows from it.

use super::ROUTER_VERSION;
use crate::client::ClientConfig;
use crate::crypto::RouterKeys;
use crate::data::{Mapping, RouterAddress, RouterInfo};
use crate::netdb::NetDbConfig;
use crate::time::Instant;
use crate::tunnel::TunnelConfig;
use std::time::Duration;

/// How a router is set up. The defaults are a non-floodfill router on the main network.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterConfig {
    /// Serve the netDb as a floodfill.
    pub floodfill: bool,
    /// The I2P network id; 2 is the main network, others are private testnets.
    pub net_id: u8,
    /// Bandwidth class letter for `caps` (K, L, M, N, O, P, X).
    pub bandwidth_class: char,
    /// Whether others can dial us. When false (behind NAT or a firewall) we publish caps
    /// 'U' rather than 'R', serve no netDb as a floodfill, and our inbound tunnels end at
    /// a peer we hold a session with (see [`crate::tunnel::DirectPeers`]).
    pub reachable: bool,
    /// Addresses published in our RouterInfo.
    pub addresses: Vec<RouterAddress>,
    /// Lifetime stamped on the messages we send; receivers drop them once expired.
    pub message_lifetime: Duration,
    pub netdb: NetDbConfig,
    /// Build exploratory tunnels and take part in others' (off: netDb only).
    pub tunnels: Option<TunnelConfig>,
    /// How local destinations' tunnels are made (they need `tunnels`).
    pub clients: ClientConfig,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            floodfill: false,
            net_id: 2,
            bandwidth_class: 'O',
            reachable: true,
            addresses: Vec::new(),
            message_lifetime: Duration::from_secs(60),
            netdb: NetDbConfig::default(),
            tunnels: None,
            clients: ClientConfig::default(),
        }
    }
}

impl RouterConfig {
    /// The RouterInfo a router with this configuration and `keys` publishes at `now`:
    /// caps, network id and version, signed. Public so that a simulated adversary can
    /// sign RouterInfos for identities no router runs, exactly as a router would.
    pub fn sign_router_info(&self, keys: &RouterKeys, now: Instant) -> RouterInfo {
        let mut caps = String::new();
        caps.push(self.bandwidth_class);
        if self.floodfill {
            caps.push('f');
        }
        caps.push(if self.reachable { 'R' } else { 'U' });
        let mut options = Mapping::new();
        for (key, value) in [
            ("caps", caps),
            ("netId", self.net_id.to_string()),
            ("router.version", ROUTER_VERSION.to_string()),
        ] {
            options
                .insert(key, value)
                .expect("fixed option keys and short values fit a Mapping");
        }
        keys.sign_router_info(now.as_millis(), self.addresses.clone(), options)
    }
}
