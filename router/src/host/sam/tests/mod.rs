//! The bridge over real loopback sockets, against the in-memory [`MockBackend`]: what a
//! SAM client sees, command by command.

mod datagrams;
mod sessions;
mod streams;

use super::line::parse_options;
use super::mock::MockBackend;
use super::SamServer;
use crate::host::config::SamSection;
use crate::host::Tokio;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How long a test waits for anything before it fails.
const PATIENCE: Duration = Duration::from_secs(5);

/// A bridge on free loopback ports.
struct Harness {
    tcp: SocketAddr,
    udp: SocketAddr,
    backend: MockBackend,
    sessions: Box<dyn Fn() -> usize + Send + Sync>,
}

fn config() -> SamSection {
    SamSection {
        tcp: SocketAddr::from(([127, 0, 0, 1], 0)),
        udp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..SamSection::default()
    }
}

async fn start(config: SamSection) -> Harness {
    let backend = MockBackend::new();
    let server = SamServer::bind(
        config,
        backend.clone(),
        Tokio,
        ChaCha20Rng::seed_from_u64(7),
    )
    .await
    .expect("loopback ports");
    let harness = Harness {
        tcp: server.tcp_addr(),
        udp: server.udp_addr().expect("a UDP port"),
        backend,
        sessions: Box::new(server.sessions()),
    };
    tokio::spawn(server.run(std::future::pending()));
    harness
}

/// One client socket, read line by line.
struct Client {
    io: BufReader<TcpStream>,
}

impl Client {
    async fn connect(h: &Harness) -> Client {
        let stream = TcpStream::connect(h.tcp).await.expect("bridge listening");
        Client {
            io: BufReader::new(stream),
        }
    }

    /// Connected and past `HELLO VERSION` (3.3).
    async fn hello(h: &Harness) -> Client {
        let mut client = Client::connect(h).await;
        let reply = client.ask("HELLO VERSION").await;
        assert_eq!(reply, "HELLO REPLY RESULT=OK VERSION=3.3");
        client
    }

    async fn send(&mut self, line: &str) {
        self.write(format!("{line}\n").as_bytes()).await;
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.io
            .get_mut()
            .write_all(bytes)
            .await
            .expect("bridge reading");
    }

    /// The next line without its `\n`; empty at end of stream.
    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(PATIENCE, self.io.read_line(&mut line))
            .await
            .expect("a line in time")
            .expect("readable");
        line.trim_end_matches('\n').to_owned()
    }

    async fn ask(&mut self, line: &str) -> String {
        self.send(line).await;
        self.line().await
    }

    async fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        tokio::time::timeout(PATIENCE, self.io.read_exact(&mut buf))
            .await
            .expect("bytes in time")
            .expect("readable");
        buf
    }

    /// Whether the bridge closed the socket (in time, with nothing more to read).
    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        match tokio::time::timeout(PATIENCE, self.io.read_to_end(&mut rest)).await {
            Ok(Ok(_)) => rest.is_empty(),
            Ok(Err(_)) => true,
            Err(_) => false,
        }
    }
}

/// The value of `key` in a reply line.
fn field(line: &str, key: &str) -> Option<String> {
    let rest = line.splitn(3, ' ').nth(2).unwrap_or("");
    parse_options(rest)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn result(line: &str) -> String {
    field(line, "RESULT").unwrap_or_default()
}

/// A control socket holding a new TRANSIENT session, and its public destination.
async fn session(h: &Harness, style: &str, id: &str, extra: &str) -> (Client, String) {
    let mut control = Client::hello(h).await;
    let reply = control
        .ask(&format!(
            "SESSION CREATE STYLE={style} ID={id} DESTINATION=TRANSIENT SIGNATURE_TYPE=7 {extra}"
        ))
        .await;
    assert_eq!(result(&reply), "OK", "{reply}");
    let me = control.ask("NAMING LOOKUP NAME=ME").await;
    let public = field(&me, "VALUE").expect("our destination");
    (control, public)
}
