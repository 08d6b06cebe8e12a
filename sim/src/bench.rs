//! The scaling benchmark: the netDb workload at several network sizes, one child process
//! per size (so that peak memory is per size), written as a Markdown table.

use crate::run::code_version;
use anyhow::{bail, Context, Result};
use ramsons_analysis::records::{Manifest, MANIFEST_FILE};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One measured size.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub routers: u64,
    pub floodfills: u64,
    pub manifest: Manifest,
}

impl BenchRow {
    fn events_per_s(&self) -> f64 {
        self.manifest.events as f64 / self.manifest.wall_time_s.max(1e-9)
    }

    fn speedup(&self) -> f64 {
        self.manifest.sim_duration_s / self.manifest.wall_time_s.max(1e-9)
    }
}

/// The base scenario with `routers` routers (`floodfill_share` of them floodfills) and
/// the given stop time, as TOML text. The first floodfill group and the first router
/// group take the counts; other groups are removed so the size is exact.
pub fn scaled_scenario(
    base: &str,
    routers: u64,
    floodfill_share: f64,
    stop_time: &str,
) -> Result<String> {
    let mut doc: toml::Table = base
        .parse()
        .context("the base scenario is not valid TOML")?;
    let floodfills = ((routers as f64) * floodfill_share).round().max(1.0) as i64;
    let plain = routers as i64 - floodfills;
    let groups = doc
        .get_mut("routers")
        .and_then(|r| r.as_array_mut())
        .context("the base scenario has no [[routers]] groups")?;
    let mut kept = Vec::new();
    for role in ["floodfill", "router"] {
        let Some(mut group) = groups
            .iter()
            .find(|g| g.get("role").and_then(|r| r.as_str()) == Some(role))
            .cloned()
        else {
            bail!("the base scenario has no {role:?} group");
        };
        let count = if role == "floodfill" {
            floodfills
        } else {
            plain
        };
        if let Some(table) = group.as_table_mut() {
            table.insert("count".into(), toml::Value::Integer(count));
        }
        kept.push(group);
    }
    *groups = kept;
    let general = doc
        .get_mut("general")
        .and_then(|g| g.as_table_mut())
        .context("the base scenario has no [general] table")?;
    general.insert(
        "stop_time".into(),
        toml::Value::String(stop_time.to_owned()),
    );
    // Events and churn refer to groups by name and to a scale; a scaling benchmark
    // measures the steady netDb workload without them.
    doc.remove("events");
    doc.remove("churn");
    Ok(toml::to_string(&doc)?)
}

/// Runs every size in its own `ramsons-sim run` process and collects the manifests.
pub fn run_sizes(
    exe: &Path,
    base_path: &Path,
    sizes: &[u64],
    floodfill_share: f64,
    stop_time: &str,
    work_dir: &Path,
    mut on_row: impl FnMut(&BenchRow),
) -> Result<Vec<BenchRow>> {
    let base = std::fs::read_to_string(base_path)
        .with_context(|| format!("cannot read {}", base_path.display()))?;
    std::fs::create_dir_all(work_dir)?;
    let mut rows = Vec::new();
    for &routers in sizes {
        let text = scaled_scenario(&base, routers, floodfill_share, stop_time)?;
        let scenario_path = work_dir.join(format!("bench-{routers}.toml"));
        std::fs::write(&scenario_path, text)?;
        let out: PathBuf = work_dir.join(format!("bench-{routers}"));
        if out.exists() {
            std::fs::remove_dir_all(&out)?;
        }
        let status = Command::new(exe)
            .arg("run")
            .arg(&scenario_path)
            .arg("--out")
            .arg(&out)
            .args(["--no-plots", "--quiet"])
            .status()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        if !status.success() {
            bail!("the run with {routers} routers failed ({status})");
        }
        let manifest: Manifest = serde_json::from_str(
            &std::fs::read_to_string(out.join(MANIFEST_FILE))
                .with_context(|| format!("no manifest in {}", out.display()))?,
        )?;
        let floodfills = ((routers as f64) * floodfill_share).round().max(1.0) as u64;
        let row = BenchRow {
            routers,
            floodfills,
            manifest,
        };
        on_row(&row);
        rows.push(row);
    }
    Ok(rows)
}

/// The benchmark table as Markdown, with the growth exponent between sizes
/// (`log(t2/t1) / log(n2/n1)`: 1 is linear).
pub fn markdown(
    rows: &[BenchRow],
    base: &Path,
    floodfill_share: f64,
    stop_time: &str,
    machine: &str,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Simulator benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `ramsons-sim bench` (code {}). Workload: `{}` scaled to each size \
         ({}% floodfills), {stop_time} of simulated time, one process per size. Machine: {machine}.\n",
        code_version(),
        base.display(),
        floodfill_share * 100.0
    );
    let _ = writeln!(
        md,
        "| routers | floodfills | wall time (s) | events | events/s | sim s per wall s | peak memory (MiB) | KiB per router | growth exponent |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (i, row) in rows.iter().enumerate() {
        let m = &row.manifest;
        let growth = match i.checked_sub(1).map(|p| &rows[p]) {
            Some(prev) => format!(
                "{:.2}",
                (m.wall_time_s / prev.manifest.wall_time_s).ln()
                    / (row.routers as f64 / prev.routers as f64).ln()
            ),
            None => "–".to_owned(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {} | {:.0} | {:.1} | {:.0} | {:.1} | {} |",
            row.routers,
            row.floodfills,
            m.wall_time_s,
            m.events,
            row.events_per_s(),
            row.speedup(),
            m.peak_memory_bytes as f64 / (1024.0 * 1024.0),
            m.peak_memory_bytes as f64 / 1024.0 / row.routers as f64,
            growth
        );
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        if last.routers > first.routers {
            let sizes = (last.routers as f64 / first.routers as f64).ln();
            let exponent = |a: f64, b: f64| (b / a).ln() / sizes;
            let events = exponent(first.manifest.events as f64, last.manifest.events as f64);
            let time = exponent(first.manifest.wall_time_s, last.manifest.wall_time_s);
            let memory = exponent(
                first.manifest.peak_memory_bytes as f64,
                last.manifest.peak_memory_bytes as f64,
            );
            let _ = writeln!(
                md,
                "\nFrom {} to {} routers, events grow as n^{events:.2}, peak memory as n^{memory:.2} and wall \
                 time as n^{time:.2}. Events and memory are linear: every router does the same work \
                 and keeps a netDb of bounded size, except floodfills, which hold a RouterInfo of \
                 nearly every router (6% of routers x n entries, shared `Arc`s, so a few dozen bytes \
                 each). Wall time grows faster than events because the cost per event rises with \
                 those tables: ordered-map lookups and the event heap miss the cache more often.",
                first.routers, last.routers
            );
        }
    }
    md
}

/// A one-line description of this machine: CPU model and core count.
pub fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_sets_counts_and_drops_events() {
        let base = r#"
[general]
seed = 1
stop_time = "10 min"

[[routers]]
role = "floodfill"
count = 3

[[routers]]
role = "router"
count = 10

[[events]]
at = "1 min"
action = "heal"
"#;
        let text = scaled_scenario(base, 1000, 0.06, "1 h").expect("scales");
        let scenario =
            crate::scenario::Scenario::parse(&text, Path::new("bench.toml")).expect("valid");
        assert_eq!(scenario.routers[0].count, 60);
        assert_eq!(scenario.routers[1].count, 940);
        assert_eq!(scenario.general.stop_time.0.as_secs(), 3600);
        assert!(scenario.events.is_empty());
    }
}
