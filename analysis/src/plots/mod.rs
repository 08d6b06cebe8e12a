//! Charts over one or several run folders.
//!
//! Every chart function takes `(label, &RunFolder)` pairs and overlays the runs on one chart,
//! one colour per run (by position in the slice, so a run keeps its colour across charts), and
//! writes `<name>.png` and `<name>.svg` into an output folder. A chart is skipped (not an error)
//! when no run recorded its metric; a run without the metric is left out of that chart. A
//! metric recorded with no rows draws an empty chart with a note.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::records::Metric;
use crate::run::RunFolder;

mod cdf_chart;
mod delivery;
mod fields_chart;
mod floodfill_load;
mod islands;
pub mod line_chart;
mod lookup_latency_cdf;
mod lookup_success;
mod netdb_coverage;
mod store_flood;
mod streams;
pub mod style;
mod success_chart;
mod sweep_chart;
mod tier_capture;
mod transit_load;
mod tunnel_build_latency_cdf;
mod tunnel_build_success;
mod tunnel_tiers;
mod victim_load;

pub use delivery::{delivery_latency_cdf, delivery_success};
pub use floodfill_load::floodfill_load;
pub use islands::islands;
pub use lookup_latency_cdf::lookup_latency_cdf;
pub use lookup_success::lookup_success;
pub use netdb_coverage::{netdb_coverage, netdb_coverage_fraction};
pub use store_flood::store_flood;
pub use streams::{stream_completion_cdf, stream_ttfb_cdf};
pub use sweep_chart::{chart_name, is_fraction, plot_sweep, SweepCharts};
pub use tier_capture::tier_capture;
pub use transit_load::transit_load;
pub use tunnel_build_latency_cdf::tunnel_build_latency_cdf;
pub use tunnel_build_success::tunnel_build_success;
pub use tunnel_tiers::tunnel_tiers;
pub use victim_load::victim_router_infos;

/// A run to chart: its legend label and folder.
pub type LabelledRun<'a> = (&'a str, &'a RunFolder);

/// What a chart function did.
#[derive(Debug, Clone, PartialEq)]
pub enum ChartOutcome {
    /// Files written (PNG and SVG).
    Written(Vec<PathBuf>),
    /// Not drawn, and why (e.g. no run recorded the metric).
    Skipped { chart: &'static str, reason: String },
}

impl ChartOutcome {
    /// Files written, none when skipped.
    pub fn files(&self) -> &[PathBuf] {
        match self {
            Self::Written(files) => files,
            Self::Skipped { .. } => &[],
        }
    }
}

/// Everything [`plot_all`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlotReport {
    pub written: Vec<PathBuf>,
    /// `(chart, reason)` for each chart not drawn.
    pub skipped: Vec<(&'static str, String)>,
}

/// Chart names, in drawing order.
pub const CHARTS: [&str; 17] = [
    lookup_latency_cdf::NAME,
    lookup_success::NAME,
    floodfill_load::NAME,
    netdb_coverage::NAME,
    netdb_coverage::FRACTION_NAME,
    store_flood::NAME,
    tunnel_build_latency_cdf::NAME,
    tunnel_build_success::NAME,
    tunnel_tiers::NAME,
    transit_load::NAME,
    delivery::LATENCY_NAME,
    delivery::SUCCESS_NAME,
    streams::COMPLETION_NAME,
    streams::TTFB_NAME,
    tier_capture::NAME,
    victim_load::NAME,
    islands::NAME,
];

/// Draws every chart whose data exists into `out_dir` (created if needed); returns the files
/// written. This is the simulator's entry point at the end of a run.
pub fn plot_runs(runs: &[(String, RunFolder)], out_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    Ok(plot_all(runs, out_dir)?.written)
}

/// Like [`plot_runs`], also reporting the charts skipped and why.
pub fn plot_all(runs: &[(String, RunFolder)], out_dir: &Path) -> anyhow::Result<PlotReport> {
    let runs: Vec<LabelledRun<'_>> = runs.iter().map(|(l, r)| (l.as_str(), r)).collect();
    let mut report = PlotReport::default();
    let mut add = |outcome: ChartOutcome| match outcome {
        ChartOutcome::Written(files) => report.written.extend(files),
        ChartOutcome::Skipped { chart, reason } => report.skipped.push((chart, reason)),
    };
    // Each metric is read once and shared by the charts that use it.
    let lookups = load(&runs)?;
    add(lookup_latency_cdf::draw(&lookups, out_dir)?);
    add(lookup_success::draw(&lookups, out_dir)?);
    drop(lookups);
    add(floodfill_load::draw(&load(&runs)?, out_dir)?);
    let coverage = load(&runs)?;
    add(netdb_coverage::draw(&coverage, out_dir)?);
    add(netdb_coverage::draw_fraction(&coverage, out_dir)?);
    drop(coverage);
    add(store_flood::draw(&load(&runs)?, out_dir)?);
    let builds = load(&runs)?;
    add(tunnel_build_latency_cdf::draw(&builds, out_dir)?);
    add(tunnel_build_success::draw(&builds, out_dir)?);
    drop(builds);
    let samples = load(&runs)?;
    add(tunnel_tiers::draw(&samples, out_dir)?);
    add(transit_load::draw(&samples, out_dir)?);
    drop(samples);
    let deliveries = load(&runs)?;
    add(delivery::draw_latency(&deliveries, out_dir)?);
    add(delivery::draw_success(&deliveries, out_dir)?);
    drop(deliveries);
    let fetches = load(&runs)?;
    add(streams::draw_completion(&fetches, out_dir)?);
    add(streams::draw_ttfb(&fetches, out_dir)?);
    drop(fetches);
    add(tier_capture::draw(&load(&runs)?, out_dir)?);
    add(victim_load::draw(&load(&runs)?, out_dir)?);
    add(islands::draw(&load(&runs)?, out_dir)?);
    Ok(report)
}

/// Legend labels for runs: `"<scenario_name> seed <seed>"`; runs whose labels would collide
/// use their folder name instead, or their path as given if folder names collide too (and
/// `" #<n>"` is appended to any label still repeated, e.g. the same folder given twice).
pub fn default_labels(runs: &[RunFolder]) -> Vec<String> {
    fn collides(labels: &[String], i: usize) -> bool {
        labels.iter().filter(|l| **l == labels[i]).count() > 1
    }
    let primary: Vec<String> = runs
        .iter()
        .map(|r| format!("{} seed {}", r.manifest.scenario_name, r.manifest.seed))
        .collect();
    let folders: Vec<String> = runs.iter().map(RunFolder::folder_name).collect();
    let labels: Vec<String> = (0..runs.len())
        .map(|i| {
            if !collides(&primary, i) {
                primary[i].clone()
            } else if !collides(&folders, i) {
                folders[i].clone()
            } else {
                runs[i].path.display().to_string()
            }
        })
        .collect();
    (0..labels.len())
        .map(|i| {
            if collides(&labels, i) {
                format!("{} #{}", labels[i], i + 1)
            } else {
                labels[i].clone()
            }
        })
        .collect()
}

/// One run's rows of one metric, with what the charts need to know about the run.
#[derive(Debug)]
pub(crate) struct RunRows<'a, T> {
    pub label: &'a str,
    pub run: &'a RunFolder,
    /// Position of the run in the caller's slice: its colour.
    pub index: usize,
    /// `None` when the run did not record this metric.
    pub rows: Option<Vec<T>>,
}

/// Reads metric `T` from every run.
pub(crate) fn load<'a, T: Metric>(runs: &[LabelledRun<'a>]) -> anyhow::Result<Vec<RunRows<'a, T>>> {
    runs.iter()
        .enumerate()
        .map(|(index, &(label, run))| {
            let rows = run
                .read::<T>()
                .with_context(|| format!("reading run {label:?}"))?;
            Ok(RunRows {
                label,
                run,
                index,
                rows,
            })
        })
        .collect()
}

/// Runs that recorded a metric, with their rows.
pub(crate) type Recorded<'r, 'a, T> = Vec<(&'r RunRows<'a, T>, &'r [T])>;

/// The runs that recorded the metric, or `Skipped` when none did.
pub(crate) fn recorded<'r, 'a, T: Metric>(
    chart: &'static str,
    data: &'r [RunRows<'a, T>],
) -> Result<Recorded<'r, 'a, T>, ChartOutcome> {
    let present: Vec<_> = data
        .iter()
        .filter_map(|d| d.rows.as_deref().map(|rows| (d, rows)))
        .collect();
    if present.is_empty() {
        Err(ChartOutcome::Skipped {
            chart,
            reason: format!("no run has {}", T::FILE_NAME),
        })
    } else {
        Ok(present)
    }
}

/// Rows with a finite time, in time order.
pub(crate) fn in_time_order<T>(rows: &[T], time_s: impl Fn(&T) -> f64) -> Vec<&T> {
    let mut out: Vec<&T> = rows.iter().filter(|r| time_s(r).is_finite()).collect();
    out.sort_by(|a, b| time_s(a).total_cmp(&time_s(b)));
    out
}

/// Seconds to minutes, the time axis unit.
pub(crate) fn minutes(s: f64) -> f64 {
    s / 60.0
}

pub(crate) const TIME_AXIS: &str = "simulated time (min)";

/// Time axis range in minutes: from 0 to the longest run (or the last sample if later).
pub(crate) fn time_range<'a>(
    runs: impl IntoIterator<Item = &'a RunFolder>,
    last_sample_s: f64,
) -> std::ops::Range<f64> {
    let longest = runs
        .into_iter()
        .map(|r| r.manifest.sim_duration_s)
        .filter(|d| d.is_finite())
        .fold(0.0_f64, f64::max)
        .max(if last_sample_s.is_finite() {
            last_sample_s
        } else {
            0.0
        });
    if longest > 0.0 {
        0.0..minutes(longest)
    } else {
        0.0..1.0
    }
}

/// The warmup region to shade, in minutes: up to the longest warmup of the runs.
pub(crate) fn warmup_shade<'a>(
    runs: impl IntoIterator<Item = &'a RunFolder>,
) -> Option<(f64, f64, String)> {
    let warmup = runs
        .into_iter()
        .map(|r| r.manifest.warmup_s)
        .filter(|w| w.is_finite())
        .fold(0.0_f64, f64::max);
    (warmup > 0.0).then(|| {
        (
            0.0,
            minutes(warmup),
            "warmup (excluded from metrics)".into(),
        )
    })
}

/// The runs' common sample interval, if they all share one that is usable.
pub(crate) fn common_interval<'a>(runs: impl IntoIterator<Item = &'a RunFolder>) -> Option<f64> {
    let mut it = runs.into_iter().map(|r| r.manifest.sample_interval_s);
    let first = it.next()?;
    (first.is_finite() && first > 0.0 && it.all(|i| i == first)).then_some(first)
}

/// "30 s", "5 min", "1.5 h".
pub(crate) fn fmt_duration(s: f64) -> String {
    let trim = |v: f64| {
        let t = format!("{v:.2}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if s >= 3600.0 && (s / 3600.0).fract() == 0.0 || s >= 7200.0 {
        format!("{} h", trim(s / 3600.0))
    } else if s >= 60.0 && (s / 60.0).fract() == 0.0 || s >= 600.0 {
        format!("{} min", trim(s / 60.0))
    } else {
        format!("{} s", trim(s))
    }
}

/// Fallback bin width when a manifest's sample interval is unusable.
pub(crate) const DEFAULT_INTERVAL_S: f64 = 60.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(fmt_duration(30.0), "30 s");
        assert_eq!(fmt_duration(90.0), "90 s");
        assert_eq!(fmt_duration(60.0), "1 min");
        assert_eq!(fmt_duration(300.0), "5 min");
        assert_eq!(fmt_duration(3600.0), "1 h");
        assert_eq!(fmt_duration(900.0), "15 min");
        assert_eq!(fmt_duration(0.5), "0.5 s");
    }
}
