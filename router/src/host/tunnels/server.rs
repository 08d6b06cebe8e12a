//! The server side: streams that arrive for a destination, forwarded to a local TCP
//! service. An `http` server tunnel speaks HTTP to both sides
//! ([`crate::host::proxy::server`]): it adds who is asking (`X-I2P-DestHash`,
//! `X-I2P-DestB64`, `X-I2P-DestB32`) and the Host the service expects. An `irc`
//! server tunnel first names the visitor in a WEBIRC line ([`super::irc`]).

use super::irc;
use super::spec::{TunnelKind, TunnelSpec};
use crate::host::apps::I2pStream;
use crate::host::proxy;
use crate::host::sam::backend::IncomingStream;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tracing::debug;

/// How long the local service gets to accept a connection.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// One server tunnel.
#[derive(Debug)]
pub struct Server {
    pub spec: Arc<TunnelSpec>,
    limit: Arc<tokio::sync::Semaphore>,
}

impl Server {
    pub fn new(spec: Arc<TunnelSpec>) -> Server {
        let limit = Arc::new(tokio::sync::Semaphore::new(spec.max_connections));
        Server { spec, limit }
    }

    /// Starts forwarding `incoming`, unless its peer is not on the access list or the
    /// tunnel is at its connection limit (the stream is then closed).
    pub fn accept(&self, incoming: IncomingStream<I2pStream>, tasks: &mut JoinSet<()>) {
        let peer = incoming.peer.hash();
        let spec = self.spec.clone();
        if !spec.access_list.is_empty() && !spec.access_list.contains(&peer) {
            debug!(tunnel = %spec.name, peer = %peer.to_base32(), "not on the access list");
            return;
        }
        let Ok(permit) = self.limit.clone().try_acquire_owned() else {
            debug!(tunnel = %spec.name, "connection limit reached: stream closed");
            return;
        };
        tasks.spawn(async move {
            forward(incoming, &spec).await;
            drop(permit);
        });
    }
}

async fn forward(incoming: IncomingStream<I2pStream>, spec: &TunnelSpec) {
    let Some((host, port)) = &spec.forward else {
        return;
    };
    let connect = TcpStream::connect((host.as_str(), *port));
    let service = match tokio::time::timeout(FORWARD_TIMEOUT, connect).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            debug!(tunnel = %spec.name, "cannot reach {host}:{port}: {e}");
            return;
        }
        Err(_) => {
            debug!(tunnel = %spec.name, "{host}:{port} did not accept in time");
            return;
        }
    };
    if spec.kind == TunnelKind::Http {
        proxy::server::serve(incoming, service, spec).await;
        return;
    }
    let mut stream = incoming.stream;
    let mut service = service;
    if spec.kind == TunnelKind::Irc {
        if let Some(password) = &spec.webirc_password {
            let line = irc::webirc(password, &incoming.peer.to_b32_address());
            if service
                .write_all(format!("{line}\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    }
    if let Err(e) = tokio::io::copy_bidirectional(&mut stream, &mut service).await {
        debug!(tunnel = %spec.name, "connection ended: {e}");
    }
}
