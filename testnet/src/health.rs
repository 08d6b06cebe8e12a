//! `status`: every router's status page, an end-to-end message between neighbours, and
//! a verdict.

use crate::http::{self, Ping};
use crate::layout::Role;
use crate::manifest::Manifest;
use ramsons_router::host::Status;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// The state of a testnet at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub routers: Vec<RouterHealth>,
    /// Router i sends to router i+1's test destination (the last to the first).
    pub pings: Vec<PingCheck>,
    /// Why the network is unhealthy; empty when it is healthy.
    pub problems: Vec<String>,
    /// Worth knowing, not a failure (e.g. end-to-end checks a router does not support).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouterHealth {
    pub name: String,
    pub role: Role,
    /// Its status page, when it answered.
    pub status: Option<Status>,
    /// Why it did not answer.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PingCheck {
    pub from: String,
    pub to: String,
    pub delivered: bool,
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
}

impl Report {
    pub fn healthy(&self) -> bool {
        self.problems.is_empty()
    }

    /// Every router answers and has at least one exploratory tunnel each way.
    pub fn all_have_tunnels(&self) -> bool {
        self.routers.iter().all(|r| {
            r.status.as_ref().is_some_and(|s| {
                s.tunnels.exploratory_inbound > 0 && s.tunnels.exploratory_outbound > 0
            })
        })
    }

    /// How many routers answered.
    pub fn answering(&self) -> usize {
        self.routers.iter().filter(|r| r.status.is_some()).count()
    }

    /// How many routers have exploratory tunnels both ways.
    pub fn with_tunnels(&self) -> usize {
        self.routers
            .iter()
            .filter_map(|r| r.status.as_ref())
            .filter(|s| s.tunnels.exploratory_inbound > 0 && s.tunnels.exploratory_outbound > 0)
            .count()
    }

    /// A table for people.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<6} {:<9} {:<5} {:>5} {:>12} {:>9} {:>12}",
            "router", "role", "state", "peers", "netDb (ff)", "expl i/o", "builds ok/x"
        );
        for r in &self.routers {
            let role = match r.role {
                Role::Floodfill => "floodfill",
                Role::Router => "router",
            };
            match &r.status {
                Some(s) => {
                    let _ = writeln!(
                        out,
                        "{:<6} {:<9} {:<5} {:>5} {:>12} {:>9} {:>12}",
                        r.name,
                        role,
                        "up",
                        s.peers.connected,
                        format!("{} ({})", s.netdb.routers, s.netdb.floodfills),
                        format!(
                            "{}/{}",
                            s.tunnels.exploratory_inbound, s.tunnels.exploratory_outbound
                        ),
                        format!("{}/{}", s.tunnels.builds_succeeded, s.tunnels.builds_failed),
                    );
                }
                None => {
                    let _ = writeln!(out, "{:<6} {:<9} {:<5}", r.name, role, "down");
                }
            }
        }
        for p in &self.pings {
            let _ = match (p.delivered, p.latency_ms) {
                (true, Some(ms)) => {
                    writeln!(out, "ping {} -> {}: delivered in {ms} ms", p.from, p.to)
                }
                (true, None) => writeln!(out, "ping {} -> {}: delivered", p.from, p.to),
                (false, _) => writeln!(
                    out,
                    "ping {} -> {}: not delivered: {}",
                    p.from,
                    p.to,
                    p.error.as_deref().unwrap_or("no reason given")
                ),
            };
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        if self.healthy() {
            let _ = writeln!(out, "healthy");
        } else {
            for problem in &self.problems {
                let _ = writeln!(out, "unhealthy: {problem}");
            }
        }
        out
    }
}

/// Reads every router's status page and, with `ping`, sends one message from each
/// router's test destination to the next router's.
pub fn check(dir: &Path, manifest: &Manifest, ping: bool) -> Report {
    let statuses: Vec<Result<Status, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = manifest
            .routers
            .iter()
            .map(|r| s.spawn(move || http::status(r.status)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("status check panicked".into()))
            })
            .collect()
    });
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let routers: Vec<RouterHealth> = manifest
        .routers
        .iter()
        .zip(statuses)
        .map(|(entry, status)| {
            let (status, error) = match status {
                Ok(s) => (Some(s), None),
                Err(e) => (None, Some(e)),
            };
            match (&status, &error) {
                (None, Some(e)) => {
                    let file =
                        Manifest::router_dir(dir, &entry.name).join(crate::testnet::LOG_FILE);
                    let log = match &entry.container {
                        Some(container) => format!(
                            "docker logs {container}; `down` saves it to {}",
                            file.display()
                        ),
                        None => file.display().to_string(),
                    };
                    problems.push(format!("router {} is down: {e} (log: {log})", entry.name))
                }
                (Some(s), _) if !s.tunnels.enabled => {
                    problems.push(format!("router {} has tunnels disabled", entry.name))
                }
                (Some(s), _)
                    if s.tunnels.exploratory_inbound == 0
                        || s.tunnels.exploratory_outbound == 0 =>
                {
                    problems.push(format!(
                        "router {} has no exploratory tunnels both ways ({} in, {} out)",
                        entry.name, s.tunnels.exploratory_inbound, s.tunnels.exploratory_outbound
                    ))
                }
                _ => {}
            }
            RouterHealth {
                name: entry.name.clone(),
                role: entry.role,
                status,
                error,
            }
        })
        .collect();
    let pings = if ping {
        pings(manifest, &routers, &mut problems, &mut notes)
    } else {
        Vec::new()
    };
    Report {
        routers,
        pings,
        problems,
        notes,
    }
}

/// The end-to-end checks, all at once (each may take up to 30 s).
fn pings(
    manifest: &Manifest,
    routers: &[RouterHealth],
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Vec<PingCheck> {
    let n = routers.len();
    let mut pairs = Vec::new();
    for (i, from) in routers.iter().enumerate() {
        let to = &routers[(i + 1) % n];
        if n < 2 || from.status.is_none() || to.status.is_none() {
            continue; // already reported as down
        }
        match to.status.as_ref().and_then(|s| s.destination.clone()) {
            Some(destination) => pairs.push((i, (i + 1) % n, destination)),
            None => notes.push(format!(
                "end-to-end check {} -> {} unsupported: {} shows no test destination",
                from.name, to.name, to.name
            )),
        }
    }
    let results: Vec<Result<Ping, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = pairs
            .iter()
            .map(|(from, _, destination)| {
                let addr = manifest.routers[*from].status;
                s.spawn(move || http::ping(addr, destination))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("ping panicked".into())))
            .collect()
    });
    let mut checks = Vec::new();
    for ((from, to, _), result) in pairs.iter().zip(results) {
        let (from, to) = (routers[*from].name.clone(), routers[*to].name.clone());
        match result {
            Ok(Ping::Unsupported) => notes.push(format!(
                "end-to-end check {from} -> {to} unsupported: {from} has no /ping"
            )),
            Ok(Ping::Answered(outcome)) => {
                if !outcome.delivered {
                    problems.push(format!(
                        "a message {from} -> {to} was not delivered: {}",
                        outcome.error.as_deref().unwrap_or("no reason given")
                    ));
                }
                checks.push(PingCheck {
                    from,
                    to,
                    delivered: outcome.delivered,
                    latency_ms: outcome.latency_ms,
                    error: outcome.error,
                });
            }
            Err(e) => {
                problems.push(format!("a message {from} -> {to} could not be sent: {e}"));
                checks.push(PingCheck {
                    from,
                    to,
                    delivered: false,
                    latency_ms: None,
                    error: Some(e),
                });
            }
        }
    }
    checks
}
