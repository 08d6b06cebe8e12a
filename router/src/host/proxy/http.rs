//! The HTTP proxy: a browser's request for `http://name.i2p/...` (or a CONNECT to
//! `name.i2p:443`) becomes a stream from the proxy's destination to that site.
//!
//! Where to go is read by [`RequestTarget::parse`] (pure, property-tested and fuzzed);
//! the request then goes out with the identifying headers stripped
//! ([`super::headers`]) and `Host` set to the site's name, over hyper's client on the
//! stream. Failures are pages that say what went wrong ([`super::pages`]). A clearnet
//! host gets an error page: there is no outproxy.

use super::headers::filter_request;
use super::pages::{self, Problem};
use super::{Body, MAX_HEAD};
use crate::host::apps::I2pStream;
use crate::host::sam::keys::parse_destination;
use crate::host::tunnels::client::{open_stream, ClientContext, OpenError};
use crate::host::tunnels::names::NameError;
use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tracing::debug;

/// A browser must send its request head within this.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// A site must answer a request within this once the stream is open.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(120);
/// The query parameter of address helper links.
const HELPER: &str = "i2paddresshelper";

/// Where a request goes, as the request says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTarget {
    /// The host, as written (no port).
    pub host: String,
    pub port: u16,
    /// The path and query to send (origin form), the helper parameter removed.
    pub path: String,
    /// An address helper's destination (base64), when the link carries one.
    pub helper: Option<String>,
    pub connect: bool,
}

impl RequestTarget {
    /// Reads the target of a request from its method, its request target and its
    /// Host header. Never panics.
    pub fn parse(method: &str, uri: &str, host: Option<&str>) -> Result<RequestTarget, Problem> {
        let bad = |why: &str| Problem::BadRequest(why.to_owned());
        let uri: Uri = uri
            .parse()
            .map_err(|_| bad("the request target is not a URI"))?;
        if method.eq_ignore_ascii_case("CONNECT") {
            let authority = uri
                .authority()
                .ok_or_else(|| bad("CONNECT needs host:port"))?;
            let port = authority
                .port_u16()
                .ok_or_else(|| bad("CONNECT needs a port"))?;
            return Ok(RequestTarget {
                host: authority.host().to_ascii_lowercase(),
                port,
                path: String::new(),
                helper: None,
                connect: true,
            });
        }
        match uri.scheme_str() {
            None | Some("http") => {}
            Some(_) => {
                return Err(bad(
                    "only http:// URLs go through this proxy (https: use CONNECT)",
                ))
            }
        }
        // Absolute form from a browser; origin form with a Host header from a client
        // that treats the proxy as the server.
        let (name, port) = match uri.authority() {
            Some(a) => (a.host().to_ascii_lowercase(), a.port_u16().unwrap_or(80)),
            None => {
                let host = host.ok_or_else(|| bad("no host in the URL or the Host header"))?;
                let authority: http::uri::Authority = host
                    .parse()
                    .map_err(|_| bad("the Host header is not a host"))?;
                (
                    authority.host().to_ascii_lowercase(),
                    authority.port_u16().unwrap_or(80),
                )
            }
        };
        let (path, helper) = strip_helper(uri.path(), uri.query());
        // The asterisk form (`OPTIONS *`) parses as a URI but is no path to forward.
        if !path.starts_with('/') {
            return Err(bad("the request target is not a path"));
        }
        Ok(RequestTarget {
            host: name,
            port,
            path,
            helper,
            connect: false,
        })
    }
}

/// The path and query without the address helper parameter, and its value.
fn strip_helper(path: &str, query: Option<&str>) -> (String, Option<String>) {
    let path = if path.is_empty() { "/" } else { path };
    let Some(query) = query else {
        return (path.to_owned(), None);
    };
    let mut helper = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((HELPER, value)) => {
                helper = Some(value.to_owned());
                false
            }
            _ => true,
        })
        .collect();
    match kept.is_empty() {
        true => (path.to_owned(), helper),
        false => (format!("{path}?{}", kept.join("&")), helper),
    }
}

/// Serves one browser connection (keep-alive: many requests, each to any site).
pub async fn serve(socket: TcpStream, ctx: Arc<ClientContext>) {
    let service = hyper::service::service_fn(move |req| handle(req, ctx.clone()));
    let connection = hyper::server::conn::http1::Builder::new()
        .max_buf_size(MAX_HEAD)
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .serve_connection(TokioIo::new(socket), service)
        .with_upgrades();
    if let Err(e) = connection.await {
        debug!("proxy connection: {e}");
    }
}

async fn handle(
    req: Request<Incoming>,
    ctx: Arc<ClientContext>,
) -> Result<Response<Body>, Infallible> {
    let host_header = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let uri = req.uri().to_string();
    let target = match RequestTarget::parse(req.method().as_str(), &uri, host_header) {
        Ok(t) => t,
        Err(problem) => return Ok(problem.response()),
    };
    match fetch(req, &target, &ctx).await {
        Ok(response) => Ok(response),
        Err(problem) => Ok(problem.response()),
    }
}

async fn fetch(
    req: Request<Incoming>,
    target: &RequestTarget,
    ctx: &ClientContext,
) -> Result<Response<Body>, Problem> {
    if let Some(helper) = &target.helper {
        return helper_page(target, helper);
    }
    let opened = open_stream(&ctx.backend, &ctx.session, &target.host, target.port).await;
    let stream = opened.map_err(|e| open_problem(e, ctx))?;
    if target.connect {
        tokio::spawn(tunnel(req, stream));
        return Ok(Response::new(empty()));
    }
    forward(req, stream, target).await
}

/// After a CONNECT: the browser's bytes and the stream's, both ways.
async fn tunnel(req: Request<Incoming>, mut stream: I2pStream) {
    match hyper::upgrade::on(req).await {
        Ok(upgraded) => {
            let mut upgraded = TokioIo::new(upgraded);
            let _ = tokio::io::copy_bidirectional(&mut upgraded, &mut stream).await;
        }
        Err(e) => debug!("CONNECT upgrade failed: {e}"),
    }
}

/// Sends the filtered request over `stream` and passes the answer back.
async fn forward(
    req: Request<Incoming>,
    stream: I2pStream,
    target: &RequestTarget,
) -> Result<Response<Body>, Problem> {
    let bad = |why: String| Problem::BadGateway {
        host: target.host.clone(),
        why,
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| bad(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            debug!("stream to the site: {e}");
        }
    });
    let (mut parts, body) = req.into_parts();
    parts.uri = target
        .path
        .parse()
        .map_err(|_| Problem::BadRequest("bad path".into()))?;
    parts.version = http::Version::HTTP_11;
    // The name the server knows itself by, with the port only when it is not 80.
    let host = match target.port {
        80 => target.host.to_ascii_lowercase(),
        port => format!("{}:{port}", target.host.to_ascii_lowercase()),
    };
    filter_request(&mut parts.headers, &host);
    let sent = sender.send_request(Request::from_parts(parts, body));
    let response = tokio::time::timeout(RESPONSE_TIMEOUT, sent)
        .await
        .map_err(|_| Problem::TimedOut(target.host.clone()))?
        .map_err(|e| bad(e.to_string()))?;
    Ok(response.map(|body| body.boxed()))
}

fn helper_page(target: &RequestTarget, helper: &str) -> Result<Response<Body>, Problem> {
    let destination = parse_destination(helper).map_err(|e| {
        Problem::BadRequest(format!("the address helper is not a destination: {e}"))
    })?;
    let path = target.path.clone();
    Ok(pages::address_helper(
        &target.host,
        &destination.to_b32_address(),
        helper,
        &path,
    ))
}

fn open_problem(e: OpenError, ctx: &ClientContext) -> Problem {
    let e = match e {
        OpenError::Name(e) => e,
        OpenError::NoLeaseSet(host) => return Problem::NoLeaseSet(host),
        OpenError::Unreachable { host, why } => return Problem::Unreachable { host, why },
        OpenError::TimedOut(host) => return Problem::TimedOut(host),
    };
    match e {
        NameError::Invalid(why) => Problem::BadRequest(why),
        NameError::Unknown(host) => Problem::UnknownName {
            host,
            jump: ctx.jump.clone(),
        },
        NameError::B33(host) => Problem::B33(host),
        NameError::Clearnet(host) => Problem::Clearnet(host),
    }
}

fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
