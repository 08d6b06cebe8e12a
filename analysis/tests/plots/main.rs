//! Draws every chart from small synthetic run folders and checks the files.
//!
//! Set `RAMSONS_PLOT_TEST_OUT=<dir>` to keep the charts for a look.

use std::path::{Path, PathBuf};
use std::process::Command;

use ramsons_analysis::plots::{self, ChartOutcome, CHARTS};
use ramsons_analysis::{
    default_labels, plot_all, plot_runs, CoverageRecord, CsvWriter, DeliveryRecord,
    FloodfillLoadRecord, IslandsRecord, LookupRecord, Manifest, Metric, MultihomingRecord,
    RunFolder, StoreRecord, StreamRecord, TierCaptureRecord, TunnelBuildRecord, TunnelSampleRecord,
    VictimLoadRecord,
};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The charts drawn from `tunnel_build.csv`, `tunnels.csv`, `delivery.csv` and
/// `streams.csv` (client destinations need tunnels).
const TUNNEL_CHARTS: [&str; 8] = [
    "tunnel_build_latency_cdf",
    "tunnel_build_success",
    "tunnel_tiers",
    "transit_load",
    "delivery_latency_cdf",
    "delivery_success",
    "stream_completion_cdf",
    "stream_ttfb_cdf",
];

/// Deterministic pseudo-random numbers in [0, 1) (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn write_all<T: Metric>(dir: &Path, rows: &[T]) {
    let mut w = CsvWriter::<T>::create(dir).expect("create csv");
    for r in rows {
        w.write(r).expect("write row");
    }
    w.finish().expect("finish csv");
}

/// A 20-minute run of 200 routers (12 floodfills), warmup 5 min, sampled every minute, with
/// tunnels (2-hop builds, per-minute tunnel samples).
fn synthetic_run(dir: &Path, seed: u64, lookups: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut rng = Lcg(seed);
    let duration = 1200.0;
    let warmup = 300.0;
    let interval = 60.0;
    let online = 200u64;
    let floodfills = 12u32;

    let lookups: Vec<LookupRecord> = (0..lookups)
        .map(|i| {
            let found = rng.next() < 0.85 + 0.1 * (i as f64 / lookups as f64);
            let hops = 1 + (rng.next() * 4.0) as u32;
            LookupRecord {
                time_s: warmup + rng.next() * (duration - warmup),
                router: (rng.next() * online as f64) as u32,
                target: format!("{:08x}", i * 2_654_435_761 % 0xffff_ffff),
                outcome: if found { "found" } else { "not_found" }.into(),
                latency_ms: if found {
                    f64::from(hops) * (120.0 + 300.0 * rng.next())
                } else {
                    15_000.0
                },
                peers_queried: if found { hops } else { 5 },
                timeouts: if found { 0 } else { 5 },
            }
        })
        .collect();

    let stores: Vec<StoreRecord> = (1..=20)
        .map(|m| {
            let t = f64::from(m) * interval;
            let boost = if t <= warmup { 3.0 } else { 1.0 };
            let stores = (boost * (20.0 + 10.0 * rng.next())) as u64;
            StoreRecord {
                time_s: t,
                stores_received: stores,
                floods_received: stores * 3 - (rng.next() * 4.0) as u64,
                floods_sent: stores * 3,
                publishes: stores,
                publishes_verified: stores - 1,
                publishes_failed: 1,
            }
        })
        .collect();

    let load: Vec<FloodfillLoadRecord> = (0..floodfills)
        .map(|f| {
            let skew = 1.0 + 4.0 * rng.next() * rng.next();
            FloodfillLoadRecord {
                router: f,
                stores_received: (30.0 * skew) as u64,
                floods_received: (90.0 * skew) as u64,
                lookups_received: (50.0 * skew) as u64,
                replies_found: (30.0 * skew) as u64,
                replies_search: (20.0 * skew) as u64,
                floods_sent: (90.0 * skew) as u64,
                bytes_received: (170_000.0 * skew) as u64,
            }
        })
        .collect();

    let mut coverage = Vec::new();
    for m in 1..=20u32 {
        let t = f64::from(m) * interval;
        for (role, count, scale) in [("floodfill", 12u64, 1.0), ("router", 188, 0.5)] {
            let tau = 240.0 + 60.0 * seed as f64;
            let median = (online as f64 * scale * (1.0 - (-(t / tau)).exp())) as u64;
            coverage.push(CoverageRecord {
                time_s: t,
                role: role.into(),
                online_routers: online,
                routers: count,
                min_known: median / 3,
                p10_known: median * 2 / 3,
                median_known: median,
                mean_known: median as f64 * 1.02,
                p90_known: (median * 4 / 3).min(online),
                max_known: online,
                mean_coverage: median as f64 / online as f64,
            });
        }
    }

    // Messages between destinations after warmup: most delivered, replies a little faster.
    let deliveries: Vec<DeliveryRecord> = (0..400)
        .map(|i| {
            let delivered = rng.next() < 0.95;
            let kind = if i % 2 == 0 { "request" } else { "reply" };
            DeliveryRecord {
                time_s: warmup + rng.next() * (duration - warmup),
                from: (rng.next() * 20.0) as u32,
                to: (rng.next() * 20.0) as u32,
                kind: kind.into(),
                outcome: if delivered {
                    DeliveryRecord::DELIVERED
                } else {
                    DeliveryRecord::LOST
                }
                .into(),
                latency_ms: delivered.then(|| 300.0 + 400.0 * rng.next() + 50.0 * seed as f64),
                confirmed_ms: None,
            }
        })
        .collect();

    // Stream fetches of two sizes: most complete, the large ones later.
    let fetches: Vec<StreamRecord> = (0..300)
        .map(|i| {
            let size: u64 = if i % 3 == 0 { 1 << 20 } else { 10 * 1024 };
            let completed = rng.next() < 0.9;
            let connect = 700.0 + 300.0 * rng.next() + 50.0 * seed as f64;
            let transfer = size as f64 / 1024.0 * (5.0 + 10.0 * rng.next());
            StreamRecord {
                time_s: warmup + rng.next() * (duration - warmup),
                client: 2 + (rng.next() * 18.0) as u32,
                server: (rng.next() * 2.0) as u32,
                request_bytes: 256,
                response_bytes: size,
                outcome: if completed {
                    StreamRecord::COMPLETED
                } else {
                    StreamRecord::TIMED_OUT
                }
                .into(),
                connect_ms: Some(connect),
                ttfb_ms: Some(connect + 10.0),
                completion_ms: completed.then_some(connect + transfer),
                bytes_received: if completed { size } else { size / 2 },
                packets_sent: size / 1500 + 4,
                retransmissions: (rng.next() * 3.0) as u64,
                fast_retransmits: 0,
                rto_timeouts: 0,
            }
        })
        .collect();

    // Own tunnel builds after warmup: success improves as profiles fill in; timeouts at 10 s.
    let builds: Vec<TunnelBuildRecord> = (0..600)
        .map(|i| {
            let time_s = warmup + rng.next() * (duration - warmup);
            let p_built = 0.6 + 0.3 * (time_s - warmup) / (duration - warmup);
            let roll = rng.next();
            let outcome = if roll < p_built {
                TunnelBuildRecord::BUILT
            } else if roll < p_built + 0.6 * (1.0 - p_built) {
                TunnelBuildRecord::REJECTED
            } else {
                TunnelBuildRecord::TIMED_OUT
            };
            let per_hop = (1.0 + 0.15 * seed as f64) * (150.0 + 250.0 * rng.next());
            TunnelBuildRecord {
                time_s,
                router: (rng.next() * online as f64) as u32,
                direction: if i % 2 == 0 { "inbound" } else { "outbound" }.into(),
                hops: 2,
                outcome: outcome.into(),
                latency_ms: if outcome == TunnelBuildRecord::TIMED_OUT {
                    10_000.0
                } else {
                    2.0 * per_hop
                },
            }
        })
        .collect();

    // Tunnel samples every minute: tiers and transit load grow as routers learn peers.
    let samples: Vec<TunnelSampleRecord> = (1..=20u32)
        .map(|m| {
            let t = f64::from(m) * interval;
            let grown = 1.0 - (-(t / (300.0 + 60.0 * seed as f64))).exp();
            let participating_mean = 8.0 * grown + rng.next();
            TunnelSampleRecord {
                time_s: t,
                routers: online,
                inbound_tunnels: (2.0 * online as f64 * grown) as u64,
                outbound_tunnels: (2.0 * online as f64 * grown) as u64,
                participating_mean,
                participating_max: (participating_mean * (3.0 + 2.0 * rng.next())) as u64,
                transit_messages: (5_000.0 * grown) as u64,
                tests_passed: (350.0 * grown) as u64,
                tests_failed: (20.0 * rng.next()) as u64,
                fast_tier_median: (30.0 * grown) as u64,
                high_capacity_median: (75.0 * grown) as u64,
                not_failing_median: (150.0 * grown) as u64,
                failing_median: 2 + (6.0 * rng.next()) as u64,
            }
        })
        .collect();

    write_all(dir, &lookups);
    write_all(dir, &stores);
    write_all(dir, &load);
    write_all(dir, &coverage);
    write_all(dir, &builds);
    write_all(dir, &samples);
    write_all(dir, &deliveries);
    write_all(dir, &fetches);
    let capture: Vec<TierCaptureRecord> = (1..=((duration - warmup) / interval) as u64)
        .map(|i| {
            let fast_tier = 12 + i;
            TierCaptureRecord {
                time_s: warmup + interval * i as f64,
                fast_tier,
                fast_adversary: (fast_tier as f64 * 0.3 * rng.next()) as u64,
                high_capacity: 2 * fast_tier,
                high_capacity_adversary: (fast_tier as f64 * 0.4 * rng.next()) as u64,
                online_routers: online - 1,
                online_adversaries: 10,
                ..TierCaptureRecord::default()
            }
        })
        .collect();
    write_all(dir, &capture);
    // A network that splits in two for a while, half-way through.
    let islands: Vec<IslandsRecord> = (1..=20u32)
        .map(|m| IslandsRecord {
            time_s: f64::from(m) * interval,
            online: online - u64::from(m >= 10) * 20,
            components: if (10..15).contains(&m) { 2 } else { 1 },
            largest_fraction: if (10..15).contains(&m) { 0.8 } else { 1.0 },
            isolated: u64::from(m == 12),
            without_floodfill: if (10..15).contains(&m) { 3 } else { 0 },
        })
        .collect();
    write_all(dir, &islands);
    // A RouterInfo flood from minute 10: the victims' tables grow until a cap of 2,000.
    let victims: Vec<VictimLoadRecord> = (1..=20u32)
        .map(|m| {
            let flooded = f64::from(m.saturating_sub(10)) * 300.0;
            let router_infos_mean = (150.0 + flooded).min(2000.0) - 10.0 * rng.next();
            VictimLoadRecord {
                time_s: f64::from(m) * interval,
                victims: 4,
                victims_online: 4,
                sent_router_infos: if m > 10 { 1200 } else { 0 },
                router_infos_mean,
                router_infos_max: (router_infos_mean + 10.0) as u64,
                ..VictimLoadRecord::default()
            }
        })
        .collect();
    write_all(dir, &victims);
    let manifest = Manifest {
        scenario_name: "synthetic".into(),
        scenario_path: "scenarios/synthetic.toml".into(),
        scenario_toml: format!("[general]\nseed = {seed}\n"),
        seed,
        code_version: "0.1.0 (test)".into(),
        trace_hash: format!("{seed:064x}"),
        events: 12_345,
        routers: online,
        sim_start_unix_s: 1_700_000_000,
        sim_duration_s: duration,
        warmup_s: warmup,
        sample_interval_s: interval,
        wall_time_s: 0.5,
        peak_memory_bytes: 1 << 24,
        metrics: vec![
            LookupRecord::FILE_NAME.into(),
            StoreRecord::FILE_NAME.into(),
            FloodfillLoadRecord::FILE_NAME.into(),
            CoverageRecord::FILE_NAME.into(),
            TunnelBuildRecord::FILE_NAME.into(),
            TunnelSampleRecord::FILE_NAME.into(),
            DeliveryRecord::FILE_NAME.into(),
            StreamRecord::FILE_NAME.into(),
            TierCaptureRecord::FILE_NAME.into(),
            IslandsRecord::FILE_NAME.into(),
            VictimLoadRecord::FILE_NAME.into(),
        ],
    };
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).expect("json"),
    )
    .expect("write manifest");
}

/// Removes a metric from a run folder, as if it was never recorded: the CSV and its manifest
/// entry.
fn drop_metric(dir: &Path, file_name: &str) {
    std::fs::remove_file(dir.join(file_name)).expect("rm");
    let path = dir.join("manifest.json");
    let mut manifest: Manifest =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("parse");
    manifest.metrics.retain(|m| m != file_name);
    std::fs::write(&path, serde_json::to_vec(&manifest).expect("json")).expect("write");
}

/// Output folder: kept under RAMSONS_PLOT_TEST_OUT when set, else inside the temp dir.
fn out_dir(tmp: &Path, name: &str) -> PathBuf {
    match std::env::var_os("RAMSONS_PLOT_TEST_OUT") {
        Some(keep) => PathBuf::from(keep).join(name),
        None => tmp.join(name),
    }
}

fn assert_chart_files(files: &[PathBuf], out: &Path) {
    for chart in CHARTS {
        for ext in ["png", "svg"] {
            let path = out.join(format!("{chart}.{ext}"));
            assert!(files.contains(&path), "{} not reported", path.display());
            let bytes = std::fs::read(&path).expect("chart file exists");
            assert!(bytes.len() > 1000, "{} is nearly empty", path.display());
            match ext {
                "png" => assert!(bytes.starts_with(PNG_MAGIC), "{} not a PNG", path.display()),
                _ => {
                    let text = String::from_utf8(bytes).expect("svg is text");
                    assert!(text.contains("<svg"), "{} not an SVG", path.display());
                }
            }
        }
    }
    assert_eq!(files.len(), CHARTS.len() * 2);
}

#[test]
fn two_runs_overlay_every_chart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    synthetic_run(&tmp.path().join("run-a"), 1, 400);
    synthetic_run(&tmp.path().join("run-b"), 2, 300);
    let runs = vec![
        (
            "seed 1".to_string(),
            RunFolder::open(tmp.path().join("run-a")).expect("open a"),
        ),
        (
            "seed 2".to_string(),
            RunFolder::open(tmp.path().join("run-b")).expect("open b"),
        ),
    ];
    let out = out_dir(tmp.path(), "overlay");
    let files = plot_runs(&runs, &out).expect("plot");
    assert_chart_files(&files, &out);
    for chart in ["lookup_latency_cdf"].iter().chain(&TUNNEL_CHARTS) {
        let svg = std::fs::read_to_string(out.join(format!("{chart}.svg"))).expect("svg");
        assert!(
            svg.contains("seed 1") && svg.contains("seed 2"),
            "{chart}: legend names each run"
        );
    }
}

#[test]
fn one_run_every_chart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    synthetic_run(&dir, 3, 200);
    let run = RunFolder::open(&dir).expect("open");
    let out = out_dir(tmp.path(), "single");
    let files = plot_runs(&[("synthetic seed 3".into(), run)], &out).expect("plot");
    assert_chart_files(&files, &out);
    // One run: build success also per direction, and one line per tier.
    let svg = std::fs::read_to_string(out.join("tunnel_build_success.svg")).expect("svg");
    for label in [
        "all (600 builds)",
        "inbound (300 builds)",
        "outbound (300 builds)",
    ] {
        assert!(svg.contains(label), "tunnel_build_success lacks {label:?}");
    }
    let svg = std::fs::read_to_string(out.join("tunnel_tiers.svg")).expect("svg");
    for tier in ["fast", "high capacity", "not failing", "failing"] {
        let label = format!("synthetic seed 3: {tier}");
        // The SVG writes each text on a line of its own.
        assert!(svg.lines().any(|l| l.trim() == label), "no {tier} line");
    }
}

#[test]
fn empty_and_missing_metrics_do_not_panic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    synthetic_run(&dir, 4, 0); // lookup.csv holds only its header
    write_all::<TunnelBuildRecord>(&dir, &[]); // and so does tunnel_build.csv
    drop_metric(&dir, StoreRecord::FILE_NAME);

    let run = RunFolder::open(&dir).expect("open");
    let out = out_dir(tmp.path(), "empty");
    let report = plot_all(&[("empty".into(), run.clone())], &out).expect("plot");
    assert_eq!(
        report.skipped,
        vec![("store_flood", "no run has store.csv".to_string())]
    );
    assert_eq!(report.written.len(), (CHARTS.len() - 1) * 2);
    // The lookup charts are drawn empty, with a note.
    let svg = std::fs::read_to_string(out.join("lookup_latency_cdf.svg")).expect("svg");
    assert!(svg.contains("no found lookups"), "empty chart has its note");
    let svg = std::fs::read_to_string(out.join("tunnel_build_latency_cdf.svg")).expect("svg");
    assert!(svg.contains("no built tunnels"), "empty chart has its note");
    let svg = std::fs::read_to_string(out.join("tunnel_build_success.svg")).expect("svg");
    assert!(svg.contains("no tunnel builds"), "empty chart has its note");

    let outcome = plots::store_flood(&[("empty", &run)], &out).expect("no error");
    assert!(
        matches!(outcome, ChartOutcome::Skipped { .. }),
        "{outcome:?}"
    );
}

/// Older runs and scenarios without tunnels have neither tunnel CSV: the tunnel charts are
/// skipped, the others drawn; overlaid with a run that has them, only that run is charted.
#[test]
fn runs_without_tunnels_skip_the_tunnel_charts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = tmp.path().join("old");
    synthetic_run(&old, 7, 100);
    drop_metric(&old, TunnelBuildRecord::FILE_NAME);
    drop_metric(&old, TunnelSampleRecord::FILE_NAME);
    drop_metric(&old, DeliveryRecord::FILE_NAME);
    drop_metric(&old, StreamRecord::FILE_NAME);
    let old = RunFolder::open(&old).expect("open");

    let out = out_dir(tmp.path(), "no-tunnels");
    let report = plot_all(&[("old".into(), old.clone())], &out).expect("plot");
    let skipped: Vec<&str> = report.skipped.iter().map(|(c, _)| *c).collect();
    assert_eq!(skipped, TUNNEL_CHARTS);
    for (chart, reason) in &report.skipped {
        let file = if chart.starts_with("tunnel_build") {
            "tunnel_build.csv"
        } else if chart.starts_with("delivery") {
            "delivery.csv"
        } else if chart.starts_with("stream") {
            "streams.csv"
        } else {
            "tunnels.csv"
        };
        assert_eq!(*reason, format!("no run has {file}"), "{chart}");
    }
    assert_eq!(
        report.written.len(),
        (CHARTS.len() - TUNNEL_CHARTS.len()) * 2
    );
    for chart in TUNNEL_CHARTS {
        assert!(!out.join(format!("{chart}.png")).exists(), "{chart} drawn");
    }
    for outcome in [
        plots::tunnel_build_success(&[("old", &old)], &out),
        plots::tunnel_build_latency_cdf(&[("old", &old)], &out),
        plots::tunnel_tiers(&[("old", &old)], &out),
        plots::transit_load(&[("old", &old)], &out),
        plots::delivery_latency_cdf(&[("old", &old)], &out),
        plots::delivery_success(&[("old", &old)], &out),
        plots::stream_completion_cdf(&[("old", &old)], &out),
        plots::stream_ttfb_cdf(&[("old", &old)], &out),
    ] {
        let outcome = outcome.expect("no error");
        assert!(
            matches!(outcome, ChartOutcome::Skipped { .. }),
            "{outcome:?}"
        );
    }

    let new = tmp.path().join("new");
    synthetic_run(&new, 8, 100);
    let new = RunFolder::open(&new).expect("open");
    let out = out_dir(tmp.path(), "mixed-tunnels");
    let runs = vec![("old".to_string(), old), ("new".to_string(), new)];
    let files = plot_runs(&runs, &out).expect("plot");
    assert_chart_files(&files, &out);
    for chart in TUNNEL_CHARTS {
        let svg = std::fs::read_to_string(out.join(format!("{chart}.svg"))).expect("svg");
        assert!(
            svg.contains("new"),
            "{chart}: the run with tunnels is charted"
        );
        assert!(!svg.contains("old"), "{chart}: the run without is left out");
    }
}

#[test]
fn corrupt_csv_fails_with_file_and_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    synthetic_run(&dir, 5, 10);
    let path = dir.join(FloodfillLoadRecord::FILE_NAME);
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str("7,1,2,three,4,5,6,7\n");
    std::fs::write(&path, text).expect("write");
    let run = RunFolder::open(&dir).expect("open");
    let err = plot_runs(&[("x".into(), run)], &tmp.path().join("out")).expect_err("corrupt");
    let msg = format!("{err:#}");
    assert!(msg.contains("floodfill_load.csv line 14"), "{msg}");
}

#[test]
fn default_labels_fall_back_to_folder_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    synthetic_run(&tmp.path().join("a"), 1, 1);
    synthetic_run(&tmp.path().join("b"), 1, 1); // same scenario and seed
    synthetic_run(&tmp.path().join("c"), 2, 1);
    let runs: Vec<RunFolder> = ["a", "b", "c"]
        .iter()
        .map(|d| RunFolder::open(tmp.path().join(d)).expect("open"))
        .collect();
    assert_eq!(default_labels(&runs), vec!["a", "b", "synthetic seed 2"]);
}

#[test]
fn cli_plot_and_errors() {
    let exe = env!("CARGO_BIN_EXE_ramsons-analysis");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    synthetic_run(&dir, 6, 50);

    // One folder: redraws into <run>/plots and prints the files.
    let out = Command::new(exe)
        .arg("plot")
        .arg(&dir)
        .output()
        .expect("run cli");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    assert_eq!(stdout.lines().count(), CHARTS.len() * 2, "{stdout}");
    assert!(dir.join("plots/netdb_coverage.png").is_file());

    // A folder without a manifest: a clear error naming it.
    let out = Command::new(exe)
        .arg("plot")
        .arg(tmp.path())
        .output()
        .expect("run cli");
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).expect("utf8");
    assert!(stderr.contains("manifest.json"), "{stderr}");

    // Label count must match.
    let out = Command::new(exe)
        .args(["plot", "--label", "a", "--label", "b"])
        .arg(&dir)
        .output()
        .expect("run cli");
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).expect("utf8");
    assert!(stderr.contains("2 labels for 1 run folders"), "{stderr}");
}

#[test]
fn cli_multihoming_estimates_from_the_observer_log() {
    let exe = env!("CARGO_BIN_EXE_ramsons-analysis");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    synthetic_run(&dir, 7, 10);

    // Without multihoming.csv: an error that says what to run.
    let out = Command::new(exe)
        .arg("multihoming")
        .arg(&dir)
        .output()
        .expect("run cli");
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).expect("utf8");
    assert!(stderr.contains("multihoming.csv"), "{stderr}");

    // Destination 0 on two routers publishing in turn, destination 1 on one; the
    // colluding floodfill (5) only saw one of destination 0's routers.
    let mut rows = Vec::new();
    for j in 0..6u32 {
        for (d, r, routers) in [(0u64, 0u32, 2u64), (0, 1, 2), (1, 2, 1)] {
            let t = f64::from(j) * 300.0 + f64::from(r) * 100.0;
            rows.push(MultihomingRecord {
                time_s: t + 1.0,
                floodfill: if r == 0 { 5 } else { 6 },
                colluding: r == 0,
                destination: d,
                routers,
                outcome: "updated".to_owned(),
                published_s: t,
                expires_s: t + 600.0,
                leases: format!(
                    "{g}:{a}:{e} {g}:{b}:{e}",
                    g = 10 + r,
                    a = r * 100 + j,
                    b = r * 100 + j + 1,
                    e = t + 600.0
                ),
                ..MultihomingRecord::default()
            });
        }
    }
    write_all(&dir, &rows);
    let run = |extra: &[&str]| {
        let out = Command::new(exe)
            .arg("multihoming")
            .arg(&dir)
            .args(extra)
            .output()
            .expect("run cli");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8")
    };
    let all = run(&[]);
    let lines: Vec<&str> = all.lines().collect();
    assert!(lines[0].starts_with("destination,routers,lease_sets,chains,estimated_routers"));
    assert!(lines[1].starts_with("0,2,12,2,2,true,"), "{all}");
    assert!(lines[2].starts_with("1,1,6,1,1,false,"), "{all}");
    let colluding = run(&["--colluding"]);
    assert!(colluding
        .lines()
        .nth(1)
        .expect("a line")
        .starts_with("0,2,6,1,1,false,"));
    assert_eq!(colluding.lines().count(), 2, "{colluding}");
    let one = run(&["--floodfill", "6"]);
    assert_eq!(one.lines().count(), 3, "{one}");
}
