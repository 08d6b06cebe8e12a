//! Tag sets: the sender's side (one tag and key per message, nothing stored) and the
//! receiver's side (a lookahead window of tags, keys derived on demand) (spec: ecies,
//! "4) Ratchets", "Sample Implementation", "4b) Session Tag Ratchet", "4c) Symmetric Key
//! Ratchet", and "Implementation Considerations" / "Parameters").

use super::kdf::{KeyChain, Tag, TagChain};
use std::collections::{HashMap, VecDeque};

/// Highest message number of a tag set: "A Tag Set can be up to 65536 tags" and "Maximum
/// value is 65535" for the nonce. A sender must start a new tag set (or session) after it.
const MAX_INDEX: u32 = u16::MAX as u32;

/// Identifies an inbound tag set within one endpoint.
pub(super) type SetId = u32;

/// Where a received tag leads: the inbound tag set that generated it and its message number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TagRef {
    pub(super) set: SetId,
    pub(super) index: u16,
}

/// Every tag an endpoint is waiting for, across all its sessions, for the one lookup each
/// incoming message needs. Only looked up, never iterated, so a `HashMap` cannot make
/// outputs depend on its random seed.
#[derive(Debug, Default)]
pub(super) struct TagIndex {
    map: HashMap<Tag, TagRef>,
}

impl TagIndex {
    pub(super) fn get(&self, tag: &Tag) -> Option<TagRef> {
        self.map.get(tag).copied()
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// Two tag sets producing the same 64-bit tag is a 2^-64 event per pair; the tag that
    /// came first keeps it, and the other message number is lost as if the message were.
    fn insert(&mut self, tag: Tag, at: TagRef) {
        self.map.entry(tag).or_insert(at);
    }

    /// Removes `tag` if it is still `at`'s (not the earlier owner's after a collision).
    fn remove(&mut self, tag: &Tag, at: TagRef) {
        if self.map.get(tag) == Some(&at) {
            self.map.remove(tag);
        }
    }
}

/// How far a receiver generates tags ahead of what it has received (spec: "Parameters":
/// "Tagset look ahead of tag N: min(tsmax, tsmin + N/4)", "Tagset trim behind tag N:
/// min(tsmax, tsmin + N/4) / 2"). The window grows with the session, since a busy session
/// has more messages in flight to lose or reorder.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    min: u16,
    max: u16,
}

impl Window {
    fn lookahead(self, n: u16) -> u32 {
        (u32::from(self.min) + u32::from(n) / 4).min(u32::from(self.max))
    }

    fn trim_behind(self, n: u16) -> u32 {
        self.lookahead(n) / 2
    }

    /// The tags a fresh tag set starts with (`tsmin`): all a sender may use before the
    /// receiver has seen any, e.g. Bob's replies before Alice answers one.
    pub(super) fn initial(self) -> u32 {
        self.lookahead(0)
    }
}

/// "NSR tagset size: 12 tsmin and tsmax".
pub(super) const REPLY_WINDOW: Window = Window { min: 12, max: 12 };
/// "ES tagset 0 size: tsmin 24, tsmax 160".
pub(super) const EXISTING_WINDOW: Window = Window { min: 24, max: 160 };
/// "ES tagset (1+) size: 160 tsmin and tsmax": the tag sets of the DH ratchet, which
/// replace busy ones.
pub(super) const RATCHET_WINDOW: Window = Window { min: 160, max: 160 };

/// The sending side of a tag set: tag `n`, key `n`, nonce `n` for the `n`th message,
/// nothing stored but the two chains.
#[derive(Clone)]
pub(super) struct OutboundTagSet {
    tags: TagChain,
    keys: KeyChain,
    next: u32,
}

impl OutboundTagSet {
    pub(super) fn new(tags: TagChain, keys: KeyChain) -> OutboundTagSet {
        OutboundTagSet {
            tags,
            keys,
            next: 0,
        }
    }

    /// Message number of the next message (65536 once exhausted).
    pub(super) fn next_index(&self) -> u32 {
        self.next
    }

    /// True once all 65536 message numbers are used.
    pub(super) fn is_exhausted(&self) -> bool {
        self.next > MAX_INDEX
    }

    /// Message number, tag and key of the next message, or `None` when exhausted.
    pub(super) fn next(&mut self) -> Option<(u16, Tag, [u8; 32])> {
        let index = u16::try_from(self.next).ok()?;
        self.next += 1;
        Some((index, self.tags.next(), self.keys.next()))
    }
}

/// The receiving side's tags: a window of the tags of message numbers `first..end`, each
/// registered in the endpoint's [`TagIndex`] until its message arrives or the window
/// leaves it behind.
pub(super) struct InboundTags {
    chain: TagChain,
    /// Message number of `slots[0]`.
    first: u32,
    /// The tags still expected from `first` on; `None` once that message was received.
    slots: VecDeque<Option<Tag>>,
    window: Window,
}

impl InboundTags {
    /// A fresh tag set `set` with its initial `tsmin` tags registered.
    pub(super) fn new(chain: TagChain, window: Window, set: SetId, index: &mut TagIndex) -> Self {
        let mut tags = InboundTags {
            chain,
            first: 0,
            slots: VecDeque::new(),
            window,
        };
        tags.extend_to(window.initial(), set, index);
        tags
    }

    /// Message number of the oldest tag still expected.
    pub(super) fn first(&self) -> u32 {
        self.first
    }

    /// Number of tags waiting.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    fn end(&self) -> u32 {
        self.first + self.slots.len() as u32
    }

    fn extend_to(&mut self, end: u32, set: SetId, index: &mut TagIndex) {
        let end = end.min(MAX_INDEX + 1);
        while self.end() < end {
            // `end() <= MAX_INDEX` here, so the message number fits.
            let at = TagRef {
                set,
                index: self.end() as u16,
            };
            let tag = self.chain.next();
            index.insert(tag, at);
            self.slots.push_back(Some(tag));
        }
    }

    /// Message `n` of tag set `set` decrypted: its tag is spent (a replay finds nothing),
    /// tags too far behind are given up, and the window extends ahead of `n`.
    pub(super) fn received(&mut self, n: u16, set: SetId, index: &mut TagIndex) {
        let offset = u32::from(n).checked_sub(self.first);
        if let Some(slot) = offset.and_then(|o| self.slots.get_mut(o as usize)) {
            if let Some(tag) = slot.take() {
                index.remove(&tag, TagRef { set, index: n });
            }
        }
        let keep_from = u32::from(n).saturating_sub(self.window.trim_behind(n));
        while let Some(front) = self.slots.front() {
            if front.is_some() && self.first >= keep_from {
                break;
            }
            if let Some(tag) = front {
                index.remove(
                    tag,
                    TagRef {
                        set,
                        index: self.first as u16,
                    },
                );
            }
            self.slots.pop_front();
            self.first += 1;
        }
        self.extend_to(u32::from(n) + 1 + self.window.lookahead(n), set, index);
    }

    /// Unregisters every waiting tag, when the tag set is dropped.
    pub(super) fn forget(&self, set: SetId, index: &mut TagIndex) {
        for (offset, slot) in self.slots.iter().enumerate() {
            if let Some(tag) = slot {
                let at = TagRef {
                    set,
                    index: (self.first + offset as u32) as u16,
                };
                index.remove(tag, at);
            }
        }
    }
}

/// The receiving side's keys. The key ratchet lags behind the tag window: it runs forward
/// only when a message arrives, and keeps the keys it passed for messages still missing
/// ("the receiver will probably cache the keys for any previous tags that have not yet
/// been received"), so in-order traffic stores no key at all.
pub(super) struct KeyCache {
    chain: KeyChain,
    /// Message number of the key `chain` produces next.
    next: u32,
    /// Keys of skipped messages, oldest first; bounded by the tag window.
    skipped: Vec<(u16, [u8; 32])>,
}

impl KeyCache {
    pub(super) fn new(chain: KeyChain) -> KeyCache {
        KeyCache {
            chain,
            next: 0,
            skipped: Vec::new(),
        }
    }

    /// The key of message `n`, which stays cached until [`KeyCache::received`] so that a
    /// forged message with a valid tag cannot destroy the real one's key.
    pub(super) fn key(&mut self, n: u16) -> Option<[u8; 32]> {
        while self.next <= u32::from(n) {
            // `next <= n`, so it fits in a u16.
            self.skipped.push((self.next as u16, self.chain.next()));
            self.next += 1;
        }
        self.skipped
            .iter()
            .find(|(index, _)| *index == n)
            .map(|(_, key)| *key)
    }

    /// Message `n` decrypted: drops its key and those of messages the tag window has given
    /// up on (below `first`).
    pub(super) fn received(&mut self, n: u16, first: u32) {
        self.skipped
            .retain(|(index, _)| *index != n && u32::from(*index) >= first);
    }

    /// Number of keys held for skipped messages.
    #[cfg(test)]
    fn cached(&self) -> usize {
        self.skipped.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::kdf::dh_initialize;
    use super::*;

    fn chains() -> (TagChain, KeyChain) {
        let keys = dh_initialize(&[5; 32], &[6; 32]);
        (keys.tags, keys.keys)
    }

    fn outbound() -> OutboundTagSet {
        let (tags, keys) = chains();
        OutboundTagSet::new(tags, keys)
    }

    #[test]
    fn windows_follow_the_recommended_parameters() {
        assert_eq!(EXISTING_WINDOW.lookahead(0), 24);
        assert_eq!(EXISTING_WINDOW.lookahead(100), 49);
        assert_eq!(EXISTING_WINDOW.lookahead(10_000), 160);
        assert_eq!(EXISTING_WINDOW.trim_behind(100), 24);
        assert_eq!(REPLY_WINDOW.lookahead(400), 12);
    }

    #[test]
    fn inbound_tags_match_outbound_and_slide() {
        let mut outbound = outbound();
        let mut index = TagIndex::default();
        let mut inbound = InboundTags::new(chains().0, EXISTING_WINDOW, 7, &mut index);
        assert_eq!(index.len(), 24);
        let sent: Vec<_> = (0..200).map(|_| outbound.next().expect("fresh")).collect();
        // Beyond the initial window nothing is known yet.
        assert_eq!(index.get(&sent[24].1), None);
        for (n, tag, _) in &sent {
            let at = index.get(tag).expect("within the window");
            assert_eq!(at, TagRef { set: 7, index: *n });
            inbound.received(*n, 7, &mut index);
            assert_eq!(index.get(tag), None, "a tag is spent once received");
        }
        // In-order delivery keeps exactly the lookahead ahead of the last message.
        assert_eq!(inbound.waiting(), EXISTING_WINDOW.lookahead(199) as usize);
        assert_eq!(index.len(), inbound.waiting());
        inbound.forget(7, &mut index);
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn skipped_tags_wait_until_trimmed() {
        let mut outbound = outbound();
        let mut index = TagIndex::default();
        let mut inbound = InboundTags::new(chains().0, EXISTING_WINDOW, 1, &mut index);
        let sent: Vec<_> = (0..20).map(|_| outbound.next().expect("fresh")).collect();
        inbound.received(0, 1, &mut index);
        // Message 1 is lost; 2..=14 arrive: 14 - trim_behind(14) = 14 - 13 = 1.
        for n in 2..=14 {
            inbound.received(n, 1, &mut index);
        }
        assert_eq!(inbound.first(), 1);
        assert!(index.get(&sent[1].1).is_some(), "still within the window");
        // One more, and message 1 is given up; the received ones behind go with it.
        inbound.received(15, 1, &mut index);
        assert!(index.get(&sent[1].1).is_none());
        assert_eq!(inbound.first(), 16);
    }

    #[test]
    fn key_cache_keeps_only_skipped_keys() {
        let mut outbound = outbound();
        let sent: Vec<_> = (0..10).map(|_| outbound.next().expect("fresh")).collect();
        let mut keys = KeyCache::new(chains().1);
        assert_eq!(keys.key(0), Some(sent[0].2));
        keys.received(0, 1);
        assert_eq!(keys.cached(), 0);
        assert_eq!(keys.key(4), Some(sent[4].2));
        assert_eq!(keys.key(4), Some(sent[4].2), "kept until received");
        keys.received(4, 1);
        assert_eq!(keys.cached(), 3, "keys 1 to 3 wait for late messages");
        assert_eq!(keys.key(2), Some(sent[2].2));
        keys.received(2, 3);
        assert_eq!(keys.cached(), 1, "key 1 was given up with its tag");
        assert_eq!(keys.key(1), None);
    }

    #[test]
    fn outbound_tag_set_ends_after_65536_messages() {
        let mut outbound = outbound();
        outbound.next = MAX_INDEX;
        assert!(!outbound.is_exhausted());
        assert_eq!(outbound.next().map(|(n, _, _)| n), Some(u16::MAX));
        assert!(outbound.is_exhausted());
        assert!(outbound.next().is_none());
    }

    #[test]
    fn inbound_window_stops_at_the_last_message_number() {
        let mut index = TagIndex::default();
        let mut inbound = InboundTags::new(chains().0, REPLY_WINDOW, 2, &mut index);
        inbound.first = MAX_INDEX - 3;
        inbound.slots = VecDeque::from(vec![None; 2]);
        inbound.extend_to(MAX_INDEX + 100, 2, &mut index);
        assert_eq!(inbound.end(), MAX_INDEX + 1);
        inbound.received(u16::MAX, 2, &mut index);
        assert_eq!(inbound.end(), MAX_INDEX + 1);
    }
}
