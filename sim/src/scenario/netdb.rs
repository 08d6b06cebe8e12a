//! `[netdb]`: overrides of the routers' netDb parameters.

use ramsons_router::limit::PeerRateLimit;
use ramsons_router::netdb::NetDbConfig;
use ramsons_router::units::Span;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetDbOverrides {
    pub lookup_peer_timeout: Option<Span>,
    pub lookup_max_peers: Option<usize>,
    pub flood_redundancy: Option<usize>,
    pub republish_interval: Option<Span>,
    pub verify_delay: Option<Span>,
    pub explore_interval_fast: Option<Span>,
    pub explore_interval_slow: Option<Span>,
    pub explore_target: Option<usize>,
    pub router_expiry: Option<Span>,
    pub floodfill_expiry: Option<Span>,
    pub next_day_flood_window: Option<Span>,
    /// Flood mitigations (see `NetDbConfig`); a limit of 0 turns it off.
    pub lookup_limit_per_min: Option<u32>,
    pub store_limit_per_min: Option<u32>,
    pub ignore_unsolicited_floodfills: Option<bool>,
    /// Table caps; 0 means no cap.
    pub max_router_infos: Option<usize>,
    pub max_lease_sets: Option<usize>,
}

/// The window of every rate limit a scenario sets.
pub(super) const MINUTE: Duration = Duration::from_secs(60);

/// Sets a per-peer limit to `max` a minute (0: off). Scenarios start from the defaults,
/// where every limit is on, so only the rate changes (the peers tracked stay).
pub(super) fn set_per_minute(limit: &mut Option<PeerRateLimit>, max: Option<u32>) {
    if let Some(max) = max {
        *limit = limit.filter(|_| max > 0).map(|l| PeerRateLimit {
            max,
            window: MINUTE,
            ..l
        });
    }
}

/// A table cap from a scenario: 0 means none.
fn set_cap(cap: &mut Option<usize>, value: Option<usize>) {
    if let Some(value) = value {
        *cap = (value > 0).then_some(value);
    }
}

impl NetDbOverrides {
    pub fn apply(&self, config: &mut NetDbConfig) {
        let d = |o: Option<Span>, field: &mut Duration| {
            if let Some(v) = o {
                *field = v.0;
            }
        };
        d(self.lookup_peer_timeout, &mut config.lookup_peer_timeout);
        d(self.republish_interval, &mut config.republish_interval);
        d(self.verify_delay, &mut config.verify_delay);
        d(
            self.explore_interval_fast,
            &mut config.explore_interval_fast,
        );
        d(
            self.explore_interval_slow,
            &mut config.explore_interval_slow,
        );
        d(self.router_expiry, &mut config.router_expiry);
        d(self.floodfill_expiry, &mut config.floodfill_expiry);
        d(
            self.next_day_flood_window,
            &mut config.next_day_flood_window,
        );
        if let Some(v) = self.lookup_max_peers {
            config.lookup_max_peers = v;
        }
        if let Some(v) = self.flood_redundancy {
            config.flood_redundancy = v;
        }
        if let Some(v) = self.explore_target {
            config.explore_target = v;
        }
        set_per_minute(&mut config.lookup_limit, self.lookup_limit_per_min);
        set_per_minute(&mut config.store_limit, self.store_limit_per_min);
        if let Some(v) = self.ignore_unsolicited_floodfills {
            config.ignore_unsolicited_floodfills = v;
        }
        set_cap(&mut config.max_router_infos, self.max_router_infos);
        set_cap(&mut config.max_lease_sets, self.max_lease_sets);
    }
}
