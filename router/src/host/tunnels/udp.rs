//! UDP tunnels: datagrams between a local UDP port and I2P, as repliable datagrams
//! (Datagram1: signed, so the far side knows whom to answer and that it is them).
//!
//! `udpclient`: what a local application sends to the tunnel's port goes to
//! `destination`; what comes back goes to the local address that sent last.
//! `udpserver`: each I2P sender gets a local UDP socket of its own towards `host:port`,
//! so the service's answers find their way back; at most `maxconns` senders at once
//! (a new one beyond that is dropped until the service has been quiet for one).

use super::names::{resolve, I2pHost};
use super::spec::TunnelSpec;
use crate::data::Hash;
use crate::host::apps::{RouterBackend, RouterSession};
use crate::host::sam::backend::{
    Backend, DatagramKind, LookupName, OutgoingDatagram, PortPair, ReceivedDatagram, Sender, Target,
};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

/// The largest datagram carried (I2P datagrams are at most about 64 KiB; 31 KiB is
/// what the specification recommends for reliable delivery).
const MAX_DATAGRAM: usize = 64 * 1024;
/// A server-side sender whose service has been quiet this long gives up its socket.
const IDLE: Duration = Duration::from_secs(300);

fn repliable(to: Target, port: u16, payload: Vec<u8>) -> OutgoingDatagram {
    OutgoingDatagram {
        kind: DatagramKind::Repliable,
        to,
        ports: PortPair { from: 0, to: port },
        payload,
    }
}

/// The client side; `arrived` are the datagrams for the tunnel's destination.
pub async fn run_client(
    spec: Arc<TunnelSpec>,
    socket: UdpSocket,
    backend: RouterBackend,
    session: Arc<RouterSession>,
    mut arrived: mpsc::Receiver<ReceivedDatagram>,
) {
    let text = spec.destination.clone().unwrap_or_default();
    let target = match I2pHost::classify(&text) {
        Ok(host) => resolve(&backend, &host).await,
        Err(e) => Err(e),
    };
    let target = match target {
        // Datagrams are not held back for a LeaseSet lookup: find it first.
        Ok(Target::Hash(hash)) => {
            match backend.lookup(Some(&session), LookupName::Hash(hash)).await {
                Ok(d) => Target::Destination(Box::new(d)),
                Err(_) => Target::Hash(hash),
            }
        }
        Ok(t) => t,
        Err(e) => {
            warn!(tunnel = %spec.name, "{e}: the UDP tunnel stops");
            return;
        }
    };
    let mut last: Option<SocketAddr> = None;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((n, from)) = received else { continue };
                last = Some(from);
                let datagram = repliable(target.clone(), spec.destination_port, buf[..n].to_vec());
                if let Err(e) = backend.send_datagram(&session, datagram).await {
                    debug!(tunnel = %spec.name, "datagram not sent: {e}");
                }
            }
            datagram = arrived.recv() => {
                let Some(datagram) = datagram else { return };
                if let Some(to) = last {
                    let _ = socket.send_to(&datagram.payload, to).await;
                }
            }
        }
    }
}

/// One I2P sender of a server tunnel: its socket towards the service.
#[derive(Debug)]
struct Peer {
    socket: Arc<UdpSocket>,
    answers: JoinHandle<()>,
}

/// The server side.
pub async fn run_server(
    spec: Arc<TunnelSpec>,
    backend: RouterBackend,
    session: Arc<RouterSession>,
    mut arrived: mpsc::Receiver<ReceivedDatagram>,
) {
    let Some((host, port)) = spec.forward.clone() else {
        return;
    };
    let mut peers: HashMap<Hash, Peer> = HashMap::new();
    while let Some(datagram) = arrived.recv().await {
        let reply_to = match datagram.from {
            Sender::Destination(d) => Target::Destination(d),
            Sender::Hash(h) => Target::Hash(h),
            // A raw datagram cannot be answered: it goes nowhere.
            Sender::Anonymous => continue,
        };
        let key = reply_to.hash();
        peers.retain(|_, p| !p.answers.is_finished());
        if !peers.contains_key(&key) {
            if peers.len() >= spec.max_connections {
                debug!(tunnel = %spec.name, "UDP sender limit reached: datagram dropped");
                continue;
            }
            let Ok(socket) = open(&host, port).await else {
                continue;
            };
            let socket = Arc::new(socket);
            let answers = tokio::spawn(answer(
                socket.clone(),
                backend.clone(),
                session.clone(),
                reply_to,
                datagram.ports.from,
            ));
            peers.insert(key, Peer { socket, answers });
        }
        if let Some(peer) = peers.get(&key) {
            let _ = peer.socket.send(&datagram.payload).await;
        }
    }
    for peer in peers.into_values() {
        peer.answers.abort();
    }
}

async fn open(host: &str, port: u16) -> std::io::Result<UdpSocket> {
    let socket = UdpSocket::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    socket.connect((host, port)).await?;
    Ok(socket)
}

/// Sends the service's answers back to one sender until it has been quiet for [`IDLE`].
async fn answer(
    socket: Arc<UdpSocket>,
    backend: RouterBackend,
    session: Arc<RouterSession>,
    to: Target,
    port: u16,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while let Ok(Ok(n)) = tokio::time::timeout(IDLE, socket.recv(&mut buf)).await {
        let datagram = repliable(to.clone(), port, buf[..n].to_vec());
        let _ = backend.send_datagram(&session, datagram).await;
    }
}
