//! `ramsons-router`: run a real I2P router.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use ramsons_router::data::RouterInfo;
use ramsons_router::host::bootstrap;
use ramsons_router::host::console::LogRing;
use ramsons_router::host::{Host, HostConfig, Start, Tokio};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// An I2P router: NTCP2 on real sockets, the same core the simulator runs.
///
/// Start with `init` to write a configuration and create the router's keys, then `run`.
/// Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug or
/// RUST_LOG=ramsons_router=debug) for more. SIGTERM or Ctrl-C stops the router cleanly:
/// sessions are closed with a Termination and the netDb is saved.
#[derive(Debug, Parser)]
#[command(name = "ramsons-router", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the router described by a configuration file until SIGTERM or Ctrl-C.
    ///
    /// Every field of the file has a default (see `init` for all of them):
    /// data_dir (keys, netDb/, profiles.dat, router.info), net_id (2 = main network),
    /// floodfill, bandwidth_class, listen (NTCP2), publish (address put in our
    /// RouterInfo if not `listen`), max_connections, idle_timeout ("5 min"),
    /// bootstrap (read at start: a folder or file of RouterInfos, the reseed of a private
    /// network, or an .su3 reseed bundle of the main network, checked against the reseed
    /// signer certificates the router ships), status (the console's address: pages at
    /// /, a JSON API under /api/), save_interval, [console] (password: required when
    /// status is not loopback; max_clients), [tunnels] (enabled, exploratory_hops,
    /// exploratory_tunnels, client_hops, client_tunnels, allow_same_subnet,
    /// max_participating), [sam] and
    /// [addressbook] (hosts: local hosts.txt files, subscriptions, update_interval,
    /// first_fetch, retry, max_subscription_size, max_entries, jump_services), [[tunnel]]
    /// tables (client and server tunnels, the HTTP and SOCKS proxies, with the key names
    /// of i2pd's tunnels.conf plus `name`) and tunnels_conf (an i2pd tunnels.conf, read as it is).
    Run {
        /// The configuration file (TOML).
        #[arg(long, short, default_value = "router.toml")]
        config: PathBuf,
        /// An i2pd tunnels.conf to run as it is (instead of the file's `tunnels_conf`).
        #[arg(long)]
        tunnels_conf: Option<PathBuf>,
    },
    /// Write a configuration file with every field spelled out, and create the keys.
    ///
    /// Prints the new router's hash; its signed RouterInfo is `data/router.info`, for
    /// other routers to bootstrap from. Refuses to overwrite an existing configuration.
    Init {
        /// Folder for the configuration file and (inside it, `data/`) the data directory.
        #[arg(long)]
        dir: PathBuf,
        /// Network id: 2 is the I2P main network; use another for a private network.
        #[arg(long, default_value_t = 2)]
        net_id: u8,
        /// Serve the netDb as a floodfill.
        #[arg(long)]
        floodfill: bool,
        /// NTCP2 listen address.
        #[arg(long, default_value = "127.0.0.1:12345")]
        listen: SocketAddr,
        /// Console address; "none" for no console. Beyond loopback it needs
        /// `[console] password` in the written file.
        #[arg(long, default_value = "127.0.0.1:7070")]
        status: String,
        /// Folder or file of RouterInfos, or an .su3 reseed bundle, to bootstrap from.
        #[arg(long)]
        bootstrap: Option<PathBuf>,
        /// Allow tunnel hops in one /16 (loopback testnets).
        #[arg(long)]
        allow_same_subnet: bool,
    },
    /// Parse and verify RouterInfo files (ours, i2pd's, a netDb folder, an .su3 reseed
    /// bundle) and print them. A bundle is checked first (signer, signature, zip) and
    /// refused whole, with the reason, if anything is wrong.
    Info {
        /// Files or folders (searched for *.dat at any depth), or .su3 files.
        paths: Vec<PathBuf>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // Logs to stderr, and the recent warnings into a ring the console's log page shows.
    let log = LogRing::new();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(
                    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
                ),
        )
        .with(log.layer())
        .init();
    match cli.command {
        Command::Run {
            config,
            tunnels_conf,
        } => run(&config, tunnels_conf, log),
        Command::Init {
            dir,
            net_id,
            floodfill,
            listen,
            status,
            bootstrap,
            allow_same_subnet,
        } => {
            let status = match status.as_str() {
                "none" => None,
                s => Some(s.parse().with_context(|| format!("--status {s:?}"))?),
            };
            let mut config = HostConfig {
                data_dir: "data".into(),
                net_id,
                floodfill,
                listen,
                status,
                bootstrap,
                ..HostConfig::default()
            };
            config.tunnels.allow_same_subnet = allow_same_subnet;
            init(&dir, config)
        }
        Command::Info { paths } => info(&paths),
    }
}

fn run(path: &Path, tunnels_conf: Option<PathBuf>, log: LogRing) -> Result<()> {
    let mut config = HostConfig::load(path)?;
    if let Some(file) = tunnels_conf {
        config.tunnels_conf = Some(file);
        // Checked now, so that a mistake in it stops the router before anything runs.
        config.tunnel_specs()?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        let mut host = Host::start(config, Tokio, Start::system()).await?;
        host.set_log(log);
        host.run(stop_signal()).await?;
        Ok(())
    })
}

/// SIGTERM (what `docker stop` and service managers send) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn init(dir: &Path, mut config: HostConfig) -> Result<()> {
    let file = dir.join("router.toml");
    if file.exists() {
        bail!("{} exists; not overwriting it", file.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Written relative to the file, so the folder can be moved as a whole.
    let text = config.to_toml();
    HostConfig::parse(&text).map_err(anyhow::Error::msg)?;
    // Atomically, as the data directory's files: a kill here must not leave half a
    // file that the next `init` refuses to overwrite and `run` cannot read.
    ramsons_router::host::datadir::write_file(&file, text.as_bytes())?;
    config.data_dir = dir.join(&config.data_dir);
    let info = ramsons_router::host::init(&config, Start::system())?;
    println!("{}", info.hash().to_base64());
    eprintln!(
        "wrote {}; run it with: ramsons-router run --config {}",
        file.display(),
        file.display()
    );
    Ok(())
}

fn info(paths: &[PathBuf]) -> Result<()> {
    if paths.is_empty() {
        bail!("name at least one RouterInfo file or folder");
    }
    let mut bad = 0;
    for path in paths {
        let loaded = bootstrap::load(path)?;
        for info in &loaded.infos {
            print_info(info);
        }
        for (file, why) in &loaded.rejected {
            eprintln!("{}: {why}", file.display());
            bad += 1;
        }
    }
    if bad > 0 {
        bail!("{bad} file(s) could not be read");
    }
    Ok(())
}

fn print_info(info: &RouterInfo) {
    println!("router {}", info.hash().to_base64());
    println!("  published   {} ms", info.published_ms());
    println!("  caps        {}", info.caps());
    println!(
        "  net id      {}",
        info.net_id().map_or("-".into(), |n| n.to_string())
    );
    println!("  version     {}", info.router_version().unwrap_or("-"));
    for address in info.addresses() {
        let options: Vec<String> = address
            .options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        println!(
            "  address     {} cost {} {}",
            address.transport,
            address.cost,
            options.join(" ")
        );
    }
}
