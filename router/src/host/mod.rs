//! The tokio driver: the sans-IO [`Router`] on real (or turmoil's) sockets.
//!
//! One task owns the router and everything that changes with it; each NTCP2 connection is
//! a task of its own ([`conn`]) that owns its socket and [`Session`] and talks to the
//! router task over channels. The router task is the loop the core contract describes:
//! feed an input, drain [`Router::poll_output`] until it names the next timeout, wait for
//! the next input or that timeout.
//!
//! - [`config`] reads `router.toml`.
//! - [`datadir`] keeps keys, netDb and profiles on disk, written atomically, in a
//!   folder [`dirlock`] keeps to one router at a time.
//! - [`net`] abstracts tokio's or turmoil's sockets.
//! - [`clock`] derives the core's UNIX-time [`Instant`] from tokio's clock.
//! - [`status`] is the router's snapshot of itself and `/ping`; [`console`] serves them
//!   as pages and a JSON API; `events` turns the router's events into counters, ping
//!   answers and the applications' share.
//! - [`sam`] is the SAM bridge, [`apps`] its backend over the router task.
//! - [`addressbook`] keeps the address book (local hosts.txt files, subscriptions'
//!   names in the data directory) that SAM and the proxies resolve names with.
//! - [`subscriptions`] fetches the address book's subscriptions over I2P.
//! - [`tunnels`] runs client and server tunnels, [`proxy`] the HTTP and SOCKS proxies.

pub mod addressbook;
pub mod apps;
pub mod bootstrap;
pub mod clock;
pub mod config;
mod conn;
pub mod console;
pub mod datadir;
pub mod dirlock;
mod driver;
use driver::{Counters, Driver};
mod duplicates;
mod events;
pub mod net;
pub mod proxy;
pub mod sam;
pub mod status;
pub mod subscriptions;
pub mod tunnels;

pub use clock::Clock;
pub use config::{ConfigError, HostConfig, SamSection};
pub use datadir::{DataDir, DataDirError};
pub use net::{Network, Tokio};
pub use status::{PingOutcome, Pinger, Status};

use crate::client::DestinationId;
use crate::data::{Hash, RouterInfo};
use crate::i2np::I2npMessage;
use crate::time::Instant;
use crate::transport::ntcp2::{
    LocalRouter, Ntcp2Keys, Ntcp2Peer, ReplayCache, Session, TerminationReason,
};
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
use std::sync::atomic::AtomicU64;
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
    #[error(transparent)]
    Console(#[from] console::auth::BindError),
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
    /// For the subscription fetcher's destinations.
    fetcher_rng: ChaCha20Rng,
    /// Recent warnings for the console's log page (empty unless [`Host::set_log`]).
    log: console::LogRing,
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
            Some(addr) => {
                // Also checked when the file is read; a configuration made in code
                // must not slip past it.
                console::auth::check_bind(addr, config.console.password.as_deref())?;
                Some(bind(&net, addr).await?)
            }
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
        let fetcher_rng = ChaCha20Rng::from_seed(rng.gen());
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
            bandwidth: console::history::Bandwidth::new(now),
        };
        Ok(Host {
            driver,
            listener,
            status_listener,
            sam,
            book,
            tunnels,
            fetcher_rng,
            log: console::LogRing::new(),
        })
    }

    /// The ring the console's log page shows: the one a [`console::LogLayer`] of the
    /// process' tracing subscriber fills.
    pub fn set_log(&mut self, log: console::LogRing) {
        self.log = log;
    }

    /// Where the console listens (the configured port may have been 0).
    pub fn console_addr(&self) -> Option<SocketAddr> {
        self.status_listener
            .as_ref()
            .and_then(|l| N::local_addr(l).ok())
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
            fetcher_rng,
            log,
        } = self;
        // A first snapshot before the console serves: otherwise its first answers would
        // be the empty default (no router hash) until the loop's first refresh.
        driver.refresh_status();
        let (accepted_tx, accepted_rx) = mpsc::channel(64);
        let acceptor = tokio::spawn(accept_loop::<N>(listener, accepted_tx));
        // The console's shutdown button stops the router as a signal does.
        let stop = Arc::new(tokio::sync::Notify::new());
        let status_server = status_listener.map(|l| {
            let addr = N::local_addr(&l).unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
            let console = console::Console {
                status: driver.status.subscribe(),
                pinger: Pinger::new(driver.ping_sender.clone()),
                book: book.clone(),
                stop: stop.clone(),
                token: console::auth::new_token(),
                password: driver.config.console.password.clone(),
                addr,
                log,
                tunnels: tunnels.infos(),
            };
            let max_clients = driver.config.console.max_clients;
            tokio::spawn(console::serve::<N>(l, Arc::new(console), max_clients))
        });
        let shutdown = async move {
            tokio::select! {
                () = shutdown => {}
                () = stop.notified() => {}
            }
        };
        // The bridge's clients end with the router: their sessions live in it.
        let sam_server = sam.map(|s| tokio::spawn(s.run(std::future::pending())));
        let backend = apps::RouterBackend::new(driver.app_sender.clone(), book.clone());
        let fetcher = subscriptions::Fetcher {
            book,
            backend: backend.clone(),
            clock: driver.clock,
            config: driver.config.addressbook.clone(),
            rng: fetcher_rng,
        };
        let fetcher = tokio::spawn(fetcher.run());
        let jump = driver.config.addressbook.jump_services.clone();
        // Dropped with the router: the set aborts every tunnel task.
        let _tunnels = tunnels.run(backend, jump);
        let result = driver.run(accepted_rx, shutdown).await;
        fetcher.abort();
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

/// Hands accepted NTCP2 connections to the router task.
async fn accept_loop<N: Network>(
    listener: N::Listener,
    accepted: mpsc::Sender<(N::Stream, SocketAddr)>,
) {
    loop {
        match N::accept(&listener).await {
            Ok(connection) => {
                if accepted.send(connection).await.is_err() {
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
