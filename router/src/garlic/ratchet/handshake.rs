//! The Noise IK handshake of ECIES-X25519-AEAD-Ratchet: New Session (Alice to Bob) and New
//! Session Reply (Bob to Alice) (spec: ecies, "1b) New session format (with binding)",
//! "1d) One-time format", "1f) KDFs for New Session Message", "1g) New Session Reply
//! format").
//!
//! ```text
//! New Session        ephemeral key 32 | static key section 32 + MAC 16 | payload + MAC 16
//! New Session Reply  tag 8 | ephemeral key 32 | key section MAC 16    | payload + MAC 16
//! ```
//!
//! Both ephemeral keys travel Elligator2-encoded ([`elligator2`]), and only there: the
//! handshake hash mixes the public key itself (`MixHash(aepk)` with `aepk` "as decoded by
//! Bob"), as the DH uses it.
//!
//! Names follow the specification: Alice sends the New Session, Bob replies. A message
//! builder here neither keeps nor changes endpoint state; it returns what the endpoint
//! must keep ([`PendingSession`] for Alice, [`ReplyState`] for Bob) and, once the
//! handshake completes, the tag sets of both directions ([`Split`]).

use super::kdf::{self, Split, Tag, TagChain, TAG_LEN};
use super::RatchetError;
use crate::crypto::elligator2;
use crate::crypto::noise::{self, SymmetricState, MAC_LEN};
use rand::{CryptoRng, RngCore};
use x25519_dalek::{PublicKey, StaticSecret};

const KEY_LEN: usize = 32;
/// Ephemeral key, static key section and its MAC, payload MAC.
pub(super) const NEW_SESSION_MIN_LEN: usize = KEY_LEN + KEY_LEN + MAC_LEN + MAC_LEN;
/// Tag, ephemeral key, key section MAC (the first part, 56 bytes), payload MAC.
pub(super) const REPLY_MIN_LEN: usize = TAG_LEN + KEY_LEN + MAC_LEN + MAC_LEN;
/// Tag and payload MAC: the shortest message of all.
pub(super) const EXISTING_MIN_LEN: usize = TAG_LEN + MAC_LEN;

/// Our static key pair and the handshake state every incoming New Session starts from.
pub(super) struct LocalKeys {
    secret: StaticSecret,
    public: [u8; 32],
    /// The state after `MixHash(bpk)` with our own key: "up until here, can all be
    /// precalculated by Bob for all incoming connections".
    inbound_start: SymmetricState,
}

impl LocalKeys {
    pub(super) fn new(secret: StaticSecret) -> LocalKeys {
        let public = PublicKey::from(&secret).to_bytes();
        LocalKeys {
            inbound_start: initial_state(&public),
            secret,
            public,
        }
    }

    pub(super) fn public(&self) -> &[u8; 32] {
        &self.public
    }
}

/// "KDF for Initial ChainKey" and the `MixHash(bpk)` of Bob's static key.
fn initial_state(bob_static: &[u8; 32]) -> SymmetricState {
    let mut state = SymmetricState::new(kdf::PROTOCOL_NAME);
    state.mix_hash(bob_static);
    state
}

/// X25519, refusing the all-zero output of a low-order public key: such a key shares no
/// secret, and accepting it would let anybody complete the handshake.
pub(super) fn dh(secret: &StaticSecret, public: &PublicKey) -> Option<[u8; 32]> {
    let shared = secret.diffie_hellman(public);
    shared.was_contributory().then(|| shared.to_bytes())
}

/// Alice's state after sending one New Session, kept until a reply arrives on one of its
/// reply tags or it times out.
pub(super) struct PendingSession {
    ephemeral: StaticSecret,
    /// Chaining key and hash after the payload section: where every reply's KDF starts.
    state: SymmetricState,
}

impl PendingSession {
    /// The tags Bob's replies will carry.
    pub(super) fn reply_tags(&self) -> TagChain {
        kdf::reply_tags(self.state.chaining_key())
    }
}

/// Bob's state after receiving a bound New Session: enough to send replies, each with a
/// fresh ephemeral key and the next reply tag.
pub(super) struct ReplyState {
    alice_ephemeral: PublicKey,
    state: SymmetricState,
    tags: TagChain,
    /// Replies sent so far.
    sent: u32,
}

impl ReplyState {
    pub(super) fn sent(&self) -> u32 {
        self.sent
    }
}

/// A New Session addressed to us, decrypted.
pub(super) struct OpenedNewSession {
    pub(super) payload: Vec<u8>,
    /// Alice's static key and the state to reply with; `None` for a one-time message.
    pub(super) binding: Option<([u8; 32], ReplyState)>,
}

/// The "e es s" steps of a New Session to `bob` whose static key section carries
/// `section` (Alice's static key, or zeros): the message so far, the state after
/// `MixHash` of the section, the "es" cipher key, and the ephemeral secret.
fn start_new_session<R: RngCore + CryptoRng>(
    rng: &mut R,
    bob: &PublicKey,
    section: &[u8; KEY_LEN],
    payload_len: usize,
) -> Result<(Vec<u8>, SymmetricState, [u8; 32], StaticSecret), RatchetError> {
    // "e": a fresh encodable ephemeral key for every New Session, retransmissions
    // included (`GENERATE_PRIVATE_ELG2`).
    let ephemeral = elligator2::generate(rng);
    let mut state = initial_state(bob.as_bytes());
    state.mix_hash(ephemeral.public.as_bytes());
    // "es"
    let es = dh(&ephemeral.secret, bob).ok_or(RatchetError::InvalidRemoteKey)?;
    let key = state.mix_key(&es);
    let mut message = Vec::with_capacity(NEW_SESSION_MIN_LEN + payload_len);
    message.extend_from_slice(&ephemeral.encoded);
    // "s"
    noise::seal_append(&key, 0, state.handshake_hash(), section, &mut message);
    state.mix_hash(&message[KEY_LEN..]);
    Ok((message, state, key, ephemeral.secret))
}

/// Alice: builds a New Session to `bob` bound to her static key, and the state to receive
/// Bob's replies with.
pub(super) fn seal_new_session<R: RngCore + CryptoRng>(
    rng: &mut R,
    alice: &LocalKeys,
    bob: &[u8; 32],
    payload: &[u8],
) -> Result<(Vec<u8>, PendingSession), RatchetError> {
    let bob = PublicKey::from(*bob);
    let (mut message, mut state, _, ephemeral) =
        start_new_session(rng, &bob, &alice.public, payload.len())?;
    // "ss"
    let ss = dh(&alice.secret, &bob).ok_or(RatchetError::InvalidRemoteKey)?;
    let key = state.mix_key(&ss);
    let payload_at = message.len();
    noise::seal_append(&key, 0, state.handshake_hash(), payload, &mut message);
    state.mix_hash(&message[payload_at..]);
    Ok((message, PendingSession { ephemeral, state }))
}

/// Builds a one-time New Session to `bob` ("1d) One-time format"): an all-zero flags
/// section instead of a static key, so Bob learns nothing about the sender and cannot
/// reply. The payload uses the "es" key with nonce 1 ("KDF for Payload Section (without
/// Alice static key)").
pub(super) fn seal_one_time<R: RngCore + CryptoRng>(
    rng: &mut R,
    bob: &[u8; 32],
    payload: &[u8],
) -> Result<Vec<u8>, RatchetError> {
    let bob = PublicKey::from(*bob);
    let (mut message, state, key, _) = start_new_session(rng, &bob, &[0; KEY_LEN], payload.len())?;
    noise::seal_append(&key, 1, state.handshake_hash(), payload, &mut message);
    Ok(message)
}

/// The ephemeral key of what may be a New Session (`DECODE_ELG2` of its first 32 bytes):
/// the key the replay filter remembers. Not the bytes themselves: their two top bits and
/// the choice between a point's two representatives are free, so the same key can be
/// sent as eight different byte strings.
pub(super) fn new_session_ephemeral(message: &[u8]) -> Option<PublicKey> {
    if message.len() < NEW_SESSION_MIN_LEN {
        return None;
    }
    let encoded: &[u8; KEY_LEN] = message.get(..KEY_LEN)?.try_into().ok()?;
    elligator2::public_key(encoded).map(PublicKey::from)
}

/// Bob: decrypts `message`, whose ephemeral key decoded to `alice_ephemeral`, as a New
/// Session to `bob`. Every failure is [`RatchetError::Undecryptable`]: the message may as
/// well have been for someone else.
pub(super) fn open_new_session(
    bob: &LocalKeys,
    alice_ephemeral: PublicKey,
    message: &[u8],
) -> Result<OpenedNewSession, RatchetError> {
    if message.len() < NEW_SESSION_MIN_LEN {
        return Err(RatchetError::Undecryptable);
    }
    let (section, sealed_payload) = message[KEY_LEN..].split_at(KEY_LEN + MAC_LEN);

    let mut state = bob.inbound_start.clone();
    state.mix_hash(alice_ephemeral.as_bytes());
    let es = dh(&bob.secret, &alice_ephemeral).ok_or(RatchetError::Undecryptable)?;
    let key = state.mix_key(&es);
    let alice_static = noise::open_sealed(&key, 0, state.handshake_hash(), section)
        .ok_or(RatchetError::Undecryptable)?;
    state.mix_hash(section);

    let mut alice = [0u8; KEY_LEN];
    alice.copy_from_slice(&alice_static);
    if alice == [0; KEY_LEN] {
        // One-time: "If the static key is all zeros, the "ss" message pattern must be skipped."
        let payload = noise::open_sealed(&key, 1, state.handshake_hash(), sealed_payload)
            .ok_or(RatchetError::Undecryptable)?;
        return Ok(OpenedNewSession {
            payload,
            binding: None,
        });
    }
    let ss = dh(&bob.secret, &PublicKey::from(alice)).ok_or(RatchetError::Undecryptable)?;
    let key = state.mix_key(&ss);
    let payload = noise::open_sealed(&key, 0, state.handshake_hash(), sealed_payload)
        .ok_or(RatchetError::Undecryptable)?;
    state.mix_hash(sealed_payload);
    let reply = ReplyState {
        alice_ephemeral,
        tags: kdf::reply_tags(state.chaining_key()),
        state,
        sent: 0,
    };
    Ok(OpenedNewSession {
        payload,
        binding: Some((alice, reply)),
    })
}

/// The "e ee se" steps shared by both ends of a reply, from the state after the New
/// Session and `MixHash(tag)`: returns the key of the (empty) key section.
fn reply_key_section(
    state: &mut SymmetricState,
    bob_ephemeral: &PublicKey,
    ee: &[u8; 32],
    se: &[u8; 32],
) -> [u8; 32] {
    state.mix_hash(bob_ephemeral.as_bytes());
    // "ee": HKDF(chainKey, sharedSecret, "", 32), the chaining key only.
    state.mix_key(ee);
    state.mix_key(se)
}

/// Bob: builds the next New Session Reply to Alice (static key `alice`) with the payload.
/// Returns the message and the tag sets of the session it would start. Bob's static key
/// took part through the New Session's state; "se" pairs his new ephemeral key with
/// Alice's static key.
pub(super) fn seal_reply<R: RngCore + CryptoRng>(
    rng: &mut R,
    alice: &[u8; 32],
    reply: &mut ReplyState,
    payload: &[u8],
) -> Result<(Vec<u8>, Split), RatchetError> {
    let ephemeral = elligator2::generate(rng);
    // Both keys passed the same check when the New Session was opened.
    let ee = dh(&ephemeral.secret, &reply.alice_ephemeral).ok_or(RatchetError::InvalidRemoteKey)?;
    let se =
        dh(&ephemeral.secret, &PublicKey::from(*alice)).ok_or(RatchetError::InvalidRemoteKey)?;

    let tag = reply.tags.next();
    reply.sent += 1;
    let mut state = reply.state.clone();
    state.mix_hash(&tag);
    let key = reply_key_section(&mut state, &ephemeral.public, &ee, &se);

    let mut message = Vec::with_capacity(REPLY_MIN_LEN + payload.len());
    message.extend_from_slice(&tag);
    message.extend_from_slice(&ephemeral.encoded);
    noise::seal_append(&key, 0, state.handshake_hash(), &[], &mut message);
    state.mix_hash(&message[TAG_LEN + KEY_LEN..]);
    let split = kdf::split(state.chaining_key());
    noise::seal_append(
        &split.payload_key,
        0,
        state.handshake_hash(),
        payload,
        &mut message,
    );
    Ok((message, split))
}

/// Alice: decrypts a New Session Reply whose tag belongs to `pending`.
pub(super) fn open_reply(
    alice: &LocalKeys,
    pending: &PendingSession,
    message: &[u8],
) -> Result<(Vec<u8>, Split), RatchetError> {
    if message.len() < REPLY_MIN_LEN {
        return Err(RatchetError::Undecryptable);
    }
    let (tag, rest) = message.split_at(TAG_LEN);
    let (encoded, rest) = rest.split_at(KEY_LEN);
    let (mac, sealed_payload) = rest.split_at(MAC_LEN);
    let encoded: &[u8; KEY_LEN] = encoded
        .try_into()
        .map_err(|_| RatchetError::Undecryptable)?;
    let bob_ephemeral =
        PublicKey::from(elligator2::public_key(encoded).ok_or(RatchetError::Undecryptable)?);

    let ee = dh(&pending.ephemeral, &bob_ephemeral).ok_or(RatchetError::Undecryptable)?;
    let se = dh(&alice.secret, &bob_ephemeral).ok_or(RatchetError::Undecryptable)?;
    let mut state = pending.state.clone();
    state.mix_hash(tag);
    let key = reply_key_section(&mut state, &bob_ephemeral, &ee, &se);
    noise::open_sealed(&key, 0, state.handshake_hash(), mac).ok_or(RatchetError::Undecryptable)?;
    state.mix_hash(mac);
    let split = kdf::split(state.chaining_key());
    let payload = noise::open_sealed(
        &split.payload_key,
        0,
        state.handshake_hash(),
        sealed_payload,
    )
    .ok_or(RatchetError::Undecryptable)?;
    Ok((payload, split))
}

/// The session tag of a tagged message (New Session Reply or Existing Session).
pub(super) fn tag_of(message: &[u8]) -> Option<Tag> {
    message.get(..TAG_LEN)?.try_into().ok()
}
