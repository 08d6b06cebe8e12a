//! Receiving: garlic from our inbound tunnels opened and its cloves handed on.

use super::{ClientEvent, Clients};
use crate::garlic::payload::{parse_payload, Block, CloveDelivery};
use crate::i2np::{DatabaseStore, I2npMessage, MessageBody, StoreEntry};
use crate::netdb::NetDb;
use crate::time::Instant;
use crate::tunnel::data::Delivery;
use crate::tunnel::{PoolId, TunnelManager};

impl Clients {
    /// A message that came in through `pool`'s inbound tunnels: garlic for its
    /// destination, or the DeliveryStatus confirming one of its messages (anything else,
    /// such as a floodfill's acknowledgement of a LeaseSet store, is dropped).
    pub fn deliver(
        &mut self,
        now: Instant,
        pool: PoolId,
        msg: I2npMessage,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        let Some(id) = self.by_pool(pool) else {
            return;
        };
        let Some(local) = self.locals.get_mut(&id) else {
            return;
        };
        let garlic = match msg.body {
            MessageBody::Garlic(garlic) => garlic,
            MessageBody::DeliveryStatus(status) => {
                if let Some(p) = local.publication.as_mut() {
                    if p.awaiting == Some(status.msg_id) {
                        // Stored: nothing more until the LeaseSet changes.
                        p.awaiting = None;
                        p.retry_at = None;
                        return;
                    }
                }
                if let Some(u) = local.unconfirmed.remove(&status.msg_id) {
                    self.events.push_back(ClientEvent::Delivered {
                        destination: id,
                        to: u.to,
                        reference: u.reference,
                        after: now.saturating_duration_since(u.sent),
                    });
                }
                return;
            }
            _ => return,
        };
        let Ok(opened) = local.ratchet.open(now, &garlic.data) else {
            return; // not for us, replayed or tampered: dropped
        };
        let Ok(blocks) = parse_payload(&opened.payload) else {
            return;
        };
        let me = local.keys.hash();
        // Application data is handled after the other cloves: the sender's LeaseSet,
        // bundled beside it, must be in the netDb before a stream answers its SYN.
        let mut data_payloads = Vec::new();
        for block in blocks {
            let Block::Clove(clove) = block else {
                continue;
            };
            match (clove.delivery, clove.message.body) {
                (CloveDelivery::Destination(to), MessageBody::Data(data)) if to == me => {
                    data_payloads.push(data.payload);
                }
                (
                    CloveDelivery::Local,
                    MessageBody::DatabaseStore(DatabaseStore {
                        entry: StoreEntry::LeaseSet2(ls),
                        ..
                    }),
                ) => {
                    netdb.cache_lease_set(now, ls);
                }
                // The sender's delivery confirmation, sent on through our own outbound
                // tunnel so that its inbound gateway does not learn our router.
                (
                    CloveDelivery::Tunnel { gateway, tunnel },
                    body @ MessageBody::DeliveryStatus(_),
                ) => {
                    let status = I2npMessage {
                        body,
                        ..clove.message
                    };
                    tunnels.send_out(
                        now,
                        local.pool,
                        Delivery::Tunnel { tunnel, gateway },
                        &status,
                    );
                }
                _ => {}
            }
        }
        for payload in data_payloads {
            if let Some(payload) = self.deliver_app(now, id, payload, netdb, tunnels) {
                self.events.push_back(ClientEvent::Received {
                    destination: id,
                    payload,
                });
            }
        }
    }
}
