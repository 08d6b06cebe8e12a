//! An `http` server tunnel: requests that arrive over I2P go to the local web server
//! with `Host` set to what it expects (`hostoverride`, else the configured `host`, with
//! the port unless 80) and the asking destination in `X-I2P-DestHash` (base64 hash),
//! `X-I2P-DestB64` (full destination) and `X-I2P-DestB32` (b32 address), so that a
//! site can tell its visitors apart without a login. Such headers sent by the visitor
//! are removed first: only ours reach the server.

use super::MAX_HEAD;
use crate::data::Destination;
use crate::host::apps::I2pStream;
use crate::host::sam::backend::IncomingStream;
use crate::host::tunnels::TunnelSpec;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tracing::debug;

/// A visitor must send each request head within this.
const HEAD_TIMEOUT: Duration = Duration::from_secs(60);

const DEST_HASH: &str = "x-i2p-desthash";
const DEST_B64: &str = "x-i2p-destb64";
const DEST_B32: &str = "x-i2p-destb32";

/// The headers of a request to the local server: the visitor's X-I2P-* dropped,
/// ours added, Host rewritten.
pub fn rewrite(headers: &mut HeaderMap, peer: &Destination, host: &str) {
    for name in [DEST_HASH, DEST_B64, DEST_B32] {
        headers.remove(name);
    }
    let values = [
        (DEST_HASH, peer.hash().to_base64()),
        (DEST_B64, peer.to_base64()),
        (DEST_B32, peer.to_b32_address()),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    if let Ok(value) = HeaderValue::from_str(host) {
        headers.insert(http::header::HOST, value);
    }
}

/// The Host header the local server gets.
fn host_of(spec: &TunnelSpec) -> String {
    if let Some(host) = &spec.host_override {
        return host.clone();
    }
    match &spec.forward {
        Some((host, 80)) => host.clone(),
        Some((host, port)) => format!("{host}:{port}"),
        None => String::new(),
    }
}

/// Serves the requests of one incoming stream over one connection to the server.
pub async fn serve(incoming: IncomingStream<I2pStream>, service: TcpStream, spec: &TunnelSpec) {
    let upstream = match hyper::client::conn::http1::handshake(TokioIo::new(service)).await {
        Ok((sender, connection)) => {
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Arc::new(Mutex::new(sender))
        }
        Err(e) => {
            debug!(tunnel = %spec.name, "local server: {e}");
            return;
        }
    };
    let peer: Arc<Destination> = Arc::from(incoming.peer);
    let host = Arc::new(host_of(spec));
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let (upstream, peer, host) = (upstream.clone(), peer.clone(), host.clone());
        async move {
            rewrite(req.headers_mut(), &peer, &host);
            // One request at a time on the server connection, as HTTP/1.1 has it.
            let mut sender = upstream.lock().await;
            sender.ready().await?;
            let response = sender.send_request(req).await?;
            Ok::<_, hyper::Error>(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .max_buf_size(MAX_HEAD)
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .serve_connection(TokioIo::new(incoming.stream), service);
    if let Err(e) = connection.await {
        debug!(tunnel = %spec.name, "http server tunnel: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DestinationKeys;
    use rand::SeedableRng;

    #[test]
    fn visitors_cannot_spoof_who_they_are() {
        let keys = DestinationKeys::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(4));
        let mut h = HeaderMap::new();
        h.insert(DEST_B32, HeaderValue::from_static("someone-else.b32.i2p"));
        h.insert("host", HeaderValue::from_static("site.i2p"));
        rewrite(&mut h, keys.destination(), "127.0.0.1:8080");
        assert_eq!(h[DEST_B32], keys.destination().to_b32_address().as_str());
        assert_eq!(h[DEST_HASH], keys.hash().to_base64().as_str());
        assert_eq!(h[DEST_B64], keys.destination().to_base64().as_str());
        assert_eq!(h["host"], "127.0.0.1:8080");
        assert_eq!(h.get_all(DEST_B32).iter().count(), 1);
    }
}
