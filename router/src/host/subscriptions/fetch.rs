//! One conditional GET of a hosts.txt feed, with hyper's client over any byte stream:
//! an [`crate::host::apps::I2pStream`] in service, a TCP connection in the tests.
//!
//! The request carries the validators the last fetch left (`If-None-Match`,
//! `If-Modified-Since`) and nothing that tells one router from another: the proxy's
//! `User-Agent`, no `Accept-Language`, no `Referer`. The body is read up to the size
//! cap and no further, so a feed that never ends costs at most the cap in memory.

use crate::host::proxy::headers::USER_AGENT;
use crate::naming::Subscription;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

/// Where a feed is: the host and port to open a stream to, the path to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedUrl {
    /// A `.i2p` name or a b32 address, lowercased; whether it resolves is decided when
    /// the stream is opened.
    pub host: String,
    pub port: u16,
    /// Origin form: the path and the query.
    pub path: String,
}

impl FeedUrl {
    /// Reads an `http://host[:port]/path` URL. Never panics.
    pub fn parse(url: &str) -> Result<FeedUrl, FetchError> {
        let bad = || FetchError::Url(url.chars().take(200).collect());
        let uri: Uri = url.parse().map_err(|_| bad())?;
        if uri.scheme_str() != Some("http") {
            return Err(bad());
        }
        let authority = uri.authority().ok_or_else(bad)?;
        if authority.as_str().contains('@') {
            // No user names: a feed is public, and userinfo would travel in Host.
            return Err(bad());
        }
        let path = match uri.path_and_query().map(|p| p.as_str()) {
            None | Some("") => "/".to_owned(),
            Some(p) => p.to_owned(),
        };
        Ok(FeedUrl {
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(80),
            path,
        })
    }

    /// The Host header: the name, with the port when it is not 80.
    fn host_header(&self) -> String {
        match self.port {
            80 => self.host.clone(),
            port => format!("{}:{port}", self.host),
        }
    }
}

/// What a fetch brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// 304: the feed has not changed since the validators we sent.
    NotModified,
    /// 200: the whole body (at most the cap) and its validators.
    Body {
        bytes: Bytes,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Why a fetch brought nothing to merge.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0:?} is not an http:// URL with a host")]
    Url(String),
    #[error(transparent)]
    Open(#[from] crate::host::tunnels::client::OpenError),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("the server answered {0}")]
    Status(StatusCode),
    #[error("the feed is larger than the cap of {0} bytes")]
    TooLarge(usize),
    #[error("no whole answer within {0:?}")]
    TimedOut(std::time::Duration),
}

impl FetchError {
    /// Whether trying again soon may help: the network or a server error may pass; a
    /// feed too large, a bad URL or a client error (404, 403) will not.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Open(_) | FetchError::Http(_) | FetchError::TimedOut(_) => true,
            FetchError::Status(status) => status.is_server_error(),
            FetchError::Url(_) | FetchError::TooLarge(_) => false,
        }
    }
}

/// The request for `url`, with the validators `last` left.
pub fn request(url: &FeedUrl, last: &Subscription) -> Result<Request<Empty<Bytes>>, FetchError> {
    let mut builder = Request::get(url.path.as_str())
        .header(header::HOST, url.host_header())
        .header(header::USER_AGENT, USER_AGENT)
        // One request per stream: the feed is fetched and the stream closed.
        .header(header::CONNECTION, "close");
    // Validators are sent back exactly as the server gave them; one that is not a
    // valid header value (it came from the network) is not sent at all.
    let validators = [
        (header::IF_NONE_MATCH, &last.etag),
        (header::IF_MODIFIED_SINCE, &last.last_modified),
    ];
    for (name, value) in validators {
        if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            builder = builder.header(name, value);
        }
    }
    builder
        .body(Empty::new())
        .map_err(|e| FetchError::Http(e.to_string()))
}

/// Sends the conditional GET for `url` over `stream` and reads the answer, the body
/// at most `cap` bytes.
pub async fn get<S>(
    stream: S,
    url: &FeedUrl,
    last: &Subscription,
    cap: usize,
) -> Result<Got, FetchError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http = |e: hyper::Error| FetchError::Http(e.to_string());
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(http)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            debug!("subscription stream: {e}");
        }
    });
    let response = sender
        .send_request(request(url, last)?)
        .await
        .map_err(http)?;
    match response.status() {
        StatusCode::NOT_MODIFIED => return Ok(Got::NotModified),
        StatusCode::OK => {}
        other => return Err(FetchError::Status(other)),
    }
    let (parts, body) = response.into_parts();
    // A declared length over the cap is refused before a byte of the body is read.
    if content_length(&parts.headers).is_some_and(|len| len > cap as u64) {
        return Err(FetchError::TooLarge(cap));
    }
    let bytes = match Limited::new(body, cap).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(FetchError::TooLarge(cap))
        }
        Err(e) => return Err(FetchError::Http(e.to_string())),
    };
    Ok(Got::Body {
        bytes,
        etag: text(&parts.headers, header::ETAG),
        last_modified: text(&parts.headers, header::LAST_MODIFIED),
    })
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A header as text, if it is there and printable (validators are kept as text).
fn text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    (!value.is_empty() && value.len() <= 256).then(|| value.to_owned())
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
