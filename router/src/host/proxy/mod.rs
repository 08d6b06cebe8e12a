//! The proxies and the HTTP side of server tunnels.
//!
//! - [`http`]: the HTTP proxy (127.0.0.1:4444 by default): `.i2p` names, b32
//!   addresses, CONNECT, address helpers, error pages; no outproxy.
//! - [`server`]: an `http` server tunnel's requests to its local web server.
//! - [`headers`]: which request headers identify the user, and what replaces them.
//! - [`pages`]: the proxy's own pages (errors, address helper confirmation).
//! - [`socks`]: the SOCKS 4a/5 proxy (127.0.0.1:4447 by default) for `.i2p` names.
//!
//! HTTP is parsed by `hyper`, not by hand: requests from browsers are the field's
//! problem, with its limits on header size, its keep-alive and its upgrades (CONNECT).

pub mod headers;
pub mod http;
pub mod pages;
pub mod server;
pub mod socks;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;

/// The body of every response the proxies send: a page of ours, or a server's body.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// The largest request head a browser may send (hyper's read buffer).
pub const MAX_HEAD: usize = 64 * 1024;
