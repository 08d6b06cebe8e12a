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
    quickstart: "quickstart", 30, "6e8cdeefa1ba4ad8", "6b29cf20b47f82d1";
    dos_flood: "dos-flood", 14, "59a55ca749e63c55", "659d17a4b2bfd781";
    mass_withdrawal: "mass-withdrawal", 42, "288a78be9835809c", "f3329c6785954cdc";
    multihoming_balancer: "multihoming-balancer", 20, "9a28c4f866527936", "04701cb251e49564";
    multihoming_meta: "multihoming-meta", 20, "497f835d0b6c99fc", "b8c25adc036107df";
    multihoming_naive: "multihoming-naive", 20, "367765dbff6492c8", "6a842769d1516fbd";
    netdb_baseline: "netdb-baseline", 6, "68d8699425883c4a", "8889d953d7ee5aa9";
    predecessor: "predecessor", 20, "b6767b928306b5a2", "86049d726fcddd8f";
    streams: "streams", 15, "92835b177acf490a", "a4461b5ed489aef2";
    sybil_floodfill: "sybil-floodfill", 46, "ba1eb114e258acef", "fa408b6697ad55bb";
    tier_capture: "tier-capture", 26, "6323d6db3033a68b", "62a1221c82e1a36b";
    tunnels_baseline: "tunnels-baseline", 3, "a22a7562bd683a94", "82b617dbae6e9256";
    tunnels_exploratory: "tunnels-exploratory", 5, "371485956f1c8d86", "9c3823d288e83061";
}

/// The real network is a benchmark (`sim/BENCHMARKS.md`), not a test: its golden run is
/// the same file at a fiftieth of its routers, destinations and stream servers (1,000
/// routers), for 3 minutes, enough for the streams' 2-minute timeout to pass.
#[test]
fn i2p_network() {
    const NAME: &str = "i2p-network"; // "i2p-network", as the check below looks for it
    golden_with(NAME, 3, "af937058b601929a", "4fc0690aeeb815d0", |s| {
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
