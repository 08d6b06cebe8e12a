//! Adversaries: routers of ours with chosen identities and behaviour, and what they log.
//!
//! The scenario's `[[adversaries]]` entries become router groups running the real router
//! core (see `scenario::adversaries`). This module holds what differs: how a Sybil's
//! identity is ground, which outputs a refusing Sybil suppresses, what flooders send, and
//! the logs from which each study's records are written. Each adversary is a plug-in of
//! the world ([`crate::plugin`]), listed in `REGISTRY`. Nothing here draws from a
//! generator that honest routers or the network use, so an attack changes the trace only
//! through what the adversary's routers do.

pub mod colluders;
pub mod flood;
pub mod netdb_observer;
pub mod predecessor;
pub mod sybil;
pub mod tier_capture;

use crate::plugin::Plugin;
use crate::scenario::{Behaviour, Scenario};
use ramsons_router::data::Hash;
use ramsons_router::profile::selection::Direction;
use ramsons_router::time::Instant;
use ramsons_router::tunnel::{BuildOutcome, PoolId, TunnelEvent};
use ramsons_router::Event;

/// What each adversary module offers: its plug-in, if the scenario asks for it.
type PluginFactory = fn(&Scenario) -> Option<Box<dyn Plugin>>;

/// Every adversary's plug-in, one line each, in the order the world calls them. A new
/// adversary is a module with a `plugin` function, and its line here.
const REGISTRY: &[PluginFactory] = &[
    sybil::plugin,
    predecessor::plugin,
    tier_capture::plugin,
    flood::plugin,
];

/// The plug-ins of `scenario`'s adversaries.
pub fn plugins(scenario: &Scenario) -> Vec<Box<dyn Plugin>> {
    REGISTRY
        .iter()
        .filter_map(|build| build(scenario))
        .collect()
}

/// The first `[[adversaries]]` entry `pick` accepts: the index of its router group and
/// what `pick` took from its behaviour.
pub fn find<T>(scenario: &Scenario, pick: impl Fn(&Behaviour) -> Option<T>) -> Option<(usize, T)> {
    scenario.adversaries.iter().enumerate().find_map(|(i, a)| {
        let found = pick(&a.behaviour)?;
        let group = scenario
            .routers
            .iter()
            .position(|g| g.adversary == Some(i))
            .expect("every adversary has its group");
        Some((group, found))
    })
}

/// One day in seconds: Sybils are ground for the routing key of a UTC day.
const DAY_SECS: u64 = 86_400;

/// The UTC midnight starting the `day`-th day after the one containing `start`.
pub fn attack_day(start: Instant, day: u32) -> Instant {
    Instant::from_secs((start.as_secs() / DAY_SECS + u64::from(day)) * DAY_SECS)
}

/// A client tunnel built: its direction, hops (gateway first) and when its build started.
pub fn client_tunnel_built(event: &Event) -> Option<(Direction, &[Hash], Instant)> {
    match event {
        Event::Tunnel(TunnelEvent::BuildFinished {
            pool: PoolId::Client(_),
            direction,
            hops,
            outcome: BuildOutcome::Built,
            started,
            ..
        }) => Some((*direction, hops, *started)),
        _ => None,
    }
}

/// The routers the adversary's hops see next to them in a tunnel `builder` built through
/// `hops` (gateway first), once per sighting: a hop learns the router it received the
/// build request from and the one it sends to. The tunnel is taken as messages cross it,
/// with the builder at its end: before the gateway of an outbound tunnel, after the
/// endpoint of an inbound one; the routers beyond the other end (whoever talks to the
/// tunnel) are not seen. The adversary's own routers are not reported.
pub fn seen_next_to(
    builder: Hash,
    direction: Direction,
    hops: &[Hash],
    adversarial: impl Fn(&Hash) -> bool,
) -> Vec<Hash> {
    let mut path: Vec<Hash> = Vec::with_capacity(hops.len() + 1);
    if direction == Direction::Outbound {
        path.push(builder);
    }
    path.extend_from_slice(hops);
    if direction == Direction::Inbound {
        path.push(builder);
    }
    let mut seen = Vec::new();
    for (at, hop) in path.iter().enumerate() {
        if *hop == builder || !adversarial(hop) {
            continue;
        }
        let neighbours = [at.checked_sub(1), Some(at + 1)];
        seen.extend(
            neighbours
                .into_iter()
                .flatten()
                .filter_map(|n| path.get(n))
                .filter(|h| !adversarial(h)),
        );
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_day_is_a_utc_midnight() {
        let start = Instant::from_secs(1_767_225_600 + 23 * 3600); // 2026-01-01T23:00Z
        assert_eq!(attack_day(start, 0).utc_date_string(), "20260101");
        let next = attack_day(start, 1);
        assert_eq!(next.utc_date_string(), "20260102");
        assert_eq!(next.as_secs() % DAY_SECS, 0);
    }
}
