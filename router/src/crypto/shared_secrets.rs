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
//!
//! The sender's side is made cheaper too. Its DH is with a static key that many senders
//! use again and again (a floodfill's, for every lookup sent to it), so for keys used
//! often the memo keeps a table of multiples of the key's point, and multiplying by a
//! fresh ephemeral scalar becomes a fixed-base multiplication, about four times cheaper
//! than the Montgomery ladder. It is exact: [k]P computed from the table of P, with the
//! clamped scalar unreduced, is the point the ladder reaches, and its u-coordinate is the
//! X25519 output, for every input (low-order and twist keys use the ladder).

use curve25519_dalek::edwards::EdwardsBasepointTable;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::traits::BasepointTable;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// Entries per generation. An entry lives from the sender's DH to the receiver's, seconds
/// at most; only entries whose message was lost stay, and two generations bound them.
const GENERATION: usize = 1 << 16;

/// Uses of a static key after which building its table (about 30 KiB, the cost of some
/// tens of ladders) pays.
const TABLE_AFTER: u32 = 128;
/// Tables kept at most: floodfills' keys are the ones that reach [`TABLE_AFTER`] first.
const MAX_TABLES: usize = 2048;

/// (ephemeral public key, receiver's static public key) -> shared secret.
type Table = HashMap<([u8; 32], [u8; 32]), [u8; 32]>;

/// What the memo knows of a receiver's static key.
enum Receiver {
    /// Used this many times so far.
    Seen(u32),
    /// Multiples of the key's point, for fixed-base multiplication.
    Table(Box<EdwardsBasepointTable>),
    /// No table: out of room, or the key is not on the curve.
    Ladder,
}

/// Shared secrets in flight between routers of one process, keyed by the two public keys.
#[derive(Default)]
pub struct SharedSecrets {
    tables: Mutex<(Table, Table)>,
    receivers: Mutex<Receivers>,
}

#[derive(Default)]
struct Receivers {
    keys: HashMap<[u8; 32], Receiver>,
    tables: usize,
}

impl SharedSecrets {
    pub fn new() -> SharedSecrets {
        SharedSecrets::default()
    }

    /// X25519(`secret`, `receiver`), exactly as the ladder computes it, through the
    /// receiver's table when it has one.
    pub(crate) fn agree(&self, secret: &[u8; 32], receiver: &[u8; 32]) -> [u8; 32] {
        let mut receivers = self
            .receivers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Receivers { keys, tables } = &mut *receivers;
        let entry = keys.entry(*receiver).or_insert(Receiver::Seen(0));
        if let Receiver::Seen(uses) = entry {
            *uses += 1;
            if *uses >= TABLE_AFTER {
                *entry = match MontgomeryPoint(*receiver).to_edwards(0) {
                    Some(point) if *tables < MAX_TABLES => {
                        *tables += 1;
                        Receiver::Table(Box::new(EdwardsBasepointTable::create(&point)))
                    }
                    _ => Receiver::Ladder,
                };
            }
        }
        match entry {
            Receiver::Table(table) => table.mul_base_clamped(*secret).to_montgomery().to_bytes(),
            _ => MontgomeryPoint(*receiver).mul_clamped(*secret).to_bytes(),
        }
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
            .field(
                "tables",
                &self
                    .receivers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .tables,
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use curve25519_dalek::edwards::EdwardsPoint;
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// The table path and the ladder agree with x25519-dalek for keys with and without
    /// torsion, low-order keys and keys on the twist.
    #[test]
    fn agree_is_x25519_for_every_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut bytes = || {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            b
        };
        let honest = EdwardsPoint::mul_base_clamped(bytes()).to_montgomery().0;
        let torsion = (EdwardsPoint::mul_base_clamped(bytes()) + EIGHT_TORSION[1])
            .to_montgomery()
            .0;
        let twist = (0u8..)
            .map(|i| [i; 32])
            .find(|u| MontgomeryPoint(*u).to_edwards(0).is_none())
            .expect("half of all u are on the twist");
        let memo = SharedSecrets::new();
        for receiver in [
            honest,
            torsion,
            twist,
            [0; 32],
            EIGHT_TORSION[2].to_montgomery().0,
        ] {
            for _ in 0..TABLE_AFTER + 4 {
                let secret = bytes();
                let expected = x25519_dalek::x25519(secret, receiver);
                assert_eq!(memo.agree(&secret, &receiver), expected);
            }
        }
        assert_eq!(memo.receivers.lock().expect("one thread").tables, 4);
    }
}
