//! Local destinations: the identities hidden services and clients use on this router.
//!
//! Each destination has its own keys, its own tunnel pool (client tunnels: 3 hops from
//! the fast tier by default), a LeaseSet2 kept published for as long as its inbound
//! tunnels change, and ECIES-X25519-AEAD-Ratchet sessions with the destinations it talks
//! to. Alice sends to Bob through her outbound tunnel to the gateway of one of Bob's
//! leases; his inbound tunnel brings the garlic to his router, whose ratchet opens it.
//! Alice's first message to Bob bundles her LeaseSet, so Bob can answer without a
//! lookup; replies come back the other way.
//!
//! A destination may instead be *balanced* (proposal 140, "Invisible Multihoming"): the
//! same keys run on several routers (edges), and a balancer outside them signs one
//! LeaseSet from all the edges' inbound tunnels. The router side of that protocol is
//! here: such a destination builds tunnels but signs nothing, reports its inbound
//! tunnels ([`ClientEvent::InboundTunnels`], "Get Tunnel Pool") and publishes the
//! LeaseSet it is given ([`Clients::publish_lease_set`], "Publish LeaseSet"); sending
//! and receiving are the same as for any destination. The balancer may also name the
//! peers of a tunnel ([`Clients::create_tunnel`], "Create Tunnel"), and hears how the
//! build went ([`ClientEvent::TunnelStatus`], "Tunnel Status").
//!
//! The other way to spread a service over routers is proposal 123's MetaLeaseSet: each
//! router runs a destination of its own, and the service's destination publishes a
//! MetaLeaseSet listing theirs ([`Clients::publish_meta_lease_set`]). Sending to such a
//! destination takes two lookups: its MetaLeaseSet, then the cheapest listed LeaseSet2;
//! the message goes to that listed destination.
//!
//! A destination may hide its LeaseSet ([`LeaseSetEncryption`]): it then publishes only
//! an encrypted LeaseSet under the day's blinded key, and is reached by its b33 address
//! ([`HiddenDestination`]): the sender derives the storage key for today, looks the
//! encrypted LeaseSet up, decrypts it and goes on as with any LeaseSet2.
//!
//! Like the other parts of the core this is sans-IO; it works on the netDb and the tunnel
//! manager the router passes in, and reports through [`ClientEvent`]s.
//!
//! The modules, by job: `local` (a destination's keys and state), `publish` (signing and
//! storing its LeaseSet), `balanced` (proposal 140's router side), `send` and `route`
//! (finding the recipient and sending garlic), `deliver` (opening what arrives), and
//! `event` (what the caller hears).

pub mod app_payload;
mod apps;
mod balanced;
pub mod datagram;
mod deliver;
mod event;
mod local;
mod publish;
mod respond;
mod route;
mod send;
pub mod streaming;

pub use apps::{AppError, DatagramKind};
pub use event::{ClientEvent, CreateTunnelError, Outgoing, PublishError, SendFailure};
use local::Local;
pub use local::{HiddenDestination, LeaseSetEncryption};
use publish::{Publication, Published};

use crate::crypto::DestinationKeys;
use crate::data::{B33Address, ClientAuthorization, Hash, Lease2};
use crate::garlic::ratchet::{RatchetEndpoint, SEND_NEXT_KEY_AT};
use crate::netdb::NetDb;
use crate::profile::SelectionRules;
use crate::time::Instant;
use crate::tunnel::{PoolConfig, PoolId, TunnelManager};
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;
use streaming::ManagerConfig;

/// How a destination's tunnels are made (DESIGN.md: client tunnels 3 hops, 2 per
/// direction, hops from the fast tier in XOR order, partitioned inbound gateways).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub hops: usize,
    pub tunnels: usize,
    pub selection: SelectionRules,
    /// Keep sending to a destination through the lease chosen for it while that lease
    /// lives, rather than drawing a lease per message. A multihomed destination needs
    /// it: its leases lead to different routers, and a ratchet session lives on one.
    pub sticky_leases: bool,
    /// Every destination's streams: their parameters and admission limits.
    pub streaming: ManagerConfig,
    /// The message number of a ratchet tag set from which a sender starts the DH
    /// ratchet (the spec's 4096); lower crosses tag sets sooner, for tests and studies.
    pub ratchet_next_key_at: u16,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            hops: 3,
            tunnels: 2,
            selection: SelectionRules::client(),
            sticky_leases: false,
            streaming: ManagerConfig::default(),
            ratchet_next_key_at: SEND_NEXT_KEY_AT,
        }
    }
}

/// How many hops a destination's tunnels have, and how many it keeps per direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelShape {
    pub hops: usize,
    pub tunnels: usize,
}

/// Names a local destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestinationId(pub u32);

/// The remaining life below which a lease is not used for new messages: the tunnel may
/// be gone before the message crosses it.
const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// How long a message waits for its delivery confirmation before we stop listening.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(60);

/// A message not confirmed this long means the path to its recipient is broken: the
/// LeaseSet we hold names dead tunnels, or the recipient's router restarted and lost our
/// session. The next message looks the LeaseSet up again and starts a new session.
/// Confirmations take a round trip through four tunnels, normally a second or two.
const STALE_AFTER: Duration = Duration::from_secs(15);

/// All local destinations of a router.
#[derive(Debug)]
pub struct Clients {
    config: ClientConfig,
    locals: BTreeMap<DestinationId, Local>,
    /// The hidden destinations whose encrypted LeaseSets are being looked up, by
    /// storage key: how to read the LeaseSet when it arrives.
    hidden: BTreeMap<Hash, HiddenDestination>,
    next_id: u32,
    rng: ChaCha20Rng,
    events: VecDeque<ClientEvent>,
    /// Ratchet responses sent on their own so far (see `respond`).
    responses_sent: u64,
}

impl Clients {
    pub fn new(config: ClientConfig, rng: ChaCha20Rng) -> Self {
        Self {
            config,
            locals: BTreeMap::new(),
            hidden: BTreeMap::new(),
            next_id: 0,
            rng,
            events: VecDeque::new(),
            responses_sent: 0,
        }
    }

    /// Destination `id`'s ratchet endpoint: its sessions, read-only.
    pub fn ratchet(&self, id: DestinationId) -> Option<&RatchetEndpoint> {
        self.locals.get(&id).map(|l| &l.ratchet)
    }

    /// The lease destination `id` keeps sending to `to` through (with `sticky_leases`).
    pub fn route(&self, id: DestinationId, to: &Hash) -> Option<Lease2> {
        self.locals.get(&id)?.routes.get(to).copied()
    }

    /// Ratchet-layer responses (owed ACKs and NextKeys) sent without other traffic.
    pub fn ratchet_responses_sent(&self) -> u64 {
        self.responses_sent
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        loop {
            let event = self.events.pop_front()?;
            // Our own messages' fates are not the caller's: a stream packet that could
            // not leave is resent or fails its stream in time, and one confirmed (a
            // resend after a timeout asks) has told the path all it had to.
            let internal = match &event {
                ClientEvent::SendFailed { reference, .. }
                | ClientEvent::Delivered { reference, .. } => {
                    *reference >= apps::INTERNAL_REFERENCE
                }
                _ => false,
            };
            if !internal {
                return Some(event);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.locals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.locals.is_empty()
    }

    /// The hash of a local destination.
    pub fn hash(&self, id: DestinationId) -> Option<Hash> {
        self.locals.get(&id).map(|l| l.keys.hash())
    }

    /// The destination whose LeaseSet a netDb publication under `key` is for: its hash,
    /// or for a hidden destination the storage key of its current encrypted LeaseSet.
    pub fn by_netdb_key(&self, key: &Hash) -> Option<DestinationId> {
        self.locals
            .iter()
            .find(|(_, l)| match &l.encrypted {
                Some(e) => e.lease_set.storage_key() == *key,
                None => l.keys.hash() == *key,
            })
            .map(|(id, _)| *id)
    }

    /// The b33 address of local destination `id`, for a hidden one: what its clients
    /// need (with the secret and their key, where it asks for them).
    pub fn b33_address(&self, id: DestinationId) -> Option<B33Address> {
        let local = self.locals.get(&id)?;
        let encryption = local.encryption.as_ref()?;
        let per_client = !matches!(encryption.auth, ClientAuthorization::Everybody);
        Some(
            local
                .keys
                .b33_address(!encryption.secret.is_empty(), per_client),
        )
    }

    /// The destination that owns tunnel pool `pool`.
    pub fn by_pool(&self, pool: PoolId) -> Option<DestinationId> {
        self.locals
            .iter()
            .find(|(_, l)| l.pool == pool)
            .map(|(id, _)| *id)
    }

    pub fn pool(&self, id: DestinationId) -> Option<PoolId> {
        self.locals.get(&id).map(|l| l.pool)
    }

    /// Adds a destination with `keys`; its tunnels are built from now on and its
    /// LeaseSet is published once it has inbound tunnels, encrypted when `encryption`
    /// says how.
    pub fn add(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        encryption: Option<LeaseSetEncryption>,
        tunnels: &mut TunnelManager,
    ) -> DestinationId {
        let rules = self.config.selection.clone();
        let pool = self.pool_config(rules, self.shape());
        self.add_local(now, keys, encryption, false, pool, tunnels)
    }

    /// [`Clients::add`], with tunnels of `shape` rather than the configured ones (an
    /// application's `inbound.length`, `inbound.quantity`, ...).
    pub fn add_shaped(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        shape: TunnelShape,
        tunnels: &mut TunnelManager,
    ) -> DestinationId {
        let pool = self.pool_config(self.config.selection.clone(), shape);
        self.add_local(now, keys, None, false, pool, tunnels)
    }

    /// Stops destination `id`: its tunnels go, its streams and sessions are forgotten.
    /// Its LeaseSet stays at the floodfills until its leases end. False if unknown.
    pub fn remove(&mut self, id: DestinationId, tunnels: &mut TunnelManager) -> bool {
        let Some(local) = self.locals.remove(&id) else {
            return false;
        };
        tunnels.remove_pool(local.pool);
        true
    }

    /// The configured shape of destinations' tunnels.
    fn shape(&self) -> TunnelShape {
        TunnelShape {
            hops: self.config.hops,
            tunnels: self.config.tunnels,
        }
    }

    fn pool_config(&self, rules: SelectionRules, shape: TunnelShape) -> PoolConfig {
        PoolConfig {
            hops: shape.hops,
            count: shape.tunnels,
            rules,
        }
    }

    /// [`Clients::add`], with hops chosen by `rules` rather than the configured ones.
    pub fn add_with_rules(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        rules: SelectionRules,
        tunnels: &mut TunnelManager,
    ) -> DestinationId {
        let pool = self.pool_config(rules, self.shape());
        self.add_local(now, keys, None, false, pool, tunnels)
    }

    /// Adds a balanced destination (proposal 140's "Create Session"): its tunnels are
    /// built, and each change of its inbound tunnels is reported as
    /// [`ClientEvent::InboundTunnels`]; it publishes only what
    /// [`Clients::publish_lease_set`] gives it.
    /// `rules`, when given, replace the configured hop selection (the balancer's choice
    /// of inbound gateways).
    pub fn add_balanced(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        rules: Option<SelectionRules>,
        tunnels: &mut TunnelManager,
    ) -> DestinationId {
        let rules = rules.unwrap_or_else(|| self.config.selection.clone());
        let pool = self.pool_config(rules, self.shape());
        self.add_local(now, keys, None, true, pool, tunnels)
    }

    fn add_local(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        encryption: Option<LeaseSetEncryption>,
        balanced: bool,
        pool: PoolConfig,
        tunnels: &mut TunnelManager,
    ) -> DestinationId {
        let id = DestinationId(self.next_id);
        self.next_id += 1;
        let pool = tunnels.add_pool(now, pool);
        let ratchet = new_ratchet(&self.config, &keys);
        self.locals.insert(
            id,
            Local {
                keys,
                balanced,
                pool,
                ratchet,
                lease_set: None,
                encryption,
                encrypted: None,
                publication: None,
                informed: BTreeSet::new(),
                waiting: BTreeMap::new(),
                unconfirmed: BTreeMap::new(),
                stale: BTreeSet::new(),
                routes: BTreeMap::new(),
                avoided: BTreeMap::new(),
                streams: None,
            },
        );
        id
    }

    /// Forgets sessions and queued messages, as after a restart (keys survive; the
    /// tunnel manager rebuilds the pools).
    pub fn restart(&mut self) {
        for local in self.locals.values_mut() {
            local.ratchet = new_ratchet(&self.config, &local.keys);
            local.lease_set = None;
            local.encrypted = None;
            local.publication = None;
            local.informed.clear();
            local.waiting.clear();
            local.unconfirmed.clear();
            local.stale.clear();
            local.routes.clear();
            local.avoided.clear();
            local.streams = None;
        }
        self.hidden.clear();
        self.events.clear();
    }

    /// Drops idle ratchet sessions, stores LeaseSets again whose store was not
    /// acknowledged, at UTC midnight encrypts hidden destinations' LeaseSets under
    /// the new day's blinded key, runs the streams' timers and sends the ratchet
    /// responses owed.
    pub fn handle_timeout(&mut self, now: Instant, netdb: &mut NetDb, tunnels: &mut TunnelManager) {
        let mut due = Vec::new();
        for (id, local) in &mut self.locals {
            local.ratchet.expire(now);
            local
                .unconfirmed
                .retain(|_, u| now.saturating_duration_since(u.sent) < CONFIRM_TIMEOUT);
            for u in local.unconfirmed.values_mut() {
                if !u.stale && now.saturating_duration_since(u.sent) >= STALE_AFTER {
                    u.stale = true;
                    // Once per stale spell: a later message may already have started
                    // the new session that an older one's expiry must not undo.
                    if local.stale.insert(u.to) {
                        local.ratchet.reset_outbound(&u.remote_key);
                        local.routes.remove(&u.to);
                        // The restarted peer needs our LeaseSet again to answer.
                        local.informed.remove(&u.to);
                    }
                }
            }
            let renew = local.encrypted.as_ref().is_some_and(|e| now >= e.renew_at);
            if let (true, Some(ls)) = (renew, &local.lease_set) {
                local.encrypted = local.encrypt(&mut self.rng, now, ls).ok().flatten();
                local.publication = Some(Publication::new_round(Published::LeaseSet2(ls.clone())));
                due.push(*id);
                continue;
            }
            let retry = local.publication.as_ref().and_then(|p| p.retry_at);
            if retry.is_some_and(|at| now >= at) {
                due.push(*id);
            }
        }
        for id in due {
            self.publish(now, id, netdb, tunnels);
        }
        self.streams_handle_timeout(now, netdb, tunnels);
        self.send_owed_responses(now, netdb, tunnels);
    }

    /// When [`Clients::handle_timeout`] has something to do next: a LeaseSet store to
    /// retry, a message about to count as unconfirmed, midnight for a hidden
    /// destination, a stream's timer, or a ratchet response owed.
    pub fn poll_timeout(&self) -> Instant {
        let publications = self.locals.values().filter_map(|l| {
            let retry = l.publication.as_ref().and_then(|p| p.retry_at);
            let renew = l.encrypted.as_ref().map(|e| e.renew_at);
            retry.into_iter().chain(renew).min()
        });
        let stale = self.locals.values().flat_map(|l| {
            l.unconfirmed
                .values()
                .filter(|u| !u.stale)
                .map(|u| u.sent + STALE_AFTER)
        });
        let streams = self.streams_timeout();
        publications
            .chain(stale)
            .chain(streams)
            .chain(self.owed_responses_at())
            .min()
            .unwrap_or(Instant::MAX)
    }
}

/// A destination's ratchet endpoint, as the configuration asks.
fn new_ratchet(config: &ClientConfig, keys: &DestinationKeys) -> RatchetEndpoint {
    let mut ratchet = RatchetEndpoint::new(keys.encryption_secret().clone());
    ratchet.set_ratchet_at(config.ratchet_next_key_at);
    ratchet
}
