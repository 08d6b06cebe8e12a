//! An HTTP GET client for the routers' status pages (`/status.json`, `/ping`), on
//! hyper's client. The callers are plain threads (one per router), so each request
//! runs on a small current-thread runtime of its own.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use ramsons_router::host::status::PingOutcome;
use ramsons_router::host::Status;
use std::net::SocketAddr;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// The console password of a docker testnet's routers (their consoles listen on every
/// interface of their container, which needs one). Sent to every router: a console on
/// loopback ignores it.
pub const CONSOLE_PASSWORD: &str = "ramsons-testnet";
/// The router waits up to 30 s for a ping's delivery confirmation; a little more here.
pub const PING_TIMEOUT: Duration = Duration::from_secs(40);

/// `GET path` on `addr`: the status code and the body, all within `timeout`.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<(u16, String), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async {
        tokio::time::timeout(timeout, fetch(addr, path))
            .await
            .map_err(|_| format!("{addr}: no answer within {timeout:?}"))?
    })
}

async fn fetch(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let err = |e: &dyn std::fmt::Display| format!("{addr}: {e}");
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| format!("cannot connect to {addr}: timed out"))?
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| err(&e))?;
    tokio::spawn(connection);
    let basic = data_encoding::BASE64.encode(format!("testnet:{CONSOLE_PASSWORD}").as_bytes());
    let request = http::Request::get(path)
        .header(http::header::HOST, addr.to_string())
        .header(http::header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Empty::<Bytes>::new())
        .map_err(|e| err(&e))?;
    let response = sender.send_request(request).await.map_err(|e| err(&e))?;
    let code = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| err(&e))?
        .to_bytes();
    Ok((code, String::from_utf8_lossy(&body).into_owned()))
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
    use std::io::{Read, Write};
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
