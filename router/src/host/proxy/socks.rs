//! The SOCKS 4a and 5 proxy: CONNECT to `.i2p` names (and b32 addresses) only. There
//! is no outproxy: IP addresses and other names are refused with the protocol's own
//! "not allowed" answer. No authentication (the proxy listens on loopback).
//!
//! The parsers ([`parse_greeting`], [`parse_request`]) are sans-IO: they take what has
//! arrived and say "need more", "done after n bytes" or why it is not SOCKS. The whole
//! handshake must fit in [`MAX_HANDSHAKE`] bytes and arrive within [`HANDSHAKE_TIMEOUT`].

use crate::host::tunnels::client::{open_stream, ClientContext, OpenError};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::debug;

/// The longest handshake: a SOCKS 4a request with a 255-byte user id and host name.
pub const MAX_HANDSHAKE: usize = 1024;
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a client asks to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

/// A CONNECT (or another command, which is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub command: u8,
    pub host: Host,
    pub port: u16,
}

/// The first message of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    /// SOCKS 4 or 4a: the request itself.
    V4(Request),
    /// SOCKS 5: the authentication methods offered.
    V5 { methods: Vec<u8> },
}

/// Bytes that are not SOCKS as we speak it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocksError {
    #[error("SOCKS version {0} is not 4 or 5")]
    Version(u8),
    #[error("{0}")]
    Malformed(&'static str),
}

/// `Ok(None)`: more bytes needed; `Ok(Some((value, used)))`: parsed from `used` bytes.
pub type Parsed<T> = Result<Option<(T, usize)>, SocksError>;

const CONNECT: u8 = 1;

/// Reads a client's first message.
pub fn parse_greeting(buf: &[u8]) -> Parsed<Greeting> {
    match buf.first() {
        None => Ok(None),
        Some(4) => parse_v4(buf).map(|p| p.map(|(r, n)| (Greeting::V4(r), n))),
        Some(5) => {
            let Some(&count) = buf.get(1) else {
                return Ok(None);
            };
            let end = 2 + usize::from(count);
            if count == 0 {
                return Err(SocksError::Malformed("no authentication methods offered"));
            }
            Ok(buf.get(2..end).map(|m| {
                (
                    Greeting::V5 {
                        methods: m.to_vec(),
                    },
                    end,
                )
            }))
        }
        Some(&v) => Err(SocksError::Version(v)),
    }
}

/// Text up to a NUL at or after `from`: the string and where the next field starts.
fn nul_terminated(buf: &[u8], from: usize) -> Result<Option<(&[u8], usize)>, SocksError> {
    let rest = buf.get(from..).unwrap_or_default();
    match rest.iter().position(|b| *b == 0) {
        Some(len) if len > 255 => Err(SocksError::Malformed("a field longer than 255 bytes")),
        Some(len) => Ok(Some((&rest[..len], from + len + 1))),
        None if rest.len() > 255 => Err(SocksError::Malformed("a field longer than 255 bytes")),
        None => Ok(None),
    }
}

/// SOCKS 4: VN CD DSTPORT(2) DSTIP(4) USERID NUL; 4a: DSTIP 0.0.0.x (x != 0), then
/// the host name NUL.
fn parse_v4(buf: &[u8]) -> Parsed<Request> {
    let Some(head) = buf.get(..8) else {
        return Ok(None);
    };
    let port = u16::from_be_bytes([head[2], head[3]]);
    let ip = [head[4], head[5], head[6], head[7]];
    let Some((_user, after_user)) = nul_terminated(buf, 8)? else {
        return Ok(None);
    };
    let (host, used) = if ip[..3] == [0, 0, 0] && ip[3] != 0 {
        let Some((name, end)) = nul_terminated(buf, after_user)? else {
            return Ok(None);
        };
        (Host::Name(name_text(name)?), end)
    } else {
        (Host::Ip(IpAddr::from(ip)), after_user)
    };
    let request = Request {
        command: head[1],
        host,
        port,
    };
    Ok(Some((request, used)))
}

fn name_text(bytes: &[u8]) -> Result<String, SocksError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| SocksError::Malformed("a host name that is not text"))?;
    if text.is_empty() {
        return Err(SocksError::Malformed("an empty host name"));
    }
    Ok(text.to_owned())
}

/// SOCKS 5: VER CMD RSV ATYP DST.ADDR DST.PORT.
pub fn parse_request(buf: &[u8]) -> Parsed<Request> {
    let Some(head) = buf.get(..4) else {
        return Ok(None);
    };
    if head[0] != 5 {
        return Err(SocksError::Version(head[0]));
    }
    let (host, at) = match head[3] {
        1 => match buf.get(4..8) {
            Some(ip) => (Host::Ip(IpAddr::from([ip[0], ip[1], ip[2], ip[3]])), 8),
            None => return Ok(None),
        },
        4 => match buf.get(4..20).and_then(|ip| <[u8; 16]>::try_from(ip).ok()) {
            Some(ip) => (Host::Ip(IpAddr::from(ip)), 20),
            None => return Ok(None),
        },
        3 => {
            let Some(&len) = buf.get(4) else {
                return Ok(None);
            };
            let end = 5 + usize::from(len);
            match buf.get(5..end) {
                Some(name) => (Host::Name(name_text(name)?), end),
                None => return Ok(None),
            }
        }
        _ => return Err(SocksError::Malformed("an unknown address type")),
    };
    let Some(port) = buf.get(at..at + 2) else {
        return Ok(None);
    };
    let request = Request {
        command: head[1],
        host,
        port: u16::from_be_bytes([port[0], port[1]]),
    };
    Ok(Some((request, at + 2)))
}

/// SOCKS 5 reply codes.
const SUCCEEDED: u8 = 0;
const NOT_ALLOWED: u8 = 2;
const HOST_UNREACHABLE: u8 = 4;
const TTL_EXPIRED: u8 = 6;
const COMMAND_NOT_SUPPORTED: u8 = 7;

fn reply(version: u8, code: u8) -> Vec<u8> {
    match version {
        // SOCKS 4: 0x5a granted, 0x5b rejected or failed.
        4 => vec![
            0,
            if code == SUCCEEDED { 0x5a } else { 0x5b },
            0,
            0,
            0,
            0,
            0,
            0,
        ],
        _ => vec![5, code, 0, 1, 0, 0, 0, 0, 0, 0],
    }
}

/// Reads until `parse` has a message, within the handshake's limits.
async fn read_message<T>(
    socket: &mut TcpStream,
    buf: &mut Vec<u8>,
    parse: impl Fn(&[u8]) -> Parsed<T>,
) -> Option<T> {
    loop {
        match parse(buf) {
            Ok(Some((value, used))) => {
                buf.drain(..used);
                return Some(value);
            }
            Ok(None) if buf.len() < MAX_HANDSHAKE => {}
            Ok(None) | Err(_) => return None,
        }
        let mut chunk = [0u8; 512];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The handshake: the request, and the version to answer in.
async fn handshake(socket: &mut TcpStream) -> Option<(u8, Request)> {
    let mut buf = Vec::new();
    match read_message(socket, &mut buf, parse_greeting).await? {
        Greeting::V4(request) => Some((4, request)),
        Greeting::V5 { methods } => {
            // Only "no authentication" (0); 0xff: none acceptable.
            let method = if methods.contains(&0) { 0 } else { 0xff };
            socket.write_all(&[5, method]).await.ok()?;
            if method != 0 {
                return None;
            }
            let request = read_message(socket, &mut buf, parse_request).await?;
            Some((5, request))
        }
    }
}

/// Serves one client: handshake, stream, then bytes both ways.
pub async fn serve(mut socket: TcpStream, ctx: Arc<ClientContext>) {
    let Ok(Some((version, request))) =
        tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&mut socket)).await
    else {
        return;
    };
    let refuse = |code| reply(version, code);
    if request.command != CONNECT {
        let _ = socket.write_all(&refuse(COMMAND_NOT_SUPPORTED)).await;
        return;
    }
    let Host::Name(name) = &request.host else {
        let _ = socket.write_all(&refuse(NOT_ALLOWED)).await;
        return;
    };
    let code = match open_stream(&ctx.backend, &ctx.session, name, request.port).await {
        Ok(mut stream) => {
            if socket.write_all(&reply(version, SUCCEEDED)).await.is_ok() {
                let _ = tokio::io::copy_bidirectional(&mut socket, &mut stream).await;
            }
            return;
        }
        Err(OpenError::Name(e)) => {
            debug!(tunnel = %ctx.spec.name, "SOCKS: {e}");
            NOT_ALLOWED
        }
        Err(OpenError::TimedOut(_)) => TTL_EXPIRED,
        Err(OpenError::NoLeaseSet(_) | OpenError::Unreachable { .. }) => HOST_UNREACHABLE,
    };
    let _ = socket.write_all(&refuse(code)).await;
}

#[cfg(test)]
#[path = "socks_tests.rs"]
mod tests;
