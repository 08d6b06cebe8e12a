//! Distribution over floodfills of the messages each received after warmup.

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::{load, recorded, style, ChartOutcome, LabelledRun, RunRows};
use crate::records::FloodfillLoadRecord;
use crate::stats::{ecdf, staircase};

pub(crate) const NAME: &str = "floodfill_load";

const CDF_POINTS: usize = 2000;

/// CDF over floodfills of stores + floods + lookups received, one curve per run; writes
/// `floodfill_load.*`.
pub fn floodfill_load(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, FloodfillLoadRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let mut chart = LineChart::new(
        "Floodfill load after warmup",
        "messages received per floodfill (stores + floods + lookups)",
        "fraction of floodfills ≤ x",
    );
    chart.y_range = Some(0.0..1.02);
    chart.headroom = false;
    chart.empty_note = "no floodfills".into();
    for (run, rows) in present {
        let loads: Vec<f64> = rows.iter().map(|f| f.messages_received() as f64).collect();
        let n = loads.len();
        let max = rows
            .iter()
            .map(FloodfillLoadRecord::messages_received)
            .max()
            .unwrap_or(0);
        let points = staircase(&ecdf(loads, CDF_POINTS));
        chart.series.push(Series::new(
            format!("{} ({n} floodfills, max {max})", run.label),
            style::colour(run.index),
            points,
        ));
    }
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}
