//! Real routers on loopback for tests (the tokio host): a free port, and the
//! configuration every such test starts from.

#![allow(dead_code)] // each test crate uses a different part

use ramsons_router::host::{HostConfig, SamSection};
use std::net::Ipv4Addr;
use std::path::Path;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Router `name` in `dir`, parsed from `toml` (its `[[tunnel]]`s, say), on a free
/// loopback port, booted from `boot`: no SAM, no subscriptions, 1-hop tunnels and one
/// client tunnel each way, peers on one subnet allowed (they all are).
pub fn loopback_config(dir: &Path, name: &str, boot: &Path, net_id: u8, toml: &str) -> HostConfig {
    let mut config = HostConfig::parse(toml).expect("a valid configuration");
    config.data_dir = dir.join(name);
    config.net_id = net_id;
    config.listen = (Ipv4Addr::LOCALHOST, free_port()).into();
    config.bootstrap = Some(boot.to_owned());
    config.sam = SamSection::disabled();
    config.addressbook.subscriptions.clear();
    config.tunnels.exploratory_hops = 1;
    config.tunnels.client_hops = 1;
    config.tunnels.client_tunnels = 1;
    config.tunnels.allow_same_subnet = true;
    config
}
