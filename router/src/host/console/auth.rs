//! Who may use the console.
//!
//! - On loopback (the default) anyone on this machine may, as with SAM and the proxies.
//! - Bound anywhere else it needs a password, sent with HTTP basic auth (browsers ask
//!   for it; any user name); the router refuses to start without one.
//! - The `Host` header must name the console's own address (or `localhost`), so a web
//!   page whose name an attacker re-points at 127.0.0.1 (DNS rebinding) cannot read it.
//! - POSTs must carry the per-process token and must not come from another origin.

use super::{Answer, Console};
use http::header::{self, HeaderMap};
use http::StatusCode;
use rand::RngCore;
use std::net::SocketAddr;

/// The shortest password accepted off loopback.
pub const MIN_PASSWORD: usize = 8;

/// Why the console may not listen where it is configured to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error(
        "the console would listen on {0}, beyond loopback, without a password: set \
         `[console] password` (at least {MIN_PASSWORD} characters; browsers ask for it, \
         any user name) or bind `status` to 127.0.0.1"
    )]
    NoPassword(SocketAddr),
    #[error("`[console] password` must have at least {MIN_PASSWORD} characters")]
    ShortPassword,
}

/// Refuses a console off loopback without a (long enough) password.
pub fn check_bind(addr: SocketAddr, password: Option<&str>) -> Result<(), BindError> {
    match password {
        Some(p) if p.chars().count() < MIN_PASSWORD => Err(BindError::ShortPassword),
        None if !addr.ip().is_loopback() => Err(BindError::NoPassword(addr)),
        _ => Ok(()),
    }
}

/// A fresh token for the pages' forms: 128 bits from the operating system.
pub(in crate::host) fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    data_encoding::HEXLOWER.encode(&bytes)
}

/// Compares secrets in time that does not depend on where they differ.
pub(super) fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Host` check and, with a password, basic auth.
pub(super) fn check_request(console: &Console, headers: &HeaderMap) -> Result<(), Answer> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| host_allowed(h, console.addr, console.password.is_some())) {
        return Err(Answer::text(
            StatusCode::MISDIRECTED_REQUEST,
            "this console answers only to its own address (Host header)\n",
        ));
    }
    let Some(password) = &console.password else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(basic_password);
    if given.is_some_and(|g| same_secret(&g, password)) {
        return Ok(());
    }
    let mut answer = Answer::text(StatusCode::UNAUTHORIZED, "the console needs its password\n");
    answer.headers.push((
        header::WWW_AUTHENTICATE,
        "Basic realm=\"ramsons console\", charset=\"UTF-8\"".into(),
    ));
    Err(answer)
}

/// The password of an `Authorization: Basic base64(user:password)` header.
pub(super) fn basic_password(value: &str) -> Option<String> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = data_encoding::BASE64
        .decode(encoded.trim().as_bytes())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, p)| p.to_owned())
}

/// On loopback, the names this machine has for the console; with a password (bound
/// beyond loopback, reached by whatever name the operator uses) any name, since the
/// password already keeps other sites' pages out.
fn host_allowed(host: &str, addr: SocketAddr, password: bool) -> bool {
    if password {
        return true;
    }
    let port = addr.port();
    let names = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        addr.to_string(),
    ];
    names.iter().any(|n| n.eq_ignore_ascii_case(host))
}

/// A POST from another site's page is refused: browsers send `Origin` (or at least
/// `Sec-Fetch-Site`) with cross-origin form posts. Scripts send neither, and are
/// checked by the token alone.
pub(super) fn check_origin(headers: &HeaderMap) -> Result<(), Answer> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let refused = |why: &str| {
        Err(Answer::text(
            StatusCode::FORBIDDEN,
            format!("cross-origin request refused: {why}\n"),
        ))
    };
    if get("sec-fetch-site").is_some_and(|s| s == "cross-site" || s == "same-site") {
        return refused("Sec-Fetch-Site");
    }
    let (Some(origin), Some(host)) = (get("origin"), get("host")) else {
        return Ok(());
    };
    let same = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|o| o.eq_ignore_ascii_case(host));
    if same {
        Ok(())
    } else {
        refused("Origin is not this console")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_rules() {
        let lo: SocketAddr = "127.0.0.1:7070".parse().expect("addr");
        let any: SocketAddr = "0.0.0.0:7070".parse().expect("addr");
        assert_eq!(check_bind(lo, None), Ok(()));
        assert_eq!(check_bind(any, None), Err(BindError::NoPassword(any)));
        assert_eq!(
            check_bind(any, Some("short")),
            Err(BindError::ShortPassword)
        );
        assert_eq!(check_bind(any, Some("long enough")), Ok(()));
        let message = BindError::NoPassword(any).to_string();
        assert!(message.contains("[console] password"), "{message}");
    }

    #[test]
    fn basic_auth_and_secrets() {
        let header = format!("Basic {}", data_encoding::BASE64.encode(b"admin:s3cret:x"));
        assert_eq!(basic_password(&header).as_deref(), Some("s3cret:x"));
        assert_eq!(basic_password("Bearer abc"), None);
        assert_eq!(basic_password("Basic !!!"), None);
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert_eq!(new_token().len(), 32);
    }

    #[test]
    fn hosts() {
        let addr: SocketAddr = "127.0.0.1:7070".parse().expect("addr");
        assert!(host_allowed("127.0.0.1:7070", addr, false));
        assert!(host_allowed("LOCALHOST:7070", addr, false));
        assert!(!host_allowed("evil.example:7070", addr, false));
        assert!(!host_allowed("127.0.0.1:80", addr, false));
        assert!(host_allowed("router.lan:7070", addr, true));
    }
}
