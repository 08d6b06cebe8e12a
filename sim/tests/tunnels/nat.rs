//! Routers behind NAT: they build tunnels, carry none, and are reached only over
//! sessions they opened.

use ramsons_router::i2np::{DeliveryStatus, I2npMessage, MessageBody};
use ramsons_router::tunnel::{BuildOutcome, TunnelEvent};
use ramsons_router::Event;
use ramsons_sim::plugin::{Cx, Plugin, Timer};
use ramsons_sim::run::LoadedScenario;
use ramsons_sim::world::World;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const NAT: &str = r#"
[general]
seed = 23
stop_time = "20 min"
warmup = "3 min"

[[routers]]
role = "floodfill"
count = 6

[[routers]]
role = "router"
count = 34

[[routers]]
name = "firewalled"
role = "router"
count = 20
dialable = false

[bootstrap]
warm_floodfills = true

[tunnels]
exploratory = true
"#;

/// The first router behind NAT, and how many there are.
const FIREWALLED: std::ops::Range<u32> = 40..60;

/// Counts, per router, the tunnels it built and the tunnels it joined as a hop; at 15
/// minutes every dialable router sends a message to the first router behind NAT.
#[derive(Debug, Default)]
struct Watch {
    built: BTreeMap<u32, [u64; 2]>,
    joined: BTreeMap<u32, u64>,
    probes: u64,
}

impl Plugin for Watch {
    fn init(&mut self, cx: &mut Cx<'_>) {
        let at = cx.start() + Duration::from_secs(15 * 60);
        let timer = Timer {
            kind: 0,
            subject: 0,
            epoch: 0,
        };
        cx.schedule(at, timer);
    }

    fn on_event(&mut self, _cx: &mut Cx<'_>, router: u32, event: &Event) {
        match event {
            Event::Tunnel(TunnelEvent::BuildFinished {
                direction,
                outcome: BuildOutcome::Built,
                ..
            }) => {
                let inbound = *direction == ramsons_router::profile::selection::Direction::Inbound;
                self.built.entry(router).or_default()[usize::from(inbound)] += 1;
            }
            Event::Tunnel(TunnelEvent::Joined { .. }) => {
                *self.joined.entry(router).or_default() += 1;
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_>, _timer: Timer) {
        let target = FIREWALLED.start;
        if !cx.is_online(target) {
            return;
        }
        let to = cx.router(target).hash();
        let expiration_ms = cx.now().as_millis() + 60_000;
        for from in 0..FIREWALLED.start {
            if cx.is_online(from) {
                let body = MessageBody::DeliveryStatus(DeliveryStatus {
                    msg_id: from,
                    timestamp_ms: 0,
                });
                let msg = I2npMessage {
                    id: 1_000 + from,
                    expiration_ms,
                    body,
                };
                cx.send(from, to, msg);
                self.probes += 1;
            }
        }
    }
}

#[test]
fn routers_behind_nat_build_tunnels_and_are_reached_over_their_own_sessions() {
    let loaded = LoadedScenario::from_text(Path::new("nat.toml"), NAT.to_owned()).expect("valid");
    let world = World::with_plugins(Arc::new(loaded.scenario), vec![Box::new(Watch::default())])
        .expect("world");
    let (outcome, drops) = world.run(&mut ());
    let watch: &Watch = outcome.plugins.get().expect("watching");
    // Every router behind NAT built tunnels both ways, through dialable hops.
    for r in FIREWALLED {
        let [outbound, inbound] = watch.built.get(&r).copied().unwrap_or_default();
        assert!(
            outbound > 0 && inbound > 0,
            "router {r}: {outbound} out, {inbound} in"
        );
        assert_eq!(watch.joined.get(&r), None, "router {r} carried a tunnel");
    }
    // Their inbound tunnels deliver to them over sessions they opened...
    assert!(
        outcome.carried_to_undialable > 1_000,
        "{} carried",
        outcome.carried_to_undialable
    );
    // ... while the dialable routers that held no session with router 40 failed to dial
    // it: most of them (it holds sessions with a few hops and floodfills only).
    assert!(watch.probes >= 30, "{} probes", watch.probes);
    assert!(
        drops.undialable >= watch.probes / 2,
        "{} of {} probes failed",
        drops.undialable,
        watch.probes
    );
    // No floodfill among them.
    assert!(outcome.floodfills.iter().all(|f| !FIREWALLED.contains(f)));
}
