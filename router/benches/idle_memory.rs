//! Memory of an idle real router whose netDb holds 5,000 RouterInfos.
//!
//! Writes 5,000 signed RouterInfos (5% floodfills, NTCP2 addresses on a closed loopback
//! port) into a bootstrap folder, starts `ramsons-router run` on them as its own process,
//! lets it settle, then reads the process's resident memory from `/proc`. A separate
//! process, so the figure is the router's alone, not the generator's. Linux only.
//!
//! `cargo bench -p ramsons-router --bench idle_memory`

use ramsons_router::crypto::RouterKeys;
use ramsons_router::data::Mapping;
use ramsons_router::host::datadir::info_file_name;
use ramsons_router::host::HostConfig;
use ramsons_router::transport::ntcp2::Ntcp2Keys;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ROUTERS: usize = 5_000;
const NET_ID: u8 = 99;
/// Long enough for the startup work (parsing and verifying the bootstrap, the first
/// exploration and build attempts) to be over.
const SETTLE: Duration = Duration::from_secs(30);

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let boot = dir.path().join("boot");
    std::fs::create_dir_all(&boot).expect("boot folder");
    let mut rng = ChaCha20Rng::seed_from_u64(5000);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    // Port 9 (discard) is closed on loopback: dials fail at once, as to dead peers.
    let unreachable = SocketAddr::from(([127, 0, 0, 1], 9));
    let generated = Instant::now();
    for i in 0..ROUTERS {
        let keys = RouterKeys::generate(&mut rng);
        let address = Ntcp2Keys::generate(&mut rng).router_address(unreachable);
        let mut options = Mapping::new();
        let caps = if i % 20 == 0 { "OfR" } else { "OR" };
        for (key, value) in [
            ("caps", caps.to_owned()),
            ("netId", NET_ID.to_string()),
            ("router.version", "0.9.66".to_owned()),
        ] {
            options.insert(key, value).expect("short option");
        }
        let info = keys.sign_router_info(now_ms, vec![address], options);
        std::fs::write(boot.join(info_file_name(&info.hash())), info.as_bytes())
            .expect("write RouterInfo");
    }
    eprintln!(
        "generated {ROUTERS} RouterInfos in {:.1} s",
        generated.elapsed().as_secs_f64()
    );

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = HostConfig {
        data_dir: dir.path().join("data"),
        net_id: NET_ID,
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        bootstrap: Some(boot),
        status: None,
        sam: ramsons_router::host::SamSection::disabled(),
        ..HostConfig::default()
    };
    let config_path = dir.path().join("router.toml");
    std::fs::write(&config_path, config.to_toml()).expect("write config");
    let mut router = Command::new(env!("CARGO_BIN_EXE_ramsons-router"))
        .args(["run", "--config"])
        .arg(&config_path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ramsons-router");
    std::thread::sleep(SETTLE);
    let status = std::fs::read_to_string(format!("/proc/{}/status", router.id()))
        .expect("/proc/<pid>/status (Linux only)");
    let _ = Command::new("kill")
        .args(["-TERM", &router.id().to_string()])
        .status();
    let _ = router.wait();
    // Saved at shutdown: what the router actually held.
    let held = std::fs::read_dir(dir.path().join("data").join("netDb"))
        .map(|d| d.count())
        .unwrap_or(0);
    let kib = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (rss, peak) = (kib("VmRSS:"), kib("VmHWM:"));
    println!(
        "| RouterInfos given | held at stop | after | resident (VmRSS) | peak (VmHWM) | target |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {ROUTERS} | {held} | {} s | {:.1} MiB | {:.1} MiB | < 40 MiB |",
        SETTLE.as_secs(),
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
}
