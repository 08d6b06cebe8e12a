//! Real testnets: `ramsons-testnet` starting `ramsons-router` processes on loopback, and
//! containers when a docker engine answers.

mod docker;
mod loopback;
mod sam;

use ramsons_router::host::Status;
use ramsons_testnet::{http, Manifest};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The testnet binary under test (built by cargo for this package's tests).
const TESTNET: &str = env!("CARGO_BIN_EXE_ramsons-testnet");

/// Runs `ramsons-testnet <args>`; its output, stderr echoed for the test log.
fn testnet(args: &[&str]) -> Output {
    let output = Command::new(TESTNET)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run ramsons-testnet");
    eprintln!(
        "$ ramsons-testnet {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `ramsons-router` binary the testnet starts.
///
/// `env!("CARGO_BIN_EXE_...")` only names binaries of this package, and stable cargo has
/// no dependency on another package's binary (artifact dependencies are unstable). A path
/// guessed from the target folder may hold a stale binary (after `cargo test -p
/// ramsons-testnet` with a changed router). So the test asks cargo: `cargo build
/// --bin ramsons-router` rebuilds it when missing or stale, is quick when it is fresh
/// (`cargo test --workspace` has just built it for the router's own tests) and names the
/// executable in its JSON messages, wherever the target folder is. Once per test run.
fn router_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // The test binary lives in <target>/<profile>/deps: build the router the same way.
        let exe = std::env::current_exe().expect("test executable");
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|p| p.to_str())
            .unwrap_or("debug");
        let profile = if profile == "debug" { "dev" } else { profile };
        cargo_build(&["--profile", profile], &[])
    })
}

/// `cargo build -p ramsons-router --bin ramsons-router <args>` with `env` set; the
/// executable it built.
fn cargo_build(args: &[&str], env: &[(&str, &str)]) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "-p", "ramsons-router", "--bin", "ramsons-router"])
        .args(["--message-format", "json-render-diagnostics"])
        .args(args)
        // Would take precedence over a RUSTFLAGS given in `env`.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    eprintln!("building the router: {command:?}");
    let started = Instant::now();
    let output = command.output().expect("run cargo");
    assert!(output.status.success(), "cargo build failed");
    eprintln!("built in {:.0} s", started.elapsed().as_secs_f64());
    stdout(&output)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "ramsons-router")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the ramsons-router executable")
}

/// A base port with `count` (at most 100) consecutive free ports on 127.0.0.1 from it,
/// in 30000..60000, never the same for two tests of this run.
fn free_base_port(count: u16) -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let pid = std::process::id();
    loop {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(k < 300, "no {count} free ports in a row");
        let base = 30000 + ((pid + k) % 300) as u16 * 100;
        if (base..base + count).all(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok()) {
            return base;
        }
    }
}

/// Polls `check` every second until it returns `Ok`, for at most `limit`; panics with
/// the last `Err` (what was seen instead) after that.
fn eventually<T>(what: &str, limit: Duration, check: impl FnMut() -> Result<T, String>) -> T {
    try_eventually(what, limit, check).unwrap_or_else(|e| panic!("{e}"))
}

/// [`eventually`], returning the failure instead of panicking.
fn try_eventually<T>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> Result<T, String> {
    let started = Instant::now();
    loop {
        match check() {
            Ok(value) => {
                eprintln!("{what}: after {:.1} s", started.elapsed().as_secs_f64());
                return Ok(value);
            }
            Err(seen) if started.elapsed() >= limit => {
                return Err(format!(
                    "{what}: not within {} s; last seen: {seen}",
                    limit.as_secs()
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_secs(1)),
        }
    }
}

/// Router `name`'s status page, if it answers and `ok` accepts it; what it shows otherwise.
fn router_status(
    manifest: &Manifest,
    name: &str,
    ok: impl FnOnce(&Status) -> bool,
) -> Result<Status, String> {
    let entry = manifest
        .routers
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| format!("no router {name}"))?;
    let status = http::status(entry.status)?;
    if ok(&status) {
        Ok(status)
    } else {
        Err(format!(
            "{name}: {} peers, exploratory tunnels {} in / {} out, builds {} ok / {} failed, \
             tiers fast {} / high capacity {} / not failing {} / failing {}",
            status.peers.connected,
            status.tunnels.exploratory_inbound,
            status.tunnels.exploratory_outbound,
            status.tunnels.builds_succeeded,
            status.tunnels.builds_failed,
            status.tiers.fast,
            status.tiers.high_capacity,
            status.tiers.not_failing,
            status.tiers.failing,
        ))
    }
}

fn has_tunnels(status: &Status) -> bool {
    status.tunnels.exploratory_inbound > 0 && status.tunnels.exploratory_outbound > 0
}

/// Takes the testnet down when a test ends, passing or failing, so that no router
/// outlives it.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        if Manifest::path(self.0).exists() {
            let dir = self.0.to_string_lossy();
            testnet(&["down", "--dir", &dir]);
        }
    }
}
