//! The link model between routers: loss, link faults, latency and each router's uplink.
//!
//! Link faults take turmoil's verbs between two sets of routers ([`Side`]): `partition`
//! (messages between them are lost, those in flight too) and `repair`, `hold` (messages
//! between them wait where they arrive) and `release` (they are delivered, in the order
//! they arrived). A scenario's two-sided partition is a `partition` between the routers
//! it chose and every other router.

use super::sessions::{End, Reach, DIAL_TIMEOUT};
use super::support::BuildHashPrefix;
use super::{tag, Ev, NodeState, World};
use ramsons_router::data::Hash;
use ramsons_router::i2np::{DatabaseStore, I2npMessage, MessageBody, StoreEntry};
use std::collections::HashMap;

impl World {
    /// Delivers now, in the order they arrived, the held messages no hold keeps any more.
    pub(super) fn release_held(&mut self) {
        let held = std::mem::take(&mut self.link_faults.held);
        for h in held {
            if self.faulted(Fault::Hold, h.from, h.to) {
                self.link_faults.held.push(h);
            } else {
                let (to, from, msg, size) = (h.to, h.from, h.msg, h.size);
                self.queue.push(
                    self.now,
                    Ev::Deliver {
                        to,
                        from,
                        msg,
                        size,
                    },
                );
            }
        }
    }

    pub(super) fn send(&mut self, from: u32, to_hash: Hash, msg: I2npMessage) {
        let t = self.micros();
        let Some(&to) = self.by_hash.get(&to_hash) else {
            self.trace.record(t, tag::DROP, &[u64::from(from), 0]);
            return;
        };
        if !self.reaches(from, to) {
            self.drops.undialable += 1;
            self.trace.record(t, tag::DROP, &[u64::from(from), 3]);
            return;
        }
        if self.links.lost(&mut self.net_rng) {
            self.drops.lost += 1;
            self.trace.record(t, tag::DROP, &[u64::from(from), 1]);
            return;
        }
        if self.faulted(Fault::Cut, from, to) {
            self.drops.partitioned += 1;
            self.trace.record(t, tag::DROP, &[u64::from(from), 2]);
            return;
        }
        let size = self.wire_sizes.of(&msg);
        let (from_region, to_region) = (
            self.nodes[from as usize].region as usize,
            self.nodes[to as usize].region as usize,
        );
        let delay = self.links.delay(from_region, to_region, &mut self.net_rng);
        let node = &mut self.nodes[from as usize];
        let leaves = node.uplink_free.max(self.now) + node.bandwidth.transmit_time(size);
        node.uplink_free = leaves;
        self.trace.record(
            t,
            tag::SEND,
            &[u64::from(from), u64::from(to), u64::from(msg.id)],
        );
        self.queue.push(
            leaves + delay,
            Ev::Deliver {
                to,
                from,
                msg: Box::new(msg),
                size: size as u32,
            },
        );
    }

    /// Whether a message from `from` may cross to `to`: always, unless `to` cannot be
    /// dialled and holds no session with `from` (see `sessions`). A failed dial is
    /// reported to the sender after the connect timeout.
    fn reaches(&mut self, from: u32, to: u32) -> bool {
        let end = |i: u32| End {
            index: i,
            epoch: self.nodes[i as usize].epoch,
        };
        let (a, b) = (end(from), end(to));
        if from == to {
            return true;
        }
        if self.nodes[to as usize].dialable {
            if !self.nodes[from as usize].dialable {
                self.sessions.send_out(self.now, a, b);
            }
            return true;
        }
        match self.sessions.send_in(self.now, a, b) {
            Reach::Carried => true,
            Reach::FailedAgain => false,
            Reach::Failed => {
                let failed = Ev::DialFailed {
                    router: from,
                    epoch: a.epoch,
                    peer: to,
                };
                self.queue.push(self.now + DIAL_TIMEOUT, failed);
                false
            }
        }
    }

    /// Router `router`'s dial of `peer` timed out: what waited on it fails now.
    pub(super) fn dial_failed(&mut self, router: u32, peer: u32) {
        let (now, peer) = (self.now, self.nodes[peer as usize].router.hash());
        self.nodes[router as usize]
            .router
            .handle_unreachable(now, peer);
        self.drain(router);
    }

    /// Whether a fault of `kind` lies between routers `a` and `b`.
    fn faulted(&self, kind: Fault, a: u32, b: u32) -> bool {
        let member = |i: u32| (i, self.nodes[i as usize].group);
        self.link_faults.between(kind, member(a), member(b))
    }

    pub(super) fn deliver(&mut self, to: u32, from: u32, msg: I2npMessage, size: u32) {
        if self.nodes[to as usize].state != NodeState::Online {
            self.drops.offline += 1;
            return;
        }
        if self.faulted(Fault::Cut, from, to) {
            self.drops.partitioned += 1;
            return;
        }
        if self.faulted(Fault::Hold, from, to) {
            let held = Held {
                to,
                from,
                msg: Box::new(msg),
                size,
            };
            self.link_faults.held.push(held);
            return;
        }
        let now = self.now;
        let from_hash = self.nodes[from as usize].router.hash();
        // NTCP2 carries the sender's RouterInfo when it opens a session. Sessions are not
        // modelled: a router that does not know the sender is taken to be meeting it.
        if !self.nodes[to as usize]
            .router
            .netdb()
            .store()
            .contains(&from_hash)
        {
            let info = self.nodes[from as usize].router.router_info().clone();
            self.nodes[to as usize].router.handle_peer_info(now, info);
        }
        let node = &mut self.nodes[to as usize];
        self.metrics
            .on_delivery(now, to, node.floodfill, size as usize);
        node.router.handle_message(now, from_hash, msg);
        self.drain(to);
    }
}

/// One side of a link fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Side {
    /// The routers of a `[[routers]]` group, those that join later too.
    Group(u16),
    /// The routers marked in a set fixed when the fault began (by router index).
    In(Vec<bool>),
    /// Every router not marked in the set, those that join later too.
    NotIn(Vec<bool>),
}

impl Side {
    /// Whether router `i` of group `group` is on this side.
    fn holds(&self, (i, group): (u32, u16)) -> bool {
        let marked = |set: &Vec<bool>| set.get(i as usize).copied().unwrap_or(false);
        match self {
            Side::Group(g) => *g == group,
            Side::In(set) => marked(set),
            Side::NotIn(set) => !marked(set),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// turmoil's `partition`, ended by `repair`.
    Cut,
    /// turmoil's `hold`, ended by `release`.
    Hold,
}

/// A message a hold keeps from its router.
#[derive(Debug)]
struct Held {
    to: u32,
    from: u32,
    msg: Box<I2npMessage>,
    size: u32,
}

/// The link faults in force and what they hold.
#[derive(Debug, Default)]
pub(super) struct LinkFaults {
    faults: Vec<(Fault, Side, Side)>,
    /// In the order they arrived.
    held: Vec<Held>,
}

impl LinkFaults {
    /// Whether a fault of `kind` lies between routers `a` and `b`, each given as (index,
    /// group).
    fn between(&self, kind: Fault, a: (u32, u16), b: (u32, u16)) -> bool {
        self.faults.iter().any(|(k, x, y)| {
            *k == kind && ((x.holds(a) && y.holds(b)) || (x.holds(b) && y.holds(a)))
        })
    }

    /// Starts a fault of `kind` between `a` and `b` (once: a second one is the same).
    pub(super) fn begin(&mut self, kind: Fault, a: Side, b: Side) {
        if !self.faults.contains(&(kind, a.clone(), b.clone())) {
            self.faults.push((kind, a, b));
        }
    }

    /// Ends the faults of `kind` between `a` and `b`, whichever way round they began.
    pub(super) fn end(&mut self, kind: Fault, a: &Side, b: &Side) {
        self.faults
            .retain(|(k, x, y)| !(*k == kind && ((x == a && y == b) || (x == b && y == a))));
    }

    /// Ends the two-sided partition (the cut between a set and the routers not in it).
    pub(super) fn end_split(&mut self) {
        self.faults
            .retain(|f| !matches!(f, (Fault::Cut, Side::In(_), Side::NotIn(_))));
    }
}

/// What messages take on the wire, as I2NP encodes them ([`I2npMessage::wire_len_short`]).
#[derive(Debug, Default)]
pub(super) struct WireSizes {
    /// RouterInfo stores by (RouterInfo, its publication, with a reply or not): their
    /// length takes gzipping the RouterInfo, which costs far more than the rest of a send,
    /// so it is done once per RouterInfo version.
    router_info_stores: HashMap<(Hash, u64, bool), usize, BuildHashPrefix>,
}

impl WireSizes {
    /// Bytes `msg` occupies on an NTCP2 link: a block header, the short I2NP header and
    /// the body.
    fn of(&mut self, msg: &I2npMessage) -> usize {
        const BLOCK_HEADER: usize = 3;
        let len = match &msg.body {
            MessageBody::DatabaseStore(DatabaseStore {
                entry: StoreEntry::RouterInfo(info),
                reply,
                ..
            }) => {
                let key = (info.hash(), info.published_ms(), reply.is_some());
                *self
                    .router_info_stores
                    .entry(key)
                    .or_insert_with(|| msg.wire_len_short())
            }
            _ => msg.wire_len_short(),
        };
        BLOCK_HEADER + len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_lie_between_their_sides_either_way_and_end_as_they_began() {
        let mut faults = LinkFaults::default();
        let (ff, r) = (Side::Group(0), Side::Group(1));
        faults.begin(Fault::Cut, ff.clone(), r.clone());
        assert!(faults.between(Fault::Cut, (0, 0), (5, 1)));
        assert!(faults.between(Fault::Cut, (5, 1), (0, 0)));
        assert!(!faults.between(Fault::Cut, (5, 1), (6, 1)));
        assert!(!faults.between(Fault::Hold, (0, 0), (5, 1)));
        faults.end(Fault::Cut, &r, &ff);
        assert!(!faults.between(Fault::Cut, (0, 0), (5, 1)));
    }

    #[test]
    fn a_split_cuts_its_set_from_every_other_router_until_healed() {
        let mut faults = LinkFaults::default();
        let chosen = vec![true, false, true];
        faults.begin(Fault::Cut, Side::In(chosen.clone()), Side::NotIn(chosen));
        faults.begin(Fault::Hold, Side::Group(0), Side::Group(0));
        assert!(faults.between(Fault::Cut, (0, 0), (1, 0)));
        // Router 7 joined after the split: on the side of the routers not chosen.
        assert!(faults.between(Fault::Cut, (2, 0), (7, 0)));
        assert!(!faults.between(Fault::Cut, (1, 0), (7, 0)));
        faults.end_split();
        assert!(!faults.between(Fault::Cut, (0, 0), (1, 0)));
        assert!(faults.between(Fault::Hold, (0, 0), (1, 0)), "not a split");
    }
}
