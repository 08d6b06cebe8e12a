//! Which routers a testnet has, their names, ports and addresses, and their `router.toml`.

use crate::TestnetError;
use ramsons_router::host::{HostConfig, SamSection};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The docker testnet's bridge network. Not a private range: i2pd refuses peers in
/// private ranges but accepts 198.18.0.0/15 (benchmarking), so i2pd containers can join.
pub const DOCKER_SUBNET: &str = "198.18.0.0/24";
/// Router `i` of a docker testnet is 198.18.0.(10 + i).
const DOCKER_FIRST_HOST: u8 = 10;
const DOCKER_MAX_ROUTERS: usize = 240;
/// NTCP2, the status page and the SAM bridge.
const PORTS_PER_ROUTER: u32 = 3;

/// Where the routers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Processes on this machine, every router on 127.0.0.1.
    Loopback,
    /// One container per router on a bridge network (198.18.0.0/24).
    Docker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Floodfill,
    Router,
}

/// What `up` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub floodfills: usize,
    pub routers: usize,
    pub net_id: u8,
    /// Router `i` (floodfills first) listens for NTCP2 on `base_port + 2i` and serves its
    /// status page on `base_port + 2i + 1`.
    pub base_port: u16,
    pub mode: Mode,
}

/// One router of the testnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `ff0`, `ff1`, ... for floodfills, `r0`, `r1`, ... for the others; also its folder.
    pub name: String,
    pub role: Role,
    pub ntcp2_port: u16,
    pub status_port: u16,
    /// Its SAM bridge, TCP and UDP on the same number (loopback testnets only).
    pub sam_port: u16,
    /// The address other routers dial: 127.0.0.1, or its container's address.
    pub ip: IpAddr,
}

impl Spec {
    /// The routers, floodfills first.
    pub fn nodes(&self) -> Result<Vec<Node>, TestnetError> {
        let total = self.floodfills + self.routers;
        if self.floodfills == 0 {
            return Err(TestnetError::Spec(
                "a testnet needs at least one floodfill (--floodfills 1 or more)".into(),
            ));
        }
        if self.net_id == 0 || self.net_id == 2 {
            return Err(TestnetError::Spec(format!(
                "--net-id {} is not a private network id: 2 is the I2P main network and 0 \
                 is invalid; use another, e.g. 99",
                self.net_id
            )));
        }
        let last_port = u32::from(self.base_port) + PORTS_PER_ROUTER * total as u32 - 1;
        if self.base_port == 0 || last_port > u32::from(u16::MAX) {
            return Err(TestnetError::Spec(format!(
                "{total} routers need ports {}..={last_port}: choose a --base-port between 1 \
                 and {}",
                self.base_port,
                u32::from(u16::MAX) + 1 - PORTS_PER_ROUTER * total as u32
            )));
        }
        if self.mode == Mode::Docker && total > DOCKER_MAX_ROUTERS {
            return Err(TestnetError::Spec(format!(
                "a docker testnet has at most {DOCKER_MAX_ROUTERS} routers (one /24), not {total}"
            )));
        }
        let roles = std::iter::repeat_n(Role::Floodfill, self.floodfills)
            .chain(std::iter::repeat_n(Role::Router, self.routers));
        let mut counts = [0usize; 2];
        Ok(roles
            .enumerate()
            .map(|(i, role)| {
                let (prefix, count) = match role {
                    Role::Floodfill => ("ff", &mut counts[0]),
                    Role::Router => ("r", &mut counts[1]),
                };
                let name = format!("{prefix}{count}");
                *count += 1;
                let port = self.base_port + (PORTS_PER_ROUTER as u16) * i as u16;
                let ip = match self.mode {
                    Mode::Loopback => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    Mode::Docker => {
                        IpAddr::V4(Ipv4Addr::new(198, 18, 0, DOCKER_FIRST_HOST + i as u8))
                    }
                };
                Node {
                    name,
                    role,
                    ntcp2_port: port,
                    status_port: port + 1,
                    sam_port: port + 2,
                    ip,
                }
            })
            .collect())
    }
}

impl Node {
    /// The address other routers dial (published in its RouterInfo).
    pub fn published(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.ntcp2_port)
    }

    /// Where its status page answers from this machine (docker publishes it on loopback).
    pub fn status_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.status_port))
    }

    /// Where its SAM bridge answers (TCP and UDP), on a loopback testnet.
    pub fn sam_addr(&self, mode: Mode) -> Option<SocketAddr> {
        (mode == Mode::Loopback).then(|| SocketAddr::from((Ipv4Addr::LOCALHOST, self.sam_port)))
    }

    /// Its `router.toml`, with paths relative to the router's folder.
    pub fn host_config(&self, spec: &Spec) -> HostConfig {
        let (listen, publish, status) = match spec.mode {
            Mode::Loopback => (self.published(), None, self.status_addr()),
            // Inside its container a router listens on every interface and tells peers
            // its bridge address.
            Mode::Docker => (
                SocketAddr::from((Ipv4Addr::UNSPECIFIED, self.ntcp2_port)),
                Some(self.published()),
                SocketAddr::from((Ipv4Addr::UNSPECIFIED, self.status_port)),
            ),
        };
        let mut config = HostConfig {
            data_dir: "data".into(),
            net_id: spec.net_id,
            floodfill: self.role == Role::Floodfill,
            listen,
            publish,
            status: Some(status),
            bootstrap: Some("../netDb".into()),
            ..HostConfig::default()
        };
        // Inside a container the console listens beyond loopback, so it needs a
        // password; the port is published on the host's loopback only.
        if spec.mode == Mode::Docker {
            config.console.password = Some(crate::http::CONSOLE_PASSWORD.into());
        }
        // Every router of a loopback testnet is 127.0.0.1, of a docker one in one /24.
        config.tunnels.allow_same_subnet = true;
        // A private network has none of the main network's address book feeds.
        config.addressbook.subscriptions.clear();
        // For `status`'s end-to-end check: /ping sends from it, others send to it.
        config.client.test_destination = true;
        // Applications reach a loopback testnet through each router's SAM bridge; a
        // docker testnet's bridges would listen inside their containers only.
        config.sam = match self.sam_addr(spec.mode) {
            Some(addr) => SamSection {
                tcp: addr,
                udp: Some(addr),
                ..SamSection::default()
            },
            None => SamSection::disabled(),
        };
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(mode: Mode) -> Spec {
        Spec {
            floodfills: 2,
            routers: 3,
            net_id: 99,
            base_port: 20000,
            mode,
        }
    }

    #[test]
    fn names_ports_and_addresses() {
        let nodes = spec(Mode::Loopback).nodes().expect("valid");
        let names: Vec<_> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["ff0", "ff1", "r0", "r1", "r2"]);
        assert_eq!(nodes[2].role, Role::Router);
        assert_eq!(nodes[2].published().to_string(), "127.0.0.1:20006");
        assert_eq!(nodes[2].status_addr().to_string(), "127.0.0.1:20007");
        assert_eq!(
            nodes[2].sam_addr(Mode::Loopback).map(|a| a.to_string()),
            Some("127.0.0.1:20008".into())
        );

        let docker = spec(Mode::Docker).nodes().expect("valid");
        assert_eq!(docker[4].published().to_string(), "198.18.0.14:20012");
        assert_eq!(docker[4].status_addr().to_string(), "127.0.0.1:20013");
        assert_eq!(docker[4].sam_addr(Mode::Docker), None);
    }

    #[test]
    fn configurations_are_valid_and_testnet_ready() {
        for mode in [Mode::Loopback, Mode::Docker] {
            let spec = spec(mode);
            for node in spec.nodes().expect("valid") {
                let config = node.host_config(&spec);
                let back = HostConfig::parse(&config.to_toml()).expect("valid router.toml");
                assert_eq!(back, config);
                assert_eq!(config.published_address(), node.published());
                assert_eq!(config.floodfill, node.role == Role::Floodfill);
                assert!(config.tunnels.allow_same_subnet && config.client.test_destination);
                assert_eq!(config.net_id, 99);
            }
        }
    }

    #[test]
    fn impossible_specs_are_refused() {
        let no_floodfill = Spec {
            floodfills: 0,
            ..spec(Mode::Loopback)
        };
        assert!(no_floodfill.nodes().is_err());
        let main_net = Spec {
            net_id: 2,
            ..spec(Mode::Loopback)
        };
        assert!(main_net.nodes().is_err());
        let ports = Spec {
            base_port: 65530,
            ..spec(Mode::Loopback)
        };
        let e = ports.nodes().expect_err("ports overflow").to_string();
        assert!(e.contains("--base-port"), "{e}");
    }
}
