//! The creator's side: one ShortTunnelBuild message for a whole tunnel (spec:
//! tunnel-creation, "Tunnel Build Message Preparation"; tunnel-creation-ecies, "Build
//! Records").

use super::crypt::{self, Record, RecordKeys};
use super::record::{HopRole, LayerEncryption, RequestRecord};
use super::{BuildError, GarlicReplyKey, BUILD_MESSAGE_LIFETIME, TUNNEL_LIFETIME_SECS};
use crate::crypto::SharedSecrets;
use crate::data::{Hash, Mapping};
use crate::i2np::{BuildRecords, I2npMessage, MessageBody, SHORT_RECORD_LEN};
use crate::time::Instant;
use crate::tunnel::TunnelId;
use rand::seq::SliceRandom;
use rand::{CryptoRng, RngCore};

/// One hop of a tunnel to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopSpec {
    pub router: Hash,
    /// The hop's static X25519 public key, from its RouterIdentity.
    pub encryption_key: [u8; 32],
    /// The tunnel id the hop is to receive this tunnel's messages as: random, nonzero.
    pub receive_tunnel: TunnelId,
}

/// Which way the tunnel goes, which decides the hops' roles and where the replies go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildDirection {
    /// We are the gateway. The last hop is the outbound endpoint; it sends the replies
    /// into one of our inbound tunnels, `reply_tunnel` at its gateway `reply_gateway`.
    Outbound {
        reply_gateway: Hash,
        reply_tunnel: TunnelId,
    },
    /// We are the endpoint and receive the tunnel's messages as `endpoint_tunnel`. The
    /// first hop is the inbound gateway; the last hop forwards the build message to us
    /// (`creator`, our own hash), and that is how the replies come back. Takes one record
    /// more than there are hops: a decoy addressed to us.
    Inbound {
        creator: Hash,
        endpoint_tunnel: TunnelId,
    },
}

/// A tunnel to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRequest {
    /// The hops in tunnel order (the gateway end first), all different routers.
    pub hops: Vec<HopSpec>,
    pub direction: BuildDirection,
    /// Records in the message, at most 8: at least one per hop, plus one for an inbound
    /// build. Spare records hide the tunnel's length; see [`super::RECOMMENDED_RECORDS`].
    pub record_count: usize,
}

/// A build ready to send, and what is needed to read its reply.
#[derive(Debug)]
pub struct NewBuild {
    /// Where `msg` goes: sent directly for an outbound tunnel, through one of our
    /// outbound tunnels for an inbound one.
    pub first_hop: Hash,
    /// A ShortTunnelBuild.
    pub msg: I2npMessage,
    pub pending: PendingBuild,
}

/// A build in flight: each hop's keys and where its record is.
#[derive(Debug)]
pub struct PendingBuild {
    pub(super) hops: Vec<PendingHop>,
    pub(super) record_count: usize,
    reply_message_id: u32,
    /// Inbound builds only: the decoy addressed to us, which must come back unchanged.
    pub(super) own_record: Option<OwnRecord>,
}

#[derive(Debug)]
pub(super) struct PendingHop {
    pub(super) router: Hash,
    pub(super) slot: usize,
    pub(super) keys: RecordKeys,
}

#[derive(Debug)]
pub(super) struct OwnRecord {
    pub(super) slot: usize,
    pub(super) bytes: Record,
}

impl PendingBuild {
    /// The I2NP message id the replies arrive with: an OutboundTunnelBuildReply from an
    /// outbound build, the ShortTunnelBuild itself from an inbound one.
    pub fn reply_message_id(&self) -> u32 {
        self.reply_message_id
    }

    /// Outbound builds: the key and tag the outbound endpoint may garlic-wrap the reply
    /// with, to register before the reply arrives. `None` for inbound builds.
    pub fn garlic_reply(&self) -> Option<&GarlicReplyKey> {
        self.hops.last().and_then(|hop| hop.keys.garlic.as_ref())
    }
}

impl BuildRequest {
    /// Encrypts every hop's request and lays the records out in random slots.
    ///
    /// Fails if the request cannot be built: no hops, more than 8 records, fewer records
    /// than needed, a zero tunnel id, a router twice, or a hop key no secret can be
    /// shared with.
    pub fn create(
        &self,
        now: Instant,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<NewBuild, BuildError> {
        self.create_with(now, rng, None)
    }

    /// [`BuildRequest::create`], leaving each hop's shared secret in `memo` for the hop
    /// when it runs in the same process (see [`SharedSecrets`]).
    pub fn create_with(
        &self,
        now: Instant,
        rng: &mut (impl RngCore + CryptoRng),
        memo: Option<&SharedSecrets>,
    ) -> Result<NewBuild, BuildError> {
        let (reply_router, reply_tunnel) = self.check()?;
        let hop_count = self.hops.len();

        // Hops must not learn their position from their slot.
        let mut slots: Vec<usize> = (0..self.record_count).collect();
        slots.shuffle(rng);
        // Unused slots stay random: nobody can read them, and they look like the others.
        let mut records = vec![[0u8; SHORT_RECORD_LEN]; self.record_count];
        for record in &mut records {
            rng.fill_bytes(record);
        }

        let request_time_min = u32::try_from(now.as_secs() / 60).unwrap_or(u32::MAX);
        let mut hops: Vec<PendingHop> = Vec::with_capacity(hop_count);
        let mut next_message_id = 0;
        for (index, (hop, &slot)) in self.hops.iter().zip(&slots).enumerate() {
            let (next_router, next_tunnel) = match self.hops.get(index + 1) {
                Some(next) => (next.router, next.receive_tunnel),
                None => (reply_router, reply_tunnel),
            };
            let role = self.role_of(index);
            next_message_id = rng.next_u32();
            let request = RequestRecord {
                receive_tunnel: hop.receive_tunnel,
                next_tunnel,
                next_router,
                role,
                layer_encryption: LayerEncryption::Aes,
                request_time_min,
                expiration_secs: TUNNEL_LIFETIME_SECS,
                next_message_id,
                options: Mapping::new(),
            };
            let cleartext = request.encode(rng)?;
            let (mut record, keys) = crypt::encrypt_request(
                &hop.router,
                &hop.encryption_key,
                role,
                &cleartext,
                rng,
                memo,
            )?;
            // Each earlier hop masks this record on its way; apply the masks now so that
            // they cancel out and the record is in the clear when its hop gets it.
            for earlier in &hops {
                crypt::mask(&earlier.keys.reply_key, slot, &mut record);
            }
            records[slot] = record;
            hops.push(PendingHop {
                router: hop.router,
                slot,
                keys,
            });
        }

        let own_record = match self.direction {
            BuildDirection::Inbound { creator, .. } => {
                // Our decoy must show our hash to the last hop after its own mask, like
                // a real next hop's record would: masked by every hop.
                let slot = slots[hop_count];
                let bytes = crypt::decoy_record(&creator, rng);
                let mut sent = bytes;
                for hop in &hops {
                    crypt::mask(&hop.keys.reply_key, slot, &mut sent);
                }
                records[slot] = sent;
                Some(OwnRecord { slot, bytes })
            }
            BuildDirection::Outbound { .. } => None,
        };

        let records =
            BuildRecords::new(records).map_err(|_| BuildError::InvalidRequest("1 to 8 records"))?;
        Ok(NewBuild {
            first_hop: self.hops[0].router,
            msg: I2npMessage {
                id: rng.next_u32(),
                expiration_ms: (now + BUILD_MESSAGE_LIFETIME).as_millis(),
                body: MessageBody::ShortTunnelBuild(records),
            },
            pending: PendingBuild {
                hops,
                record_count: self.record_count,
                reply_message_id: next_message_id,
                own_record,
            },
        })
    }

    /// Validates the request; returns where the last hop sends the build on.
    fn check(&self) -> Result<(Hash, TunnelId), BuildError> {
        let (reply_router, reply_tunnel, own_records) = match self.direction {
            BuildDirection::Outbound {
                reply_gateway,
                reply_tunnel,
            } => (reply_gateway, reply_tunnel, 0),
            BuildDirection::Inbound {
                creator,
                endpoint_tunnel,
            } => (creator, endpoint_tunnel, 1),
        };
        if self.hops.is_empty() {
            return Err(BuildError::InvalidRequest(
                "a tunnel needs at least one hop",
            ));
        }
        if self.record_count > BuildRecords::MAX {
            return Err(BuildError::InvalidRequest("at most 8 records"));
        }
        if self.hops.len() + own_records > self.record_count {
            return Err(BuildError::InvalidRequest(
                "a record per hop is needed, and one more for an inbound build",
            ));
        }
        if reply_tunnel.0 == 0 || self.hops.iter().any(|hop| hop.receive_tunnel.0 == 0) {
            return Err(BuildError::InvalidRequest("tunnel ids must be nonzero"));
        }
        // A hop takes the first record with its hash: a router twice (or the creator of an
        // inbound tunnel among its hops) would read the wrong one.
        let mut routers: Vec<&Hash> = self.hops.iter().map(|hop| &hop.router).collect();
        if own_records == 1 {
            routers.push(&reply_router);
        }
        routers.sort_unstable();
        if routers.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(BuildError::InvalidRequest("a router appears twice"));
        }
        Ok((reply_router, reply_tunnel))
    }

    fn role_of(&self, index: usize) -> HopRole {
        match self.direction {
            BuildDirection::Outbound { .. } if index + 1 == self.hops.len() => {
                HopRole::OutboundEndpoint
            }
            BuildDirection::Inbound { .. } if index == 0 => HopRole::InboundGateway,
            _ => HopRole::Participant,
        }
    }
}
