//! Five router processes on 127.0.0.1: up, tunnels, end-to-end messages, down, up again.

use super::*;
use ramsons_testnet::process::router_is_running;

#[test]
fn loopback_testnet_comes_up_checks_healthy_and_goes_down() {
    let started = Instant::now();
    let router = router_bin().to_string_lossy().into_owned();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("net");
    let dir_arg = dir.to_string_lossy().into_owned();
    let base = free_base_port(16).to_string();
    let _down = Down(&dir);
    let up_args = [
        "up",
        "--dir",
        &dir_arg,
        "--floodfills",
        "2",
        "--routers",
        "3",
        "--base-port",
        &base,
        "--router-bin",
        &router,
    ];

    let mut first_up = up_args.to_vec();
    first_up.extend(["--wait-tunnels", "--tunnel-timeout", "150"]);
    let up = testnet(&first_up);
    assert!(up.status.success(), "up failed: {}", stderr(&up));
    assert!(
        stdout(&up).contains("exploratory tunnels both ways"),
        "{}",
        stdout(&up)
    );
    let manifest = Manifest::require(&dir).expect("manifest written");
    let names: Vec<_> = manifest.routers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["ff0", "ff1", "r0", "r1", "r2"]);
    for r in &manifest.routers {
        let status = router_status(&manifest, &r.name, |_| true).expect("status answers");
        assert_eq!(
            status.router, r.hash,
            "{} runs the identity in the manifest",
            r.name
        );
        assert_eq!(status.net_id, 99);
        let folder = dir.join(&r.name);
        for file in [
            "router.toml",
            "router.pid",
            "router.log",
            "data/router.keys",
        ] {
            assert!(folder.join(file).exists(), "{}/{file} missing", r.name);
        }
        assert!(dir
            .join("netDb")
            .join(format!("routerInfo-{}.dat", r.hash))
            .exists());
    }

    // The routers' own test destinations exchange messages: healthy, with latencies.
    // Each destination first has to publish its LeaseSet, so allow a few attempts.
    let report: serde_json::Value = eventually("status healthy", Duration::from_secs(150), || {
        let status = testnet(&["status", "--dir", &dir_arg, "--json"]);
        let report: serde_json::Value =
            serde_json::from_slice(&status.stdout).map_err(|e| format!("not JSON: {e}"))?;
        if status.status.success() {
            Ok(report)
        } else {
            Err(report["problems"].to_string())
        }
    });
    let pings = report["pings"].as_array().expect("pings");
    assert_eq!(pings.len(), 5, "one message per router: {report}");
    assert!(pings
        .iter()
        .all(|p| p["delivered"] == true && p["latency_ms"].is_u64()));
    let text = testnet(&["status", "--dir", &dir_arg, "--no-ping"]);
    assert!(text.status.success());
    assert!(stdout(&text).contains("healthy"), "{}", stdout(&text));

    let again = testnet(&up_args);
    assert!(
        !again.status.success(),
        "a second up while running must fail"
    );
    assert!(
        stderr(&again).contains("ramsons-testnet down"),
        "{}",
        stderr(&again)
    );

    let down = testnet(&["down", "--dir", &dir_arg]);
    assert!(down.status.success(), "down failed: {}", stderr(&down));
    for r in &manifest.routers {
        let config = dir.join(&r.name).join("router.toml");
        let pid = r.pid.expect("pid in the manifest");
        assert!(!router_is_running(pid, &config), "{} still runs", r.name);
        assert!(!dir.join(&r.name).join("router.pid").exists());
    }
    let stopped = testnet(&["status", "--dir", &dir_arg, "--no-ping"]);
    assert!(!stopped.status.success(), "a stopped testnet is unhealthy");
    assert!(
        stdout(&stopped).contains("router r2 is down"),
        "{}",
        stdout(&stopped)
    );

    // Up again from the same folders: the same identities, answering again.
    let up = testnet(&up_args);
    assert!(up.status.success(), "second up failed: {}", stderr(&up));
    let second = Manifest::require(&dir).expect("manifest");
    for (before, after) in manifest.routers.iter().zip(&second.routers) {
        assert_eq!(before.hash, after.hash, "{} kept its identity", before.name);
        let status = router_status(&second, &after.name, |_| true).expect("answers");
        assert_eq!(status.router, after.hash);
    }
    let down = testnet(&["down", "--dir", &dir_arg]);
    assert!(down.status.success());
    eprintln!(
        "loopback testnet test: {:.0} s",
        started.elapsed().as_secs_f64()
    );
}
