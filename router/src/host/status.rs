//! The status page: what a person (HTML at `/`) or a script (JSON at `/status.json`)
//! wants to know about a running router, and `/ping?to=<destination>`, which sends one
//! message from the router's test destination and reports whether it was delivered.
//! Served on loopback by default.

use super::net::Network;
use crate::data::Hash;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// How long `/ping` waits for the delivery confirmation.
const PING_TIMEOUT: Duration = Duration::from_secs(30);

/// A snapshot, refreshed about once a second by the router task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Status {
    pub router: String,
    pub version: String,
    pub net_id: u8,
    pub floodfill: bool,
    pub published: String,
    /// The test destination's hash (base64), when the router runs one.
    pub destination: Option<String>,
    pub uptime_secs: u64,
    pub peers: PeerStatus,
    pub netdb: NetDbStatus,
    pub tunnels: TunnelStatus,
    pub tiers: TierStatus,
    pub bandwidth: BandwidthStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct PeerStatus {
    /// Established NTCP2 sessions.
    pub connected: usize,
    /// Sessions still in their handshake.
    pub connecting: usize,
    pub inbound: usize,
    pub outbound: usize,
    /// Established sessions' peers, base64 hashes, sorted.
    pub list: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct NetDbStatus {
    pub routers: usize,
    pub floodfills: usize,
    pub lease_sets: usize,
    pub lookups_succeeded: u64,
    pub lookups_failed: u64,
    /// Lookups and stores other routers sent us (floodfills see most).
    pub lookups_received: u64,
    pub stores_received: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct TunnelStatus {
    pub enabled: bool,
    /// Our exploratory tunnels, built and not expired.
    pub exploratory_inbound: usize,
    pub exploratory_outbound: usize,
    /// Tunnels of others we are a hop of.
    pub participating: usize,
    pub builds_succeeded: u64,
    pub builds_failed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct TierStatus {
    pub fast: usize,
    pub high_capacity: usize,
    pub not_failing: usize,
    pub failing: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct BandwidthStatus {
    /// Bytes per second over the last refresh.
    pub in_bps: u64,
    pub out_bps: u64,
    pub total_in: u64,
    pub total_out: u64,
}

/// What `/ping` answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct PingOutcome {
    /// The recipient's router confirmed the message (its DeliveryStatus came back).
    pub delivered: bool,
    /// From sending to the confirmation: a round trip through four tunnels.
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
}

impl PingOutcome {
    pub(super) fn failed(error: impl Into<String>) -> PingOutcome {
        PingOutcome {
            error: Some(error.into()),
            ..PingOutcome::default()
        }
    }
}

/// Sends pings from a running router's test destination: what `/ping` uses, for
/// programs and tests that hold the [`Host`](super::Host) rather than its status page.
#[derive(Debug, Clone)]
pub struct Pinger {
    requests: mpsc::Sender<PingRequest>,
}

impl Pinger {
    pub(super) fn new(requests: mpsc::Sender<PingRequest>) -> Pinger {
        Pinger { requests }
    }

    /// Sends one message to destination `to` and waits (up to 30 s) for the
    /// recipient's router to confirm it.
    pub async fn ping(&self, to: Hash) -> PingOutcome {
        ping(&self.requests, Ok(to)).await
    }
}

/// A `/ping` for the router task.
#[derive(Debug)]
pub(super) struct PingRequest {
    pub to: Hash,
    pub reply: oneshot::Sender<PingOutcome>,
}

impl Status {
    /// The page a person reads.
    pub fn to_html(&self) -> String {
        let mut rows = String::new();
        let mut row = |name: &str, value: String| {
            let _ = writeln!(
                rows,
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(name),
                escape(&value)
            );
        };
        row("router", self.router.clone());
        row("version", self.version.clone());
        row("network id", self.net_id.to_string());
        row("floodfill", yes_no(self.floodfill));
        row("published address", self.published.clone());
        if let Some(destination) = &self.destination {
            row("test destination", destination.clone());
        }
        row("uptime", format!("{} s", self.uptime_secs));
        let p = &self.peers;
        row(
            "peers",
            format!(
                "{} connected ({} in, {} out), {} connecting",
                p.connected, p.inbound, p.outbound, p.connecting
            ),
        );
        let n = &self.netdb;
        row(
            "netDb",
            format!(
                "{} routers ({} floodfills), {} LeaseSets",
                n.routers, n.floodfills, n.lease_sets
            ),
        );
        row(
            "lookups",
            format!(
                "{} found, {} failed; received {} lookups, {} stores",
                n.lookups_succeeded, n.lookups_failed, n.lookups_received, n.stores_received
            ),
        );
        let t = &self.tunnels;
        row(
            "tunnels",
            if t.enabled {
                format!(
                    "exploratory {} in / {} out; participating in {}; builds {} ok, {} failed",
                    t.exploratory_inbound,
                    t.exploratory_outbound,
                    t.participating,
                    t.builds_succeeded,
                    t.builds_failed
                )
            } else {
                "off".into()
            },
        );
        let tiers = &self.tiers;
        row(
            "tiers",
            format!(
                "fast {}, high capacity {}, not failing {}, failing {}",
                tiers.fast, tiers.high_capacity, tiers.not_failing, tiers.failing
            ),
        );
        let b = &self.bandwidth;
        row(
            "bandwidth",
            format!(
                "in {} B/s, out {} B/s; total in {} B, out {} B",
                b.in_bps, b.out_bps, b.total_in, b.total_out
            ),
        );
        let peers: String = p
            .list
            .iter()
            .map(|h| format!("<li><code>{}</code></li>", escape(h)))
            .collect();
        format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"refresh\" content=\"5\"><title>ramsons router</title>\
             <style>body{{font-family:sans-serif;margin:2em}}th{{text-align:left;padding-right:1em}}</style>\
             </head><body><h1>ramsons router</h1><table>\n{rows}</table>\
             <h2>Connected peers</h2><ul>{peers}</ul>\
             <p><a href=\"/status.json\">JSON</a></p></body></html>\n"
        )
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Serves the status page until the listener fails. HTTP is hyper's; each connection
/// may send its request head within 5 s and gets one answer (`Connection: close`, so
/// nothing waits on an idle browser).
pub(super) async fn serve<N: Network>(
    listener: N::Listener,
    status: watch::Receiver<Status>,
    pinger: Pinger,
) {
    loop {
        let Ok((stream, _)) = N::accept(&listener).await else {
            // Out of file descriptors and the like: back off, don't spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let status = status.clone();
        let pinger = pinger.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (status, pinger) = (status.clone(), pinger.clone());
                async move { Ok::<_, Infallible>(answer(&req, &status, &pinger).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .max_buf_size(MAX_HEAD)
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service);
            let _ = connection.await;
        });
    }
}

/// The longest request head read.
const MAX_HEAD: usize = 8192;

async fn answer(
    req: &Request<Incoming>,
    status: &watch::Receiver<Status>,
    pinger: &Pinger,
) -> Response<Full<Bytes>> {
    let (method, uri) = (req.method().as_str(), req.uri());
    let (code, content_type, body) = match ping_target(method, uri.path(), uri.query()) {
        Some(to) => {
            let outcome = ping(&pinger.requests, to).await;
            let body = serde_json::to_string_pretty(&outcome).unwrap_or_default();
            (StatusCode::OK, "application/json", body)
        }
        None => respond(method, uri.path(), &status.borrow()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = code;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The `to` of a `GET /ping?to=...` request: `Some(Err)` when it is not a hash.
fn ping_target(method: &str, path: &str, query: Option<&str>) -> Option<Result<Hash, String>> {
    if method != "GET" || path != "/ping" {
        return None;
    }
    let to = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("to="));
    Some(match to {
        Some(to) => Hash::from_base64(&percent_decode(to))
            .map_err(|e| format!("`to` is not a base64 destination hash: {e}")),
        None => Err("usage: /ping?to=<base64 destination hash>".into()),
    })
}

/// Undoes the URL escapes a client may apply to base64's `=` (and, rarely, `~`).
fn percent_decode(s: &str) -> String {
    s.replace("%3D", "=")
        .replace("%3d", "=")
        .replace("%7E", "~")
        .replace("%7e", "~")
}

async fn ping(pings: &mpsc::Sender<PingRequest>, to: Result<Hash, String>) -> PingOutcome {
    let to = match to {
        Ok(to) => to,
        Err(e) => return PingOutcome::failed(e),
    };
    let (reply, outcome) = oneshot::channel();
    if pings.send(PingRequest { to, reply }).await.is_err() {
        return PingOutcome::failed("the router is shutting down");
    }
    match tokio::time::timeout(PING_TIMEOUT, outcome).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => PingOutcome::failed("the router is shutting down"),
        Err(_) => PingOutcome::failed(format!(
            "no delivery confirmation within {} s",
            PING_TIMEOUT.as_secs()
        )),
    }
}

/// The answer to a request for `path`: status, content type, body.
fn respond(method: &str, path: &str, status: &Status) -> (StatusCode, &'static str, String) {
    match (method, path) {
        ("GET", "/") | ("GET", "/index.html") => {
            (StatusCode::OK, "text/html; charset=utf-8", status.to_html())
        }
        ("GET", "/status.json") => (
            StatusCode::OK,
            "application/json",
            serde_json::to_string_pretty(status).unwrap_or_default(),
        ),
        ("GET", _) => (StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_html_and_errors() {
        let status = Status {
            router: "abc<def>".into(),
            ..Status::default()
        };
        let (code, kind, json) = respond("GET", "/status.json", &status);
        assert_eq!((code, kind), (StatusCode::OK, "application/json"));
        let back: Status = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(back, status);

        let (_, _, html) = respond("GET", "/", &status);
        assert!(html.contains("abc&lt;def&gt;"), "unescaped: {html}");

        assert_eq!(respond("GET", "/nope", &status).0, StatusCode::NOT_FOUND);
        assert_eq!(
            respond("POST", "/", &status).0,
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn ping_targets() {
        let hash = Hash::from([7; 32]);
        let query = format!("to={}", hash.to_base64());
        assert_eq!(ping_target("GET", "/ping", Some(&query)), Some(Ok(hash)));
        let escaped = query.replace('=', "%3D").replacen("to%3D", "to=", 1);
        assert_eq!(ping_target("GET", "/ping", Some(&escaped)), Some(Ok(hash)));
        assert!(matches!(ping_target("GET", "/ping", None), Some(Err(_))));
        assert!(matches!(
            ping_target("GET", "/ping", Some("to=zz")),
            Some(Err(_))
        ));
        assert_eq!(ping_target("GET", "/status.json", None), None);
    }

    /// The whole server over a socket: hyper answers, and closes after one answer.
    #[tokio::test]
    async fn serves_over_a_socket() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (_tx, status) = watch::channel(Status::default());
        let (pings, _) = mpsc::channel(1);
        let pinger = Pinger::new(pings);
        tokio::spawn(serve::<super::super::Tokio>(listener, status, pinger));
        let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
        socket
            .write_all(b"GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("send");
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.expect("read");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer
            .to_ascii_lowercase()
            .contains("cache-control: no-store"));
    }
}
