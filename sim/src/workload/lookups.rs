//! Client lookups: each online router looks up random routers of the run, as a Poisson
//! process of `[workload] lookups_per_router_hour`.

use crate::plugin::{Cx, Plugin, Timer};
use crate::rng::exponential;
use crate::scenario::Scenario;
use rand::Rng;
use std::time::Duration;

/// The trace tag of a lookup.
const TAG: u8 = 7;

#[derive(Debug)]
pub struct Lookups {
    /// Mean time between two lookups of a router.
    mean: Duration,
}

/// The plug-in, when the scenario's routers make lookups.
pub fn plugin(scenario: &Scenario) -> Option<Box<dyn Plugin>> {
    let per_hour = scenario.workload.lookups_per_router_hour;
    (per_hour > 0.0).then(|| {
        let mean = Duration::from_secs_f64(3600.0 / per_hour);
        Box::new(Lookups { mean }) as Box<dyn Plugin>
    })
}

impl Lookups {
    /// Schedules router `i`'s next lookup, in its current life.
    fn schedule(&self, cx: &mut Cx<'_>, i: u32) {
        let after = exponential(cx.shared_rng(), self.mean);
        let timer = Timer {
            kind: 0,
            subject: u64::from(i),
            epoch: cx.epoch(i),
        };
        cx.schedule(cx.now() + after, timer);
    }
}

impl Plugin for Lookups {
    fn on_online(&mut self, cx: &mut Cx<'_>, router: u32) {
        self.schedule(cx, router);
    }

    /// A lookup by `requester` of a random router of the run (not itself).
    fn on_timer(&mut self, cx: &mut Cx<'_>, timer: Timer) {
        let requester = timer.subject as u32;
        if !cx.is_live(requester, timer.epoch) {
            return;
        }
        cx.trace(TAG, &[timer.subject]);
        let routers = cx.routers();
        let target = cx.shared_rng().gen_range(0..routers);
        if target != requester {
            let key = cx.router(target).hash();
            let now = cx.now();
            let _ = cx.router_mut(requester).lookup(now, key);
            cx.drain(requester, self);
        }
        self.schedule(cx, requester);
    }
}
