//! The i2pd baseline of issue 15's "Measured": SAM stream figures through 3-hop tunnels on
//! a private network of six i2pd routers on loopback (no ramsons in it), and, in the same
//! run and through the same client code, on a six-router ramsons testnet. Figures go to
//! `router/BENCHMARKS.md` ("SAM over i2pd (baseline)").
//!
//! Per network, two STREAM sessions (server on one router's SAM bridge, client on
//! another's, both `inbound.length=3 outbound.length=3`), then:
//!
//! - stream 1: STREAM CONNECT (timed: the first connect also fetches the LeaseSet), then
//!   1 MiB written while the echo is read back, timed from STREAM CONNECT to the last
//!   echoed byte (what `testnet/tests/sam/echo.py` times);
//! - stream 2: STREAM CONNECT (timed again, the LeaseSet now known), then 1 KiB written
//!   and read back 20 times, one at a time.
//!
//! Environment: `BENCH_ROUNDS` (default 3; each round starts both networks afresh),
//! `BENCH_HOPS` (default 3), `RAMSONS_TESTNET` (path to a release `ramsons-testnet` with
//! `ramsons-router` next to it; without it only i2pd is measured).

use super::i2pd::{self, I2pd, I2pdOptions};
use super::sam_client::{echo_one, Sam};
use super::{BenchmarkingAddress, I2PD_RUNNING, WAIT};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ROUTERS: u8 = 6;
const FLOODFILLS: u8 = 3;
/// i2pd's SAM sessions (server, client) on two of the non-floodfills, as r0 and r3 of the
/// ramsons testnet.
const SAM_ROUTERS: (u8, u8) = (3, 5);
const BULK: usize = 1 << 20;
const SMALL: usize = 1024;
const ROUND_TRIPS: usize = 20;
/// First port of the ramsons testnet (router i: base+3i NTCP2, +1 status, +2 SAM).
const RAMSONS_BASE_PORT: u16 = 26000;

/// What one network gave.
#[derive(Debug)]
struct Figures {
    /// STREAM CONNECT to its reply, first stream (LeaseSet not known yet).
    first_connect: Duration,
    /// STREAM CONNECT to the last byte of the 1 MiB echo.
    bulk: Duration,
    /// STREAM CONNECT to its reply, second stream.
    second_connect: Duration,
    /// In the order made: the first one also waits for whatever of the handshake the
    /// reply to STREAM CONNECT did not wait for (a bridge may answer before the SYN is
    /// acknowledged).
    round_trips: Vec<Duration>,
}

impl Figures {
    fn row(&self, name: &str) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut rtt = self.round_trips.clone();
        rtt.sort();
        format!(
            "{name:<8} connect reply {:>4.0} ms, again {:>4.0} ms, to 1st echo {:>4.0} ms | \
             1 MiB each way {:.2} s ({:.2} s after the reply) | \
             1 KiB round trip median {:.1} ms (min {:.1}, max {:.1})",
            ms(self.first_connect),
            ms(self.second_connect),
            ms(self.second_connect + self.round_trips[0]),
            self.bulk.as_secs_f64(),
            (self.bulk - self.first_connect).as_secs_f64(),
            ms(rtt[rtt.len() / 2]),
            ms(rtt[0]),
            ms(rtt[rtt.len() - 1]),
        )
    }
}

/// Both streams between a server session on `server` and a client session on `client`.
fn measure(server: SocketAddr, client: SocketAddr, hops: u8) -> Figures {
    let mut srv = Sam::hello(server);
    let target = srv.session("bench-srv", hops, 2);
    let mut cli = Sam::hello(client);
    cli.session("bench-cli", hops, 2);
    let mut data = vec![0u8; BULK];
    ChaCha20Rng::seed_from_u64(15).fill_bytes(&mut data);

    let echo = echo_one(server, "bench-srv");
    let started = Instant::now();
    let (stream, first_connect) = Sam::connect(client, "bench-cli", &target);
    let back = stream.exchange(&data);
    let bulk = started.elapsed();
    assert!(back == data, "the echo is what was sent, byte for byte");
    assert_eq!(echo.join().expect("echo"), BULK);

    let echo = echo_one(server, "bench-srv");
    let (mut stream, second_connect) = Sam::connect(client, "bench-cli", &target);
    let round_trips: Vec<Duration> = (0..ROUND_TRIPS)
        .map(|i| {
            let small = &data[i * SMALL..][..SMALL];
            let started = Instant::now();
            stream.writer.write_all(small).expect("send");
            let mut back = [0u8; SMALL];
            stream.reader.read_exact(&mut back).expect("echo back");
            assert!(back == small, "round trip {i} echoed what was sent");
            started.elapsed()
        })
        .collect();
    let _ = stream.writer.shutdown(std::net::Shutdown::Both);
    echo.join().expect("echo");
    drop((srv, cli));
    Figures {
        first_connect,
        bulk,
        second_connect,
        round_trips,
    }
}

/// Six i2pd routers on 198.18.0.10.. (loopback), each knowing all the others' RouterInfos.
struct I2pdNet {
    // Routers before addresses: dropped first, so no router outlives its address.
    routers: Vec<I2pd>,
    _addresses: Vec<BenchmarkingAddress>,
    sam: (SocketAddr, SocketAddr),
}

impl I2pdNet {
    /// `None` (skip) when the addresses cannot be added.
    fn start(binary: &Path, dir: &Path) -> Option<I2pdNet> {
        let mut addresses = Vec::new();
        let mut options = Vec::new();
        for i in 0..ROUTERS {
            let address = BenchmarkingAddress::add(Ipv4Addr::new(198, 18, 0, 10 + i))?;
            options.push(router_options(address.addr, i).expect("free ports"));
            addresses.push(address);
        }
        // First start: each writes its keys and RouterInfo, which the second start (same
        // keys, same hash) finds in every other router's netDb.
        let infos: Vec<Vec<u8>> = options
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let mut first = I2pd::start(binary, &dir.join(format!("i{i}")), o.clone())
                    .expect("i2pd starts");
                let info = first.wait_for_router_info(WAIT);
                first.stop();
                info.unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        let routers = options
            .into_iter()
            .enumerate()
            .map(|(i, mut o)| {
                o.router_infos = infos
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, ri)| ri.clone())
                    .collect();
                I2pd::start(binary, &dir.join(format!("i{i}")), o).expect("i2pd restarts")
            })
            .collect::<Vec<_>>();
        let sam_of = |i: u8| {
            let port = routers[usize::from(i)].options().sam_port.expect("SAM");
            SocketAddr::from((Ipv4Addr::LOCALHOST, port))
        };
        let sam = (sam_of(SAM_ROUTERS.0), sam_of(SAM_ROUTERS.1));
        Some(I2pdNet {
            routers,
            _addresses: addresses,
            sam,
        })
    }

    fn logs_tail(&self) -> String {
        let mut out = String::new();
        for (i, r) in self.routers.iter().enumerate() {
            let log = r.log();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            out += &format!("--- i{i}:\n{}\n", tail.join("\n"));
        }
        out
    }
}

fn router_options(host: Ipv4Addr, i: u8) -> std::io::Result<I2pdOptions> {
    let mut o = I2pdOptions::new()?;
    o.ntcp2_host = host;
    o.floodfill = i < FLOODFILLS;
    // i2pd's defaults (2 hops) for exploration, with hops to spare on six routers.
    o.exploratory_length = 2;
    o.exploratory_quantity = 2;
    // Unlimited: the baseline is i2pd at its fastest, not at its default class L.
    o.bandwidth = Some('X');
    o.log_level = "warn";
    if [SAM_ROUTERS.0, SAM_ROUTERS.1].contains(&i) {
        o.sam_port = Some(i2pd::free_port()?);
    }
    Ok(o)
}

/// A ramsons loopback testnet brought up with `ramsons-testnet up`, down on drop.
struct RamsonsNet {
    bin: PathBuf,
    dir: PathBuf,
    sam: (SocketAddr, SocketAddr),
}

impl RamsonsNet {
    /// Two floodfills and four routers, as in the figures BENCHMARKS.md has for ramsons;
    /// sessions on r0 and r3.
    fn up(bin: &Path, dir: &Path) -> RamsonsNet {
        let status = Command::new(bin)
            .arg("up")
            .arg("--dir")
            .arg(dir)
            .args(["--floodfills", "2", "--routers", "4", "--wait-tunnels"])
            .args(["--base-port", &RAMSONS_BASE_PORT.to_string()])
            .status()
            .expect("ramsons-testnet runs");
        if !status.success() {
            ramsons_down(bin, dir);
            panic!("ramsons-testnet up: {status}");
        }
        RamsonsNet {
            bin: bin.to_owned(),
            dir: dir.to_owned(),
            sam: (sam_of(dir, "r0"), sam_of(dir, "r3")),
        }
    }
}

impl Drop for RamsonsNet {
    fn drop(&mut self) {
        ramsons_down(&self.bin, &self.dir);
    }
}

fn ramsons_down(bin: &Path, dir: &Path) {
    let _ = Command::new(bin).arg("down").arg("--dir").arg(dir).status();
}

/// The SAM address of router `name` in the testnet manifest in `dir`.
fn sam_of(dir: &Path, name: &str) -> SocketAddr {
    let text = std::fs::read_to_string(dir.join("testnet.json")).unwrap_or_default();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    manifest["routers"]
        .as_array()
        .and_then(|routers| routers.iter().find(|r| r["name"] == name))
        .and_then(|r| r["sam"].as_str()?.parse().ok())
        .unwrap_or_else(|| panic!("no SAM address for {name} in {}", dir.display()))
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// One round on i2pd: start the network, measure, print, stop.
/// `None` when the network cannot be set up here; a failed measurement is `Some(None)`
/// (printed with the ends of the logs): the table says how often a round failed.
fn i2pd_round(binary: &Path, hops: u8) -> Option<Option<Figures>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let net = I2pdNet::start(binary, dir.path())?;
    let sam = net.sam;
    let outcome = std::panic::catch_unwind(move || measure(sam.0, sam.1, hops));
    match outcome {
        Ok(figures) => {
            eprintln!(
                "(i2pd network up and measured in {:.0?})",
                started.elapsed()
            );
            Some(Some(figures))
        }
        Err(_) => {
            eprintln!("i2pd logs (tails):\n{}", net.logs_tail());
            Some(None)
        }
    }
}

#[test]
#[ignore = "benchmark: six i2pd routers (and a ramsons testnet); minutes; prints figures"]
fn sam_stream_figures_on_i2pd_and_ramsons_testnets() {
    let Some(binary) = i2pd::binary_or_skip() else {
        return;
    };
    let _one_at_a_time = I2PD_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let rounds: usize = env_or("BENCH_ROUNDS", 3);
    let hops: u8 = env_or("BENCH_HOPS", 3);
    let ramsons = std::env::var_os("RAMSONS_TESTNET").map(PathBuf::from);
    eprintln!(
        "{}; {hops}-hop tunnels; {rounds} rounds; ramsons: {}",
        i2pd::version(&binary).unwrap_or_default(),
        ramsons
            .as_deref()
            .map_or("not measured (set RAMSONS_TESTNET)".into(), |p| p
                .display()
                .to_string())
    );
    for round in 1..=rounds {
        eprintln!("round {round}, load average {}", load_average());
        let Some(theirs) = i2pd_round(&binary, hops) else {
            eprintln!("skipped: cannot add 198.18.0.10.. to lo (needs root and `ip`)");
            return;
        };
        match theirs {
            Some(figures) => eprintln!("{}", figures.row("i2pd")),
            None => eprintln!("i2pd     round {round} FAILED (see above)"),
        }
        if let Some(bin) = &ramsons {
            let dir = tempfile::tempdir().expect("temp dir");
            let net = RamsonsNet::up(bin, dir.path());
            let ours = measure(net.sam.0, net.sam.1, hops);
            drop(net);
            eprintln!("{}", ours.row("ramsons"));
        }
    }
}
