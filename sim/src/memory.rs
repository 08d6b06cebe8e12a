//! Memory before and during a run: an estimate from the scenario's size, checked against
//! what the machine has available before the first event, so that a run too big for the
//! machine says so at once instead of being killed an hour in; and the resident size now,
//! for the progress bar.
//!
//! The estimate is per router, from measured runs (`sim/BENCHMARKS.md`, "The real
//! network's size"): peak memory divided by routers, rounded up. It is deliberately
//! pessimistic; a run that fits the estimate fits the machine.

use crate::scenario::Scenario;

/// Peak KiB per router of a netDb-only network (no tunnels), as measured at 1,000 to
/// 20,000 routers (72 to 77 KiB), with room.
const NETDB_KIB_PER_ROUTER: u64 = 100;
/// Peak KiB per router with exploratory tunnels, as measured at 1,000 to 10,000 routers.
const TUNNELS_KIB_PER_ROUTER: u64 = 260;
/// Peak KiB per client destination on top of its router (tunnel pools, ratchet sessions,
/// LeaseSets, streams), as measured.
const KIB_PER_DESTINATION: u64 = 200;
/// What the process needs besides routers: the binary, the event queue's floor, metrics.
const BASE_KIB: u64 = 64 * 1024;

/// Estimated peak resident memory of `scenario`, in bytes.
pub fn estimate_bytes(scenario: &Scenario) -> u64 {
    let routers: u64 = scenario.routers.iter().map(|g| u64::from(g.count)).sum();
    let per_router = if scenario.tunnels.exploratory {
        TUNNELS_KIB_PER_ROUTER
    } else {
        NETDB_KIB_PER_ROUTER
    };
    let destinations = u64::from(scenario.clients.destinations);
    (BASE_KIB + routers * per_router + destinations * KIB_PER_DESTINATION) * 1024
}

/// Memory the kernel says is available to a new process (`MemAvailable`), in bytes, or
/// `None` where unknown (not Linux).
pub fn available_bytes() -> Option<u64> {
    proc_kib("/proc/meminfo", "MemAvailable:").map(|kib| kib * 1024)
}

/// Resident memory of this process now (`VmRSS`), in bytes, or 0 where unknown.
pub fn resident_bytes() -> u64 {
    proc_kib("/proc/self/status", "VmRSS:").map_or(0, |kib| kib * 1024)
}

/// The value of a `Key:   123 kB` line of a /proc file.
fn proc_kib(path: &str, key: &str) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
}

/// What the check found, for the caller to print or refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// The estimate is within what is available (or availability is unknown).
    Fits {
        estimate: u64,
        available: Option<u64>,
    },
    /// The estimate exceeds what is available.
    TooBig { estimate: u64, available: u64 },
}

/// Whether `scenario` is expected to fit in `available` bytes.
pub fn check(scenario: &Scenario, available: Option<u64>) -> Fit {
    let estimate = estimate_bytes(scenario);
    match available {
        Some(available) if estimate > available => Fit::TooBig {
            estimate,
            available,
        },
        _ => Fit::Fits {
            estimate,
            available,
        },
    }
}

/// Bytes as GiB with one decimal, for messages.
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::LoadedScenario;
    use std::path::PathBuf;

    fn scenario(name: &str) -> Scenario {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios")
            .join(format!("{name}.toml"));
        LoadedScenario::load(&path).expect("valid").scenario
    }

    #[test]
    fn the_real_network_needs_gigabytes_and_is_refused_where_they_are_missing() {
        let network = scenario("i2p-network");
        let estimate = estimate_bytes(&network);
        assert!(
            estimate > 8 << 30 && estimate < 16 << 30,
            "{}",
            gib(estimate)
        );
        assert_eq!(
            check(&network, Some(4 << 30)),
            Fit::TooBig {
                estimate,
                available: 4 << 30
            }
        );
        assert!(matches!(check(&network, None), Fit::Fits { .. }));
        let quick = scenario("quickstart");
        assert!(matches!(check(&quick, Some(1 << 30)), Fit::Fits { .. }));
    }

    #[test]
    fn reads_this_process() {
        if cfg!(target_os = "linux") {
            assert!(resident_bytes() > 0);
            assert!(available_bytes().is_some());
        }
    }
}
