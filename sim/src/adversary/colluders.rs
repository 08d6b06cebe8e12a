//! Colluding observers (`[observers]`): routers that pool what they see. Which routers
//! collude: every router of the groups `[observers] groups` names (and of the groups an
//! adversary marks, [`Plugin::colludes`]), and a random `colluding_fraction` of the
//! initial routers. What they learn goes into the run's tunnel records: how many tunnels
//! they joined, and how many honest tunnels they hold both ends of.

use crate::plugin::{Cx, Plugin};
use crate::rng::{derive_rng, Stream};
use crate::scenario::Scenario;
use ramsons_router::data::Hash;
use ramsons_router::tunnel::{BuildOutcome, TunnelEvent};
use ramsons_router::Event;
use rand::seq::SliceRandom;

#[derive(Debug)]
pub struct Colluders {
    /// The `[[routers]]` groups whose every router colludes.
    groups: Vec<usize>,
}

/// The plug-in, always there: with no colluder it still counts the tunnels built.
pub fn plugin(scenario: &Scenario) -> Box<dyn Plugin> {
    let groups = scenario
        .observers
        .groups
        .iter()
        .filter_map(|name| scenario.group_index(name))
        .collect();
    Box::new(Colluders { groups })
}

impl Plugin for Colluders {
    fn colludes(&self, group: usize) -> bool {
        self.groups.contains(&group)
    }

    /// After the adversaries' `init`: they count the routers that do not collude by group.
    fn init(&mut self, cx: &mut Cx<'_>) {
        let fraction = cx.scenario().observers.colluding_fraction;
        let colluders = (f64::from(cx.routers()) * fraction).round() as usize;
        let indices: Vec<u32> = (0..cx.routers()).collect();
        let mut rng = derive_rng(cx.scenario().general.seed, Stream::Colluders, 0);
        for i in indices.choose_multiple(&mut rng, colluders) {
            cx.mark_colluding(*i);
        }
    }

    /// Pools what colluding routers see, and whether they hold both ends of a tunnel.
    /// Only tunnels built by honest routers count: a colluder's own tunnels tell it nothing.
    fn on_event(&mut self, cx: &mut Cx<'_>, router: u32, event: &Event) {
        let Event::Tunnel(event) = event else {
            return;
        };
        let reporter_colludes = cx.is_colluding(router);
        match event {
            TunnelEvent::BuildFinished {
                hops,
                outcome: BuildOutcome::Built,
                started,
                ..
            } if !reporter_colludes => {
                let colluding = |h: Option<&Hash>| {
                    h.and_then(|h| cx.index_of(h))
                        .is_some_and(|j| cx.is_colluding(j))
                };
                let both = colluding(hops.first()) && colluding(hops.last());
                cx.metrics_mut().on_tunnel_built(*started, both);
            }
            TunnelEvent::Joined { .. } if reporter_colludes => {
                let now = cx.now();
                cx.metrics_mut().on_observation(now);
            }
            _ => {}
        }
    }
}
