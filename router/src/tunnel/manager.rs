//! The tunnel manager: this router's own exploratory tunnels (built, tested, rebuilt
//! before they expire) and the tunnels it takes part in for others.
//!
//! Sans-IO like the netDb: inputs are the tunnel messages (TunnelData, TunnelGateway,
//! ShortTunnelBuild, OutboundTunnelBuildReply) and timeouts; outputs are [`TunnelAction`]s.
//! What arrives through our own inbound tunnels and is not the manager's (anything but
//! build replies and tunnel tests) goes back to the router as [`TunnelAction::Deliver`].
//!
//! Not yet here: client pools, garlic wrapping of build messages and replies (they travel
//! in the clear between hops, inside the encryption each record has anyway), the
//! previous-hop check of participants, and netDb traffic through these tunnels.

use super::build::{
    self, BuildDirection, BuildRequest, BuildSend, HopRole, HopSpec, PendingBuild, ReplyStatus,
};
use super::data::{Delivery, Endpoint, Gateway, NextHop, Participant, ReplayFilter};
use crate::crypto::RouterKeys;
use crate::data::{Hash, RouterInfo, TunnelId};
use crate::i2np::{
    BuildRecords, DeliveryStatus, I2npMessage, MessageBody, TunnelData, TunnelGateway,
};
use crate::netdb::RouterInfoStore;
use crate::profile::selection::Direction;
use crate::profile::{Observation, Profiles, SelectionRules, Selector, TierConfig, Tiers};
use crate::time::Instant;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// Tunnel parameters (DESIGN.md: exploratory 2 hops, 2 tunnels per direction, 10-minute
/// lifetime, rebuilt about 90 s before expiry, build timeout 13 to 30 s).
#[derive(Debug, Clone, PartialEq)]
pub struct TunnelConfig {
    pub exploratory_hops: usize,
    pub exploratory_tunnels: usize,
    pub lifetime: Duration,
    pub rebuild_before: Duration,
    pub build_timeout: Duration,
    /// Each outbound tunnel is tested this often, through one of our inbound tunnels.
    pub test_interval: Duration,
    pub test_timeout: Duration,
    /// Tunnels we take part in for others, at most.
    pub max_participating: usize,
    /// Messages the replay filter is sized for per generation.
    pub replay_capacity: usize,
    pub tiers: TierConfig,
}

impl Default for TunnelConfig {
    fn default() -> Self {
        Self {
            exploratory_hops: 2,
            exploratory_tunnels: 2,
            lifetime: Duration::from_secs(u64::from(build::TUNNEL_LIFETIME_SECS)),
            rebuild_before: Duration::from_secs(90),
            build_timeout: Duration::from_secs(20),
            test_interval: Duration::from_secs(60),
            test_timeout: Duration::from_secs(10),
            max_participating: 2000,
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
    /// A message that came to us through one of our inbound tunnels, for the router.
    Deliver(I2npMessage),
    Event(TunnelEvent),
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

/// A tunnel we take part in for someone else.
#[derive(Debug)]
struct Hop {
    role: HopState,
    expires: Instant,
}

#[derive(Debug)]
enum HopState {
    InboundGateway(Gateway),
    Participant(Participant),
    OutboundEndpoint(Endpoint),
}

/// One of our inbound tunnels: messages given to `gateway` under `gateway_tunnel` reach
/// us as `tunnel`.
#[derive(Debug)]
struct OwnInbound {
    tunnel: TunnelId,
    gateway: Hash,
    gateway_tunnel: TunnelId,
    hops: Vec<Hash>,
    endpoint: Endpoint,
    expires: Instant,
    /// Its rebuild time has passed and the pools were looked at for it.
    replacing: bool,
}

#[derive(Debug)]
struct OwnOutbound {
    hops: Vec<Hash>,
    gateway: Gateway,
    expires: Instant,
    replacing: bool,
    next_test: Instant,
}

#[derive(Debug)]
struct PendingTunnel {
    direction: Direction,
    hops: Vec<HopSpec>,
    build: PendingBuild,
    started: Instant,
    deadline: Instant,
    /// The inbound tunnel id we will receive on (inbound builds).
    endpoint_tunnel: Option<TunnelId>,
}

#[derive(Debug)]
struct PendingTest {
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
    inbound: Vec<OwnInbound>,
    outbound: Vec<OwnOutbound>,
    /// Pending builds by the message id their reply comes back with.
    pending: BTreeMap<u32, PendingTunnel>,
    tests: BTreeMap<u32, PendingTest>,
    /// Tunnel ids we receive on without any hop: replies to outbound builds made before
    /// we had an inbound tunnel.
    zero_hop: BTreeSet<TunnelId>,
    inbound_selector: Selector,
    outbound_selector: Selector,
    tiers: Tiers,
    /// When to look at the pools next: now after a build ends, later after a failed
    /// attempt, never while nothing can change. Expiries and build deadlines wake us
    /// on their own.
    check_pools_at: Instant,
    transit_messages: u64,
    actions: VecDeque<TunnelAction>,
}

impl TunnelManager {
    pub fn new(config: TunnelConfig, me: Hash, now: Instant, mut rng: ChaCha20Rng) -> Self {
        let replays = ReplayFilter::new(&mut rng, config.replay_capacity, now);
        let inbound_selector = Selector::new(SelectionRules::exploratory(), &mut rng);
        let outbound_selector = Selector::new(SelectionRules::exploratory(), &mut rng);
        Self {
            config,
            me,
            rng,
            replays,
            participating: BTreeMap::new(),
            inbound: Vec::new(),
            outbound: Vec::new(),
            pending: BTreeMap::new(),
            tests: BTreeMap::new(),
            zero_hop: BTreeSet::new(),
            inbound_selector,
            outbound_selector,
            tiers: Tiers::default(),
            check_pools_at: now,
            transit_messages: 0,
            actions: VecDeque::new(),
        }
    }

    pub fn poll_action(&mut self) -> Option<TunnelAction> {
        self.actions.pop_front()
    }

    /// Built inbound and outbound tunnels of our own.
    pub fn own_tunnels(&self) -> (usize, usize) {
        (self.inbound.len(), self.outbound.len())
    }

    pub fn participating(&self) -> usize {
        self.participating.len()
    }

    /// Tunnel messages forwarded for others so far.
    pub fn transit_messages(&self) -> u64 {
        self.transit_messages
    }

    pub fn tiers(&self) -> &Tiers {
        &self.tiers
    }

    /// Forgets everything, as after a crash: tunnels do not survive a restart.
    pub fn restart(&mut self, now: Instant) {
        self.participating.clear();
        self.inbound.clear();
        self.outbound.clear();
        self.pending.clear();
        self.tests.clear();
        self.zero_hop.clear();
        self.actions.clear();
        self.check_pools_at = now;
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
        let inbound = self.inbound.iter().map(|t| rebuild(t.expires, t.replacing));
        let outbound = self
            .outbound
            .iter()
            .flat_map(|t| [rebuild(t.expires, t.replacing), t.next_test]);
        let hops = self.participating.values().map(|h| h.expires);
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
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        peers: &RouterInfoStore,
        profiles: &mut Profiles,
    ) {
        self.participating.retain(|_, hop| hop.expires > now);
        for hop in self.participating.values_mut() {
            if let HopState::OutboundEndpoint(endpoint) = &mut hop.role {
                endpoint.handle_timeout(now);
            }
        }
        self.inbound.retain(|t| t.expires > now);
        self.outbound.retain(|t| t.expires > now);
        // A tunnel reaching its rebuild time is a reason to look at the pools, once.
        let rebuild_at = now + self.config.rebuild_before;
        let mut due = false;
        for (expires, replacing) in self
            .inbound
            .iter_mut()
            .map(|t| (t.expires, &mut t.replacing))
            .chain(
                self.outbound
                    .iter_mut()
                    .map(|t| (t.expires, &mut t.replacing)),
            )
        {
            if !*replacing && expires <= rebuild_at {
                *replacing = true;
                due = true;
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
            self.check_pools_at = now;
            if let Some(p) = self.pending.remove(&id) {
                for hop in &p.hops {
                    profiles.record(now, hop.router, Observation::BuildTimedOut);
                }
                self.event(TunnelEvent::BuildFinished {
                    direction: p.direction,
                    hops: p.hops.iter().map(|h| h.router).collect(),
                    outcome: BuildOutcome::TimedOut,
                    started: p.started,
                });
            }
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
                self.outbound.retain(|t| t.hops != test.outbound_hops);
                self.inbound.retain(|t| t.tunnel != test.inbound);
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
        let msg = I2npMessage {
            id: self.rng.gen(),
            expiration_ms: (now + Duration::from_secs(60)).as_millis(),
            body,
        };
        self.actions.push_back(TunnelAction::Send { to, msg });
    }

    fn handle_build_request(
        &mut self,
        now: Instant,
        from: Hash,
        keys: &RouterKeys,
        records: &BuildRecords,
    ) {
        let full = self.participating.len() >= self.config.max_participating;
        let taken = &self.participating;
        let outcome = build::handle_request(keys, records, now, &mut self.rng, |request| {
            if full {
                ReplyStatus::RejectBandwidth
            } else if taken.contains_key(&request.receive_tunnel) {
                // A tunnel id in use: a collision or a replayed request.
                ReplyStatus::RejectCritical
            } else {
                ReplyStatus::Accept
            }
        });
        let Ok(outcome) = outcome else {
            return; // not for us, stale, or broken: dropped
        };
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
            self.participating.insert(
                hop.receive_tunnel,
                Hop {
                    role,
                    expires: hop.expires_at,
                },
            );
        }
        match outcome.send {
            BuildSend::NextHop { router, msg } => self
                .actions
                .push_back(TunnelAction::Send { to: router, msg }),
            BuildSend::ReplyTunnel {
                gateway,
                tunnel,
                msg,
                ..
            } => {
                let body = MessageBody::TunnelGateway(TunnelGateway {
                    tunnel_id: tunnel,
                    message: msg.encode(),
                });
                self.send(now, gateway, body);
            }
        }
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
            direction: pending.direction,
            hops: pending.hops.iter().map(|h| h.router).collect(),
            outcome,
            started: pending.started,
        });
        if rejected.is_some() {
            return;
        }
        let keys: Vec<_> = replies.into_iter().filter_map(|r| r.layer_keys).collect();
        let hops: Vec<Hash> = pending.hops.iter().map(|h| h.router).collect();
        let expires = now + self.config.lifetime;
        let first = NextHop {
            router: pending.hops[0].router,
            tunnel: pending.hops[0].receive_tunnel,
        };
        match (pending.direction, pending.endpoint_tunnel) {
            (Direction::Inbound, Some(tunnel)) => self.inbound.push(OwnInbound {
                tunnel,
                gateway: first.router,
                gateway_tunnel: first.tunnel,
                hops,
                endpoint: Endpoint::inbound(&keys),
                expires,
                replacing: false,
            }),
            _ => {
                let jitter = self
                    .rng
                    .gen_range(0..self.config.test_interval.as_millis() as u64);
                self.outbound.push(OwnOutbound {
                    hops,
                    gateway: Gateway::outbound(first, &keys),
                    expires,
                    replacing: false,
                    next_test: now + Duration::from_millis(jitter),
                })
            }
        }
    }

    fn handle_tunnel_data(&mut self, now: Instant, profiles: &mut Profiles, data: TunnelData) {
        if let Some(own) = self.inbound.iter_mut().find(|t| t.tunnel == data.tunnel_id) {
            let Ok(delivered) = own.endpoint.receive(now, &mut self.replays, data) else {
                return;
            };
            for message in delivered {
                // Only local delivery makes sense at the end of our own inbound tunnel.
                if message.delivery == Delivery::Local {
                    self.deliver_local(now, profiles, &message.message);
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
            self.deliver_local(now, profiles, &gateway.message);
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

    /// A message that came out of one of our inbound tunnels (or a zero-hop one).
    fn deliver_local(&mut self, now: Instant, profiles: &mut Profiles, bytes: &[u8]) {
        let Ok(msg) = I2npMessage::decode(bytes) else {
            return;
        };
        match msg.body {
            MessageBody::OutboundTunnelBuildReply(ref records) => {
                let records = records.clone();
                self.handle_build_reply(now, profiles, msg.id, &records);
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
            _ => self.actions.push_back(TunnelAction::Deliver(msg)),
        }
    }

    /// Sends a DeliveryStatus through every outbound tunnel that is due a test, to come
    /// back through one of our inbound tunnels: both tunnels' hops share the result.
    fn start_tests(&mut self, now: Instant) {
        if self.inbound.is_empty() {
            // Nothing to test through yet: try again one interval later.
            for out in self.outbound.iter_mut().filter(|t| t.next_test <= now) {
                out.next_test = now + self.config.test_interval;
            }
            return;
        }
        for i in 0..self.outbound.len() {
            if self.outbound[i].next_test > now {
                continue;
            }
            self.outbound[i].next_test = now + self.config.test_interval;
            let back = &self.inbound[self.rng.gen_range(0..self.inbound.len())];
            let back_tunnel = back.tunnel;
            let msg_id: u32 = self.rng.gen();
            let status = I2npMessage {
                id: self.rng.gen(),
                expiration_ms: (now + self.config.test_timeout).as_millis(),
                body: MessageBody::DeliveryStatus(DeliveryStatus {
                    msg_id,
                    timestamp_ms: now.as_millis(),
                }),
            };
            let delivery = Delivery::Tunnel {
                tunnel: back.gateway_tunnel,
                gateway: back.gateway,
            };
            let mut hops = self.outbound[i].hops.clone();
            hops.extend(back.hops.iter().copied());
            let out = &self.outbound[i];
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
            let inbound = back_tunnel;
            self.tests.insert(
                msg_id,
                PendingTest {
                    outbound_hops: self.outbound[i].hops.clone(),
                    inbound,
                    hops,
                    started: now,
                    deadline: now + self.config.test_timeout,
                },
            );
        }
    }

    /// Starts builds so that each pool has its tunnels, counting those that will not
    /// expire before a replacement could be built, and those being built.
    fn maintain_pools(&mut self, now: Instant, peers: &RouterInfoStore, profiles: &Profiles) {
        let lasting = |expires: Instant| expires > now + self.config.rebuild_before;
        let building = |d: Direction| self.pending.values().filter(|p| p.direction == d).count();
        let inbound = self.inbound.iter().filter(|t| lasting(t.expires)).count()
            + building(Direction::Inbound);
        let outbound = self.outbound.iter().filter(|t| lasting(t.expires)).count()
            + building(Direction::Outbound);
        let wanted = self.config.exploratory_tunnels;
        if now < self.check_pools_at {
            return;
        }
        self.check_pools_at = Instant::MAX;
        if inbound >= wanted && outbound >= wanted {
            return;
        }
        if self.tiers.due(now, &self.config.tiers) {
            self.tiers = Tiers::sort(profiles, peers.hashes().copied(), now, &self.config.tiers);
        }
        for _ in inbound..wanted {
            if !self.build(now, Direction::Inbound, peers) {
                self.check_pools_at = now + Duration::from_secs(10);
                return;
            }
        }
        for _ in outbound..wanted {
            if !self.build(now, Direction::Outbound, peers) {
                self.check_pools_at = now + Duration::from_secs(10);
                return;
            }
        }
    }

    /// Starts one build; false when there are not enough peers.
    fn build(&mut self, now: Instant, direction: Direction, peers: &RouterInfoStore) -> bool {
        let subnet = |h: &Hash| peers.get(h).and_then(|info| slash16(info));
        let selector = match direction {
            Direction::Inbound => &mut self.inbound_selector,
            Direction::Outbound => &mut self.outbound_selector,
        };
        let Some(chosen) = selector.select(
            &self.tiers,
            self.config.exploratory_hops,
            direction,
            &[self.me],
            subnet,
            &mut self.rng,
        ) else {
            return false;
        };
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
                // Replies come back through one of our inbound tunnels, or a zero-hop
                // one while we have none.
                // The inbound tunnel with the longest life left is the likeliest to
                // still be there when the reply comes.
                let newest = self.inbound.iter().max_by_key(|t| t.expires);
                let (reply_gateway, reply_tunnel) = match newest {
                    Some(t) => (t.gateway, t.gateway_tunnel),
                    None => {
                        let id = self.fresh_tunnel_id();
                        self.zero_hop.insert(id);
                        (self.me, id)
                    }
                };
                BuildDirection::Outbound {
                    reply_gateway,
                    reply_tunnel,
                }
            }
        };
        let request = BuildRequest {
            hops: hops.clone(),
            direction: build_direction,
            record_count: build::RECOMMENDED_RECORDS,
        };
        let Ok(new) = request.create(now, &mut self.rng) else {
            return false;
        };
        self.pending.insert(
            new.pending.reply_message_id(),
            PendingTunnel {
                direction,
                hops,
                build: new.pending,
                started: now,
                deadline: now + self.config.build_timeout,
                endpoint_tunnel,
            },
        );
        // Inbound builds go straight to their gateway for now; through an outbound
        // tunnel once garlic hides them from its endpoint.
        self.actions.push_back(TunnelAction::Send {
            to: new.first_hop,
            msg: new.msg,
        });
        true
    }

    fn fresh_tunnel_id(&mut self) -> TunnelId {
        loop {
            let id = TunnelId(self.rng.gen_range(1..=u32::MAX));
            let used = self.participating.contains_key(&id)
                || self.zero_hop.contains(&id)
                || self.inbound.iter().any(|t| t.tunnel == id);
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
