//! Interop with i2pd (the C++ router): its files read by our parsers, and i2pd run as a
//! child process on a private network over loopback (see `i2pd.rs`).
//!
//! The vectors in `tests/vectors/i2pd/` were written by i2pd 2.45.1 (`router.info`,
//! `router.keys`, `ntcp2.keys`), started by this harness's configuration with net id 7 and
//! NTCP2 on 127.0.0.1:17001; its webconsole gave its router hash (`I2PD_IDENT`). It is a
//! throwaway identity on a private network.
//!
//! Tests that run i2pd print "skipped: i2pd not installed" and pass when there is no
//! `i2pd` binary (set `I2PD` to use another one).

mod bench_i2pd;
mod i2pd;
mod proxy;
mod sam;
mod sam_client;
#[path = "../support/host.rs"]
mod support;

use i2pd::{I2pd, I2pdOptions};
use ramsons_router::crypto::RouterKeys;
use ramsons_router::data::{
    base64_decode, base64_encode, Certificate, DataError, Hash, Mapping, RouterAddress,
    RouterIdentity, RouterInfo,
};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::io::{ErrorKind, Read};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const I2PD_ROUTER_INFO: &[u8] = include_bytes!("../vectors/i2pd/router.info");
const I2PD_ROUTER_KEYS: &[u8] = include_bytes!("../vectors/i2pd/router.keys");
const I2PD_NTCP2_KEYS: &[u8] = include_bytes!("../vectors/i2pd/ntcp2.keys");
/// The "Router Ident" i2pd's webconsole showed for the identity in the vectors.
const I2PD_IDENT: &str = "U4ZWyZuzkuKsYBzoxOazB1ZHgTat7V4qz3n~i1beV7E=";

/// Bound on every wait for i2pd (it starts in well under a second when idle).
const WAIT: Duration = Duration::from_secs(20);

/// One i2pd at a time: the machine may have two cores shared with other work.
static I2PD_RUNNING: Mutex<()> = Mutex::new(());

fn ntcp2_address(ri: &RouterInfo) -> &RouterAddress {
    let ntcp2: Vec<_> = ri
        .addresses()
        .iter()
        .filter(|a| a.transport == "NTCP2")
        .collect();
    assert_eq!(ntcp2.len(), 1, "one NTCP2 address in {ri:?}");
    ntcp2[0]
}

fn decoded(address: &RouterAddress, key: &str) -> Vec<u8> {
    let value = address
        .options
        .get(key)
        .unwrap_or_else(|| panic!("NTCP2 address has no {key:?}"));
    base64_decode(value).unwrap_or_else(|e| panic!("{key}={value:?}: {e}"))
}

#[test]
fn i2pd_router_info_parses_with_a_valid_signature() {
    // `parse` verifies the signature: a RouterInfo value is always a verified one.
    let ri = RouterInfo::parse(I2PD_ROUTER_INFO).expect("i2pd's router.info parses");
    assert_eq!(ri.as_bytes(), I2PD_ROUTER_INFO);
    assert_eq!(ri.signature().len(), 64);
    // Any change to the signed bytes is refused.
    for pos in [0, 391, 420, I2PD_ROUTER_INFO.len() - 80] {
        let mut tampered = I2PD_ROUTER_INFO.to_vec();
        tampered[pos] ^= 0x01;
        assert_eq!(
            RouterInfo::parse(&tampered).err(),
            Some(DataError::BadSignature),
            "flip at {pos}"
        );
    }
}

#[test]
fn i2pd_router_info_identity_options_and_address() {
    let ri = RouterInfo::parse(I2PD_ROUTER_INFO).expect("parses");
    let identity = ri.identity();
    assert_eq!(identity.sig_type(), 7, "Ed25519");
    assert_eq!(identity.crypto_type(), 4, "X25519");
    assert!(matches!(identity.certificate(), Certificate::Key(_)));
    assert_eq!(identity.as_bytes().len(), 391);
    // Proposal 161 padding: one 32-byte block repeated over the 320 bytes.
    let padding = &identity.as_bytes()[32..352];
    assert!(padding.chunks(32).all(|block| block == &padding[..32]));

    assert_eq!(ri.net_id(), Some(7));
    assert_eq!(ri.caps(), "L");
    assert!(!ri.is_floodfill());
    assert_eq!(ri.router_version(), Some("0.9.57"));
    assert_eq!(ri.addresses().len(), 1, "SSU2 disabled: NTCP2 only");

    let ntcp2 = ntcp2_address(&ri);
    assert_eq!(ntcp2.cost, 3);
    assert_eq!(ntcp2.expiration_ms, 0);
    assert_eq!(ntcp2.options.get("host"), Some("127.0.0.1"));
    assert_eq!(ntcp2.options.get("port"), Some("17001"));
    assert_eq!(ntcp2.options.get("v"), Some("2"));
    assert_eq!(decoded(ntcp2, "s").len(), 32, "static key");
    assert_eq!(decoded(ntcp2, "i").len(), 16, "AES IV");
}

#[test]
fn i2pd_router_hash_matches_its_own_ident() {
    let ri = RouterInfo::parse(I2PD_ROUTER_INFO).expect("parses");
    assert_eq!(ri.hash().to_base64(), I2PD_IDENT);
    assert_eq!(Hash::from_base64(I2PD_IDENT), Ok(ri.hash()));
    assert_eq!(
        RouterInfo::identity_hash_of(I2PD_ROUTER_INFO),
        Some(ri.hash())
    );
    // Where i2pd would keep it in another i2pd's netDb.
    let path = i2pd::netdb_path("d".as_ref(), I2PD_ROUTER_INFO).expect("long enough");
    assert_eq!(
        path,
        std::path::Path::new("d/netDb/rU").join(format!("routerInfo-{I2PD_IDENT}.dat"))
    );
}

#[test]
fn i2pd_router_keys_rebuild_the_same_identity() {
    // router.keys: RouterIdentity, X25519 private key, Ed25519 private key (seed).
    assert_eq!(I2PD_ROUTER_KEYS.len(), 391 + 32 + 32);
    let (identity_bytes, secrets) = I2PD_ROUTER_KEYS.split_at(391);
    let identity = RouterIdentity::parse(identity_bytes).expect("identity parses");
    let ri = RouterInfo::parse(I2PD_ROUTER_INFO).expect("parses");
    assert_eq!(&identity, ri.identity());

    let x25519 = x25519_dalek::StaticSecret::from(<[u8; 32]>::try_from(&secrets[..32]).unwrap());
    assert_eq!(
        x25519_dalek::PublicKey::from(&x25519).to_bytes(),
        identity.encryption_key()
    );
    let ed25519 =
        ed25519_dalek::SigningKey::from_bytes(&<[u8; 32]>::try_from(&secrets[32..]).unwrap());
    assert_eq!(
        ed25519.verifying_key().to_bytes(),
        identity.signing_public_key()
    );

    // Our keys, from the same secrets and i2pd's padding block, are the same identity,
    // and what they sign i2pd's identity verifies.
    let mut ours = [0u8; 96];
    ours[..32].copy_from_slice(&secrets[32..]);
    ours[32..64].copy_from_slice(&secrets[..32]);
    ours[64..].copy_from_slice(&identity_bytes[32..64]);
    let keys = RouterKeys::from_secret_bytes(&ours);
    assert_eq!(keys.identity(), &identity);
    assert_eq!(keys.hash().to_base64(), I2PD_IDENT);
    let resigned = keys.sign_router_info(
        ri.published_ms(),
        ri.addresses().to_vec(),
        ri.options().clone(),
    );
    assert_eq!(RouterInfo::parse(resigned.as_bytes()), Ok(resigned));
}

#[test]
fn i2pd_ntcp2_keys_match_its_published_address() {
    // ntcp2.keys: static public key, static private key, IV.
    assert_eq!(I2PD_NTCP2_KEYS.len(), 32 + 32 + 16);
    let ri = RouterInfo::parse(I2PD_ROUTER_INFO).expect("parses");
    let ntcp2 = ntcp2_address(&ri);
    let secret =
        x25519_dalek::StaticSecret::from(<[u8; 32]>::try_from(&I2PD_NTCP2_KEYS[32..64]).unwrap());
    let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
    assert_eq!(&I2PD_NTCP2_KEYS[..32], public);
    assert_eq!(decoded(ntcp2, "s"), public);
    assert_eq!(decoded(ntcp2, "i"), &I2PD_NTCP2_KEYS[64..]);
    // NTCP2's static key is its own, not the router's encryption key.
    assert_ne!(public, ri.identity().encryption_key());
}

// ---- tests that run i2pd ----

fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(since.as_millis()).expect("ms fit u64")
}

/// A RouterInfo of ours on net `net_id` with an NTCP2 address at 127.0.0.1:`port`.
fn our_router_info(seed: u64, net_id: u8, port: u16) -> RouterInfo {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let keys = RouterKeys::generate(&mut rng);
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut iv);
    let mut address = Mapping::new();
    for (key, value) in [
        ("host", "127.0.0.1".to_owned()),
        ("port", port.to_string()),
        ("s", base64_encode(&keys.identity().encryption_key())),
        ("i", base64_encode(&iv)),
        ("v", "2".to_owned()),
    ] {
        address.insert(key, value).expect("small");
    }
    let mut options = Mapping::new();
    for (key, value) in [
        ("caps", "LR".to_owned()),
        ("netId", net_id.to_string()),
        ("router.version", "0.9.62".to_owned()),
    ] {
        options.insert(key, value).expect("small");
    }
    keys.sign_router_info(
        now_ms(),
        vec![RouterAddress::new(10, "NTCP2", address)],
        options,
    )
}

#[test]
fn i2pd_starts_writes_a_router_info_we_accept_and_listens() {
    let Some(binary) = i2pd::binary_or_skip() else {
        return;
    };
    let _one_at_a_time = I2PD_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let options = I2pdOptions::new().expect("free ports");
    let port = options.ntcp2_port;
    let mut i2pd = I2pd::start(&binary, dir.path(), options).expect("i2pd starts");

    let bytes = i2pd
        .wait_for_router_info(WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
    i2pd.wait_listening(WAIT).unwrap_or_else(|e| panic!("{e}"));
    let ident = i2pd
        .router_ident(Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}"));

    let ri = RouterInfo::parse(&bytes).expect("verified");
    assert_eq!(ri.hash().to_base64(), ident, "our hash is i2pd's ident");
    assert_eq!(ri.net_id(), Some(i2pd.options().net_id));
    assert_eq!(
        (ri.identity().sig_type(), ri.identity().crypto_type()),
        (7, 4)
    );
    let ntcp2 = ntcp2_address(&ri);
    assert_eq!(ntcp2.options.get("host"), Some("127.0.0.1"));
    assert_eq!(ntcp2.options.get("port"), Some(port.to_string().as_str()));
    assert_eq!(ntcp2.options.get("v"), Some("2"));
    assert_eq!(decoded(ntcp2, "s").len(), 32);
    assert_eq!(decoded(ntcp2, "i").len(), 16);
    // router.keys starts with the identity it published.
    let keys = std::fs::read(i2pd.data_dir().join("router.keys")).expect("router.keys");
    assert_eq!(keys.get(..391), Some(ri.identity().as_bytes()));

    assert!(i2pd.is_running());
    i2pd.stop();
    assert!(
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(1))
            .is_err(),
        "port closed once stopped"
    );
}

#[test]
fn i2pd_loads_our_router_info_from_its_netdb_and_dials_us_on_loopback() {
    let Some(binary) = i2pd::binary_or_skip() else {
        return;
    };
    let _one_at_a_time = I2PD_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let our_port = listener.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = I2pdOptions::new().expect("free ports");
    let ours = our_router_info(1, options.net_id, our_port);
    options.router_infos.push(ours.as_bytes().to_vec());
    let mut i2pd = I2pd::start(&binary, dir.path(), options).expect("i2pd starts");
    assert!(i2pd::netdb_path(dir.path(), ours.as_bytes())
        .expect("path")
        .is_file());

    // It builds a 1-hop exploratory tunnel through the only router it knows: us.
    let (mut stream, from) = i2pd
        .wait_for("a connection from i2pd", WAIT, |_| listener.accept().ok())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(from.ip().is_loopback());
    // Its first bytes: an NTCP2 SessionRequest (32-byte obfuscated key, 32-byte encrypted
    // options, then padding). Decrypting it is the NTCP2 transport's job.
    stream.set_nonblocking(false).expect("blocking");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut request = [0u8; 64];
    stream
        .read_exact(&mut request)
        .expect("a 64-byte SessionRequest");
    assert!(i2pd.log().contains("1 routers loaded"), "{}", i2pd.log());
}

#[test]
fn i2pd_closes_inbound_connections_from_loopback() {
    let Some(binary) = i2pd::binary_or_skip() else {
        return;
    };
    let version = i2pd::version(&binary).unwrap_or_default();
    if !version.contains("2.45.") {
        eprintln!("skipped: documents i2pd 2.45.x, found {version:?}");
        return;
    }
    let _one_at_a_time = I2PD_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut i2pd = I2pd::start(&binary, dir.path(), I2pdOptions::new().expect("free ports"))
        .expect("i2pd starts");
    i2pd.wait_listening(WAIT).unwrap_or_else(|e| panic!("{e}"));

    // It accepts the TCP connection, then closes it at once: 2.45.1 refuses inbound NTCP2
    // from reserved addresses even with reservedrange = false. A router that accepted it
    // would wait (silently) for our SessionRequest instead.
    let mut stream = TcpStream::connect(i2pd.ntcp2_addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = [0u8; 1];
    match stream.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("expected i2pd to close the connection, got {other:?}"),
    }
    let refused = i2pd.wait_for("the refusal in the log", WAIT, |i2pd| {
        i2pd.log()
            .contains("Incoming connection from invalid IP 127.0.0.1")
            .then_some(())
    });
    assert!(refused.is_ok(), "{refused:?}");
}

/// Our router, running on real sockets in a thread of its own while the test watches
/// its status.
struct OurRouter {
    status: tokio::sync::watch::Receiver<ramsons_router::host::Status>,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

/// Reports, with the time of day i2pd's log uses (UTC), when our router's event loop did
/// not let a 100 ms timer run for more than half a second: on this one-thread runtime,
/// a stall of everything the router sends and receives.
async fn report_stalls() {
    const TICK: std::time::Duration = std::time::Duration::from_millis(100);
    loop {
        let before = std::time::Instant::now();
        tokio::time::sleep(TICK).await;
        let late = before.elapsed().saturating_sub(TICK);
        if late > std::time::Duration::from_millis(500) {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
            eprintln!("our router's event loop stalled {late:?}, until {h:02}:{m:02}:{s:02} UTC");
        }
    }
}

impl OurRouter {
    fn start(config: ramsons_router::host::HostConfig) -> OurRouter {
        use ramsons_router::host::{Host, Start, Tokio};
        let (status_tx, status_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let host = Host::start(config, Tokio, Start::system())
                    .await
                    .expect("our router starts");
                status_tx.send(host.status()).expect("test waits");
                tokio::spawn(report_stalls());
                host.run(async {
                    let _ = stopped.await;
                })
                .await
                .expect("clean stop");
            });
        });
        let status = status_rx.recv().expect("our router's status");
        OurRouter {
            status,
            stop,
            thread,
        }
    }

    /// Stops it cleanly and waits for it.
    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("router thread");
    }
}

/// What our floodfill saw of i2pd, and when (seconds after i2pd started).
#[derive(Debug, Default)]
struct Milestones {
    session: Option<f64>,
    router_info: Option<f64>,
    store: Option<f64>,
    lookup: Option<f64>,
    tunnel: Option<f64>,
}

impl Milestones {
    fn complete(&self) -> bool {
        self.session.is_some()
            && self.router_info.is_some()
            && self.store.is_some()
            && self.lookup.is_some()
            && self.tunnel.is_some()
    }
}

/// The whole conversation, on loopback: i2pd knows only our floodfill (its RouterInfo
/// in i2pd's netDb folder), dials it over NTCP2, and then does what a router does with a
/// floodfill: stores its RouterInfo there (we verify the signature), looks things up (we
/// answer), and builds its 1-hop exploratory tunnels through it.
#[test]
fn i2pd_dials_our_floodfill_stores_looks_up_and_builds_tunnels_through_it() {
    use ramsons_router::host::{self, HostConfig, Start};
    let Some(binary) = i2pd::binary_or_skip() else {
        return;
    };
    let _one_at_a_time = I2PD_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = I2pdOptions::new().expect("free ports");
    let port = i2pd::free_port().expect("free port");
    let mut config = HostConfig {
        data_dir: dir.path().join("ours"),
        net_id: options.net_id,
        floodfill: true,
        listen: (Ipv4Addr::LOCALHOST, port).into(),
        status: None,
        sam: ramsons_router::host::SamSection::disabled(),
        ..HostConfig::default()
    };
    config.tunnels.allow_same_subnet = true;
    let info = host::init(&config, Start::system()).expect("our data directory");
    options.router_infos.push(info.as_bytes().to_vec());

    let ours = OurRouter::start(config);
    let status = ours.status.clone();

    let started = std::time::Instant::now();
    let mut i2pd =
        I2pd::start(&binary, dir.path().join("i2pd").as_path(), options).expect("i2pd starts");
    let ident = i2pd.router_hash(WAIT).unwrap_or_else(|e| panic!("{e}"));
    let mut seen = Milestones::default();
    while !seen.complete() && started.elapsed() < Duration::from_secs(150) {
        std::thread::sleep(Duration::from_millis(250));
        let s = status.borrow().clone();
        let at = started.elapsed().as_secs_f64();
        let mark = |slot: &mut Option<f64>, happened: bool| {
            if happened && slot.is_none() {
                *slot = Some(at);
            }
        };
        mark(&mut seen.session, s.peers.list.contains(&ident));
        mark(&mut seen.router_info, s.netdb.routers >= 1);
        mark(&mut seen.store, s.netdb.stores_received >= 1);
        mark(&mut seen.lookup, s.netdb.lookups_received >= 1);
        mark(&mut seen.tunnel, s.tunnels.participating >= 1);
    }
    let last = status.borrow().clone();
    let log = i2pd.log();
    i2pd.stop();
    ours.stop();
    eprintln!("milestones (s after i2pd started): {seen:?}");
    assert!(
        seen.complete(),
        "i2pd did not do everything with our floodfill: {seen:?}\nour status: {last:?}\n\
         i2pd log (tail):\n{}",
        log.lines()
            .rev()
            .take(60)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// An address on the loopback device that i2pd accepts connections from (it refuses
/// 127.x and the private ranges, not 198.18.0.0/15), added for one test and removed after.
struct BenchmarkingAddress {
    addr: Ipv4Addr,
    added: bool,
}

impl BenchmarkingAddress {
    /// `None` (the test skips) when it cannot be added: not root, or no `ip`.
    fn add(addr: Ipv4Addr) -> Option<BenchmarkingAddress> {
        let present = std::process::Command::new("ip")
            .args(["-4", "addr", "show", "dev", "lo"])
            .output()
            .ok()
            .is_some_and(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("{addr}/")));
        if present {
            return Some(BenchmarkingAddress { addr, added: false });
        }
        let added = std::process::Command::new("ip")
            .args(["addr", "add", &format!("{addr}/32"), "dev", "lo"])
            .status()
            .is_ok_and(|s| s.success());
        added.then_some(BenchmarkingAddress { addr, added: true })
    }
}

impl Drop for BenchmarkingAddress {
    fn drop(&mut self) {
        if self.added {
            let _ = std::process::Command::new("ip")
                .args(["addr", "del", &format!("{}/32", self.addr), "dev", "lo"])
                .status();
        }
    }
}

/// The other direction: our router dials i2pd (so i2pd checks our SessionRequest and
/// SessionConfirmed) and builds its 1-hop exploratory tunnels through it (so i2pd
/// decrypts our ECIES build records and answers them).
#[test]
fn we_dial_i2pd_and_build_tunnels_through_it() {
    use ramsons_router::host::HostConfig;
    let Some(binary) = i2pd::binary_or_skip() else {
        return;
    };
    let _one_at_a_time = I2PD_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(address) = BenchmarkingAddress::add(Ipv4Addr::new(198, 18, 0, 2)) else {
        eprintln!("skipped: cannot add 198.18.0.2 to the loopback device (needs root and `ip`)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = I2pdOptions::new().expect("free ports");
    options.ntcp2_host = address.addr;
    // Our router asks it netDb questions first, which puts it in our profiles and
    // tiers, from which tunnel hops are drawn.
    options.floodfill = true;
    let net_id = options.net_id;
    let mut i2pd =
        I2pd::start(&binary, dir.path().join("i2pd").as_path(), options).expect("i2pd starts");
    let info = i2pd
        .wait_for_router_info(WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
    // Not `wait_listening`: i2pd would hold that probe from 198.18.0.2 as a pending
    // session for a while and refuse our real one from the same address.
    let ident = i2pd.router_hash(WAIT).unwrap_or_else(|e| panic!("{e}"));
    let boot = dir.path().join("i2pd.dat");
    std::fs::write(&boot, &info).expect("write i2pd's RouterInfo");

    let mut config = HostConfig {
        data_dir: dir.path().join("ours"),
        net_id,
        listen: (Ipv4Addr::LOCALHOST, i2pd::free_port().expect("free port")).into(),
        bootstrap: Some(boot),
        status: None,
        sam: ramsons_router::host::SamSection::disabled(),
        ..HostConfig::default()
    };
    config.tunnels.exploratory_hops = 1;
    config.tunnels.allow_same_subnet = true;
    let ours = OurRouter::start(config);
    let status = ours.status.clone();
    let started = std::time::Instant::now();
    let (mut session, mut built) = (None, None);
    while (session.is_none() || built.is_none()) && started.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_millis(250));
        let s = status.borrow().clone();
        let at = started.elapsed().as_secs_f64();
        if session.is_none() && s.peers.list.contains(&ident) {
            session = Some(at);
        }
        if built.is_none() && s.tunnels.builds_succeeded > 0 {
            built = Some(at);
        }
    }
    let last = status.borrow().clone();
    let log = i2pd.log();
    i2pd.stop();
    ours.stop();
    eprintln!("session after {session:?} s, first tunnel built after {built:?} s");
    assert!(
        session.is_some() && built.is_some(),
        "session {session:?}, built {built:?}; our status: {last:?}\ni2pd log (tail):\n{}",
        log.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
