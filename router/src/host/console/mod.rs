//! The console: the pages a person uses to see and steer a running router, and a JSON
//! API behind every page, served with hyper on the `status` address.
//!
//! | page            | API                    | shows                                          |
//! |-----------------|------------------------|------------------------------------------------|
//! | `/`             | `/api/overview`        | reachability and why, bandwidth chart, uptime  |
//! | `/peers`        | `/api/peers`           | connected peers                                |
//! | `/tunnels`      | `/api/tunnels`         | our tunnels, participating tunnels, tiers      |
//! | `/netdb`        | `/api/netdb`           | routers and LeaseSets we hold, lookups         |
//! | `/destinations` | `/api/destinations`    | local destinations, b32 addresses, states      |
//! | `/addressbook`  | `/api/addressbook`     | look up and add names                          |
//! | `/log`          | `/api/log`             | recent warnings and errors                     |
//!
//! `/api/status` (also `/status.json`, what the testnet reads) is the whole snapshot;
//! `/ping?to=` sends from the test destination; `POST /shutdown` stops the router.
//!
//! Safety: loopback only unless a password is set ([`auth`]); every POST carries the
//! per-process token of the pages and is refused cross-origin; a request's `Host` must
//! name the console (so a DNS-rebinding page cannot read it). Per client: at most
//! `max_clients` connections at once, 5 s to send the head, 16 KiB of body, one request
//! per connection, 40 s per connection in all.

mod api;
pub mod auth;
mod chart;
pub(super) mod history;
pub mod log;
mod pages;
pub(super) mod reach;
mod snapshot;

use super::addressbook::SharedBook;
use super::net::Network;
use super::status::{Pinger, Status};
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify, Semaphore};

pub use log::{LogEntry, LogLayer, LogRing};

/// The longest request head read.
const MAX_HEAD: usize = 8192;
/// The longest request body read (forms: a name and a destination of ~500 bytes).
const MAX_BODY: usize = 16 * 1024;
/// A connection's whole life, at most: `/ping` may wait 30 s for its confirmation.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(40);
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// What the console serves from; shared by its connections.
#[derive(Debug)]
pub struct Console {
    pub(super) status: watch::Receiver<Status>,
    pub(super) pinger: Pinger,
    pub(super) book: SharedBook,
    /// Notified by a confirmed shutdown request; the router's run loop waits on it.
    pub(super) stop: Arc<Notify>,
    /// The per-process token every POST must carry (embedded in the pages' forms).
    pub(super) token: String,
    pub(super) password: Option<String>,
    /// Where the console listens, for the `Host` check.
    pub(super) addr: SocketAddr,
    pub(super) log: LogRing,
    /// The configured client and server tunnels (fixed while the router runs).
    pub(super) tunnels: Vec<super::tunnels::TunnelInfo>,
}

/// A response before it becomes hyper's.
#[derive(Debug)]
pub(super) struct Answer {
    pub code: StatusCode,
    pub content_type: &'static str,
    pub body: String,
    /// Extra headers (WWW-Authenticate, Location).
    pub headers: Vec<(header::HeaderName, String)>,
}

impl Answer {
    pub fn html(body: String) -> Answer {
        Answer::new(StatusCode::OK, "text/html; charset=utf-8", body)
    }

    pub fn json(value: &impl serde::Serialize) -> Answer {
        let body = serde_json::to_string_pretty(value).unwrap_or_default();
        Answer::new(StatusCode::OK, "application/json", body)
    }

    pub fn text(code: StatusCode, body: impl Into<String>) -> Answer {
        Answer::new(code, "text/plain; charset=utf-8", body.into())
    }

    pub fn new(code: StatusCode, content_type: &'static str, body: String) -> Answer {
        Answer {
            code,
            content_type,
            body,
            headers: Vec::new(),
        }
    }

    /// After a form's POST, back to a page (so a reload does not post again).
    pub fn see_other(location: &str) -> Answer {
        let mut answer = Answer::text(StatusCode::SEE_OTHER, "");
        answer.headers.push((header::LOCATION, location.into()));
        answer
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() = self.code;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        // No page of ours is framed or runs anything but itself.
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; style-src 'self'; form-action 'self'"),
        );
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// Serves the console until the listener fails or the task is aborted.
pub(super) async fn serve<N: Network>(
    listener: N::Listener,
    console: Arc<Console>,
    max_clients: usize,
) {
    let slots = Arc::new(Semaphore::new(max_clients));
    loop {
        let Ok((stream, _)) = N::accept(&listener).await else {
            // Out of file descriptors and the like: back off, don't spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        // Beyond the limit a connection is closed at once: a slow client cannot hold
        // more than its share, and the router task is never asked for more.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let console = console.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let console = console.clone();
                async move { Ok::<_, Infallible>(handle(&console, req).await.into_response()) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .max_buf_size(MAX_HEAD)
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
            drop(slot);
        });
    }
}

/// Checks who asks and what for, then answers.
async fn handle(console: &Console, req: Request<Incoming>) -> Answer {
    if let Err(refused) = auth::check_request(console, req.headers()) {
        return refused;
    }
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    match parts.method {
        Method::GET | Method::HEAD => get(console, &path, query.as_deref()).await,
        Method::POST => {
            if let Err(refused) = auth::check_origin(&parts.headers) {
                return refused;
            }
            let body = match Limited::new(body, MAX_BODY).collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => {
                    return Answer::text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n")
                }
            };
            let form = form_pairs(&String::from_utf8_lossy(&body));
            post(console, &path, &parts.headers, form).await
        }
        _ => Answer::text(StatusCode::METHOD_NOT_ALLOWED, "GET or POST only\n"),
    }
}

async fn get(console: &Console, path: &str, query: Option<&str>) -> Answer {
    let status = console.status.borrow().clone();
    let query = form_pairs(query.unwrap_or(""));
    match path {
        "/ping" => {
            let to = super::status::ping_target(Some(&query_string(&query)));
            Answer::json(&super::status::ping(&console.pinger.requests, to).await)
        }
        "/style.css" => Answer::new(
            StatusCode::OK,
            "text/css; charset=utf-8",
            pages::STYLE.into(),
        ),
        "/chart/bandwidth.svg" => match chart::bandwidth_svg(&status.bandwidth.history) {
            Ok(svg) => Answer::new(StatusCode::OK, "image/svg+xml", svg),
            Err(e) => Answer::text(StatusCode::INTERNAL_SERVER_ERROR, e),
        },
        _ if path == "/status.json" || path.starts_with("/api/") => {
            api::get(console, &status, path, &query)
        }
        _ => pages::get(console, &status, path, &query),
    }
}

async fn post(
    console: &Console,
    path: &str,
    headers: &http::HeaderMap,
    form: Vec<(String, String)>,
) -> Answer {
    let token = field(&form, "token")
        .or_else(|| headers.get("x-console-token").and_then(|v| v.to_str().ok()));
    if !token.is_some_and(|t| auth::same_secret(t, &console.token)) {
        return Answer::text(
            StatusCode::FORBIDDEN,
            "missing or wrong console token: reload the page and try again\n",
        );
    }
    match path {
        "/shutdown" | "/api/shutdown" => {
            tracing::info!("shutdown requested from the console");
            console.stop.notify_one();
            match path {
                "/shutdown" => Answer::html(pages::shutting_down()),
                _ => Answer::json(&serde_json::json!({ "shutting_down": true })),
            }
        }
        "/addressbook" | "/api/addressbook" => {
            // Adding saves the book: file I/O, off the runtime's thread.
            let book = console.book.clone();
            let added = tokio::task::spawn_blocking(move || api::add_name(&book, &form))
                .await
                .unwrap_or_else(|_| Err("the address book could not be updated".into()));
            match (path, added) {
                ("/addressbook", Ok(name)) => {
                    Answer::see_other(&format!("/addressbook?name={name}&added=1"))
                }
                ("/addressbook", Err(e)) => pages::addressbook_error(console, &e),
                (_, Ok(name)) => Answer::json(&serde_json::json!({ "added": name })),
                (_, Err(e)) => {
                    let mut answer = Answer::json(&serde_json::json!({ "error": e }));
                    answer.code = StatusCode::BAD_REQUEST;
                    answer
                }
            }
        }
        _ => Answer::text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// `a=1&b=2` (a query or a urlencoded form) as decoded pairs; malformed escapes are
/// kept as they are.
pub(super) fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

pub(super) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The pairs back as a query, for `ping_target`, which undoes base64's escapes itself.
fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn url_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
