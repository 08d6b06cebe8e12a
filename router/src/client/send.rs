//! Sending: finding the recipient's LeaseSet (plain, meta or encrypted), then garlic
//! through our outbound tunnel to one of its leases.

use super::local::{HiddenDestination, Local, Unconfirmed};
use super::route::{route, Route};
use super::{ClientEvent, Clients, DestinationId, Outgoing, SendFailure, LEASE_MARGIN};
use crate::crypto::blinding::{BlindedPublicKey, Credential};
use crate::data::{DecryptError, Hash, InnerLeaseSet, Lease2, LeaseSet2};
use crate::garlic::payload::{emit_payload, Block, Clove, CloveDelivery};
use crate::garlic::ratchet::MessageKind;
use crate::i2np::{
    DataMessage, DatabaseStore, DeliveryStatus, Garlic, I2npMessage, MessageBody, StoreEntry,
};
use crate::netdb::NetDb;
use crate::time::Instant;
use crate::tunnel::data::Delivery;
use crate::tunnel::PoolId;
use crate::tunnel::TunnelManager;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::collections::VecDeque;
use std::time::Duration;

impl Clients {
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
        let stale = &self.locals[&id].stale;
        let route = match route(now, to, netdb, stale, &mut self.rng) {
            // A broken path is looked up afresh, even when we hold a LeaseSet.
            Route::Send(via) if stale.contains(&via) => Route::Lookup(via),
            route => route,
        };
        self.follow(now, id, route, message, netdb, tunnels);
    }

    /// Sends `message` as `route` says: now, after a lookup, or not at all.
    pub(super) fn follow(
        &mut self,
        now: Instant,
        id: DestinationId,
        route: Route,
        message: Outgoing,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        match route {
            Route::Send(to) => self.send_now(now, id, to, message, netdb, tunnels),
            Route::Lookup(key) => {
                let looking_up = self.locals.values().any(|l| l.waiting.contains_key(&key));
                if let Some(local) = self.locals.get_mut(&id) {
                    local.waiting.entry(key).or_default().push(message);
                }
                if !looking_up {
                    netdb.lookup_lease_set(now, key);
                }
            }
            // Nothing to look up: `send_now` reports the failure.
            Route::Unreachable(to) => self.send_now(now, id, to, message, netdb, tunnels),
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
                    // The netDb keeps it; the route goes on to a LeaseSet2 it lists.
                    Some(Ok(InnerLeaseSet::Meta(meta))) => Ok(meta.hash()),
                    Some(Err(DecryptError::NotAuthorised)) => Err(SendFailure::NotAuthorised),
                    // Not found, or unreadable.
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
                    Ok(to) => {
                        // A MetaLeaseSet found leads on to a listed LeaseSet2, looked up
                        // next; anything else is final.
                        let stale = &self.locals[&id].stale;
                        let route = match route(now, to, netdb, stale, &mut self.rng) {
                            Route::Lookup(next) if next == key => Route::Unreachable(key),
                            route => route,
                        };
                        self.follow(now, id, route, message, netdb, tunnels);
                    }
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

    pub(super) fn send_now(
        &mut self,
        now: Instant,
        id: DestinationId,
        to: Hash,
        Outgoing {
            reference,
            payload,
            confirm,
        }: Outgoing,
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
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        let sticky = self.config.sticky_leases;
        let lease = choose_lease(now, local, &remote, sticky, &mut self.rng);
        let (Some(lease), Some(remote_key)) = (lease, remote.x25519_key()) else {
            return fail(&mut self.events, SendFailure::NoLeaseSet);
        };
        let expiration_ms = (now + Duration::from_secs(60)).as_millis();
        let mut blocks = Vec::with_capacity(3);
        if local.ratchet.next_kind(&remote_key) == MessageKind::NewSession {
            blocks.push(Block::DateTime(now.as_secs() as u32));
        }
        let first_clove = blocks.len();
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
        if let Some((gateway, tunnel)) = tunnels.reply_path(local.pool).filter(|_| confirm) {
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
        // Our LeaseSet rides along until the peer has the current one, as the first
        // clove: a receiver that handles cloves in order (i2pd) then holds it when the
        // data asks for an answer (a stream's SYN). Made last, so that the generator is
        // drawn in the same order as before.
        if let Some(ours) = &local.lease_set {
            if local.informed.insert(to) {
                let at = first_clove;
                blocks.insert(
                    at,
                    Block::Clove(Clove {
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
                    }),
                );
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
        let sent = send_garlic(
            now,
            expiration_ms,
            sealed.message,
            local.pool,
            &lease,
            tunnels,
            &mut self.rng,
        );
        if !sent {
            fail(&mut self.events, SendFailure::NoTunnel);
        }
    }
}

/// Sends sealed ratchet `data` as a Garlic message through an outbound tunnel of `pool`
/// to `lease`; false when the pool has no outbound tunnel.
pub(super) fn send_garlic(
    now: Instant,
    expiration_ms: u64,
    data: Vec<u8>,
    pool: PoolId,
    lease: &Lease2,
    tunnels: &mut TunnelManager,
    rng: &mut ChaCha20Rng,
) -> bool {
    let garlic = MessageBody::Garlic(Garlic { data });
    let msg = I2npMessage::with_random_id(rng, expiration_ms, garlic);
    let delivery = Delivery::Tunnel {
        tunnel: lease.tunnel_id,
        gateway: lease.gateway,
    };
    tunnels.send_out(now, pool, delivery, &msg)
}

/// The lease of `remote` that `local` sends through: the one kept for it while still
/// usable and listed, else a random usable one, not one found dead while there are
/// others (then kept, with sticky leases).
pub(super) fn choose_lease(
    now: Instant,
    local: &mut Local,
    remote: &LeaseSet2,
    sticky: bool,
    rng: &mut ChaCha20Rng,
) -> Option<Lease2> {
    let to = remote.hash();
    let usable_until = (now + LEASE_MARGIN).as_secs();
    let usable = |l: &Lease2| !l.is_expired_at(usable_until);
    let kept = local
        .routes
        .get(&to)
        .filter(|l| usable(l) && remote.leases().contains(l))
        .copied();
    let lease = kept.or_else(|| {
        let avoided = local.avoided.get_mut(&to).map_or(&[][..], |a| {
            a.retain(usable);
            a.as_slice()
        });
        let usable_leases = || remote.leases().iter().filter(|l| usable(l));
        let mut leases: Vec<&Lease2> = usable_leases().filter(|l| !avoided.contains(l)).collect();
        if leases.is_empty() {
            leases = usable_leases().collect();
        }
        leases.choose(rng).copied().copied()
    })?;
    if sticky && remote.x25519_key().is_some() {
        local.routes.insert(to, lease);
    }
    Some(lease)
}
