//! What a floodfill does for others: answer lookups, acknowledge and flood stores.

use super::{routing, LookupAnswer, NetDb, NetDbEvent, StoreOutcome};
use crate::data::{Hash, TunnelId};
use crate::i2np::{
    DatabaseLookup, DatabaseSearchReply, DatabaseStore, DeliveryStatus, LookupKind, MessageBody,
    ReplyEncryption, StoreEntry, StoreReply,
};
use crate::time::Instant;

impl NetDb {
    /// Answers a DatabaseLookup: the entry if we hold it, otherwise the closest peers we
    /// know (floodfills, or for exploration non-floodfills) that the asker did not exclude.
    pub(super) fn answer_lookup(&mut self, now: Instant, from: Hash, request: DatabaseLookup) {
        let answer = if !self.floodfill {
            // Routers that are not floodfills do not answer netDb lookups.
            LookupAnswer::Ignored
        } else {
            let admitted = self
                .lookup_limiter
                .as_mut()
                .is_none_or(|limiter| limiter.allows(now, from));
            if !admitted {
                // Dropped without an answer or an event; the load counters show it.
                self.counters.lookups_limited += 1;
                return;
            }
            self.counters.lookups_answered += 1;
            self.reply_to_lookup(now, &request)
        };
        self.emit(NetDbEvent::LookupReceived {
            key: request.key,
            from,
            kind: request.kind,
            answer,
        });
    }

    fn reply_to_lookup(&mut self, now: Instant, request: &DatabaseLookup) -> LookupAnswer {
        // `from` is the asking router, or the gateway of the reply tunnel when one is named.
        let reply_to = request.from;
        let reply_tunnel = request.reply_tunnel.map(TunnelId);
        // ECIES replies carry one tag; AES-SessionTag (ElGamal) replies are not supported
        // and answered in the clear, as to a router that asked for none.
        let encryption = match &request.reply_encryption {
            ReplyEncryption::Ratchet { key, tags } => tags.first().map(|tag| (*key, *tag)),
            _ => None,
        };
        let wants_lease_set = matches!(request.kind, LookupKind::LeaseSet | LookupKind::Any);
        if wants_lease_set {
            // Destination hashes and storage keys are both SHA-256 outputs of different
            // inputs: a storage key is never a destination's hash. A destination may
            // have a LeaseSet2 and a MetaLeaseSet while it moves from one to the other;
            // the LeaseSet2 reaches the destination in one step.
            let held = self
                .lease_sets
                .get(&request.key, now)
                .cloned()
                .map(StoreEntry::LeaseSet2)
                .or_else(|| {
                    let encrypted = self.encrypted_lease_sets.get(&request.key, now);
                    encrypted.cloned().map(StoreEntry::EncryptedLeaseSet)
                })
                .or_else(|| {
                    let meta = self.meta_lease_sets.get(&request.key, now);
                    meta.cloned().map(StoreEntry::MetaLeaseSet)
                });
            if let Some(entry) = held {
                let body = MessageBody::DatabaseStore(DatabaseStore {
                    key: request.key,
                    reply: None,
                    entry,
                });
                self.answer(reply_to, reply_tunnel, encryption, body);
                return LookupAnswer::Found;
            }
        }
        let wants_router_info = matches!(request.kind, LookupKind::RouterInfo | LookupKind::Any);
        if wants_router_info {
            if let Some(info) = self.store.get(&request.key).cloned() {
                let body = MessageBody::DatabaseStore(DatabaseStore {
                    key: request.key,
                    reply: None,
                    entry: StoreEntry::RouterInfo(info),
                });
                self.answer(reply_to, reply_tunnel, encryption, body);
                return LookupAnswer::Found;
            }
        }
        let routing_key = routing::routing_key(&request.key, now);
        let mut exclude = request.exclude.clone();
        exclude.push(self.me);
        let n = self.config.search_reply_peers;
        let peers = if request.kind == LookupKind::Exploration {
            self.store.closest_non_floodfills(&routing_key, n, &exclude)
        } else {
            self.store
                .closest_floodfills(&routing_key, n, &exclude, now)
        };
        let body = MessageBody::DatabaseSearchReply(DatabaseSearchReply {
            key: request.key,
            peers,
            from: self.me,
        });
        self.answer(reply_to, reply_tunnel, encryption, body);
        LookupAnswer::SearchReply
    }

    /// Acknowledges, floods and reports a DatabaseStore (RouterInfo or LeaseSet) the
    /// tables have already judged.
    pub(super) fn serve_store(
        &mut self,
        now: Instant,
        from: Hash,
        key: &Hash,
        entry: StoreEntry,
        reply: Option<StoreReply>,
        outcome: StoreOutcome,
    ) {
        let direct = reply.is_some();
        if let Some(reply) = reply {
            // Tunnel id 0 means "to the gateway router itself".
            let status = MessageBody::DeliveryStatus(DeliveryStatus {
                msg_id: reply.token.get(),
                timestamp_ms: now.as_millis(),
            });
            let tunnel = (reply.tunnel_id != 0).then_some(TunnelId(reply.tunnel_id));
            self.answer(reply.gateway, tunnel, None, status);
        }
        self.emit(NetDbEvent::StoreReceived {
            key: *key,
            from,
            flooded: !direct,
            outcome,
            entry: entry.clone(),
        });
        // Only stores straight from the publisher (they carry a reply token) are flooded:
        // a flood carries none, which is what keeps floods from echoing forever.
        if direct && outcome.is_floodable() {
            self.flood(now, key, entry);
        }
    }

    /// Sends the store on to the floodfills closest to the key, and near UTC midnight also
    /// to those closest to tomorrow's routing key, so the entry is already in place when
    /// the keyspace rotates.
    ///
    /// The router that handed us the store is no reason to skip a floodfill: a
    /// destination's store comes garlic-wrapped out of its outbound tunnel, and that
    /// tunnel's endpoint, which only passed it on, may well be a floodfill close to the
    /// key (in a testnet of two floodfills, the only other one). A router's own
    /// RouterInfo, stored directly, is not sent back to it: `key` is its hash.
    fn flood(&mut self, now: Instant, key: &Hash, entry: StoreEntry) {
        let n = self.config.flood_redundancy;
        let exclude = [self.me, *key];
        let mut targets =
            self.store
                .closest_floodfills(&routing::routing_key(key, now), n, &exclude, now);
        let midnight = now.next_utc_midnight();
        if now + self.config.next_day_flood_window >= midnight {
            let tomorrow = routing::routing_key(key, midnight);
            for peer in self.store.closest_floodfills(&tomorrow, n, &exclude, now) {
                if !targets.contains(&peer) {
                    targets.push(peer);
                }
            }
        }
        for peer in &targets {
            let body = MessageBody::DatabaseStore(DatabaseStore {
                key: *key,
                reply: None,
                entry: entry.clone(),
            });
            self.send(*peer, body);
        }
        self.emit(NetDbEvent::Flooded {
            key: *key,
            peers: targets.len() as u32,
        });
    }
}
