//! The application messages simulated destinations exchange: a request, and the reply
//! that answers it. Only the simulator reads them; to the routers they are opaque data.

/// What the first bytes of every application payload say; the rest is zero padding up to
/// the scenario's message size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppMessage {
    /// Numbers every message of a run, so that a delivery finds its send.
    pub number: u64,
    /// The sending destination's index.
    pub from: u32,
    pub kind: u8,
    /// For a reply: the number of the request it answers.
    pub answers: u64,
}

impl AppMessage {
    pub const REQUEST: u8 = 1;
    pub const REPLY: u8 = 2;
    /// Encoded length before padding.
    pub const LEN: usize = 8 + 4 + 1 + 8;

    /// The message padded with zeros to `size` bytes (at least [`AppMessage::LEN`]).
    pub fn encode(&self, size: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(size.max(Self::LEN));
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&self.from.to_be_bytes());
        out.push(self.kind);
        out.extend_from_slice(&self.answers.to_be_bytes());
        out.resize(size.max(Self::LEN), 0);
        out
    }

    /// `None` for anything that is not an application message of ours.
    pub fn decode(bytes: &[u8]) -> Option<AppMessage> {
        let head = bytes.get(..Self::LEN)?;
        let number = u64::from_be_bytes(head[..8].try_into().ok()?);
        let from = u32::from_be_bytes(head[8..12].try_into().ok()?);
        let kind = head[12];
        let answers = u64::from_be_bytes(head[13..21].try_into().ok()?);
        matches!(kind, Self::REQUEST | Self::REPLY).then_some(AppMessage {
            number,
            from,
            kind,
            answers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_junk() {
        let m = AppMessage {
            number: 7,
            from: 3,
            kind: AppMessage::REPLY,
            answers: 5,
        };
        let bytes = m.encode(100);
        assert_eq!(bytes.len(), 100);
        assert_eq!(AppMessage::decode(&bytes), Some(m));
        assert_eq!(AppMessage::decode(&bytes[..10]), None);
        assert_eq!(AppMessage::decode(&[0; 40]), None);
    }
}
