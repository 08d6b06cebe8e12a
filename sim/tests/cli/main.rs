//! The `ramsons-sim` binary: run folders, replay, and what happens with bad input.

use std::path::Path;
use std::process::Command;

fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ramsons-sim"))
}

const SMALL: &str = r#"
[general]
seed = 3
stop_time = "8 min"
warmup = "2 min"

[[routers]]
role = "floodfill"
count = 4

[[routers]]
role = "router"
count = 20

[workload]
lookups_per_router_hour = 30
"#;

#[test]
fn run_writes_a_complete_folder_and_replay_matches() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = tmp.path().join("small.toml");
    std::fs::write(&scenario, SMALL).expect("write scenario");
    let runs = tmp.path().join("runs");
    let out = sim()
        .arg("run")
        .arg(&scenario)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--quiet")
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = runs.join("small-seed3");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        dir.display().to_string()
    );
    for file in [
        "manifest.json",
        "lookup.csv",
        "store.csv",
        "floodfill_load.csv",
        "netdb_coverage.csv",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    for chart in [
        "lookup_latency_cdf",
        "lookup_success",
        "floodfill_load",
        "netdb_coverage",
    ] {
        for ext in ["png", "svg"] {
            assert!(
                dir.join("plots").join(format!("{chart}.{ext}")).is_file(),
                "{chart}.{ext} missing"
            );
        }
    }
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(manifest["seed"], 3);
    assert_eq!(manifest["routers"], 24);
    assert_eq!(manifest["trace_hash"].as_str().map(str::len), Some(64));

    // A second run never overwrites the first.
    let again = sim()
        .arg("run")
        .arg(&scenario)
        .arg("--runs-dir")
        .arg(&runs)
        .arg("--quiet")
        .arg("--no-plots")
        .output()
        .expect("runs");
    assert!(again.status.success());
    assert!(runs.join("small-seed3-2").join("manifest.json").is_file());

    let replay = sim()
        .arg("replay")
        .arg(&dir)
        .arg("--quiet")
        .output()
        .expect("replays");
    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.success(), "{stdout}");
    assert!(stdout.contains("matches"), "{stdout}");

    // Tampering with the recorded hash makes replay report a mismatch.
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    let hash = manifest["trace_hash"].as_str().expect("hash");
    std::fs::write(
        dir.join("manifest.json"),
        text.replace(hash, &"0".repeat(64)),
    )
    .expect("write");
    let replay = sim()
        .arg("replay")
        .arg(&dir)
        .arg("--quiet")
        .output()
        .expect("replays");
    assert_eq!(replay.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&replay.stdout).contains("DIFFERS"));
}

fn assert_rejected(scenario_text: &str, expected: &[&str]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = tmp.path().join("bad.toml");
    std::fs::write(&scenario, scenario_text).expect("write scenario");
    let runs = tmp.path().join("runs");
    let out = sim()
        .arg("run")
        .arg(&scenario)
        .arg("--runs-dir")
        .arg(&runs)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml"), "names the file: {stderr}");
    for part in expected {
        assert!(stderr.contains(part), "mentions {part:?}: {stderr}");
    }
    assert!(
        !runs.exists(),
        "nothing is written for a run that cannot start"
    );
}

#[test]
fn bad_scenarios_are_rejected_before_anything_is_written() {
    assert_rejected(
        &SMALL.replace("\"8 min\"", "\"eight minutes\""),
        &["stop_time", "expected a duration"],
    );
    assert_rejected(
        &SMALL.replace("count = 4", "count = \"four\""),
        &["count", "expected u32"],
    );
    assert_rejected(
        &SMALL.replace("[workload]", "[workload]\nlookup_rate = 3"),
        &["lookup_rate"],
    );
    assert_rejected(
        &format!("{SMALL}\n[[events]]\nat = \"1 min\"\naction = \"crash\"\ngroup = \"floodfills\"\ncount = 1\n"),
        &["events[0].group", "not the name of a [[routers]] group"],
    );
    assert_rejected(
        &SMALL.replace("role = \"floodfill\"", "role = \"router\"\nname = \"more\""),
        &["floodfill"],
    );
}

#[test]
fn missing_files_get_clear_errors() {
    let out = sim()
        .arg("run")
        .arg("/nonexistent/x.toml")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.toml"));

    let out = sim()
        .arg("replay")
        .arg(Path::new("/nonexistent/run"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("manifest.json"));
}
