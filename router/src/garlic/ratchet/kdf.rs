//! The key derivations of ECIES-X25519-AEAD-Ratchet past the Noise handshake itself, and
//! the ephemeral-key encoding (spec: ecies, "4a) DH Ratchet" / "DH INITIALIZATION KDF",
//! "4b) Session Tag Ratchet", "4c) Symmetric Key Ratchet", "1g) New Session Reply format"
//! / "KDF for Reply TagSet" and "KDF for Payload Section Encrypted Contents", "2a)
//! Elligator2").
//!
//! Every step is `HKDF(salt, ikm, info, 64)` split in two halves, which
//! [`noise::hkdf`] returns. Where the specification asks for 32 bytes only, the first half
//! is the same value: HKDF's output stream does not depend on its requested length.

use crate::crypto::noise;
use std::fmt;
use x25519_dalek::PublicKey;

/// Noise protocol name of the New Session handshake (spec: "KDF for Initial ChainKey"):
/// IK with Elligator2-encoded ephemeral keys ("elg2") and the session tag mixed into the
/// hash before the second message ("+hs2").
pub(super) const PROTOCOL_NAME: &[u8] = b"Noise_IKelg2+hs2_25519_ChaChaPoly_SHA256";

/// Length of a session tag on the wire.
pub(super) const TAG_LEN: usize = 8;

/// A session tag: the cleartext first 8 bytes of a New Session Reply or Existing Session
/// message, by which the receiver finds the session and the key.
pub(super) type Tag = [u8; TAG_LEN];

/// The session tag ratchet of one tag set (spec: "4b) Session Tag Ratchet", `RATCHET_TAG`).
///
/// Holds `sessTag_chainKey` and the per-tag-set `SESSTAG_CONSTANT`; each [`TagChain::next`]
/// is one `KDF_ST` step. The constant makes the tag sequence of each tag set unpredictable
/// even though tags travel in cleartext.
#[derive(Clone)]
pub(super) struct TagChain {
    chain_key: [u8; 32],
    constant: [u8; 32],
}

impl TagChain {
    /// The "Initialization" step: `HKDF(sessTag_ck, ZEROLEN, "STInitialization", 64)`.
    fn new(session_tag_ck: &[u8; 32]) -> TagChain {
        let (chain_key, constant) = noise::hkdf(session_tag_ck, &[], b"STInitialization");
        TagChain {
            chain_key,
            constant,
        }
    }

    /// The next tag: `HKDF(sessTag_chainKey, SESSTAG_CONSTANT, "SessionTagKeyGen", 64)`,
    /// chain key from the first half, tag from the first 8 bytes of the second.
    pub(super) fn next(&mut self) -> Tag {
        let (chain_key, output) = noise::hkdf(&self.chain_key, &self.constant, b"SessionTagKeyGen");
        self.chain_key = chain_key;
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&output[..TAG_LEN]);
        tag
    }
}

/// The symmetric key ratchet of one tag set (spec: "4c) Symmetric Key Ratchet",
/// `RATCHET_KEY`): key `n` goes with tag `n` and is used with nonce `n`.
#[derive(Clone)]
pub(super) struct KeyChain {
    chain_key: [u8; 32],
}

impl KeyChain {
    /// The next key: `HKDF(symmKey_chainKey, ZEROLEN, "SymmetricRatchet", 64)`.
    pub(super) fn next(&mut self) -> [u8; 32] {
        let (chain_key, key) = noise::hkdf(&self.chain_key, &[], b"SymmetricRatchet");
        self.chain_key = chain_key;
        key
    }
}

/// `DH_INITIALIZE(rootKey, k)` (spec: "DH INITIALIZATION KDF"): the tag and key ratchets
/// of a new tag set.
///
/// The first half of the first step is `nextRootKey`, the input of the next DH ratchet in
/// this direction. NextKey blocks (the DH ratchet) are not implemented yet, so it is
/// dropped; adding them means returning and storing it with the outbound and inbound
/// tag sets, then calling this with `HKDF(sharedSecret, ZEROLEN, "XDHRatchetTagSet", 32)`.
pub(super) fn dh_initialize(root_key: &[u8; 32], k: &[u8; 32]) -> (TagChain, KeyChain) {
    let (_next_root_key, chain_key) = noise::hkdf(root_key, k, b"KDFDHRatchetStep");
    let (session_tag_ck, symmetric_key_ck) = noise::hkdf(&chain_key, &[], b"TagAndKeyGenKeys");
    (
        TagChain::new(&session_tag_ck),
        KeyChain {
            chain_key: symmetric_key_ck,
        },
    )
}

/// The tags of the New Session Replies to one New Session (spec: "KDF for Reply TagSet"):
/// `tagsetKey = HKDF(chainKey, ZEROLEN, "SessionReplyTags", 32)`, then
/// `DH_INITIALIZE(chainKey, tagsetKey)`. The replies are keyed by the handshake, so the
/// tag set's key ratchet is not used.
pub(super) fn reply_tags(chain_key: &[u8; 32]) -> TagChain {
    let (tagset_key, _) = noise::hkdf(chain_key, &[], b"SessionReplyTags");
    dh_initialize(chain_key, &tagset_key).0
}

/// What Noise `Split()` yields at the end of a New Session Reply (spec: "KDF for Payload
/// Section Encrypted Contents").
pub(super) struct Split {
    /// Tag set 0 from Alice (the New Session's sender) to Bob.
    pub(super) alice_to_bob: (TagChain, KeyChain),
    /// Tag set 0 from Bob to Alice.
    pub(super) bob_to_alice: (TagChain, KeyChain),
    /// Key of the reply's payload section: `HKDF(k_ba, ZEROLEN, "AttachPayloadKDF", 32)`.
    pub(super) payload_key: [u8; 32],
}

impl fmt::Debug for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Split { .. }")
    }
}

/// `keydata = HKDF(chainKey, ZEROLEN, "", 64)`, `k_ab, k_ba` its halves, and each
/// direction's tag set `DH_INITIALIZE(chainKey, k)`.
pub(super) fn split(chain_key: &[u8; 32]) -> Split {
    let (k_ab, k_ba) = noise::hkdf(chain_key, &[], b"");
    let (payload_key, _) = noise::hkdf(&k_ba, &[], b"AttachPayloadKDF");
    Split {
        alice_to_bob: dh_initialize(chain_key, &k_ab),
        bob_to_alice: dh_initialize(chain_key, &k_ba),
        payload_key,
    }
}

/// `ENCODE_ELG2`: the wire form of a New Session or New Session Reply ephemeral key.
///
/// **This is the one place where wire compatibility with other routers is missing.** The
/// specification ("2a) Elligator2") sends these keys Elligator2-encoded, with two random
/// bits ORed into the top byte, so that a tunnel endpoint cannot tell a New Session from
/// an Existing Session's random-looking tag. Encoding needs the inverse map from a
/// Curve25519 point to a field element, which curve25519-dalek 4.1 does not expose, and
/// only half of all keys are encodable (`GENERATE_PRIVATE_ELG2` retries until one is).
/// Until a reviewed implementation is available the raw X25519 key goes on the wire:
/// ramsons routers understand each other, other routers cannot decrypt these messages,
/// and observers can recognise them as handshakes. Both directions live in this pair of
/// functions so that adding Elligator2 changes nothing else.
pub(super) fn encode_ephemeral(public: &PublicKey) -> [u8; 32] {
    public.to_bytes()
}

/// `DECODE_ELG2`: the inverse of [`encode_ephemeral`], with the same caveat.
pub(super) fn decode_ephemeral(encoded: &[u8; 32]) -> PublicKey {
    PublicKey::from(*encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_name_is_forty_bytes() {
        // Longer than 32 bytes, so Noise hashes it rather than padding it.
        assert_eq!(PROTOCOL_NAME.len(), 40);
    }

    #[test]
    fn tag_ratchet_follows_the_spec_steps() {
        let root = [1u8; 32];
        let k = [2u8; 32];
        let (mut tags, mut keys) = dh_initialize(&root, &k);

        // The same steps spelt out with the bare HKDF.
        let (_, ck) = noise::hkdf(&root, &k, b"KDFDHRatchetStep");
        let (tag_ck, key_ck) = noise::hkdf(&ck, &[], b"TagAndKeyGenKeys");
        let (mut chain, constant) = noise::hkdf(&tag_ck, &[], b"STInitialization");
        let mut key_chain = key_ck;
        for _ in 0..3 {
            let (next, out) = noise::hkdf(&chain, &constant, b"SessionTagKeyGen");
            chain = next;
            assert_eq!(tags.next(), out[..8]);
            let (next, key) = noise::hkdf(&key_chain, &[], b"SymmetricRatchet");
            key_chain = next;
            assert_eq!(keys.next(), key);
        }
    }

    #[test]
    fn split_directions_and_reply_tags_differ() {
        let ck = [9u8; 32];
        let mut split = split(&ck);
        let ab = split.alice_to_bob.0.next();
        let ba = split.bob_to_alice.0.next();
        let reply = reply_tags(&ck).next();
        assert_ne!(ab, ba);
        assert_ne!(ab, reply);
        assert_ne!(ba, reply);
        assert_ne!(split.alice_to_bob.1.next(), split.bob_to_alice.1.next());
    }

    #[test]
    fn ephemeral_encoding_round_trips() {
        let public = PublicKey::from([0x42u8; 32]);
        assert_eq!(decode_ephemeral(&encode_ephemeral(&public)), public);
    }
}
