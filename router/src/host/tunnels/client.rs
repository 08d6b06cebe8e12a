//! The client side: a local TCP listener whose connections become streams. A plain
//! client tunnel connects every connection to its one `destination`; the HTTP and
//! SOCKS proxies read where to go from the connection ([`crate::host::proxy`]).
//!
//! Each connection is a task; at most `maxconns` run at once, and connections beyond
//! that are closed at once rather than queued (a local client that opens connections
//! without end cannot grow the router's memory).

use super::irc;
use super::names::{resolve, I2pHost};
use super::spec::{TunnelKind, TunnelSpec};
use crate::host::apps::{RouterBackend, RouterSession};
use crate::host::proxy;
use crate::host::sam::backend::{Backend, PortPair};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, warn};

/// How long opening a stream may take: the streaming library gives up after about a
/// minute itself; this is the bound should the router never answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(90);

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
    let target = match I2pHost::classify(host) {
        Ok(host) => resolve(&ctx.backend, &host).await,
        Err(e) => Err(e),
    };
    let target = match target {
        Ok(t) => t,
        Err(e) => {
            warn!(tunnel = %name, "{e}");
            return;
        }
    };
    let ports = PortPair { from: 0, to: port };
    let opened = ctx.backend.connect(&ctx.session, target, ports);
    let mut stream = match tokio::time::timeout(CONNECT_TIMEOUT, opened).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            warn!(tunnel = %name, "cannot open a stream to {host}: {e}");
            return;
        }
        Err(_) => {
            warn!(tunnel = %name, "opening a stream to {host} timed out");
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
