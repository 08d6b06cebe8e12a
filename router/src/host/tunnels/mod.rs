//! Client and server tunnels (I2PTunnel's, configured with i2pd's key names): local TCP
//! ports that open streams to I2P destinations, I2P destinations whose streams are
//! forwarded to local services, and the HTTP and SOCKS proxies ([`crate::host::proxy`]).
//!
//! - [`ini`] reads i2pd's `tunnels.conf`; [`spec`] checks a tunnel's keys, from that
//!   file or from `[[tunnel]]` in `router.toml`.
//! - [`names`] classifies and resolves the hosts applications name.
//! - [`keys`] keeps the destinations' key files.
//! - [`client`] and [`server`] move bytes between TCP and [`I2pStream`]s.
//!
//! Everything goes through the application backend the SAM bridge uses
//! ([`RouterBackend`]): one destination per `keys` file (tunnels naming the same file
//! share it), and one of its own for every tunnel without one, so that two client
//! tunnels are never linkable by their destination (stream isolation).
//!
//! Listeners are bound when the router starts (a port in use is a start error); the
//! destinations are created in the background, since their tunnels take seconds to
//! minutes, and connections wait in the listen queue until then.

pub mod client;
pub mod ini;
pub mod irc;
pub mod keys;
pub mod names;
pub mod server;
pub mod spec;
pub mod udp;

pub use spec::{SpecError, TunnelKind, TunnelSpec};

use crate::host::apps::{I2pStream, RouterBackend};
use crate::host::sam::backend::{
    Backend, Inbound, IncomingStream, ReceivedDatagram, SessionOptions,
};
use rand::{CryptoRng, RngCore};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tracing::{info, warn};

/// Datagrams waiting for one UDP tunnel, at most.
const DATAGRAM_QUEUE: usize = 256;
/// How long to wait before asking again for a destination the router refused.
const RETRY: Duration = Duration::from_secs(30);

/// A tunnel ready to run: its checked configuration and its bound listener.
#[derive(Debug)]
struct Ready {
    spec: Arc<TunnelSpec>,
    listener: Option<TcpListener>,
    /// A `udpclient`'s local port.
    udp: Option<tokio::net::UdpSocket>,
}

/// Tunnels that share one destination.
#[derive(Debug)]
struct Group {
    keys: crate::crypto::DestinationKeys,
    tunnels: Vec<Ready>,
}

/// A configured tunnel, for the console.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TunnelInfo {
    pub name: String,
    /// `client`, `server`, `http`, `httpproxy`, `socks`, ...
    pub kind: String,
    /// Where a client-side tunnel listens.
    pub local: Option<String>,
    /// Where a server tunnel forwards to (`host:port`), or a client tunnel's destination.
    pub target: Option<String>,
    /// The tunnel's destination (shared by tunnels with the same keys).
    pub b32: String,
}

/// Every configured tunnel, bound and keyed; [`Tunnels::run`] runs them.
#[derive(Debug)]
pub struct Tunnels {
    groups: Vec<Group>,
}

/// Why tunnels could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TunnelsError {
    #[error("tunnel [{tunnel}]: cannot listen on {addr}: {source}")]
    Bind {
        tunnel: String,
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("tunnel [{tunnel}] keys: {source}")]
    Keys {
        tunnel: String,
        source: keys::KeysError,
    },
}

impl Tunnels {
    /// Binds the client tunnels' listeners and loads (or creates) the key files.
    /// Types this router does not run yet are skipped with a warning.
    pub async fn bind(
        specs: Vec<TunnelSpec>,
        data_dir: &Path,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Tunnels, TunnelsError> {
        let mut by_keys: BTreeMap<String, usize> = BTreeMap::new();
        let mut groups: Vec<Group> = Vec::new();
        for spec in specs {
            if !spec.kind.is_supported() {
                warn!(tunnel = %spec.name, kind = ?spec.kind, "tunnel type not run yet: skipped");
                continue;
            }
            if !spec.ignored.is_empty() {
                info!(tunnel = %spec.name, ignored = ?spec.ignored, "i2pd keys without effect here");
            }
            let ready = bind_one(spec).await?;
            let shared = ready.spec.keys.as_ref().and_then(|k| by_keys.get(k));
            if let Some(&index) = shared {
                groups[index].tunnels.push(ready);
                continue;
            }
            let keys =
                match &ready.spec.keys {
                    Some(name) => keys::load_or_create(&keys::path_of(data_dir, name), rng)
                        .map_err(|source| TunnelsError::Keys {
                            tunnel: ready.spec.name.clone(),
                            source,
                        })?,
                    None => crate::crypto::DestinationKeys::generate(rng),
                };
            if let Some(name) = &ready.spec.keys {
                by_keys.insert(name.clone(), groups.len());
            }
            groups.push(Group {
                keys,
                tunnels: vec![ready],
            });
        }
        Ok(Tunnels { groups })
    }

    /// Where each client-side tunnel listens, by name (the configured port may be 0).
    pub fn local_addrs(&self) -> Vec<(String, std::net::SocketAddr)> {
        let all = self.groups.iter().flat_map(|g| &g.tunnels);
        all.filter_map(|t| {
            let tcp = t.listener.as_ref().and_then(|l| l.local_addr().ok());
            let addr = tcp.or_else(|| t.udp.as_ref()?.local_addr().ok())?;
            Some((t.spec.name.clone(), addr))
        })
        .collect()
    }

    /// Every tunnel as the console lists it, with its destination's b32 address.
    pub fn infos(&self) -> Vec<TunnelInfo> {
        let mut infos = Vec::new();
        for group in &self.groups {
            let b32 = group.keys.destination().to_b32_address();
            for t in &group.tunnels {
                let tcp = t.listener.as_ref().and_then(|l| l.local_addr().ok());
                let local = tcp.or_else(|| t.udp.as_ref()?.local_addr().ok());
                let spec = &t.spec;
                let target = match (&spec.forward, &spec.destination) {
                    (Some((host, port)), _) => Some(format!("{host}:{port}")),
                    (None, Some(dest)) => Some(dest.clone()),
                    (None, None) => None,
                };
                infos.push(TunnelInfo {
                    name: spec.name.clone(),
                    kind: format!("{:?}", spec.kind).to_lowercase(),
                    local: local.map(|a| a.to_string()),
                    target,
                    b32: b32.clone(),
                });
            }
        }
        infos
    }

    /// Runs every tunnel until the returned set is dropped or aborted.
    /// `jump` are the address book's jump services, for the HTTP proxy's pages.
    pub fn run(self, backend: RouterBackend, jump: Vec<String>) -> JoinSet<()> {
        let mut tasks = JoinSet::new();
        for group in self.groups {
            tasks.spawn(run_group(group, backend.clone(), jump.clone()));
        }
        tasks
    }
}

/// Binds a client-side tunnel's TCP listener or UDP socket.
async fn bind_one(spec: TunnelSpec) -> Result<Ready, TunnelsError> {
    let (mut listener, mut udp) = (None, None);
    if let Some(proxy) = &spec.outproxy {
        warn!(tunnel = %spec.name, %proxy, "outproxies are not supported: clearnet hosts get an error page");
    }
    if let Some(addr) = spec.listen {
        if !addr.ip().is_loopback() {
            // Nothing here authenticates local clients: whoever reaches the port uses
            // the router's destinations.
            warn!(tunnel = %spec.name, %addr, "listening beyond loopback: anyone who can reach it can use it");
        }
        let failed = |source| TunnelsError::Bind {
            tunnel: spec.name.clone(),
            addr,
            source,
        };
        match spec.kind {
            TunnelKind::UdpClient => {
                udp = Some(tokio::net::UdpSocket::bind(addr).await.map_err(failed)?)
            }
            _ => listener = Some(TcpListener::bind(addr).await.map_err(failed)?),
        }
    }
    Ok(Ready {
        spec: Arc::new(spec),
        listener,
        udp,
    })
}

/// Creates the group's destination (retrying while the router refuses), then runs
/// its tunnels; incoming streams go to the server tunnel for their port.
async fn run_group(group: Group, backend: RouterBackend, jump: Vec<String>) {
    let name = group.tunnels[0].spec.name.clone();
    let mut options = SessionOptions {
        options: group.tunnels[0].spec.options.clone(),
    };
    // The console lists the destination under the tunnel's name.
    options
        .options
        .entry("inbound.nickname".into())
        .or_insert_with(|| name.clone());
    let created = loop {
        match backend
            .create_session(group.keys.clone(), options.clone())
            .await
        {
            Ok(created) => break created,
            Err(e) => {
                warn!(tunnel = %name, "cannot start the destination: {e}; retrying");
                tokio::time::sleep(RETRY).await;
            }
        }
    };
    info!(tunnel = %name, destination = %group.keys.destination().to_b32_address(), "tunnel destination ready");
    let session = Arc::new(created.session);
    let mut tasks = JoinSet::new();
    let mut servers = Vec::new();
    let mut udp = Vec::new();
    for ready in group.tunnels {
        if matches!(
            ready.spec.kind,
            TunnelKind::UdpClient | TunnelKind::UdpServer
        ) {
            let (tx, rx) = tokio::sync::mpsc::channel(DATAGRAM_QUEUE);
            udp.push((ready.spec.in_port, tx));
            let (spec, backend, session) = (ready.spec, backend.clone(), session.clone());
            match ready.udp {
                Some(socket) => tasks.spawn(udp::run_client(spec, socket, backend, session, rx)),
                None => tasks.spawn(udp::run_server(spec, backend, session, rx)),
            };
            continue;
        }
        match ready.listener {
            Some(listener) => {
                let run = client::run(
                    ready.spec,
                    listener,
                    backend.clone(),
                    session.clone(),
                    jump.clone(),
                );
                tasks.spawn(run);
            }
            None => servers.push(server::Server::new(ready.spec)),
        }
    }
    dispatch(created.inbound, servers, udp).await;
    // The destination is gone (router stopping): the client tunnels go with it.
    tasks.abort_all();
}

/// Hands each incoming stream to the server tunnel answering on its port (an exact
/// `inport` first, else one answering on any port); others are closed. Datagrams go
/// to the UDP tunnel for their port the same way; a full queue drops them, as UDP would.
async fn dispatch(
    mut inbound: tokio::sync::mpsc::Receiver<Inbound<I2pStream>>,
    servers: Vec<server::Server>,
    udp: Vec<(u16, tokio::sync::mpsc::Sender<ReceivedDatagram>)>,
) {
    let mut streams = JoinSet::new();
    while let Some(item) = inbound.recv().await {
        let incoming = match item {
            Inbound::Stream(incoming) => incoming,
            Inbound::Datagram(datagram) => {
                let to = datagram.ports.to;
                let tunnel = udp
                    .iter()
                    .find(|(port, _)| *port == to && to != 0)
                    .or_else(|| udp.iter().find(|(port, _)| *port == 0));
                if let Some((_, queue)) = tunnel {
                    let _ = queue.try_send(datagram);
                }
                continue;
            }
        };
        let to = incoming.ports.to;
        let server = servers
            .iter()
            .find(|s| s.spec.in_port == to && to != 0)
            .or_else(|| servers.iter().find(|s| s.spec.in_port == 0));
        match server {
            Some(server) => server.accept(incoming, &mut streams),
            None => drop::<IncomingStream<I2pStream>>(incoming),
        }
        // Reap finished connections so the set does not grow with every stream.
        while streams.try_join_next().is_some() {}
    }
}
