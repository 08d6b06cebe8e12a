//! The bridge's sockets: the TCP listener (a task per client socket, at most
//! `max_connections` of them) and the UDP port, around the state they share ([`Bridge`]).

use super::backend::Backend;
use super::control;
use super::datagram;
use super::reply::{Failure, Reply};
use super::session::Registry;
use crate::crypto::DestinationKeys;
use crate::host::config::SamSection;
use crate::host::Network;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

/// A client socket, buffered for line reading (the buffer goes with it into a stream).
pub(crate) type Socket<N> = BufReader<<N as Network>::Stream>;

/// What every client task shares.
pub(crate) struct Bridge<B: Backend, N: Network> {
    pub(crate) backend: B,
    pub(crate) net: N,
    pub(crate) config: SamSection,
    registry: Mutex<Registry<B>>,
    pub(crate) auth: Mutex<Auth>,
    pub(crate) udp: Option<Arc<UdpSocket>>,
    rng: Mutex<ChaCha20Rng>,
    tokens: AtomicU64,
}

/// Who may use the bridge: off, or these users (AUTH changes it at run time, in memory).
#[derive(Debug, Default)]
pub(crate) struct Auth {
    pub(crate) enabled: bool,
    pub(crate) users: BTreeMap<String, String>,
}

impl Auth {
    /// Whether a HELLO's USER and PASSWORD let the client in. Passwords are compared in
    /// time independent of where they differ.
    pub(crate) fn admits(&self, user: Option<&str>, password: Option<&str>) -> bool {
        if !self.enabled {
            return true;
        }
        let (Some(user), Some(password)) = (user, password) else {
            return false;
        };
        self.users.get(user).is_some_and(|expected| {
            expected.len() == password.len()
                && expected
                    .bytes()
                    .zip(password.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
    }
}

impl<B: Backend, N: Network> Bridge<B, N> {
    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry<B>> {
        // Nothing panics while holding it; a poisoned lock means a bug already reported.
        self.registry.lock().expect("registry lock")
    }

    pub(crate) fn generate_keys(&self) -> DestinationKeys {
        DestinationKeys::generate(&mut *self.rng.lock().expect("rng lock"))
    }

    /// A number never handed out before (tells one FORWARD from its successor).
    pub(crate) fn next_token(&self) -> u64 {
        self.tokens.fetch_add(1, Ordering::Relaxed)
    }

    /// Sessions now open (destinations).
    pub(crate) fn sessions(&self) -> usize {
        self.registry().sessions()
    }
}

/// The SAM bridge, bound and ready to [`SamServer::run`].
pub struct SamServer<B: Backend, N: Network> {
    bridge: Arc<Bridge<B, N>>,
    listener: N::Listener,
    tcp: SocketAddr,
    udp: Option<SocketAddr>,
}

impl<B: Backend, N: Network> std::fmt::Debug for SamServer<B, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamServer")
            .field("tcp", &self.tcp)
            .field("udp", &self.udp)
            .finish_non_exhaustive()
    }
}

impl<B: Backend, N: Network> SamServer<B, N> {
    /// Binds the TCP port (through `net`) and the UDP port (the operating system's: the
    /// [`Network`] trait has no UDP). `rng` makes TRANSIENT and DEST GENERATE keys.
    pub async fn bind(
        config: SamSection,
        backend: B,
        net: N,
        rng: ChaCha20Rng,
    ) -> io::Result<Self> {
        let listener = net.bind(config.tcp).await?;
        let tcp = N::local_addr(&listener)?;
        let udp = match config.udp {
            Some(addr) => Some(Arc::new(UdpSocket::bind(addr).await?)),
            None => None,
        };
        let udp_addr = udp.as_ref().map(|u| u.local_addr()).transpose()?;
        let mut auth = Auth::default();
        if let (Some(user), Some(password)) = (&config.user, &config.password) {
            auth.enabled = true;
            auth.users.insert(user.clone(), password.clone());
        }
        let bridge = Arc::new(Bridge {
            backend,
            net,
            config,
            registry: Mutex::new(Registry::default()),
            auth: Mutex::new(auth),
            udp,
            rng: Mutex::new(rng),
            tokens: AtomicU64::new(0),
        });
        Ok(SamServer {
            bridge,
            listener,
            tcp,
            udp: udp_addr,
        })
    }

    /// Where the control port listens (the configured port may have been 0).
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp
    }

    /// Where the datagram port listens, if it does.
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp
    }

    /// A view on the bridge for tests and status: open sessions.
    pub fn sessions(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let bridge = self.bridge.clone();
        move || bridge.sessions()
    }

    /// Serves clients until `shutdown` completes. Client tasks end with their sockets;
    /// at shutdown they are left to the runtime (dropping it closes them).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        info!(tcp = %self.tcp, udp = ?self.udp, "SAM bridge listening");
        let udp_task = self
            .bridge
            .udp
            .clone()
            .map(|socket| tokio::spawn(datagram::serve_udp(self.bridge.clone(), socket)));
        let slots = Arc::new(Semaphore::new(self.bridge.config.max_connections));
        tokio::select! {
            () = accept_loop(&self.bridge, &self.listener, &slots) => {}
            () = shutdown => {}
        }
        if let Some(task) = udp_task {
            task.abort();
        }
    }
}

async fn accept_loop<B: Backend, N: Network>(
    bridge: &Arc<Bridge<B, N>>,
    listener: &N::Listener,
    slots: &Arc<Semaphore>,
) {
    loop {
        let (stream, peer) = match N::accept(listener).await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off, don't spin.
                warn!("SAM accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let bridge = bridge.clone();
                tokio::spawn(async move {
                    control::serve(bridge, stream, peer).await;
                    drop(slot);
                });
            }
            Err(_) => {
                debug!(%peer, "SAM connection refused: too many connections");
                tokio::spawn(refuse(stream));
            }
        }
    }
}

/// Tells a client over the connection limit why, and closes.
async fn refuse<S: tokio::io::AsyncWrite + Unpin>(mut stream: S) {
    let reply = Reply::Hello(Err(Failure::error("too many connections")));
    let line = reply.line();
    let write = stream.write_all(line.as_bytes());
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
    let _ = stream.shutdown().await;
}
