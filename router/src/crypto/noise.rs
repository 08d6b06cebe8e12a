//! The pieces of the Noise protocol framework (revision 34) that I2P builds on: HKDF, the
//! symmetric state's MixHash and MixKey, and ChaChaPoly with Noise's nonce layout.
//!
//! I2P defines these once (spec: NTCP2 and ECIES-X25519, "KDF" sections) and reuses them
//! for NTCP2, ECIES garlic and ECIES tunnel build records, so they live here rather than
//! in any one protocol.

use super::SharedSecrets;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use hkdf::Hkdf;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};

/// Length of a Poly1305 tag.
pub(crate) const MAC_LEN: usize = 16;

/// `HKDF(salt, ikm, info, 64)` as the I2P specifications write it (RFC 5869 with
/// SHA-256), returned as its two 32-byte halves `(keydata[0..32], keydata[32..64])`.
///
/// The specifications' `ZEROLEN` input key material is an empty `ikm`.
pub(crate) fn hkdf(salt: &[u8; 32], ikm: &[u8], info: &[u8]) -> ([u8; 32], [u8; 32]) {
    let mut okm = [0u8; 64];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut okm)
        .expect("64 bytes is far below HKDF-SHA256's 8160-byte output limit");
    let mut first = [0u8; 32];
    let mut second = [0u8; 32];
    first.copy_from_slice(&okm[..32]);
    second.copy_from_slice(&okm[32..]);
    (first, second)
}

/// Noise's 12-byte ChaChaPoly nonce for counter `n`: four zero bytes, then `n` as 8
/// little-endian bytes (spec: NTCP2, "Cipher function"). ChaCha20's IV has the same
/// layout, which is why I2P uses this for STREAM IVs too.
pub(crate) fn nonce(n: u64) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[4..].copy_from_slice(&n.to_le_bytes());
    out
}

/// ChaCha20-Poly1305 encryption of `buf` in place under `key` with Noise nonce `n`;
/// returns the tag that follows the ciphertext on the wire.
pub(crate) fn seal(key: &[u8; 32], n: u64, ad: &[u8], buf: &mut [u8]) -> [u8; MAC_LEN] {
    ChaCha20Poly1305::new(key.into())
        .encrypt_in_place_detached(Nonce::from_slice(&nonce(n)), ad, buf)
        .expect("AEAD input far below ChaCha20-Poly1305's 256 GiB limit")
        .into()
}

/// Verifies `tag` and decrypts `buf` in place; on failure `buf` is left unchanged.
pub(crate) fn open(
    key: &[u8; 32],
    n: u64,
    ad: &[u8],
    buf: &mut [u8],
    tag: &[u8; MAC_LEN],
) -> Result<(), chacha20poly1305::Error> {
    ChaCha20Poly1305::new(key.into()).decrypt_in_place_detached(
        Nonce::from_slice(&nonce(n)),
        ad,
        buf,
        Tag::from_slice(tag),
    )
}

/// `ENCRYPT(k, n, plaintext, ad)` appended to `out` as the wire carries it: ciphertext,
/// then its MAC. For messages built section by section (ECIES garlic).
pub(crate) fn seal_append(key: &[u8; 32], n: u64, ad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(plaintext);
    let mac = seal(key, n, ad, &mut out[start..]);
    out.extend_from_slice(&mac);
}

/// `DECRYPT(k, n, sealed, ad)` of a ciphertext followed by its MAC: the plaintext, or
/// `None` when `sealed` is shorter than a MAC or does not authenticate.
pub(crate) fn open_sealed(key: &[u8; 32], n: u64, ad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let split = sealed.len().checked_sub(MAC_LEN)?;
    let (ciphertext, mac) = sealed.split_at(split);
    let mut plaintext = ciphertext.to_vec();
    let mac: &[u8; MAC_LEN] = mac.try_into().ok()?;
    open(key, n, ad, &mut plaintext, mac).ok()?;
    Some(plaintext)
}

/// A Noise symmetric state: chaining key `ck` and handshake hash `h`.
///
/// Both are secret-dependent (ck feeds every key derived later), so there is no `Debug`.
#[derive(Clone)]
pub(crate) struct SymmetricState {
    ck: [u8; 32],
    h: [u8; 32],
}

impl SymmetricState {
    /// `InitializeSymmetric(protocol_name)` followed by the MixHash of the empty prologue
    /// every I2P Noise protocol uses. Names of up to 32 bytes are zero-padded, longer
    /// ones hashed, as Noise specifies.
    pub(crate) fn new(protocol_name: &[u8]) -> SymmetricState {
        let h: [u8; 32] = match protocol_name.len() {
            len @ 0..=32 => {
                let mut padded = [0u8; 32];
                padded[..len].copy_from_slice(protocol_name);
                padded
            }
            _ => Sha256::digest(protocol_name).into(),
        };
        let mut state = SymmetricState { ck: h, h };
        state.mix_hash(&[]);
        state
    }

    /// `h = SHA-256(h || data)`.
    pub(crate) fn mix_hash(&mut self, data: &[u8]) {
        let mut hasher = Sha256::new();
        hasher.update(self.h);
        hasher.update(data);
        self.h = hasher.finalize().into();
    }

    /// `ck, k = HKDF(ck, ikm, "", 64)`; returns the cipher key `k`.
    pub(crate) fn mix_key(&mut self, ikm: &[u8]) -> [u8; 32] {
        let (ck, k) = hkdf(&self.ck, ikm, b"");
        self.ck = ck;
        k
    }

    /// Noise's `Split()`: the two transport cipher keys `HKDF(ck, ZEROLEN)`, first for
    /// the initiator's direction, then for the responder's (spec: NTCP2, "KDF for data
    /// phase", where they are `k_ab` and `k_ba`).
    pub(crate) fn split(&self) -> ([u8; 32], [u8; 32]) {
        hkdf(&self.ck, &[], b"")
    }

    pub(crate) fn chaining_key(&self) -> &[u8; 32] {
        &self.ck
    }

    pub(crate) fn handshake_hash(&self) -> &[u8; 32] {
        &self.h
    }
}

/// Protocol name of Noise's one-way pattern N, which I2P uses for every message to a
/// router's static X25519 key: tunnel build records (spec: tunnel-creation-ecies) and
/// garlic messages to routers (spec: ECIES-X25519 Router Messages).
const NOISE_N: &[u8] = b"Noise_N_25519_ChaChaPoly_SHA256";

/// The one message of Noise N up to its payload, `e, es` (spec: ECIES-X25519 Router
/// Messages, "KDF for Initial ck and h" and "KDF for Message"; tunnel-creation-ecies,
/// "KDF for Request Record"):
///
/// ```text
/// h = MixHash(responder static key); h = MixHash(ephemeral key)
/// ck, key = MixKey(DH(ephemeral, static))
/// ```
///
/// The payload is then sealed with `key`, nonce 0 and `h` as associated data. The
/// ephemeral key is sent in the clear, not Elligator2-encoded: the router specification
/// states its threat model does not need that.
pub(crate) struct OneWay {
    /// ck and h after `es`: tunnel builds derive further keys from them.
    pub(crate) state: SymmetricState,
    /// The payload's ChaChaPoly key.
    pub(crate) key: [u8; 32],
}

impl OneWay {
    /// The sender's side, with a fresh ephemeral key from `rng` (reusing one would link
    /// messages). Returns the ephemeral public key to send before the ciphertext, or
    /// `None` if `responder` is a low-order point, with which no secret can be shared.
    pub(crate) fn initiate<R: RngCore + CryptoRng>(
        rng: &mut R,
        responder: &[u8; 32],
        memo: Option<&SharedSecrets>,
    ) -> Option<([u8; 32], OneWay)> {
        // The same 32 bytes from `rng` as an `EphemeralSecret` draws; the memo needs them.
        let ephemeral = StaticSecret::random_from_rng(rng);
        let ephemeral_public = PublicKey::from(&ephemeral).to_bytes();
        let shared = match memo {
            Some(memo) => {
                let shared = memo.agree(&ephemeral.to_bytes(), responder);
                memo.put(ephemeral_public, *responder, shared);
                shared
            }
            None => ephemeral
                .diffie_hellman(&PublicKey::from(*responder))
                .to_bytes(),
        };
        Some((
            ephemeral_public,
            Self::mix(responder, &ephemeral_public, &shared)?,
        ))
    }

    /// The receiver's side: `public` is our static public key, `ephemeral` the sender's
    /// key from the message. `None` if `ephemeral` is a low-order point. `memo` may hold
    /// the sender's result (`public` must then be the public half of `secret`).
    pub(crate) fn respond(
        secret: &StaticSecret,
        public: &[u8; 32],
        ephemeral: &[u8; 32],
        memo: Option<&SharedSecrets>,
    ) -> Option<OneWay> {
        let shared = memo
            .and_then(|m| m.take(ephemeral, public))
            .unwrap_or_else(|| {
                secret
                    .diffie_hellman(&PublicKey::from(*ephemeral))
                    .to_bytes()
            });
        Self::mix(public, ephemeral, &shared)
    }

    fn mix(responder: &[u8; 32], ephemeral: &[u8; 32], shared: &[u8; 32]) -> Option<OneWay> {
        // An all-zero DH output means the other key was a low-order point (what
        // x25519-dalek's `was_contributory` checks).
        if shared.iter().all(|b| *b == 0) {
            return None;
        }
        let mut state = SymmetricState::new(NOISE_N);
        state.mix_hash(responder);
        state.mix_hash(ephemeral);
        let key = state.mix_key(shared);
        Some(OneWay { state, key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    #[test]
    fn hkdf_halves_follow_rfc5869_expand() {
        // HKDF-Expand by hand: T(1) = HMAC(PRK, info || 1), T(2) = HMAC(PRK, T(1) || info || 2),
        // with PRK = HMAC(salt, ikm). This pins which half is which.
        let salt = [7u8; 32];
        let hmac = |key: &[u8], parts: &[&[u8]]| -> [u8; 32] {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().into()
        };
        let prk = hmac(&salt, &[]);
        let t1 = hmac(&prk, &[b"SMTunnelReplyKey", &[1]]);
        let t2 = hmac(&prk, &[&t1, b"SMTunnelReplyKey", &[2]]);
        assert_eq!(hkdf(&salt, &[], b"SMTunnelReplyKey"), (t1, t2));
    }

    #[test]
    fn nonce_layout() {
        assert_eq!(nonce(0), [0; 12]);
        assert_eq!(nonce(5), [0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(nonce(0x0102), [0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn protocol_names_are_padded_or_hashed() {
        let short = SymmetricState::new(b"Noise_N_25519_ChaChaPoly_SHA256");
        let mut padded = [0u8; 32];
        padded[..31].copy_from_slice(b"Noise_N_25519_ChaChaPoly_SHA256");
        assert_eq!(short.chaining_key(), &padded);
        let prologue: [u8; 32] = Sha256::digest(padded).into();
        assert_eq!(short.handshake_hash(), &prologue);

        let name = b"Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256";
        let long = SymmetricState::new(name);
        let hashed: [u8; 32] = Sha256::digest(name).into();
        assert_eq!(long.chaining_key(), &hashed);
    }

    #[test]
    fn seal_append_round_trips_through_open_sealed() {
        let key = [3u8; 32];
        let mut out = b"prefix".to_vec();
        seal_append(&key, 7, b"ad", b"payload", &mut out);
        assert_eq!(out.len(), 6 + 7 + MAC_LEN);
        assert_eq!(&out[..6], b"prefix");
        assert_eq!(
            open_sealed(&key, 7, b"ad", &out[6..]),
            Some(b"payload".to_vec())
        );
        assert_eq!(open_sealed(&key, 6, b"ad", &out[6..]), None);
        assert_eq!(open_sealed(&key, 7, b"ad", &out[7..]), None);
        assert_eq!(open_sealed(&key, 7, b"ad", &out[..MAC_LEN - 1]), None);
        // An empty plaintext is a bare MAC (the key section of a New Session Reply).
        let mut mac_only = Vec::new();
        seal_append(&key, 0, b"h", &[], &mut mac_only);
        assert_eq!(open_sealed(&key, 0, b"h", &mac_only), Some(Vec::new()));
    }

    #[test]
    fn mix_key_chains_and_seal_opens() {
        let mut state = SymmetricState::new(b"test");
        let before = *state.chaining_key();
        let k = state.mix_key(&[9; 32]);
        assert_eq!((*state.chaining_key(), k), hkdf(&before, &[9; 32], b""));

        let mut buf = *b"attack at dawn";
        let tag = seal(&k, 3, b"ad", &mut buf);
        assert_ne!(&buf, b"attack at dawn");
        let sealed = buf;
        assert!(open(&k, 2, b"ad", &mut buf, &tag).is_err());
        assert!(open(&k, 3, b"da", &mut buf, &tag).is_err());
        assert_eq!(buf, sealed, "a failed open leaves the ciphertext alone");
        assert!(open(&k, 3, b"ad", &mut buf, &tag).is_ok());
        assert_eq!(&buf, b"attack at dawn");
    }
}
