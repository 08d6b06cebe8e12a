//! CDF of the latency of lookups that found their entry.

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::{load, recorded, style, ChartOutcome, LabelledRun, RunRows};
use crate::records::LookupRecord;
use crate::stats::{ecdf, staircase};

pub(crate) const NAME: &str = "lookup_latency_cdf";

/// Points kept per CDF curve; plenty at 1024 px wide.
const CDF_POINTS: usize = 2000;

/// CDF of `latency_ms` over found lookups, one curve per run; writes `lookup_latency_cdf.*`.
pub fn lookup_latency_cdf(
    runs: &[LabelledRun<'_>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
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
    let mut chart = LineChart::new(
        "Lookup latency (found lookups)",
        "lookup latency (ms)",
        "fraction of found lookups ≤ x",
    );
    chart.y_range = Some(0.0..1.02);
    chart.headroom = false;
    chart.empty_note = "no found lookups".into();
    for (run, rows) in present {
        let latencies: Vec<f64> = rows
            .iter()
            .filter(|l| l.is_found())
            .map(|l| l.latency_ms)
            .collect();
        let n = latencies.len();
        let points = staircase(&ecdf(latencies, CDF_POINTS));
        chart.series.push(Series::new(
            format!("{} (n = {n})", run.label),
            style::colour(run.index),
            points,
        ));
    }
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}
