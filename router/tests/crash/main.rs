//! Crash safety of the real router (issue 19, part 3): the `ramsons-router` binary is
//! killed with SIGKILL at seeded random moments and started again on the same data
//! directory, many times. After every kill the data directory is checked as the next
//! start will read it:
//!
//! - the identity never changes (`router.keys`, `ntcp2.keys`, the test destination's
//!   and the server tunnel's keys are byte for byte what the first start wrote, and
//!   `router.info` is signed by that identity);
//! - every netDb file parses and verifies, `profiles.dat` decodes, the address book's
//!   `hosts.txt` has no damaged line;
//! - nothing saved is lost: every name the console acknowledged adding (it answers
//!   after the save) is in the book, and no RouterInfo or profiled peer is forgotten;
//! - the lock is gone (the kernel released it with the process).
//!
//! Each run's log is then read for a damaged-file warning or a panic. While the router
//! runs, a client adds names through the console (each add rewrites the book: a kill
//! often lands in a save), `save_interval` is 1 s (netDb and profiles), and the router
//! builds tunnels and publishes the LeaseSets of a test destination and a server
//! tunnel; what the router was doing at each kill is counted and printed.
//!
//! `CRASH_ITERATIONS` (default 8, about 30 s) and `CRASH_SEED` (default 1) set the
//! run; docs/reliability.md records a longer one.

#![cfg(unix)]

#[path = "../support/host.rs"]
mod support;

use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::{Hash, RouterInfo};
use ramsons_router::host::{self, DataDir, Host, HostConfig, Start, Status, Tokio};
use ramsons_router::naming::AddressBook;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{free_port, loopback_config};

const ROUTER: &str = env!("CARGO_BIN_EXE_ramsons-router");
const NET_ID: u8 = 47;
/// Key files that must never change once written (relative to the data directory).
const KEY_FILES: [&str; 4] = ["router.keys", "ntcp2.keys", "destination.keys", "site.dat"];
/// What the router logs when it finds a file it cannot use (datadir, addressbook,
/// host) or panics: none may appear after a kill.
const DAMAGE_WARNINGS: [&str; 7] = [
    "skipping RouterInfo file",
    "ignoring saved profiles",
    "address book: ignoring",
    "address book: cannot read",
    "address book: skipped a line",
    "more lines skipped",
    "panicked",
];
/// Gaps between address-book additions: enough to keep a save going most of the time
/// without growing the book beyond a few thousand names in a long run.
const ADD_EVERY: Duration = Duration::from_millis(60);

/// A child process killed (SIGKILL) when dropped, so a failed assertion orphans nothing.
struct Running {
    child: Child,
    log: PathBuf,
}

impl Running {
    fn start(config: &Path, log: PathBuf) -> Running {
        let child = Command::new(ROUTER)
            .args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("ramsons-router starts");
        Running { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log says `what`, or the process ends, or `limit` passes.
    fn wait_for_log(&mut self, what: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log().contains(what) {
                return true;
            }
            if self.child.try_wait().ok().flatten().is_some() {
                return self.log().contains(what);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    fn kill(&mut self) {
        // std's kill is SIGKILL on Unix.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Two in-process floodfills for the router under test to join: they stay up while
/// it dies, on a runtime thread of their own. Returns the bootstrap folder.
fn start_floodfills(dir: &Path) -> PathBuf {
    let boot = dir.join("boot");
    std::fs::create_dir_all(&boot).expect("boot folder");
    let configs: Vec<HostConfig> = ["ff0", "ff1"]
        .iter()
        .map(|name| {
            let mut config = loopback_config(dir, name, &boot, NET_ID, "");
            config.floodfill = true;
            config
        })
        .collect();
    for config in &configs {
        let info = host::init(config, Start::system()).expect("init");
        let file = boot.join(format!("{}.dat", info.hash().to_base64().replace('/', "~")));
        std::fs::write(file, info.as_bytes()).expect("write RouterInfo");
    }
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            for config in configs {
                let router = Host::start(config, Tokio, Start::system())
                    .await
                    .expect("floodfill starts");
                tokio::spawn(router.run(std::future::pending()));
            }
            let _ = ready_tx.send(());
            std::future::pending::<()>().await;
        });
    });
    ready_rx.recv().expect("floodfills started");
    boot
}

/// The router under test's `router.toml`: console on a fixed port (the client must
/// find it again after every restart), saves every second, a test destination and a
/// server tunnel (two LeaseSets to publish, two key files).
fn victim_config(dir: &Path, boot: &Path) -> (PathBuf, SocketAddr) {
    let site = "[[tunnel]]\nname = 'site'\ntype = 'http'\nhost = '127.0.0.1'\nport = 9\n\
                keys = 'site.dat'\n";
    let mut config = loopback_config(dir, "victim", boot, NET_ID, site);
    let console = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    config.status = Some(console);
    config.save_interval.0 = Duration::from_secs(1);
    config.client.test_destination = true;
    let file = dir.join("victim.toml");
    std::fs::write(&file, config.to_toml()).expect("write router.toml");
    (file, console)
}

/// One HTTP/1.1 exchange on a fresh connection: the status code and body.
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let timeout = Duration::from_secs(2);
    let mut socket = TcpStream::connect_timeout(&addr, timeout).ok()?;
    socket.set_read_timeout(Some(timeout)).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    socket.read_to_string(&mut answer).ok()?;
    let code = answer.get(9..12)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Some((code, body.to_owned()))
}

/// What the console client saw during one run.
#[derive(Debug, Default)]
struct Seen {
    /// Names the console confirmed adding, with their destination's hash.
    added: Vec<(String, Hash)>,
    /// The router hash the console reported, if it answered.
    router: Option<String>,
    /// The last destination states seen, and whether tunnels existed.
    phase: Phase,
}

/// What the router was doing when it was killed, as far as its console said.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// The console did not answer yet: opening the data directory, loading, binding.
    #[default]
    Starting,
    BuildingTunnels,
    PublishingLeaseSet,
    Ready,
}

fn phase_of(status: &Status) -> Phase {
    let states: Vec<&str> = status
        .destinations
        .iter()
        .map(|d| d.state.as_str())
        .collect();
    if states.contains(&"publishing LeaseSet") {
        Phase::PublishingLeaseSet
    } else if !states.is_empty() && states.iter().all(|s| *s == "ready") {
        Phase::Ready
    } else {
        Phase::BuildingTunnels
    }
}

/// Adds names through the console until `stop`, reading the status between adds.
fn console_client(
    console: SocketAddr,
    iteration: usize,
    seed: u64,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut token = None;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        if let Some((200, body)) = http(console, "GET", "/api/status", "") {
            if let Ok(status) = serde_json::from_str::<Status>(&body) {
                let mut seen = seen.lock().expect("lock");
                seen.phase = phase_of(&status);
                seen.router = Some(status.router);
            }
        }
        if token.is_none() {
            token = http(console, "GET", "/api/token", "")
                .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
                .and_then(|v| v["token"].as_str().map(str::to_owned));
        }
        if let Some(token) = &token {
            let keys = DestinationKeys::generate(&mut rng);
            let name = format!("crash-{iteration}-{n}.i2p");
            n += 1;
            let form = format!(
                "token={token}&name={name}&destination={}",
                keys.destination().to_base64()
            );
            if let Some((200, body)) = http(console, "POST", "/api/addressbook", &form) {
                if body.contains("added") {
                    seen.lock().expect("lock").added.push((name, keys.hash()));
                }
            }
        }
        std::thread::sleep(ADD_EVERY);
    }
}

/// What must hold from one kill to the next.
#[derive(Debug, Default)]
struct Expected {
    keys: BTreeMap<&'static str, Vec<u8>>,
    identity: Option<Hash>,
    routers: BTreeSet<Hash>,
    profiled: BTreeSet<Hash>,
    names: Vec<(String, Hash)>,
}

/// Checks the data directory after a kill (see the module documentation); returns how
/// many unfinished temporary files the kill left (saves it cut short).
fn check_after_kill(data: &Path, expected: &mut Expected) -> usize {
    let temporaries = count_temporaries(data);
    // The lock died with the process; opening also removes the temporaries.
    let dir = DataDir::open(data).expect("the data directory opens after a kill");
    assert_eq!(
        count_temporaries(data),
        0,
        "temporary files left after open"
    );
    for name in KEY_FILES {
        let Ok(bytes) = std::fs::read(data.join(name)) else {
            continue;
        };
        let first = expected.keys.entry(name).or_insert_with(|| bytes.clone());
        assert!(*first == bytes, "{name} changed after a kill");
    }
    if let Ok(bytes) = std::fs::read(data.join("router.info")) {
        let info = RouterInfo::parse(&bytes).expect("router.info parses and verifies");
        let identity = *expected.identity.get_or_insert(info.hash());
        assert_eq!(info.hash(), identity, "router.info of another identity");
    }
    let netdb = dir.load_netdb();
    assert!(
        netdb.rejected.is_empty(),
        "damaged netDb files: {:?}",
        netdb.rejected
    );
    let routers: BTreeSet<Hash> = netdb.infos.iter().map(|i| i.hash()).collect();
    let lost: Vec<_> = expected.routers.difference(&routers).collect();
    assert!(lost.is_empty(), "saved RouterInfos lost: {lost:?}");
    expected.routers = routers;
    let profiles = dir.load_profiles().expect("profiles.dat decodes");
    let profiled: BTreeSet<Hash> = profiles.iter().map(|(h, _)| *h).collect();
    let lost: Vec<_> = expected.profiled.difference(&profiled).collect();
    assert!(lost.is_empty(), "saved profiles lost: {lost:?}");
    expected.profiled = profiled;
    check_book(data, &expected.names);
    temporaries
}

/// Every acknowledged name is in the saved book, with its destination; no line of the
/// book is damaged.
fn check_book(data: &Path, names: &[(String, Hash)]) {
    let folder = data.join("addressbook");
    let text = std::fs::read(folder.join("hosts.txt")).unwrap_or_default();
    let mut book = AddressBook::new(10_000_000);
    let report = book.load_saved(&text);
    assert_eq!(report.garbage, 0, "damaged lines in hosts.txt: {report:?}");
    for (name, hash) in names {
        let entry = book.lookup(name);
        assert!(entry.is_some(), "{name} was acknowledged, then lost");
        assert_eq!(entry.map(|e| e.dest.hash()), Some(*hash), "{name}");
    }
    if let Ok(json) = std::fs::read(folder.join("subscriptions.json")) {
        serde_json::from_slice::<serde_json::Value>(&json).expect("subscriptions.json parses");
    }
}

/// Files named as the data directory's temporaries, in it and one level down.
fn count_temporaries(data: &Path) -> usize {
    let mut folders = vec![data.to_owned()];
    let subfolders = std::fs::read_dir(data)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.path());
    folders.extend(subfolders);
    folders
        .iter()
        .flat_map(|f| std::fs::read_dir(f).into_iter().flatten().flatten())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with('.') && name.ends_with(".tmp")
        })
        .count()
}

/// The lines of a run's log that report a damaged file or a panic.
fn damage_in(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| DAMAGE_WARNINGS.iter().any(|w| line.contains(w)))
        .collect()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// When to kill: a quarter of the kills land in the first half second (opening the
/// data directory, creating or loading keys, binding), the rest any time in the first
/// 8 s (saves, tunnel builds, LeaseSet publication).
fn kill_delay(rng: &mut ChaCha20Rng) -> Duration {
    let ms = match rng.gen_bool(0.25) {
        true => rng.gen_range(0..500),
        false => rng.gen_range(500..8000),
    };
    Duration::from_millis(ms)
}

/// The router under test, its folder, and the tally of the kills so far.
struct Harness {
    dir: tempfile::TempDir,
    config: PathBuf,
    console: SocketAddr,
    data: PathBuf,
    seed: u64,
    expected: Expected,
    phases: BTreeMap<Phase, usize>,
    /// Kills that left a temporary file, and how many files they left.
    cut_saves: usize,
    temporaries: usize,
}

impl Harness {
    fn new(seed: u64) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let boot = start_floodfills(dir.path());
        let (config, console) = victim_config(dir.path(), &boot);
        let data = dir.path().join("victim");
        Harness {
            dir,
            config,
            console,
            data,
            seed,
            expected: Expected::default(),
            phases: BTreeMap::new(),
            cut_saves: 0,
            temporaries: 0,
        }
    }

    /// Starts the router, lets the console client work for `delay`, kills the router
    /// with SIGKILL and checks what it left.
    fn kill_once(&mut self, iteration: usize, delay: Duration) {
        let log = self.dir.path().join(format!("run-{iteration}.log"));
        let mut router = Running::start(&self.config, log);
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let client = {
            let (stop, seen, console) = (stop.clone(), seen.clone(), self.console);
            let client_seed = self.seed * 1_000_003 + iteration as u64;
            std::thread::spawn(move || console_client(console, iteration, client_seed, stop, seen))
        };
        std::thread::sleep(delay);
        assert!(
            router.child.try_wait().expect("wait").is_none(),
            "run {iteration} ended by itself:\n{}",
            router.log()
        );
        router.kill();
        stop.store(true, Ordering::Relaxed);
        client.join().expect("console client");

        let seen = std::mem::take(&mut *seen.lock().expect("lock"));
        *self.phases.entry(seen.phase).or_default() += 1;
        self.expected.names.extend(seen.added);
        let left = check_after_kill(&self.data, &mut self.expected);
        self.cut_saves += usize::from(left > 0);
        self.temporaries += left;
        if let (Some(router), Some(identity)) = (&seen.router, self.expected.identity) {
            assert_eq!(
                *router,
                identity.to_base64(),
                "run {iteration}: another identity"
            );
        }
        // This run's start read what the previous kill left.
        let log = router.log();
        let damage = damage_in(&log);
        assert!(damage.is_empty(), "run {iteration}: {damage:#?}");
    }

    /// A last start after all the kills: it comes up with its identity, gets every
    /// destination ready, and stops cleanly on SIGTERM.
    fn final_start(&mut self) {
        let log = self.dir.path().join("final.log");
        let mut router = Running::start(&self.config, log);
        let ready = wait_ready(self.console, Duration::from_secs(90));
        assert!(
            ready.is_some(),
            "not ready after the kills:\n{}",
            router.log()
        );
        if let (Some(status), Some(identity)) = (ready, self.expected.identity) {
            assert_eq!(status.router, identity.to_base64(), "identity changed");
        }
        let term = Command::new("kill")
            .args(["-TERM", &router.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(term.success());
        let exit = router.child.wait().expect("wait");
        assert!(exit.success(), "unclean stop: {exit:?}\n{}", router.log());
        assert!(damage_in(&router.log()).is_empty(), "{}", router.log());
        check_after_kill(&self.data, &mut self.expected);
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_saved() {
    let iterations = env_number("CRASH_ITERATIONS", 8) as usize;
    let seed = env_number("CRASH_SEED", 1);
    let started = Instant::now();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut harness = Harness::new(seed);
    for iteration in 0..iterations {
        harness.kill_once(iteration, kill_delay(&mut rng));
    }
    harness.final_start();
    let Harness {
        expected,
        phases,
        cut_saves,
        temporaries,
        ..
    } = &harness;
    eprintln!(
        "crash test: seed {seed}, {iterations} kills in {:.0?}: at {phases:?}; {cut_saves} kills \
         cut a save short ({temporaries} temporary files left, removed at the next start); \
         {} acknowledged names, {} RouterInfos, {} profiles kept",
        started.elapsed(),
        expected.names.len(),
        expected.routers.len(),
        expected.profiled.len()
    );
}

/// The console's status once every destination is ready, or `None` after `limit`.
fn wait_ready(console: SocketAddr, limit: Duration) -> Option<Status> {
    let start = Instant::now();
    while start.elapsed() < limit {
        let status = http(console, "GET", "/api/status", "")
            .and_then(|(_, body)| serde_json::from_str::<Status>(&body).ok());
        if let Some(status) = status.filter(|s| phase_of(s) == Phase::Ready) {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    None
}

/// A second router on a data directory in use refuses to start, naming the folder and
/// the first one's pid; once the first is killed (SIGKILL, no cleanup) a new one starts.
#[test]
fn a_second_router_on_one_data_directory_refuses_to_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = loopback_config(dir.path(), "data", &dir.path().join("none"), NET_ID, "");
    config.bootstrap = None;
    config.tunnels.enabled = false;
    let file = dir.path().join("router.toml");
    std::fs::write(&file, config.to_toml()).expect("write router.toml");

    let mut first = Running::start(&file, dir.path().join("first.log"));
    assert!(
        first.wait_for_log("router started", Duration::from_secs(30)),
        "the first router did not start:\n{}",
        first.log()
    );
    let second = Command::new(ROUTER)
        .args(["run", "--config"])
        .arg(&file)
        .output()
        .expect("second router runs");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success(),
        "a second router started:\n{stderr}"
    );
    assert!(stderr.contains("in use by another router"), "{stderr}");
    assert!(
        stderr.contains(&config.data_dir.display().to_string()),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("pid {}", first.child.id())),
        "{stderr}"
    );

    first.kill();
    let mut third = Running::start(&file, dir.path().join("third.log"));
    assert!(
        third.wait_for_log("router started", Duration::from_secs(30)),
        "no start after the holder was killed:\n{}",
        third.log()
    );
}
