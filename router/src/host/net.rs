//! The sockets the driver uses, behind a trait so that the same driver runs on the
//! operating system's network (tokio) and on turmoil's simulated one in tests.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};

/// Listening and dialling TCP, as tokio and turmoil both offer it.
pub trait Network: Clone + Send + Sync + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    type Listener: Send + Sync + 'static;

    fn bind(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send;

    fn connect(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// The address a listener ended up on (port 0 binds a free port).
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;
}

/// The operating system's network.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl Network for Tokio {
    type Stream = tokio::net::TcpStream;
    type Listener = tokio::net::TcpListener;

    async fn bind(&self, addr: SocketAddr) -> io::Result<Self::Listener> {
        tokio::net::TcpListener::bind(addr).await
    }

    async fn accept(listener: &Self::Listener) -> io::Result<(Self::Stream, SocketAddr)> {
        let (stream, peer) = listener.accept().await?;
        // NTCP2 frames are written whole; Nagle would only add latency. (A peer that
        // already reset the connection makes this fail; reading will tell.)
        let _ = stream.set_nodelay(true);
        Ok((stream, peer))
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<Self::Stream> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }
}
