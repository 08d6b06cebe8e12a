//! Fraction of lookups found, per sample interval, over simulated time.

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::{
    common_interval, fmt_duration, load, minutes, recorded, style, time_range, warmup_shade,
    ChartOutcome, LabelledRun, RunRows, DEFAULT_INTERVAL_S, TIME_AXIS,
};
use crate::records::LookupRecord;
use crate::stats::success_bins;

pub(crate) const NAME: &str = "lookup_success";

/// Fraction of lookups found per time bin (the run's sample interval), by lookup start time,
/// one line per run; writes `lookup_success.*`.
pub fn lookup_success(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, LookupRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let folders = || present.iter().map(|(d, _)| d.run);
    let title = match common_interval(folders()) {
        Some(i) => format!("Lookup success per {} interval", fmt_duration(i)),
        None => "Lookup success per sample interval".to_string(),
    };
    let mut chart = LineChart::new(
        title,
        TIME_AXIS,
        "fraction of lookups found (by start time)",
    );
    chart.empty_note = "no lookups".into();
    chart.shade = warmup_shade(folders());
    let mut lowest: Option<f64> = None;
    let mut last_s: f64 = 0.0;
    for (run, rows) in &present {
        let interval = run.run.manifest.sample_interval_s;
        let bin_s = if interval.is_finite() && interval > 0.0 {
            interval
        } else {
            DEFAULT_INTERVAL_S
        };
        let points: Vec<(f64, f64)> = success_bins(rows, bin_s)
            .iter()
            .filter_map(|b| {
                last_s = last_s.max(b.end_s);
                let f = b.fraction()?;
                lowest = Some(lowest.map_or(f, |l| l.min(f)));
                Some((minutes((b.start_s + b.end_s) / 2.0), f))
            })
            .collect();
        let n = rows.len();
        chart.series.push(
            Series::new(
                format!("{} ({n} lookups)", run.label),
                style::colour(run.index),
                points,
            )
            .markers(),
        );
    }
    chart.x_range = Some(time_range(folders(), last_s));
    // Success rates usually sit near 1: zoom in, in steps of 0.1, keeping some air below.
    let floor = lowest.map_or(0.0, |l| {
        (((l - 0.05) * 10.0).floor() / 10.0).clamp(0.0, 0.9)
    });
    chart.y_range = Some(floor..1.02);
    chart.headroom = false;
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}
