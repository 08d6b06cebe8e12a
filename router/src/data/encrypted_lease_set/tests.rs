use super::*;
use crate::crypto::blinding::Credential;
use crate::crypto::DestinationKeys;
use crate::data::strategies::mutated;
use crate::data::{Hash, Lease2, LeaseSet2, MetaLease, MetaLeaseSet, TunnelId};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;
use x25519_dalek::StaticSecret;

const DAY: &str = "20261201";
/// 2026-12-01 01:00 UTC.
const PUBLISHED: u32 = 1_796_086_800;

struct Publisher {
    keys: DestinationKeys,
    credential: Credential,
    signing: BlindedSigningKey,
}

fn publisher(seed: u64, secret: &[u8]) -> Publisher {
    let keys = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(seed));
    Publisher {
        credential: credential_of(&keys),
        signing: keys.blinded_signing_key(DAY, secret),
        keys,
    }
}

/// What a client derives from the destination's b33 address.
fn credential_of(keys: &DestinationKeys) -> Credential {
    Credential::new(
        &keys.destination().signing_public_key(),
        BlindableSigType::Ed25519,
    )
}

fn inner(keys: &DestinationKeys, published_s: u32) -> LeaseSet2 {
    let leases = (0..2u8)
        .map(|i| Lease2 {
            gateway: Hash([i; 32]),
            tunnel_id: TunnelId(u32::from(i) + 7),
            end_date_s: published_s + 600,
        })
        .collect();
    keys.sign_lease_set(published_s, 600, leases)
        .expect("two leases")
}

fn encrypt(p: &Publisher, published_s: u32, auth: &ClientAuthorization) -> EncryptedLeaseSet {
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(published_s));
    EncryptedLeaseSet::encrypt(
        &mut rng,
        &p.signing,
        &p.credential,
        &inner(&p.keys, published_s),
        auth,
    )
    .expect("encryptable")
}

fn dh_client(seed: u8) -> ClientKey {
    ClientKey::Dh(StaticSecret::from([seed; 32]))
}

fn dh_public(key: &ClientKey) -> [u8; 32] {
    key.dh_public().expect("a DH key")
}

/// Encrypt, send, parse, decrypt: what the client reads.
fn through_the_wire(
    els: &EncryptedLeaseSet,
    credential: &Credential,
    client: Option<&ClientKey>,
) -> Result<InnerLeaseSet, DecryptError> {
    let parsed = EncryptedLeaseSet::parse(els.as_bytes()).expect("own encoding parses");
    assert_eq!(&parsed, els);
    parsed.decrypt(credential, client)
}

fn expect_inner(result: Result<InnerLeaseSet, DecryptError>, expected: &LeaseSet2) {
    match result {
        Ok(InnerLeaseSet::LeaseSet2(ls)) => assert_eq!(&*ls, expected),
        other => panic!("expected the inner LeaseSet2, got {other:?}"),
    }
}

#[test]
fn everybody_with_the_address_reads_it() {
    let p = publisher(1, b"");
    let els = encrypt(&p, PUBLISHED, &ClientAuthorization::Everybody);
    assert_eq!(els.storage_key(), p.signing.public_key().storage_key());
    assert_eq!(els.blinded_key(), p.signing.public_key());
    assert_eq!(els.published_s(), PUBLISHED);
    assert_eq!(els.expires_s(), u64::from(PUBLISHED) + 600);
    assert_eq!((els.flags(), els.is_unpublished()), (0, false));
    let expected = inner(&p.keys, PUBLISHED);
    expect_inner(through_the_wire(&els, &p.credential, None), &expected);
    // A client key is not needed, and does not hurt.
    expect_inner(
        through_the_wire(&els, &p.credential, Some(&dh_client(1))),
        &expected,
    );
    // Nothing of the destination is in the clear.
    let dest = p.keys.destination().as_bytes();
    assert!(!els
        .as_bytes()
        .windows(32)
        .any(|w| dest.windows(32).any(|d| d == w)));
}

#[test]
fn the_outer_layout_follows_the_spec() {
    let p = publisher(2, b"");
    let els = encrypt(&p, PUBLISHED, &ClientAuthorization::Everybody);
    let b = els.as_bytes();
    assert_eq!(&b[..2], &[0, 11]);
    assert_eq!(&b[2..34], p.signing.public_key().as_bytes());
    assert_eq!(&b[34..38], &PUBLISHED.to_be_bytes());
    assert_eq!(&b[38..40], &600u16.to_be_bytes());
    assert_eq!(&b[40..42], &[0, 0]);
    let len = usize::from(u16::from_be_bytes([b[42], b[43]]));
    assert_eq!(b.len(), 44 + len + 64);
    // Layer 1: salt, flags, layer 2 (salt, type, LeaseSet2).
    let ls_len = inner(&p.keys, PUBLISHED).as_bytes().len();
    assert_eq!(len, 32 + 1 + 32 + 1 + ls_len);
    let mut signed = vec![5];
    signed.extend_from_slice(&b[..44 + len]);
    assert_eq!(
        p.signing.public_key().verify(&signed, &b[44 + len..]),
        Ok(())
    );
}

#[test]
fn dh_clients_read_it_and_others_are_not_authorised() {
    let p = publisher(3, b"");
    let clients: Vec<ClientKey> = (1..=3).map(dh_client).collect();
    let auth = ClientAuthorization::Dh(clients.iter().map(dh_public).collect());
    let els = encrypt(&p, PUBLISHED, &auth);
    let expected = inner(&p.keys, PUBLISHED);
    for client in &clients {
        expect_inner(
            through_the_wire(&els, &p.credential, Some(client)),
            &expected,
        );
    }
    for outsider in [None, Some(dh_client(9)), Some(ClientKey::Psk([1; 32]))] {
        assert_eq!(
            through_the_wire(&els, &p.credential, outsider.as_ref()),
            Err(DecryptError::NotAuthorised)
        );
    }
    // flags 0b0001 (per client, DH), epk, 3 entries of 40 bytes.
    let len = els.ciphertext().len();
    let ls_len = expected.as_bytes().len();
    assert_eq!(len, 32 + 1 + 32 + 2 + 3 * 40 + 32 + 1 + ls_len);
}

#[test]
fn psk_clients_read_it_and_others_are_not_authorised() {
    let p = publisher(4, b"");
    let psks = [[1u8; 32], [2; 32]];
    let els = encrypt(&p, PUBLISHED, &ClientAuthorization::Psk(psks.to_vec()));
    let expected = inner(&p.keys, PUBLISHED);
    for psk in psks {
        expect_inner(
            through_the_wire(&els, &p.credential, Some(&ClientKey::Psk(psk))),
            &expected,
        );
    }
    for outsider in [None, Some(ClientKey::Psk([3; 32])), Some(dh_client(1))] {
        assert_eq!(
            through_the_wire(&els, &p.credential, outsider.as_ref()),
            Err(DecryptError::NotAuthorised)
        );
    }
}

#[test]
fn a_revoked_client_reads_the_old_lease_set_but_not_the_new_one() {
    let p = publisher(5, b"");
    let (kept, revoked) = (dh_client(1), dh_client(2));
    let before = encrypt(
        &p,
        PUBLISHED,
        &ClientAuthorization::Dh(vec![dh_public(&kept), dh_public(&revoked)]),
    );
    let after = encrypt(
        &p,
        PUBLISHED + 60,
        &ClientAuthorization::Dh(vec![dh_public(&kept)]),
    );
    expect_inner(
        through_the_wire(&before, &p.credential, Some(&revoked)),
        &inner(&p.keys, PUBLISHED),
    );
    assert_eq!(
        through_the_wire(&after, &p.credential, Some(&revoked)),
        Err(DecryptError::NotAuthorised)
    );
    expect_inner(
        through_the_wire(&after, &p.credential, Some(&kept)),
        &inner(&p.keys, PUBLISHED + 60),
    );
    // Same day, same blinded key: the new one replaces the old one in the netDb.
    assert_eq!(before.storage_key(), after.storage_key());
}

#[test]
fn tampering_with_any_outer_byte_fails_parse() {
    let p = publisher(6, b"");
    let els = encrypt(&p, PUBLISHED, &ClientAuthorization::Psk(vec![[1; 32]]));
    let bytes = els.as_bytes();
    for i in 0..bytes.len() {
        let mut tampered = bytes.to_vec();
        tampered[i] ^= 0x20;
        assert!(
            EncryptedLeaseSet::parse(&tampered).is_err(),
            "byte {i} of {}",
            bytes.len()
        );
    }
    assert!(EncryptedLeaseSet::parse(&bytes[..bytes.len() - 1]).is_err());
    let extra = [bytes, &[0]].concat();
    assert!(matches!(
        EncryptedLeaseSet::parse(&extra),
        Err(DataError::TrailingBytes { .. })
    ));
}

#[test]
fn a_wrong_credential_fails_cleanly() {
    let p = publisher(7, b"");
    let other = credential_of(&DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(
        70,
    )));
    for auth in [
        ClientAuthorization::Everybody,
        ClientAuthorization::Psk(vec![[1; 32]]),
    ] {
        let els = encrypt(&p, PUBLISHED, &auth);
        assert!(through_the_wire(&els, &other, Some(&ClientKey::Psk([1; 32]))).is_err());
        assert!(through_the_wire(&els, &other, None).is_err());
    }
    // With a secret the client needs it to find the LeaseSet at all: the blinded key,
    // and so the storage key, differ without it.
    let secret = publisher(7, b"open sesame");
    assert_ne!(
        secret.signing.public_key().storage_key(),
        p.signing.public_key().storage_key()
    );
}

#[test]
fn another_destinations_lease_set_inside_is_refused() {
    // Someone who knows the address of `p` wraps `other`'s LeaseSet2 under `p`'s
    // credential and a blinded key of their own.
    let p = publisher(8, b"");
    let other = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(80));
    let els = EncryptedLeaseSet::encrypt(
        &mut ChaCha20Rng::seed_from_u64(1),
        &other.blinded_signing_key(DAY, b""),
        &p.credential,
        &inner(&other, PUBLISHED),
        &ClientAuthorization::Everybody,
    )
    .expect("encryptable");
    assert_eq!(
        els.decrypt(&p.credential, None),
        Err(DecryptError::WrongDestination)
    );
}

#[test]
fn the_blinded_key_and_storage_key_rotate_daily_but_the_credential_does_not() {
    let p = publisher(9, b"");
    let tomorrow = Publisher {
        signing: p.keys.blinded_signing_key("20261202", b""),
        credential: p.credential,
        keys: p.keys.clone(),
    };
    let today_els = encrypt(&p, PUBLISHED, &ClientAuthorization::Everybody);
    let tomorrow_els = encrypt(
        &tomorrow,
        PUBLISHED + 86_400,
        &ClientAuthorization::Everybody,
    );
    assert_ne!(today_els.storage_key(), tomorrow_els.storage_key());
    expect_inner(
        through_the_wire(&tomorrow_els, &p.credential, None),
        &inner(&p.keys, PUBLISHED + 86_400),
    );
}

#[test]
fn expiry_and_reserved_checks() {
    let p = publisher(10, b"");
    let els = encrypt(&p, PUBLISHED, &ClientAuthorization::Everybody);
    assert!(!els.is_expired_at(u64::from(PUBLISHED) + 599));
    assert!(els.is_expired_at(u64::from(PUBLISHED) + 600));
    // Only RedDSA blinded keys.
    let mut ed25519 = els.as_bytes().to_vec();
    ed25519[1] = 7;
    assert_eq!(
        EncryptedLeaseSet::parse(&ed25519),
        Err(DataError::UnsupportedSigType(7))
    );
    // An empty ciphertext, however signed.
    let empty = EncryptedLeaseSet::sign(
        &mut ChaCha20Rng::seed_from_u64(1),
        &p.signing,
        PUBLISHED,
        600,
        &[],
    )
    .expect("signable");
    assert!(matches!(
        EncryptedLeaseSet::parse(empty.as_bytes()),
        Err(DataError::Invalid { .. })
    ));
    // A ciphertext too short for its salt decrypts to an error, not a panic.
    let short = EncryptedLeaseSet::sign(
        &mut ChaCha20Rng::seed_from_u64(1),
        &p.signing,
        PUBLISHED,
        600,
        &[1; 20],
    )
    .expect("signable");
    let parsed = EncryptedLeaseSet::parse(short.as_bytes()).expect("valid outer layer");
    assert!(matches!(
        parsed.decrypt(&p.credential, None),
        Err(DecryptError::Malformed(DataError::Truncated { .. }))
    ));
}

#[test]
fn inner_times_must_match_the_outer_layer() {
    let p = publisher(13, b"");
    let layer2 = [&[3u8][..], inner(&p.keys, PUBLISHED).as_bytes()].concat();
    let wrap = |times| {
        EncryptedLeaseSet::encrypt_layer2(
            &mut ChaCha20Rng::seed_from_u64(1),
            &p.signing,
            &p.credential,
            times,
            &layer2,
            &ClientAuthorization::Everybody,
        )
        .expect("encryptable")
    };
    // A fresh outer layer around a stale LeaseSet, and a longer-lived one.
    assert_eq!(
        wrap((PUBLISHED + 60, 600)).decrypt(&p.credential, None),
        Err(DecryptError::Mismatch { what: "published" })
    );
    assert_eq!(
        wrap((PUBLISHED, 601)).decrypt(&p.credential, None),
        Err(DecryptError::Mismatch { what: "expires" })
    );
    assert!(wrap((PUBLISHED, 600)).decrypt(&p.credential, None).is_ok());
}

#[test]
fn a_meta_lease_set_inside_comes_back_parsed_once_its_destination_and_times_are_checked() {
    let p = publisher(14, b"");
    let entries = vec![MetaLease::lease_set2(Hash([3; 32]), 0, PUBLISHED + 600)];
    let meta = p
        .keys
        .sign_meta_lease_set(PUBLISHED, 600, entries)
        .expect("one entry");
    let wrap = |credential: &Credential, data: &[u8]| {
        EncryptedLeaseSet::encrypt_layer2(
            &mut ChaCha20Rng::seed_from_u64(1),
            &p.signing,
            credential,
            (PUBLISHED, 600),
            &[&[MetaLeaseSet::STORE_TYPE][..], data].concat(),
            &ClientAuthorization::Everybody,
        )
        .expect("encryptable")
    };
    assert_eq!(
        wrap(&p.credential, meta.as_bytes()).decrypt(&p.credential, None),
        Ok(InnerLeaseSet::Meta(Arc::new(meta.clone())))
    );
    // Another destination's MetaLeaseSet under this blinded key is refused...
    let other = DestinationKeys::generate(&mut ChaCha20Rng::seed_from_u64(140));
    let foreign = other
        .sign_meta_lease_set(PUBLISHED, 600, meta.entries().to_vec())
        .expect("one entry");
    assert_eq!(
        wrap(&p.credential, foreign.as_bytes()).decrypt(&p.credential, None),
        Err(DecryptError::WrongDestination)
    );
    // ...and so is one whose signature does not hold.
    let mut forged = meta.as_bytes().to_vec();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(
        wrap(&p.credential, &forged).decrypt(&p.credential, None),
        Err(DecryptError::Malformed(DataError::BadSignature))
    );
    // Other inner types are refused.
    let odd = EncryptedLeaseSet::encrypt_layer2(
        &mut ChaCha20Rng::seed_from_u64(1),
        &p.signing,
        &p.credential,
        (PUBLISHED, 600),
        &[1, 2, 3],
        &ClientAuthorization::Everybody,
    )
    .expect("encryptable");
    assert!(matches!(
        odd.decrypt(&p.credential, None),
        Err(DecryptError::Malformed(DataError::Invalid { .. }))
    ));
}

#[test]
fn debug_shows_no_keys() {
    let key = ClientKey::Psk([0x42; 32]);
    assert_eq!(format!("{key:?}"), "ClientKey::Psk(..)");
    assert_eq!(format!("{:?}", dh_client(1)), "ClientKey::Dh(..)");
    let auth = ClientAuthorization::Psk(vec![[0x42; 32]; 2]);
    assert_eq!(format!("{auth:?}"), "Psk(2 clients)");
}

#[test]
fn low_order_dh_client_keys_are_refused() {
    let p = publisher(11, b"");
    let auth = ClientAuthorization::Dh(vec![[0; 32]]);
    assert!(matches!(
        EncryptedLeaseSet::encrypt(
            &mut ChaCha20Rng::seed_from_u64(1),
            &p.signing,
            &p.credential,
            &inner(&p.keys, PUBLISHED),
            &auth,
        ),
        Err(DataError::InvalidKey { .. })
    ));
}

fn arb_auth() -> impl Strategy<Value = (ClientAuthorization, Option<ClientKey>)> {
    prop_oneof![
        Just((ClientAuthorization::Everybody, None)),
        (any::<[u8; 32]>(), 0usize..4).prop_map(|(secret, others)| {
            let client = ClientKey::Dh(StaticSecret::from(secret));
            let mut keys = vec![dh_public(&client)];
            keys.extend((0..others as u8).map(|i| dh_public(&dh_client(i))));
            (ClientAuthorization::Dh(keys), Some(client))
        }),
        (any::<[u8; 32]>(), 0usize..4).prop_map(|(psk, others)| {
            let mut keys = vec![psk];
            keys.extend((0..others as u8).map(|i| [i; 32]));
            (ClientAuthorization::Psk(keys), Some(ClientKey::Psk(psk)))
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn encrypt_parse_decrypt_round_trips(
        seed in any::<u64>(),
        published_s in any::<u32>(),
        (auth, client) in arb_auth(),
    ) {
        let p = publisher(seed, b"");
        let ls = inner(&p.keys, published_s);
        let els = EncryptedLeaseSet::encrypt(
            &mut ChaCha20Rng::seed_from_u64(seed),
            &p.signing,
            &p.credential,
            &ls,
            &auth,
        )?;
        let parsed = EncryptedLeaseSet::parse(els.as_bytes())?;
        prop_assert_eq!(&parsed, &els);
        prop_assert_eq!(
            parsed.decrypt(&p.credential, client.as_ref()),
            Ok(InnerLeaseSet::LeaseSet2(Arc::new(ls)))
        );
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = EncryptedLeaseSet::parse(&bytes);
    }

    #[test]
    fn edits_of_a_valid_encoding_fail_or_keep_their_bytes(
        bytes in mutated(encrypt(&publisher(12, b""), PUBLISHED, &ClientAuthorization::Psk(vec![[1; 32]])).as_bytes().to_vec()),
    ) {
        if let Ok(els) = EncryptedLeaseSet::parse(&bytes) {
            prop_assert_eq!(els.as_bytes(), &bytes[..]);
            let _ = els.decrypt(&publisher(12, b"").credential, Some(&ClientKey::Psk([1; 32])));
        }
    }
}
