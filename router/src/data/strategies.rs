//! proptest strategies for the wire structures, shared by the tests of `data` and `i2np`.

use super::identity::PADDING_LEN;
use super::lease_set::UnsignedLeaseSet2;
use super::{BlindableSigType, ClientAuthorization, EncryptedLeaseSet};
use super::{
    Destination, EncryptionKey, Hash, Lease2, LeaseSet2, Mapping, MetaLease, MetaLeaseSet,
    RouterAddress, RouterIdentity, RouterInfo, TunnelId, UnsignedMetaLeaseSet,
};
use crate::crypto::blinding::{Alpha, BlindedSigningKey, Credential};
use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;
use proptest::sample::Index;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use x25519_dalek::{PublicKey, StaticSecret};

pub(crate) fn arb_hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

pub(crate) fn arb_mapping() -> impl Strategy<Value = Mapping> {
    proptest::collection::btree_map("\\PC{0,16}", "\\PC{0,24}", 0..6).prop_map(|entries| {
        let mut m = Mapping::new();
        for (k, v) in entries {
            m.insert(k, v).expect("strategy strings are short");
        }
        m
    })
}

pub(crate) fn arb_address() -> impl Strategy<Value = RouterAddress> {
    (any::<u8>(), any::<u64>(), "[A-Za-z0-9]{0,8}", arb_mapping()).prop_map(
        |(cost, expiration_ms, transport, options)| RouterAddress {
            cost,
            expiration_ms,
            transport,
            options,
        },
    )
}

fn identity_from(
    signing: &SigningKey,
    encryption_key: [u8; 32],
    pad_seed: [u8; 32],
) -> RouterIdentity {
    let padding: Vec<u8> = pad_seed.iter().copied().cycle().take(PADDING_LEN).collect();
    RouterIdentity::from_keys(encryption_key, signing.verifying_key().to_bytes(), &padding)
        .expect("a dalek verifying key is a valid point")
}

pub(crate) fn arb_identity() -> impl Strategy<Value = RouterIdentity> {
    (any::<[u8; 32]>(), any::<[u8; 32]>(), any::<[u8; 32]>())
        .prop_map(|(seed, enc, pad)| identity_from(&SigningKey::from_bytes(&seed), enc, pad))
}

fn sign(
    seed: [u8; 32],
    enc: [u8; 32],
    published_ms: u64,
    addresses: Vec<RouterAddress>,
    options: Mapping,
) -> RouterInfo {
    let signing = SigningKey::from_bytes(&seed);
    let identity = identity_from(&signing, enc, seed);
    RouterInfo::sign_with(identity, published_ms, addresses, options, |msg| {
        signing.sign(msg).to_bytes()
    })
    .expect("few addresses with short transports")
}

/// A RouterInfo signed with keys derived from `seed` (not through `crypto`, which sits
/// above `data`).
pub(crate) fn sign_test_router_info(
    seed: u8,
    published_ms: u64,
    addresses: Vec<RouterAddress>,
    options: Mapping,
) -> RouterInfo {
    sign(
        [seed; 32],
        [seed ^ 0x55; 32],
        published_ms,
        addresses,
        options,
    )
}

pub(crate) fn arb_router_info() -> impl Strategy<Value = RouterInfo> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        proptest::collection::vec(arb_address(), 0..3),
        arb_mapping(),
    )
        .prop_map(|(seed, enc, published, addresses, options)| {
            sign(seed, enc, published, addresses, options)
        })
}

pub(crate) fn arb_lease2() -> impl Strategy<Value = Lease2> {
    (arb_hash(), any::<u32>(), any::<u32>()).prop_map(|(gateway, tunnel_id, end_date_s)| Lease2 {
        gateway,
        tunnel_id: TunnelId(tunnel_id),
        end_date_s,
    })
}

/// Mostly X25519 keys, sometimes ElGamal-sized or of a type the spec does not list.
fn arb_encryption_key() -> impl Strategy<Value = EncryptionKey> {
    prop_oneof![
        4 => any::<[u8; 32]>().prop_map(EncryptionKey::x25519),
        1 => proptest::collection::vec(any::<u8>(), 256).prop_map(|key| EncryptionKey {
            crypto_type: 0,
            key,
        }),
        1 => (5u16.., proptest::collection::vec(any::<u8>(), 0..80))
            .prop_map(|(crypto_type, key)| EncryptionKey { crypto_type, key }),
    ]
}

/// A destination whose Ed25519 key is `signing`'s and whose padding repeats `pad_seed`.
pub(crate) fn destination_from(signing: &SigningKey, pad_seed: [u8; 32]) -> Destination {
    let padding: Vec<u8> = pad_seed
        .iter()
        .copied()
        .cycle()
        .take(Destination::PADDING_LEN)
        .collect();
    Destination::from_keys(signing.verifying_key().to_bytes(), &padding)
        .expect("a dalek verifying key is a valid point")
}

fn sign_lease_set2(
    seed: [u8; 32],
    unsigned: impl FnOnce(Destination) -> UnsignedLeaseSet2,
) -> LeaseSet2 {
    let signing = SigningKey::from_bytes(&seed);
    let unsigned = unsigned(destination_from(&signing, seed));
    LeaseSet2::sign_with(unsigned, |msg| signing.sign(msg).to_bytes())
        .expect("at most 16 leases, at least one valid key")
}

/// A LeaseSet2 with one X25519 key, signed with keys derived from `seed` (not through
/// `crypto`, which sits above `data`).
pub(crate) fn sign_test_lease_set2(seed: u8, published_s: u32, leases: Vec<Lease2>) -> LeaseSet2 {
    sign_lease_set2([seed; 32], |destination| UnsignedLeaseSet2 {
        destination,
        published_s,
        expires_offset_s: 600,
        flags: 0,
        options: Mapping::new(),
        encryption_keys: vec![EncryptionKey::x25519([seed ^ 0x55; 32])],
        leases,
    })
}

pub(crate) fn arb_lease_set2() -> impl Strategy<Value = LeaseSet2> {
    (
        any::<[u8; 32]>(),
        (any::<u32>(), any::<u16>(), any::<u16>()),
        arb_mapping(),
        proptest::collection::vec(arb_encryption_key(), 1..4),
        proptest::collection::vec(arb_lease2(), 0..=LeaseSet2::MAX_LEASES),
    )
        .prop_map(
            |(seed, (published_s, expires_offset_s, flags), options, encryption_keys, leases)| {
                sign_lease_set2(seed, |destination| UnsignedLeaseSet2 {
                    destination,
                    published_s,
                    expires_offset_s,
                    // Any flags but offline keys, which signing does not do.
                    flags: flags & !LeaseSet2::FLAG_OFFLINE_KEYS,
                    options,
                    encryption_keys,
                    leases,
                })
            },
        )
}

/// A MetaLeaseSet listing `entries`, signed with keys derived from `seed`.
pub(crate) fn sign_test_meta_lease_set(
    seed: u8,
    published_s: u32,
    entries: Vec<MetaLease>,
    revocations: Vec<Hash>,
) -> MetaLeaseSet {
    let signing = SigningKey::from_bytes(&[seed; 32]);
    let unsigned = UnsignedMetaLeaseSet {
        destination: destination_from(&signing, [seed; 32]),
        published_s,
        expires_offset_s: 3600,
        flags: 0,
        options: Mapping::new(),
        entries,
        revocations,
    };
    MetaLeaseSet::sign_with(unsigned, |msg| signing.sign(msg).to_bytes())
        .expect("1 to 255 entries with 24-bit flags")
}

pub(crate) fn arb_meta_lease() -> impl Strategy<Value = MetaLease> {
    (arb_hash(), 0u32..1 << 24, any::<u8>(), any::<u32>()).prop_map(
        |(target, flags, cost, end_date_s)| MetaLease {
            target,
            flags,
            cost,
            end_date_s,
        },
    )
}

pub(crate) fn arb_meta_lease_set() -> impl Strategy<Value = MetaLeaseSet> {
    (
        any::<u8>(),
        any::<u32>(),
        proptest::collection::vec(arb_meta_lease(), 1..20),
        proptest::collection::vec(arb_hash(), 0..4),
    )
        .prop_map(|(seed, published_s, entries, revocations)| {
            sign_test_meta_lease_set(seed, published_s, entries, revocations)
        })
}

/// An encrypted LeaseSet around a [`sign_test_lease_set2`] LeaseSet2, readable by
/// everybody or by a few DH or PSK clients. Its blinding needs `crypto`, the one
/// dependency on it here: an encrypted LeaseSet cannot be built without it.
pub(crate) fn arb_encrypted_lease_set() -> impl Strategy<Value = EncryptedLeaseSet> {
    (
        any::<u8>(),
        any::<u32>(),
        0u8..3,
        proptest::collection::vec(any::<[u8; 32]>(), 0..3),
        any::<u64>(),
    )
        .prop_map(|(seed, published_s, scheme, clients, rng_seed)| {
            let signing = SigningKey::from_bytes(&[seed; 32]);
            let public = signing.verifying_key().to_bytes();
            let alpha = Alpha::generate(&public, BlindableSigType::Ed25519, "20261201", b"");
            let blinded = BlindedSigningKey::from_ed25519(&signing, &alpha);
            let credential = Credential::new(&public, BlindableSigType::Ed25519);
            let inner = sign_test_lease_set2(seed, published_s, Vec::new());
            let auth = match scheme {
                0 => ClientAuthorization::Everybody,
                1 => ClientAuthorization::Dh(
                    clients
                        .iter()
                        .map(|c| PublicKey::from(&StaticSecret::from(*c)).to_bytes())
                        .collect(),
                ),
                _ => ClientAuthorization::Psk(clients),
            };
            let mut rng = ChaCha20Rng::seed_from_u64(rng_seed);
            EncryptedLeaseSet::encrypt(&mut rng, &blinded, &credential, &inner, &auth)
                .expect("few clients, X25519 keys that are not low-order")
        })
}

/// A few random edits of a valid encoding: overwrite, flip a bit, insert, truncate.
pub(crate) fn mutated(bytes: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec((any::<Index>(), any::<u8>(), 0u8..4), 1..4).prop_map(move |edits| {
        let mut b = bytes.clone();
        for (index, value, kind) in edits {
            if b.is_empty() {
                b.push(value);
                continue;
            }
            let i = index.index(b.len());
            match kind {
                0 => b[i] = value,
                1 => b[i] ^= 1 << (value % 8),
                2 => b.insert(i, value),
                _ => b.truncate(i),
            }
        }
        b
    })
}
