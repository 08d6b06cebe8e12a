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
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs `name` for `minutes` of simulated time and checks its trace hash and a hash over
/// the records it writes (every file of the run folder but the manifest, which holds the
/// wall time).
fn golden(name: &str, minutes: u64, trace: &str, records: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    let mut loaded = LoadedScenario::load(&path).expect("the scenario is valid");
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
    quickstart: "quickstart", 30, "f39141a728af0a9a", "8878f295e6d0ac40";
    dos_flood: "dos-flood", 14, "9cfcf6f12bd4f014", "a758337f1dce14f6";
    mass_withdrawal: "mass-withdrawal", 42, "e46c40a08f9e3de0", "e5142ff4e8dbfc7f";
    multihoming_balancer: "multihoming-balancer", 20, "191b689d3c873e14", "e4b0c436ccb3ae5e";
    multihoming_meta: "multihoming-meta", 20, "5157bb624051995a", "3c539e48fddf2124";
    multihoming_naive: "multihoming-naive", 20, "9929299bb73f5c1d", "09ad8f3b98f9fe13";
    netdb_baseline: "netdb-baseline", 6, "06a221b714097b25", "8889d953d7ee5aa9";
    predecessor: "predecessor", 20, "eb018c726dee4f4f", "9d40f1c3e334dd84";
    streams: "streams", 15, "25fdf2bd3ebc12ca", "77df2c56232fd842";
    sybil_floodfill: "sybil-floodfill", 46, "f7b564b35c281cce", "493219dd2e9870e9";
    tier_capture: "tier-capture", 26, "555e445ee67cac4b", "4f94380b8d31f873";
    tunnels_baseline: "tunnels-baseline", 3, "05ebcdc8524b29df", "82b617dbae6e9256";
    tunnels_exploratory: "tunnels-exploratory", 5, "31123a599447bbad", "9c3823d288e83061";
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
