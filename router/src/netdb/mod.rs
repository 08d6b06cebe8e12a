//! The network database: RouterInfos, floodfill service, lookups, publishing, exploration.
//!
//! Sans-IO like the rest of the core: every method that can change state takes `now`,
//! randomness comes from a generator forked from the router's, and what the netDb wants sent comes out of
//! [`NetDb::poll_action`]. It does not know how a message reaches a peer: until tunnels
//! exist, the [`Router`](crate::Router) sends lookups and stores directly to the peer, and
//! that is the one step to replace when they go through exploratory tunnels.
//!
//! Split by role: `store` (the table), `routing` (keys and closeness), `lookup` (one
//! iterative search), `floodfill` (answering and flooding), `publish` (our own RouterInfo).

mod floodfill;
mod lease_sets;
mod lookup;
mod publish;
mod publish_own;
pub mod routing;
mod shared;
pub mod store;
#[cfg(test)]
mod tests;

pub use lease_sets::{LeaseSetTable, StoredLeaseSet};
pub use lookup::{LookupId, Purpose};
pub use publish::PublishFailure;
pub use publish_own::OwnStore;
pub(crate) use shared::Known;
pub use shared::RouterInfoRegistry;
pub use store::{Rejection, RouterInfoStore, StoreOutcome};

use crate::crypto::blinding::Credential;
use crate::data::{
    ClientKey, DecryptError, EncryptedLeaseSet, Hash, InnerLeaseSet, LeaseSet2, MetaLeaseSet,
    RouterInfo, TunnelId,
};
use crate::i2np::{
    DatabaseLookup, DatabaseSearchReply, DatabaseStore, LookupKind, MessageBody, ReplyEncryption,
    StoreEntry, StoreReply,
};
use crate::limit::{PeerLimiter, PeerRateLimit};
use crate::time::Instant;
use lookup::{Lookup, Next, Peers};
use publish::Publication;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Tunable netDb parameters. The defaults follow the I2P specifications and the
/// behaviour of the two main routers (see DESIGN.md's table); where those differ or are
/// silent, the choice is ours and says so.
#[derive(Debug, Clone, PartialEq)]
pub struct NetDbConfig {
    /// How long one peer of an iterative lookup gets to answer.
    pub lookup_peer_timeout: Duration,
    /// How many peers an iterative lookup asks at most.
    pub lookup_max_peers: usize,
    /// How many floodfills a floodfill floods an accepted store to.
    pub flood_redundancy: usize,
    /// How many peers a floodfill names in a DatabaseSearchReply.
    pub search_reply_peers: usize,
    /// How long a publisher waits for the floodfill's DeliveryStatus.
    pub store_ack_timeout: Duration,
    /// Delay between an acknowledged store and the verifying lookup.
    pub verify_delay: Duration,
    /// Floodfills tried per publication before giving up until the next one.
    pub publish_attempts: usize,
    /// Time between publications of our RouterInfo (jittered by ±10%). Must stay well
    /// under `floodfill_expiry` or floodfills forget us between publications.
    pub republish_interval: Duration,
    /// Wait before the next publication after a failed one.
    pub publish_retry: Duration,
    /// Exploration interval while exploring still pays: we know fewer than
    /// `explore_target` routers, or we want floodfills and the last round found some.
    pub explore_interval_fast: Duration,
    /// Exploration interval otherwise.
    pub explore_interval_slow: Duration,
    /// Known routers below which exploration runs at the fast interval.
    pub explore_target: usize,
    /// Known floodfills below which a router also explores for floodfills. Floodfills
    /// always do: the netDb only converges when floodfills know nearly all floodfills.
    pub floodfill_target: usize,
    /// Exploration lookups sent per round.
    pub explore_parallel: usize,
    /// Unknown routers fetched from one exploration reply, at most.
    pub explore_fetch: usize,
    /// How long a non-floodfill keeps a RouterInfo while the netDb is small.
    pub router_expiry: Duration,
    /// Floor of the router expiry however large the netDb grows.
    pub router_expiry_min: Duration,
    /// Known routers above which the router expiry shrinks in proportion (our rule: the
    /// expiry scales as `router_expiry * expiry_scale_above / known`, not below the floor).
    pub expiry_scale_above: usize,
    /// How long a floodfill keeps a RouterInfo.
    pub floodfill_expiry: Duration,
    /// Interval of the expiry sweep.
    pub expire_interval: Duration,
    /// Before UTC midnight, floodfills also flood to the closest floodfills for the next
    /// day's routing key during this long.
    pub next_day_flood_window: Duration,
    /// (Floodfills) DatabaseLookups answered per sending peer per window; the rest are
    /// dropped unanswered. The peer is the immediate sender: for a lookup that came
    /// through a tunnel, the tunnel's outbound endpoint, which carries the lookups of
    /// every router whose tunnel ends there, so the limit is per path, not per asker.
    /// Java I2P's floodfills throttle lookups too (about 30 per few minutes per reply
    /// peer and tunnel); ours counts senders, which aggregate more, so the default is
    /// looser: 120 a minute, five times what the busiest honest sender of our
    /// simulations reaches (23 in the quickstart, 15 in tunnels-baseline), tracking up to
    /// 10,000 senders (Java's cap is of that order).
    pub lookup_limit: Option<PeerRateLimit>,
    /// (Floodfills) unsolicited DatabaseStores (RouterInfos and LeaseSets, published or
    /// flooded) accepted per sending peer per window; the rest are dropped without an
    /// acknowledgement. Answers to our own lookups are never limited. The peer is the
    /// immediate sender, as for `lookup_limit`: a LeaseSet store comes garlic-wrapped
    /// through the publisher's outbound endpoint. Honest senders store their own
    /// RouterInfo once per half hour and pass on only the stores they accept, so the
    /// default of 120 a minute is six times the busiest honest sender of our simulations
    /// (20 in tunnels-baseline, 9 in the quickstart).
    pub store_limit: Option<PeerRateLimit>,
    /// (Floodfills) ignore an unsolicited store of a RouterInfo that claims the
    /// floodfill capability, unless the sender stores its own. A store is solicited when
    /// one of our lookups (a client lookup, an exploration's fetch, a verification) is
    /// waiting for its key; those answers are taken from anyone. Injecting fake
    /// floodfills is the cheapest way to place Sybil identities where lookups go; with
    /// this on, each fake floodfill needs its own connection to every victim, or an
    /// answer to a lookup the victim made. The price: floodfills no longer learn each
    /// other from floods (a flood is never the flooder's own RouterInfo) and rely on
    /// exploration and direct publication, which changes honest behaviour. Off by
    /// default for that reason; the DoS study compares both.
    pub ignore_unsolicited_floodfills: bool,
    /// RouterInfos held at most (see [`RouterInfoStore::with_limit`]); `None`: no limit.
    /// Without one, a flood of validly signed RouterInfos with fresh keys grows the table
    /// for as long as the flood lasts (a floodfill keeps them an hour). The default,
    /// 50,000, is above the size of the whole I2P network, so honest routers never
    /// reach it.
    pub max_router_infos: Option<usize>,
    /// LeaseSets held at most (see [`LeaseSetTable::with_limit`]), LeaseSet2s and
    /// encrypted LeaseSets each; `None`: no limit. The default, 20,000, is well above
    /// what a floodfill of the real network holds.
    pub max_lease_sets: Option<usize>,
}

impl Default for NetDbConfig {
    fn default() -> Self {
        Self {
            lookup_peer_timeout: Duration::from_secs(3),
            lookup_max_peers: 5,
            flood_redundancy: 3,
            search_reply_peers: 3,
            store_ack_timeout: Duration::from_secs(10),
            verify_delay: Duration::from_secs(20),
            publish_attempts: 3,
            republish_interval: Duration::from_secs(30 * 60),
            publish_retry: Duration::from_secs(60),
            explore_interval_fast: Duration::from_secs(30),
            explore_interval_slow: Duration::from_secs(10 * 60),
            explore_target: 250,
            floodfill_target: 50,
            explore_parallel: 3,
            explore_fetch: 3,
            router_expiry: Duration::from_secs(27 * 3600),
            router_expiry_min: Duration::from_secs(90 * 60),
            expiry_scale_above: 2000,
            floodfill_expiry: Duration::from_secs(60 * 60),
            expire_interval: Duration::from_secs(5 * 60),
            next_day_flood_window: Duration::from_secs(45 * 60),
            lookup_limit: Some(PeerRateLimit {
                max: 120,
                window: Duration::from_secs(60),
                tracked_peers: 10_000,
            }),
            store_limit: Some(PeerRateLimit {
                max: 120,
                window: Duration::from_secs(60),
                tracked_peers: 10_000,
            }),
            ignore_unsolicited_floodfills: false,
            max_router_infos: Some(50_000),
            max_lease_sets: Some(20_000),
        }
    }
}

/// What the netDb's flood mitigations dropped, and what its work and memory amount to.
/// Counts are cumulative since the router was created (restarts included); sizes are
/// current.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetDbLoad {
    /// DatabaseLookups dropped by [`NetDbConfig::lookup_limit`].
    pub lookups_limited: u64,
    /// DatabaseStores dropped by [`NetDbConfig::store_limit`].
    pub stores_limited: u64,
    /// Stores dropped by [`NetDbConfig::ignore_unsolicited_floodfills`].
    pub floodfill_infos_ignored: u64,
    /// RouterInfos evicted to stay within [`NetDbConfig::max_router_infos`].
    pub router_infos_evicted: u64,
    /// New RouterInfos refused by a full table.
    pub router_infos_refused: u64,
    /// New LeaseSets (plain or encrypted) refused by a full table.
    pub lease_sets_refused: u64,
    /// DatabaseLookups answered, with the entry or a search reply.
    pub lookups_answered: u64,
    /// DatabaseStores whose entry the tables judged (key, network, freshness, newer than
    /// ours). The entry's signature was verified earlier, when the message was decoded
    /// (unless we held those exact bytes already), so the limits above spare a flood's
    /// table work and onward floods, not that verification.
    pub stores_checked: u64,
    /// RouterInfos held.
    pub router_infos: usize,
    /// LeaseSets held, plain and encrypted (expired ones until the next sweep).
    pub lease_sets: usize,
    /// Senders counted by the lookup and store limits together.
    pub limited_peers: usize,
    /// The most lookups one sender made in the current or last window, and the same for
    /// stores: the headroom honest traffic leaves under the limits.
    pub peak_lookups_per_peer: u32,
    pub peak_stores_per_peer: u32,
}

/// The netDb's own counts of [`NetDbLoad`] (the tables count theirs).
#[derive(Debug, Default)]
struct Counters {
    lookups_limited: u64,
    stores_limited: u64,
    floodfill_infos_ignored: u64,
    lookups_answered: u64,
    stores_checked: u64,
}

/// What the netDb wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send `body` to the router `to`, directly.
    Send {
        to: Hash,
        body: MessageBody,
    },
    /// Send our own DatabaseLookup to `to`. The router may send it through an outbound
    /// tunnel and name one of its inbound tunnels as the reply path (setting the lookup's
    /// `from` and `reply_tunnel`), so that the floodfill learns neither who asked nor
    /// where the answer goes; without tunnels it goes directly and the reply comes back
    /// the same way.
    Query {
        to: Hash,
        lookup: DatabaseLookup,
    },
    /// Store one of our destinations' LeaseSets at the floodfill `to`. The router sends it
    /// through that destination's outbound tunnel, garlic-wrapped for the floodfill, and
    /// names the destination's inbound tunnel for the acknowledgement (the store's
    /// `reply`), so the floodfill cannot tell which router hosts the destination.
    Publish {
        to: Hash,
        store: DatabaseStore,
    },
    /// Send `body` into the inbound tunnel `tunnel` at its gateway `gateway`: the answer
    /// to a lookup or store that named a reply tunnel. With `encryption` (the lookup's
    /// ECIES reply key and tag) the answer goes garlic-encrypted, so the tunnel's gateway
    /// cannot read it.
    Reply {
        gateway: Hash,
        tunnel: TunnelId,
        encryption: Option<([u8; 32], [u8; 8])>,
        body: MessageBody,
    },
    Event(NetDbEvent),
}

/// How a floodfill answered a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupAnswer {
    /// With the entry itself.
    Found,
    /// With a DatabaseSearchReply naming closer peers.
    SearchReply,
    /// Not at all: we are not a floodfill.
    Ignored,
}

/// What the netDb observed or finished: metrics for the simulator, results for clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetDbEvent {
    /// A client or exploration lookup ended.
    LookupFinished {
        id: LookupId,
        key: Hash,
        purpose: Purpose,
        found: bool,
        started: Instant,
        peers_queried: u32,
        timeouts: u32,
    },
    /// A publication of our RouterInfo ended.
    PublishFinished {
        /// `None` when a floodfill verified the store.
        failure: Option<PublishFailure>,
        attempts: u32,
    },
    /// (Floodfills) a DatabaseStore arrived; `flooded` when it came from another
    /// floodfill's flood rather than from the publisher.
    StoreReceived {
        key: Hash,
        from: Hash,
        flooded: bool,
        outcome: StoreOutcome,
        /// The entry stored, whatever the outcome: what a floodfill sees of a
        /// destination or router (the multihoming study logs LeaseSet2s and
        /// MetaLeaseSets). Every variant but the rare opaque type 1 is shared, not copied.
        entry: StoreEntry,
    },
    /// A DatabaseLookup arrived.
    LookupReceived {
        key: Hash,
        from: Hash,
        kind: LookupKind,
        answer: LookupAnswer,
    },
    /// (Floodfills) an accepted store was flooded to `peers` floodfills.
    Flooded { key: Hash, peers: u32 },
    /// A peer answered one of our lookups after `after`: an observation for its profile.
    PeerAnswered { peer: Hash, after: Duration },
    /// A peer did not answer one of our lookups in time.
    PeerTimedOut { peer: Hash },
}

/// A LeaseSet type and the table of ours it goes in, so that plain and encrypted
/// LeaseSets share the store path.
trait TableEntry: StoredLeaseSet + Sized {
    fn table(netdb: &mut NetDb) -> &mut LeaseSetTable<Self>;
    fn entry(ls: Arc<Self>) -> StoreEntry;
}

impl TableEntry for LeaseSet2 {
    fn table(netdb: &mut NetDb) -> &mut LeaseSetTable<Self> {
        &mut netdb.lease_sets
    }
    fn entry(ls: Arc<Self>) -> StoreEntry {
        StoreEntry::LeaseSet2(ls)
    }
}

impl TableEntry for EncryptedLeaseSet {
    fn table(netdb: &mut NetDb) -> &mut LeaseSetTable<Self> {
        &mut netdb.encrypted_lease_sets
    }
    fn entry(ls: Arc<Self>) -> StoreEntry {
        StoreEntry::EncryptedLeaseSet(ls)
    }
}

impl TableEntry for MetaLeaseSet {
    fn table(netdb: &mut NetDb) -> &mut LeaseSetTable<Self> {
        &mut netdb.meta_lease_sets
    }
    fn entry(ls: Arc<Self>) -> StoreEntry {
        StoreEntry::MetaLeaseSet(ls)
    }
}

/// The netDb of one router.
#[derive(Debug)]
pub struct NetDb {
    config: NetDbConfig,
    me: Hash,
    floodfill: bool,
    /// Forked from the router's generator, so the netDb's draws do not shift when
    /// another part of the router draws more or fewer numbers.
    rng: ChaCha20Rng,
    store: RouterInfoStore,
    lease_sets: LeaseSetTable,
    /// Encrypted LeaseSets by storage key. A separate table: a floodfill cannot tell
    /// whose they are, so they never meet the LeaseSet2 of the same destination.
    encrypted_lease_sets: LeaseSetTable<EncryptedLeaseSet>,
    /// MetaLeaseSets by destination hash: a destination that points to its other
    /// LeaseSets (proposal 123). Apart from LeaseSet2s so that each table holds one
    /// kind; a floodfill that holds both for one destination serves the LeaseSet2.
    meta_lease_sets: LeaseSetTable<MetaLeaseSet>,
    lookups: BTreeMap<LookupId, Lookup>,
    next_lookup_id: LookupId,
    publication: Option<Publication>,
    next_publish: Instant,
    next_explore: Instant,
    /// Exploration rounds so far; routers alternate what they explore for.
    explore_rounds: u64,
    /// Floodfills known when the last exploration round started.
    floodfills_at_last_explore: usize,
    next_expire: Instant,
    lookup_limiter: Option<PeerLimiter>,
    store_limiter: Option<PeerLimiter>,
    counters: Counters,
    actions: VecDeque<Action>,
}

impl NetDb {
    pub fn new(
        config: NetDbConfig,
        me: Hash,
        net_id: u8,
        floodfill: bool,
        now: Instant,
        rng: ChaCha20Rng,
    ) -> Self {
        let mut netdb = Self {
            rng,
            next_expire: now + config.expire_interval,
            store: RouterInfoStore::new(me, net_id).with_limit(config.max_router_infos),
            lease_sets: LeaseSetTable::with_limit(config.max_lease_sets),
            encrypted_lease_sets: LeaseSetTable::with_limit(config.max_lease_sets),
            meta_lease_sets: LeaseSetTable::with_limit(config.max_lease_sets),
            lookup_limiter: config.lookup_limit.map(PeerLimiter::new),
            store_limiter: config.store_limit.map(PeerLimiter::new),
            counters: Counters::default(),
            config,
            me,
            floodfill,
            lookups: BTreeMap::new(),
            next_lookup_id: 0,
            publication: None,
            next_publish: now,
            next_explore: now,
            explore_rounds: 0,
            floodfills_at_last_explore: 0,
            actions: VecDeque::new(),
        };
        netdb.schedule_start(now);
        netdb
    }

    /// First publication and exploration shortly after (re)start, spread so that routers
    /// started together do not act in lockstep.
    fn schedule_start(&mut self, now: Instant) {
        self.next_expire = now + self.config.expire_interval;
        self.next_publish = now + Duration::from_millis(self.rng.gen_range(5_000..30_000));
        self.next_explore = now + Duration::from_millis(self.rng.gen_range(1_000..10_000));
    }

    pub fn config(&self) -> &NetDbConfig {
        &self.config
    }

    pub fn is_floodfill(&self) -> bool {
        self.floodfill
    }

    /// The RouterInfo table.
    pub fn store(&self) -> &RouterInfoStore {
        &self.store
    }

    pub fn get(&self, key: &Hash) -> Option<&Arc<RouterInfo>> {
        self.store.get(key)
    }

    /// Lookups in flight, of every purpose.
    pub fn lookups_in_flight(&self) -> usize {
        self.lookups.len()
    }

    /// What the flood mitigations dropped, the work done and the tables' sizes.
    pub fn load(&self) -> NetDbLoad {
        let c = &self.counters;
        let limiters = || self.lookup_limiter.iter().chain(&self.store_limiter);
        NetDbLoad {
            lookups_limited: c.lookups_limited,
            stores_limited: c.stores_limited,
            floodfill_infos_ignored: c.floodfill_infos_ignored,
            router_infos_evicted: self.store.evicted(),
            router_infos_refused: self.store.refused(),
            lease_sets_refused: self.lease_sets.refused()
                + self.encrypted_lease_sets.refused()
                + self.meta_lease_sets.refused(),
            lookups_answered: c.lookups_answered,
            stores_checked: c.stores_checked,
            router_infos: self.store.len(),
            lease_sets: self.lease_sets.len()
                + self.encrypted_lease_sets.len()
                + self.meta_lease_sets.len(),
            limited_peers: limiters().map(PeerLimiter::tracked).sum(),
            peak_lookups_per_peer: self.lookup_limiter.as_ref().map_or(0, PeerLimiter::peak),
            peak_stores_per_peer: self.store_limiter.as_ref().map_or(0, PeerLimiter::peak),
        }
    }

    /// How long RouterInfos are kept, which also bounds what we accept.
    pub fn max_age(&self) -> Duration {
        if self.floodfill {
            return self.config.floodfill_expiry;
        }
        let known = self.store.len();
        if known <= self.config.expiry_scale_above {
            return self.config.router_expiry;
        }
        let scaled = self
            .config
            .router_expiry
            .mul_f64(self.config.expiry_scale_above as f64 / known as f64);
        scaled.max(self.config.router_expiry_min)
    }

    /// Adds RouterInfos from outside the network (a reseed bundle or a local folder).
    /// Returns how many were new.
    pub fn add_bootstrap(
        &mut self,
        now: Instant,
        infos: impl IntoIterator<Item = Arc<RouterInfo>>,
    ) -> usize {
        let max_age = self.max_age();
        infos
            .into_iter()
            .filter(|info| {
                self.store.store(&info.hash(), info.clone(), now, max_age) == StoreOutcome::New
            })
            .count()
    }

    /// Stores the RouterInfo a peer presented when it connected.
    pub fn add_peer_info(&mut self, now: Instant, info: Arc<RouterInfo>) -> StoreOutcome {
        self.store.store(&info.hash(), info, now, self.max_age())
    }

    /// Forgets everything in flight, as after a crash; the table survives (it is on disk).
    pub fn restart(&mut self, now: Instant) {
        self.lookups.clear();
        self.publication = None;
        self.actions.clear();
        self.lease_sets.clear();
        self.encrypted_lease_sets.clear();
        self.meta_lease_sets.clear();
        for limiter in self
            .lookup_limiter
            .iter_mut()
            .chain(&mut self.store_limiter)
        {
            limiter.clear();
        }
        self.schedule_start(now);
    }

    /// The LeaseSets we hold: a floodfill's share of the network's, or those our
    /// destinations looked up or were sent.
    pub fn lease_sets(&self) -> &LeaseSetTable {
        &self.lease_sets
    }

    /// The encrypted LeaseSets we hold: a floodfill's share of the network's, or those
    /// our destinations looked up.
    pub fn encrypted_lease_sets(&self) -> &LeaseSetTable<EncryptedLeaseSet> {
        &self.encrypted_lease_sets
    }

    /// The MetaLeaseSets we hold: a floodfill's share, or those our destinations looked
    /// up on their way to one of the LeaseSets listed.
    pub fn meta_lease_sets(&self) -> &LeaseSetTable<MetaLeaseSet> {
        &self.meta_lease_sets
    }

    /// Starts an iterative lookup of the LeaseSet of destination `key`, or of the
    /// encrypted LeaseSet whose storage key is `key`; it ends with
    /// [`NetDbEvent::LookupFinished`] (purpose [`Purpose::LeaseSet`]) and, when found,
    /// the LeaseSet in [`NetDb::lease_sets`] or [`NetDb::encrypted_lease_sets`].
    pub fn lookup_lease_set(&mut self, now: Instant, key: Hash) -> LookupId {
        let peers = Peers::Closest {
            max: self.config.lookup_max_peers,
        };
        self.start_lookup(now, key, LookupKind::LeaseSet, Purpose::LeaseSet, peers)
    }

    /// Keeps a LeaseSet that came with a message for one of our destinations (the
    /// sender's, bundled so that we can reply without a lookup).
    pub fn cache_lease_set(&mut self, now: Instant, ls: Arc<LeaseSet2>) -> StoreOutcome {
        self.lease_sets.store(&ls.hash(), ls, now, false)
    }

    /// Decrypts the encrypted LeaseSet we hold under `storage_key` (after
    /// [`NetDb::lookup_lease_set`] of that key found it) with the destination's
    /// `credential` and, if the destination authorises clients one by one, our client
    /// key. A LeaseSet2 inside is kept like one that came with a message, so sending to
    /// the destination proceeds as for any LeaseSet2; a MetaLeaseSet inside is kept like
    /// a looked-up one. `None` when we hold nothing valid under that key.
    pub fn decrypt_lease_set(
        &mut self,
        now: Instant,
        storage_key: &Hash,
        credential: &Credential,
        client: Option<&ClientKey>,
    ) -> Option<Result<InnerLeaseSet, DecryptError>> {
        let els = self.encrypted_lease_sets.get(storage_key, now)?.clone();
        let inner = els.decrypt(credential, client);
        match &inner {
            Ok(InnerLeaseSet::LeaseSet2(ls)) => {
                self.cache_lease_set(now, ls.clone());
            }
            // Kept like a looked-up one: senders go on to a LeaseSet2 it lists.
            Ok(InnerLeaseSet::Meta(meta)) => {
                self.meta_lease_sets
                    .store(&meta.hash(), meta.clone(), now, false);
            }
            Err(_) => {}
        }
        Some(inner)
    }

    /// Starts an iterative RouterInfo lookup for `key` through the network, even when we
    /// hold the entry (callers that only need the entry check [`NetDb::get`] first).
    pub fn lookup(&mut self, now: Instant, key: Hash) -> LookupId {
        let peers = Peers::Closest {
            max: self.config.lookup_max_peers,
        };
        self.start_lookup(now, key, LookupKind::RouterInfo, Purpose::Client, peers)
    }

    /// The next action, if any. Drain after every input.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`NetDb::handle_timeout`] wants to be called next.
    pub fn poll_timeout(&self) -> Instant {
        let lookups = self
            .lookups
            .values()
            .filter_map(|l| l.pending.map(|p| p.deadline));
        let publication = self.publication.as_ref().map(Publication::deadline);
        lookups
            .chain(publication)
            .chain([self.next_explore, self.next_expire])
            .chain(self.publication.is_none().then_some(self.next_publish))
            .min()
            .unwrap_or(Instant::MAX)
    }

    /// Whether it is time to publish our RouterInfo; the router then signs a fresh one
    /// and passes it to [`NetDb::publish`].
    pub fn publish_due(&self, now: Instant) -> bool {
        self.publication.is_none() && now >= self.next_publish
    }

    /// Runs every timer that is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired: Vec<(LookupId, Hash)> = self
            .lookups
            .iter()
            .filter_map(|(id, l)| {
                l.pending
                    .filter(|p| p.deadline <= now)
                    .map(|p| (*id, p.peer))
            })
            .collect();
        for (id, peer) in expired {
            self.store.note_failure(&peer, now);
            self.emit(NetDbEvent::PeerTimedOut { peer });
            if let Some(lookup) = self.lookups.get_mut(&id) {
                lookup.pending = None;
                lookup.timeouts += 1;
            }
            self.advance(now, vec![id]);
        }
        self.publication_timeout(now);
        if now >= self.next_explore {
            self.explore(now);
        }
        if now >= self.next_expire {
            self.store.expire(now, self.max_age());
            self.lease_sets.expire(now);
            self.encrypted_lease_sets.expire(now);
            self.meta_lease_sets.expire(now);
            self.next_expire = now + self.config.expire_interval;
        }
    }

    /// Handles a netDb message from `from` (authenticated by the transport); hands any
    /// other message back.
    pub fn handle_message(
        &mut self,
        now: Instant,
        from: Hash,
        body: MessageBody,
    ) -> Option<MessageBody> {
        match body {
            MessageBody::DatabaseStore(store) => self.handle_store(now, from, store),
            MessageBody::DatabaseLookup(lookup) => self.answer_lookup(now, from, lookup),
            MessageBody::DatabaseSearchReply(reply) => self.handle_search_reply(now, from, reply),
            MessageBody::DeliveryStatus(status) => self.handle_delivery_status(now, status),
            other => return Some(other),
        }
        None
    }

    /// Handles a netDb message that reached us through one of our inbound tunnels, where
    /// no transport says who sent it. Answers name their floodfill (a search reply has a
    /// `from` field); an entry is taken as the answer of the peer its lookup is waiting on.
    pub fn handle_tunneled(&mut self, now: Instant, body: MessageBody) -> Option<MessageBody> {
        let from = match &body {
            MessageBody::DatabaseSearchReply(reply) => reply.from,
            MessageBody::DatabaseStore(store) => {
                let waiting = self
                    .lookups
                    .values()
                    .filter(|l| l.key == store.key)
                    .find_map(|l| l.pending);
                match waiting {
                    Some(pending) => pending.peer,
                    None => return None, // unsolicited: a store comes directly, not this way
                }
            }
            _ => self.me,
        };
        self.handle_message(now, from, body)
    }

    /// The peer we were waiting for answered.
    fn peer_answered(&mut self, now: Instant, pending: lookup::Pending) {
        self.store.note_success(&pending.peer);
        self.emit(NetDbEvent::PeerAnswered {
            peer: pending.peer,
            after: now.saturating_duration_since(pending.asked_at),
        });
    }

    fn send(&mut self, to: Hash, body: MessageBody) {
        self.actions.push_back(Action::Send { to, body });
    }

    /// Answers at `gateway`: into the reply tunnel when one is named (encrypted with
    /// `encryption` when the asker gave a key), else directly.
    fn answer(
        &mut self,
        gateway: Hash,
        tunnel: Option<TunnelId>,
        encryption: Option<([u8; 32], [u8; 8])>,
        body: MessageBody,
    ) {
        match tunnel {
            Some(tunnel) => self.actions.push_back(Action::Reply {
                gateway,
                tunnel,
                encryption,
                body,
            }),
            None => self.send(gateway, body),
        }
    }

    fn emit(&mut self, event: NetDbEvent) {
        self.actions.push_back(Action::Event(event));
    }

    fn start_lookup(
        &mut self,
        now: Instant,
        key: Hash,
        kind: LookupKind,
        purpose: Purpose,
        peers: Peers,
    ) -> LookupId {
        let id = self.next_lookup_id;
        self.next_lookup_id += 1;
        let routing_key = routing::routing_key(&key, now);
        self.lookups
            .insert(id, Lookup::new(key, routing_key, kind, purpose, peers, now));
        self.advance(now, vec![id]);
        id
    }

    /// Moves lookups forward until each is waiting or finished. A worklist rather than
    /// recursion: finishing a fetch can unblock other lookups.
    fn advance(&mut self, now: Instant, mut work: Vec<LookupId>) {
        while let Some(id) = work.pop() {
            let Some(lookup) = self.lookups.get(&id) else {
                continue;
            };
            match lookup.next(&self.store, &self.me, now) {
                Next::Wait => {}
                Next::Query(peer) => self.query(now, id, peer),
                Next::Exhausted => work.extend(self.finish(now, id, None)),
            }
        }
    }

    fn query(&mut self, now: Instant, id: LookupId, peer: Hash) {
        let deadline = now + self.config.lookup_peer_timeout;
        let Some(lookup) = self.lookups.get_mut(&id) else {
            return;
        };
        // The don't-include list: peers already asked, and for exploration the all-zero
        // hash (which asks for routers that are not floodfills) and the routers we know
        // near the key, so that the reply brings new ones.
        let mut exclude = lookup.queried.clone();
        if lookup.kind == LookupKind::Exploration {
            exclude.push(Hash::ZERO);
            exclude.extend(
                self.store
                    .closest_non_floodfills(&lookup.routing_key, 8, &[]),
            );
        }
        lookup.asked(peer, now, deadline);
        let lookup = DatabaseLookup {
            key: lookup.key,
            from: self.me,
            kind: lookup.kind,
            reply_tunnel: None,
            exclude,
            reply_encryption: ReplyEncryption::None,
        };
        self.actions.push_back(Action::Query { to: peer, lookup });
    }

    /// Ends lookup `id` with what it found; returns lookups this unblocks.
    fn finish(&mut self, now: Instant, id: LookupId, found: Option<StoreEntry>) -> Vec<LookupId> {
        let Some(lookup) = self.lookups.remove(&id) else {
            return Vec::new();
        };
        match lookup.purpose {
            Purpose::Client | Purpose::Explore | Purpose::LeaseSet => {
                self.emit(NetDbEvent::LookupFinished {
                    id,
                    key: lookup.key,
                    purpose: lookup.purpose,
                    found: found.is_some(),
                    started: lookup.started,
                    peers_queried: lookup.queried.len() as u32,
                    timeouts: lookup.timeouts,
                })
            }
            Purpose::Verify => {
                let info = match found {
                    Some(StoreEntry::RouterInfo(info)) => Some(info),
                    _ => None,
                };
                self.verify_finished(now, id, info)
            }
            Purpose::Fetch => {}
        }
        // Lookups waiting for this RouterInfo continue, whether or not it arrived.
        let mut unblocked = Vec::new();
        for (other, waiting) in &mut self.lookups {
            if waiting.fetching.remove(&lookup.key) {
                unblocked.push(*other);
            }
        }
        unblocked
    }

    fn handle_store(&mut self, now: Instant, from: Hash, msg: DatabaseStore) {
        let info = match msg.entry {
            StoreEntry::RouterInfo(info) => info,
            StoreEntry::LeaseSet2(ls) => {
                return self.handle_lease_set_store(now, from, msg.key, msg.reply, ls)
            }
            StoreEntry::EncryptedLeaseSet(els) => {
                return self.handle_lease_set_store(now, from, msg.key, msg.reply, els)
            }
            StoreEntry::MetaLeaseSet(meta) => {
                return self.handle_lease_set_store(now, from, msg.key, msg.reply, meta)
            }
            // Old LeaseSets are not served.
            StoreEntry::LeaseSet { .. } => return,
        };
        let solicited = self
            .lookups
            .values()
            .any(|l| l.key == msg.key && l.kind != LookupKind::LeaseSet);
        if !self.floodfill && !solicited {
            // Only floodfills take unsolicited stores.
            return;
        }
        if !solicited {
            if self.config.ignore_unsolicited_floodfills && info.is_floodfill() && msg.key != from {
                self.counters.floodfill_infos_ignored += 1;
                return;
            }
            if !self.store_admitted(now, from) {
                return;
            }
        }
        self.counters.stores_checked += 1;
        let outcome = self
            .store
            .store(&msg.key, info.clone(), now, self.max_age());
        // A reply to our own lookup is not a store to serve, unless it asks for an ack.
        if self.floodfill && (msg.reply.is_some() || !solicited) {
            self.serve_store(
                now,
                from,
                &msg.key,
                StoreEntry::RouterInfo(info.clone()),
                msg.reply,
                outcome,
            );
        }
        if !solicited {
            return;
        }
        let found = match outcome {
            // Our own RouterInfo, returned to the lookup that verifies our publication.
            StoreOutcome::Rejected(Rejection::Ourselves) => Some(info),
            StoreOutcome::Rejected(_) => None,
            // New, unchanged, or older than ours: answer with the newest we hold.
            _ => self.store.get(&msg.key).cloned(),
        };
        let Some(entry) = found else {
            return;
        };
        let answered: Vec<LookupId> = self
            .lookups
            .iter()
            .filter(|(_, l)| l.key == msg.key && l.kind != LookupKind::LeaseSet)
            .map(|(id, _)| *id)
            .collect();
        self.answered(now, from, answered, StoreEntry::RouterInfo(entry));
    }

    /// Whether an unsolicited store from `from` is within [`NetDbConfig::store_limit`];
    /// counts it either way.
    fn store_admitted(&mut self, now: Instant, from: Hash) -> bool {
        let admitted = self
            .store_limiter
            .as_mut()
            .is_none_or(|limiter| limiter.allows(now, from));
        if !admitted {
            self.counters.stores_limited += 1;
        }
        admitted
    }

    /// Ends the lookups `answered` with `entry`, which `from` sent.
    fn answered(&mut self, now: Instant, from: Hash, answered: Vec<LookupId>, entry: StoreEntry) {
        if let Some(pending) = answered
            .iter()
            .filter_map(|id| self.lookups.get(id).and_then(|l| l.pending))
            .find(|p| p.peer == from)
        {
            self.peer_answered(now, pending);
        }
        let mut work = Vec::new();
        for id in answered {
            work.extend(self.finish(now, id, Some(entry.clone())));
        }
        self.advance(now, work);
    }

    /// A LeaseSet store, plain or encrypted: a floodfill keeps, acknowledges and floods
    /// it; any router keeps it as the answer to its own lookup.
    fn handle_lease_set_store<L: TableEntry>(
        &mut self,
        now: Instant,
        from: Hash,
        key: Hash,
        reply: Option<StoreReply>,
        ls: Arc<L>,
    ) {
        let answered: Vec<LookupId> = self
            .lookups
            .iter()
            .filter(|(_, l)| l.key == key && l.kind == LookupKind::LeaseSet)
            .map(|(id, _)| *id)
            .collect();
        if !self.floodfill && answered.is_empty() {
            return;
        }
        if answered.is_empty() && !self.store_admitted(now, from) {
            return;
        }
        self.counters.stores_checked += 1;
        let outcome = L::table(self).store(&key, ls.clone(), now, answered.is_empty());
        if self.floodfill && (reply.is_some() || answered.is_empty()) {
            self.serve_store(now, from, &key, L::entry(ls), reply, outcome);
        }
        if answered.is_empty() || matches!(outcome, StoreOutcome::Rejected(_)) {
            return;
        }
        if let Some(held) = L::table(self).get(&key, now).cloned() {
            self.answered(now, from, answered, L::entry(held));
        }
    }

    fn handle_search_reply(&mut self, now: Instant, from: Hash, reply: DatabaseSearchReply) {
        let Some((&id, lookup)) = self
            .lookups
            .iter_mut()
            .find(|(_, l)| l.key == reply.key && l.pending.is_some_and(|p| p.peer == from))
        else {
            return; // late or unsolicited
        };
        let pending = lookup.pending.take();
        let exploring = lookup.purpose == Purpose::Explore;
        if let Some(pending) = pending {
            self.peer_answered(now, pending);
        }

        let limit = if exploring {
            self.config.explore_fetch
        } else {
            self.config.search_reply_peers
        };
        let unknown: Vec<Hash> = reply
            .peers
            .iter()
            .filter(|p| **p != self.me && !self.store.contains(p))
            .take(limit)
            .copied()
            .collect();
        for peer in &unknown {
            // Ask the floodfill that named the peer for its RouterInfo, unless a fetch
            // for it is already under way.
            let fetching = self
                .lookups
                .values()
                .any(|l| l.purpose == Purpose::Fetch && l.key == *peer);
            if !fetching {
                self.start_lookup(
                    now,
                    *peer,
                    LookupKind::RouterInfo,
                    Purpose::Fetch,
                    Peers::Fixed(from),
                );
            }
        }
        if exploring {
            // An exploration is one question; its answer is the fetches just started.
            let work = self.finish(now, id, None);
            self.advance(now, work);
            return;
        }
        if let Some(lookup) = self.lookups.get_mut(&id) {
            lookup.fetching.extend(unknown);
        }
        self.advance(now, vec![id]);
    }

    /// One exploration round. Exploring for routers uses the exploration flag, so the
    /// floodfill answers with routers that are not floodfills; exploring for floodfills is
    /// a plain lookup of a random key, whose search reply names the floodfills closest to
    /// it. Routers alternate between the two while they know fewer than
    /// `floodfill_target` floodfills; floodfills explore only for floodfills (the routers
    /// they need come to them as stores).
    fn explore(&mut self, now: Instant) {
        let floodfills = self.store.floodfill_count();
        let found_floodfills = floodfills > self.floodfills_at_last_explore;
        self.floodfills_at_last_explore = floodfills;
        self.explore_rounds += 1;
        let wants_floodfills = self.floodfill || floodfills < self.config.floodfill_target;
        let for_floodfills =
            wants_floodfills && (self.floodfill || self.explore_rounds.is_multiple_of(2));
        let pays =
            self.store.len() < self.config.explore_target || (wants_floodfills && found_floodfills);
        let interval = if pays {
            self.config.explore_interval_fast
        } else {
            self.config.explore_interval_slow
        };
        self.next_explore = now + interval.mul_f64(self.rng.gen_range(0.75..1.25));
        let kind = if for_floodfills {
            LookupKind::RouterInfo
        } else {
            LookupKind::Exploration
        };
        for _ in 0..self.config.explore_parallel {
            let mut key = [0u8; 32];
            self.rng.fill_bytes(&mut key);
            self.start_lookup(
                now,
                Hash(key),
                kind,
                Purpose::Explore,
                Peers::Closest { max: 1 },
            );
        }
    }
}
