//! The tunnel manager: this router's own tunnels, in pools (built, tested, rebuilt before
//! they expire), and the tunnels it takes part in for others.
//!
//! Sans-IO like the netDb: inputs are the tunnel messages (TunnelData, TunnelGateway,
//! ShortTunnelBuild, OutboundTunnelBuildReply) and timeouts; outputs are [`TunnelAction`]s.
//! What arrives through our own inbound tunnels and is not the manager's (anything but
//! build replies and tunnel tests) goes back to the router as [`TunnelAction::Deliver`],
//! naming the pool it came through.
//!
//! Inbound builds reach their gateway through one of our outbound tunnels; the outbound
//! endpoint of an outbound build garlic-wraps its reply for us. Not yet here: the
//! previous-hop check of participants.
//!
//! Besides the tunnels a pool selects hops for itself, a caller may ask for one tunnel
//! through peers it names ([`TunnelManager::build_through`]; proposal 140's "Create
//! Tunnel"). Once built it is one of the pool's tunnels like any other: it counts
//! towards the pool's tunnel count, carries traffic and is tested. It is not built
//! again through the same peers: if no other tunnel has come by its rebuild time, the
//! pool replaces it with one of its own choosing, so that the pool never runs dry.

use super::build::{
    self, BuildDirection, BuildError, BuildRequest, BuildSend, HopRole, HopSpec, PendingBuild,
    ReplyStatus,
};
use super::data::{Delivery, Endpoint, Gateway, NextHop, Participant, ReplayFilter};
use super::direct::DirectPeers;
use super::pool::{InboundLease, OwnInbound, OwnOutbound, Pool, PoolConfig, PoolId};
use crate::crypto::{RouterKeys, SharedSecrets};
use crate::data::{Hash, RouterInfo, TunnelId};
use crate::garlic::wrap;
use crate::i2np::{
    BuildRecords, DeliveryStatus, Garlic, I2npMessage, MessageBody, TunnelData, TunnelGateway,
};
use crate::limit::{Limiter, PeerLimiter, PeerRateLimit, RateLimit};
use crate::netdb::RouterInfoStore;
use crate::profile::selection::{check_path, Direction, PathError};
use crate::profile::{Observation, Profiles, SelectionRules, TierConfig, Tiers};
use crate::time::Instant;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Tunnel parameters (DESIGN.md: exploratory 2 hops, 2 tunnels per direction, 10-minute
/// lifetime, rebuilt about 90 s before expiry, build timeout 13 to 30 s).
#[derive(Debug, Clone, PartialEq)]
pub struct TunnelConfig {
    pub exploratory_hops: usize,
    pub exploratory_tunnels: usize,
    /// How exploratory hops are chosen (default: not failing, random order).
    pub exploratory_selection: SelectionRules,
    pub lifetime: Duration,
    pub rebuild_before: Duration,
    pub build_timeout: Duration,
    /// Each outbound tunnel is tested this often, through one of our inbound tunnels.
    pub test_interval: Duration,
    pub test_timeout: Duration,
    /// Tunnels we take part in for others, at most; requests beyond are rejected with
    /// code 30 (bandwidth), the one rejection code routers send.
    pub max_participating: usize,
    /// Build requests handled per previous hop (the router that handed us the request)
    /// per window. Beyond the limit a request is rejected with code 30; beyond twice the
    /// limit it is dropped before decryption, since an answer costs the same X25519
    /// operation as an acceptance and a flooder's builds time out either way. For an
    /// inbound gateway the previous hop is the outbound endpoint of the creator's
    /// tunnel, or the creator. Java I2P also drops requests over a per-previous-hop
    /// count before decrypting them (7 to 27 per 110 s, scaling with its tunnel count)
    /// and rejects those over a second, lower count after. Default: 60 a minute, ten
    /// times what one previous hop handed a single hop in our simulations (5 in
    /// tunnels-baseline), tracking up to 10,000 previous hops.
    pub build_requests_per_hop: Option<PeerRateLimit>,
    /// Tunnels accepted per window, on top of `max_participating`: a flood from many
    /// routers then fills our participating tunnels at this pace at most, leaving the
    /// rest for the requests that come after. Java I2P also limits how fast its
    /// participating count may grow, not only its size (against its ten-minute average).
    /// Default: 400 a minute, twice the rate that keeps 2,000 ten-minute tunnels in
    /// place.
    pub build_accept_rate: Option<RateLimit>,
    /// Messages the replay filter is sized for per generation.
    pub replay_capacity: usize,
    pub tiers: TierConfig,
}

impl Default for TunnelConfig {
    fn default() -> Self {
        Self {
            exploratory_hops: 2,
            exploratory_tunnels: 2,
            exploratory_selection: SelectionRules::exploratory(),
            lifetime: Duration::from_secs(u64::from(build::TUNNEL_LIFETIME_SECS)),
            rebuild_before: Duration::from_secs(90),
            build_timeout: Duration::from_secs(20),
            test_interval: Duration::from_secs(60),
            test_timeout: Duration::from_secs(10),
            max_participating: 2000,
            build_requests_per_hop: Some(PeerRateLimit {
                max: 60,
                window: Duration::from_secs(60),
                tracked_peers: 10_000,
            }),
            build_accept_rate: Some(RateLimit {
                max: 400,
                window: Duration::from_secs(60),
            }),
            replay_capacity: 4096,
            tiers: TierConfig::default(),
        }
    }
}

/// What the tunnel manager wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelAction {
    /// Send `msg`, id and expiration already set, to `to`.
    Send {
        to: Hash,
        msg: I2npMessage,
    },
    /// A message that came to us through an inbound tunnel of `pool`, for the router.
    Deliver {
        pool: PoolId,
        msg: I2npMessage,
    },
    /// The inbound tunnels of `pool` changed: one was built, expired or failed its test.
    /// A destination republishes its LeaseSet on this.
    InboundChanged(PoolId),
    /// A build asked for with [`TunnelManager::build_through`] ended. For a built
    /// inbound tunnel this comes just before its [`TunnelAction::InboundChanged`].
    Requested {
        pool: PoolId,
        request: TunnelRequestId,
        status: TunnelStatus,
    },
    Event(TunnelEvent),
}

/// Names one build asked for with [`TunnelManager::build_through`]; its
/// [`TunnelStatus`] comes back with it. Numbered from 0 per router, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TunnelRequestId(pub u64);

/// How a tunnel built through named peers came out (proposal 140's "Tunnel Status").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelStatus {
    /// Built through exactly the peers named; it serves until `expires`. An inbound
    /// tunnel comes with its lease (the first named peer is its gateway).
    Built {
        expires: Instant,
        lease: Option<InboundLease>,
    },
    /// The peer at index `hop` of those named declined (the first that did; every
    /// rejection is code 30, which does not say why).
    Rejected { hop: usize },
    /// No answer within the build timeout, or the first peer could not be reached.
    TimedOut,
}

/// Why [`TunnelManager::build_through`] refused a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BuildThroughError {
    #[error("no such tunnel pool")]
    UnknownPool,
    #[error(transparent)]
    Path(#[from] PathError),
    /// Only when a named peer's RouterInfo has an unusable encryption key.
    #[error("the build request could not be made")]
    Unbuildable,
}

/// How a build of one of our tunnels ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildOutcome {
    Built,
    /// At least one hop declined; `hop` is the first that did.
    Rejected {
        hop: u8,
        status: ReplyStatus,
    },
    TimedOut,
}

/// Observations of the tunnel layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelEvent {
    BuildFinished {
        pool: PoolId,
        direction: Direction,
        /// The hops asked, in tunnel order (the gateway end first).
        hops: Vec<Hash>,
        outcome: BuildOutcome,
        started: Instant,
    },
    TestFinished {
        passed: bool,
        started: Instant,
    },
    /// A build request reached us as a hop.
    BuildRequestHandled {
        accepted: bool,
    },
    /// What a hop sees of a tunnel it joined: its role, the router the build request came
    /// from, and the router it sends to. This is all an observer at that hop learns.
    Joined {
        role: HopRole,
        previous: Hash,
        next: Hash,
    },
}

/// What the build-request throttles dropped or rejected, the work of handling requests,
/// and the participating tunnels held. Counts are cumulative since the router was created;
/// sizes are current.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TunnelLoad {
    /// Requests rejected (code 30) because their previous hop was over
    /// [`TunnelConfig::build_requests_per_hop`].
    pub builds_rejected_per_hop: u64,
    /// Requests dropped undecrypted: their previous hop was over twice that limit.
    pub builds_dropped_per_hop: u64,
    /// Requests rejected by [`TunnelConfig::build_accept_rate`].
    pub builds_rejected_rate: u64,
    /// Requests rejected because we were at `max_participating`.
    pub builds_rejected_full: u64,
    /// Build records addressed to us that we tried to decrypt (one X25519 each).
    pub build_records_decrypted: u64,
    /// Tunnels we take part in.
    pub participating: usize,
    /// Previous hops counted by the per-hop limit.
    pub limited_hops: usize,
    /// The most requests one previous hop made in the current or last window.
    pub peak_builds_per_hop: u32,
}

/// Why a build request is dropped before it is read, or rejected once it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Throttle {
    /// Its previous hop is over twice its limit: dropped.
    DropPerHop,
    /// Its previous hop is over its limit: rejected.
    PerHop,
    /// We accepted as many tunnels as the window allows: rejected.
    Rate,
    /// We are at `max_participating`: rejected.
    Full,
}

/// A tunnel we take part in for someone else.
#[derive(Debug)]
struct Hop {
    role: HopState,
}

#[derive(Debug)]
enum HopState {
    InboundGateway(Gateway),
    Participant(Participant),
    OutboundEndpoint(Endpoint),
}

#[derive(Debug)]
struct PendingTunnel {
    pool: PoolId,
    direction: Direction,
    hops: Vec<HopSpec>,
    build: PendingBuild,
    started: Instant,
    deadline: Instant,
    /// The inbound tunnel id we will receive on (inbound builds).
    endpoint_tunnel: Option<TunnelId>,
    /// The router we handed the build message to ourselves, when not through a tunnel.
    sent_to: Option<Hash>,
    /// Set when the hops were named by the caller ([`TunnelManager::build_through`]).
    request: Option<TunnelRequestId>,
}

#[derive(Debug)]
struct PendingTest {
    pool: PoolId,
    /// The tunnels under test: the outbound one (by its hops) and the inbound one.
    outbound_hops: Vec<Hash>,
    inbound: TunnelId,
    hops: Vec<Hash>,
    started: Instant,
    deadline: Instant,
}

/// The tunnels of one router.
#[derive(Debug)]
pub struct TunnelManager {
    config: TunnelConfig,
    me: Hash,
    rng: ChaCha20Rng,
    replays: ReplayFilter,
    participating: BTreeMap<TunnelId, Hop>,
    /// The participating hops by expiry, so that the next one is found without a scan
    /// (a busy router takes part in thousands). Hops leave only by expiring.
    hop_expiries: BTreeSet<(Instant, TunnelId)>,
    pools: BTreeMap<PoolId, Pool>,
    next_client_pool: u32,
    next_request: u64,
    /// Pending builds by the message id their reply comes back with.
    pending: BTreeMap<u32, PendingTunnel>,
    tests: BTreeMap<u32, PendingTest>,
    /// Tunnel ids we receive on without any hop: replies to outbound builds made before
    /// we had an inbound tunnel.
    zero_hop: BTreeSet<TunnelId>,
    tiers: Tiers,
    /// When to look at the pools next: now after a build ends, later after a failed
    /// attempt, never while nothing can change. Expiries and build deadlines wake us
    /// on their own.
    check_pools_at: Instant,
    transit_messages: u64,
    hop_limiter: Option<PeerLimiter>,
    accept_limiter: Option<Limiter>,
    load: TunnelLoad,
    actions: VecDeque<TunnelAction>,
    /// Build secrets shared with the other routers of this process, when there are any.
    shared_secrets: Option<Arc<SharedSecrets>>,
    /// For a router that cannot be dialled: the peers it holds sessions with.
    direct: Option<DirectPeers>,
}

impl TunnelManager {
    pub fn new(config: TunnelConfig, me: Hash, now: Instant, mut rng: ChaCha20Rng) -> Self {
        let replays = ReplayFilter::new(&mut rng, config.replay_capacity, now);
        let exploratory = Pool::new(
            PoolConfig {
                hops: config.exploratory_hops,
                count: config.exploratory_tunnels,
                rules: config.exploratory_selection.clone(),
            },
            &mut rng,
        );
        Self {
            hop_limiter: config.build_requests_per_hop.map(PeerLimiter::new),
            accept_limiter: config.build_accept_rate.map(Limiter::new),
            load: TunnelLoad::default(),
            config,
            me,
            rng,
            replays,
            participating: BTreeMap::new(),
            hop_expiries: BTreeSet::new(),
            pools: BTreeMap::from([(PoolId::Exploratory, exploratory)]),
            next_client_pool: 0,
            next_request: 0,
            pending: BTreeMap::new(),
            tests: BTreeMap::new(),
            zero_hop: BTreeSet::new(),
            tiers: Tiers::default(),
            check_pools_at: now,
            transit_messages: 0,
            actions: VecDeque::new(),
            shared_secrets: None,
            direct: None,
        }
    }

    /// We cannot be dialled: the last hop of each inbound tunnel of ours is a peer we
    /// hold a session with ([`DirectPeers`]).
    pub fn firewall(&mut self) {
        self.direct = Some(DirectPeers::default());
    }

    /// We sent to `peers` directly at `now` (noted only when we cannot be dialled).
    pub fn sent_directly<'a>(&mut self, now: Instant, peers: impl Iterator<Item = &'a Hash>) {
        if let Some(direct) = self.direct.as_mut() {
            peers.for_each(|p| direct.note(now, *p));
        }
    }

    pub fn poll_action(&mut self) -> Option<TunnelAction> {
        self.actions.pop_front()
    }

    /// Built inbound and outbound tunnels of our own, over all pools.
    pub fn own_tunnels(&self) -> (usize, usize) {
        self.pools.values().fold((0, 0), |(i, o), p| {
            (i + p.inbound.len(), o + p.outbound.len())
        })
    }

    /// Built inbound and outbound tunnels of one pool.
    pub fn pool_tunnels(&self, pool: PoolId) -> (usize, usize) {
        self.pools
            .get(&pool)
            .map_or((0, 0), |p| (p.inbound.len(), p.outbound.len()))
    }

    /// Adds a pool (a local destination's); its tunnels are built from the next timeout on.
    pub fn add_pool(&mut self, now: Instant, config: PoolConfig) -> PoolId {
        let id = PoolId::Client(self.next_client_pool);
        self.next_client_pool += 1;
        self.pools.insert(id, Pool::new(config, &mut self.rng));
        self.check_pools_at = now;
        id
    }

    /// Drops a client pool and its tunnels (the exploratory pool stays).
    pub fn remove_pool(&mut self, pool: PoolId) {
        if pool != PoolId::Exploratory {
            self.pools.remove(&pool);
            self.pending.retain(|_, p| p.pool != pool);
            self.tests.retain(|_, t| t.pool != pool);
        }
    }

    /// The inbound tunnels of `pool`, as Leases.
    pub fn leases(&self, pool: PoolId) -> Vec<InboundLease> {
        self.pools.get(&pool).map_or_else(Vec::new, Pool::leases)
    }

    /// Where replies to `pool` should be sent: the gateway and tunnel id of its inbound
    /// tunnel with the longest life left.
    pub fn reply_path(&self, pool: PoolId) -> Option<(Hash, TunnelId)> {
        let t = self.pools.get(&pool)?.newest_inbound()?;
        Some((t.gateway, t.gateway_tunnel))
    }

    /// Sends `msg` through one of `pool`'s outbound tunnels, chosen at random; its
    /// endpoint delivers it as `delivery` says. False when the pool has no outbound
    /// tunnel or the message cannot be sent.
    pub fn send_out(
        &mut self,
        now: Instant,
        pool: PoolId,
        delivery: Delivery,
        msg: &I2npMessage,
    ) -> bool {
        let Some(p) = self.pools.get(&pool) else {
            return false;
        };
        if p.outbound.is_empty() {
            return false;
        }
        let out = &p.outbound[self.rng.gen_range(0..p.outbound.len())];
        let first = out.gateway.next_hop();
        let Ok(data) = out
            .gateway
            .send(&mut self.rng, &[(delivery, &msg.encode())])
        else {
            return false;
        };
        for d in data {
            self.send(now, first.router, MessageBody::TunnelData(d));
        }
        true
    }

    pub fn participating(&self) -> usize {
        self.participating.len()
    }

    /// Tunnel messages forwarded for others so far.
    pub fn transit_messages(&self) -> u64 {
        self.transit_messages
    }

    /// What the build-request throttles refused, the decryption work and the
    /// participating tunnels held.
    pub fn load(&self) -> TunnelLoad {
        TunnelLoad {
            participating: self.participating.len(),
            limited_hops: self.hop_limiter.as_ref().map_or(0, PeerLimiter::tracked),
            peak_builds_per_hop: self.hop_limiter.as_ref().map_or(0, PeerLimiter::peak),
            ..self.load
        }
    }

    pub fn tiers(&self) -> &Tiers {
        &self.tiers
    }

    /// Forgets everything, as after a crash: tunnels do not survive a restart.
    pub fn restart(&mut self, now: Instant) {
        self.participating.clear();
        self.hop_expiries.clear();
        for pool in self.pools.values_mut() {
            pool.clear();
        }
        self.pending.clear();
        self.tests.clear();
        self.zero_hop.clear();
        self.actions.clear();
        if let Some(limiter) = self.hop_limiter.as_mut() {
            limiter.clear();
        }
        if let Some(limiter) = self.accept_limiter.as_mut() {
            limiter.clear();
        }
        self.check_pools_at = now;
    }

    /// Shares build secrets with the other routers of this process (see
    /// [`SharedSecrets`]): a simulator's saving, never a change of behaviour.
    pub fn share_secrets(&mut self, memo: Arc<SharedSecrets>) {
        self.shared_secrets = Some(memo);
    }

    /// When [`TunnelManager::handle_timeout`] wants to run next.
    pub fn poll_timeout(&self) -> Instant {
        // A tunnel wakes us at its rebuild time (until that is handled) and at expiry.
        let rebuild = |expires: Instant, replacing: bool| {
            if replacing {
                expires
            } else {
                expires - self.config.rebuild_before
            }
        };
        let pending = self.pending.values().map(|p| p.deadline);
        let tests = self.tests.values().map(|t| t.deadline);
        let inbound = self
            .pools
            .values()
            .flat_map(|p| &p.inbound)
            .map(|t| rebuild(t.expires, t.replacing));
        let outbound = self
            .pools
            .values()
            .flat_map(|p| &p.outbound)
            .flat_map(|t| [rebuild(t.expires, t.replacing), t.next_test]);
        let hops = self.hop_expiries.first().map(|(at, _)| *at);
        pending
            .chain(tests)
            .chain(inbound)
            .chain(outbound)
            .chain(hops)
            .chain([self.check_pools_at])
            .min()
            .unwrap_or(Instant::MAX)
    }

    /// Expires tunnels, times out builds and tests, starts tests and builds.
    /// `peers` is what the netDb knows: the candidates for hops.
    /// The transport could not reach `peer`: builds whose request we sent it ourselves
    /// fail now rather than at their timeout, and the pool builds anew at once. Only
    /// `peer` is charged; the other hops never saw the request.
    pub fn peer_unreachable(&mut self, now: Instant, peer: Hash, profiles: &mut Profiles) {
        let failed: Vec<u32> = self
            .pending
            .iter()
            .filter(|(_, p)| p.sent_to == Some(peer))
            .map(|(id, _)| *id)
            .collect();
        for id in failed {
            self.build_timed_out(now, id, Some(peer), profiles);
        }
    }

    /// Ends pending build `id` as timed out and has its pool build anew. `blame` is the
    /// one hop at fault when known; otherwise every hop is charged (any may have dropped
    /// the request).
    fn build_timed_out(
        &mut self,
        now: Instant,
        id: u32,
        blame: Option<Hash>,
        profiles: &mut Profiles,
    ) {
        self.check_pools_at = now;
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        let hops: Vec<Hash> = p.hops.iter().map(|h| h.router).collect();
        let charged = match &blame {
            Some(peer) => std::slice::from_ref(peer),
            None => &hops[..],
        };
        for hop in charged {
            profiles.record(now, *hop, Observation::BuildTimedOut);
        }
        self.event(TunnelEvent::BuildFinished {
            pool: p.pool,
            direction: p.direction,
            hops,
            outcome: BuildOutcome::TimedOut,
            started: p.started,
        });
        self.requested(p.pool, p.request, TunnelStatus::TimedOut);
    }

    /// Reports the end of a build when a caller asked for it by name.
    fn requested(&mut self, pool: PoolId, request: Option<TunnelRequestId>, status: TunnelStatus) {
        if let Some(request) = request {
            self.actions.push_back(TunnelAction::Requested {
                pool,
                request,
                status,
            });
        }
    }

    pub fn handle_timeout(
        &mut self,
        now: Instant,
        peers: &RouterInfoStore,
        profiles: &mut Profiles,
    ) {
        while let Some(&(at, id)) = self.hop_expiries.first() {
            if at > now {
                break;
            }
            self.hop_expiries.pop_first();
            self.participating.remove(&id);
        }
        for hop in self.participating.values_mut() {
            if let HopState::OutboundEndpoint(endpoint) = &mut hop.role {
                endpoint.handle_timeout(now);
            }
        }
        let mut changed = Vec::new();
        for (id, pool) in &mut self.pools {
            let before = pool.inbound.len();
            pool.inbound.retain(|t| t.expires > now);
            if pool.inbound.len() != before {
                changed.push(*id);
            }
            pool.outbound.retain(|t| t.expires > now);
        }
        for pool in changed {
            self.actions.push_back(TunnelAction::InboundChanged(pool));
        }
        // A tunnel reaching its rebuild time is a reason to look at the pools, once.
        let rebuild_at = now + self.config.rebuild_before;
        let mut due = false;
        for pool in self.pools.values_mut() {
            let inbound = pool
                .inbound
                .iter_mut()
                .map(|t| (t.expires, &mut t.replacing));
            let outbound = pool
                .outbound
                .iter_mut()
                .map(|t| (t.expires, &mut t.replacing));
            for (expires, replacing) in inbound.chain(outbound) {
                if !*replacing && expires <= rebuild_at {
                    *replacing = true;
                    due = true;
                }
            }
        }
        if due {
            self.check_pools_at = self.check_pools_at.min(now);
        }

        let timed_out: Vec<u32> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in timed_out {
            self.build_timed_out(now, id, None, profiles);
        }
        let failed_tests: Vec<u32> = self
            .tests
            .iter()
            .filter(|(_, t)| t.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in failed_tests {
            if let Some(test) = self.tests.remove(&id) {
                for hop in &test.hops {
                    profiles.record(now, *hop, Observation::TunnelTestFailed);
                }
                // Either tunnel may be broken; neither is trusted with traffic or build
                // replies any more, and both are replaced.
                if let Some(pool) = self.pools.get_mut(&test.pool) {
                    pool.outbound.retain(|t| t.hops != test.outbound_hops);
                    pool.inbound.retain(|t| t.tunnel != test.inbound);
                    self.actions
                        .push_back(TunnelAction::InboundChanged(test.pool));
                }
                self.check_pools_at = now;
                self.event(TunnelEvent::TestFinished {
                    passed: false,
                    started: test.started,
                });
            }
        }
        self.start_tests(now);
        self.maintain_pools(now, peers, profiles);
    }

    /// Handles a tunnel message; hands any other message back.
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: Hash,
        keys: &RouterKeys,
        profiles: &mut Profiles,
        msg: I2npMessage,
    ) -> Option<I2npMessage> {
        let id = msg.id;
        match msg.body {
            MessageBody::TunnelData(data) => self.handle_tunnel_data(now, profiles, data),
            MessageBody::TunnelGateway(gateway) => {
                self.handle_tunnel_gateway(now, profiles, gateway)
            }
            MessageBody::ShortTunnelBuild(records) => {
                if self.pending.contains_key(&id) {
                    // Our inbound build, back from its last hop.
                    self.handle_build_reply(now, profiles, id, &records);
                } else {
                    self.handle_build_request(now, from, keys, &records);
                }
            }
            MessageBody::OutboundTunnelBuildReply(records) => {
                self.handle_build_reply(now, profiles, id, &records)
            }
            body => return Some(I2npMessage { body, ..msg }),
        }
        None
    }

    fn event(&mut self, event: TunnelEvent) {
        self.actions.push_back(TunnelAction::Event(event));
    }

    fn send(&mut self, now: Instant, to: Hash, body: MessageBody) {
        let expiration_ms = (now + Duration::from_secs(60)).as_millis();
        let msg = I2npMessage::with_random_id(&mut self.rng, expiration_ms, body);
        self.actions.push_back(TunnelAction::Send { to, msg });
    }

    fn handle_build_request(
        &mut self,
        now: Instant,
        from: Hash,
        keys: &RouterKeys,
        records: &BuildRecords,
    ) {
        let throttle = self.throttle(now, from);
        if throttle == Some(Throttle::DropPerHop) {
            self.load.builds_dropped_per_hop += 1;
            return;
        }
        let taken = &self.participating;
        // Every rejection is code 30: ECIES build replies carry 0 or 30 only
        // (tunnel-creation-ecies), so that the code does not tell why.
        let memo = self.shared_secrets.as_deref();
        let outcome = build::handle_request(keys, records, now, &mut self.rng, memo, |request| {
            if throttle.is_some() || taken.contains_key(&request.receive_tunnel) {
                // (A tunnel id in use is a collision or a replayed request.)
                ReplyStatus::RejectBandwidth
            } else {
                ReplyStatus::Accept
            }
        });
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                if error != BuildError::NotForUs {
                    self.load.build_records_decrypted += 1;
                }
                return; // not for us, stale, or broken: dropped
            }
        };
        self.load.build_records_decrypted += 1;
        match throttle {
            Some(Throttle::PerHop) => self.load.builds_rejected_per_hop += 1,
            Some(Throttle::Rate) => self.load.builds_rejected_rate += 1,
            Some(Throttle::Full) => self.load.builds_rejected_full += 1,
            Some(Throttle::DropPerHop) | None => {}
        }
        if outcome.hop.is_some() {
            if let Some(limiter) = self.accept_limiter.as_mut() {
                limiter.record(now);
            }
        }
        self.event(TunnelEvent::BuildRequestHandled {
            accepted: outcome.hop.is_some(),
        });
        if let Some(hop) = outcome.hop {
            self.event(TunnelEvent::Joined {
                role: hop.role,
                previous: from,
                next: hop.next_router,
            });
            let next = NextHop {
                router: hop.next_router,
                tunnel: hop.next_tunnel,
            };
            let role = match hop.role {
                HopRole::InboundGateway => {
                    HopState::InboundGateway(Gateway::inbound(&hop.layer_keys, next))
                }
                HopRole::Participant => {
                    HopState::Participant(Participant::new(&hop.layer_keys, next))
                }
                HopRole::OutboundEndpoint => {
                    HopState::OutboundEndpoint(Endpoint::outbound(&hop.layer_keys))
                }
            };
            // A request for a tunnel id in use was rejected above: nothing is replaced.
            self.participating.insert(hop.receive_tunnel, Hop { role });
            self.hop_expiries
                .insert((hop.expires_at, hop.receive_tunnel));
        }
        match outcome.send {
            BuildSend::NextHop { router, msg } => self
                .actions
                .push_back(TunnelAction::Send { to: router, msg }),
            BuildSend::ReplyTunnel {
                gateway,
                tunnel,
                msg,
                garlic,
            } => {
                // Garlic-wrapped under the key and tag the creator derived for us, so the
                // reply tunnel's gateway cannot read the build result. When that gateway
                // is us there is nobody to hide it from, and the creator expects it
                // plain: i2pd registers the garlic key only for a gateway that is not
                // the endpoint, and could not read our replies to its one-hop builds.
                let msg = if gateway == self.me {
                    msg
                } else {
                    let expiration_ms = msg.expiration_ms;
                    let Ok(garlic) = wrap::as_reply(&garlic.key, garlic.tag, msg) else {
                        return; // a build reply always fits: the creator's build times out
                    };
                    I2npMessage::with_random_id(
                        &mut self.rng,
                        expiration_ms,
                        MessageBody::Garlic(garlic),
                    )
                };
                let body = MessageBody::TunnelGateway(TunnelGateway {
                    tunnel_id: tunnel,
                    message: msg.encode(),
                });
                self.send(now, gateway, body);
            }
        }
    }

    /// Whether a build request from the previous hop `from` is to be dropped or
    /// rejected, and why. Counts the request against `from`.
    fn throttle(&mut self, now: Instant, from: Hash) -> Option<Throttle> {
        if let Some(limiter) = self.hop_limiter.as_mut() {
            let count = limiter.hit(now, from);
            let max = limiter.limit().max;
            if count > max.saturating_mul(2) {
                return Some(Throttle::DropPerHop);
            }
            if count > max {
                return Some(Throttle::PerHop);
            }
        }
        if self.participating.len() >= self.config.max_participating {
            return Some(Throttle::Full);
        }
        let room = self
            .accept_limiter
            .as_mut()
            .is_none_or(|limiter| limiter.has_room(now));
        (!room).then_some(Throttle::Rate)
    }

    fn handle_build_reply(
        &mut self,
        now: Instant,
        profiles: &mut Profiles,
        id: u32,
        records: &BuildRecords,
    ) {
        let Some(pending) = self.pending.get(&id) else {
            return;
        };
        let Ok(replies) = pending.build.handle_reply(records) else {
            return; // forged or broken: the build times out
        };
        let Some(pending) = self.pending.remove(&id) else {
            return;
        };
        self.check_pools_at = now;
        let mut rejected = None;
        for (i, reply) in replies.iter().enumerate() {
            let observation = if reply.status.is_accept() {
                Observation::BuildAccepted
            } else {
                rejected.get_or_insert((i as u8, reply.status));
                Observation::BuildRejected
            };
            profiles.record(now, reply.router, observation);
        }
        let outcome = match rejected {
            Some((hop, status)) => BuildOutcome::Rejected { hop, status },
            None => BuildOutcome::Built,
        };
        self.event(TunnelEvent::BuildFinished {
            pool: pending.pool,
            direction: pending.direction,
            hops: pending.hops.iter().map(|h| h.router).collect(),
            outcome,
            started: pending.started,
        });
        // Named peers say nothing about the ones the pool selects: no backoff from them.
        if let (Some(pool), None) = (self.pools.get_mut(&pending.pool), pending.request) {
            match rejected {
                Some(_) => pool.build_rejected(now),
                None => pool.build_accepted(),
            }
        }
        if let Some((hop, _)) = rejected {
            let status = TunnelStatus::Rejected {
                hop: usize::from(hop),
            };
            self.requested(pending.pool, pending.request, status);
            return;
        }
        let keys: Vec<_> = replies.into_iter().filter_map(|r| r.layer_keys).collect();
        let hops: Vec<Hash> = pending.hops.iter().map(|h| h.router).collect();
        let expires = now + self.config.lifetime;
        let first = NextHop {
            router: pending.hops[0].router,
            tunnel: pending.hops[0].receive_tunnel,
        };
        let Some(pool) = self.pools.get_mut(&pending.pool) else {
            return; // the pool was removed while the build was under way
        };
        match (pending.direction, pending.endpoint_tunnel) {
            (Direction::Inbound, Some(tunnel)) => {
                pool.inbound.push(OwnInbound {
                    tunnel,
                    gateway: first.router,
                    gateway_tunnel: first.tunnel,
                    hops,
                    endpoint: Endpoint::inbound(&keys),
                    expires,
                    replacing: false,
                });
                let lease = InboundLease {
                    gateway: first.router,
                    tunnel: first.tunnel,
                    expires,
                };
                let status = TunnelStatus::Built {
                    expires,
                    lease: Some(lease),
                };
                self.requested(pending.pool, pending.request, status);
                self.actions
                    .push_back(TunnelAction::InboundChanged(pending.pool));
            }
            _ => {
                let jitter = self
                    .rng
                    .gen_range(0..self.config.test_interval.as_millis() as u64);
                pool.outbound.push(OwnOutbound {
                    hops,
                    gateway: Gateway::outbound(first, &keys),
                    expires,
                    replacing: false,
                    next_test: now + Duration::from_millis(jitter),
                });
                let status = TunnelStatus::Built {
                    expires,
                    lease: None,
                };
                self.requested(pending.pool, pending.request, status);
            }
        }
    }

    fn handle_tunnel_data(&mut self, now: Instant, profiles: &mut Profiles, data: TunnelData) {
        let own = self.pools.iter_mut().find_map(|(id, pool)| {
            let t = pool
                .inbound
                .iter_mut()
                .find(|t| t.tunnel == data.tunnel_id)?;
            Some((*id, t))
        });
        if let Some((pool, own)) = own {
            let Ok(delivered) = own.endpoint.receive(now, &mut self.replays, data) else {
                return;
            };
            for message in delivered {
                // Only local delivery makes sense at the end of our own inbound tunnel.
                if message.delivery == Delivery::Local {
                    self.deliver_local(now, pool, profiles, &message.message);
                }
            }
            return;
        }
        let Some(hop) = self.participating.get_mut(&data.tunnel_id) else {
            return;
        };
        match &mut hop.role {
            HopState::Participant(participant) => {
                let next = participant.next_hop();
                if let Ok(out) = participant.forward(now, &mut self.replays, data) {
                    self.transit_messages += 1;
                    self.send(now, next.router, MessageBody::TunnelData(out));
                }
            }
            HopState::OutboundEndpoint(endpoint) => {
                let Ok(delivered) = endpoint.receive(now, &mut self.replays, data) else {
                    return;
                };
                self.transit_messages += 1;
                for message in delivered {
                    self.deliver_from_endpoint(now, message.delivery, message.message);
                }
            }
            // A gateway receives TunnelGateway messages, not tunnel data.
            HopState::InboundGateway(_) => {}
        }
    }

    /// An outbound endpoint's reassembled message, sent where its instructions say.
    fn deliver_from_endpoint(&mut self, now: Instant, delivery: Delivery, message: Vec<u8>) {
        match delivery {
            Delivery::Router(router) => {
                if let Ok(msg) = I2npMessage::decode(&message) {
                    self.actions
                        .push_back(TunnelAction::Send { to: router, msg });
                }
            }
            Delivery::Tunnel { tunnel, gateway } => {
                let body = MessageBody::TunnelGateway(TunnelGateway {
                    tunnel_id: tunnel,
                    message,
                });
                self.send(now, gateway, body);
            }
            // Nothing is addressed to an outbound endpoint itself.
            Delivery::Local => {}
        }
    }

    fn handle_tunnel_gateway(
        &mut self,
        now: Instant,
        profiles: &mut Profiles,
        gateway: TunnelGateway,
    ) {
        if self.zero_hop.contains(&gateway.tunnel_id) {
            self.deliver_local(now, PoolId::Exploratory, profiles, &gateway.message);
            return;
        }
        let Some(Hop {
            role: HopState::InboundGateway(ibgw),
            ..
        }) = self.participating.get(&gateway.tunnel_id)
        else {
            return;
        };
        let next = ibgw.next_hop();
        let Ok(out) = ibgw.send(&mut self.rng, &[(Delivery::Local, &gateway.message)]) else {
            return;
        };
        self.transit_messages += out.len() as u64;
        for data in out {
            self.send(now, next.router, MessageBody::TunnelData(data));
        }
    }

    /// A message that came out of one of `pool`'s inbound tunnels (or a zero-hop one).
    fn deliver_local(&mut self, now: Instant, pool: PoolId, profiles: &mut Profiles, bytes: &[u8]) {
        let Ok(msg) = I2npMessage::decode(bytes) else {
            return;
        };
        match msg.body {
            MessageBody::OutboundTunnelBuildReply(ref records) => {
                let records = records.clone();
                self.handle_build_reply(now, profiles, msg.id, &records);
            }
            // Garlic is either a build reply of ours or someone else's business (netDb
            // answers, a destination's messages).
            MessageBody::Garlic(ref garlic) => {
                let Some(key) = self.build_reply_key(garlic) else {
                    self.actions.push_back(TunnelAction::Deliver { pool, msg });
                    return;
                };
                // A build reply carries no RouterInfo: nothing to look up.
                let Ok(inner) = wrap::open_reply(&key, garlic, &()) else {
                    return; // tampered: the build times out
                };
                for msg in inner {
                    if let MessageBody::OutboundTunnelBuildReply(records) = &msg.body {
                        self.handle_build_reply(now, profiles, msg.id, records);
                    }
                }
            }
            MessageBody::DeliveryStatus(status) if self.tests.contains_key(&status.msg_id) => {
                if let Some(test) = self.tests.remove(&status.msg_id) {
                    let took = now.saturating_duration_since(test.started);
                    for hop in &test.hops {
                        profiles.record(now, *hop, Observation::TunnelTestPassed(took));
                    }
                    self.event(TunnelEvent::TestFinished {
                        passed: true,
                        started: test.started,
                    });
                }
            }
            _ => self.actions.push_back(TunnelAction::Deliver { pool, msg }),
        }
    }

    /// The key of a garlic-wrapped build reply, if `garlic` is one for a build of ours.
    fn build_reply_key(&self, garlic: &Garlic) -> Option<[u8; 32]> {
        let tag = crate::garlic::router::session_tag(&garlic.data)?;
        self.pending
            .values()
            .filter_map(|p| p.build.garlic_reply())
            .find(|reply| reply.tag == tag)
            .map(|reply| reply.key)
    }

    /// Sends a DeliveryStatus through every outbound tunnel that is due a test, to come
    /// back through an inbound tunnel of the same pool: both tunnels' hops share the result.
    fn start_tests(&mut self, now: Instant) {
        let ids: Vec<PoolId> = self.pools.keys().copied().collect();
        for id in ids {
            self.start_pool_tests(now, id);
        }
    }

    fn start_pool_tests(&mut self, now: Instant, id: PoolId) {
        let Some(pool) = self.pools.get_mut(&id) else {
            return;
        };
        if pool.inbound.is_empty() {
            // Nothing to test through yet: try again one interval later.
            for out in pool.outbound.iter_mut().filter(|t| t.next_test <= now) {
                out.next_test = now + self.config.test_interval;
            }
            return;
        }
        let due: Vec<usize> = (0..pool.outbound.len())
            .filter(|i| pool.outbound[*i].next_test <= now)
            .collect();
        for i in due {
            let Some(pool) = self.pools.get_mut(&id) else {
                return;
            };
            pool.outbound[i].next_test = now + self.config.test_interval;
            let back = &pool.inbound[self.rng.gen_range(0..pool.inbound.len())];
            let msg_id: u32 = self.rng.gen();
            let status = I2npMessage::with_random_id(
                &mut self.rng,
                (now + self.config.test_timeout).as_millis(),
                MessageBody::DeliveryStatus(DeliveryStatus {
                    msg_id,
                    timestamp_ms: now.as_millis(),
                }),
            );
            let delivery = Delivery::Tunnel {
                tunnel: back.gateway_tunnel,
                gateway: back.gateway,
            };
            let out = &pool.outbound[i];
            let mut hops = out.hops.clone();
            hops.extend(back.hops.iter().copied());
            let test = PendingTest {
                pool: id,
                outbound_hops: out.hops.clone(),
                inbound: back.tunnel,
                hops,
                started: now,
                deadline: now + self.config.test_timeout,
            };
            let first = out.gateway.next_hop();
            let Ok(data) = out
                .gateway
                .send(&mut self.rng, &[(delivery, &status.encode())])
            else {
                continue;
            };
            for d in data {
                self.send(now, first.router, MessageBody::TunnelData(d));
            }
            self.tests.insert(msg_id, test);
        }
    }

    /// Starts builds so that each pool has its tunnels, counting those that will not
    /// expire before a replacement could be built, and those being built.
    fn maintain_pools(&mut self, now: Instant, peers: &RouterInfoStore, profiles: &Profiles) {
        if now < self.check_pools_at {
            return;
        }
        self.check_pools_at = Instant::MAX;
        let lasting = |expires: Instant| expires > now + self.config.rebuild_before;
        let mut missing = Vec::new();
        for (id, pool) in &self.pools {
            let building = |d: Direction| {
                self.pending
                    .values()
                    .filter(|p| p.pool == *id && p.direction == d)
                    .count()
            };
            let inbound = pool.inbound.iter().filter(|t| lasting(t.expires)).count()
                + building(Direction::Inbound);
            let outbound = pool.outbound.iter().filter(|t| lasting(t.expires)).count()
                + building(Direction::Outbound);
            let wanted = pool.config.count;
            missing.push((*id, Direction::Inbound, wanted.saturating_sub(inbound)));
            missing.push((*id, Direction::Outbound, wanted.saturating_sub(outbound)));
        }
        if missing.iter().all(|(_, _, n)| *n == 0) {
            return;
        }
        if self.tiers.due(now, &self.config.tiers) {
            // Peers that cannot be dialled carry no tunnels: the hop before them could
            // not reach them.
            let dialable = peers.dialable().copied();
            self.tiers = Tiers::sort(profiles, dialable, now, &self.config.tiers);
        }
        for (pool, direction, n) in missing {
            let may_build_at = self.pools.get(&pool).map_or(now, |p| p.may_build_at());
            if n > 0 && may_build_at > now {
                self.check_pools_at = self.check_pools_at.min(may_build_at);
                continue;
            }
            for _ in 0..n {
                if !self.build(now, pool, direction, peers) {
                    self.check_pools_at = now + Duration::from_secs(10);
                    return;
                }
            }
        }
    }

    /// Starts one build for `pool`; false when there are not enough peers.
    fn build(
        &mut self,
        now: Instant,
        pool_id: PoolId,
        direction: Direction,
        peers: &RouterInfoStore,
    ) -> bool {
        let subnet = |h: &Hash| peers.get(h).and_then(|info| slash16(info));
        let Some(pool) = self.pools.get_mut(&pool_id) else {
            return false;
        };
        let hop_count = pool.config.hops;
        let Some(mut chosen) = pool.selector(direction).select(
            &self.tiers,
            hop_count,
            direction,
            &[self.me],
            subnet,
            &mut self.rng,
        ) else {
            return false;
        };
        if let (Direction::Inbound, Some(direct), Some((last, others))) =
            (direction, &self.direct, chosen.split_last_mut())
        {
            let me = self.me;
            let usable = |h: &Hash| *h != me && peers.get(h).is_some_and(|i| i.is_reachable());
            let Some(adjacent) = direct.adjacent(now, others, usable, &mut self.rng) else {
                // No session yet to end an inbound tunnel at: our outbound builds and
                // netDb traffic open some; the other pools may build meanwhile.
                self.check_pools_at = self.check_pools_at.min(now + Duration::from_secs(10));
                return true;
            };
            *last = adjacent;
        }
        self.start_build(now, pool_id, direction, chosen, None, peers)
    }

    /// Builds one tunnel for `pool` through exactly the peers of `path`, in tunnel order:
    /// for an inbound tunnel the gateway first (the last hop delivers to us), for an
    /// outbound one the first hop after us first (the last is the endpoint). This is
    /// proposal 140's "Create Tunnel": the caller chooses, so none of the pool's
    /// selection rules apply; [`check_path`] says what is refused (at most
    /// [`build::MAX_HOPS`] hops, each a peer we hold a RouterInfo of, not us, none
    /// twice). The build goes out as the pool's own do, and its end comes back as
    /// [`TunnelAction::Requested`] with the returned id. Nothing is drawn from the
    /// generator for a refused path.
    pub fn build_through(
        &mut self,
        now: Instant,
        pool: PoolId,
        direction: Direction,
        path: &[Hash],
        peers: &RouterInfoStore,
    ) -> Result<TunnelRequestId, BuildThroughError> {
        if !self.pools.contains_key(&pool) {
            return Err(BuildThroughError::UnknownPool);
        }
        check_path(path, &self.me, build::MAX_HOPS, |p| peers.contains(p))?;
        let request = TunnelRequestId(self.next_request);
        if !self.start_build(now, pool, direction, path.to_vec(), Some(request), peers) {
            return Err(BuildThroughError::Unbuildable);
        }
        self.next_request += 1;
        Ok(request)
    }

    /// Starts the build of a tunnel of `pool_id` through `chosen`, in tunnel order;
    /// false when a hop's RouterInfo is missing or the request cannot be made.
    fn start_build(
        &mut self,
        now: Instant,
        pool_id: PoolId,
        direction: Direction,
        chosen: Vec<Hash>,
        request_id: Option<TunnelRequestId>,
        peers: &RouterInfoStore,
    ) -> bool {
        let mut hops = Vec::with_capacity(chosen.len());
        for router in chosen {
            let Some(info) = peers.get(&router) else {
                return false;
            };
            hops.push(HopSpec {
                router,
                encryption_key: info.identity().encryption_key(),
                receive_tunnel: self.fresh_tunnel_id(),
            });
        }
        let endpoint_tunnel = (direction == Direction::Inbound).then(|| self.fresh_tunnel_id());
        let build_direction = match (direction, endpoint_tunnel) {
            (Direction::Inbound, Some(tunnel)) => BuildDirection::Inbound {
                creator: self.me,
                endpoint_tunnel: tunnel,
            },
            _ => {
                let endpoint = hops.last().map_or(self.me, |h| h.router);
                let (reply_gateway, reply_tunnel) =
                    self.outbound_reply_path(pool_id, &endpoint, hops.len());
                BuildDirection::Outbound {
                    reply_gateway,
                    reply_tunnel,
                }
            }
        };
        let request = BuildRequest {
            hops: hops.clone(),
            direction: build_direction,
            record_count: build::record_count(hops.len(), direction == Direction::Inbound),
        };
        let Ok(new) = request.create_with(now, &mut self.rng, self.shared_secrets.as_deref())
        else {
            return false;
        };
        let reply_id = new.pending.reply_message_id();
        self.pending.insert(
            reply_id,
            PendingTunnel {
                pool: pool_id,
                direction,
                hops,
                build: new.pending,
                started: now,
                deadline: now + self.config.build_timeout,
                endpoint_tunnel,
                sent_to: None,
                request: request_id,
            },
        );
        // An inbound build goes to its gateway through one of our outbound tunnels (the
        // pool's own, else an exploratory one), so the gateway cannot tell who builds;
        // directly while we have none. An outbound build starts at us anyway.
        let routed = direction == Direction::Inbound
            && [pool_id, PoolId::Exploratory]
                .into_iter()
                .any(|via| self.send_out(now, via, Delivery::Router(new.first_hop), &new.msg));
        if !routed {
            if let Some(p) = self.pending.get_mut(&reply_id) {
                p.sent_to = Some(new.first_hop);
            }
            self.actions.push_back(TunnelAction::Send {
                to: new.first_hop,
                msg: new.msg,
            });
        }
        true
    }

    /// Where the reply to an outbound build whose endpoint is `endpoint` comes back: the
    /// newest inbound tunnel of the pool, else of the exploratory pool, whose gateway is
    /// not that endpoint. One router as both would see the build's reply leave and
    /// enter, and i2pd (2.45) holds a reply for its own transit gateway until other
    /// traffic flushes it: builds timed out. A one-hop tunnel's endpoint got the request
    /// from us, so it may answer us directly (zero-hop); a longer one rather goes back
    /// through its endpoint than learns who we are. Zero-hop too while we have no
    /// inbound tunnel at all.
    fn outbound_reply_path(
        &mut self,
        pool_id: PoolId,
        endpoint: &Hash,
        hops: usize,
    ) -> (Hash, TunnelId) {
        let pools = [pool_id, PoolId::Exploratory];
        let avoiding = pools
            .iter()
            .find_map(|id| self.pools.get(id)?.newest_inbound_avoiding(endpoint));
        let chosen = match avoiding {
            Some(t) => Some(t),
            None if hops > 1 => pools
                .iter()
                .find_map(|id| self.pools.get(id)?.newest_inbound()),
            None => None,
        };
        if let Some(t) = chosen {
            return (t.gateway, t.gateway_tunnel);
        }
        let id = self.fresh_tunnel_id();
        self.zero_hop.insert(id);
        (self.me, id)
    }

    fn fresh_tunnel_id(&mut self) -> TunnelId {
        loop {
            let id = TunnelId(self.rng.gen_range(1..=u32::MAX));
            let used = self.participating.contains_key(&id)
                || self.zero_hop.contains(&id)
                || self
                    .pools
                    .values()
                    .any(|p| p.inbound.iter().any(|t| t.tunnel == id));
            if !used {
                return id;
            }
        }
    }
}

/// The IPv4 /16 of a router's first address with a dotted-quad host.
fn slash16(info: &RouterInfo) -> Option<[u8; 2]> {
    info.addresses().iter().find_map(|a| {
        let host = a.options.get("host")?;
        let mut parts = host.split('.').map(|p| p.parse::<u8>());
        match (parts.next(), parts.next()) {
            (Some(Ok(a)), Some(Ok(b))) if host.split('.').count() == 4 => Some([a, b]),
            _ => None,
        }
    })
}

mod view;
pub use view::{OwnTunnelView, TransitRole, TransitView};

#[cfg(test)]
mod tests;
