//! Five routers in containers: one stopped and restarted, one cut off the network and
//! reconnected. Runs only when a docker engine answers.

use super::*;
use ramsons_testnet::docker;

/// The container address of router `index` (floodfills first), as the testnet assigns it.
fn ip(index: usize) -> String {
    format!("198.18.0.{}", 10 + index)
}

fn run(program: &str, args: &[&str]) {
    eprintln!("$ {program} {}", args.join(" "));
    if let Err(e) = docker::run(program, args) {
        panic!("{e}");
    }
}

#[test]
fn docker_testnet_survives_a_stop_and_a_disconnection() {
    if !docker::engine_available() {
        eprintln!("skipped: no docker engine");
        return;
    }
    let started = Instant::now();
    // The image is FROM scratch: it needs a statically linked router (glibc's libc.a),
    // built for an explicit target so that RUSTFLAGS leave build scripts alone. About a
    // minute on 2 cores from scratch; cargo skips it when it is fresh.
    eprintln!("building a static ramsons-router for the docker image");
    let router = cargo_build(
        &["--release", "--target", "x86_64-unknown-linux-gnu"],
        &[("RUSTFLAGS", "-C target-feature=+crt-static")],
    );
    assert!(
        docker::is_static_executable(&router).expect("an executable"),
        "{} is not static",
        router.display()
    );
    let router = router.to_string_lossy().into_owned();

    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("dockernet");
    let dir_arg = dir.to_string_lossy().into_owned();
    let base = free_base_port(10).to_string();
    let _down = Down(&dir);
    let up = testnet(&[
        "up",
        "--docker",
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
        "--wait-tunnels",
        "--tunnel-timeout",
        "120",
    ]);
    assert!(up.status.success(), "up --docker failed: {}", stderr(&up));
    let manifest = Manifest::require(&dir).expect("manifest");
    let network = manifest.network.clone().expect("a docker network");
    let container = |name: &str| {
        manifest
            .routers
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.container.clone())
            .expect("a container")
    };
    let status = testnet(&["status", "--docker", "--dir", &dir_arg, "--no-ping"]);
    assert!(status.status.success(), "{}", stdout(&status));

    // r2 stops; r1 loses its network for a while.
    let (stopped, cut) = (container("r2"), container("r1"));
    run("docker", &["stop", &stopped]);
    run("docker", &["network", "disconnect", &network, &cut]);
    std::thread::sleep(Duration::from_secs(15));
    run(
        "docker",
        &["network", "connect", "--ip", &ip(3), &network, &cut],
    );
    let reconnected = Instant::now();

    // The others keep (or rebuild) tunnels without r2.
    for name in ["ff0", "ff1", "r0"] {
        eventually(
            &format!("{name} has tunnels"),
            Duration::from_secs(120),
            || router_status(&manifest, name, has_tunnels),
        );
    }
    // r1 rejoins: connected again and building new tunnels through its peers.
    let builds = router_status(&manifest, "r1", |_| true).map_or(0, |s| s.tunnels.builds_succeeded);
    eventually("r1 rejoins", Duration::from_secs(150), || {
        router_status(&manifest, "r1", |s| {
            s.peers.connected > 0 && has_tunnels(s) && s.tunnels.builds_succeeded > builds
        })
    });
    eprintln!(
        "r1 rejoined {:.0} s after reconnection",
        reconnected.elapsed().as_secs_f64()
    );

    // r2 comes back as itself.
    run("docker", &["start", &stopped]);
    let back = eventually("r2 back with tunnels", Duration::from_secs(120), || {
        router_status(&manifest, "r2", has_tunnels)
    });
    assert_eq!(
        back.router, manifest.routers[4].hash,
        "r2 kept its identity"
    );
    let status = testnet(&["status", "--dir", &dir_arg, "--no-ping"]);
    assert!(status.status.success(), "{}", stdout(&status));

    let down = testnet(&["down", "--docker", "--dir", &dir_arg]);
    assert!(down.status.success(), "{}", stderr(&down));
    let project = manifest.project.as_deref().expect("a compose project");
    assert_eq!(
        docker::running_containers(project).expect("docker ps"),
        Vec::<String>::new()
    );
    assert!(
        dir.join("r2").join("router.log").exists(),
        "logs saved by down"
    );
    eprintln!(
        "docker testnet test: {:.0} s",
        started.elapsed().as_secs_f64()
    );
}
