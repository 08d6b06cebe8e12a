//! The text files a router reads at start: `router.toml` and an i2pd `tunnels.conf`
//! (the INI reader under it). None panics; a router.toml that parses writes out (every
//! field) to a text that parses to the same configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::host::config::HostConfig;
use ramsons_router::host::tunnels::{ini, spec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = HostConfig::parse(text) {
        let written = config.to_toml();
        let again = HostConfig::parse(&written).expect("a written configuration parses");
        assert_eq!(again.to_toml(), written);
        let _ = config.tunnel_specs();
    }
    let _ = ini::parse(text);
    let _ = spec::from_ini(text);
});
