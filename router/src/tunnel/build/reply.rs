//! The creator's side of the reply (spec: tunnel-creation, "Tunnel Build Reply Message
//! Processing"): hop i's reply was sealed by hop i and then masked by every later hop.

use super::crypt;
use super::record::{ReplyRecord, ReplyStatus};
use super::request::PendingBuild;
use super::BuildError;
use crate::data::{Hash, Mapping};
use crate::i2np::BuildRecords;
use crate::tunnel::data::HopKeys;

/// One hop's answer, as the creator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopReply {
    pub router: Hash,
    pub status: ReplyStatus,
    /// Reply options, e.g. the bandwidth the hop offers.
    pub options: Mapping,
    /// The hop's layer and IV keys, when it accepted.
    pub layer_keys: Option<HopKeys>,
}

impl PendingBuild {
    /// Reads every hop's reply, in tunnel order, from the records of the
    /// OutboundTunnelBuildReply (outbound build) or ShortTunnelBuild (inbound build)
    /// that came back with [`PendingBuild::reply_message_id`].
    ///
    /// The tunnel is usable only if every hop accepted. A reply that does not decrypt
    /// fails the whole build: a hop may be tagging records to find its accomplices. The
    /// pending build is left as it is, in case this was a forgery and the real reply is
    /// still on its way.
    pub fn handle_reply(&self, records: &BuildRecords) -> Result<Vec<HopReply>, BuildError> {
        let records = records.records();
        if records.len() != self.record_count {
            return Err(BuildError::RecordCount {
                expected: self.record_count,
                actual: records.len(),
            });
        }
        if let Some(own) = &self.own_record {
            if records.get(own.slot) != Some(&own.bytes) {
                return Err(BuildError::Tampered);
            }
        }
        self.hops
            .iter()
            .enumerate()
            .map(|(index, hop)| {
                let bad_reply = || BuildError::BadReply { hop: index };
                let mut record = *records.get(hop.slot).ok_or_else(bad_reply)?;
                // XOR masks commute: the order they come off in does not matter.
                for later in &self.hops[index + 1..] {
                    crypt::mask(&later.keys.reply_key, hop.slot, &mut record);
                }
                let cleartext =
                    crypt::open_reply(&hop.keys, hop.slot, &record).map_err(|_| bad_reply())?;
                let reply = ReplyRecord::parse(&cleartext).map_err(|_| bad_reply())?;
                Ok(HopReply {
                    router: hop.router,
                    status: reply.status,
                    options: reply.options,
                    layer_keys: reply.status.is_accept().then(|| hop.keys.layer.clone()),
                })
            })
            .collect()
    }
}
