//! A flood's victims: the RouterInfos they hold over time (`victim_load.csv`).

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::style::{self, Dash};
use super::{
    in_time_order, load, minutes, recorded, time_range, warmup_shade, ChartOutcome, LabelledRun,
    RunRows, TIME_AXIS,
};
use crate::records::VictimLoadRecord;

pub(crate) const NAME: &str = "victim_router_infos";

/// RouterInfos held by a flood's victims over time: the mean over victims as a solid line
/// and the maximum as a dashed one, colour = run. The memory a RouterInfo flood costs, and
/// whether a table cap holds it. Writes `victim_router_infos.*`.
pub fn victim_router_infos(
    runs: &[LabelledRun<'_>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, VictimLoadRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let folders = || present.iter().map(|(d, _)| d.run);
    let mut chart = LineChart::new(
        "Flood victims: RouterInfos held",
        TIME_AXIS,
        "RouterInfos held per victim",
    );
    chart.empty_note = "no victim samples".into();
    chart.shade = warmup_shade(folders());
    let mut last_s: f64 = 0.0;
    for (run, rows) in &present {
        let rows = in_time_order(rows, |r| r.time_s);
        last_s = rows.iter().map(|r| r.time_s).fold(last_s, f64::max);
        let colour = style::colour(run.index);
        let mean = rows
            .iter()
            .map(|r| (minutes(r.time_s), r.router_infos_mean))
            .collect();
        let max = rows
            .iter()
            .map(|r| (minutes(r.time_s), r.router_infos_max as f64))
            .collect();
        chart.series.push(Series::new(
            format!("{}: mean over victims", run.label),
            colour,
            mean,
        ));
        chart.series.push(
            Series::new(format!("{}: max over victims", run.label), colour, max).dash(Dash::Dashed),
        );
    }
    chart.x_range = Some(time_range(folders(), last_s));
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}
