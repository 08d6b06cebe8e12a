//! NTCP2 sessions of a real router on loopback, driven by handshakes the test writes
//! itself: a replayed SessionRequest, and two sessions from one peer.

use super::NET_ID;
use ramsons_router::host::{self, Clock, DataDir, Host, HostConfig, HostError, Start, Status};
use ramsons_router::host::{SamSection, Tokio};
use ramsons_router::transport::ntcp2::{LocalRouter, Ntcp2Peer, Session};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};

/// Bob: a router on a loopback port of its own, running until [`Bob::stop`].
struct Bob {
    peer: Ntcp2Peer,
    status: watch::Receiver<Status>,
    stop: oneshot::Sender<()>,
    running: tokio::task::JoinHandle<Result<(), HostError>>,
}

impl Bob {
    async fn start(dir: &Path) -> Bob {
        let config = HostConfig {
            data_dir: dir.join("bob"),
            net_id: NET_ID,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            publish: Some(SocketAddr::from(([127, 0, 0, 1], 9))),
            status: None,
            sam: SamSection::disabled(),
            ..HostConfig::default()
        };
        let bob = Host::start(config, Tokio, Start::system())
            .await
            .expect("bob starts");
        let mut peer = Ntcp2Peer::from_router_info(&bob.router_info()).expect("NTCP2 address");
        peer.socket = bob.listen_addr().expect("listening");
        let status = bob.status();
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(bob.run(async {
            let _ = stopped.await;
        }));
        Bob {
            peer,
            status,
            stop,
            running,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.running.await.expect("task").expect("clean stop");
    }
}

/// Alice, who never runs: her keys, made in `dir`, for the handshakes the test writes;
/// and her hash (base 64).
fn alice(dir: &Path) -> (LocalRouter, String) {
    let config = HostConfig {
        data_dir: dir.join("alice"),
        net_id: NET_ID,
        publish: Some(SocketAddr::from(([127, 0, 0, 1], 9))),
        status: None,
        sam: SamSection::disabled(),
        ..HostConfig::default()
    };
    let info = host::init(&config, Start::system()).expect("alice's keys");
    let hash = info.hash().to_base64();
    let keys = DataDir::open(&config.data_dir)
        .and_then(|d| d.ntcp2_keys(&mut ChaCha20Rng::seed_from_u64(0)))
        .expect("alice's NTCP2 keys");
    let local = LocalRouter {
        info,
        keys,
        net_id: NET_ID,
    };
    (local, hash)
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A replayed SessionRequest gets no SessionCreated: the router remembers message 1s
/// for the two minutes their timestamps stay acceptable.
#[test]
fn a_replayed_session_request_is_not_answered() {
    let dir = tempfile::tempdir().expect("temp dir");
    current_thread().block_on(async {
        let bob = Bob::start(dir.path()).await;
        let (local, _) = alice(dir.path());
        let now = Clock::system().now();
        let mut alice =
            Session::connect(now, &local, &bob.peer, &mut ChaCha20Rng::seed_from_u64(1));
        let request = alice.poll_transmit().expect("message 1");

        // What Bob answers to `request` within 2 s.
        let socket = bob.peer.socket;
        let answer = |request: Vec<u8>| async move {
            let mut stream = TcpStream::connect(socket).await.expect("connect");
            stream.write_all(&request).await.expect("write message 1");
            let mut reply = [0u8; 64];
            tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut reply))
                .await
                .is_ok_and(|r| r.is_ok())
        };
        assert!(answer(request.clone()).await, "first request not answered");
        assert!(!answer(request).await, "a replay was answered");
        bob.stop().await;
    });
}

/// Two sessions from one peer: the router keeps one (the newest: the same router
/// dialled both), closes the other after its grace, and lists the peer once.
#[test]
fn of_two_sessions_to_one_peer_one_is_closed() {
    let dir = tempfile::tempdir().expect("temp dir");
    current_thread().block_on(async {
        let mut bob = Bob::start(dir.path()).await;
        let (local, alice_hash) = alice(dir.path());
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut streams = Vec::new();
        for _ in 0..2 {
            let mut stream = TcpStream::connect(bob.peer.socket).await.expect("connect");
            let session = Session::connect(Clock::system().now(), &local, &bob.peer, &mut rng);
            dial_as_alice(&mut stream, session).await;
            streams.push(stream);
        }
        let mut newer = streams.pop().expect("second");
        let mut older = streams.pop().expect("first");
        assert!(
            closes_within(&mut older, Duration::from_secs(30)).await,
            "the older session was not closed"
        );
        assert!(
            !closes_within(&mut newer, Duration::from_secs(2)).await,
            "the session kept was closed too"
        );
        // The status refreshes once a second: wait for one that lists alice.
        let listed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let peers = bob.status.borrow_and_update().peers.list.clone();
                if peers.contains(&alice_hash) {
                    return peers;
                }
                bob.status.changed().await.expect("bob runs");
            }
        })
        .await
        .expect("alice listed");
        assert_eq!(listed, vec![alice_hash], "alice listed more than once");
        bob.stop().await;
    });
}

/// Completes an NTCP2 handshake as Alice over `stream`.
async fn dial_as_alice(stream: &mut TcpStream, mut session: Session) {
    let mut buf = vec![0u8; 4096];
    while !session.is_established() {
        while let Some(bytes) = session.poll_transmit() {
            stream.write_all(&bytes).await.expect("write handshake");
        }
        if session.is_established() {
            break;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("Bob answers")
            .expect("read handshake");
        assert!(n > 0, "Bob closed during the handshake");
        session
            .handle_input(Clock::system().now(), &buf[..n])
            .expect("a valid message 2");
    }
    while let Some(bytes) = session.poll_transmit() {
        stream.write_all(&bytes).await.expect("write message 3");
    }
}

/// Whether the peer closes `stream` within `limit` (bytes it sends first are skipped).
async fn closes_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}
