//! Datagrams over the UDP port and over the control socket.

use super::*;
use crate::host::sam::keys;
use tokio::net::UdpSocket;

async fn udp() -> (UdpSocket, u16) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("loopback");
    let port = socket.local_addr().expect("bound").port();
    (socket, port)
}

async fn receive(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 70_000];
    let (n, _) = tokio::time::timeout(PATIENCE, socket.recv_from(&mut buf))
        .await
        .expect("a datagram in time")
        .expect("received");
    buf.truncate(n);
    buf
}

/// Header line and payload of a forwarded datagram.
fn split(datagram: &[u8]) -> (String, Vec<u8>) {
    let at = datagram
        .iter()
        .position(|b| *b == b'\n')
        .expect("a header line");
    (
        String::from_utf8_lossy(&datagram[..at]).into_owned(),
        datagram[at + 1..].to_vec(),
    )
}

#[tokio::test]
async fn repliable_datagrams_round_trip_over_udp() {
    let h = start(config()).await;
    let (a_in, a_port) = udp().await;
    let (b_in, b_port) = udp().await;
    let (_a, a_public) = session(
        &h,
        "DATAGRAM",
        "da",
        &format!("PORT={a_port} HOST=127.0.0.1"),
    )
    .await;
    let (_b, b_public) = session(&h, "DATAGRAM", "db", &format!("PORT={b_port}")).await;
    let (out, _) = udp().await;
    out.send_to(
        format!("3.0 da {b_public} FROM_PORT=4 TO_PORT=5\nhello b").as_bytes(),
        h.udp,
    )
    .await
    .expect("sent");
    let (head, body) = split(&receive(&b_in).await);
    assert_eq!(head, format!("{a_public} FROM_PORT=4 TO_PORT=5"));
    assert_eq!(body, b"hello b");
    // The reply goes back to the destination in the header.
    out.send_to(format!("3.3 db {a_public}\nhello a").as_bytes(), h.udp)
        .await
        .expect("sent");
    let (head, body) = split(&receive(&a_in).await);
    assert_eq!(head, format!("{b_public} FROM_PORT=0 TO_PORT=0"));
    assert_eq!(body, b"hello a");
}

#[tokio::test]
async fn raw_datagram3_and_version_3_0() {
    let h = start(config()).await;
    let (raw_in, raw_port) = udp().await;
    let (d3_in, d3_port) = udp().await;
    let (_r, r_public) = session(&h, "RAW", "raw", &format!("PORT={raw_port} HEADER=true")).await;
    let (_d, d_public) = session(&h, "DATAGRAM3", "d3", &format!("PORT={d3_port}")).await;
    let (out, _) = udp().await;
    out.send_to(
        format!("3.2 d3 {r_public} TO_PORT=9 PROTOCOL=18\nanonymous?").as_bytes(),
        h.udp,
    )
    .await
    .expect("sent");
    // Datagram3 to a RAW session: not its protocol, dropped. RAW to RAW arrives.
    out.send_to(
        format!("3.2 raw {r_public} TO_PORT=9 PROTOCOL=200\nraw bytes").as_bytes(),
        h.udp,
    )
    .await
    .expect("sent");
    let (head, body) = split(&receive(&raw_in).await);
    assert_eq!(head, "FROM_PORT=0 TO_PORT=9 PROTOCOL=200");
    assert_eq!(body, b"raw bytes");
    // Datagram3 names its sender by hash only.
    out.send_to(format!("3.0 d3 {d_public}\nto myself").as_bytes(), h.udp)
        .await
        .expect("sent");
    let (head, body) = split(&receive(&d3_in).await);
    let d_hash = keys::parse_destination(&d_public)
        .expect("destination")
        .hash();
    assert_eq!(
        head,
        format!("{} FROM_PORT=0 TO_PORT=0", d_hash.to_base64())
    );
    assert_eq!(body, b"to myself");

    // A client that said HELLO 3.0 gets no ports.
    let (old_in, old_port) = udp().await;
    let mut old = Client::connect(&h).await;
    assert_eq!(
        result(&old.ask("HELLO VERSION MIN=3.0 MAX=3.0").await),
        "OK"
    );
    let create = format!("SESSION CREATE STYLE=DATAGRAM ID=old DESTINATION=TRANSIENT SIGNATURE_TYPE=7 PORT={old_port}");
    assert_eq!(result(&old.ask(&create).await), "OK");
    let old_public = field(&old.ask("NAMING LOOKUP NAME=ME").await, "VALUE").expect("ME");
    let (_s, s_public) = session(&h, "DATAGRAM", "sender", "").await;
    out.send_to(format!("3.0 sender {old_public}\nv3.0").as_bytes(), h.udp)
        .await
        .expect("sent");
    assert_eq!(split(&receive(&old_in).await), (s_public, b"v3.0".to_vec()));
}

#[tokio::test]
async fn datagrams_on_the_control_socket() {
    let h = start(config()).await;
    let (mut a, a_public) = session(&h, "DATAGRAM", "ca", "").await;
    let (mut b, b_public) = session(&h, "RAW", "cb", "").await;
    a.send(&format!(
        "DATAGRAM SEND DESTINATION={b_public} SIZE=5 TO_PORT=3"
    ))
    .await;
    a.write(b"12345").await;
    // b is RAW: a repliable datagram is not its protocol, so that one is dropped. Each
    // session's own kind, sent to itself, arrives.
    b.send(&format!(
        "RAW SEND DESTINATION={b_public} SIZE=3 FROM_PORT=1 PROTOCOL=33"
    ))
    .await;
    b.write(b"abc").await;
    assert_eq!(
        b.line().await,
        "RAW RECEIVED SIZE=3 FROM_PORT=1 TO_PORT=0 PROTOCOL=33"
    );
    assert_eq!(b.read_exact(3).await, b"abc");
    a.send(&format!("DATAGRAM SEND DESTINATION={a_public} SIZE=4"))
        .await;
    a.write(b"self").await;
    assert_eq!(
        a.line().await,
        format!("DATAGRAM RECEIVED DESTINATION={a_public} SIZE=4 FROM_PORT=0 TO_PORT=0")
    );
    assert_eq!(a.read_exact(4).await, b"self");
    // The wrong kind for the socket's session is refused, and the socket stays usable.
    b.send(&format!("DATAGRAM SEND DESTINATION={a_public} SIZE=1"))
        .await;
    b.write(b"x").await;
    assert_eq!(result(&b.line().await), "I2P_ERROR");
    assert_eq!(b.ask("PING").await, "PONG");
}

#[tokio::test]
async fn the_udp_port_checks_who_sends() {
    let h = start(config()).await;
    let (b_in, b_port) = udp().await;
    let (_a, _) = session(&h, "STREAM", "streamer", "").await;
    let (_b, b_public) = session(&h, "DATAGRAM", "target", &format!("PORT={b_port}")).await;
    let (out, _) = udp().await;
    for bad in [
        format!("3.0 nobody {b_public}\nx"),
        format!("3.0 streamer {b_public}\nx"),
        format!("2.0 target {b_public}\nx"),
        "no header at all".to_owned(),
    ] {
        out.send_to(bad.as_bytes(), h.udp).await.expect("sent");
    }
    out.send_to(
        format!("3.1 target {b_public}\nthe only one").as_bytes(),
        h.udp,
    )
    .await
    .expect("sent");
    assert_eq!(split(&receive(&b_in).await).1, b"the only one");
}
