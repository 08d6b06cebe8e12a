//! The ratchet layer's own blocks (spec: ecies, "Payload Section Decrypted data"): the
//! Next Key blocks of the DH ratchet and the Ack blocks that answer Ack Requests, put in
//! front of outgoing Existing Session payloads and taken out of incoming ones, and the
//! responses owed when no message would carry them (spec: "Ratchet-layer Responses").

use super::{
    ExistingSet, InboundKind, InboundSet, Outbound, RatchetEndpoint, RECEIVE_IDLE_TIMEOUT,
};
use crate::crypto::noise;
use crate::garlic::payload::{block_type, emit_payload, take_blocks, Ack, Block, NextKey};
use crate::garlic::ratchet::dh::ReceiveRatchet;
use crate::garlic::ratchet::handshake::EXISTING_MIN_LEN;
use crate::garlic::ratchet::tagset::{KeyCache, SetId, RATCHET_WINDOW};
use crate::garlic::ratchet::{MessageKind, MessageNumber, Sealed};
use crate::time::Instant;
use rand::{CryptoRng, RngCore};
use std::time::Duration;

/// How long an owed ACK or NextKey answer may wait for outbound traffic before the caller
/// should send an empty message to carry it (spec: "Ratchet-layer Responses": "e.g. 1
/// second").
pub(super) const RESPONSE_DELAY: Duration = Duration::from_secs(1);
/// ACKs owed to one peer, at most; older requests are forgotten first.
const MAX_OWED_ACKS: usize = 16;
/// The block types the endpoint takes out of received payloads.
const OWN_BLOCKS: [u8; 4] = [
    block_type::MESSAGE_NUMBERS,
    block_type::NEXT_KEY,
    block_type::ACK,
    block_type::ACK_REQUEST,
];
/// The most `seal` puts in front of an Existing Session payload: two Next Key blocks (3 +
/// 35 bytes each) and an Ack block of the 16 ACKs owed at most (3 + 4 each).
pub const RATCHET_BLOCKS_MAX: usize = 2 * (3 + 35) + 3 + 4 * MAX_OWED_ACKS;

impl RatchetEndpoint {
    /// An Existing Session message to `remote`, whose outbound tag set is not exhausted,
    /// with the NextKey blocks and ACKs the session owes in front of `payload`.
    pub(super) fn seal_existing<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        now: Instant,
        remote: &[u8; 32],
        payload: &[u8],
    ) -> Sealed {
        let reverse = self.answer_next_key(rng, now, remote);
        let peer = self.peers.entry(*remote).or_default();
        let Outbound::Established {
            tags, last_sent, ..
        } = &mut peer.outbound
        else {
            unreachable!("next_kind said Existing");
        };
        let next = tags.next(rng).expect("next_kind said not exhausted");
        *last_sent = now;
        let mut blocks: Vec<Block> = [next.next_key, reverse]
            .into_iter()
            .flatten()
            .map(Block::NextKey)
            .collect();
        if !peer.acks_owed.is_empty() {
            let acks = peer.acks_owed.drain(..).map(|m| Ack {
                tag_set_id: m.tag_set,
                n: m.n,
            });
            blocks.push(Block::Ack(acks.collect()));
        }
        peer.owed_since = None;
        let mut plaintext =
            emit_payload(&blocks).expect("ids below 32768, at least one ACK: blocks are valid");
        plaintext.extend_from_slice(payload);

        let mut message = Vec::with_capacity(EXISTING_MIN_LEN + plaintext.len());
        message.extend_from_slice(&next.tag);
        let nonce = u64::from(next.n);
        noise::seal_append(&next.key, nonce, &next.tag, &plaintext, &mut message);
        Sealed {
            message,
            kind: MessageKind::Existing,
            number: Some(MessageNumber {
                tag_set: next.tag_set,
                n: next.n,
            }),
        }
    }

    /// Answers the newest forward NextKey block `remote` sent on one of its directions
    /// (the DH ratchet's new inbound tag set is created here, where there is randomness
    /// for our new key), and returns the reverse block to send, if one is owed.
    fn answer_next_key<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        now: Instant,
        remote: &[u8; 32],
    ) -> Option<NextKey> {
        let peer = self.peers.get(remote)?;
        let head = peer.sets.iter().rev().copied().find(|id| {
            self.sets
                .get(id)
                .and_then(InboundSet::ratchet)
                .is_some_and(ReceiveRatchet::owes_reply)
        })?;
        let set = self.sets.get_mut(&head)?.existing_mut()?;
        let ratchet = set.ratchet.as_mut()?;
        let Some((id, keys)) = ratchet.answer(rng, set.id) else {
            return ratchet.reply();
        };
        let reply = ratchet.reply();
        let successor = ExistingSet {
            keys: KeyCache::new(keys.keys),
            unconfirmed: None,
            id,
            ratchet: set.ratchet.take(),
            successor: None,
            previous: Some(head),
        };
        let kind = InboundKind::Existing(successor);
        let expires = now + RECEIVE_IDLE_TIMEOUT;
        let next = self.add_set(*remote, keys.tags, RATCHET_WINDOW, kind, expires);
        if let Some(set) = self.sets.get_mut(&head).and_then(InboundSet::existing_mut) {
            set.successor = Some(next);
        }
        reply
    }

    /// The remotes owed a response for a second (`RESPONSE_DELAY`) with no message to
    /// carry it (spec: "Ratchet-layer Responses"): a New Session Reply to a New Session,
    /// an Existing Session to a reply, an ACK or a NextKey answer. The caller should
    /// seal an empty payload to each (`seal(rng, now, remote, &[])`: a reply, or an
    /// Existing Session carrying only the owed blocks) and send it, as the spec asks for
    /// traffic that has no reverse direction of its own.
    pub fn owed_responses(&self, now: Instant) -> Vec<[u8; 32]> {
        self.peers
            .iter()
            .filter(|(remote, _)| {
                self.owed_since(remote)
                    .is_some_and(|at| at + RESPONSE_DELAY <= now)
            })
            .map(|(remote, _)| *remote)
            .collect()
    }

    /// When [`RatchetEndpoint::owed_responses`] next has something, for the caller's timer.
    pub fn next_response_at(&self) -> Option<Instant> {
        self.peers
            .keys()
            .filter_map(|remote| self.owed_since(remote))
            .min()
            .map(|at| at + RESPONSE_DELAY)
    }

    /// Since when `remote` is owed a response that our next message to it would give.
    fn owed_since(&self, remote: &[u8; 32]) -> Option<Instant> {
        let since = self.peers.get(remote)?.owed_since?;
        let answers = matches!(
            self.next_kind(remote),
            MessageKind::Existing | MessageKind::NewSessionReply
        );
        answers.then_some(since)
    }

    /// Gives up the response owed to `remote`, for a caller that could not seal it: it
    /// would otherwise stay due, and its timer with it. The peer asks again.
    pub fn forgo_response(&mut self, remote: &[u8; 32]) {
        if let Some(peer) = self.peers.get_mut(remote) {
            peer.owed_since = None;
            peer.acks_owed.clear();
        }
    }

    /// Acts on the ratchet layer's blocks of Existing Session message `number` from
    /// `remote`, received on tag set `set`, and returns the payload without them and the
    /// messages it acknowledges. A payload whose framing is broken is handed on as it is:
    /// the caller's parser will refuse it.
    pub(super) fn take_own_blocks(
        &mut self,
        now: Instant,
        remote: [u8; 32],
        set: SetId,
        number: MessageNumber,
        plaintext: Vec<u8>,
    ) -> (Vec<u8>, Vec<MessageNumber>) {
        let Ok((blocks, payload)) = take_blocks(&plaintext, &OWN_BLOCKS) else {
            return (plaintext, Vec::new());
        };
        let mut acked = Vec::new();
        for block in blocks {
            match block {
                Block::AckRequest => {
                    let peer = self.peers.entry(remote).or_default();
                    if peer.acks_owed.len() == MAX_OWED_ACKS {
                        peer.acks_owed.remove(0);
                    }
                    peer.acks_owed.push(number);
                    peer.owed_since.get_or_insert(now);
                }
                Block::Ack(acks) => acked.extend(acks.iter().map(|a| MessageNumber {
                    tag_set: a.tag_set_id,
                    n: a.n,
                })),
                Block::NextKey(next) if next.reverse => {
                    if let Some(Outbound::Established { tags, .. }) =
                        self.peers.get_mut(&remote).map(|p| &mut p.outbound)
                    {
                        tags.on_reverse(&next);
                    }
                }
                Block::NextKey(next) => {
                    let head = self.chain_head(set);
                    let ratchet = head
                        .and_then(|id| self.sets.get_mut(&id))
                        .and_then(InboundSet::existing_mut)
                        .and_then(|s| s.ratchet.as_mut());
                    if ratchet.is_some_and(|r| r.on_forward(&next)) {
                        self.peers
                            .entry(remote)
                            .or_default()
                            .owed_since
                            .get_or_insert(now);
                    }
                }
                // Message Numbers are optional ("Implementation is optional"): the tag
                // window trims the old tag set without them.
                _ => {}
            }
        }
        (payload, acked)
    }

    /// The newest tag set of `set`'s direction, which holds its DH ratchet.
    fn chain_head(&self, mut set: SetId) -> Option<SetId> {
        // Each step goes to a younger set, so the walk ends within the live sets.
        for _ in 0..=self.sets.len() {
            let InboundKind::Existing(existing) = &self.sets.get(&set)?.kind else {
                return None;
            };
            if existing.ratchet.is_some() {
                return Some(set);
            }
            set = existing.successor?;
        }
        None
    }
}
