//! The client side: a local TCP listener whose connections become streams. A plain
//! client tunnel connects every connection to its one `destination`; the HTTP and
//! SOCKS proxies read where to go from the connection ([`crate::host::proxy`]).
//!
//! Each connection is a task; at most `maxconns` run at once, and connections beyond
//! that are closed at once rather than queued (a local client that opens connections
//! without end cannot grow the router's memory).

use super::irc;
use super::names::{resolve, I2pHost, NameError};
use super::spec::{TunnelKind, TunnelSpec};
use crate::host::apps::{I2pStream, RouterBackend, RouterSession};
use crate::host::proxy;
use crate::host::sam::backend::{Backend, ConnectError, PortPair};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, warn};

/// How long opening a stream may take: the streaming library gives up after about a
/// minute itself; this is the bound should the router never answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(90);

/// Why a stream to a host could not be opened: what the proxies' error pages and the
/// logs of client tunnels and subscriptions say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("no LeaseSet found for {0}")]
    NoLeaseSet(String),
    #[error("cannot reach {host}: {why}")]
    Unreachable { host: String, why: String },
    #[error("opening a stream to {0} timed out")]
    TimedOut(String),
}

/// Opens a stream from `session` to port `port` of `host` (a `.i2p` name, a b32
/// address or a base64 destination), within [`CONNECT_TIMEOUT`]. The one way the
/// client tunnels, the proxies and the address book's subscriptions reach a site.
pub async fn open_stream(
    backend: &RouterBackend,
    session: &RouterSession,
    host: &str,
    port: u16,
) -> Result<I2pStream, OpenError> {
    let target = resolve(backend, &I2pHost::classify(host)?).await?;
    let ports = PortPair { from: 0, to: port };
    let opened = backend.connect(session, target, ports);
    match tokio::time::timeout(CONNECT_TIMEOUT, opened).await {
        Ok(Ok(stream)) => Ok(stream),
        Err(_) | Ok(Err(ConnectError::Timeout)) => Err(OpenError::TimedOut(host.to_owned())),
        Ok(Err(ConnectError::PeerNotFound)) => Err(OpenError::NoLeaseSet(host.to_owned())),
        Ok(Err(e)) => Err(OpenError::Unreachable {
            host: host.to_owned(),
            why: e.to_string(),
        }),
    }
}

/// What every connection of one client-side tunnel shares.
#[derive(Debug)]
pub struct ClientContext {
    pub spec: Arc<TunnelSpec>,
    pub backend: RouterBackend,
    pub session: Arc<RouterSession>,
    /// Jump services for the HTTP proxy's unknown-name page.
    pub jump: Vec<String>,
}

/// Accepts connections until the task is aborted.
pub async fn run(
    spec: Arc<TunnelSpec>,
    listener: TcpListener,
    backend: RouterBackend,
    session: Arc<RouterSession>,
    jump: Vec<String>,
) {
    let limit = Arc::new(Semaphore::new(spec.max_connections));
    let ctx = Arc::new(ClientContext {
        spec,
        backend,
        session,
        jump,
    });
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors and the like: back off rather than spin.
                warn!(tunnel = %ctx.spec.name, "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            debug!(tunnel = %ctx.spec.name, %peer, "connection limit reached: closed");
            continue;
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            match ctx.spec.kind {
                TunnelKind::HttpProxy => proxy::http::serve(socket, ctx.clone()).await,
                TunnelKind::Socks => proxy::socks::serve(socket, ctx.clone()).await,
                _ => plain(socket, &ctx).await,
            }
            drop(permit);
        });
    }
}

/// A plain client tunnel's connection: a stream to the configured destination, bytes
/// copied both ways until both sides are done.
async fn plain(mut socket: TcpStream, ctx: &ClientContext) {
    let name = &ctx.spec.name;
    let Some(text) = ctx.spec.destination.as_deref() else {
        return;
    };
    // A destination may carry its port (i2pd allows `name.i2p:port`).
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() && !h.is_empty() => (h, p.parse().unwrap_or(0)),
        _ => (text, ctx.spec.destination_port),
    };
    let mut stream = match open_stream(&ctx.backend, &ctx.session, host, port).await {
        Ok(stream) => stream,
        Err(e) => {
            warn!(tunnel = %name, "{e}");
            return;
        }
    };
    if ctx.spec.kind == TunnelKind::IrcClient {
        let (from_user, to_user) = socket.into_split();
        let (from_net, to_net) = tokio::io::split(stream);
        tokio::join!(
            irc::pump(from_user, to_net, irc::outbound),
            irc::pump(from_net, to_user, irc::inbound),
        );
        return;
    }
    if let Err(e) = tokio::io::copy_bidirectional(&mut socket, &mut stream).await {
        debug!(tunnel = %name, "connection ended: {e}");
    }
}
