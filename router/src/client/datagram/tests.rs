use super::*;
use crate::data::strategies::{arb_hash, arb_mapping, mutated, sign_test_lease_set2};
use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;

const NOW: Instant = Instant::from_secs(1_800_000_000);

fn keys(seed: u8) -> DestinationKeys {
    DestinationKeys::from_secret_bytes(&[seed; 96])
}

fn to() -> Hash {
    keys(200).hash()
}

fn options(pairs: &[(&str, &str)]) -> Mapping {
    let mut m = Mapping::new();
    for (k, v) in pairs {
        m.insert(*k, *v).expect("short");
    }
    m
}

fn datagram2(keys: &DestinationKeys, options: Mapping, payload: &[u8]) -> Datagram {
    Datagram::Datagram2 {
        from: keys.destination().clone(),
        options,
        offline: None,
        payload: payload.to_vec(),
    }
}

fn parse(protocol: u8, bytes: &[u8]) -> Result<Datagram, DatagramError> {
    Datagram::parse(NOW, protocol, bytes, &to())
}

#[test]
fn layouts_match_the_spec() {
    let k = keys(1);
    let from = k.destination().as_bytes();
    assert_eq!(from.len(), 391);

    let d1 = Datagram::Repliable {
        from: k.destination().clone(),
        payload: b"ping".to_vec(),
    };
    let bytes = d1.emit(&k, &to()).expect("fits");
    assert_eq!(&bytes[..391], from);
    // Ed25519 signs the payload itself, not its hash.
    assert_eq!(&bytes[391..455], &k.sign(b"ping"));
    assert_eq!(&bytes[455..], b"ping");

    let d2 = datagram2(&k, Mapping::new(), b"ping");
    let bytes = d2.emit(&k, &to()).expect("fits");
    assert_eq!(bytes.len(), 391 + 2 + 4 + 64);
    assert_eq!(&bytes[391..393], &[0x00, 0x02]);
    assert_eq!(&bytes[393..397], b"ping");
    // Signed: the target's hash, then flags and payload.
    let mut signed = to().0.to_vec();
    signed.extend_from_slice(&bytes[391..397]);
    assert_eq!(&bytes[397..], &k.sign(&signed));

    let with_options = datagram2(&k, options(&[("a", "b")]), b"");
    let bytes = with_options.emit(&k, &to()).expect("fits");
    assert_eq!(&bytes[391..393], &[0x00, 0x12]);
    assert_eq!(&bytes[393..401], &options(&[("a", "b")]).to_bytes()[..]);

    let d3 = Datagram::Datagram3 {
        from_hash: k.hash(),
        options: Mapping::new(),
        payload: b"ping".to_vec(),
    };
    let bytes = d3.emit(&k, &to()).expect("fits");
    assert_eq!(&bytes[..32], k.hash().as_bytes());
    assert_eq!(&bytes[32..], b"\x00\x03ping");

    let raw = Datagram::Raw(b"ping".to_vec());
    assert_eq!(raw.emit(&k, &to()).expect("fits"), b"ping");

    for d in [d1, d2, with_options, d3, raw] {
        assert_eq!(d.encoded_len(), d.emit(&k, &to()).expect("fits").len());
    }
}

#[test]
fn datagram2_is_bound_to_its_target() {
    let k = keys(1);
    let d = datagram2(&k, Mapping::new(), b"for bob only");
    let bytes = d.emit(&k, &to()).expect("fits");
    assert_eq!(parse(protocol::DATAGRAM2, &bytes), Ok(d));
    let carol = keys(201).hash();
    assert_eq!(
        Datagram::parse(NOW, protocol::DATAGRAM2, &bytes, &carol),
        Err(DatagramError::BadSignature)
    );
}

#[test]
fn versions_and_unknown_flags() {
    let k = keys(1);
    let mut d2 = datagram2(&k, Mapping::new(), b"x")
        .emit(&k, &to())
        .expect("fits");
    d2[392] = 0x03;
    assert_eq!(
        parse(protocol::DATAGRAM2, &d2),
        Err(DatagramError::BadVersion {
            expected: 2,
            found: 3
        })
    );

    let d3 = Datagram::Datagram3 {
        from_hash: Hash([9; 32]),
        options: Mapping::new(),
        payload: b"x".to_vec(),
    };
    let mut bytes = d3.emit(&k, &to()).expect("fits");
    // Bits 15-5 are unused: set, they are ignored.
    bytes[32] = 0xff;
    bytes[33] = 0xe3;
    assert_eq!(parse(protocol::DATAGRAM3, &bytes), Ok(d3));
    bytes[33] = 0x02;
    assert_eq!(
        parse(protocol::DATAGRAM3, &bytes),
        Err(DatagramError::BadVersion {
            expected: 3,
            found: 2
        })
    );
}

#[test]
fn errors_are_named() {
    let k = keys(1);
    let d1 = Datagram::Repliable {
        from: k.destination().clone(),
        payload: b"payload".to_vec(),
    }
    .emit(&k, &to())
    .expect("fits");

    let mut forged = d1.clone();
    *forged.last_mut().expect("payload") ^= 1;
    assert_eq!(
        parse(protocol::DATAGRAM, &forged),
        Err(DatagramError::BadSignature)
    );

    // The key certificate's signing type (bytes 387-388) says DSA_SHA1.
    let mut dsa = d1.clone();
    dsa[387..389].copy_from_slice(&[0, 0]);
    assert_eq!(
        parse(protocol::DATAGRAM, &dsa),
        Err(DatagramError::UnsupportedSigType(0))
    );

    assert!(matches!(
        parse(protocol::DATAGRAM, &d1[..400]),
        Err(DatagramError::Truncated { .. })
    ));
    let d2 = datagram2(&k, Mapping::new(), b"")
        .emit(&k, &to())
        .expect("fits");
    assert!(matches!(
        parse(protocol::DATAGRAM2, &d2[..391 + 2 + 10]),
        Err(DatagramError::Truncated {
            what: "datagram2: signature",
            ..
        })
    ));
    assert!(matches!(
        parse(protocol::DATAGRAM3, &[0; 33]),
        Err(DatagramError::Truncated { .. })
    ));
    assert_eq!(
        parse(protocol::STREAMING, &d1),
        Err(DatagramError::NotADatagram(6))
    );
    assert_eq!(
        parse(protocol::RAW, &vec![0; MAX_RECEIVED_LEN + 1]),
        Err(DatagramError::Oversize {
            max: MAX_RECEIVED_LEN,
            actual: MAX_RECEIVED_LEN + 1
        })
    );

    let stranger = Datagram::Repliable {
        from: keys(2).destination().clone(),
        payload: vec![],
    };
    assert_eq!(stranger.emit(&k, &to()), Err(DatagramError::SignerMismatch));
}

#[test]
fn emitting_is_bounded_by_one_garlic_message() {
    let k = keys(1);
    let largest = datagram2(&k, Mapping::new(), &vec![7; MAX_DATAGRAM_PAYLOAD_LEN]);
    let bytes = largest.emit(&k, &to()).expect("fits");
    assert_eq!(bytes.len(), MAX_DATAGRAM_LEN);
    let app = AppPayload {
        protocol: protocol::DATAGRAM2,
        from_port: 0,
        to_port: 0,
        data: bytes,
    };
    assert_eq!(app.encode(false).len(), AppPayload::MAX_ENCODED_LEN);
    assert!(app.encode(true).len() <= AppPayload::MAX_ENCODED_LEN);

    let too_large = datagram2(&k, Mapping::new(), &vec![7; MAX_DATAGRAM_PAYLOAD_LEN + 1]);
    assert_eq!(
        too_large.emit(&k, &to()),
        Err(DatagramError::Oversize {
            max: MAX_DATAGRAM_LEN,
            actual: MAX_DATAGRAM_LEN + 1
        })
    );
    let raw = Datagram::Raw(vec![0; MAX_DATAGRAM_LEN + 1]);
    assert!(matches!(
        raw.emit(&k, &to()),
        Err(DatagramError::Oversize { .. })
    ));
}

/// [`AppPayload::MAX_ENCODED_LEN`] against the real encoders: the worst case of what
/// `Clients::send_now` puts in one garlic message (a New Session with DateTime, the Data
/// clove, a DeliveryStatus clove and a 16-lease LeaseSet2) is exactly the largest I2NP
/// message an outbound tunnel gateway fragments, and one byte more is refused.
#[test]
fn max_encoded_len_fills_one_garlic_message() {
    use crate::garlic::payload::{emit_payload, Block, Clove, CloveDelivery};
    use crate::garlic::ratchet::{MessageKind, RatchetEndpoint};
    use crate::i2np::{
        DataMessage, DatabaseStore, DeliveryStatus, Garlic, I2npMessage, MessageBody, StoreEntry,
    };
    use crate::tunnel::data::{Delivery, Gateway, NextHop};
    use crate::tunnel::TunnelId;
    use rand::SeedableRng;
    use std::sync::Arc;
    use x25519_dalek::{PublicKey, StaticSecret};

    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let expiration_ms = NOW.as_millis() + 60_000;
    let leases = (0..16u8)
        .map(|i| crate::data::Lease2 {
            gateway: Hash([i; 32]),
            tunnel_id: TunnelId(u32::from(i)),
            end_date_s: 1_800_000_600,
        })
        .collect();
    let lease_set = Arc::new(sign_test_lease_set2(9, 1_800_000_000, leases));
    assert_eq!(lease_set.as_bytes().len(), 1143);
    let remote = PublicKey::from(&StaticSecret::from([5; 32])).to_bytes();

    let garlic_len = |rng: &mut rand_chacha::ChaCha20Rng, data_len: usize| {
        let mut clove = |delivery, body| {
            Block::Clove(Clove {
                delivery,
                message: I2npMessage::with_random_id(&mut *rng, expiration_ms, body),
            })
        };
        let data = MessageBody::Data(DataMessage {
            payload: vec![0; data_len],
        });
        let status = MessageBody::DeliveryStatus(DeliveryStatus {
            msg_id: 1,
            timestamp_ms: NOW.as_millis(),
        });
        let store = MessageBody::DatabaseStore(DatabaseStore {
            key: lease_set.hash(),
            reply: None,
            entry: StoreEntry::LeaseSet2(lease_set.clone()),
        });
        let tunnel = CloveDelivery::Tunnel {
            gateway: Hash([2; 32]),
            tunnel: TunnelId(7),
        };
        let blocks = vec![
            Block::DateTime(NOW.as_secs() as u32),
            clove(CloveDelivery::Destination(Hash([1; 32])), data),
            clove(tunnel, status),
            clove(CloveDelivery::Local, store),
        ];
        let payload = emit_payload(&blocks).expect("in order");
        let sealed = RatchetEndpoint::new(StaticSecret::from([4; 32]))
            .seal(&mut *rng, NOW, &remote, &payload)
            .expect("within a garlic payload");
        assert_eq!(sealed.kind, MessageKind::NewSession);
        let body = MessageBody::Garlic(Garlic {
            data: sealed.message,
        });
        I2npMessage::with_random_id(&mut *rng, expiration_ms, body).encode()
    };

    let gateway = Gateway::outbound(
        NextHop {
            router: Hash([3; 32]),
            tunnel: TunnelId(1),
        },
        &[],
    );
    let delivery = Delivery::Tunnel {
        tunnel: TunnelId(8),
        gateway: Hash([6; 32]),
    };
    let largest = garlic_len(&mut rng, AppPayload::MAX_ENCODED_LEN);
    assert_eq!(largest.len(), 63_708);
    let fragments = gateway
        .send(&mut rng, &[(delivery, &largest)])
        .expect("64 fragments");
    assert_eq!(fragments.len(), 64);
    let over = garlic_len(&mut rng, AppPayload::MAX_ENCODED_LEN + 1);
    assert!(gateway.send(&mut rng, &[(delivery, &over)]).is_err());
}

/// An offline-signed Datagram2 assembled from the spec's layout: the destination signs
/// (expires, sig type 7, transient key); the transient key signs the datagram.
fn offline_signed(destination_key: &SigningKey, signer: &SigningKey, expires_s: u32) -> Vec<u8> {
    let transient = SigningKey::from_bytes(&[0x77; 32]);
    let from = crate::data::strategies::destination_from(destination_key, [1; 32]);
    let mut bytes = from.as_bytes().to_vec();
    let body = bytes.len();
    bytes.extend_from_slice(&(DATAGRAM2_VERSION | FLAG_OFFLINE).to_be_bytes());
    let block = bytes.len();
    bytes.extend_from_slice(&expires_s.to_be_bytes());
    bytes.extend_from_slice(&7u16.to_be_bytes());
    bytes.extend_from_slice(&transient.verifying_key().to_bytes());
    let offline = destination_key.sign(&bytes[block..]).to_bytes();
    bytes.extend_from_slice(&offline);
    bytes.extend_from_slice(b"offline payload");
    let signed = datagram2_signed_data(&to(), &bytes[body..]);
    bytes.extend_from_slice(&signer.sign(&signed).to_bytes());
    bytes
}

#[test]
fn offline_signatures_are_verified() {
    let destination_key = SigningKey::from_bytes(&[0x66; 32]);
    let transient = SigningKey::from_bytes(&[0x77; 32]);
    let expires = NOW.as_secs() as u32 + 3600;
    let bytes = offline_signed(&destination_key, &transient, expires);
    let parsed = parse(protocol::DATAGRAM2, &bytes).expect("valid offline-signed datagram");
    let Datagram::Datagram2 {
        offline: Some(offline),
        payload,
        ..
    } = &parsed
    else {
        panic!("an offline-signed Datagram2: {parsed:?}");
    };
    assert_eq!(payload, b"offline payload");
    assert_eq!(offline.expires_s(), expires);
    assert_eq!(
        offline.transient_public_key(),
        transient.verifying_key().to_bytes()
    );
    assert_eq!(offline.as_bytes().len(), 4 + 2 + 32 + 64);
    assert_eq!(parsed.encoded_len(), bytes.len());

    // Signed by the destination key instead of the transient one.
    let wrong = offline_signed(&destination_key, &destination_key, expires);
    assert_eq!(
        parse(protocol::DATAGRAM2, &wrong),
        Err(DatagramError::BadSignature)
    );
    // A transient key the destination did not certify.
    let mut forged = bytes.clone();
    forged[391 + 2 + 6] ^= 1;
    assert!(parse(protocol::DATAGRAM2, &forged).is_err());
    let expired = offline_signed(&destination_key, &transient, NOW.as_secs() as u32);
    assert_eq!(
        parse(protocol::DATAGRAM2, &expired),
        Err(DatagramError::OfflineExpired {
            expires_s: NOW.as_secs() as u32
        })
    );
    // We verify them, but cannot sign them.
    let ours = DestinationKeys::from_secret_bytes(&[0; 96]);
    let resent = match parsed {
        Datagram::Datagram2 {
            options,
            offline,
            payload,
            ..
        } => Datagram::Datagram2 {
            from: ours.destination().clone(),
            options,
            offline,
            payload,
        },
        other => other,
    };
    assert_eq!(
        resent.emit(&ours, &to()),
        Err(DatagramError::OfflineSigningUnsupported)
    );
}

fn arb_datagram(keys: DestinationKeys) -> impl Strategy<Value = Datagram> {
    let from = keys.destination().clone();
    let payload = || proptest::collection::vec(any::<u8>(), 0..300);
    let from2 = from.clone();
    prop_oneof![
        payload().prop_map(Datagram::Raw),
        payload().prop_map(move |payload| Datagram::Repliable {
            from: from.clone(),
            payload
        }),
        (arb_mapping(), payload()).prop_map(move |(options, payload)| Datagram::Datagram2 {
            from: from2.clone(),
            options,
            offline: None,
            payload
        }),
        (arb_hash(), arb_mapping(), payload()).prop_map(|(from_hash, options, payload)| {
            Datagram::Datagram3 {
                from_hash,
                options,
                payload,
            }
        }),
    ]
}

proptest! {
    #[test]
    fn round_trips(d in arb_datagram(keys(1)), to in arb_hash()) {
        let bytes = d.emit(&keys(1), &to).expect("small");
        prop_assert_eq!(bytes.len(), d.encoded_len());
        prop_assert_eq!(Datagram::parse(NOW, d.protocol(), &bytes, &to), Ok(d));
    }

    #[test]
    fn random_bytes_never_panic(protocol: u8, bytes in proptest::collection::vec(any::<u8>(), 0..900)) {
        let _ = parse(protocol, &bytes);
    }

    /// A valid encoding edited anywhere after the sender's Destination no longer parses,
    /// for the signed kinds; nothing panics for any kind.
    #[test]
    fn mutations_are_refused(
        (original, protocol, bytes) in arb_datagram(keys(1)).prop_flat_map(|d| {
            let bytes = d.emit(&keys(1), &to()).expect("small");
            (Just(bytes.clone()), Just(d.protocol()), mutated(bytes))
        })
    ) {
        let result = parse(protocol, &bytes);
        let signed = matches!(protocol, protocol::DATAGRAM | protocol::DATAGRAM2);
        if signed && bytes != original && bytes.get(..391) == original.get(..391) {
            prop_assert!(result.is_err(), "accepted an edited datagram: {:?}", result);
        }
    }
}

/// The claim behind `compress_by_default`: a signed datagram's Destination padding (one
/// 32-byte seed repeated) compresses away even when the payload does not.
#[test]
fn a_senders_destination_compresses() {
    use rand::{RngCore, SeedableRng};
    let k = keys(1);
    let mut payload = vec![0; 100];
    rand_chacha::ChaCha20Rng::seed_from_u64(1).fill_bytes(&mut payload);
    let app = AppPayload {
        protocol: protocol::DATAGRAM2,
        from_port: 0,
        to_port: 0,
        data: datagram2(&k, Mapping::new(), &payload)
            .emit(&k, &to())
            .expect("fits"),
    };
    assert!(crate::client::app_payload::compress_by_default(
        app.protocol
    ));
    let saved = app.encode(false).len() - app.encode(true).len();
    assert!(saved > 280, "compression saved only {saved} bytes");
}
