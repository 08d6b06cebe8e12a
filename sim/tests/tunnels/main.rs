//! Exploratory tunnels in the simulator: built, tested and measured.

mod nat;

use ramsons_sim::run::{simulate, LoadedScenario, Simulated};
use std::path::Path;

const NETWORK: &str = r#"
[general]
seed = 21
stop_time = "20 min"
warmup = "3 min"

[[routers]]
role = "floodfill"
count = 6

[[routers]]
role = "router"
count = 54

[bootstrap]
warm_floodfills = true

[tunnels]
exploratory = true
"#;

fn run(text: &str) -> Simulated {
    let loaded = LoadedScenario::from_text(Path::new("tunnels.toml"), text.to_owned())
        .expect("valid scenario");
    simulate(&loaded, &mut ()).expect("runs")
}

#[test]
fn routers_keep_their_exploratory_tunnels_and_tests_pass() {
    let sim = run(NETWORK);
    let builds = sim.outcome.metrics.tunnel_builds();
    assert!(builds.len() > 100, "{} builds", builds.len());
    let built = builds.iter().filter(|b| b.is_built()).count();
    assert!(
        built as f64 / builds.len() as f64 > 0.98,
        "{built} of {} built",
        builds.len()
    );
    let samples = sim.outcome.metrics.tunnel_samples();
    let last = samples.last().expect("sampled");
    // 60 routers x 2 tunnels per direction.
    assert_eq!((last.inbound_tunnels, last.outbound_tunnels), (120, 120));
    // 240 tunnels x 2 hops, spread over the other routers.
    assert!(
        (last.participating_mean - 8.0).abs() < 1.0,
        "{}",
        last.participating_mean
    );
    let passed: u64 = samples.iter().map(|s| s.tests_passed).sum();
    let failed: u64 = samples.iter().map(|s| s.tests_failed).sum();
    assert!(
        passed > 500 && failed * 50 < passed,
        "{passed} passed, {failed} failed"
    );
}

#[test]
fn crashed_hops_make_builds_and_tests_fail_until_routers_route_around_them() {
    let text = format!(
        "{NETWORK}
[[events]]
at = \"8 min\"
action = \"crash\"
group = \"router\"
fraction = 0.3
"
    );
    let sim = run(&text);
    let samples = sim.outcome.metrics.tunnel_samples();
    let failed_at = |from: f64, to: f64| -> u64 {
        samples
            .iter()
            .filter(|s| s.time_s > from && s.time_s <= to)
            .map(|s| s.tests_failed)
            .sum()
    };
    assert!(
        failed_at(480.0, 660.0) > failed_at(300.0, 480.0),
        "tests fail after the crash"
    );
    // Ten minutes later every tunnel has been rebuilt through live routers.
    assert!(
        failed_at(1080.0, 1200.0) <= 2,
        "late failures: {}",
        failed_at(1080.0, 1200.0)
    );
    assert!(sim
        .outcome
        .metrics
        .tunnel_builds()
        .iter()
        .any(|b| b.outcome == "timed_out"));
}

#[test]
fn colluders_hold_both_ends_about_as_often_as_uniform_selection_predicts() {
    let text = format!(
        "{NETWORK}
[observers]
colluding_fraction = 0.2
"
    );
    let sim = run(&text);
    let c = sim.outcome.metrics.collusion().expect("colluders recorded");
    assert_eq!((c.routers, c.colluders), (60, 12));
    // 12 of 59 peers: 12/59 x 11/58, about 3.9%.
    assert!((c.expected_uniform - 0.0386).abs() < 0.001, "{c:?}");
    assert!(c.tunnels_built > 300, "{c:?}");
    // Exploratory hops come from the not-failing tier, nearly uniform over a healthy network:
    // the measured share stays within a few standard errors of the uniform one.
    let se = (c.expected_uniform * (1.0 - c.expected_uniform) / c.tunnels_built as f64).sqrt();
    assert!(
        (c.fraction - c.expected_uniform).abs() < 4.0 * se,
        "{c:?}, standard error {se}"
    );
    // Every colluder joins tunnels and sees its neighbours.
    assert!(c.observations > 100, "{c:?}");
}

#[test]
fn destinations_publish_find_each_other_and_exchange_messages() {
    let text = format!(
        "{NETWORK}
[clients]
destinations = 10
messages_per_destination_hour = 120
"
    );
    let sim = run(&text);
    let deliveries = sim.outcome.metrics.deliveries();
    // Once the client tunnels and LeaseSets are in place (10 minutes in), requests and
    // replies go through: Alice's outbound tunnel, Bob's inbound tunnel, and back.
    let late: Vec<_> = deliveries.iter().filter(|d| d.time_s > 600.0).collect();
    let delivered = late.iter().filter(|d| d.is_delivered()).count();
    assert!(late.len() > 100, "{} messages", late.len());
    assert!(
        delivered as f64 / late.len() as f64 > 0.8,
        "{delivered} of {} delivered",
        late.len()
    );
    assert!(late.iter().any(|d| d.kind == "reply" && d.is_delivered()));
    // The DeliveryStatus clove comes back to the sender for nearly every delivered message,
    // after about one more crossing of the tunnels.
    let confirmed = late.iter().filter(|d| d.confirmed_ms.is_some()).count();
    assert!(
        confirmed * 10 >= delivered * 9,
        "{confirmed} of {delivered} confirmed"
    );
    assert!(late
        .iter()
        .filter_map(|d| Some((d.latency_ms?, d.confirmed_ms?)))
        .all(|(delivered, confirmed)| confirmed > delivered));
    // Seven tunnel hops and a few links each way: hundreds of milliseconds, not seconds.
    let mut latency: Vec<f64> = late.iter().filter_map(|d| d.latency_ms).collect();
    latency.sort_by(f64::total_cmp);
    let median = latency[latency.len() / 2];
    assert!((50.0..3000.0).contains(&median), "median {median} ms");
}

#[test]
fn a_chosen_group_of_colluders_is_measured_against_its_uniform_share() {
    let text = format!(
        "{NETWORK}
[[routers]]
name = \"watchers\"
role = \"router\"
count = 10

[observers]
groups = [\"watchers\"]
"
    );
    let sim = run(&text);
    let c = sim.outcome.metrics.collusion().expect("colluders recorded");
    assert_eq!((c.routers, c.colluders), (70, 10));
    assert!(c.tunnels_built > 300 && c.observations > 50, "{c:?}");
}
