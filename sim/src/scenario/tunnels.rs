//! `[tunnels]`: the tunnel layer of every simulated router.

use super::netdb::{set_per_minute, MINUTE};
use super::{invalid, Invalid, Selection};
use ramsons_router::limit::RateLimit;
use ramsons_router::profile::SelectionRules;
use ramsons_router::tunnel::TunnelConfig;
use serde::Deserialize;

/// The tunnel layer of every simulated router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tunnels {
    /// Build exploratory tunnels (and take part in others'). Off: a netDb-only network.
    #[serde(default)]
    pub exploratory: bool,
    /// Hops per exploratory tunnel.
    #[serde(default = "default_tunnel_hops")]
    pub hops: usize,
    /// Exploratory tunnels per direction.
    #[serde(default = "default_tunnel_count")]
    pub count: usize,
    /// Tunnels a router takes part in for others, at most.
    #[serde(default = "default_max_participating")]
    pub max_participating: usize,
    /// How exploratory hops are chosen; unset fields keep the defaults (not failing,
    /// random order, no gateway partition, distinct /16).
    #[serde(default)]
    pub selection: Selection,
    /// Build-request throttles (see `TunnelConfig`): requests handled per previous hop
    /// per minute, and tunnels accepted per minute; 0 turns one off.
    pub build_requests_per_hop_per_min: Option<u32>,
    pub build_accept_per_min: Option<u32>,
}

fn default_tunnel_hops() -> usize {
    2
}

pub(super) fn default_tunnel_count() -> usize {
    2
}

fn default_max_participating() -> usize {
    2000
}

impl Default for Tunnels {
    fn default() -> Self {
        Self {
            exploratory: false,
            hops: default_tunnel_hops(),
            count: default_tunnel_count(),
            max_participating: default_max_participating(),
            selection: Selection::default(),
            build_requests_per_hop_per_min: None,
            build_accept_per_min: None,
        }
    }
}

impl Tunnels {
    /// The routers' tunnel configuration, `None` when tunnels are off.
    pub fn config(&self) -> Option<TunnelConfig> {
        self.exploratory.then(|| {
            let mut config = TunnelConfig {
                exploratory_hops: self.hops,
                exploratory_tunnels: self.count,
                max_participating: self.max_participating,
                exploratory_selection: self.selection.over(SelectionRules::exploratory()),
                ..TunnelConfig::default()
            };
            set_per_minute(
                &mut config.build_requests_per_hop,
                self.build_requests_per_hop_per_min,
            );
            if let Some(max) = self.build_accept_per_min {
                config.build_accept_rate = (max > 0).then_some(RateLimit {
                    max,
                    window: MINUTE,
                });
            }
            config
        })
    }
}

impl Tunnels {
    /// Hops and tunnel counts, when tunnels are on.
    pub(super) fn check(&self) -> Result<(), Invalid> {
        if self.exploratory && !(1..=7).contains(&self.hops) {
            return Err(invalid("tunnels.hops", "expected 1 to 7 hops"));
        }
        if self.exploratory && !(1..=16).contains(&self.count) {
            return Err(invalid(
                "tunnels.count",
                "expected 1 to 16 tunnels per direction",
            ));
        }
        Ok(())
    }
}
