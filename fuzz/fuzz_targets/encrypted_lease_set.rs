//! EncryptedLeaseSet::parse on arbitrary bytes: never panics; whatever parses (so verifies
//! under its blinded key) keeps exactly its input, re-parses the same and is stored under
//! SHA-256(type ‖ blinded key). Decrypting it with the corpus destination's credential,
//! with and without the corpus client keys, never panics either (the seed corpus from
//! `gen_corpus` is encrypted for them, so the inner layers get explored too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::crypto::blinding::Credential;
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::{BlindableSigType, ClientKey, EncryptedLeaseSet, Hash};

fuzz_target!(|data: &[u8]| {
    let Ok(els) = EncryptedLeaseSet::parse(data) else {
        return;
    };
    assert_eq!(els.as_bytes(), data);
    let again = EncryptedLeaseSet::parse(els.as_bytes()).expect("a parsed LeaseSet re-parses");
    assert_eq!(again, els);
    let typed_key = [&[0, 11][..], els.blinded_key().as_bytes()].concat();
    assert_eq!(els.storage_key(), Hash::digest(&typed_key));

    // The fixed keys gen_corpus encrypts for.
    let destination = DestinationKeys::from_secret_bytes(&[7; 96]);
    let credential = Credential::new(
        &destination.destination().signing_public_key(),
        BlindableSigType::Ed25519,
    );
    let clients = [
        None,
        Some(ClientKey::Psk([7; 32])),
        Some(ClientKey::Dh([7; 32].into())),
    ];
    for client in &clients {
        let _ = els.decrypt(&credential, client.as_ref());
    }
});
