//! Publishing our own destinations' LeaseSets (LeaseSet2, encrypted, Meta): stored at
//! the closest floodfill not yet tried, acknowledged into the destination's inbound
//! tunnel (the client layer waits, and tries the next). A floodfill that knows no other
//! holds them in its own tables.

use super::{routing, Action, NetDb, StoreOutcome, TableEntry};
use crate::data::{EncryptedLeaseSet, Hash, LeaseSet2, MetaLeaseSet};
use crate::i2np::{DatabaseStore, StoreEntry, StoreReply};
use crate::time::Instant;
use rand::Rng;
use std::num::NonZeroU32;
use std::sync::Arc;

/// What became of a publication of one of our own LeaseSets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnStore {
    /// Sent to floodfill `to`, whose DeliveryStatus will carry `token`.
    Sent { to: Hash, token: NonZeroU32 },
    /// We are a floodfill and know no other: held in our own tables, served from there.
    Held,
    /// Every floodfill we know was tried, or we know none.
    NoFloodfill,
}

impl NetDb {
    /// Publishes one of our destinations' LeaseSets at the floodfill closest to its key
    /// that is not in `tried`. Returns that floodfill and the token its acknowledgement
    /// (a DeliveryStatus through the destination's inbound tunnel) will carry; waiting
    /// for it, and trying the next floodfill, is the destination's business. A floodfill
    /// that knows no other holds the LeaseSet itself ([`OwnStore::Held`]).
    pub fn publish_lease_set(
        &mut self,
        now: Instant,
        ls: Arc<LeaseSet2>,
        tried: &[Hash],
    ) -> OwnStore {
        self.publish_entry(now, ls.hash(), StoreEntry::LeaseSet2(ls), tried)
    }

    /// Publishes one of our destinations' encrypted LeaseSets under its storage key, as
    /// [`NetDb::publish_lease_set`] does a LeaseSet2. The floodfill learns the day's
    /// blinded key, not the destination.
    pub fn publish_encrypted_lease_set(
        &mut self,
        now: Instant,
        els: Arc<EncryptedLeaseSet>,
        tried: &[Hash],
    ) -> OwnStore {
        self.publish_entry(
            now,
            els.storage_key(),
            StoreEntry::EncryptedLeaseSet(els),
            tried,
        )
    }

    /// Publishes a service's MetaLeaseSet under its destination's hash, as
    /// [`NetDb::publish_lease_set`] does a LeaseSet2.
    pub fn publish_meta_lease_set(
        &mut self,
        now: Instant,
        meta: Arc<MetaLeaseSet>,
        tried: &[Hash],
    ) -> OwnStore {
        self.publish_entry(now, meta.hash(), StoreEntry::MetaLeaseSet(meta), tried)
    }

    fn publish_entry(
        &mut self,
        now: Instant,
        key: Hash,
        entry: StoreEntry,
        tried: &[Hash],
    ) -> OwnStore {
        let routing_key = routing::routing_key(&key, now);
        let mut exclude = tried.to_vec();
        exclude.push(self.me);
        let Some(to) = self.store.next_floodfill(&routing_key, &exclude, now) else {
            // A floodfill that knows no other (the first of a private network, say) is
            // the netDb: without this its destinations would wait for a floodfill forever.
            if self.floodfill && tried.is_empty() && self.hold_own(now, entry) {
                return OwnStore::Held;
            }
            return OwnStore::NoFloodfill;
        };
        let token = NonZeroU32::new(self.rng.gen_range(1..=u32::MAX)).unwrap_or(NonZeroU32::MIN);
        let reply = Some(StoreReply {
            token,
            tunnel_id: 0,
            gateway: self.me,
        });
        let store = DatabaseStore { key, reply, entry };
        self.actions.push_back(Action::Publish { to, store });
        OwnStore::Sent { to, token }
    }

    /// Keeps one of our own LeaseSets in our floodfill tables, where lookups find it;
    /// whether it was taken.
    fn hold_own(&mut self, now: Instant, entry: StoreEntry) -> bool {
        let outcome = match entry {
            StoreEntry::LeaseSet2(ls) => self.hold(now, ls),
            StoreEntry::EncryptedLeaseSet(els) => self.hold(now, els),
            StoreEntry::MetaLeaseSet(meta) => self.hold(now, meta),
            StoreEntry::RouterInfo(_) | StoreEntry::LeaseSet { .. } => return false,
        };
        !matches!(outcome, StoreOutcome::Rejected(_))
    }

    fn hold<L: TableEntry>(&mut self, now: Instant, ls: Arc<L>) -> StoreOutcome {
        let key = ls.netdb_key();
        L::table(self).store(&key, ls, now, false)
    }
}
