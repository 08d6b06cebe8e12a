//! Tunnels end to end: routers build, test and use exploratory tunnels through each
//! other in virtual time, with real build records and real layered encryption.

#[path = "../support/net.rs"]
mod net;

use net::{Net, NOON};
use ramsons_router::data::Hash;
use ramsons_router::i2np::message_type;
use ramsons_router::netdb::{NetDbConfig, NetDbEvent};
use ramsons_router::time::Instant;
use ramsons_router::tunnel::{BuildOutcome, TunnelConfig, TunnelEvent};
use ramsons_router::RouterConfig;
use std::collections::BTreeSet;
use std::time::Duration;

/// Everyone knows everyone; tunnels on; netDb timers far away so they stay quiet.
fn network(routers: usize, seed: u64, config: impl Fn(usize) -> TunnelConfig) -> Net {
    network_at(Instant::from_secs(NOON), routers, seed, config)
}

/// [`network`] with the clock starting at `start`.
fn network_at(
    start: Instant,
    routers: usize,
    seed: u64,
    config: impl Fn(usize) -> TunnelConfig,
) -> Net {
    let mut net = Net::starting_at(start, 2, routers - 2, seed, |i| RouterConfig {
        tunnels: Some(config(i)),
        netdb: NetDbConfig {
            explore_interval_fast: Duration::from_secs(3600),
            explore_interval_slow: Duration::from_secs(3600),
            ..NetDbConfig::default()
        },
        ..RouterConfig::default()
    });
    for i in 0..routers {
        net.introduce(i, 0..routers);
    }
    net
}

fn builds(net: &Net, router: usize) -> Vec<BuildOutcome> {
    net.tunnel_events
        .iter()
        .filter(|(_, r, _)| *r == router)
        .filter_map(|(_, _, e)| match e {
            TunnelEvent::BuildFinished { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect()
}

fn tests(net: &Net, router: usize) -> (usize, usize) {
    let results: Vec<bool> = net
        .tunnel_events
        .iter()
        .filter(|(_, r, _)| *r == router)
        .filter_map(|(_, _, e)| match e {
            TunnelEvent::TestFinished { passed, .. } => Some(*passed),
            _ => None,
        })
        .collect();
    let passed = results.iter().filter(|p| **p).count();
    (passed, results.len() - passed)
}

#[test]
fn every_router_builds_and_tests_its_exploratory_tunnels() {
    let mut net = network(10, 1, |_| TunnelConfig::default());
    net.run_for(Duration::from_secs(180));
    for i in 0..10 {
        let tunnels = net.routers[i].tunnels().expect("enabled");
        assert_eq!(tunnels.own_tunnels(), (2, 2), "router {i}");
        assert!(
            builds(&net, i).iter().all(|o| *o == BuildOutcome::Built),
            "router {i}: {:?}",
            builds(&net, i)
        );
        let (passed, failed) = tests(&net, i);
        assert!(
            passed >= 2 && failed == 0,
            "router {i}: {passed} passed, {failed} failed"
        );
    }
    let participating: usize = (0..10)
        .map(|i| net.routers[i].tunnels().expect("enabled").participating())
        .sum();
    // 10 routers x 4 tunnels x 2 hops.
    assert_eq!(participating, 80);
    let transit: u64 = (0..10)
        .map(|i| {
            net.routers[i]
                .tunnels()
                .expect("enabled")
                .transit_messages()
        })
        .sum();
    assert!(transit > 0, "tunnel tests crossed other routers");
}

#[test]
fn tunnels_are_rebuilt_before_they_expire() {
    let mut net = network(8, 2, |_| TunnelConfig::default());
    net.run_for(Duration::from_secs(25 * 60));
    for i in 0..8 {
        assert_eq!(
            net.routers[i].tunnels().expect("enabled").own_tunnels(),
            (2, 2)
        );
        let built = builds(&net, i)
            .iter()
            .filter(|o| **o == BuildOutcome::Built)
            .count();
        // 4 tunnels at a time, each replaced about every 8.5 minutes: three generations.
        assert!(built >= 12, "router {i} built {built} tunnels");
    }
}

#[test]
fn a_rejecting_router_costs_a_rebuild_with_other_peers() {
    // Router 3 takes part in nobody's tunnels.
    let mut net = network(10, 3, |i| TunnelConfig {
        max_participating: if i == 3 { 0 } else { 2000 },
        ..TunnelConfig::default()
    });
    net.run_for(Duration::from_secs(180));
    let refuser = net.hash(3);
    let mut rejections = 0;
    for i in 0..10 {
        let outcomes = builds(&net, i);
        rejections += outcomes
            .iter()
            .filter(|o| matches!(o, BuildOutcome::Rejected { .. }))
            .count();
        assert_eq!(
            net.routers[i].tunnels().expect("enabled").own_tunnels(),
            (2, 2)
        );
    }
    assert!(rejections > 0, "someone asked router 3");
    // Those who asked it remember: it rejected and is not failing.
    let asked: Vec<_> = (0..10)
        .filter_map(|i| net.routers[i].profiles().get(&refuser))
        .collect();
    assert!(!asked.is_empty());
    assert_eq!(
        net.routers[3].tunnels().expect("enabled").participating(),
        0
    );
}

#[test]
fn builds_through_a_dead_router_time_out_and_are_retried() {
    let mut net = network(10, 4, |_| TunnelConfig::default());
    net.down.insert(5);
    net.run_for(Duration::from_secs(240));
    let mut timeouts = 0;
    for i in (0..10).filter(|i| *i != 5) {
        timeouts += builds(&net, i)
            .iter()
            .filter(|o| **o == BuildOutcome::TimedOut)
            .count();
        assert_eq!(
            net.routers[i].tunnels().expect("enabled").own_tunnels(),
            (2, 2),
            "router {i}"
        );
    }
    assert!(timeouts > 0);
}

/// When the transport says the first hop is unreachable, the build fails at once and
/// the pool builds anew, instead of waiting out the build timeout.
#[test]
fn an_unreachable_first_hop_fails_the_build_at_once() {
    let mut net = network(10, 4, |_| TunnelConfig::default());
    net.down.insert(5);
    net.refuse_down = true;
    net.run_for(Duration::from_secs(240));
    let dead = net.hash(5);
    let mut early = 0;
    for (at, i, event) in net.tunnel_events.iter().filter(|(_, i, _)| *i != 5) {
        if let TunnelEvent::BuildFinished {
            outcome: BuildOutcome::TimedOut,
            started,
            hops,
            ..
        } = event
        {
            assert!(
                hops.contains(&dead),
                "router {i}: a build without 5 timed out"
            );
            if at.saturating_duration_since(*started) < Duration::from_secs(1) {
                early += 1;
            }
        }
    }
    assert!(early > 0, "no build failed before its timeout");
    for i in (0..10).filter(|i| *i != 5) {
        assert_eq!(
            net.routers[i].tunnels().expect("enabled").own_tunnels(),
            (2, 2),
            "router {i}"
        );
    }
}

#[test]
fn lookups_go_out_and_come_back_through_exploratory_tunnels() {
    let mut net = network(10, 4, |_| TunnelConfig::default());
    net.run_for(Duration::from_secs(120));
    let asker = 7;
    let target = net.hash(5);
    let asked_at = net.now;
    net.lookup(asker, target);
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.client_lookups(asker), vec![(true, 1, 0)]);
    // The floodfill saw the lookup arrive from an outbound endpoint, not from the asker.
    let received: Vec<Hash> = net
        .events
        .iter()
        .filter(|(at, _, _)| *at >= asked_at)
        .filter_map(|(_, _, e)| match e {
            NetDbEvent::LookupReceived { key, from, .. } if *key == target => Some(*from),
            _ => None,
        })
        .collect();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_ne!(received[0], net.hash(asker));
    // Inbound gateways only ever pushed garlic (build replies, netDb answers) and tunnel
    // tests into their tunnels: never a readable build reply, search reply or entry.
    let seen: BTreeSet<u8> = net.gateway_payloads.iter().copied().collect();
    assert!(seen.contains(&message_type::GARLIC), "{seen:?}");
    for readable in [
        message_type::OUTBOUND_TUNNEL_BUILD_REPLY,
        message_type::DATABASE_SEARCH_REPLY,
        message_type::DATABASE_STORE,
    ] {
        assert!(!seen.contains(&readable), "gateways saw type {readable}");
    }
}

#[test]
fn a_hidden_destination_is_reached_by_its_b33_address_by_authorised_clients_only() {
    use ramsons_router::client::{ClientEvent, HiddenDestination, LeaseSetEncryption, SendFailure};
    use ramsons_router::crypto::blinding::BlindedPublicKey;
    use ramsons_router::crypto::DestinationKeys;
    use ramsons_router::data::{ClientAuthorization, ClientKey};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    let mut net = network(10, 5, |_| TunnelConfig::default());
    net.run_for(Duration::from_secs(60));
    let (server, alice_router, mallory_router) = (8, 9, 7);
    let now = net.now;
    let keys = |seed| DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(seed));
    let hidden_keys = keys(77);
    let psk = [5u8; 32];
    let encryption = LeaseSetEncryption {
        secret: b"pw".to_vec(),
        auth: ClientAuthorization::Psk(vec![psk]),
    };
    let hidden = net.routers[server]
        .add_hidden_destination(now, hidden_keys.clone(), encryption)
        .expect("tunnels on");
    let alice = net.routers[alice_router]
        .add_destination(now, keys(78))
        .expect("tunnels on");
    let mallory = net.routers[mallory_router]
        .add_destination(now, keys(79))
        .expect("tunnels on");
    for i in [server, alice_router, mallory_router] {
        net.drain(i);
    }
    net.run_for(Duration::from_secs(60));

    // The floodfills hold the encrypted LeaseSet under today's storage key, and nothing
    // under the destination's hash.
    let address = net.routers[server]
        .clients()
        .b33_address(hidden)
        .expect("a hidden destination");
    assert!(address.secret_required() && address.per_client_auth());
    let date = net.now.utc_date_string();
    let storage_key = BlindedPublicKey::of_address(&address, &date, b"pw")
        .expect("a valid key")
        .storage_key();
    let floodfills = [0, 1];
    let holders = floodfills
        .iter()
        .filter(|i| {
            let netdb = net.routers[**i].netdb();
            assert!(netdb
                .lease_sets()
                .get(&hidden_keys.hash(), net.now)
                .is_none());
            netdb
                .encrypted_lease_sets()
                .get(&storage_key, net.now)
                .is_some()
        })
        .count();
    assert!(holders >= 1, "published to the floodfills");

    let to = HiddenDestination {
        address,
        secret: b"pw".to_vec(),
        client_key: Some(ClientKey::Psk(psk)),
    };
    let now = net.now;
    net.routers[alice_router]
        .send_hidden(now, alice, &to, 1, b"hello".to_vec())
        .expect("a local destination");
    net.drain(alice_router);
    let outsider = HiddenDestination {
        client_key: None,
        ..to.clone()
    };
    net.routers[mallory_router]
        .send_hidden(now, mallory, &outsider, 2, b"let me in".to_vec())
        .expect("a local destination");
    net.drain(mallory_router);
    net.run_for(Duration::from_secs(30));

    let received: Vec<&[u8]> = net
        .client_events
        .iter()
        .filter_map(|(_, r, e)| match e {
            ClientEvent::Received { payload, .. } if *r == server => Some(payload.as_slice()),
            _ => None,
        })
        .collect();
    assert_eq!(received, [b"hello".as_slice()]);
    let delivered = net.client_events.iter().any(|(_, r, e)| {
        *r == alice_router && matches!(e, ClientEvent::Delivered { reference: 1, .. })
    });
    assert!(delivered, "alice's message was confirmed");
    let refused = net.client_events.iter().any(|(_, r, e)| {
        *r == mallory_router
            && matches!(
                e,
                ClientEvent::SendFailed {
                    reference: 2,
                    reason: SendFailure::NotAuthorised,
                    ..
                }
            )
    });
    assert!(refused, "mallory learns only that she is not authorised");
}

#[test]
fn a_hidden_destination_is_found_under_the_new_days_key_right_after_midnight() {
    use ramsons_router::client::{ClientEvent, HiddenDestination, LeaseSetEncryption};
    use ramsons_router::crypto::blinding::BlindedPublicKey;
    use ramsons_router::crypto::DestinationKeys;
    use ramsons_router::data::ClientAuthorization;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    let midnight = Instant::from_secs(NOON).next_utc_midnight();
    let mut net = network_at(midnight - Duration::from_secs(240), 10, 6, |_| {
        TunnelConfig::default()
    });
    net.run_for(Duration::from_secs(60));
    let (server, alice_router) = (8, 9);
    let now = net.now;
    let keys = |seed| DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(seed));
    let encryption = LeaseSetEncryption {
        secret: Vec::new(),
        auth: ClientAuthorization::Everybody,
    };
    let hidden = net.routers[server]
        .add_hidden_destination(now, keys(80), encryption)
        .expect("tunnels on");
    let alice = net.routers[alice_router]
        .add_destination(now, keys(81))
        .expect("tunnels on");
    net.drain(server);
    net.drain(alice_router);
    let address = net.routers[server]
        .clients()
        .b33_address(hidden)
        .expect("a hidden destination");
    let storage_key = |at: Instant| {
        BlindedPublicKey::of_address(&address, &at.utc_date_string(), b"")
            .expect("a valid key")
            .storage_key()
    };
    let held = |net: &Net, key| {
        [0, 1].iter().any(|i| {
            let netdb = net.routers[*i].netdb();
            netdb.encrypted_lease_sets().get(&key, net.now).is_some()
        })
    };
    net.run_until(midnight - Duration::from_secs(10));
    let (today, tomorrow) = (storage_key(net.now), storage_key(midnight));
    assert!(held(&net, today) && !held(&net, tomorrow));

    // Well before the tunnels change (and with them the LeaseSet), the new day's key.
    net.run_until(midnight + Duration::from_secs(30));
    assert!(
        held(&net, tomorrow),
        "published again under the new day's key"
    );
    let to = HiddenDestination {
        address,
        secret: Vec::new(),
        client_key: None,
    };
    let now = net.now;
    net.routers[alice_router]
        .send_hidden(now, alice, &to, 1, b"happy new day".to_vec())
        .expect("a local destination");
    net.drain(alice_router);
    net.run_for(Duration::from_secs(20));
    let received = net.client_events.iter().any(|(_, r, e)| {
        *r == server
            && matches!(e, ClientEvent::Received { payload, .. } if payload == b"happy new day")
    });
    assert!(received);
}
