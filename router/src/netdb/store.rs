//! The local table of RouterInfos.
//!
//! Every RouterInfo here was verified when it was parsed or signed (the type cannot hold an
//! unverified one); what this table checks on top is whether an entry is *acceptable*: the
//! key it was stored under, the network, freshness, and whether it is newer than ours.
//! Entries are `Arc`s so that thousands of simulated routers share one copy.

use super::routing;
use crate::data::{Hash, RouterInfo};
use crate::i2np::KnownRouterInfos;
use crate::time::Instant;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// Consecutive failures (lookup timeouts, unacknowledged stores) after which a peer is
/// set aside: not chosen for netDb work until a fresh RouterInfo of it arrives or
/// [`FAILURE_BACKOFF`] has passed, unless no other floodfill is left to ask
/// ([`RouterInfoStore::next_floodfill`]).
pub const MAX_CONSECUTIVE_FAILURES: u8 = 3;

/// How long a failing peer is set aside before it gets another chance. Without it, a
/// router whose floodfills were all briefly unreachable would never use them again.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// How far in the future a RouterInfo's publication date may lie (clock skew allowance).
pub const MAX_FUTURE_SKEW: Duration = Duration::from_secs(2 * 60);

/// Entries a full table looks at, from its eviction hand on, for one that is not a
/// floodfill. Floodfills are a few percent of routers, so an honest table finds one in
/// the first few; a table that a flood of floodfill RouterInfos filled refuses newcomers
/// after this many steps instead of walking all of it on every store.
const EVICTION_SCAN: usize = 64;

#[derive(Debug)]
struct Entry {
    info: Arc<RouterInfo>,
    /// Cached `info.is_floodfill()`, read on every closeness search.
    floodfill: bool,
    failures: u8,
    /// When a peer set aside for failing may be tried again.
    retry_at: Instant,
}

/// Why a RouterInfo or LeaseSet was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The DatabaseStore key is not the hash of the RouterInfo's identity.
    KeyMismatch,
    /// The RouterInfo belongs to another I2P network (`netId`).
    WrongNetwork,
    /// Published further in the future than clock skew explains.
    FromTheFuture,
    /// Published longer ago than this table keeps entries.
    Expired,
    /// Our own RouterInfo, which we never take from someone else.
    Ourselves,
    /// A LeaseSet marked unpublished, which floodfills must not store.
    Unpublished,
    /// A new entry, and the table is at its size limit with nothing it may evict.
    Full,
}

/// What storing a RouterInfo did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// A router we did not know.
    New,
    /// A newer RouterInfo of a router we knew.
    Updated,
    /// The RouterInfo we hold already (same publication date).
    Unchanged,
    /// An older RouterInfo than the one we hold.
    Older,
    Rejected(Rejection),
}

impl StoreOutcome {
    /// Whether a floodfill floods a direct store with this outcome. `Unchanged` counts:
    /// the RouterInfo may have reached us first through the publisher's own connection
    /// (the transport handshake), and the store is still the publisher's request to
    /// spread it.
    pub fn is_floodable(self) -> bool {
        matches!(
            self,
            StoreOutcome::New | StoreOutcome::Updated | StoreOutcome::Unchanged
        )
    }
}

/// The RouterInfo we hold whose bytes are exactly `bytes`: a SHA-256 and a comparison
/// instead of a parse and a signature check.
impl KnownRouterInfos for RouterInfoStore {
    fn get(&self, bytes: &[u8]) -> Option<Arc<RouterInfo>> {
        let hash = RouterInfo::identity_hash_of(bytes)?;
        self.get(&hash)
            .filter(|held| held.as_bytes() == bytes)
            .cloned()
    }
}

/// RouterInfos by router hash, with the floodfills indexed separately because most netDb
/// work only ever looks at floodfills.
#[derive(Debug)]
pub struct RouterInfoStore {
    me: Hash,
    net_id: u8,
    entries: BTreeMap<Hash, Entry>,
    floodfills: BTreeSet<Hash>,
    /// No entry was published before this: an expiry sweep before `oldest_published +
    /// max_age` has nothing to do and is skipped (sweeps visit every entry).
    oldest_published: Instant,
    /// Entries held at most (see [`RouterInfoStore::with_limit`]).
    max_entries: Option<usize>,
    /// Where the next eviction starts looking, in hash order: a clock hand.
    evict_from: Hash,
    evicted: u64,
    refused: u64,
}

impl RouterInfoStore {
    pub fn new(me: Hash, net_id: u8) -> Self {
        Self {
            me,
            net_id,
            entries: BTreeMap::new(),
            floodfills: BTreeSet::new(),
            oldest_published: Instant::MAX,
            max_entries: None,
            evict_from: Hash::ZERO,
            evicted: 0,
            refused: 0,
        }
    }

    /// Holds at most `max` RouterInfos (`None`: no limit). A full table makes room for a
    /// new router by evicting one that is not a floodfill, chosen by a hand that moves
    /// through hash order, and refuses the newcomer when it finds none nearby. Not the
    /// oldest: honest RouterInfos are always older than a flood of freshly signed ones,
    /// so that choice would hand the whole table to the flood; the hand evicts honest
    /// and flooded entries alike, in proportion. Floodfills are kept because lookups,
    /// stores and our own publication depend on them, and they are few.
    pub fn with_limit(mut self, max: Option<usize>) -> Self {
        self.max_entries = max;
        self
    }

    /// RouterInfos evicted to stay within the size limit, so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// New RouterInfos refused because the table was full, so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn floodfill_count(&self) -> usize {
        self.floodfills.len()
    }

    pub fn get(&self, hash: &Hash) -> Option<&Arc<RouterInfo>> {
        self.entries.get(hash).map(|e| &e.info)
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.entries.contains_key(hash)
    }

    /// Every known router hash, in hash order.
    pub fn hashes(&self) -> impl Iterator<Item = &Hash> + '_ {
        self.entries.keys()
    }

    /// The routers that can be dialled (their RouterInfo lacks caps 'U'), in hash order.
    pub fn dialable(&self) -> impl Iterator<Item = &Hash> + '_ {
        self.entries
            .iter()
            .filter(|(_, e)| e.info.is_reachable())
            .map(|(h, _)| h)
    }

    pub fn floodfills(&self) -> impl Iterator<Item = &Hash> + '_ {
        self.floodfills.iter()
    }

    /// Checks `info` against the table's rules and stores it if it is acceptable and newer.
    pub fn store(
        &mut self,
        key: &Hash,
        info: Arc<RouterInfo>,
        now: Instant,
        max_age: Duration,
    ) -> StoreOutcome {
        let hash = info.hash();
        if hash != *key {
            return StoreOutcome::Rejected(Rejection::KeyMismatch);
        }
        if hash == self.me {
            return StoreOutcome::Rejected(Rejection::Ourselves);
        }
        // Most stores repeat what we hold (floods, handshakes): settle those first.
        if let Some(entry) = self.entries.get(&hash) {
            match entry.info.published_ms().cmp(&info.published_ms()) {
                std::cmp::Ordering::Equal => return StoreOutcome::Unchanged,
                std::cmp::Ordering::Greater => return StoreOutcome::Older,
                std::cmp::Ordering::Less => {}
            }
        }
        // A RouterInfo without netId is from the main network (id 2), as the spec defaults.
        if info.net_id().unwrap_or(2) != self.net_id {
            return StoreOutcome::Rejected(Rejection::WrongNetwork);
        }
        let published = Instant::from_millis(info.published_ms());
        if published > now + MAX_FUTURE_SKEW {
            return StoreOutcome::Rejected(Rejection::FromTheFuture);
        }
        if published + max_age < now {
            return StoreOutcome::Rejected(Rejection::Expired);
        }
        if !self.entries.contains_key(&hash) && !self.make_room() {
            self.refused += 1;
            return StoreOutcome::Rejected(Rejection::Full);
        }
        let floodfill = info.is_floodfill();
        let outcome = match self.entries.get_mut(&hash) {
            Some(entry) => {
                entry.info = info;
                entry.floodfill = floodfill;
                entry.failures = 0;
                entry.retry_at = Instant::default();
                StoreOutcome::Updated
            }
            None => {
                self.entries.insert(
                    hash,
                    Entry {
                        info,
                        floodfill,
                        failures: 0,
                        retry_at: Instant::default(),
                    },
                );
                StoreOutcome::New
            }
        };
        self.oldest_published = self.oldest_published.min(published);
        // A router may start or stop being a floodfill between publications.
        if floodfill {
            self.floodfills.insert(hash);
        } else {
            self.floodfills.remove(&hash);
        }
        outcome
    }

    /// Makes room for one new entry if the table is at its limit; false when it cannot.
    fn make_room(&mut self) -> bool {
        let Some(max) = self.max_entries else {
            return true;
        };
        if self.entries.len() < max {
            return true;
        }
        let victim = self
            .entries
            .range(self.evict_from..)
            .chain(self.entries.range(..self.evict_from))
            .take(EVICTION_SCAN)
            .find(|(_, entry)| !entry.floodfill)
            .map(|(hash, _)| *hash);
        let Some(victim) = victim else {
            return false;
        };
        self.remove(&victim);
        // The next search starts just after the victim (it is gone from the map).
        self.evict_from = victim;
        self.evicted += 1;
        true
    }

    pub fn remove(&mut self, hash: &Hash) -> Option<Arc<RouterInfo>> {
        self.floodfills.remove(hash);
        self.entries.remove(hash).map(|e| e.info)
    }

    /// Drops every RouterInfo published longer than `max_age` before `now`; returns how many.
    pub fn expire(&mut self, now: Instant, max_age: Duration) -> usize {
        if self.oldest_published + max_age >= now {
            return 0;
        }
        let before = self.entries.len();
        let floodfills = &mut self.floodfills;
        let mut oldest = Instant::MAX;
        self.entries.retain(|hash, entry| {
            let published = Instant::from_millis(entry.info.published_ms());
            let keep = published + max_age >= now;
            if keep {
                oldest = oldest.min(published);
            } else {
                floodfills.remove(hash);
            }
            keep
        });
        self.oldest_published = oldest;
        before - self.entries.len()
    }

    pub fn note_failure(&mut self, peer: &Hash, now: Instant) {
        if let Some(entry) = self.entries.get_mut(peer) {
            entry.failures = entry.failures.saturating_add(1);
            if entry.failures >= MAX_CONSECUTIVE_FAILURES {
                entry.retry_at = now + FAILURE_BACKOFF;
            }
        }
    }

    pub fn note_success(&mut self, peer: &Hash) {
        if let Some(entry) = self.entries.get_mut(peer) {
            entry.failures = 0;
        }
    }

    /// Whether `peer` is known and not set aside for failing.
    pub fn is_usable(&self, peer: &Hash, now: Instant) -> bool {
        self.entries
            .get(peer)
            .is_some_and(|e| e.failures < MAX_CONSECUTIVE_FAILURES || now >= e.retry_at)
    }

    /// The `n` usable floodfills closest to `routing_key`, nearest first, skipping `exclude`.
    pub fn closest_floodfills(
        &self,
        routing_key: &Hash,
        n: usize,
        exclude: &[Hash],
        now: Instant,
    ) -> Vec<Hash> {
        routing::closest_sorted(routing_key, n, self.floodfills.len(), |lo, hi| {
            self.floodfills
                .range(lo..=hi)
                .filter(move |h| !exclude.contains(h) && self.is_usable(h, now))
        })
    }

    /// The floodfill to ask (or store at) next: the closest usable one to `routing_key`
    /// not in `exclude`, or when every floodfill left is set aside for failing, the
    /// closest of those. Failures are not always the floodfill's: a lookup that went out
    /// through one of our tunnels times out just the same when a hop of that tunnel is
    /// gone, and a router cut off from the network for a while fails with everyone. In a
    /// small network such a spell sets aside every floodfill that holds what we need
    /// (a testnet has two); skipping them for minutes would leave us nobody to ask,
    /// while asking costs a timeout at worst, and an answer clears the failures.
    pub fn next_floodfill(
        &self,
        routing_key: &Hash,
        exclude: &[Hash],
        now: Instant,
    ) -> Option<Hash> {
        let usable = self.closest_floodfills(routing_key, 1, exclude, now);
        usable.first().copied().or_else(|| {
            routing::closest_sorted(routing_key, 1, self.floodfills.len(), |lo, hi| {
                self.floodfills
                    .range(lo..=hi)
                    .filter(move |h| !exclude.contains(h))
            })
            .first()
            .copied()
        })
    }

    /// The `n` known routers that are not floodfills closest to `routing_key`: what a
    /// floodfill answers an exploration lookup with.
    pub fn closest_non_floodfills(
        &self,
        routing_key: &Hash,
        n: usize,
        exclude: &[Hash],
    ) -> Vec<Hash> {
        let total = self.entries.len() - self.floodfills.len();
        routing::closest_sorted(routing_key, n, total, |lo, hi| {
            self.entries
                .range(lo..=hi)
                .filter(move |(h, e)| !e.floodfill && !exclude.contains(h))
                .map(|(h, _)| h)
        })
    }
}
