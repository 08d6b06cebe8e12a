//! A test harness that runs i2pd (the C++ I2P router, Debian package `i2pd`, written for
//! 2.45.1) as a child process on a private network over loopback.
//!
//! We only run i2pd and read what it writes; nothing of its code is used here.
//!
//! What [`I2pd::start`] does, given a data directory (normally a fresh temporary one):
//!
//! 1. writes `i2pd.conf` (every option below, each with the reason it is set) and
//!    `tunnels.conf` (empty unless a test gives it client or server tunnels);
//! 2. puts each given RouterInfo in i2pd's netDb folder as
//!    `netDb/r<c>/routerInfo-<hash>.dat`, `<hash>` being the router hash in I2P base64 and
//!    `<c>` its first character. i2pd reads that folder once at start ("NetDb: N routers
//!    loaded") and dials those routers when it builds its first tunnels, a second or two
//!    later;
//! 3. runs, in the foreground, exactly:
//!
//!    ```text
//!    i2pd --datadir=<dir> --conf=<dir>/i2pd.conf --tunconf=<dir>/tunnels.conf --pidfile=<dir>/i2pd.pid
//!    ```
//!
//!    (`--datadir` also sets where it keeps its keys, netDb and profiles; `--conf` and
//!    `--tunconf` keep it from reading `~/.i2pd` or `/var/lib/i2pd`; `--pidfile` keeps the
//!    pid file inside the directory.)
//!
//! Dropping the [`I2pd`] kills the process (SIGKILL: nothing of its state matters after a
//! test; SIGTERM would also stop it within a second, SIGINT starts a graceful shutdown that
//! can wait minutes for transit tunnels).
//!
//! What i2pd 2.45.1 writes in the data directory at start:
//!
//! - `router.keys` (455 bytes): its RouterIdentity (391 bytes: X25519 key, 320 bytes of
//!   padding made of one 32-byte random block repeated, Ed25519 key, KEY certificate 7/4),
//!   then the X25519 private key (32), then the Ed25519 private key (its 32-byte seed);
//! - `router.info`: its signed RouterInfo (rewritten when it changes);
//! - `ntcp2.keys` (80 bytes): NTCP2 static public key (the address's `s`), static
//!   private key, then the 16-byte IV (the address's `i`);
//! - `netDb/r<c>/` for the 64 base64 characters (empty unless filled by us or by peers
//!   it learned; its own RouterInfo is not stored there), `peerProfiles/`,
//!   `destinations/`, `tags/`, and the log file.
//!
//! Its own router hash is not in any file name: the webconsole's main page shows it
//! ("Router Ident"), see [`I2pd::router_ident`]; it is also the hash of `router.info`'s
//! identity, see [`I2pd::router_hash`], which the tests use (the webconsole once did not
//! answer within 20 s on a loaded CI machine).
//!
//! i2pd 2.45.1 and loopback: with `reservedrange = false` it dials routers published on
//! 127.0.0.1 (with the default `true` it says "No compatible addresses available" and does
//! not try), but it closes every *incoming* NTCP2 connection from a reserved address right
//! after accepting it ("NTCP2: Incoming connection from invalid IP 127.0.0.1"), whatever
//! `reservedrange` says. Observed refused sources: 127.0.0.0/8, 10/8, 172.16/12,
//! 192.168/16, 100.64/10, 169.254/16, 192.0.2/24, 198.51.100/24, 203.0.113/24; accepted:
//! 198.18.0.0/15. So on one machine i2pd can dial us on 127.0.0.1, but we can only dial
//! it from a source address outside those ranges (e.g. 198.18.0.1 added to `lo`).

use ramsons_router::data::RouterInfo;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A b32 address of no destination (32 zero bytes): where i2pd's address book is sent
/// for its default subscription, so that it looks and fails instead of aborting.
const UNREACHABLE_B32: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b32.i2p";

/// How to run one i2pd.
#[derive(Debug, Clone)]
pub struct I2pdOptions {
    /// The network id (2 is the real I2P network: never use it here).
    pub net_id: u8,
    /// The address NTCP2 listens on and publishes: 127.0.0.1, or an address i2pd lets
    /// peers dial in from, such as one in 198.18.0.0/15 added to the loopback device.
    pub ntcp2_host: Ipv4Addr,
    /// The NTCP2 port it listens on and publishes.
    pub ntcp2_port: u16,
    /// The webconsole port (on 127.0.0.1); the harness reads the router hash from it.
    pub http_port: u16,
    /// Serve the netDb as a floodfill (so that we have one to ask when it is the only
    /// router we know).
    pub floodfill: bool,
    /// Hops of its exploratory tunnels, both directions.
    pub exploratory_length: u8,
    /// Exploratory tunnels it keeps per direction.
    pub exploratory_quantity: u8,
    /// Signed RouterInfos to put in its netDb before it starts.
    pub router_infos: Vec<Vec<u8>>,
    /// "debug", "info", "warn", "error" or "none".
    pub log_level: &'static str,
    /// Its SAM bridge's TCP port on 127.0.0.1, when it should run one.
    pub sam_port: Option<u16>,
    /// Its bandwidth class (`bandwidth =`: L, O, P, X...) when not i2pd's default.
    pub bandwidth: Option<char>,
    /// Its HTTP proxy's port on 127.0.0.1, when it should run one (1-hop tunnels, one
    /// each way, so that one peer is enough).
    pub http_proxy_port: Option<u16>,
    /// The text of its `tunnels.conf` (client and server tunnels); none when empty.
    pub tunnels_conf: String,
}

impl I2pdOptions {
    /// Net id 7, free ports on 127.0.0.1, one 1-hop exploratory tunnel each way (so it
    /// needs a single peer, us, to build them), no RouterInfos, info-level log.
    pub fn new() -> io::Result<I2pdOptions> {
        Ok(I2pdOptions {
            net_id: 7,
            ntcp2_host: Ipv4Addr::LOCALHOST,
            ntcp2_port: free_port()?,
            http_port: free_port()?,
            floodfill: false,
            exploratory_length: 1,
            exploratory_quantity: 1,
            router_infos: Vec::new(),
            log_level: "info",
            sam_port: None,
            bandwidth: None,
            http_proxy_port: None,
            tunnels_conf: String::new(),
        })
    }

    /// The `i2pd.conf` for `data_dir`.
    pub fn config(&self, data_dir: &Path) -> String {
        let mut c = String::new();
        let mut line = |comment: &str, setting: String| {
            let _ = writeln!(c, "# {comment}\n{setting}");
        };
        line(
            "A file, not stdout: the child's output is discarded, tests read the file.",
            "log = file".into(),
        );
        line(
            "Inside the data directory.",
            format!("logfile = {}", data_dir.join("i2pd.log").display()),
        );
        line(
            "How much it logs.",
            format!("loglevel = {}", self.log_level),
        );
        line(
            "A private network: routers with another netId are refused (the real one is 2).",
            format!("netid = {}", self.net_id),
        );
        line(
            "Dial peers whose addresses are reserved (127.0.0.1); default true refuses them.",
            "reservedrange = false".into(),
        );
        line(
            "The address it publishes in its NTCP2 address.",
            format!("host = {}", self.ntcp2_host),
        );
        line(
            "Listen on that address only (without it, NTCP2 listens on 0.0.0.0).",
            format!("address4 = {}", self.ntcp2_host),
        );
        line("IPv4 only.", "ipv4 = true\nipv6 = false".into());
        line(
            "Not behind NAT: publish host and port as they are.",
            "nat = false".into(),
        );
        line(
            "A plain router (the default, said explicitly).",
            format!("floodfill = {}", self.floodfill),
        );
        if let Some(class) = self.bandwidth {
            line(
                "Bandwidth class (published caps and i2pd's own limits).",
                format!("bandwidth = {class}"),
            );
        }
        line(
            "Our harness owns all state; no profiles or address book kept between runs.",
            "[persist]\nprofiles = false\naddressbook = false".into(),
        );
        line(
            "NTCP2 on a fixed port, published (with s, i, v=2, host, port).",
            format!(
                "[ntcp2]\nenabled = true\npublished = true\nport = {}",
                self.ntcp2_port
            ),
        );
        line(
            "No SSU2: ramsons speaks NTCP2 only; also keeps the RouterInfo to one address.",
            "[ssu2]\nenabled = false\npublished = false".into(),
        );
        line(
            "Webconsole on loopback: shows the router hash, tunnels and peers.",
            format!(
                "[http]\nenabled = true\naddress = 127.0.0.1\nport = {}",
                self.http_port
            ),
        );
        let sam = match self.sam_port {
            Some(port) => format!("enabled = true\naddress = 127.0.0.1\nport = {port}"),
            None => "enabled = false".into(),
        };
        let http_proxy = match self.http_proxy_port {
            Some(port) => format!(
                "enabled = true\naddress = 127.0.0.1\nport = {port}\ninbound.length = 1\n\
                 outbound.length = 1\ninbound.quantity = 1\noutbound.quantity = 1"
            ),
            None => "enabled = false".into(),
        };
        line(
            "No client services but SAM and the HTTP proxy when asked: the SOCKS proxy, BOB, \
             I2CP and I2PControl are not needed.",
            format!(
                "[httpproxy]\n{http_proxy}\n[socksproxy]\nenabled = false\n[sam]\n{sam}\n\
                 [bob]\nenabled = false\n[i2cp]\nenabled = false\n[i2pcontrol]\nenabled = false"
            ),
        );
        line(
            "An address book without subscriptions, no UPnP or NTP: nothing leaves the \
             machine. The book stays enabled because i2pd 2.45's SAM writes every incoming \
             stream's destination into it: with it disabled, the first STREAM ACCEPT that \
             receives a stream dereferences its missing storage (SIGSEGV, seen under gdb). \
             An empty book fetches its default subscription about two minutes after the \
             start, and an empty `defaulturl` aborts i2pd there (std::out_of_range from \
             basic_string::at): the default names a b32 address nobody has, whose LeaseSet \
             lookup fails on the private network.",
            format!(
                "[addressbook]\nenabled = true\ndefaulturl = http://{UNREACHABLE_B32}/hosts.txt\n\
                 subscriptions =\n[upnp]\nenabled = false\n[nettime]\nenabled = false"
            ),
        );
        line(
            "No reseed: no URLs (it logs \"No reseed servers specified\" and goes on), \
             signatures required, never triggered by a small netDb.",
            "[reseed]\nverify = true\nurls =\nyggurls =\nthreshold = 0".into(),
        );
        line(
            "Short exploratory tunnels, so one peer (us) is enough to build them.",
            format!(
                "[exploratory]\ninbound.length = {0}\noutbound.length = {0}\n\
                 inbound.quantity = {1}\noutbound.quantity = {1}",
                self.exploratory_length, self.exploratory_quantity
            ),
        );
        c
    }
}

/// Where i2pd keeps the RouterInfo of `router_info` (signed bytes) in `data_dir`:
/// `netDb/r<c>/routerInfo-<hash>.dat`. `None` if the bytes are too short for an identity.
pub fn netdb_path(data_dir: &Path, router_info: &[u8]) -> Option<PathBuf> {
    let hash = RouterInfo::identity_hash_of(router_info)?.to_base64();
    let first = hash.chars().next()?;
    Some(
        data_dir
            .join("netDb")
            .join(format!("r{first}"))
            .join(format!("routerInfo-{hash}.dat")),
    )
}

/// The i2pd binary: `$I2PD` if set, else `i2pd` on the `PATH`; `None` if there is none.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("I2PD") {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("i2pd"))
        .find(|path| path.is_file())
}

/// The binary, or `None` after printing why the calling test skips.
pub fn binary_or_skip() -> Option<PathBuf> {
    let found = binary();
    if found.is_none() {
        eprintln!("skipped: i2pd not installed (apt-get install i2pd, or set I2PD)");
    }
    found
}

/// `i2pd --version`'s first line, e.g. "i2pd version 2.45.1 (0.9.57)".
pub fn version(binary: &Path) -> io::Result<String> {
    let out = Command::new(binary).arg("--version").output()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned())
}

/// A TCP port free on 127.0.0.1 right now (the OS picks it; another process could take it
/// before i2pd binds it, which is unlikely enough for tests).
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// A running i2pd. Killed on drop.
pub struct I2pd {
    child: Child,
    data_dir: PathBuf,
    options: I2pdOptions,
}

impl I2pd {
    /// Writes the configuration and RouterInfos into `data_dir` (created if needed) and
    /// starts `binary` on it.
    pub fn start(binary: &Path, data_dir: &Path, options: I2pdOptions) -> io::Result<I2pd> {
        std::fs::create_dir_all(data_dir)?;
        let conf = data_dir.join("i2pd.conf");
        let tunconf = data_dir.join("tunnels.conf");
        std::fs::write(&conf, options.config(data_dir))?;
        let tunnels = match options.tunnels_conf.is_empty() {
            true => "# No client or server tunnels: only the router runs.\n",
            false => options.tunnels_conf.as_str(),
        };
        std::fs::write(&tunconf, tunnels)?;
        for ri in &options.router_infos {
            let path = netdb_path(data_dir, ri).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "RouterInfo too short")
            })?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, ri)?;
        }
        let child = Command::new(binary)
            .arg(format!("--datadir={}", data_dir.display()))
            .arg(format!("--conf={}", conf.display()))
            .arg(format!("--tunconf={}", tunconf.display()))
            .arg(format!("--pidfile={}", data_dir.join("i2pd.pid").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // What a crash leaves (an uncaught exception's message) is kept for `exit`.
            .stderr(std::fs::File::create(data_dir.join("stderr.log"))?)
            .spawn()?;
        Ok(I2pd {
            child,
            data_dir: data_dir.to_owned(),
            options,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn options(&self) -> &I2pdOptions {
        &self.options
    }

    /// Its NTCP2 address.
    pub fn ntcp2_addr(&self) -> SocketAddr {
        SocketAddr::from((self.options.ntcp2_host, self.options.ntcp2_port))
    }

    /// Its log so far ("" if not written yet).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("i2pd.log")).unwrap_or_default()
    }

    /// An error message with the end of the log, for failed waits.
    fn failure(&self, what: &str) -> String {
        let log = self.log();
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "{what} (data dir {}); end of i2pd.log:\n{}",
            self.data_dir.display(),
            tail.join("\n")
        )
    }

    /// Calls `probe` every 100 ms until it returns `Some`, the process exits or `timeout`
    /// passes.
    pub fn wait_for<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut(&I2pd) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = probe(self) {
                return Ok(found);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failure(&format!("i2pd exited ({status}) before {what}")));
            }
            if Instant::now() >= deadline {
                return Err(self.failure(&format!("no {what} within {timeout:?}")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Its `router.info` once it is there and parses (signature checked), as bytes.
    pub fn wait_for_router_info(&mut self, timeout: Duration) -> Result<Vec<u8>, String> {
        self.wait_for("router.info", timeout, |i2pd| {
            let bytes = std::fs::read(i2pd.data_dir.join("router.info")).ok()?;
            RouterInfo::parse(&bytes).ok().map(|_| bytes)
        })
    }

    /// Waits until its NTCP2 port accepts a TCP connection.
    pub fn wait_listening(&mut self, timeout: Duration) -> Result<(), String> {
        let addr = self.ntcp2_addr();
        self.wait_for("NTCP2 listener", timeout, |_| {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                .ok()
                .map(|_| ())
        })
    }

    /// Its router hash in I2P base64, from its `router.info`.
    pub fn router_hash(&mut self, timeout: Duration) -> Result<String, String> {
        let bytes = self.wait_for_router_info(timeout)?;
        let info = RouterInfo::parse(&bytes).map_err(|e| format!("router.info: {e}"))?;
        Ok(info.hash().to_base64())
    }

    /// Its router hash in I2P base64, as its webconsole shows it ("Router Ident"): one
    /// test checks that this is [`I2pd::router_hash`].
    pub fn router_ident(&mut self, timeout: Duration) -> Result<String, String> {
        let port = self.options.http_port;
        self.wait_for("webconsole Router Ident", timeout, |_| {
            let page = http_get(port, "/").ok()?;
            let (_, rest) = page.split_once("Router Ident:</b>")?;
            let ident: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '~' | '='))
                .collect();
            (!ident.is_empty()).then_some(ident)
        })
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process and waits for it.
    pub fn stop(mut self) {
        self.kill();
    }

    /// `None` while it runs; once it has exited by itself, how, with what it wrote to
    /// stderr: a test that sees its peer vanish says whether i2pd crashed.
    pub fn exit(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok()??;
        let stderr = std::fs::read_to_string(self.data_dir.join("stderr.log")).unwrap_or_default();
        Some(format!(
            "i2pd exited by itself ({status}); stderr: {stderr:?}"
        ))
    }

    /// SIGTERM first, so that it flushes its log (it exits within a second or two),
    /// then SIGKILL after 5 s.
    fn kill(&mut self) {
        if self.is_running() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while self.is_running() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if self.is_running() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for I2pd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1:`port`, the whole response as text.
fn http_get(port: u16, path: &str) -> io::Result<String> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut body = Vec::new();
    stream.read_to_end(&mut body)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The b32 address of the destination in an i2pd private key file (as its `keys =`
/// tunnels write them): the file starts with the Destination, 387 bytes plus its
/// certificate's payload, whose length is in bytes 385..387. `None` until the file is
/// there and starts with a destination.
pub fn keys_file_b32(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let cert_len = usize::from(u16::from_be_bytes([*bytes.get(385)?, *bytes.get(386)?]));
    let dest = bytes.get(..387 + cert_len)?;
    ramsons_router::data::Destination::parse(dest)
        .ok()
        .map(|d| d.to_b32_address())
}
