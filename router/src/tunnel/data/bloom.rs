//! Replay protection: a decaying Bloom filter (spec: tunnel implementation, Participant
//! Processing).
//!
//! A router keeps one filter for all the tunnels it takes part in. Its entries are the
//! XOR of a message's IV and first data block as received (the XOR, so that a colluding
//! hop cannot re-send a message with the two swapped and pass as new). They need only
//! outlive the tunnels, which last 10 minutes: the filter keeps two generations of 10
//! minutes each, so an entry is remembered for 10 to 20 minutes.

use crate::i2np::TunnelData;
use crate::time::Instant;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128Enc, Block};
use rand::RngCore;
use std::fmt;
use std::time::Duration;

/// Bits set per entry. With [`BITS_PER_ENTRY`] bits per expected entry, a generation at
/// capacity answers "seen" for a new message with a probability of about 1e-4, so 2e-4
/// for the filter with both generations full: the price is dropping that one message.
const HASHES: usize = 8;
const BITS_PER_ENTRY: usize = 24;
/// Keeps the bit count representable; far beyond any router's traffic.
const MAX_CAPACITY: usize = 1 << 26;
/// Bits of hash that choose one bit of a line.
const BIT_INDEX_BITS: u32 = 9;

/// One cache line of the filter: all the bits of an entry lie in one line, so checking
/// a message costs one memory access per generation rather than one per bit. A busy
/// router's filter is megabytes, far beyond the caches; the price is a slightly higher
/// false positive rate than bits spread over the whole filter would give.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Line([u64; 8]);

/// A decaying, blocked Bloom filter over 16-byte values.
///
/// Positions come from AES-128 under a key drawn from the caller's generator: one block
/// operation hashes a value, and peers who do not know the key cannot craft messages
/// that collide to make us drop others.
pub struct ReplayFilter {
    prf: Aes128Enc,
    current: Vec<Line>,
    previous: Vec<Line>,
    rotate_at: Instant,
}

impl ReplayFilter {
    /// How long a generation lasts: entries are remembered for one to two of them.
    pub const GENERATION: Duration = Duration::from_secs(10 * 60);

    /// A filter sized for `capacity` messages per generation; it takes about
    /// `6 * capacity` to `12 * capacity` bytes.
    pub fn new<R: RngCore>(rng: &mut R, capacity: usize, now: Instant) -> ReplayFilter {
        let mut key = [0u8; 16];
        rng.fill_bytes(&mut key);
        let lines = (capacity.clamp(1, MAX_CAPACITY) * BITS_PER_ENTRY)
            .div_ceil(512)
            .next_power_of_two();
        ReplayFilter {
            prf: Aes128Enc::new(&key.into()),
            current: vec![Line::default(); lines],
            previous: vec![Line::default(); lines],
            rotate_at: now + Self::GENERATION,
        }
    }

    /// Records the IV and first block of `msg` as received; false if they were (most
    /// probably) seen in the last 10 to 20 minutes.
    pub fn insert_message(&mut self, now: Instant, msg: &TunnelData) -> bool {
        let mut value = msg.iv;
        for (v, d) in value.iter_mut().zip(msg.data.iter()) {
            *v ^= d;
        }
        self.insert(now, &value)
    }

    /// Records `value`; false if it was (most probably) seen in the last 10 to 20
    /// minutes.
    fn insert(&mut self, now: Instant, value: &[u8; 16]) -> bool {
        self.rotate(now);
        let (line, pattern) = self.locate(value);
        if self.contains(line, &pattern) {
            return false;
        }
        for (word, bits) in self.current[line].0.iter_mut().zip(pattern.0) {
            *word |= bits;
        }
        true
    }

    fn contains(&self, line: usize, pattern: &Line) -> bool {
        let all_set = |lines: &[Line]| {
            lines[line]
                .0
                .iter()
                .zip(pattern.0)
                .all(|(word, bits)| word & bits == bits)
        };
        all_set(&self.current) || all_set(&self.previous)
    }

    /// The line for `value` (from the low bits of its hash) and the bits to set in it
    /// (9 bits of hash each, from the high 88).
    fn locate(&self, value: &[u8; 16]) -> (usize, Line) {
        let mut block = Block::from(*value);
        self.prf.encrypt_block(&mut block);
        let hashed = u128::from_le_bytes(block.into());
        // The line count is a power of two no larger than 2^22: the low 40 bits are
        // plenty, and the 88 above them give 8 independent 9-bit positions.
        let line = (hashed as usize) & (self.current.len() - 1);
        let mut pattern = Line::default();
        for i in 0..HASHES as u32 {
            let position = (hashed >> (40 + i * BIT_INDEX_BITS)) as usize & 511;
            pattern.0[position / 64] |= 1 << (position % 64);
        }
        (line, pattern)
    }

    fn rotate(&mut self, now: Instant) {
        if now < self.rotate_at {
            return;
        }
        if now >= self.rotate_at + Self::GENERATION {
            // Idle for a whole generation: everything recorded is older than that.
            self.previous.fill(Line::default());
        } else {
            std::mem::swap(&mut self.current, &mut self.previous);
        }
        self.current.fill(Line::default());
        self.rotate_at = now + Self::GENERATION;
    }
}

/// The size and schedule; never the key.
impl fmt::Debug for ReplayFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayFilter")
            .field("bytes", &(self.current.len() * 64 * 2))
            .field("rotate_at", &self.rotate_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn value(n: u64) -> [u8; 16] {
        let mut v = [0; 16];
        v[..8].copy_from_slice(&n.to_le_bytes());
        v
    }

    #[test]
    fn remembers_for_one_to_two_generations() {
        let start = Instant::from_secs(1_000);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut filter = ReplayFilter::new(&mut rng, 1000, start);
        let minute = Duration::from_secs(60);
        let at = |minutes: u32| start + minute * minutes;

        assert!(filter.insert(at(9), &value(1)));
        assert!(!filter.insert(at(9), &value(1)));
        // The first rotation (at 10 min) keeps it in the previous generation.
        assert!(!filter.insert(at(10), &value(1)));
        assert!(!filter.insert(at(19) + minute / 2, &value(1)));
        // The second (at 20 min) forgets it: 11 minutes after it was recorded.
        assert!(filter.insert(at(20), &value(1)));
        assert!(!filter.insert(at(21), &value(1)));
        // A long silence forgets everything at once.
        assert!(filter.insert(at(60), &value(1)));
    }

    #[test]
    fn false_positives_stay_rare_at_capacity() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let now = Instant::from_secs(0);
        let mut filter = ReplayFilter::new(&mut rng, 10_922, now);
        let fresh = (0..10_922)
            .filter(|&n| filter.insert(now, &value(n)))
            .count();
        assert!(fresh >= 10_920, "{fresh}");
        let false_positives = (1_000_000..1_100_000)
            .filter(|&n| {
                let (line, pattern) = filter.locate(&value(n));
                filter.contains(line, &pattern)
            })
            .count();
        // Exactly 512 lines, 24 bits per entry: about 1e-4 expected.
        assert!(false_positives < 20, "{false_positives}");
    }

    #[test]
    fn keyed_by_the_callers_generator() {
        let now = Instant::from_secs(0);
        let probes = |seed| {
            let filter = ReplayFilter::new(&mut ChaCha20Rng::seed_from_u64(seed), 100, now);
            let (line, pattern) = filter.locate(&value(7));
            (line, pattern.0)
        };
        assert_eq!(probes(3), probes(3));
        assert_ne!(probes(3), probes(4));
    }

    #[test]
    fn message_key_is_iv_xor_first_block() {
        let now = Instant::from_secs(0);
        let mut filter = ReplayFilter::new(&mut ChaCha20Rng::seed_from_u64(5), 100, now);
        let mut msg = TunnelData {
            tunnel_id: crate::tunnel::TunnelId(1),
            iv: [1; 16],
            data: Box::new([2; TunnelData::DATA_LEN]),
        };
        assert!(filter.insert_message(now, &msg));
        // IV and first block swapped: the same entry.
        msg.iv = [2; 16];
        msg.data[..16].copy_from_slice(&[1; 16]);
        assert!(!filter.insert_message(now, &msg));
        assert!(!filter.insert(now, &[3; 16]));
        assert!(!format!("{filter:?}").contains("prf"));
    }
}
