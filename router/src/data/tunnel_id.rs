//! TunnelId (common structures): a 4-byte tunnel identifier.

use std::fmt;

/// A tunnel id: each hop of a tunnel knows it under its own id, chosen by the creator.
/// Zero is never a valid tunnel id on the wire (it means "no tunnel").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TunnelId(pub u32);

impl fmt::Debug for TunnelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tunnel#{}", self.0)
    }
}
