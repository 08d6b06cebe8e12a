//! Streams: STREAM CONNECT, ACCEPT and FORWARD, and the splice that follows them.
//!
//! After `STREAM STATUS RESULT=OK` (or none, with SILENT=true) the client's socket is the
//! stream: bytes are copied both ways until either side closes, or the session ends.
//! Incoming streams go to the oldest waiting ACCEPT of their subsession, or to its
//! FORWARD target; with neither, they wait in a small backlog for the next ACCEPT (a
//! client typically issues its next ACCEPT only after the last one was answered).

use super::backend::{Backend, ConnectError, IncomingStream, PortPair};
use super::command::{Style, Version};
use super::names;
use super::reply::{Failure, Ports, Reply, ResultCode};
use super::server::{Bridge, Socket};
use super::session::Sub;
use crate::host::Network;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;
use tracing::debug;

/// Incoming streams waiting for an ACCEPT, at most, per subsession ...
const BACKLOG: usize = 8;
/// ... and for at most this long.
const BACKLOG_WAIT: Duration = Duration::from_secs(30);
/// How long FORWARD's target gets to accept our connection (the spec's "3 seconds").
const FORWARD_CONNECT: Duration = Duration::from_secs(3);

/// Who listens for a STREAM subsession's incoming streams.
pub(crate) struct Listen<S> {
    acceptors: VecDeque<oneshot::Sender<IncomingStream<S>>>,
    forward: Option<Forward>,
    backlog: VecDeque<(Instant, IncomingStream<S>)>,
}

impl<S> Default for Listen<S> {
    fn default() -> Self {
        Listen {
            acceptors: VecDeque::new(),
            forward: None,
            backlog: VecDeque::new(),
        }
    }
}

impl<S> Listen<S> {
    /// The subsession is gone: waiting ACCEPTs fail, FORWARD and the backlog end.
    pub(crate) fn close(&mut self) {
        self.acceptors.clear();
        self.forward = None;
        self.backlog.clear();
    }

    fn pending_accepts(&mut self) -> usize {
        self.acceptors.retain(|a| !a.is_closed());
        self.acceptors.len()
    }

    fn take_backlog(&mut self) -> Option<IncomingStream<S>> {
        while let Some((at, incoming)) = self.backlog.pop_front() {
            if at.elapsed() < BACKLOG_WAIT {
                return Some(incoming);
            }
        }
        None
    }
}

/// Where a STREAM FORWARD sends incoming streams.
#[derive(Debug, Clone)]
struct Forward {
    to: SocketAddr,
    silent: bool,
    version: Version,
    /// Tells a FORWARD from the one that replaced it after its socket closed.
    token: u64,
}

/// An incoming stream for `sub`: to a waiting ACCEPT, the FORWARD target, or the backlog.
pub(crate) fn route<B: Backend, N: Network>(
    bridge: &Arc<Bridge<B, N>>,
    sub: &Sub<B>,
    mut incoming: IncomingStream<B::Stream>,
) {
    let mut listen = sub.listen();
    if let Some(forward) = listen.forward.clone() {
        let closed = sub.session.closed.subscribe();
        tokio::spawn(forward_one(bridge.clone(), forward, incoming, closed));
        return;
    }
    while let Some(acceptor) = listen.acceptors.pop_front() {
        match acceptor.send(incoming) {
            Ok(()) => return,
            Err(back) => incoming = back, // that ACCEPT's socket closed: the next one
        }
    }
    listen.backlog.retain(|(at, _)| at.elapsed() < BACKLOG_WAIT);
    if listen.backlog.len() < BACKLOG {
        listen.backlog.push_back((Instant::now(), incoming));
    } else {
        debug!(id = %sub.id, "incoming stream dropped: no ACCEPT and the backlog is full");
    }
}

/// The subsession a STREAM command names, if it is a STREAM one.
fn stream_sub<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    id: &str,
) -> Result<Arc<Sub<B>>, Failure> {
    let sub = bridge.registry().sub(id)?;
    if sub.style != Style::Stream {
        return Err(Failure::error(format!("{id:?} is not a STREAM session")));
    }
    Ok(sub)
}

/// Sends the STREAM STATUS unless SILENT, then closes on failure.
async fn status<W: AsyncWrite + Unpin>(
    socket: &mut W,
    silent: bool,
    result: Result<(), Failure>,
) -> std::io::Result<()> {
    if !silent {
        socket
            .write_all(Reply::Stream(result).line().as_bytes())
            .await?;
    }
    Ok(())
}

/// STREAM CONNECT: this socket becomes a stream to `destination`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn connect<B: Backend, N: Network>(
    bridge: &Arc<Bridge<B, N>>,
    mut socket: Socket<N>,
    id: String,
    destination: String,
    silent: bool,
    from_port: Option<u16>,
    to_port: Option<u16>,
) -> std::io::Result<()> {
    let opened = async {
        let sub = stream_sub(bridge, &id)?;
        let session = &sub.session;
        let target = names::resolve(bridge, Some(&session.handle), &destination).await?;
        let ports = PortPair {
            from: from_port.unwrap_or(sub.ports.from),
            to: to_port.unwrap_or(sub.ports.to),
        };
        let connect = bridge.backend.connect(&session.handle, target, ports);
        let stream = match tokio::time::timeout(bridge.config.connect_timeout.0, connect).await {
            Ok(result) => result.map_err(connect_failure)?,
            Err(_) => return Err(Failure::new(ResultCode::Timeout, "no answer from the peer")),
        };
        Ok((stream, session.closed.subscribe()))
    }
    .await;
    match opened {
        Ok((stream, closed)) => {
            status(&mut socket, silent, Ok(())).await?;
            splice(socket, stream, closed).await
        }
        Err(failure) => status(&mut socket, silent, Err(failure)).await,
    }
}

fn connect_failure(e: ConnectError) -> Failure {
    let code = match &e {
        ConnectError::CantReachPeer(_) => ResultCode::CantReachPeer,
        ConnectError::PeerNotFound => ResultCode::PeerNotFound,
        ConnectError::Timeout => ResultCode::Timeout,
        ConnectError::InvalidKey(_) => ResultCode::InvalidKey,
        ConnectError::Other(_) => ResultCode::I2pError,
    };
    Failure::new(code, e.to_string())
}

/// STREAM ACCEPT: this socket waits for the subsession's next incoming stream.
pub(crate) async fn accept<B: Backend, N: Network>(
    bridge: &Arc<Bridge<B, N>>,
    mut socket: Socket<N>,
    id: String,
    silent: bool,
    version: Version,
) -> std::io::Result<()> {
    let waiting = (|| {
        let sub = stream_sub(bridge, &id)?;
        let mut listen = sub.listen();
        if listen.forward.is_some() {
            return Err(Failure::error("a STREAM FORWARD is active on this session"));
        }
        let pending = listen.pending_accepts();
        if pending > 0 && version < Version::new(3, 2) {
            return Err(Failure::bare(ResultCode::AlreadyAccepting));
        }
        if pending >= bridge.config.max_pending_accepts {
            return Err(Failure::error(
                "too many pending STREAM ACCEPTs on this session",
            ));
        }
        let closed = sub.session.closed.subscribe();
        let (tx, rx) = oneshot::channel();
        match listen.take_backlog() {
            Some(incoming) => {
                let _ = tx.send(incoming);
            }
            None => listen.acceptors.push_back(tx),
        }
        Ok((rx, closed))
    })();
    let (rx, closed) = match waiting {
        Ok(waiting) => waiting,
        Err(failure) => return status(&mut socket, silent, Err(failure)).await,
    };
    status(&mut socket, silent, Ok(())).await?;
    let incoming = tokio::select! {
        incoming = rx => incoming,
        // A client that gives up waiting closes its socket: stop waiting too.
        () = client_gone(&mut socket) => return Ok(()),
    };
    match incoming {
        Ok(incoming) => {
            if !silent {
                socket
                    .write_all(peer_line(&incoming, version).as_bytes())
                    .await?;
            }
            splice(socket, incoming.stream, closed).await
        }
        // The session ended first ("Errors After OK").
        Err(_) => {
            status(
                &mut socket,
                silent,
                Err(Failure::error("the session ended")),
            )
            .await
        }
    }
}

/// Resolves when the client closes its socket (or breaks it); never if it sends data,
/// which stays buffered for the stream.
async fn client_gone<R: tokio::io::AsyncBufRead + Unpin>(socket: &mut R) {
    use tokio::io::AsyncBufReadExt;
    match socket.fill_buf().await {
        Ok([]) | Err(_) => {}
        Ok(_) => std::future::pending().await,
    }
}

/// `$destination[ FROM_PORT=n TO_PORT=n]\n`: what ACCEPT and FORWARD write before the
/// stream's bytes (the ports from SAM 3.2).
fn peer_line<S>(incoming: &IncomingStream<S>, version: Version) -> String {
    let mut line = incoming.peer.to_base64();
    if version >= Version::new(3, 2) {
        let ports = Ports {
            from: incoming.ports.from,
            to: incoming.ports.to,
        };
        line.push_str(&format!(" FROM_PORT={} TO_PORT={}", ports.from, ports.to));
    }
    line.push('\n');
    line
}

/// STREAM FORWARD: incoming streams go to HOST:PORT until this socket closes.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn forward<B: Backend, N: Network>(
    bridge: &Arc<Bridge<B, N>>,
    mut socket: Socket<N>,
    peer: SocketAddr,
    id: String,
    port: u16,
    host: Option<String>,
    silent: bool,
    ssl: bool,
    version: Version,
) -> std::io::Result<()> {
    let token = bridge.next_token();
    let set = (|| {
        if ssl {
            return Err(Failure::error("SSL=true is not supported"));
        }
        let to = SocketAddr::new(super::datagram::host(host.as_deref(), peer.ip())?, port);
        let sub = stream_sub(bridge, &id)?;
        let mut listen = sub.listen();
        if listen.pending_accepts() > 0 {
            return Err(Failure::error("a STREAM ACCEPT is pending on this session"));
        }
        if listen.forward.is_some() {
            return Err(Failure::error(
                "a STREAM FORWARD is already active on this session",
            ));
        }
        listen.forward = Some(Forward {
            to,
            silent,
            version,
            token,
        });
        drop(listen);
        Ok(sub)
    })();
    // FORWARD always answers, SILENT or not.
    let sub = match set {
        Ok(sub) => sub,
        Err(failure) => return status(&mut socket, false, Err(failure)).await,
    };
    status(&mut socket, false, Ok(())).await?;
    let mut closed = sub.session.closed.subscribe();
    tokio::select! {
        () = drain(&mut socket) => {}
        _ = closed.wait_for(|c| *c) => {}
    }
    let mut listen = sub.listen();
    if listen.forward.as_ref().is_some_and(|f| f.token == token) {
        listen.forward = None;
    }
    Ok(())
}

/// Reads and drops whatever the client sends until it closes.
async fn drain<R: AsyncRead + Unpin>(socket: &mut R) {
    let mut sink = tokio::io::sink();
    let _ = tokio::io::copy(socket, &mut sink).await;
}

/// One incoming stream to the FORWARD target.
async fn forward_one<B: Backend, N: Network>(
    bridge: Arc<Bridge<B, N>>,
    forward: Forward,
    incoming: IncomingStream<B::Stream>,
    closed: watch::Receiver<bool>,
) {
    let connected = tokio::time::timeout(FORWARD_CONNECT, bridge.net.connect(forward.to)).await;
    let mut socket = match connected {
        Ok(Ok(socket)) => socket,
        Ok(Err(e)) => return debug!(to = %forward.to, "FORWARD target refused: {e}"),
        Err(_) => return debug!(to = %forward.to, "FORWARD target did not accept in time"),
    };
    if !forward.silent {
        let line = peer_line(&incoming, forward.version);
        if socket.write_all(line.as_bytes()).await.is_err() {
            return;
        }
    }
    let _ = splice(socket, incoming.stream, closed).await;
}

/// Copies both ways until both directions are done, or the session ends.
async fn splice<A, S>(
    mut client: A,
    mut stream: S,
    mut closed: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    A: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    tokio::select! {
        copied = tokio::io::copy_bidirectional(&mut client, &mut stream) => copied.map(|_| ()),
        _ = closed.wait_for(|c| *c) => Ok(()),
    }
}
