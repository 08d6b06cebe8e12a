//! The DH ratchet: NextKey exchanges that replace a session's tag sets, one direction at a
//! time (spec: ecies, "4a) DH Ratchet", "KEY AND TAG SET IDS", "DH RATCHET MESSAGE FLOW",
//! "DH RATCHET KDF", and the "Next DH Ratchet Public Key" block).
//!
//! Each direction of a session is ratcheted by the sender of its tags: [`SendRatchet`] owns
//! our outbound tag set and starts the exchange that replaces it; [`ReceiveRatchet`] is
//! the receiving end of the peer's outbound direction and answers its exchanges. Tag set
//! `t` comes from the sender's key `s` and the receiver's key `r` with `t = 1 + s + r`; the
//! keys alternate so that each exchange changes one of them (both for tag set 1):
//!
//! | new tag set | sender sends | receiver answers |
//! |---|---|---|
//! | 1 | new key 0, requests a reverse key | new key 0 |
//! | even | new key `s + 1` | the id of its current key `r` |
//! | odd, from 3 | the id of its current key `s`, requests a reverse key | new key `r + 1` |
//!
//! The sender repeats its NextKey block in every message until the answer arrives, then
//! switches to the new tag set at once ("it should be used immediately, and the old
//! outbound tagset may be deleted"). The receiver answers at its next message (the
//! endpoint generates keys only when sealing, where it has randomness), repeats the answer
//! until a message arrives on the new tag set, and keeps the old one for 3 more minutes.
//! NextKey keys are plain X25519 keys: they travel encrypted, so Elligator2 has no use.

use super::handshake::dh;
use super::kdf::{self, Tag, TagSetKeys};
use super::tagset::OutboundTagSet;
use crate::garlic::payload::NextKey;
use rand::{CryptoRng, RngCore};
use x25519_dalek::{PublicKey, StaticSecret};

/// The message number at which the sender starts a NextKey exchange (spec: "Parameters":
/// "Send next key at tag: 4096"), well before the 65536 of a tag set: the exchange takes a
/// round trip, and lost answers are repeated.
pub const SEND_NEXT_KEY_AT: u16 = 4096;
/// "The maximum tag set ID is 65535": after it, only a new session continues.
const MAX_TAG_SET_ID: u16 = u16::MAX;

/// One of our NextKey keys and its id.
struct OwnKey {
    id: u16,
    secret: StaticSecret,
    public: [u8; 32],
}

impl OwnKey {
    /// Key `id`: 0 for the first, one more than `previous` after it.
    fn generate<R: RngCore + CryptoRng>(rng: &mut R, previous: Option<&OwnKey>) -> OwnKey {
        let secret = StaticSecret::random_from_rng(&mut *rng);
        OwnKey {
            id: previous.map_or(0, |key| key.id + 1),
            public: PublicKey::from(&secret).to_bytes(),
            secret,
        }
    }
}

/// The peer's latest NextKey key and its id.
#[derive(Clone, Copy)]
struct PeerKey {
    id: u16,
    public: [u8; 32],
}

/// The id the peer's next new key must have.
fn next_id(key: Option<&PeerKey>) -> u16 {
    key.map_or(0, |key| key.id + 1)
}

/// `HKDF(DH(ours, theirs), "XDHRatchetTagSet")` into `DH_INITIALIZE(next_root, ..)`, or
/// `None` for a low-order key.
fn ratchet(next_root: &[u8; 32], own: &OwnKey, peer: &PeerKey) -> Option<TagSetKeys> {
    let shared = dh(&own.secret, &PublicKey::from(peer.public))?;
    Some(kdf::ratchet_tag_set(next_root, &shared))
}

/// A message [`SendRatchet::next`] allots: its tag set and message number, tag and key,
/// and the NextKey block it must carry.
pub(super) struct NextMessage {
    pub(super) tag_set: u16,
    pub(super) n: u16,
    pub(super) tag: Tag,
    pub(super) key: [u8; 32],
    pub(super) next_key: Option<NextKey>,
}

/// Our outbound direction of an established session.
pub(super) struct SendRatchet {
    tags: OutboundTagSet,
    /// The id of `tags`: 0 after the handshake, one more per exchange.
    id: u16,
    next_root: [u8; 32],
    own: Option<OwnKey>,
    peer: Option<PeerKey>,
    /// The forward NextKey block of the exchange in progress, repeated until answered.
    pending: Option<NextKey>,
    /// The message number that starts an exchange ([`SEND_NEXT_KEY_AT`]; tests lower it).
    threshold: u16,
}

impl SendRatchet {
    /// Tag set 0, from the handshake's `Split()`.
    pub(super) fn new(keys: TagSetKeys, threshold: u16) -> SendRatchet {
        SendRatchet {
            tags: OutboundTagSet::new(keys.tags, keys.keys),
            id: 0,
            next_root: keys.next_root,
            own: None,
            peer: None,
            pending: None,
            threshold,
        }
    }

    pub(super) fn is_exhausted(&self) -> bool {
        self.tags.is_exhausted()
    }

    /// The id of the tag set we send on.
    pub(super) fn id(&self) -> u16 {
        self.id
    }

    /// The next message's tag and key, starting an exchange once the tag set has carried
    /// `threshold` messages; `None` once the tag set is exhausted.
    pub(super) fn next<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> Option<NextMessage> {
        let due = self.tags.next_index() >= u32::from(self.threshold);
        if due && self.pending.is_none() && self.id < MAX_TAG_SET_ID && !self.is_exhausted() {
            self.pending = Some(self.start(rng));
        }
        let (n, tag, key) = self.tags.next()?;
        Some(NextMessage {
            tag_set: self.id,
            n,
            tag,
            key,
            next_key: self.pending,
        })
    }

    /// The forward block for tag set `id + 1`: a new key for tag sets 1 and even ones, a
    /// request for the peer's new key for 1 and odd ones.
    fn start<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> NextKey {
        let next = self.id + 1;
        let new_key = next == 1 || next.is_multiple_of(2);
        if new_key || self.own.is_none() {
            self.own = Some(OwnKey::generate(rng, self.own.as_ref()));
        }
        let own = self.own.as_ref().expect("generated above when missing");
        NextKey {
            reverse: false,
            request_reverse: next % 2 == 1,
            key_id: own.id,
            key: new_key.then_some(own.public),
        }
    }

    /// A reverse NextKey block from the peer: if it answers our exchange, the new tag set
    /// replaces the current one at once. Repeats and blocks that do not fit are ignored.
    pub(super) fn on_reverse(&mut self, block: &NextKey) {
        let (Some(pending), Some(own)) = (self.pending, self.own.as_ref()) else {
            return;
        };
        let peer = match (pending.request_reverse, block.key) {
            (true, Some(public)) if block.key_id == next_id(self.peer.as_ref()) => PeerKey {
                id: block.key_id,
                public,
            },
            (false, None) => match self.peer {
                Some(peer) if peer.id == block.key_id => peer,
                _ => return,
            },
            _ => return,
        };
        if 1 + u32::from(own.id) + u32::from(peer.id) != u32::from(self.id) + 1 {
            return;
        }
        let Some(keys) = ratchet(&self.next_root, own, &peer) else {
            return;
        };
        self.tags = OutboundTagSet::new(keys.tags, keys.keys);
        self.next_root = keys.next_root;
        self.id += 1;
        self.peer = Some(peer);
        self.pending = None;
    }
}

/// The receiving end of the peer's outbound direction: it lives with the newest inbound
/// tag set of that direction and moves to each new one.
pub(super) struct ReceiveRatchet {
    next_root: [u8; 32],
    own: Option<OwnKey>,
    peer: Option<PeerKey>,
    /// A forward block received and not yet acted on: answered at our next message.
    incoming: Option<NextKey>,
    /// (key id, request) of the last forward block acted on, whose repeats are ignored.
    answered: Option<(u16, bool)>,
    /// Our answer, repeated until the first message on the new tag set.
    reply: Option<NextKey>,
}

impl ReceiveRatchet {
    /// The peer's tag set 0, from the handshake's `Split()`.
    pub(super) fn new(next_root: [u8; 32]) -> ReceiveRatchet {
        ReceiveRatchet {
            next_root,
            own: None,
            peer: None,
            incoming: None,
            answered: None,
            reply: None,
        }
    }

    /// A forward NextKey block arrived. True if it is new (not a repeat), so an answer is
    /// owed.
    ///
    /// Blocks whose key ids cannot come next are ignored at once: a late repeat from an
    /// earlier exchange must not displace the block of the current one.
    pub(super) fn on_forward(&mut self, block: &NextKey) -> bool {
        let repeat = self.answered == Some((block.key_id, block.request_reverse))
            || self.incoming.as_ref() == Some(block);
        let fits = match block.key {
            Some(_) => block.key_id == next_id(self.peer.as_ref()),
            None => self.peer.is_some_and(|peer| peer.id == block.key_id),
        };
        let new = fits && !repeat;
        if new {
            self.incoming = Some(*block);
        }
        new
    }

    /// Whether our next message must carry a reverse block.
    pub(super) fn owes_reply(&self) -> bool {
        self.incoming.is_some() || self.reply.is_some()
    }

    /// Acts on the received forward block, if any, for the tag set after `current`: the
    /// new tag set, or `None` if there is nothing to do or the block does not fit (the
    /// spec's key ids must be sequential), which drops it.
    pub(super) fn answer<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        current: u16,
    ) -> Option<(u16, TagSetKeys)> {
        let block = self.incoming.take()?;
        let next = current.checked_add(1)?;
        let peer = match block.key {
            Some(public) if block.key_id == next_id(self.peer.as_ref()) => PeerKey {
                id: block.key_id,
                public,
            },
            None => self.peer.filter(|peer| peer.id == block.key_id)?,
            Some(_) => return None,
        };
        let generated = block
            .request_reverse
            .then(|| OwnKey::generate(rng, self.own.as_ref()));
        let own = generated.as_ref().or(self.own.as_ref())?;
        if 1 + u32::from(peer.id) + u32::from(own.id) != u32::from(next) {
            return None;
        }
        let keys = ratchet(&self.next_root, own, &peer)?;
        self.reply = Some(NextKey {
            reverse: true,
            request_reverse: false,
            key_id: own.id,
            key: block.request_reverse.then_some(own.public),
        });
        if let Some(own) = generated {
            self.own = Some(own);
        }
        self.peer = Some(peer);
        self.next_root = keys.next_root;
        self.answered = Some((block.key_id, block.request_reverse));
        Some((next, keys))
    }

    /// The reverse block our next message carries.
    pub(super) fn reply(&self) -> Option<NextKey> {
        self.reply
    }

    /// A message arrived on the tag set this ratchet lives with: the sender has switched
    /// to it, so the answer need not be repeated. True if there was one.
    pub(super) fn switched(&mut self) -> bool {
        self.reply.take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::super::kdf::dh_initialize;
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// Both ends of one direction, from the same tag set 0.
    fn pair() -> (SendRatchet, ReceiveRatchet) {
        let keys = dh_initialize(&[1; 32], &[2; 32]);
        let root = keys.next_root;
        (SendRatchet::new(keys, 4), ReceiveRatchet::new(root))
    }

    /// Sends until the tag set changes; returns the tags of each tag set's first message.
    fn exchange(
        rng: &mut ChaCha20Rng,
        send: &mut SendRatchet,
        receive: &mut ReceiveRatchet,
        current: u16,
    ) -> (NextKey, NextKey, TagSetKeys) {
        let mut forward = None;
        while forward.is_none() {
            forward = send.next(rng).expect("not exhausted").next_key;
        }
        let forward = forward.expect("the exchange started");
        assert!(receive.on_forward(&forward));
        assert!(!receive.on_forward(&forward), "a repeat owes nothing new");
        let (id, keys) = receive.answer(rng, current).expect("fits");
        assert_eq!(id, current + 1);
        let reply = receive.reply().expect("an answer");
        send.on_reverse(&reply);
        assert_eq!(send.id, current + 1);
        (forward, reply, keys)
    }

    #[test]
    fn key_ids_follow_the_spec_table() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (mut send, mut receive) = pair();
        // (new tag set, sender key id, new sender key, receiver key id, new receiver key)
        let table = [
            (1, 0, true, 0, true),
            (2, 1, true, 0, false),
            (3, 1, false, 1, true),
            (4, 2, true, 1, false),
            (5, 2, false, 2, true),
        ];
        for (t, s, s_new, r, r_new) in table {
            let (forward, reply, mut keys) = exchange(&mut rng, &mut send, &mut receive, t - 1);
            assert_eq!(
                (forward.key_id, forward.key.is_some()),
                (s, s_new),
                "tag set {t}"
            );
            assert_eq!(forward.request_reverse, r_new, "tag set {t}");
            assert_eq!(
                (reply.key_id, reply.key.is_some()),
                (r, r_new),
                "tag set {t}"
            );
            assert!(reply.reverse && !forward.reverse);
            // Both ends derived the same tag set.
            let first = send.next(&mut rng).expect("fresh");
            assert_eq!((first.tag_set, first.n), (t, 0));
            assert_eq!(first.tag, keys.tags.next());
            assert_eq!(first.key, keys.keys.next());
            assert!(first.next_key.is_none(), "no exchange right after one");
            assert!(receive.switched());
        }
    }

    #[test]
    fn repeats_and_misfits_are_ignored() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (mut send, mut receive) = pair();
        let (forward, reply, _) = exchange(&mut rng, &mut send, &mut receive, 0);
        // A late repeat of either block changes nothing.
        assert!(!receive.on_forward(&forward));
        send.on_reverse(&reply);
        assert_eq!(send.id, 1);
        // An answer nobody asked for is ignored.
        let mut stray = reply;
        stray.key_id = 5;
        send.on_reverse(&stray);
        assert_eq!(send.id, 1);
        // A forward block that skips ids is dropped.
        let skipping = NextKey {
            reverse: false,
            request_reverse: false,
            key_id: 7,
            key: Some([9; 32]),
        };
        assert!(!receive.on_forward(&skipping));
        assert!(receive.answer(&mut rng, 1).is_none());
    }

    #[test]
    fn no_exchange_past_the_last_tag_set_id() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (mut send, _) = pair();
        send.id = MAX_TAG_SET_ID;
        for _ in 0..8 {
            assert!(send.next(&mut rng).expect("fresh").next_key.is_none());
        }
    }
}
