//! The tunnel manager alone: build requests handled as a hop, and builds of a
//! creator relayed through in-memory peers.

use super::*;
use crate::limit::{PeerRateLimit, RateLimit};
use rand::SeedableRng;

const NOW: Instant = Instant::from_secs(1_700_000_000);

/// A router taking part in others' tunnels, and creators asking it to.
struct Node {
    keys: RouterKeys,
    manager: TunnelManager,
    profiles: Profiles,
    rng: ChaCha20Rng,
}

impl Node {
    fn new(config: TunnelConfig) -> Node {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let keys = RouterKeys::generate(&mut rng);
        let manager = TunnelManager::new(config, keys.hash(), NOW, rng.clone());
        Node {
            keys,
            manager,
            profiles: Profiles::new(),
            rng,
        }
    }

    /// Has `previous` hand us a one-hop inbound build (we are its gateway) at `now`;
    /// returns our answer as the creator reads it, `None` when we sent none.
    fn request(&mut self, now: Instant, previous: Hash) -> Option<ReplyStatus> {
        let creator = Hash([0xcc; 32]);
        let build = BuildRequest {
            hops: vec![HopSpec {
                router: self.keys.hash(),
                encryption_key: self.keys.identity().encryption_key(),
                receive_tunnel: TunnelId(self.rng.gen_range(1..=u32::MAX)),
            }],
            direction: BuildDirection::Inbound {
                creator,
                endpoint_tunnel: TunnelId(9),
            },
            record_count: build::RECOMMENDED_RECORDS,
        }
        .create(now, &mut self.rng)
        .expect("a valid build");
        let rest =
            self.manager
                .handle_message(now, previous, &self.keys, &mut self.profiles, build.msg);
        assert!(rest.is_none());
        let mut status = None;
        while let Some(action) = self.manager.poll_action() {
            if let TunnelAction::Send {
                to,
                msg:
                    I2npMessage {
                        body: MessageBody::ShortTunnelBuild(records),
                        ..
                    },
            } = action
            {
                assert_eq!(to, creator);
                let replies = build.pending.handle_reply(&records).expect("readable");
                status = Some(replies[0].status);
            }
        }
        status
    }
}

fn per_hop(max: u32, tracked_peers: usize) -> Option<PeerRateLimit> {
    Some(PeerRateLimit {
        max,
        window: Duration::from_secs(60),
        tracked_peers,
    })
}

fn peer(i: u8) -> Hash {
    Hash([i; 32])
}

#[test]
fn a_build_flood_from_one_previous_hop_is_rejected_then_dropped() {
    let mut hop = Node::new(TunnelConfig {
        build_requests_per_hop: per_hop(3, 100),
        ..TunnelConfig::default()
    });
    let answers: Vec<_> = (0..10).map(|_| hop.request(NOW, peer(1))).collect();
    let accept = Some(ReplyStatus::Accept);
    let reject = Some(ReplyStatus::RejectBandwidth);
    assert_eq!(answers[..3], [accept; 3]);
    assert_eq!(answers[3..6], [reject; 3], "rejected with code 30");
    assert_eq!(
        answers[6..],
        [None; 4],
        "dropped unread beyond twice the limit"
    );
    assert_eq!(hop.request(NOW, peer(2)), accept, "another previous hop");
    let load = hop.manager.load();
    assert_eq!(load.builds_rejected_per_hop, 3);
    assert_eq!(load.builds_dropped_per_hop, 4);
    assert_eq!(load.build_records_decrypted, 7);
    assert_eq!(load.participating, 4);
    assert_eq!(load.peak_builds_per_hop, 10);
    assert_eq!(
        hop.request(NOW + Duration::from_secs(60), peer(1)),
        accept,
        "the next window"
    );
}

#[test]
fn previous_hops_are_counted_in_bounded_memory() {
    let mut hop = Node::new(TunnelConfig {
        build_requests_per_hop: per_hop(1, 4),
        ..TunnelConfig::default()
    });
    for i in 0..20 {
        assert_eq!(hop.request(NOW, peer(i)), Some(ReplyStatus::Accept));
        assert!(hop.manager.load().limited_hops <= 4);
    }
}

#[test]
fn the_accept_rate_caps_tunnels_joined_per_window() {
    let mut hop = Node::new(TunnelConfig {
        build_accept_rate: Some(RateLimit {
            max: 2,
            window: Duration::from_secs(60),
        }),
        ..TunnelConfig::default()
    });
    let answers: Vec<_> = (0..5).map(|i| hop.request(NOW, peer(i))).collect();
    assert_eq!(
        answers,
        [
            Some(ReplyStatus::Accept),
            Some(ReplyStatus::Accept),
            Some(ReplyStatus::RejectBandwidth),
            Some(ReplyStatus::RejectBandwidth),
            Some(ReplyStatus::RejectBandwidth),
        ]
    );
    assert_eq!(hop.manager.load().builds_rejected_rate, 3);
    let later = NOW + Duration::from_secs(60);
    assert_eq!(hop.request(later, peer(9)), Some(ReplyStatus::Accept));
}

#[test]
fn a_full_router_rejects_with_code_30_and_unlimited_routers_accept_all() {
    let mut hop = Node::new(TunnelConfig {
        max_participating: 2,
        ..TunnelConfig::default()
    });
    let answers: Vec<_> = (0..3).map(|_| hop.request(NOW, peer(1))).collect();
    assert_eq!(answers[2], Some(ReplyStatus::RejectBandwidth));
    assert_eq!(hop.manager.load().builds_rejected_full, 1);

    let mut hop = Node::new(TunnelConfig {
        build_requests_per_hop: None,
        build_accept_rate: None,
        ..TunnelConfig::default()
    });
    for _ in 0..150 {
        assert_eq!(hop.request(NOW, peer(1)), Some(ReplyStatus::Accept));
    }
    assert_eq!(hop.manager.load().limited_hops, 0);
}

/// A creator and `n` peers it holds RouterInfos of, each with its own tunnel
/// manager, passing messages among themselves at once.
struct Creator {
    peers: Vec<(RouterKeys, TunnelManager, Profiles)>,
    keys: RouterKeys,
    manager: TunnelManager,
    profiles: Profiles,
    store: RouterInfoStore,
    pool: PoolId,
    /// Every message relayed, as (from, to).
    delivered: Vec<(Hash, Hash)>,
    /// The I2NP type inside every TunnelGateway relayed, with its sender.
    gateway_payloads: Vec<(Hash, u8)>,
}

impl Creator {
    /// One client pool of 2-hop tunnels, one per direction.
    fn new(n: usize) -> Creator {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let keys = RouterKeys::generate(&mut rng);
        let mut manager =
            TunnelManager::new(TunnelConfig::default(), keys.hash(), NOW, rng.clone());
        let mut store = RouterInfoStore::new(keys.hash(), 2);
        let peers = (0..n)
            .map(|_| {
                let peer = RouterKeys::generate(&mut rng);
                let info = crate::RouterConfig::default().sign_router_info(&peer, NOW);
                store.store(
                    &peer.hash(),
                    std::sync::Arc::new(info),
                    NOW,
                    Duration::from_secs(3600),
                );
                let m = TunnelManager::new(
                    TunnelConfig::default(),
                    peer.hash(),
                    NOW,
                    ChaCha20Rng::seed_from_u64(rng.gen()),
                );
                (peer, m, Profiles::new())
            })
            .collect();
        let pool = manager.add_pool(
            NOW,
            PoolConfig {
                hops: 2,
                count: 1,
                rules: SelectionRules::client(),
            },
        );
        Creator {
            peers,
            keys,
            manager,
            profiles: Profiles::new(),
            store,
            pool,
            delivered: Vec::new(),
            gateway_payloads: Vec::new(),
        }
    }

    fn hash(&self, i: usize) -> Hash {
        self.peers[i].0.hash()
    }

    /// Delivers every message sent until none is left; returns the creator's
    /// other actions, in order.
    fn relay(&mut self, now: Instant) -> Vec<TunnelAction> {
        let mut queue: VecDeque<(Hash, Hash, I2npMessage)> = VecDeque::new();
        let mut own = Vec::new();
        let me = self.keys.hash();
        loop {
            while let Some(action) = self.manager.poll_action() {
                match action {
                    TunnelAction::Send { to, msg } => queue.push_back((me, to, msg)),
                    other => own.push(other),
                }
            }
            for (keys, manager, _) in &mut self.peers {
                while let Some(action) = manager.poll_action() {
                    if let TunnelAction::Send { to, msg } = action {
                        queue.push_back((keys.hash(), to, msg));
                    }
                }
            }
            let Some((from, to, msg)) = queue.pop_front() else {
                return own;
            };
            self.delivered.push((from, to));
            if let MessageBody::TunnelGateway(gateway) = &msg.body {
                if let Ok(inner) = I2npMessage::decode(&gateway.message) {
                    self.gateway_payloads.push((from, inner.body.type_id()));
                }
            }
            if to == me {
                let rest =
                    self.manager
                        .handle_message(now, from, &self.keys, &mut self.profiles, msg);
                assert!(rest.is_none(), "only tunnel messages here");
            } else if let Some((keys, manager, profiles)) =
                self.peers.iter_mut().find(|(k, _, _)| k.hash() == to)
            {
                let _ = manager.handle_message(now, from, keys, profiles, msg);
            }
        }
    }

    /// The creator's builds in flight for its client pool: (direction, request).
    fn pending(&self) -> Vec<(Direction, Option<TunnelRequestId>)> {
        self.manager
            .pending
            .values()
            .filter(|p| p.pool == self.pool)
            .map(|p| (p.direction, p.request))
            .collect()
    }
}

#[test]
fn a_tunnel_through_named_peers_is_built_through_exactly_them() {
    let mut c = Creator::new(6);
    let (a, b) = (c.hash(4), c.hash(1));
    let inbound = c
        .manager
        .build_through(NOW, c.pool, Direction::Inbound, &[a, b], &c.store)
        .expect("a usable path");
    let outbound = c
        .manager
        .build_through(NOW, c.pool, Direction::Outbound, &[b, a], &c.store)
        .expect("a usable path");
    assert_eq!(
        (inbound, outbound),
        (TunnelRequestId(0), TunnelRequestId(1))
    );
    let actions = c.relay(NOW);

    let built: Vec<(Direction, Vec<Hash>)> = actions
        .iter()
        .filter_map(|a| match a {
            TunnelAction::Event(TunnelEvent::BuildFinished {
                direction,
                hops,
                outcome: BuildOutcome::Built,
                ..
            }) => Some((*direction, hops.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        built,
        [
            (Direction::Inbound, vec![a, b]),
            (Direction::Outbound, vec![b, a])
        ]
    );
    let leases = c.manager.leases(c.pool);
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].gateway, a, "the first named peer is the gateway");
    let expires = NOW + TunnelConfig::default().lifetime;
    let requested: Vec<&TunnelAction> = actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                TunnelAction::Requested { .. } | TunnelAction::InboundChanged(_)
            )
        })
        .collect();
    assert_eq!(
        requested,
        [
            &TunnelAction::Requested {
                pool: c.pool,
                request: inbound,
                status: TunnelStatus::Built {
                    expires,
                    lease: Some(leases[0]),
                },
            },
            &TunnelAction::InboundChanged(c.pool),
            &TunnelAction::Requested {
                pool: c.pool,
                request: outbound,
                status: TunnelStatus::Built {
                    expires,
                    lease: None
                },
            },
        ],
        "the status first, then the inbound change"
    );
    let pool = &c.manager.pools[&c.pool];
    assert_eq!(pool.inbound[0].hops, [a, b]);
    assert_eq!(pool.outbound[0].hops, [b, a]);
}

/// Builds through `path` at `now` and relays until done; the relayed messages.
fn build_and_relay(
    c: &mut Creator,
    now: Instant,
    direction: Direction,
    path: &[Hash],
) -> Vec<(Hash, Hash)> {
    c.manager
        .build_through(now, c.pool, direction, path, &c.store)
        .expect("a usable path");
    let before = c.delivered.len();
    c.relay(now);
    c.delivered.split_off(before)
}

#[test]
fn an_outbound_build_reply_avoids_an_inbound_gateway_at_its_endpoint() {
    let mut c = Creator::new(6);
    let [a, b, x, y] = [0, 1, 2, 3].map(|i| c.hash(i));
    build_and_relay(&mut c, NOW, Direction::Inbound, &[x, y]);
    // The newest inbound tunnel has its gateway at `a`...
    let later = NOW + Duration::from_secs(1);
    build_and_relay(&mut c, later, Direction::Inbound, &[a, b]);
    // ...where this outbound tunnel ends: its reply comes back through `x` instead.
    let sent = build_and_relay(&mut c, later, Direction::Outbound, &[b, a]);
    assert!(
        sent.contains(&(a, x)),
        "the reply went to x's gateway: {sent:?}"
    );
    assert_eq!(c.manager.pool_tunnels(c.pool).1, 1, "built");
    // Garlic-wrapped, as x must not read it.
    assert_eq!(
        c.gateway_payloads.last(),
        Some(&(a, crate::i2np::message_type::GARLIC))
    );

    // A one-hop tunnel's endpoint knows us anyway: with only `a`'s inbound tunnel
    // left to pick, it answers us directly rather than into a gateway at itself.
    let mut c = Creator::new(4);
    let me = c.keys.hash();
    let [a, b] = [0, 1].map(|i| c.hash(i));
    build_and_relay(&mut c, NOW, Direction::Inbound, &[a, b]);
    let sent = build_and_relay(&mut c, NOW, Direction::Outbound, &[a]);
    assert_eq!(sent, [(me, a), (a, me)], "zero-hop reply");
}

#[test]
fn an_endpoint_that_is_its_replys_gateway_sends_the_reply_plain() {
    let mut c = Creator::new(4);
    let [a, b] = [0, 1].map(|i| c.hash(i));
    build_and_relay(&mut c, NOW, Direction::Inbound, &[a, b]);
    // Two hops and no other inbound tunnel: the reply goes back through `a` itself,
    // which has nobody to hide it from.
    build_and_relay(&mut c, NOW, Direction::Outbound, &[b, a]);
    assert_eq!(c.manager.pool_tunnels(c.pool).1, 1, "built");
    assert_eq!(
        c.gateway_payloads.last(),
        Some(&(a, crate::i2np::message_type::OUTBOUND_TUNNEL_BUILD_REPLY))
    );
}

#[test]
fn named_tunnels_count_towards_the_pool_and_are_not_rebuilt_through_their_peers() {
    let mut c = Creator::new(8);
    let path = [c.hash(2), c.hash(5)];
    c.manager
        .build_through(NOW, c.pool, Direction::Inbound, &path, &c.store)
        .expect("a usable path");
    // Being built, it stands for the pool's one inbound tunnel.
    c.manager.handle_timeout(NOW, &c.store, &mut c.profiles);
    let mut pending = c.pending();
    pending.sort_by_key(|(d, _)| *d == Direction::Outbound);
    assert_eq!(
        pending,
        [
            (Direction::Inbound, Some(TunnelRequestId(0))),
            (Direction::Outbound, None)
        ]
    );
    c.relay(NOW);
    assert_eq!(c.manager.pool_tunnels(c.pool), (1, 1));
    assert!(c.pending().is_empty());

    // At its rebuild time the pool builds a tunnel of its own choosing: nobody asked
    // for these peers again.
    let config = TunnelConfig::default();
    let rebuild = NOW + config.lifetime - config.rebuild_before;
    c.manager.handle_timeout(rebuild, &c.store, &mut c.profiles);
    assert!(c.pending().contains(&(Direction::Inbound, None)));
    assert!(c.pending().iter().all(|(_, request)| request.is_none()));
}

#[test]
fn refused_paths_send_nothing_and_draw_nothing() {
    let mut c = Creator::new(3);
    let me = c.keys.hash();
    let (a, b) = (c.hash(0), c.hash(1));
    let stranger = Hash([0x42; 32]);
    let word = c.manager.rng.get_word_pos();
    let mut refuse = |pool, path: &[Hash]| {
        c.manager
            .build_through(NOW, pool, Direction::Inbound, path, &c.store)
            .expect_err("refused")
    };
    assert_eq!(
        refuse(PoolId::Client(9), &[a]),
        BuildThroughError::UnknownPool
    );
    let pool = c.pool;
    let errors = [
        refuse(pool, &[]),
        refuse(pool, &[a; 8]),
        refuse(pool, &[a, me]),
        refuse(pool, &[a, b, a]),
        refuse(pool, &[a, stranger]),
    ];
    assert_eq!(
        errors.map(|e| match e {
            BuildThroughError::Path(e) => e,
            other => panic!("{other:?}"),
        }),
        [
            PathError::Empty,
            PathError::TooLong { hops: 8, max: 7 },
            PathError::Ourselves { hop: 1 },
            PathError::Duplicate { hop: 2, peer: a },
            PathError::UnknownPeer {
                hop: 1,
                peer: stranger
            },
        ]
    );
    assert_eq!(c.manager.rng.get_word_pos(), word, "no randomness drawn");
    assert!(c.manager.poll_action().is_none());
    assert!(c.manager.pending.is_empty());
    // The first accepted request is still number 0.
    let first = c
        .manager
        .build_through(NOW, pool, Direction::Outbound, &[a, b], &c.store);
    assert_eq!(first, Ok(TunnelRequestId(0)));
}

#[test]
fn a_named_build_that_times_out_is_reported_and_backs_nothing_off() {
    let mut c = Creator::new(3);
    let path = [c.hash(0), c.hash(2)];
    let request = c
        .manager
        .build_through(NOW, c.pool, Direction::Outbound, &path, &c.store)
        .expect("a usable path");
    // The build message is lost.
    while c.manager.poll_action().is_some() {}
    let deadline = NOW + TunnelConfig::default().build_timeout;
    c.manager
        .handle_timeout(deadline, &c.store, &mut c.profiles);
    let mut statuses = Vec::new();
    while let Some(action) = c.manager.poll_action() {
        if let TunnelAction::Requested {
            request, status, ..
        } = action
        {
            statuses.push((request, status));
        }
    }
    assert_eq!(statuses, [(request, TunnelStatus::TimedOut)]);
    assert!(c.manager.pools[&c.pool].may_build_at() <= deadline);
}
