//! What one client or server tunnel is: [`TunnelSpec`], read from the key names of
//! i2pd's `tunnels.conf` whether they come from that file ([`super::ini`]) or from a
//! `[[tunnel]]` table of `router.toml` (flattened: `inbound.length = 2` in TOML is the
//! table `inbound` with the key `length`, read back as `inbound.length`).
//!
//! Every mistake is an error naming the tunnel and the key. Keys i2pd knows that have
//! no effect here are accepted and listed in [`TunnelSpec::ignored`] (so an i2pd file
//! reads as it is); keys nobody knows are errors (a typo never falls back silently).

use crate::data::Hash;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The tunnel types of i2pd's `tunnels.conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelKind {
    /// A local TCP port that opens a stream to one destination.
    Client,
    /// Incoming streams forwarded to a local TCP service.
    Server,
    /// A server tunnel for a web server: Host rewritten, X-I2P-Dest* headers added.
    Http,
    /// An IRC server tunnel (WEBIRC when `webircpassword` is set).
    Irc,
    /// An IRC client tunnel, with the IRC filter ([`super::irc`]).
    IrcClient,
    /// The SOCKS 4a/5 proxy.
    Socks,
    /// The HTTP proxy.
    HttpProxy,
    /// Datagrams between a local UDP port and a destination ([`super::udp`]).
    UdpClient,
    UdpServer,
}

impl TunnelKind {
    fn parse(text: &str) -> Option<TunnelKind> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "client" => TunnelKind::Client,
            "server" => TunnelKind::Server,
            "http" => TunnelKind::Http,
            "irc" => TunnelKind::Irc,
            "ircclient" => TunnelKind::IrcClient,
            "socks" => TunnelKind::Socks,
            "httpproxy" => TunnelKind::HttpProxy,
            "udpclient" => TunnelKind::UdpClient,
            "udpserver" => TunnelKind::UdpServer,
            _ => return None,
        })
    }

    /// Listens on a local port for applications (client side).
    pub fn is_client(self) -> bool {
        matches!(
            self,
            TunnelKind::Client
                | TunnelKind::IrcClient
                | TunnelKind::Socks
                | TunnelKind::HttpProxy
                | TunnelKind::UdpClient
        )
    }

    /// What this router runs today; the others are read and checked, and skipped
    /// with a warning.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            TunnelKind::Client
                | TunnelKind::Server
                | TunnelKind::Http
                | TunnelKind::Irc
                | TunnelKind::IrcClient
                | TunnelKind::Socks
                | TunnelKind::HttpProxy
                | TunnelKind::UdpClient
                | TunnelKind::UdpServer
        )
    }
}

/// A client or server tunnel, checked. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelSpec {
    pub name: String,
    pub kind: TunnelKind,
    /// Client side: where applications connect (`address`, `port`).
    pub listen: Option<SocketAddr>,
    /// Client tunnels: whom to connect to (`destination`: a name, b32, or base64).
    pub destination: Option<String>,
    /// `destinationport`: the I2CP port streams are sent to (0: any).
    pub destination_port: u16,
    /// Server side: the local service (`host`, `port`).
    pub forward: Option<(String, u16)>,
    /// `inport`: the I2CP port a server tunnel answers on (0: any).
    pub in_port: u16,
    /// `keys`: the destination's key file in the data directory; tunnels naming the
    /// same file share one destination. None: a new destination at every start.
    pub keys: Option<String>,
    /// `accesslist`: only these destinations (b32) may connect to a server tunnel.
    pub access_list: Vec<Hash>,
    /// `hostoverride`: the Host header an http server tunnel sends.
    pub host_override: Option<String>,
    /// `webircpassword` (irc server tunnels): sent in a WEBIRC line first.
    pub webirc_password: Option<String>,
    /// `outproxy` (httpproxy): none here; a clearnet URL gets an error page.
    pub outproxy: Option<String>,
    /// `maxconns` (ours): connections at once through this tunnel.
    pub max_connections: usize,
    /// `inbound.*`, `outbound.*`, `i2cp.*`, `i2p.streaming.*`: the destination's options.
    pub options: BTreeMap<String, String>,
    /// Keys i2pd knows that change nothing here.
    pub ignored: Vec<String>,
}

/// The default of `maxconns`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;

/// A tunnel that cannot be used: which one, which key, why.
/// An empty `tunnel` is a file that is not INI at all (the message has the line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", where_of(tunnel, key))]
pub struct SpecError {
    pub tunnel: String,
    pub key: Option<String>,
    pub message: String,
}

fn where_of(tunnel: &str, key: &Option<String>) -> String {
    match (tunnel, key) {
        ("", _) => String::new(),
        (t, None) => format!("tunnel [{t}]: "),
        (t, Some(k)) => format!("tunnel [{t}] {k}: "),
    }
}

/// Keys that i2pd reads and that change nothing here (accepted, reported as ignored).
const I2PD_ONLY: &[&str] = &[
    "signaturetype",
    "cryptotype",
    "keepaliveinterval",
    "gzip",
    "enableuniquelocal",
    "ssl",
    "addresshelper",
    "senduseragent",
    "httpproxy.outproxy",
    "sharedlocal",
    "maxconns.perminute",
];

/// Option prefixes handed to the destination (SAM's SESSION CREATE options).
const OPTION_PREFIXES: &[&str] = &["inbound.", "outbound.", "i2cp.", "i2p.streaming."];
/// Prefixes i2pd knows that change nothing here.
const IGNORED_PREFIXES: &[&str] = &["crypto.", "explicitpeers", "i2p.", "ramsons."];

impl TunnelSpec {
    /// Checks the `(key, value)` pairs of tunnel `name`.
    pub fn from_pairs<'a>(
        name: &str,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TunnelSpec, SpecError> {
        let mut keys: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in pairs {
            keys.insert(k.to_owned(), v.trim().to_owned());
        }
        Reader { name, keys }.read()
    }
}

struct Reader<'a> {
    name: &'a str,
    keys: BTreeMap<String, String>,
}

impl Reader<'_> {
    fn err(&self, key: Option<&str>, message: impl Into<String>) -> SpecError {
        SpecError {
            tunnel: self.name.to_owned(),
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }

    fn take(&mut self, key: &str) -> Option<String> {
        self.keys.remove(key).filter(|v| !v.is_empty())
    }

    /// A port; `required` ones must be given, and `nonzero` ones may not be 0 (a
    /// listening port of 0 takes any free port: tests use that).
    fn port(&mut self, key: &str, required: bool, nonzero: bool) -> Result<u16, SpecError> {
        match self.take(key) {
            None if required => Err(self.err(Some(key), "missing (a port number)")),
            None => Ok(0),
            Some(v) => v
                .parse::<u16>()
                .ok()
                .filter(|p| !nonzero || *p != 0)
                .ok_or_else(|| self.err(Some(key), format!("{v:?} is not a port number"))),
        }
    }

    fn read(mut self) -> Result<TunnelSpec, SpecError> {
        if self.name.trim().is_empty() {
            return Err(self.err(None, "a tunnel needs a name"));
        }
        let kind_text = self
            .take("type")
            .ok_or_else(|| self.err(Some("type"), "missing"))?;
        let kind = TunnelKind::parse(&kind_text).ok_or_else(|| {
            self.err(
                Some("type"),
                format!(
                    "{kind_text:?} is not one of client, server, http, irc, ircclient, \
                     socks, httpproxy, udpclient, udpserver"
                ),
            )
        })?;
        let mut spec = TunnelSpec {
            name: self.name.to_owned(),
            kind,
            listen: None,
            destination: None,
            destination_port: 0,
            forward: None,
            in_port: 0,
            keys: self.take("keys"),
            access_list: Vec::new(),
            host_override: None,
            webirc_password: None,
            outproxy: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            options: BTreeMap::new(),
            ignored: Vec::new(),
        };
        if kind.is_client() {
            self.read_client(&mut spec)?;
        } else {
            self.read_server(&mut spec)?;
        }
        if let Some(v) = self.take("maxconns") {
            spec.max_connections = v
                .parse()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| self.err(Some("maxconns"), "expected a number from 1 to 10000"))?;
        }
        self.read_options(&mut spec)?;
        Ok(spec)
    }

    fn read_client(&mut self, spec: &mut TunnelSpec) -> Result<(), SpecError> {
        let ip = match self.take("address") {
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(a) => a
                .parse()
                .map_err(|_| self.err(Some("address"), format!("{a:?} is not an IP address")))?,
        };
        let default_port = match spec.kind {
            TunnelKind::HttpProxy => Some(4444),
            TunnelKind::Socks => Some(4447),
            _ => None,
        };
        let port = match default_port {
            Some(p) if !self.keys.contains_key("port") => p,
            _ => self.port("port", true, false)?,
        };
        spec.listen = Some(SocketAddr::new(ip, port));
        let needs_destination = matches!(
            spec.kind,
            TunnelKind::Client | TunnelKind::IrcClient | TunnelKind::UdpClient
        );
        spec.destination = self.take("destination");
        if needs_destination && spec.destination.is_none() {
            return Err(self.err(Some("destination"), "missing (a name, b32 or base64)"));
        }
        spec.destination_port = self.port("destinationport", false, false)?;
        spec.outproxy = self.take("outproxy");
        Ok(())
    }

    fn read_server(&mut self, spec: &mut TunnelSpec) -> Result<(), SpecError> {
        let host = self
            .take("host")
            .ok_or_else(|| self.err(Some("host"), "missing (the local service's address)"))?;
        let port = self.port("port", true, true)?;
        spec.forward = Some((host, port));
        spec.in_port = self.port("inport", false, false)?;
        if spec.keys.is_none() {
            return Err(self.err(
                Some("keys"),
                "missing: a server tunnel needs a key file, or its address changes at every start",
            ));
        }
        spec.host_override = self.take("hostoverride");
        spec.webirc_password = self.take("webircpassword");
        // i2pd's own name for the local address of outgoing connections.
        self.take("address");
        if let Some(list) = self.take("accesslist") {
            for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let b32 = item.to_ascii_lowercase();
                let b32 = b32.trim_end_matches(".b32.i2p");
                let hash = crate::data::base32_decode(b32)
                    .ok()
                    .and_then(|bytes| Hash::from_slice(&bytes).ok())
                    .ok_or_else(|| {
                        self.err(Some("accesslist"), format!("{item:?} is not a b32 address"))
                    })?;
                spec.access_list.push(hash);
            }
        }
        Ok(())
    }

    fn read_options(&mut self, spec: &mut TunnelSpec) -> Result<(), SpecError> {
        for (key, value) in std::mem::take(&mut self.keys) {
            let lower = key.to_ascii_lowercase();
            if OPTION_PREFIXES.iter().any(|p| key.starts_with(p)) {
                spec.options.insert(key, value);
            } else if I2PD_ONLY.contains(&lower.as_str())
                || IGNORED_PREFIXES.iter().any(|p| lower.starts_with(p))
            {
                spec.ignored.push(key);
            } else {
                return Err(self.err(Some(&key), "unknown key"));
            }
        }
        for (key, max) in [("length", 7), ("quantity", 16)] {
            for side in ["inbound", "outbound"] {
                let name = format!("{side}.{key}");
                if let Some(v) = spec.options.get(&name) {
                    let ok = v.parse::<usize>().is_ok_and(|n| (1..=max).contains(&n));
                    if !ok {
                        return Err(self.err(
                            Some(&name),
                            format!("{v:?}: expected a number from 1 to {max}"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Reads a whole i2pd `tunnels.conf`.
pub fn from_ini(text: &str) -> Result<Vec<TunnelSpec>, SpecError> {
    let sections = super::ini::parse(text).map_err(|e| SpecError {
        tunnel: String::new(),
        key: None,
        message: e.to_string(),
    })?;
    sections
        .iter()
        .map(|s| {
            let pairs = s.entries.iter().map(|e| (e.key.as_str(), e.value.as_str()));
            TunnelSpec::from_pairs(&s.name, pairs)
        })
        .collect()
}

/// Reads one `[[tunnel]]` table of `router.toml`: `name` and the i2pd keys, dotted
/// keys as nested tables.
pub fn from_toml(index: usize, table: &toml::Table) -> Result<TunnelSpec, SpecError> {
    let name = match table.get("name") {
        Some(toml::Value::String(s)) => s.clone(),
        _ => {
            return Err(SpecError {
                tunnel: format!("tunnel #{}", index + 1),
                key: Some("name".into()),
                message: "missing (a string)".into(),
            })
        }
    };
    let mut flat = Vec::new();
    flatten("", table, &mut flat).map_err(|(key, message)| SpecError {
        tunnel: name.clone(),
        key: Some(key),
        message,
    })?;
    flat.retain(|(k, _)| k != "name");
    TunnelSpec::from_pairs(&name, flat.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut Vec<(String, String)>,
) -> Result<(), (String, String)> {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let text = match value {
            toml::Value::Table(inner) => {
                flatten(&full, inner, out)?;
                continue;
            }
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => {
                let strings: Option<Vec<&str>> = items.iter().map(|v| v.as_str()).collect();
                let strings = strings.ok_or((full.clone(), "expected a list of strings".into()))?;
                strings.join(",")
            }
            _ => return Err((full, "expected a string, number or boolean".into())),
        };
        out.push((full, text));
    }
    Ok(())
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
