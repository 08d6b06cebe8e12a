//! Whole builds driven in memory: creator -> each hop in turn -> the reply back to the
//! creator, with every message through its wire encoding.

use super::crypt;
use super::*;
use crate::crypto::RouterKeys;
use crate::data::Hash;
use crate::i2np::{BuildRecords, I2npMessage, MessageBody, SHORT_RECORD_LEN};
use crate::time::Instant;
use crate::tunnel::TunnelId;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const NOW: Instant = Instant::from_secs(1_700_000_000);
const REPLY_GATEWAY: Hash = Hash([0xee; 32]);
const REPLY_TUNNEL: TunnelId = TunnelId(77);
const ENDPOINT_TUNNEL: TunnelId = TunnelId(88);

struct World {
    rng: ChaCha20Rng,
    creator: RouterKeys,
    routers: Vec<RouterKeys>,
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let creator = RouterKeys::generate(&mut rng);
        let routers = (0..4).map(|_| RouterKeys::generate(&mut rng)).collect();
        World {
            rng,
            creator,
            routers,
        }
    }

    fn hops(&mut self, count: usize) -> Vec<HopSpec> {
        self.routers[..count]
            .iter()
            .map(|keys| HopSpec {
                router: keys.hash(),
                encryption_key: keys.identity().encryption_key(),
                receive_tunnel: TunnelId(self.rng.gen_range(1..=u32::MAX)),
            })
            .collect()
    }

    fn outbound() -> BuildDirection {
        BuildDirection::Outbound {
            reply_gateway: REPLY_GATEWAY,
            reply_tunnel: REPLY_TUNNEL,
        }
    }

    fn inbound(&self) -> BuildDirection {
        BuildDirection::Inbound {
            creator: self.creator.hash(),
            endpoint_tunnel: ENDPOINT_TUNNEL,
        }
    }

    fn build(&mut self, hops: usize, direction: BuildDirection) -> (Vec<HopSpec>, NewBuild) {
        let hops = self.hops(hops);
        let build = BuildRequest {
            hops: hops.clone(),
            direction,
            record_count: RECOMMENDED_RECORDS,
        }
        .create(NOW, &mut self.rng)
        .expect("a valid build");
        (hops, build)
    }

    fn keys_of(&self, hash: &Hash) -> RouterKeys {
        self.routers
            .iter()
            .find(|keys| keys.hash() == *hash)
            .expect("a hop of ours")
            .clone()
    }

    /// Takes the build through every hop; `policy(i, request)` answers for hop i.
    fn carry(
        &mut self,
        build: &NewBuild,
        hops: usize,
        mut policy: impl FnMut(usize, &RequestRecord) -> ReplyStatus,
    ) -> Vec<ParticipantOutcome> {
        let mut to = build.first_hop;
        let mut records = records_of(&build.msg);
        let mut outcomes: Vec<ParticipantOutcome> = Vec::new();
        for index in 0..hops {
            let keys = self.keys_of(&to);
            let outcome = handle_request(&keys, &records, NOW, &mut self.rng, None, |request| {
                policy(index, request)
            })
            .expect("a record for this hop");
            if let BuildSend::NextHop { router, msg } = &outcome.send {
                to = *router;
                records = records_of(msg);
            }
            outcomes.push(outcome);
        }
        outcomes
    }
}

/// The records of a build message, after a trip through the wire encoding.
fn records_of(msg: &I2npMessage) -> BuildRecords {
    match I2npMessage::decode(&msg.encode()).expect("valid").body {
        MessageBody::ShortTunnelBuild(records) | MessageBody::OutboundTunnelBuildReply(records) => {
            records
        }
        other => panic!("not a build message: {other:?}"),
    }
}

fn sent_message(send: &BuildSend) -> &I2npMessage {
    match send {
        BuildSend::NextHop { msg, .. } | BuildSend::ReplyTunnel { msg, .. } => msg,
    }
}

const ALL_STATUSES: [ReplyStatus; 5] = [
    ReplyStatus::Accept,
    ReplyStatus::RejectProbabilistic,
    ReplyStatus::RejectTransient,
    ReplyStatus::RejectBandwidth,
    ReplyStatus::RejectCritical,
];

#[test]
fn one_to_three_hop_builds_where_every_hop_accepts() {
    for hop_count in 1..=3 {
        for outbound in [true, false] {
            let mut world = World::new(hop_count as u64 * 2 + u64::from(outbound));
            let direction = if outbound {
                World::outbound()
            } else {
                world.inbound()
            };
            let (hops, build) = world.build(hop_count, direction);
            assert_eq!(build.first_hop, hops[0].router);
            assert_eq!(
                build.msg.expiration_ms,
                (NOW + BUILD_MESSAGE_LIFETIME).as_millis()
            );

            let mut requests = Vec::new();
            let outcomes = world.carry(&build, hop_count, |_, request| {
                requests.push(request.clone());
                ReplyStatus::Accept
            });

            // The last hop sends where the direction says, with the id the creator expects.
            let last = &outcomes[hop_count - 1].send;
            assert_eq!(sent_message(last).id, build.pending.reply_message_id());
            match (direction, last) {
                (
                    BuildDirection::Outbound { .. },
                    BuildSend::ReplyTunnel {
                        gateway,
                        tunnel,
                        garlic,
                        msg,
                    },
                ) => {
                    assert_eq!((*gateway, *tunnel), (REPLY_GATEWAY, REPLY_TUNNEL));
                    assert_eq!(Some(garlic), build.pending.garlic_reply());
                    assert!(matches!(msg.body, MessageBody::OutboundTunnelBuildReply(_)));
                }
                (BuildDirection::Inbound { creator, .. }, BuildSend::NextHop { router, msg }) => {
                    assert_eq!(*router, creator);
                    assert!(build.pending.garlic_reply().is_none());
                    // Our decoy shows our hash, as a real next hop's record would.
                    let records = records_of(msg);
                    assert!(records
                        .records()
                        .iter()
                        .any(|record| crypt::addressed_to(record, &creator)));
                }
                other => panic!("unexpected last send {other:?}"),
            }

            let replies = build
                .pending
                .handle_reply(&records_of(sent_message(last)))
                .expect("authentic replies");
            assert_eq!(replies.len(), hop_count);
            for (index, ((reply, outcome), request)) in
                replies.iter().zip(&outcomes).zip(&requests).enumerate()
            {
                let (next_router, next_tunnel) = match (hops.get(index + 1), direction) {
                    (Some(next), _) => (next.router, next.receive_tunnel),
                    (None, BuildDirection::Outbound { .. }) => (REPLY_GATEWAY, REPLY_TUNNEL),
                    (None, BuildDirection::Inbound { creator, .. }) => (creator, ENDPOINT_TUNNEL),
                };
                let role = match direction {
                    BuildDirection::Outbound { .. } if index + 1 == hop_count => {
                        HopRole::OutboundEndpoint
                    }
                    BuildDirection::Inbound { .. } if index == 0 => HopRole::InboundGateway,
                    _ => HopRole::Participant,
                };
                assert_eq!(request.receive_tunnel, hops[index].receive_tunnel);
                assert_eq!(
                    (request.next_router, request.next_tunnel),
                    (next_router, next_tunnel)
                );
                assert_eq!(request.role, role);
                assert_eq!(request.layer_encryption, LayerEncryption::Aes);
                assert_eq!(u64::from(request.request_time_min), NOW.as_secs() / 60);
                assert_eq!(request.expiration_secs, 600);

                assert_eq!(reply.router, hops[index].router);
                assert_eq!(reply.status, ReplyStatus::Accept);
                assert_eq!(outcome.status, ReplyStatus::Accept);
                let hop = outcome.hop.as_ref().expect("accepted");
                assert_eq!(reply.layer_keys.as_ref(), Some(&hop.layer_keys));
                assert_eq!(hop.receive_tunnel, hops[index].receive_tunnel);
                assert_eq!(
                    (hop.next_router, hop.next_tunnel),
                    (next_router, next_tunnel)
                );
                assert_eq!(hop.role, role);
                assert_eq!(hop.expires_at, NOW + std::time::Duration::from_secs(600));
            }
            let mut layer_keys: Vec<[u8; 32]> = outcomes
                .iter()
                .flat_map(|o| o.hop.iter())
                .flat_map(|hop| [hop.layer_keys.layer_key, hop.layer_keys.iv_key])
                .collect();
            layer_keys.sort_unstable();
            layer_keys.dedup();
            assert_eq!(layer_keys.len(), 2 * hop_count, "every key is its own");
        }
    }
}

#[test]
fn the_creator_sees_which_hop_rejected_and_why() {
    for (seed, direction) in [(10, World::outbound()), (11, World::new(11).inbound())] {
        let mut world = World::new(seed);
        let (hops, build) = world.build(3, direction);
        let outcomes = world.carry(&build, 3, |index, _| match index {
            1 => ReplyStatus::RejectBandwidth,
            _ => ReplyStatus::Accept,
        });
        assert!(outcomes[1].hop.is_none(), "no hop config after a rejection");
        assert!(outcomes[0].hop.is_some() && outcomes[2].hop.is_some());
        let replies = build
            .pending
            .handle_reply(&records_of(sent_message(&outcomes[2].send)))
            .expect("authentic replies");
        let statuses: Vec<ReplyStatus> = replies.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses,
            [
                ReplyStatus::Accept,
                ReplyStatus::RejectBandwidth,
                ReplyStatus::Accept
            ]
        );
        assert_eq!(replies[1].router, hops[1].router);
        assert!(replies[1].layer_keys.is_none());
        assert!(replies[0].layer_keys.is_some() && replies[2].layer_keys.is_some());
    }

    // Every code arrives as sent.
    let mut world = World::new(12);
    for status in ALL_STATUSES {
        let (_, build) = world.build(1, World::outbound());
        let outcomes = world.carry(&build, 1, |_, _| status);
        let replies = build
            .pending
            .handle_reply(&records_of(sent_message(&outcomes[0].send)))
            .expect("authentic reply");
        assert_eq!(replies[0].status, status);
    }
}

#[test]
fn a_hop_reads_only_its_own_record() {
    let mut world = World::new(20);
    let (hops, build) = world.build(3, World::outbound());
    let first = world.keys_of(&hops[0].router);
    let secret = first.encryption_secret();
    let public = first.identity().encryption_key();
    let records = records_of(&build.msg);
    let own_slot = build.pending.hops[0].slot;
    for (slot, record) in records.records().iter().enumerate() {
        let opened = crypt::decrypt_request(secret, &public, record, None);
        assert_eq!(opened.is_ok(), slot == own_slot, "slot {slot}");
    }

    // Hop 1's record, in the clear once hop 0 has passed it on, under hop 2's name.
    let outcomes = world.carry(&build, 1, |_, _| ReplyStatus::Accept);
    let mut records = records_of(sent_message(&outcomes[0].send));
    let third = world.keys_of(&hops[2].router);
    let slot_1 = build.pending.hops[1].slot;
    let slot_2 = build.pending.hops[2].slot;
    let mut stolen = records.records()[slot_1];
    stolen[..16].copy_from_slice(&hops[2].router.0[..16]);
    records.records_mut()[slot_2] = stolen;
    assert_eq!(
        handle_request(&third, &records, NOW, &mut world.rng, None, |_| {
            ReplyStatus::Accept
        }),
        Err(BuildError::Undecryptable)
    );
}

#[test]
fn a_hop_finds_no_record_in_a_message_not_meant_for_it() {
    let mut world = World::new(30);
    let (hops, build) = world.build(2, World::outbound());
    let outsider = world.routers[3].clone();
    let records = records_of(&build.msg);
    let accept = |_: &RequestRecord| ReplyStatus::Accept;
    assert_eq!(
        handle_request(&outsider, &records, NOW, &mut world.rng, None, accept),
        Err(BuildError::NotForUs)
    );
    // Nor does a hop that has already answered: its slot now holds its reply.
    let outcomes = world.carry(&build, 1, |_, _| ReplyStatus::Accept);
    let first = world.keys_of(&hops[0].router);
    let again = records_of(sent_message(&outcomes[0].send));
    assert_eq!(
        handle_request(&first, &again, NOW, &mut world.rng, None, accept),
        Err(BuildError::NotForUs)
    );
}

#[test]
fn tampered_records_fail_cleanly() {
    let mut world = World::new(40);
    let (hops, build) = world.build(2, World::outbound());
    let first = world.keys_of(&hops[0].router);
    let slot = build.pending.hops[0].slot;
    let accept = |_: &RequestRecord| ReplyStatus::Accept;
    for at in (16..SHORT_RECORD_LEN).step_by(7).chain([47, 201, 217]) {
        let mut records = records_of(&build.msg);
        records.records_mut()[slot][at] ^= 0x10;
        assert_eq!(
            handle_request(&first, &records, NOW, &mut world.rng, None, accept),
            Err(BuildError::Undecryptable),
            "byte {at}"
        );
    }

    // Replies: a change in any hop's slot fails that hop, and the build.
    let outcomes = world.carry(&build, 2, |_, _| ReplyStatus::Accept);
    let replies = records_of(sent_message(&outcomes[1].send));
    for (index, hop) in build.pending.hops.iter().enumerate() {
        let mut tampered = replies.clone();
        tampered.records_mut()[hop.slot][100] ^= 1;
        assert_eq!(
            build.pending.handle_reply(&tampered),
            Err(BuildError::BadReply { hop: index })
        );
    }
    let fewer = BuildRecords::new(replies.records()[1..].to_vec()).expect("3 records");
    assert_eq!(
        build.pending.handle_reply(&fewer),
        Err(BuildError::RecordCount {
            expected: RECOMMENDED_RECORDS,
            actual: RECOMMENDED_RECORDS - 1
        })
    );
    assert!(
        build.pending.handle_reply(&replies).is_ok(),
        "still pending after a forgery"
    );
}

#[test]
fn an_inbound_creator_notices_a_changed_decoy() {
    let mut world = World::new(50);
    let direction = world.inbound();
    let (_, build) = world.build(2, direction);
    let outcomes = world.carry(&build, 2, |_, _| ReplyStatus::Accept);
    let mut records = records_of(sent_message(&outcomes[1].send));
    let decoy = build.pending.own_record.as_ref().expect("inbound").slot;
    records.records_mut()[decoy][200] ^= 1;
    assert_eq!(
        build.pending.handle_reply(&records),
        Err(BuildError::Tampered)
    );
}

#[test]
fn stale_requests_are_dropped() {
    let mut world = World::new(60);
    let (hops, build) = world.build(1, World::outbound());
    let hop = world.keys_of(&hops[0].router);
    let records = records_of(&build.msg);
    let minutes = |m: u64| std::time::Duration::from_secs(60 * m);
    for (now, fresh) in [
        (NOW + minutes(4), true),
        (NOW + minutes(7), false),
        (NOW - minutes(1), true),
        (NOW - minutes(4), false),
    ] {
        let result = handle_request(&hop, &records, now, &mut world.rng, None, |_| {
            ReplyStatus::Accept
        });
        assert_eq!(result.is_ok(), fresh, "{now:?}");
        if !fresh {
            assert!(matches!(result, Err(BuildError::Stale { .. })));
        }
    }
}

#[test]
fn hops_get_random_slots() {
    let mut world = World::new(70);
    let slots: std::collections::BTreeSet<usize> = (0..16)
        .map(|_| world.build(1, World::outbound()).1.pending.hops[0].slot)
        .collect();
    assert!(slots.len() > 1, "the first hop always got slot {slots:?}");
}

#[test]
fn invalid_builds_are_refused() {
    let mut world = World::new(80);
    let hops = world.hops(3);
    let inbound = world.inbound();
    let request = |hops: Vec<HopSpec>, direction, record_count| BuildRequest {
        hops,
        direction,
        record_count,
    };
    let mut zero_tunnel = hops.clone();
    zero_tunnel[1].receive_tunnel = TunnelId(0);
    let mut twice = hops.clone();
    twice[2] = twice[0].clone();
    let mut with_creator = hops.clone();
    with_creator[1].router = world.creator.hash();
    let mut low_order = hops.clone();
    low_order[2].encryption_key = [0; 32];
    let zero_reply = BuildDirection::Outbound {
        reply_gateway: REPLY_GATEWAY,
        reply_tunnel: TunnelId(0),
    };
    for (name, bad) in [
        ("no hops", request(vec![], World::outbound(), 4)),
        ("9 records", request(hops.clone(), World::outbound(), 9)),
        (
            "too few records",
            request(hops.clone(), World::outbound(), 2),
        ),
        ("no record for the decoy", request(hops.clone(), inbound, 3)),
        (
            "zero receive tunnel",
            request(zero_tunnel, World::outbound(), 4),
        ),
        ("zero reply tunnel", request(hops.clone(), zero_reply, 4)),
        ("a router twice", request(twice, World::outbound(), 4)),
        ("the creator as a hop", request(with_creator, inbound, 4)),
        ("a low-order key", request(low_order, World::outbound(), 4)),
    ] {
        assert!(
            matches!(
                bad.create(NOW, &mut world.rng),
                Err(BuildError::InvalidRequest(_))
            ),
            "{name}"
        );
    }
    // The tightest valid layouts.
    assert!(request(hops.clone(), World::outbound(), 3)
        .create(NOW, &mut world.rng)
        .is_ok());
    assert!(request(hops, inbound, 4)
        .create(NOW, &mut world.rng)
        .is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Junk addressed to a hop (so that it gets as far as the DH and the AEAD) and junk
    /// replies never panic either side.
    #[test]
    fn random_records_never_panic(
        seed in any::<u64>(),
        junk in proptest::collection::vec(any::<u8>(), SHORT_RECORD_LEN * 4),
        ours in 0usize..4,
    ) {
        let mut world = World::new(seed);
        let (hops, build) = world.build(2, World::outbound());
        let records: Vec<[u8; SHORT_RECORD_LEN]> = junk
            .chunks(SHORT_RECORD_LEN)
            .map(|chunk| chunk.try_into().expect("exact chunks"))
            .collect();
        let mut records = BuildRecords::new(records).expect("4 records");
        records.records_mut()[ours][..16].copy_from_slice(&hops[0].router.0[..16]);
        let hop = world.keys_of(&hops[0].router);
        let result = handle_request(&hop, &records, NOW, &mut world.rng, None, |_| ReplyStatus::Accept);
        prop_assert!(result.is_err());
        prop_assert!(build.pending.handle_reply(&records).is_err());
    }
}

/// A tunnel longer than three hops needs more than the recommended four records: the
/// count grows with it, up to the eight a message holds at [`MAX_HOPS`] inbound.
#[test]
fn long_tunnels_get_a_record_per_hop() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let creator = RouterKeys::generate(&mut rng);
    let hops: Vec<HopSpec> = (0..MAX_HOPS)
        .map(|_| {
            let keys = RouterKeys::generate(&mut rng);
            HopSpec {
                router: keys.hash(),
                encryption_key: keys.identity().encryption_key(),
                receive_tunnel: TunnelId(rng.gen_range(1..=u32::MAX)),
            }
        })
        .collect();
    assert_eq!(record_count(3, true), RECOMMENDED_RECORDS);
    assert_eq!(record_count(3, false), RECOMMENDED_RECORDS);
    assert_eq!(record_count(MAX_HOPS, true), BuildRecords::MAX);
    let inbound = BuildDirection::Inbound {
        creator: creator.hash(),
        endpoint_tunnel: ENDPOINT_TUNNEL,
    };
    for (count, direction) in [(MAX_HOPS, inbound), (5, World::outbound())] {
        let request = |record_count| BuildRequest {
            hops: hops[..count].to_vec(),
            direction,
            record_count,
        };
        let inbound = matches!(direction, BuildDirection::Inbound { .. });
        assert!(request(RECOMMENDED_RECORDS).create(NOW, &mut rng).is_err());
        let build = request(record_count(count, inbound))
            .create(NOW, &mut rng)
            .expect("enough records");
        assert_eq!(
            records_of(&build.msg).records().len(),
            record_count(count, inbound)
        );
    }
}
