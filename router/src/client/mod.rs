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

pub mod streaming;
use crate::crypto::blinding::{BlindedPublicKey, Credential};
use crate::crypto::DestinationKeys;
use crate::data::{
    B33Address, ClientAuthorization, ClientKey, DataError, DecryptError, EncryptedLeaseSet, Hash,
    InnerLeaseSet, Lease2, LeaseSet2, MetaLeaseSet,
};
use crate::garlic::payload::{emit_payload, parse_payload, Block, Clove, CloveDelivery};
use crate::garlic::ratchet::{MessageKind, RatchetEndpoint};
use crate::i2np::{
    DataMessage, DatabaseStore, DeliveryStatus, Garlic, I2npMessage, MessageBody, StoreEntry,
};
use crate::netdb::NetDb;
use crate::netdb::RouterInfoStore;
use crate::profile::selection::Direction;
use crate::profile::{PathError, SelectionRules};
use crate::time::Instant;
use crate::tunnel::data::Delivery;
use crate::tunnel::{
    BuildThroughError, PoolConfig, PoolId, TunnelManager, TunnelRequestId, TunnelStatus,
};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

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
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            hops: 3,
            tunnels: 2,
            selection: SelectionRules::client(),
            sticky_leases: false,
        }
    }
}

/// How a destination hides its LeaseSet from floodfills and from whoever lacks its
/// address (spec: Encrypted LeaseSet).
#[derive(Debug, Clone)]
pub struct LeaseSetEncryption {
    /// What clients need besides the address to find the LeaseSet; empty for none.
    pub secret: Vec<u8>,
    /// Who may read it.
    pub auth: ClientAuthorization,
}

/// A destination known by its b33 address: what a sender needs to find and read its
/// encrypted LeaseSet. `Debug` shows no key.
#[derive(Clone)]
pub struct HiddenDestination {
    pub address: B33Address,
    /// The secret the address requires; empty when it requires none.
    pub secret: Vec<u8>,
    /// Our key, when the destination authorises clients one by one.
    pub client_key: Option<ClientKey>,
}

impl fmt::Debug for HiddenDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HiddenDestination")
            .field("address", &self.address.to_string())
            .field("client_key", &self.client_key)
            .finish_non_exhaustive()
    }
}

/// Names a local destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestinationId(pub u32);

/// Why a message was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailure {
    /// The recipient's LeaseSet could not be found, or has no usable lease or key.
    NoLeaseSet,
    /// The sending destination has no outbound tunnel (yet).
    NoTunnel,
    /// The payload does not fit one garlic message.
    TooLarge,
    /// The recipient's encrypted LeaseSet was found, and it does not list us (or we
    /// gave no client key): only the destination can change that.
    NotAuthorised,
}

/// A message for a destination: application data, and the caller's reference for it
/// (given back in [`ClientEvent::SendFailed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub reference: u64,
    pub payload: Vec<u8>,
}

/// What destinations report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A message for `destination` arrived.
    Received {
        destination: DestinationId,
        payload: Vec<u8>,
    },
    /// The message the caller sent with `reference` could not be sent.
    SendFailed {
        destination: DestinationId,
        to: Hash,
        reference: u64,
        reason: SendFailure,
    },
    /// The recipient's router confirmed the message sent with `reference`: the
    /// DeliveryStatus clove it carried came back through our inbound tunnel, `after` the
    /// send.
    Delivered {
        destination: DestinationId,
        to: Hash,
        reference: u64,
        after: Duration,
    },
    /// A new LeaseSet of `destination` went out to its floodfill, with `leases` leases
    /// (for a MetaLeaseSet: entries).
    LeaseSetPublished {
        destination: DestinationId,
        leases: usize,
    },
    /// The inbound tunnels of a balanced destination changed: these are the ones worth
    /// publishing now (the proposal's "Tunnel List").
    InboundTunnels {
        destination: DestinationId,
        leases: Vec<Lease2>,
    },
    /// The tunnel asked for as `request` ([`Clients::create_tunnel`]) was built or not
    /// (the proposal's "Tunnel Status"). A built inbound tunnel is also in the
    /// [`ClientEvent::InboundTunnels`] report that follows.
    TunnelStatus {
        destination: DestinationId,
        request: TunnelRequestId,
        status: TunnelStatus,
    },
}

/// Why [`Clients::publish_lease_set`] refused a LeaseSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("no such local destination")]
    UnknownDestination,
    #[error("the LeaseSet is not the destination's")]
    WrongDestination,
    #[error("the destination signs its own LeaseSets (it is not balanced)")]
    NotBalanced,
    #[error("the LeaseSet is not newer than the one published")]
    NotNewer,
}

/// Why [`Clients::create_tunnel`] refused to build a tunnel through named peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreateTunnelError {
    #[error("destinations need tunnels: this router was configured without them")]
    NoTunnels,
    #[error("no such local destination")]
    UnknownDestination,
    #[error("the destination is not balanced: its router chooses its peers")]
    NotBalanced,
    #[error("unusable path: {0}")]
    Path(#[from] PathError),
    /// A named peer's RouterInfo has an encryption key no build record can be made for.
    #[error("the build request could not be made")]
    Unbuildable,
}

/// The remaining life below which a lease is not used for new messages: the tunnel may
/// be gone before the message crosses it.
const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// How long a message waits for its delivery confirmation before we stop listening.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a LeaseSet store waits for the floodfill's acknowledgement before the next
/// floodfill is tried (the netDb page: a client store is verified ~20 s later; the ack
/// comes back through two tunnels, which rarely takes more than a few seconds).
const PUBLISH_ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Floodfills tried for one LeaseSet before pausing; after the pause, the round starts
/// again from the closest one.
const PUBLISH_ATTEMPTS: usize = 3;
const PUBLISH_PAUSE: Duration = Duration::from_secs(60);

/// A store goes out through the destination's own outbound tunnel; until it has one,
/// publication checks back this often.
const NO_TUNNEL_RETRY: Duration = Duration::from_secs(2);

/// What a destination publishes.
#[derive(Debug, Clone)]
enum Published {
    LeaseSet2(Arc<LeaseSet2>),
    Meta(Arc<MetaLeaseSet>),
}

/// Where the publication of a destination's current LeaseSet stands.
#[derive(Debug)]
struct Publication {
    what: Published,
    /// Floodfills asked in this round, in order.
    tried: Vec<Hash>,
    /// The acknowledgement token of the last store, while it is awaited.
    awaiting: Option<u32>,
    /// When to store again (ack timeout, or the end of a pause); `None` once stored.
    retry_at: Option<Instant>,
}

impl Publication {
    /// A new LeaseSet starts a new round, from the closest floodfill.
    fn new_round(what: Published) -> Publication {
        Publication {
            what,
            tried: Vec::new(),
            awaiting: None,
            retry_at: None,
        }
    }
}

/// A hidden destination's current LeaseSet, encrypted under one day's blinded key.
#[derive(Debug)]
struct Encrypted {
    lease_set: Arc<EncryptedLeaseSet>,
    /// The next UTC midnight, when the blinded key changes and with it the storage key
    /// clients look under: the same LeaseSet is encrypted and published again then.
    renew_at: Instant,
}

/// A message not confirmed this long means the path to its recipient is broken: the
/// LeaseSet we hold names dead tunnels, or the recipient's router restarted and lost our
/// session. The next message looks the LeaseSet up again and starts a new session.
/// Confirmations take a round trip through four tunnels, normally a second or two.
const STALE_AFTER: Duration = Duration::from_secs(15);

/// A message waiting for its DeliveryStatus.
#[derive(Debug)]
struct Unconfirmed {
    to: Hash,
    /// The recipient's encryption key: its ratchet session is reset if this goes stale.
    remote_key: [u8; 32],
    reference: u64,
    sent: Instant,
    /// Counted against the path already (see [`STALE_AFTER`]).
    stale: bool,
}

#[derive(Debug)]
struct Local {
    keys: DestinationKeys,
    /// A balancer signs its LeaseSets; the router only builds tunnels and publishes.
    balanced: bool,
    pool: PoolId,
    ratchet: RatchetEndpoint,
    lease_set: Option<Arc<LeaseSet2>>,
    /// Set for a hidden destination: what it publishes instead of its LeaseSet2.
    encryption: Option<LeaseSetEncryption>,
    /// The current LeaseSet encrypted, for a hidden destination.
    encrypted: Option<Encrypted>,
    publication: Option<Publication>,
    /// Peers our current LeaseSet was bundled to.
    informed: BTreeSet<Hash>,
    /// Messages waiting for the recipient's LeaseSet.
    waiting: BTreeMap<Hash, Vec<Outgoing>>,
    /// Messages sent, by the id of the DeliveryStatus that confirms them.
    unconfirmed: BTreeMap<u32, Unconfirmed>,
    /// Recipients whose path went stale: their LeaseSet is looked up before the next
    /// message, even when we hold one.
    stale: BTreeSet<Hash>,
    /// The lease each recipient is sent through, with `sticky_leases`.
    routes: BTreeMap<Hash, Lease2>,
}

impl Local {
    /// `ls` encrypted under today's blinded key for a hidden destination, `None` for
    /// another. Clients derive the storage key from their own date, so the encryption
    /// is renewed at midnight.
    fn encrypt(
        &self,
        rng: &mut ChaCha20Rng,
        now: Instant,
        ls: &LeaseSet2,
    ) -> Result<Option<Encrypted>, DataError> {
        let Some(encryption) = &self.encryption else {
            return Ok(None);
        };
        let date = now.utc_date_string();
        let els =
            self.keys
                .encrypt_lease_set(rng, &date, &encryption.secret, ls, &encryption.auth)?;
        Ok(Some(Encrypted {
            lease_set: Arc::new(els),
            renew_at: now.next_utc_midnight(),
        }))
    }
}

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
        }
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
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
        self.add_local(now, keys, encryption, false, rules, tunnels)
    }

    /// [`Clients::add`], with hops chosen by `rules` rather than the configured ones.
    pub fn add_with_rules(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        rules: SelectionRules,
        tunnels: &mut TunnelManager,
    ) -> DestinationId {
        self.add_local(now, keys, None, false, rules, tunnels)
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
        self.add_local(now, keys, None, true, rules, tunnels)
    }

    fn add_local(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        encryption: Option<LeaseSetEncryption>,
        balanced: bool,
        rules: SelectionRules,
        tunnels: &mut TunnelManager,
    ) -> DestinationId {
        let id = DestinationId(self.next_id);
        self.next_id += 1;
        let pool = tunnels.add_pool(
            now,
            PoolConfig {
                hops: self.config.hops,
                count: self.config.tunnels,
                rules,
            },
        );
        let ratchet = RatchetEndpoint::new(keys.encryption_secret().clone());
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
            },
        );
        id
    }

    /// Forgets sessions and queued messages, as after a restart (keys survive; the
    /// tunnel manager rebuilds the pools).
    pub fn restart(&mut self) {
        for local in self.locals.values_mut() {
            local.ratchet = RatchetEndpoint::new(local.keys.encryption_secret().clone());
            local.lease_set = None;
            local.encrypted = None;
            local.publication = None;
            local.informed.clear();
            local.waiting.clear();
            local.unconfirmed.clear();
            local.stale.clear();
            local.routes.clear();
        }
        self.hidden.clear();
        self.events.clear();
    }

    /// Drops idle ratchet sessions, stores LeaseSets again whose store was not
    /// acknowledged, and at UTC midnight encrypts hidden destinations' LeaseSets under
    /// the new day's blinded key.
    pub fn handle_timeout(&mut self, now: Instant, netdb: &mut NetDb, tunnels: &TunnelManager) {
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
    }

    /// When [`Clients::handle_timeout`] has something to do next: a LeaseSet store to
    /// retry, a message about to count as unconfirmed, or midnight for a hidden
    /// destination.
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
        publications.chain(stale).min().unwrap_or(Instant::MAX)
    }

    /// Stores destination `id`'s current LeaseSet at the next floodfill of this round,
    /// or pauses the round when it has tried enough of them (or knows none).
    fn publish(
        &mut self,
        now: Instant,
        id: DestinationId,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) {
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        let Some(publication) = local.publication.as_mut() else {
            return;
        };
        if tunnels.pool_tunnels(local.pool).1 == 0 {
            publication.retry_at = Some(now + NO_TUNNEL_RETRY);
            return;
        }
        if publication.tried.len() >= PUBLISH_ATTEMPTS {
            publication.tried.clear();
            publication.awaiting = None;
            publication.retry_at = Some(now + PUBLISH_PAUSE);
            return;
        }
        let tried = &publication.tried;
        let (sent, leases) = match (&publication.what, &local.encrypted) {
            (Published::LeaseSet2(ls), Some(e)) => (
                netdb.publish_encrypted_lease_set(now, e.lease_set.clone(), tried),
                ls.leases().len(),
            ),
            (Published::LeaseSet2(ls), None) => (
                netdb.publish_lease_set(now, ls.clone(), tried),
                ls.leases().len(),
            ),
            (Published::Meta(meta), _) => (
                netdb.publish_meta_lease_set(now, meta.clone(), tried),
                meta.entries().len(),
            ),
        };
        match sent {
            Some((floodfill, token)) => {
                publication.tried.push(floodfill);
                publication.awaiting = Some(token.get());
                publication.retry_at = Some(now + PUBLISH_ACK_TIMEOUT);
                self.events.push_back(ClientEvent::LeaseSetPublished {
                    destination: id,
                    leases,
                });
            }
            // Every floodfill we know was tried (or we know none): pause, then start
            // over from the closest.
            None => {
                publication.tried.clear();
                publication.awaiting = None;
                publication.retry_at = Some(now + PUBLISH_PAUSE);
            }
        }
    }

    /// Sends `message` from destination `id` to the destination `to`, looking its
    /// LeaseSet up first when we do not hold it.
    pub fn send(
        &mut self,
        now: Instant,
        id: DestinationId,
        to: Hash,
        message: Outgoing,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        if !self.locals.contains_key(&id) {
            return;
        }
        let stale = &self.locals[&id].stale;
        let route = match route(now, to, netdb, stale, &mut self.rng) {
            // A broken path is looked up afresh, even when we hold a LeaseSet.
            Route::Send(via) if stale.contains(&via) => Route::Lookup(via),
            route => route,
        };
        self.follow(now, id, route, message, netdb, tunnels);
    }

    /// Sends `message` as `route` says: now, after a lookup, or not at all.
    fn follow(
        &mut self,
        now: Instant,
        id: DestinationId,
        route: Route,
        message: Outgoing,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        match route {
            Route::Send(to) => self.send_now(now, id, to, message, netdb, tunnels),
            Route::Lookup(key) => {
                let looking_up = self.locals.values().any(|l| l.waiting.contains_key(&key));
                if let Some(local) = self.locals.get_mut(&id) {
                    local.waiting.entry(key).or_default().push(message);
                }
                if !looking_up {
                    netdb.lookup_lease_set(now, key);
                }
            }
            // Nothing to look up: `send_now` reports the failure.
            Route::Unreachable(to) => self.send_now(now, id, to, message, netdb, tunnels),
        }
    }

    /// Sends `message` from destination `id` to the hidden destination `to`: decrypts
    /// the encrypted LeaseSet stored under today's key if we hold it, and looks it up
    /// first otherwise (or when its destination's path went stale).
    pub fn send_hidden(
        &mut self,
        now: Instant,
        id: DestinationId,
        to: &HiddenDestination,
        message: Outgoing,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        let date = now.utc_date_string();
        let Ok(blinded) = BlindedPublicKey::of_address(&to.address, &date, &to.secret) else {
            // The address's key is off the prime-order group: nobody can publish there.
            return self.events.push_back(ClientEvent::SendFailed {
                destination: id,
                to: Hash::digest(to.address.public_key()),
                reference: message.reference,
                reason: SendFailure::NoLeaseSet,
            });
        };
        let key = blinded.storage_key();
        let credential = Credential::of_address(&to.address);
        if let Some(Ok(InnerLeaseSet::LeaseSet2(ls))) =
            netdb.decrypt_lease_set(now, &key, &credential, to.client_key.as_ref())
        {
            if !local.stale.contains(&ls.hash()) {
                return self.send_now(now, id, ls.hash(), message, netdb, tunnels);
            }
        }
        let looking_up = self.locals.values().any(|l| l.waiting.contains_key(&key));
        if let Some(local) = self.locals.get_mut(&id) {
            local.waiting.entry(key).or_default().push(message);
        }
        self.hidden.insert(key, to.clone());
        if !looking_up {
            netdb.lookup_lease_set(now, key);
        }
    }

    /// A LeaseSet lookup ended: the messages waiting for it go out, or fail.
    pub fn lease_set_lookup_finished(
        &mut self,
        now: Instant,
        key: Hash,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        // An encrypted LeaseSet is read first: the messages go to the destination inside.
        let recipient = match self.hidden.remove(&key) {
            None => Ok(key),
            Some(hidden) => {
                let credential = Credential::of_address(&hidden.address);
                match netdb.decrypt_lease_set(now, &key, &credential, hidden.client_key.as_ref()) {
                    Some(Ok(InnerLeaseSet::LeaseSet2(ls))) => Ok(ls.hash()),
                    // The netDb keeps it; the route goes on to a LeaseSet2 it lists.
                    Some(Ok(InnerLeaseSet::Meta(meta))) => Ok(meta.hash()),
                    Some(Err(DecryptError::NotAuthorised)) => Err(SendFailure::NotAuthorised),
                    // Not found, or unreadable.
                    _ => Err(SendFailure::NoLeaseSet),
                }
            }
        };
        let ids: Vec<DestinationId> = self.locals.keys().copied().collect();
        for id in ids {
            let Some(queued) = self.locals.get_mut(&id).and_then(|l| {
                // Looked up afresh: whatever the netDb now holds is the best we know.
                l.stale.remove(recipient.as_ref().unwrap_or(&key));
                l.waiting.remove(&key)
            }) else {
                continue;
            };
            for message in queued {
                match recipient {
                    Ok(to) => {
                        // A MetaLeaseSet found leads on to a listed LeaseSet2, looked up
                        // next; anything else is final.
                        let stale = &self.locals[&id].stale;
                        let route = match route(now, to, netdb, stale, &mut self.rng) {
                            Route::Lookup(next) if next == key => Route::Unreachable(key),
                            route => route,
                        };
                        self.follow(now, id, route, message, netdb, tunnels);
                    }
                    Err(reason) => self.events.push_back(ClientEvent::SendFailed {
                        destination: id,
                        to: key,
                        reference: message.reference,
                        reason,
                    }),
                }
            }
        }
    }

    fn send_now(
        &mut self,
        now: Instant,
        id: DestinationId,
        to: Hash,
        Outgoing { reference, payload }: Outgoing,
        netdb: &NetDb,
        tunnels: &mut TunnelManager,
    ) {
        let fail = |events: &mut VecDeque<ClientEvent>, reason| {
            events.push_back(ClientEvent::SendFailed {
                destination: id,
                to,
                reference,
                reason,
            })
        };
        let Some(remote) = netdb.lease_sets().get(&to, now).cloned() else {
            return fail(&mut self.events, SendFailure::NoLeaseSet);
        };
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        let usable_until = (now + LEASE_MARGIN).as_secs();
        let usable = |l: &Lease2| !l.is_expired_at(usable_until);
        let kept = local
            .routes
            .get(&to)
            .filter(|l| usable(l) && remote.leases().contains(l))
            .copied();
        let lease = kept.or_else(|| {
            let leases: Vec<&Lease2> = remote.leases().iter().filter(|l| usable(l)).collect();
            leases.choose(&mut self.rng).map(|l| **l)
        });
        let (Some(lease), Some(remote_key)) = (lease, remote.x25519_key()) else {
            return fail(&mut self.events, SendFailure::NoLeaseSet);
        };
        if self.config.sticky_leases {
            local.routes.insert(to, lease);
        }
        let expiration_ms = (now + Duration::from_secs(60)).as_millis();
        let mut blocks = Vec::with_capacity(3);
        if local.ratchet.next_kind(&remote_key) == MessageKind::NewSession {
            blocks.push(Block::DateTime(now.as_secs() as u32));
        }
        blocks.push(Block::Clove(Clove {
            delivery: CloveDelivery::Destination(to),
            message: I2npMessage::with_random_id(
                &mut self.rng,
                expiration_ms,
                MessageBody::Data(DataMessage { payload }),
            ),
        }));
        // A DeliveryStatus for the recipient's router to send back into one of our inbound
        // tunnels (through its own outbound tunnel): the delivery confirmation.
        if let Some((gateway, tunnel)) = tunnels.reply_path(local.pool) {
            let ack: u32 = self.rng.gen();
            local.unconfirmed.insert(
                ack,
                Unconfirmed {
                    to,
                    remote_key,
                    reference,
                    sent: now,
                    stale: false,
                },
            );
            blocks.push(Block::Clove(Clove {
                delivery: CloveDelivery::Tunnel { gateway, tunnel },
                message: I2npMessage::with_random_id(
                    &mut self.rng,
                    expiration_ms,
                    MessageBody::DeliveryStatus(DeliveryStatus {
                        msg_id: ack,
                        timestamp_ms: now.as_millis(),
                    }),
                ),
            }));
        }
        // Our LeaseSet rides along until the peer has the current one.
        if let Some(ours) = &local.lease_set {
            if local.informed.insert(to) {
                blocks.push(Block::Clove(Clove {
                    delivery: CloveDelivery::Local,
                    message: I2npMessage::with_random_id(
                        &mut self.rng,
                        expiration_ms,
                        MessageBody::DatabaseStore(DatabaseStore {
                            key: ours.hash(),
                            reply: None,
                            entry: StoreEntry::LeaseSet2(ours.clone()),
                        }),
                    ),
                }));
            }
        }
        let sealed = emit_payload(&blocks).ok().and_then(|bytes| {
            local
                .ratchet
                .seal(&mut self.rng, now, &remote_key, &bytes)
                .ok()
        });
        let Some(sealed) = sealed else {
            return fail(&mut self.events, SendFailure::TooLarge);
        };
        let garlic = MessageBody::Garlic(Garlic {
            data: sealed.message,
        });
        let msg = I2npMessage::with_random_id(&mut self.rng, expiration_ms, garlic);
        let delivery = Delivery::Tunnel {
            tunnel: lease.tunnel_id,
            gateway: lease.gateway,
        };
        if !tunnels.send_out(now, local.pool, delivery, &msg) {
            fail(&mut self.events, SendFailure::NoTunnel);
        }
    }

    /// The inbound tunnels of `pool` changed: its destination signs a LeaseSet with the
    /// current ones and publishes it (a balanced destination reports them instead).
    pub fn inbound_changed(
        &mut self,
        now: Instant,
        pool: PoolId,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) {
        let Some(id) = self.by_pool(pool) else {
            return;
        };
        let leases = fresh_leases(now, pool, tunnels);
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        if local.balanced {
            self.events.push_back(ClientEvent::InboundTunnels {
                destination: id,
                leases,
            });
            return;
        }
        let Some(last_end) = leases.iter().map(|l| l.end_date_s).max() else {
            return;
        };
        // Published dates must grow, or floodfills keep the older LeaseSet.
        let previous = local.lease_set.as_ref().map_or(0, |ls| ls.published_s());
        let published_s = (now.as_secs() as u32).max(previous + 1);
        let expires_offset_s = last_end.saturating_sub(published_s).clamp(1, 600) as u16;
        let keys = &local.keys;
        let signed = match &local.encryption {
            None => keys.sign_lease_set(published_s, expires_offset_s, leases),
            Some(_) => keys.sign_hidden_lease_set(published_s, expires_offset_s, leases),
        };
        let Ok(ls) = signed else {
            return;
        };
        let Ok(encrypted) = local.encrypt(&mut self.rng, now, &ls) else {
            return;
        };
        local.encrypted = encrypted;
        self.adopt(now, id, Arc::new(ls), netdb, tunnels);
    }

    /// The inbound tunnels of balanced destination `id` worth publishing now (the
    /// proposal's "Get Tunnel Pool"), as [`ClientEvent::InboundTunnels`] reports them.
    pub fn inbound_leases(
        &self,
        now: Instant,
        id: DestinationId,
        tunnels: &TunnelManager,
    ) -> Vec<Lease2> {
        self.locals
            .get(&id)
            .map_or_else(Vec::new, |l| fresh_leases(now, l.pool, tunnels))
    }

    /// Builds one tunnel for balanced destination `id` through exactly the peers of
    /// `path`, in tunnel order (proposal 140's "Create Tunnel"): for an inbound tunnel
    /// the gateway first, the hop that delivers to us last; for an outbound one the hop
    /// after us first, the endpoint last. The result comes as
    /// [`ClientEvent::TunnelStatus`] with the returned id; the tunnel then serves and is
    /// replaced like the pool's others (see [`crate::tunnel::manager`]): never again
    /// through the same peers unless asked again.
    pub fn create_tunnel(
        &mut self,
        now: Instant,
        id: DestinationId,
        direction: Direction,
        path: &[Hash],
        peers: &RouterInfoStore,
        tunnels: &mut TunnelManager,
    ) -> Result<TunnelRequestId, CreateTunnelError> {
        let local = self
            .locals
            .get(&id)
            .ok_or(CreateTunnelError::UnknownDestination)?;
        if !local.balanced {
            return Err(CreateTunnelError::NotBalanced);
        }
        tunnels
            .build_through(now, local.pool, direction, path, peers)
            .map_err(|e| match e {
                BuildThroughError::UnknownPool => CreateTunnelError::UnknownDestination,
                BuildThroughError::Path(e) => CreateTunnelError::Path(e),
                BuildThroughError::Unbuildable => CreateTunnelError::Unbuildable,
            })
    }

    /// A build asked for by name in `pool` ended: its destination hears how.
    pub fn tunnel_status(&mut self, pool: PoolId, request: TunnelRequestId, status: TunnelStatus) {
        if let Some(destination) = self.by_pool(pool) {
            self.events.push_back(ClientEvent::TunnelStatus {
                destination,
                request,
                status,
            });
        }
    }

    /// Publishes `ls`, signed by the balancer of destination `id`, as its LeaseSet
    /// (proposal 140's "Publish LeaseSet"): stored at the closest floodfill until
    /// acknowledged, bundled with our messages, like a LeaseSet the router signed.
    pub fn publish_lease_set(
        &mut self,
        now: Instant,
        id: DestinationId,
        ls: Arc<LeaseSet2>,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) -> Result<(), PublishError> {
        let local = self.balanced(id, ls.hash())?;
        if local
            .lease_set
            .as_ref()
            .is_some_and(|held| held.published_s() >= ls.published_s())
        {
            return Err(PublishError::NotNewer);
        }
        self.adopt(now, id, ls, netdb, tunnels);
        Ok(())
    }

    /// Publishes `meta`, a MetaLeaseSet the service signed for balanced destination
    /// `id`, at the closest floodfill until acknowledged (proposal 123: the service's
    /// destination points at the destinations of its routers).
    pub fn publish_meta_lease_set(
        &mut self,
        now: Instant,
        id: DestinationId,
        meta: Arc<MetaLeaseSet>,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) -> Result<(), PublishError> {
        let local = self.balanced(id, meta.hash())?;
        if let Some(Publication {
            what: Published::Meta(held),
            ..
        }) = &local.publication
        {
            if held.published_s() >= meta.published_s() {
                return Err(PublishError::NotNewer);
            }
        }
        local.publication = Some(Publication::new_round(Published::Meta(meta)));
        self.publish(now, id, netdb, tunnels);
        Ok(())
    }

    /// Balanced destination `id`, if what its balancer signed for `hash` is its own.
    fn balanced(&mut self, id: DestinationId, hash: Hash) -> Result<&mut Local, PublishError> {
        let local = self
            .locals
            .get_mut(&id)
            .ok_or(PublishError::UnknownDestination)?;
        if !local.balanced {
            return Err(PublishError::NotBalanced);
        }
        if hash != local.keys.hash() {
            return Err(PublishError::WrongDestination);
        }
        Ok(local)
    }

    /// Makes `ls` destination `id`'s current LeaseSet and starts publishing it.
    fn adopt(
        &mut self,
        now: Instant,
        id: DestinationId,
        ls: Arc<LeaseSet2>,
        netdb: &mut NetDb,
        tunnels: &TunnelManager,
    ) {
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        local.lease_set = Some(ls.clone());
        local.informed.clear();
        // Our own LeaseSet is where the netDb looks when a local destination sends to
        // another local destination.
        netdb.cache_lease_set(now, ls.clone());
        local.publication = Some(Publication::new_round(Published::LeaseSet2(ls)));
        self.publish(now, id, netdb, tunnels);
    }

    /// A message that came in through `pool`'s inbound tunnels: garlic for its
    /// destination, or the DeliveryStatus confirming one of its messages (anything else,
    /// such as a floodfill's acknowledgement of a LeaseSet store, is dropped).
    pub fn deliver(
        &mut self,
        now: Instant,
        pool: PoolId,
        msg: I2npMessage,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        let Some(id) = self.by_pool(pool) else {
            return;
        };
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        let garlic = match msg.body {
            MessageBody::Garlic(garlic) => garlic,
            MessageBody::DeliveryStatus(status) => {
                if let Some(p) = local.publication.as_mut() {
                    if p.awaiting == Some(status.msg_id) {
                        // Stored: nothing more until the LeaseSet changes.
                        p.awaiting = None;
                        p.retry_at = None;
                        return;
                    }
                }
                if let Some(u) = local.unconfirmed.remove(&status.msg_id) {
                    self.events.push_back(ClientEvent::Delivered {
                        destination: id,
                        to: u.to,
                        reference: u.reference,
                        after: now.saturating_duration_since(u.sent),
                    });
                }
                return;
            }
            _ => return,
        };
        let Ok(opened) = local.ratchet.open(now, &garlic.data) else {
            return; // not for us, replayed or tampered: dropped
        };
        let Ok(blocks) = parse_payload(&opened.payload) else {
            return;
        };
        let me = local.keys.hash();
        for block in blocks {
            let Block::Clove(clove) = block else {
                continue;
            };
            match (clove.delivery, clove.message.body) {
                (CloveDelivery::Destination(to), MessageBody::Data(data)) if to == me => {
                    self.events.push_back(ClientEvent::Received {
                        destination: id,
                        payload: data.payload,
                    });
                }
                (
                    CloveDelivery::Local,
                    MessageBody::DatabaseStore(DatabaseStore {
                        entry: StoreEntry::LeaseSet2(ls),
                        ..
                    }),
                ) => {
                    netdb.cache_lease_set(now, ls);
                }
                // The sender's delivery confirmation, sent on through our own outbound
                // tunnel so that its inbound gateway does not learn our router.
                (
                    CloveDelivery::Tunnel { gateway, tunnel },
                    body @ MessageBody::DeliveryStatus(_),
                ) => {
                    let status = I2npMessage {
                        body,
                        ..clove.message
                    };
                    tunnels.send_out(
                        now,
                        local.pool,
                        Delivery::Tunnel { tunnel, gateway },
                        &status,
                    );
                }
                _ => {}
            }
        }
    }
}

/// `pool`'s inbound tunnels that live long enough to be published, as leases (at most
/// the 16 a LeaseSet holds).
fn fresh_leases(now: Instant, pool: PoolId, tunnels: &TunnelManager) -> Vec<Lease2> {
    let usable_until = now + LEASE_MARGIN;
    tunnels
        .leases(pool)
        .into_iter()
        .filter(|l| l.expires > usable_until)
        .take(LeaseSet2::MAX_LEASES)
        .map(Lease2::from)
        .collect()
}

/// How a message to a destination goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// To this destination's LeaseSet2, which we hold.
    Send(Hash),
    /// After looking this LeaseSet up.
    Lookup(Hash),
    /// Nowhere: the MetaLeaseSet we hold lists nothing live.
    Unreachable(Hash),
}

/// Where a message to `to` goes now: its LeaseSet2 when we hold it; else through its
/// MetaLeaseSet to one of the cheapest live listed destinations, drawn at random so
/// that senders spread over them; else to a lookup of `to` itself. Among the listed
/// destinations, one whose LeaseSet2 we hold comes first, then one to look up, and only
/// then one whose path went `stale` (our messages to it went unconfirmed: its router
/// may be down although its leases live on), so a sender moves to another router
/// rather than insisting. The generator is drawn from only on the MetaLeaseSet path.
fn route(
    now: Instant,
    to: Hash,
    netdb: &NetDb,
    stale: &BTreeSet<Hash>,
    rng: &mut ChaCha20Rng,
) -> Route {
    if netdb.lease_sets().get(&to, now).is_some() {
        return Route::Send(to);
    }
    let Some(meta) = netdb.meta_lease_sets().get(&to, now) else {
        return Route::Lookup(to);
    };
    let targets = meta.lease_set2_targets(now.as_secs());
    let Some(cheapest) = targets.first().map(|t| t.cost) else {
        return Route::Unreachable(to);
    };
    let (avoided, listed): (Vec<Hash>, Vec<Hash>) = targets
        .iter()
        .take_while(|t| t.cost == cheapest)
        .map(|t| t.target)
        .partition(|t| stale.contains(t));
    let (held, unknown): (Vec<Hash>, Vec<Hash>) = listed
        .into_iter()
        .partition(|t| netdb.lease_sets().get(t, now).is_some());
    if let Some(target) = held.choose(rng) {
        Route::Send(*target)
    } else if let Some(target) = unknown.choose(rng).or_else(|| avoided.choose(rng)) {
        Route::Lookup(*target)
    } else {
        Route::Unreachable(to)
    }
}
