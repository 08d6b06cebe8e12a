//! Islands of "who knows whom" over time: how many connected components the online routers
//! form, and how many are cut off.

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::style::{self, Dash};
use super::{
    in_time_order, load, minutes, recorded, time_range, warmup_shade, ChartOutcome, LabelledRun,
    RunRows, TIME_AXIS,
};
use crate::records::IslandsRecord;

pub(crate) const NAME: &str = "islands";

type Count = fn(&IslandsRecord) -> u64;

/// What is drawn per run: every count is 1, 0 and 0 in a network that holds together.
const COUNTS: [(&str, Count); 3] = [
    ("components", |r| r.components),
    ("isolated routers", |r| r.isolated),
    ("routers knowing no floodfill", |r| r.without_floodfill),
];

/// The connected components of the online routers (two joined when either holds the
/// other's RouterInfo), the routers nobody knows and who know nobody, and the routers that
/// know no online floodfill, over time. With one run, colour = count; with several, colour
/// = run and dashes = count. Writes `islands.*`.
pub fn islands(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, IslandsRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let folders = || present.iter().map(|(d, _)| d.run);
    let mut chart = LineChart::new(
        "Islands: who knows whom among the online routers",
        TIME_AXIS,
        "components, or routers",
    );
    chart.empty_note = "no islands samples".into();
    chart.shade = warmup_shade(folders());
    let single = present.len() == 1;
    let mut last_s: f64 = 0.0;
    for (run, rows) in &present {
        let rows = in_time_order(rows, |r| r.time_s);
        last_s = rows.iter().map(|r| r.time_s).fold(last_s, f64::max);
        for (i, (what, count)) in COUNTS.iter().enumerate() {
            let points = rows
                .iter()
                .map(|r| (minutes(r.time_s), count(r) as f64))
                .collect();
            let colour = if single {
                style::colour(i)
            } else {
                style::colour(run.index)
            };
            chart.series.push(
                Series::new(format!("{}: {what}", run.label), colour, points).dash(Dash::nth(i)),
            );
        }
    }
    chart.x_range = Some(time_range(folders(), last_s));
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}
