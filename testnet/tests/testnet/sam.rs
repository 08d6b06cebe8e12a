//! Applications through a loopback testnet: the unmodified `i2psam` package from PyPI
//! talks to the SAM bridges of two routers (`tests/sam/echo.py`): a stream echo through
//! 3-hop client tunnels, and a datagram round trip.

use super::*;

/// `python3` that can import `i2psam`; `None` (the test skips) without one, except on
/// CI, where `.ci/run` installs it and its absence is a failure.
fn python_with_i2psam() -> Option<String> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let found = Command::new(&python)
        .args(["-c", "import i2psam"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("CI needs {python} with i2psam (pip install i2psam==1.0.0)");
    }
    found.then_some(python)
}

#[test]
fn i2psam_echoes_a_stream_and_a_datagram_across_a_loopback_testnet() {
    let Some(python) = python_with_i2psam() else {
        eprintln!("skipped: no python3 with i2psam (pip install i2psam==1.0.0)");
        return;
    };
    let router = router_bin().to_string_lossy().into_owned();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("net");
    let dir_arg = dir.to_string_lossy().into_owned();
    let base = free_base_port(18).to_string();
    let _down = Down(&dir);
    let up = testnet(&[
        "up",
        "--dir",
        &dir_arg,
        "--floodfills",
        "2",
        "--routers",
        "4",
        "--base-port",
        &base,
        "--router-bin",
        &router,
        "--wait-tunnels",
        "--tunnel-timeout",
        "150",
    ]);
    assert!(up.status.success(), "up failed: {}", stderr(&up));
    let manifest = Manifest::require(&dir).expect("manifest written");
    let sam = |name: &str| {
        let r = manifest
            .routers
            .iter()
            .find(|r| r.name == name)
            .expect(name);
        r.sam.expect("loopback routers run SAM").port().to_string()
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sam/echo.py");
    let output = Command::new(&python)
        .arg(&script)
        .args([sam("r0"), sam("r3")])
        .env("ECHO_BYTES", (256 * 1024).to_string())
        .stdin(Stdio::null())
        .output()
        .expect("run echo.py");
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    eprintln!("{out}{err}");
    if !output.status.success() {
        for r in ["r0", "r3"] {
            let log = std::fs::read_to_string(dir.join(r).join("router.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!(
                "{r} log (tail):\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
    assert!(output.status.success(), "echo.py failed: {err}");
    assert!(out.contains("stream echo of 262144 bytes") && out.contains("datagram round trip"));
}
