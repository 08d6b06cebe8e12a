//! Encryption of short build records and the keys derived from them (spec:
//! tunnel-creation-ecies, "KDF for Initial ck and h", "KDF for Request Record", and in
//! "Short Record Specification": "KDF" and "Record Encryption").
//!
//! A request record is a one-way Noise N message to the hop's static X25519 key:
//!
//! ```text
//! 0-15 first 16 bytes of the hop's router hash | 16-47 creator's ephemeral key
//! 48-201 ChaCha20-Poly1305 ciphertext of the 154-byte request | 202-217 MAC
//! ```
//!
//! After it, both sides hold the same Noise state (ck, h). From ck come the reply key,
//! the tunnel layer and IV keys and, at the outbound endpoint, a garlic reply key and tag;
//! h is the associated data of the hop's reply. A hop seals its reply into its own slot
//! with ChaCha20-Poly1305 (nonce: the slot number) and XORs every other record with
//! ChaCha20 under its reply key (IV byte 4: the slot number).

use super::record::{HopRole, REPLY_LEN, REQUEST_LEN};
use super::BuildError;
use crate::crypto::noise::{self, OneWay, SymmetricState, MAC_LEN};
use crate::crypto::stream;
use crate::crypto::SharedSecrets;
use crate::data::Hash;
use crate::i2np::SHORT_RECORD_LEN;
use crate::tunnel::data::HopKeys;
use rand::{CryptoRng, RngCore};
use std::fmt;
use x25519_dalek::StaticSecret;

/// One encrypted record, request or reply.
pub(crate) type Record = [u8; SHORT_RECORD_LEN];

/// A hop recognises its record by the first 16 bytes of its router hash.
const TRUNCATED_HASH_LEN: usize = 16;
const EPHEMERAL_AT: usize = TRUNCATED_HASH_LEN;
const CIPHERTEXT_AT: usize = EPHEMERAL_AT + 32;
const MAC_AT: usize = CIPHERTEXT_AT + REQUEST_LEN;

/// The key and session tag with which the outbound endpoint may garlic-wrap its reply
/// to the creator, as an ECIES existing-session message (spec: "Garlic Encryption"):
/// [`crate::garlic::router::seal_with_tag`] and [`crate::garlic::router::open_with_tag`].
#[derive(Clone, PartialEq, Eq)]
pub struct GarlicReplyKey {
    pub key: [u8; 32],
    pub tag: [u8; 8],
}

impl fmt::Debug for GarlicReplyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GarlicReplyKey { .. }")
    }
}

/// What one hop's request yields, identically on the creator's and the hop's side.
#[derive(Clone)]
pub(crate) struct RecordKeys {
    /// Seals the hop's reply and masks the other records.
    pub(crate) reply_key: [u8; 32],
    /// The Noise handshake hash after the request: the reply's associated data.
    reply_ad: [u8; 32],
    pub(crate) layer: HopKeys,
    /// Only the outbound endpoint derives these.
    pub(crate) garlic: Option<GarlicReplyKey>,
}

impl fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordKeys { .. }")
    }
}

impl RecordKeys {
    /// The "KDF" of the short record specification. The chain goes one step further at
    /// the outbound endpoint, which changes its IV key: the role must be the one the
    /// request carries.
    fn derive(state: &SymmetricState, role: HopRole) -> RecordKeys {
        let (ck, reply_key) = noise::hkdf(state.chaining_key(), &[], b"SMTunnelReplyKey");
        let (ck, layer_key) = noise::hkdf(&ck, &[], b"SMTunnelLayerKey");
        let (iv_key, garlic) = match role {
            // The rest of the chain is unused, so its left half is the IV key.
            HopRole::InboundGateway | HopRole::Participant => (ck, None),
            HopRole::OutboundEndpoint => {
                let (ck, iv_key) = noise::hkdf(&ck, &[], b"TunnelLayerIVKey");
                let (tag_half, key) = noise::hkdf(&ck, &[], b"RGarlicKeyAndTag");
                let mut tag = [0u8; 8];
                tag.copy_from_slice(&tag_half[..8]);
                (iv_key, Some(GarlicReplyKey { key, tag }))
            }
        };
        RecordKeys {
            reply_key,
            reply_ad: *state.handshake_hash(),
            layer: HopKeys { layer_key, iv_key },
            garlic,
        }
    }
}

/// Creator: encrypts `request` to a hop with a fresh ephemeral key, and derives the
/// hop's keys for a hop in `role`. Fails if the hop's key is a low-order point.
pub(crate) fn encrypt_request(
    hop: &Hash,
    hop_key: &[u8; 32],
    role: HopRole,
    request: &[u8; REQUEST_LEN],
    rng: &mut (impl RngCore + CryptoRng),
    memo: Option<&SharedSecrets>,
) -> Result<(Record, RecordKeys), BuildError> {
    // A fresh ephemeral key per record: reused ones would let colluding hops link their
    // records.
    let (ephemeral, OneWay { mut state, key }) = OneWay::initiate(rng, hop_key, memo).ok_or(
        BuildError::InvalidRequest("a hop's encryption key is a low-order point"),
    )?;
    let mut record = [0u8; SHORT_RECORD_LEN];
    record[..EPHEMERAL_AT].copy_from_slice(&hop.0[..TRUNCATED_HASH_LEN]);
    record[EPHEMERAL_AT..CIPHERTEXT_AT].copy_from_slice(&ephemeral);
    record[CIPHERTEXT_AT..MAC_AT].copy_from_slice(request);
    let mac = noise::seal(
        &key,
        0,
        state.handshake_hash(),
        &mut record[CIPHERTEXT_AT..MAC_AT],
    );
    record[MAC_AT..].copy_from_slice(&mac);
    state.mix_hash(&record[CIPHERTEXT_AT..]);
    Ok((record, RecordKeys::derive(&state, role)))
}

/// A request this hop has decrypted, before it knows the role that picks its keys.
pub(crate) struct OpenedRequest {
    pub(crate) cleartext: [u8; REQUEST_LEN],
    state: SymmetricState,
}

impl OpenedRequest {
    pub(crate) fn keys(&self, role: HopRole) -> RecordKeys {
        RecordKeys::derive(&self.state, role)
    }
}

/// Hop: decrypts a record addressed to our static key pair (the caller has matched the
/// truncated hash).
pub(crate) fn decrypt_request(
    secret: &StaticSecret,
    public: &[u8; 32],
    record: &Record,
    memo: Option<&SharedSecrets>,
) -> Result<OpenedRequest, BuildError> {
    let mut ephemeral = [0u8; 32];
    ephemeral.copy_from_slice(&record[EPHEMERAL_AT..CIPHERTEXT_AT]);
    let mut mac = [0u8; MAC_LEN];
    mac.copy_from_slice(&record[MAC_AT..]);

    let OneWay { mut state, key } =
        OneWay::respond(secret, public, &ephemeral, memo).ok_or(BuildError::Undecryptable)?;
    let mut cleartext = [0u8; REQUEST_LEN];
    cleartext.copy_from_slice(&record[CIPHERTEXT_AT..MAC_AT]);
    noise::open(&key, 0, state.handshake_hash(), &mut cleartext, &mac)
        .map_err(|_| BuildError::Undecryptable)?;
    state.mix_hash(&record[CIPHERTEXT_AT..]);
    Ok(OpenedRequest { cleartext, state })
}

/// Hop: seals our reply for our slot.
pub(crate) fn seal_reply(keys: &RecordKeys, slot: usize, reply: &[u8; REPLY_LEN]) -> Record {
    let mut record = [0u8; SHORT_RECORD_LEN];
    record[..REPLY_LEN].copy_from_slice(reply);
    let mac = noise::seal(
        &keys.reply_key,
        slot as u64,
        &keys.reply_ad,
        &mut record[..REPLY_LEN],
    );
    record[REPLY_LEN..].copy_from_slice(&mac);
    record
}

/// Creator: opens a hop's reply once the later hops' masks are removed.
pub(crate) fn open_reply(
    keys: &RecordKeys,
    slot: usize,
    record: &Record,
) -> Result<[u8; REPLY_LEN], BuildError> {
    let mut reply = [0u8; REPLY_LEN];
    reply.copy_from_slice(&record[..REPLY_LEN]);
    let mut mac = [0u8; MAC_LEN];
    mac.copy_from_slice(&record[REPLY_LEN..]);
    noise::open(
        &keys.reply_key,
        slot as u64,
        &keys.reply_ad,
        &mut reply,
        &mac,
    )
    .map_err(|_| BuildError::Undecryptable)?;
    Ok(reply)
}

/// The ChaCha20 layer a hop puts on every record but its own. XOR: the creator removes
/// (or pre-applies) it with the same call.
pub(crate) fn mask(reply_key: &[u8; 32], slot: usize, record: &mut Record) {
    stream::apply(reply_key, &noise::nonce(slot as u64), record);
}

/// A record that passes for a request to `hash` but is random: what an inbound build's
/// creator puts in for itself, so the last hop cannot tell that the next router is the
/// creator (spec: "Implementation Notes", "Build Records").
pub(crate) fn decoy_record(hash: &Hash, rng: &mut impl RngCore) -> Record {
    let mut record = [0u8; SHORT_RECORD_LEN];
    rng.fill_bytes(&mut record);
    record[..TRUNCATED_HASH_LEN].copy_from_slice(&hash.0[..TRUNCATED_HASH_LEN]);
    // An X25519 public key's top bit is clear; a set one would give the decoy away.
    record[CIPHERTEXT_AT - 1] &= 0x7f;
    record
}

/// Whether `record` is addressed to the router with hash `hash`.
pub(crate) fn addressed_to(record: &Record, hash: &Hash) -> bool {
    record[..TRUNCATED_HASH_LEN] == hash.0[..TRUNCATED_HASH_LEN]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use x25519_dalek::PublicKey;

    fn hop(rng: &mut ChaCha20Rng) -> (StaticSecret, [u8; 32]) {
        let secret = StaticSecret::random_from_rng(&mut *rng);
        let public = PublicKey::from(&secret).to_bytes();
        (secret, public)
    }

    #[test]
    fn both_sides_derive_the_same_keys() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (secret, public) = hop(&mut rng);
        let hash = Hash([0xab; 32]);
        let request = [7u8; REQUEST_LEN];
        for role in [
            HopRole::InboundGateway,
            HopRole::Participant,
            HopRole::OutboundEndpoint,
        ] {
            let (record, creator) =
                encrypt_request(&hash, &public, role, &request, &mut rng, None).expect("valid key");
            assert!(addressed_to(&record, &hash));
            assert_eq!(record[47] & 0x80, 0, "an X25519 key's top bit is clear");
            let opened = decrypt_request(&secret, &public, &record, None).expect("ours");
            assert_eq!(opened.cleartext, request);
            let hop = opened.keys(role);
            assert_eq!(hop.reply_key, creator.reply_key);
            assert_eq!(hop.reply_ad, creator.reply_ad);
            assert_eq!(hop.layer, creator.layer);
            assert_eq!(hop.garlic, creator.garlic);
            assert_eq!(hop.garlic.is_some(), role == HopRole::OutboundEndpoint);

            let reply = [3u8; REPLY_LEN];
            let sealed = seal_reply(&hop, 5, &reply);
            assert_eq!(open_reply(&creator, 5, &sealed).expect("authentic"), reply);
            assert!(
                open_reply(&creator, 4, &sealed).is_err(),
                "the slot is the nonce"
            );
        }
    }

    #[test]
    fn the_outbound_endpoint_chain_differs_only_in_iv_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (secret, public) = hop(&mut rng);
        let (record, _) = encrypt_request(
            &Hash::ZERO,
            &public,
            HopRole::Participant,
            &[0; REQUEST_LEN],
            &mut rng,
            None,
        )
        .expect("valid key");
        let opened = decrypt_request(&secret, &public, &record, None).expect("ours");
        let middle = opened.keys(HopRole::Participant);
        let endpoint = opened.keys(HopRole::OutboundEndpoint);
        assert_eq!(middle.reply_key, endpoint.reply_key);
        assert_eq!(middle.layer.layer_key, endpoint.layer.layer_key);
        assert_ne!(middle.layer.iv_key, endpoint.layer.iv_key);
        assert_eq!(opened.keys(HopRole::InboundGateway).layer, middle.layer);
    }

    #[test]
    fn wrong_key_tampering_and_low_order_points_fail() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (secret, public) = hop(&mut rng);
        let (other, _) = hop(&mut rng);
        let (record, _) = encrypt_request(
            &Hash::ZERO,
            &public,
            HopRole::Participant,
            &[1; REQUEST_LEN],
            &mut rng,
            None,
        )
        .expect("valid key");
        assert!(matches!(
            decrypt_request(&other, &public, &record, None),
            Err(BuildError::Undecryptable)
        ));
        for at in [16, 47, 48, 120, 201, 202, 217] {
            let mut tampered = record;
            tampered[at] ^= 1;
            assert!(
                decrypt_request(&secret, &public, &tampered, None).is_err(),
                "byte {at}"
            );
        }
        // The identity point (u = 0) as the ephemeral key: no shared secret.
        let mut low_order = record;
        low_order[EPHEMERAL_AT..CIPHERTEXT_AT].copy_from_slice(&[0; 32]);
        assert!(matches!(
            decrypt_request(&secret, &public, &low_order, None),
            Err(BuildError::Undecryptable)
        ));
        assert!(matches!(
            encrypt_request(
                &Hash::ZERO,
                &[0; 32],
                HopRole::Participant,
                &[0; REQUEST_LEN],
                &mut rng,
                None
            ),
            Err(BuildError::InvalidRequest(_))
        ));
    }

    #[test]
    fn mask_is_an_involution_per_slot() {
        let key = [5u8; 32];
        let original = [9u8; SHORT_RECORD_LEN];
        let mut record = original;
        mask(&key, 2, &mut record);
        assert_ne!(record, original);
        let mut other_slot = original;
        mask(&key, 3, &mut other_slot);
        assert_ne!(record, other_slot);
        mask(&key, 2, &mut record);
        assert_eq!(record, original);
    }
}
