//! The netDb end to end: several routers exchanging real messages in virtual time.
//!
//! `Net` is a minimal driver around the sans-IO contract (like quinn-proto's test pair):
//! messages take a fixed 10 ms, timers fire exactly when asked, and any router can be
//! made unreachable.

#[path = "../support/net.rs"]
mod net;

use net::{Net, NOON};
use ramsons_router::crypto::RouterKeys;
use ramsons_router::data::{Hash, Mapping, RouterInfo};
use ramsons_router::i2np::{
    DatabaseLookup, DatabaseStore, I2npMessage, LookupKind, MessageBody, ReplyEncryption,
    StoreEntry,
};
use ramsons_router::netdb::routing::{closest, routing_key};
use ramsons_router::netdb::{
    LookupAnswer, NetDbEvent, Purpose, Rejection, RouterInfoStore, StoreOutcome,
};
use ramsons_router::time::Instant;
use ramsons_router::{Event, Output};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn publication_is_stored_at_the_closest_floodfill_flooded_to_three_and_verified() {
    let mut net = Net::new(8, 1, 1);
    let all: Vec<usize> = (0..9).collect();
    for i in 0..9 {
        net.introduce(i, all.clone());
    }
    let publisher = 8;
    let me = net.hash(publisher);
    net.run_for(Duration::from_secs(90));

    // Stores of the publisher's RouterInfo, by the floodfill that received them.
    let stores: Vec<(usize, bool)> = net
        .events
        .iter()
        .filter_map(|(_, r, e)| match e {
            NetDbEvent::StoreReceived { key, flooded, .. } if *key == me => Some((*r, *flooded)),
            _ => None,
        })
        .collect();
    let floodfills: Vec<Hash> = (0..8).map(|i| net.hash(i)).collect();
    let order = closest(&routing_key(&me, net.now), &floodfills, 8);
    let direct: Vec<usize> = stores.iter().filter(|s| !s.1).map(|s| s.0).collect();
    assert_eq!(
        direct,
        [net.index(&order[0]).expect("known")],
        "stored at the closest floodfill"
    );
    let flooded: BTreeSet<usize> = stores.iter().filter(|s| s.1).map(|s| s.0).collect();
    let expected: BTreeSet<usize> = order[1..4].iter().filter_map(|h| net.index(h)).collect();
    assert_eq!(
        flooded, expected,
        "flooded to the 3 floodfills closest to the routing key"
    );

    let published: Vec<_> = net
        .events
        .iter()
        .filter_map(|(_, r, e)| match e {
            NetDbEvent::PublishFinished { failure, attempts } if *r == publisher => {
                Some((*failure, *attempts))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        published,
        [(None, 1)],
        "verified through another floodfill after one store"
    );
}

#[test]
fn iterative_lookup_follows_a_search_reply_to_a_closer_floodfill() {
    // 0 and 1 are floodfills; 2 is the target router; 3 looks it up knowing only 0.
    let mut net = Net::new(2, 2, 2);
    net.introduce(0, [1]);
    net.introduce(1, [2]);
    net.introduce(3, [0]);
    let target = net.hash(2);
    net.lookup(3, target);
    net.run_for(Duration::from_secs(2));
    assert_eq!(
        net.client_lookups(3),
        [(true, 2, 0)],
        "found at the second floodfill"
    );
    assert!(net.routers[3].netdb().get(&target).is_some());
    assert!(
        net.routers[3].netdb().get(&net.hash(1)).is_some(),
        "the suggested floodfill was fetched first"
    );
}

#[test]
fn lookup_gives_up_after_five_silent_peers() {
    let mut net = Net::new(7, 1, 3);
    net.introduce(7, 0..7);
    net.down.extend(0..7);
    let key = Hash([0x42; 32]);
    let started = net.now;
    net.lookup(7, key);
    net.run_for(Duration::from_secs(30));
    assert_eq!(net.client_lookups(7), [(false, 5, 5)]);
    let finished = net
        .events
        .iter()
        .find(|(_, _, e)| {
            matches!(
                e,
                NetDbEvent::LookupFinished {
                    purpose: Purpose::Client,
                    ..
                }
            )
        })
        .map(|(t, _, _)| *t)
        .expect("finished");
    assert_eq!(
        finished.saturating_duration_since(started),
        Duration::from_secs(15)
    );
}

#[test]
fn failing_floodfills_are_avoided_by_later_lookups() {
    let mut net = Net::new(4, 1, 4);
    net.introduce(4, 0..4);
    // A key nobody holds, so every lookup asks every usable floodfill.
    let key = Hash([0x17; 32]);
    let floodfills: Vec<Hash> = (0..4).map(|i| net.hash(i)).collect();
    let order = closest(&routing_key(&key, net.now), &floodfills, 4);
    let dead = net.index(&order[0]).expect("known");
    net.down.insert(dead);
    for _ in 0..4 {
        net.lookup(4, key);
        net.run_for(Duration::from_secs(15));
    }
    let results = net.client_lookups(4);
    assert_eq!(results.len(), 4);
    assert_eq!(
        results[0],
        (false, 4, 1),
        "the dead floodfill is asked first"
    );
    // Exploration and publishing may also time out on it; after three consecutive
    // failures it is set aside: asked only once the live floodfills have answered, as
    // the last resort of a lookup that found nothing.
    assert_eq!(results[3], (false, 4, 1), "{results:?}");
    let last_started = net.now - Duration::from_secs(15);
    let live_asked: Vec<Duration> = net
        .events
        .iter()
        .filter(|(t, r, e)| {
            *t >= last_started
                && *r != dead
                && matches!(e, NetDbEvent::LookupReceived { key: k, .. } if *k == key)
        })
        .map(|(t, _, _)| t.saturating_duration_since(last_started))
        .collect();
    assert_eq!(live_asked.len(), 3, "{live_asked:?}");
    assert!(
        live_asked.iter().all(|d| *d < Duration::from_secs(1)),
        "the live floodfills first, without waiting out the dead one: {live_asked:?}"
    );

    // The same observations feed the peer profiles.
    let profiles = net.routers[4].profiles();
    let dead_profile = profiles.get(&net.hash(dead)).expect("profiled");
    assert!(dead_profile.is_failing(net.now));
    assert_eq!(dead_profile.speed(), 0.0);
    let live = order.iter().skip(1).filter_map(|h| profiles.get(h));
    assert!(live.clone().count() == 3 && live.clone().all(|p| p.speed() > 0.0));
}

/// A router whose every floodfill failed for a while (it was cut off, or its lookups
/// went out through a tunnel whose hop was gone) still asks them: set aside means asked
/// last, not never. Skipping them for the whole backoff left a testnet router unable to
/// find any LeaseSet for five minutes.
#[test]
fn floodfills_all_set_aside_are_still_asked() {
    let mut net = Net::new(2, 1, 5);
    for i in 0..3 {
        net.introduce(i, 0..3);
    }
    net.run_for(Duration::from_secs(5));
    // Both floodfills silent for three lookups: both set aside.
    net.down.extend([0, 1]);
    for k in 0..3u8 {
        net.lookup(2, Hash([0x30 + k; 32]));
        net.run_for(Duration::from_secs(10));
    }
    let now = net.now;
    for i in 0..2 {
        let floodfill = net.hash(i);
        assert!(!net.routers[2].netdb().store().is_usable(&floodfill, now));
    }
    net.down.clear();
    let wanted = net.hash(1);
    net.lookup(2, wanted);
    net.run_for(Duration::from_secs(10));
    let results = net.client_lookups(2);
    let (found, asked, timeouts) = results[3];
    assert!(found && asked >= 1 && timeouts == 0, "{results:?}");
    let floodfill =
        net.routers[2]
            .netdb()
            .store()
            .next_floodfill(&routing_key(&wanted, net.now), &[], net.now);
    assert!(floodfill.is_some());
}

#[test]
fn routers_that_are_not_floodfills_ignore_lookups() {
    let mut net = Net::new(1, 2, 5);
    net.introduce(2, [1]);
    // Router 2 mistakes router 1 for someone to ask.
    let now = net.now;
    let from = net.hash(2);
    let msg = I2npMessage {
        id: 1,
        expiration_ms: (now + Duration::from_secs(60)).as_millis(),
        body: MessageBody::DatabaseLookup(DatabaseLookup {
            key: net.hash(0),
            from,
            kind: LookupKind::RouterInfo,
            reply_tunnel: None,
            exclude: Vec::new(),
            reply_encryption: ReplyEncryption::None,
        }),
    };
    net.routers[1].handle_message(now, from, msg);
    net.drain(1);
    assert!(net.queue.is_empty(), "no reply");
    assert!(net.events.iter().any(|(_, r, e)| *r == 1
        && matches!(
            e,
            NetDbEvent::LookupReceived {
                answer: LookupAnswer::Ignored,
                ..
            }
        )));
}

#[test]
fn expired_messages_are_dropped() {
    let mut net = Net::new(1, 1, 6);
    let now = net.now;
    let from = net.hash(1);
    let msg = I2npMessage {
        id: 7,
        expiration_ms: now.as_millis() - 1,
        body: MessageBody::DatabaseLookup(DatabaseLookup {
            key: net.hash(1),
            from,
            kind: LookupKind::RouterInfo,
            reply_tunnel: None,
            exclude: Vec::new(),
            reply_encryption: ReplyEncryption::None,
        }),
    };
    net.routers[0].handle_message(now, from, msg);
    assert!(matches!(
        net.routers[0].poll_output(),
        Output::Event(Event::ExpiredMessage { type_id: 2, .. })
    ));
    assert!(matches!(net.routers[0].poll_output(), Output::Timeout(_)));
}

#[test]
fn exploration_learns_routers_the_floodfill_knows() {
    let mut net = Net::new(1, 12, 7);
    net.introduce(0, 1..13);
    net.introduce(1, [0]);
    net.run_for(Duration::from_secs(300));
    let known = net.routers[1].netdb().store().len();
    assert!(
        known >= 8,
        "router 1 knows {known} routers after 5 minutes of exploration"
    );
}

#[test]
fn floodfills_forget_router_infos_after_an_hour() {
    let mut net = Net::new(1, 1, 8);
    net.introduce(0, [1]);
    net.down.insert(1); // never republishes to anyone
    net.run_for(Duration::from_secs(30 * 60));
    assert!(net.routers[0].netdb().get(&net.hash(1)).is_some());
    net.run_for(Duration::from_secs(40 * 60));
    assert!(net.routers[0].netdb().get(&net.hash(1)).is_none());
}

fn signed(keys: &RouterKeys, published: Instant, net_id: &str) -> Arc<RouterInfo> {
    let mut options = Mapping::new();
    options.insert("caps", "Of").expect("fits");
    options.insert("netId", net_id).expect("fits");
    Arc::new(keys.sign_router_info(published.as_millis(), Vec::new(), options))
}

#[test]
fn the_table_keeps_only_acceptable_newer_router_infos() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let me = RouterKeys::generate(&mut rng);
    let other = RouterKeys::generate(&mut rng);
    let now = Instant::from_secs(NOON);
    let hour = Duration::from_secs(3600);
    let mut table = RouterInfoStore::new(me.hash(), 2);
    let key = other.hash();

    let old = signed(&other, now - Duration::from_secs(60), "2");
    let new = signed(&other, now, "2");
    assert_eq!(table.store(&key, old.clone(), now, hour), StoreOutcome::New);
    assert_eq!(table.floodfill_count(), 1);
    assert_eq!(
        table.store(&key, new.clone(), now, hour),
        StoreOutcome::Updated
    );
    assert_eq!(table.store(&key, old, now, hour), StoreOutcome::Older);
    assert_eq!(table.store(&key, new, now, hour), StoreOutcome::Unchanged);

    let reject =
        |table: &mut RouterInfoStore, key: &Hash, info| match table.store(key, info, now, hour) {
            StoreOutcome::Rejected(r) => r,
            other => panic!("accepted: {other:?}"),
        };
    assert_eq!(
        reject(&mut table, &me.hash(), signed(&other, now, "2")),
        Rejection::KeyMismatch
    );
    assert_eq!(
        reject(&mut table, &me.hash(), signed(&me, now, "2")),
        Rejection::Ourselves
    );
    let third = RouterKeys::generate(&mut rng);
    assert_eq!(
        reject(&mut table, &third.hash(), signed(&third, now, "99")),
        Rejection::WrongNetwork
    );
    assert_eq!(
        reject(
            &mut table,
            &third.hash(),
            signed(&third, now + Duration::from_secs(600), "2")
        ),
        Rejection::FromTheFuture
    );
    assert_eq!(
        reject(
            &mut table,
            &third.hash(),
            signed(&third, now - 2 * hour, "2")
        ),
        Rejection::Expired
    );
    assert_eq!(table.len(), 1);
    assert_eq!(table.expire(now + 2 * hour, hour), 1);
    assert!(table.is_empty());
}

#[test]
fn a_held_router_info_decodes_to_the_held_value_without_a_second_parse() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let me = RouterKeys::generate(&mut rng);
    let other = RouterKeys::generate(&mut rng);
    let third = RouterKeys::generate(&mut rng);
    let now = Instant::from_secs(NOON);
    let mut table = RouterInfoStore::new(me.hash(), 2);
    let held = signed(&other, now, "2");
    table.store(&other.hash(), held.clone(), now, Duration::from_secs(3600));
    let store = |info: &Arc<RouterInfo>| {
        MessageBody::DatabaseStore(DatabaseStore {
            key: info.hash(),
            reply: None,
            entry: StoreEntry::RouterInfo(info.clone()),
        })
    };
    let decode = |body: &MessageBody| {
        let bytes = body.encode().expect("encodes");
        match MessageBody::decode_with(body.type_id(), &bytes, &table).expect("decodes") {
            MessageBody::DatabaseStore(DatabaseStore {
                entry: StoreEntry::RouterInfo(info),
                ..
            }) => info,
            other => panic!("{other:?}"),
        }
    };
    // The same bytes: the very value we hold, shared.
    assert!(Arc::ptr_eq(&decode(&store(&held)), &held));
    // A newer RouterInfo of the same router, and one of a router we do not know: parsed.
    let newer = signed(&other, now + Duration::from_secs(60), "2");
    let decoded = decode(&store(&newer));
    assert!(!Arc::ptr_eq(&decoded, &held));
    assert_eq!(decoded, newer);
    let unknown = signed(&third, now, "2");
    assert_eq!(decode(&store(&unknown)), unknown);
}
