//! The status page: what a person (HTML at `/`) or a script (JSON at `/status.json`)
//! wants to know about a running router, and `/ping?to=<destination>`, which sends one
//! message from the router's test destination and reports whether it was delivered.
//! Served on loopback by default.

use super::net::Network;
use crate::data::Hash;
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// Serves the status page until the listener fails. Each request gets one answer and
/// the connection closes (HTTP/1.0 style: no keep-alive, nothing to time out later).
pub(super) async fn serve<N: Network>(
    listener: N::Listener,
    status: watch::Receiver<Status>,
    pinger: Pinger,
) {
    loop {
        let Ok((mut stream, _)) = N::accept(&listener).await else {
            // Out of file descriptors and the like: back off, don't spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let status = status.clone();
        let pinger = pinger.clone();
        tokio::spawn(async move {
            let request =
                tokio::time::timeout(Duration::from_secs(5), read_head(&mut stream)).await;
            let Ok(Some(head)) = request else {
                return;
            };
            let response = match ping_target(&head) {
                Some(to) => {
                    let outcome = ping(&pinger.requests, to).await;
                    let body = serde_json::to_string_pretty(&outcome).unwrap_or_default();
                    http_response("200 OK", "application/json", &body)
                }
                None => respond(&head, &status.borrow()),
            };
            let _ = stream.write_all(&response).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// The `to` of a `GET /ping?to=...` request: `Some(Err)` when it is not a hash.
fn ping_target(head: &str) -> Option<Result<Hash, String>> {
    let mut words = head.split_whitespace();
    let (method, target) = (words.next()?, words.next()?);
    let query = target.strip_prefix("/ping")?;
    if method != "GET" {
        return None;
    }
    let to = query
        .strip_prefix('?')
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

/// Reads a request head (up to the blank line, at most 8 KiB).
async fn read_head<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > 8192 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(head).ok()
}

/// The response to a request head.
fn respond(head: &str, status: &Status) -> Vec<u8> {
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (code, content_type, body) = match (method, path) {
        ("GET", "/") | ("GET", "/index.html") => {
            ("200 OK", "text/html; charset=utf-8", status.to_html())
        }
        ("GET", "/status.json") => (
            "200 OK",
            "application/json",
            serde_json::to_string_pretty(status).unwrap_or_default(),
        ),
        ("GET", _) => ("404 Not Found", "text/plain", "not found\n".into()),
        _ => ("405 Method Not Allowed", "text/plain", "GET only\n".into()),
    };
    http_response(code, content_type, &body)
}

fn http_response(code: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {code}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
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
        let json = String::from_utf8(respond("GET /status.json HTTP/1.1\r\n\r\n", &status))
            .expect("utf-8");
        assert!(json.starts_with("HTTP/1.1 200 OK"));
        let body = json.split("\r\n\r\n").nth(1).expect("body");
        let back: Status = serde_json::from_str(body).expect("valid JSON");
        assert_eq!(back, status);

        let html = String::from_utf8(respond("GET / HTTP/1.1\r\n\r\n", &status)).expect("utf-8");
        assert!(html.contains("abc&lt;def&gt;"), "unescaped: {html}");

        let missing =
            String::from_utf8(respond("GET /nope HTTP/1.1\r\n\r\n", &status)).expect("utf-8");
        assert!(missing.starts_with("HTTP/1.1 404"));
        let post = String::from_utf8(respond("POST / HTTP/1.1\r\n\r\n", &status)).expect("utf-8");
        assert!(post.starts_with("HTTP/1.1 405"));
    }

    #[test]
    fn ping_targets() {
        let hash = Hash::from([7; 32]);
        let head = format!("GET /ping?to={} HTTP/1.1\r\n\r\n", hash.to_base64());
        assert_eq!(ping_target(&head), Some(Ok(hash)));
        let escaped = head.replace('=', "%3D").replacen("to%3D", "to=", 1);
        assert_eq!(ping_target(&escaped), Some(Ok(hash)));
        assert!(matches!(
            ping_target("GET /ping HTTP/1.1\r\n\r\n"),
            Some(Err(_))
        ));
        assert!(matches!(
            ping_target("GET /ping?to=zz HTTP/1.1\r\n\r\n"),
            Some(Err(_))
        ));
        assert_eq!(ping_target("GET /status.json HTTP/1.1\r\n\r\n"), None);
    }
}
