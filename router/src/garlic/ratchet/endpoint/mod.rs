//! The session layer of one local destination: which message to send each remote, which
//! session an incoming message belongs to, and when state is given up.
//!
//! Per remote (a [`Peer`]) there is one outbound state and any number of inbound tag
//! sets. Who started a session does not matter to this layout: crossed New Sessions,
//! where both sides start at once, simply leave each side with both roles' tag sets.
//!
//! | outbound state | `seal` sends | left when |
//! |---|---|---|
//! | idle | New Session | we send it |
//! | awaiting reply | another New Session | a reply arrives, or 3 min pass |
//! | replying | New Session Reply | an ES confirms one reply, or 3 min pass (a newer NS restarts it) |
//! | established | Existing Session | idle 8 min, or 65536 messages sent on one tag set |
//!
//! Inbound tag sets are the reply tags of our pending New Sessions (3 min), Bob's
//! unconfirmed candidate sessions, one per reply sent (3 min), and Existing Session tag
//! sets (10 min after their last message, or 3 min after the first message on the tag set
//! that replaced them). Timeouts follow "Parameters": "NSR tagset timeout: 3 minutes for
//! receiver", "ES tagset timeout: 8 minutes for sender, 10 minutes for receiver" (the
//! sender gives up first, so it never sends on a tag set its peer has dropped), "Remove
//! previous ES tagset after: 3 minutes", "Replace session if NS received after: 3
//! minutes", "NS replay filter duration: 5 minutes".
//!
//! The ratchet layer's own blocks (spec: "Payload Section Decrypted data": Message
//! Numbers, Next Key, Ack, Ack Request) are the endpoint's business: `seal` puts the Next
//! Key and Ack blocks it owes in front of an Existing Session's payload (no block order
//! rule stands in the way: only Padding and Termination have places, at the end), and
//! `open` takes them out of one, so callers see the payloads they passed. The DH ratchet
//! itself is [`super::dh`].

mod own_blocks;

pub use own_blocks::RATCHET_BLOCKS_MAX;

use super::dh::{ReceiveRatchet, SendRatchet, SEND_NEXT_KEY_AT};
use super::handshake::{self, LocalKeys, PendingSession, ReplyState, EXISTING_MIN_LEN};
use super::kdf::{Split, TagChain, TagSetKeys, TAG_LEN};
use super::tagset::{
    InboundTags, KeyCache, SetId, TagIndex, TagRef, Window, EXISTING_WINDOW, REPLY_WINDOW,
};
use super::{MessageKind, MessageNumber, Opened, RatchetError, Sealed, MAX_PAYLOAD_LEN};
use crate::crypto::noise;
use crate::time::Instant;
use rand::{CryptoRng, RngCore};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;
use std::time::Duration;
use x25519_dalek::StaticSecret;

/// How long a New Session waits for replies, and a reply for the ES that confirms it.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3 * 60);
/// Bob stops replying to a New Session this long before Alice stops listening for
/// replies: her 3 minutes started when she sent it, his when it arrived, so a reply sent
/// at the very end of his would reach her after the end of hers.
const REPLY_MARGIN: Duration = Duration::from_secs(30);
/// An outbound session unused this long is dropped.
const SEND_IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 60);
/// An inbound Existing Session tag set without a message this long is dropped.
const RECEIVE_IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// A New Session from a peer we have an established session with replaces that session
/// only if it is at least this old; a younger one means the New Session was delayed.
const REPLACE_AFTER: Duration = Duration::from_secs(3 * 60);
/// How long New Session ephemeral keys are remembered to refuse replays.
const REPLAY_WINDOW: Duration = Duration::from_secs(5 * 60);
/// New Sessions to one peer whose replies we still wait for. The spec sets no number;
/// Bob answers the latest New Session he received, so the oldest is the one to forget.
const MAX_PENDING_SESSIONS: usize = 8;
/// An inbound tag set replaced by the DH ratchet is kept this long after the first message
/// on its successor, for messages still on their way ("Remove previous ES tagset after").
const PREVIOUS_SET_KEPT: Duration = Duration::from_secs(3 * 60);

/// What `seal` does next for one remote.
enum Outbound {
    Idle,
    /// We sent New Sessions; their pending states are `Reply` tag sets.
    AwaitingReply {
        until: Instant,
    },
    /// We answer the latest New Session received; each reply sent adds a candidate.
    Replying {
        reply: Box<ReplyState>,
        until: Instant,
    },
    Established {
        tags: Box<SendRatchet>,
        created: Instant,
        last_sent: Instant,
    },
}

impl Outbound {
    fn expired(&self, now: Instant) -> bool {
        match self {
            Outbound::Idle => false,
            Outbound::AwaitingReply { until } | Outbound::Replying { until, .. } => *until <= now,
            Outbound::Established { last_sent, .. } => *last_sent + SEND_IDLE_TIMEOUT <= now,
        }
    }
}

struct Peer {
    outbound: Outbound,
    /// This peer's inbound tag sets, oldest first (ids only grow).
    sets: Vec<SetId>,
    /// Messages of the peer's that asked for an ACK, for our next Existing Session.
    acks_owed: Vec<MessageNumber>,
    /// Since when we owe the peer a response: a New Session Reply to its New Session,
    /// an Existing Session to its reply, an ACK or a NextKey answer; cleared by our next
    /// message that gives it.
    owed_since: Option<Instant>,
}

impl Default for Peer {
    fn default() -> Self {
        Peer {
            outbound: Outbound::Idle,
            sets: Vec::new(),
            acks_owed: Vec::new(),
            owed_since: None,
        }
    }
}

/// What an inbound tag set's messages are.
enum InboundKind {
    /// Alice: replies to one New Session of ours.
    Reply(Box<PendingSession>),
    Existing(ExistingSet),
}

/// An inbound tag set of Existing Session messages, and its place in the DH ratchet of
/// its direction.
struct ExistingSet {
    keys: KeyCache,
    /// Bob's outbound half of a candidate session, created with one of his replies, until
    /// Alice's first message on this tag set shows that she took that reply.
    unconfirmed: Option<Box<Candidate>>,
    /// The tag set id of the specification ("KEY AND TAG SET IDS"), for ACKs and the DH
    /// ratchet: 0 from the handshake, one more per NextKey exchange.
    id: u16,
    /// The direction's DH ratchet, held by its newest tag set.
    ratchet: Option<Box<ReceiveRatchet>>,
    /// The tag set that replaced this one, where the ratchet went.
    successor: Option<SetId>,
    /// The tag set this one replaced, until this one's first message starts its end.
    previous: Option<SetId>,
}

/// Bob's outbound half of a candidate session, and when his reply created it.
struct Candidate {
    tags: SendRatchet,
    /// Alice's inbound tag set for this session started its idle timer when she read the
    /// reply, so Bob's sending timer starts here too, not when she confirms: otherwise
    /// Bob could send on a session whose tags Alice has already dropped.
    created: Instant,
}

struct InboundSet {
    remote: [u8; 32],
    tags: InboundTags,
    kind: InboundKind,
    expires: Instant,
}

impl InboundSet {
    fn is_candidate(&self) -> bool {
        matches!(&self.kind, InboundKind::Existing(set) if set.unconfirmed.is_some())
    }

    fn existing_mut(&mut self) -> Option<&mut ExistingSet> {
        match &mut self.kind {
            InboundKind::Existing(set) => Some(set),
            InboundKind::Reply(_) => None,
        }
    }

    /// The DH ratchet, if this is the newest tag set of its direction.
    fn ratchet(&self) -> Option<&ReceiveRatchet> {
        match &self.kind {
            InboundKind::Existing(set) => set.ratchet.as_deref(),
            InboundKind::Reply(_) => None,
        }
    }
}

/// Ephemeral keys of the New Sessions received in the last [`REPLAY_WINDOW`].
#[derive(Default)]
struct ReplayFilter {
    seen: HashSet<[u8; 32]>,
    by_time: VecDeque<(Instant, [u8; 32])>,
}

impl ReplayFilter {
    fn contains(&self, key: &[u8; 32]) -> bool {
        self.seen.contains(key)
    }

    fn insert(&mut self, now: Instant, key: [u8; 32]) {
        if self.seen.insert(key) {
            self.by_time.push_back((now, key));
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some((at, key)) = self.by_time.front() {
            if *at + REPLAY_WINDOW > now {
                break;
            }
            self.seen.remove(key);
            self.by_time.pop_front();
        }
    }
}

/// All ECIES-X25519-AEAD-Ratchet sessions of one local destination (or router): its
/// "Session Key Manager". Sessions must not be shared between destinations, which would
/// let a peer link them (spec: "Session Context"), hence one endpoint each.
///
/// Deterministic: randomness comes only from the caller's generator, time only from
/// `now`, and nothing iterates a randomly seeded map.
pub struct RatchetEndpoint {
    keys: LocalKeys,
    peers: BTreeMap<[u8; 32], Peer>,
    sets: BTreeMap<SetId, InboundSet>,
    tags: TagIndex,
    next_set: SetId,
    replay: ReplayFilter,
    /// Message number at which our outbound tag sets start a NextKey exchange.
    ratchet_at: u16,
}

impl fmt::Debug for RatchetEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RatchetEndpoint")
            .field("peers", &self.peers.len())
            .field("tag_sets", &self.sets.len())
            .field("tags", &self.tags.len())
            .finish_non_exhaustive()
    }
}

impl RatchetEndpoint {
    pub fn new(static_secret: StaticSecret) -> RatchetEndpoint {
        RatchetEndpoint {
            keys: LocalKeys::new(static_secret),
            peers: BTreeMap::new(),
            sets: BTreeMap::new(),
            tags: TagIndex::default(),
            next_set: 0,
            replay: ReplayFilter::default(),
            ratchet_at: SEND_NEXT_KEY_AT,
        }
    }

    /// The message number of a tag set from which our sessions start the DH ratchet
    /// ([`SEND_NEXT_KEY_AT`], 4096, unless set). Lower values cross tag sets sooner:
    /// tests and studies of the ratchet use them; at least 1.
    pub fn set_ratchet_at(&mut self, n: u16) {
        self.ratchet_at = n.max(1);
    }

    /// The id of the tag set our established session with `remote` sends on: 0 after
    /// the handshake, one more for each DH ratchet step; `None` without a session.
    pub fn sending_tag_set(&self, remote: &[u8; 32]) -> Option<u16> {
        match &self.peers.get(remote)?.outbound {
            Outbound::Established { tags, .. } => Some(tags.id()),
            _ => None,
        }
    }

    /// Our static public key, the one to publish in the LeaseSet.
    pub fn public_key(&self) -> [u8; 32] {
        *self.keys.public()
    }

    /// The kind of message [`RatchetEndpoint::seal`] would send to `remote` now. The
    /// payload's block rules depend on it (a New Session starts with a DateTime block, and
    /// only an Existing Session may carry ACK or NextKey blocks), so the caller asks before
    /// building the payload.
    pub fn next_kind(&self, remote: &[u8; 32]) -> MessageKind {
        match self.peers.get(remote).map(|peer| &peer.outbound) {
            Some(Outbound::Established { tags, .. }) if !tags.is_exhausted() => {
                MessageKind::Existing
            }
            Some(Outbound::Replying { .. }) => MessageKind::NewSessionReply,
            _ => MessageKind::NewSession,
        }
    }

    /// Encrypts `payload` for the destination whose static key is `remote`: a New Session
    /// while no reply has come, an Existing Session once a session is established, or a
    /// New Session Reply when answering a New Session from `remote` (see
    /// [`RatchetEndpoint::next_kind`]).
    ///
    /// An Existing Session also carries what the ratchet layer owes `remote` (ACKs, NextKey
    /// blocks), put in front of `payload`; [`Opened::payload`] on the other side is
    /// `payload` again.
    ///
    /// # Errors
    /// [`RatchetError::PayloadTooLarge`], for an Existing Session from
    /// [`MAX_PAYLOAD_LEN`] less [`RATCHET_BLOCKS_MAX`] on; [`RatchetError::InvalidRemoteKey`]
    /// if `remote` is a low-order point; [`RatchetError::ReplyWindowFull`] after as many
    /// replies as the peer can recognise without confirming one. No session changes on
    /// error.
    pub fn seal<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        now: Instant,
        remote: &[u8; 32],
        payload: &[u8],
    ) -> Result<Sealed, RatchetError> {
        check_payload(payload.len())?;
        if self.next_kind(remote) == MessageKind::Existing {
            check_payload(payload.len() + RATCHET_BLOCKS_MAX)?;
            return Ok(self.seal_existing(rng, now, remote, payload));
        }
        if let Some(peer) = self.peers.get_mut(remote) {
            match &mut peer.outbound {
                Outbound::Replying { reply, .. } => {
                    // Alice only knows the first tags of the reply tag set until she
                    // receives one; more replies could not be read.
                    if reply.sent() >= REPLY_WINDOW.initial() {
                        return Err(RatchetError::ReplyWindowFull);
                    }
                    let (message, split) = handshake::seal_reply(rng, remote, reply, payload)?;
                    peer.owed_since = None;
                    self.add_candidate(now, *remote, split);
                    return Ok(Sealed {
                        message,
                        kind: MessageKind::NewSessionReply,
                        number: None,
                    });
                }
                Outbound::Idle | Outbound::AwaitingReply { .. } | Outbound::Established { .. } => {}
            }
        }
        self.seal_new_session(rng, now, remote, payload)
    }

    /// Encrypts `payload` as a one-time message to `remote` (spec: "1d) One-time format"):
    /// no static key, so the receiver cannot tell who sent it or reply, and no state.
    pub fn seal_one_time<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
        remote: &[u8; 32],
        payload: &[u8],
    ) -> Result<Vec<u8>, RatchetError> {
        check_payload(payload.len())?;
        handshake::seal_one_time(rng, remote, payload)
    }

    /// Abandons our outbound session to `remote`: the next message starts a New Session.
    /// For when messages go unconfirmed, as after the peer restarted and forgot the
    /// session (its inbound side here is kept: the peer may still use it).
    pub fn reset_outbound(&mut self, remote: &[u8; 32]) {
        if let Some(peer) = self.peers.get_mut(remote) {
            peer.outbound = Outbound::Idle;
        }
    }

    /// Decrypts the encrypted data of a Garlic Message addressed to us (spec:
    /// "Classification", "X25519 Only"): the first 8 bytes are looked up as a session tag
    /// (New Session Reply or Existing Session), otherwise the message is tried as a New
    /// Session.
    ///
    /// # Errors
    /// [`RatchetError::TooShort`], [`RatchetError::Replayed`] for a New Session seen
    /// within 5 minutes, otherwise [`RatchetError::Undecryptable`]: an unknown tag (a
    /// replayed or too old message), a message for another destination, or altered bytes.
    /// No session changes on error: a forged message with a valid tag does not spend it.
    pub fn open(&mut self, now: Instant, message: &[u8]) -> Result<Opened, RatchetError> {
        let tag = handshake::tag_of(message)
            .filter(|_| message.len() >= EXISTING_MIN_LEN)
            .ok_or(RatchetError::TooShort)?;
        match self.tags.get(&tag) {
            Some(at) => self.open_tagged(now, at, message),
            None => self.open_new_session(now, message),
        }
    }

    /// Drops the state whose lifetime ended: handshakes unanswered for 3 minutes, outbound
    /// sessions unused for 8, inbound tag sets without a message for 10, and New Session
    /// keys remembered for replays after 5.
    pub fn expire(&mut self, now: Instant) {
        let expired: Vec<SetId> = self
            .sets
            .iter()
            .filter(|(_, set)| set.expires <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.drop_set(id);
        }
        for peer in self.peers.values_mut() {
            if peer.outbound.expired(now) {
                peer.outbound = Outbound::Idle;
            }
        }
        self.peers
            .retain(|_, peer| !(matches!(peer.outbound, Outbound::Idle) && peer.sets.is_empty()));
        self.replay.expire(now);
    }

    fn seal_new_session<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        now: Instant,
        remote: &[u8; 32],
        payload: &[u8],
    ) -> Result<Sealed, RatchetError> {
        let (message, pending) = handshake::seal_new_session(rng, &self.keys, remote, payload)?;
        let reply_tags = pending.reply_tags();
        self.peers.entry(*remote).or_default().outbound = Outbound::AwaitingReply {
            until: now + HANDSHAKE_TIMEOUT,
        };
        self.add_set(
            *remote,
            reply_tags,
            REPLY_WINDOW,
            InboundKind::Reply(Box::new(pending)),
            now + HANDSHAKE_TIMEOUT,
        );
        self.forget_old_pending(remote);
        Ok(Sealed {
            message,
            kind: MessageKind::NewSession,
            number: None,
        })
    }

    /// Keeps the newest [`MAX_PENDING_SESSIONS`] pending New Sessions to `remote`.
    fn forget_old_pending(&mut self, remote: &[u8; 32]) {
        let Some(peer) = self.peers.get(remote) else {
            return;
        };
        let pending: Vec<SetId> = peer
            .sets
            .iter()
            .copied()
            .filter(|id| {
                self.sets
                    .get(id)
                    .is_some_and(|set| matches!(set.kind, InboundKind::Reply(_)))
            })
            .collect();
        let excess = pending.len().saturating_sub(MAX_PENDING_SESSIONS);
        for id in pending.into_iter().take(excess) {
            self.drop_set(id);
        }
    }

    /// Bob, after sending a reply: the candidate session it would start, Alice's tag set
    /// to receive on and ours to send on once she confirms it.
    ///
    /// A candidate lives as long as an idle Existing Session tag set (10 min), not only
    /// as long as the handshake (3 min): Alice starts sending on the first reply she gets
    /// and may have nothing to say for minutes; dropping the candidate earlier would make
    /// her first Existing Session message undecryptable (found by the simulator's
    /// request/reply workload, pinned by `random_two_way_conversations_never_lose_a_message`).
    fn add_candidate(&mut self, now: Instant, remote: [u8; 32], split: Split) {
        let candidate = Candidate {
            tags: SendRatchet::new(split.bob_to_alice, self.ratchet_at),
            created: now,
        };
        self.add_first_existing(
            remote,
            split.alice_to_bob,
            Some(Box::new(candidate)),
            now + RECEIVE_IDLE_TIMEOUT,
        );
    }

    /// Tag set 0 of a session's inbound direction.
    fn add_first_existing(
        &mut self,
        remote: [u8; 32],
        keys: TagSetKeys,
        unconfirmed: Option<Box<Candidate>>,
        expires: Instant,
    ) {
        let ratchet = Box::new(ReceiveRatchet::new(keys.next_root));
        let set = ExistingSet {
            keys: KeyCache::new(keys.keys),
            unconfirmed,
            id: 0,
            ratchet: Some(ratchet),
            successor: None,
            previous: None,
        };
        self.add_set(
            remote,
            keys.tags,
            EXISTING_WINDOW,
            InboundKind::Existing(set),
            expires,
        );
    }

    fn add_set(
        &mut self,
        remote: [u8; 32],
        chain: TagChain,
        window: Window,
        kind: InboundKind,
        expires: Instant,
    ) -> SetId {
        // Ids only need to be unique among live sets; after wrapping, skip live ones.
        while self.sets.contains_key(&self.next_set) {
            self.next_set = self.next_set.wrapping_add(1);
        }
        let id = self.next_set;
        self.next_set = self.next_set.wrapping_add(1);
        let tags = InboundTags::new(chain, window, id, &mut self.tags);
        self.sets.insert(
            id,
            InboundSet {
                remote,
                tags,
                kind,
                expires,
            },
        );
        self.peers.entry(remote).or_default().sets.push(id);
        id
    }

    fn drop_set(&mut self, id: SetId) {
        let Some(set) = self.sets.remove(&id) else {
            return;
        };
        set.tags.forget(id, &mut self.tags);
        if let Some(peer) = self.peers.get_mut(&set.remote) {
            peer.sets.retain(|s| *s != id);
        }
    }

    fn open_tagged(
        &mut self,
        now: Instant,
        at: TagRef,
        message: &[u8],
    ) -> Result<Opened, RatchetError> {
        let set = self
            .sets
            .get_mut(&at.set)
            .ok_or(RatchetError::Undecryptable)?;
        let remote = set.remote;
        match &mut set.kind {
            InboundKind::Reply(pending) => {
                let (payload, split) = handshake::open_reply(&self.keys, pending, message)?;
                set.tags.received(at.index, at.set, &mut self.tags);
                self.establish(now, remote, split);
                Ok(Opened {
                    remote: Some(remote),
                    payload,
                    kind: MessageKind::NewSessionReply,
                    number: None,
                    acked: Vec::new(),
                })
            }
            InboundKind::Existing(existing) => {
                let key = existing
                    .keys
                    .key(at.index)
                    .ok_or(RatchetError::Undecryptable)?;
                let (tag, sealed) = message.split_at(TAG_LEN);
                // "ad = The session tag", "n = The message number N".
                let plaintext = noise::open_sealed(&key, u64::from(at.index), tag, sealed)
                    .ok_or(RatchetError::Undecryptable)?;
                set.tags.received(at.index, at.set, &mut self.tags);
                existing.keys.received(at.index, set.tags.first());
                set.expires = now + RECEIVE_IDLE_TIMEOUT;
                // The peer uses this tag set: it got our NextKey answer, if we sent one.
                if let Some(ratchet) = existing.ratchet.as_mut() {
                    ratchet.switched();
                }
                let previous = existing.previous.take();
                let candidate = existing.unconfirmed.take();
                let number = MessageNumber {
                    tag_set: existing.id,
                    n: at.index,
                };
                if let Some(old) = previous.and_then(|id| self.sets.get_mut(&id)) {
                    old.expires = old.expires.min(now + PREVIOUS_SET_KEPT);
                }
                if let Some(candidate) = candidate {
                    self.confirm(remote, at.set, *candidate);
                }
                let (payload, acked) = self.take_own_blocks(now, remote, at.set, number, plaintext);
                Ok(Opened {
                    remote: Some(remote),
                    payload,
                    kind: MessageKind::Existing,
                    number: Some(number),
                    acked,
                })
            }
        }
    }

    /// Alice, on a reply: the first reply received starts the session ("uses the first
    /// received NSR"); later ones, to this or another of our New Sessions, only deliver
    /// their payload. Bob keeps a candidate for every reply he sent until our first
    /// Existing Session message shows him which one we took.
    fn establish(&mut self, now: Instant, remote: [u8; 32], split: Split) {
        let peer = self.peers.entry(remote).or_default();
        if matches!(peer.outbound, Outbound::Established { .. }) {
            return;
        }
        peer.outbound = Outbound::Established {
            tags: Box::new(SendRatchet::new(split.alice_to_bob, self.ratchet_at)),
            created: now,
            last_sent: now,
        };
        // Our first Existing Session tells Bob which of his replies we took.
        peer.owed_since.get_or_insert(now);
        self.add_first_existing(remote, split.bob_to_alice, None, now + RECEIVE_IDLE_TIMEOUT);
    }

    /// Bob, on Alice's first Existing Session message on candidate `set`: that session is
    /// established, and the candidates of his other replies are destroyed ("Any other
    /// created inbound and outbound sessions (for multiple NSRs) should be destroyed
    /// immediately after receiving Alice's first ES message").
    fn confirm(&mut self, remote: [u8; 32], set: SetId, candidate: Candidate) {
        let Some(peer) = self.peers.get_mut(&remote) else {
            return;
        };
        peer.outbound = Outbound::Established {
            tags: Box::new(candidate.tags),
            created: candidate.created,
            last_sent: candidate.created,
        };
        let others: Vec<SetId> = peer
            .sets
            .iter()
            .copied()
            .filter(|id| *id != set && self.sets.get(id).is_some_and(InboundSet::is_candidate))
            .collect();
        for id in others {
            self.drop_set(id);
        }
    }

    fn open_new_session(&mut self, now: Instant, message: &[u8]) -> Result<Opened, RatchetError> {
        let ephemeral =
            handshake::new_session_ephemeral(message).ok_or(RatchetError::Undecryptable)?;
        if self.replay.contains(ephemeral.as_bytes()) {
            return Err(RatchetError::Replayed);
        }
        let opened = handshake::open_new_session(&self.keys, ephemeral, message)?;
        self.replay.insert(now, ephemeral.to_bytes());
        let Some((alice, reply)) = opened.binding else {
            return Ok(Opened {
                remote: None,
                payload: opened.payload,
                kind: MessageKind::OneTime,
                number: None,
                acked: Vec::new(),
            });
        };
        let peer = self.peers.entry(alice).or_default();
        let recent = matches!(
            peer.outbound,
            Outbound::Established { created, .. }
                if now.saturating_duration_since(created) < REPLACE_AFTER
        );
        if !recent {
            peer.outbound = Outbound::Replying {
                reply: Box::new(reply),
                until: now + HANDSHAKE_TIMEOUT - REPLY_MARGIN,
            };
            peer.owed_since.get_or_insert(now);
        }
        Ok(Opened {
            remote: Some(alice),
            payload: opened.payload,
            kind: MessageKind::NewSession,
            number: None,
            acked: Vec::new(),
        })
    }

    /// Tags registered for incoming messages, across all sessions.
    #[cfg(test)]
    pub(super) fn waiting_tags(&self) -> usize {
        self.tags.len()
    }

    /// Number of inbound tag sets and of remotes with state.
    #[cfg(test)]
    pub(super) fn counts(&self) -> (usize, usize) {
        (self.sets.len(), self.peers.len())
    }
}

fn check_payload(len: usize) -> Result<(), RatchetError> {
    if len > MAX_PAYLOAD_LEN {
        return Err(RatchetError::PayloadTooLarge(len));
    }
    Ok(())
}
