//! netDb mechanisms seen at network scale.

use ramsons_sim::run::{simulate, LoadedScenario, Simulated};
use std::path::Path;

/// 100 floodfills that know each other and 600 routers, from 23:20 UTC for an hour: the
/// routing keys rotate 40 minutes in. Routers publish once (republication every 3 h), so
/// after midnight a RouterInfo is found only where the floods put it beforehand.
const MIDNIGHT: &str = r#"
[general]
seed = 5
stop_time = "60 min"
warmup = "5 min"
start = "2026-11-21T23:20:00Z"

[[routers]]
role = "floodfill"
count = 100
start_spread = "30 s"

[[routers]]
role = "router"
count = 600
start = "30 s"
start_spread = "1 min"

[bootstrap]
warm_floodfills = true

[workload]
lookups_per_router_hour = 10

[netdb]
republish_interval = "3 h"
"#;

fn run(text: &str) -> Simulated {
    let loaded = LoadedScenario::from_text(Path::new("netdb.toml"), text.to_owned())
        .expect("valid scenario");
    simulate(&loaded, &mut ()).expect("runs")
}

fn found_after(sim: &Simulated, from_s: f64) -> f64 {
    let after: Vec<_> = sim
        .outcome
        .metrics
        .lookups()
        .iter()
        .filter(|l| l.time_s >= from_s)
        .collect();
    assert!(after.len() > 500, "{} lookups", after.len());
    after.iter().filter(|l| l.outcome == "found").count() as f64 / after.len() as f64
}

#[test]
fn flooding_to_tomorrows_closest_floodfills_carries_entries_over_midnight() {
    let midnight = 40.0 * 60.0;
    let with_window = run(MIDNIGHT);
    let without = run(&MIDNIGHT.replace(
        "republish_interval = \"3 h\"",
        "republish_interval = \"3 h\"\nnext_day_flood_window = \"0 s\"",
    ));
    let (with_found, without_found) = (
        found_after(&with_window, midnight),
        found_after(&without, midnight),
    );
    assert!(with_found > 0.99, "with the next-day flood: {with_found}");
    assert!(
        without_found < with_found - 0.02,
        "without: {without_found}, with: {with_found}"
    );
}
