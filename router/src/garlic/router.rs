//! The garlic forms a router uses for itself (spec: ECIES-X25519 Router Messages,
//! proposal 156; I2NP, DatabaseLookup "Reply Encryption"; tunnel-creation-ecies,
//! "Garlic Encryption").
//!
//! Both produce or consume the `data` of an I2NP Garlic message; the plaintext is a
//! payload section ([`super::payload`]).
//!
//! One-time message to a router's static X25519 key, from an anonymous sender (netDb
//! lookups and stores to floodfills, an inbound ShortTunnelBuild to its gateway). It is
//! Noise N, the pattern of tunnel build records, and unlike destinations' New Session
//! messages there is no static key section, and the ephemeral key is NOT
//! Elligator2-encoded (the specification: "the threat model does not require" it):
//!
//! ```text
//! 0-31  sender's ephemeral X25519 key
//! 32-   ChaCha20-Poly1305 of the payload: key from "es", nonce 0, ad = h after "e"
//! last 16 bytes: the MAC
//! ```
//!
//! Its payload must hold a DateTime block, first, as in a New Session message
//! ([`super::payload::PayloadKind::NewSession`]).
//!
//! Reply under a one-time key and tag, both chosen by the receiver beforehand: the key
//! and 8-byte tag a DatabaseLookup carries for its reply, or the garlic reply key and tag
//! an outbound endpoint derives from its build record (`crate::tunnel::build::GarlicReplyKey`)
//! to wrap the OutboundTunnelBuildReply. The format is the Existing Session message:
//!
//! ```text
//! 0-7   the tag, in the clear: the receiver finds the key by it
//! 8-    ChaCha20-Poly1305 of the payload: the key, nonce 0, ad = the tag
//! last 16 bytes: the MAC
//! ```
//!
//! Nonce 0 is safe because each key seals a single message.

use super::GarlicError;
use crate::crypto::noise::{self, OneWay, MAC_LEN};
use crate::crypto::SharedSecrets;
use rand::{CryptoRng, RngCore};
use x25519_dalek::StaticSecret;

/// Length of the cleartext ephemeral key of a one-time message.
const EPHEMERAL_LEN: usize = 32;
/// Length of the cleartext tag of a tagged reply.
pub const TAG_LEN: usize = 8;
/// What a one-time message adds to its payload.
pub const ONE_TIME_OVERHEAD: usize = EPHEMERAL_LEN + MAC_LEN;
/// What a tagged reply adds to its payload.
pub const TAGGED_OVERHEAD: usize = TAG_LEN + MAC_LEN;

/// Encrypts `payload` to the router whose X25519 key (its identity's encryption key) is
/// `router_key`, with a fresh ephemeral key from `rng`.
///
/// Fails only if `router_key` is a low-order point, which a router can publish but
/// nobody can share a secret with.
pub fn seal_to_router<R: RngCore + CryptoRng>(
    rng: &mut R,
    router_key: &[u8; 32],
    payload: &[u8],
    memo: Option<&SharedSecrets>,
) -> Result<Vec<u8>, GarlicError> {
    let (ephemeral, OneWay { state, key }) =
        OneWay::initiate(rng, router_key, memo).ok_or(GarlicError::LowOrderKey)?;
    let mut out = Vec::with_capacity(ONE_TIME_OVERHEAD + payload.len());
    out.extend_from_slice(&ephemeral);
    out.extend_from_slice(payload);
    let mac = noise::seal(&key, 0, state.handshake_hash(), &mut out[EPHEMERAL_LEN..]);
    out.extend_from_slice(&mac);
    Ok(out)
}

/// Opens a one-time message to this router, whose static key pair is `secret` and
/// `public` (the router keeps the public half: deriving it again would cost a fixed-base
/// scalar multiplication per message); returns the payload section.
pub fn open_as_router(
    secret: &StaticSecret,
    public: &[u8; 32],
    message: &[u8],
    memo: Option<&SharedSecrets>,
) -> Result<Vec<u8>, GarlicError> {
    let parts = Parts::split(message, EPHEMERAL_LEN)?;
    let mut ephemeral = [0u8; EPHEMERAL_LEN];
    ephemeral.copy_from_slice(parts.header);
    let OneWay { state, key } =
        OneWay::respond(secret, public, &ephemeral, memo).ok_or(GarlicError::Undecryptable)?;
    let mut payload = parts.ciphertext.to_vec();
    noise::open(&key, 0, state.handshake_hash(), &mut payload, parts.mac)
        .map_err(|_| GarlicError::Undecryptable)?;
    Ok(payload)
}

/// Encrypts `payload` as a reply under a one-time `key` and `tag`.
pub fn seal_with_tag(key: &[u8; 32], tag: [u8; TAG_LEN], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TAGGED_OVERHEAD + payload.len());
    out.extend_from_slice(&tag);
    out.extend_from_slice(payload);
    let mac = noise::seal(key, 0, &tag, &mut out[TAG_LEN..]);
    out.extend_from_slice(&mac);
    out
}

/// The cleartext tag a tagged reply (or any Existing Session message) starts with: what
/// a receiver looks its key up by. `None` if the message is too short to be one.
pub fn session_tag(message: &[u8]) -> Option<[u8; TAG_LEN]> {
    let parts = Parts::split(message, TAG_LEN).ok()?;
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(parts.header);
    Some(out)
}

/// Opens a tagged reply with the `key` that goes with its [`session_tag`]; returns the
/// payload section.
pub fn open_with_tag(key: &[u8; 32], message: &[u8]) -> Result<Vec<u8>, GarlicError> {
    let parts = Parts::split(message, TAG_LEN)?;
    let mut payload = parts.ciphertext.to_vec();
    noise::open(key, 0, parts.header, &mut payload, parts.mac)
        .map_err(|_| GarlicError::Undecryptable)?;
    Ok(payload)
}

/// A sealed message cut into its cleartext header, its ciphertext and its MAC.
struct Parts<'a> {
    header: &'a [u8],
    ciphertext: &'a [u8],
    mac: &'a [u8; MAC_LEN],
}

impl<'a> Parts<'a> {
    fn split(message: &'a [u8], header_len: usize) -> Result<Parts<'a>, GarlicError> {
        let too_short = || GarlicError::TooShort {
            min: header_len + MAC_LEN,
            actual: message.len(),
        };
        let (header, rest) = message.split_at_checked(header_len).ok_or_else(too_short)?;
        let (ciphertext, mac) = rest.split_last_chunk().ok_or_else(too_short)?;
        Ok(Parts {
            header,
            ciphertext,
            mac,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public_of(secret: &StaticSecret) -> [u8; 32] {
        PublicKey::from(secret).to_bytes()
    }
    use crate::garlic::payload::{
        emit_payload, parse_payload, Block, Clove, CloveDelivery, PayloadKind,
    };
    use crate::i2np::{DeliveryStatus, I2npMessage, MessageBody};
    use chacha20poly1305::aead::{Aead, Payload};
    use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
    use hkdf::Hkdf;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use sha2::{Digest, Sha256};
    use x25519_dalek::PublicKey;

    fn router(seed: u64) -> (StaticSecret, [u8; 32]) {
        let secret = StaticSecret::random_from_rng(ChaCha20Rng::seed_from_u64(seed));
        let public = PublicKey::from(&secret).to_bytes();
        (secret, public)
    }

    fn lookup_payload() -> Vec<u8> {
        emit_payload(&[
            Block::DateTime(1_700_000_000),
            Block::Clove(Clove {
                delivery: CloveDelivery::Local,
                message: I2npMessage {
                    id: 9,
                    expiration_ms: 1_700_000_060_000,
                    body: MessageBody::DeliveryStatus(DeliveryStatus {
                        msg_id: 1,
                        timestamp_ms: 2,
                    }),
                },
            }),
            Block::Padding(5),
        ])
        .expect("valid payload")
    }

    /// Recomputes the spec's "KDF for Message" with the raw primitives, independently of
    /// `SymmetricState`, to pin the layout and every input of the KDF.
    #[test]
    fn one_time_message_follows_the_router_spec() {
        let (secret, public) = router(1);
        let payload = lookup_payload();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let message = seal_to_router(&mut rng, &public, &payload, None).expect("valid key");
        assert_eq!(message.len(), 32 + payload.len() + 16);

        let ephemeral: [u8; 32] = message[..32].try_into().expect("32 bytes");
        let mut name = [0u8; 32];
        name[..31].copy_from_slice(b"Noise_N_25519_ChaChaPoly_SHA256");
        let h: [u8; 32] = Sha256::digest(name).into();
        let h: [u8; 32] = Sha256::digest([&h[..], &public[..]].concat()).into();
        let h: [u8; 32] = Sha256::digest([&h[..], &ephemeral[..]].concat()).into();
        let shared = secret.diffie_hellman(&PublicKey::from(ephemeral));
        let mut keydata = [0u8; 64];
        Hkdf::<Sha256>::new(Some(&name), shared.as_bytes())
            .expand(b"", &mut keydata)
            .expect("64 bytes");
        let cipher = ChaCha20Poly1305::new_from_slice(&keydata[32..]).expect("32 bytes");
        let plaintext = cipher
            .decrypt(
                &[0u8; 12].into(),
                Payload {
                    msg: &message[32..],
                    aad: &h,
                },
            )
            .expect("decrypts by the spec's KDF");
        assert_eq!(plaintext, payload);

        let opened = open_as_router(&secret, &public_of(&secret), &message, None).expect("ours");
        assert_eq!(opened, payload);
        let blocks = parse_payload(&opened).expect("valid");
        assert_eq!(PayloadKind::NewSession.check(&blocks), Ok(()));
    }

    #[test]
    fn tagged_reply_follows_the_lookup_spec() {
        let key = [7u8; 32];
        let tag = [1, 2, 3, 4, 5, 6, 7, 8];
        let payload = lookup_payload();
        let message = seal_with_tag(&key, tag, &payload);
        assert_eq!(&message[..8], &tag);
        assert_eq!(session_tag(&message), Some(tag));
        let cipher = ChaCha20Poly1305::new_from_slice(&key).expect("32 bytes");
        let plaintext = cipher
            .decrypt(
                &[0u8; 12].into(),
                Payload {
                    msg: &message[8..],
                    aad: &tag,
                },
            )
            .expect("nonce 0, the tag as associated data");
        assert_eq!(plaintext, payload);
        assert_eq!(open_with_tag(&key, &message), Ok(payload));
    }

    #[test]
    fn wrong_keys_fail_cleanly() {
        let (_, public) = router(3);
        let (other, _) = router(4);
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let message = seal_to_router(&mut rng, &public, b"payload", None).expect("valid key");
        assert_eq!(
            open_as_router(&other, &public_of(&other), &message, None),
            Err(GarlicError::Undecryptable)
        );
        let tagged = seal_with_tag(&[1; 32], [2; 8], b"payload");
        assert_eq!(
            open_with_tag(&[3; 32], &tagged),
            Err(GarlicError::Undecryptable)
        );
    }

    #[test]
    fn every_tampered_byte_fails() {
        let (secret, public) = router(6);
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let message =
            seal_to_router(&mut rng, &public, b"attack at dawn", None).expect("valid key");
        for at in 0..message.len() {
            let mut tampered = message.clone();
            tampered[at] ^= 0x01;
            assert!(
                open_as_router(&secret, &public_of(&secret), &tampered, None).is_err(),
                "byte {at}"
            );
        }
        let tagged = seal_with_tag(&[1; 32], [2; 8], b"attack at dawn");
        for at in 0..tagged.len() {
            let mut tampered = tagged.clone();
            tampered[at] ^= 0x80;
            assert!(open_with_tag(&[1; 32], &tampered).is_err(), "byte {at}");
        }
    }

    #[test]
    fn short_messages_and_low_order_points() {
        let (secret, _) = router(8);
        assert_eq!(
            open_as_router(&secret, &public_of(&secret), &[0; 47], None),
            Err(GarlicError::TooShort {
                min: 48,
                actual: 47
            })
        );
        assert_eq!(
            open_with_tag(&[0; 32], &[0; 23]),
            Err(GarlicError::TooShort {
                min: 24,
                actual: 23
            })
        );
        assert_eq!(session_tag(&[0; 23]), None);
        // An empty payload is a valid (if useless) message.
        assert_eq!(
            open_with_tag(&[0; 32], &seal_with_tag(&[0; 32], [0; 8], &[])),
            Ok(vec![])
        );

        // u = 0 is a low-order point, as sender's or as receiver's key.
        assert_eq!(
            open_as_router(&secret, &public_of(&secret), &[0; 60], None),
            Err(GarlicError::Undecryptable)
        );
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        assert_eq!(
            seal_to_router(&mut rng, &[0; 32], b"x", None),
            Err(GarlicError::LowOrderKey)
        );
    }

    #[test]
    fn ephemeral_keys_are_fresh() {
        let (_, public) = router(10);
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let a = seal_to_router(&mut rng, &public, b"same", None).expect("valid key");
        let b = seal_to_router(&mut rng, &public, b"same", None).expect("valid key");
        assert_ne!(a[..32], b[..32]);
        assert_ne!(a, b);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trips(seed: u64, payload in proptest::collection::vec(any::<u8>(), 0..600), key: [u8; 32], tag: [u8; 8]) {
            let (secret, public) = router(seed);
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let sealed = seal_to_router(&mut rng, &public, &payload, None)?;
            prop_assert_eq!(open_as_router(&secret, &public_of(&secret), &sealed, None)?, payload.clone());
            prop_assert_eq!(open_with_tag(&key, &seal_with_tag(&key, tag, &payload))?, payload);
        }

        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>(), key: [u8; 32]) {
            let (secret, _) = router(12);
            prop_assert!(open_as_router(&secret, &public_of(&secret), &bytes, None).is_err());
            prop_assert!(open_with_tag(&key, &bytes).is_err());
        }
    }
}
