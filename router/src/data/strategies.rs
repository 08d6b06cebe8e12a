//! proptest strategies for the wire structures, shared by the tests of `data` and `i2np`.

use super::identity::PADDING_LEN;
use super::{Hash, Mapping, RouterAddress, RouterIdentity, RouterInfo};
use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;
use proptest::sample::Index;

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
