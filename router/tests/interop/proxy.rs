//! Web pages between ramsons and i2pd: our HTTP proxy fetches a page from an i2pd
//! `http` server tunnel, and i2pd's HTTP proxy fetches one from ours. The two routers
//! are alone on a private network over loopback (i2pd on 198.18.0.4, which it accepts
//! connections from), both floodfills, with 1-hop tunnels.
//!
//! Pages are 4 KiB: enough for several streaming packets each way, small enough to stay
//! clear of the large i2pd -> ramsons transfers that sometimes stall (see `sam.rs`).

use super::i2pd::{self, I2pd, I2pdOptions};
use super::{BenchmarkingAddress, OurRouter, I2PD_RUNNING, WAIT};
use ramsons_router::host::HostConfig;
use rand::SeedableRng;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a page may take to come through, counting the LeaseSet being published
/// and found (i2pd's proxy answers with error pages until then).
/// How long one request may wait for its answer: a stream that gets nowhere (see the
/// test of i2pd's proxy) is given up and a new one tried.
const REQUEST_WAIT: Duration = Duration::from_secs(45);
const PAGE_WAIT: Duration = Duration::from_secs(300);
const PAGE_LEN: usize = 4096;

/// The page both web servers serve.
fn page() -> String {
    let line = "a page served over I2P, fetched through a proxy\n";
    line.repeat(PAGE_LEN / line.len() + 1)[..PAGE_LEN].to_owned()
}

/// A web server on 127.0.0.1 that answers every request with [`page`] and keeps the
/// request heads it saw (lowercased).
fn web_server(seen: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let _ = socket.set_read_timeout(Some(REQUEST_WAIT));
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                seen.lock().expect("lock").push(head);
                let body = page();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes());
            });
        }
    });
    addr
}

/// One GET of `http://{host}/page` through the proxy at `proxy`: the whole answer
/// ("" if the proxy did not answer in time).
fn get_through(proxy: SocketAddr, host: &str) -> String {
    let Ok(mut socket) = TcpStream::connect(proxy) else {
        return String::new();
    };
    let _ = socket.set_read_timeout(Some(REQUEST_WAIT));
    let request =
        format!("GET http://{host}/page HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if socket.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Asks again (the LeaseSet may not be out yet) until a 200 comes or [`PAGE_WAIT`]
/// passes; the 200's body and how long it took.
fn fetch_page(
    proxy: SocketAddr,
    host: &str,
    i2pd: &mut I2pd,
) -> Result<(String, Duration), String> {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < PAGE_WAIT {
        if let Some(exited) = i2pd.exit() {
            return Err(exited);
        }
        let answer = get_through(proxy, host);
        if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
            let body = answer
                .split_once("\r\n\r\n")
                .map(|(_, b)| b.to_owned())
                .unwrap_or_default();
            return Ok((body, started.elapsed()));
        }
        let status = answer.lines().next().unwrap_or("no answer").to_owned();
        eprintln!("{:?}: {status}", started.elapsed());
        last = answer;
        std::thread::sleep(Duration::from_secs(3));
    }
    Err(format!(
        "no page in {PAGE_WAIT:?}; last answer: {last:.2000}"
    ))
}

/// i2pd and our router, each with an HTTP proxy and an `http` server tunnel in front
/// of its own web server.
struct Sites {
    i2pd: I2pd,
    ours: OurRouter,
    i2pd_proxy: SocketAddr,
    our_proxy: SocketAddr,
    i2pd_site: String,
    our_site: String,
    i2pd_seen: Arc<Mutex<Vec<String>>>,
    our_seen: Arc<Mutex<Vec<String>>>,
    _address: BenchmarkingAddress,
    _dir: tempfile::TempDir,
}

impl Sites {
    /// `None` (the test skips) without i2pd or the 198.18.0.4 address. Both routers
    /// are floodfills: with ours the only one, our destinations never count as
    /// published (our router does not store its own LeaseSets to itself), so their
    /// tunnels never start serving.
    /// `RUST_LOG=ramsons_router=debug` shows our side; `I2PD_LOG=debug` sets i2pd's
    /// log level (its log is kept in the temporary folder as `ramsons-interop-proxy-i2pd.log`).
    fn start() -> Option<Sites> {
        let binary = i2pd::binary_or_skip()?;
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let Some(address) = BenchmarkingAddress::add(Ipv4Addr::new(198, 18, 0, 4)) else {
            eprintln!(
                "skipped: cannot add 198.18.0.4 to the loopback device (needs root and `ip`)"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let (i2pd_seen, our_seen) = (Arc::default(), Arc::default());
        let i2pd_web = web_server(Arc::clone(&i2pd_seen));
        let our_web = web_server(Arc::clone(&our_seen));

        let mut options = I2pdOptions::new().expect("free ports");
        options.ntcp2_host = address.addr;
        options.floodfill = true;
        if std::env::var("I2PD_LOG").as_deref() == Ok("debug") {
            options.log_level = "debug";
        }
        let i2pd_proxy_port = i2pd::free_port().expect("free port");
        options.http_proxy_port = Some(i2pd_proxy_port);
        // i2pd's own key names; its default LeaseSet carries ElGamal and X25519 keys.
        options.tunnels_conf = format!(
            "[site]\ntype = http\nhost = 127.0.0.1\nport = {}\nkeys = site.dat\n\
             inbound.length = 1\noutbound.length = 1\ninbound.quantity = 1\n\
             outbound.quantity = 1\n",
            i2pd_web.port()
        );
        let net_id = options.net_id;
        let i2pd_dir = dir.path().join("i2pd");
        let mut i2pd = I2pd::start(&binary, &i2pd_dir, options).expect("i2pd starts");
        let info = i2pd
            .wait_for_router_info(WAIT)
            .unwrap_or_else(|e| panic!("{e}"));
        let boot = dir.path().join("i2pd.dat");
        std::fs::write(&boot, &info).expect("write i2pd's RouterInfo");
        let i2pd_site = i2pd
            .wait_for("the site's keys", WAIT, |i2pd| {
                i2pd::keys_file_b32(&i2pd.data_dir().join("site.dat"))
            })
            .unwrap_or_else(|e| panic!("{e}"));

        let (config, proxy_port, our_site) = our_config(dir.path(), net_id, boot, our_web);
        let our_proxy = SocketAddr::from((Ipv4Addr::LOCALHOST, proxy_port));
        let ours = OurRouter::start(config);
        Some(Sites {
            i2pd,
            ours,
            i2pd_proxy: (Ipv4Addr::LOCALHOST, i2pd_proxy_port).into(),
            our_proxy,
            i2pd_site,
            our_site,
            i2pd_seen,
            our_seen,
            _address: address,
            _dir: dir,
        })
    }

    /// Stops both; on failure, what i2pd logged.
    fn stop(self, outcome: Result<(), String>) {
        let log = self.i2pd.log();
        let kept = std::env::temp_dir().join("ramsons-interop-proxy-i2pd.log");
        let _ = std::fs::write(&kept, &log);
        self.i2pd.stop();
        self.ours.stop();
        if let Err(why) = outcome {
            let tail: Vec<&str> = log.lines().rev().take(200).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!("{why}\ni2pd log (tail):\n{}", tail.join("\n"));
        }
    }
}

/// Our router: bootstrapped from i2pd, a floodfill, 1-hop tunnels, an HTTP proxy on a
/// free port and an `http` server tunnel to `web`. The configuration, the proxy's
/// port and the site's b32 address.
fn our_config(
    dir: &Path,
    net_id: u8,
    boot: std::path::PathBuf,
    web: SocketAddr,
) -> (HostConfig, u16, String) {
    let data_dir = dir.join("ours");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(44);
    let site =
        ramsons_router::host::tunnels::keys::load_or_create(&data_dir.join("site.dat"), &mut rng)
            .expect("our site's keys");
    let proxy_port = i2pd::free_port().expect("free port");
    let tunnels = format!(
        "[[tunnel]]\nname = 'proxy'\ntype = 'httpproxy'\nport = {proxy_port}\n\n\
         [[tunnel]]\nname = 'site'\ntype = 'http'\nhost = '127.0.0.1'\nport = {}\n\
         keys = 'site.dat'\n",
        web.port()
    );
    let mut config = super::support::loopback_config(dir, "ours", &boot, net_id, &tunnels);
    config.floodfill = true;
    config.status = None;
    (config, proxy_port, site.destination().to_b32_address())
}

/// Our proxy, an i2pd site: our SYN and request go to i2pd, its answer comes back.
#[test]
fn our_http_proxy_fetches_a_page_from_an_i2pd_server_tunnel() {
    let _one_at_a_time = I2PD_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut sites) = Sites::start() else {
        return;
    };
    let (proxy, host) = (sites.our_proxy, sites.i2pd_site.clone());
    let outcome = fetch_page(proxy, &host, &mut sites.i2pd).and_then(|(body, took)| {
        eprintln!("i2pd's page through our proxy after {took:?}");
        let head = sites.i2pd_seen.lock().expect("lock").last().cloned();
        let head = head.ok_or("i2pd's web server saw no request")?;
        // i2pd's http server tunnel says who asked; our proxy replaced the user agent.
        if !head.contains("x-i2p-destb32: ") || !head.contains("user-agent: myob/6.66") {
            return Err(format!("unexpected request head at i2pd's server: {head}"));
        }
        match body == page() {
            true => Ok(()),
            false => Err(format!("a different page ({} bytes)", body.len())),
        }
    });
    sites.stop(outcome);
}

/// i2pd's proxy, our site: i2pd finds our LeaseSet, its SYN and request come to our
/// server tunnel, our answer goes back.
///
/// i2pd 2.45.1's first stream here often gets nowhere, for a reason on its side: when
/// its proxy first asks for our site, i2pd (a floodfill) finds our LeaseSet2 in its own
/// netDb, logs `LeaseSet: Identity length 391 exceeds buffer size 543` (543 bytes is
/// our whole LeaseSet2: it was read as a LeaseSet of type 1) and `Remote LeaseSet
/// expired`, looks it up from us (we answer with it), and then sends that stream's
/// SYNs garlic-encrypted with ElGamal (`Garlic: No tags available, will use ElGamal`)
/// to our destination, which publishes only an X25519 key: we cannot read them, and
/// i2pd resends them for minutes. Its next stream, made with the LeaseSet it looked
/// up, works at once. So each request waits [`REQUEST_WAIT`], then a new one is sent.
#[test]
fn i2pds_http_proxy_fetches_a_page_from_our_server_tunnel() {
    let _one_at_a_time = I2PD_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut sites) = Sites::start() else {
        return;
    };
    let (proxy, host) = (sites.i2pd_proxy, sites.our_site.clone());
    let outcome = fetch_page(proxy, &host, &mut sites.i2pd);
    let seen = sites.our_seen.lock().expect("lock").len();
    let outcome = outcome.map_err(|e| format!("{e}\n(our web server saw {seen} requests)"));
    let outcome = outcome.and_then(|(body, took)| {
        eprintln!("our page through i2pd's proxy after {took:?}");
        let head = sites.our_seen.lock().expect("lock").last().cloned();
        let head = head.ok_or("our web server saw no request")?;
        if !head.contains("x-i2p-destb32: ") {
            return Err(format!("unexpected request head at our server: {head}"));
        }
        match body == page() {
            true => Ok(()),
            false => Err(format!("a different page ({} bytes)", body.len())),
        }
    });
    sites.stop(outcome);
}
