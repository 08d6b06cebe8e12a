//! Writes valid encodings into `corpus/<target>/` so fuzzing starts from real structures.
//! Run from `fuzz/`: `cargo run --example gen_corpus`.

mod more;

use ramsons_router::client::streaming::{ManagerConfig, Ports, StreamManager};
use ramsons_router::crypto::blinding::Credential;
use ramsons_router::crypto::{DestinationKeys, RouterKeys};
use ramsons_router::data::{
    BlindableSigType, ClientAuthorization, ClientKey, EncryptedLeaseSet, Hash, Lease2, Mapping,
    MetaLease, RouterAddress, TunnelId,
};
use ramsons_router::garlic::payload::{emit_payload, Block, Clove, CloveDelivery};
use ramsons_router::garlic::router::{seal_to_router, seal_with_tag};
use ramsons_router::i2np::{
    BuildRecords, DataMessage, DatabaseLookup, DatabaseSearchReply, DatabaseStore, DeliveryStatus,
    Garlic, I2npMessage, LookupKind, MessageBody, ReplyEncryption, StoreEntry, StoreReply,
    TunnelData, TunnelGateway, SHORT_RECORD_LEN,
};
use ramsons_router::time::Instant;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

fn write(target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = Path::new("corpus").join(target);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
    let keys = RouterKeys::generate(&mut rng);

    let mut options = Mapping::new();
    options.insert("caps", "XfR")?;
    options.insert("netId", "2")?;
    options.insert("router.version", "0.9.65")?;
    let mut ntcp2 = Mapping::new();
    ntcp2.insert("host", "192.0.2.7")?;
    ntcp2.insert("port", "23456")?;
    ntcp2.insert("s", Hash::digest(b"static").to_base64())?;
    ntcp2.insert("v", "2")?;
    write("mapping", "router_options", &options.to_bytes())?;
    write("mapping", "ntcp2_options", &ntcp2.to_bytes())?;
    write("mapping", "empty", &Mapping::new().to_bytes())?;

    let ri = keys.sign_router_info(
        1_700_000_000_000,
        vec![RouterAddress::new(10, "NTCP2", ntcp2)],
        options,
    );
    write("router_info", "floodfill", ri.as_bytes())?;
    let bare = keys.sign_router_info(1_700_000_000_000, vec![], Mapping::new());
    write("router_info", "bare", bare.as_bytes())?;

    let destination = DestinationKeys::generate(&mut rng);
    let leases: Vec<Lease2> = (0..3u8)
        .map(|i| Lease2 {
            gateway: Hash([i; 32]),
            tunnel_id: TunnelId(1000 + u32::from(i)),
            end_date_s: 1_700_000_600,
        })
        .collect();
    let ls2 = destination.sign_lease_set(1_700_000_000, 600, leases.clone())?;
    write("lease_set2", "three_leases", ls2.as_bytes())?;
    let empty = destination.sign_lease_set(1_700_000_000, 600, vec![])?;
    write("lease_set2", "no_leases", empty.as_bytes())?;

    let entries = (0..3u8)
        .map(|i| MetaLease::lease_set2(Hash([i; 32]), i, 1_700_003_600))
        .collect();
    let meta = destination.sign_meta_lease_set(1_700_000_000, 3600, entries)?;
    write("meta_lease_set", "three_entries", meta.as_bytes())?;

    // The b33 target reads its input as text and as the binary form.
    let plain = destination.b33_address(false, false);
    write("b33", "plain", plain.to_string().as_bytes())?;
    write("b33", "plain_binary", &plain.to_bytes())?;
    let private = destination.b33_address(true, true);
    write("b33", "secret_and_auth", private.to_string().as_bytes())?;

    // Encrypted for the fixed keys the encrypted_lease_set target decrypts with: its
    // destination's credential, the PSK [7; 32] and the DH key [7; 32].
    let fuzz_destination = DestinationKeys::from_secret_bytes(&[7; 96]);
    let credential = Credential::new(
        &fuzz_destination.destination().signing_public_key(),
        BlindableSigType::Ed25519,
    );
    let blinded = fuzz_destination.blinded_signing_key("20261201", b"");
    let inner = fuzz_destination.sign_lease_set(1_796_086_800, 600, leases)?;
    let dh_client = ClientKey::Dh([7; 32].into());
    let auths = [
        ("everybody", ClientAuthorization::Everybody),
        ("psk", ClientAuthorization::Psk(vec![[7; 32], [8; 32]])),
        (
            "dh",
            ClientAuthorization::Dh(dh_client.dh_public().into_iter().collect()),
        ),
    ];
    let mut els = None;
    for (name, auth) in &auths {
        let encrypted = EncryptedLeaseSet::encrypt(&mut rng, &blinded, &credential, &inner, auth)?;
        write("encrypted_lease_set", name, encrypted.as_bytes())?;
        els.get_or_insert(encrypted);
    }
    let els = els.expect("three authorisation modes");

    let bodies = [
        (
            "store_ri",
            MessageBody::DatabaseStore(DatabaseStore {
                key: ri.hash(),
                reply: NonZeroU32::new(77).map(|token| StoreReply {
                    token,
                    tunnel_id: 0,
                    gateway: ri.hash(),
                }),
                entry: StoreEntry::RouterInfo(Arc::new(ri.clone())),
            }),
        ),
        (
            "store_ls2",
            MessageBody::DatabaseStore(DatabaseStore {
                key: ls2.hash(),
                reply: None,
                entry: StoreEntry::LeaseSet2(Arc::new(ls2.clone())),
            }),
        ),
        (
            "store_els",
            MessageBody::DatabaseStore(DatabaseStore {
                key: els.storage_key(),
                reply: None,
                entry: StoreEntry::EncryptedLeaseSet(Arc::new(els)),
            }),
        ),
        (
            "lookup",
            MessageBody::DatabaseLookup(DatabaseLookup {
                key: Hash([1; 32]),
                from: ri.hash(),
                kind: LookupKind::LeaseSet,
                reply_tunnel: Some(1234),
                exclude: vec![Hash([2; 32])],
                reply_encryption: ReplyEncryption::Ratchet {
                    key: [4; 32],
                    tags: vec![[5; 8]],
                },
            }),
        ),
        (
            "search_reply",
            MessageBody::DatabaseSearchReply(DatabaseSearchReply {
                key: Hash([1; 32]),
                peers: vec![Hash([6; 32]), Hash([7; 32]), Hash([8; 32])],
                from: ri.hash(),
            }),
        ),
        (
            "delivery_status",
            MessageBody::DeliveryStatus(DeliveryStatus {
                msg_id: 77,
                timestamp_ms: 1_700_000_000_000,
            }),
        ),
    ];
    let status = I2npMessage {
        id: 43,
        expiration_ms: 1_700_000_060_000,
        body: MessageBody::DeliveryStatus(DeliveryStatus {
            msg_id: 77,
            timestamp_ms: 1_700_000_000_000,
        }),
    };
    let payload = emit_payload(&[
        Block::DateTime(1_700_000_000),
        Block::Clove(Clove {
            delivery: CloveDelivery::Tunnel {
                gateway: ri.hash(),
                tunnel: TunnelId(1234),
            },
            message: status.clone(),
        }),
        Block::Clove(Clove {
            delivery: CloveDelivery::Local,
            message: I2npMessage {
                body: MessageBody::Data(DataMessage {
                    payload: b"hello".to_vec(),
                }),
                ..status.clone()
            },
        }),
        Block::Padding(7),
    ])?;
    // The first byte selects the mode in the garlic_payload target; the fixed keys are
    // the ones it opens with.
    let fuzz_keys = RouterKeys::from_secret_bytes(&[7; 96]);
    let one_time = seal_to_router(
        &mut rng,
        &fuzz_keys.identity().encryption_key(),
        &payload,
        None,
    )?;
    let tagged = seal_with_tag(&[7; 32], [5; 8], &payload);
    write(
        "garlic_payload",
        "payload",
        &[&[0u8][..], &payload].concat(),
    )?;
    write(
        "garlic_payload",
        "one_time",
        &[&[1u8][..], &one_time].concat(),
    )?;
    write("garlic_payload", "tagged", &[&[2u8][..], &tagged].concat())?;

    let bodies = bodies.into_iter().chain([
        ("garlic", MessageBody::Garlic(Garlic { data: tagged })),
        (
            "data",
            MessageBody::Data(DataMessage {
                payload: b"hello".to_vec(),
            }),
        ),
        (
            "tunnel_data",
            MessageBody::TunnelData(TunnelData {
                tunnel_id: TunnelId(1234),
                iv: [3; 16],
                data: Box::new([4; TunnelData::DATA_LEN]),
            }),
        ),
        (
            "tunnel_gateway",
            MessageBody::TunnelGateway(TunnelGateway {
                tunnel_id: TunnelId(1234),
                message: status.try_encode()?,
            }),
        ),
        (
            "short_tunnel_build",
            MessageBody::ShortTunnelBuild(BuildRecords::new(vec![[5; SHORT_RECORD_LEN]; 4])?),
        ),
    ]);
    for (name, body) in bodies {
        let msg = I2npMessage {
            id: 42,
            expiration_ms: 1_700_000_060_000,
            body,
        };
        // The first byte selects the header form in the i2np_message target.
        let mut standard = vec![0u8];
        standard.extend_from_slice(&msg.try_encode()?);
        write("i2np_message", &format!("{name}_standard"), &standard)?;
        let mut short = vec![1u8];
        short.extend_from_slice(&msg.try_encode_short()?);
        write("i2np_message", &format!("{name}_short"), &short)?;
    }
    // Streaming: a signed SYN carrying data, and what answers it (the first byte
    // picks the parser mode of the target).
    let alice = DestinationKeys::generate(&mut rng);
    let bob = DestinationKeys::generate(&mut rng);
    let mut alice = StreamManager::new(alice, ManagerConfig::default(), rng.clone());
    let listen = ManagerConfig {
        listen: true,
        ..ManagerConfig::default()
    };
    let mut bob = StreamManager::new(bob, listen, rng.clone());
    let now = Instant::from_secs(1_700_000_000);
    let stream = alice.connect(now, bob.destination().clone(), Ports::default())?;
    alice.write(stream, b"GET / HTTP/1.1\r\n\r\n");
    alice.close(stream);
    let syn = alice.poll_transmit(now).ok_or("a SYN")?;
    let streaming = |name: &str, mode: u8, bytes: &[u8]| {
        write("streaming_packet", name, &[&[mode][..], bytes].concat())
    };
    streaming("syn", 0, &syn.payload)?;
    bob.handle_packet(now, Some(alice.hash()), syn.ports, &syn.payload)?;
    let later = now + std::time::Duration::from_secs(1);
    bob.handle_timeout(later);
    let reply = bob.poll_transmit(later).ok_or("a SYN reply")?;
    streaming("syn_reply", 0, &reply.payload)?;
    streaming("to_stream", 1, &reply.payload)?;

    more::write_all(&mut rng, &ri)?;
    println!("corpus written to fuzz/corpus/");
    Ok(())
}
