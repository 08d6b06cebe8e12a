//! The three handshake messages (spec: NTCP2, "Key Derivation Function" sections and
//! messages 1-3): Noise XK over X25519, ChaChaPoly and SHA-256, with I2P's additions —
//! ephemeral keys obfuscated with AES-256-CBC, a 16-byte options block as the payload of
//! messages 1 and 2, and their cleartext padding mixed into the handshake hash.
//!
//! Each side is a chain of types, one per point between messages, so a stage cannot be
//! skipped or repeated: Alice `Initiator` -> `InitiatorCreated` -> data keys; Bob
//! `Responder` -> `ResponderRequested` -> `ResponderCreated` -> data keys.

use super::block::{self, Block};
use super::cipher::{DataKeys, Role};
use super::keys::{deobfuscate, is_ntcp2, obfuscate, static_key_of, Ntcp2Peer};
use super::{LocalRouter, Ntcp2Error};
use crate::crypto::noise::{self, SymmetricState, MAC_LEN};
use crate::data::{Hash, RouterInfo};
use crate::time::Instant;
use rand::{CryptoRng, Rng, RngCore};
use x25519_dalek::{PublicKey, StaticSecret};

/// I2P's name for its Noise XK variant (48 bytes, so hashed rather than padded).
const PROTOCOL_NAME: &[u8] = b"Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256";
/// The `ver` field of message 1.
const VERSION: u8 = 2;
const OPTIONS_LEN: usize = 16;
/// Messages 1 and 2 before their padding: obfuscated ephemeral key, sealed options.
pub(crate) const HEAD_LEN: usize = 32 + OPTIONS_LEN + MAC_LEN;
/// Message 3 part 1: Alice's static key, sealed.
const PART1_LEN: usize = 32 + MAC_LEN;
/// Message 3 is at most 65535 bytes, so part 2 (with its MAC) at most 65487.
const MAX_PART2_LEN: usize = 65_535 - PART1_LEN;
/// The smallest part 2 holding a RouterInfo block: MAC, block header, flag.
const MIN_PART2_LEN: usize = MAC_LEN + block::HEADER_LEN + 1;
/// Our padding after messages 1 and 2 and inside message 3: uniform in 0..=31 bytes,
/// the range the specification suggests (the distribution is left to implementations).
/// A peer may send up to the 65535-byte message limit; we accept that.
const MAX_PADDING: usize = 31;
/// How far a peer's clock (tsA, tsB) may be from ours.
pub(crate) const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// Seconds since the epoch, rounded, as the 4-byte fields carry them (they wrap in 2106).
pub(crate) fn timestamp(now: Instant) -> u32 {
    (now.as_millis().saturating_add(500) / 1000) as u32
}

fn check_clock(now: Instant, theirs: u32) -> Result<(), Ntcp2Error> {
    let offset_secs = i64::from(theirs) - i64::from(timestamp(now));
    if offset_secs.abs() > MAX_CLOCK_SKEW_SECS {
        return Err(Ntcp2Error::ClockSkew { offset_secs });
    }
    Ok(())
}

/// X25519; a low-order `public` (an all-zero result) is rejected, which is the point
/// validation the specification asks for at each key.
fn dh(
    secret: &StaticSecret,
    public: &[u8; 32],
    what: &'static str,
) -> Result<[u8; 32], Ntcp2Error> {
    let shared = secret.diffie_hellman(&PublicKey::from(*public));
    if !shared.was_contributory() {
        return Err(Ntcp2Error::InvalidKey(what));
    }
    Ok(*shared.as_bytes())
}

fn be16(bytes: &[u8]) -> usize {
    usize::from(u16::from_be_bytes([bytes[0], bytes[1]]))
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

fn first_32(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[..32]);
    out
}

/// Appends `len` random padding bytes and mixes them into `h` (only when there are
/// some, as the specification says).
fn pad(state: &mut SymmetricState, msg: &mut Vec<u8>, len: usize, rng: &mut impl RngCore) {
    let start = msg.len();
    msg.resize(start + len, 0);
    rng.fill_bytes(&mut msg[start..]);
    mix_padding(state, &msg[start..]);
}

fn mix_padding(state: &mut SymmetricState, padding: &[u8]) {
    if !padding.is_empty() {
        state.mix_hash(padding);
    }
}

/// Alice after sending message 1 (SessionRequest).
pub(crate) struct Initiator {
    state: SymmetricState,
    ephemeral: StaticSecret,
    static_secret: StaticSecret,
    static_public: [u8; 32],
    peer_hash: Hash,
    /// The AES-CBC state after X: message 2 continues from it.
    cbc: [u8; 16],
    /// Message 3 part 2's plaintext, fixed now because message 1 carries its length.
    part2: Vec<u8>,
}

impl Initiator {
    /// Builds message 1 to `peer`.
    pub(crate) fn start<R: RngCore + CryptoRng>(
        now: Instant,
        local: &LocalRouter,
        peer: &Ntcp2Peer,
        rng: &mut R,
    ) -> Result<(Initiator, Vec<u8>), Ntcp2Error> {
        let info = local.info.as_bytes();
        let part2_padding = rng.gen_range(0..=MAX_PADDING);
        let part2_len = 2 * block::HEADER_LEN + 1 + info.len() + part2_padding;
        if part2_len + MAC_LEN > MAX_PART2_LEN {
            return Err(Ntcp2Error::RouterInfoTooLarge(info.len()));
        }
        let mut part2 = Vec::with_capacity(part2_len);
        block::push_router_info(&mut part2, false, info);
        block::push_padding(&mut part2, part2_padding, rng);

        let mut state = SymmetricState::new(PROTOCOL_NAME);
        state.mix_hash(&peer.static_key);
        let ephemeral = StaticSecret::random_from_rng(&mut *rng);
        let x = PublicKey::from(&ephemeral).to_bytes();
        state.mix_hash(&x);
        let key = state.mix_key(&dh(&ephemeral, &peer.static_key, "Bob's static key")?);

        let padding = rng.gen_range(0..=MAX_PADDING);
        let mut options = [0u8; OPTIONS_LEN];
        options[0] = local.net_id;
        options[1] = VERSION;
        options[2..4].copy_from_slice(&(padding as u16).to_be_bytes());
        options[4..6].copy_from_slice(&((part2.len() + MAC_LEN) as u16).to_be_bytes());
        options[8..12].copy_from_slice(&timestamp(now).to_be_bytes());

        let mut msg = Vec::with_capacity(HEAD_LEN + padding);
        let mut obfuscated = x;
        let mut cbc = peer.iv;
        obfuscate(&peer.hash, &mut cbc, &mut obfuscated);
        msg.extend_from_slice(&obfuscated);
        noise::seal_append(&key, 0, state.handshake_hash(), &options, &mut msg);
        state.mix_hash(&msg[32..]);
        pad(&mut state, &mut msg, padding, rng);
        let initiator = Initiator {
            state,
            ephemeral,
            static_secret: local.keys.secret().clone(),
            static_public: local.keys.public_key(),
            peer_hash: peer.hash,
            cbc,
            part2,
        };
        Ok((initiator, msg))
    }

    /// Reads message 2 (SessionCreated) up to its padding.
    pub(crate) fn read_created(
        self,
        now: Instant,
        head: &[u8],
    ) -> Result<InitiatorCreated, Ntcp2Error> {
        let mut y = first_32(head);
        let mut cbc = self.cbc;
        deobfuscate(&self.peer_hash, &mut cbc, &mut y);
        let mut state = self.state;
        state.mix_hash(&y);
        let key = state.mix_key(&dh(&self.ephemeral, &y, "Bob's ephemeral key")?);
        let sealed = &head[32..HEAD_LEN];
        let options = noise::open_sealed(&key, 0, state.handshake_hash(), sealed)
            .ok_or(Ntcp2Error::BadMac("message 2"))?;
        state.mix_hash(sealed);
        check_clock(now, be32(&options[8..12]))?;
        Ok(InitiatorCreated {
            state,
            key,
            y,
            static_secret: self.static_secret,
            static_public: self.static_public,
            part2: self.part2,
            padding_len: be16(&options[2..4]),
        })
    }
}

/// Alice after reading message 2, waiting for its padding.
pub(crate) struct InitiatorCreated {
    state: SymmetricState,
    key: [u8; 32],
    y: [u8; 32],
    static_secret: StaticSecret,
    static_public: [u8; 32],
    part2: Vec<u8>,
    pub(crate) padding_len: usize,
}

impl InitiatorCreated {
    /// Mixes in message 2's padding and builds message 3 (SessionConfirmed); the
    /// handshake is then complete on Alice's side.
    pub(crate) fn confirm(self, padding: &[u8]) -> Result<(Vec<u8>, DataKeys), Ntcp2Error> {
        let mut state = self.state;
        mix_padding(&mut state, padding);
        let mut msg = Vec::with_capacity(PART1_LEN + self.part2.len() + MAC_LEN);
        noise::seal_append(
            &self.key,
            1,
            state.handshake_hash(),
            &self.static_public,
            &mut msg,
        );
        state.mix_hash(&msg);
        let key = state.mix_key(&dh(&self.static_secret, &self.y, "Bob's ephemeral key")?);
        noise::seal_append(&key, 0, state.handshake_hash(), &self.part2, &mut msg);
        state.mix_hash(&msg[PART1_LEN..]);
        Ok((msg, DataKeys::derive(&state, Role::Initiator)))
    }
}

/// Bob waiting for message 1.
pub(crate) struct Responder {
    state: SymmetricState,
    static_secret: StaticSecret,
    hash: Hash,
    iv: [u8; 16],
    net_id: u8,
}

impl Responder {
    pub(crate) fn new(local: &LocalRouter) -> Responder {
        let mut state = SymmetricState::new(PROTOCOL_NAME);
        state.mix_hash(&local.keys.public_key());
        Responder {
            state,
            static_secret: local.keys.secret().clone(),
            hash: local.info.hash(),
            iv: local.keys.iv(),
            net_id: local.net_id,
        }
    }

    /// Reads message 1 (SessionRequest) up to its padding.
    pub(crate) fn read_request(
        self,
        now: Instant,
        head: &[u8],
    ) -> Result<ResponderRequested, Ntcp2Error> {
        let mut x = first_32(head);
        let mut cbc = self.iv;
        deobfuscate(&self.hash, &mut cbc, &mut x);
        let mut state = self.state;
        state.mix_hash(&x);
        let key = state.mix_key(&dh(&self.static_secret, &x, "Alice's ephemeral key")?);
        let sealed = &head[32..HEAD_LEN];
        let options = noise::open_sealed(&key, 0, state.handshake_hash(), sealed)
            .ok_or(Ntcp2Error::BadMac("message 1"))?;
        state.mix_hash(sealed);
        if options[0] != self.net_id {
            return Err(Ntcp2Error::WrongNetwork {
                expected: self.net_id,
                got: Some(options[0]),
            });
        }
        if options[1] != VERSION {
            return Err(Ntcp2Error::UnsupportedVersion(options[1]));
        }
        let part2_len = be16(&options[4..6]);
        if !(MIN_PART2_LEN..=MAX_PART2_LEN).contains(&part2_len) {
            return Err(Ntcp2Error::BadMessage3Length(part2_len));
        }
        check_clock(now, be32(&options[8..12]))?;
        Ok(ResponderRequested {
            state,
            hash: self.hash,
            cbc,
            x,
            net_id: self.net_id,
            part2_len,
            padding_len: be16(&options[2..4]),
        })
    }
}

/// Bob after reading message 1, waiting for its padding.
pub(crate) struct ResponderRequested {
    state: SymmetricState,
    hash: Hash,
    cbc: [u8; 16],
    x: [u8; 32],
    net_id: u8,
    part2_len: usize,
    pub(crate) padding_len: usize,
}

impl ResponderRequested {
    /// Mixes in message 1's padding and builds message 2 (SessionCreated).
    pub(crate) fn create<R: RngCore + CryptoRng>(
        self,
        now: Instant,
        padding: &[u8],
        rng: &mut R,
    ) -> Result<(ResponderCreated, Vec<u8>), Ntcp2Error> {
        let mut state = self.state;
        mix_padding(&mut state, padding);
        let ephemeral = StaticSecret::random_from_rng(&mut *rng);
        let y = PublicKey::from(&ephemeral).to_bytes();
        state.mix_hash(&y);
        let key = state.mix_key(&dh(&ephemeral, &self.x, "Alice's ephemeral key")?);

        let our_padding = rng.gen_range(0..=MAX_PADDING);
        let mut options = [0u8; OPTIONS_LEN];
        options[2..4].copy_from_slice(&(our_padding as u16).to_be_bytes());
        options[8..12].copy_from_slice(&timestamp(now).to_be_bytes());

        let mut msg = Vec::with_capacity(HEAD_LEN + our_padding);
        let mut obfuscated = y;
        let mut cbc = self.cbc;
        obfuscate(&self.hash, &mut cbc, &mut obfuscated);
        msg.extend_from_slice(&obfuscated);
        noise::seal_append(&key, 0, state.handshake_hash(), &options, &mut msg);
        state.mix_hash(&msg[32..]);
        pad(&mut state, &mut msg, our_padding, rng);
        let created = ResponderCreated {
            state,
            ephemeral,
            key,
            net_id: self.net_id,
            part2_len: self.part2_len,
        };
        Ok((created, msg))
    }
}

/// Bob after sending message 2, waiting for message 3.
pub(crate) struct ResponderCreated {
    state: SymmetricState,
    ephemeral: StaticSecret,
    key: [u8; 32],
    net_id: u8,
    part2_len: usize,
}

impl ResponderCreated {
    /// The exact length of message 3, announced in message 1.
    pub(crate) fn message3_len(&self) -> usize {
        PART1_LEN + self.part2_len
    }

    /// Reads message 3 (SessionConfirmed, exactly [`Self::message3_len`] bytes) and
    /// checks Alice's RouterInfo: validly signed, on our network, and publishing as its
    /// NTCP2 `s` the static key she just proved she holds.
    pub(crate) fn read_confirmed(self, msg: &[u8]) -> Result<(RouterInfo, DataKeys), Ntcp2Error> {
        let (part1, part2) = msg.split_at(PART1_LEN);
        let mut state = self.state;
        let static_key = noise::open_sealed(&self.key, 1, state.handshake_hash(), part1)
            .ok_or(Ntcp2Error::BadMac("message 3 part 1"))?;
        let static_key = first_32(&static_key);
        state.mix_hash(part1);
        let key = state.mix_key(&dh(&self.ephemeral, &static_key, "Alice's static key")?);
        let payload = noise::open_sealed(&key, 0, state.handshake_hash(), part2)
            .ok_or(Ntcp2Error::BadMac("message 3 part 2"))?;
        state.mix_hash(part2);
        let info = alice_router_info(&payload, &static_key, self.net_id)?;
        Ok((info, DataKeys::derive(&state, Role::Responder)))
    }
}

/// Message 3 part 2 holds a RouterInfo block, then optionally Options, then optionally
/// Padding, and nothing else (spec: NTCP2, SessionConfirmed notes).
fn alice_router_info(
    payload: &[u8],
    static_key: &[u8; 32],
    net_id: u8,
) -> Result<RouterInfo, Ntcp2Error> {
    let mut blocks = block::parse(payload)?.into_iter();
    let Some(Block::RouterInfo { info, .. }) = blocks.next() else {
        return Err(Ntcp2Error::Payload(
            "message 3 does not start with a RouterInfo block",
        ));
    };
    if blocks.any(|b| !matches!(b, Block::Options(_) | Block::Padding(_))) {
        return Err(Ntcp2Error::Payload(
            "message 3 holds a block other than Options or Padding",
        ));
    }
    let info = RouterInfo::parse(info).map_err(Ntcp2Error::BadRouterInfo)?;
    if info.net_id() != Some(net_id) {
        return Err(Ntcp2Error::WrongNetwork {
            expected: net_id,
            got: info.net_id(),
        });
    }
    let proven = info
        .addresses()
        .iter()
        .filter(|a| is_ntcp2(a))
        .any(|a| static_key_of(a) == Some(*static_key));
    if !proven {
        return Err(Ntcp2Error::StaticKeyMismatch);
    }
    Ok(info)
}
