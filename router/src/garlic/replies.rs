//! One-time reply keys: the key and 8-byte tag a router hands out with a request so that
//! the answer comes back encrypted (spec: I2NP DatabaseLookup, "Reply Encryption";
//! ECIES-X25519 Router Messages, "Replies"). The answer's first 8 bytes are the tag; the
//! table gives its key once, then forgets both.

use super::router::TAG_LEN;
use crate::time::Instant;
use rand::{CryptoRng, RngCore};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long an unanswered key is kept: well past any lookup's wait for its answer.
const LIFETIME: Duration = Duration::from_secs(2 * 60);

/// Reply keys by tag, with when each is given up.
#[derive(Default)]
pub struct ReplyKeys {
    keys: BTreeMap<[u8; TAG_LEN], ([u8; 32], Instant)>,
}

impl ReplyKeys {
    /// A fresh key and tag for one reply.
    pub fn issue<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        now: Instant,
    ) -> ([u8; 32], [u8; TAG_LEN]) {
        let mut key = [0u8; 32];
        let mut tag = [0u8; TAG_LEN];
        rng.fill_bytes(&mut key);
        rng.fill_bytes(&mut tag);
        self.keys.insert(tag, (key, now + LIFETIME));
        (key, tag)
    }

    /// The key of a reply starting with `tag`, used up by this call.
    pub fn take(&mut self, tag: &[u8; TAG_LEN]) -> Option<[u8; 32]> {
        self.keys.remove(tag).map(|(key, _)| key)
    }

    /// Drops keys no answer came for.
    pub fn expire(&mut self, now: Instant) {
        self.keys.retain(|_, (_, until)| *until > now);
    }
}

/// Counts only: the keys are secret.
impl std::fmt::Debug for ReplyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyKeys")
            .field("outstanding", &self.keys.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn a_key_is_given_once_and_expires() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut keys = ReplyKeys::default();
        let now = Instant::from_secs(1000);
        let (key, tag) = keys.issue(&mut rng, now);
        let (_, other) = keys.issue(&mut rng, now);
        assert_eq!(keys.take(&tag), Some(key));
        assert_eq!(keys.take(&tag), None, "used up");
        keys.expire(now + LIFETIME);
        assert_eq!(keys.take(&other), None, "expired");
        assert!(keys.keys.is_empty());
    }
}
