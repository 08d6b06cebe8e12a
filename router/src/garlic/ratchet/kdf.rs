//! The key derivations of ECIES-X25519-AEAD-Ratchet past the Noise handshake itself, and
//! the ephemeral-key encoding (spec: ecies, "4a) DH Ratchet" / "DH INITIALIZATION KDF",
//! "DH RATCHET KDF", "4b) Session Tag Ratchet", "4c) Symmetric Key Ratchet", "1g) New
//! Session Reply format" / "KDF for Reply TagSet" and "KDF for Payload Section Encrypted
//! Contents"). The ephemeral keys' Elligator2 encoding is `crate::crypto::elligator2`.
//!
//! Every step is `HKDF(salt, ikm, info, 64)` split in two halves, which
//! [`noise::hkdf`] returns. Where the specification asks for 32 bytes only, the first half
//! is the same value: HKDF's output stream does not depend on its requested length.

use crate::crypto::noise;
use std::fmt;

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

/// A new tag set from `DH_INITIALIZE`: its tag and key ratchets, and the root key of the
/// next DH ratchet in the same direction.
pub(super) struct TagSetKeys {
    pub(super) tags: TagChain,
    pub(super) keys: KeyChain,
    /// `nextRootKey`: the `rootKey` of the tag set that will replace this one.
    pub(super) next_root: [u8; 32],
}

impl fmt::Debug for TagSetKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TagSetKeys { .. }")
    }
}

/// `DH_INITIALIZE(rootKey, k)` (spec: "DH INITIALIZATION KDF").
pub(super) fn dh_initialize(root_key: &[u8; 32], k: &[u8; 32]) -> TagSetKeys {
    let (next_root, chain_key) = noise::hkdf(root_key, k, b"KDFDHRatchetStep");
    let (session_tag_ck, symmetric_key_ck) = noise::hkdf(&chain_key, &[], b"TagAndKeyGenKeys");
    TagSetKeys {
        tags: TagChain::new(&session_tag_ck),
        keys: KeyChain {
            chain_key: symmetric_key_ck,
        },
        next_root,
    }
}

/// The tag set after a NextKey exchange (spec: "DH RATCHET KDF"): `tagsetKey =
/// HKDF(sharedSecret, ZEROLEN, "XDHRatchetTagSet", 32)`, then `DH_INITIALIZE(nextRootKey,
/// tagsetKey)` with the root key the previous tag set of this direction left.
pub(super) fn ratchet_tag_set(next_root: &[u8; 32], shared_secret: &[u8; 32]) -> TagSetKeys {
    let (tagset_key, _) = noise::hkdf(shared_secret, &[], b"XDHRatchetTagSet");
    dh_initialize(next_root, &tagset_key)
}

/// The tags of the New Session Replies to one New Session (spec: "KDF for Reply TagSet"):
/// `tagsetKey = HKDF(chainKey, ZEROLEN, "SessionReplyTags", 32)`, then
/// `DH_INITIALIZE(chainKey, tagsetKey)`. The replies are keyed by the handshake, so the
/// tag set's key ratchet is not used.
pub(super) fn reply_tags(chain_key: &[u8; 32]) -> TagChain {
    let (tagset_key, _) = noise::hkdf(chain_key, &[], b"SessionReplyTags");
    dh_initialize(chain_key, &tagset_key).tags
}

/// What Noise `Split()` yields at the end of a New Session Reply (spec: "KDF for Payload
/// Section Encrypted Contents").
pub(super) struct Split {
    /// Tag set 0 from Alice (the New Session's sender) to Bob.
    pub(super) alice_to_bob: TagSetKeys,
    /// Tag set 0 from Bob to Alice.
    pub(super) bob_to_alice: TagSetKeys,
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
        let TagSetKeys {
            mut tags,
            mut keys,
            next_root,
        } = dh_initialize(&root, &k);

        // The same steps spelt out with the bare HKDF.
        let (root_out, ck) = noise::hkdf(&root, &k, b"KDFDHRatchetStep");
        assert_eq!(next_root, root_out);
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
        let ab = split.alice_to_bob.tags.next();
        let ba = split.bob_to_alice.tags.next();
        let reply = reply_tags(&ck).next();
        assert_ne!(ab, ba);
        assert_ne!(ab, reply);
        assert_ne!(ba, reply);
        assert_ne!(
            split.alice_to_bob.keys.next(),
            split.bob_to_alice.keys.next()
        );
        assert_ne!(split.alice_to_bob.next_root, split.bob_to_alice.next_root);
    }

    #[test]
    fn ratchet_tag_set_follows_the_spec_steps() {
        let (next_root, shared) = ([3u8; 32], [4u8; 32]);
        let (tagset_key, _) = noise::hkdf(&shared, &[], b"XDHRatchetTagSet");
        let mut expected = dh_initialize(&next_root, &tagset_key);
        let mut ratcheted = ratchet_tag_set(&next_root, &shared);
        assert_eq!(ratcheted.next_root, expected.next_root);
        assert_eq!(ratcheted.tags.next(), expected.tags.next());
        assert_eq!(ratcheted.keys.next(), expected.keys.next());
    }
}
