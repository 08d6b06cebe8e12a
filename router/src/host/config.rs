//! `router.toml`: the real router's configuration file.
//!
//! Every field has a default, so an empty file is a working (non-floodfill, main
//! network) router listening on `127.0.0.1:12345`. Unknown fields are errors, so a typo
//! never silently falls back to a default.

use crate::client::streaming::{ManagerConfig, StreamConfig};
use crate::client::ClientConfig;
use crate::host::tunnels::spec::{self, SpecError, TunnelSpec};
use crate::netdb::NetDbConfig;
use crate::tunnel::build::MAX_HOPS;
use crate::tunnel::TunnelConfig;
use crate::units::Span;
use crate::RouterConfig;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What `ramsons-router run --config router.toml` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// Keys, netDb and profiles live here. Relative paths are relative to the
    /// configuration file's folder.
    pub data_dir: PathBuf,
    /// 2 is the I2P main network; anything else is a private network (testnets).
    pub net_id: u8,
    /// Serve the netDb as a floodfill.
    pub floodfill: bool,
    /// Bandwidth class letter published in `caps` (K, L, M, N, O, P or X).
    pub bandwidth_class: char,
    /// Where NTCP2 listens.
    pub listen: SocketAddr,
    /// The address published in our RouterInfo, when it differs from `listen` (behind
    /// a port forward, or when listening on 0.0.0.0).
    pub publish: Option<SocketAddr>,
    /// Open NTCP2 sessions at most (in and out); new inbound ones are refused beyond it.
    pub max_connections: usize,
    /// A session with no traffic either way for this long is closed.
    pub idle_timeout: Span,
    /// Read at every start: a folder of RouterInfo files (`*.dat`, any depth) or one
    /// RouterInfo file (the reseed of a private network), or an `.su3` reseed bundle
    /// checked against the shipped reseed signer certificates (the main network).
    pub bootstrap: Option<PathBuf>,
    /// The console (pages at `/`, the JSON API under `/api/`, `/status.json`, `/ping`),
    /// e.g. "127.0.0.1:7070"; none when left out (`init` writes one). Beyond loopback
    /// it needs `[console] password`.
    pub status: Option<SocketAddr>,
    /// How often the netDb and profiles are written to the data directory.
    pub save_interval: Span,
    pub tunnels: TunnelsSection,
    pub client: ClientSection,
    pub sam: SamSection,
    pub addressbook: AddressBookSection,
    pub console: ConsoleSection,
    /// An i2pd `tunnels.conf` to run as it is (relative to the configuration file's
    /// folder); its tunnels run beside those of `[[tunnel]]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnels_conf: Option<PathBuf>,
    /// `[[tunnel]]`: client and server tunnels and the proxies, with the key names of
    /// i2pd's `tunnels.conf` plus `name` ([`crate::host::tunnels::spec`]). Not
    /// `[[tunnels]]`: that name is the router's own `[tunnels]` section.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tunnel: Vec<toml::Table>,
}

/// `[addressbook]`: names for `.i2p` hosts ([`crate::host::addressbook`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AddressBookSection {
    /// Local hosts.txt files (`name=base64`), read at every start; the first file to
    /// name a host wins, and they win over subscriptions. Relative to the configuration
    /// file's folder. Never written by the router.
    pub hosts: Vec<PathBuf>,
    /// hosts.txt feeds to merge into the book, fetched over I2P
    /// ([`crate::host::subscriptions`]).
    pub subscriptions: Vec<String>,
    /// How often each subscription is fetched.
    pub update_interval: Span,
    /// How long after the start the first fetches wait (then the fetcher's destination
    /// still needs its tunnels): a router that just started has better things to do.
    pub first_fetch: Span,
    /// How long after a failed fetch (no LeaseSet, timeout, an HTTP error) to try again.
    pub retry: Span,
    /// A subscription body larger than this many bytes is refused whole.
    pub max_subscription_size: usize,
    /// Names in the book at most (local and learned).
    pub max_entries: usize,
    /// Jump services the HTTP proxy offers for a name the book does not have (the
    /// name is appended to the URL).
    pub jump_services: Vec<String>,
}

impl Default for AddressBookSection {
    fn default() -> Self {
        Self {
            hosts: Vec::new(),
            // The I2P project's own feed, the default of the main network's routers.
            subscriptions: vec!["http://i2p-projekt.i2p/hosts.txt".into()],
            update_interval: Span(Duration::from_secs(12 * 3600)),
            first_fetch: Span(Duration::from_secs(5 * 60)),
            retry: Span(Duration::from_secs(30 * 60)),
            max_subscription_size: 10 << 20,
            max_entries: 100_000,
            jump_services: vec!["http://stats.i2p/cgi-bin/jump.cgi?a=".into()],
        }
    }
}

impl AddressBookSection {
    fn check(&self) -> Result<(), String> {
        for url in self.subscriptions.iter().chain(&self.jump_services) {
            let plain = url.starts_with("http://") && url.len() > "http://".len();
            if !plain || url.contains(|c: char| c.is_whitespace() || c == '#') {
                return Err(format!(
                    "[addressbook] {url:?} is not an http:// URL (without spaces or '#')"
                ));
            }
        }
        if !(3600..=30 * 86_400).contains(&self.update_interval.0.as_secs()) {
            return Err("[addressbook] update_interval must be between 1 h and 30 d".into());
        }
        if self.first_fetch.0 > Duration::from_secs(86_400) {
            return Err("[addressbook] first_fetch must be at most 1 d".into());
        }
        // Each retry costs the network a LeaseSet lookup, or a fetch of the whole feed.
        if self.retry.0 < Duration::from_secs(10) || self.retry.0 > self.update_interval.0 {
            return Err("[addressbook] retry must be between 10 s and update_interval".into());
        }
        if !(1024..=(256 << 20)).contains(&self.max_subscription_size) {
            return Err(
                "[addressbook] max_subscription_size must be between 1 KiB and 256 MiB".into(),
            );
        }
        if !(1..=10_000_000).contains(&self.max_entries) {
            return Err("[addressbook] max_entries must be between 1 and 10000000".into());
        }
        Ok(())
    }
}

/// `[console]`: who may use the console at `status`, and how much of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSection {
    /// Required when `status` is not a loopback address (HTTP basic auth, any user
    /// name); at least 8 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Connections served at once; more are closed at once.
    pub max_clients: usize,
}

impl Default for ConsoleSection {
    fn default() -> Self {
        Self {
            password: None,
            max_clients: 16,
        }
    }
}

/// `[client]`: local destinations.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientSection {
    /// Run one destination of our own (keys in `destination.keys`) that others can
    /// message and that the status page's `/ping` sends from: an end-to-end check of
    /// tunnels, LeaseSets and garlic. Needs tunnels.
    pub test_destination: bool,
}

/// `[sam]`: the SAMv3 bridge ([`crate::host::sam`]) for applications on this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamSection {
    pub enabled: bool,
    /// The control (TCP) port; loopback, as SAM has no encryption.
    pub tcp: SocketAddr,
    /// The datagram (UDP) port; none to refuse datagrams over UDP.
    pub udp: Option<SocketAddr>,
    /// With both set, clients must send USER and PASSWORD in their HELLO.
    pub user: Option<String>,
    pub password: Option<String>,
    /// Client sockets open at once (control, stream and utility sockets alike).
    pub max_connections: usize,
    /// Sessions (destinations) at once, in all ...
    pub max_sessions: usize,
    /// ... and per client address.
    pub max_sessions_per_client: usize,
    /// Subsessions of one PRIMARY session.
    pub max_subsessions: usize,
    /// STREAM ACCEPTs waiting at once on one session.
    pub max_pending_accepts: usize,
    /// The longest command line, in bytes; a longer one is answered and the socket closed.
    pub max_line: usize,
    /// A client must send its HELLO within this ...
    pub hello_timeout: Span,
    /// ... and its next command within this, while its socket holds no session.
    pub command_timeout: Span,
    /// STREAM CONNECT gives up (TIMEOUT) after this, if the router has not answered.
    pub connect_timeout: Span,
}

impl Default for SamSection {
    fn default() -> Self {
        Self {
            enabled: true,
            tcp: SocketAddr::from(([127, 0, 0, 1], 7656)),
            udp: Some(SocketAddr::from(([127, 0, 0, 1], 7655))),
            user: None,
            password: None,
            max_connections: 256,
            max_sessions: 64,
            max_sessions_per_client: 32,
            max_subsessions: 16,
            max_pending_accepts: 32,
            max_line: 8192,
            hello_timeout: Span(Duration::from_secs(60)),
            command_timeout: Span(Duration::from_secs(60)),
            connect_timeout: Span(Duration::from_secs(120)),
        }
    }
}

impl SamSection {
    /// No bridge: for routers that only route, and for tests that run several routers
    /// on one machine (the UDP port is always the machine's own).
    pub fn disabled() -> SamSection {
        SamSection {
            enabled: false,
            ..SamSection::default()
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.user.is_some() != self.password.is_some() {
            return Err("[sam] user and password go together".into());
        }
        if !(1024..=65_536).contains(&self.max_line) {
            return Err("[sam] max_line must be between 1024 and 65536".into());
        }
        let counts = [
            ("max_connections", self.max_connections),
            ("max_sessions", self.max_sessions),
            ("max_sessions_per_client", self.max_sessions_per_client),
            ("max_subsessions", self.max_subsessions),
            ("max_pending_accepts", self.max_pending_accepts),
        ];
        if let Some((name, _)) = counts.iter().find(|(_, n)| *n == 0) {
            return Err(format!("[sam] {name} must be at least 1"));
        }
        let timeouts = [
            ("hello_timeout", self.hello_timeout),
            ("command_timeout", self.command_timeout),
            ("connect_timeout", self.connect_timeout),
        ];
        for (name, span) in timeouts {
            if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&span.0) {
                return Err(format!(
                    "[sam] {name} must be between 1 s and 1 h, got {span}"
                ));
            }
        }
        Ok(())
    }
}

/// `[tunnels]`: our own tunnels and taking part in others'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TunnelsSection {
    /// Off: a netDb-only router that neither builds nor joins tunnels.
    pub enabled: bool,
    pub exploratory_hops: usize,
    pub exploratory_tunnels: usize,
    pub client_hops: usize,
    pub client_tunnels: usize,
    /// Allow two hops of one tunnel in the same /16. Needed on a loopback testnet,
    /// where every router is 127.0.0.1; never on a real network.
    pub allow_same_subnet: bool,
    /// Tunnels we take part in for others, at most.
    pub max_participating: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("ramsons-data"),
            net_id: 2,
            floodfill: false,
            bandwidth_class: 'O',
            listen: SocketAddr::from(([127, 0, 0, 1], 12345)),
            publish: None,
            max_connections: 200,
            idle_timeout: Span(Duration::from_secs(5 * 60)),
            bootstrap: None,
            status: None,
            save_interval: Span(Duration::from_secs(5 * 60)),
            tunnels: TunnelsSection::default(),
            client: ClientSection::default(),
            sam: SamSection::default(),
            addressbook: AddressBookSection::default(),
            console: ConsoleSection::default(),
            tunnels_conf: None,
            tunnel: Vec::new(),
        }
    }
}

impl Default for TunnelsSection {
    fn default() -> Self {
        let tunnels = TunnelConfig::default();
        let clients = ClientConfig::default();
        Self {
            enabled: true,
            exploratory_hops: tunnels.exploratory_hops,
            exploratory_tunnels: tunnels.exploratory_tunnels,
            client_hops: clients.hops,
            client_tunnels: clients.tunnels,
            allow_same_subnet: false,
            max_participating: tunnels.max_participating,
        }
    }
}

fn unique_names(specs: &[TunnelSpec]) -> Result<(), SpecError> {
    for (i, spec) in specs.iter().enumerate() {
        if specs[..i].iter().any(|s| s.name == spec.name) {
            return Err(SpecError {
                tunnel: spec.name.clone(),
                key: Some("name".into()),
                message: "two tunnels have this name".into(),
            });
        }
    }
    Ok(())
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl HostConfig {
    /// Reads and checks `path`; `data_dir`, `bootstrap` and the address book's `hosts`
    /// become relative to its folder.
    pub fn load(path: &Path) -> Result<HostConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.data_dir = base.join(&config.data_dir);
        config.bootstrap = config.bootstrap.map(|b| base.join(b));
        for hosts in &mut config.addressbook.hosts {
            *hosts = base.join(&*hosts);
        }
        config.tunnels_conf = config.tunnels_conf.map(|t| base.join(t));
        // A tunnels.conf with a mistake stops the router here, before anything binds.
        config.tunnel_specs()?;
        Ok(config)
    }

    /// Parses and checks a configuration text; the message names the field at fault.
    pub fn parse(text: &str) -> Result<HostConfig, String> {
        let config: HostConfig = toml::from_str(text).map_err(|e| {
            // `[[tunnels]]` is what i2pd's users will write; say what to write instead.
            let plural = toml::from_str::<toml::Table>(text)
                .is_ok_and(|t| matches!(t.get("tunnels"), Some(toml::Value::Array(_))));
            match plural {
                true => "client and server tunnels are [[tunnel]] tables; [tunnels] is the \
                         router's own tunnel settings"
                    .to_string(),
                false => e.to_string(),
            }
        })?;
        config.check()?;
        Ok(config)
    }

    /// The configuration as TOML, every field written out (what `init` puts on disk).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot write configuration: {e}\n"))
    }

    fn check(&self) -> Result<(), String> {
        if !"KLMNOPX".contains(self.bandwidth_class) {
            return Err(format!(
                "bandwidth_class must be one of K L M N O P X, got {:?}",
                self.bandwidth_class
            ));
        }
        if self.net_id == 0 {
            return Err("net_id must be 1 or more (2 is the main network)".into());
        }
        let published = self.published_address();
        if published.ip().is_unspecified() || published.port() == 0 {
            return Err(format!(
                "cannot publish {published}: set `publish` to the address peers should dial \
                 (listen is {})",
                self.listen
            ));
        }
        if self.client.test_destination && !self.tunnels.enabled {
            return Err("[client] test_destination needs [tunnels] enabled".into());
        }
        if self.max_connections < 4 {
            return Err("max_connections must be at least 4".into());
        }
        let within = |name: &str, value: Span, min: u64, max: u64| {
            let secs = value.0.as_secs();
            if (min..=max).contains(&secs) {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be between {} and {}, got {value}",
                    Span(Duration::from_secs(min)),
                    Span(Duration::from_secs(max))
                ))
            }
        };
        within("idle_timeout", self.idle_timeout, 10, 86_400)?;
        within("save_interval", self.save_interval, 1, 86_400)?;
        let t = &self.tunnels;
        let hops = 1..=MAX_HOPS;
        if !hops.contains(&t.exploratory_hops) || !hops.contains(&t.client_hops) {
            return Err("tunnel hops must be between 1 and 7".into());
        }
        if !(1..=16).contains(&t.exploratory_tunnels) || !(1..=16).contains(&t.client_tunnels) {
            return Err("tunnel counts must be between 1 and 16".into());
        }
        self.sam.check()?;
        self.addressbook.check()?;
        if let Some(addr) = self.status {
            crate::host::console::auth::check_bind(addr, self.console.password.as_deref())
                .map_err(|e| e.to_string())?;
        }
        if !(1..=1024).contains(&self.console.max_clients) {
            return Err("[console] max_clients must be between 1 and 1024".into());
        }
        self.inline_tunnels().map_err(|e| e.to_string())?;
        Ok(())
    }

    /// The `[[tunnel]]` tables, checked; names must be unique.
    fn inline_tunnels(&self) -> Result<Vec<TunnelSpec>, SpecError> {
        let specs = self
            .tunnel
            .iter()
            .enumerate()
            .map(|(i, t)| spec::from_toml(i, t))
            .collect::<Result<Vec<_>, _>>()?;
        unique_names(&specs)?;
        Ok(specs)
    }

    /// Every tunnel to run: `[[tunnel]]`, then those of `tunnels_conf` (read now).
    pub fn tunnel_specs(&self) -> Result<Vec<TunnelSpec>, ConfigError> {
        let mut specs = self.inline_tunnels().map_err(|e| ConfigError::Invalid {
            path: PathBuf::from("router.toml"),
            message: e.to_string(),
        })?;
        if let Some(path) = &self.tunnels_conf {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let invalid = |e: SpecError| ConfigError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            };
            specs.extend(spec::from_ini(&text).map_err(invalid)?);
            unique_names(&specs).map_err(invalid)?;
        }
        Ok(specs)
    }

    /// The NTCP2 address we put in our RouterInfo.
    pub fn published_address(&self) -> SocketAddr {
        self.publish.unwrap_or(self.listen)
    }

    /// The core's configuration; `addresses` are the transport's to fill in.
    pub fn router_config(&self) -> RouterConfig {
        let t = &self.tunnels;
        let same_subnet = |mut rules: crate::profile::SelectionRules| {
            rules.distinct_slash16 &= !t.allow_same_subnet;
            rules
        };
        let tunnels = t.enabled.then(|| {
            let defaults = TunnelConfig::default();
            TunnelConfig {
                exploratory_hops: t.exploratory_hops,
                exploratory_tunnels: t.exploratory_tunnels,
                exploratory_selection: same_subnet(defaults.exploratory_selection.clone()),
                max_participating: t.max_participating,
                ..defaults
            }
        });
        let client_defaults = ClientConfig::default();
        RouterConfig {
            floodfill: self.floodfill,
            net_id: self.net_id,
            bandwidth_class: self.bandwidth_class,
            addresses: Vec::new(),
            netdb: NetDbConfig::default(),
            tunnels,
            clients: ClientConfig {
                hops: t.client_hops,
                tunnels: t.client_tunnels,
                selection: same_subnet(client_defaults.selection),
                // Real routers keep a recipient's lease: multihomed services need it.
                sticky_leases: true,
                // Over ECIES sessions, as i2pd and Java I2P send: the larger MTU.
                streaming: ManagerConfig {
                    stream: StreamConfig::ecies(),
                    ..ManagerConfig::default()
                },
                ..client_defaults
            },
            ..RouterConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(HostConfig::parse(""), Ok(HostConfig::default()));
    }

    #[test]
    fn written_configuration_reads_back() {
        let config = HostConfig {
            floodfill: true,
            net_id: 7,
            publish: Some("10.0.0.5:4000".parse().expect("address")),
            bootstrap: Some("seeds".into()),
            ..HostConfig::default()
        };
        assert_eq!(HostConfig::parse(&config.to_toml()), Ok(config));
    }

    #[test]
    fn no_status_page_stays_none() {
        let with = HostConfig {
            status: Some("127.0.0.1:7070".parse().expect("address")),
            ..HostConfig::default()
        };
        assert_eq!(HostConfig::parse(&with.to_toml()), Ok(with));
        let without = HostConfig::default();
        assert_eq!(without.status, None);
        assert_eq!(HostConfig::parse(&without.to_toml()), Ok(without));
    }

    #[test]
    fn a_console_beyond_loopback_needs_a_password() {
        let open = HostConfig::parse("status = '0.0.0.0:7070'").expect_err("no password");
        assert!(open.contains("[console] password"), "{open}");
        let short = "status = '0.0.0.0:7070'\n[console]\npassword = 'abc'";
        assert!(HostConfig::parse(short).is_err());
        let config =
            HostConfig::parse("status = '0.0.0.0:7070'\n[console]\npassword = 'long enough'")
                .expect("valid");
        assert_eq!(config.console.max_clients, 16);
        assert_eq!(HostConfig::parse(&config.to_toml()), Ok(config));
        assert!(HostConfig::parse("[console]\nmax_clients = 0").is_err());
    }

    #[test]
    fn durations_out_of_range_are_refused() {
        let zero = HostConfig::parse("save_interval = '0 s'").expect_err("zero interval");
        assert!(zero.contains("save_interval"), "{zero}");
        let idle = HostConfig::parse("idle_timeout = '1 s'").expect_err("too short");
        assert!(idle.contains("idle_timeout"), "{idle}");
        assert!(HostConfig::parse("idle_timeout = '100000 d'").is_err());
    }

    #[test]
    fn mistakes_name_the_field() {
        let typo = HostConfig::parse("flodfill = true").expect_err("unknown field");
        assert!(typo.contains("flodfill"), "{typo}");
        let class = HostConfig::parse("bandwidth_class = 'Z'").expect_err("bad class");
        assert!(class.contains("bandwidth_class"), "{class}");
        let listen = HostConfig::parse("listen = '0.0.0.0:4000'").expect_err("unpublishable");
        assert!(listen.contains("publish"), "{listen}");
        let idle = HostConfig::parse("idle_timeout = 'soon'").expect_err("bad duration");
        assert!(idle.contains("expected a duration"), "{idle}");
    }

    #[test]
    fn sam_defaults_and_checks() {
        let config =
            HostConfig::parse("[sam]\nuser = 'a'\npassword = 'b'\nudp = '127.0.0.1:17655'")
                .expect("valid config");
        assert_eq!(config.sam.tcp, SocketAddr::from(([127, 0, 0, 1], 7656)));
        assert_eq!(
            config.sam.udp,
            Some(SocketAddr::from(([127, 0, 0, 1], 17655)))
        );
        assert_eq!(HostConfig::parse(&config.to_toml()), Ok(config));
        let half = HostConfig::parse("[sam]\nuser = 'a'").expect_err("no password");
        assert!(half.contains("password"), "{half}");
        let slow = HostConfig::parse("[sam]\nhello_timeout = '2 h'").expect_err("too long");
        assert!(slow.contains("hello_timeout"), "{slow}");
        assert!(HostConfig::parse("[sam]\nmax_line = 10").is_err());
    }

    #[test]
    fn addressbook_defaults_and_checks() {
        let config = HostConfig::parse("[addressbook]\nhosts = ['hosts.txt']").expect("valid");
        assert_eq!(config.addressbook.hosts, [PathBuf::from("hosts.txt")]);
        assert_eq!(
            config.addressbook.subscriptions,
            ["http://i2p-projekt.i2p/hosts.txt"]
        );
        assert_eq!(HostConfig::parse(&config.to_toml()), Ok(config));
        let https = HostConfig::parse("[addressbook]\nsubscriptions = ['https://x.i2p/']");
        assert!(https.expect_err("not http").contains("https://x.i2p/"));
        let bad = HostConfig::parse("[addressbook]\njump_services = ['x y']").expect_err("bad");
        assert!(bad.contains("addressbook"), "{bad}");
        assert!(HostConfig::parse("[addressbook]\nmax_entries = 0").is_err());
        let quick = HostConfig::parse("[addressbook]\nfirst_fetch = '0 s'\nretry = '10 s'");
        assert_eq!(quick.expect("valid").addressbook.retry.0.as_secs(), 10);
        assert!(HostConfig::parse("[addressbook]\nretry = '1 s'").is_err());
        assert!(HostConfig::parse("[addressbook]\nretry = '13 h'").is_err());
        assert!(HostConfig::parse("[addressbook]\nupdate_interval = '1 min'").is_err());
    }

    #[test]
    fn tunnels_are_tables_with_i2pds_keys() {
        let text = "[[tunnel]]\nname = 'web'\ntype = 'http'\nhost = '127.0.0.1'\nport = 8080\n\
                    keys = 'web.dat'\ninbound.length = 2\n\n[[tunnel]]\nname = 'proxy'\n\
                    type = 'httpproxy'\n";
        let config = HostConfig::parse(text).expect("valid");
        let specs = config.tunnel_specs().expect("valid");
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].options["inbound.length"], "2");
        assert_eq!(HostConfig::parse(&config.to_toml()), Ok(config));
        let plural = HostConfig::parse("[[tunnels]]\nname = 'a'").expect_err("plural");
        assert!(plural.contains("[[tunnel]]"), "{plural}");
        let bad = HostConfig::parse("[[tunnel]]\nname = 'a'\ntype = 'client'\nport = 1")
            .expect_err("no destination");
        assert!(bad.contains("tunnel [a] destination"), "{bad}");
        let twice =
            "[[tunnel]]\nname = 'p'\ntype = 'socks'\n[[tunnel]]\nname = 'p'\ntype = 'socks'\n";
        assert!(HostConfig::parse(twice)
            .expect_err("twice")
            .contains("name"));
    }

    #[test]
    fn an_i2pd_tunnels_conf_is_read_relative_to_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("router.toml"),
            "tunnels_conf = 'tunnels.conf'\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("tunnels.conf"),
            "[p]\ntype = socks\nport = 1x\n",
        )
        .expect("write");
        let e = HostConfig::load(&dir.path().join("router.toml")).expect_err("bad port");
        let text = e.to_string();
        assert!(
            text.contains("tunnels.conf") && text.contains("tunnel [p] port"),
            "{text}"
        );
        std::fs::write(dir.path().join("tunnels.conf"), "[p]\ntype = socks\n").expect("write");
        let config = HostConfig::load(&dir.path().join("router.toml")).expect("valid");
        assert_eq!(config.tunnel_specs().expect("valid")[0].name, "p");
    }

    #[test]
    fn testnets_may_share_a_subnet() {
        let config =
            HostConfig::parse("[tunnels]\nallow_same_subnet = true").expect("valid config");
        let router = config.router_config();
        assert!(!router.clients.selection.distinct_slash16);
        let tunnels = router.tunnels.expect("tunnels on by default");
        assert!(!tunnels.exploratory_selection.distinct_slash16);
        assert!(
            HostConfig::default()
                .router_config()
                .clients
                .selection
                .distinct_slash16
        );
    }
}
