//! The link model between routers: loss, partitions, latency and each router's uplink.

use super::support::BuildHashPrefix;
use super::{tag, Ev, NodeState, World};
use ramsons_router::data::Hash;
use ramsons_router::i2np::{DatabaseStore, I2npMessage, MessageBody, StoreEntry};
use std::collections::HashMap;

impl World {
    pub(super) fn send(&mut self, from: u32, to_hash: Hash, msg: I2npMessage) {
        let t = self.micros();
        let Some(&to) = self.by_hash.get(&to_hash) else {
            self.trace.record(t, tag::DROP, &[u64::from(from), 0]);
            return;
        };
        if self.links.lost(&mut self.net_rng) {
            self.drops.lost += 1;
            self.trace.record(t, tag::DROP, &[u64::from(from), 1]);
            return;
        }
        if self.cut(from, to) {
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

    /// Whether a partition separates `a` and `b`.
    fn cut(&self, a: u32, b: u32) -> bool {
        self.partitioned && self.nodes[a as usize].side != self.nodes[b as usize].side
    }

    pub(super) fn deliver(&mut self, to: u32, from: u32, msg: I2npMessage, size: u32) {
        if self.nodes[to as usize].state != NodeState::Online {
            self.drops.offline += 1;
            return;
        }
        if self.cut(from, to) {
            self.drops.partitioned += 1;
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
