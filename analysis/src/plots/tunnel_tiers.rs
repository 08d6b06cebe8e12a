//! Sizes of the peer profile tiers tunnel peers are picked from, over time.

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::style::{self, Dash};
use super::{
    in_time_order, load, minutes, recorded, time_range, warmup_shade, ChartOutcome, LabelledRun,
    RunRows, TIME_AXIS,
};
use crate::records::TunnelSampleRecord;

pub(crate) const NAME: &str = "tunnel_tiers";

type Field = fn(&TunnelSampleRecord) -> u64;

/// The tiers, largest selection first: name and median size.
const TIERS: [(&str, Field); 4] = [
    ("fast", |r| r.fast_tier_median),
    ("high capacity", |r| r.high_capacity_median),
    ("not failing", |r| r.not_failing_median),
    ("failing", |r| r.failing_median),
];

/// Median over routers of each profile tier's size (fast, high capacity, not failing,
/// failing) over time. With one run, one line per tier (colour and dashes = tier, so lines
/// that coincide stay visible); with several, colour = run and dashes = tier. Writes
/// `tunnel_tiers.*`.
pub fn tunnel_tiers(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
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
        "Peer profile tiers: median size per router",
        TIME_AXIS,
        "peers in tier (median over routers)",
    );
    chart.empty_note = "no tunnel samples".into();
    chart.shade = warmup_shade(folders());
    let single = present.len() == 1;
    let mut last_s: f64 = 0.0;
    for (run, rows) in &present {
        let rows = in_time_order(rows, |r| r.time_s);
        last_s = rows.iter().map(|r| r.time_s).fold(last_s, f64::max);
        for (i, (tier, field)) in TIERS.iter().enumerate() {
            let points = rows
                .iter()
                .map(|r| (minutes(r.time_s), field(r) as f64))
                .collect();
            let colour = if single {
                style::colour(i)
            } else {
                style::colour(run.index)
            };
            chart.series.push(
                Series::new(format!("{}: {tier}", run.label), colour, points).dash(Dash::nth(i)),
            );
        }
    }
    chart.x_range = Some(time_range(folders(), last_s));
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}
