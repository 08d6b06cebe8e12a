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
//! A destination may hide its LeaseSet ([`LeaseSetEncryption`]): it then publishes only
//! an encrypted LeaseSet under the day's blinded key, and is reached by its b33 address
//! ([`HiddenDestination`]): the sender derives the storage key for today, looks the
//! encrypted LeaseSet up, decrypts it and goes on as with any LeaseSet2.
//!
//! Like the other parts of the core this is sans-IO; it works on the netDb and the tunnel
//! manager the router passes in, and reports through [`ClientEvent`]s.

use crate::crypto::blinding::{BlindedPublicKey, Credential};
use crate::crypto::DestinationKeys;
use crate::data::{
    B33Address, ClientAuthorization, ClientKey, DataError, DecryptError, EncryptedLeaseSet, Hash,
    InnerLeaseSet, Lease2, LeaseSet2,
};
use crate::garlic::payload::{emit_payload, parse_payload, Block, Clove, CloveDelivery};
use crate::garlic::ratchet::{MessageKind, RatchetEndpoint};
use crate::i2np::{
    DataMessage, DatabaseStore, DeliveryStatus, Garlic, I2npMessage, MessageBody, StoreEntry,
};
use crate::netdb::NetDb;
use crate::profile::SelectionRules;
use crate::time::Instant;
use crate::tunnel::data::Delivery;
use crate::tunnel::{PoolConfig, PoolId, TunnelManager};
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
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            hops: 3,
            tunnels: 2,
            selection: SelectionRules::client(),
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
    /// A new LeaseSet of `destination` went out to its floodfill.
    LeaseSetPublished {
        destination: DestinationId,
        leases: usize,
    },
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

/// Where the publication of a destination's current LeaseSet stands.
#[derive(Debug)]
struct Publication {
    /// Floodfills asked in this round, in order.
    tried: Vec<Hash>,
    /// The acknowledgement token of the last store, while it is awaited.
    awaiting: Option<u32>,
    /// When to store again (ack timeout, or the end of a pause); `None` once stored.
    retry_at: Option<Instant>,
}

impl Publication {
    /// A new LeaseSet starts a new round, from the closest floodfill.
    fn new_round() -> Publication {
        Publication {
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
        let id = DestinationId(self.next_id);
        self.next_id += 1;
        let pool = tunnels.add_pool(
            now,
            PoolConfig {
                hops: self.config.hops,
                count: self.config.tunnels,
                rules: self.config.selection.clone(),
            },
        );
        let ratchet = RatchetEndpoint::new(keys.encryption_secret().clone());
        self.locals.insert(
            id,
            Local {
                keys,
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
                        // The restarted peer needs our LeaseSet again to answer.
                        local.informed.remove(&u.to);
                    }
                }
            }
            let renew = local.encrypted.as_ref().is_some_and(|e| now >= e.renew_at);
            if let (true, Some(ls)) = (renew, &local.lease_set) {
                local.encrypted = local.encrypt(&mut self.rng, now, ls).ok().flatten();
                local.publication = Some(Publication::new_round());
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
        let (Some(ls), Some(publication)) = (&local.lease_set, local.publication.as_mut()) else {
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
        let published = match &local.encrypted {
            Some(e) => {
                netdb.publish_encrypted_lease_set(now, e.lease_set.clone(), &publication.tried)
            }
            None => netdb.publish_lease_set(now, ls.clone(), &publication.tried),
        };
        match published {
            Some((floodfill, token)) => {
                publication.tried.push(floodfill);
                publication.awaiting = Some(token.get());
                publication.retry_at = Some(now + PUBLISH_ACK_TIMEOUT);
                self.events.push_back(ClientEvent::LeaseSetPublished {
                    destination: id,
                    leases: ls.leases().len(),
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
        let stale = self.locals.get(&id).is_some_and(|l| l.stale.contains(&to));
        if !stale && netdb.lease_sets().get(&to, now).is_some() {
            self.send_now(now, id, to, message, netdb, tunnels);
            return;
        }
        let looking_up = self.locals.values().any(|l| l.waiting.contains_key(&to));
        if let Some(local) = self.locals.get_mut(&id) {
            local.waiting.entry(to).or_default().push(message);
        }
        if !looking_up {
            netdb.lookup_lease_set(now, to);
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
                    Some(Err(DecryptError::NotAuthorised)) => Err(SendFailure::NotAuthorised),
                    // Not found, unreadable, or a MetaLeaseSet (not supported yet).
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
                    Ok(to) => self.send_now(now, id, to, message, netdb, tunnels),
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
        let usable_until = (now + LEASE_MARGIN).as_secs();
        let leases: Vec<&Lease2> = remote
            .leases()
            .iter()
            .filter(|l| !l.is_expired_at(usable_until))
            .collect();
        let (Some(lease), Some(remote_key)) =
            (leases.choose(&mut self.rng).copied(), remote.x25519_key())
        else {
            return fail(&mut self.events, SendFailure::NoLeaseSet);
        };
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
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
    /// current ones and publishes it.
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
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        let usable_until = now + LEASE_MARGIN;
        let leases: Vec<Lease2> = tunnels
            .leases(pool)
            .into_iter()
            .filter(|l| l.expires > usable_until)
            .take(LeaseSet2::MAX_LEASES)
            .map(|l| Lease2 {
                gateway: l.gateway,
                tunnel_id: l.tunnel,
                end_date_s: l.expires.as_secs() as u32,
            })
            .collect();
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
        let ls = Arc::new(ls);
        local.lease_set = Some(ls.clone());
        local.informed.clear();
        // Our own LeaseSet is where the netDb looks when a local destination sends to
        // another local destination.
        netdb.cache_lease_set(now, ls);
        local.publication = Some(Publication::new_round());
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
