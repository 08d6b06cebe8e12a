//! Parsing and checking scenarios.

use super::netdb::MINUTE;
use super::*;
use ramsons_router::profile::{HopOrder, SelectionRules, Tier};

const MINIMAL: &str = r#"
[general]
seed = 7
stop_time = "10 min"

[[routers]]
role = "floodfill"
count = 3

[[routers]]
role = "router"
count = 10
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(text, Path::new("test.toml"))
}

#[test]
fn adversaries_become_router_groups() {
    let clients = "[tunnels]\nexploratory = true\n[clients]\ndestinations = 2\n";
    let text = format!(
        "{MINIMAL}\n{clients}\n[[adversaries]]\nkind = \"sybil-floodfill\"\ncount = 4\n\
         target = \"destination:1\"\nrefuse = true\n\n[[adversaries]]\nkind = \"predecessor\"\n\
         name = \"spies\"\ncount = 3\nvictim = \"destination:0\"\n"
    );
    let s = parse(&text).expect("valid adversaries");
    let sybils = s.group_index("sybil-floodfill").expect("group");
    assert_eq!(s.routers[sybils].role, Role::Floodfill);
    assert_eq!(
        s.behaviour_of(sybils),
        Some(&Behaviour::SybilFloodfill {
            target: 1,
            day: 1,
            prefix_bits: 8,
            refuse: true
        })
    );
    let spies = s.group_index("spies").expect("group");
    assert_eq!(
        s.behaviour_of(spies),
        Some(&Behaviour::Predecessor { victim: 0 })
    );
    assert_eq!(s.behaviour_of(0), None);

    for (bad, field) in [
        ("target = \"destination:1\"", "adversaries[0].target"),
        ("count = 4", "adversaries[0].count"),
        ("refuse = true", "adversaries[0].refuse"),
    ] {
        let replacement = match field {
            "adversaries[0].target" => "target = \"destination:5\"",
            "adversaries[0].count" => "count = 0",
            _ => "refuse = true\nvictim = \"destination:0\"",
        };
        let err = parse(&text.replacen(bad, replacement, 1))
            .expect_err(field)
            .to_string();
        let expected = if field.ends_with("refuse") {
            "adversaries[0].victim"
        } else {
            field
        };
        assert!(err.contains(expected), "{err}");
    }
    let twice = text
        .replace(
            "kind = \"predecessor\"",
            "kind = \"sybil-floodfill\"\ntarget = \"destination:0\"",
        )
        .replace("victim = \"destination:0\"\n", "");
    let err = parse(&twice).expect_err("two Sybil entries").to_string();
    assert!(err.contains("adversaries[1].kind"), "{err}");
    let err = parse(&text.replace("name = \"spies\"", "name = \"router\""))
        .expect_err("name clash")
        .to_string();
    assert!(err.contains("adversaries[1].name"), "{err}");
}

const FLOODER: &str =
    "\n[[adversaries]]\nkind = \"flooder\"\ncount = 2\nvictims = 2\nlookups_per_min = 60\n";

#[test]
fn flooders_parse_with_defaults() {
    let s = parse(&format!("{MINIMAL}{FLOODER}")).expect("valid flooder");
    let g = s.group_index("flooder").expect("group");
    assert_eq!(s.routers[g].role, Role::Router);
    assert_eq!(
        s.behaviour_of(g),
        Some(&Behaviour::Flooder(Flood {
            targets: FloodTargets::Floodfills,
            victims: Some(2),
            rates: FloodRates {
                lookups_per_min: 60.0,
                ..FloodRates::default()
            },
            flood_start: Duration::ZERO,
        }))
    );
    let s = parse(&format!(
        "{MINIMAL}{FLOODER}targets = \"router\"\nflood_start = \"2 min\"\n"
    ))
    .expect("a group as target");
    let Some(Behaviour::Flooder(flood)) = s.behaviour_of(2) else {
        panic!("flooder");
    };
    assert_eq!(flood.targets, FloodTargets::Group("router".into()));
    assert_eq!(flood.flood_start, Duration::from_secs(120));
}

#[test]
fn flooder_errors_name_the_field() {
    let flooder = format!("{MINIMAL}{FLOODER}");
    for (change, field) in [
        ("lookups_per_min = 0", "adversaries[0].kind"),
        ("lookups_per_min = -1", "adversaries[0].lookups_per_min"),
        ("lookups_per_min = 1e9", "adversaries[0].lookups_per_min"),
        (
            "lookups_per_min = 60\nvictims = 0",
            "adversaries[0].victims",
        ),
        (
            "lookups_per_min = 60\nvictims = 4",
            "adversaries[0].victims",
        ),
        (
            "lookups_per_min = 60\ntargets = \"nobody\"",
            "adversaries[0].targets",
        ),
        (
            "lookups_per_min = 60\ntargets = \"flooder\"",
            "adversaries[0].targets",
        ),
        ("builds_per_min = 60", "adversaries[0].builds_per_min"),
        (
            "lookups_per_min = 60\nflood_start = \"11 min\"",
            "adversaries[0].flood_start",
        ),
        (
            "lookups_per_min = 60\nvictim = \"destination:0\"",
            "adversaries[0].victim",
        ),
    ] {
        let text = flooder
            .replace("victims = 2\n", "")
            .replace("lookups_per_min = 60", change);
        let err = parse(&text).expect_err(change).to_string();
        assert!(err.contains(field), "{change}: {err}");
    }
    let sybil = format!(
        "{MINIMAL}[tunnels]\nexploratory = true\n[clients]\ndestinations = 1\n\
         [[adversaries]]\nkind = \"sybil-floodfill\"\ncount = 1\ntarget = \"destination:0\"\n\
         lookups_per_min = 5\n"
    );
    let err = parse(&sybil).expect_err("not a flooder").to_string();
    assert!(err.contains("adversaries[0].lookups_per_min"), "{err}");
}

#[test]
fn mitigation_keys_set_or_turn_off_each_one() {
    let text = format!(
        "{MINIMAL}[netdb]\nlookup_limit_per_min = 0\nstore_limit_per_min = 30\n\
         ignore_unsolicited_floodfills = true\nmax_router_infos = 0\nmax_lease_sets = 500\n\
         [tunnels]\nexploratory = true\nbuild_requests_per_hop_per_min = 10\nbuild_accept_per_min = 0\n"
    );
    let s = parse(&text).expect("valid mitigations");
    let netdb = s.netdb_config();
    assert_eq!(netdb.lookup_limit, None);
    let store = netdb.store_limit.expect("on");
    assert_eq!((store.max, store.window), (30, MINUTE));
    assert_eq!(
        store.tracked_peers,
        NetDbConfig::default()
            .store_limit
            .expect("default")
            .tracked_peers
    );
    assert!(netdb.ignore_unsolicited_floodfills);
    assert_eq!(netdb.max_router_infos, None);
    assert_eq!(netdb.max_lease_sets, Some(500));
    let tunnels = s.tunnels.config().expect("on");
    assert_eq!(tunnels.build_requests_per_hop.map(|l| l.max), Some(10));
    assert_eq!(tunnels.build_accept_rate, None);
    // Unset keys keep the defaults.
    let defaults = parse(MINIMAL).expect("valid").netdb_config();
    assert_eq!(defaults, NetDbConfig::default());
}

#[test]
fn tier_capture_takes_its_own_fields() {
    let entry = "[tunnels]\nexploratory = true\n[clients]\ndestinations = 1\n\n\
                 [[adversaries]]\nkind = \"tier-capture\"\ncount = 5\nvictim = \"destination:0\"\n";
    let s = parse(&format!("{MINIMAL}\n{entry}")).expect("valid");
    let group = s.group_index("tier-capture").expect("group");
    assert_eq!(s.routers[group].role, Role::Router);
    assert_eq!(
        s.behaviour_of(group),
        Some(&Behaviour::TierCapture {
            victim: 0,
            accept_all: true,
            degrade: None
        })
    );
    let s = parse(&format!(
        "{MINIMAL}\n{entry}accept_all = false\ndegrade = \"5 min\"\n"
    ))
    .expect("valid");
    assert_eq!(
        s.behaviour_of(group),
        Some(&Behaviour::TierCapture {
            victim: 0,
            accept_all: false,
            degrade: Some(Duration::from_secs(300))
        })
    );
    // "0 s" turns degrading off, so that sweeps can compare.
    let s = parse(&format!("{MINIMAL}\n{entry}degrade = \"0 s\"\n")).expect("valid");
    assert!(matches!(
        s.behaviour_of(group),
        Some(Behaviour::TierCapture { degrade: None, .. })
    ));
    for (extra, field) in [
        ("refuse = true\n", "adversaries[0].refuse"),
        ("degrade = \"soon\"\n", "degrade"),
    ] {
        let err = parse(&format!("{MINIMAL}\n{entry}{extra}"))
            .expect_err(field)
            .to_string();
        assert!(err.contains(field), "{err}");
    }
    let err = parse(&format!("{MINIMAL}\n{entry}").replace("victim = \"destination:0\"\n", ""))
        .expect_err("no victim")
        .to_string();
    assert!(err.contains("adversaries[0].victim"), "{err}");
}

#[test]
fn minimal_scenario_gets_defaults() {
    let s = parse(MINIMAL).expect("valid scenario");
    assert_eq!(s.general.seed, 7);
    assert_eq!(s.network.latency.0, Duration::from_millis(50));
    assert_eq!(s.bootstrap.reseed_routers, 75);
    assert_eq!(s.routers[1].name(), "router");
    assert_eq!(s.metrics.record, Metric::all());
}

#[test]
fn bad_unit_names_the_file_field_and_expected_form() {
    let text = MINIMAL.replace("stop_time = \"10 min\"", "stop_time = \"ten minutes\"");
    let err = parse(&text).expect_err("bad duration").to_string();
    assert!(err.contains("test.toml"), "{err}");
    assert!(err.contains("stop_time"), "{err}");
    assert!(err.contains("expected a duration"), "{err}");
}

#[test]
fn selection_overrides_only_the_fields_it_sets() {
    let text = format!(
        "{MINIMAL}\n[tunnels]\nexploratory = true\nselection = {{ order = \"xor\" }}\n\
         [clients]\ndestinations = 2\nselection = {{ tier = \"high-capacity\", order = \"fixed-edge\", distinct_slash16 = false }}\n"
    );
    let s = parse(&text).expect("valid scenario");
    let exploratory = s.tunnels.config().expect("on").exploratory_selection;
    assert_eq!(
        exploratory,
        SelectionRules {
            order: HopOrder::Xor,
            ..SelectionRules::exploratory()
        }
    );
    let client = s.clients.selection.over(SelectionRules::client());
    assert_eq!(
        client,
        SelectionRules {
            tier: Tier::HighCapacity,
            order: HopOrder::FixedEdge,
            distinct_slash16: false,
            ..SelectionRules::client()
        }
    );
    let bad = text.replace("\"fixed-edge\"", "\"sideways\"");
    let err = parse(&bad).expect_err("unknown order").to_string();
    assert!(err.contains("sideways"), "{err}");
}

#[test]
fn multihomed_destinations_parse_and_are_checked() {
    let clients = "[tunnels]\nexploratory = true\n[clients]\ndestinations = 3\n";
    let entry = "multihomed = [{ destination = 1, routers = 4 }]\n";
    let s = parse(&format!("{MINIMAL}{clients}{entry}")).expect("valid multihoming");
    assert_eq!(
        s.clients.multihomed,
        [Multihomed {
            destination: 1,
            routers: 4,
            shared_gateways: 0,
            mode: MultihomingMode::Naive,
        }]
    );
    let balanced = "multihomed = [{ destination = 1, routers = 2, mode = \"balancer\" }]\n";
    let b = parse(&format!(
        "{MINIMAL}{clients}sticky_leases = true\n{balanced}"
    ))
    .expect("a balanced destination");
    assert_eq!(b.clients.multihomed[0].mode, MultihomingMode::Balancer);
    let meta = "multihomed = [{ destination = 1, routers = 3, mode = \"meta\" }]\n";
    let m = parse(&format!("{MINIMAL}{clients}{meta}")).expect("a meta destination");
    assert_eq!(m.clients.multihomed[0].mode, MultihomingMode::Meta);
    assert_eq!((s.clients.hosts_of(1), s.clients.hosts_of(0)), (4, 1));
    assert_eq!(s.clients.hosting_routers(), 6);
    for (bad, field) in [
        (
            "multihomed = [{ destination = 3, routers = 2 }]",
            "clients.multihomed[0].destination",
        ),
        (
            "multihomed = [{ destination = 0, routers = 0 }]",
            "clients.multihomed[0].routers",
        ),
        (
            "multihomed = [{ destination = 0, routers = 2 }, { destination = 0, routers = 3 }]",
            "clients.multihomed[1].destination",
        ),
        // 3 destinations + 8 further routers > 10 routers.
        (
            "multihomed = [{ destination = 0, routers = 9 }]",
            "clients.multihomed",
        ),
        (
            "multihomed = [{ destination = 0, routers = 4, shared_gateways = 5 }]",
            "clients.multihomed",
        ),
        (
            "multihomed = [{ destination = 0, routers = 2, shared_gateways = 17 }]",
            "clients.multihomed[0].shared_gateways",
        ),
        ("multihomed = [{ destination = 0, router = 2 }]", "router"),
        // Balanced without sticky leases.
        (
            "multihomed = [{ destination = 0, routers = 2, mode = \"balancer\" }]",
            "sticky_leases",
        ),
        (
            "multihomed = [{ destination = 0, routers = 2, mode = \"anycast\" }]",
            "anycast",
        ),
    ] {
        let err = parse(&format!("{MINIMAL}{clients}{bad}\n"))
            .expect_err(bad)
            .to_string();
        assert!(err.contains(field), "{bad}: {err}");
    }
}

#[test]
fn observer_groups_must_exist() {
    let text = format!("{MINIMAL}\n[observers]\ngroups = [\"spies\"]\n");
    let err = parse(&text).expect_err("unknown group").to_string();
    assert!(err.contains("observers.groups[0]"), "{err}");
}

#[test]
fn unknown_field_is_an_error() {
    let text = MINIMAL.replace("seed = 7", "seed = 7\nsede = 8");
    let err = parse(&text).expect_err("typo").to_string();
    assert!(err.contains("sede"), "{err}");
}

#[test]
fn semantic_errors_name_the_field() {
    let text = format!("{MINIMAL}\n[[events]]\nat = \"1 min\"\naction = \"withdraw\"\ngroup = \"nobody\"\nfraction = 0.5\n");
    let err = parse(&text).expect_err("unknown group").to_string();
    assert!(err.contains("events[0].group"), "{err}");

    let text = MINIMAL.replace("role = \"floodfill\"", "role = \"router\"\nname = \"r2\"");
    let err = parse(&text).expect_err("no floodfills").to_string();
    assert!(err.contains("floodfill"), "{err}");
}

#[test]
fn events_parse_by_action() {
    let text = format!(
        "{MINIMAL}
[[events]]
at = \"2 min\"
action = \"crash\"
group = \"router\"
count = 2
down = \"1 min\"

[[events]]
at = \"3 min\"
action = \"partition\"
fraction = 0.5

[[events]]
at = \"4 min\"
action = \"heal\"
"
    );
    let s = parse(&text).expect("valid events");
    assert!(matches!(
        s.events[0].action,
        Action::Crash { down: Some(_), .. }
    ));
    assert!(matches!(
        s.events[1].action,
        Action::Partition(PartitionSide::Fraction(_))
    ));
    assert!(matches!(s.events[2].action, Action::Heal));
}

#[test]
fn link_verbs_take_two_groups() {
    let event = |action: &str, rest: &str| {
        format!("{MINIMAL}\n[[events]]\nat = \"1 min\"\naction = \"{action}\"\n{rest}\n")
    };
    let between = "between = [\"floodfill\", \"router\"]";
    for (action, verb) in [
        ("partition", LinkVerb::Partition),
        ("repair", LinkVerb::Repair),
        ("hold", LinkVerb::Hold),
        ("release", LinkVerb::Release),
    ] {
        let s = parse(&event(action, between)).expect("a valid link event");
        let Action::Link { verb: got, between } = &s.events[0].action else {
            panic!("{action}: not a link event");
        };
        assert_eq!(*got, verb);
        assert_eq!(between, &["floodfill".to_owned(), "router".to_owned()]);
    }
    for (action, rest, says) in [
        ("hold", "", "needs `between`"),
        ("heal", between, "does not take `between`"),
        ("hold", "between = [\"router\"]", "exactly two groups"),
        (
            "partition",
            &format!("{between}\nfraction = 0.5"),
            "no field but",
        ),
        (
            "release",
            "between = [\"router\", \"nobody\"]",
            "events[0].between",
        ),
    ] {
        let err = parse(&event(action, rest)).expect_err(action).to_string();
        assert!(err.contains(says), "{action} {rest}: {err}");
    }
}
