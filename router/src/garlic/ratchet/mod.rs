//! ECIES-X25519-AEAD-Ratchet: end-to-end sessions between destinations (spec: ecies,
//! proposal 144).
//!
//! One [`RatchetEndpoint`] per local destination holds its static X25519 key and every
//! session with a remote destination, keyed by the remote's static key.
//! [`RatchetEndpoint::seal`] turns a plaintext payload section into the encrypted data of
//! a Garlic Message, [`RatchetEndpoint::open`] turns it back. The payload's blocks
//! (DateTime, Garlic Clove, Padding...) are built and parsed by the caller, except the
//! ratchet layer's own (Next Key, Ack, Ack Request, Message Numbers): `seal` puts those it
//! owes the peer in front of an Existing Session's payload, and `open` takes them out, so
//! the caller gets back the payload its peer passed ([`Opened::acked`] says what the peer
//! acknowledged).
//!
//! # The protocol
//!
//! - **New Session** (NS, "1b"): Alice, who knows Bob's static key from his LeaseSet,
//!   sends a fresh ephemeral key and her own static key, then the payload (Noise IK's
//!   "e es s ss"). She keeps sending New Sessions, each with a new ephemeral key, until a
//!   reply comes.
//! - **New Session Reply** (NSR, "1g"): Bob answers with a session tag from the reply tag
//!   set of that New Session, a fresh ephemeral key and the payload ("e ee se"). Each reply
//!   ends the handshake differently (a new ephemeral key each time), so each one yields its
//!   own pair of tag sets (Noise `Split()`).
//! - **Existing Session** (ES, "1h"): a session tag, then the payload sealed with the key of
//!   that tag's message number, which is also the nonce. Alice starts sending them once
//!   any reply arrived, with the tag sets of the first reply she received. Bob starts once
//!   an ES from Alice tells him which of his replies that was; he drops the others.
//! - **One-time** ("1d"): a New Session with no static key: anonymous, no reply, no state.
//!
//! The ephemeral keys of New Sessions, replies and one-time messages travel
//! Elligator2-encoded ("2a", [`crate::crypto::elligator2`]): each is drawn until it has a
//! representative, and the handshake hash mixes the key itself, not its encoding.
//!
//! Tag sets come from `DH_INITIALIZE` and ratchet once per message: a session tag ratchet
//! and a symmetric key ratchet ("4b", "4c"). The receiver keeps a window of tags ahead of
//! the last message it received (lookahead `min(tsmax, tsmin + N/4)`: 12 for replies,
//! 24 growing to 160 for tag set 0 of an Existing Session, 160 for later ones) and
//! derives keys only when a message arrives, caching those it skipped. A tag is spent once
//! its message decrypts, so a replayed message fails; a New Session is recognised by its
//! (decoded) ephemeral key for 5 minutes.
//!
//! The **DH ratchet** ("4a", `dh`) replaces each direction's tag set before it runs out:
//! from message 4096 on, the sender of a tag set sends NextKey blocks until the receiver
//! answers, then both derive the next tag set (ids 1 to 65535, keys alternating as the
//! spec's table says). The receiver keeps the old tag set 3 minutes after the first
//! message on the new one. **ACK Requests** are answered with an Ack block in the next
//! Existing Session message to the peer; when none has gone for a second,
//! [`RatchetEndpoint::owed_responses`] names the peers the caller should send an empty
//! message to ("Ratchet-layer Responses").
//!
//! # Memory
//!
//! An established session costs each side about 1.6 KB: the peer entry (about 130 bytes)
//! with its outbound DH ratchet (280 bytes: tag set, root key, the current NextKey keys
//! and the block being repeated), the inbound tag set (about 250 bytes) with its receiving
//! DH ratchet (about 220 bytes), and 24 waiting tags (9 bytes each in the window, about 20
//! in the endpoint's tag index). Keys are derived on arrival, so in-order traffic stores
//! none. The window grows to 160 tags (about 4.5 KB) once some 540 messages have arrived,
//! and tag sets from the DH ratchet start at 160; for 3 minutes after a NextKey exchange
//! the old inbound tag set is kept beside the new one. Each New Session awaiting a reply
//! costs about 650 bytes (its handshake state and 12 reply tags) for 3 minutes.
//!
//! # Not implemented
//!
//! - **Sending the standalone responses**: the endpoint says when one is due; the client
//!   does not send it yet, so one-way traffic answers NextKey blocks and ACK Requests only
//!   when it next sends something. Without an answer the sender keeps its tag set, and
//!   after its 65536 messages (or when idle past its lifetime) the next message starts a
//!   new session with a New Session.
//! - **Sending ACK Requests and Message Numbers blocks**: neither is required; ours confirm
//!   delivery with DeliveryStatus cloves, and received Message Numbers are ignored (the
//!   tag window trims the old tag set).
//! - **Unbound sessions** ("1c"): a New Session without a static key is treated as
//!   one-time; the spec leaves the unbound session's tag sets undefined.
//! - **Termination blocks** are handed to the caller like any other block.
//! - Checking the New Session's DateTime block (clock skew -5 to +2 minutes) is the
//!   payload parser's job; it complements the replay filter here.

mod dh;
mod endpoint;
mod handshake;
mod kdf;
mod tagset;

#[cfg(test)]
mod dh_tests;
#[cfg(test)]
mod tests;

pub use dh::SEND_NEXT_KEY_AT;
pub use endpoint::{RatchetEndpoint, RATCHET_BLOCKS_MAX};

/// Largest payload section: a ChaChaPoly frame is at most 65535 bytes, 16 of them the MAC
/// (spec: "5) Payload", "Unencrypted data").
pub const MAX_PAYLOAD_LEN: usize = 65_519;

/// The three message formats, plus the anonymous form of the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Starts a session; carries the sender's static key. Its payload must begin with a
    /// DateTime block and may hold only Garlic Clove, Options and Padding blocks (spec:
    /// "Block Ordering Rules").
    NewSession,
    /// Answers a New Session; same block rules, DateTime not required.
    NewSessionReply,
    /// A message of an established session; all blocks allowed.
    Existing,
    /// A New Session without the sender's static key: no session, no reply possible.
    OneTime,
}

/// Identifies an Existing Session message for ACK blocks: tag set id and message number N
/// (spec: "KEY AND TAG SET IDS", "Ack"). Tag set 0 comes from the handshake, each NextKey
/// exchange adds one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageNumber {
    pub tag_set: u16,
    pub n: u16,
}

/// A message [`RatchetEndpoint::seal`] built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The encrypted data of the Garlic Message.
    pub message: Vec<u8>,
    pub kind: MessageKind,
    /// Set for Existing Session messages.
    pub number: Option<MessageNumber>,
}

/// A message [`RatchetEndpoint::open`] decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The sender's static key: from the New Session's static key section, or the
    /// session's for tagged messages. `None` for a one-time message.
    pub remote: Option<[u8; 32]>,
    /// The plaintext payload section, less the blocks the ratchet layer acted on itself
    /// (Message Numbers, Next Key, Ack, Ack Request) in an Existing Session message.
    pub payload: Vec<u8>,
    pub kind: MessageKind,
    /// Set for Existing Session messages.
    pub number: Option<MessageNumber>,
    /// Our messages the sender acknowledges (its Ack blocks), in the order it listed them.
    pub acked: Vec<MessageNumber>,
}

/// Why a message could not be sealed or opened. Opening never says more than that a
/// message did not decrypt: a receiver must drop such data without an answer (spec:
/// "AEAD Error Handling").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RatchetError {
    #[error("message shorter than the shortest ECIES-X25519 message")]
    TooShort,
    #[error("payload of {0} bytes exceeds one ChaChaPoly frame ({MAX_PAYLOAD_LEN} bytes)")]
    PayloadTooLarge(usize),
    #[error("the remote static key is a low-order point")]
    InvalidRemoteKey,
    #[error("no session tag matches and no New Session to us decrypts")]
    Undecryptable,
    #[error("New Session already received (same ephemeral key)")]
    Replayed,
    #[error("as many New Session Replies sent as the peer can recognise; waiting for its first Existing Session message")]
    ReplyWindowFull,
}
