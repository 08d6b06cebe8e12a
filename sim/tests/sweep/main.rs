//! `ramsons-sim sweep`: a tiny sweep over the quickstart scenario, its sweep folder, its
//! determinism across job counts, bad arguments, and the analysis tools over it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ramsons_analysis::records::SweepRecord;
use ramsons_analysis::{plot_sweep, write_report, RunFolder, SweepCharts, SweepFolder};

fn quickstart() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/quickstart.toml")
}

/// The quickstart scaled down to seconds of wall time: 2 points (the non-floodfill count)
/// x 2 seeds.
const SCALE: [&str; 6] = [
    "general.stop_time=7 min",
    "general.warmup=2 min",
    "events.0.at=4 min",
    "bootstrap.reseed_routers=10",
    "routers.0.count=4",
    "routers.1.count=16,24",
];

fn sweep(out: &Path, jobs: &str, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ramsons-sim"));
    cmd.arg("sweep").arg(quickstart());
    for set in SCALE {
        cmd.arg("--set").arg(set);
    }
    cmd.args(["--seeds", "1..2", "--jobs", jobs, "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("runs")
}

fn hashes(sweep: &SweepFolder) -> Vec<(String, String)> {
    sweep
        .manifest
        .points
        .iter()
        .flat_map(|p| &p.runs)
        .map(|r| (r.folder.clone(), r.trace_hash.clone()))
        .collect()
}

#[test]
fn tiny_sweep_writes_its_folder_deterministically() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let first = tmp.path().join("first");
    let out = sweep(&first, "2", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("2 points x 2 seeds = 4 runs"), "{stderr}");
    assert!(stderr.contains("[4/4]"), "progress per run: {stderr}");
    assert!(!tmp.path().join(".first.partial").exists());

    let sweep_folder = SweepFolder::open(&first).expect("a sweep folder");
    let m = &sweep_folder.manifest;
    assert_eq!(m.seeds, [1, 2]);
    assert_eq!(m.parameters.len(), SCALE.len());
    let labels: Vec<&str> = m.points.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["routers.1.count=16", "routers.1.count=24"]);
    for point in &m.points {
        assert_eq!(point.runs.len(), 2);
        for run in &point.runs {
            assert_eq!(run.folder, format!("{}-seed{}", point.label, run.seed));
            let folder = RunFolder::open(sweep_folder.run_path(run)).expect("a run folder");
            assert_eq!(folder.manifest.seed, run.seed);
            assert_eq!(folder.manifest.trace_hash, run.trace_hash);
            assert!(folder
                .manifest
                .scenario_toml
                .contains("stop_time = \"7 min\""));
            assert!(folder
                .read_summary()
                .expect("reads")
                .is_some_and(|s| !s.is_empty()));
            assert!(!folder.plots_dir().exists(), "no charts per run by default");
        }
    }
    let routers: Vec<u64> = m
        .points
        .iter()
        .map(|p| {
            RunFolder::open(sweep_folder.run_path(&p.runs[0]))
                .expect("opens")
                .manifest
                .routers
        })
        .collect();
    assert_eq!(routers, [20, 28], "the set values reached the runs");

    // sweep.csv: every standard scalar per point, over both seeds.
    let row = |point: &str, metric: &str| -> &SweepRecord {
        sweep_folder
            .rows
            .iter()
            .find(|r| r.point == point && r.metric == metric)
            .unwrap_or_else(|| panic!("no {metric} row for {point}"))
    };
    for point in labels {
        for metric in [
            "lookups",
            "publishes",
            "tunnel_builds",
            "netdb_coverage_end",
        ] {
            let r = row(point, metric);
            assert_eq!(r.n, 2, "{point} {metric}");
            let (lo, hi) = (r.ci95_low.expect("ci"), r.ci95_high.expect("ci"));
            assert!(lo <= r.mean && r.mean <= hi, "{r:?}");
        }
        let success = row(point, "tunnel_build_success");
        assert!((0.0..=1.0).contains(&success.mean), "{success:?}");
    }

    // The same sweep on one thread: the same runs, trace for trace.
    let second = tmp.path().join("second");
    let out = sweep(&second, "1", &["--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        second.display().to_string()
    );
    let again = SweepFolder::open(&second).expect("a sweep folder");
    assert_eq!(hashes(&sweep_folder), hashes(&again));
    assert_eq!(sweep_folder.rows, again.rows);

    // A run of a sweep replays from its own folder: its manifest holds the edited scenario.
    let run = sweep_folder.run_path(&m.points[1].runs[1]);
    let replay = Command::new(env!("CARGO_BIN_EXE_ramsons-sim"))
        .arg("replay")
        .arg(&run)
        .arg("--quiet")
        .output()
        .expect("replays");
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stdout)
    );

    // An existing sweep folder is never overwritten.
    let out = sweep(&first, "2", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    // The analysis tools read it: charts per metric, and a report.
    let plots = plot_sweep(
        &sweep_folder,
        &SweepCharts::default(),
        &sweep_folder.plots_dir(),
    )
    .expect("charts");
    assert!(
        plots.written.iter().any(|f| f.ends_with("lookups.png")),
        "{plots:?}"
    );
    let report = first.join("report.md");
    write_report(std::slice::from_ref(&first), &report).expect("report");
    let md = std::fs::read_to_string(&report).expect("report");
    assert!(md.contains("## Sweep: quickstart"), "{md}");
    assert!(md.contains("![lookups](plots/lookups.png)"), "{md}");
    assert!(md.contains("[routers.1.count=24-seed2]"), "{md}");
}

fn assert_refused(sets: &[&str], expected: &[&str]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("sweep");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ramsons-sim"));
    cmd.arg("sweep").arg(quickstart());
    for set in sets {
        cmd.arg("--set").arg(set);
    }
    let out = cmd.arg("--out").arg(&out_dir).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for part in expected {
        assert!(stderr.contains(part), "mentions {part:?}: {stderr}");
    }
    assert!(
        std::fs::read_dir(tmp.path())
            .expect("lists")
            .next()
            .is_none(),
        "nothing is written for a sweep that cannot start"
    );
}

#[test]
fn bad_points_are_refused_before_any_run() {
    assert_refused(
        &["routers.5.count=1,2"],
        &["--set routers.5.count=1,2", "index 5 is out of range"],
    );
    assert_refused(
        &["routers.1.count=10,ten"],
        &["the point routers.1.count=ten", "count"],
    );
    // Valid alone, invalid together with the scenario's crash at 15 min.
    assert_refused(
        &["general.stop_time=20 min,10 min"],
        &[
            "the point general.stop_time=10 min",
            "events[0].at",
            "after general.stop_time",
        ],
    );
    assert_refused(&["tunnels.hopz=2"], &["hopz"]);
    assert_refused(&["general.seed=2"], &["--seeds"]);
}
