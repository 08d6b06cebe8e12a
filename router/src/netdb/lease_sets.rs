//! LeaseSets in the netDb (spec: network-database, "LeaseSet Storage to Floodfills").
//!
//! Floodfills store the LeaseSet2s destinations publish, and the encrypted LeaseSets
//! (type 5) of those that hide theirs, flood fresh ones like RouterInfos and hand them
//! out to lookups. Every router also keeps the LeaseSets its destinations looked up or
//! received bundled with a message: that is where a reply's path comes from. Entries
//! leave the table when the LeaseSet itself expires; a LeaseSet lives minutes, not hours,
//! so there is no separate expiry policy.

use super::store::{Rejection, StoreOutcome};
use crate::data::{EncryptedLeaseSet, Hash, LeaseSet2, MetaLeaseSet};
use crate::time::Instant;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How far ahead a LeaseSet may expire; the field allows 18 hours, floodfills do not
/// keep promises that long (spec: common-structures, LeaseSet2 "expires"; an encrypted
/// LeaseSet's "maximum actual expires time is about 11 minutes").
const MAX_LIFETIME_S: u64 = 60 * 60;

/// What a [`LeaseSetTable`] needs to know of the LeaseSets it holds.
pub trait StoredLeaseSet {
    /// The netDb key it belongs under: the destination's hash for a LeaseSet2, the
    /// storage key `SHA-256(type ‖ A')` for an encrypted LeaseSet.
    fn netdb_key(&self) -> Hash;
    fn published_s(&self) -> u32;
    fn expires_s(&self) -> u64;
    fn is_expired_at(&self, now_s: u64) -> bool;
    fn is_unpublished(&self) -> bool;
}

impl StoredLeaseSet for LeaseSet2 {
    fn netdb_key(&self) -> Hash {
        self.hash()
    }
    fn published_s(&self) -> u32 {
        LeaseSet2::published_s(self)
    }
    fn expires_s(&self) -> u64 {
        LeaseSet2::expires_s(self)
    }
    fn is_expired_at(&self, now_s: u64) -> bool {
        LeaseSet2::is_expired_at(self, now_s)
    }
    fn is_unpublished(&self) -> bool {
        LeaseSet2::is_unpublished(self)
    }
}

/// A floodfill sees only the outer layer, and that is all it needs: the storage key is
/// derived from the signing key, and the times and flags are in the clear.
impl StoredLeaseSet for EncryptedLeaseSet {
    fn netdb_key(&self) -> Hash {
        self.storage_key()
    }
    fn published_s(&self) -> u32 {
        EncryptedLeaseSet::published_s(self)
    }
    fn expires_s(&self) -> u64 {
        EncryptedLeaseSet::expires_s(self)
    }
    fn is_expired_at(&self, now_s: u64) -> bool {
        EncryptedLeaseSet::is_expired_at(self, now_s)
    }
    fn is_unpublished(&self) -> bool {
        EncryptedLeaseSet::is_unpublished(self)
    }
}

/// Stored under the destination's hash, like a LeaseSet2.
impl StoredLeaseSet for MetaLeaseSet {
    fn netdb_key(&self) -> Hash {
        self.hash()
    }
    fn published_s(&self) -> u32 {
        MetaLeaseSet::published_s(self)
    }
    fn expires_s(&self) -> u64 {
        MetaLeaseSet::expires_s(self)
    }
    fn is_expired_at(&self, now_s: u64) -> bool {
        MetaLeaseSet::is_expired_at(self, now_s)
    }
    fn is_unpublished(&self) -> bool {
        MetaLeaseSet::is_unpublished(self)
    }
}

/// LeaseSets by netDb key: LeaseSet2s and MetaLeaseSets by destination hash, encrypted
/// ones by storage key.
#[derive(Debug)]
pub struct LeaseSetTable<L = LeaseSet2> {
    entries: BTreeMap<Hash, Arc<L>>,
    /// LeaseSets held at most; `None`: no limit.
    max_entries: Option<usize>,
    refused: u64,
}

impl<L> Default for LeaseSetTable<L> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
            max_entries: None,
            refused: 0,
        }
    }
}

impl<L: StoredLeaseSet> LeaseSetTable<L> {
    /// Holds at most `max` LeaseSets (`None`: no limit). A full table refuses new
    /// destinations and still takes updates of those it holds; room comes back as
    /// LeaseSets expire, within the hour. Nothing is evicted: the entries held are
    /// current by construction, and a flood would evict honest ones first.
    pub fn with_limit(max: Option<usize>) -> Self {
        Self {
            max_entries: max,
            ..Self::default()
        }
    }

    /// New LeaseSets refused because the table was full, so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// LeaseSets held, expired ones included until the next expiry pass.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The LeaseSet of `key`, unless it has expired.
    pub fn get(&self, key: &Hash, now: Instant) -> Option<&Arc<L>> {
        self.entries
            .get(key)
            .filter(|ls| !ls.is_expired_at(now.as_secs()))
    }

    /// Stores `ls` under `key` if it is valid now and newer than what we hold. A
    /// floodfill (`strict`) also refuses LeaseSets marked unpublished.
    pub fn store(&mut self, key: &Hash, ls: Arc<L>, now: Instant, strict: bool) -> StoreOutcome {
        if ls.netdb_key() != *key {
            return StoreOutcome::Rejected(Rejection::KeyMismatch);
        }
        let now_s = now.as_secs();
        if ls.is_expired_at(now_s) {
            return StoreOutcome::Rejected(Rejection::Expired);
        }
        if ls.expires_s() > now_s + MAX_LIFETIME_S {
            return StoreOutcome::Rejected(Rejection::FromTheFuture);
        }
        if strict && ls.is_unpublished() {
            return StoreOutcome::Rejected(Rejection::Unpublished);
        }
        let outcome = match self.entries.get(key) {
            None if self
                .max_entries
                .is_some_and(|max| self.entries.len() >= max) =>
            {
                self.refused += 1;
                return StoreOutcome::Rejected(Rejection::Full);
            }
            None => StoreOutcome::New,
            Some(held) if held.published_s() < ls.published_s() => StoreOutcome::Updated,
            Some(held) if held.published_s() == ls.published_s() => return StoreOutcome::Unchanged,
            Some(_) => return StoreOutcome::Older,
        };
        self.entries.insert(*key, ls);
        outcome
    }

    /// Drops expired LeaseSets; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.entries.len();
        let now_s = now.as_secs();
        self.entries.retain(|_, ls| !ls.is_expired_at(now_s));
        before - self.entries.len()
    }

    /// Forgets everything, as after a restart: LeaseSets are too short-lived to keep.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

impl LeaseSetTable<LeaseSet2> {
    /// The current LeaseSet2 whose X25519 key is `key`: who a ratchet session is with.
    /// A scan, for the rare answer a ratchet owes a peer it has nothing else to send.
    pub fn find_by_x25519_key(&self, key: &[u8; 32], now: Instant) -> Option<Arc<LeaseSet2>> {
        let now_s = now.as_secs();
        self.entries
            .values()
            .find(|ls| !ls.is_expired_at(now_s) && ls.x25519_key().as_ref() == Some(key))
            .cloned()
    }
}
