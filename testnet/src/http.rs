//! A minimal HTTP GET client for the routers' status pages (`/status.json`, `/ping`).
//! The status server answers one request per connection and closes it, so a response is
//! everything up to the end of the stream.

use ramsons_router::host::status::PingOutcome;
use ramsons_router::host::Status;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// The router waits up to 30 s for a ping's delivery confirmation; a little more here.
pub const PING_TIMEOUT: Duration = Duration::from_secs(40);

/// `GET path` on `addr`: the status code and the body.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let io = |e: std::io::Error| format!("{addr}: {e}");
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(io)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{addr}: incomplete HTTP response"))?;
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{addr}: not an HTTP response"))?;
    Ok((code, body.to_owned()))
}

/// The router's `/status.json`.
pub fn status(addr: SocketAddr) -> Result<Status, String> {
    match get(addr, "/status.json", STATUS_TIMEOUT)? {
        (200, body) => serde_json::from_str(&body)
            .map_err(|e| format!("{addr}/status.json is not a router status: {e}")),
        (code, _) => Err(format!("{addr}/status.json answered HTTP {code}")),
    }
}

/// What `/ping` said.
#[derive(Debug, Clone, PartialEq)]
pub enum Ping {
    /// The router has no `/ping` (an older build, or not a ramsons router).
    Unsupported,
    Answered(PingOutcome),
}

/// Asks the router at `addr` to send one message from its test destination to `to` (a
/// base64 destination hash) and waits for the outcome.
pub fn ping(addr: SocketAddr, to: &str) -> Result<Ping, String> {
    // I2P base64 uses `-` and `~`; only the padding needs escaping in a query.
    let path = format!("/ping?to={}", to.replace('=', "%3D"));
    match get(addr, &path, PING_TIMEOUT)? {
        (200, body) => serde_json::from_str(&body)
            .map(Ping::Answered)
            .map_err(|e| format!("{addr}/ping answered something else than a ping outcome: {e}")),
        (404, _) => Ok(Ping::Unsupported),
        (code, _) => Err(format!("{addr}/ping answered HTTP {code}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Serves one canned response; returns its address and the request it received.
    fn serve_once(response: &'static str) -> (SocketAddr, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            // The whole request head before answering: closing on a half-read request
            // resets the connection under the client's feet.
            let mut request = Vec::new();
            let mut chunk = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut chunk).expect("read");
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&chunk[..n]);
            }
            stream.write_all(response.as_bytes()).expect("write");
            String::from_utf8_lossy(&request).into_owned()
        });
        (addr, handle)
    }

    #[test]
    fn pings_escape_padding_and_read_outcomes() {
        let (addr, request) = serve_once(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n\
             {\"delivered\": true, \"latency_ms\": 412, \"error\": null}",
        );
        let outcome = ping(addr, "ab~-cd=").expect("answered");
        let expected = PingOutcome {
            delivered: true,
            latency_ms: Some(412),
            error: None,
        };
        assert_eq!(outcome, Ping::Answered(expected));
        let request = request.join().expect("server");
        assert!(
            request.starts_with("GET /ping?to=ab~-cd%3D HTTP/1.1\r\n"),
            "{request}"
        );

        let (addr, _) = serve_once("HTTP/1.1 404 Not Found\r\n\r\nnot found\n");
        assert_eq!(ping(addr, "x"), Ok(Ping::Unsupported));
    }

    #[test]
    fn status_errors_say_where() {
        let (addr, _) = serve_once("HTTP/1.1 500 Oops\r\n\r\n");
        let e = status(addr).expect_err("HTTP 500");
        assert!(e.contains("500") && e.contains(&addr.to_string()), "{e}");
        let (addr, _) = serve_once("HTTP/1.1 200 OK\r\n\r\n{}");
        let e = status(addr).expect_err("not a status");
        assert!(e.contains("not a router status"), "{e}");
    }
}
