//! The console in a real browser: three routers on loopback (two floodfills and the
//! router whose console is tested, with a test destination and a server tunnel), and
//! Debian's headless Chromium loading every page; the test reads the DOM Chromium
//! built and checks what it shows. The JSON API is checked with a plain HTTP client.
//!
//! Skipped, saying so, when `chromium` is not installed (`.ci/run` installs it).
//! With `CONSOLE_SCREENSHOTS=<folder>` the test also saves a screenshot of every page
//! there (how `docs/console/*.png` are made).

#[path = "../support/host.rs"]
mod support;

use ramsons_router::host::console::LogRing;
use ramsons_router::host::{self, Host, HostConfig, Start, Status, Tokio};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::loopback_config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tracing_subscriber::layer::SubscriberExt;

const NET_ID: u8 = 43;
/// How long the routers get to connect, build tunnels and publish the LeaseSets.
const WAIT: Duration = Duration::from_secs(180);
/// Uptime before screenshots are taken (with `CONSOLE_SCREENSHOTS`).
const SCREENSHOT_UPTIME: u64 = 240;
const WARNING: &str = "console test: a warning for the log page";

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        let ok = Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| PathBuf::from(name))
    })
}

fn router_config(dir: &Path, name: &str, boot: &Path, extra: &str) -> HostConfig {
    let mut config = loopback_config(dir, name, boot, NET_ID, extra);
    config.floodfill = name.starts_with("ff");
    config
}

/// Starts the three routers; the console router's address and status.
async fn start_routers(dir: &Path, log: LogRing) -> (SocketAddr, watch::Receiver<Status>) {
    let boot = dir.join("boot");
    std::fs::create_dir_all(&boot).expect("boot folder");
    let site = "[[tunnel]]\nname = 'site'\ntype = 'http'\nhost = '127.0.0.1'\nport = 9\n\
                keys = 'site.dat'\n\n[client]\ntest_destination = true\n";
    let mut console = router_config(dir, "console", &boot, site);
    console.status = Some((Ipv4Addr::LOCALHOST, 0).into());
    let configs = [
        router_config(dir, "ff0", &boot, ""),
        router_config(dir, "ff1", &boot, ""),
        console,
    ];
    for config in &configs {
        let info = host::init(config, Start::system()).expect("init");
        let file = boot.join(format!("{}.dat", info.hash().to_base64().replace('/', "~")));
        std::fs::write(file, info.as_bytes()).expect("write RouterInfo");
    }
    let mut result = None;
    for config in configs {
        let tested = config.status.is_some();
        let mut router = Host::start(config, Tokio, Start::system())
            .await
            .expect("router starts");
        if tested {
            router.set_log(log.clone());
            let addr = router.console_addr().expect("console address");
            result = Some((addr, router.status()));
        }
        tokio::spawn(router.run(std::future::pending()));
    }
    result.expect("the console router")
}

/// Waits for peers, exploratory tunnels and both destinations ready.
async fn wait_until_ready(status: &mut watch::Receiver<Status>) -> Status {
    let started = Instant::now();
    loop {
        let s = status.borrow().clone();
        let ready = s.peers.connected >= 2
            && s.tunnels.exploratory_inbound > 0
            && s.destinations.len() == 2
            && s.destinations.iter().all(|d| d.state == "ready");
        if ready {
            return s;
        }
        assert!(
            started.elapsed() < WAIT,
            "not ready within {WAIT:?}: {:?} peers, destinations {:?}",
            s.peers.connected,
            s.destinations
        );
        let _ = tokio::time::timeout(Duration::from_secs(1), status.changed()).await;
    }
}

/// One HTTP/1.1 request over a fresh connection: status code and body.
async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.expect("read");
    let code = answer
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (code, body.to_owned())
}

/// Chromium's DOM of `url`, after it loaded the page.
fn dump_dom(browser: &Path, profile: &Path, url: &str) -> String {
    let output = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(output.status.success(), "chromium failed on {url}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn screenshot(browser: &Path, profile: &Path, url: &str, file: &Path) {
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg("--window-size=1280,900")
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", file.display()))
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success() && file.exists(),
        "no screenshot of {url}"
    );
}

/// What each page must show, from the router's own status.
fn expectations(s: &Status) -> Vec<(&'static str, Vec<String>)> {
    let peer = s.peers.list[0].chars().take(12).collect::<String>();
    let test = s.destinations.iter().find(|d| d.name == "test destination");
    let test_b32 = test.map(|d| d.b32.clone()).expect("test destination");
    vec![
        (
            "/",
            vec![
                s.router.clone(),
                format!("{} connected", s.peers.connected),
                "class=\"badge ".into(),
                s.published.clone(),
                "Shut down gracefully".into(),
                "bandwidth.svg".into(),
            ],
        ),
        ("/peers", vec![peer.clone(), "dialled to us".into()]),
        (
            "/tunnels",
            vec!["exploratory".into(), "Participating".into()],
        ),
        (
            "/netdb",
            vec![
                peer,
                format!("{} ({} floodfills)", s.netdb.routers, s.netdb.floodfills),
            ],
        ),
        (
            "/destinations",
            vec![test_b32, "site".into(), "ready".into()],
        ),
        (
            "/addressbook",
            vec!["console-test.i2p".into(), "Names (1)".into()],
        ),
        ("/log", vec![WARNING.into()]),
    ]
}

/// The API: the snapshot, one endpoint per page, a wrong token refused, and an
/// address-book addition (which the address-book page then shows). The token.
async fn check_api(addr: SocketAddr, s: &Status) -> String {
    let (code, body) = http(addr, "GET", "/api/status", "").await;
    assert_eq!(code, 200);
    let api: Status = serde_json::from_str(&body).expect("a status");
    assert_eq!(api.router, s.router);
    for path in [
        "/api/overview",
        "/api/peers",
        "/api/tunnels",
        "/api/netdb",
        "/api/destinations",
        "/api/addressbook",
        "/api/log",
    ] {
        let (code, body) = http(addr, "GET", path, "").await;
        assert_eq!(code, 200, "{path}");
        serde_json::from_str::<serde_json::Value>(&body).expect("JSON");
    }
    let (_, token) = http(addr, "GET", "/api/token", "").await;
    let token: serde_json::Value = serde_json::from_str(&token).expect("JSON");
    let token = token["token"].as_str().expect("token").to_owned();
    let dest = ramsons_router::crypto::DestinationKeys::generate(&mut rand::thread_rng())
        .destination()
        .to_base64();
    let form = format!("token={token}&name=console-test.i2p&destination={dest}");
    let (code, body) = http(addr, "POST", "/api/addressbook", &form).await;
    assert_eq!(code, 200, "{body}");
    let (code, _) = http(addr, "POST", "/api/shutdown", "token=wrong").await;
    assert_eq!(code, 403, "a wrong token must not stop the router");
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_chromium_and_the_api() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: chromium is not installed (apt-get install chromium)");
        return;
    };
    let log = LogRing::new();
    let subscriber = tracing_subscriber::registry().with(log.layer());
    let _ = tracing::subscriber::set_global_default(subscriber);
    let dir = tempfile::tempdir().expect("temp dir");
    let (addr, mut status) = start_routers(dir.path(), log).await;
    let mut s = wait_until_ready(&mut status).await;
    let shots = std::env::var_os("CONSOLE_SCREENSHOTS").map(PathBuf::from);
    if shots.is_some() {
        // Screenshots want a chart with a few minutes of samples in it.
        while s.uptime_secs < SCREENSHOT_UPTIME {
            let _ = tokio::time::timeout(Duration::from_secs(1), status.changed()).await;
            s = status.borrow().clone();
        }
    }
    tracing::warn!("{WARNING}");

    let token = check_api(addr, &s).await;

    // Every page in the browser.
    let browser_dir = tempfile::tempdir().expect("profile dir");
    let status_now = status.borrow().clone();
    for (path, wanted) in expectations(&status_now) {
        let url = format!("http://{addr}{path}");
        let dom = tokio::task::block_in_place(|| dump_dom(&browser, browser_dir.path(), &url));
        for text in wanted {
            assert!(dom.contains(&text), "{path} does not show {text:?}:\n{dom}");
        }
        if let Some(folder) = &shots {
            std::fs::create_dir_all(folder).expect("screenshot folder");
            let name = match path.trim_start_matches('/') {
                "" => "overview",
                other => other,
            };
            let file = folder.join(format!("{name}.png"));
            tokio::task::block_in_place(|| screenshot(&browser, browser_dir.path(), &url, &file));
        }
    }

    // The shutdown button, as a browser posts it: the router stops.
    let form = format!("token={token}");
    let (code, body) = http(addr, "POST", "/shutdown", &form).await;
    assert_eq!(code, 200);
    assert!(body.contains("shutting down"), "{body}");
    let stopped = tokio::time::timeout(Duration::from_secs(10), async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    stopped.await.expect("the console stops with the router");
}
