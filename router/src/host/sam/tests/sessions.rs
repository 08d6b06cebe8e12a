//! HELLO, AUTH, sessions, names, keys, limits and timeouts.

use super::*;
use crate::host::sam::command::Version;
use crate::host::sam::{keys, negotiate};
use crate::units::Span;

#[test]
fn versions_negotiate() {
    let v = |s: &str| s.parse::<Version>().ok();
    assert_eq!(negotiate(None, None), Some(Version::new(3, 3)));
    assert_eq!(negotiate(v("3.0"), v("3.0")), Some(Version::new(3, 0)));
    assert_eq!(negotiate(v("3"), v("3")), Some(Version::new(3, 3)));
    assert_eq!(negotiate(v("3.1"), v("4.0")), Some(Version::new(3, 3)));
    assert_eq!(negotiate(v("2.0"), v("3.2")), Some(Version::new(3, 2)));
    assert_eq!(negotiate(v("3.4"), None), None);
    assert_eq!(negotiate(None, v("2.9")), None);
}

#[tokio::test]
async fn hello_variants() {
    let h = start(config()).await;
    for (hello, answer) in [
        (
            "HELLO VERSION MIN=3.0 MAX=3.0",
            "HELLO REPLY RESULT=OK VERSION=3.0",
        ),
        ("HELLO VERSION", "HELLO REPLY RESULT=OK VERSION=3.3"),
        ("hello version min=3.1", "HELLO REPLY RESULT=OK VERSION=3.3"),
        (
            "HELLO VERSION MIN=3.1 MAX=3.2\r",
            "HELLO REPLY RESULT=OK VERSION=3.2",
        ),
        (
            "HELLO VERSION MIN=3 MAX=3",
            "HELLO REPLY RESULT=OK VERSION=3.3",
        ),
        ("HELLO VERSION MIN=3.4", "HELLO REPLY RESULT=NOVERSION"),
        ("HELLO VERSION MAX=2.0", "HELLO REPLY RESULT=NOVERSION"),
    ] {
        let mut c = Client::connect(&h).await;
        assert_eq!(c.ask(hello).await, answer, "{hello}");
    }
    // Anything but HELLO first is an error, and the end.
    let mut c = Client::connect(&h).await;
    let reply = c.ask("NAMING LOOKUP NAME=ME").await;
    assert_eq!(result(&reply), "I2P_ERROR", "{reply}");
    assert!(reply.starts_with("HELLO REPLY"), "{reply}");
    assert!(c.closed().await);
    let mut c = Client::connect(&h).await;
    assert_eq!(result(&c.ask("HELLO VERSION MIN=x").await), "I2P_ERROR");
    // A second HELLO is answered, the socket stays.
    let mut c = Client::hello(&h).await;
    assert_eq!(result(&c.ask("HELLO VERSION").await), "I2P_ERROR");
    assert_eq!(c.ask("PING alive").await, "PONG alive");
    assert_eq!(c.ask("PING").await, "PONG");
    c.send("QUIT").await;
    assert!(c.closed().await);
}

#[tokio::test]
async fn authorization() {
    let h = start(SamSection {
        user: Some("alice".into()),
        password: Some("p w\"d".into()),
        ..config()
    })
    .await;
    for hello in [
        "HELLO VERSION",
        "HELLO VERSION USER=alice PASSWORD=nope",
        "HELLO VERSION USER=bob PASSWORD=\"p w\\\"d\"",
    ] {
        let mut c = Client::connect(&h).await;
        let reply = c.ask(hello).await;
        assert_eq!(
            reply,
            "HELLO REPLY RESULT=I2P_ERROR MESSAGE=\"authorization failed\""
        );
        assert!(c.closed().await);
    }
    let mut c = Client::connect(&h).await;
    let ok = c
        .ask("HELLO VERSION USER=\"alice\" PASSWORD=\"p w\\\"d\"")
        .await;
    assert_eq!(ok, "HELLO REPLY RESULT=OK VERSION=3.3");
    assert_eq!(
        c.ask("AUTH ADD USER=bob PASSWORD=b").await,
        "AUTH STATUS RESULT=OK"
    );
    assert_eq!(
        result(&c.ask("AUTH ADD USER=bob PASSWORD=c").await),
        "I2P_ERROR"
    );
    assert_eq!(
        c.ask("AUTH REMOVE USER=alice").await,
        "AUTH STATUS RESULT=OK"
    );
    assert_eq!(result(&c.ask("AUTH REMOVE USER=alice").await), "I2P_ERROR");
    let mut bob = Client::connect(&h).await;
    assert_eq!(
        result(&bob.ask("HELLO VERSION USER=bob PASSWORD=b").await),
        "OK"
    );
    assert_eq!(c.ask("AUTH DISABLE").await, "AUTH STATUS RESULT=OK");
    Client::hello(&h).await;
}

#[tokio::test]
async fn session_errors() {
    let h = start(config()).await;
    let (mut first, _) = session(&h, "STREAM", "one", "").await;
    // The same socket cannot create a second session.
    let again = first
        .ask("SESSION CREATE STYLE=STREAM ID=two DESTINATION=TRANSIENT SIGNATURE_TYPE=7")
        .await;
    assert_eq!(result(&again), "I2P_ERROR", "{again}");

    let mut c = Client::hello(&h).await;
    let dup = c
        .ask("SESSION CREATE STYLE=STREAM ID=one DESTINATION=TRANSIENT SIGNATURE_TYPE=7")
        .await;
    assert_eq!(dup, "SESSION STATUS RESULT=DUPLICATED_ID");

    let generated = c.ask("DEST GENERATE SIGNATURE_TYPE=7").await;
    let private = field(&generated, "PRIV").expect("PRIV");
    let create = format!("SESSION CREATE STYLE=STREAM ID=k1 DESTINATION={private}");
    let ok = c.ask(&create).await;
    assert_eq!(
        ok,
        format!("SESSION STATUS RESULT=OK DESTINATION={private}")
    );
    let mut other = Client::hello(&h).await;
    let dest = other.ask(&create.replace("k1", "k2")).await;
    assert_eq!(dest, "SESSION STATUS RESULT=DUPLICATED_DEST");

    // The router's options reach the backend.
    let (_c, _) = session(
        &h,
        "STREAM",
        "opts",
        "inbound.quantity=3 i2cp.leaseSetEncType=4,0",
    )
    .await;
    let created = h.backend.created();
    let options = &created.last().expect("created").1.options;
    assert_eq!(
        options.get("inbound.quantity").map(String::as_str),
        Some("3")
    );
    assert_eq!(
        options.get("i2cp.leaseSetEncType").map(String::as_str),
        Some("4,0")
    );
}

#[tokio::test]
async fn refused_session_commands() {
    let h = start(config()).await;
    let refused = [
        (
            "SESSION CREATE STYLE=STREAM ID=x DESTINATION=AAAA",
            "INVALID_KEY",
        ),
        (
            "SESSION CREATE STYLE=STREAM ID=x DESTINATION=TRANSIENT",
            "I2P_ERROR",
        ),
        (
            "SESSION CREATE STYLE=STREAM ID=x DESTINATION=TRANSIENT SIGNATURE_TYPE=1",
            "I2P_ERROR",
        ),
        (
            "SESSION CREATE STYLE=STREAM ID=x DESTINATION=TRANSIENT SIGNATURE_TYPE=7 PORT=5",
            "I2P_ERROR",
        ),
        (
            "SESSION CREATE STYLE=PRIMARY ID=x DESTINATION=TRANSIENT SIGNATURE_TYPE=7 FROM_PORT=5",
            "I2P_ERROR",
        ),
        (
            "SESSION CREATE STYLE=RAW ID=x DESTINATION=TRANSIENT SIGNATURE_TYPE=7 PROTOCOL=17",
            "I2P_ERROR",
        ),
        (
            "SESSION CREATE STYLE=DATAGRAM ID=x DESTINATION=TRANSIENT SIGNATURE_TYPE=7 HEADER=true",
            "I2P_ERROR",
        ),
        ("SESSION CREATE STYLE=STREAM ID=x", "I2P_ERROR"),
        ("SESSION ADD STYLE=STREAM ID=x", "I2P_ERROR"),
        ("SESSION REMOVE ID=x", "I2P_ERROR"),
    ];
    for (line, code) in refused {
        let mut c = Client::hello(&h).await;
        let reply = c.ask(line).await;
        assert!(reply.starts_with("SESSION STATUS"), "{line}: {reply}");
        assert_eq!(result(&reply), code, "{line}: {reply}");
    }
}

#[tokio::test]
async fn names_and_keys() {
    let h = start(config()).await;
    let mut c = Client::hello(&h).await;
    assert_eq!(
        result(&c.ask("NAMING LOOKUP NAME=ME").await),
        "KEY_NOT_FOUND",
        "no session on this socket"
    );
    assert_eq!(
        result(&c.ask("DEST GENERATE").await),
        "I2P_ERROR",
        "DSA_SHA1 by default"
    );
    assert_eq!(
        result(
            &c.ask("DEST GENERATE SIGNATURE_TYPE=ECDSA_SHA256_P256")
                .await
        ),
        "I2P_ERROR"
    );
    let reply = c
        .ask("DEST GENERATE SIGNATURE_TYPE=EdDSA_SHA512_Ed25519")
        .await;
    assert!(reply.starts_with("DEST REPLY PUB="), "{reply}");
    let public = field(&reply, "PUB").expect("PUB");
    let private = field(&reply, "PRIV").expect("PRIV");
    let keys = keys::parse_private(&private).expect("PRIV parses");
    assert_eq!(keys::public_base64(keys.destination()), public);

    // A session with the generated keys is that destination.
    let mut control = Client::hello(&h).await;
    let ok = control
        .ask(&format!(
            "SESSION CREATE STYLE=STREAM ID=n DESTINATION={private}"
        ))
        .await;
    assert_eq!(result(&ok), "OK");
    assert_eq!(
        control.ask("NAMING LOOKUP NAME=ME").await,
        format!("NAMING REPLY RESULT=OK NAME=ME VALUE={public}")
    );

    let b32 = keys.destination().to_b32_address();
    let found = c.ask(&format!("NAMING LOOKUP NAME={b32}")).await;
    assert_eq!(
        found,
        format!("NAMING REPLY RESULT=OK NAME={b32} VALUE={public}")
    );
    assert_eq!(
        field(
            &c.ask(&format!("NAMING LOOKUP NAME={public}")).await,
            "VALUE"
        ),
        Some(public.clone())
    );
    h.backend.add_host("known.i2p", keys.destination().clone());
    assert_eq!(
        field(&c.ask("NAMING LOOKUP NAME=known.i2p").await, "VALUE"),
        Some(public)
    );
    let missing = c.ask("NAMING LOOKUP NAME=unknown.i2p").await;
    assert_eq!(
        missing,
        "NAMING REPLY RESULT=KEY_NOT_FOUND NAME=unknown.i2p MESSAGE=\"not found\""
    );
    let options = c.ask("NAMING LOOKUP NAME=unknown.i2p OPTIONS=true").await;
    assert_eq!(
        options,
        "NAMING REPLY RESULT=LEASESET_NOT_FOUND NAME=unknown.i2p"
    );
    assert_eq!(
        result(&c.ask("NAMING LOOKUP NAME=nonsense").await),
        "INVALID_KEY"
    );
}

#[tokio::test]
async fn session_lives_and_dies_with_its_socket() {
    let h = start(config()).await;
    let (control, _) = session(&h, "STREAM", "life", "").await;
    let mut waiting = Client::hello(&h).await;
    assert_eq!(
        waiting.ask("STREAM ACCEPT ID=life").await,
        "STREAM STATUS RESULT=OK"
    );
    assert_eq!(h.backend.running().len(), 1);
    drop(control);
    // The waiting ACCEPT hears of it ("Errors After OK"), and the ID is free again.
    let after = waiting.line().await;
    assert_eq!(result(&after), "I2P_ERROR", "{after}");
    assert!(waiting.closed().await);
    assert!(h.backend.running().is_empty());
    assert_eq!((h.sessions)(), 0);
    let (_again, _) = session(&h, "STREAM", "life", "").await;

    // A destination the router ends closes its control socket.
    let (mut doomed, public) = session(&h, "STREAM", "doomed", "").await;
    let hash = keys::parse_destination(&public)
        .expect("destination")
        .hash();
    h.backend.kill(hash);
    assert_eq!(result(&doomed.line().await), "I2P_ERROR");
    assert!(doomed.closed().await);
}

#[tokio::test]
async fn overlong_lines_are_refused() {
    let h = start(SamSection {
        max_line: 1024,
        ..config()
    })
    .await;
    let mut c = Client::connect(&h).await;
    c.write(&vec![b'A'; 5000]).await;
    assert_eq!(
        c.line().await,
        "HELLO REPLY RESULT=I2P_ERROR MESSAGE=\"line too long\""
    );
    assert!(c.closed().await);
    let mut c = Client::hello(&h).await;
    c.write(format!("NAMING LOOKUP NAME={}\n", "x".repeat(2000)).as_bytes())
        .await;
    assert_eq!(
        c.line().await,
        "SESSION STATUS RESULT=I2P_ERROR MESSAGE=\"line too long\""
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn silent_clients_time_out() {
    let short = Span(Duration::from_millis(200));
    let h = start(SamSection {
        hello_timeout: short,
        command_timeout: short,
        ..config()
    })
    .await;
    let mut c = Client::connect(&h).await;
    let late = c.line().await;
    assert!(
        late.starts_with("HELLO REPLY RESULT=I2P_ERROR MESSAGE=\"no HELLO within"),
        "{late}"
    );
    assert!(c.closed().await);
    let mut c = Client::hello(&h).await;
    assert_eq!(result(&c.line().await), "I2P_ERROR");
    assert!(c.closed().await);
    // A socket holding a session may stay quiet.
    let (mut control, _) = session(&h, "STREAM", "quiet", "").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(control.ask("PING").await, "PONG");
}

#[tokio::test]
async fn limits() {
    let h = start(SamSection {
        max_connections: 3,
        max_sessions: 2,
        max_sessions_per_client: 2,
        max_subsessions: 1,
        ..config()
    })
    .await;
    let (_a, _) = session(&h, "STREAM", "a", "").await;
    let (mut primary, _) = session(&h, "PRIMARY", "p", "").await;
    let mut third = Client::hello(&h).await;
    let refused = third
        .ask("SESSION CREATE STYLE=STREAM ID=c DESTINATION=TRANSIENT SIGNATURE_TYPE=7")
        .await;
    assert_eq!(
        refused,
        "SESSION STATUS RESULT=I2P_ERROR MESSAGE=\"too many sessions on this bridge\""
    );
    let mut fourth = Client::connect(&h).await;
    assert_eq!(
        fourth.line().await,
        "HELLO REPLY RESULT=I2P_ERROR MESSAGE=\"too many connections\""
    );
    assert!(fourth.closed().await);
    assert_eq!(
        result(&primary.ask("SESSION ADD STYLE=STREAM ID=s1").await),
        "OK"
    );
    let more = primary
        .ask("SESSION ADD STYLE=STREAM ID=s2 FROM_PORT=9")
        .await;
    assert_eq!(
        more,
        "SESSION STATUS RESULT=I2P_ERROR MESSAGE=\"too many subsessions\""
    );
}
