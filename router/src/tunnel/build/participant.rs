//! A hop's side (spec: tunnel-creation, "Hop Processing and Encryption" and "Tunnel Build
//! Message Endpoint Handling"; tunnel-creation-ecies, "Record Encryption").

use super::crypt::{self, RecordKeys};
use super::record::{HopRole, ReplyRecord, ReplyStatus, RequestRecord};
use super::{
    BuildError, GarlicReplyKey, BUILD_MESSAGE_LIFETIME, MAX_REQUEST_AGE_MIN, MAX_REQUEST_AHEAD_MIN,
    TUNNEL_LIFETIME_SECS,
};
use crate::crypto::{RouterKeys, SharedSecrets};
use crate::data::{Hash, Mapping};
use crate::i2np::{BuildRecords, I2npMessage, MessageBody};
use crate::time::Instant;
use crate::tunnel::data::HopKeys;
use crate::tunnel::TunnelId;
use rand::{CryptoRng, RngCore};
use std::time::Duration;

/// Our hop of a tunnel we agreed to join, for the data plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopConfig {
    pub receive_tunnel: TunnelId,
    /// Where the tunnel's messages go next. At the outbound endpoint these name the
    /// reply tunnel instead: an endpoint delivers by each message's instructions.
    pub next_tunnel: TunnelId,
    pub next_router: Hash,
    pub role: HopRole,
    pub layer_keys: HopKeys,
    pub expires_at: Instant,
}

/// The build message to send on, accepted or not: the creator needs every answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildSend {
    /// A ShortTunnelBuild, straight to the next hop (the creator, after an inbound
    /// tunnel's last hop).
    NextHop { router: Hash, msg: I2npMessage },
    /// From the outbound endpoint: an OutboundTunnelBuildReply for the creator, to
    /// deliver into the reply tunnel `tunnel` at its gateway `gateway` (inside a
    /// TunnelGateway message). It may first be garlic-wrapped with `garlic`, which
    /// hides it from the gateway.
    ReplyTunnel {
        gateway: Hash,
        tunnel: TunnelId,
        msg: I2npMessage,
        garlic: GarlicReplyKey,
    },
}

/// What a hop did with a build request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantOutcome {
    pub status: ReplyStatus,
    /// Our hop, when we accepted: the data plane serves it until it expires.
    pub hop: Option<HopConfig>,
    pub send: BuildSend,
}

/// Handles a ShortTunnelBuild as one of its hops.
///
/// `policy` sees the decrypted request and decides; it is where the router applies its
/// limits (bandwidth, tunnel count, a receive tunnel id already in use, which also catches
/// replays). Errors mean "drop the message": it is not for us, does not decrypt, is
/// malformed or stale. A hop cannot tell whether it is last in an inbound tunnel: it
/// sends on to the next router either way.
pub fn handle_request(
    keys: &RouterKeys,
    records: &BuildRecords,
    now: Instant,
    rng: &mut (impl RngCore + CryptoRng),
    memo: Option<&SharedSecrets>,
    policy: impl FnOnce(&RequestRecord) -> ReplyStatus,
) -> Result<ParticipantOutcome, BuildError> {
    let our_hash = keys.hash();
    let (slot, record) = records
        .records()
        .iter()
        .enumerate()
        .find(|(_, record)| crypt::addressed_to(record, &our_hash))
        .ok_or(BuildError::NotForUs)?;
    let opened = crypt::decrypt_request(
        keys.encryption_secret(),
        &keys.identity().encryption_key(),
        record,
        memo,
    )?;
    let request = RequestRecord::parse(&opened.cleartext)?;
    check_fresh(request.request_time_min, now)?;
    let record_keys = opened.keys(request.role);

    let status = policy(&request);
    let reply = ReplyRecord {
        options: Mapping::new(),
        status,
    }
    .encode(rng)?;
    let mut out = records.clone();
    for (index, record) in out.records_mut().iter_mut().enumerate() {
        if index == slot {
            *record = crypt::seal_reply(&record_keys, slot, &reply);
        } else {
            crypt::mask(&record_keys.reply_key, index, record);
        }
    }

    let hop = status.is_accept().then(|| HopConfig {
        receive_tunnel: request.receive_tunnel,
        next_tunnel: request.next_tunnel,
        next_router: request.next_router,
        role: request.role,
        layer_keys: record_keys.layer.clone(),
        expires_at: now
            + Duration::from_secs(u64::from(request.expiration_secs.min(TUNNEL_LIFETIME_SECS))),
    });
    Ok(ParticipantOutcome {
        status,
        hop,
        send: send_on(&request, record_keys, out, now),
    })
}

/// Drops requests made too long ago (or too far ahead of our clock).
fn check_fresh(request_min: u32, now: Instant) -> Result<(), BuildError> {
    let now_min = now.as_secs() / 60;
    let request = u64::from(request_min);
    if request + MAX_REQUEST_AGE_MIN < now_min || request > now_min + MAX_REQUEST_AHEAD_MIN {
        return Err(BuildError::Stale {
            request_min,
            now_min,
        });
    }
    Ok(())
}

fn send_on(
    request: &RequestRecord,
    keys: RecordKeys,
    records: BuildRecords,
    now: Instant,
) -> BuildSend {
    let message = |body| I2npMessage {
        id: request.next_message_id,
        expiration_ms: (now + BUILD_MESSAGE_LIFETIME).as_millis(),
        body,
    };
    // Only the outbound endpoint derives a garlic reply key.
    match keys.garlic {
        Some(garlic) => BuildSend::ReplyTunnel {
            gateway: request.next_router,
            tunnel: request.next_tunnel,
            msg: message(MessageBody::OutboundTunnelBuildReply(records)),
            garlic,
        },
        None => BuildSend::NextHop {
            router: request.next_router,
            msg: message(MessageBody::ShortTunnelBuild(records)),
        },
    }
}
