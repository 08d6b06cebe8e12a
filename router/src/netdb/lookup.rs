//! One netDb lookup: the state of an iterative Kademlia search.
//!
//! A lookup asks one peer at a time. Each peer gets a per-peer timeout; a
//! DatabaseSearchReply names peers closer to the key, whose RouterInfos we may first have
//! to fetch before we can ask them. The [`NetDb`](super::NetDb) drives the state; this
//! module only decides what to do next, so the rules read in one place.

use super::store::RouterInfoStore;
use crate::data::Hash;
use crate::i2np::LookupKind;
use crate::time::Instant;
use std::collections::BTreeSet;

/// Identifies a lookup within one router.
pub type LookupId = u64;

/// Why a lookup was started; decides what happens with its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// Asked for through the router's API.
    Client,
    /// A random key, to learn routers we do not know yet.
    Explore,
    /// Checking that our own RouterInfo reached the floodfills.
    Verify,
    /// Fetching the RouterInfo of a peer a search reply suggested.
    Fetch,
    /// A LeaseSet one of our destinations needs to reach another.
    LeaseSet,
}

/// Which peers a lookup may ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Peers {
    /// The closest usable floodfills we know, one after another, at most `max` of them.
    Closest { max: usize },
    /// Exactly this peer, once.
    Fixed(Hash),
}

/// The peer currently asked and when we give up on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pending {
    pub peer: Hash,
    pub asked_at: Instant,
    pub deadline: Instant,
}

/// What a lookup should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    Query(Hash),
    /// A query or a fetch is outstanding.
    Wait,
    /// No one left to ask.
    Exhausted,
}

#[derive(Debug)]
pub(super) struct Lookup {
    pub key: Hash,
    pub routing_key: Hash,
    pub kind: LookupKind,
    pub purpose: Purpose,
    pub started: Instant,
    pub peers: Peers,
    pub queried: Vec<Hash>,
    pub pending: Option<Pending>,
    /// Suggested peers whose RouterInfo is being fetched before we continue.
    pub fetching: BTreeSet<Hash>,
    pub timeouts: u32,
}

impl Lookup {
    pub fn new(
        key: Hash,
        routing_key: Hash,
        kind: LookupKind,
        purpose: Purpose,
        peers: Peers,
        now: Instant,
    ) -> Self {
        Self {
            key,
            routing_key,
            kind,
            purpose,
            started: now,
            peers,
            queried: Vec::new(),
            pending: None,
            fetching: BTreeSet::new(),
            timeouts: 0,
        }
    }

    /// Decides the next step. Suggestions being fetched are waited for before asking a
    /// farther peer we already know: they are closer to the key by construction.
    pub fn next(&self, store: &RouterInfoStore, me: &Hash, now: Instant) -> Next {
        if self.pending.is_some() || !self.fetching.is_empty() {
            return Next::Wait;
        }
        match self.peers {
            Peers::Fixed(peer) if self.queried.is_empty() => Next::Query(peer),
            Peers::Fixed(_) => Next::Exhausted,
            Peers::Closest { max } if self.queried.len() >= max => Next::Exhausted,
            Peers::Closest { .. } => {
                let mut exclude = self.queried.clone();
                exclude.push(*me);
                match store.next_floodfill(&self.routing_key, &exclude, now) {
                    Some(peer) => Next::Query(peer),
                    None => Next::Exhausted,
                }
            }
        }
    }

    /// Records that `peer` is asked at `now`, until `deadline`.
    pub fn asked(&mut self, peer: Hash, now: Instant, deadline: Instant) {
        self.queried.push(peer);
        self.pending = Some(Pending {
            peer,
            asked_at: now,
            deadline,
        });
    }
}
