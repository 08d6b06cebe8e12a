//! The tokio driver: the sans-IO [`Router`] on real (or turmoil's) sockets.
//!
//! One task owns the router and everything that changes with it; each NTCP2 connection is
//! a task of its own ([`conn`]) that owns its socket and [`Session`] and talks to the
//! router task over channels. The router task is the loop the core contract describes:
//! feed an input, drain [`Router::poll_output`] until it names the next timeout, wait for
//! the next input or that timeout.
//!
//! - [`config`] reads `router.toml`.
//! - [`datadir`] keeps keys, netDb and profiles on disk, written atomically.
//! - [`net`] abstracts tokio's or turmoil's sockets.
//! - [`clock`] derives the core's UNIX-time [`Instant`] from tokio's clock.
//! - [`status`] serves the status page and `/ping`; `events` turns the router's events
//!   into its counters, ping answers and the applications' share.
//! - [`sam`] is the SAM bridge, [`apps`] its backend over the router task.
//! - [`addressbook`] keeps the address book (local hosts.txt files, subscriptions'
//!   names in the data directory) that SAM and the proxies resolve names with.
//! - [`tunnels`] runs client and server tunnels, [`proxy`] the HTTP and SOCKS proxies.

pub mod addressbook;
pub mod apps;
pub mod bootstrap;
pub mod clock;
pub mod config;
mod conn;
pub mod datadir;
mod events;
pub mod net;
pub mod proxy;
pub mod sam;
pub mod status;
pub mod tunnels;

pub use clock::Clock;
pub use config::{ConfigError, HostConfig, SamSection};
pub use datadir::{DataDir, DataDirError};
pub use net::{Network, Tokio};
pub use status::{PingOutcome, Pinger, Status};

use crate::client::DestinationId;
use crate::data::{Hash, RouterInfo};
use crate::i2np::I2npMessage;
use crate::profile::Tier;
use crate::time::Instant;
use crate::transport::ntcp2::{
    LocalRouter, Ntcp2Keys, Ntcp2Peer, ReplayCache, Session, TerminationReason,
};
use crate::tunnel::PoolId;
use crate::{Output, Router};
use apps::AppRequest;
use conn::{ConnCommand, ConnContext, ConnEvent, ConnEventKind, ConnId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sam::SamServer;
use status::PingRequest;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, info, warn};

/// How long a dial may take before the peer counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connections get to send their Termination at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
const STATUS_REFRESH: Duration = Duration::from_secs(1);
/// Messages queued for one connection, at most; beyond that they are dropped, as a
/// congested link drops them.
const COMMAND_QUEUE: usize = 512;
/// Events from all connections waiting for the router task; connections wait when it
/// is full, which pushes back on the peers' TCP.
const EVENT_QUEUE: usize = 1024;
/// Inbound connections still in their handshake, at most, and at most per address:
/// a flood of half-open connections from one place cannot take every slot.
const MAX_PENDING_INBOUND: usize = 32;
const MAX_PENDING_PER_IP: usize = 4;
/// A peer we could not reach is not dialled again for this long.
const DIAL_BACKOFF: Duration = Duration::from_secs(20);
/// Inbound handshakes remembered against replays per two minutes, at most (under 100
/// bytes each); a flood beyond it only shortens the memory.
const REPLAY_CAPACITY: usize = 100_000;

/// Why the router could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error("cannot add the test destination: {0}")]
    Destination(#[from] crate::ClientError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tunnels(#[from] tunnels::TunnelsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Bytes moved by all connections (for the status page's bandwidth).
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    received: AtomicU64,
    sent: AtomicU64,
}

/// Where the driver's randomness and time come from. A real router takes
/// [`Start::system`]; tests pin both so that runs repeat.
#[derive(Debug)]
pub struct Start {
    pub clock: Clock,
    pub rng: ChaCha20Rng,
}

impl Start {
    /// The system clock, and a generator seeded once from the operating system (the
    /// core contract's "the real router seeds it from the OS once at start").
    pub fn system() -> Start {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill(&mut seed);
        Start {
            clock: Clock::system(),
            rng: ChaCha20Rng::from_seed(seed),
        }
    }
}

/// A router that has opened its data directory and bound its sockets; [`Host::run`]
/// runs it.
#[derive(Debug)]
pub struct Host<N: Network> {
    driver: Driver<N>,
    listener: N::Listener,
    status_listener: Option<N::Listener>,
    sam: Option<SamServer<apps::RouterBackend, N>>,
    book: addressbook::SharedBook,
    tunnels: tunnels::Tunnels,
}

impl<N: Network> Host<N> {
    /// Opens the data directory (creating keys on first start), loads the saved netDb,
    /// profiles and bootstrap RouterInfos, and binds the NTCP2 and status sockets.
    pub async fn start(config: HostConfig, net: N, start: Start) -> Result<Host<N>, HostError> {
        let Start { clock, mut rng } = start;
        let now = clock.now();
        let Opened {
            data,
            ntcp2,
            mut router,
        } = open(&config, clock, &mut rng)?;

        let listener = bind(&net, config.listen).await?;
        let status_listener = match config.status {
            Some(addr) => Some(bind(&net, addr).await?),
            None => None,
        };

        match data.load_profiles() {
            Ok(profiles) => router.restore_profiles(profiles),
            Err(e) => warn!("ignoring saved profiles: {e}"),
        }
        let mut infos = data.load_netdb();
        if let Some(path) = &config.bootstrap {
            match bootstrap::load(path) {
                Ok(boot) => {
                    infos.infos.extend(boot.infos);
                    infos.rejected.extend(boot.rejected);
                }
                // A router that knows peers from its saved netDb can go on without it.
                Err(e) if !infos.infos.is_empty() => warn!("bootstrap skipped: {e}"),
                Err(e) => return Err(e.into()),
            }
        }
        for (path, why) in &infos.rejected {
            warn!("skipping RouterInfo file {}: {why}", path.display());
        }
        let known = router.bootstrap(now, infos.infos);
        data.save_own_info(router.router_info())?;
        let destination = if config.client.test_destination {
            let keys = data.destination_keys(&mut rng)?;
            let hash = keys.hash();
            info!(destination = %hash.to_base64(), "test destination");
            Some((router.add_destination(now, keys)?, hash))
        } else {
            None
        };
        info!(
            router = %router.hash(),
            listen = %config.listen,
            published = %config.published_address(),
            net_id = config.net_id,
            floodfill = config.floodfill,
            known,
            "router started"
        );

        let book = addressbook::SharedBook::open(&config.addressbook, &data);
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let (ping_tx, ping_rx) = mpsc::channel(16);
        let (app_tx, app_rx) = mpsc::channel(apps::REQUEST_QUEUE);
        let sam = match config.sam.enabled {
            true => {
                let backend = apps::RouterBackend::new(app_tx.clone(), book.clone());
                let sam_rng = ChaCha20Rng::from_seed(rng.gen());
                let bound = SamServer::bind(config.sam.clone(), backend, net.clone(), sam_rng);
                let addr = config.sam.tcp;
                Some(
                    bound
                        .await
                        .map_err(|source| HostError::Bind { addr, source })?,
                )
            }
            false => None,
        };
        let specs = config.tunnel_specs()?;
        let tunnels = tunnels::Tunnels::bind(specs, data.root(), &mut rng).await?;
        let (status_tx, _) = watch::channel(Status::default());
        let local = Arc::new(LocalRouter {
            info: router.router_info().clone(),
            keys: ntcp2.clone(),
            net_id: config.net_id,
        });
        let driver = Driver {
            net,
            clock,
            started: now,
            rng,
            data,
            local,
            ntcp2,
            ctx: ConnContext {
                clock,
                idle_timeout: config.idle_timeout.0,
                events: events_tx,
                traffic: Arc::default(),
                replay: Arc::new(std::sync::Mutex::new(ReplayCache::new(REPLAY_CAPACITY))),
            },
            config,
            router,
            events: events_rx,
            conns: HashMap::new(),
            by_peer: HashMap::new(),
            unreachable: HashMap::new(),
            saving: None,
            next_conn: 0,
            counters: Counters::default(),
            destination,
            ping_requests: ping_rx,
            apps: apps::Apps::new(app_tx.clone()),
            app_requests: app_rx,
            app_sender: app_tx,
            ping_sender: ping_tx,
            pings: HashMap::new(),
            next_ping: 0,
            status: status_tx,
            last_traffic: (0, 0, now),
        };
        Ok(Host {
            driver,
            listener,
            status_listener,
            sam,
            book,
            tunnels,
        })
    }

    pub fn hash(&self) -> Hash {
        self.driver.router.hash()
    }

    /// Our signed RouterInfo as it was at start.
    pub fn router_info(&self) -> Arc<RouterInfo> {
        self.driver.router.router_info().clone()
    }

    /// Where NTCP2 actually listens (the configured port may have been 0).
    pub fn listen_addr(&self) -> std::io::Result<SocketAddr> {
        N::local_addr(&self.listener)
    }

    /// Pings from the test destination (`[client] test_destination`).
    pub fn pinger(&self) -> Pinger {
        Pinger::new(self.driver.ping_sender.clone())
    }

    /// Where the SAM bridge listens (TCP, and UDP if enabled), when it runs.
    pub fn sam_addrs(&self) -> Option<(SocketAddr, Option<SocketAddr>)> {
        self.sam.as_ref().map(|s| (s.tcp_addr(), s.udp_addr()))
    }

    /// The SAM bridge's way into this router: sessions, streams, datagrams, lookups.
    pub fn backend(&self) -> apps::RouterBackend {
        apps::RouterBackend::new(self.driver.app_sender.clone(), self.book.clone())
    }

    /// Where the client tunnels and proxies listen, by tunnel name.
    pub fn tunnel_addrs(&self) -> Vec<(String, SocketAddr)> {
        self.tunnels.local_addrs()
    }

    /// The address book (SAM and the proxies resolve names with it).
    pub fn address_book(&self) -> addressbook::SharedBook {
        self.book.clone()
    }

    /// Status snapshots, refreshed about once a second while the router runs.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.driver.status.subscribe()
    }

    /// Runs until `shutdown` completes, then closes every session with a Termination
    /// and saves the netDb and profiles.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), HostError> {
        let Host {
            mut driver,
            listener,
            status_listener,
            sam,
            book,
            tunnels,
        } = self;
        let (accepted_tx, accepted_rx) = mpsc::channel(64);
        let acceptor = tokio::spawn(async move {
            loop {
                match N::accept(&listener).await {
                    Ok(accepted) => {
                        if accepted_tx.send(accepted).await.is_err() {
                            return;
                        }
                    }
                    // Out of file descriptors and the like: back off, don't spin.
                    Err(e) => {
                        warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        let status_server = status_listener.map(|l| {
            let pinger = Pinger::new(driver.ping_sender.clone());
            tokio::spawn(status::serve::<N>(l, driver.status.subscribe(), pinger))
        });
        // The bridge's clients end with the router: their sessions live in it.
        let sam_server = sam.map(|s| tokio::spawn(s.run(std::future::pending())));
        let backend = apps::RouterBackend::new(driver.app_sender.clone(), book);
        let jump = driver.config.addressbook.jump_services.clone();
        // Dropped with the router: the set aborts every tunnel task.
        let _tunnels = tunnels.run(backend, jump);
        let result = driver.run(accepted_rx, shutdown).await;
        if let Some(server) = sam_server {
            server.abort();
        }
        acceptor.abort();
        if let Some(server) = status_server {
            server.abort();
        }
        result
    }
}

/// Creates the data directory and keys of a router (if they are not there yet) and saves
/// its signed RouterInfo as `router.info`, which is returned: what a testnet hands the
/// other routers before any of them runs.
pub fn init(config: &HostConfig, mut start: Start) -> Result<Arc<RouterInfo>, HostError> {
    let opened = open(config, start.clock, &mut start.rng)?;
    let info = opened.router.router_info().clone();
    opened.data.save_own_info(&info)?;
    Ok(info)
}

/// A router made from its data directory.
struct Opened {
    data: DataDir,
    ntcp2: Ntcp2Keys,
    router: Router,
}

fn open(config: &HostConfig, clock: Clock, rng: &mut ChaCha20Rng) -> Result<Opened, HostError> {
    let data = DataDir::open(&config.data_dir)?;
    let keys = data.router_keys(rng)?;
    let ntcp2 = data.ntcp2_keys(rng)?;
    let mut router_config = config.router_config();
    router_config.addresses = vec![ntcp2.router_address(config.published_address())];
    let router = Router::new(
        router_config,
        keys,
        ChaCha20Rng::from_seed(rng.gen()),
        clock.now(),
    );
    Ok(Opened {
        data,
        ntcp2,
        router,
    })
}

/// Event counts for the status page.
#[derive(Debug, Default)]
struct Counters {
    lookups_succeeded: u64,
    lookups_failed: u64,
    lookups_received: u64,
    stores_received: u64,
    builds_succeeded: u64,
    builds_failed: u64,
}

#[derive(Debug)]
struct Conn {
    commands: mpsc::Sender<ConnCommand>,
    /// Known once the handshake is done (at once when we dialled).
    peer: Option<Hash>,
    /// Where an inbound connection came from; `None` for ours.
    inbound: Option<IpAddr>,
    established: bool,
}

#[derive(Debug)]
struct Driver<N: Network> {
    net: N,
    clock: Clock,
    started: Instant,
    /// Seeds sessions' randomness (padding, ephemeral keys).
    rng: ChaCha20Rng,
    data: DataDir,
    config: HostConfig,
    router: Router,
    /// What sessions need of us; replaced when our RouterInfo is republished.
    local: Arc<LocalRouter>,
    ntcp2: Ntcp2Keys,
    ctx: ConnContext,
    events: mpsc::Receiver<ConnEvent>,
    conns: HashMap<ConnId, Conn>,
    /// The connection used to send to each peer (the newest established one).
    by_peer: HashMap<Hash, ConnId>,
    /// Peers whose dial failed, and until when they are not dialled again.
    unreachable: HashMap<Hash, Instant>,
    /// The netDb save running on the blocking pool, if any.
    saving: Option<tokio::task::JoinHandle<()>>,
    next_conn: ConnId,
    counters: Counters,
    /// The test destination, when configured.
    destination: Option<(DestinationId, Hash)>,
    /// Applications' sessions and streams (the SAM bridge's backend).
    apps: apps::Apps,
    app_requests: mpsc::Receiver<AppRequest>,
    /// Handed to the SAM bridge ([`apps::RouterBackend`]).
    app_sender: mpsc::Sender<AppRequest>,
    ping_requests: mpsc::Receiver<PingRequest>,
    /// Handed to the status server, which turns `/ping` requests into [`PingRequest`]s.
    ping_sender: mpsc::Sender<PingRequest>,
    /// Pings waiting for their delivery confirmation, by message reference.
    pings: HashMap<u64, oneshot::Sender<PingOutcome>>,
    next_ping: u64,
    status: watch::Sender<Status>,
    /// Traffic totals at the last status refresh, for rates.
    last_traffic: (u64, u64, Instant),
}

impl<N: Network> Driver<N> {
    async fn run(
        &mut self,
        mut accepted: mpsc::Receiver<(N::Stream, SocketAddr)>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), HostError> {
        tokio::pin!(shutdown);
        let mut status_tick = tokio::time::interval(STATUS_REFRESH);
        let mut save_tick = tokio::time::interval(self.config.save_interval.0);
        save_tick.tick().await; // the first tick is immediate; nothing to save yet
        loop {
            let next = self.drain();
            // Connection events last: however busy the peers, timers, accepts and
            // pings get their turn.
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep_until(self.clock.deadline(next)) => {
                    self.router.handle_timeout(self.clock.now());
                    self.refresh_local();
                }
                _ = status_tick.tick() => self.refresh_status(),
                _ = save_tick.tick() => self.save_in_background(),
                Some((stream, from)) = accepted.recv() => self.on_accept(stream, from),
                Some(ping) = self.ping_requests.recv() => self.ping(ping),
                Some(request) = self.app_requests.recv() => {
                    self.apps.on_request(&mut self.router, self.clock.now(), request);
                }
                Some(event) = self.events.recv() => self.on_conn_event(event),
            }
        }
        info!("shutting down");
        for conn in self.conns.values() {
            let _ = conn
                .commands
                .try_send(ConnCommand::Close(TerminationReason::RouterShutdown));
        }
        let grace = tokio::time::sleep(SHUTDOWN_GRACE);
        tokio::pin!(grace);
        while !self.conns.is_empty() {
            tokio::select! {
                () = &mut grace => break,
                Some(event) = self.events.recv() => self.on_conn_event(event),
            }
        }
        if let Some(saving) = self.saving.take() {
            let _ = saving.await;
        }
        self.save();
        Ok(())
    }

    /// Sends a message from the test destination; the answer waits for its confirmation.
    fn ping(&mut self, PingRequest { to, reply }: PingRequest) {
        let Some((from, _)) = self.destination else {
            let _ = reply.send(PingOutcome::failed(
                "this router has no test destination ([client] test_destination)",
            ));
            return;
        };
        let reference = self.next_ping;
        self.next_ping += 1;
        match self
            .router
            .send(self.clock.now(), from, to, reference, b"ping".to_vec())
        {
            Ok(()) => {
                self.pings.insert(reference, reply);
            }
            Err(e) => {
                let _ = reply.send(PingOutcome::failed(e.to_string()));
            }
        }
    }

    /// Drains the router's outputs; returns when it wants its next timeout.
    fn drain(&mut self) -> Instant {
        loop {
            match self.router.poll_output() {
                Output::Send { to, msg } => self.send(to, msg),
                Output::Event(event) => self.on_router_event(event),
                Output::Timeout(at) => return at,
            }
        }
    }

    /// Sends over the peer's session, dialling one if there is none.
    fn send(&mut self, to: Hash, msg: I2npMessage) {
        // We may be a hop of a tunnel we send into (the inbound gateway of a peer's reply
        // tunnel, say): such messages never leave the process.
        if to == self.router.hash() {
            self.router.handle_message(self.clock.now(), to, msg);
            return;
        }
        if let Some(conn) = self.by_peer.get(&to).and_then(|id| self.conns.get(id)) {
            // A full queue (a peer reading too slowly) or a task that just ended loses
            // the message, as a congested or dying link would; a Closed event is on the
            // way in the second case and the next message dials anew.
            let _ = conn.commands.try_send(ConnCommand::Send(msg));
            return;
        }
        let now = self.clock.now();
        if self.unreachable.get(&to).is_some_and(|until| *until > now) {
            return;
        }
        if self.conns.len() >= self.config.max_connections {
            debug!(peer = %to, "connection limit reached; message dropped");
            return;
        }
        let Some(info) = self.router.netdb().get(&to).cloned() else {
            debug!(peer = %to, "no RouterInfo; message dropped");
            return;
        };
        let peer = match Ntcp2Peer::from_router_info(&info) {
            Ok(peer) => peer,
            Err(e) => {
                debug!(peer = %to, "cannot dial: {e}");
                return;
            }
        };
        let (id, commands) = self.register(Some(to), None);
        let _ = self.conns[&id].commands.try_send(ConnCommand::Send(msg));
        self.by_peer.insert(to, id);
        let net = self.net.clone();
        let ctx = self.ctx.clone();
        let local = self.local.clone();
        let mut session_rng = ChaCha20Rng::from_seed(self.rng.gen());
        tokio::spawn(async move {
            let addr = peer.socket;
            let reason = match tokio::time::timeout(CONNECT_TIMEOUT, net.connect(addr)).await {
                Ok(Ok(stream)) => {
                    // Made only now, so the handshake's timestamp and timeout start with
                    // the TCP connection rather than before it.
                    let session =
                        Session::connect(ctx.clock.now(), &local, &peer, &mut session_rng);
                    conn::run(id, conn::Side::Outbound, stream, session, commands, ctx).await;
                    return;
                }
                Ok(Err(e)) => format!("cannot connect to {addr}: {e}"),
                Err(_) => format!("connecting to {addr} timed out"),
            };
            let kind = ConnEventKind::Closed { reason };
            let _ = ctx.events.send(ConnEvent { id, kind }).await;
        });
    }

    fn on_accept(&mut self, stream: N::Stream, from: SocketAddr) {
        // Inbound connections may take three quarters of the slots: the rest stay free
        // for our own dials, which building tunnels needs.
        let inbound_limit = self.config.max_connections - self.config.max_connections / 4;
        let inbound = self.conns.values().filter(|c| c.inbound.is_some());
        let pending = inbound.clone().filter(|c| !c.established);
        let refused = if inbound.clone().count() >= inbound_limit {
            Some("inbound connection limit reached")
        } else if pending.clone().count() >= MAX_PENDING_INBOUND {
            Some("too many handshakes in progress")
        } else if pending.filter(|c| c.inbound == Some(from.ip())).count() >= MAX_PENDING_PER_IP {
            Some("too many handshakes in progress from this address")
        } else {
            None
        };
        if let Some(why) = refused {
            debug!(%from, "inbound connection refused: {why}");
            return; // dropping the stream closes it
        }
        let session = Session::accept(self.clock.now(), &self.local, &mut self.rng);
        let (id, commands) = self.register(None, Some(from.ip()));
        debug!(%from, id, "inbound connection");
        let side = conn::Side::Inbound {
            seed: self.rng.gen(),
        };
        tokio::spawn(conn::run(
            id,
            side,
            stream,
            session,
            commands,
            self.ctx.clone(),
        ));
    }

    fn register(
        &mut self,
        peer: Option<Hash>,
        inbound: Option<IpAddr>,
    ) -> (ConnId, mpsc::Receiver<ConnCommand>) {
        let id = self.next_conn;
        self.next_conn += 1;
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        self.conns.insert(
            id,
            Conn {
                commands: tx,
                peer,
                inbound,
                established: false,
            },
        );
        (id, rx)
    }

    fn on_conn_event(&mut self, ConnEvent { id, kind }: ConnEvent) {
        let now = self.clock.now();
        match kind {
            ConnEventKind::Established { peer, info } => {
                let me = self.router.hash();
                let Some(conn) = self.conns.get_mut(&id) else {
                    return;
                };
                conn.peer = Some(peer);
                conn.established = true;
                let inbound = conn.inbound.is_some();
                debug!(%peer, id, inbound, "session established");
                self.unreachable.remove(&peer);
                // Two routers that dial each other at once get two sessions. Both sides
                // send on the same one, the session dialled by the larger hash; the other
                // falls idle and closes, so nothing in flight is cut off.
                let dialled_by_larger = |inbound: bool| (peer > me) == inbound;
                let keep_current = self
                    .by_peer
                    .get(&peer)
                    .filter(|current| **current != id)
                    .and_then(|current| self.conns.get(current))
                    .is_some_and(|c| {
                        c.established
                            && dialled_by_larger(c.inbound.is_some())
                            && !dialled_by_larger(inbound)
                    });
                if !keep_current {
                    self.by_peer.insert(peer, id);
                }
                if let Some(info) = info {
                    self.router.handle_peer_info(now, info);
                }
            }
            ConnEventKind::Message(msg) => {
                if let Some(peer) = self.conns.get(&id).and_then(|c| c.peer) {
                    self.router.handle_message(now, peer, msg);
                }
            }
            ConnEventKind::RouterInfo(info) => self.router.handle_peer_info(now, info),
            ConnEventKind::Closed { reason } => {
                if let Some(conn) = self.conns.remove(&id) {
                    debug!(peer = ?conn.peer, id, "session closed: {reason}");
                    if let Some(peer) = conn.peer {
                        if conn.inbound.is_none() && !conn.established {
                            self.unreachable.insert(peer, now + DIAL_BACKOFF);
                            self.router.handle_unreachable(now, peer);
                        }
                        if self.by_peer.get(&peer) == Some(&id) {
                            self.by_peer.remove(&peer);
                            // Another established session to the peer (the loser of a
                            // simultaneous dial) takes over rather than a new dial.
                            let other = self
                                .conns
                                .iter()
                                .find(|(_, c)| c.peer == Some(peer) && c.established);
                            if let Some((other, _)) = other {
                                self.by_peer.insert(peer, *other);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Our RouterInfo is republished from time to time; new sessions must send the new one.
    fn refresh_local(&mut self) {
        let info = self.router.router_info();
        if !Arc::ptr_eq(info, &self.local.info) {
            self.local = Arc::new(LocalRouter {
                info: info.clone(),
                keys: self.ntcp2.clone(),
                net_id: self.config.net_id,
            });
            if let Err(e) = self.data.save_own_info(info) {
                warn!("cannot save router.info: {e}");
            }
        }
    }

    /// The RouterInfos we hold, as one snapshot to save.
    fn netdb_snapshot(&self) -> Vec<Arc<RouterInfo>> {
        let netdb = self.router.netdb();
        netdb
            .store()
            .hashes()
            .filter_map(|h| netdb.get(h).cloned())
            .collect()
    }

    /// The periodic save: a snapshot written on the blocking pool, so thousands of file
    /// writes never stall the router's loop. Skipped while the previous one still runs.
    fn save_in_background(&mut self) {
        self.unreachable
            .retain(|_, until| *until > self.clock.now());
        if self.saving.as_ref().is_some_and(|s| !s.is_finished()) {
            return;
        }
        let infos = self.netdb_snapshot();
        let profiles = self.router.profiles().clone();
        let data = self.data.clone();
        self.saving = Some(tokio::task::spawn_blocking(move || {
            save(&data, &infos, &profiles)
        }));
    }

    /// The final save, at shutdown.
    fn save(&mut self) {
        save(&self.data, &self.netdb_snapshot(), self.router.profiles());
    }

    fn refresh_status(&mut self) {
        // Pings whose caller gave up are forgotten.
        self.pings.retain(|_, reply| !reply.is_closed());
        let now = self.clock.now();
        let router = &self.router;
        let netdb = router.netdb();
        let traffic = &self.ctx.traffic;
        let (total_in, total_out) = (
            traffic.received.load(Ordering::Relaxed),
            traffic.sent.load(Ordering::Relaxed),
        );
        let (last_in, last_out, last_at) = self.last_traffic;
        let secs = now
            .saturating_duration_since(last_at)
            .as_secs_f64()
            .max(1e-3);
        let rate = |now: u64, then: u64| (now.saturating_sub(then) as f64 / secs) as u64;
        let bandwidth = status::BandwidthStatus {
            in_bps: rate(total_in, last_in),
            out_bps: rate(total_out, last_out),
            total_in,
            total_out,
        };
        self.last_traffic = (total_in, total_out, now);

        let established = self.conns.values().filter(|c| c.established);
        let mut list: Vec<String> = established
            .clone()
            .filter_map(|c| c.peer.map(|p| p.to_base64()))
            .collect();
        list.sort();
        let inbound = established.clone().filter(|c| c.inbound.is_some()).count();
        let peers = status::PeerStatus {
            connected: list.len(),
            connecting: self.conns.len() - list.len(),
            inbound,
            outbound: list.len() - inbound,
            list,
        };
        let c = &self.counters;
        let tunnels = router.tunnels();
        let (exploratory_inbound, exploratory_outbound) =
            tunnels.map_or((0, 0), |t| t.pool_tunnels(PoolId::Exploratory));
        let tier = |tier| tunnels.map_or(0, |t| t.tiers().members(tier).len());
        let status = Status {
            router: router.hash().to_base64(),
            version: crate::router::ROUTER_VERSION.into(),
            net_id: self.config.net_id,
            floodfill: self.config.floodfill,
            published: self.config.published_address().to_string(),
            destination: self.destination.map(|(_, hash)| hash.to_base64()),
            uptime_secs: now.saturating_duration_since(self.started).as_secs(),
            peers,
            netdb: status::NetDbStatus {
                routers: netdb.store().len(),
                floodfills: netdb.store().floodfill_count(),
                lease_sets: netdb.lease_sets().len(),
                lookups_succeeded: c.lookups_succeeded,
                lookups_failed: c.lookups_failed,
                lookups_received: c.lookups_received,
                stores_received: c.stores_received,
            },
            tunnels: status::TunnelStatus {
                enabled: tunnels.is_some(),
                exploratory_inbound,
                exploratory_outbound,
                participating: tunnels.map_or(0, |t| t.participating()),
                builds_succeeded: c.builds_succeeded,
                builds_failed: c.builds_failed,
            },
            tiers: status::TierStatus {
                fast: tier(Tier::Fast),
                high_capacity: tier(Tier::HighCapacity),
                not_failing: tier(Tier::NotFailing),
                failing: tier(Tier::Failing),
            },
            bandwidth,
        };
        self.status.send_replace(status);
    }
}

async fn bind<N: Network>(net: &N, addr: SocketAddr) -> Result<N::Listener, HostError> {
    net.bind(addr)
        .await
        .map_err(|source| HostError::Bind { addr, source })
}

fn save(data: &DataDir, infos: &[Arc<RouterInfo>], profiles: &crate::profile::Profiles) {
    match data.save_netdb(infos) {
        Ok(written) => debug!(written, known = infos.len(), "netDb saved"),
        Err(e) => warn!("cannot save the netDb: {e}"),
    }
    if let Err(e) = data.save_profiles(profiles) {
        warn!("cannot save profiles: {e}");
    }
}
