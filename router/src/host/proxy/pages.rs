//! The HTTP proxy's own pages: what went wrong and what to try, and the address
//! helper's confirmation. Everything taken from the request is HTML-escaped.

use super::Body;
use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::{BodyExt, Full};

/// Why the proxy could not fetch a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The request itself is not one the proxy can serve.
    BadRequest(String),
    /// A `.i2p` name the address book does not have.
    UnknownName { host: String, jump: Vec<String> },
    /// An encrypted LeaseSet's address.
    B33(String),
    /// The destination's LeaseSet is not in the netDb.
    NoLeaseSet(String),
    /// The LeaseSet was found but the destination did not answer.
    Unreachable { host: String, why: String },
    /// Opening the stream took too long.
    TimedOut(String),
    /// The server answered with something that is not HTTP.
    BadGateway { host: String, why: String },
    /// Not an I2P host, and there is no outproxy.
    Clearnet(String),
}

impl Problem {
    fn status(&self) -> StatusCode {
        match self {
            Problem::BadRequest(_) => StatusCode::BAD_REQUEST,
            Problem::UnknownName { .. } | Problem::NoLeaseSet(_) => StatusCode::NOT_FOUND,
            Problem::B33(_) => StatusCode::NOT_IMPLEMENTED,
            Problem::Unreachable { .. } | Problem::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            Problem::TimedOut(_) => StatusCode::GATEWAY_TIMEOUT,
            Problem::Clearnet(_) => StatusCode::FORBIDDEN,
        }
    }

    /// A title and the page's paragraphs (already HTML).
    fn text(&self) -> (&'static str, String) {
        match self {
            Problem::BadRequest(why) => (
                "Bad request",
                format!(
                    "<p>The proxy cannot serve this request: {}.</p>",
                    escape(why)
                ),
            ),
            Problem::UnknownName { host, jump } => ("Unknown host name", unknown(host, jump)),
            Problem::B33(host) => (
                "Encrypted LeaseSet",
                format!(
                    "<p>{} is the address of an encrypted LeaseSet (b33). This router cannot \
                     look those up yet.</p><p>Ask the site for its b32 address.</p>",
                    escape(host)
                ),
            ),
            Problem::NoLeaseSet(host) => (
                "Destination not found",
                format!(
                    "<p>No LeaseSet was found for {}: the site is down, or not published \
                     yet, or this router does not know enough of the network.</p>\
                     <p>Try again in a minute; a router that has just started needs a few \
                     minutes.</p>",
                    escape(host)
                ),
            ),
            Problem::Unreachable { host, why } => (
                "Destination unreachable",
                format!(
                    "<p>{} was found but did not answer ({}).</p><p>The site may be down or \
                     overloaded; try again later.</p>",
                    escape(host),
                    escape(why)
                ),
            ),
            Problem::TimedOut(host) => (
                "Timed out",
                format!(
                    "<p>Opening a connection to {} took too long.</p><p>Tunnels may be \
                     slow right now; reload the page to try again.</p>",
                    escape(host)
                ),
            ),
            Problem::BadGateway { host, why } => (
                "Bad answer",
                format!(
                    "<p>{} answered, but not with HTTP ({}).</p>",
                    escape(host),
                    escape(why)
                ),
            ),
            Problem::Clearnet(host) => (
                "Not an I2P site",
                format!(
                    "<p>{} is not an I2P host, and this proxy has no outproxy: it only \
                     reaches sites inside I2P (names ending in .i2p).</p><p>Use a normal \
                     connection for this site.</p>",
                    escape(host)
                ),
            ),
        }
    }

    /// The page for this problem.
    pub fn response(&self) -> Response<Body> {
        let (title, body) = self.text();
        page(self.status(), title, &body)
    }
}

fn unknown(host: &str, jump: &[String]) -> String {
    let mut text = format!(
        "<p>{} is not in this router's address book.</p>\
         <p>Check the spelling, or find it through a jump service (the link adds it to \
         nothing; the service answers with an address helper link):</p><ul>",
        escape(host)
    );
    for service in jump {
        let url = format!("{service}{host}");
        text.push_str(&format!("<li><a href=\"{0}\">{0}</a></li>", escape(&url)));
    }
    text.push_str("</ul>");
    text
}

/// The confirmation page of an address helper link: the name and the destination it
/// offers, and a link that goes on through the b32 address (nothing is saved: a link
/// on some page must not be able to take over a name in the address book).
pub fn address_helper(host: &str, b32: &str, destination: &str, path: &str) -> Response<Body> {
    let go = format!("http://{b32}{path}");
    let body = format!(
        "<p>A link offers this destination for <b>{}</b>:</p><p><code>{}</code></p>\
         <p>Its b32 address is <code>{}</code>.</p><p>Only continue if you trust the \
         page that linked here: <a href=\"{}\">continue to the site by its b32 \
         address</a>. Nothing is added to the address book.</p>",
        escape(host),
        escape(&destination.chars().take(64).collect::<String>()),
        escape(b32),
        escape(&go),
    );
    page(StatusCode::OK, "Address helper", &body)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response<Body> {
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}<hr><p>ramsons HTTP proxy</p></body></html>"
    );
    let mut response = Response::new(
        Full::new(Bytes::from(html))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_the_request_said() {
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
        let problem = Problem::UnknownName {
            host: "<script>.i2p".into(),
            jump: vec!["http://stats.i2p/cgi-bin/jump.cgi?a=".into()],
        };
        let (_, text) = problem.text();
        assert!(!text.contains("<script>"), "{text}");
        assert!(text.contains("jump.cgi?a=&lt;script&gt;.i2p"), "{text}");
        assert_eq!(problem.response().status(), StatusCode::NOT_FOUND);
        assert_eq!(
            Problem::Clearnet("example.com".into()).response().status(),
            StatusCode::FORBIDDEN
        );
    }
}
