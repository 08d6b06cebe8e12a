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
