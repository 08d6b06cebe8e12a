//! Running a scenario end to end: simulate, then write the run folder.
//!
//! The folder is assembled under a hidden `.partial` name and renamed into place only when
//! complete, so a run folder that exists is whole, and an existing folder is never
//! overwritten.

use crate::scenario::Scenario;
use crate::world::{Drops, Progress, World};
use anyhow::{bail, Context, Result};
use ramsons_analysis::records::{Manifest, MANIFEST_FILE, PLOTS_DIR};
use ramsons_analysis::{plot_runs, RunFolder};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The version string recorded in manifests: crate version and git commit when known.
pub fn code_version() -> String {
    match option_env!("RAMSONS_GIT_COMMIT") {
        Some(commit) if !commit.is_empty() => {
            format!("{} ({commit})", env!("CARGO_PKG_VERSION"))
        }
        _ => env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// A scenario ready to run: its text (kept for the manifest) and its parsed form.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub path: PathBuf,
    pub text: String,
    pub scenario: Scenario,
}

impl LoadedScenario {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read scenario {}", path.display()))?;
        Self::from_text(path, text)
    }

    pub fn from_text(path: &Path, text: String) -> Result<Self> {
        let scenario = Scenario::parse(&text, path)?;
        Ok(Self {
            path: path.to_owned(),
            text,
            scenario,
        })
    }

    /// The file stem, which names run folders.
    pub fn name(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".to_owned())
    }

    pub fn with_seed(mut self, seed: Option<u64>) -> Self {
        if let Some(seed) = seed {
            self.scenario.general.seed = seed;
        }
        self
    }
}

/// The result of simulating, before anything is written.
#[derive(Debug)]
pub struct Simulated {
    pub manifest: Manifest,
    pub drops: Drops,
    pub outcome: crate::world::Outcome,
}

/// Simulates `loaded` to its stop time.
pub fn simulate(loaded: &LoadedScenario, progress: &mut dyn Progress) -> Result<Simulated> {
    let scenario = Arc::new(loaded.scenario.clone());
    let world = World::new(scenario.clone())
        .map_err(|message| anyhow::anyhow!("scenario {}: {message}", loaded.path.display()))?;
    let wall = std::time::Instant::now();
    let (outcome, drops) = world.run(progress);
    let general = &scenario.general;
    let manifest = Manifest {
        scenario_name: loaded.name(),
        scenario_path: loaded.path.display().to_string(),
        scenario_toml: loaded.text.clone(),
        seed: general.seed,
        code_version: code_version(),
        trace_hash: outcome.trace_hash.clone(),
        events: outcome.events,
        routers: outcome.routers,
        sim_start_unix_s: general.start.0,
        sim_duration_s: general.stop_time.0.as_secs_f64(),
        warmup_s: general.warmup.0.as_secs_f64(),
        sample_interval_s: general.sample_interval.0.as_secs_f64(),
        wall_time_s: wall.elapsed().as_secs_f64(),
        peak_memory_bytes: peak_memory_bytes(),
        metrics: Vec::new(),
    };
    Ok(Simulated {
        manifest,
        drops,
        outcome,
    })
}

/// Where a new run of `name` with `seed` goes under `runs_dir`: `<name>-seed<seed>`, with
/// a numeric suffix when that exists already.
pub fn fresh_run_dir(runs_dir: &Path, name: &str, seed: u64) -> PathBuf {
    let base = format!("{name}-seed{seed}");
    let mut candidate = runs_dir.join(&base);
    let mut n = 2;
    while candidate.exists() {
        candidate = runs_dir.join(format!("{base}-{n}"));
        n += 1;
    }
    candidate
}

/// Writes the run folder `dir` (which must not exist): metrics, manifest, plots.
/// Returns the chart files written.
pub fn write_run(dir: &Path, simulated: &mut Simulated, plots: bool) -> Result<Vec<PathBuf>> {
    if dir.exists() {
        bail!(
            "{} already exists; refusing to overwrite a run folder",
            dir.display()
        );
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".to_owned());
    let partial = dir.with_file_name(format!(".{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot clear {}", partial.display()))?;
    }
    std::fs::create_dir_all(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    simulated.manifest.metrics = simulated
        .outcome
        .metrics
        .write(&partial, &simulated.outcome.floodfills)
        .with_context(|| format!("cannot write metrics into {}", partial.display()))?;
    let adversary_records = simulated
        .outcome
        .write_logs(&partial)
        .with_context(|| format!("cannot write adversary logs into {}", partial.display()))?;
    simulated.manifest.metrics.extend(adversary_records);
    let manifest = serde_json::to_string_pretty(&simulated.manifest)?;
    std::fs::write(partial.join(MANIFEST_FILE), manifest)
        .with_context(|| format!("cannot write the manifest into {}", partial.display()))?;
    std::fs::rename(&partial, dir)
        .with_context(|| format!("cannot move {} to {}", partial.display(), dir.display()))?;
    if !plots {
        return Ok(Vec::new());
    }
    let run = RunFolder::open(dir)?;
    let label = format!(
        "{} seed {}",
        simulated.manifest.scenario_name, simulated.manifest.seed
    );
    plot_runs(&[(label, run)], &dir.join(PLOTS_DIR))
}

/// Peak resident memory of this process (Linux `VmHWM`), or 0 where unknown.
pub fn peak_memory_bytes() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
