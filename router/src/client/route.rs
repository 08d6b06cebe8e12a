//! Where a message to a destination goes next: its LeaseSet2, one listed by its
//! MetaLeaseSet, or a lookup.

use crate::data::Hash;
use crate::netdb::NetDb;
use crate::time::Instant;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeSet;

/// How a message to a destination goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
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
pub(super) fn route(
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
