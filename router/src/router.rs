//! The router: composition of the core's parts behind one sans-IO interface.
//!
//! Inputs are [`Router::handle_message`], [`Router::handle_timeout`] and client commands
//! such as [`Router::lookup`]; every one takes `now`. After each input the driver drains
//! [`Router::poll_output`] until it yields [`Output::Timeout`], the instant at which it
//! must call `handle_timeout` next (earlier inputs are fine; the router re-arms). This is
//! the polling order of quinn-proto's `Connection` and str0m's `Rtc`.

mod apps;
mod config;
mod shared;

pub use config::RouterConfig;

use crate::client::{
    ClientEvent, Clients, CreateTunnelError, DestinationId, HiddenDestination, LeaseSetEncryption,
    Outgoing, PublishError,
};
use crate::crypto::{DestinationKeys, RouterKeys, SharedSecrets};
use crate::data::{Hash, Lease2, LeaseSet2, MetaLeaseSet, RouterInfo};
use crate::garlic::{self, replies::ReplyKeys, wrap};
use crate::i2np::{
    DatabaseLookup, DatabaseStore, Garlic, I2npMessage, MessageBody, ReplyEncryption, TunnelGateway,
};
use crate::netdb::{
    Action, Known, LookupId, NetDb, NetDbEvent, NetDbLoad, Purpose, RouterInfoRegistry,
};
use crate::profile::selection::Direction;
use crate::profile::{Observation, Profiles, SelectionRules};
use crate::time::Instant;
use crate::tunnel::data::Delivery;
use crate::tunnel::{
    PoolId, TunnelAction, TunnelEvent, TunnelLoad, TunnelManager, TunnelRequestId,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// The I2NP API version we announce in `router.version`.
pub const ROUTER_VERSION: &str = "0.9.66";

/// What the router wants done, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Output {
    /// Send `msg` to the router `to`.
    Send { to: Hash, msg: I2npMessage },
    /// Something happened that the driver (or a simulator's metrics) may want to know.
    Event(Event),
    /// Nothing more to do now: call [`Router::handle_timeout`] at this instant.
    Timeout(Instant),
}

/// Observations and results.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    NetDb(NetDbEvent),
    Tunnel(TunnelEvent),
    Client(ClientEvent),
    /// An inbound message was dropped because its expiration had passed.
    ExpiredMessage {
        from: Hash,
        type_id: u8,
    },
    /// An inbound message of a type this router does not handle yet was dropped.
    UnhandledMessage {
        from: Hash,
        type_id: u8,
    },
}

/// What a router's flood mitigations dropped, the work it did and the memory it holds:
/// cheap to take, for a driver (the simulator) to sample. Counts are cumulative since the
/// router was created, restarts included; sizes are current. The tunnel half is all
/// zeros for a router without tunnels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    pub netdb: NetDbLoad,
    pub tunnels: TunnelLoad,
}

/// One I2P router.
#[derive(Debug)]
pub struct Router {
    config: RouterConfig,
    keys: RouterKeys,
    rng: ChaCha20Rng,
    info: Arc<RouterInfo>,
    netdb: NetDb,
    tunnels: Option<TunnelManager>,
    clients: Clients,
    /// Keys of the encrypted netDb answers we wait for.
    reply_keys: ReplyKeys,
    /// RouterInfos of the other routers in this process, when there are any.
    shared_infos: Option<Arc<RouterInfoRegistry>>,
    /// Handshake secrets shared with the routers of this process, when there are any.
    shared_secrets: Option<Arc<SharedSecrets>>,
    profiles: Profiles,
    outputs: VecDeque<Output>,
}

/// Why a client command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("destinations need tunnels: this router was configured without them")]
    NoTunnels,
    #[error("no such local destination")]
    UnknownDestination,
    #[error("LeaseSet refused: {0}")]
    Publish(#[from] PublishError),
}

impl Router {
    /// A router with identity `keys`, drawing all its randomness from `rng`.
    pub fn new(
        mut config: RouterConfig,
        keys: RouterKeys,
        mut rng: ChaCha20Rng,
        now: Instant,
    ) -> Self {
        // Nobody could reach a floodfill that cannot be dialled.
        config.floodfill &= config.reachable;
        let netdb_rng = ChaCha20Rng::from_seed(rng.gen());
        let netdb = NetDb::new(
            config.netdb.clone(),
            keys.hash(),
            config.net_id,
            config.floodfill,
            now,
            netdb_rng,
        );
        let tunnels = config.tunnels.clone().map(|tunnel_config| {
            let tunnel_rng = ChaCha20Rng::from_seed(rng.gen());
            let mut tunnels = TunnelManager::new(tunnel_config, keys.hash(), now, tunnel_rng);
            if !config.reachable {
                tunnels.firewall();
            }
            tunnels
        });
        let clients = Clients::new(config.clients.clone(), ChaCha20Rng::from_seed(rng.gen()));
        let info = Arc::new(config.sign_router_info(&keys, now));
        Self {
            config,
            keys,
            rng,
            info,
            netdb,
            tunnels,
            clients,
            reply_keys: ReplyKeys::default(),
            shared_infos: None,
            shared_secrets: None,
            profiles: Profiles::new(),
            outputs: VecDeque::new(),
        }
    }

    pub fn hash(&self) -> Hash {
        self.keys.hash()
    }

    /// Our current, signed RouterInfo.
    pub fn router_info(&self) -> &Arc<RouterInfo> {
        &self.info
    }

    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    pub fn netdb(&self) -> &NetDb {
        &self.netdb
    }

    /// The tunnel manager, when tunnels are enabled.
    pub fn tunnels(&self) -> Option<&TunnelManager> {
        self.tunnels.as_ref()
    }

    /// What the flood mitigations dropped, the work done and the memory held.
    pub fn load(&self) -> Load {
        Load {
            netdb: self.netdb.load(),
            tunnels: self
                .tunnels
                .as_ref()
                .map_or_else(TunnelLoad::default, TunnelManager::load),
        }
    }

    /// The local destinations.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// Adds a local destination with `keys`: its client tunnels are built, then its
    /// LeaseSet is published. Needs tunnels.
    pub fn add_destination(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
    ) -> Result<DestinationId, ClientError> {
        self.add_client(now, |clients, tunnels| {
            clients.add(now, keys, None, tunnels)
        })
    }

    /// Adds a local destination that publishes its LeaseSet encrypted as `encryption`
    /// says; clients reach it by its b33 address ([`Clients::b33_address`]).
    pub fn add_hidden_destination(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        encryption: LeaseSetEncryption,
    ) -> Result<DestinationId, ClientError> {
        self.add_client(now, |clients, tunnels| {
            clients.add(now, keys, Some(encryption), tunnels)
        })
    }

    /// Adds a local destination with `add`, then collects what starting its tunnels
    /// produced. Needs tunnels.
    fn add_client(
        &mut self,
        now: Instant,
        add: impl FnOnce(&mut Clients, &mut TunnelManager) -> DestinationId,
    ) -> Result<DestinationId, ClientError> {
        let tunnels = self.tunnels.as_mut().ok_or(ClientError::NoTunnels)?;
        let id = add(&mut self.clients, tunnels);
        self.collect(now);
        Ok(id)
    }

    /// [`Router::add_destination`] with the destination's hops chosen by `rules` instead
    /// of the configured client rules (a multihomed destination's shared gateways).
    pub fn add_destination_with_rules(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        rules: SelectionRules,
    ) -> Result<DestinationId, ClientError> {
        self.add_client(now, |clients, tunnels| {
            clients.add_with_rules(now, keys, rules, tunnels)
        })
    }

    /// Adds a destination whose LeaseSet a balancer signs (proposal 140, "Create
    /// Session"): its client tunnels are built and reported as
    /// [`ClientEvent::InboundTunnels`]; nothing is published until
    /// [`Router::publish_lease_set`]. The same keys may be balanced on other routers.
    /// `rules`, when given, replace the configured client hop selection (the balancer
    /// choosing inbound gateways).
    pub fn add_balanced_destination(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        rules: Option<SelectionRules>,
    ) -> Result<DestinationId, ClientError> {
        self.add_client(now, |clients, tunnels| {
            clients.add_balanced(now, keys, rules, tunnels)
        })
    }

    /// Publishes a LeaseSet the balancer signed for balanced destination `id`
    /// (proposal 140, "Publish LeaseSet"); it must be newer than the last one.
    pub fn publish_lease_set(
        &mut self,
        now: Instant,
        id: DestinationId,
        ls: Arc<LeaseSet2>,
    ) -> Result<(), ClientError> {
        let tunnels = self.tunnels.as_ref().ok_or(ClientError::NoTunnels)?;
        self.clients
            .publish_lease_set(now, id, ls, &mut self.netdb, tunnels)?;
        self.collect(now);
        Ok(())
    }

    /// Publishes a MetaLeaseSet the service signed for balanced destination `id`
    /// (proposal 123): senders look it up, then one of the destinations it lists.
    pub fn publish_meta_lease_set(
        &mut self,
        now: Instant,
        id: DestinationId,
        meta: Arc<MetaLeaseSet>,
    ) -> Result<(), ClientError> {
        let tunnels = self.tunnels.as_ref().ok_or(ClientError::NoTunnels)?;
        self.clients
            .publish_meta_lease_set(now, id, meta, &mut self.netdb, tunnels)?;
        self.collect(now);
        Ok(())
    }

    /// The inbound tunnels of destination `id` worth publishing now (proposal 140,
    /// "Get Tunnel Pool").
    pub fn inbound_leases(&self, now: Instant, id: DestinationId) -> Vec<Lease2> {
        self.tunnels
            .as_ref()
            .map_or_else(Vec::new, |t| self.clients.inbound_leases(now, id, t))
    }

    /// Builds one tunnel for balanced destination `id` through exactly `hops`, in tunnel
    /// order (proposal 140, "Create Tunnel"): inbound, `hops[0]` is the gateway (the
    /// peer a lease names) and the last hop hands messages to us; outbound, `hops[0]`
    /// is the peer we hand messages to and the last hop is the endpoint. Refused at once
    /// (nothing sent, nothing drawn) for an unknown or unbalanced destination, no hops
    /// or more than [`MAX_HOPS`](crate::tunnel::build::MAX_HOPS), ourselves or a peer
    /// twice among them, or a peer whose RouterInfo we do not hold; the pool's
    /// selection rules (tiers, /16s, gateway sets) do not apply. The outcome arrives as
    /// [`ClientEvent::TunnelStatus`] with the returned id, a built inbound tunnel also
    /// in the next [`ClientEvent::InboundTunnels`]. The tunnel counts towards the
    /// pool's tunnels and is not rebuilt through the same peers: near its expiry the
    /// balancer asks again, or the pool replaces it with one of its own choosing.
    pub fn create_tunnel(
        &mut self,
        now: Instant,
        id: DestinationId,
        direction: Direction,
        hops: &[Hash],
    ) -> Result<TunnelRequestId, CreateTunnelError> {
        let tunnels = self.tunnels.as_mut().ok_or(CreateTunnelError::NoTunnels)?;
        let request =
            self.clients
                .create_tunnel(now, id, direction, hops, self.netdb.store(), tunnels)?;
        self.collect(now);
        Ok(request)
    }

    /// The peers this router would build client tunnels through now (proposal 140,
    /// "Get Fast Tier"), sorted.
    pub fn fast_tier(&self) -> Vec<Hash> {
        self.tunnels
            .as_ref()
            .map_or_else(Vec::new, |t| t.tiers().fast().to_vec())
    }

    /// Sends `payload` from local destination `from` to the destination whose hash is
    /// `to`. Failures arrive as [`ClientEvent::SendFailed`] with the caller's
    /// `reference`; delivery is not confirmed.
    pub fn send(
        &mut self,
        now: Instant,
        from: DestinationId,
        to: Hash,
        reference: u64,
        payload: Vec<u8>,
    ) -> Result<(), ClientError> {
        let message = Outgoing {
            reference,
            payload,
            confirm: true,
        };
        self.with_clients(now, from, |clients, netdb, tunnels| {
            clients.send(now, from, to, message, netdb, tunnels)
        })
    }

    /// Sends `payload` from local destination `from` to the hidden destination `to`
    /// (known by its b33 address), as [`Router::send`] does to a destination hash; a
    /// destination that does not authorise us fails with
    /// [`SendFailure::NotAuthorised`](crate::client::SendFailure::NotAuthorised).
    pub fn send_hidden(
        &mut self,
        now: Instant,
        from: DestinationId,
        to: &HiddenDestination,
        reference: u64,
        payload: Vec<u8>,
    ) -> Result<(), ClientError> {
        let message = Outgoing {
            reference,
            payload,
            confirm: true,
        };
        self.with_clients(now, from, |clients, netdb, tunnels| {
            clients.send_hidden(now, from, to, message, netdb, tunnels)
        })
    }

    /// What this router has observed of its peers.
    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }

    /// Takes back profiles saved before a restart (see [`Profiles::encode`]).
    pub fn restore_profiles(&mut self, saved: Profiles) {
        self.profiles.merge(saved);
    }

    /// Seeds the netDb with RouterInfos from outside the network (reseed); returns how
    /// many were new.
    pub fn bootstrap(
        &mut self,
        now: Instant,
        infos: impl IntoIterator<Item = Arc<RouterInfo>>,
    ) -> usize {
        self.netdb.add_bootstrap(now, infos)
    }

    /// Looks up the RouterInfo for `key` through the network. The result arrives as
    /// [`NetDbEvent::LookupFinished`] with the returned id.
    pub fn lookup(&mut self, now: Instant, key: Hash) -> LookupId {
        let id = self.netdb.lookup(now, key);
        self.collect(now);
        id
    }

    /// The transport authenticated a peer and received its RouterInfo, as NTCP2 does when
    /// a session is established (the RouterInfo block of SessionConfirmed). Stored under
    /// the usual rules; this is how routers learn most of the peers that contact them.
    pub fn handle_peer_info(&mut self, now: Instant, info: Arc<RouterInfo>) {
        self.netdb.add_peer_info(now, info);
        self.collect(now);
    }

    /// The transport could not reach `peer` (connection refused or timed out): what
    /// waited on it fails now instead of at its own timeout.
    pub fn handle_unreachable(&mut self, now: Instant, peer: Hash) {
        if let Some(tunnels) = self.tunnels.as_mut() {
            tunnels.peer_unreachable(now, peer, &mut self.profiles);
        }
        self.collect(now);
    }

    /// Handles a message that the transport received from `from`.
    pub fn handle_message(&mut self, now: Instant, from: Hash, msg: I2npMessage) {
        if msg.expiration_ms < now.as_millis() {
            let type_id = msg.body.type_id();
            self.outputs
                .push_back(Output::Event(Event::ExpiredMessage { from, type_id }));
            return;
        }
        let id = msg.id;
        let expiration_ms = msg.expiration_ms;
        let mut rest = self
            .netdb
            .handle_message(now, from, msg.body)
            .map(|body| I2npMessage {
                id,
                expiration_ms,
                body,
            });
        if let (Some(msg), Some(tunnels)) = (rest.take(), self.tunnels.as_mut()) {
            rest = tunnels.handle_message(now, from, &self.keys, &mut self.profiles, msg);
        }
        if let Some(I2npMessage {
            body: MessageBody::Garlic(garlic),
            ..
        }) = rest
        {
            self.handle_router_garlic(now, from, &garlic);
            rest = None;
        }
        self.unhandled(from, rest.as_ref().map(|m| &m.body));
        self.collect(now);
    }

    /// The RouterInfos we hold, ours and the process's: what decoding takes instead of
    /// parsing their bytes again.
    fn known(&self) -> Known<'_> {
        Known {
            own: self.netdb.store(),
            shared: self.shared_infos.as_deref(),
        }
    }

    /// Reports a message nothing in the router handles (yet).
    fn unhandled(&mut self, from: Hash, body: Option<&MessageBody>) {
        if let Some(body) = body {
            let type_id = body.type_id();
            self.outputs
                .push_back(Output::Event(Event::UnhandledMessage { from, type_id }));
        }
    }

    /// Runs everything that is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.netdb.handle_timeout(now);
        if let Some(tunnels) = self.tunnels.as_mut() {
            tunnels.handle_timeout(now, self.netdb.store(), &mut self.profiles);
        }
        if let Some(tunnels) = self.tunnels.as_mut() {
            self.clients.handle_timeout(now, &mut self.netdb, tunnels);
        }
        self.reply_keys.expire(now);
        if self.netdb.publish_due(now) {
            self.info = Arc::new(self.config.sign_router_info(&self.keys, now));
            if let Some(shared) = &self.shared_infos {
                shared.publish(self.info.clone());
            }
            self.netdb.publish(now, self.info.clone());
        }
        self.collect(now);
    }

    /// Comes back after a crash: keys and the RouterInfo table survive (they are on
    /// disk), everything in flight is forgotten.
    pub fn restart(&mut self, now: Instant) {
        self.outputs.clear();
        self.netdb.restart(now);
        if let Some(tunnels) = self.tunnels.as_mut() {
            tunnels.restart(now);
        }
        self.clients.restart();
    }

    /// The next thing to do. Drain until [`Output::Timeout`].
    pub fn poll_output(&mut self) -> Output {
        self.outputs.pop_front().unwrap_or_else(|| {
            let tunnels = self
                .tunnels
                .as_ref()
                .map_or(Instant::MAX, |t| t.poll_timeout());
            let clients = self.clients.poll_timeout();
            Output::Timeout(self.netdb.poll_timeout().min(tunnels).min(clients))
        })
    }

    /// Turns the netDb's and the tunnel manager's actions into outputs. A firewalled
    /// router notes whom it sends to: those are the peers it holds sessions with.
    fn collect(&mut self, now: Instant) {
        self.collect_actions(now);
        if let Some(tunnels) = self.tunnels.as_mut() {
            tunnels.sent_directly(
                now,
                self.outputs.iter().filter_map(|o| match o {
                    Output::Send { to, .. } => Some(to),
                    _ => None,
                }),
            );
        }
    }

    fn collect_actions(&mut self, now: Instant) {
        loop {
            self.collect_netdb(now);
            while let Some(event) = self.clients.poll_event() {
                self.outputs.push_back(Output::Event(Event::Client(event)));
            }
            let Some(action) = self.tunnels.as_mut().and_then(|t| t.poll_action()) else {
                return;
            };
            match action {
                TunnelAction::Send { to, msg } => self.outputs.push_back(Output::Send { to, msg }),
                TunnelAction::Event(event) => {
                    self.outputs.push_back(Output::Event(Event::Tunnel(event)))
                }
                // A message that reached us through one of our exploratory tunnels.
                TunnelAction::Deliver {
                    pool: PoolId::Exploratory,
                    msg,
                } => {
                    self.handle_tunneled_netdb(now, msg);
                }
                // Client pools carry garlic for their destination.
                TunnelAction::Deliver { pool, msg } => {
                    if let Some(tunnels) = self.tunnels.as_mut() {
                        self.clients
                            .deliver(now, pool, msg, &mut self.netdb, tunnels);
                    }
                }
                TunnelAction::Requested {
                    pool,
                    request,
                    status,
                } => self.clients.tunnel_status(pool, request, status),
                TunnelAction::InboundChanged(pool) => {
                    if let Some(tunnels) = self.tunnels.as_ref() {
                        self.clients
                            .inbound_changed(now, pool, &mut self.netdb, tunnels);
                    }
                }
            }
        }
    }

    fn collect_netdb(&mut self, now: Instant) {
        while let Some(action) = self.netdb.poll_action() {
            let output = match action {
                Action::Send { to, body } => Output::Send {
                    to,
                    msg: self.message(now, body),
                },
                Action::Query { to, lookup } => {
                    self.query(now, to, lookup);
                    continue;
                }
                Action::Publish { to, store } => {
                    self.send_lease_set_store(now, to, store);
                    continue;
                }
                // The messages waiting for this LeaseSet go out (or fail) now.
                Action::Event(
                    event @ NetDbEvent::LookupFinished {
                        key,
                        purpose: Purpose::LeaseSet,
                        ..
                    },
                ) => {
                    if let Some(tunnels) = self.tunnels.as_mut() {
                        self.clients
                            .lease_set_lookup_finished(now, key, &mut self.netdb, tunnels);
                    }
                    Output::Event(Event::NetDb(event))
                }
                Action::Reply {
                    gateway,
                    tunnel,
                    encryption,
                    body,
                } => {
                    let mut inner = self.message(now, body);
                    if let Some((key, tag)) = encryption {
                        let Ok(garlic) = wrap::as_reply(&key, tag, inner) else {
                            continue;
                        };
                        inner = self.message(now, MessageBody::Garlic(garlic));
                    }
                    let body = MessageBody::TunnelGateway(TunnelGateway {
                        tunnel_id: tunnel,
                        message: inner.encode(),
                    });
                    Output::Send {
                        to: gateway,
                        msg: self.message(now, body),
                    }
                }
                // Lookup replies and timeouts are what profiles are made of; they stay
                // inside the router.
                Action::Event(NetDbEvent::PeerAnswered { peer, after }) => {
                    self.profiles
                        .record(now, peer, Observation::LookupAnswered(after));
                    continue;
                }
                Action::Event(NetDbEvent::PeerTimedOut { peer }) => {
                    self.profiles.record(now, peer, Observation::LookupTimedOut);
                    continue;
                }
                Action::Event(event) => Output::Event(Event::NetDb(event)),
            };
            self.outputs.push_back(output);
        }
    }

    /// Sends one of our lookups out through an exploratory tunnel, its answer to come back
    /// through another, so that the floodfill sees neither end; directly while we have no
    /// tunnels (or none are configured).
    fn query(&mut self, now: Instant, to: Hash, lookup: DatabaseLookup) {
        if self.query_through_tunnels(now, to, &lookup) {
            return;
        }
        let msg = self.message(now, MessageBody::DatabaseLookup(lookup));
        self.outputs.push_back(Output::Send { to, msg });
    }

    /// The lookup through an exploratory tunnel, garlic-encrypted to the floodfill (the
    /// outbound endpoint cannot read it) and asking for an encrypted answer (the reply
    /// tunnel's gateway cannot read that). False when there is no tunnel or the
    /// floodfill's key is unknown.
    fn query_through_tunnels(&mut self, now: Instant, to: Hash, lookup: &DatabaseLookup) -> bool {
        let (Some(tunnels), Some(floodfill)) = (self.tunnels.as_mut(), self.netdb.get(&to)) else {
            return false;
        };
        let Some((gateway, tunnel)) = tunnels.reply_path(PoolId::Exploratory) else {
            return false;
        };
        let floodfill_key = floodfill.identity().encryption_key();
        let (key, tag) = self.reply_keys.issue(&mut self.rng, now);
        let tunneled = DatabaseLookup {
            from: gateway,
            reply_tunnel: Some(tunnel.0),
            reply_encryption: ReplyEncryption::Ratchet {
                key,
                tags: vec![tag],
            },
            ..lookup.clone()
        };
        let lifetime = self.config.message_lifetime;
        let inner = message(
            &mut self.rng,
            now,
            lifetime,
            MessageBody::DatabaseLookup(tunneled),
        );
        let memo = self.shared_secrets.as_deref();
        let sent =
            wrap::for_router(&mut self.rng, now, &floodfill_key, inner, memo).is_ok_and(|garlic| {
                let msg = message(&mut self.rng, now, lifetime, MessageBody::Garlic(garlic));
                tunnels.send_out(now, PoolId::Exploratory, Delivery::Router(to), &msg)
            });
        if !sent {
            self.reply_keys.take(&tag);
        }
        sent
    }

    /// Sends a destination's LeaseSet store through that destination's outbound tunnel,
    /// garlic-encrypted to the floodfill (so the outbound endpoint cannot read it), with
    /// the acknowledgement to come back through the destination's inbound tunnel.
    fn send_lease_set_store(&mut self, now: Instant, to: Hash, mut store: DatabaseStore) {
        let (Some(tunnels), Some(pool)) = (
            self.tunnels.as_mut(),
            self.clients
                .by_netdb_key(&store.key)
                .and_then(|id| self.clients.pool(id)),
        ) else {
            return;
        };
        let (Some(floodfill), Some((gateway, tunnel))) =
            (self.netdb.get(&to), tunnels.reply_path(pool))
        else {
            return;
        };
        let floodfill_key = floodfill.identity().encryption_key();
        if let Some(reply) = store.reply.as_mut() {
            reply.gateway = gateway;
            reply.tunnel_id = tunnel.0;
        }
        let inner = message(
            &mut self.rng,
            now,
            self.config.message_lifetime,
            MessageBody::DatabaseStore(store),
        );
        let memo = self.shared_secrets.as_deref();
        let Ok(garlic) = wrap::for_router(&mut self.rng, now, &floodfill_key, inner, memo) else {
            return;
        };
        let msg = message(
            &mut self.rng,
            now,
            self.config.message_lifetime,
            MessageBody::Garlic(garlic),
        );
        tunnels.send_out(now, pool, Delivery::Router(to), &msg);
    }

    /// Garlic addressed to this router itself (ECIES-X25519 to routers): the cloves for
    /// us are handled as if their sender had sent them; a floodfill receives LeaseSet
    /// stores this way.
    fn handle_router_garlic(&mut self, now: Instant, from: Hash, garlic: &Garlic) {
        let public = self.keys.identity().encryption_key();
        let secret = self.keys.encryption_secret();
        let memo = self.shared_secrets.as_deref();
        let Ok(messages) = wrap::open_for_router(secret, &public, garlic, &self.known(), memo)
        else {
            return; // not for us, or tampered: dropped
        };
        for msg in messages {
            let rest = self.netdb.handle_message(now, from, msg.body);
            self.unhandled(from, rest.as_ref());
        }
    }

    /// A netDb answer that came back through one of our exploratory tunnels: garlic under
    /// a reply key we handed out, or (from a floodfill that encrypts nothing) plain.
    fn handle_tunneled_netdb(&mut self, now: Instant, msg: I2npMessage) {
        let messages = match msg.body {
            MessageBody::Garlic(garlic) => {
                let key = garlic::router::session_tag(&garlic.data)
                    .and_then(|tag| self.reply_keys.take(&tag));
                match key.map(|key| wrap::open_reply(&key, &garlic, &self.known())) {
                    Some(Ok(messages)) => messages,
                    _ => return, // unknown tag, or tampered: dropped
                }
            }
            body => vec![I2npMessage { body, ..msg }],
        };
        for msg in messages {
            let rest = self.netdb.handle_tunneled(now, msg.body);
            self.unhandled(self.hash(), rest.as_ref());
        }
    }

    fn message(&mut self, now: Instant, body: MessageBody) -> I2npMessage {
        message(&mut self.rng, now, self.config.message_lifetime, body)
    }
}

/// A message with a random id, expiring `lifetime` after `now`. A free function so that
/// it can be called while other parts of the router are borrowed.
fn message(
    rng: &mut ChaCha20Rng,
    now: Instant,
    lifetime: Duration,
    body: MessageBody,
) -> I2npMessage {
    I2npMessage::with_random_id(rng, (now + lifetime).as_millis(), body)
}
