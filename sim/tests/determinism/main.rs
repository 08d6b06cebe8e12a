//! Same scenario + same seed = the same trace hash; another seed, another hash.

use ramsons_sim::run::{simulate, LoadedScenario};
use std::path::PathBuf;

fn quickstart() -> LoadedScenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/quickstart.toml");
    LoadedScenario::load(&path).expect("the quickstart scenario is valid")
}

#[test]
fn quickstart_is_deterministic_per_seed() {
    let first = simulate(&quickstart(), &mut ()).expect("runs");
    let second = simulate(&quickstart(), &mut ()).expect("runs");
    assert_eq!(first.manifest.trace_hash, second.manifest.trace_hash);
    assert_eq!(first.manifest.events, second.manifest.events);
    assert!(
        first.manifest.events > 10_000,
        "a real run, not an empty one"
    );
    assert_eq!(
        first.outcome.metrics.lookups(),
        second.outcome.metrics.lookups()
    );

    let other = simulate(&quickstart().with_seed(Some(2)), &mut ()).expect("runs");
    assert_ne!(first.manifest.trace_hash, other.manifest.trace_hash);
}

/// Destinations add the ratchet, LeaseSets and garlic cloves to the trace: still one
/// trace per seed, message for message.
#[test]
fn destinations_are_deterministic_per_seed() {
    let text = r#"
[general]
seed = 5
stop_time = "15 min"
warmup = "5 min"

[[routers]]
role = "floodfill"
count = 5

[[routers]]
role = "router"
count = 35

[bootstrap]
warm_floodfills = true

[tunnels]
exploratory = true

[clients]
destinations = 8
messages_per_destination_hour = 240
"#;
    let load = || {
        LoadedScenario::from_text(std::path::Path::new("clients.toml"), text.to_owned())
            .expect("valid scenario")
    };
    let first = simulate(&load(), &mut ()).expect("runs");
    let second = simulate(&load(), &mut ()).expect("runs");
    assert_eq!(first.manifest.trace_hash, second.manifest.trace_hash);
    let deliveries = first.outcome.metrics.deliveries();
    assert!(
        deliveries.iter().any(|d| d.is_delivered()),
        "messages flowed"
    );
    assert_eq!(deliveries, second.outcome.metrics.deliveries());
    let other = simulate(&load().with_seed(Some(6)), &mut ()).expect("runs");
    assert_ne!(first.manifest.trace_hash, other.manifest.trace_hash);
}
