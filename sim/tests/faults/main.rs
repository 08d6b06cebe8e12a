//! Faults from scenario events change what the network can do, and it recovers.

use ramsons_sim::run::{simulate, LoadedScenario, Simulated};
use std::path::Path;

fn run(text: &str) -> Simulated {
    let loaded = LoadedScenario::from_text(Path::new("faults.toml"), text.to_owned())
        .expect("valid scenario");
    simulate(&loaded, &mut ()).expect("runs")
}

const BASE: &str = r#"
[general]
seed = 11
stop_time = "40 min"
warmup = "5 min"

[network]
latency = "30 ms"

[[routers]]
role = "floodfill"
count = 8

[[routers]]
role = "router"
count = 60

[workload]
lookups_per_router_hour = 60
"#;

/// Fraction of lookups found among those started in [from, to) seconds.
fn success(sim: &Simulated, from: f64, to: f64) -> f64 {
    let window: Vec<_> = sim
        .outcome
        .metrics
        .lookups()
        .iter()
        .filter(|l| l.time_s >= from && l.time_s < to)
        .collect();
    assert!(
        window.len() > 20,
        "enough lookups in [{from}, {to}): {}",
        window.len()
    );
    window.iter().filter(|l| l.outcome == "found").count() as f64 / window.len() as f64
}

/// Timeouts per lookup among those started in [from, to) seconds.
fn timeouts_per_lookup(sim: &Simulated, from: f64, to: f64) -> f64 {
    let window: Vec<_> = sim
        .outcome
        .metrics
        .lookups()
        .iter()
        .filter(|l| l.time_s >= from && l.time_s < to)
        .collect();
    assert!(!window.is_empty());
    window.iter().map(|l| f64::from(l.timeouts)).sum::<f64>() / window.len() as f64
}

#[test]
fn a_partition_costs_timeouts_and_healing_restores_the_network() {
    let text = format!(
        "{BASE}
[[events]]
at = \"10 min\"
action = \"partition\"
fraction = 0.5

[[events]]
at = \"20 min\"
action = \"heal\"
"
    );
    let sim = run(&text);
    assert!(sim.drops.partitioned > 0);
    // RouterInfos flooded before the cut stay on both sides, so most lookups still
    // succeed; what the cut costs is floodfills on the far side that never answer.
    let before = timeouts_per_lookup(&sim, 300.0, 600.0);
    let during = timeouts_per_lookup(&sim, 630.0, 1200.0);
    let after = timeouts_per_lookup(&sim, 1800.0, 2400.0);
    assert!(
        during > before + 0.2,
        "timeouts per lookup: before {before}, during {during}"
    );
    assert!(
        after < during / 2.0,
        "timeouts per lookup: during {during}, after {after}"
    );
    assert!(success(&sim, 1800.0, 2400.0) > 0.9);
}

#[test]
fn pairwise_partition_and_hold_stall_lookups_until_repaired_and_released() {
    let event = |at: &str, action: &str| {
        format!("\n[[events]]\nat = \"{at}\"\naction = \"{action}\"\nbetween = [\"floodfill\", \"router\"]\n")
    };
    let cut = event("10 min", "partition") + &event("15 min", "repair");
    let hold = event("20 min", "hold") + &event("25 min", "release");
    let sim = run(&format!("{BASE}{cut}{hold}"));
    let partitioned = sim.drops.partitioned;
    assert!(partitioned > 0, "the partition drops what crosses it");
    // Routers reach floodfills only across the cut or the hold: their lookups time out.
    let before = timeouts_per_lookup(&sim, 300.0, 600.0);
    let cut_off = timeouts_per_lookup(&sim, 630.0, 870.0);
    let held = timeouts_per_lookup(&sim, 1230.0, 1470.0);
    assert!(cut_off > before + 0.5, "before {before}, cut {cut_off}");
    assert!(held > before + 0.5, "before {before}, held {held}");
    assert!(success(&sim, 1800.0, 2400.0) > 0.9);
    // A hold loses nothing: the same run without it drops as many.
    assert_eq!(run(&format!("{BASE}{cut}")).drops.partitioned, partitioned);
}

#[test]
fn withdrawn_floodfills_leave_lookups_degraded_then_the_network_adapts() {
    let text = format!(
        "{BASE}
[[events]]
at = \"10 min\"
action = \"withdraw\"
group = \"floodfill\"
fraction = 0.5
"
    );
    let sim = run(&text);
    let baseline = run(BASE);
    // Dead floodfills cost timeouts: lookups right after the withdrawal are slower.
    let timeouts = |s: &Simulated, from: f64, to: f64| -> u32 {
        s.outcome
            .metrics
            .lookups()
            .iter()
            .filter(|l| l.time_s >= from && l.time_s < to)
            .map(|l| l.timeouts)
            .sum()
    };
    assert!(timeouts(&sim, 600.0, 900.0) > timeouts(&baseline, 600.0, 900.0));
    // The surviving floodfills still hold the live routers: lookups keep succeeding.
    assert!(success(&sim, 1800.0, 2400.0) > 0.8);
}

#[test]
fn crashed_routers_restart_and_rejoin() {
    let text = format!(
        "{BASE}
[[events]]
at = \"10 min\"
action = \"crash\"
group = \"floodfill\"
count = 8
down = \"5 min\"
"
    );
    let sim = run(&text);
    assert!(sim.drops.offline > 0, "messages reached crashed routers");
    let during = success(&sim, 630.0, 900.0);
    let after = success(&sim, 1500.0, 2400.0);
    assert!(during < 0.2, "no floodfill is up: {during}");
    assert!(after > 0.9, "after the restart: {after}");
}

#[test]
fn routers_joining_late_publish_and_are_found() {
    // Regression: a router started after its netDb's first expiry deadline asked for a
    // timer in the past, the simulator armed it in the past, and it never ran a timer.
    let text = format!(
        "{BASE}
[[events]]
at = \"12 min\"
action = \"join\"
group = \"router\"
count = 20
spread = \"1 min\"
"
    );
    let sim = run(&text);
    assert_eq!(sim.manifest.routers, 88);
    assert!(success(&sim, 1200.0, 2400.0) > 0.95);
    // Every router of the run published at least once (the joiners within a minute).
    let published: u64 = sim
        .outcome
        .metrics
        .stores()
        .iter()
        .map(|s| s.publishes_verified)
        .sum();
    assert!(published >= 88, "verified publications: {published}");
}
