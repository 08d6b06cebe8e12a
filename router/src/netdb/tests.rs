//! The flood mitigations of the netDb: rate limits per sender, the unsolicited floodfill
//! filter and the table size limits.

use super::*;
use crate::crypto::{DestinationKeys, RouterKeys};
use crate::data::Mapping;
use rand::SeedableRng;
use std::num::NonZeroU32;

const NOW: Instant = Instant::from_secs(1_700_000_000);

fn peer(i: u32) -> Hash {
    let mut h = [0x55u8; 32];
    h[..4].copy_from_slice(&i.to_be_bytes());
    Hash(h)
}

fn floodfill(config: NetDbConfig) -> NetDb {
    NetDb::new(
        config,
        Hash([0xaa; 32]),
        2,
        true,
        NOW,
        ChaCha20Rng::seed_from_u64(1),
    )
}

fn limit(max: u32, tracked_peers: usize) -> Option<PeerRateLimit> {
    Some(PeerRateLimit {
        max,
        window: Duration::from_secs(60),
        tracked_peers,
    })
}

fn lookup(key: u32) -> MessageBody {
    MessageBody::DatabaseLookup(DatabaseLookup {
        key: peer(key),
        from: peer(0),
        kind: LookupKind::RouterInfo,
        reply_tunnel: None,
        exclude: Vec::new(),
        reply_encryption: ReplyEncryption::None,
    })
}

/// A RouterInfo of fresh keys, published at `NOW`, with `caps`.
fn router_info(seed: u64, caps: &str) -> Arc<RouterInfo> {
    let keys = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(seed));
    let mut options = Mapping::new();
    options.insert("caps", caps).expect("short");
    Arc::new(keys.sign_router_info(NOW.as_millis(), Vec::new(), options))
}

fn store_of(info: &Arc<RouterInfo>) -> MessageBody {
    MessageBody::DatabaseStore(DatabaseStore {
        key: info.hash(),
        reply: None,
        entry: StoreEntry::RouterInfo(info.clone()),
    })
}

/// Search replies (or entries) the netDb sent, drained.
fn answers(netdb: &mut NetDb) -> usize {
    let mut n = 0;
    while let Some(action) = netdb.poll_action() {
        n += usize::from(matches!(action, Action::Send { .. }));
    }
    n
}

#[test]
fn a_lookup_flood_from_one_sender_is_limited_and_others_are_answered() {
    let mut netdb = floodfill(NetDbConfig {
        lookup_limit: limit(5, 100),
        ..NetDbConfig::default()
    });
    for i in 0..20 {
        assert!(netdb.handle_message(NOW, peer(1), lookup(i)).is_none());
    }
    assert_eq!(answers(&mut netdb), 5);
    for i in 0..4 {
        let _ = netdb.handle_message(NOW, peer(2), lookup(i));
    }
    assert_eq!(answers(&mut netdb), 4, "an honest sender below the limit");
    let load = netdb.load();
    assert_eq!(load.lookups_limited, 15);
    assert_eq!(load.lookups_answered, 9);
    assert_eq!(load.peak_lookups_per_peer, 20);

    let _ = netdb.handle_message(NOW + Duration::from_secs(60), peer(1), lookup(0));
    assert_eq!(answers(&mut netdb), 1, "answered again in the next window");
}

#[test]
fn lookups_from_many_senders_are_answered_in_bounded_memory() {
    let mut netdb = floodfill(NetDbConfig {
        lookup_limit: limit(2, 50),
        ..NetDbConfig::default()
    });
    for i in 0..5_000 {
        let _ = netdb.handle_message(NOW, peer(i), lookup(i));
        assert!(netdb.load().limited_peers <= 50);
    }
    assert_eq!(answers(&mut netdb), 5_000);
    assert_eq!(netdb.load().lookups_limited, 0);
}

#[test]
fn without_a_limit_every_lookup_is_answered() {
    let mut netdb = floodfill(NetDbConfig {
        lookup_limit: None,
        ..NetDbConfig::default()
    });
    for i in 0..300 {
        let _ = netdb.handle_message(NOW, peer(1), lookup(i));
    }
    assert_eq!(answers(&mut netdb), 300);
    assert_eq!(netdb.load().limited_peers, 0);
}

#[test]
fn a_store_flood_from_one_sender_is_limited_but_answers_to_our_lookups_are_not() {
    let mut netdb = floodfill(NetDbConfig {
        store_limit: limit(3, 100),
        ..NetDbConfig::default()
    });
    // A floodfill for our lookup to wait on.
    netdb.add_bootstrap(NOW, [router_info(99, "XfR")]);
    let flood: Vec<_> = (0..10).map(|i| router_info(100 + i, "XR")).collect();
    for info in &flood {
        let _ = netdb.handle_message(NOW, peer(1), store_of(info));
    }
    assert_eq!(netdb.store().len(), 1 + 3);
    let honest = router_info(200, "OR");
    let _ = netdb.handle_message(NOW, honest.hash(), store_of(&honest));
    assert!(netdb.get(&honest.hash()).is_some(), "its own publication");

    // The answer to our own lookup, from the peer that is over its limit.
    let wanted = router_info(300, "OR");
    netdb.lookup(NOW, wanted.hash());
    let _ = netdb.handle_message(NOW, peer(1), store_of(&wanted));
    assert!(netdb.get(&wanted.hash()).is_some());
    let load = netdb.load();
    assert_eq!(load.stores_limited, 7);
    assert_eq!(load.stores_checked, 5);
}

#[test]
fn unsolicited_floodfill_router_infos_are_ignored_only_when_asked_to() {
    let fake = router_info(1, "XfR");
    let plain = router_info(2, "XR");
    let own = router_info(3, "XfR");
    for ignore in [false, true] {
        let mut netdb = floodfill(NetDbConfig {
            ignore_unsolicited_floodfills: ignore,
            ..NetDbConfig::default()
        });
        let _ = netdb.handle_message(NOW, peer(1), store_of(&fake));
        let _ = netdb.handle_message(NOW, peer(1), store_of(&plain));
        let _ = netdb.handle_message(NOW, own.hash(), store_of(&own));
        assert_eq!(netdb.get(&fake.hash()).is_some(), !ignore);
        assert!(netdb.get(&plain.hash()).is_some(), "not a floodfill");
        assert!(netdb.get(&own.hash()).is_some(), "the sender's own");
        assert_eq!(netdb.load().floodfill_infos_ignored, u64::from(ignore));

        // Asked for, it is taken from anyone.
        netdb.lookup(NOW, fake.hash());
        let _ = netdb.handle_message(NOW, peer(1), store_of(&fake));
        assert!(netdb.get(&fake.hash()).is_some());
    }
}

#[test]
fn the_router_info_limit_holds_under_a_flood_of_valid_router_infos() {
    let mut netdb = floodfill(NetDbConfig {
        max_router_infos: Some(20),
        store_limit: None,
        ..NetDbConfig::default()
    });
    let floodfills: Vec<_> = (0..5).map(|i| router_info(i, "XfR")).collect();
    netdb.add_bootstrap(NOW, floodfills.clone());
    for i in 0..100 {
        let _ = netdb.handle_message(NOW, peer(1), store_of(&router_info(1_000 + i, "OR")));
        assert!(netdb.store().len() <= 20);
    }
    assert!(
        floodfills.iter().all(|f| netdb.get(&f.hash()).is_some()),
        "floodfills are never evicted"
    );
    let load = netdb.load();
    assert_eq!(load.router_infos, 20);
    assert_eq!(load.router_infos_evicted, 85);
    assert_eq!(load.router_infos_refused, 0);
}

#[test]
fn the_lease_set_limit_refuses_new_destinations_but_takes_updates() {
    let mut table = LeaseSetTable::with_limit(Some(2));
    let now_s = NOW.as_secs() as u32;
    let keys: Vec<_> = (0..3)
        .map(|i| DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(i)))
        .collect();
    let ls = |k: &DestinationKeys, published: u32| {
        Arc::new(
            k.sign_lease_set(published, 600, Vec::new())
                .expect("no leases"),
        )
    };
    for k in &keys {
        table.store(&k.hash(), ls(k, now_s), NOW, true);
    }
    assert_eq!(table.len(), 2);
    assert_eq!(table.refused(), 1);
    assert_eq!(
        table.store(&keys[0].hash(), ls(&keys[0], now_s + 1), NOW, true),
        StoreOutcome::Updated
    );
    assert_eq!(
        table.store(&keys[2].hash(), ls(&keys[2], now_s), NOW, true),
        StoreOutcome::Rejected(Rejection::Full)
    );
}

#[test]
fn a_table_full_of_floodfills_refuses_newcomers_and_a_floodfill_evicts_a_router() {
    let me = Hash([0xaa; 32]);
    let max_age = Duration::from_secs(3600);
    let mut table = RouterInfoStore::new(me, 2).with_limit(Some(3));
    for i in 0..3 {
        let info = router_info(i, "XfR");
        assert_eq!(
            table.store(&info.hash(), info, NOW, max_age),
            StoreOutcome::New
        );
    }
    for caps in ["XfR", "OR"] {
        let info = router_info(10, caps);
        assert_eq!(
            table.store(&info.hash(), info, NOW, max_age),
            StoreOutcome::Rejected(Rejection::Full)
        );
    }
    assert_eq!(table.refused(), 2);

    let mut table = RouterInfoStore::new(me, 2).with_limit(Some(2));
    let router = router_info(20, "OR");
    let first = router_info(21, "XfR");
    table.store(&router.hash(), router.clone(), NOW, max_age);
    table.store(&first.hash(), first, NOW, max_age);
    let second = router_info(22, "XfR");
    assert_eq!(
        table.store(&second.hash(), second, NOW, max_age),
        StoreOutcome::New
    );
    assert!(!table.contains(&router.hash()), "the router made room");
    assert_eq!(
        (table.len(), table.floodfill_count(), table.evicted()),
        (2, 2, 1)
    );
}

/// A destination's store comes out of its outbound tunnel, garlic-wrapped: the router
/// that hands it to us is that tunnel's endpoint, which only passed it on and may well be
/// a floodfill close to the key. It gets the flood like any other floodfill; in a testnet
/// of three floodfills, skipping it left one of the other two without the LeaseSet.
#[test]
fn a_store_handed_over_by_a_floodfill_is_flooded_to_it_too() {
    let mut netdb = floodfill(NetDbConfig::default());
    let others = [router_info(1, "XfR"), router_info(2, "XfR")];
    netdb.add_bootstrap(NOW, others.clone());
    let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(7));
    let ls = keys
        .sign_lease_set(NOW.as_secs() as u32, 600, Vec::new())
        .expect("no leases");
    let store = MessageBody::DatabaseStore(DatabaseStore {
        key: keys.hash(),
        reply: Some(StoreReply {
            token: NonZeroU32::new(5).expect("not zero"),
            tunnel_id: 0,
            gateway: peer(9),
        }),
        entry: StoreEntry::LeaseSet2(Arc::new(ls)),
    });
    let endpoint = others[0].hash();
    assert!(netdb.handle_message(NOW, endpoint, store).is_none());
    let mut flooded_to = std::collections::BTreeSet::new();
    while let Some(action) = netdb.poll_action() {
        if let Action::Send {
            to,
            body: MessageBody::DatabaseStore(DatabaseStore { reply: None, .. }),
        } = action
        {
            flooded_to.insert(to);
        }
    }
    let floodfills = others.iter().map(|o| o.hash()).collect();
    assert_eq!(flooded_to, floodfills, "the endpoint included");
}

mod encrypted;

#[test]
fn a_floodfill_that_knows_no_other_holds_its_own_lease_sets() {
    let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(5));
    let ls = Arc::new(
        keys.sign_lease_set(NOW.as_secs() as u32, 600, Vec::new())
            .expect("no leases"),
    );
    let mut alone = floodfill(NetDbConfig::default());
    assert_eq!(
        alone.publish_lease_set(NOW, ls.clone(), &[]),
        OwnStore::Held
    );
    assert!(
        alone.lease_sets().get(&ls.hash(), NOW).is_some(),
        "served from here"
    );
    assert!(alone.poll_action().is_none(), "nothing sent");

    let mut plain = NetDb::new(
        NetDbConfig::default(),
        Hash([0xaa; 32]),
        2,
        false,
        NOW,
        ChaCha20Rng::seed_from_u64(1),
    );
    assert_eq!(plain.publish_lease_set(NOW, ls, &[]), OwnStore::NoFloodfill);
}
