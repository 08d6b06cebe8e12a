//! Golden runs: every scenario in `scenarios/` gives exactly the trace it gave when these
//! hashes were recorded, and writes exactly the same records. A refactor of the world
//! must keep every line here green; a change that moves a trace on purpose records the
//! new hashes (and says why in its commit).
//!
//! Long scenarios run shortened (a shorter `stop_time`, nothing else changed), long enough
//! that every behaviour they carry has acted: the flood has started, the Sybils' day has
//! come, the tier-capture adversary has knocked routers down, the withdrawal has happened,
//! the signers have published and the stream fetches have run.
//!
//! On a mismatch the test prints the hashes it got, ready to paste.

use ramsons_router::units::Span;
use ramsons_sim::run::{simulate, write_run, LoadedScenario};
use ramsons_sim::scenario::{Scenario, Servers};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs `name` for `minutes` of simulated time and checks its trace hash and a hash over
/// the records it writes (every file of the run folder but the manifest, which holds the
/// wall time).
fn golden(name: &str, minutes: u64, trace: &str, records: &str) {
    golden_with(name, minutes, trace, records, |_| {});
}

/// [`golden`] with the scenario changed by `adjust` first.
fn golden_with(
    name: &str,
    minutes: u64,
    trace: &str,
    records: &str,
    adjust: impl FnOnce(&mut Scenario),
) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    let mut loaded = LoadedScenario::load(&path).expect("the scenario is valid");
    adjust(&mut loaded.scenario);
    let full = loaded.scenario.general.stop_time.0;
    let stop = Duration::from_secs(minutes * 60);
    assert!(
        stop <= full,
        "{name}: {minutes} min is longer than the scenario"
    );
    loaded.scenario.general.stop_time = Span(stop);
    let mut simulated = simulate(&loaded, &mut ()).expect("runs");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    write_run(&dir, &mut simulated, false).expect("writes the run folder");
    let got_trace = &simulated.manifest.trace_hash[..16];
    let got_records = records_hash(&dir);
    assert!(
        got_trace == trace && got_records == records,
        "{name} moved: now golden(\"{name}\", {minutes}, \"{got_trace}\", \"{got_records}\")"
    );
}

/// SHA-256 over the run folder's files but the manifest, by name, in name order.
fn records_hash(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the run folder")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "manifest.json"))
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        let name = file.file_name().expect("a file name").to_string_lossy();
        hasher.update(name.as_bytes());
        hasher.update([0]);
        let bytes = std::fs::read(&file).expect("readable");
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

macro_rules! goldens {
    ($($test:ident: $name:literal, $minutes:literal, $trace:literal, $records:literal;)*) => {
        $(
            #[test]
            fn $test() {
                golden($name, $minutes, $trace, $records);
            }
        )*
    };
}

goldens! {
    quickstart: "quickstart", 30, "1cfd0fe3977d09b0", "283e3a2a7f6bf96e";
    dos_flood: "dos-flood", 14, "1491c85abc9d390c", "9d7b1a97fbe9fef1";
    mass_withdrawal: "mass-withdrawal", 42, "a943ab769e33740a", "b150185e55076fb4";
    multihoming_balancer: "multihoming-balancer", 20, "a870ddd801473048", "3537ce096d1d0fd3";
    multihoming_meta: "multihoming-meta", 20, "ff26e18c2bc97cf5", "33d7b37d7c140ea9";
    multihoming_naive: "multihoming-naive", 20, "52d5f63339a1cedd", "9707f8be1a4fcc18";
    netdb_baseline: "netdb-baseline", 6, "06a221b714097b25", "8889d953d7ee5aa9";
    predecessor: "predecessor", 20, "ac8e124690527b1c", "7b071e6f39992812";
    streams: "streams", 15, "bf89dc66a781642c", "c5fd0435eeb91609";
    sybil_floodfill: "sybil-floodfill", 46, "67c97093dd28f064", "cf49e0a7db5213fe";
    tier_capture: "tier-capture", 26, "b68319031990441c", "6098a4212408caeb";
    tunnels_baseline: "tunnels-baseline", 3, "f602628c25c69fef", "82b617dbae6e9256";
    tunnels_exploratory: "tunnels-exploratory", 5, "e133d945e3e39d40", "9c3823d288e83061";
}

/// The real network is a benchmark (`sim/BENCHMARKS.md`), not a test: its golden run is
/// the same file at a fiftieth of its routers, destinations and stream servers (1,000
/// routers), for 3 minutes, enough for the streams' 2-minute timeout to pass.
#[test]
fn i2p_network() {
    const NAME: &str = "i2p-network"; // "i2p-network", as the check below looks for it
    golden_with(NAME, 3, "3cdeecb222940337", "4fc0690aeeb815d0", |s| {
        for group in &mut s.routers {
            group.count /= 50;
        }
        s.clients.destinations /= 50;
        if let Some(streams) = s.streams.as_mut() {
            streams.servers = Servers::Count(1);
        }
    });
}

/// Every scenario file has its golden run above.
#[test]
fn every_scenario_has_a_golden_run() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("scenarios/")
        .filter_map(|e| {
            let path = e.expect("an entry").path();
            let stem = path.file_stem()?.to_string_lossy().into_owned();
            (path.extension()? == "toml").then_some(stem)
        })
        .collect();
    names.sort();
    let source = include_str!("main.rs");
    for name in names {
        assert!(
            source.contains(&format!("\"{name}\", ")),
            "scenarios/{name}.toml has no golden run"
        );
    }
}
