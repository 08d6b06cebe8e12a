//! DeliveryStatus (spec: I2NP, DeliveryStatus).

use super::I2npError;
use crate::data::reader::Reader;

/// Acknowledges a message: the reply to a DatabaseStore with a reply token, and the
/// end-to-end ack inside garlic messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// The id being acknowledged (for a store: its reply token).
    pub msg_id: u32,
    /// Creation or arrival time, ms since the epoch.
    pub timestamp_ms: u64,
}

impl DeliveryStatus {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<DeliveryStatus, I2npError> {
        Ok(DeliveryStatus {
            msg_id: r.u32("delivery status: message id")?,
            timestamp_ms: r.u64("delivery status: timestamp")?,
        })
    }

    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.msg_id.to_be_bytes());
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
    }
}
