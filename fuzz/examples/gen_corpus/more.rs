//! Seeds for the targets that read application data, files and the data phases of
//! NTCP2 and tunnels (`main.rs` writes the netDb structures, I2NP, garlic, streaming).

use super::write;
use ramsons_router::client::app_payload::{protocol, AppPayload};
use ramsons_router::client::datagram::Datagram;
use ramsons_router::crypto::{elligator2, DestinationKeys, RouterKeys};
use ramsons_router::data::{Hash, Mapping, RouterAddress, RouterInfo, TunnelId};
use ramsons_router::host::config::HostConfig;
use ramsons_router::host::sam::keys;
use ramsons_router::i2np::{DeliveryStatus, I2npMessage, MessageBody};
use ramsons_router::profile::{Observation, Profiles};
use ramsons_router::reseed::su3::Builder;
use ramsons_router::time::Instant;
use ramsons_router::transport::ntcp2::{LocalRouter, Ntcp2Keys, Ntcp2Peer, Session};
use ramsons_router::tunnel::build::RequestRecord;
use ramsons_router::tunnel::build::{HopRole, LayerEncryption, ReplyRecord, ReplyStatus};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Prefixes each piece with its 2-byte length, the framing several targets split by.
fn framed(pieces: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in pieces {
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out
}

fn status_message() -> I2npMessage {
    I2npMessage {
        id: 43,
        expiration_ms: 1_700_000_060_000,
        body: MessageBody::DeliveryStatus(DeliveryStatus {
            msg_id: 77,
            timestamp_ms: 1_700_000_000_000,
        }),
    }
}

pub fn write_all(rng: &mut ChaCha20Rng, ri: &RouterInfo) -> Result {
    applications(rng)?;
    text_files()?;
    files(rng, ri)?;
    ntcp2(ri)?;
    tunnels(rng)?;
    identity(rng, ri)
}

fn applications(rng: &mut ChaCha20Rng) -> Result {
    let payload = AppPayload {
        protocol: protocol::STREAMING,
        from_port: 1234,
        to_port: 80,
        data: b"GET / HTTP/1.1\r\nHost: example.i2p\r\n\r\n".repeat(4),
    };
    write("app_payload", "compressed", &payload.encode(true))?;
    write("app_payload", "stored", &payload.encode(false))?;

    // The first byte picks the protocol in the datagram target; it signs for [7; 32].
    let keys = DestinationKeys::generate(rng);
    let to = Hash([7; 32]);
    let from = keys.destination().clone();
    let kinds = [
        ("raw", 0u8, Datagram::Raw(b"raw bytes".to_vec())),
        (
            "datagram1",
            1,
            Datagram::Repliable {
                from: from.clone(),
                payload: b"repliable".to_vec(),
            },
        ),
        (
            "datagram2",
            2,
            Datagram::Datagram2 {
                from,
                options: Mapping::new(),
                offline: None,
                payload: b"datagram2".to_vec(),
            },
        ),
        (
            "datagram3",
            3,
            Datagram::Datagram3 {
                from_hash: keys.destination().hash(),
                options: Mapping::new(),
                payload: b"datagram3".to_vec(),
            },
        ),
    ];
    for (name, selector, datagram) in kinds {
        let bytes = datagram.emit(&keys, &to)?;
        write("datagram", name, &[&[selector][..], &bytes].concat())?;
    }

    let public = RouterKeys::generate(rng).identity().encryption_key();
    let encoded = elligator2::representative(&public, false)
        .or_else(|| elligator2::representative(&public, true))
        .unwrap_or(public);
    write("elligator2", "representative", &encoded)?;

    let sam = [
        ("hello", "HELLO VERSION MIN=3.0 MAX=3.3"),
        (
            "session",
            "SESSION CREATE STYLE=STREAM ID=test DESTINATION=TRANSIENT SIGNATURE_TYPE=7 \
             inbound.length=2",
        ),
        (
            "connect",
            "STREAM CONNECT ID=test DESTINATION=example.i2p SILENT=false",
        ),
        ("accept", "STREAM ACCEPT ID=test SILENT=false"),
        ("naming", "NAMING LOOKUP NAME=ME"),
        ("dest", "DEST GENERATE SIGNATURE_TYPE=7"),
        (
            "datagram",
            "SESSION CREATE STYLE=DATAGRAM ID=udp DESTINATION=TRANSIENT PORT=7655 HOST=127.0.0.1",
        ),
        (
            "primary_add",
            "SESSION ADD STYLE=RAW ID=raw PROTOCOL=18 FROM_PORT=5",
        ),
        ("quit", "QUIT"),
    ];
    for (name, line) in sam {
        write("sam_command", name, line.as_bytes())?;
    }
    write(
        "sam_command",
        "private_key",
        keys::private_base64(&keys).as_bytes(),
    )?;
    let udp = format!(
        "3.3 udp {} FROM_PORT=1\nhello",
        keys::public_base64(keys.destination())
    );
    write("sam_command", "udp_header", udp.as_bytes())?;

    let dest = keys::public_base64(keys.destination());
    let hosts = format!(
        "# a comment\nexample.i2p={dest}\nsigned.i2p={dest}#!date=1700000000#sig=AAAA\n\
         #!action=adddest#name=added.i2p#dest={dest}\n"
    );
    write(
        "hosts_line",
        "entry",
        format!("example.i2p={dest}").as_bytes(),
    )?;
    write("hosts_line", "book", hosts.as_bytes())?;
    Ok(())
}

fn text_files() -> Result {
    let proxy = [
        (
            "http_get",
            &b"GET\nhttp://example.i2p/index.html\nexample.i2p"[..],
        ),
        ("http_origin_form", b"GET\n/path?q=1\nexample.b32.i2p:80"),
        ("connect", b"CONNECT\nexample.i2p:443\n"),
        ("socks_greeting", &[5, 1, 0]),
        ("socks5_request", b"\x05\x01\x00\x03\x0bexample.i2p\x00\x50"),
        (
            "socks4a_request",
            b"\x04\x01\x00\x50\x00\x00\x00\x01\x00example.i2p\x00",
        ),
    ];
    for (name, bytes) in proxy {
        write("proxy_request", name, bytes)?;
    }
    let tunnels_conf = "[web]\ntype = http\nhost = 127.0.0.1\nport = 8080\nkeys = web.dat\n\n\
                        [irc]\ntype = client\naddress = 127.0.0.1\nport = 6668\n\
                        destination = irc.postman.i2p\ndestinationport = 6667\nkeys = irc.dat\n";
    write("proxy_request", "tunnels_conf", tunnels_conf.as_bytes())?;
    write("config_files", "tunnels_conf", tunnels_conf.as_bytes())?;
    write(
        "config_files",
        "router_toml_default",
        HostConfig::default().to_toml().as_bytes(),
    )?;
    write(
        "config_files",
        "router_toml_small",
        b"data_dir = \"data\"\nlisten = \"127.0.0.1:12345\"\nfloodfill = true\n\n\
          [sam]\nenabled = true\n\n[[tunnel]]\nname = \"web\"\ntype = \"http\"\n\
          host = \"127.0.0.1\"\nport = 8080\n",
    )?;
    Ok(())
}

fn files(rng: &mut ChaCha20Rng, ri: &RouterInfo) -> Result {
    let mut profiles = Profiles::new();
    let now = Instant::from_secs(1_700_000_000);
    for i in 0..3u8 {
        let peer = Hash([i; 32]);
        profiles.record(now, peer, Observation::BuildAccepted);
        profiles.record(
            now,
            peer,
            Observation::TunnelTestPassed(Duration::from_millis(300)),
        );
    }
    profiles.record(now, Hash([9; 32]), Observation::BuildTimedOut);
    write("profiles", "four_peers", &profiles.encode())?;
    write("profiles", "empty", &Profiles::new().encode())?;

    // A reseed bundle: a zip of RouterInfos in an su3 with a dummy signature (the
    // parser reads signatures, only open_bundle checks them).
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..2 {
        writer.start_file(format!("routerInfo-{i}.dat"), options)?;
        writer.write_all(ri.as_bytes())?;
    }
    writer.start_file("README.txt", options)?;
    writer.write_all(b"not a router")?;
    let zip = writer.finish()?.into_inner();
    write("su3", "bundle_zip", &zip)?;
    let mut signature = vec![0u8; 512];
    rand::RngCore::fill_bytes(rng, &mut signature);
    let su3 = Builder::reseed("1700000000", "fuzz@mail.i2p").build(&zip, |_| signature);
    write("su3", "bundle", &su3)?;
    Ok(())
}

/// The routers the ntcp2_session target makes from its first byte.
fn session_router(rng: &mut ChaCha20Rng) -> LocalRouter {
    let now = Instant::from_secs(1_700_000_000);
    let identity = RouterKeys::generate(rng);
    let keys = Ntcp2Keys::generate(rng);
    let mut options = Mapping::new();
    options.insert("netId", "2").expect("short option");
    let address = keys.router_address("127.0.0.1:9000".parse().expect("literal"));
    let info = identity.sign_router_info(now.as_millis(), vec![address], options);
    LocalRouter {
        info: Arc::new(info),
        keys,
        net_id: 2,
    }
}

fn ntcp2(ri: &RouterInfo) -> Result {
    // Mode 0 hands raw bytes to Bob: Alice's real message 1, with the target's keys.
    let now = Instant::from_secs(1_700_000_000);
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    let (alice, bob) = (session_router(&mut rng), session_router(&mut rng));
    let _bob = Session::accept(now, &bob, &mut rng);
    let peer = Ntcp2Peer::from_router_info(&bob.info)?;
    let mut session = Session::connect(now, &alice, &peer, &mut rng);
    let message1 = session.poll_transmit().ok_or("message 1")?;
    write(
        "ntcp2_session",
        "message1",
        &[&[0u8][..], &message1].concat(),
    )?;
    // Mode 1 XORs a real handshake with the rest: zeros leave it intact.
    write(
        "ntcp2_session",
        "clean_handshake",
        &[1u8; 1]
            .iter()
            .chain(&[0u8; 128])
            .copied()
            .collect::<Vec<_>>(),
    )?;

    let i2np = status_message().encode_short();
    let mut blocks = Vec::new();
    push_block(&mut blocks, 0, &1_700_000_000u32.to_be_bytes());
    push_block(&mut blocks, 3, &i2np);
    push_block(&mut blocks, 254, &[0; 16]);
    let mut info = vec![1u8];
    info.extend_from_slice(ri.as_bytes());
    let mut second = Vec::new();
    push_block(&mut second, 2, &info);
    push_block(&mut second, 1, &[0; 12]);
    let mut termination = Vec::new();
    push_block(&mut termination, 4, &[0, 0, 0, 0, 0, 0, 0, 2, 0]);
    write("ntcp2_frame", "messages", &framed(&[&blocks, &second]))?;
    write(
        "ntcp2_frame",
        "termination",
        &framed(&[&blocks, &termination]),
    )?;
    Ok(())
}

fn push_block(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

fn tunnels(rng: &mut ChaCha20Rng) -> Result {
    let message = status_message().try_encode()?;
    // Mode 0: tunnel message contents. An unfragmented LOCAL message; one in two
    // fragments (TUNNEL delivery) across two tunnel messages.
    let whole = [&[0x00][..], &(message.len() as u16).to_be_bytes(), &message].concat();
    let (head, tail) = message.split_at(10);
    let mut first = vec![0x20 | 0x08];
    first.extend_from_slice(&1234u32.to_be_bytes());
    first.extend_from_slice(&[5; 32]);
    first.extend_from_slice(&99u32.to_be_bytes());
    first.extend_from_slice(&(head.len() as u16).to_be_bytes());
    first.extend_from_slice(head);
    let mut follow = vec![0x80 | (1 << 1) | 1];
    follow.extend_from_slice(&99u32.to_be_bytes());
    follow.extend_from_slice(&(tail.len() as u16).to_be_bytes());
    follow.extend_from_slice(tail);
    write(
        "tunnel_data",
        "whole",
        &[&[0u8][..], &framed(&[&whole])].concat(),
    )?;
    write(
        "tunnel_data",
        "fragments",
        &[&[0u8][..], &framed(&[&first, &follow])].concat(),
    )?;
    // Mode 1: I2NP messages through gateway and endpoint.
    let big = vec![0x42u8; 2500];
    write(
        "tunnel_data",
        "round_trip",
        &[&[1u8][..], &framed(&[&message, &big])].concat(),
    )?;

    let mut options = Mapping::new();
    options.insert("m", "2048")?;
    let request = RequestRecord {
        receive_tunnel: TunnelId(1234),
        next_tunnel: TunnelId(5678),
        next_router: Hash([3; 32]),
        role: HopRole::Participant,
        layer_encryption: LayerEncryption::Aes,
        request_time_min: 28_333_333,
        expiration_secs: 600,
        next_message_id: 42,
        options,
    };
    write("tunnel_build_record", "request", &request.encode(rng)?)?;
    let reply = ReplyRecord {
        options: Mapping::new(),
        status: ReplyStatus::RejectBandwidth,
    };
    write("tunnel_build_record", "reply", &reply.encode(rng)?)?;
    Ok(())
}

fn identity(rng: &mut ChaCha20Rng, ri: &RouterInfo) -> Result {
    let keys = DestinationKeys::generate(rng);
    let destination = keys.destination().as_bytes();
    let address = RouterAddress::new(5, "NTCP2", Mapping::new()).to_bytes()?;
    let certificate = destination[384..].to_vec();
    let base64 = keys::public_base64(keys.destination());
    let seeds: [(&str, u8, &[u8]); 6] = [
        ("router_identity", 0, ri.identity().as_bytes()),
        ("destination", 1, destination),
        ("certificate", 2, &certificate),
        ("router_address", 3, &address),
        ("book_destination", 4, destination),
        ("base64", 5, base64.as_bytes()),
    ];
    for (name, which, bytes) in seeds {
        write("identity", name, &[&[which][..], bytes].concat())?;
    }
    Ok(())
}
