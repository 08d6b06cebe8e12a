use super::*;
use crate::data::strategies::{arb_lease_set2, destination_from, mutated, sign_test_lease_set2};
use crate::data::TunnelId;
use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;

const PUBLISHED: u32 = 1_700_000_000;

fn leases(n: usize) -> Vec<Lease2> {
    (0..n)
        .map(|i| Lease2 {
            gateway: Hash([i as u8; 32]),
            tunnel_id: TunnelId(1000 + i as u32),
            end_date_s: PUBLISHED + 600 + i as u32,
        })
        .collect()
}

fn sample() -> LeaseSet2 {
    sign_test_lease_set2(3, PUBLISHED, leases(2))
}

fn unsigned(seed: u8, leases: Vec<Lease2>) -> (SigningKey, UnsignedLeaseSet2) {
    let signing = SigningKey::from_bytes(&[seed; 32]);
    let destination = destination_from(&signing, [seed; 32]);
    let unsigned = UnsignedLeaseSet2 {
        destination,
        published_s: PUBLISHED,
        expires_offset_s: 600,
        flags: 0,
        options: Mapping::new(),
        encryption_keys: vec![EncryptionKey::x25519([1; 32])],
        leases,
    };
    (signing, unsigned)
}

#[test]
fn layout_matches_spec() {
    let ls = sample();
    let bytes = ls.as_bytes();
    // Destination (387 + 4-byte key certificate payload), header, options, keys, leases, signature.
    let dest = ls.destination().as_bytes();
    assert_eq!(dest.len(), 391);
    assert_eq!(&bytes[..391], dest);
    assert_eq!(&dest[384..], &[5, 0, 4, 0, 7, 0, 0]);
    assert_eq!(&bytes[391..395], &PUBLISHED.to_be_bytes());
    assert_eq!(&bytes[395..397], &600u16.to_be_bytes());
    assert_eq!(&bytes[397..399], &[0, 0]);
    assert_eq!(&bytes[399..401], &[0, 0]); // empty options
    assert_eq!(bytes[401], 1);
    assert_eq!(&bytes[402..406], &[0, 4, 0, 32]);
    assert_eq!(&bytes[406..438], &[3 ^ 0x55; 32]);
    assert_eq!(bytes[438], 2);
    let mut first = Vec::new();
    ls.leases()[0].emit(&mut first);
    assert_eq!(&bytes[439..479], first.as_slice());
    assert_eq!(bytes.len(), 439 + 2 * 40 + 64);

    // The signature covers the type byte 3 followed by the LeaseSet2, not the bytes alone.
    let (body, signature) = bytes.split_at(bytes.len() - 64);
    let mut with_type = vec![3];
    with_type.extend_from_slice(body);
    assert_eq!(ls.destination().verify(&with_type, signature), Ok(()));
    assert_eq!(
        ls.destination().verify(body, signature),
        Err(DataError::BadSignature)
    );
}

#[test]
fn accessors() {
    let ls = sample();
    assert_eq!(ls.hash(), Hash::digest(ls.destination().as_bytes()));
    assert_eq!(ls.published_s(), PUBLISHED);
    assert_eq!(ls.expires_s(), u64::from(PUBLISHED) + 600);
    assert_eq!(ls.flags(), 0);
    assert!(!ls.is_unpublished());
    assert!(ls.offline_signature().is_none());
    assert!(ls.options().is_empty());
    assert_eq!(ls.x25519_key(), Some([3 ^ 0x55; 32]));
    assert_eq!(ls.encryption_keys().len(), 1);
    assert_eq!(ls.leases(), leases(2).as_slice());
    assert!(!ls.is_expired_at(u64::from(PUBLISHED) + 599));
    assert!(ls.is_expired_at(u64::from(PUBLISHED) + 600));
    assert_eq!(LeaseSet2::parse(ls.as_bytes()), Ok(ls));
}

#[test]
fn x25519_key_is_the_first_of_type_4() {
    let (signing, mut u) = unsigned(4, leases(1));
    u.encryption_keys = vec![
        EncryptionKey {
            crypto_type: 0,
            key: vec![7; 256],
        },
        EncryptionKey::x25519([8; 32]),
        EncryptionKey::x25519([9; 32]),
    ];
    u.flags = LeaseSet2::FLAG_UNPUBLISHED;
    let ls = LeaseSet2::sign_with(u, |m| signing.sign(m).to_bytes()).expect("valid");
    assert_eq!(ls.x25519_key(), Some([8; 32]));
    assert!(ls.is_unpublished());
    assert_eq!(LeaseSet2::parse(ls.as_bytes()), Ok(ls));
}

#[test]
fn tampering_fails_verification() {
    let ls = sample();
    let bytes = ls.as_bytes();
    // Published date, flags, encryption key, a lease, the signature.
    for pos in [392, 398, 410, 450, bytes.len() - 1] {
        let mut tampered = bytes.to_vec();
        // Bit 3: in the flags, a reserved bit (bit 0 would announce an offline block).
        tampered[pos] ^= 0x08;
        assert_eq!(
            LeaseSet2::parse(&tampered),
            Err(DataError::BadSignature),
            "flip at {pos} accepted"
        );
    }
    // Another destination's signature does not verify either.
    let other = SigningKey::from_bytes(&[9; 32]);
    let mut forged = bytes.to_vec();
    let n = forged.len();
    let mut signed = vec![3];
    signed.extend_from_slice(&bytes[..n - 64]);
    forged[n - 64..].copy_from_slice(&other.sign(&signed).to_bytes());
    assert_eq!(LeaseSet2::parse(&forged), Err(DataError::BadSignature));
}

#[test]
fn lease_and_key_counts_are_bounded() {
    let (signing, u) = unsigned(5, leases(17));
    assert!(matches!(
        LeaseSet2::sign_with(u, |m| signing.sign(m).to_bytes()),
        Err(DataError::TooLarge {
            max: 16,
            actual: 17,
            ..
        })
    ));

    // 16 leases are fine; announcing a 17th on the wire is refused before the signature.
    let full = sign_test_lease_set2(5, PUBLISHED, leases(16));
    let mut bytes = full.as_bytes().to_vec();
    let count_at = bytes.len() - 64 - 16 * 40 - 1;
    assert_eq!(bytes[count_at], 16);
    bytes[count_at] = 17;
    bytes.splice(count_at + 1..count_at + 1, [0u8; 40]);
    assert!(matches!(
        LeaseSet2::parse(&bytes),
        Err(DataError::TooLarge {
            max: 16,
            actual: 17,
            ..
        })
    ));

    let (signing, mut u) = unsigned(6, leases(1));
    u.encryption_keys.clear();
    assert!(matches!(
        LeaseSet2::sign_with(u, |m| signing.sign(m).to_bytes()),
        Err(DataError::Invalid { .. })
    ));
    let mut no_keys = sample().as_bytes()[..401].to_vec();
    no_keys.push(0);
    assert!(matches!(
        LeaseSet2::parse(&no_keys),
        Err(DataError::Invalid { .. })
    ));
}

#[test]
fn signing_refuses_offline_flag() {
    let (signing, mut u) = unsigned(7, leases(1));
    u.flags = LeaseSet2::FLAG_OFFLINE_KEYS;
    assert!(matches!(
        LeaseSet2::sign_with(u, |m| signing.sign(m).to_bytes()),
        Err(DataError::Invalid { .. })
    ));
}

#[test]
fn truncated_and_trailing_are_errors() {
    let ls = sample();
    let bytes = ls.as_bytes();
    assert!(matches!(
        LeaseSet2::parse(&bytes[..bytes.len() - 1]),
        Err(DataError::Truncated { .. })
    ));
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(matches!(
        LeaseSet2::parse(&longer),
        Err(DataError::TrailingBytes { .. })
    ));
}

/// Assembles an offline-signed LeaseSet2 by hand from the spec's layout: the destination
/// signs (expires, sig type 7, transient key); the transient key signs the whole.
fn offline_signed(
    destination_key: &SigningKey,
    offline_signer: &SigningKey,
    expires_s: u32,
) -> Vec<u8> {
    let transient = SigningKey::from_bytes(&[0x77; 32]);
    let mut bytes = destination_from(destination_key, [1; 32])
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(&PUBLISHED.to_be_bytes());
    bytes.extend_from_slice(&600u16.to_be_bytes());
    bytes.extend_from_slice(&LeaseSet2::FLAG_OFFLINE_KEYS.to_be_bytes());
    let block = bytes.len();
    bytes.extend_from_slice(&expires_s.to_be_bytes());
    bytes.extend_from_slice(&7u16.to_be_bytes());
    bytes.extend_from_slice(&transient.verifying_key().to_bytes());
    let offline = offline_signer.sign(&bytes[block..]).to_bytes();
    bytes.extend_from_slice(&offline);
    bytes.extend_from_slice(&[0, 0, 1, 0, 4, 0, 32]);
    bytes.extend_from_slice(&[2; 32]);
    bytes.push(1);
    leases(1)[0].emit(&mut bytes);
    let mut signed = vec![3];
    signed.extend_from_slice(&bytes);
    bytes.extend_from_slice(&transient.sign(&signed).to_bytes());
    bytes
}

#[test]
fn offline_keys_are_verified() {
    let destination_key = SigningKey::from_bytes(&[0x66; 32]);
    let expires = PUBLISHED + 86_400;
    let bytes = offline_signed(&destination_key, &destination_key, expires);
    let ls = LeaseSet2::parse(&bytes).expect("valid offline-signed LeaseSet2");
    let offline = ls.offline_signature().expect("flag bit 0");
    assert_eq!(offline.expires_s(), expires);
    assert_eq!(
        offline.transient_public_key(),
        SigningKey::from_bytes(&[0x77; 32])
            .verifying_key()
            .to_bytes()
    );
    assert_eq!(ls.x25519_key(), Some([2; 32]));
    assert_eq!(ls.as_bytes(), bytes.as_slice());

    // The transient key's expiry bounds the LeaseSet2's.
    let short = offline_signed(&destination_key, &destination_key, PUBLISHED + 10);
    let short = LeaseSet2::parse(&short).expect("valid");
    assert!(short.is_expired_at(u64::from(PUBLISHED) + 10));
    assert!(!ls.is_expired_at(u64::from(PUBLISHED) + 10));

    // A transient key not signed by the destination is refused.
    let stranger = SigningKey::from_bytes(&[0x55; 32]);
    let forged = offline_signed(&destination_key, &stranger, expires);
    assert_eq!(LeaseSet2::parse(&forged), Err(DataError::BadSignature));

    // So is a LeaseSet2 signed by the destination key instead of the transient one.
    let mut wrong_signer = bytes.clone();
    let n = wrong_signer.len();
    let mut signed = vec![3];
    signed.extend_from_slice(&bytes[..n - 64]);
    wrong_signer[n - 64..].copy_from_slice(&destination_key.sign(&signed).to_bytes());
    assert_eq!(
        LeaseSet2::parse(&wrong_signer),
        Err(DataError::BadSignature)
    );

    // Only Ed25519 transient keys are supported.
    let mut ecdsa = bytes.clone();
    ecdsa[404] = 1;
    assert_eq!(
        LeaseSet2::parse(&ecdsa),
        Err(DataError::UnsupportedSigType(1))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn round_trip(ls in arb_lease_set2()) {
        let parsed = LeaseSet2::parse(ls.as_bytes())?;
        prop_assert_eq!(parsed.hash(), ls.hash());
        prop_assert_eq!(parsed.published_s(), ls.published_s());
        prop_assert_eq!(parsed.expires_s(), ls.expires_s());
        prop_assert_eq!(parsed.flags(), ls.flags());
        prop_assert_eq!(parsed.options(), ls.options());
        prop_assert_eq!(parsed.encryption_keys(), ls.encryption_keys());
        prop_assert_eq!(parsed.leases(), ls.leases());
        prop_assert_eq!(parsed, ls);
    }

    #[test]
    fn mutated_encodings_never_panic(
        bytes in arb_lease_set2().prop_flat_map(|ls| mutated(ls.as_bytes().to_vec()))
    ) {
        let _ = LeaseSet2::parse(&bytes);
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
        let _ = LeaseSet2::parse(&bytes);
    }

    #[test]
    fn random_bodies_after_a_valid_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = sample().as_bytes()[..399].to_vec();
        bytes.extend_from_slice(&tail);
        let _ = LeaseSet2::parse(&bytes);
    }
}
