//! Diffie-Hellman results one side of a one-way handshake computed, for the other side
//! in the same process: a simulator's memo, not a protocol feature.
//!
//! In a one-way (Noise N) handshake, tunnel build records and ECIES messages to routers,
//! the sender computes `DH(e, B)` and the receiver `DH(b, E)`: the same 32 bytes. When
//! both routers run in one process (the simulator), the receiver can take the sender's
//! result instead of doing a second scalar multiplication, the most expensive step of
//! either side. The result is exactly what the receiver would compute, so nothing any
//! router does changes: trace hashes stay the same with or without the memo.
//!
//! A real router never shares one: it would keep secrets of others in its memory.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// Entries per generation. An entry lives from the sender's DH to the receiver's, seconds
/// at most; only entries whose message was lost stay, and two generations bound them.
const GENERATION: usize = 1 << 16;

/// (ephemeral public key, receiver's static public key) -> shared secret.
type Table = HashMap<([u8; 32], [u8; 32]), [u8; 32]>;

/// Shared secrets in flight between routers of one process, keyed by the two public keys.
#[derive(Default)]
pub struct SharedSecrets {
    tables: Mutex<(Table, Table)>,
}

impl SharedSecrets {
    pub fn new() -> SharedSecrets {
        SharedSecrets::default()
    }

    /// The sender computed `shared` = DH(ephemeral secret, `receiver`).
    pub(crate) fn put(&self, ephemeral: [u8; 32], receiver: [u8; 32], shared: [u8; 32]) {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let (current, previous) = &mut *tables;
        if current.len() >= GENERATION {
            *previous = std::mem::take(current);
        }
        current.insert((ephemeral, receiver), shared);
    }

    /// What the sender of `ephemeral` computed for `receiver`, taken out: each message is
    /// received once (a replay computes the DH itself).
    pub(crate) fn take(&self, ephemeral: &[u8; 32], receiver: &[u8; 32]) -> Option<[u8; 32]> {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (*ephemeral, *receiver);
        let (current, previous) = &mut *tables;
        current.remove(&key).or_else(|| previous.remove(&key))
    }
}

/// Never the secrets.
impl fmt::Debug for SharedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("SharedSecrets")
            .field("entries", &(tables.0.len() + tables.1.len()))
            .finish()
    }
}
