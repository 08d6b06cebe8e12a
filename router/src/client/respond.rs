//! Ratchet-layer responses that no traffic of ours carries (spec, ECIES: "Ratchet-layer
//! Responses"): a peer whose New Session wants a reply, whose reply wants our first
//! Existing Session, that asked for an ACK or sent a NextKey that wants ours back, gets
//! an answer within about a second even when we have nothing to say to it. Such a
//! response carries no clove: a New Session Reply, or an Existing Session message whose
//! payload is only the owed blocks. Without it one-way traffic (datagrams, a stream's
//! data one way while its ACKs lag) stays on expensive New Sessions and one tag set.

use super::send::{choose_lease, send_garlic};
use super::Clients;
use crate::netdb::NetDb;
use crate::time::Instant;
use crate::tunnel::TunnelManager;
use std::time::Duration;

impl Clients {
    /// Sends each response owed for its ratchet's delay. A response whose peer we cannot
    /// route to (its LeaseSet gone from our netDb) is sealed all the same and dropped:
    /// the obligation ends there, as the peer asks again in its next message.
    pub(super) fn send_owed_responses(
        &mut self,
        now: Instant,
        netdb: &NetDb,
        tunnels: &mut TunnelManager,
    ) {
        let sticky = self.config.sticky_leases;
        for local in self.locals.values_mut() {
            for remote_key in local.ratchet.owed_responses(now) {
                let route = netdb
                    .lease_sets()
                    .find_by_x25519_key(&remote_key, now)
                    .and_then(|ls| choose_lease(now, local, &ls, sticky, &mut self.rng));
                let Ok(sealed) = local.ratchet.seal(&mut self.rng, now, &remote_key, &[]) else {
                    local.ratchet.forgo_response(&remote_key);
                    continue;
                };
                let Some(lease) = route else {
                    continue;
                };
                let expiration_ms = (now + Duration::from_secs(60)).as_millis();
                let message = sealed.message;
                let pool = local.pool;
                if send_garlic(
                    now,
                    expiration_ms,
                    message,
                    pool,
                    &lease,
                    tunnels,
                    &mut self.rng,
                ) {
                    self.responses_sent += 1;
                }
            }
        }
    }

    /// When [`Clients::send_owed_responses`] next has something to send.
    pub(super) fn owed_responses_at(&self) -> Option<Instant> {
        self.locals
            .values()
            .filter_map(|l| l.ratchet.next_response_at())
            .min()
    }
}
