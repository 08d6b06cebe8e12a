//! `ramsons-testnet`: bring a private I2P testnet of ramsons routers up, check it, take it
//! down.

use anyhow::Result;
use clap::{Parser, Subcommand};
use ramsons_testnet::process::Stopped;
use ramsons_testnet::{Mode, Spec, UpOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Private I2P testnets of real ramsons routers, on loopback or in docker.
///
/// A testnet is a folder: one subfolder per router (router.toml, data/ with its keys and
/// netDb, router.log, router.pid), netDb/ with every router's RouterInfo (the routers'
/// bootstrap), and testnet.json, the manifest `status` and `down` read.
#[derive(Debug, Parser)]
#[command(name = "ramsons-testnet", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create (or reuse) the routers, seed their netDb, start them and wait until each
    /// status page answers.
    ///
    /// Routers are named ff0, ff1, ... (floodfills) and r0, r1, ...; router i (floodfills
    /// first) uses NTCP2 port base+2i and status port base+2i+1 on 127.0.0.1. Folders of
    /// an earlier `up` are reused: same keys, same router hashes. Refuses to start while
    /// routers of the testnet still run.
    Up {
        /// The testnet folder (created if missing).
        #[arg(long)]
        dir: PathBuf,
        /// How many floodfills (at least 1).
        #[arg(long, default_value_t = 2)]
        floodfills: usize,
        /// How many other routers.
        #[arg(long, default_value_t = 8)]
        routers: usize,
        /// The private network id the routers use (not 2: that is the I2P main network).
        #[arg(long, default_value_t = 99)]
        net_id: u8,
        /// First port: router i uses base+3i (NTCP2), base+3i+1 (status page) and, on
        /// loopback, base+3i+2 (SAM, TCP and UDP).
        #[arg(long, default_value_t = 20000)]
        base_port: u16,
        /// The ramsons-router binary. Default: the one next to this executable. With
        /// --docker it must be statically linked (the image is FROM scratch).
        #[arg(long)]
        router_bin: Option<PathBuf>,
        /// One container per router on a docker bridge network (198.18.0.0/24) instead of
        /// processes on loopback. Builds the image ramsons-router:dev from --router-bin when
        /// it is missing or was built from another binary; needs docker and docker-compose.
        #[arg(long)]
        docker: bool,
        /// Seconds every router's status page gets to answer.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// Also wait until every router has exploratory tunnels both ways, and print how
        /// long that took from the start of the routers.
        #[arg(long)]
        wait_tunnels: bool,
        /// Seconds --wait-tunnels waits at most.
        #[arg(long, default_value_t = 300)]
        tunnel_timeout: u64,
    },
    /// Show every router's state and check end-to-end delivery; exit status 1 when the
    /// network is unhealthy (a router down, no tunnels, a message not delivered).
    ///
    /// Per router: up or down, connected peers, netDb size (floodfills), exploratory
    /// tunnels in/out, tunnel builds succeeded/failed. Then router i sends one message
    /// from its test destination to router i+1's (the last to the first) through client
    /// tunnels, and the latency of each is printed (up to 30 s each, all at once).
    Status {
        /// The testnet folder.
        #[arg(long)]
        dir: PathBuf,
        /// Print the report as JSON (every router's full status page included).
        #[arg(long)]
        json: bool,
        /// Skip the end-to-end messages (a quick look).
        #[arg(long)]
        no_ping: bool,
        /// Expect a docker testnet (the manifest records the mode; this only checks it).
        #[arg(long)]
        docker: bool,
    },
    /// Stop every router: SIGTERM, SIGKILL after 10 s (docker: `docker-compose down`, each
    /// container's log saved to its router.log first). Keys and netDbs stay for the next
    /// `up`; pid files go.
    Down {
        /// The testnet folder.
        #[arg(long)]
        dir: PathBuf,
        /// Expect a docker testnet (the manifest records the mode; this only checks it).
        #[arg(long)]
        docker: bool,
    },
}

fn main() -> Result<ExitCode> {
    match Cli::parse().command {
        Command::Up {
            dir,
            floodfills,
            routers,
            net_id,
            base_port,
            router_bin,
            docker,
            timeout,
            wait_tunnels,
            tunnel_timeout,
        } => {
            let options = UpOptions {
                dir,
                spec: Spec {
                    floodfills,
                    routers,
                    net_id,
                    base_port,
                    mode: if docker { Mode::Docker } else { Mode::Loopback },
                },
                router_bin,
                start_timeout: Duration::from_secs(timeout),
                wait_tunnels: wait_tunnels.then(|| Duration::from_secs(tunnel_timeout)),
            };
            let summary = ramsons_testnet::up(&options, &mut |line| eprintln!("{line}"))?;
            println!(
                "{:<6} {:<9} {:<44} {:<21} {:<28} {}",
                "router",
                "role",
                "hash",
                "ntcp2",
                "status",
                if docker { "container" } else { "pid" }
            );
            for r in &summary.manifest.routers {
                let role = format!("{:?}", r.role).to_lowercase();
                let process = match (&r.container, r.pid) {
                    (Some(container), _) => container.clone(),
                    (None, Some(pid)) => pid.to_string(),
                    (None, None) => "-".into(),
                };
                println!(
                    "{:<6} {:<9} {:<44} {:<21} {:<28} {process}",
                    r.name,
                    role,
                    r.hash,
                    r.ntcp2.to_string(),
                    format!("http://{}/", r.status)
                );
            }
            println!(
                "{} routers up; every status page answered {:.1} s after start",
                summary.manifest.routers.len(),
                summary.answering_after.as_secs_f64()
            );
            if let Some(after) = summary.tunnels_after {
                println!(
                    "every router had exploratory tunnels both ways {:.1} s after start",
                    after.as_secs_f64()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status {
            dir,
            json,
            no_ping,
            docker,
        } => {
            let report = ramsons_testnet::status(&dir, docker, !no_ping)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            if report.healthy() {
                Ok(ExitCode::SUCCESS)
            } else {
                // The reasons are in the report just printed.
                eprintln!("the testnet in {} is unhealthy", dir.display());
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Down { dir, docker } => {
            let summary = ramsons_testnet::down(&dir, docker)?;
            for (name, stopped) in &summary.routers {
                let what = match stopped {
                    Stopped::NotRunning => "was not running",
                    Stopped::Terminated => "stopped",
                    Stopped::Killed => "killed (did not exit within 10 s of SIGTERM)",
                };
                println!("{name}: {what}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
