//! Encrypted LeaseSets through floodfills: stored under the storage key, flooded, served
//! to a lookup of that key, and readable only by the destination's authorised clients.

use super::*;
use crate::crypto::blinding::{BlindedPublicKey, Credential};
use crate::data::{
    B33Address, ClientAuthorization, ClientKey, DecryptError, InnerLeaseSet, Lease2,
};
use x25519_dalek::StaticSecret;

/// 2026-11-21 12:00 UTC, far from the midnight key rotation.
const NOON: Instant = Instant::from_secs(1_795_262_400);
const FLOODFILLS: usize = 6;

/// Floodfills `0..FLOODFILLS`, then a publisher and two readers, each knowing every
/// floodfill. Messages arrive at once.
struct Mesh {
    nodes: Vec<NetDb>,
    hashes: Vec<Hash>,
    events: Vec<(usize, NetDbEvent)>,
}

impl Mesh {
    fn new() -> Mesh {
        let count = FLOODFILLS + 3;
        let infos: Vec<Arc<RouterInfo>> = (0..count)
            .map(|i| {
                let keys = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(500 + i as u64));
                let mut options = Mapping::new();
                let caps = if i < FLOODFILLS { "XfR" } else { "XR" };
                options.insert("caps", caps).expect("short");
                options.insert("netId", "2").expect("short");
                Arc::new(keys.sign_router_info(NOON.as_millis(), Vec::new(), options))
            })
            .collect();
        let floodfills: Vec<Arc<RouterInfo>> = infos[..FLOODFILLS].to_vec();
        let nodes = infos
            .iter()
            .enumerate()
            .map(|(i, info)| {
                let rng = ChaCha20Rng::seed_from_u64(i as u64);
                let mut netdb = NetDb::new(
                    NetDbConfig::default(),
                    info.hash(),
                    2,
                    i < FLOODFILLS,
                    NOON,
                    rng,
                );
                netdb.add_bootstrap(NOON, floodfills.iter().cloned());
                netdb
            })
            .collect();
        Mesh {
            nodes,
            hashes: infos.iter().map(|info| info.hash()).collect(),
            events: Vec::new(),
        }
    }

    fn index(&self, hash: &Hash) -> usize {
        self.hashes
            .iter()
            .position(|h| h == hash)
            .expect("a node of the mesh")
    }

    /// Delivers everything every node wants sent until nothing moves.
    fn run(&mut self, now: Instant) {
        loop {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                while let Some(action) = self.nodes[i].poll_action() {
                    moved = true;
                    let (to, body) = match action {
                        Action::Send { to, body } => (to, body),
                        Action::Query { to, lookup } => (to, MessageBody::DatabaseLookup(lookup)),
                        Action::Publish { to, store } => (to, MessageBody::DatabaseStore(store)),
                        Action::Reply { gateway, body, .. } => (gateway, body),
                        Action::Event(event) => {
                            self.events.push((i, event));
                            continue;
                        }
                    };
                    let j = self.index(&to);
                    let from = self.hashes[i];
                    let _ = self.nodes[j].handle_message(now, from, body);
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Store outcomes at floodfills for `key`: (node, flooded, outcome).
    fn stores(&self, key: &Hash) -> Vec<(usize, bool, StoreOutcome)> {
        self.events
            .iter()
            .filter_map(|(i, e)| match e {
                NetDbEvent::StoreReceived {
                    key: k,
                    flooded,
                    outcome,
                    ..
                } if k == key => Some((*i, *flooded, *outcome)),
                _ => None,
            })
            .collect()
    }
}

const PUBLISHER: usize = FLOODFILLS;
const AUTHORISED: usize = FLOODFILLS + 1;
const OUTSIDER: usize = FLOODFILLS + 2;

fn inner(keys: &DestinationKeys, now: Instant) -> LeaseSet2 {
    let lease = Lease2 {
        gateway: Hash([1; 32]),
        tunnel_id: crate::data::TunnelId(5),
        end_date_s: now.as_secs() as u32 + 600,
    };
    keys.sign_lease_set(now.as_secs() as u32, 600, vec![lease])
        .expect("one lease")
}

fn encrypted(
    keys: &DestinationKeys,
    now: Instant,
    auth: &ClientAuthorization,
) -> EncryptedLeaseSet {
    let mut rng = ChaCha20Rng::seed_from_u64(now.as_secs());
    keys.encrypt_lease_set(
        &mut rng,
        &now.utc_date_string(),
        b"",
        &inner(keys, now),
        auth,
    )
    .expect("encryptable")
}

#[test]
fn floodfills_store_flood_and_serve_an_encrypted_lease_set_that_only_clients_read() {
    let mut mesh = Mesh::new();
    let destination = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(42));
    let client = ClientKey::Dh(StaticSecret::from([9; 32]));
    let auth = ClientAuthorization::Dh(vec![client.dh_public().expect("DH")]);
    let els = Arc::new(encrypted(&destination, NOON, &auth));
    let key = els.storage_key();

    let OwnStore::Sent { to, .. } =
        mesh.nodes[PUBLISHER].publish_encrypted_lease_set(NOON, els.clone(), &[])
    else {
        panic!("floodfills known");
    };
    let floodfills = &mesh.hashes[..FLOODFILLS];
    let order = routing::closest(&routing::routing_key(&key, NOON), floodfills, FLOODFILLS);
    assert_eq!(
        to, order[0],
        "published at the floodfill closest to the storage key"
    );
    mesh.run(NOON);

    let stores = mesh.stores(&key);
    let direct = mesh.index(&order[0]);
    assert_eq!(stores[0], (direct, false, StoreOutcome::New));
    let flooded: Vec<usize> = stores[1..].iter().map(|s| s.0).collect();
    let mut expected: Vec<usize> = order[1..4].iter().map(|h| mesh.index(h)).collect();
    expected.sort_unstable();
    let mut flooded_sorted = flooded.clone();
    flooded_sorted.sort_unstable();
    assert_eq!(
        flooded_sorted, expected,
        "flooded to the next three closest"
    );
    assert!(stores[1..].iter().all(|s| s.1 && s.2 == StoreOutcome::New));
    for i in std::iter::once(direct).chain(flooded) {
        let ff = &mesh.nodes[i];
        assert_eq!(ff.encrypted_lease_sets().get(&key, NOON), Some(&els));
        // The floodfill holds nothing under, or naming, the destination.
        assert!(ff.lease_sets().is_empty());
        assert!(ff
            .encrypted_lease_sets()
            .get(&destination.hash(), NOON)
            .is_none());
    }

    // The clients know the b33 address; the storage key is today's.
    let address: B33Address = destination
        .b33_address(false, true)
        .to_string()
        .parse()
        .unwrap();
    let blinded = BlindedPublicKey::of_address(&address, &NOON.utc_date_string(), b"").unwrap();
    assert_eq!(blinded.storage_key(), key);
    let credential = Credential::of_address(&address);
    for reader in [AUTHORISED, OUTSIDER] {
        mesh.nodes[reader].lookup_lease_set(NOON, key);
    }
    mesh.run(NOON);
    for reader in [AUTHORISED, OUTSIDER] {
        let found = mesh.events.iter().any(|(i, e)| {
            *i == reader
                && matches!(e, NetDbEvent::LookupFinished { key: k, found: true, purpose: Purpose::LeaseSet, .. } if *k == key)
        });
        assert!(found, "reader {reader} found it");
    }
    let read = mesh.nodes[AUTHORISED].decrypt_lease_set(NOON, &key, &credential, Some(&client));
    assert_eq!(
        read,
        Some(Ok(InnerLeaseSet::LeaseSet2(Arc::new(inner(
            &destination,
            NOON
        )))))
    );
    assert!(
        mesh.nodes[AUTHORISED]
            .lease_sets()
            .get(&destination.hash(), NOON)
            .is_some(),
        "kept for sending, as a LeaseSet2 is"
    );
    let other = ClientKey::Dh(StaticSecret::from([10; 32]));
    for key_held in [None, Some(&other)] {
        let read = mesh.nodes[OUTSIDER].decrypt_lease_set(NOON, &key, &credential, key_held);
        assert_eq!(read, Some(Err(DecryptError::NotAuthorised)));
    }
    assert!(mesh.nodes[OUTSIDER].lease_sets().is_empty());
}

#[test]
fn the_storage_key_rotates_daily_and_floodfills_check_it() {
    let destination = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(43));
    let tomorrow = NOON + Duration::from_secs(86_400);
    let today_els = Arc::new(encrypted(
        &destination,
        NOON,
        &ClientAuthorization::Everybody,
    ));
    let tomorrow_els = Arc::new(encrypted(
        &destination,
        tomorrow,
        &ClientAuthorization::Everybody,
    ));
    assert_ne!(today_els.storage_key(), tomorrow_els.storage_key());
    let store = |key: Hash, els: &Arc<EncryptedLeaseSet>| {
        MessageBody::DatabaseStore(DatabaseStore {
            key,
            reply: None,
            entry: StoreEntry::EncryptedLeaseSet(els.clone()),
        })
    };
    let outcome = |netdb: &mut NetDb| {
        let mut last = None;
        while let Some(action) = netdb.poll_action() {
            if let Action::Event(NetDbEvent::StoreReceived { outcome, .. }) = action {
                last = Some(outcome);
            }
        }
        last
    };
    let mut floodfill = Mesh::new().nodes.swap_remove(0);
    // Tomorrow's LeaseSet under today's key, and the destination's hash: refused.
    for wrong in [today_els.storage_key(), destination.hash()] {
        let _ = floodfill.handle_message(tomorrow, peer(1), store(wrong, &tomorrow_els));
        assert_eq!(
            outcome(&mut floodfill),
            Some(StoreOutcome::Rejected(Rejection::KeyMismatch))
        );
    }
    let _ = floodfill.handle_message(
        tomorrow,
        peer(1),
        store(tomorrow_els.storage_key(), &tomorrow_els),
    );
    assert_eq!(outcome(&mut floodfill), Some(StoreOutcome::New));
    assert!(floodfill
        .encrypted_lease_sets()
        .get(&tomorrow_els.storage_key(), tomorrow)
        .is_some());
    // Yesterday's is expired by now.
    let _ = floodfill.handle_message(
        tomorrow,
        peer(1),
        store(today_els.storage_key(), &today_els),
    );
    assert_eq!(
        outcome(&mut floodfill),
        Some(StoreOutcome::Rejected(Rejection::Expired))
    );
    // And one expiring further ahead than floodfills keep is refused.
    let long = destination
        .sign_lease_set(NOON.as_secs() as u32, 7_200, Vec::new())
        .expect("no leases");
    let long = Arc::new(
        destination
            .encrypt_lease_set(
                &mut ChaCha20Rng::seed_from_u64(1),
                &NOON.utc_date_string(),
                b"",
                &long,
                &ClientAuthorization::Everybody,
            )
            .expect("encryptable"),
    );
    let _ = floodfill.handle_message(NOON, peer(1), store(long.storage_key(), &long));
    assert_eq!(
        outcome(&mut floodfill),
        Some(StoreOutcome::Rejected(Rejection::FromTheFuture))
    );
}
