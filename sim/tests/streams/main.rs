//! The stream workload: a small network's destinations fetch pages from each other over
//! streams, the fetches complete byte for byte, and a run is one trace per seed.

use ramsons_analysis::records::{StreamRecord, SummaryRecord};
use ramsons_sim::run::{simulate, write_run, LoadedScenario};
use std::path::Path;

const SCENARIO: &str = r#"
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
messages_per_destination_hour = 0

[streams]
servers = 2
fetches_per_client_hour = 60
response_sizes = [{ size = "8 KiB", weight = 2 }, { size = "64 KiB" }]
timeout = "2 min"
"#;

fn load() -> LoadedScenario {
    LoadedScenario::from_text(Path::new("streams.toml"), SCENARIO.to_owned())
        .expect("valid scenario")
}

fn fetches(sim: &ramsons_sim::run::Simulated) -> Vec<StreamRecord> {
    sim.outcome
        .metrics
        .streams()
        .expect("a run with [streams] records its fetches")
        .to_vec()
}

#[test]
fn fetches_complete_byte_for_byte_and_replay_per_seed() {
    let first = simulate(&load(), &mut ()).expect("runs");
    let records = fetches(&first);
    assert!(records.len() > 20, "fetches ran: {}", records.len());
    let completed: Vec<&StreamRecord> = records.iter().filter(|r| r.is_completed()).collect();
    assert!(
        completed.len() as f64 > 0.8 * records.len() as f64,
        "{} of {} completed",
        completed.len(),
        records.len()
    );
    for r in &completed {
        assert_eq!(r.bytes_received, r.response_bytes, "{r:?}");
        let (connect, ttfb, done) = (
            r.connect_ms.expect("connected"),
            r.ttfb_ms.expect("a first byte"),
            r.completion_ms.expect("completed"),
        );
        assert!(0.0 < connect && connect <= ttfb && ttfb <= done, "{r:?}");
        assert!(r.packets_sent > 0, "{r:?}");
        assert!(
            r.server < 2 && r.client >= 2,
            "servers are the first two: {r:?}"
        );
    }
    for size in [8 * 1024, 64 * 1024] {
        assert!(
            completed.iter().any(|r| r.response_bytes == size),
            "a {size}-byte response completed"
        );
    }
    let summary = first.outcome.metrics.summary();
    let scalar = |name: &str| {
        summary
            .iter()
            .find(|SummaryRecord { metric, .. }| metric == name)
            .map(|r| r.value)
    };
    assert_eq!(scalar("stream_fetches"), Some(records.len() as f64));
    assert!(scalar("stream_completion_rate").is_some_and(|c| c > 0.8));
    for name in [
        "stream_connect_median_s",
        "stream_ttfb_median_s",
        "stream_completion_median_s",
        "stream_throughput_median_kib_s",
    ] {
        assert!(scalar(name).is_some_and(|v| v > 0.0), "{name}");
    }

    let mut second = simulate(&load(), &mut ()).expect("runs");
    assert_eq!(first.manifest.trace_hash, second.manifest.trace_hash);
    assert_eq!(records, fetches(&second));
    let other = simulate(&load().with_seed(Some(6)), &mut ()).expect("runs");
    assert_ne!(first.manifest.trace_hash, other.manifest.trace_hash);

    // The run folder has streams.csv and both charts.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    write_run(&dir, &mut second, true).expect("writes the run folder");
    assert!(second.manifest.metrics.iter().any(|m| m == "streams.csv"));
    let csv = std::fs::read_to_string(dir.join("streams.csv")).expect("streams.csv");
    assert_eq!(
        csv.lines().count(),
        records.len() + 1,
        "a header and a row per fetch"
    );
    for chart in ["stream_completion_cdf", "stream_ttfb_cdf"] {
        assert!(dir.join(format!("plots/{chart}.png")).is_file(), "{chart}");
    }
}
