//! Request headers on their way into I2P: those that identify the user, the browser or
//! the machine are dropped or replaced; hop-by-hop headers stay on their hop.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// What every browser behind an I2P proxy says it is, so none stands out.
pub const USER_AGENT: &str = "MYOB/6.66 (AN/ON)";

/// Dropped outright: they say where the user comes from, who they are, or what path
/// the request took.
const IDENTIFYING: &[&str] = &[
    "referer",
    "via",
    "forwarded",
    "from",
    "accept-language",
    "x-real-ip",
    "client-ip",
    "true-client-ip",
    "proxy-authorization",
    "proxy-connection",
    "x-i2p-desthash",
    "x-i2p-destb64",
    "x-i2p-destb32",
];

/// Hop-by-hop headers (RFC 9110 7.6.1): meaningful only between the browser and us.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-authenticate",
];

/// Strips `headers` for a request into I2P and sets `Host` to `host` (the name the
/// server is known by, not how we reached it).
pub fn filter_request(headers: &mut HeaderMap, host: &str) {
    // Headers the browser named in Connection are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    let drop: Vec<HeaderName> = headers
        .keys()
        .filter(|name| {
            let n = name.as_str();
            IDENTIFYING.contains(&n) || HOP_BY_HOP.contains(&n) || n.starts_with("x-forwarded-")
        })
        .cloned()
        .collect();
    for name in drop {
        headers.remove(name);
    }
    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    // One request per stream: a new stream for the next request costs little and
    // keeps one site's requests from being tied together beyond what it sees anyway.
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    if let Ok(value) = HeaderValue::from_str(host) {
        headers.insert(header::HOST, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn identifying_headers_are_dropped_or_replaced() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("user-agent", "Firefox/128"),
            ("referer", "http://secret.i2p/"),
            ("via", "1.1 box"),
            ("x-forwarded-for", "10.0.0.2"),
            ("accept-language", "de-CH"),
            ("connection", "keep-alive, x-private"),
            ("x-private", "1"),
            ("x-i2p-desthash", "spoofed"),
            ("accept", "text/html"),
            ("host", "wrong"),
        ] {
            h.append(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        filter_request(&mut h, "site.i2p");
        assert_eq!(h["user-agent"], USER_AGENT);
        assert_eq!(h["host"], "site.i2p");
        assert_eq!(h["accept"], "text/html");
        assert_eq!(h["connection"], "close");
        for gone in [
            "referer",
            "via",
            "x-forwarded-for",
            "accept-language",
            "x-private",
            "x-i2p-desthash",
        ] {
            assert!(!h.contains_key(gone), "{gone} kept");
        }
    }

    proptest! {
        #[test]
        fn nothing_identifying_survives(
            pairs in proptest::collection::vec(("[a-z-]{1,16}", "[ -~]{0,30}"), 0..12),
        ) {
            let mut h = HeaderMap::new();
            for (k, v) in &pairs {
                if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                    h.append(k, v);
                }
            }
            filter_request(&mut h, "x.i2p");
            for name in h.keys() {
                let n = name.as_str();
                prop_assert!(!IDENTIFYING.contains(&n) && !n.starts_with("x-forwarded-"));
            }
            prop_assert_eq!(h.get_all("user-agent").iter().count(), 1);
        }
    }
}
