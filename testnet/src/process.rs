//! Router processes of a loopback testnet: start, find, stop.
//!
//! Whether a process runs is read from `/proc` (Linux): a pid counts as our router only
//! while it is alive (not a zombie) and its command line names its `router.toml`, so a
//! pid reused by another program after a crash is never signalled.

use crate::TestnetError;
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ROUTER_BIN: &str = "ramsons-router";

/// `ramsons-router` next to the running executable (cargo puts every binary of the
/// workspace in one folder).
pub fn default_router_bin() -> Result<PathBuf, TestnetError> {
    let exe = std::env::current_exe().map_err(TestnetError::io("the running executable"))?;
    let bin = exe.with_file_name(ROUTER_BIN);
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(TestnetError::Spec(format!(
            "{} not found next to {}: build it (cargo build -p ramsons-router) or pass \
             --router-bin",
            bin.display(),
            exe.display()
        )))
    }
}

/// Starts `bin run --config <config>`, output appended to `log`. The router gets a process
/// group of its own, so a Ctrl-C meant for the terminal's foreground job does not reach it.
pub fn spawn_router(bin: &Path, config: &Path, log: &Path) -> Result<Child, TestnetError> {
    let open = || {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(TestnetError::io(log))
    };
    let (stdout, stderr) = (open()?, open()?);
    Command::new(bin)
        .arg("run")
        .arg("--config")
        .arg(config)
        // A log file, not a terminal: no colour escapes.
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .map_err(|e| TestnetError::Command {
            command: format!("{} run --config {}", bin.display(), config.display()),
            message: e.to_string(),
        })
}

/// Whether `pid` is a live process whose command line names `config`.
pub fn router_is_running(pid: u32, config: &Path) -> bool {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = std::fs::read_to_string(proc.join("stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may hold spaces.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    if matches!(state, Some("Z" | "X" | "x") | None) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(proc.join("cmdline")) else {
        return false;
    };
    let config = config.as_os_str().as_encoded_bytes();
    cmdline.split(|&b| b == 0).any(|arg| arg == config)
}

/// `kill -<signal> <pid>` (the workspace forbids the unsafe code a libc call needs).
pub fn signal(pid: u32, signal: &str) -> Result<(), TestnetError> {
    let command = format!("kill -{signal} {pid}");
    let output = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TestnetError::Command {
            command: command.clone(),
            message: e.to_string(),
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(TestnetError::Command {
            command,
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// How a router process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It was not running.
    NotRunning,
    /// It exited after SIGTERM.
    Terminated,
    /// It was still running after the grace period and got SIGKILL.
    Killed,
}

/// Sends SIGTERM to every running process of `routers` (pid, config), waits up to
/// `grace` for them to exit, then SIGKILLs the rest. Returns what happened to each.
pub fn stop_all(routers: &[(u32, PathBuf)], grace: Duration) -> Vec<Stopped> {
    let mut outcome: Vec<Stopped> = routers
        .iter()
        .map(|(pid, config)| {
            if router_is_running(*pid, config) && signal(*pid, "TERM").is_ok() {
                Stopped::Terminated
            } else {
                Stopped::NotRunning
            }
        })
        .collect();
    let deadline = Instant::now() + grace;
    let still_running = |outcome: &[Stopped]| {
        routers
            .iter()
            .zip(outcome)
            .any(|((pid, config), o)| *o == Stopped::Terminated && router_is_running(*pid, config))
    };
    while Instant::now() < deadline && still_running(&outcome) {
        std::thread::sleep(Duration::from_millis(100));
    }
    for ((pid, config), o) in routers.iter().zip(&mut outcome) {
        if *o == Stopped::Terminated && router_is_running(*pid, config) {
            // It may exit between the check and the signal; either way it is gone.
            let _ = signal(*pid, "KILL");
            *o = Stopped::Killed;
        }
    }
    outcome
}

/// The last `lines` lines of a log, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_stops_a_process_by_pid_and_command_line() {
        let marker = PathBuf::from("/nonexistent/ramsons-testnet-marker.toml");
        // `sh -c 'sleep 30; :' <marker>`: the marker is on sh's command line (as $0), and
        // two commands keep sh from exec'ing sleep in its place.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("sleep 30; :")
            .arg(&marker)
            .spawn()
            .expect("spawn sh");
        let pid = child.id();
        // Until the child has exec'd, its command line is ours.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !router_is_running(pid, &marker) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(router_is_running(pid, &marker));
        assert!(!router_is_running(pid, Path::new("/other.toml")));
        let outcome = stop_all(&[(pid, marker.clone())], Duration::from_secs(5));
        assert_eq!(outcome, [Stopped::Terminated]);
        // Our own child stays a zombie until waited for: it counts as stopped already.
        assert!(!router_is_running(pid, &marker));
        child.wait().expect("reap");
        assert_eq!(
            stop_all(&[(pid, marker)], Duration::from_secs(1)),
            [Stopped::NotRunning]
        );
    }

    #[test]
    fn tails_logs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("router.log");
        std::fs::write(&log, "a\nb\nc\n").expect("write");
        assert_eq!(log_tail(&log, 2), "b\nc");
        assert_eq!(log_tail(&dir.path().join("missing"), 2), "");
    }
}
