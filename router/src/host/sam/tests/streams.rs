//! STREAM CONNECT, ACCEPT and FORWARD, and PRIMARY subsessions.

use super::*;
use crate::host::sam::backend::ConnectError;
use crate::host::sam::keys;
use tokio::net::TcpListener;

/// A STREAM ACCEPT socket on `id`, past its STREAM STATUS.
async fn accepting(h: &Harness, id: &str, silent: bool) -> Client {
    let mut c = Client::hello(h).await;
    if silent {
        c.send(&format!("STREAM ACCEPT ID={id} SILENT=true")).await;
    } else {
        assert_eq!(
            c.ask(&format!("STREAM ACCEPT ID={id}")).await,
            "STREAM STATUS RESULT=OK"
        );
    }
    c
}

async fn connecting(h: &Harness, id: &str, to: &str, extra: &str) -> (Client, String) {
    let mut c = Client::hello(h).await;
    let status = c
        .ask(&format!("STREAM CONNECT ID={id} DESTINATION={to} {extra}"))
        .await;
    (c, status)
}

#[tokio::test]
async fn connect_accept_echo() {
    let h = start(config()).await;
    let (_a, a_public) = session(&h, "STREAM", "alice", "").await;
    let (_b, b_public) = session(&h, "STREAM", "bob", "").await;
    let mut server = accepting(&h, "bob", false).await;
    let (mut client, status) = connecting(&h, "alice", &b_public, "TO_PORT=80").await;
    assert_eq!(status, "STREAM STATUS RESULT=OK");
    // Bytes sent right after the command line must not be lost.
    client.write(b"hello ").await;
    client.write(b"bob\n").await;
    assert_eq!(
        server.line().await,
        format!("{a_public} FROM_PORT=0 TO_PORT=80")
    );
    assert_eq!(server.line().await, "hello bob");
    server.write(b"hi alice\n").await;
    assert_eq!(client.line().await, "hi alice");
    drop(client);
    assert!(server.closed().await);

    // SILENT: no STREAM STATUS, no destination line, just the bytes.
    let mut quiet_server = accepting(&h, "bob", true).await;
    let mut quiet = Client::hello(&h).await;
    quiet
        .send(&format!(
            "STREAM CONNECT ID=alice DESTINATION={b_public} SILENT=true"
        ))
        .await;
    quiet.write(b"psst\n").await;
    assert_eq!(quiet_server.line().await, "psst");
}

#[tokio::test]
async fn a_stream_before_the_accept_waits_for_it() {
    let h = start(config()).await;
    let (_a, _) = session(&h, "STREAM", "early", "").await;
    let (_b, b_public) = session(&h, "STREAM", "late", "").await;
    let (mut client, status) = connecting(&h, "early", &b_public, "").await;
    assert_eq!(status, "STREAM STATUS RESULT=OK");
    client.write(b"first\n").await;
    let mut server = accepting(&h, "late", false).await;
    server.line().await; // the destination line
    assert_eq!(server.line().await, "first");
}

#[tokio::test]
async fn connect_errors() {
    let h = start(config()).await;
    let (_a, _) = session(&h, "STREAM", "src", "").await;
    let (_b, b_public) = session(&h, "STREAM", "dst", "").await;
    let (_d, _) = session(&h, "DATAGRAM", "dgram", "").await;
    let b_hash = keys::parse_destination(&b_public)
        .expect("destination")
        .hash();
    let stranger = crate::crypto::DestinationKeys::from_secret_bytes(&[9; 96]);
    let stranger_b32 = stranger.destination().to_b32_address();

    let (_, unknown_id) = connecting(&h, "nobody", &b_public, "").await;
    assert_eq!(result(&unknown_id), "INVALID_ID", "{unknown_id}");
    let (_, not_stream) = connecting(&h, "dgram", &b_public, "").await;
    assert_eq!(result(&not_stream), "I2P_ERROR", "{not_stream}");
    let (_, garbage) = connecting(&h, "src", &"A".repeat(600), "").await;
    assert_eq!(result(&garbage), "INVALID_KEY", "{garbage}");
    let (_, no_host) = connecting(&h, "src", "nowhere.i2p", "").await;
    assert_eq!(result(&no_host), "INVALID_KEY", "{no_host}");
    let (mut gone, not_found) = connecting(&h, "src", &stranger_b32, "").await;
    assert_eq!(result(&not_found), "PEER_NOT_FOUND", "{not_found}");
    assert!(gone.closed().await);

    h.backend
        .fail_connects_to(b_hash, ConnectError::CantReachPeer("no tunnels".into()));
    let (_, unreachable) = connecting(&h, "src", &b_public, "").await;
    assert_eq!(
        unreachable,
        "STREAM STATUS RESULT=CANT_REACH_PEER MESSAGE=\"cannot reach the peer: no tunnels\""
    );
    h.backend.fail_connects_to(b_hash, ConnectError::Timeout);
    let (_, late) = connecting(&h, "src", &b_public, "").await;
    assert_eq!(result(&late), "TIMEOUT");
    h.backend
        .fail_connects_to(b_hash, ConnectError::InvalidKey("old crypto".into()));
    let (_, invalid) = connecting(&h, "src", &b_public, "").await;
    assert_eq!(result(&invalid), "INVALID_KEY");
    // SILENT failures just close.
    let mut silent = Client::hello(&h).await;
    silent
        .send(&format!(
            "STREAM CONNECT ID=src DESTINATION={b_public} SILENT=true"
        ))
        .await;
    assert!(silent.closed().await);

    // ACCEPT errors.
    let mut c = Client::hello(&h).await;
    assert_eq!(
        result(&c.ask("STREAM ACCEPT ID=nobody").await),
        "INVALID_ID"
    );
    // Streams need a socket of their own.
    let (mut control, _) = session(&h, "STREAM", "own", "").await;
    assert_eq!(
        result(&control.ask("STREAM ACCEPT ID=own").await),
        "I2P_ERROR"
    );
}

#[tokio::test]
async fn host_names_and_b32_connect() {
    let h = start(config()).await;
    let (_a, _) = session(&h, "STREAM", "from", "").await;
    let (_b, b_public) = session(&h, "STREAM", "to", "").await;
    let b = keys::parse_destination(&b_public).expect("destination");
    h.backend.add_host("bob.i2p", b.clone());
    for name in ["bob.i2p".to_owned(), b.to_b32_address()] {
        let mut server = accepting(&h, "to", false).await;
        let (mut client, status) = connecting(&h, "from", &name, "").await;
        assert_eq!(status, "STREAM STATUS RESULT=OK", "{name}");
        client.write(b"x\n").await;
        server.line().await;
        assert_eq!(server.line().await, "x");
    }
}

#[tokio::test]
async fn concurrent_accepts_follow_the_version() {
    let h = start(SamSection {
        max_pending_accepts: 2,
        ..config()
    })
    .await;
    let (_s, _) = session(&h, "STREAM", "acc", "").await;
    let _one = accepting(&h, "acc", false).await;
    let _two = accepting(&h, "acc", false).await;
    let mut three = Client::hello(&h).await;
    let too_many = three.ask("STREAM ACCEPT ID=acc").await;
    assert_eq!(too_many, "STREAM STATUS RESULT=I2P_ERROR MESSAGE=\"too many pending STREAM ACCEPTs on this session\"");
    let mut old = Client::connect(&h).await;
    assert_eq!(
        result(&old.ask("HELLO VERSION MIN=3.1 MAX=3.1").await),
        "OK"
    );
    assert_eq!(
        old.ask("STREAM ACCEPT ID=acc").await,
        "STREAM STATUS RESULT=ALREADY_ACCEPTING"
    );
    // FORWARD is not allowed while ACCEPTs wait.
    let mut forward = Client::hello(&h).await;
    assert_eq!(
        result(&forward.ask("STREAM FORWARD ID=acc PORT=1").await),
        "I2P_ERROR"
    );
}

#[tokio::test]
async fn forward_to_a_local_server() {
    let h = start(config()).await;
    let (_a, a_public) = session(&h, "STREAM", "caller", "").await;
    let (_b, b_public) = session(&h, "STREAM", "service", "").await;
    let local = TcpListener::bind("127.0.0.1:0").await.expect("loopback");
    let port = local.local_addr().expect("bound").port();
    let mut forward = Client::hello(&h).await;
    assert_eq!(
        forward
            .ask(&format!("STREAM FORWARD ID=service PORT={port}"))
            .await,
        "STREAM STATUS RESULT=OK"
    );
    let mut accept = Client::hello(&h).await;
    assert_eq!(
        result(&accept.ask("STREAM ACCEPT ID=service").await),
        "I2P_ERROR",
        "FORWARD is active"
    );
    let mut second = Client::hello(&h).await;
    assert_eq!(
        result(
            &second
                .ask("STREAM FORWARD ID=service PORT=1 SSL=true")
                .await
        ),
        "I2P_ERROR"
    );

    for round in 0..2 {
        let (mut client, status) = connecting(&h, "caller", &b_public, "FROM_PORT=7").await;
        assert_eq!(status, "STREAM STATUS RESULT=OK");
        client.write(format!("ping {round}\n").as_bytes()).await;
        let (socket, _) = tokio::time::timeout(PATIENCE, local.accept())
            .await
            .expect("in time")
            .expect("accepted");
        let mut served = Client {
            io: BufReader::new(socket),
        };
        assert_eq!(
            served.line().await,
            format!("{a_public} FROM_PORT=7 TO_PORT=0")
        );
        assert_eq!(served.line().await, format!("ping {round}"));
        served.write(b"pong\n").await;
        assert_eq!(client.line().await, "pong");
    }
    // Closing the FORWARD socket stops forwarding: ACCEPT works again.
    drop(forward);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut accept = Client::hello(&h).await;
    assert_eq!(
        accept.ask("STREAM ACCEPT ID=service").await,
        "STREAM STATUS RESULT=OK"
    );
}

#[tokio::test]
async fn primary_with_two_subsessions() {
    let h = start(config()).await;
    let (_peer, _) = session(&h, "STREAM", "peer", "").await;
    let (_peer_dgram, _) = session(&h, "DATAGRAM", "peerdg", "").await;
    let (mut primary, p_public) = session(&h, "MASTER", "main", "inbound.length=1").await;
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("loopback");
    let udp_port = udp.local_addr().expect("bound").port();
    assert!(primary
        .ask("SESSION ADD STYLE=STREAM ID=web FROM_PORT=80")
        .await
        .starts_with("SESSION STATUS RESULT=OK ID=web"));
    let added = primary
        .ask(&format!(
            "SESSION ADD STYLE=DATAGRAM ID=dht PORT={udp_port} LISTEN_PORT=6881"
        ))
        .await;
    assert_eq!(result(&added), "OK", "{added}");
    assert_eq!(
        primary.ask("SESSION ADD STYLE=STREAM ID=web").await,
        "SESSION STATUS RESULT=DUPLICATED_ID"
    );
    let clash = primary
        .ask("SESSION ADD STYLE=STREAM ID=web2 FROM_PORT=80")
        .await;
    assert_eq!(result(&clash), "I2P_ERROR", "{clash}");
    let no_port = primary.ask("SESSION ADD STYLE=RAW ID=raw").await;
    assert_eq!(result(&no_port), "I2P_ERROR", "{no_port}");
    let mut other = Client::hello(&h).await;
    assert_eq!(
        result(&other.ask("STREAM CONNECT ID=main DESTINATION=x.i2p").await),
        "I2P_ERROR",
        "the primary's own ID"
    );

    // A stream to port 80 reaches the STREAM subsession.
    let mut server = accepting(&h, "web", false).await;
    let (mut client, status) = connecting(&h, "peer", &p_public, "TO_PORT=80").await;
    assert_eq!(status, "STREAM STATUS RESULT=OK");
    client.write(b"GET /\n").await;
    server.line().await;
    assert_eq!(server.line().await, "GET /");

    // A datagram to port 6881 reaches the DATAGRAM subsession's UDP port.
    let bridge = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("loopback");
    bridge
        .send_to(
            format!("3.3 peerdg {p_public} TO_PORT=6881\nfind_node").as_bytes(),
            h.udp,
        )
        .await
        .expect("sent");
    let mut buf = vec![0u8; 70_000];
    let (n, _) = tokio::time::timeout(PATIENCE, udp.recv_from(&mut buf))
        .await
        .expect("in time")
        .expect("received");
    let (head, body) =
        buf[..n].split_at(buf[..n].iter().position(|b| *b == b'\n').expect("header") + 1);
    assert!(String::from_utf8_lossy(head).ends_with(" FROM_PORT=0 TO_PORT=6881\n"));
    assert_eq!(body, b"find_node");

    assert_eq!(
        primary.ask("SESSION REMOVE ID=web").await,
        "SESSION STATUS RESULT=OK ID=web"
    );
    assert_eq!(
        result(&primary.ask("SESSION REMOVE ID=web").await),
        "INVALID_ID"
    );
    let after = server_after_remove(&h).await;
    assert_eq!(result(&after), "INVALID_ID");
}

async fn server_after_remove(h: &Harness) -> String {
    let mut c = Client::hello(h).await;
    c.ask("STREAM ACCEPT ID=web").await
}
