//! The proxies' parsers on arbitrary input: the HTTP proxy's request target (method,
//! request target and Host header, one per line), host classification, the SOCKS
//! greeting and request, and an i2pd tunnels.conf. None panics; a parsed SOCKS message
//! never claims more bytes than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::host::proxy::http::RequestTarget;
use ramsons_router::host::proxy::socks::{parse_greeting, parse_request};
use ramsons_router::host::tunnels::names::I2pHost;
use ramsons_router::host::tunnels::spec;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((_, used))) = parse_greeting(data) {
        assert!(used <= data.len());
    }
    if let Ok(Some((_, used))) = parse_request(data) {
        assert!(used <= data.len());
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(3, '\n');
    let method = lines.next().unwrap_or_default();
    let uri = lines.next().unwrap_or_default();
    let host = lines.next();
    if let Ok(target) = RequestTarget::parse(method, uri, host) {
        let _ = I2pHost::classify(&target.host);
        assert!(target.connect || target.path.starts_with('/'));
    }
    let _ = I2pHost::classify(text);
    let _ = spec::from_ini(text);
});
