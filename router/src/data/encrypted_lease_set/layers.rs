//! The two encrypted layers inside an encrypted LeaseSet and per-client authorisation
//! (spec: Encrypted LeaseSet, "Layer 1 (middle)", "Layer 2 (inner)", "Layer 1/2
//! encryption" and "Per-client authorization").
//!
//! Both layers are `salt ‖ ChaCha20(plaintext)` with key and IV from
//! `HKDF(salt, input, info, 44)`. Layer 1's input is `subcredential ‖ published`, which
//! anyone with the destination's address can compute; layer 2's also starts with the
//! `authCookie` when the destination authorises clients one by one, and layer 1 then
//! carries that cookie encrypted once per authorised client. There is no MAC: a wrong key
//! yields noise, which the parsers below refuse (or, rarely, take for an authorisation
//! section that names nobody we are).

use super::EncryptedLeaseSet;
use crate::crypto::blinding::{BlindedSigningKey, Credential};
use crate::crypto::stream;
use crate::data::reader::Reader;
use crate::data::{BlindableSigType, DataError, Destination, LeaseSet2, MetaLeaseSet};
use hkdf::Hkdf;
use rand::seq::SliceRandom;
use rand::{CryptoRng, RngCore};
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;
use x25519_dalek::{PublicKey, StaticSecret};

const SALT_LEN: usize = 32;
const COOKIE_LEN: usize = 32;
const CLIENT_ID_LEN: usize = 8;
/// `clientID_i ‖ clientCookie_i`.
const CLIENT_ENTRY_LEN: usize = CLIENT_ID_LEN + COOKIE_LEN;
const LAYER1_INFO: &[u8] = b"ELS2_L1K";
const LAYER2_INFO: &[u8] = b"ELS2_L2K";
const DH_AUTH_INFO: &[u8] = b"ELS2_XCA";
const PSK_AUTH_INFO: &[u8] = b"ELS2PSKA";
/// Layer 1 flags: bit 0 says an authorisation section follows, bits 3-1 its scheme.
/// Bits 7-4 are reserved ("set to 0 for future compatibility") and ignored.
const FLAG_PER_CLIENT: u8 = 1;
const SCHEME_DH: u8 = 0;
const SCHEME_PSK: u8 = 1;

/// Who may read an encrypted LeaseSet beyond knowing the destination's address.
#[derive(Clone)]
pub enum ClientAuthorization {
    /// Everyone who knows the address (and the secret, if the address requires one).
    Everybody,
    /// The clients holding the X25519 private keys of these public keys (DH client
    /// authorisation): the clients' secrets never leave them.
    Dh(Vec<[u8; 32]>),
    /// The clients holding these pre-shared keys (PSK client authorisation): no DH, but
    /// whoever intercepts a key can read every LeaseSet that key is authorised for.
    Psk(Vec<[u8; 32]>),
}

/// Shows the scheme and how many clients, never a key.
impl fmt::Debug for ClientAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAuthorization::Everybody => f.write_str("Everybody"),
            ClientAuthorization::Dh(keys) => write!(f, "Dh({} clients)", keys.len()),
            ClientAuthorization::Psk(keys) => write!(f, "Psk({} clients)", keys.len()),
        }
    }
}

/// A client's key for per-client authorisation. `Debug` shows only the scheme.
#[derive(Clone)]
pub enum ClientKey {
    /// The client's X25519 private key; the server was given its public key.
    Dh(StaticSecret),
    /// The 32-byte key the client shared with the server.
    Psk([u8; 32]),
}

impl ClientKey {
    /// What a DH client sends the server out of band (`cpk_i`); `None` for a PSK.
    pub fn dh_public(&self) -> Option<[u8; 32]> {
        match self {
            ClientKey::Dh(secret) => Some(PublicKey::from(secret).to_bytes()),
            ClientKey::Psk(_) => None,
        }
    }

    /// The id, key and IV this client has in an authorisation section of `scheme` whose
    /// first field (the server's ephemeral key for DH, the salt for PSK) is `salt`; `None`
    /// when the scheme is not ours, or the server's key is one no honest server sends.
    fn derive(
        &self,
        scheme: u8,
        salt: &[u8; SALT_LEN],
        subcredential: &[u8; 32],
        published: &[u8; 4],
    ) -> Option<ClientSecret> {
        match (self, scheme) {
            (ClientKey::Dh(secret), SCHEME_DH) => {
                let shared = secret.diffie_hellman(&PublicKey::from(*salt));
                let public = PublicKey::from(secret).to_bytes();
                shared.was_contributory().then(|| {
                    ClientSecret::dh(shared.as_bytes(), &public, salt, subcredential, published)
                })
            }
            (ClientKey::Psk(psk), SCHEME_PSK) => {
                Some(ClientSecret::psk(psk, salt, subcredential, published))
            }
            _ => None,
        }
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::Dh(_) => f.write_str("ClientKey::Dh(..)"),
            ClientKey::Psk(_) => f.write_str("ClientKey::Psk(..)"),
        }
    }
}

/// What an encrypted LeaseSet wraps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InnerLeaseSet {
    /// A LeaseSet2, parsed and verified.
    LeaseSet2(Arc<LeaseSet2>),
    /// A MetaLeaseSet (type 7), parsed and verified: an encrypted pointer to the
    /// service's other LeaseSets.
    Meta(Arc<MetaLeaseSet>),
}

/// Why an encrypted LeaseSet could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Per-client authorisation is on and no entry is ours: no client key was given, it
    /// is of the other scheme, or the publisher did not (or no longer does) list it.
    #[error("encrypted lease set: not authorised")]
    NotAuthorised,
    /// A layer does not parse once decrypted, or the inner LeaseSet does not verify. A
    /// wrong credential (another destination, or a wrong secret behind the blinded key)
    /// ends here, as the layers then decrypt to noise.
    #[error("encrypted lease set: {0}")]
    Malformed(#[from] DataError),
    /// The inner LeaseSet is a destination's whose credential is not the one we used:
    /// someone who knows our destination's address wrapped another's LeaseSet.
    #[error("encrypted lease set: the inner lease set belongs to another destination")]
    WrongDestination,
    /// The inner LeaseSet's `what` differs from the outer layer's, which the spec says
    /// to check after decryption (spec: Encrypted LeaseSet, Notes).
    #[error("encrypted lease set: inner {what} differs from the outer layer's")]
    Mismatch { what: &'static str },
}

/// One client's `clientKey_i`, `clientIV_i` and `clientID_i`.
struct ClientSecret {
    key: [u8; 32],
    iv: [u8; 12],
    id: [u8; CLIENT_ID_LEN],
}

impl ClientSecret {
    /// `HKDF(epk, sharedSecret ‖ cpk_i ‖ subcredential ‖ published, "ELS2_XCA", 52)`.
    fn dh(
        shared: &[u8; 32],
        client_public: &[u8; 32],
        ephemeral_public: &[u8; 32],
        subcredential: &[u8; 32],
        published: &[u8; 4],
    ) -> ClientSecret {
        let ikm = [shared.as_slice(), client_public, subcredential, published];
        Self::split(kdf(ephemeral_public, &ikm, DH_AUTH_INFO))
    }

    /// `HKDF(authSalt, psk_i ‖ subcredential ‖ published, "ELS2PSKA", 52)`.
    fn psk(
        psk: &[u8; 32],
        salt: &[u8; SALT_LEN],
        subcredential: &[u8; 32],
        published: &[u8; 4],
    ) -> ClientSecret {
        let ikm = [psk.as_slice(), subcredential, published];
        Self::split(kdf(salt, &ikm, PSK_AUTH_INFO))
    }

    fn split(okm: [u8; 52]) -> ClientSecret {
        let mut secret = ClientSecret {
            key: [0; 32],
            iv: [0; 12],
            id: [0; CLIENT_ID_LEN],
        };
        secret.key.copy_from_slice(&okm[..32]);
        secret.iv.copy_from_slice(&okm[32..44]);
        secret.id.copy_from_slice(&okm[44..]);
        secret
    }

    /// `clientID_i ‖ ENCRYPT(clientKey_i, clientIV_i, authCookie)`: the entry in layer 1.
    fn entry(&self, cookie: &[u8; COOKIE_LEN]) -> [u8; CLIENT_ENTRY_LEN] {
        let mut entry = [0u8; CLIENT_ENTRY_LEN];
        entry[..CLIENT_ID_LEN].copy_from_slice(&self.id);
        entry[CLIENT_ID_LEN..].copy_from_slice(cookie);
        stream::apply(&self.key, &self.iv, &mut entry[CLIENT_ID_LEN..]);
        entry
    }
}

/// `HKDF(salt, ikm, info, N)` with the input key material given in parts.
fn kdf<const N: usize>(salt: &[u8], ikm: &[&[u8]], info: &[u8]) -> [u8; N] {
    let mut okm = [0u8; N];
    Hkdf::<Sha256>::new(Some(salt), &ikm.concat())
        .expand(info, &mut okm)
        // N is 44 or 52, far below HKDF-SHA256's limit of 255 * 32.
        .expect("a valid HKDF-SHA256 output length");
    okm
}

/// Applies the keystream of `HKDF(salt, ikm, info, 44)` (key, then IV) to `buf`.
fn apply_layer_key(salt: &[u8], ikm: &[&[u8]], info: &[u8], buf: &mut [u8]) {
    let okm: [u8; 44] = kdf(salt, ikm, info);
    let mut key = [0u8; 32];
    let mut iv = [0u8; 12];
    key.copy_from_slice(&okm[..32]);
    iv.copy_from_slice(&okm[32..]);
    stream::apply(&key, &iv, buf);
}

/// `salt ‖ ENCRYPT(key, iv, plaintext)` with a fresh salt: one layer.
fn seal<R: RngCore + CryptoRng>(
    rng: &mut R,
    ikm: &[&[u8]],
    info: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut out = vec![0u8; SALT_LEN];
    rng.fill_bytes(&mut out);
    out.extend_from_slice(plaintext);
    let (salt, body) = out.split_at_mut(SALT_LEN);
    apply_layer_key(salt, ikm, info, body);
    out
}

/// The plaintext of one layer sealed by [`seal`].
fn open(
    ikm: &[&[u8]],
    info: &[u8],
    sealed: &[u8],
    what: &'static str,
) -> Result<Vec<u8>, DataError> {
    let mut r = Reader::new(sealed);
    let salt = r.take(SALT_LEN, what)?;
    let mut plaintext = r.rest().to_vec();
    apply_layer_key(salt, ikm, info, &mut plaintext);
    Ok(plaintext)
}

/// Layer 1's flags and authorisation section for `auth`, and the cookie layer 2's key
/// then needs (none when everybody may read).
fn authorisation_section<R: RngCore + CryptoRng>(
    rng: &mut R,
    auth: &ClientAuthorization,
    subcredential: &[u8; 32],
    published: &[u8; 4],
) -> Result<(Vec<u8>, Option<[u8; COOKIE_LEN]>), DataError> {
    let (scheme, salt, secrets) = match auth {
        ClientAuthorization::Everybody => return Ok((vec![0], None)),
        ClientAuthorization::Dh(clients) => {
            let ephemeral = StaticSecret::random_from_rng(&mut *rng);
            let epk = PublicKey::from(&ephemeral).to_bytes();
            let secrets = clients
                .iter()
                .map(|cpk| {
                    let shared = ephemeral.diffie_hellman(&PublicKey::from(*cpk));
                    if !shared.was_contributory() {
                        return Err(DataError::InvalidKey {
                            what: "encrypted lease set: DH client key",
                        });
                    }
                    Ok(ClientSecret::dh(
                        shared.as_bytes(),
                        cpk,
                        &epk,
                        subcredential,
                        published,
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            (SCHEME_DH, epk, secrets)
        }
        ClientAuthorization::Psk(psks) => {
            let mut salt = [0u8; SALT_LEN];
            rng.fill_bytes(&mut salt);
            let secrets = psks
                .iter()
                .map(|psk| ClientSecret::psk(psk, &salt, subcredential, published))
                .collect();
            (SCHEME_PSK, salt, secrets)
        }
    };
    let count = u16::try_from(secrets.len()).map_err(|_| DataError::TooLarge {
        what: "encrypted lease set: authorised clients",
        max: usize::from(u16::MAX),
        actual: secrets.len(),
    })?;
    let mut cookie = [0u8; COOKIE_LEN];
    rng.fill_bytes(&mut cookie);
    let mut entries: Vec<[u8; CLIENT_ENTRY_LEN]> =
        secrets.iter().map(|s| s.entry(&cookie)).collect();
    // The spec's SHOULD: a client must not learn its place in the list, or it could
    // tell from the next LeaseSet when others were added or revoked.
    entries.shuffle(rng);
    let mut section = Vec::with_capacity(1 + SALT_LEN + 2 + entries.len() * CLIENT_ENTRY_LEN);
    section.push(FLAG_PER_CLIENT | (scheme << 1));
    section.extend_from_slice(&salt);
    section.extend_from_slice(&count.to_be_bytes());
    for entry in &entries {
        section.extend_from_slice(entry);
    }
    Ok((section, Some(cookie)))
}

/// Checks the destination and times of the inner LeaseSet against what the client knows
/// and the outer layer says.
///
/// The destination must be the one whose credential we decrypted with: the outer
/// signature proves only that someone holding the day's blinded private key published
/// it, and anyone who knows our address could wrap another destination's (validly
/// signed) LeaseSet under their own blinded key. With the credential checked here and
/// the storage key checked by whoever looked it up (`SHA-256(type ‖ A')` for the `A'`
/// the client derived), the inner LeaseSet is the destination's own.
///
/// The spec asks that "the inner timestamp and expiration match those at the top level"
/// (Encrypted LeaseSet, Notes): otherwise a fresh outer layer could carry a stale inner
/// LeaseSet. Flags are not compared: the outer flags are about the netDb (offline keys
/// of the blinded key, unpublished), the inner ones about the inner LeaseSet.
fn check_inner(
    els: &EncryptedLeaseSet,
    credential: &Credential,
    destination: &Destination,
    published_s: u32,
    expires_offset_s: u16,
) -> Result<(), DecryptError> {
    let sig_type = BlindableSigType::from_code(destination.sig_type())
        .ok_or(DecryptError::WrongDestination)?;
    if Credential::new(&destination.signing_public_key(), sig_type) != *credential {
        return Err(DecryptError::WrongDestination);
    }
    if published_s != els.published_s() {
        return Err(DecryptError::Mismatch { what: "published" });
    }
    if expires_offset_s != els.expires_offset_s() {
        return Err(DecryptError::Mismatch { what: "expires" });
    }
    Ok(())
}

impl EncryptedLeaseSet {
    /// Encrypts `inner` for the readers `auth` allows and signs the result with the day's
    /// blinded key; `credential` is the destination's (from its signing public key).
    ///
    /// The outer published and expires are the inner LeaseSet2's: the spec requires them
    /// to match, so they are not asked for separately. Random salts, cookie, ephemeral
    /// key, client order and signature nonce come from `rng`.
    ///
    /// Fails when a DH client key is a low-order point (no shared secret with it), when
    /// there are more than 65,535 clients, or when the result exceeds the 65,535 bytes
    /// the length field allows.
    pub fn encrypt<R: RngCore + CryptoRng>(
        rng: &mut R,
        signing: &BlindedSigningKey,
        credential: &Credential,
        inner: &LeaseSet2,
        auth: &ClientAuthorization,
    ) -> Result<EncryptedLeaseSet, DataError> {
        let layer2 = [&[LeaseSet2::STORE_TYPE][..], inner.as_bytes()].concat();
        let (published_s, expires_offset_s) = (inner.published_s(), inner.expires_offset_s());
        Self::encrypt_layer2(
            rng,
            signing,
            credential,
            (published_s, expires_offset_s),
            &layer2,
            auth,
        )
    }

    /// Encrypts `layer2` (the inner type byte and data) under an outer layer with the
    /// given (published, expires offset). Apart from [`EncryptedLeaseSet::encrypt`] only
    /// tests call it, to wrap what `encrypt` never would: other times than the inner
    /// LeaseSet's, a MetaLeaseSet.
    pub(super) fn encrypt_layer2<R: RngCore + CryptoRng>(
        rng: &mut R,
        signing: &BlindedSigningKey,
        credential: &Credential,
        (published_s, expires_offset_s): (u32, u16),
        layer2: &[u8],
        auth: &ClientAuthorization,
    ) -> Result<EncryptedLeaseSet, DataError> {
        let subcredential = signing.public_key().subcredential(credential);
        let published = published_s.to_be_bytes();
        let (mut layer1, cookie) = authorisation_section(rng, auth, &subcredential, &published)?;
        let cookie: &[u8] = cookie.as_ref().map_or(&[], |c| c.as_slice());
        let ikm2 = [cookie, &subcredential, &published];
        layer1.extend_from_slice(&seal(rng, &ikm2, LAYER2_INFO, layer2));
        let outer = seal(rng, &[&subcredential, &published], LAYER1_INFO, &layer1);
        Self::sign(rng, signing, published_s, expires_offset_s, &outer)
    }

    /// Decrypts the inner LeaseSet with the destination's `credential` (which the client
    /// derives from its b33 address) and, when the publisher authorises clients one by
    /// one, the client's key. The client finds its entry by the `clientID_i` its key
    /// derives.
    ///
    /// A LeaseSet2 inside is parsed and verified; a MetaLeaseSet is returned as bytes.
    /// Either way its destination must be the credential's, and its published and expires
    /// the outer layer's (see [`DecryptError`]).
    pub fn decrypt(
        &self,
        credential: &Credential,
        client: Option<&ClientKey>,
    ) -> Result<InnerLeaseSet, DecryptError> {
        let subcredential = self.blinded_key().subcredential(credential);
        let published = self.published_s().to_be_bytes();
        let layer1 = open(
            &[&subcredential, &published],
            LAYER1_INFO,
            self.ciphertext(),
            "encrypted lease set: layer 1 salt",
        )?;
        let mut r = Reader::new(&layer1);
        let flags = r.u8("encrypted lease set: layer 1 flags")?;
        let cookie = if flags & FLAG_PER_CLIENT == 0 {
            None
        } else {
            let scheme = (flags >> 1) & 0b111;
            let salt: [u8; SALT_LEN] = r.array("encrypted lease set: authorisation salt")?;
            let count = r.u16("encrypted lease set: authorised clients")?;
            let entries = r.take(
                usize::from(count) * CLIENT_ENTRY_LEN,
                "encrypted lease set: authorised clients",
            )?;
            if scheme != SCHEME_DH && scheme != SCHEME_PSK {
                return Err(DecryptError::Malformed(DataError::Invalid {
                    what: "encrypted lease set: authorisation scheme",
                    reason: "neither DH (0) nor PSK (1)",
                }));
            }
            let secret = client
                .and_then(|key| key.derive(scheme, &salt, &subcredential, &published))
                .ok_or(DecryptError::NotAuthorised)?;
            let entry = entries
                .chunks_exact(CLIENT_ENTRY_LEN)
                .find(|entry| entry[..CLIENT_ID_LEN] == secret.id)
                .ok_or(DecryptError::NotAuthorised)?;
            let mut cookie = [0u8; COOKIE_LEN];
            cookie.copy_from_slice(&entry[CLIENT_ID_LEN..]);
            stream::apply(&secret.key, &secret.iv, &mut cookie);
            Some(cookie)
        };
        let cookie: &[u8] = cookie.as_ref().map_or(&[], |c| c.as_slice());
        let layer2 = open(
            &[cookie, &subcredential, &published],
            LAYER2_INFO,
            r.rest(),
            "encrypted lease set: layer 2 salt",
        )?;
        let mut r = Reader::new(&layer2);
        let store_type = r.u8("encrypted lease set: inner type")?;
        let data = r.rest();
        match store_type {
            LeaseSet2::STORE_TYPE => {
                let ls = LeaseSet2::parse(data)?;
                check_inner(
                    self,
                    credential,
                    ls.destination(),
                    ls.published_s(),
                    ls.expires_offset_s(),
                )?;
                Ok(InnerLeaseSet::LeaseSet2(Arc::new(ls)))
            }
            MetaLeaseSet::STORE_TYPE => {
                let meta = MetaLeaseSet::parse(data)?;
                check_inner(
                    self,
                    credential,
                    meta.destination(),
                    meta.published_s(),
                    meta.expires_offset_s(),
                )?;
                Ok(InnerLeaseSet::Meta(Arc::new(meta)))
            }
            _ => Err(DecryptError::Malformed(DataError::Invalid {
                what: "encrypted lease set: inner type",
                reason: "neither 3 (LeaseSet2) nor 7 (MetaLeaseSet)",
            })),
        }
    }
}
