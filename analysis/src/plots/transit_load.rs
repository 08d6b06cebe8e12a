//! Transit load: tunnels each router takes part in for others, over time.

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::style::{self, Dash};
use super::{
    in_time_order, load, minutes, recorded, time_range, warmup_shade, ChartOutcome, LabelledRun,
    RunRows, TIME_AXIS,
};
use crate::records::TunnelSampleRecord;

pub(crate) const NAME: &str = "transit_load";

/// Participating (transit) tunnels per router over time: the mean over routers as a solid
/// line and the maximum as a dashed one, colour = run. Writes `transit_load.*`.
pub fn transit_load(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, TunnelSampleRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let folders = || present.iter().map(|(d, _)| d.run);
    let mut chart = LineChart::new(
        "Transit load: tunnels participated in per router",
        TIME_AXIS,
        "participating tunnels per router",
    );
    chart.empty_note = "no tunnel samples".into();
    chart.shade = warmup_shade(folders());
    let mut last_s: f64 = 0.0;
    for (run, rows) in &present {
        let rows = in_time_order(rows, |r| r.time_s);
        last_s = rows.iter().map(|r| r.time_s).fold(last_s, f64::max);
        let colour = style::colour(run.index);
        let mean = rows
            .iter()
            .map(|r| (minutes(r.time_s), r.participating_mean))
            .collect();
        let max = rows
            .iter()
            .map(|r| (minutes(r.time_s), r.participating_max as f64))
            .collect();
        chart.series.push(Series::new(
            format!("{}: mean over routers", run.label),
            colour,
            mean,
        ));
        chart.series.push(
            Series::new(format!("{}: max over routers", run.label), colour, max).dash(Dash::Dashed),
        );
    }
    chart.x_range = Some(time_range(folders(), last_s));
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}
