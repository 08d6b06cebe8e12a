//! The tokio driver under turmoil: a dozen real routers (NTCP2, data directories, the
//! whole core) on a simulated network with partitions and crashes, in virtual time.

use ramsons_router::data::Hash;
use ramsons_router::host::{Clock, Host, HostConfig, Network, Pinger, Start, Status};
use ramsons_router::time::Instant;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::watch;

mod sessions;

/// turmoil's simulated TCP.
#[derive(Debug, Clone, Copy)]
struct Turmoil;

impl Network for Turmoil {
    type Stream = turmoil::net::TcpStream;
    type Listener = turmoil::net::TcpListener;

    async fn bind(&self, addr: SocketAddr) -> io::Result<Self::Listener> {
        turmoil::net::TcpListener::bind(addr).await
    }

    async fn accept(listener: &Self::Listener) -> io::Result<(Self::Stream, SocketAddr)> {
        listener.accept().await
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<Self::Stream> {
        turmoil::net::TcpStream::connect(addr).await
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }
}

const NET_ID: u8 = 9;
const PORT: u16 = 4567;
/// The simulated network's calendar: 2026-12-01T00:00:00Z.
const T0: Instant = Instant::from_secs(1_796_083_200);

/// Status receivers and pingers of the routers now running, by host name.
type Statuses = Rc<RefCell<BTreeMap<String, (watch::Receiver<Status>, Pinger)>>>;

/// One end-to-end message between test destinations, as the tester saw it.
#[derive(Debug, Clone)]
struct PingRecord {
    at: Duration,
    from: String,
    to: String,
    delivered: bool,
}

type PingLog = Rc<RefCell<Vec<PingRecord>>>;

/// Registers router `name` with the simulation. Floodfills put their RouterInfo in
/// `boot` when they start; the others wait a moment and bootstrap from that folder.
fn add_router(
    sim: &mut turmoil::Sim<'_>,
    name: &str,
    index: u64,
    floodfill: bool,
    root: &Path,
    statuses: &Statuses,
) {
    let name = name.to_owned();
    let data_dir = root.join(&name);
    let boot = root.join("boot");
    let statuses = statuses.clone();
    let incarnation = Rc::new(Cell::new(0u64));
    sim.host(name.clone(), move || {
        let (name, data_dir, boot, statuses) = (
            name.clone(),
            data_dir.clone(),
            boot.clone(),
            statuses.clone(),
        );
        incarnation.set(incarnation.get() + 1);
        let seed = index * 1000 + incarnation.get();
        async move {
            if !floodfill {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            let ip = turmoil::lookup(name.as_str());
            let mut config = HostConfig {
                data_dir,
                net_id: NET_ID,
                floodfill,
                listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT)),
                publish: Some(SocketAddr::new(ip, PORT)),
                bootstrap: Some(boot.clone()),
                status: None,
                sam: ramsons_router::host::SamSection::disabled(),
                ..HostConfig::default()
            };
            config.save_interval.0 = Duration::from_secs(30);
            // Every simulated host is in 192.168.0.0/16.
            config.tunnels.allow_same_subnet = true;
            config.client.test_destination = true;
            let start = Start {
                clock: Clock::starting_at(T0 + turmoil::elapsed()),
                rng: ChaCha20Rng::seed_from_u64(seed),
            };
            let host = Host::start(config, Turmoil, start).await?;
            if floodfill {
                std::fs::write(
                    boot.join(format!("{name}.dat")),
                    host.router_info().as_bytes(),
                )?;
            }
            statuses
                .borrow_mut()
                .insert(name, (host.status(), host.pinger()));
            host.run(std::future::pending()).await?;
            Ok(())
        }
    });
}

/// A client host that, every 20 s, sends a message along each of `pairs` (from the
/// first router's test destination to the second's) and logs the outcome.
fn add_tester(
    sim: &mut turmoil::Sim<'_>,
    pairs: &[(&str, &str)],
    statuses: &Statuses,
    log: &PingLog,
) {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let (statuses, log) = (statuses.clone(), log.clone());
    sim.client("tester", async move {
        loop {
            tokio::time::sleep(Duration::from_secs(20)).await;
            for (from, to) in &pairs {
                let (pinger, destination) = {
                    let running = statuses.borrow();
                    let pinger = running.get(from).map(|(_, p)| p.clone());
                    let destination = running
                        .get(to)
                        .and_then(|(s, _)| s.borrow().destination.clone())
                        .and_then(|d| Hash::from_base64(&d).ok());
                    (pinger, destination)
                };
                let (Some(pinger), Some(destination)) = (pinger, destination) else {
                    continue;
                };
                let outcome = pinger.ping(destination).await;
                log.borrow_mut().push(PingRecord {
                    at: turmoil::elapsed(),
                    from: from.clone(),
                    to: to.clone(),
                    delivered: outcome.delivered,
                });
            }
        }
    });
}

struct Testnet<'a> {
    sim: turmoil::Sim<'a>,
    statuses: Statuses,
    pings: PingLog,
    _dir: tempfile::TempDir,
    names: Vec<String>,
}

impl Testnet<'_> {
    fn new(floodfills: usize, routers: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("boot")).expect("boot folder");
        let mut sim = turmoil::Builder::new()
            .simulation_duration(Duration::from_secs(3600))
            .tick_duration(Duration::from_millis(5))
            .min_message_latency(Duration::from_millis(5))
            .max_message_latency(Duration::from_millis(40))
            .rng_seed(7)
            .build();
        let statuses = Statuses::default();
        let mut names = Vec::new();
        for i in 0..floodfills + routers {
            let floodfill = i < floodfills;
            let name = if floodfill {
                format!("ff{i}")
            } else {
                format!("r{}", i - floodfills)
            };
            add_router(&mut sim, &name, i as u64, floodfill, dir.path(), &statuses);
            names.push(name);
        }
        let pings = PingLog::default();
        add_tester(
            &mut sim,
            &[("r2", "r0"), ("r0", "r2"), ("r3", "r1")],
            &statuses,
            &pings,
        );
        Testnet {
            sim,
            statuses,
            pings,
            _dir: dir,
            names,
        }
    }

    /// Runs the simulation for `d` of virtual time.
    fn run_for(&mut self, d: Duration) {
        let until = self.sim.elapsed() + d;
        while self.sim.elapsed() < until {
            self.sim.step().expect("simulation step");
        }
    }

    /// Runs until `done` holds for every router's status, or `limit` passes; returns
    /// how long it took.
    fn run_until(&mut self, limit: Duration, done: impl Fn(&Status) -> bool) -> Option<Duration> {
        let start = self.sim.elapsed();
        while self.sim.elapsed() < start + limit {
            self.run_for(Duration::from_secs(1));
            if self
                .names
                .iter()
                .all(|n| self.status(n).is_some_and(|s| done(&s)))
            {
                return Some(self.sim.elapsed() - start);
            }
        }
        None
    }

    fn status(&self, name: &str) -> Option<Status> {
        self.statuses
            .borrow()
            .get(name)
            .map(|(rx, _)| rx.borrow().clone())
    }

    /// Runs until a message from `from` to `to` sent after `since` is delivered, or
    /// `limit` passes.
    fn run_until_delivered(
        &mut self,
        from: &str,
        to: &str,
        since: Duration,
        limit: Duration,
    ) -> bool {
        let end = self.sim.elapsed() + limit;
        while self.sim.elapsed() < end {
            self.run_for(Duration::from_secs(1));
            let delivered = self
                .pings
                .borrow()
                .iter()
                .any(|p| p.from == from && p.to == to && p.at > since && p.delivered);
            if delivered {
                return true;
            }
        }
        false
    }

    fn report(&self) -> String {
        self.names
            .iter()
            .map(|n| format!("{n}: {:?}\n", self.status(n)))
            .collect()
    }

    fn others(&self, name: &str) -> Vec<String> {
        self.names.iter().filter(|n| *n != name).cloned().collect()
    }
}

fn integrated(s: &Status) -> bool {
    s.netdb.routers >= 8 && s.tunnels.exploratory_inbound > 0 && s.tunnels.exploratory_outbound > 0
}

#[test]
fn routers_integrate_survive_a_partition_and_a_crash() {
    let mut net = Testnet::new(2, 10);

    // Everyone learns the network and builds exploratory tunnels through it.
    let took = net.run_until(Duration::from_secs(600), integrated);
    assert!(
        took.is_some(),
        "network did not integrate:\n{}",
        net.report()
    );
    let ff = net.status("ff0").expect("ff0 runs");
    assert!(
        ff.netdb.stores_received > 0,
        "no RouterInfo stored at the floodfill: {ff:?}"
    );
    // End to end: LeaseSets published and found, garlic through four 3-hop tunnels.
    let start = net.sim.elapsed();
    assert!(
        net.run_until_delivered("r2", "r0", Duration::ZERO, Duration::from_secs(300)),
        "no message delivered: {:?}",
        net.pings.borrow()
    );
    eprintln!(
        "integrated after {took:?}; first message delivered {:?} later",
        net.sim.elapsed() - start
    );

    // r0 is cut off from everyone: its sessions die and its tunnels expire.
    let others = net.others("r0");
    for other in &others {
        net.sim.partition("r0", other.as_str());
    }
    net.run_for(Duration::from_secs(12 * 60));
    let cut = net.status("r0").expect("r0 runs");
    assert_eq!(cut.peers.connected, 0, "partitioned yet connected: {cut:?}");
    assert_eq!(
        cut.tunnels.exploratory_inbound, 0,
        "tunnels outlived the partition: {cut:?}"
    );
    let builds_before = cut.tunnels.builds_succeeded;

    // Repaired, it reconnects and builds tunnels again.
    for other in &others {
        net.sim.repair("r0", other.as_str());
    }
    let repaired = net.sim.elapsed();
    let mut healed = None;
    for _ in 0..600 {
        net.run_for(Duration::from_secs(1));
        let s = net.status("r0").expect("r0 runs");
        if integrated(&s) && s.tunnels.builds_succeeded > builds_before {
            healed = Some(s);
            break;
        }
    }
    assert!(healed.is_some(), "r0 did not recover:\n{}", net.report());
    // Messages reach r0 again, and r0 reaches others: its LeaseSet is found anew.
    for (from, to) in [("r2", "r0"), ("r0", "r2")] {
        assert!(
            net.run_until_delivered(from, to, repaired, Duration::from_secs(300)),
            "{from} -> {to} not delivered after the repair: {:?}",
            net.pings.borrow()
        );
    }

    // r1 crashes and comes back with the same identity and its saved netDb.
    let hash = net.status("r1").expect("r1 runs").router;
    net.sim.crash("r1");
    net.statuses.borrow_mut().remove("r1");
    net.run_for(Duration::from_secs(60));
    net.sim.bounce("r1");
    let took = net.run_until(Duration::from_secs(600), integrated);
    assert!(took.is_some(), "r1 did not rejoin:\n{}", net.report());
    assert_eq!(
        net.status("r1").expect("r1 runs").router,
        hash,
        "identity lost"
    );
    let restarted = net.sim.elapsed();
    assert!(
        net.run_until_delivered("r3", "r1", restarted, Duration::from_secs(300)),
        "r1's destination unreachable after its restart: {:?}",
        net.pings.borrow()
    );
}

/// The data directory a router keeps: keys survive, the netDb is saved.
#[test]
fn a_stopped_router_keeps_its_identity_and_netdb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data: PathBuf = dir.path().join("data");
    let config = HostConfig {
        data_dir: data.clone(),
        net_id: NET_ID,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        publish: Some(SocketAddr::from(([127, 0, 0, 1], 9))),
        status: None,
        sam: ramsons_router::host::SamSection::disabled(),
        ..HostConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let first = runtime.block_on(async {
        let host = Host::start(config.clone(), ramsons_router::host::Tokio, Start::system())
            .await
            .expect("start");
        let hash = host.hash();
        host.run(async {}).await.expect("clean stop");
        hash
    });
    assert!(data.join("router.keys").exists());
    assert!(data.join("router.info").exists());
    let again = runtime.block_on(async {
        Host::start(config, ramsons_router::host::Tokio, Start::system())
            .await
            .expect("restart")
            .hash()
    });
    assert_eq!(first, again);
}
